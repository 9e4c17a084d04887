import type { IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../support/cli.js';
import { DUMMY_CREDENTIALS } from '../support/iam.js';
import { startMoto, type MotoHandle } from '../support/moto.js';
import {
  MANAGEMENT_ACCOUNT,
  accountIam,
  accountSecrets,
  createAccounts,
  createOrganization,
  keysOf,
  recipientsOf,
  seedUsers,
  sentMail,
  userTags,
  verifySender,
} from '../support/org.js';
import { freshReportRewrite, startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';

/**
 * `aws-rekey org` end to end: the built CLI against a moto of this file's own with an organisation of three
 * accounts (the management account and two made with CreateAccount), users in each reached through AssumeRole.
 * Key ages are shifted with AWS_REKEY_NOW (test-only), as for `audit`.
 */

const DAY = 86_400_000;
let moto: MotoHandle;
let proxy: RecordingProxy;
let accounts: Array<{ id: string; name: string }>;

const env = (days: number, extra: NodeJS.ProcessEnv = {}) =>
  baseEnv({
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_REKEY_NOW: new Date(Date.now() + days * DAY).toISOString(),
    ...extra,
  });

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint, freshReportRewrite());
  accounts = await createOrganization(moto.endpoint, ['prod', 'dev']);
  await verifySender(moto.endpoint, 'rekey@example.com');
  await seedUsers(await accountIam(moto.endpoint, MANAGEMENT_ACCOUNT), [{ userName: 'admin-bot', tags: { 'aws-rekey:owner': 'platform@example.com' } }]);
  for (const account of accounts) {
    await seedUsers(await accountIam(moto.endpoint, account.id), [
      { userName: 'deployer', tags: { 'aws-rekey:owner': `deployer@${account.name}.example.com` } },
      { userName: 'break-glass', tags: { 'aws-rekey:exempt': '2099-12-31', 'aws-rekey:exempt-reason': 'emergency access' } },
    ]);
  }
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

describe('aws-rekey org report', () => {
  it('--role: every account of the organisation, the management account with the caller\'s own credentials (--json)', async () => {
    const run = await runCli(['org', 'report', '--role', 'aws-rekey-member', '--json'], env(100));
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ ok: true, schemaVersion: 1, mode: 'report', scope: 'organization' });
    expect(result.accounts.map((a: { id: string }) => a.id).sort()).toEqual([MANAGEMENT_ACCOUNT, ...accounts.map((a) => a.id)].sort());
    const prod = result.accounts.find((a: { id: string }) => a.id === accounts[0]?.id);
    expect(prod.source).toBe('credential-report');
    const users = Object.fromEntries(prod.users.map((u: { userName: string }) => [u.userName, u]));
    expect(users.deployer.keys[0]).toMatchObject({ action: 'rotate', level: 'yellow', findings: ['old', 'unused'] });
    // Inspected (something is due): the key id comes from ListAccessKeys.
    expect(users.deployer.keys[0].accessKeyId).toMatch(/^AKIA/);
    expect(users.deployer.owner).toBe('deployer@prod.example.com');
    expect(users['break-glass'].exemption).toEqual({ by: 'tag', until: '2099-12-31', reason: 'emergency access' });
    expect(users['break-glass'].keys[0].action).toBe('none');
    expect(result.summary).toMatchObject({ accounts: 3, failedAccounts: 0, users: 5, keys: 5, due: { rotate: 3, deactivate: 0, delete: 0 }, exemptUsers: 2 });
    // report mode sends nothing
    expect(await sentMail(moto.endpoint)).toEqual([]);
  });

  it('the table: masked key ids, levels, what is next, exemptions; --fail exits 4 when something is due', async () => {
    const run = await runCli(['org', 'report', '--role', 'aws-rekey-member', '--exclude-account', MANAGEMENT_ACCOUNT, '--fail'], env(85));
    expect(run.code, run.stderr).toBe(0); // 85 days: only warnings, nothing due
    expect(run.stdout).toMatch(/ACCOUNT\s+USER\s+KEY\s+STATUS\s+AGE\s+LEVEL\s+NEXT\s+FINDINGS/);
    expect(run.stdout).toMatch(/deployer\s+AKIA…\w{4}\s+Active\s+85 d\s+green\s+rotate \d{4}-\d{2}-\d{2}/);
    expect(run.stdout).toMatch(/break-glass .*exempt \(tag until 2099-12-31: emergency access\)/);
    expect(run.stdout).toContain(`skipped ${MANAGEMENT_ACCOUNT} (master): account excluded`);
    expect(run.stdout).not.toMatch(/AKIA[A-Z0-9]{16}/);
    const due = await runCli(['org', 'report', '--role', 'aws-rekey-member', '--fail'], env(95));
    expect(due.code).toBe(4);
  });

  it('--csv: one row per key that needs a person, with its id and owner; keys that need nothing are counted, --all lists them too', async () => {
    proxy.reset();
    const run = await runCli(['org', 'report', '--csv'], env(10));
    expect(run.code, run.stderr).toBe(0);
    // Without --role: only the current account. A 10-day-old key needs nothing: the credential report decided
    // alone (no per-user request), and there is no row.
    expect(run.stdout.trim().split('\n')).toEqual(['account,user,access_key_id,status,created,age_days,level,next,findings,exemption,owner']);
    expect(proxy.counts()).not.toHaveProperty('ListAccessKeys');
    const table = await runCli(['org', 'report'], env(10));
    expect(table.stdout).toContain('No key needs attention.');
    expect(table.stdout).toContain('Not listed: 1 key that needs nothing now (--all lists every key).');
    // --all: the key's id and owner (ListAccessKeys, ListUserTags), its last use from the report (no GetAccessKeyLastUsed).
    proxy.reset();
    const all = await runCli(['org', 'report', '--csv', '--all'], env(10));
    expect(all.stdout.trim().split('\n')[1]).toMatch(new RegExp(`^${MANAGEMENT_ACCOUNT},admin-bot,AKIA[A-Z0-9]{16},Active,\\d{4}-\\d{2}-\\d{2},10,green,,,,platform@example.com$`));
    expect(proxy.counts()).toMatchObject({ ListAccessKeys: 1, ListUserTags: 1 });
    expect(proxy.counts()).not.toHaveProperty('GetAccessKeyLastUsed');
    // A key unused for 45 days is a finding (CIS) the engine never acts on: listed with its id and owner,
    // for the same two requests.
    proxy.reset();
    const unused = await runCli(['org', 'report', '--csv'], env(50));
    expect(unused.stdout.trim().split('\n')[1]).toMatch(new RegExp(`^${MANAGEMENT_ACCOUNT},admin-bot,AKIA[A-Z0-9]{16},Active,.*,50,green,,unused,,platform@example.com$`));
    expect(proxy.counts()).not.toHaveProperty('GetAccessKeyLastUsed');
    // Due: inspected (keys, last use, tags).
    const due = await runCli(['org', 'report', '--csv'], env(100));
    expect(due.stdout.trim().split('\n')[1]).toMatch(new RegExp(`^${MANAGEMENT_ACCOUNT},admin-bot,AKIA[A-Z0-9]{16},Active,.*,100,yellow,rotate now,old;unused,,platform@example.com$`));
  });

  it('refuses contradictory periods before calling AWS (exit 2, every reason named)', async () => {
    proxy.reset();
    const run = await runCli(['org', 'report', '--warn-before', '10', '--rotate-after', 'soon'], env(0));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/rotateAfterDays must be a whole number of days/);
    expect(proxy.counts()).toEqual({});
  });

  it('a role name IAM would refuse is refused before any call (exit 2)', async () => {
    const run = await runCli(['org', 'report', '--role', 'x'.repeat(65)], env(0));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--role '.*' is not an IAM role name/);
  });
});

describe('aws-rekey org run --mode notify', () => {
  it('needs --yes and somewhere to send', async () => {
    const noYes = await runCli(['org', 'run', '--mode', 'notify', '--mail-from', 'rekey@example.com'], env(85));
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/add --yes/);
    const nowhere = await runCli(['org', 'run', '--mode', 'notify', '--yes'], env(85));
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(/--topic-arn, --mail-from, or both/);
  });

  it('mails each owner once, naming the key and the date; nothing changes in IAM but the notice marker', async () => {
    const before = (await sentMail(moto.endpoint)).length;
    const args = ['org', 'run', '--mode', 'notify', '--role', 'aws-rekey-member', '--mail-from', 'rekey@example.com', '--yes', '--json'];
    const run = await runCli(args, env(85));
    expect(run.code, run.stderr).toBe(0);
    const mails = (await sentMail(moto.endpoint)).slice(before);
    // Each owner (once: a mail whose answer was lost can be sent again by the SDK's retry, so count owners).
    expect([...new Set(mails.map((m) => recipientsOf(m)[0]))].sort()).toEqual(['deployer@dev.example.com', 'deployer@prod.example.com', 'platform@example.com']);
    const sentByFirstRun = mails.length;
    expect(mails[0]?.body).toMatch(/AKIA…\w{4}: rotation \(a new key is created and delivered\) is planned for/);
    expect(mails[0]?.body).not.toMatch(/AKIA[A-Z0-9]{16}/);
    const again = await runCli(args, env(85));
    expect(again.code).toBe(0);
    expect((await sentMail(moto.endpoint)).length - before).toBe(sentByFirstRun);
  });
});

/** The parts of an account in `org run --json` that these tests read. */
interface OpsAccount {
  id: string;
  users: Array<{ userName: string; keys: Array<{ accessKeyId: string; action: string; findings: string[] }> }>;
  done: Array<{ newKeyId?: string }>;
}

describe('aws-rekey org run --digest', () => {
  it('--digest account: one summary per account to --digest-to; without --mail-from, refused (exit 2)', async () => {
    const noSender = await runCli(['org', 'run', '--mode', 'notify', '--topic-arn', 'arn:aws:sns:us-east-1:123456789012:x', '--digest', 'owner', '--yes'], env(85));
    expect(noSender.code).toBe(2);
    expect(noSender.stderr).toMatch(/--digest owner sends mail: add --mail-from ADDRESS/);
    const before = (await sentMail(moto.endpoint)).length;
    const args = ['org', 'run', '--mode', 'notify', '--role', 'aws-rekey-member', '--mail-from', 'rekey@example.com', '--digest', 'account', '--digest-to', 'platform@example.com', '--yes'];
    const run = await runCli(args, env(85));
    expect(run.code, run.stderr).toBe(0);
    const mails = (await sentMail(moto.endpoint)).slice(before);
    // The owners had these notices already (the notify test above): only the three account digests go out.
    // Counted by account, as the notify test counts owners: a mail whose answer was lost can be sent again by
    // the SDK's retry (seen once in a full run: four mails, one account's twice).
    expect(mails.every((m) => recipientsOf(m).join() === 'platform@example.com')).toBe(true);
    const digested = mails.map((m) => m.subject.replace(/^aws-rekey: \d{4}-\d{2}-\d{2} digest of account (\d{12}) \(notify\): .*$/, '$1'));
    expect([...new Set(digested)].sort()).toEqual([MANAGEMENT_ACCOUNT, ...accounts.map((a) => a.id)].sort());
  });
});

describe('aws-rekey org run --mode enforce', () => {
  // An account of its own, made now: the runs above never saw it, and every run here names it alone.
  let ops = '';
  let opsIam: IAMClient;
  let seeded: Map<string, Array<{ accessKeyId: string }>>;
  const enforce = (...more: string[]) => ['org', 'run', '--mode', 'enforce', '--role', 'aws-rekey-member', '--include-account', ops, '--verify-successes', '1', ...more];
  const opsOf = (result: { accounts: OpsAccount[] }): OpsAccount => result.accounts.find((a) => a.id === ops) ?? { id: ops, users: [], done: [] };
  const keysNow = async () => ({ ci: await keysOf(opsIam, 'ci-bot'), two: await keysOf(opsIam, 'two-keys') });

  beforeAll(async () => {
    ops = (await createAccounts(moto.endpoint, ['ops']))[0]?.id ?? '';
    opsIam = await accountIam(moto.endpoint, ops);
    seeded = await seedUsers(opsIam, [
      { userName: 'ci-bot', tags: { 'aws-rekey:owner': 'ci@ops.example.com' } },
      { userName: 'two-keys', keys: 2, tags: { 'aws-rekey:owner': 'legacy@ops.example.com' } },
    ]);
  }, 60_000);

  it('without --yes and without a terminal: refused before any call (exit 2), naming --yes and --dry-run', async () => {
    proxy.reset();
    const run = await runCli(enforce(), env(91));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/org run --mode enforce changes keys and sends events and mails, and there is no terminal to confirm it on: add --yes/);
    expect(run.stderr).toMatch(/--dry-run/);
    expect(proxy.counts()).toEqual({});
  });

  it('--dry-run: the plan (the key due for rotation, the conflict), and nothing changes in IAM or Secrets Manager, nothing is sent', async () => {
    const before = await keysNow();
    const mailsBefore = (await sentMail(moto.endpoint)).length;
    proxy.reset();
    const run = await runCli(enforce('--dry-run', '--mail-from', 'rekey@example.com', '--json'), env(91));
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ ok: true, schemaVersion: 1, mode: 'enforce', dryRun: true, summary: { accounts: 1, due: { rotate: 1, deactivate: 0, delete: 0 }, findings: { conflict: 2 } } });
    const ciBot = opsOf(result).users.find((u) => u.userName === 'ci-bot');
    expect(ciBot?.keys[0]).toMatchObject({ accessKeyId: seeded.get('ci-bot')?.[0]?.accessKeyId, action: 'rotate' });
    expect(opsOf(result).done).toEqual([]);
    // Only reads were sent.
    expect(Object.keys(proxy.counts()).filter((action) => !/^(Get|List|Generate|AssumeRole)/.test(action))).toEqual([]);
    expect(await keysNow()).toEqual(before);
    expect(await userTags(opsIam, 'ci-bot')).toEqual({ 'aws-rekey:owner': 'ci@ops.example.com' });
    expect((await accountSecrets(moto.endpoint, ops)).names).toEqual([]);
    expect((await sentMail(moto.endpoint)).length).toBe(mailsBefore);
    // The human plan names the key and says nothing happened.
    const text = await runCli(enforce('--dry-run'), env(91));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/ci-bot\s+AKIA…\w{4}\s+Active\s+91 d\s+yellow\s+rotate now/);
    expect(text.stdout).toContain('Dry run of mode enforce: nothing was changed or sent.');
  });

  it("--yes --json: the due key is rotated into the user's secret and the owner mailed; two active keys are a conflict, reported and left alone", async () => {
    const old = seeded.get('ci-bot')?.[0]?.accessKeyId;
    const mailsBefore = (await sentMail(moto.endpoint)).length;
    const run = await runCli(enforce('--yes', '--mail-from', 'rekey@example.com', '--json'), env(91));
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ ok: true, mode: 'enforce', dryRun: false });
    const done = opsOf(result).done;
    expect(done).toEqual([{ userName: 'ci-bot', accessKeyId: old, done: 'rotated', newKeyId: expect.stringMatching(/^AKIA/) }]);
    const newKeyId = done[0]?.newKeyId ?? '';

    // IAM: the new key beside the old one (deactivated days later, if unused since); the delivery recorded.
    const keys = await keysNow();
    expect(keys.ci.map((k) => [k.accessKeyId, k.status]).sort()).toEqual([[old, 'Active'], [newKeyId, 'Active']].sort());
    const tags = await userTags(opsIam, 'ci-bot');
    expect(tags['aws-rekey:replacement']).toBe(newKeyId);
    expect(tags['aws-rekey:rotation']).toBeUndefined();
    // Secrets Manager: the pair in aws-rekey/ci-bot, and nowhere in the output.
    const secret = await (await accountSecrets(moto.endpoint, ops)).value('aws-rekey/ci-bot');
    expect(secret).toMatchObject({ accessKeyId: newKeyId, userName: 'ci-bot', secretAccessKey: expect.stringMatching(/^.{40}$/) });
    expect(run.stdout).not.toContain(secret?.secretAccessKey);
    expect(run.stderr).not.toContain(secret?.secretAccessKey);
    // The conflict: both keys named, neither touched, no secret.
    const twoKeys = opsOf(result).users.find((u: { userName: string }) => u.userName === 'two-keys');
    expect(twoKeys?.keys.map((k) => [k.accessKeyId, k.action, k.findings.includes('conflict')])).toEqual(
      seeded.get('two-keys')?.map((k) => [k.accessKeyId, 'none', true]),
    );
    expect(keys.two.map((k) => k.status)).toEqual(['Active', 'Active']);
    expect((await accountSecrets(moto.endpoint, ops)).names).toEqual(['aws-rekey/ci-bot']);
    // Mails: ci-bot's owner learns where the new key is; the conflict's owner is asked to decide.
    const mails = (await sentMail(moto.endpoint)).slice(mailsBefore);
    const to = (address: string) => mails.filter((m) => recipientsOf(m).includes(address));
    expect(to('ci@ops.example.com')[0]?.body).toMatch(/replaced by a new key on .*secret aws-rekey\/ci-bot of account/);
    expect(to('legacy@ops.example.com')[0]?.body).toMatch(/two active keys, and no record of which one replaced the other: decide by hand/);
  });

  it('run again: nothing is due, nothing changes (exit 0); --fail exits 4 while the conflict waits for a person', async () => {
    const before = await keysNow();
    const again = await runCli(enforce('--yes'), env(91));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Mode enforce: done: nothing was due.');
    expect(again.stdout).toMatch(/two-keys\s+AKIA…\w{4}\s+Active.*conflict/);
    expect(await keysNow()).toEqual(before);
    const failing = await runCli(enforce('--yes', '--fail'), env(91));
    expect(failing.code).toBe(4);
    expect(await keysNow()).toEqual(before);
  });
});
