import { maskKeyId } from './mask.js';
import type { AccessKeyInfo } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** `--if-older-than DAYS`: rotate only a key at least this old; `now` is when ages are counted from. */
export interface AgeGate {
  days: number;
  now: Date;
}

/** Why a rotation was skipped: the key is younger than the gate. Dates as ISO strings (IAM's clock). */
export interface NotDue {
  accessKeyId: string;
  createdAt: string;
  /** Whole days since the key was created. */
  ageDays: number;
  ifOlderThan: number;
  /** When the key turns `ifOlderThan` days old: the first run from then on rotates it. */
  dueAt: string;
}

/**
 * Undefined when the key is due (old enough, or of unknown age: IAM always gives a CreateDate, and a key
 * whose age cannot be told is better rotated than kept forever). Pure.
 */
export function notDue(key: AccessKeyInfo | undefined, gate: AgeGate): NotDue | undefined {
  const created = key?.createDate;
  if (!key || !created) return undefined;
  const dueAt = new Date(created.getTime() + gate.days * DAY_MS);
  if (gate.now.getTime() >= dueAt.getTime()) return undefined;
  return {
    accessKeyId: key.accessKeyId,
    createdAt: created.toISOString(),
    ageDays: Math.max(0, Math.floor((gate.now.getTime() - created.getTime()) / DAY_MS)),
    ifOlderThan: gate.days,
    dueAt: dueAt.toISOString(),
  };
}

/** "not due until 2027-02-28: key AKIA…3HUG is 12 days old (--if-older-than 90)". */
export function describeNotDue(waiting: NotDue): string {
  const days = waiting.ageDays === 1 ? '1 day' : `${waiting.ageDays} days`;
  return `not due until ${waiting.dueAt.slice(0, 10)}: key ${maskKeyId(waiting.accessKeyId)} is ${days} old (--if-older-than ${waiting.ifOlderThan})`;
}
