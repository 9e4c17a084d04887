import type { CredentialsInput } from '../aws/clients.js';
import { confirmAction, createMutex, mfaPrompt } from '../rotation/runtime.js';
import { openAccountContext } from '../session/account-context.js';
import { chainByUser, groupProfilesByKey, skippedProfiles, staticKeyProfiles, worstExitCode, type ProfileGroup, type SkippedProfile } from '../core/many.js';
import type { AgeGate, NotDue } from '../core/due.js';
import { maskKeyId } from '../core/mask.js';
import type { RetireAction } from '../core/plan.js';
import { findStagedForProfile, listStaged } from '../credentials/staged-store.js';
import { readCredentialsFile, resolveConfigPath, resolveCredentialsPath, withFileLock } from '../credentials/store.js';
import { ExitCode, isRekeyError, UsageError } from '../errors.js';
import { mapBounded } from '../core/map-bounded.js';
import { noPrompter, silentReporter, type Prompter, type Reporter } from '../rotation/ports.js';
import { rotateProfile, type RotateResult } from './rotate-profile.js';
import { stagedInProgress } from './staged-guards.js';
import type { Timing } from '../rotation/timing.js';
import type { VerifyOptions } from '../rotation/verify.js';

export interface RotateManyOptions {
  /** Profile names, or every profile of the credentials file that holds a long-lived key. */
  profiles: string[] | 'all';
  /** Make every rotation's IAM calls with this profile's credentials. */
  authProfile?: string;
  /** The current code of the MFA device the --auth-profile's role is assumed with (mfa_serial); asked for on a terminal otherwise. */
  mfaCode?: string;
  deleteOld?: boolean;
  /** `--if-older-than DAYS`: profiles whose key is younger are left alone. */
  ifOlderThan?: AgeGate;
  dryRun?: boolean;
  yes?: boolean;
  verify?: Partial<VerifyOptions>;
  env?: NodeJS.ProcessEnv;
  /** Rotations of different users at once (default 4). */
  concurrency?: number;
}

export interface RotateManyDeps {
  prompter?: Prompter;
  reporter?: Reporter;
  timing?: Timing;
  signal?: AbortSignal;
}

export interface ManyEntry {
  /** The profiles named (or found by --all) that hold this key. */
  profiles: string[];
  /** `planned`: --dry-run; `recovered`: an earlier interrupted rotation was finished or undone instead. */
  /** `incomplete`: the new key is saved and works, the old key is still active (exit code 3). */
  /** `not-due`: --if-older-than found the key younger than that (`notDue` says until when); exit code 0. */
  status: 'rotated' | 'recovered' | 'planned' | 'failed' | 'incomplete' | 'skipped' | 'not-due';
  notDue?: NotDue;
  user?: { arn: string; name: string; account: string };
  oldKeyId?: string;
  newKeyId?: string;
  retired?: RetireAction;
  /** Every profile of the file that got the new key (named or not). */
  updatedProfiles?: string[];
  plan?: string[];
  error?: { code: string; message: string; hint?: string };
  exitCode: number;
}

export interface RotateManyResult {
  schemaVersion: 1;
  ok: boolean;
  /** 0 when every rotation succeeded, else the worst: 130 interrupted, 3 incomplete, 1 failed. */
  exitCode: number;
  credentialsPath: string;
  results: ManyEntry[];
  /** --all: the profiles of the file left alone because they hold no long-lived key, and why. */
  skipped: SkippedProfile[];
}

/**
 * Rotate several profiles in one run: profiles sharing a key are rotated once; the plans are made first
 * (side by side) and confirmed once; then different users rotate side by side, the rotations of one user
 * one after the other. They all write the same credentials file: this process holds its lock for the
 * whole run, and each edit re-reads the file under an in-process mutex. One failure stops nothing else.
 */
export async function rotateMany(options: RotateManyOptions, deps: RotateManyDeps = {}): Promise<RotateManyResult> {
  if (options.authProfile === undefined) return rotateEach(options, deps, undefined);
  // One set of --auth-profile credentials for every plan and rotation of the run: a role is assumed once, and
  // its MFA code asked for once, up front (a failure stops the run before any plan).
  const auth = await openAccountContext({ authProfile: options.authProfile, env: options.env, mfaCode: options.mfaCode, mfaCodeProvider: mfaPrompt(deps.prompter ?? noPrompter) });
  try {
    if (typeof auth.credentials === 'function') await auth.credentials();
    return await rotateEach(options, deps, auth.credentials);
  } finally {
    auth.destroy();
  }
}

async function rotateEach(options: RotateManyOptions, deps: RotateManyDeps, authCredentials: CredentialsInput | undefined): Promise<RotateManyResult> {
  const env = options.env ?? process.env;
  const reporter = deps.reporter ?? silentReporter;
  const credentialsPath = resolveCredentialsPath(env);
  const concurrency = options.concurrency ?? 4;
  const [file, config] = await Promise.all([readCredentialsFile(credentialsPath), readCredentialsFile(resolveConfigPath(env))]);
  const names = options.profiles === 'all' ? staticKeyProfiles(file.doc, config.doc) : options.profiles;
  const skipped = options.profiles === 'all' ? skippedProfiles(file.doc, config.doc) : [];
  const skippedText = skipped.map((p) => `${p.profile} (${p.reason})`).join(', ');
  if (names.length === 0) {
    throw new UsageError(
      `${credentialsPath} (nor ${resolveConfigPath(env)}) has no profile with a long-lived access key${skipped.length > 0 ? `; skipped: ${skippedText}` : ''}.`,
      'Nothing to rotate: temporary credentials expire on their own. Name a profile that holds an AKIA… key and its secret.',
      'NO_STATIC_PROFILES',
    );
  }
  if (skipped.length > 0) reporter.info(`Skipped ${skipped.length} ${skipped.length === 1 ? 'profile' : 'profiles'} without a long-lived key: ${skippedText}.`);
  const groups = groupProfilesByKey(file.doc, names, config.doc);
  const staged = await listStaged(credentialsPath);
  const warned = new Set<string>();
  const quiet = (group: ProfileGroup, withInfo: boolean) => prefixed(reporter, group.profiles.join(','), warned, withInfo);
  const shared = authCredentials === undefined ? {} : { authCredentials };
  const common = { authProfile: options.authProfile, deleteOld: options.deleteOld ?? false, ifOlderThan: options.ifOlderThan, verify: options.verify, env };

  // 1. Plans, side by side. No prompt: a refusal is reported, not negotiated.
  const planned = await mapBounded(groups, concurrency, async (group): Promise<{ group: ProfileGroup; entry: ManyEntry; recovery: boolean }> => {
    const inStaged = group.profiles.map((p) => findStagedForProfile(staged, p, group.accessKeyId ? [group.accessKeyId] : [])).find(Boolean);
    if (inStaged) {
      return {
        group,
        recovery: false,
        entry: failed(group, stagedInProgress(inStaged, env)),
      };
    }
    try {
      const result = await rotateProfile({ ...common, profile: group.profiles[0], dryRun: true, yes: options.yes }, { ...shared, reporter: quiet(group, true), prompter: noPrompter, signal: deps.signal });
      return { group, recovery: result.recovery !== undefined, entry: fromResult(group, result, result.status === 'not-due' ? 'not-due' : 'planned') };
    } catch (error) {
      return { group, recovery: false, entry: failed(group, error) };
    }
  });

  const runnable = planned.filter((p) => p.entry.status === 'planned');
  if (options.dryRun || runnable.length === 0) return finish(credentialsPath, planned.map((p) => p.entry), skipped);

  const refused = planned.filter((p) => p.entry.status === 'failed').length;
  const waiting = planned.filter((p) => p.entry.status === 'not-due').length;
  const aside = [refused ? `${refused} refused, see above` : '', waiting ? `${waiting} not due` : ''].filter(Boolean).join('; ');
  reporter.info(`${runnable.length} rotation${runnable.length > 1 ? 's' : ''} to run${aside ? ` (${aside})` : ''}:`);
  for (const p of runnable) reporter.info(`  ${p.group.profiles.join(', ')}  ${p.entry.user?.arn ?? ''}  ${p.entry.oldKeyId ? maskKeyId(p.entry.oldKeyId) : ''}${p.recovery ? '  (finish an interrupted rotation)' : ''}`);
  await confirmAction(options.yes, deps.prompter ?? noPrompter, `Rotate ${runnable.length === 1 ? 'it' : `these ${runnable.length}`} now?`, 'rotating');

  const results = new Map<ProfileGroup, ManyEntry>(planned.map((p) => [p.group, p.entry]));
  const run = async (group: ProfileGroup, runDeps: Parameters<typeof rotateProfile>[1]) => {
    if (deps.signal?.aborted) {
      results.set(group, { ...results.get(group)!, status: 'skipped', error: { code: 'INTERRUPTED', message: 'Interrupted before this rotation started.' }, exitCode: ExitCode.interrupted });
      return;
    }
    try {
      const result = await rotateProfile({ ...common, profile: group.profiles[0], yes: true }, { ...runDeps, ...shared, reporter: quiet(group, false), prompter: noPrompter, signal: deps.signal, timing: deps.timing });
      const status = result.status === 'recovered' || result.status === 'not-due' ? result.status : 'rotated';
      results.set(group, fromResult(group, result, status));
    } catch (error) {
      results.set(group, failed(group, error));
    }
  };

  // 2. Interrupted rotations first, one by one, each taking the lock itself (recovery does).
  for (const p of runnable.filter((r) => r.recovery)) await run(p.group, {});

  // 3. The rest: users side by side, under one lock for the whole file.
  const fresh = runnable.filter((r) => !r.recovery);
  if (fresh.length > 0) {
    const serializeFileEdit = createMutex();
    const fileLock = <T>(path: string, fn: () => Promise<T>): Promise<T> => (path === credentialsPath ? fn() : withFileLock(path, fn));
    await withFileLock(credentialsPath, async () => {
      const chains = chainByUser(fresh, (p) => p.entry.user?.arn);
      await mapBounded(chains, concurrency, async (chain) => {
        for (const p of chain) await run(p.group, { fileLock, serializeFileEdit });
      });
    });
  }
  return finish(credentialsPath, groups.map((g) => results.get(g)!), skipped);
}

function finish(credentialsPath: string, results: ManyEntry[], skipped: SkippedProfile[]): RotateManyResult {
  const exitCode = worstExitCode(results.map((r) => r.exitCode));
  return { schemaVersion: 1, ok: exitCode === ExitCode.ok, exitCode, credentialsPath, results, skipped };
}

function fromResult(group: ProfileGroup, result: RotateResult, status: ManyEntry['status']): ManyEntry {
  return {
    profiles: group.profiles,
    status,
    user: result.user,
    oldKeyId: result.oldKeyId,
    ...(result.newKeyId ? { newKeyId: result.newKeyId } : {}),
    ...(result.retired ? { retired: result.retired } : {}),
    ...(result.notDue ? { notDue: result.notDue } : { updatedProfiles: result.profiles }),
    plan: result.plan,
    exitCode: ExitCode.ok,
  };
}

function failed(group: ProfileGroup, error: unknown): ManyEntry {
  if (isRekeyError(error)) {
    return {
      profiles: group.profiles,
      status: error.exitCode === ExitCode.incomplete ? 'incomplete' : 'failed',
      ...(group.accessKeyId ? { oldKeyId: group.accessKeyId } : {}),
      error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
      exitCode: error.exitCode,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { profiles: group.profiles, status: 'failed', error: { code: 'INTERNAL', message }, exitCode: ExitCode.failure };
}

/** Lines of side-by-side rotations, told apart by their profile; a warning shared by all is shown once. */
function prefixed(reporter: Reporter, label: string, warned: Set<string>, withInfo: boolean): Reporter {
  return {
    info: (message) => {
      if (withInfo) reporter.info(`[${label}] ${message}`);
    },
    warn: (message) => {
      if (warned.has(message)) return;
      warned.add(message);
      reporter.warn(`[${label}] ${message}`);
    },
    step: (record) => reporter.step({ ...record, step: `[${label}] ${record.step}` }),
  };
}
