import { UnsafeRotationError } from '../errors.js';
import { maskKeyId } from './mask.js';
import { describePlan, type RotationPlan } from './plan.js';
import type { AccessKeyInfo } from './types.js';

/**
 * Decisions of a staged rotation (`rotate --stage create|retire|delete`, `rollback`). Pure: the caller
 * fetched the keys from IAM and the record from disk, and carries out what is returned.
 */

export type Stage = 'create' | 'retire' | 'delete';

/** The plan of `--stage create`: a normal rotation whose last step keeps the old key active. */
export function describeStagedCreatePlan(plan: RotationPlan): string[] {
  return describePlan(plan).map((line, index) => {
    const step = plan.steps[index];
    return step?.kind === 'retire' ? `keep the old key ${maskKeyId(step.accessKeyId)} active (retire it later with --stage retire)` : line;
  });
}

export interface StagedKeys {
  oldKeyId: string;
  newKeyId: string;
  /** When the new key was created (IAM's clock). */
  newKeyCreatedAt: Date;
  /** Until when uses of the new key were aws-rekey's own (its verification, a retirement it signed). */
  ownUseUntil?: Date;
  /** The complete `aws-rekey rollback …` of this rotation, for hints (src/core/next-command.ts). */
  rollbackCommand?: string;
}

export type RetireDecision =
  | { action: 'deactivate'; /** Set when --force overrode a use of the old key after the new key was created. */ usedAfter?: AccessKeyInfo['lastUsed'] }
  | { action: 'none'; reason: 'inactive' | 'deleted' };

/**
 * `--stage retire`: deactivate the old key, unless IAM saw it used after the new key was created —
 * then something still uses it, and deactivating it would break that something.
 */
export function decideRetire(staged: StagedKeys, keys: readonly AccessKeyInfo[], force: boolean): RetireDecision {
  checkNewKey(staged, keys, 'retire');
  const old = keys.find((k) => k.accessKeyId === staged.oldKeyId);
  if (!old) return { action: 'none', reason: 'deleted' };
  if (old.status !== 'Active') return { action: 'none', reason: 'inactive' };
  const used = old.lastUsed?.date;
  if (used && usedAfter(used, staged.newKeyCreatedAt)) {
    if (!force) {
      throw new UnsafeRotationError(
        'OLD_KEY_IN_USE',
        `The old key ${maskKeyId(old.accessKeyId)} was used ${describeUse(old)}, after the new key ${maskKeyId(staged.newKeyId)} was created (${staged.newKeyCreatedAt.toISOString()}): something still uses it. Nothing was changed.`,
        `Find what still signs with it (CloudTrail shows the calls) and give it the new key, then run --stage retire again. To deactivate it anyway, add --force; ${rollback(staged)} reactivates it.`,
      );
    }
    return { action: 'deactivate', usedAfter: old.lastUsed };
  }
  return { action: 'deactivate' };
}

export type DeleteDecision = { action: 'delete' } | { action: 'none'; reason: 'deleted' };

/** `--stage delete`: only an inactive old key is deleted; an active one may still be in use. */
export function decideDelete(staged: StagedKeys, keys: readonly AccessKeyInfo[]): DeleteDecision {
  const old = keys.find((k) => k.accessKeyId === staged.oldKeyId);
  if (!old) return { action: 'none', reason: 'deleted' };
  if (old.status === 'Active') {
    throw new UnsafeRotationError(
      'OLD_KEY_ACTIVE',
      `The old key ${maskKeyId(old.accessKeyId)} is still active; aws-rekey deletes it only once it is inactive.`,
      'Run --stage retire first: it checks that nothing still uses the key, then deactivates it.',
    );
  }
  return { action: 'delete' };
}

export interface RollbackDecision {
  /** The old key is inactive: make it active again. */
  reactivate: boolean;
  /** `--delete-new` and the new key still exists. */
  deleteNew: boolean;
}

/** `rollback`: go back to the old key. Refused when the old key no longer exists (nothing to go back to). */
export function decideRollback(staged: StagedKeys, keys: readonly AccessKeyInfo[], deleteNew: boolean, force = false): RollbackDecision {
  const old = keys.find((k) => k.accessKeyId === staged.oldKeyId);
  if (!old) {
    throw new UnsafeRotationError(
      'OLD_KEY_GONE',
      `The old key ${maskKeyId(staged.oldKeyId)} no longer exists in IAM, so there is nothing to roll back to.`,
      'The new key stays as it is. Forget the record with --stage delete, or remove it from the aws-rekey folder next to the credentials file.',
    );
  }
  const fresh = keys.find((k) => k.accessKeyId === staged.newKeyId);
  const used = fresh?.lastUsed?.date;
  if (deleteNew && fresh && used && usedAfter(used, staged.ownUseUntil ?? staged.newKeyCreatedAt) && !force) {
    throw new UnsafeRotationError(
      'NEW_KEY_IN_USE',
      `The new key ${maskKeyId(fresh.accessKeyId)} was used ${describeUse(fresh)}, after it was created and checked: something already uses it, and deleting it would break that. Nothing was changed.`,
      'Roll back without --delete-new (the old key is reactivated, the new one stays), or find what uses the new key first (CloudTrail shows the calls). To delete it anyway, add --force.',
    );
  }
  return { reactivate: old.status !== 'Active', deleteNew: deleteNew && fresh !== undefined };
}

/** Whole seconds: IAM reports last use to the second (or coarser), and a use in the creation's own second is ours. */
export function usedAfter(used: Date, created: Date): boolean {
  return Math.floor(used.getTime() / 1000) > Math.floor(created.getTime() / 1000);
}

/** "at 2026-11-20T10:00:00.000Z by s3 in eu-west-1". */
export function describeUse(key: AccessKeyInfo): string {
  const used = key.lastUsed;
  if (!used?.date) return 'never';
  const parts = [`at ${used.date.toISOString()}`];
  if (used.serviceName && used.serviceName !== 'N/A') parts.push(`by ${used.serviceName}`);
  if (used.region && used.region !== 'N/A') parts.push(`in ${used.region}`);
  return parts.join(' ');
}

function checkNewKey(staged: StagedKeys, keys: readonly AccessKeyInfo[], stage: Stage): void {
  const fresh = keys.find((k) => k.accessKeyId === staged.newKeyId);
  if (!fresh) {
    throw new UnsafeRotationError(
      'NEW_KEY_GONE',
      `The new key ${maskKeyId(staged.newKeyId)} of this staged rotation no longer exists in IAM; --stage ${stage} would leave only the old key, retired.`,
      `Undo the staged rotation with ${rollback(staged)} (the old key stays active), then start again with --stage create.`,
    );
  }
  if (fresh.status !== 'Active') {
    throw new UnsafeRotationError(
      'NEW_KEY_INACTIVE',
      `The new key ${maskKeyId(staged.newKeyId)} is inactive in IAM; --stage ${stage} would leave no active key.`,
      `Reactivate it (aws iam update-access-key --status Active), or undo with ${rollback(staged, ' --delete-new')}.`,
    );
  }
}

/** "`aws-rekey rollback --profile work`", or the bare words when the caller gave no command. */
function rollback(staged: StagedKeys, extra = ''): string {
  return staged.rollbackCommand ? `\`${staged.rollbackCommand}${extra}\`` : `aws-rekey rollback${extra}`;
}
