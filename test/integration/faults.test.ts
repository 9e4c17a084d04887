import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it, type TestContext } from 'vitest';
import { credentialsFile, makeHome, pairOf, startCli, type CliExit, type StartedCli, type TempHome } from '../support/cli.js';
import { startFaultProxy, type Fault, type FaultProxy, type FaultRule, type RequestLogEntry } from '../support/fault-proxy.js';
import { createUserWithKey, deleteAccessKey, listKeys, uniqueName, type SeededUser } from '../support/iam.js';
import { assertInvariants, readLocalState, setImmutable, waitFor, type Observation, type RotationSubject } from '../support/invariants.js';
import { recordsDir } from '../../src/credentials/records.js';

/**
 * Crash safety, proven by injecting faults between aws-rekey and a real IAM (moto): for each step of the
 * rotation and each kind of fault, a faulted run, then a clean follow-up run, then the four invariants
 * (docs/invariants.md) checked from IAM's state, the credentials file and the journal.
 */

const endpoint = inject('motoEndpoint');
const FAST = ['--verify-successes', '1', '--verify-timeout', '2'];

interface Scenario {
  user: SeededUser;
  home: TempHome;
  proxy: FaultProxy;
  awsDir: string;
  subject: RotationSubject;
}

/** The tests run concurrently: each cleans up after itself through its own context. */
async function setupScenario(ctx: TestContext, options: { retire?: 'deactivate' | 'delete'; singleProfile?: boolean; configFile?: boolean } = {}): Promise<Scenario> {
  const proxy = await startFaultProxy(endpoint);
  ctx.onTestFinished(() => proxy.stop());
  const user = await createUserWithKey(endpoint, uniqueName('fault'));
  // Two profiles hold the key (one with `singleProfile`); a third, unrelated one and the comments must survive everything.
  const originalText = credentialsFile({
    work: { ...pairOf(user), extra: 'region = eu-west-1\n', comment: '# managed by hand' },
    ...(options.singleProfile ? {} : { alias: { ...pairOf(user), compact: true } }),
    unrelated: { accessKeyId: 'AKIAUNRELATED0000000', secretAccessKey: 'unrelated-secret' },
  });
  const home = await makeHome({ endpoint: proxy.endpoint, credentials: originalText });
  const awsDir = join(home.home, '.aws');
  // `configFile`: the key is in a config file too (in a folder of its own, so that a test can stop its writes alone).
  const config = options.configFile ? { path: join(home.home, 'config-dir', 'config'), sections: ['profile ci'], originalText: credentialsFile({ 'profile ci': { ...pairOf(user), extra: 'region = eu-west-1\n', comment: '# config' }, 'profile other': { accessKeyId: 'AKIAUNRELATED0000000', secretAccessKey: 'unrelated-secret' } }) } : undefined;
  if (config) {
    await mkdir(join(home.home, 'config-dir'), { mode: 0o700 });
    await writeFile(config.path, config.originalText, { mode: 0o600 });
    home.env.AWS_CONFIG_FILE = config.path;
  }
  ctx.onTestFinished(async () => {
    // An immutable directory cannot be removed: undo a write fault before cleaning up.
    await setImmutable(await recordsDir(home.credentialsPath), false).catch(() => undefined);
    await setImmutable(awsDir, false).catch(() => undefined);
    if (config) await setImmutable(join(home.home, 'config-dir'), false).catch(() => undefined);
    await home.cleanup();
  });
  return {
    user,
    home,
    proxy,
    awsDir,
    subject: {
      target: endpoint,
      userName: user.userName,
      credentialsPath: home.credentialsPath,
      profiles: options.singleProfile ? ['work'] : ['work', 'alias'],
      old: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
      originalText,
      retire: options.retire ?? 'deactivate',
      log: proxy.log,
      ...(config ? { config } : {}),
    },
  };
}

function rotateArgs(s: Scenario, extra: string[] = []): string[] {
  return ['--profile', 'work', '--yes', ...FAST, ...(s.subject.retire === 'delete' ? ['--delete'] : []), ...extra];
}

async function rotate(s: Scenario, extra: string[] = []): Promise<CliExit> {
  return startCli(rotateArgs(s, extra), s.home.env).done;
}

/** Secrets go to their destination only: never to the terminal. */
async function expectNoSecrets(s: Scenario, run: CliExit): Promise<void> {
  const output = run.stdout + run.stderr;
  expect(output).not.toContain(s.user.secretAccessKey);
  for (const pair of (await readLocalState(s.home.credentialsPath)).profiles.values()) {
    if (pair.secretAccessKey) expect(output).not.toContain(pair.secretAccessKey);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The fault matrix: step × fault.

interface StepSpec {
  /** The requests of this step. `newKey`: signed with the key created by the run (verification). */
  match: Pick<FaultRule, 'action' | 'newKey'>;
  retire?: 'delete';
}

const STEPS: Record<string, StepSpec> = {
  'identify (GetCallerIdentity)': { match: { action: 'GetCallerIdentity', newKey: false } },
  'inspect (ListAccessKeys)': { match: { action: 'ListAccessKeys' } },
  'inspect (GetAccessKeyLastUsed)': { match: { action: 'GetAccessKeyLastUsed' } },
  'create (CreateAccessKey)': { match: { action: 'CreateAccessKey' } },
  'verify (GetCallerIdentity, new key)': { match: { action: 'GetCallerIdentity', newKey: true } },
  'retire (UpdateAccessKey)': { match: { action: 'UpdateAccessKey' } },
  'retire --delete (DeleteAccessKey)': { match: { action: 'DeleteAccessKey' }, retire: 'delete' },
};

type FaultName = 'error 500' | 'throttling' | 'lost response' | 'stall + SIGKILL';

const FAULTS: Record<FaultName, Fault> = {
  'error 500': { kind: 'error', status: 500, code: 'InternalFailure', message: 'We encountered an internal error. Please try again.' },
  throttling: { kind: 'error', status: 400, code: 'Throttling', message: 'Rate exceeded' },
  // Forwarded, then the connection is closed: the call happened, but its answer never arrives.
  'lost response': { kind: 'drop-response' },
  // Forwarded, then held: the CLI is killed while waiting for an answer to a call that happened.
  'stall + SIGKILL': { kind: 'stall-response' },
};

/** Exit code of the faulted run: 1 failed with nothing changed (or rolled back), 3 incomplete (journal left), 'killed'. */
const EXPECTED_EXIT: Record<string, Record<FaultName, number | 'killed'>> = {
  'identify (GetCallerIdentity)': { 'error 500': 1, throttling: 1, 'lost response': 1, 'stall + SIGKILL': 'killed' },
  'inspect (ListAccessKeys)': { 'error 500': 1, throttling: 1, 'lost response': 1, 'stall + SIGKILL': 'killed' },
  'inspect (GetAccessKeyLastUsed)': { 'error 500': 1, throttling: 1, 'lost response': 1, 'stall + SIGKILL': 'killed' },
  'create (CreateAccessKey)': { 'error 500': 1, throttling: 1, 'lost response': 1, 'stall + SIGKILL': 'killed' },
  'verify (GetCallerIdentity, new key)': { 'error 500': 1, throttling: 1, 'lost response': 1, 'stall + SIGKILL': 'killed' },
  'retire (UpdateAccessKey)': { 'error 500': 3, throttling: 3, 'lost response': 3, 'stall + SIGKILL': 'killed' },
  'retire --delete (DeleteAccessKey)': { 'error 500': 3, throttling: 3, 'lost response': 3, 'stall + SIGKILL': 'killed' },
};

const MATRIX = Object.entries(STEPS).flatMap(([step, spec]) =>
  (Object.keys(FAULTS) as FaultName[]).map((fault) => ({ step, fault, spec, exit: EXPECTED_EXIT[step]?.[fault] ?? 0 })),
);

function isStepRequest(s: Scenario, spec: StepSpec, entry: RequestLogEntry): boolean {
  if (entry.action !== spec.match.action) return false;
  if (spec.match.newKey === undefined) return true;
  return (entry.accessKeyId !== s.user.accessKeyId) === spec.match.newKey;
}

describe(`fault matrix: ${Object.keys(STEPS).length} steps × ${Object.keys(FAULTS).length} faults = ${MATRIX.length} cases`, () => {
  it.concurrent.for(MATRIX)('$step × $fault', (matrixCase, ctx) => runMatrixCase(ctx, matrixCase));
});

// The key in the credentials file and in the config file (issue 9.2): a rotation that edits two files.
const TWO_FILE_STEPS = ['create (CreateAccessKey)', 'verify (GetCallerIdentity, new key)', 'retire (UpdateAccessKey)'];
const TWO_FILE_MATRIX = MATRIX.filter(({ step, fault }) => TWO_FILE_STEPS.includes(step) && (fault === 'error 500' || fault === 'stall + SIGKILL'));

describe(`fault matrix, the key in both files: ${TWO_FILE_MATRIX.length} cases`, () => {
  it.concurrent.for(TWO_FILE_MATRIX)('$step × $fault', (matrixCase, ctx) => runMatrixCase(ctx, matrixCase, { configFile: true }));
});

async function runMatrixCase(ctx: TestContext, { step, fault, spec, exit }: (typeof MATRIX)[number], options: { configFile?: boolean } = {}): Promise<void> {
  const s = await setupScenario(ctx, { retire: spec.retire ?? 'deactivate', ...options });
  s.proxy.setRules([{ ...spec.match, fault: FAULTS[fault] }]);
  const cli = startCli(rotateArgs(s), s.home.env);
  if (fault === 'stall + SIGKILL') {
    await waitFor(() => s.proxy.log.some((e) => isStepRequest(s, spec, e) && e.status === 'stalled'), `a stalled ${step} request`);
    cli.child.kill('SIGKILL');
  }
  const run = await cli.done;
  const faulted = s.proxy.log.filter((e) => isStepRequest(s, spec, e));
  expect(faulted.length, `the fault was hit: ${step}`).toBeGreaterThan(0);
  if (exit === 'killed') {
    expect(run.signal).toBe('SIGKILL');
  } else {
    expect(run.code, run.stderr).toBe(exit);
    expect(run.stderr).toMatch(/error:/);
    await expectNoSecrets(s, run);
  }
  if (fault !== 'stall + SIGKILL' && step !== 'verify (GetCallerIdentity, new key)') {
    // Retries are bounded: the SDK's (3 attempts) for most calls, aws-rekey's own for CreateAccessKey.
    expect(faulted.length, `requests for ${step}`).toBeLessThanOrEqual(step === 'create (CreateAccessKey)' ? 3 : 6);
  }
  await assertInvariants(s.subject, 'after-fault');

  s.proxy.setRules([]);
  const journalLeft = (await readLocalState(s.home.credentialsPath)).journals.length > 0;
  if (fault === 'stall + SIGKILL') {
    const recovered = await startCli(['recover', '--profile', 'work', '--json', ...FAST], s.home.env).done;
    expect(recovered.code, recovered.stderr).toBe(0);
    const doc = JSON.parse(recovered.stdout) as { ok: boolean; outcome: string };
    expect(doc.ok).toBe(true);
    expect(doc.outcome).toEqual(journalLeft ? expect.stringMatching(/^(finished|rolled-back)$/) : 'clean');
  } else {
    const again = await rotate(s);
    expect(again.code, again.stderr).toBe(0);
    if (journalLeft) expect(again.stderr).toMatch(/did not finish/);
    await expectNoSecrets(s, again);
  }
  await assertInvariants(s.subject, 'final');
}

// ---------------------------------------------------------------------------------------------------------
// Rollback when one profile holds the key: the file is restored even though only one profile changed.

const SINGLE_PROFILE_ROLLBACKS: Array<{ name: string; rules?: FaultRule[]; newKeyDelay?: number }> = [
  ...(['error 500', 'throttling', 'lost response'] as const).map((fault) => ({
    name: `verify (GetCallerIdentity, new key) × ${fault}`,
    rules: [{ action: 'GetCallerIdentity', newKey: true, fault: FAULTS[fault] }],
  })),
  { name: 'a new key that propagates slower than --verify-timeout', newKeyDelay: 120_000 },
];

describe('rollback with a single profile', () => {
  it.concurrent.for(SINGLE_PROFILE_ROLLBACKS)('$name: file restored, new key deleted, old key active', async ({ rules, newKeyDelay }, ctx) => {
    const s = await setupScenario(ctx, { singleProfile: true });
    if (rules) s.proxy.setRules(rules);
    if (newKeyDelay) s.proxy.setNewKeyDelay(newKeyDelay);
    const run = await rotate(s);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/undone/);
    expect(run.stderr).toMatch(/old key is still active/);
    await expectNoSecrets(s, run);
    // The one profile was written with the new key, then put back: byte for byte what it was.
    expect(s.proxy.log.some((e) => e.action === 'GetCallerIdentity' && e.accessKeyId !== s.user.accessKeyId)).toBe(true);
    expect(await s.home.readCredentials()).toBe(s.subject.originalText);
    expect((await listKeys(endpoint, s.user.userName)).map((k) => [k.accessKeyId, k.status])).toEqual([[s.user.accessKeyId, 'Active']]);
    expect((await assertInvariants(s.subject, 'final')).outcome).toBe('restored');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Recovery's own failures: an interrupted rotation (journal 'written', the file holding the new key), then
// `aws-rekey recover` meets a deleted new key, a key that never works, or a rollback that cannot finish.

interface RecoverDoc {
  ok: boolean;
  outcome?: string;
  steps?: Array<{ step: string; status: string; detail?: string }>;
  error?: { code: string; message: string; hint?: string; exitCode: number };
}

/**
 * A signal while the new key is being verified (it never propagates): exit 130, the journal says 'written',
 * the file holds the new key, the old key is still active.
 */
async function interruptDuringVerify(
  s: Scenario,
  signal: 'SIGINT' | 'SIGTERM' = 'SIGINT',
): Promise<{ run: CliExit; after: Observation; newKeyId: string; verifiesAfterSignal: number }> {
  s.proxy.setNewKeyDelay(120_000);
  const cli = startCli(rotateArgs(s, ['--verify-timeout', '60']), s.home.env);
  const verifies = () => s.proxy.log.filter((e) => e.action === 'GetCallerIdentity' && e.accessKeyId !== s.user.accessKeyId);
  await waitFor(() => verifies().some((e) => e.status === 403), 'a rejected verification');
  const before = verifies().length;
  cli.child.kill(signal);
  const run = await cli.done;
  expect(run.code, run.stderr).toBe(130);
  const after = await assertInvariants(s.subject, 'after-fault');
  expect(after.local.journals.map((j) => j.phase)).toEqual(['written']);
  expect(after.fileKey.accessKeyId).not.toBe(s.user.accessKeyId);
  expect(after.keys.find((k) => k.accessKeyId === s.user.accessKeyId)?.status).toBe('Active');
  return { run, after, newKeyId: after.fileKey.accessKeyId, verifiesAfterSignal: verifies().length - before };
}

async function recover(s: Scenario): Promise<{ run: CliExit; doc: RecoverDoc }> {
  const run = await startCli(['recover', '--profile', 'work', '--json', ...FAST], s.home.env).done;
  await expectNoSecrets(s, run);
  return { run, doc: JSON.parse(run.stdout) as RecoverDoc };
}

describe('recover: its error paths', () => {
  it.concurrent('the new key was deleted meanwhile (NEW_KEY_GONE): the old key goes back in the file, the journal is cleared', async (ctx) => {
    const s = await setupScenario(ctx);
    const { newKeyId } = await interruptDuringVerify(s);
    await deleteAccessKey(endpoint, s.user.userName, newKeyId);
    s.proxy.setNewKeyDelay(0);
    const { run, doc } = await recover(s);
    expect(run.code, run.stderr).toBe(0);
    expect(doc.outcome).toBe('rolled-back');
    expect(doc.steps).toContainEqual(expect.objectContaining({ step: 'rollback', status: 'done', detail: expect.stringContaining('work, alias hold') }));
    // Nothing to delete: the key is gone already, and nothing tried to verify it.
    expect(doc.steps?.map((r) => r.step)).not.toContain('verify');
    expect(await s.home.readCredentials()).toBe(s.subject.originalText);
    const final = await assertInvariants(s.subject, 'final');
    expect(final.outcome).toBe('restored');
    expect(final.keys.map((k) => [k.accessKeyId, k.status])).toEqual([[s.user.accessKeyId, 'Active']]);
  });

  it.concurrent('the new key still does not work when recovering: rolled back (file restored, new key deleted)', async (ctx) => {
    const s = await setupScenario(ctx, { singleProfile: true });
    const { newKeyId } = await interruptDuringVerify(s);
    const before = s.proxy.log.length;
    const { run, doc } = await recover(s);
    expect(run.code, run.stderr).toBe(0);
    expect(doc.outcome).toBe('rolled-back');
    expect(doc.steps).toContainEqual(expect.objectContaining({ step: 'verify', status: 'failed' }));
    // Recovery verified again (and failed) before it undid anything.
    const verifies = s.proxy.log.slice(before).filter((e) => e.action === 'GetCallerIdentity' && e.accessKeyId === newKeyId);
    expect(verifies.length).toBeGreaterThan(0);
    expect(verifies.every((e) => e.status === 403)).toBe(true);
    expect(s.proxy.log.slice(before).filter((e) => e.action === 'DeleteAccessKey').map((e) => e.params.AccessKeyId)).toEqual([newKeyId]);
    expect(await s.home.readCredentials()).toBe(s.subject.originalText);
    expect((await assertInvariants(s.subject, 'final')).outcome).toBe('restored');
  });

  const INCOMPLETE = [
    { name: 'deleting the new key fails', fault: 'delete' as const, message: /deleting the new key .* failed/ },
    { name: 'putting the old key back in the file fails', fault: 'write' as const, message: /putting the old key back in .* failed/ },
  ];
  it.concurrent.for(INCOMPLETE)('the rollback cannot finish ($name): ROLLBACK_INCOMPLETE, exit 3, the journal kept; the next recover finishes it', async ({ fault, message }, ctx) => {
    const s = await setupScenario(ctx);
    const { newKeyId } = await interruptDuringVerify(s);
    if (fault === 'delete') {
      s.proxy.setRules([{ action: 'DeleteAccessKey', fault: FAULTS['error 500'] }]);
    } else {
      // Once recover holds the lock (its first IAM call comes after), ~/.aws stops taking new files.
      let armed = true;
      s.proxy.onRequest('ListAccessKeys', async () => {
        if (!armed) return;
        armed = false;
        await setImmutable(s.awsDir, true);
      });
    }
    let failed: Awaited<ReturnType<typeof recover>>;
    try {
      failed = await recover(s);
    } finally {
      await setImmutable(s.awsDir, false);
    }
    expect(failed.run.code, failed.run.stderr).toBe(3);
    expect(failed.doc.ok).toBe(false);
    expect(failed.doc.error).toMatchObject({ code: 'ROLLBACK_INCOMPLETE', exitCode: 3, message: expect.stringMatching(message), hint: expect.stringContaining('aws-rekey recover --profile work') });
    const after = await assertInvariants(s.subject, 'after-fault');
    // Whatever the file holds is active, and the journal still has both secrets for the next run.
    expect(after.local.journals).toHaveLength(1);
    expect(after.keys.find((k) => k.accessKeyId === after.fileKey.accessKeyId)?.status).toBe('Active');
    expect(after.keys.map((k) => k.accessKeyId)).toContain(newKeyId);

    s.proxy.setRules([]);
    const again = await recover(s);
    expect(again.run.code, again.run.stderr).toBe(0);
    expect(again.doc.outcome).toBe('rolled-back');
    const final = await assertInvariants(s.subject, 'final');
    expect(final.outcome).toBe('restored');
    expect(final.keys.map((k) => k.accessKeyId)).toEqual([s.user.accessKeyId]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The file write step: the local side fails instead of AWS.

const WRITE_CASES = [
  { name: 'the credentials directory becomes unwritable after CreateAccessKey', journalToo: false, kill: false },
  { name: 'the credentials and journal directories become unwritable after CreateAccessKey', journalToo: true, kill: false },
  { name: 'SIGKILL as soon as CreateAccessKey has answered', journalToo: false, kill: true },
];

describe(`fault matrix: write step × ${WRITE_CASES.length} faults`, () => {
  it.concurrent.for(WRITE_CASES)('write × $name', async ({ journalToo, kill }, ctx) => {
    const s = await setupScenario(ctx);
    // Hooks stay on the proxy: the faulted run clears `running` so the follow-up run goes unharmed.
    const running: { cli?: StartedCli } = {};
    if (kill) {
      s.proxy.onResponse('CreateAccessKey', () => {
        running.cli?.child.kill('SIGKILL');
      });
    } else {
      // Immutable, because chmod does not stop root. The journal folder already exists (phase 'creating').
      let armed = true;
      s.proxy.onRequest('CreateAccessKey', async () => {
        if (!armed) return;
        armed = false;
        await setImmutable(s.awsDir, true);
        if (journalToo) await setImmutable(await recordsDir(s.home.credentialsPath), true);
      });
    }
    running.cli = startCli(rotateArgs(s), s.home.env);
    const run = await running.cli.done;
    delete running.cli;
    try {
      if (kill) {
        expect(run.signal).toBe('SIGKILL');
      } else {
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toMatch(/could not be saved|was undone/);
        expect(run.stderr).toMatch(/deleted/);
        await expectNoSecrets(s, run);
        // The new key was deleted again at once: the user is where they started.
        expect((await listKeys(endpoint, s.user.userName)).map((k) => k.accessKeyId)).toEqual([s.user.accessKeyId]);
      }
      await assertInvariants(s.subject, 'after-fault');
    } finally {
      await setImmutable(await recordsDir(s.home.credentialsPath), false).catch(() => undefined);
      await setImmutable(s.awsDir, false);
    }
    const again = await rotate(s);
    expect(again.code, again.stderr).toBe(0);
    await assertInvariants(s.subject, 'final');
  });
});

// ---------------------------------------------------------------------------------------------------------
// The write step of a rotation that edits two files (issue 9.2): the credentials file first, then the config file.

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; !(await check()); tries += 1) {
    if (tries > 1000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('write step, the key in both files', () => {
  it.concurrent('SIGKILL between the two writes: the credentials file holds the new key, the config file the old one; the next run finishes both', async (ctx) => {
    const s = await setupScenario(ctx, { configFile: true });
    const config = s.subject.config!;
    // Every read of the config file before CreateAccessKey is done; from then on, a named pipe in its place
    // holds the run at the config file's write (opening a pipe waits for a writer), after the credentials file's.
    s.proxy.onRequest('CreateAccessKey', async () => {
      await rm(config.path);
      expect(spawnSync('mkfifo', [config.path]).status).toBe(0);
    });
    const cli = startCli(rotateArgs(s), s.home.env);
    await until(async () => !(await s.home.readCredentials()).includes(s.user.accessKeyId), 'the credentials file to hold the new key');
    cli.child.kill('SIGKILL');
    expect((await cli.done).signal).toBe('SIGKILL');
    // As a crash there leaves it: the config file untouched.
    await rm(config.path);
    await writeFile(config.path, config.originalText, { mode: 0o600 });

    const after = await assertInvariants(s.subject, 'after-fault');
    expect(after.fileKey.accessKeyId).not.toBe(s.user.accessKeyId);
    expect(after.local.journals.map((j) => j.phase)).toEqual(['created']);
    const again = await rotate(s);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/did not finish/);
    await expectNoSecrets(s, again);
    const final = await assertInvariants(s.subject, 'final');
    expect(final.outcome).toBe('rotated');
    expect(await readFile(config.path, 'utf8')).toContain(final.fileKey.accessKeyId);
  });

  it.concurrent('the config file cannot be written after CreateAccessKey: the credentials file, already written, is put back and the new key deleted', async (ctx) => {
    const s = await setupScenario(ctx, { configFile: true });
    const configDir = join(s.home.home, 'config-dir');
    let armed = true;
    s.proxy.onRequest('CreateAccessKey', async () => {
      if (!armed) return;
      armed = false;
      await setImmutable(configDir, true);
    });
    const run = await rotate(s);
    try {
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/could not be saved/);
      await expectNoSecrets(s, run);
      expect(await s.home.readCredentials()).toBe(s.subject.originalText);
      expect((await listKeys(endpoint, s.user.userName)).map((k) => [k.accessKeyId, k.status])).toEqual([[s.user.accessKeyId, 'Active']]);
      expect((await assertInvariants(s.subject, 'after-fault')).outcome).toBe('restored');
    } finally {
      await setImmutable(configDir, false);
    }
    const again = await rotate(s);
    expect(again.code, again.stderr).toBe(0);
    expect((await assertInvariants(s.subject, 'final')).outcome).toBe('rotated');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Transient faults: retried (by the SDK, or by aws-rekey for CreateAccessKey), bounded, and the run succeeds.

const TRANSIENT = [
  { name: 'throttling ×2 on ListAccessKeys (SDK retry)', rule: { action: 'ListAccessKeys', times: 2, fault: FAULTS.throttling }, action: 'ListAccessKeys', requests: 3 },
  { name: 'error 500 ×2 on identify (SDK retry)', rule: { action: 'GetCallerIdentity', newKey: false, times: 2, fault: FAULTS['error 500'] }, action: 'GetCallerIdentity', requests: 4 },
  { name: 'lost response ×1 on UpdateAccessKey (SDK retry, idempotent)', rule: { action: 'UpdateAccessKey', times: 1, fault: FAULTS['lost response'] }, action: 'UpdateAccessKey', requests: 2 },
  { name: 'throttling ×1 on CreateAccessKey (aws-rekey retries: nothing was created)', rule: { action: 'CreateAccessKey', times: 1, fault: FAULTS.throttling }, action: 'CreateAccessKey', requests: 2 },
  { name: 'error 500 ×1 on CreateAccessKey (aws-rekey looks for an orphan, retries once)', rule: { action: 'CreateAccessKey', times: 1, fault: FAULTS['error 500'] }, action: 'CreateAccessKey', requests: 2 },
  { name: 'lost response ×1 on CreateAccessKey (the orphan is deleted, retried once)', rule: { action: 'CreateAccessKey', times: 1, fault: FAULTS['lost response'] }, action: 'CreateAccessKey', requests: 2 },
  {
    name: 'lost response ×1 on DeleteAccessKey with --delete (the retry finds the key gone: done)',
    rule: { action: 'DeleteAccessKey', times: 1, fault: FAULTS['lost response'] },
    action: 'DeleteAccessKey',
    requests: 2,
    retire: 'delete' as const,
  },
] satisfies Array<{ name: string; rule: FaultRule; action: string; requests: number; retire?: 'delete' }>;

describe('transient faults are retried, bounded, and the rotation succeeds', () => {
  it.concurrent.for(TRANSIENT)('$name', async ({ rule, action, requests, ...rest }, ctx) => {
    const s = await setupScenario(ctx, { retire: 'retire' in rest ? rest.retire : 'deactivate' });
    s.proxy.setRules([rule]);
    const run = await rotate(s);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('Rotated the access key');
    // identify makes one GetCallerIdentity, verify one more (--verify-successes 1).
    expect(s.proxy.log.filter((e) => e.action === action)).toHaveLength(requests);
    const final = await assertInvariants(s.subject, 'final');
    expect(final.outcome).toBe('rotated');
    if (rule.action === 'CreateAccessKey' && rule.fault.kind === 'drop-response') {
      // The first key was created, its secret lost: it was found and deleted before the second try.
      const deletes = s.proxy.log.filter((e) => e.action === 'DeleteAccessKey');
      expect(deletes).toHaveLength(1);
      expect(deletes[0]?.params.AccessKeyId).not.toBe(final.fileKey.accessKeyId);
      expect(run.stderr).toMatch(/orphan|secret never/);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('two faults at once', () => {
  it.concurrent('CreateAccessKey loses its answer and the look for the orphan fails too: the journal is kept, recover deletes the orphan', async (ctx) => {
    const s = await setupScenario(ctx);
    s.proxy.setRules([
      { action: 'CreateAccessKey', fault: FAULTS['lost response'] },
      // The first ListAccessKeys (inspect) passes; the ones that look for an orphan fail.
      { action: 'ListAccessKeys', after: 1, fault: FAULTS['error 500'] },
    ]);
    const run = await rotate(s);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/may have created/);
    expect(run.stderr).toMatch(/aws-rekey recover/);
    const after = await assertInvariants(s.subject, 'after-fault');
    // The orphan exists, and the journal says a key may have been created.
    expect(after.keys).toHaveLength(2);
    expect(after.local.journals.map((j) => j.phase)).toEqual(['creating']);

    s.proxy.setRules([]);
    const recovered = await startCli(['recover', '--profile', 'work', '--json', ...FAST], s.home.env).done;
    expect(recovered.code, recovered.stderr).toBe(0);
    const doc = JSON.parse(recovered.stdout) as { outcome: string; deletedOrphans: string[] };
    expect(doc.outcome).toBe('rolled-back');
    expect(doc.deletedOrphans).toHaveLength(1);
    expect(doc.deletedOrphans[0]).not.toBe(s.user.accessKeyId);
    expect((await assertInvariants(s.subject, 'final')).outcome).toBe('restored');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('propagation, signals, concurrency, locks', () => {
  it.concurrent('a new key that propagates slower than --verify-timeout is rolled back: file restored, new key deleted, old key active', async (ctx) => {
    const s = await setupScenario(ctx);
    s.proxy.setNewKeyDelay(120_000);
    const run = await rotate(s);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/undone/);
    expect(run.stderr).toMatch(/did not accept the new key/);
    expect(run.stderr).toMatch(/old key is still active/);
    expect(await s.home.readCredentials()).toBe(s.subject.originalText);
    const keys = await listKeys(endpoint, s.user.userName);
    expect(keys.map((k) => [k.accessKeyId, k.status])).toEqual([[s.user.accessKeyId, 'Active']]);
    const verifies = s.proxy.log.filter((e) => e.action === 'GetCallerIdentity' && e.accessKeyId !== s.user.accessKeyId);
    expect(verifies.length).toBeGreaterThan(1);
    expect(verifies.every((e) => e.status === 403)).toBe(true);
    const final = await assertInvariants(s.subject, 'final');
    expect(final.outcome).toBe('restored');
  });

  it.concurrent('a propagation delay shorter than --verify-timeout is waited out', async (ctx) => {
    const s = await setupScenario(ctx);
    s.proxy.setNewKeyDelay(1_500);
    const run = await rotate(s, ['--verify-timeout', '10']);
    expect(run.code, run.stderr).toBe(0);
    const verifies = s.proxy.log.filter((e) => e.action === 'GetCallerIdentity' && e.accessKeyId !== s.user.accessKeyId);
    expect(verifies.some((e) => e.status === 403)).toBe(true);
    expect(verifies.at(-1)?.status).toBe(200);
    expect((await assertInvariants(s.subject, 'final')).outcome).toBe('rotated');
  });

  it.concurrent.for(['SIGINT', 'SIGTERM'] as const)('%s during verify: exit 130, journal left, the next run finishes', async (signal, ctx) => {
    const s = await setupScenario(ctx);
    const { run, verifiesAfterSignal } = await interruptDuringVerify(s, signal);
    // It stopped at the signal, not after the 60 s of --verify-timeout: no more than the call already under way.
    expect(verifiesAfterSignal).toBeLessThanOrEqual(1);
    expect(run.stderr).toContain(`${signal}: stopping after the current step`);
    expect(run.stderr).toMatch(/aws-rekey recover --profile work/);
    // Any run on the profile tells about the unfinished rotation, even one that only lists keys.
    s.proxy.setNewKeyDelay(0);
    const listed = await startCli(['keys', '--profile', 'work', '--json'], s.home.env).done;
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).toMatch(/did not finish.*aws-rekey recover --profile work/);

    const again = await rotate(s);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/did not finish/);
    expect(again.stderr).toMatch(/finished/);
    expect((await assertInvariants(s.subject, 'final')).outcome).toBe('rotated');
  });

  it.concurrent('a second SIGINT while a step hangs stops at once (exit 130); recover cleans up', async (ctx) => {
    const s = await setupScenario(ctx);
    // CreateAccessKey is carried out, but its answer never comes: the step cannot finish.
    s.proxy.setRules([{ action: 'CreateAccessKey', times: 1, fault: { kind: 'stall-response' } }]);
    const cli = startCli(rotateArgs(s), s.home.env);
    await waitFor(() => s.proxy.log.some((e) => e.action === 'CreateAccessKey' && e.status === 'stalled'), 'a hanging CreateAccessKey');
    cli.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toContain('SIGINT: stopping after the current step');
    expect(run.stderr).toMatch(/SIGINT again: stopping now/);
    const after = await assertInvariants(s.subject, 'after-fault');
    expect(after.local.journals.map((j) => j.phase)).toEqual(['creating']);

    const recovered = await startCli(['recover', '--profile', 'work', '--json', ...FAST], s.home.env).done;
    expect(recovered.code, recovered.stderr).toBe(0);
    const final = await assertInvariants(s.subject, 'final');
    expect(final.keys.map((k) => k.accessKeyId)).toEqual([s.user.accessKeyId]);
  });

  it.concurrent('two runs on the same file: while one is inside the rotation, the other refuses cleanly; the first finishes', async (ctx) => {
    const s = await setupScenario(ctx);
    // Hold the first run inside the rotation (at CreateAccessKey, under the lock) until the second is done.
    let secondDone!: () => void;
    const second = new Promise<void>((resolve) => (secondDone = resolve));
    let armed = true;
    s.proxy.onRequest('CreateAccessKey', async () => {
      if (!armed) return;
      armed = false;
      await second;
    });
    const first = startCli(rotateArgs(s), s.home.env);
    await waitFor(() => s.proxy.log.some((e) => e.action === 'CreateAccessKey'), 'the first run to reach CreateAccessKey');
    const other = await rotate(s);
    secondDone();
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    expect(other.code, other.stderr).toBe(1);
    expect(other.stderr).toMatch(/Another aws-rekey run is using .*\(process \d+ on /);
    expect(s.proxy.log.filter((e) => e.action === 'CreateAccessKey')).toHaveLength(1);
    expect((await assertInvariants(s.subject, 'final')).outcome).toBe('rotated');
  });

  it.concurrent('the lock of a run killed while holding it is taken over at once, not after it goes stale', async (ctx) => {
    const s = await setupScenario(ctx);
    s.proxy.setRules([{ action: 'CreateAccessKey', fault: { kind: 'stall' } }]);
    const cli = startCli(rotateArgs(s), s.home.env);
    await waitFor(() => s.proxy.log.some((e) => e.action === 'CreateAccessKey' && e.status === 'stalled'), 'a stalled CreateAccessKey');
    cli.child.kill('SIGKILL');
    expect((await cli.done).signal).toBe('SIGKILL');
    const lock = `${s.home.credentialsPath}.aws-rekey.lock`;
    expect((await stat(lock)).isDirectory()).toBe(true);

    // A lock touched in the future never goes stale: only the dead owner's note lets the next run take it over.
    const future = new Date(Date.now() + 60 * 60_000);
    await utimes(lock, future, future);
    s.proxy.setRules([]);
    const again = await rotate(s);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/did not finish/);
    await expect(stat(lock)).rejects.toThrow(/ENOENT/);
    expect((await assertInvariants(s.subject, 'final')).outcome).toBe('restored');
    const third = await rotate(s);
    expect(third.code, third.stderr).toBe(0);
    expect((await assertInvariants(s.subject, 'final')).outcome).toBe('rotated');
  });

  it.concurrent('a lock nobody has refreshed for a long time is taken over', async (ctx) => {
    const s = await setupScenario(ctx);
    const lock = `${s.home.credentialsPath}.aws-rekey.lock`;
    await mkdir(lock);
    const old = new Date(Date.now() - 5 * 60_000);
    await utimes(lock, old, old);
    const run = await rotate(s);
    expect(run.code, run.stderr).toBe(0);
    expect((await assertInvariants(s.subject, 'final')).outcome).toBe('rotated');
  });

  it.concurrent('a fresh lock is respected: refused, nothing changed', async (ctx) => {
    const s = await setupScenario(ctx);
    const lock = `${s.home.credentialsPath}.aws-rekey.lock`;
    await mkdir(lock);
    const run = await rotate(s);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Another aws-rekey run is using/);
    expect(s.proxy.log.filter((e) => e.action === 'CreateAccessKey')).toHaveLength(0);
    expect(await s.home.readCredentials()).toBe(s.subject.originalText);
    expect((await listKeys(endpoint, s.user.userName)).map((k) => k.accessKeyId)).toEqual([s.user.accessKeyId]);
  });
});
