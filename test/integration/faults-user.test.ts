import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it, type TestContext } from 'vitest';
import { credentialsFile, makeHome, pairOf, startCli, type CliExit, type TempHome } from '../support/cli.js';
import { startFaultProxy, type Fault, type FaultProxy, type FaultRule } from '../support/fault-proxy.js';
import { DUMMY_CREDENTIALS, REGION, createUserWithKey, listKeys, uniqueName, type SeededUser } from '../support/iam.js';
import { readLocalState, setImmutable, waitFor, type JournalOnDisk, type StoredPair } from '../support/invariants.js';

/**
 * The fault matrix of the admin flow (`rotate --user`), for the two local destinations and the two remote
 * ones (Secrets Manager, SSM Parameter Store, with a fault on their own write too): a faulted run, a clean
 * follow-up run of the same command (it resumes from the journal), and the invariants of
 * docs/invariants.md checked from IAM (moto, read directly), the destination and the journal — no secret
 * lost, a working key always written down, no orphan key, the old key retired only after the new one works.
 */

const endpoint = inject('motoEndpoint');
const FAST = ['--verify-successes', '1', '--verify-timeout', '2'];
const services = { region: REGION, endpoint, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 };
const sm = new SecretsManagerClient(services);
const ssm = new SSMClient(services);

type DestinationKind = '--to-profile' | '--out' | '--to-secret' | '--to-parameter';

interface Scenario {
  admin: SeededUser;
  target: SeededUser;
  home: TempHome;
  proxy: FaultProxy;
  kind: DestinationKind;
  out: string;
  /** The secret's or parameter's name (`--to-secret`, `--to-parameter`); none exists before the run. */
  name: string;
  originalText: string;
}

async function setupScenario(ctx: TestContext, kind: DestinationKind): Promise<Scenario> {
  const proxy = await startFaultProxy(endpoint);
  ctx.onTestFinished(() => proxy.stop());
  const admin = await createUserWithKey(endpoint, uniqueName('admin'));
  const target = await createUserWithKey(endpoint, uniqueName('ci'));
  // The target's key sits in two profiles (both must end on one pair); the admin's and the comments must survive.
  const originalText = credentialsFile({
    admin: { ...pairOf(admin), comment: '# admin and the CI user' },
    ci: { ...pairOf(target), extra: 'region = eu-west-1\n' },
    'ci-alias': { ...pairOf(target), compact: true },
  });
  const home = await makeHome({ endpoint: proxy.endpoint, credentials: originalText });
  ctx.onTestFinished(async () => {
    await setImmutable(join(home.home, '.aws'), false).catch(() => undefined);
    await home.cleanup();
  });
  return { admin, target, home, proxy, kind, out: join(home.home, 'ci.credentials'), name: `/ci/${uniqueName('key')}`, originalText };
}

function args(s: Scenario): string[] {
  const destination = s.kind === '--to-profile' ? ['--to-profile', 'ci'] : s.kind === '--out' ? ['--out', s.out] : [s.kind, s.name];
  return ['rotate', '--user', s.target.userName, '--profile', 'admin', ...destination, '--yes', ...FAST];
}

/** The pair the destination holds, if any. */
async function delivered(s: Scenario): Promise<StoredPair | undefined> {
  if (s.kind === '--to-profile') {
    const local = await readLocalState(s.home.credentialsPath);
    const pair = local.profiles.get('ci');
    expect(local.profiles.get('ci-alias'), 'both profiles hold one pair').toEqual(pair);
    // Nothing but the rotated pair changed.
    if (pair) expect(local.text.replaceAll(pair.accessKeyId, s.target.accessKeyId).replaceAll(pair.secretAccessKey, s.target.secretAccessKey)).toBe(s.originalText);
    return pair;
  }
  if (s.kind === '--to-secret' || s.kind === '--to-parameter') {
    const value =
      s.kind === '--to-secret'
        ? await sm.send(new GetSecretValueCommand({ SecretId: s.name, VersionStage: 'AWSCURRENT' })).then((out) => out.SecretString, missing('ResourceNotFoundException'))
        : await ssm.send(new GetParameterCommand({ Name: s.name, WithDecryption: true })).then((out) => out.Parameter?.Value, missing('ParameterNotFound'));
    if (value === undefined) return undefined;
    const held = JSON.parse(value) as StoredPair;
    return { accessKeyId: held.accessKeyId, secretAccessKey: held.secretAccessKey };
  }
  const text = await readFile(s.out, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const match = /aws_access_key_id = (\S+)\naws_secret_access_key = (\S+)/.exec(text);
  return match ? { accessKeyId: match[1] ?? '', secretAccessKey: match[2] ?? '' } : undefined;
}

/** A rejection handler: `undefined` for the "no such thing" error, anything else thrown on. */
function missing(name: string): (error: unknown) => undefined {
  return (error) => {
    if ((error as Error).name === name) return undefined;
    throw error;
  };
}

type Outcome = 'rotated' | 'restored' | 'pending';

/** The recovery journals beside the admin's credentials file (the `.user-journal.json` ones, and any other), read without the product's code. */
async function journals(s: Scenario): Promise<JournalOnDisk[]> {
  return (await readLocalState(s.home.credentialsPath)).journals;
}

async function assertUserInvariants(s: Scenario, when: 'after-fault' | 'final'): Promise<Outcome> {
  const keys = await listKeys(endpoint, s.target.userName);
  const local = { journals: await journals(s) };
  const pair = await delivered(s);
  const status = (id: string | undefined) => keys.find((k) => k.accessKeyId === id)?.status;
  const seen = () => `IAM: ${JSON.stringify(keys.map((k) => [k.accessKeyId, k.status]))}; delivered: ${pair?.accessKeyId}; journals: ${JSON.stringify(local.journals.map((j) => [j.phase, j.newKey?.accessKeyId]))}`;
  const journaled = new Set(local.journals.flatMap((j) => (j.newKey ? [j.newKey.accessKeyId] : [])));
  for (const journal of local.journals) expect(journal.mode, 'journal mode').toBe(0o600);

  // (1) A working key is written down: the destination's key is active, or (nothing delivered yet) the old key is.
  const workingDelivered = pair !== undefined && status(pair.accessKeyId) === 'Active';
  const untouched = (pair === undefined || pair.accessKeyId === s.target.accessKeyId) && status(s.target.accessKeyId) === 'Active';
  expect(workingDelivered || untouched, `(1) a working key is written down. ${seen()}`).toBe(true);
  // (2) No created key's secret is lost.
  const creating = local.journals.find((j) => j.phase === 'creating');
  for (const key of keys) {
    if (key.accessKeyId === s.target.accessKeyId) continue;
    const known = pair?.accessKeyId === key.accessKeyId || journaled.has(key.accessKeyId) || (when === 'after-fault' && creating !== undefined);
    expect(known, `(2) created key ${key.accessKeyId} is kept or deleted. ${seen()}`).toBe(true);
  }
  // (3) The old key is retired only once the destination holds a working new key.
  if (status(s.target.accessKeyId) !== 'Active') {
    expect(pair?.accessKeyId, `(3) retired, so the destination holds the new key. ${seen()}`).not.toBe(s.target.accessKeyId);
    expect(workingDelivered, `(3) and it works. ${seen()}`).toBe(true);
  }

  const active = keys.filter((k) => k.status === 'Active').map((k) => k.accessKeyId);
  let outcome: Outcome = 'pending';
  if (local.journals.length === 0 && keys.length === 1 && active[0] === s.target.accessKeyId) outcome = 'restored';
  else if (local.journals.length === 0 && pair && pair.accessKeyId !== s.target.accessKeyId && active.length === 1 && active[0] === pair.accessKeyId) outcome = 'rotated';
  if (when === 'final') {
    // (4) Clean: no journal, one active key, nothing left behind.
    expect(local.journals, `(4) no journal left. ${seen()}`).toEqual([]);
    expect(outcome, `(4) rotated or restored. ${seen()}`).not.toBe('pending');
    if (outcome === 'rotated') expect(status(s.target.accessKeyId)).toBe('Inactive');
  }
  return outcome;
}

const STEPS: Record<string, { match: Pick<FaultRule, 'action' | 'newKey'>; retire?: 'delete' }> = {
  'inspect (ListAccessKeys)': { match: { action: 'ListAccessKeys' } },
  'create (CreateAccessKey)': { match: { action: 'CreateAccessKey' } },
  'verify (GetCallerIdentity, new key)': { match: { action: 'GetCallerIdentity', newKey: true } },
  'retire (UpdateAccessKey)': { match: { action: 'UpdateAccessKey' } },
};

type FaultName = 'error 500' | 'lost response' | 'stall + SIGKILL';

const FAULTS: Record<FaultName, Fault> = {
  'error 500': { kind: 'error', status: 500, code: 'InternalFailure', message: 'We encountered an internal error. Please try again.' },
  'lost response': { kind: 'drop-response' },
  'stall + SIGKILL': { kind: 'stall-response' },
};

/** 1: failed with nothing changed (or rolled back); 3: incomplete, journal left; 'killed'. */
function expectedExit(step: string, fault: FaultName): number | 'killed' {
  if (fault === 'stall + SIGKILL') return 'killed';
  return step.startsWith('retire') ? 3 : 1;
}

/** The remote destinations' own write (the secret or parameter does not exist yet): a fault there too. */
const WRITE_STEPS: Partial<Record<DestinationKind, Record<string, { match: Pick<FaultRule, 'action' | 'newKey'> }>>> = {
  '--to-secret': { 'write (CreateSecret)': { match: { action: 'CreateSecret' } } },
  '--to-parameter': { 'write (PutParameter)': { match: { action: 'PutParameter' } } },
};

const MATRIX = (['--to-profile', '--out', '--to-secret', '--to-parameter'] as const).flatMap((kind) =>
  Object.entries({ ...STEPS, ...WRITE_STEPS[kind] }).flatMap(([step, spec]) =>
    (Object.keys(FAULTS) as FaultName[]).map((fault) => ({ kind, step, fault, spec, exit: expectedExit(step, fault) })),
  ),
);

describe(`fault matrix of rotate --user: 4 destinations × ${Object.keys(STEPS).length} steps (+ the remote write) × ${Object.keys(FAULTS).length} faults = ${MATRIX.length} cases`, () => {
  it.concurrent.for(MATRIX)('$kind × $step × $fault', async ({ kind, step, fault, spec, exit }, ctx) => {
    const s = await setupScenario(ctx, kind);
    s.proxy.setRules([{ ...spec.match, fault: FAULTS[fault] }]);
    const isStep = (e: (typeof s.proxy.log)[number]) => e.action === spec.match.action && (spec.match.newKey !== true || ![s.admin.accessKeyId, s.target.accessKeyId].includes(e.accessKeyId));
    const cli = startCli(args(s), s.home.env);
    if (fault === 'stall + SIGKILL') {
      await waitFor(() => s.proxy.log.some((e) => isStep(e) && e.status === 'stalled'), `a stalled ${step} request`);
      cli.child.kill('SIGKILL');
    }
    const run: CliExit = await cli.done;
    expect(s.proxy.log.filter(isStep).length, `the fault was hit: ${step}`).toBeGreaterThan(0);
    if (exit === 'killed') {
      expect(run.signal).toBe('SIGKILL');
    } else {
      expect(run.code, run.stderr).toBe(exit);
      expect(run.stderr).toMatch(/error:/);
      expect(run.stdout + run.stderr).not.toContain(s.target.secretAccessKey);
    }
    await assertUserInvariants(s, 'after-fault');
    // The old key could not be retired: the new key works, and the admin's journal says so.
    if (exit === 3) expect((await journals(s)).map((j) => [j.kind, j.phase])).toEqual([['user', 'verified']]);

    s.proxy.setRules([]);
    const journalLeft = (await journals(s)).length > 0;
    const again = await startCli(args(s), s.home.env).done;
    expect(again.code, again.stderr).toBe(0);
    if (journalLeft) expect(again.stderr).toMatch(/did not finish/);
    const final = await assertUserInvariants(s, 'final');
    // A run that found a journal finishes or undoes it; otherwise it is a rotation of its own.
    if (!journalLeft) expect(final).toBe('rotated');
  });
});

describe('fault matrix of rotate --user: the delivery step', () => {
  it.concurrent.for(['--to-profile', '--out'] as const)('%s: the destination cannot be written after CreateAccessKey: undone, the new key deleted; the next run rotates', async (kind, ctx) => {
    const s = await setupScenario(ctx, kind);
    // Immutable, because chmod does not stop root. The journal folder (~/.aws/aws-rekey) stays writable.
    const folder = kind === '--out' ? s.home.home : join(s.home.home, '.aws');
    let armed = true;
    s.proxy.onRequest('CreateAccessKey', async () => {
      if (!armed) return;
      armed = false;
      await setImmutable(folder, true);
    });
    let run: CliExit;
    try {
      run = await startCli(args(s), s.home.env).done;
    } finally {
      await setImmutable(folder, false);
    }
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/could not be saved to .*, so it was deleted again/);
    expect((await listKeys(endpoint, s.target.userName)).map((k) => [k.accessKeyId, k.status])).toEqual([[s.target.accessKeyId, 'Active']]);
    expect(await assertUserInvariants(s, 'after-fault')).toBe('restored');

    const again = await startCli(args(s), s.home.env).done;
    expect(again.code, again.stderr).toBe(0);
    expect(await assertUserInvariants(s, 'final')).toBe('rotated');
  });
});
