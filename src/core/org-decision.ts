import { wholeDaysBetween } from './audit.js';
import type { OrgPolicy } from './org-policy.js';

/**
 * What the organisation engine does with each key, decided from IAM's own data and nothing else: the keys
 * (creation, status, last use), the user's tags and groups. The state of a rotation lives in user tags, so a
 * run can be repeated or interrupted at any point and the next run decides the same thing again.
 *
 * Safety rules: never a third key (a rotation needs the second slot free); two active keys without our marker
 * are a conflict, never a guess; a key used after its replacement was delivered is not deactivated (the owner
 * is told instead); only a key aws-rekey deactivated itself is ever deleted.
 */

export const TAGS = {
  /** Where the owner's mail goes. */
  owner: 'aws-rekey:owner',
  /** `true` (no end) or a date `YYYY-MM-DD` (exempt through that day). */
  exempt: 'aws-rekey:exempt',
  exemptReason: 'aws-rekey:exempt-reason',
  /** When the replacement key was delivered (ISO date-time), and its id. */
  rotatedAt: 'aws-rekey:rotated-at',
  replacement: 'aws-rekey:replacement',
  /** The key aws-rekey deactivated, and when. */
  deactivated: 'aws-rekey:deactivated',
  deactivatedAt: 'aws-rekey:deactivated-at',
  /** A rotation under way: `<phase>:<key ids before it, joined by +>` (its journal; the secret is in the user's secret). */
  rotation: 'aws-rekey:rotation',
} as const;

/** The tags that hold a rotation's progress (removed when the old key is deleted). */
export const PROGRESS_TAGS = [TAGS.rotatedAt, TAGS.replacement, TAGS.deactivated, TAGS.deactivatedAt, TAGS.rotation] as const;

export interface OrgKey {
  /** Absent when the key comes from the credential report, which has no key ids. */
  accessKeyId?: string;
  active: boolean;
  createDate: Date;
  lastUsedDate?: Date;
}

export interface OrgUserState {
  userName: string;
  arn?: string;
  keys: OrgKey[];
  tags: Record<string, string>;
  groups: string[];
}

export type KeyAction = 'none' | 'rotate' | 'deactivate' | 'delete';
export type ScheduledAction = Exclude<KeyAction, 'none'>;

export type OrgFindingKind =
  /** Active and older than rotateAfterDays. */
  | 'old'
  /** Active and unused for unusedAfterDays (CIS); reported only. */
  | 'unused'
  /** Used after its replacement was delivered: not deactivated, the owner is told. */
  | 'used-after-replacement'
  /** Two active keys and no marker saying which is the replacement. */
  | 'conflict'
  /** Due for rotation, but the second key slot is taken by a key aws-rekey did not deactivate. */
  | 'blocked'
  /** An inactive key aws-rekey did not deactivate: never deleted by the engine. */
  | 'unmanaged-inactive';

/** Trusted Advisor's levels for key age: green ≤ 90 days, yellow ≤ 2 years, red beyond. */
export type AgeLevel = 'green' | 'yellow' | 'red';

export interface KeyDecision {
  accessKeyId?: string;
  active: boolean;
  createDate: Date;
  lastUsedDate?: Date;
  ageDays: number;
  level: AgeLevel;
  /** What enforce mode does now ('none' when exempt). */
  action: KeyAction;
  /** The next action and its date, when it falls within the warning period (or is due now). */
  upcoming?: { action: ScheduledAction; on: Date };
  findings: OrgFindingKind[];
  /** For a person: why. */
  reason: string;
}

export interface Exemption {
  by: 'tag' | 'group';
  /** The group's name, for `group`. */
  group?: string;
  reason?: string;
  /** Last exempt day (tag with a date). */
  until?: string;
}

export interface UserDecision {
  userName: string;
  arn?: string;
  owner?: string;
  exemption?: Exemption;
  keys: KeyDecision[];
  /** Things a person should fix (an unreadable tag, an expired exemption…). */
  notes: string[];
  /** A rotation that stopped part-way (tag aws-rekey:rotation): the next enforce run finishes or undoes it first. */
  interrupted?: { phase: string; keysBefore: string[] };
}

const DAY_MS = 86_400_000;
const addDays = (date: Date, days: number) => new Date(date.getTime() + days * DAY_MS);

export function ageLevel(ageDays: number): AgeLevel {
  if (ageDays <= 90) return 'green';
  if (ageDays <= 730) return 'yellow';
  return 'red';
}

export function decideUser(user: OrgUserState, now: Date, policy: OrgPolicy): UserDecision {
  const notes: string[] = [];
  const exemption = exemptionOf(user, now, policy, notes);
  const owner = ownerOf(user.tags, notes);
  const keys = [...user.keys].sort((a, b) => a.createDate.getTime() - b.createDate.getTime());
  const decisions = keys.map((key) => baseDecision(key, now));
  const active = decisions.filter((d) => d.active);
  const inactive = decisions.filter((d) => !d.active);

  const rotatedAt = parseDate(user.tags[TAGS.rotatedAt]);
  const replacementId = user.tags[TAGS.replacement];
  const deactivatedId = user.tags[TAGS.deactivated];
  const deactivatedAt = parseDate(user.tags[TAGS.deactivatedAt]);

  for (const key of inactive) {
    if (key.accessKeyId !== undefined && key.accessKeyId === deactivatedId && deactivatedAt) {
      schedule(key, 'delete', addDays(deactivatedAt, policy.deleteAfterDays), now, policy, `deactivated by aws-rekey on ${isoDay(deactivatedAt)}`);
    } else {
      key.findings.push('unmanaged-inactive');
      key.reason = 'inactive, not deactivated by aws-rekey: left alone';
    }
  }

  if (active.length === 2) {
    const [older, newer] = active as [KeyDecision, KeyDecision];
    if (rotatedAt && replacementId !== undefined && newer.accessKeyId === replacementId) {
      newer.reason = `replacement delivered on ${isoDay(rotatedAt)}`;
      if (older.lastUsedDate && older.lastUsedDate.getTime() > rotatedAt.getTime()) {
        older.findings.push('used-after-replacement');
        older.reason = `used on ${isoDay(older.lastUsedDate)}, after its replacement was delivered (${isoDay(rotatedAt)}): not deactivated`;
      } else {
        schedule(older, 'deactivate', addDays(rotatedAt, policy.deactivateAfterDays), now, policy, `replaced on ${isoDay(rotatedAt)}`);
      }
    } else {
      for (const key of active) {
        key.findings.push('conflict');
        key.reason = 'two active keys, and no record of which one replaced the other: decide by hand';
      }
    }
  } else if (active.length === 1) {
    const key = active[0] as KeyDecision;
    const due = addDays(key.createDate, policy.rotateAfterDays);
    const slotFree = decisions.length === 1;
    if (slotFree || now.getTime() < due.getTime() - policy.warnDaysBefore * DAY_MS) {
      schedule(key, 'rotate', due, now, policy, `created on ${isoDay(key.createDate)}`);
    } else if (
      // Stryker disable next-line MethodExpression: beside one active key a user has at most one inactive key (two slots), and for one key some() and every() agree.
      !inactive.some((k) => k.upcoming?.action === 'delete')
    ) {
      // Never a third key: the slot is held by a key aws-rekey will not delete.
      key.findings.push('blocked');
      key.reason = `due for rotation on ${isoDay(due)}, but the user's second key slot is taken by an inactive key aws-rekey did not deactivate`;
    } else {
      key.reason = `due for rotation on ${isoDay(due)}, after the inactive key is deleted`;
    }
  }

  for (const key of active) {
    if (key.ageDays > policy.rotateAfterDays) key.findings.push('old');
    const since = key.lastUsedDate ?? key.createDate;
    if (wholeDaysBetween(since, now) >= policy.unusedAfterDays) key.findings.push('unused');
  }

  const interrupted = parseRotationTag(user.tags[TAGS.rotation]);
  if (interrupted) {
    for (const key of decisions) {
      key.action = 'none';
      delete key.upcoming;
      key.reason = `a rotation stopped after '${interrupted.phase}': the next enforce run finishes or undoes it`;
    }
  }
  if (exemption) {
    for (const key of decisions) {
      key.action = 'none';
      delete key.upcoming;
    }
  }
  return {
    userName: user.userName,
    ...(user.arn ? { arn: user.arn } : {}),
    ...(owner ? { owner } : {}),
    ...(exemption ? { exemption } : {}),
    keys: decisions,
    notes,
    ...(interrupted ? { interrupted } : {}),
  };
}

export function rotationTagValue(phase: string, keysBefore: readonly string[]): string {
  return `${phase}:${keysBefore.join('+')}`;
}

function parseRotationTag(value: string | undefined): { phase: string; keysBefore: string[] } | undefined {
  if (value === undefined) return undefined;
  const [phase = '', ids = ''] = value.split(':');
  return { phase, keysBefore: ids.split('+').filter(Boolean) };
}

/** Whether a decision made from the credential report alone is final, or the user's keys and tags must be read. */
export function needsInspection(decision: UserDecision): boolean {
  // A due action is upcoming too (schedule() sets both), so `upcoming` covers "due now or coming".
  return decision.interrupted !== undefined || decision.keys.some((k) => k.upcoming !== undefined || k.findings.some((f) => f !== 'unused'));
}

/**
 * Whether a person reading the report has something to act on or know about for this user: an action due or
 * coming (`upcoming`, set for both), a finding (also `unused`, which the engine never acts on), an exemption, a note, a stopped
 * rotation. Such a user's rows must carry the key id and the owner (the credential report has neither).
 */
export function worthListing(decision: UserDecision): boolean {
  return (
    decision.exemption !== undefined ||
    decision.notes.length > 0 ||
    decision.interrupted !== undefined ||
    decision.keys.some((k) => k.upcoming !== undefined || k.findings.length > 0)
  );
}

/** Counts over users' decisions: keys by level, due action, coming action and finding. */
export interface DecisionTally {
  users: number;
  keys: number;
  /** Keys by what enforce does now. */
  due: Record<ScheduledAction, number>;
  /** Keys whose next action falls within the warning period. */
  upcoming: number;
  findings: Record<string, number>;
  exemptUsers: number;
  /** Active keys by Trusted Advisor's level. */
  levels: Record<AgeLevel, number>;
}

export function emptyTally(): DecisionTally {
  return { users: 0, keys: 0, due: { rotate: 0, deactivate: 0, delete: 0 }, upcoming: 0, findings: {}, exemptUsers: 0, levels: { green: 0, yellow: 0, red: 0 } };
}

/** Adds the users' decisions to `tally` (and returns it). */
export function tallyDecisions(users: readonly UserDecision[], tally: DecisionTally = emptyTally()): DecisionTally {
  for (const user of users) {
    tally.users += 1;
    if (user.exemption) tally.exemptUsers += 1;
    for (const key of user.keys) {
      tally.keys += 1;
      if (key.active) tally.levels[key.level] += 1;
      if (key.action !== 'none') tally.due[key.action] += 1;
      else if (key.upcoming) tally.upcoming += 1;
      for (const finding of key.findings) tally.findings[finding] = (tally.findings[finding] ?? 0) + 1;
    }
  }
  return tally;
}

function baseDecision(key: OrgKey, now: Date): KeyDecision {
  const ageDays = wholeDaysBetween(key.createDate, now);
  return {
    ...(key.accessKeyId !== undefined ? { accessKeyId: key.accessKeyId } : {}),
    active: key.active,
    createDate: key.createDate,
    ...(key.lastUsedDate ? { lastUsedDate: key.lastUsedDate } : {}),
    ageDays,
    level: ageLevel(ageDays),
    action: 'none',
    findings: [],
    // Stryker disable next-line StringLiteral: placeholders only; decideUser gives every key its reason (each branch writes one).
    reason: key.active ? 'in use' : 'inactive',
  };
}

/** Due now → the action; due within the warning period → a warning with the date; later → nothing yet. */
function schedule(key: KeyDecision, action: ScheduledAction, on: Date, now: Date, policy: OrgPolicy, why: string): void {
  const left = on.getTime() - now.getTime();
  if (left <= 0) {
    key.action = action;
    key.upcoming = { action, on };
    key.reason = `${why}: ${action} due since ${isoDay(on)}`;
  } else if (left <= policy.warnDaysBefore * DAY_MS) {
    key.upcoming = { action, on };
    key.reason = `${why}: ${action} on ${isoDay(on)}`;
  } else {
    key.reason = `${why}: ${action} on ${isoDay(on)}`;
  }
}

function exemptionOf(user: OrgUserState, now: Date, policy: OrgPolicy, notes: string[]): Exemption | undefined {
  const value = user.tags[TAGS.exempt];
  const reason = user.tags[TAGS.exemptReason]?.trim() || undefined;
  if (value !== undefined) {
    const v = value.trim().toLowerCase();
    if (v === '' || v === 'true' || v === 'yes') return { by: 'tag', ...(reason ? { reason } : {}) };
    if (/^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))) {
      if (now.getTime() < addDays(new Date(`${v}T00:00:00Z`), 1).getTime()) return { by: 'tag', until: v, ...(reason ? { reason } : {}) };
      notes.push(`The exemption (${TAGS.exempt}=${value}) ended on ${v}: the policy applies again.`);
    } else if (v !== 'false' && v !== 'no') {
      notes.push(`The tag ${TAGS.exempt}=${value} is not understood (use true or a date YYYY-MM-DD): the user is not exempt.`);
    }
  }
  const group = policy.exemptGroups.find((g) => user.groups.includes(g));
  if (group) return { by: 'group', group };
  return undefined;
}

function ownerOf(tags: Record<string, string>, notes: string[]): string | undefined {
  const value = tags[TAGS.owner]?.trim();
  if (!value) return undefined;
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) return value;
  notes.push(`The tag ${TAGS.owner}=${value} is not an email address: no mail can be sent.`);
  return undefined;
}

function parseDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
