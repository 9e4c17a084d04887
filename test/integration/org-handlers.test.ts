import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigRuleHandler } from '../../src/lambda/config-rule.js';
import { createPlannerHandler } from '../../src/lambda/planner.js';
import { createWorkerHandler } from '../../src/lambda/worker.js';
import type { AccountOutcome } from '../../src/org/worker.js';
import { DUMMY_CREDENTIALS } from '../support/iam.js';
import { startMoto, type MotoHandle } from '../support/moto.js';
import {
  MANAGEMENT_ACCOUNT,
  accountIam,
  createOrganization,
  createQueuesAndTopic,
  drainQueue,
  recipientsOf,
  seedUsers,
  sentMail,
  verifySender,
  type Queues,
} from '../support/org.js';
import { freshReportRewrite, startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';

/**
 * The three Lambda handlers, called in-process (moto cannot run Lambda functions without Docker), against a
 * moto of this file's own: Organizations is one organisation per moto, and the accounts' IAM is per account.
 * A recording proxy in front of moto counts IAM requests and gives moto's credential report a fresh
 * generation time (moto always says 2015), so that the report is used as it would be on AWS.
 */

const DAY = 86_400_000;
const SENDER = 'aws-rekey@example.com';
let moto: MotoHandle;
let proxy: RecordingProxy;
let queues: Queues;
let accounts: Array<{ id: string; name: string }>;
const logs: string[] = [];

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_MAX_ATTEMPTS: '2',
    AWS_REKEY_QUEUE_URL: queues.accountsQueueUrl,
    AWS_REKEY_TOPIC_ARN: queues.topicArn,
    AWS_REKEY_MAIL_FROM: SENDER,
    AWS_REKEY_CONFIG_TEST_MODE: 'true',
    ...extra,
  };
}

const handlerOptions = (extra: Record<string, string>, now: Date) => ({
  env: env(extra),
  credentials: DUMMY_CREDENTIALS,
  now: () => now,
  write: (line: string) => logs.push(line),
});

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint, freshReportRewrite());
  accounts = await createOrganization(moto.endpoint, ['alpha', 'beta', 'gamma']);
  queues = await createQueuesAndTopic(moto.endpoint, 'handlers');
  await verifySender(moto.endpoint, SENDER);
  for (const account of accounts) {
    const iam = await accountIam(moto.endpoint, account.id);
    await seedUsers(iam, [
      { userName: 'ci', tags: { 'aws-rekey:owner': `ci-owner@${account.name}.example.com` } },
      { userName: 'vendor', tags: { 'aws-rekey:owner': 'vendor@example.com', 'aws-rekey:exempt': 'true', 'aws-rekey:exempt-reason': 'contract' } },
      { userName: 'legacy', keys: 2 },
      { userName: 'nokeys', keys: 0 },
    ]);
  }
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

describe('planner', () => {
  it('queues one message per selected account, with the exclusions honoured', async () => {
    const planner = createPlannerHandler(handlerOptions({ AWS_REKEY_EXCLUDE_ACCOUNTS: MANAGEMENT_ACCOUNT }, new Date()));
    const result = await planner({ id: 'run-plan' });
    expect(result.queued.map((a) => a.id).sort()).toEqual(accounts.map((a) => a.id).sort());
    expect(result.skipped).toEqual([{ id: MANAGEMENT_ACCOUNT, name: 'master', reason: 'account excluded' }]);
    const messages = await drainQueue(queues.sqs, queues.accountsQueueUrl);
    expect(messages.map((m) => JSON.parse(m.body).accountId).sort()).toEqual(accounts.map((a) => a.id).sort());
    expect(JSON.parse(messages[0]?.body ?? '{}')).toMatchObject({ schemaVersion: 1, runId: 'run-plan' });
  });

  it('refuses contradictory settings before touching anything', async () => {
    const planner = createPlannerHandler(handlerOptions({ AWS_REKEY_WARN_DAYS_BEFORE: '30' }, new Date()));
    await expect(planner({ id: 'bad' })).rejects.toThrow(/warnDaysBefore \(30\) must not exceed deactivateAfterDays/);
    expect(await drainQueue(queues.sqs, queues.accountsQueueUrl)).toEqual([]);
  });
});

describe('worker', () => {
  async function runWorkers(mode: string, now: Date, extra: Record<string, string> = {}): Promise<AccountOutcome[]> {
    const planner = createPlannerHandler(handlerOptions({ AWS_REKEY_MODE: mode, AWS_REKEY_EXCLUDE_ACCOUNTS: MANAGEMENT_ACCOUNT }, now));
    await planner({ id: `run-${mode}` });
    const outcomes: AccountOutcome[] = [];
    const worker = createWorkerHandler({ ...handlerOptions({ AWS_REKEY_MODE: mode, ...extra }, now), onOutcome: (o) => outcomes.push(o) });
    const messages = await drainQueue(queues.sqs, queues.accountsQueueUrl);
    const response = await worker({ Records: messages });
    expect(response.batchItemFailures).toEqual([]);
    return outcomes.sort((a, b) => a.accountId.localeCompare(b.accountId));
  }

  it('report mode: a decision for every key, from the credential report first; no event, no mail', async () => {
    const mailsBefore = (await sentMail(moto.endpoint)).length;
    proxy.reset();
    const outcomes = await runWorkers('report', new Date(Date.now() + 100 * DAY));
    expect(outcomes).toHaveLength(3);
    for (const outcome of outcomes) {
      expect(outcome.source).toBe('credential-report');
      const byUser = Object.fromEntries(outcome.users.map((u) => [u.userName, u]));
      expect(Object.keys(byUser).sort()).toEqual(['ci', 'legacy', 'vendor']);
      expect(byUser.ci?.keys.map((k) => k.action)).toEqual(['rotate']);
      expect(byUser.ci?.keys[0]?.findings).toContain('old');
      expect(byUser.vendor?.exemption).toEqual({ by: 'tag', reason: 'contract' });
      expect(byUser.vendor?.keys[0]?.action).toBe('none');
      expect(byUser.legacy?.keys.map((k) => k.findings.includes('conflict'))).toEqual([true, true]);
      expect(outcome.events).toBe(0);
      expect(outcome.mails).toBe(0);
    }
    // The report, then per-user calls only for the users it could not decide (here: all three have something due).
    expect(proxy.counts().GetCredentialReport).toBe(3);
    expect(proxy.counts().ListUsers ?? 0).toBe(0);
    expect((await sentMail(moto.endpoint)).length).toBe(mailsBefore);
    expect(await drainQueue(queues.sqs, queues.eventsQueueUrl)).toEqual([]);
  });

  it('report mode, young keys: the credential report alone decides (no per-user call)', async () => {
    proxy.reset();
    const outcomes = await runWorkers('report', new Date(Date.now() + 10 * DAY));
    for (const outcome of outcomes) expect(outcome.inspected).toBe(1); // legacy: two active keys need their ids
    expect(proxy.counts().ListAccessKeys).toBe(3);
    expect(proxy.counts().ListUserTags).toBe(3);
  });

  it('notify mode: one event per noteworthy key, one mail per owner, not repeated by the next run', async () => {
    const before = (await sentMail(moto.endpoint)).length;
    const now = new Date(Date.now() + 85 * DAY);
    const outcomes = await runWorkers('notify', now);
    const events = (await drainQueue(queues.sqs, queues.eventsQueueUrl)).map((m) => JSON.parse(m.body));
    // Per account: ci (rotation warning) and legacy's two conflicting keys; the exempt vendor is quiet.
    expect(events).toHaveLength(9);
    const ci = events.find((e) => e.userName === 'ci' && e.accountId === accounts[0]?.id);
    expect(ci).toMatchObject({ type: 'aws-rekey.decision', mode: 'notify', done: 'none', upcoming: { action: 'rotate' }, exempt: false });
    const mails = (await sentMail(moto.endpoint)).slice(before);
    expect(mails).toHaveLength(3);
    expect(mails.map((m) => recipientsOf(m)[0]).sort()).toEqual(accounts.map((a) => `ci-owner@${a.name}.example.com`).sort());
    expect(mails[0]?.subject).toMatch(/^aws-rekey: access keys of IAM user ci in account \d{12}$/);
    expect(mails[0]?.body).toMatch(/rotation \(a new key is created and delivered\) is planned for \d{4}-\d{2}-\d{2}/);
    expect(outcomes.reduce((n, o) => n + o.mails, 0)).toBe(3);

    await runWorkers('notify', now);
    expect((await sentMail(moto.endpoint)).length - before).toBe(3);
    await drainQueue(queues.sqs, queues.eventsQueueUrl);
  });

  it('digest per owner: one mail for all the users of an account that name the same owner; parts already sent are left out', async () => {
    const alpha = accounts[0] as { id: string; name: string };
    await seedUsers(await accountIam(moto.endpoint, alpha.id), [
      { userName: 'build-a', tags: { 'aws-rekey:owner': 'builds@alpha.example.com' } },
      { userName: 'build-b', tags: { 'aws-rekey:owner': 'builds@alpha.example.com' } },
    ]);
    const before = (await sentMail(moto.endpoint)).length;
    const now = new Date(Date.now() + 85 * DAY);
    await runWorkers('notify', now, { AWS_REKEY_DIGEST: 'owner' });
    const mails = (await sentMail(moto.endpoint)).slice(before);
    // ci's owners got these very notices as single mails in the test above: only the builds owner is mailed.
    expect(mails.map((m) => recipientsOf(m))).toEqual([['builds@alpha.example.com']]);
    expect(mails[0]?.subject).toBe(`aws-rekey: access keys of 2 IAM users in account ${alpha.id}`);
    expect(mails[0]?.body).toContain(`which name you (builds@alpha.example.com) as their owner: build-a, build-b.`);
    expect(mails[0]?.body).toMatch(/IAM user build-a \(its new keys go to the secret aws-rekey\/build-a\):\n- AKIA…\w{4}: rotation .* is planned for/);
    expect(mails[0]?.body).toMatch(/IAM user build-b .*\n- AKIA…\w{4}: rotation/);
    expect(mails[0]?.body).not.toMatch(/AKIA[A-Z0-9]{16}/);
    // Nothing new: nothing sent, digest or single mails alike.
    await runWorkers('notify', now, { AWS_REKEY_DIGEST: 'owner' });
    await runWorkers('notify', now);
    expect((await sentMail(moto.endpoint)).length - before).toBe(1);
    await drainQueue(queues.sqs, queues.eventsQueueUrl);
  });

  it('digest per account: one summary per account to the platform team, every run; owners are not mailed twice', async () => {
    const before = (await sentMail(moto.endpoint)).length;
    const outcomes = await runWorkers('notify', new Date(Date.now() + 85 * DAY), { AWS_REKEY_DIGEST: 'account', AWS_REKEY_DIGEST_TO: 'platform@example.com' });
    const mails = (await sentMail(moto.endpoint)).slice(before);
    expect(mails.map((m) => recipientsOf(m))).toEqual(accounts.map(() => ['platform@example.com']));
    expect(outcomes.reduce((n, o) => n + o.mails, 0)).toBe(3);
    const alpha = mails.find((m) => m.subject.includes(accounts[0]?.id ?? '-'));
    expect(alpha?.subject).toMatch(new RegExp(`^aws-rekey: \\d{4}-\\d{2}-\\d{2} digest of account ${accounts[0]?.id} \\(notify\\): 4 users to look at$`));
    expect(alpha?.body).toMatch(/5 users with keys, 6 keys\. Due now: rotate 0, deactivate 0, delete 0; coming within the warning period: 3\./);
    expect(alpha?.body).toMatch(/Findings: .*conflict 2/);
    expect(alpha?.body).toMatch(/\nlegacy \(no owner tag\):\n- AKIA…\w{4}: needs your attention: two active keys/);
    expect(alpha?.body).toMatch(/\nbuild-a \(owner builds@alpha\.example\.com\):\n- AKIA…\w{4}: rotation/);
    expect(alpha?.body).not.toMatch(/AKIA[A-Z0-9]{16}/);
    await drainQueue(queues.sqs, queues.eventsQueueUrl);
  });

  it('a message that is not ours fails alone (partial batch response), and is logged without its body', async () => {
    const worker = createWorkerHandler(handlerOptions({}, new Date()));
    logs.splice(0);
    const response = await worker({ Records: [{ messageId: 'm-1', body: '{"hello":1}' }] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    const entry = JSON.parse(logs.find((l) => l.includes('account-failed')) ?? '{}');
    expect(entry).toMatchObject({ level: 'error', handler: 'worker', event: 'account-failed', messageId: 'm-1', error: { code: 'ORG_MESSAGE_INVALID' } });
  });
});

describe('config rule', () => {
  it('access-keys-rotated semantics for the account it runs in, evaluations sent in TestMode', async () => {
    const iam = await accountIam(moto.endpoint, MANAGEMENT_ACCOUNT);
    await seedUsers(iam, [{ userName: 'rule-old' }, { userName: 'rule-nokey', keys: 0 }]);
    const rule = createConfigRuleHandler(handlerOptions({}, new Date(Date.now() + 91 * DAY)));
    const result = await rule({
      invokingEvent: JSON.stringify({ messageType: 'ScheduledNotification', notificationCreationTime: new Date().toISOString() }),
      ruleParameters: JSON.stringify({ maxAccessKeyAge: '90' }),
      resultToken: 'token',
    });
    expect(result).toEqual({ maxAccessKeyAge: 90, compliant: 1, nonCompliant: 1, calls: 1 });
    const shorter = await createConfigRuleHandler(handlerOptions({}, new Date(Date.now() + DAY / 2)))({
      invokingEvent: '{}',
      ruleParameters: '{"maxAccessKeyAge":"1"}',
      resultToken: 'token',
    });
    expect(shorter.nonCompliant).toBe(0);
    await expect(createConfigRuleHandler(handlerOptions({}, new Date()))({ invokingEvent: '{}', ruleParameters: '{"maxAccessKeyAge":"soon"}', resultToken: 't' })).rejects.toThrow(
      /maxAccessKeyAge must be a whole number/,
    );
  });
});

describe('logs', () => {
  it('are JSON lines with no secret access key in them', async () => {
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) {
      const entry = JSON.parse(line);
      expect(typeof entry.event).toBe('string');
      expect(line).not.toMatch(/[A-Za-z0-9/+]{40}/);
    }
  });
});
