import { CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ListUserTagsCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerHandler } from '../../src/lambda/worker.js';
import type { AccountOutcome } from '../../src/org/worker.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { DUMMY_CREDENTIALS, REGION } from '../support/iam.js';
import { startMoto, type MotoHandle } from '../support/moto.js';
import { accountIam, createOrganization, createQueuesAndTopic, drainQueue, keysOf, seedUsers, type Queues } from '../support/org.js';
import { freshReportRewrite, startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';

/**
 * The enforce worker under faults, against moto through the fault proxy: throttling, a lost CreateAccessKey
 * answer, a lost CreateSecret answer, a secret name held by a secret scheduled for deletion, an invocation
 * whose time runs out between two rotations, and a worker killed part-way (its calls stall for good, as when Lambda stops an invocation) whose
 * message is then delivered again to a new worker. The invariants are the CLI's: no secret lost (a key exists
 * only if its secret is in the user's secret), no orphan key, never a user without a working key.
 * Each case has an account of its own.
 */

const DAY = 86_400_000;
let moto: MotoHandle;
let recorder: RecordingProxy;
let faults: FaultProxy;
let accounts: Array<{ id: string; name: string }>;
let queues: Queues;
const oldKeys = new Map<string, { accessKeyId: string; secretAccessKey: string }>();
const VERIFY = { timeoutMs: 10_000, successes: 1, successIntervalMs: 0, initialDelayMs: 100, maxDelayMs: 500 };

function worker(onOutcome: (o: AccountOutcome) => void = () => undefined, write: (line: string) => void = () => undefined, env: NodeJS.ProcessEnv = {}) {
  const now = new Date(Date.now() + 91 * DAY);
  return createWorkerHandler({
    env: { AWS_REGION: REGION, AWS_ENDPOINT_URL: faults.endpoint, AWS_REKEY_MODE: 'enforce', AWS_REKEY_QUEUE_URL: queues.accountsQueueUrl, ...env },
    credentials: DUMMY_CREDENTIALS,
    now: () => now,
    write,
    verify: VERIFY,
    onOutcome,
  });
}

const message = (accountId: string) => ({ messageId: `m-${accountId}`, body: JSON.stringify({ schemaVersion: 1, runId: 'faults', accountId }) });

async function secretsOf(accountId: string): Promise<SecretsManagerClient> {
  const sts = new STSClient({ region: REGION, endpoint: moto.endpoint, credentials: DUMMY_CREDENTIALS });
  const c = (await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/reader`, RoleSessionName: 't' }))).Credentials;
  return new SecretsManagerClient({ region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', sessionToken: c?.SessionToken ?? '' } });
}

async function secretValue(accountId: string): Promise<{ accessKeyId: string; secretAccessKey: string } | undefined> {
  const sm = await secretsOf(accountId);
  try {
    return JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'aws-rekey/svc' }))).SecretString ?? '{}');
  } catch {
    return undefined;
  }
}

async function works(pair: { accessKeyId: string; secretAccessKey: string }): Promise<boolean> {
  const sts = new STSClient({ region: REGION, endpoint: moto.endpoint, credentials: pair, maxAttempts: 1 });
  return sts.send(new GetCallerIdentityCommand({})).then(
    () => true,
    () => false,
  );
}

/** Every active key of the user is one whose secret someone has (the seeded old key, or the one in the user's secret). */
async function expectInvariants(accountId: string): Promise<void> {
  const keys = await keysOf(await accountIam(moto.endpoint, accountId), 'svc');
  const secret = await secretValue(accountId);
  const known = new Set([oldKeys.get(accountId)?.accessKeyId, secret?.accessKeyId].filter(Boolean));
  for (const key of keys) expect(known.has(key.accessKeyId), `key ${key.accessKeyId} has no secret anyone holds`).toBe(true);
  expect(keys.some((k) => k.status === 'Active')).toBe(true);
  const old = oldKeys.get(accountId);
  if (old && keys.some((k) => k.accessKeyId === old.accessKeyId && k.status === 'Active')) expect(await works(old)).toBe(true);
  if (secret) expect(await works(secret)).toBe(true);
}

/**
 * Starts a worker on the account and "kills" it at the moment `arm` picks: from then on its next call hangs
 * for good (it makes no other meanwhile), as when Lambda stops an invocation. Returns once that call hangs.
 */
async function runUntilKilled(account: string, arm: (kill: () => void) => void): Promise<void> {
  let killed = false;
  let dead!: () => void;
  const died = new Promise<void>((resolve) => (dead = resolve));
  arm(() => {
    if (killed) return;
    killed = true;
    faults.setRules([{ fault: { kind: 'stall' }, times: 1 }]);
    dead();
  });
  const stalledBefore = stalledCount();
  // Its hanging call outlives the test: with the default request limit (15 s) the SDK would send it again and
  // the dead worker would carry on beside the next one.
  void worker(undefined, undefined, { AWS_REKEY_REQUEST_TIMEOUT_MS: String(60 * 60_000) })({ Records: [message(account)] });
  await died;
  await until(() => stalledCount() === stalledBefore + 1);
}

const stalledCount = () => faults.log.filter((e) => e.status === 'stalled').length;

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(condition()).toBe(true);
}

async function tagsOf(accountId: string): Promise<Record<string, string>> {
  const iam = await accountIam(moto.endpoint, accountId);
  return Object.fromEntries(((await iam.send(new ListUserTagsCommand({ UserName: 'svc' }))).Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

beforeAll(async () => {
  moto = await startMoto();
  recorder = await startRecordingProxy(moto.endpoint, freshReportRewrite());
  faults = await startFaultProxy(recorder.endpoint);
  accounts = await createOrganization(moto.endpoint, ['throttled', 'lost', 'killed-after-create', 'killed-in-verify', 'lost-secret', 'secret-pending-deletion', 'time-budget']);
  queues = await createQueuesAndTopic(moto.endpoint, 'faults');
  for (const account of accounts.slice(0, -1)) {
    const pairs = await seedUsers(await accountIam(moto.endpoint, account.id), [{ userName: 'svc' }]);
    const pair = pairs.get('svc')?.[0];
    if (pair) oldKeys.set(account.id, pair);
  }
}, 120_000);

afterAll(async () => {
  await faults?.stop();
  await recorder?.stop();
  await moto?.stop();
});

describe('the enforce worker under faults', () => {
  it('throttling: reads and CreateAccessKey are tried again, and the rotation completes', async () => {
    const account = accounts[0]?.id ?? '';
    faults.setRules([
      { action: 'ListAccessKeys', fault: { kind: 'error', status: 400, code: 'Throttling', message: 'Rate exceeded' }, times: 2 },
      { action: 'CreateAccessKey', fault: { kind: 'error', status: 400, code: 'Throttling', message: 'Rate exceeded' }, times: 1 },
    ]);
    const outcomes: AccountOutcome[] = [];
    const response = await worker((o) => outcomes.push(o))({ Records: [message(account)] });
    faults.setRules([]);
    expect(response.batchItemFailures).toEqual([]);
    expect(outcomes[0]?.done.map((d) => d.done)).toEqual(['rotated']);
    expect(faults.log.filter((e) => e.action === 'CreateAccessKey').map((e) => e.status)).toEqual([400, 200]);
    expect(await keysOf(await accountIam(moto.endpoint, account), 'svc')).toHaveLength(2);
    await expectInvariants(account);
  });

  it('a lost CreateAccessKey answer: the key it made is found and deleted, and exactly one new key is delivered', async () => {
    const account = accounts[1]?.id ?? '';
    faults.setRules([{ action: 'CreateAccessKey', fault: { kind: 'drop-response' }, times: 1 }]);
    const outcomes: AccountOutcome[] = [];
    const response = await worker((o) => outcomes.push(o))({ Records: [message(account)] });
    faults.setRules([]);
    expect(response.batchItemFailures).toEqual([]);
    expect(outcomes[0]?.done.map((d) => d.done)).toEqual(['rotated']);
    const keys = await keysOf(await accountIam(moto.endpoint, account), 'svc');
    expect(keys).toHaveLength(2);
    expect(keys.map((k) => k.accessKeyId)).toContain((await secretValue(account))?.accessKeyId);
    await expectInvariants(account);
  });

  it('killed right after CreateAccessKey (its secret never written): the redelivered message deletes that key, the next run rotates', async () => {
    const account = accounts[2]?.id ?? '';
    // The worker's next call after CreateAccessKey's answer hangs for good: the invocation is dead.
    await runUntilKilled(account, (kill) => faults.onResponse('CreateAccessKey', kill));
    expect(await keysOf(await accountIam(moto.endpoint, account), 'svc')).toHaveLength(2);
    // The journal tag, written once before CreateAccessKey, names the keys before it; it cannot hold the
    // secret, which exists nowhere else.
    expect((await tagsOf(account))['aws-rekey:rotation']).toBe(`creating:${oldKeys.get(account)?.accessKeyId}`);

    const outcomes: AccountOutcome[] = [];
    const response = await worker((o) => outcomes.push(o))({ Records: [message(account)] });
    expect(response.batchItemFailures).toEqual([]);
    expect(outcomes[0]?.done.map((d) => d.done)).toEqual(['undone']);
    const keys = await keysOf(await accountIam(moto.endpoint, account), 'svc');
    expect(keys.map((k) => k.accessKeyId)).toEqual([oldKeys.get(account)?.accessKeyId]);
    expect((await tagsOf(account))['aws-rekey:rotation']).toBeUndefined();
    await expectInvariants(account);

    const again: AccountOutcome[] = [];
    await worker((o) => again.push(o))({ Records: [message(account)] });
    expect(again[0]?.done.map((d) => d.done)).toEqual(['rotated']);
    await expectInvariants(account);
  });

  it('killed while verifying (the secret holds the new key): the redelivered message finishes the rotation from the secret', async () => {
    const account = accounts[3]?.id ?? '';
    // The first call signed with the new key (verification) hangs: the worker dies there.
    await runUntilKilled(account, (kill) =>
      faults.onRequest('GetCallerIdentity', () => {
        const last = faults.log[faults.log.length - 1];
        if (last && last.accessKeyId !== oldKeys.get(account)?.accessKeyId && last.accessKeyId.startsWith('AKIA')) kill();
      }),
    );
    const secret = await secretValue(account);
    expect(secret?.accessKeyId).toMatch(/^AKIA/);
    // Still the tag written before CreateAccessKey: the next run finds the key in the secret, not in the tag.
    expect((await tagsOf(account))['aws-rekey:rotation']).toBe(`creating:${oldKeys.get(account)?.accessKeyId}`);

    const outcomes: AccountOutcome[] = [];
    const response = await worker((o) => outcomes.push(o))({ Records: [message(account)] });
    expect(response.batchItemFailures).toEqual([]);
    expect(outcomes[0]?.done).toEqual([expect.objectContaining({ done: 'resumed', newKeyId: secret?.accessKeyId })]);
    const tags = await tagsOf(account);
    expect(tags['aws-rekey:replacement']).toBe(secret?.accessKeyId);
    expect(tags['aws-rekey:rotation']).toBeUndefined();
    expect(await keysOf(await accountIam(moto.endpoint, account), 'svc')).toHaveLength(2);
    await expectInvariants(account);
  });

  it('a lost CreateSecret answer (the SDK sends it again and hears that the secret exists): the secret it made is used, and the rotation completes', async () => {
    const account = accounts[4]?.id ?? '';
    faults.setRules([{ action: 'CreateSecret', fault: { kind: 'drop-response' }, times: 1 }]);
    const logStart = faults.log.length;
    const outcomes: AccountOutcome[] = [];
    const response = await worker((o) => outcomes.push(o))({ Records: [message(account)] });
    faults.setRules([]);
    expect(response.batchItemFailures).toEqual([]);
    // The first CreateSecret made the secret, its answer never came; the SDK's second one was refused as a duplicate.
    expect(faults.log.slice(logStart).filter((e) => e.action === 'CreateSecret').map((e) => e.status)).toEqual(['dropped', 400]);
    expect(outcomes[0]?.done.map((d) => d.done)).toEqual(['rotated']);
    const secret = await secretValue(account);
    expect(secret?.accessKeyId).toBe(outcomes[0]?.done[0]?.newKeyId);
    const versions = (await (await secretsOf(account)).send(new DescribeSecretCommand({ SecretId: 'aws-rekey/svc' }))).VersionIdsToStages ?? {};
    expect(versions).toEqual({ [`aws-rekey-new-key-${secret?.accessKeyId}`]: ['AWSCURRENT'] });
    expect(await keysOf(await accountIam(moto.endpoint, account), 'svc')).toHaveLength(2);
    await expectInvariants(account);
  });

  it('a secret of the same name scheduled for deletion: the rotation is undone, and the log says what to do', async () => {
    const account = accounts[5]?.id ?? '';
    const sm = await secretsOf(account);
    await sm.send(new CreateSecretCommand({ Name: 'aws-rekey/svc', SecretString: '{}' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'aws-rekey/svc', RecoveryWindowInDays: 7 }));
    const lines: string[] = [];
    const response = await worker(undefined, (line) => lines.push(line))({ Records: [message(account)] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: `m-${account}` }]);
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'user-failed');
    expect(failed).toMatchObject({ level: 'error', accountId: account, userName: 'svc', actions: [`rotate ${oldKeys.get(account)?.accessKeyId}`], error: { code: 'ROTATION_ROLLED_BACK', causeCode: 'SECRET_PENDING_DELETION' } });
    expect(JSON.stringify(failed)).toContain('restore-secret --secret-id aws-rekey/svc');
    // Undone: only the old key is left, and it works.
    const keys = await keysOf(await accountIam(moto.endpoint, account), 'svc');
    expect(keys.map((k) => [k.accessKeyId, k.status])).toEqual([[oldKeys.get(account)?.accessKeyId, 'Active']]);
    expect(await works(oldKeys.get(account) ?? { accessKeyId: '', secretAccessKey: '' })).toBe(true);
    expect((await tagsOf(account))['aws-rekey:rotation']).toBeUndefined();
  });

  it('time runs out between two rotations: the rest of the account goes to a continuation, which rotates it', async () => {
    const account = accounts[6]?.id ?? '';
    const iam = await accountIam(moto.endpoint, account);
    const users = ['tb-1', 'tb-2', 'tb-3'];
    await seedUsers(iam, users.map((userName) => ({ userName })));
    // Plenty of time until the first rotation has created its key; then less than the worker's reserve.
    let remainingMs = 15 * 60_000;
    faults.onResponse('CreateAccessKey', () => {
      remainingMs = 60_000;
    });
    const outcomes: AccountOutcome[] = [];
    const response = await worker((o) => outcomes.push(o))({ Records: [message(account)] }, { getRemainingTimeInMillis: () => remainingMs });
    expect(response.batchItemFailures).toEqual([]);
    // The rotation under way when time ran short was finished, and no other was started.
    expect(outcomes[0]?.done.map((d) => [d.userName, d.done])).toEqual([['tb-1', 'rotated']]);
    expect(outcomes[0]?.continuedAfter).toBe('tb-1');
    expect(await keysOf(iam, 'tb-2')).toHaveLength(1);
    const continuations = await drainQueue(queues.sqs, queues.accountsQueueUrl);
    expect(continuations.map((m) => JSON.parse(m.body) as unknown)).toEqual([{ schemaVersion: 1, runId: 'faults', accountId: account, startAfter: 'tb-1', continuation: 1 }]);

    const rest: AccountOutcome[] = [];
    const again = await worker((o) => rest.push(o))({ Records: continuations }, { getRemainingTimeInMillis: () => 15 * 60_000 });
    expect(again.batchItemFailures).toEqual([]);
    expect(rest[0]?.done.map((d) => [d.userName, d.done])).toEqual([
      ['tb-2', 'rotated'],
      ['tb-3', 'rotated'],
    ]);
    expect(rest[0]?.continuedAfter).toBeUndefined();
    for (const userName of users) expect(await keysOf(iam, userName)).toHaveLength(2);
  });

  it('time already short when the worker starts: no user done, so the message fails (ORG_NO_PROGRESS) instead of handing the same start on', async () => {
    const account = accounts[6]?.id ?? '';
    const lines: string[] = [];
    const response = await worker(undefined, (line) => lines.push(line))({ Records: [message(account)] }, { getRemainingTimeInMillis: () => 60_000 });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: `m-${account}` }]);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'account-failed')).toMatchObject({ error: { code: 'ORG_NO_PROGRESS' } });
    expect(await drainQueue(queues.sqs, queues.accountsQueueUrl)).toEqual([]);
  });
});
