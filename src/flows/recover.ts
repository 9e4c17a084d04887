import type { CredentialsInput } from '../aws/clients.js';
import type { IamApi } from '../aws/gateway.js';
import { maskKeyId } from '../core/mask.js';
import { nextCommand } from '../core/next-command.js';
import { describeHolders } from '../core/plan.js';
import type { StaticCredentials } from '../core/types.js';
import { findJournal, readJournals, type RotationJournal } from '../credentials/journal.js';
import { withFileLock } from '../credentials/store.js';
import { AwsError, RekeyError } from '../errors.js';
import { resumeRotation, type RetireCredentials } from '../rotation/lifecycle.js';
import type { StepRecord } from '../rotation/ports.js';
import { profileRotation } from '../rotation/profile-rotation.js';
import { createRuntime, mfaPrompt, printPlan, type RunDeps, type Runtime } from '../rotation/runtime.js';
import { DEFAULT_VERIFY_OPTIONS, type VerifyOptions } from '../rotation/verify.js';
import { openProfileContext, type ProfileContext } from '../session/profile-context.js';

export interface RecoverOptions {
  profile?: string;
  authProfile?: string;
  /** The current code of the MFA device the --auth-profile's role is assumed with (mfa_serial); asked for on a terminal otherwise. */
  mfaCode?: string;
  dryRun?: boolean;
  verify?: Partial<VerifyOptions>;
  env?: NodeJS.ProcessEnv;
}

export type RecoverDeps = RunDeps;

/**
 * `finished`: the new key is in the file and works, the old one is retired. `rolled-back`: the new key is
 * gone and the old key is in the file, still active. `clean`: there was nothing to do.
 */
export type RecoverOutcome = 'finished' | 'rolled-back' | 'clean';

export interface RecoverResult {
  schemaVersion: 1;
  outcome: RecoverOutcome;
  profile: string;
  phase?: RotationJournal['phase'];
  plan: string[];
  steps: StepRecord[];
  /** Keys that were created but whose secret never arrived, and were deleted. */
  deletedOrphans: string[];
}

/** Finish or undo an interrupted rotation of a profile, from its journal and IAM's state. */
export async function recoverProfile(options: RecoverOptions = {}, deps: RecoverDeps = {}): Promise<RecoverResult> {
  const rt = createRuntime(deps);
  const ctx = await openProfileContext({ profile: options.profile, authProfile: options.authProfile, env: options.env, mfaCode: options.mfaCode, mfaCodeProvider: mfaPrompt(rt.prompter) });
  try {
    for (const warning of ctx.warnings) rt.reporter.warn(warning);
    const journals = await readJournals(ctx.credentialsPath);
    const journal = findJournal(journals, ctx.key.profiles, [ctx.key.accessKeyId]);
    if (!journal) {
      rt.reporter.info(`No unfinished rotation of profile ${ctx.profile}: nothing to recover.`);
      return { schemaVersion: 1, outcome: 'clean', profile: ctx.profile, plan: [], steps: [], deletedOrphans: [] };
    }
    return await recoverWithContext(ctx, journal, { verify: { ...DEFAULT_VERIFY_OPTIONS, ...options.verify }, dryRun: options.dryRun ?? false }, rt);
  } finally {
    ctx.gateway.destroy();
  }
}

export interface RecoverSettings {
  verify: VerifyOptions;
  dryRun: boolean;
  yes?: boolean;
}

/** What recovery will do, from the journal's phase: a person reads this before it happens. */
export function describeRecovery(journal: RotationJournal): string[] {
  const newKey = journal.newKey ? maskKeyId(journal.newKey.accessKeyId) : 'the new key';
  const old = maskKeyId(journal.oldKeyId);
  switch (journal.phase) {
    case 'creating':
      return [`delete any key of ${journal.userName} created without its secret reaching us`, `keep ${old} active in the file`];
    case 'created':
    case 'written':
      return [
        `make sure ${describeJournalProfiles(journal)} hold ${newKey}`,
        `check that AWS accepts ${newKey}; if it does not, put ${old} back and delete ${newKey}`,
        journal.keepOld ? `keep the old key ${old} active (staged rotation: record it)` : `${journal.retire} the old key ${old}`,
      ];
    case 'verified':
      if (journal.keepOld) return [`keep the old key ${old} active and record the staged rotation (${newKey} is saved and works)`];
      return [`${journal.retire} the old key ${old} (${newKey} is saved and works)`];
  }
}

/** "profiles work, alias", and with a config file: "profiles work, alias in FILE and profile ci in FILE". */
function describeJournalProfiles(journal: RotationJournal): string {
  const holders = { credentials: journal.profiles, config: journal.configProfiles ?? [] };
  return describeHolders(holders, journal.configPath ? { credentials: journal.credentialsPath, config: journal.configPath } : undefined);
}

export async function recoverWithContext(ctx: ProfileContext, journal: RotationJournal, settings: RecoverSettings, rt: Runtime): Promise<RecoverResult> {
  const plan = describeRecovery(journal);
  const base = { schemaVersion: 1 as const, profile: journal.profile, phase: journal.phase, plan };
  printPlan(rt, `Unfinished rotation of ${journal.userArn} (started ${journal.startedAt}, stopped after '${journal.phase}'). Recovery:`, plan);
  if (settings.dryRun) return { ...base, outcome: 'clean', steps: rt.steps.records, deletedOrphans: [] };

  return withFileLock(journal.credentialsPath, async () => {
    // Read again under the lock: a run that held it may have finished or moved the rotation on meanwhile.
    const current = (await readJournals(journal.credentialsPath)).find((j) => j.profile === journal.profile);
    if (!current) {
      rt.reporter.info('Another aws-rekey run has finished it meanwhile: nothing left to do.');
      return { ...base, outcome: 'clean', steps: rt.steps.records, deletedOrphans: [] };
    }
    Object.assign(journal, current);
    const { iam, credentials } = await pickIamCredentials(ctx, journal);
    const retireWith = (newKey: StaticCredentials): RetireCredentials[] =>
      credentials !== undefined
        ? [{ credentials, label: 'the IAM credentials' }]
        : [
            { credentials: newKey, label: 'the new key', fresh: true },
            ...(journal.oldSecretAccessKey ? [{ credentials: { accessKeyId: journal.oldKeyId, secretAccessKey: journal.oldSecretAccessKey }, label: 'the old key' }] : []),
          ];
    const resumed = await resumeRotation(profileRotation(ctx.gateway, iam, journal, settings.verify, retireWith, rt, ctx.env), rt);
    const deletedOrphans = resumed.outcome === 'rolled-back' ? resumed.deletedOrphans : [];
    return { ...base, outcome: resumed.outcome, steps: rt.steps.records, deletedOrphans };
  });
}

/**
 * IAM calls during recovery: the --auth-profile's credentials if given, else whichever of the journal's
 * keys IAM still accepts (the new one first: the old one may already be inactive).
 */
async function pickIamCredentials(ctx: ProfileContext, journal: RotationJournal): Promise<{ iam: IamApi; credentials?: CredentialsInput }> {
  if (ctx.authCredentials) return { iam: ctx.gateway.iam(ctx.authCredentials), credentials: ctx.authCredentials };
  const candidates: StaticCredentials[] = [];
  if (journal.newKey) candidates.push({ ...journal.newKey });
  if (journal.oldSecretAccessKey) candidates.push({ accessKeyId: journal.oldKeyId, secretAccessKey: journal.oldSecretAccessKey });
  let lastError: unknown;
  for (const candidate of candidates) {
    const iam = ctx.gateway.iam(candidate);
    try {
      await iam.listAccessKeys(journal.userName);
      return { iam };
    } catch (error) {
      lastError = error;
      if (!(error instanceof AwsError) || (error.code !== 'INVALID_CREDENTIALS' && error.code !== 'ACCESS_DENIED')) throw error;
    }
  }
  throw new RekeyError('RECOVER_NO_CREDENTIALS', `Neither the new nor the old key of ${journal.userName} is accepted for IAM calls${lastError instanceof Error ? `: ${lastError.message}` : ''}.`, {
    hint: `Run ${nextCommand(['recover', '--profile', journal.profile], ctx.env)} --auth-profile ADMIN, where ADMIN is a profile allowed to manage ${journal.userName}'s keys.`,
  });
}
