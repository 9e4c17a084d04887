import type { CredentialsInput } from '../aws/clients.js';
import type { AwsGateway, IamApi } from '../aws/gateway.js';
import { openAdminContext } from '../session/account-context.js';
import { defaultProfileName, openProfileContext } from '../session/profile-context.js';
import { getProfile } from '../credentials/ini.js';
import { parsePrincipalArn } from '../core/arn.js';
import { maskKeyId } from '../core/mask.js';
import { decideDelete, decideRetire, decideRollback, describeUse, type StagedKeys } from '../core/stage-decisions.js';
import type { AccessKeyInfo, StaticCredentials } from '../core/types.js';
import { readJournals, type RotationJournal } from '../credentials/journal.js';
import {
  findStagedForProfile,
  listStaged,
  readStagedUser,
  removeStaged,
  stagedId,
  writeStaged,
  type Destination,
  type StagedRotation,
  type StagedStage,
} from '../credentials/staged-store.js';
import { readCredentialsFile, resolveCredentialsPath, withFileLock } from '../credentials/store.js';
import { describeAccount, listUserJournals, userRefOf, userRecordId, type UserJournal } from '../credentials/user-journal.js';
import { identifyCaller, refuseOtherAccount } from './user-account.js';
import { openDelivery } from '../rotation/delivery.js';
import { ProfileError, UnsafeRotationError, UsageError } from '../errors.js';
import type { Prompter, StepRecord } from '../rotation/ports.js';
import { confirmAction, createRuntime, mfaPrompt, printPlan, type RunDeps, type Runtime } from '../rotation/runtime.js';
import { rotateProfile, type RotateDeps, type RotateOptions, type RotateResult } from './rotate-profile.js';
import { DEFAULT_VERIFY_OPTIONS, verifyNewKey, type VerifyOptions } from '../rotation/verify.js';

/**
 * Staged rotation, for keys that applications use: `--stage create` (new key saved and verified, old key
 * still active), then `--stage retire` (old key deactivated, unless IAM saw it used after the new key was
 * created), then `--stage delete`. `rollback` goes back to the old key; `status` lists what is under way.
 */

export interface StagedTargetOptions {
  /** Self-rotation: the profile whose key is rotated. */
  profile?: string;
  /** Self-rotation: make the IAM calls with this profile's credentials. */
  authProfile?: string;
  /** Admin rotation: the IAM user. */
  userName?: string;
  /** Admin rotation: the admin's profile. */
  adminProfile?: string;
  env?: NodeJS.ProcessEnv;
}

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

/** A staged rotation as shown to people and scripts: never a secret. */
export interface StagedSummary {
  id: string;
  mode: StagedRotation['mode'];
  profile?: string;
  userName: string;
  userArn: string;
  /** The AWS account of the user (from its ARN). */
  account: string;
  oldKeyId: string;
  newKeyId: string;
  newKeyCreatedAt: string;
  stage: StagedStage;
  recordedAt: string;
  retiredAt?: string;
  destination: Destination;
  /** What to run next. */
  next: string;
}

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
  const env = options.env ?? process.env;
  const credentialsPath = resolveCredentialsPath(env);
  const records = await listStaged(credentialsPath);
  if (records.length > 0) {
    const profile = options.profile ?? defaultProfileName(env);
    const keyId = getProfile((await readCredentialsFile(credentialsPath)).doc, profile)?.aws_access_key_id?.trim();
    const existing = findStagedForProfile(records, profile, keyId ? [keyId] : []);
    if (existing) throw stagedInProgress(existing);
  }
  return rotateProfile({ ...options, keepOld: true }, deps);
}

/** A plain rotation of a profile in the middle of a staged one would fight over the same two key slots. */
export async function refuseIfProfileStaged(profile: string | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  const credentialsPath = resolveCredentialsPath(env);
  const records = await listStaged(credentialsPath);
  if (records.length === 0) return;
  const name = profile ?? defaultProfileName(env);
  const keyId = getProfile((await readCredentialsFile(credentialsPath)).doc, name)?.aws_access_key_id?.trim();
  const existing = findStagedForProfile(records, name, keyId ? [keyId] : []);
  if (existing) throw stagedInProgress(existing);
}

function stagedInProgress(record: StagedRotation): UsageError {
  const who = targetFlag(record);
  return new UsageError(
    `A staged rotation of ${describeTarget(record)} is under way (stage '${record.stage}', new key ${maskKeyId(record.newKeyId)}, old key ${maskKeyId(record.oldKeyId)}).`,
    `Next: ${nextStep(record)}; or undo it with 'aws-rekey rollback ${who}${record.stage === 'created' ? ' --delete-new' : ''}'.`,
    'STAGED_IN_PROGRESS',
  );
}

interface StagedTarget {
  credentialsPath: string;
  record: StagedRotation;
  iam: IamApi;
  gateway: AwsGateway;
  iamCredentials: CredentialsInput;
  /** Self-rotation without --auth-profile: the profile's key signs the IAM calls. */
  selfSigned: boolean;
  warnings: string[];
  destroy(): void;
}

/**
 * `rollback` also works when the profile holds the old key again (a rollback that stopped half-way);
 * retire and delete need the profile on the new key, or they would retire the key it holds.
 */
async function openStagedTarget(options: StagedTargetOptions, prompter: Prompter, forRollback = false): Promise<StagedTarget> {
  const env = options.env ?? process.env;
  const mfaCodeProvider = mfaPrompt(prompter);
  if (options.userName !== undefined) {
    const ctx = await openAdminContext({ profile: options.adminProfile, env, mfaCodeProvider });
    let record: StagedRotation | undefined;
    try {
      const { ref } = await identifyCaller(ctx, options.userName);
      record = await readStagedUser(ctx.credentialsPath, ref);
      if (!record) {
        await refuseOtherAccount(ctx.credentialsPath, ref, 'staged rotation');
        throw noRecord(`user ${options.userName} in ${describeAccount(ref)}`, `--user ${options.userName}`);
      }
    } catch (error) {
      ctx.gateway.destroy();
      throw error;
    }
    return {
      credentialsPath: ctx.credentialsPath,
      record,
      iam: ctx.gateway.iam(ctx.credentials),
      gateway: ctx.gateway,
      iamCredentials: ctx.credentials,
      selfSigned: false,
      warnings: ctx.warnings,
      destroy: () => ctx.gateway.destroy(),
    };
  }
  const ctx = await openProfileContext({ profile: options.profile, authProfile: options.authProfile, env, mfaCodeProvider });
  try {
    const record = findStagedForProfile(await listStaged(ctx.credentialsPath), ctx.profile, [ctx.key.accessKeyId]);
    if (!record) throw noRecord(`profile ${ctx.profile}`, `--profile ${ctx.profile}`);
    const self: StaticCredentials = { accessKeyId: ctx.key.accessKeyId, secretAccessKey: ctx.key.secretAccessKey };
    const onOldKey = forRollback && ctx.key.accessKeyId === record.oldKeyId;
    if (ctx.key.accessKeyId !== record.newKeyId && !onOldKey) {
      throw new ProfileError(
        'PROFILE_NOT_ON_NEW_KEY',
        `Profile ${ctx.profile} holds ${maskKeyId(ctx.key.accessKeyId)}, not the new key ${maskKeyId(record.newKeyId)} of its staged rotation.`,
        {
          hint:
            ctx.key.accessKeyId === record.oldKeyId
              ? `The old key is back in the profile. Undo the staged rotation with 'aws-rekey rollback --profile ${ctx.profile} --delete-new', or put the new key back.`
              : `Put the new key back in the profile ('aws-rekey status' shows its id), then run this again.`,
        },
      );
    }
    const iamCredentials: CredentialsInput = ctx.authCredentials ?? self;
    return {
      credentialsPath: ctx.credentialsPath,
      record,
      iam: ctx.gateway.iam(iamCredentials),
      gateway: ctx.gateway,
      iamCredentials,
      selfSigned: !ctx.authCredentials && !onOldKey,
      warnings: ctx.warnings,
      destroy: () => ctx.gateway.destroy(),
    };
  } catch (error) {
    ctx.gateway.destroy();
    throw error;
  }
}

function noRecord(what: string, flag: string): UsageError {
  return new UsageError(`No staged rotation is recorded for ${what}.`, `Start one with 'aws-rekey rotate ${flag} --stage create'; 'aws-rekey status' lists those under way.`, 'NO_STAGED_ROTATION');
}

function stagedKeys(record: StagedRotation, keys: readonly AccessKeyInfo[], ownUseSince?: number): StagedKeys {
  // IAM's own clock for the creation time, when it still lists the key.
  const created = keys.find((k) => k.accessKeyId === record.newKeyId)?.createDate ?? new Date(record.newKeyCreatedAt);
  // Uses of the new key until aws-rekey last wrote the record were its own (verification, a retirement it
  // signed); so are those of this run when the profile's new key signs its calls (`ownUseSince`: its start).
  const ownUseUntil = Math.max(Date.parse(record.updatedAt), ownUseSince ?? 0);
  return { oldKeyId: record.oldKeyId, newKeyId: record.newKeyId, newKeyCreatedAt: created, ownUseUntil: new Date(ownUseUntil) };
}

/** `--stage retire`: deactivate the old key once nothing has used it since the new key was created. */
export async function retireStage(options: StageOptions, deps: StageDeps = {}): Promise<StageResult> {
  const rt = createRuntime(deps);
  const target = await rt.steps.run('read', () => openStagedTarget(options, rt.prompter), (t) => `staged rotation of ${describeTarget(t.record)} (stage '${t.record.stage}')`);
  try {
    const { record, iam } = target;
    const before = summarize(record);
    const keys = await rt.steps.run('inspect', () => iam.listAccessKeys(record.userName, { lastUsed: true }), (k) => `${k.length} key(s)`);
    const decision = decideRetire(stagedKeys(record, keys), keys, options.force ?? false);
    const old = keys.find((k) => k.accessKeyId === record.oldKeyId);
    const base = { schemaVersion: 1 as const, action: 'retire' as const, before, warnings: target.warnings };
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
  return summarize(updated);
}

/** `--stage delete`: delete the old key, which must be inactive; the rotation is then over. */
export async function deleteStage(options: StageOptions, deps: StageDeps = {}): Promise<StageResult> {
  const rt = createRuntime(deps);
  const target = await rt.steps.run('read', () => openStagedTarget(options, rt.prompter), (t) => `staged rotation of ${describeTarget(t.record)} (stage '${t.record.stage}')`);
  try {
    const { record, iam } = target;
    const before = summarize(record);
    const keys = await rt.steps.run('inspect', () => iam.listAccessKeys(record.userName), (k) => `${k.length} key(s)`);
    const decision = decideDelete(stagedKeys(record, keys), keys);
    const base = { schemaVersion: 1 as const, action: 'delete' as const, before, warnings: target.warnings };
    const plan =
      decision.action === 'delete'
        ? [`delete the inactive old key ${maskKeyId(record.oldKeyId)}`, 'forget the staged rotation (and the old secret kept for a rollback)']
        : [`the old key ${maskKeyId(record.oldKeyId)} is already deleted: forget the staged rotation`];
    printPlan(rt, `Plan for ${record.userArn}:`, plan);
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
  const startedAt = rt.timing.now();
  const verify = { ...DEFAULT_VERIFY_OPTIONS, ...options.verify };
  const target = await rt.steps.run('read', () => openStagedTarget(options, rt.prompter, true), (t) => `staged rotation of ${describeTarget(t.record)} (stage '${t.record.stage}')`);
  try {
    const { record, iam } = target;
    const before = summarize(record);
    const keys = await rt.steps.run('inspect', () => iam.listAccessKeys(record.userName, { lastUsed: options.deleteNew ?? false }), (k) => `${k.length} key(s)`);
    const decision = decideRollback(stagedKeys(record, keys, target.selfSigned ? startedAt : undefined), keys, options.deleteNew ?? false, options.force ?? false);
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
        return summarize(updated);
      }
      let deleteWith: IamApi = iam;
      if (oldPair) {
        await rt.steps.run(
          'verify',
          () => verifyNewKey(target.gateway, oldPair, record.userArn, verify, rt.timing),
          (v) => `AWS accepts the old key ${maskKeyId(record.oldKeyId)} (${v.attempts} call(s))`,
        );
        // The profile is about to hold the old key again: sign the last call with it, not with the key being deleted.
        if (target.selfSigned) deleteWith = target.gateway.iam(oldPair);
      }
      const delivery = openDelivery(record.destination, { userName: record.userName, oldKeyId: record.oldKeyId });
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
  }
}

export interface StatusEntry extends Omit<StagedSummary, 'stage' | 'destination' | 'newKeyCreatedAt' | 'recordedAt' | 'newKeyId'> {
  /** `interrupted`: a rotation stopped part-way (crash, Ctrl-C); its journal says where. */
  stage: StagedStage | 'interrupted';
  newKeyId?: string;
  newKeyCreatedAt?: string;
  recordedAt: string;
  destination?: Destination;
  /** For `interrupted`: the last step that completed. */
  phase?: string;
}

export interface StatusResult {
  schemaVersion: 1;
  credentialsPath: string;
  rotations: StatusEntry[];
}

/** Every staged rotation and every interrupted one recorded beside the credentials file. No AWS call. */
export async function rotationStatus(options: { env?: NodeJS.ProcessEnv } = {}): Promise<StatusResult> {
  const credentialsPath = resolveCredentialsPath(options.env ?? process.env);
  const [staged, journals, userJournals] = await Promise.all([listStaged(credentialsPath), readJournals(credentialsPath), listUserJournals(credentialsPath)]);
  const rotations: StatusEntry[] = staged.map(summarize);
  for (const j of journals) {
    rotations.push({
      id: stagedId('profile', j.profile),
      mode: 'profile',
      profile: j.profile,
      ...interrupted(j),
      next: `aws-rekey recover --profile ${j.profile}`,
    });
  }
  for (const j of userJournals) {
    rotations.push({
      id: userRecordId(userRefOf(j.userArn, j.userName)),
      mode: 'user',
      ...interrupted(j),
      destination: j.destination,
      next: `aws-rekey rotate --user ${j.userName}${j.destination.kind === 'stdout' ? ' --print-secret' : ''}`,
    });
  }
  return { schemaVersion: 1, credentialsPath, rotations };
}

/** What a journal left by an interrupted rotation says, whichever kind of rotation wrote it. */
function interrupted(j: RotationJournal | UserJournal) {
  return {
    userName: j.userName,
    userArn: j.userArn,
    account: accountOf(j.userArn),
    oldKeyId: j.oldKeyId,
    ...(j.newKey ? { newKeyId: j.newKey.accessKeyId } : {}),
    stage: 'interrupted' as const,
    phase: j.phase,
    recordedAt: j.startedAt,
  };
}

export function summarize(record: StagedRotation): StagedSummary {
  return {
    id: record.id,
    mode: record.mode,
    ...(record.profile ? { profile: record.profile } : {}),
    userName: record.userName,
    userArn: record.userArn,
    account: accountOf(record.userArn),
    oldKeyId: record.oldKeyId,
    newKeyId: record.newKeyId,
    newKeyCreatedAt: record.newKeyCreatedAt,
    stage: record.stage,
    recordedAt: record.recordedAt,
    ...(record.retiredAt ? { retiredAt: record.retiredAt } : {}),
    destination: record.destination,
    next: nextStep(record),
  };
}

function accountOf(arn: string): string {
  return parsePrincipalArn(arn)?.account ?? '';
}

function targetFlag(record: StagedRotation): string {
  return record.mode === 'user' ? `--user ${record.userName}` : `--profile ${record.profile ?? 'default'}`;
}

function describeTarget(record: StagedRotation): string {
  return record.mode === 'user' ? `user ${record.userName}` : `profile ${record.profile ?? 'default'}`;
}

function nextStep(record: StagedRotation): string {
  const flag = targetFlag(record);
  return record.stage === 'created'
    ? `roll the new key out, then 'aws-rekey rotate ${flag} --stage retire'`
    : `once nothing broke, 'aws-rekey rotate ${flag} --stage delete' (or 'aws-rekey rollback ${flag}')`;
}
