import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../support/cli.js';
import { DUMMY_CREDENTIALS } from '../support/iam.js';
import { startMoto, type MotoHandle } from '../support/moto.js';
import { MANAGEMENT_ACCOUNT, accountIam, createOrganization, recipientsOf, seedUsers, sentMail, verifySender } from '../support/org.js';
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

  it('--csv: one row per key; a key the credential report alone decided has no id (the report has none)', async () => {
    const run = await runCli(['org', 'report', '--csv'], env(10));
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('account,user,access_key_id,status,created,age_days,level,next,findings,exemption,owner');
    // Without --role: only the current account.
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(new RegExp(`^${MANAGEMENT_ACCOUNT},admin-bot,,Active,\\d{4}-\\d{2}-\\d{2},10,green,,,,$`));
    // …nor its owner: the tags of users with nothing due are not read.
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
