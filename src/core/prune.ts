import { UsageError } from '../errors.js';
import { maskKeyId } from './mask.js';
import type { AccessKeyInfo } from './types.js';

/** Decisions of `aws-rekey prune`: which retired keys go. Pure. */

export interface PruneKey extends AccessKeyInfo {
  /** Local profiles (`credentials:work`, `config:work`, ...) that hold this key id. */
  profiles: string[];
}

export type KeepReason = 'active' | 'in-profile' | 'recently-used';

export interface KeptKey {
  key: PruneKey;
  reason: KeepReason;
  /** Why, in words: `active`, `still in profile work`, `last used 3 days ago`. */
  detail: string;
}

export interface PrunePlan {
  remove: PruneKey[];
  keep: KeptKey[];
}

export interface PrunePlanOptions {
  /** Only keys whose last use (or creation, when never used) is at least this many days ago. */
  olderThanDays?: number;
  /** Only this key; refused (usage error) when it cannot be pruned. */
  keyId?: string;
  now: Date;
}

const DAY_MS = 86_400_000;

export function planPrune(keys: PruneKey[], options: PrunePlanOptions): PrunePlan {
  const plan: PrunePlan = { remove: [], keep: [] };
  const chosen = options.keyId === undefined ? keys : keys.filter((key) => key.accessKeyId === options.keyId);
  if (options.keyId !== undefined && chosen.length === 0) {
    throw new UsageError(`The user has no access key ${maskKeyId(options.keyId)}.`, 'Run aws-rekey keys to list the keys, then name one with --key.', 'PRUNE_KEY_NOT_FOUND');
  }
  for (const key of chosen) {
    const kept = keepReason(key, options);
    if (kept) plan.keep.push({ key, ...kept });
    else plan.remove.push(key);
  }
  if (options.keyId !== undefined && plan.keep.length > 0) {
    const { key, detail } = plan.keep[0]!;
    throw new UsageError(`${maskKeyId(key.accessKeyId)} cannot be pruned: ${detail}.`, pruneHint(plan.keep[0]!), 'PRUNE_REFUSED');
  }
  return plan;
}

function keepReason(key: PruneKey, options: PrunePlanOptions): Pick<KeptKey, 'reason' | 'detail'> | undefined {
  if (key.status === 'Active') return { reason: 'active', detail: 'it is active' };
  if (key.profiles.length > 0) return { reason: 'in-profile', detail: `it is still in ${key.profiles.length === 1 ? 'profile' : 'profiles'} ${key.profiles.join(', ')}` };
  if (options.olderThanDays !== undefined) {
    const since = key.lastUsed?.date ?? key.createDate;
    const days = since === undefined ? undefined : Math.floor((options.now.getTime() - since.getTime()) / DAY_MS);
    if (days === undefined || days < options.olderThanDays) {
      const what = key.lastUsed?.date ? 'last used' : 'created, never used,';
      return { reason: 'recently-used', detail: days === undefined ? 'its age is unknown' : `${what} ${days} ${days === 1 ? 'day' : 'days'} ago (--older-than ${options.olderThanDays})` };
    }
  }
  return undefined;
}

function pruneHint(kept: KeptKey): string {
  switch (kept.reason) {
    case 'active':
      return 'prune deletes only inactive keys. To retire an active key, rotate it (aws-rekey rotate) or deactivate it first.';
    case 'in-profile':
      return 'A profile still holds it, so deleting it would break that profile: rotate the profile first (it then gets the new key).';
    case 'recently-used':
      return 'Lower --older-than, or wait.';
  }
}
