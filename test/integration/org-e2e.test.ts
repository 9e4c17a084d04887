import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ListUserTagsCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlannerHandler } from '../../src/lambda/planner.js';
import { createWorkerHandler } from '../../src/lambda/worker.js';
import type { AccountOutcome } from '../../src/org/worker.js';
import { DUMMY_CREDENTIALS, REGION } from '../support/iam.js';
import { startMoto, type MotoHandle } from '../support/moto.js';
import { MANAGEMENT_ACCOUNT, accountIam, createOrganization, createQueuesAndTopic, drainQueue, keysOf, recipientsOf, seedUsers, sentMail, verifySender, type Queues } from '../support/org.js';
import { freshReportRewrite, startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';

/**
 * The whole enforce cycle, end to end, through the Lambda handlers in-process against moto: a scheduled
 * event → the planner → real SQS messages → the workers → new keys in the users' secrets and mails to their
 * owners; then the injected clock moves 8 days → deactivations, except the key used after its replacement
 * was delivered (warned about instead); then 7 more days → deletions.
 *
 * moto stamps a key's creation and last use with the real time while the test's clock runs ahead; the proxy
 * in front of moto moves the last-use dates (GetAccessKeyLastUsed) and the creation dates of the keys the
 * engine created (CreateAccessKey, ListAccessKeys) into the test's time by the offset of the moment.
 */

const DAY = 86_400_000;
const SENDER = 'rekey@example.com';
let moto: MotoHandle;
let proxy: RecordingProxy;
let queues: Queues;
let accounts: Array<{ id: string; name: string }>;
let offsetMs = 0;
const seeded = new Map<string, Map<string, Array<{ accessKeyId: string; secretAccessKey: string }>>>();

/** Keys the engine created, with the clock offset when it did: their CreateDate is moved into the test's time. */
const createdAt = new Map<string, number>();
const shift = (date: string, by: number) => new Date(new Date(date).getTime() + by).toISOString();

function intoTestTime(action: string, body: string): string {
  if (action === 'GetAccessKeyLastUsed') {
    return body.replace(/<LastUsedDate>([^<]+)<\/LastUsedDate>/, (_, date: string) => `<LastUsedDate>${shift(date, offsetMs)}</LastUsedDate>`);
  }
  if (action === 'CreateAccessKey') {
    const id = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(body)?.[1];
    if (id) createdAt.set(id, offsetMs);
  }
  if (action === 'CreateAccessKey' || action === 'ListAccessKeys') {
    return body.replace(/<member>([\s\S]*?)<\/member>|<AccessKey>([\s\S]*?)<\/AccessKey>/g, (block: string) => {
      const by = createdAt.get(/<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(block)?.[1] ?? '');
      return by === undefined ? block : block.replace(/<CreateDate>([^<]+)<\/CreateDate>/, (_, date: string) => `<CreateDate>${shift(date, by)}</CreateDate>`);
    });
  }
  return body;
}

async function runSchedule(days: number): Promise<AccountOutcome[]> {
  offsetMs = days * DAY;
  const now = new Date(Date.now() + offsetMs);
  const options = {
    env: {
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_MAX_ATTEMPTS: '2',
      AWS_REKEY_MODE: 'enforce',
      AWS_REKEY_QUEUE_URL: queues.accountsQueueUrl,
      AWS_REKEY_TOPIC_ARN: queues.topicArn,
      AWS_REKEY_MAIL_FROM: SENDER,
      AWS_REKEY_EXCLUDE_ACCOUNTS: MANAGEMENT_ACCOUNT,
    },
    credentials: DUMMY_CREDENTIALS,
    now: () => now,
    write: () => undefined,
  };
  await createPlannerHandler(options)({ id: `schedule-${days}` });
  const outcomes: AccountOutcome[] = [];
  const worker = createWorkerHandler({ ...options, onOutcome: (o) => outcomes.push(o), verify: { timeoutMs: 10_000, successes: 1, successIntervalMs: 0, initialDelayMs: 100, maxDelayMs: 500 } });
  const messages = await drainQueue(queues.sqs, queues.accountsQueueUrl);
  expect(messages).toHaveLength(accounts.length);
  const response = await worker({ Records: messages });
  expect(response.batchItemFailures).toEqual([]);
  return outcomes.sort((a, b) => a.accountId.localeCompare(b.accountId));
}

async function secretOf(accountId: string, userName: string, stage = 'AWSCURRENT') {
  const sts = new STSClient({ region: REGION, endpoint: moto.endpoint, credentials: DUMMY_CREDENTIALS });
  const c = (await sts.send(new (await import('@aws-sdk/client-sts')).AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/reader`, RoleSessionName: 't' }))).Credentials;
  const sm = new SecretsManagerClient({
    region: REGION,
    endpoint: moto.endpoint,
    credentials: { accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', sessionToken: c?.SessionToken ?? '' },
  });
  const out = await sm.send(new GetSecretValueCommand({ SecretId: `aws-rekey/${userName}`, VersionStage: stage }));
  return JSON.parse(out.SecretString ?? '{}') as { accessKeyId: string; secretAccessKey: string; userName: string; createDate?: string };
}

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint, (action, body) => intoTestTime(action, freshReportRewrite()(action, body)));
  accounts = await createOrganization(moto.endpoint, ['alpha', 'beta']);
  queues = await createQueuesAndTopic(moto.endpoint, 'e2e');
  await verifySender(moto.endpoint, SENDER);
  for (const account of accounts) {
    const iam = await accountIam(moto.endpoint, account.id);
    seeded.set(
      account.id,
      await seedUsers(iam, [
        { userName: 'app', tags: { 'aws-rekey:owner': `app@${account.name}.example.com` } },
        { userName: 'busy', tags: { 'aws-rekey:owner': `busy@${account.name}.example.com` } },
      ]),
    );
  }
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

describe('enforce, end to end over 15 days', () => {
  it('day 91: every old key gets a replacement, verified, in the user secret; the owners are told where', async () => {
    const mailsBefore = (await sentMail(moto.endpoint)).length;
    const outcomes = await runSchedule(91);
    for (const outcome of outcomes) {
      expect(outcome.failures).toEqual([]);
      expect(outcome.done.map((d) => `${d.userName}:${d.done}`).sort()).toEqual(['app:rotated', 'busy:rotated']);
      const iam = await accountIam(moto.endpoint, outcome.accountId);
      for (const userName of ['app', 'busy']) {
        const keys = await keysOf(iam, userName);
        const old = seeded.get(outcome.accountId)?.get(userName)?.[0]?.accessKeyId;
        expect(keys.map((k) => k.status)).toEqual(['Active', 'Active']);
        const replacement = keys.find((k) => k.accessKeyId !== old);
        const secret = await secretOf(outcome.accountId, userName);
        expect(secret).toMatchObject({ userName, accessKeyId: replacement?.accessKeyId });
        expect(secret.secretAccessKey).toHaveLength(40);
        expect(secret.createDate).toMatch(/^\d{4}-\d{2}-\d{2}T/);
        const tags = Object.fromEntries(((await iam.send(new ListUserTagsCommand({ UserName: userName }))).Tags ?? []).map((t) => [t.Key, t.Value]));
        expect(tags['aws-rekey:replacement']).toBe(replacement?.accessKeyId);
        expect(tags['aws-rekey:rotation']).toBeUndefined();
      }
    }
    const mails = (await sentMail(moto.endpoint)).slice(mailsBefore);
    expect(mails.map((m) => recipientsOf(m)[0]).sort()).toEqual(['app@alpha.example.com', 'app@beta.example.com', 'busy@alpha.example.com', 'busy@beta.example.com']);
    expect(mails[0]?.body).toMatch(/AKIA…\w{4}: replaced by a new key on \d{4}-\d{2}-\d{2}\. The new key is in the Secrets Manager secret aws-rekey\/\w+ of account \d{12}/);
    for (const mail of mails) expect(mail.body).not.toMatch(/[A-Za-z0-9/+]{40}/);
    const events = (await drainQueue(queues.sqs, queues.eventsQueueUrl)).map((m) => JSON.parse(m.body));
    expect(events.filter((e) => e.done === 'rotated')).toHaveLength(4);
    for (const event of events.filter((e) => e.done === 'rotated')) expect(event.secretName).toMatch(/^aws-rekey\//);
  });

  it('day 99: the old keys are deactivated, except one used after its replacement was delivered', async () => {
    const alpha = accounts[0]?.id ?? '';
    // The application behind `busy` in alpha still uses its old key.
    const busyOld = seeded.get(alpha)?.get('busy')?.[0];
    const sts = new STSClient({ region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: busyOld?.accessKeyId ?? '', secretAccessKey: busyOld?.secretAccessKey ?? '' } });
    await sts.send(new GetCallerIdentityCommand({}));
    const mailsBefore = (await sentMail(moto.endpoint)).length;

    const outcomes = await runSchedule(99);
    const byAccount = Object.fromEntries(outcomes.map((o) => [o.accountId, o.done.map((d) => `${d.userName}:${d.done}`).sort()]));
    expect(byAccount[alpha]).toEqual(['app:deactivated']);
    expect(byAccount[accounts[1]?.id ?? '']).toEqual(['app:deactivated', 'busy:deactivated']);
    const alphaIam = await accountIam(moto.endpoint, alpha);
    expect((await keysOf(alphaIam, 'busy')).map((k) => k.status)).toEqual(['Active', 'Active']);
    const busy = outcomes.find((o) => o.accountId === alpha)?.users.find((u) => u.userName === 'busy');
    expect(busy?.keys.find((k) => k.accessKeyId === busyOld?.accessKeyId)?.findings).toContain('used-after-replacement');
    const appOld = seeded.get(alpha)?.get('app')?.[0]?.accessKeyId;
    expect((await keysOf(alphaIam, 'app')).find((k) => k.accessKeyId === appOld)?.status).toBe('Inactive');

    const mails = (await sentMail(moto.endpoint)).slice(mailsBefore);
    const busyMail = mails.find((m) => recipientsOf(m)[0] === 'busy@alpha.example.com');
    expect(busyMail?.body).toMatch(/needs your attention: used on \d{4}-\d{2}-\d{2}, after its replacement was delivered .*: not deactivated/);
    await drainQueue(queues.sqs, queues.eventsQueueUrl);
  });

  it('day 106: the deactivated keys are deleted and the rotation tags go; the key still in use stays', async () => {
    const outcomes = await runSchedule(106);
    const alpha = accounts[0]?.id ?? '';
    for (const outcome of outcomes) {
      const expected = outcome.accountId === alpha ? ['app:deleted'] : ['app:deleted', 'busy:deleted'];
      expect(outcome.done.map((d) => `${d.userName}:${d.done}`).sort()).toEqual(expected);
      const iam = await accountIam(moto.endpoint, outcome.accountId);
      const keys = await keysOf(iam, 'app');
      expect(keys).toHaveLength(1);
      expect(keys[0]?.accessKeyId).toBe((await secretOf(outcome.accountId, 'app')).accessKeyId);
      const tags = ((await iam.send(new ListUserTagsCommand({ UserName: 'app' }))).Tags ?? []).map((t) => t.Key);
      expect(tags.filter((k) => k?.startsWith('aws-rekey:') && k !== 'aws-rekey:owner' && k !== 'aws-rekey:notified')).toEqual([]);
    }
    expect(await keysOf(await accountIam(moto.endpoint, alpha), 'busy')).toHaveLength(2);
  });

  it('day 107: nothing is due; the run changes nothing (idempotent)', async () => {
    const outcomes = await runSchedule(107);
    for (const outcome of outcomes) expect(outcome.done).toEqual([]);
  });
});
