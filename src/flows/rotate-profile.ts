import type { CredentialsInput } from '../aws/clients.js';
import { plural } from '../core/plural.js';
import { notDue, type AgeGate, type NotDue } from '../core/due.js';
import { describePlan, type RetireAction } from '../core/plan.js';
import { describeStagedCreatePlan } from '../core/stage-decisions.js';
import type { StaticCredentials } from '../core/types.js';
import { findProfilesWithKey } from '../credentials/ini.js';
import { findJournal, readJournals, type RotationJournal } from '../credentials/journal.js';
import { checkBeforeRotation, checkConfigWritable, checkWritable, readCredentialsFile, withFileLock } from '../credentials/store.js';
import { ProfileError, RekeyError } from '../errors.js';
import { deleteOtherKey } from '../rotation/key-steps.js';
import { rotateKey, type RetireCredentials } from '../rotation/lifecycle.js';
import { profileRotation } from '../rotation/profile-rotation.js';
import type { StepRecord } from '../rotation/ports.js';
import { confirmAction, createRuntime, mfaPrompt, printPlan, stopIfInterrupted, type RunDeps } from '../rotation/runtime.js';
import { DEFAULT_VERIFY_OPTIONS, type VerifyOptions } from '../rotation/verify.js';
import { openProfileContext, type ProfileContext } from '../session/profile-context.js';
import { decidePlan, identify, inspectKeys, inspectOwnKeys, selfCredentialsOf, signsOwnCalls, type ProfileRuntime, type Session } from './profile-steps.js';
import { recoverWithContext, type RecoverResult } from './recover.js';

export interface MfaOptions {
  /** The MFA device's ARN; found with iam:ListMFADevices when absent. */
  serialNumber?: string;
  /** The current code; asked for when absent and a person is there to type it. */
  tokenCode?: string;
}

export interface RotateOptions {
  /** Profile whose key is rotated (default: AWS_PROFILE, else `default`). */
  profile?: string;
  /** Make the IAM calls with this profile's credentials (any kind); the key rotated stays --profile's. */
  authProfile?: string;
  /** Delete the old key at the end instead of deactivating it. */
  deleteOld?: boolean;
  /** Permission to delete this other *active* key of the user to make room. */
  deleteKeyId?: string;
  /** Stop after planning. */
  dryRun?: boolean;
  /** Do not ask for confirmation. */
  yes?: boolean;
  /** Use an MFA session (sts:GetSessionToken) for the IAM calls. */
  mfa?: MfaOptions;
  verify?: Partial<VerifyOptions>;
  env?: NodeJS.ProcessEnv;
  /** Staged rotation (`--stage create`): stop once the new key is saved and works; keep the old key active and record it. */
  keepOld?: boolean;
  /** `--if-older-than DAYS`: a younger key is left alone (status `not-due`). */
  ifOlderThan?: AgeGate;
}

export interface RotateDeps extends RunDeps {
  /** Takes the credentials file's lock (default withFileLock); `rotate --all` holds it once for every rotation. */
  fileLock?: <T>(path: string, fn: () => Promise<T>) => Promise<T>;
  /** The --auth-profile's credentials, opened by the caller: `rotate --all` opens them once for every rotation. */
  authCredentials?: CredentialsInput;
}

export interface RotateResult {
  schemaVersion: 1;
  /** `not-due`: --if-older-than found the key younger than that; nothing was done. */
  status: 'rotated' | 'planned' | 'recovered' | 'staged' | 'not-due';
  /** For `not-due`: the key's age and the date from which it will be rotated. */
  notDue?: NotDue;
  /** Set when an unfinished earlier rotation was found and finished or undone instead. */
  recovery?: RecoverResult;
  profile: string;
  /** Every profile that gets (or got) the new key, in either file; a name in both files once. */
  profiles: string[];
  /** The same, per file: the credentials file, and the config file when profiles there get the key too. */
  files: ProfileFile[];
  user: { arn: string; name: string; account: string };
  oldKeyId: string;
  newKeyId?: string;
  retired?: RetireAction;
  deletedOtherKeyId?: string;
  plan: string[];
  steps: StepRecord[];
  backupPath?: string;
  /** Every backup made: one per file written. */
  backupPaths?: string[];
  warnings: string[];
}

export interface ProfileFile {
  path: string;
  kind: 'credentials' | 'config';
  profiles: string[];
}

/**
 * Rotate the access key of one profile: read → identify → inspect → plan/confirm → pre-flight → create →
 * persist → verify → retire → finish. The user always has a working key that is written down somewhere.
 */
export async function rotateProfile(options: RotateOptions = {}, deps: RotateDeps = {}): Promise<RotateResult> {
  const rt: ProfileRuntime = { ...createRuntime(deps), fileLock: deps.fileLock ?? withFileLock };
  const verify = { ...DEFAULT_VERIFY_OPTIONS, ...options.verify };
  const ctx = await rt.steps.run(
    'read',
    () =>
      openProfileContext({
        profile: options.profile,
        authProfile: options.authProfile,
        env: options.env,
        // With an --auth-profile whose role takes an MFA code, the code is for that role; otherwise it opens an MFA session.
        mfaCode: options.mfa?.tokenCode,
        mfaCodeProvider: mfaPrompt(rt.prompter),
        mfaCodeOpensSession: true,
        ...(deps.authCredentials ? { authCredentials: deps.authCredentials } : {}),
      }),
    (c) => `profile ${c.profile} (${c.key.source === 'config' ? c.configPath : c.credentialsPath})`,
  );
  try {
    for (const warning of ctx.warnings) rt.reporter.warn(warning);
    const journals = await readJournals(ctx.credentialsPath);
    const pending = findJournal(journals, namesOf(ctx), [ctx.key.accessKeyId]);
    if (pending) {
      rt.reporter.warn(`An earlier rotation of profile ${pending.profile} in ${ctx.credentialsPath} did not finish (it stopped after step '${pending.phase}'). Finishing it instead of starting a new one.`);
      const recovery = await recoverWithContext(ctx, pending, { verify, yes: options.yes ?? false, dryRun: options.dryRun ?? false }, rt);
      return {
        schemaVersion: 1,
        status: options.dryRun ? 'planned' : 'recovered',
        recovery,
        profile: ctx.profile,
        ...profilesOf(pending.credentialsPath, pending.profiles, pending.configPath, pending.configProfiles),
        user: { arn: pending.userArn, name: pending.userName, account: pending.userArn.split(':')[4] ?? '' },
        oldKeyId: pending.oldKeyId,
        ...(recovery.outcome === 'finished' && pending.newKey ? { newKeyId: pending.newKey.accessKeyId, retired: pending.retire } : {}),
        plan: recovery.plan,
        steps: rt.steps.records,
        warnings: ctx.warnings,
      };
    }
    return await rotateWithContext(ctx, options, verify, rt);
  } finally {
    ctx.gateway.destroy();
  }
}

async function rotateWithContext(
  ctx: ProfileContext,
  options: RotateOptions,
  verify: VerifyOptions,
  rt: ProfileRuntime,
): Promise<RotateResult> {
  const { gateway } = ctx;
  const early = signsOwnCalls(ctx, options) ? inspectOwnKeys(gateway.iam(selfCredentialsOf(ctx)), ctx.key.accessKeyId) : undefined;
  const session = await rt.steps.run('identify', () => identify(ctx, options, rt), (s) => `${s.identity.arn}`);
  const iam = gateway.iam(session.iamCredentials);
  const keys = await rt.steps.run('inspect', () => inspectKeys(iam, ctx, session, early), (k) => plural(k.length, 'key'));

  const waiting = options.ifOlderThan ? notDue(keys.find((k) => k.accessKeyId === ctx.key.accessKeyId), options.ifOlderThan) : undefined;
  if (waiting) {
    const user = { arn: session.identity.arn, name: session.userName, account: session.identity.account };
    const held = profilesOf(ctx.credentialsPath, ctx.key.profiles, ctx.configPath, ctx.key.configProfiles);
    return { schemaVersion: 1, status: 'not-due', notDue: waiting, profile: ctx.profile, ...held, user, oldKeyId: ctx.key.accessKeyId, plan: [], steps: rt.steps.records, warnings: ctx.warnings };
  }
  const plan = await decidePlan(keys, ctx, session, options, rt);
  const planLines = options.keepOld ? describeStagedCreatePlan(plan) : describePlan(plan);
  const editsConfig = plan.configProfiles.length > 0;
  const base = {
    schemaVersion: 1 as const,
    profile: ctx.profile,
    ...profilesOf(ctx.credentialsPath, plan.profiles, editsConfig ? ctx.configPath : undefined, plan.configProfiles),
    user: { arn: session.identity.arn, name: session.userName, account: session.identity.account },
    oldKeyId: plan.currentKeyId,
    plan: planLines,
    warnings: ctx.warnings,
  };
  printPlan(rt, `Plan for ${session.identity.arn}:`, planLines);
  if (options.dryRun) {
    // What the real run checks before creating anything, checked here too: a dry run that passes means it.
    await rt.steps.run(
      'pre-flight',
      async () => {
        await checkBeforeRotation(ctx.credentialsPath);
        if (editsConfig) await checkConfigWritable(ctx.configPath);
      },
      () => `${editsConfig ? `${ctx.credentialsPath} and ${ctx.configPath}` : ctx.credentialsPath} can be written (nothing was changed)`,
    );
    return { ...base, status: 'planned', steps: rt.steps.records };
  }
  await confirmAction(options.yes, rt.prompter, 'Rotate now?', 'rotating');
  stopIfInterrupted(rt);

  await rt.steps.run(
    'pre-flight',
    async () => {
      await checkWritable(ctx.credentialsPath);
      if (editsConfig) await checkConfigWritable(ctx.configPath);
    },
    () => `${editsConfig ? `${ctx.credentialsPath} and ${ctx.configPath} are` : `${ctx.credentialsPath} is`} writable`,
  );
  // One lock for both files: the journal is the credentials file's, and so is the lock (see journal.ts).
  return rt.fileLock(ctx.credentialsPath, async () => {
    // Re-read under the lock: the files may have changed since they were first read.
    const replaced = [plan.currentKeyId, ...(plan.otherKey && plan.otherKeyHolders ? [plan.otherKey.accessKeyId] : [])];
    for (const [path, kind, planned] of [[ctx.credentialsPath, 'credentials', plan.profiles], [ctx.configPath, 'config', plan.configProfiles]] as const) {
      if (planned.length === 0) continue;
      const { doc } = await readCredentialsFile(path);
      const holders = replaced.flatMap((keyId) => findProfilesWithKey(doc, keyId, kind));
      const gone = planned.filter((p) => !holders.includes(p));
      if (gone.length > 0) {
        throw new ProfileError('CREDENTIALS_CHANGED', `${path} changed while aws-rekey was running: profile ${gone[0]} no longer holds the key it held.`, {
          hint: 'Nothing was changed. Run aws-rekey again.',
        });
      }
    }
    // A run that crashed since this one looked may have left a journal: never write over it.
    const pendingNow = findJournal(await readJournals(ctx.credentialsPath), namesOf(ctx), [ctx.key.accessKeyId]);
    if (pendingNow) {
      throw new RekeyError('ROTATION_PENDING', `Another aws-rekey run left an unfinished rotation of profile ${pendingNow.profile} while this one was starting.`, {
        hint: 'Nothing was changed. Run aws-rekey again: it finishes or undoes that rotation first.',
      });
    }

    const deletedOtherKeyId = await deleteOtherKey(iam, session.userName, plan.otherKey, rt);
    stopIfInterrupted(rt);

    const now = new Date(rt.timing.now()).toISOString();
    const journal: RotationJournal = {
      version: 1,
      profile: ctx.profile,
      profiles: plan.profiles,
      credentialsPath: ctx.credentialsPath,
      ...(editsConfig ? { configPath: ctx.configPath, configProfiles: plan.configProfiles } : {}),
      ...(replaced.length > 1 ? { alsoReplaces: replaced.slice(1) } : {}),
      userName: session.userName,
      userArn: session.identity.arn,
      oldKeyId: plan.currentKeyId,
      oldSecretAccessKey: ctx.key.secretAccessKey,
      keysBefore: [plan.currentKeyId],
      retire: plan.retire,
      ...(options.keepOld ? { keepOld: true } : {}),
      phase: 'creating',
      startedAt: now,
      updatedAt: now,
      ...(options.authProfile !== undefined ? { signedBy: options.authProfile } : {}),
    };
    const outcome = await rotateKey(profileRotation(ctx.gateway, iam, journal, verify, (newKey) => retireCandidates(session, newKey), rt, ctx.env), rt);
    return {
      ...base,
      status: outcome.status,
      newKeyId: outcome.newKey.accessKeyId,
      ...(outcome.status === 'rotated' ? { retired: plan.retire } : {}),
      ...(deletedOtherKeyId ? { deletedOtherKeyId } : {}),
      steps: rt.steps.records,
      ...(outcome.receipt?.backupPath ? { backupPath: outcome.receipt.backupPath } : {}),
      ...(outcome.receipt?.backupPaths ? { backupPaths: outcome.receipt.backupPaths } : {}),
    };
  });
}

/** Every profile name the rotation concerns, in either file (a profile is one name whichever file holds its key). */
function namesOf(ctx: ProfileContext): string[] {
  return [...new Set([...ctx.key.profiles, ...ctx.key.configProfiles])];
}

function profilesOf(credentialsPath: string, profiles: string[], configPath: string | undefined, configProfiles: string[] = []): { profiles: string[]; files: ProfileFile[] } {
  const files: ProfileFile[] = [];
  if (profiles.length > 0 || !configPath) files.push({ path: credentialsPath, kind: 'credentials', profiles });
  if (configPath && configProfiles.length > 0) files.push({ path: configPath, kind: 'config', profiles: configProfiles });
  return { profiles: [...new Set([...profiles, ...configProfiles])], files };
}

/** Retire the old key signed with the new key when the profile signs its own IAM calls: proof that it works for IAM too. */
function retireCandidates(session: Session, newCredentials: StaticCredentials): RetireCredentials[] {
  if (!session.selfAuth) return [{ credentials: session.iamCredentials, label: 'the IAM credentials' }];
  return [
    { credentials: newCredentials, label: 'the new key', fresh: true },
    { credentials: session.selfCredentials, label: 'the old key' },
  ];
}
