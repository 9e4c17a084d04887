import { abortableTiming, realTiming, type Timing } from '../rotation/timing.js';
import { resolve } from 'node:path';
import type { IamApi, NewAccessKey } from '../aws/gateway.js';
import { getUserArn } from '../aws/users.js';
import { openAdminContext, type AdminContext } from '../session/account-context.js';
import { describeDestination, describeUserPlan, selectKeyToRotate, type DestinationSpec } from '../core/admin.js';
import { parsePrincipalArn } from '../core/arn.js';
import { maskKeyId } from '../core/mask.js';
import { planRotation, type RetireAction } from '../core/plan.js';
import type { AccessKeyInfo } from '../core/types.js';
import { confirmAction } from '../rotation/confirm.js';
import { findProfilesWithKey } from '../credentials/ini.js';
import { readStaged, stagedId, type Destination } from '../credentials/staged-store.js';
import { readCredentialsFile, withFileLock } from '../credentials/store.js';
import { readUserJournal, removeUserJournal, writeUserJournal, type UserJournal } from '../credentials/user-journal.js';
import { prepareDestination, undoDestination, writeDestination, type DestinationContext } from '../rotation/destination.js';
import { AwsError, RekeyError, RotationIncompleteError, UsageError, InterruptedError } from '../errors.js';
import { noPrompter, silentReporter, type Prompter, type Reporter, type StepRecord } from '../rotation/ports.js';
import { recordStagedUser } from '../rotation/staged-record.js';
import { createKeyOnce, deleteOrphans, deleteOtherKey, StepLog, type StepRuntime } from '../rotation/steps.js';
import { DEFAULT_VERIFY_OPTIONS, verifyNewKey, type VerifyOptions } from '../rotation/verify.js';

export interface RotateUserOptions {
  /** The IAM user whose key is rotated. */
  userName: string;
  /** The admin's profile (any kind of credentials); default AWS_PROFILE, else `default`. */
  adminProfile?: string;
  /** Which key to rotate; needed when the user has two. */
  keyId?: string;
  /** Where the new pair goes. */
  destination: DestinationSpec;
  /** Overwrite an existing --out file, or a --to-profile profile that holds another key. */
  force?: boolean;
  deleteOld?: boolean;
  deleteKeyId?: string;
  /** `--stage create`: stop once the new key works, keep the old key active, record the staged rotation. */
  keepOld?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  verify?: Partial<VerifyOptions>;
  env?: NodeJS.ProcessEnv;
}

export interface RotateUserDeps {
  prompter?: Prompter;
  reporter?: Reporter;
  timing?: Timing;
  signal?: AbortSignal;
}

export interface RotateUserResult {
  schemaVersion: 1;
  /** `recovered`: an unfinished earlier rotation of this user was finished (or undone) instead. */
  status: 'rotated' | 'staged' | 'planned' | 'recovered';
  user: { name: string; arn: string; account: string };
  adminProfile: string;
  oldKeyId: string;
  newKeyId?: string;
  retired?: RetireAction;
  deletedOtherKeyId?: string;
  destination?: Destination;
  /** Only for --print-secret: the caller prints it, once. */
  newKey?: { accessKeyId: string; secretAccessKey: string };
  /** For `recovered`: whether the earlier rotation was finished or undone. */
  outcome?: 'finished' | 'rolled-back';
  plan: string[];
  steps: StepRecord[];
  backupPath?: string;
  warnings: string[];
}

interface Runtime extends StepRuntime {
  prompter: Prompter;
}


/**
 * An admin rotates another IAM user's key with their own credentials: read → identify → inspect →
 * plan/confirm → pre-flight (the destination can be written) → create → journal → write → verify (the new
 * key signs in as that user) → retire. A failure after the key exists undoes the write and deletes the key.
 */
export async function rotateUser(options: RotateUserOptions, deps: RotateUserDeps = {}): Promise<RotateUserResult> {
  const prompter = deps.prompter ?? noPrompter;
  const reporter = deps.reporter ?? silentReporter;
  const timing = abortableTiming(deps.timing ?? realTiming, deps.signal);
  const steps = new StepLog(reporter, timing);
  const rt: Runtime = { prompter, reporter, timing, steps, signal: deps.signal };
  const verify = { ...DEFAULT_VERIFY_OPTIONS, ...options.verify };

  const ctx = await steps.run(
    'read',
    () =>
      openAdminContext({
        profile: options.adminProfile,
        env: options.env,
        mfaCodeProvider: prompter.interactive ? (serial) => prompter.input(`MFA code for ${serial}:`, { secret: true }) : undefined,
      }),
    (c) => `admin profile ${c.adminProfile}`,
  );
  try {
    const pending = await readUserJournal(ctx.credentialsPath, options.userName);
    if (pending) {
      reporter.warn(`An earlier rotation of user ${pending.userName} did not finish (it stopped after step '${pending.phase}'). Finishing it instead of starting a new one.`);
      return await resumeUserRotation(ctx, pending, options, verify, rt);
    }
    await refuseIfStaged(ctx, options.userName);
    return await rotateWithAdmin(ctx, options, verify, rt);
  } finally {
    ctx.gateway.destroy();
  }
}

async function refuseIfStaged(ctx: AdminContext, userName: string): Promise<void> {
  const staged = await readStaged(ctx.credentialsPath, stagedId('user', userName));
  if (!staged) return;
  throw new UsageError(
    `A staged rotation of user ${userName} is under way (stage '${staged.stage}', new key ${maskKeyId(staged.newKeyId)}, old key ${maskKeyId(staged.oldKeyId)}).`,
    staged.stage === 'created'
      ? `Finish it with 'aws-rekey rotate --user ${userName} --stage retire' (then --stage delete), or undo it with 'aws-rekey rollback --user ${userName} --delete-new'.`
      : `Finish it with 'aws-rekey rotate --user ${userName} --stage delete', or undo it with 'aws-rekey rollback --user ${userName}'.`,
    'STAGED_IN_PROGRESS',
  );
}

interface Target {
  arn: string;
  account: string;
}

async function identifyTarget(ctx: AdminContext, userName: string): Promise<Target> {
  const caller = await ctx.gateway.getCallerIdentity(ctx.credentials);
  const principal = parsePrincipalArn(caller.arn);
  if (principal?.kind === 'user' && principal.userName === userName) {
    throw new UsageError(
      `The admin credentials (profile ${ctx.adminProfile}) belong to ${userName} itself.`,
      `To rotate your own key, use 'aws-rekey rotate --profile ${ctx.adminProfile}': it updates the profile that signs the calls.`,
      'OWN_KEY',
    );
  }
  const arn = await getUserArn(ctx.factory, ctx.credentials, userName);
  return { arn, account: parsePrincipalArn(arn)?.account ?? caller.account };
}

async function rotateWithAdmin(ctx: AdminContext, options: RotateUserOptions, verify: VerifyOptions, rt: Runtime): Promise<RotateUserResult> {
  const { userName } = options;
  const target = await rt.steps.run('identify', () => identifyTarget(ctx, userName), (t) => `${t.arn} (admin profile ${ctx.adminProfile})`);
  const iam = ctx.gateway.iam(ctx.credentials);
  const keys = await rt.steps.run('inspect', () => iam.listAccessKeys(userName, { lastUsed: true }), (k) => `${k.length} key(s)`);
  const oldKeyId = selectKeyToRotate(keys, userName, options.keyId);
  const plan = planRotation(keys, {
    userName,
    currentKeyId: oldKeyId,
    profiles: [`--user ${userName}`],
    deleteOld: options.deleteOld ?? false,
    allowDeleteKeyId: options.deleteKeyId,
  });
  const label = describeDestination(options.destination, ctx.credentialsPath);
  const planLines = describeUserPlan(plan, label, { keepOld: options.keepOld ?? false });
  const warnings = [...ctx.warnings, ...(await holdersWarning(ctx, oldKeyId, options.destination))];
  const base = {
    schemaVersion: 1 as const,
    user: { name: userName, arn: target.arn, account: target.account },
    adminProfile: ctx.adminProfile,
    oldKeyId,
    plan: planLines,
    warnings,
  };
  for (const warning of warnings) rt.reporter.warn(warning);
  rt.reporter.info(`Plan for ${target.arn} (as profile ${ctx.adminProfile}):`);
  planLines.forEach((line, i) => rt.reporter.info(`  ${i + 1}. ${line}`));
  if (options.dryRun) return { ...base, status: 'planned', steps: rt.steps.records };
  await confirmAction(options.yes, rt.prompter, `Rotate ${userName}'s key now?`, 'rotating');
  checkpoint(rt);

  const destinationContext: DestinationContext = {
    credentialsPath: ctx.credentialsPath,
    userName,
    oldKeyId,
    force: options.force ?? false,
    adminProfile: ctx.adminProfile,
  };
  const prepared = await rt.steps.run('pre-flight', () => prepareDestination(options.destination, destinationContext), () => `${label} can be written`);

  return withFileLock(ctx.credentialsPath, async () => {
    // Under the lock: another run may have started a rotation of this user meanwhile.
    if (await readUserJournal(ctx.credentialsPath, userName)) {
      throw new RekeyError('ROTATION_IN_PROGRESS', `Another aws-rekey run started rotating ${userName}'s key meanwhile. Nothing was changed.`, { hint: 'Run aws-rekey again once it is done.' });
    }
    await refuseIfStaged(ctx, userName);

    const deletedOtherKeyId = await deleteOtherKey(iam, userName, plan.otherKey, rt);
    checkpoint(rt);

    const now = new Date(rt.timing.now()).toISOString();
    const journal: UserJournal = {
      version: 1,
      kind: 'user',
      userName,
      userArn: target.arn,
      credentialsPath: ctx.credentialsPath,
      oldKeyId,
      ...(prepared.oldSecretAccessKey ? { oldSecretAccessKey: prepared.oldSecretAccessKey } : {}),
      keysBefore: [oldKeyId],
      retire: plan.retire,
      ...(options.keepOld ? { keepOld: true } : {}),
      destination: prepared.destination,
      force: options.force ?? false,
      phase: 'creating',
      startedAt: now,
      updatedAt: now,
    };
    await writeUserJournal(journal);
    let newKey: NewAccessKey;
    try {
      newKey = await rt.steps.run('create', () => createKeyOnce(iam, userName, journal.keysBefore, rt), (k) => `created ${maskKeyId(k.accessKeyId)}`);
    } catch (error) {
      if (error instanceof RekeyError && error.code === 'CREATE_UNCERTAIN') {
        // A key may exist whose secret never arrived: the journal stays, so that the next run finds and deletes it.
        throw new RotationIncompleteError('CREATE_UNCERTAIN', error.message, {
          hint: `A key of ${userName} may exist whose secret never arrived. Run 'aws-rekey rotate --user ${userName}' again: it finds and deletes it first.`,
          cause: error,
        });
      }
      await removeUserJournal(ctx.credentialsPath, userName);
      throw error;
    }
    journal.newKey = { accessKeyId: newKey.accessKeyId, secretAccessKey: newKey.secretAccessKey, ...(newKey.createDate ? { createDate: newKey.createDate.toISOString() } : {}) };
    try {
      await advance(journal, 'created', rt);
    } catch (error) {
      // The secret is kept nowhere: a key nobody can use must not stay.
      return rollBackUser(iam, journal, error, undefined, rt);
    }
    const finished = await finishRotation(ctx, journal, iam, verify, rt);
    return {
      ...base,
      ...finished,
      ...(deletedOtherKeyId ? { deletedOtherKeyId } : {}),
      steps: rt.steps.records,
    };
  });
}

type Finished = Pick<RotateUserResult, 'status' | 'newKeyId' | 'retired' | 'destination' | 'newKey' | 'backupPath'>;

/** From `created` on, shared by a fresh rotation and the resumption of an interrupted one. */
async function finishRotation(ctx: AdminContext, journal: UserJournal, iam: IamApi, verify: VerifyOptions, rt: Runtime): Promise<Finished> {
  const newKey = journal.newKey;
  if (!newKey) throw new RekeyError('JOURNAL_INVALID', 'The journal has no new key.');
  const pair = { accessKeyId: newKey.accessKeyId, secretAccessKey: newKey.secretAccessKey };
  let undo: (() => Promise<string>) | undefined;
  let backupPath: string | undefined;

  if (journal.phase === 'created') {
    try {
      const written = await rt.steps.run(
        'write',
        () => writeDestination(journal.destination, pair, { credentialsPath: ctx.credentialsPath, userName: journal.userName, oldKeyId: journal.oldKeyId, force: journal.force }),
        (w) => w.detail,
      );
      undo = written.undo;
      backupPath = written.backupPath;
      journal.destination = written.destination;
    } catch (error) {
      return rollBackUser(iam, journal, error, undefined, rt);
    }
    await advance(journal, 'written', rt);
    checkpoint(rt, journal);
  }

  if (journal.phase === 'written') {
    try {
      await rt.steps.run(
        'verify',
        () => verifyNewKey(ctx.gateway, pair, journal.userArn, verify, rt.timing),
        (v) => `AWS accepted ${maskKeyId(pair.accessKeyId)} as ${journal.userName} ${verify.successes} time(s) in a row (${v.attempts} call(s), ${(v.elapsedMs / 1000).toFixed(1)} s)`,
      );
    } catch (error) {
      if (error instanceof InterruptedError) checkpoint(rt, journal);
      return rollBackUser(iam, journal, error, undo, rt);
    }
    await advance(journal, 'verified', rt);
    checkpoint(rt, journal);
  }

  const delivered = {
    newKeyId: pair.accessKeyId,
    destination: journal.destination,
    ...(journal.destination.kind === 'stdout' ? { newKey: pair } : {}),
    ...(backupPath ? { backupPath } : {}),
  };
  if (journal.keepOld) {
    await recordStagedUser(journal, rt);
    await removeUserJournal(journal.credentialsPath, journal.userName);
    return { status: 'staged', ...delivered };
  }

  const action = journal.retire;
  const keys = await iam.listAccessKeys(journal.userName);
  const old = keys.find((k) => k.accessKeyId === journal.oldKeyId);
  if (!old || (action === 'deactivate' && old.status !== 'Active')) {
    rt.steps.record({ step: 'retire', status: 'skipped', detail: `the old key ${maskKeyId(journal.oldKeyId)} is already ${old ? 'inactive' : 'deleted'}` });
  } else {
    try {
      await rt.steps.run(
        'retire',
        () => (action === 'delete' ? iam.deleteAccessKey(journal.userName, journal.oldKeyId) : iam.updateAccessKey(journal.userName, journal.oldKeyId, 'Inactive')),
        () => `${action === 'delete' ? 'deleted' : 'deactivated'} the old key ${maskKeyId(journal.oldKeyId)}`,
      );
    } catch (error) {
      throw new RotationIncompleteError(
        'RETIRE_FAILED',
        `The new key of ${journal.userName} is delivered and works, but the old key ${maskKeyId(journal.oldKeyId)} could not be ${action === 'delete' ? 'deleted' : 'deactivated'}: ${(error as Error).message}`,
        { hint: `The old key is still active. Run 'aws-rekey rotate --user ${journal.userName}${journal.destination.kind === 'stdout' ? ' --print-secret' : ''}' again to finish.`, cause: error },
      );
    }
  }
  await removeUserJournal(journal.credentialsPath, journal.userName);
  return { status: 'rotated', retired: action, ...delivered };
}

/** The new key never worked or could not be delivered: take it out of the destination and delete it. */
async function rollBackUser(iam: IamApi, journal: UserJournal, cause: unknown, undo: (() => Promise<string>) | undefined, rt: Runtime): Promise<never> {
  const why = cause instanceof Error ? cause.message : String(cause);
  const newKey = journal.newKey;
  if (newKey) {
    const oldPair = journal.oldSecretAccessKey ? { accessKeyId: journal.oldKeyId, secretAccessKey: journal.oldSecretAccessKey } : undefined;
    if (journal.phase !== 'created' || undo) {
      const undone = undo ? await undo() : await undoDestination(journal.destination, newKey.accessKeyId, oldPair);
      rt.steps.record({ step: 'rollback', status: 'done', detail: undone });
    }
    try {
      await iam.deleteAccessKey(journal.userName, newKey.accessKeyId);
      rt.steps.record({ step: 'rollback', status: 'done', detail: `deleted the new key ${maskKeyId(newKey.accessKeyId)}` });
    } catch (error) {
      if (!(error instanceof AwsError && error.code === 'NO_SUCH_ENTITY')) {
        // The key lives on and its secret is now only in the journal: keep it there (back at 'created', as
        // the destination no longer holds it), so that the next run delivers and checks it again, or undoes it.
        await writeUserJournal({ ...journal, phase: 'created' });
        throw new RotationIncompleteError(
          'ROLLBACK_INCOMPLETE',
          `The new key ${maskKeyId(newKey.accessKeyId)} of ${journal.userName} failed (${why}) and was taken out of its destination, but deleting it failed: ${(error as Error).message}`,
          {
            hint: `The old key is still active, and the recovery journal keeps the new key's secret. Run 'aws-rekey rotate --user ${journal.userName}' again to finish (or delete the new key: aws iam delete-access-key --user-name ${journal.userName} --access-key-id ${newKey.accessKeyId}).`,
            cause: error,
          },
        );
      }
    }
  }
  await removeUserJournal(journal.credentialsPath, journal.userName);
  throw new RekeyError('ROTATION_ROLLED_BACK', `The rotation of ${journal.userName}'s key was undone: ${why}`, {
    hint: cause instanceof RekeyError && cause.hint ? `The old key is still active. ${cause.hint}` : 'The old key is still active. Run aws-rekey again later.',
    cause,
  });
}

/** What finishing an interrupted admin rotation will do, from its journal. */
export function describeUserRecovery(journal: UserJournal): string[] {
  const newKey = journal.newKey ? maskKeyId(journal.newKey.accessKeyId) : 'the new key';
  const old = maskKeyId(journal.oldKeyId);
  const last = journal.keepOld ? `keep ${old} active and record the staged rotation` : `${journal.retire} the old key ${old}`;
  switch (journal.phase) {
    case 'creating':
      return [`delete any key of ${journal.userName} created without its secret reaching us`, `keep ${old} active`];
    case 'created':
      return [`deliver ${newKey} (from the journal) to ${describeRecorded(journal.destination)}`, `check that AWS accepts ${newKey}; if not, undo`, last];
    case 'written':
      return [`check that AWS accepts ${newKey}; if not, take it back out and delete it`, last];
    case 'verified':
      return [last];
  }
}

function describeRecorded(destination: Destination): string {
  switch (destination.kind) {
    case 'file':
      return destination.path;
    case 'profiles':
      return `profile ${destination.profiles.join(', ')} in ${destination.credentialsPath}`;
    case 'stdout':
      return 'standard output';
  }
}

async function resumeUserRotation(ctx: AdminContext, journal: UserJournal, options: RotateUserOptions, verify: VerifyOptions, rt: Runtime): Promise<RotateUserResult> {
  const plan = describeUserRecovery(journal);
  const base = {
    schemaVersion: 1 as const,
    status: 'recovered' as const,
    user: { name: journal.userName, arn: journal.userArn, account: parsePrincipalArn(journal.userArn)?.account ?? '' },
    adminProfile: ctx.adminProfile,
    oldKeyId: journal.oldKeyId,
    plan,
    warnings: ctx.warnings,
  };
  if (journal.phase !== 'creating' && !sameDestination(journal.destination, options.destination)) {
    rt.reporter.warn(`The new key goes to ${describeRecorded(journal.destination)}, where the unfinished rotation was delivering it; not to ${describeDestination(options.destination)}.`);
  }
  rt.reporter.info(`Unfinished rotation of ${journal.userArn} (started ${journal.startedAt}, stopped after '${journal.phase}'). Recovery:`);
  plan.forEach((line, i) => rt.reporter.info(`  ${i + 1}. ${line}`));
  if (options.dryRun) return { ...base, status: 'planned', steps: rt.steps.records };
  if (journal.destination.kind === 'stdout' && journal.phase !== 'creating' && options.destination.kind !== 'stdout') {
    throw new UsageError(
      `The unfinished rotation of ${journal.userName} was to print the new key, and its secret is only in the journal.`,
      `Run 'aws-rekey rotate --user ${journal.userName} --print-secret' to finish it and receive the key.`,
      'PRINT_SECRET_NEEDED',
    );
  }

  return withFileLock(ctx.credentialsPath, async () => {
    const iam = ctx.gateway.iam(ctx.credentials);
    const keys = await rt.steps.run('inspect', () => iam.listAccessKeys(journal.userName), (k) => `${k.length} key(s)`);
    if (journal.phase === 'creating') {
      await rt.steps.run('orphans', () => deleteOrphans(iam, journal.userName, journal.keysBefore), (ids) =>
        ids.length ? `deleted ${ids.map(maskKeyId).join(', ')} (created, secret never received)` : 'no key was created',
      );
      await removeUserJournal(ctx.credentialsPath, journal.userName);
      return { ...base, outcome: 'rolled-back', steps: rt.steps.records };
    }
    const newKey = journal.newKey;
    if (!newKey || !hasKey(keys, newKey.accessKeyId)) {
      try {
        await rollBackUser(iam, journal, new RekeyError('NEW_KEY_GONE', 'the new key no longer exists in IAM'), undefined, rt);
      } catch (error) {
        if (!(error instanceof RekeyError && error.code === 'ROTATION_ROLLED_BACK')) throw error;
      }
      return { ...base, outcome: 'rolled-back', steps: rt.steps.records };
    }
    try {
      const finished = await finishRotation(ctx, journal, iam, verify, rt);
      return { ...base, ...finished, status: 'recovered', outcome: 'finished', steps: rt.steps.records };
    } catch (error) {
      if (error instanceof RekeyError && error.code === 'ROTATION_ROLLED_BACK') return { ...base, outcome: 'rolled-back', steps: rt.steps.records };
      throw error;
    }
  });
}

function sameDestination(recorded: Destination, asked: DestinationSpec): boolean {
  if (recorded.kind === 'stdout' || asked.kind === 'stdout') return recorded.kind === asked.kind;
  if (recorded.kind === 'file') return asked.kind === 'file' && resolve(asked.path) === recorded.path;
  return asked.kind === 'profile' && recorded.profiles[0] === asked.profile;
}

function hasKey(keys: readonly AccessKeyInfo[], id: string): boolean {
  return keys.some((k) => k.accessKeyId === id);
}

async function advance(journal: UserJournal, phase: UserJournal['phase'], rt: Runtime): Promise<void> {
  journal.phase = phase;
  journal.updatedAt = new Date(rt.timing.now()).toISOString();
  await writeUserJournal(journal);
}

function checkpoint(rt: Runtime, journal?: UserJournal): void {
  if (!rt.signal?.aborted) return;
  if (!journal) throw new InterruptedError('Interrupted. Nothing was changed.');
  throw new InterruptedError(
    `Interrupted after step '${journal.phase}'. The new key of ${journal.userName} is kept in a recovery journal.`,
    `Run 'aws-rekey rotate --user ${journal.userName}${journal.destination.kind === 'stdout' ? ' --print-secret' : ''}' again to finish it.`,
  );
}

/** Profiles of the local file that hold the old key and will not get the new one: they stop working. */
async function holdersWarning(ctx: AdminContext, oldKeyId: string, destination: DestinationSpec): Promise<string[]> {
  const file = await readCredentialsFile(ctx.credentialsPath).catch(() => undefined);
  if (!file) return [];
  const holders = findProfilesWithKey(file.doc, oldKeyId);
  if (holders.length === 0 || destination.kind === 'profile') return [];
  return [`Profile${holders.length > 1 ? 's' : ''} ${holders.join(', ')} in ${ctx.credentialsPath} hold${holders.length > 1 ? '' : 's'} the old key and will not get the new one (use --to-profile ${holders[0]} for that).`];
}
