import type { IamApi } from '../aws/gateway.js';
import { plural } from '../core/plural.js';
import { maskKeyId } from '../core/mask.js';
import { decideDelete, decideRetire, decideRollback, describeUse } from '../core/stage-decisions.js';
import { removeStaged, writeStaged, type Destination, type StagedRotation } from '../credentials/staged-store.js';
import { withFileLock } from '../credentials/store.js';
import { openDelivery } from '../rotation/delivery.js';
import { openDestinationServices } from '../rotation/deliveries/services.js';
import { UnsafeRotationError } from '../errors.js';
import type { StepRecord } from '../rotation/ports.js';
import { confirmAction, createRuntime, printPlan, type RunDeps, type Runtime } from '../rotation/runtime.js';
import { rotateProfile, type RotateDeps, type RotateOptions, type RotateResult } from './rotate-profile.js';
import { DEFAULT_VERIFY_OPTIONS, verifyNewKey, type VerifyOptions } from '../rotation/verify.js';
import { openStagedTarget, refuseIfProfileStaged, stagedKeys, type StagedTarget, type StagedTargetOptions } from './staged-guards.js';
import { describeTarget, summarize, type StagedSummary } from './status.js';
import { localHoldersWarnings } from './local-holders.js';

/**
 * Staged rotation, for keys that applications use: `--stage create` (new key saved and verified, old key
 * still active), then `--stage retire` (old key deactivated, unless IAM saw it used after the new key was
 * created), then `--stage delete`. `rollback` goes back to the old key; `status` lists what is under way.
 */

export interface StageOptions extends StagedTargetOptions {
  /** retire: deactivate even if the old key was used after the new one was created. */
  force?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

export interface RollbackOptions extends StageOptions {
  /** Also delete the new key (and take it out of where it was delivered). */
  deleteNew?: boolean;
  verify?: Partial<VerifyOptions>;
}

export type StageDeps = RunDeps;

export interface StageResult {
  schemaVersion: 1;
  action: 'retire' | 'delete' | 'rollback';
  /** `done`: carried out; `planned`: --dry-run; `unchanged`: there was nothing to do. */
  status: 'done' | 'planned' | 'unchanged';
  /** The rotation after the action; absent when it is over (old key deleted, or rolled back with --delete-new). */
  rotation?: StagedSummary;
  /** The rotation before the action. */
  before: StagedSummary;
  plan: string[];
  steps: StepRecord[];
  warnings: string[];
}

/** `rotate --stage create` of a profile's own key: a rotation that stops once the new key works. */
export async function createStageForProfile(options: RotateOptions, deps: RotateDeps = {}): Promise<RotateResult> {
  await refuseIfProfileStaged(options.profile, options.env ?? process.env);
  return rotateProfile({ ...options, keepOld: true }, deps);
}


/** `--stage retire`: deactivate the old key once nothing has used it since the new key was created. */
export async function retireStage(options: StageOptions, deps: StageDeps = {}): Promise<StageResult> {
  const rt = createRuntime(deps);
  const target = await rt.steps.run('read', () => openStagedTarget(options, rt.prompter), (t) => `staged rotation of ${describeTarget(t.record)} (stage '${t.record.stage}')`);
  try {
    const { record, iam } = target;
    const before = summarize(record, target.env);
    const keys = await rt.steps.run('inspect', () => iam.listAccessKeys(record.userName, { lastUsed: true }), (k) => plural(k.length, 'key'));
    const decision = decideRetire(stagedKeys(record, keys, target.env), keys, options.force ?? false);
    const old = keys.find((k) => k.accessKeyId === record.oldKeyId);
    const base = { schemaVersion: 1 as const, action: 'retire' as const, before, warnings: [...target.warnings, ...(await oldKeyHolders(target, 'deactivated'))] };
    if (decision.action === 'none') {
      const plan = [`nothing to deactivate: the old key ${maskKeyId(record.oldKeyId)} is already ${decision.reason}`];
      if (options.dryRun) return { ...base, status: 'planned', rotation: before, plan, steps: rt.steps.records };
      rt.reporter.info(plan[0]!);
      const rotation = await withFileLock(target.credentialsPath, () => saveRetired(target, decision.reason === 'deleted' ? 'deleted' : 'retired', rt));
      return { ...base, status: 'unchanged', ...(rotation ? { rotation } : {}), plan, steps: rt.steps.records };
    }
    const lastUse = old ? `last used ${describeUse(old)}` : '';
    const plan = [
      decision.usedAfter
        ? `deactivate the old key ${maskKeyId(record.oldKeyId)} although it was used after the new key was created (--force; ${lastUse})`
        : `deactivate the old key ${maskKeyId(record.oldKeyId)} (${lastUse}; not used since the new key was created)`,
    ];
    printPlan(rt, `Plan for ${record.userArn}:`, plan);
    for (const warning of base.warnings) rt.reporter.warn(warning);
    if (decision.usedAfter) rt.reporter.warn(`The old key ${maskKeyId(record.oldKeyId)} was used ${describeUse(old!)}, after the new key was created; deactivating it anyway (--force).`);
    if (options.dryRun) return { ...base, status: 'planned', rotation: before, plan, steps: rt.steps.records };
    await confirmAction(options.yes, rt.prompter, `Deactivate ${maskKeyId(record.oldKeyId)}?`, 'retiring');
    const rotation = await withFileLock(target.credentialsPath, async () => {
      await rt.steps.run('retire', () => iam.updateAccessKey(record.userName, record.oldKeyId, 'Inactive'), () => `deactivated the old key ${maskKeyId(record.oldKeyId)}`);
      return saveRetired(target, 'retired', rt);
    });
    return { ...base, status: 'done', ...(rotation ? { rotation } : {}), plan, steps: rt.steps.records };
  } finally {
    target.destroy();
  }
}

/** Local profiles, in either file, still holding the old key the stage deactivates or deletes: they stop working. */
function oldKeyHolders(target: StagedTarget, fate: 'deactivated' | 'deleted'): Promise<string[]> {
  return localHoldersWarnings({ credentials: target.credentialsPath, config: target.configPath }, [{ keyId: target.record.oldKeyId, what: 'the old key', fate }]);
}

async function saveRetired(target: StagedTarget, state: 'retired' | 'deleted', rt: Runtime): Promise<StagedSummary | undefined> {
  const { record } = target;
  if (state === 'deleted') {
    await removeStaged(target.credentialsPath, record.id);
    rt.steps.record({ step: 'record', status: 'done', detail: 'the old key is gone: the staged rotation is over' });
    return undefined;
  }
  const now = new Date(rt.timing.now()).toISOString();
  const updated: StagedRotation = { ...record, stage: 'retired', retiredAt: record.retiredAt ?? now, updatedAt: now };
  await writeStaged(target.credentialsPath, updated);
  rt.steps.record({ step: 'record', status: 'done', detail: `stage 'retired'; next: --stage delete (or rollback)` });
  return summarize(updated, target.env);
}

/** `--stage delete`: delete the old key, which must be inactive; the rotation is then over. */
export async function deleteStage(options: StageOptions, deps: StageDeps = {}): Promise<StageResult> {
  const rt = createRuntime(deps);
  const target = await rt.steps.run('read', () => openStagedTarget(options, rt.prompter), (t) => `staged rotation of ${describeTarget(t.record)} (stage '${t.record.stage}')`);
  try {
    const { record, iam } = target;
    const before = summarize(record, target.env);
    const keys = await rt.steps.run('inspect', () => iam.listAccessKeys(record.userName), (k) => plural(k.length, 'key'));
    const decision = decideDelete(stagedKeys(record, keys, target.env), keys);
    const base = { schemaVersion: 1 as const, action: 'delete' as const, before, warnings: [...target.warnings, ...(await oldKeyHolders(target, 'deleted'))] };
    const plan =
      decision.action === 'delete'
        ? [`delete the inactive old key ${maskKeyId(record.oldKeyId)}`, 'forget the staged rotation (and the old secret kept for a rollback)']
        : [`the old key ${maskKeyId(record.oldKeyId)} is already deleted: forget the staged rotation`];
    printPlan(rt, `Plan for ${record.userArn}:`, plan);
    for (const warning of base.warnings) rt.reporter.warn(warning);
    if (options.dryRun) return { ...base, status: 'planned', rotation: before, plan, steps: rt.steps.records };
    if (decision.action === 'delete') await confirmAction(options.yes, rt.prompter, `Delete ${maskKeyId(record.oldKeyId)} for good?`, 'deleting');
    await withFileLock(target.credentialsPath, async () => {
      if (decision.action === 'delete') {
        await rt.steps.run('delete', () => iam.deleteAccessKey(record.userName, record.oldKeyId), () => `deleted the old key ${maskKeyId(record.oldKeyId)}`);
      }
      await removeStaged(target.credentialsPath, record.id);
      rt.steps.record({ step: 'record', status: 'done', detail: 'the staged rotation is over' });
    });
    return { ...base, status: decision.action === 'delete' ? 'done' : 'unchanged', plan, steps: rt.steps.records };
  } finally {
    target.destroy();
  }
}

/**
 * `rollback`: reactivate the old key. With --delete-new, also delete the new key and take it out of where
 * it went; a profile gets the old pair back (the record keeps its secret for that). Without --delete-new
 * the rotation goes back to stage `created` (both keys active); with it, the rotation is forgotten.
 */
export async function rollbackStaged(options: RollbackOptions, deps: StageDeps = {}): Promise<StageResult> {
  const rt = createRuntime(deps);
  const verify = { ...DEFAULT_VERIFY_OPTIONS, ...options.verify };
  const target = await rt.steps.run('read', () => openStagedTarget(options, rt.prompter, true), (t) => `staged rotation of ${describeTarget(t.record)} (stage '${t.record.stage}')`);
  try {
    const { record, iam } = target;
    const before = summarize(record, target.env);
    const keys = await rt.steps.run('inspect', () => iam.listAccessKeys(record.userName, { lastUsed: options.deleteNew ?? false }), (k) => plural(k.length, 'key'));
    // Signed with the new key, this run's own calls (the listing just made) use it: uses until now are ours,
    // even when they fall in a later second than the run's start (which made this check flaky under load).
    const ownUseUntil = target.selfSigned ? rt.timing.now() : undefined;
    const decision = decideRollback(stagedKeys(record, keys, target.env, ownUseUntil), keys, options.deleteNew ?? false, options.force ?? false);
    const oldPair = record.oldSecretAccessKey ? { accessKeyId: record.oldKeyId, secretAccessKey: record.oldSecretAccessKey } : undefined;
    const restoresProfiles = record.destination.kind === 'profiles';
    if (decision.deleteNew && restoresProfiles && record.mode === 'profile' && !oldPair) {
      throw new UnsafeRotationError(
        'OLD_SECRET_UNKNOWN',
        `Deleting the new key would leave profile ${record.profile} without a working key: the old key's secret is not recorded.`,
        `Roll back without --delete-new (the old key is reactivated; the profile keeps the new key).`,
      );
    }
    const plan: string[] = [];
    if (decision.reactivate) plan.push(`reactivate the old key ${maskKeyId(record.oldKeyId)}`);
    if (decision.deleteNew) {
      if (oldPair) plan.push(`check that AWS accepts the old key ${maskKeyId(record.oldKeyId)}`);
      plan.push(describeUndo(record.destination, oldPair !== undefined), `delete the new key ${maskKeyId(record.newKeyId)}`, 'forget the staged rotation');
    } else if (decision.reactivate) {
      plan.push(`keep the new key ${maskKeyId(record.newKeyId)} where it is; the rotation is back at stage 'created'`);
    }
    const base = { schemaVersion: 1 as const, action: 'rollback' as const, before, warnings: target.warnings };
    if (plan.length === 0) {
      const line = `the old key ${maskKeyId(record.oldKeyId)} is active already${options.deleteNew ? ' and the new key is gone' : ''}: nothing to roll back`;
      rt.reporter.info(line);
      if (!options.deleteNew) rt.reporter.info(`To delete the new key and go back to the old one for good, add --delete-new.`);
      if (options.deleteNew && !options.dryRun) {
        await withFileLock(target.credentialsPath, () => removeStaged(target.credentialsPath, record.id));
        return { ...base, status: 'unchanged', plan: [line], steps: rt.steps.records };
      }
      return { ...base, status: 'unchanged', rotation: before, plan: [line], steps: rt.steps.records };
    }
    printPlan(rt, `Plan for ${record.userArn}:`, plan);
    if (options.dryRun) return { ...base, status: 'planned', rotation: before, plan, steps: rt.steps.records };
    await confirmAction(options.yes, rt.prompter, 'Roll back to the old key?', 'rolling back');

    const rotation = await withFileLock(target.credentialsPath, async () => {
      if (decision.reactivate) {
        await rt.steps.run('reactivate', () => iam.updateAccessKey(record.userName, record.oldKeyId, 'Active'), () => `reactivated the old key ${maskKeyId(record.oldKeyId)}`);
      }
      if (!decision.deleteNew) {
        const now = new Date(rt.timing.now()).toISOString();
        const updated: StagedRotation = { ...record, stage: 'created', updatedAt: now };
        delete updated.retiredAt;
        await writeStaged(target.credentialsPath, updated);
        return summarize(updated, target.env);
      }
      let deleteWith: IamApi = iam;
      if (oldPair) {
        await rt.steps.run(
          'verify',
          () => verifyNewKey(target.gateway, oldPair, record.userArn, verify, rt.timing),
          (v) => `AWS accepts the old key ${maskKeyId(record.oldKeyId)} (${plural(v.attempts, 'call')})`,
        );
        // The profile is about to hold the old key again: sign the last call with it, not with the key being deleted.
        if (target.selfSigned) deleteWith = target.gateway.iam(oldPair);
      }
      const services = target.factory ? await openDestinationServices(record.destination.kind, target.factory, target.iamCredentials) : {};
      const delivery = openDelivery(record.destination, {
        userName: record.userName,
        oldKeyId: record.oldKeyId,
        ...(services.secrets ? { secret: { secrets: services.secrets } } : {}),
        ...(services.parameters ? { parameters: services.parameters } : {}),
      });
      const undone = await delivery.undo(record.newKeyId, restoresProfiles ? oldPair : undefined);
      rt.steps.record({ step: 'undo', status: 'done', detail: undone });
      await rt.steps.run('delete-new', () => deleteWith.deleteAccessKey(record.userName, record.newKeyId), () => `deleted the new key ${maskKeyId(record.newKeyId)}`);
      await removeStaged(target.credentialsPath, record.id);
      return undefined;
    });
    return { ...base, status: 'done', ...(rotation ? { rotation } : {}), plan, steps: rt.steps.records };
  } finally {
    target.destroy();
  }
}

function describeUndo(destination: Destination, restoreOld: boolean): string {
  switch (destination.kind) {
    case 'profiles':
      return restoreOld ? `put the old key back in profile${destination.profiles.length > 1 ? 's' : ''} ${destination.profiles.join(', ')}` : `take the new key out of profile ${destination.profiles.join(', ')}`;
    case 'file':
      return `remove ${destination.path} if it still holds the new key`;
    case 'stdout':
      return 'nothing to take back: the new key was printed';
    case 'secret':
      return restoreOld ? `put the previous version of the secret ${destination.name} back` : `take the new key out of the secret ${destination.name}`;
    case 'parameter':
      return `put the previous value of the SSM parameter ${destination.name} back (or delete it if it held only the new key)`;
    case 'env':
      return restoreOld ? `put the old key back in ${destination.path}` : `take the new key out of ${destination.path}`;
    case 'exec':
      return `nothing to take back from "${destination.command}": it received the new key, which is deleted now`;
  }
}
