import { UnsafeRotationError, UsageError } from '../errors.js';
import { maskKeyId } from './mask.js';
import type { AccessKeyInfo } from './types.js';

export type RetireAction = 'deactivate' | 'delete';

export type PlanStep =
  | { kind: 'delete-other'; key: AccessKeyInfo }
  | { kind: 'create' }
  | { kind: 'write'; profiles: string[] }
  | { kind: 'verify' }
  | { kind: 'retire'; accessKeyId: string; action: RetireAction };

export interface RotationPlan {
  userName: string;
  currentKeyId: string;
  profiles: string[];
  /** The user's other key, if there is one; it is deleted first to make room for the new key. */
  otherKey?: AccessKeyInfo;
  retire: RetireAction;
  steps: PlanStep[];
}

export interface PlanOptions {
  userName: string;
  /** The key the profile holds: the one being replaced. */
  currentKeyId: string;
  /** Every profile in the credentials file that holds `currentKeyId`. */
  profiles: string[];
  /** Delete the old key at the end instead of deactivating it. */
  deleteOld: boolean;
  /** The user's explicit permission to delete this *active* other key. */
  allowDeleteKeyId?: string;
  /** The complete command that lists the user's keys, for hints (src/core/next-command.ts). */
  listKeysCommand?: string;
}

/** IAM allows two keys per user. */
export const MAX_KEYS_PER_USER = 2;

/**
 * Decide what a rotation will do, or refuse. Pure: the caller fetched `keys` and runs the plan.
 *
 * The only destructive step before the new key exists is deleting the user's *other* key, to make room.
 * An inactive other key is fair game; an active one may be in use somewhere, so it is deleted only when
 * the user named it.
 */
export function planRotation(keys: readonly AccessKeyInfo[], options: PlanOptions): RotationPlan {
  const { userName, currentKeyId, profiles, deleteOld, allowDeleteKeyId, listKeysCommand } = options;
  const current = keys.find((key) => key.accessKeyId === currentKeyId);
  if (!current) {
    throw new UnsafeRotationError(
      'KEY_NOT_FOUND',
      `The key ${maskKeyId(currentKeyId)} of profile ${profiles[0] ?? '?'} is not one of IAM user ${userName}'s keys.`,
      'It may have been deleted or belong to another user. Put a working key of this user in the profile (aws configure) and run aws-rekey again.',
    );
  }
  if (current.status !== 'Active') {
    throw new UnsafeRotationError(
      'KEY_INACTIVE',
      `The key ${maskKeyId(currentKeyId)} of profile ${profiles[0] ?? '?'} is ${current.status.toLowerCase()} in IAM, so it cannot be the key that is replaced.`,
      'Reactivate it (aws iam update-access-key --status Active) or put the user\'s active key in the profile, then run aws-rekey again.',
    );
  }
  const others = keys.filter((key) => key.accessKeyId !== currentKeyId);
  if (allowDeleteKeyId !== undefined && !others.some((key) => key.accessKeyId === allowDeleteKeyId)) {
    const why =
      allowDeleteKeyId === currentKeyId
        ? 'it is the key being rotated (use --delete to delete it after the new key works)'
        : `it is not a key of user ${userName}`;
    throw new UsageError(
      `--delete-key ${maskKeyId(allowDeleteKeyId)} cannot be used: ${why}.`,
      listKeysCommand ? `Run \`${listKeysCommand}\` to see the user's keys.` : 'List the user\'s keys with aws-rekey keys.',
    );
  }
  if (others.length >= MAX_KEYS_PER_USER) {
    throw new UnsafeRotationError(
      'TOO_MANY_KEYS',
      `User ${userName} has ${keys.length} access keys; IAM allows ${MAX_KEYS_PER_USER}.`,
      'Delete the keys that are not in use, then run aws-rekey again.',
    );
  }

  const steps: PlanStep[] = [];
  const otherKey = others[0];
  if (otherKey) {
    if (otherKey.status === 'Active' && allowDeleteKeyId !== otherKey.accessKeyId) {
      throw new UnsafeRotationError(
        'OTHER_KEY_ACTIVE',
        `User ${userName} already has two active keys: ${maskKeyId(otherKey.accessKeyId)} ${describeLastUse(otherKey)} may be in use somewhere, and a new key needs its slot.`,
        `If nothing uses it, allow its deletion with --delete-key ${otherKey.accessKeyId} (or deactivate it first, and wait to see that nothing breaks).`,
      );
    }
    steps.push({ kind: 'delete-other', key: otherKey });
  }
  const retire: RetireAction = deleteOld ? 'delete' : 'deactivate';
  steps.push(
    { kind: 'create' },
    { kind: 'write', profiles: [...profiles] },
    { kind: 'verify' },
    { kind: 'retire', accessKeyId: currentKeyId, action: retire },
  );
  return { userName, currentKeyId, profiles: [...profiles], otherKey, retire, steps };
}

/** "(last used 2026-11-20 by s3 in eu-west-1)", "(never used)". */
export function describeLastUse(key: AccessKeyInfo): string {
  const used = key.lastUsed;
  if (!used?.date) return '(never used)';
  const parts = [`last used ${used.date.toISOString().slice(0, 10)}`];
  if (used.serviceName && used.serviceName !== 'N/A') parts.push(`by ${used.serviceName}`);
  if (used.region && used.region !== 'N/A') parts.push(`in ${used.region}`);
  return `(${parts.join(' ')})`;
}

/** The plan as lines a person reads before saying yes. */
export function describePlan(plan: RotationPlan): string[] {
  return plan.steps.map((step) => {
    switch (step.kind) {
      case 'delete-other':
        return `delete ${step.key.status.toLowerCase()} key ${maskKeyId(step.key.accessKeyId)} ${describeLastUse(step.key)} to make room`;
      case 'create':
        return `create a new access key for ${plan.userName}`;
      case 'write':
        return `write it to profile${step.profiles.length > 1 ? 's' : ''} ${step.profiles.join(', ')}`;
      case 'verify':
        return 'check that AWS accepts the new key';
      case 'retire':
        return `${step.action} the old key ${maskKeyId(step.accessKeyId)}`;
    }
  });
}
