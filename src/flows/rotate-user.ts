import { resolve } from 'node:path';
import { plural } from '../core/plural.js';
import { getUserArn } from '../aws/users.js';
import { describeUserPlan, selectKeyToRotate } from '../core/admin.js';
import { describeDestination, type DestinationSpec } from '../core/destination.js';
import { parsePrincipalArn } from '../core/arn.js';
import { notDue, type AgeGate, type NotDue } from '../core/due.js';
import { maskKeyId } from '../core/mask.js';
import { planRotation, type KeyHolders, type RetireAction, type RotationPlan } from '../core/plan.js';
import { describeRecordedDestination, readStagedUser, type Destination } from '../credentials/staged-store.js';
import { withFileLock } from '../credentials/store.js';
import { localHoldersWarnings } from './local-holders.js';
import { describeAccount, readUserJournal, type UserJournal, type UserRef } from '../credentials/user-journal.js';
import type { CallerIdentity } from '../core/types.js';
import { elsewhereWarning, identifyCaller, type UserCaller } from './user-account.js';
import { RekeyError, UsageError } from '../errors.js';
import { checkDestinationLocally, prepareDestination } from '../rotation/deliveries/prepare.js';
import { openDestinationServices, type DestinationServices } from '../rotation/deliveries/services.js';
import { openDelivery, type SecretOutput } from '../rotation/delivery.js';
import { resumeUserCommand, userJournalRecord } from '../rotation/journal-records.js';
import { targetCommand } from '../core/next-command.js';
import { deleteOtherKey } from '../rotation/key-steps.js';
import { resumeRotation, rotateKey, type Rotation, type RotationOutcome } from '../rotation/lifecycle.js';
import type { StepRecord } from '../rotation/ports.js';
import { confirmAction, createRuntime, mfaPrompt, printPlan, stopIfInterrupted, type RunDeps, type Runtime } from '../rotation/runtime.js';
import { recordStagedUser } from '../rotation/staged-record.js';
import { DEFAULT_VERIFY_OPTIONS, type VerifyOptions } from '../rotation/verify.js';
import { credentialChain, openAdminContext, type AdminContext } from '../session/account-context.js';

export interface RotateUserOptions {
  /** The IAM user whose key is rotated. */
  userName: string;
  /** The admin's profile (any kind of credentials); default AWS_PROFILE, else `default`. */
  adminProfile?: string;
  /** The current code of the MFA device the admin profile's role is assumed with (mfa_serial); asked for on a terminal otherwise. */
  mfaCode?: string;
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
  /** `--if-older-than DAYS`: a younger key is left alone (status `not-due`). */
  ifOlderThan?: AgeGate;
  dryRun?: boolean;
  yes?: boolean;
  verify?: Partial<VerifyOptions>;
  env?: NodeJS.ProcessEnv;
}

export interface RotateUserDeps extends RunDeps {
  /** Where `--print-secret` prints the pair; without one, the pair is handed back in the result (`newKey`). */
  secretOutput?: SecretOutput;
  /** Where the output of an `--exec` command goes, line by line (the secret blanked out). */
  commandOutput?: (line: string) => void;
}

export interface RotateUserResult {
  schemaVersion: 1;
  /** `recovered`: an unfinished earlier rotation of this user was finished (or undone) instead. */
  /** `not-due`: --if-older-than found the key younger than that; nothing was done. */
  status: 'rotated' | 'staged' | 'planned' | 'recovered' | 'not-due';
  /** For `not-due`: the key's age and the date from which it will be rotated. */
  notDue?: NotDue;
  user: { name: string; arn: string; account: string };
  adminProfile: string;
  oldKeyId: string;
  newKeyId?: string;
  retired?: RetireAction;
  deletedOtherKeyId?: string;
  destination?: Destination;
  /** Only for --print-secret without a SecretOutput (a library caller): the pair, handed back once. */
  newKey?: { accessKeyId: string; secretAccessKey: string };
  /** For `recovered`: whether the earlier rotation was finished or undone. */
  outcome?: 'finished' | 'rolled-back';
  plan: string[];
  steps: StepRecord[];
  backupPath?: string;
  warnings: string[];
}

/**
 * An admin rotates another IAM user's key with their own credentials: read → identify → inspect →
 * plan/confirm → pre-flight (the destination can be written) → create → journal → write → verify (the new
 * key signs in as that user) → retire. A failure after the key exists undoes the write and deletes the key.
 */
export async function rotateUser(options: RotateUserOptions, deps: RotateUserDeps = {}): Promise<RotateUserResult> {
  const rt = createRuntime(deps);
  const verify = { ...DEFAULT_VERIFY_OPTIONS, ...options.verify };
  // A file that cannot be written, a command that cannot be run: refused before any AWS call.
  await checkDestinationLocally(options.destination, options.env ?? process.env);
  const ctx = await rt.steps.run(
    'read',
    () => openAdminContext({ profile: options.adminProfile, env: options.env, mfaCode: options.mfaCode, mfaCodeProvider: mfaPrompt(rt.prompter) }),
    (c) => `admin profile ${c.adminProfile}`,
  );
  try {
    // The account first: records are kept per account, and a run never takes another account's for its own.
    const caller = await identifyCaller(ctx, options.userName);
    const setup: UserSetup = { ctx, verify, secretOutput: deps.secretOutput, commandOutput: deps.commandOutput, caller };
    const pending = await readUserJournal(ctx.credentialsPath, caller.ref);
    if (pending) {
      rt.reporter.warn(
        `An earlier rotation of user ${pending.userName} in ${describeAccount(caller.ref)} (recorded beside ${ctx.credentialsPath}) did not finish (it stopped after step '${pending.phase}'). Finishing it instead of starting a new one.`,
      );
      return await resumeUserRotation(setup, pending, options, rt);
    }
    await refuseIfStaged(ctx, caller.ref);
    const elsewhere = await elsewhereWarning(ctx.credentialsPath, caller.ref);
    if (elsewhere) ctx.warnings.push(elsewhere);
    return await rotateWithAdmin(setup, options, rt);
  } finally {
    ctx.gateway.destroy();
  }
}

async function refuseIfStaged(ctx: AdminContext, ref: UserRef): Promise<void> {
  const { userName } = ref;
  const staged = await readStagedUser(ctx.credentialsPath, ref);
  if (!staged) return;
  const target = { userName, adminProfile: ctx.adminProfile };
  const command = (name: string, ...args: string[]) => `\`${targetCommand(name, target, ctx.env, ...args)}\``;
  throw new UsageError(
    `A staged rotation of user ${userName} is under way (stage '${staged.stage}', new key ${maskKeyId(staged.newKeyId)}, old key ${maskKeyId(staged.oldKeyId)}).`,
    staged.stage === 'created'
      ? `Finish it with ${command('rotate', '--stage', 'retire')} (then --stage delete), or undo it with ${command('rollback', '--delete-new')}.`
      : `Finish it with ${command('rotate', '--stage', 'delete')}, or undo it with ${command('rollback')}.`,
    'STAGED_IN_PROGRESS',
  );
}

interface Target {
  arn: string;
  account: string;
}

async function identifyTarget(ctx: AdminContext, userName: string, caller: CallerIdentity): Promise<Target> {
  const principal = parsePrincipalArn(caller.arn);
  if (principal?.kind === 'user' && principal.userName === userName) {
    throw new UsageError(
      `The admin credentials (profile ${ctx.adminProfile}) belong to ${userName} itself.`,
      `To rotate your own key, use \`${targetCommand('rotate', { profile: ctx.adminProfile }, ctx.env)}\`: it updates the profile that signs the calls.`,
      'OWN_KEY',
    );
  }
  const arn = await getUserArn(ctx.factory, ctx.credentials, userName);
  return { arn, account: parsePrincipalArn(arn)?.account ?? caller.account };
}

/** What every step of an admin's rotation needs: who signs, how long to verify, where --print-secret prints. */
interface UserSetup {
  ctx: AdminContext;
  verify: VerifyOptions;
  secretOutput?: SecretOutput;
  commandOutput?: (line: string) => void;
  /** Who the admin's credentials are: the account whose NAME this run is about. */
  caller: UserCaller;
}

async function rotateWithAdmin(setup: UserSetup, options: RotateUserOptions, rt: Runtime): Promise<RotateUserResult> {
  const { ctx } = setup;
  const { userName } = options;
  const target = await rt.steps.run('identify', () => identifyTarget(ctx, userName, setup.caller.identity), (t) => `${t.arn} (admin profile ${ctx.adminProfile})`);
  const iam = ctx.gateway.iam(ctx.credentials);
  const keys = await rt.steps.run('inspect', () => iam.listAccessKeys(userName, { lastUsed: true }), (k) => plural(k.length, 'key'));
  const oldKeyId = selectKeyToRotate(keys, userName, options.keyId);
  const waiting = options.ifOlderThan ? notDue(keys.find((k) => k.accessKeyId === oldKeyId), options.ifOlderThan) : undefined;
  if (waiting) {
    const user = { name: userName, arn: target.arn, account: target.account };
    return { schemaVersion: 1, status: 'not-due', notDue: waiting, user, adminProfile: ctx.adminProfile, oldKeyId, plan: [], steps: rt.steps.records, warnings: ctx.warnings };
  }
  const plan = planRotation(keys, {
    userName,
    currentKeyId: oldKeyId,
    profiles: [`--user ${userName}`],
    deleteOld: options.deleteOld ?? false,
    allowDeleteKeyId: options.deleteKeyId,
    listKeysCommand: targetCommand('keys', { userName, adminProfile: ctx.adminProfile }, ctx.env),
  });
  const label = describeDestination(options.destination, ctx.credentialsPath);
  const planLines = describeUserPlan(plan, label, { keepOld: options.keepOld ?? false });
  const warnings = [...ctx.warnings, ...(await holdersWarning(ctx, plan, options.destination))];
  const base = {
    schemaVersion: 1 as const,
    user: { name: userName, arn: target.arn, account: target.account },
    adminProfile: ctx.adminProfile,
    oldKeyId,
    plan: planLines,
    warnings,
  };
  for (const warning of warnings) rt.reporter.warn(warning);
  printPlan(rt, `Plan for ${target.arn} (as profile ${ctx.adminProfile}):`, planLines);
  if (options.dryRun) return { ...base, status: 'planned', steps: rt.steps.records };
  await confirmAction(options.yes, rt.prompter, `Rotate ${userName}'s key now?`, 'rotating');
  stopIfInterrupted(rt);

  const services = await openDestinationServices(options.destination.kind, ctx.factory, ctx.credentials);
  const prepared = await rt.steps.run(
    'pre-flight',
    async () =>
      prepareDestination(options.destination, {
        credentialsPath: ctx.credentialsPath,
        userName,
        oldKeyId,
        force: options.force ?? false,
        adminProfile: ctx.adminProfile,
        ownChain: await credentialChain(ctx.adminProfile, ctx.env),
        ...services,
        env: ctx.env,
      }),
    () => (options.destination.kind === 'exec' ? `"${options.destination.command}" can be run` : `${label} can be written`),
  );

  return withFileLock(ctx.credentialsPath, async () => {
    // Under the lock: another run may have started a rotation of this user meanwhile.
    if (await readUserJournal(ctx.credentialsPath, setup.caller.ref)) {
      throw new RekeyError('ROTATION_IN_PROGRESS', `Another aws-rekey run started rotating ${userName}'s key meanwhile. Nothing was changed.`, { hint: 'Run aws-rekey again once it is done.' });
    }
    await refuseIfStaged(ctx, setup.caller.ref);

    const deletedOtherKeyId = await deleteOtherKey(iam, userName, plan.otherKey, rt);
    stopIfInterrupted(rt);

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
      signedBy: ctx.adminProfile,
    };
    const outcome = await rotateKey(userRotation(setup, journal, services), rt);
    return { ...base, ...delivered(setup, journal, outcome), ...(deletedOtherKeyId ? { deletedOtherKeyId } : {}), steps: rt.steps.records };
  });
}

/** An admin's rotation on the lifecycle: the key goes where the journal says; the admin's credentials retire the old one. */
function userRotation(setup: UserSetup, journal: UserJournal, services: DestinationServices): Rotation<UserJournal> {
  const { ctx } = setup;
  // 0.1.0 journals of --to-profile do not say which profile was named: it is the first.
  const destination = journal.destination.kind === 'profiles' && journal.destination.named === undefined ? { ...journal.destination, named: journal.destination.profiles[0] } : journal.destination;
  return {
    journal,
    record: userJournalRecord(ctx.env),
    iam: ctx.gateway.iam(ctx.credentials),
    gateway: ctx.gateway,
    delivery: openDelivery(destination, {
      userName: journal.userName,
      oldKeyId: journal.oldKeyId,
      force: journal.force,
      secretOutput: setup.secretOutput,
      ...(services.secrets ? { secret: { secrets: services.secrets } } : {}),
      ...(services.parameters ? { parameters: services.parameters } : {}),
      createDateOf: async (id) => (journal.newKey?.accessKeyId === id ? journal.newKey.createDate : undefined),
      exec: { env: ctx.env, ...(setup.commandOutput ? { output: setup.commandOutput } : {}) },
    }),
    verify: setup.verify,
    retireWith: () => [{ credentials: ctx.credentials, label: `admin profile ${ctx.adminProfile}` }],
    recordStaged: async (j, newKey, rt) => {
      await recordStagedUser(j, newKey, rt);
    },
  };
}

type Delivered = Pick<RotateUserResult, 'status' | 'newKeyId' | 'retired' | 'destination' | 'newKey' | 'backupPath'>;

function delivered(setup: UserSetup, journal: UserJournal, outcome: RotationOutcome): Delivered {
  const handBack = journal.destination.kind === 'stdout' && !setup.secretOutput;
  return {
    status: outcome.status,
    newKeyId: outcome.newKey.accessKeyId,
    destination: journal.destination,
    ...(outcome.status === 'rotated' ? { retired: journal.retire } : {}),
    ...(handBack ? { newKey: outcome.newKey } : {}),
    ...(outcome.receipt?.backupPath ? { backupPath: outcome.receipt.backupPath } : {}),
  };
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
      return [`deliver ${newKey} (from the journal) to ${describeRecordedDestination(journal.destination)}`, `check that AWS accepts ${newKey}; if not, undo`, last];
    case 'written':
      return [`check that AWS accepts ${newKey}; if not, take it back out and delete it`, last];
    case 'verified':
      return [last];
  }
}

async function resumeUserRotation(setup: UserSetup, journal: UserJournal, options: RotateUserOptions, rt: Runtime): Promise<RotateUserResult> {
  const { ctx } = setup;
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
    rt.reporter.warn(`The new key goes to ${describeRecordedDestination(journal.destination)}, where the unfinished rotation was delivering it; not to ${describeDestination(options.destination)}.`);
  }
  printPlan(rt, `Unfinished rotation of ${journal.userArn} (started ${journal.startedAt}, stopped after '${journal.phase}'). Recovery:`, plan);
  if (options.dryRun) return { ...base, status: 'planned', steps: rt.steps.records };
  if (journal.destination.kind === 'stdout' && journal.phase !== 'creating' && options.destination.kind !== 'stdout') {
    throw new UsageError(
      `The unfinished rotation of ${journal.userName} was to print the new key, and its secret is only in the journal.`,
      `Run \`${resumeUserCommand({ ...journal, signedBy: ctx.adminProfile }, ctx.env)}\` to finish it and receive the key.`,
      'PRINT_SECRET_NEEDED',
    );
  }

  const services = await openDestinationServices(journal.destination.kind, ctx.factory, ctx.credentials);
  // A journal of 0.1.0 does not say whose credentials signed: this run's, from now on.
  journal.signedBy ??= ctx.adminProfile;
  return withFileLock(ctx.credentialsPath, async () => {
    const resumed = await resumeRotation(userRotation(setup, journal, services), rt);
    if (resumed.outcome === 'rolled-back') return { ...base, outcome: 'rolled-back', steps: rt.steps.records };
    return { ...base, ...delivered(setup, journal, resumed.rotation), status: 'recovered', outcome: 'finished', steps: rt.steps.records };
  });
}

function sameDestination(recorded: Destination, asked: DestinationSpec): boolean {
  switch (recorded.kind) {
    case 'stdout':
      return asked.kind === 'stdout';
    case 'file':
    case 'env':
      return asked.kind === recorded.kind && resolve(asked.path) === recorded.path;
    case 'secret':
    case 'parameter':
      return asked.kind === recorded.kind && asked.name === recorded.name;
    case 'exec':
      return asked.kind === 'exec' && asked.command === recorded.command;
    case 'profiles':
      return asked.kind === 'profile' && recorded.profiles[0] === asked.profile;
  }
}

/**
 * Local profiles, in the credentials or the config file, that hold a key the plan retires (the old key, or
 * the other key deleted to make room) and will not get the new one: they stop working, so the plan says so.
 * `--to-profile` gives the new key to the credentials file's holders of the old key; nobody else gets it.
 */
function holdersWarning(ctx: AdminContext, plan: RotationPlan, destination: DestinationSpec): Promise<string[]> {
  const toProfile = destination.kind === 'profile';
  const hint = toProfile ? undefined : (holders: KeyHolders) => `use --to-profile ${holders.credentials[0] ?? 'NAME'} to give it to a profile of ${ctx.credentialsPath}`;
  return localHoldersWarnings({ credentials: ctx.credentialsPath, config: ctx.configPath }, [
    { keyId: plan.currentKeyId, what: 'the old key', fate: plan.retire === 'delete' ? 'deleted' : 'deactivated', credentialsGetNewKey: toProfile, hint },
    ...(plan.otherKey ? [{ keyId: plan.otherKey.accessKeyId, what: `the other key ${maskKeyId(plan.otherKey.accessKeyId)}`, fate: 'deleted to make room', hint }] : []),
  ]);
}
