import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateAccessKeyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { writeJournal } from '../../src/credentials/journal.js';
import { describe, expect, inject, it } from 'vitest';
import { shellQuote } from '../../src/core/shell.js';
import { BIN, credentialsFile, runCli, type CliRun, type TempHome } from '../support/cli.js';
import type { RequestLogEntry } from '../support/fault-proxy.js';
import { createUserWithKey, uniqueName, type SeededUser } from '../support/iam.js';
import { FAST, sharedFaultProxy, tempHome } from '../support/integration.js';
import { accountIam, keysOf, MANAGEMENT_ACCOUNT, seedUsers } from '../support/org.js';

/*
 * Issue 17, part 4: an admin profile with role_arn + mfa_serial is assumed once per run, with the code
 * given by --mfa-code (a scripted or scheduled run) or typed once at the prompt. The role is in a second
 * account (moto runs calls made with an assumed role in the role's account), where the user lives. moto
 * accepts any code; the fault proxy counts the AssumeRole requests and shows their parameters, and plays
 * AWS's answer to a wrong code.
 */

const endpoint = inject('motoEndpoint');
const OTHER_ACCOUNT = '111111111111';
const proxy = sharedFaultProxy(endpoint);

interface MfaAdmin {
  home: TempHome;
  admin: SeededUser;
  serial: string;
  roleArn: string;
  /** NAME in the second account, and its key before the run. */
  userName: string;
  old: { accessKeyId: string; secretAccessKey: string };
  iamB: IAMClient;
}

/** [admin] holds the admin's key; [profile key-admin] assumes a role in the second account with MFA, as the AWS CLI reads it. */
async function mfaAdmin(): Promise<MfaAdmin> {
  const admin = await createUserWithKey(endpoint, uniqueName('admin'));
  const serial = `arn:aws:iam::${MANAGEMENT_ACCOUNT}:mfa/${admin.userName}`;
  const roleArn = `arn:aws:iam::${OTHER_ACCOUNT}:role/KeyAdmin`;
  const userName = uniqueName('ci');
  const iamB = await accountIam(endpoint, OTHER_ACCOUNT);
  const pairs = await seedUsers(iamB, [{ userName }]);
  const home = await tempHome({
    endpoint: proxy.endpoint,
    credentials: credentialsFile({ admin }),
    config: [
      '[profile key-admin]',
      `role_arn = ${roleArn}`,
      'source_profile = admin',
      `mfa_serial = ${serial}`,
      'role_session_name = rekey-admin',
      'duration_seconds = 900',
      'external_id = ticket-42',
      '',
      '[profile plain-admin]',
      `role_arn = ${roleArn}`,
      'source_profile = admin',
      '',
    ].join('\n'),
  });
  return { home, admin, serial, roleArn, userName, old: pairs.get(userName)![0]!, iamB };
}

function assumeRoles(): RequestLogEntry[] {
  return proxy.log.filter((e) => e.action === 'AssumeRole');
}

/** One AssumeRole since `from` in the log, signed by the admin's key, with the profile's settings and this code. */
function expectOneAssumeRole(s: MfaAdmin, code: string, from = 0): string {
  const assumed = proxy.log.slice(from).filter((e) => e.action === 'AssumeRole');
  expect(assumed).toHaveLength(1);
  expect(assumed[0]).toMatchObject({
    accessKeyId: s.admin.accessKeyId,
    params: expect.objectContaining({
      RoleArn: s.roleArn,
      SerialNumber: s.serial,
      TokenCode: code,
      RoleSessionName: 'rekey-admin',
      DurationSeconds: '900',
      ExternalId: 'ticket-42',
    }),
  });
  // Every IAM call of the run was signed with the one set of role credentials.
  const iam = proxy.log.slice(from).filter((e) => ['GetUser', 'ListAccessKeys', 'CreateAccessKey', 'UpdateAccessKey', 'DeleteAccessKey'].includes(e.action));
  expect(iam.length).toBeGreaterThan(0);
  const signers = new Set(iam.map((e) => e.accessKeyId));
  expect(signers.size).toBe(1);
  const [roleKey] = [...signers];
  expect(roleKey).toMatch(/^ASIA/);
  return roleKey!;
}

/** One AssumeRole since `from`, with this code, and every other call since signed with the role's credentials it gave. */
function expectOneRoleSession(s: MfaAdmin, code: string, from: number): void {
  const calls = proxy.log.slice(from);
  const assumed = calls.filter((e) => e.action === 'AssumeRole');
  expect(assumed).toHaveLength(1);
  expect(assumed[0]).toMatchObject({ accessKeyId: s.admin.accessKeyId, params: expect.objectContaining({ RoleArn: s.roleArn, SerialNumber: s.serial, TokenCode: code }) });
  const signers = new Set(calls.filter((e) => e.action !== 'AssumeRole').map((e) => e.accessKeyId));
  expect(signers.size).toBe(1);
  expect([...signers][0]).toMatch(/^ASIA/);
}

function doc<T = Record<string, unknown>>(run: CliRun): T {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

async function expectUnchanged(s: MfaAdmin): Promise<void> {
  expect(await keysOf(s.iamB, s.userName)).toEqual([{ accessKeyId: s.old.accessKeyId, status: 'Active' }]);
  expect(proxy.log.map((e) => e.action)).not.toContain('CreateAccessKey');
}

/**
 * The CLI on a pseudo-terminal (util-linux `script`), so that it prompts. `answer` is typed once, at the first
 * `prompt`: a second prompt would wait for an answer that never comes, and the run is then killed (exit null).
 */
function runOnTerminal(args: string[], env: NodeJS.ProcessEnv, prompt: string, answer: string): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...env, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let output = '';
  let answered = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (!answered && output.includes(prompt)) {
      answered = true;
      child.stdin.write(`${answer}\r`);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    });
  });
}

describe('an admin profile with role_arn + mfa_serial (issue 17.4)', () => {
  it('rotate --user --mfa-code: one AssumeRole with the code and the profile\'s settings; the user of the second account is rotated', async () => {
    const s = await mfaAdmin();
    const out = join(s.home.home, 'ci.credentials');
    const run = await runCli(['rotate', '--user', s.userName, '--profile', 'key-admin', '--mfa-code', '123456', '--out', out, '-y', '--json', ...FAST], s.home.env);
    const result = doc<{ status: string; user: { account: string; arn: string } }>(run);
    expect(result).toMatchObject({ status: 'rotated', user: { account: OTHER_ACCOUNT, arn: `arn:aws:iam::${OTHER_ACCOUNT}:user/${s.userName}` } });
    const roleKey = expectOneAssumeRole(s, '123456');
    // Who the admin is was asked with the role's credentials too (the account of the records).
    expect(proxy.log.filter((e) => e.action === 'GetCallerIdentity' && e.accessKeyId === roleKey)).toHaveLength(1);

    const keys = await keysOf(s.iamB, s.userName);
    const fresh = keys.find((k) => k.accessKeyId !== s.old.accessKeyId);
    expect(keys).toEqual(expect.arrayContaining([{ accessKeyId: s.old.accessKeyId, status: 'Inactive' }, { accessKeyId: fresh?.accessKeyId, status: 'Active' }]));
    expect(await readFile(out, 'utf8')).toContain(`aws_access_key_id = ${fresh?.accessKeyId}`);
  });

  it('on a terminal without --mfa-code: asked once ("Enter MFA code for ARN:", as the AWS CLI asks), one AssumeRole', async () => {
    const s = await mfaAdmin();
    const out = join(s.home.home, 'ci.credentials');
    const prompt = `Enter MFA code for ${s.serial}:`;
    const run = await runOnTerminal(['rotate', '--user', s.userName, '--profile', 'key-admin', '--out', out, '-y', ...FAST], s.home.env, prompt, '654321');
    // Answered once and done: a second prompt would have kept it waiting.
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(prompt);
    expect(run.output).not.toContain('654321');
    expectOneAssumeRole(s, '654321');
    expect((await keysOf(s.iamB, s.userName)).map((k) => k.status).sort()).toEqual(['Active', 'Inactive']);
  });

  it('a scripted admin session: --stage create, --stage retire, prune --user, --stage delete and audit, each with its own code and one AssumeRole', async () => {
    const s = await mfaAdmin();
    const out = join(s.home.home, 'ci.credentials');
    const admin = ['--profile', 'key-admin'];

    let from = proxy.log.length;
    const created = doc<{ status: string; newKeyId: string }>(
      await runCli(['rotate', '--user', s.userName, ...admin, '--stage', 'create', '--out', out, '--mfa-code', '111111', '-y', '--json', ...FAST], s.home.env),
    );
    expect(created.status).toBe('staged');
    expectOneAssumeRole(s, '111111', from);

    from = proxy.log.length;
    const retired = doc<{ status: string; rotation: { stage: string; account: string } }>(
      await runCli(['rotate', '--user', s.userName, ...admin, '--stage', 'retire', '--mfa-code', '222222', '-y', '--json'], s.home.env),
    );
    expect(retired).toMatchObject({ status: 'done', rotation: { stage: 'retired', account: OTHER_ACCOUNT } });
    expectOneAssumeRole(s, '222222', from);
    expect(await keysOf(s.iamB, s.userName)).toEqual(
      expect.arrayContaining([{ accessKeyId: s.old.accessKeyId, status: 'Inactive' }, { accessKeyId: created.newKeyId, status: 'Active' }]),
    );

    from = proxy.log.length;
    const pruned = doc<{ deleted: Array<{ accessKeyId: string }> }>(await runCli(['prune', '--user', s.userName, ...admin, '--mfa-code', '333333', '--dry-run', '--json'], s.home.env));
    expect(pruned.deleted.map((k) => k.accessKeyId)).toEqual([s.old.accessKeyId]);
    expectOneAssumeRole(s, '333333', from);

    from = proxy.log.length;
    const deleted = doc<{ status: string; action: string }>(await runCli(['rotate', '--user', s.userName, ...admin, '--stage', 'delete', '--mfa-code', '555555', '-y', '--json'], s.home.env));
    expect(deleted).toMatchObject({ action: 'delete', status: 'done' });
    expectOneAssumeRole(s, '555555', from);
    expect(proxy.log.slice(from).find((e) => e.action === 'DeleteAccessKey')?.params.AccessKeyId).toBe(s.old.accessKeyId);

    from = proxy.log.length;
    const audit = doc<{ keys: Array<{ userName: string; accessKeyId: string }> }>(
      await runCli(['audit', ...admin, '--user', s.userName, '--mfa-code', '444444', '--json'], s.home.env),
    );
    expect(audit.keys.map((k) => k.accessKeyId)).toEqual([created.newKeyId]);
    expectOneAssumeRole(s, '444444', from);
  });

  it('rollback --user --delete-new with --mfa-code, the admin profile named by AWS_PROFILE: one AssumeRole; the old key is back and the new one gone', async () => {
    const s = await mfaAdmin();
    const out = join(s.home.home, 'ci.credentials');
    doc(await runCli(['rotate', '--user', s.userName, '--profile', 'key-admin', '--stage', 'create', '--out', out, '--mfa-code', '111111', '-y', '--json', ...FAST], s.home.env));
    const from = proxy.log.length;
    const rolled = doc<{ status: string }>(
      await runCli(['rollback', '--user', s.userName, '--delete-new', '--mfa-code', '222222', '-y', '--json', ...FAST], { ...s.home.env, AWS_PROFILE: 'key-admin' }),
    );
    expect(rolled.status).toBe('done');
    expectOneAssumeRole(s, '222222', from);
    expect(await keysOf(s.iamB, s.userName)).toEqual([{ accessKeyId: s.old.accessKeyId, status: 'Active' }]);
  });

  it('--auth-profile names the MFA role as well: rotate --user, and a profile\'s own rotation whose IAM calls the role makes', async () => {
    const s = await mfaAdmin();
    const out = join(s.home.home, 'ci.credentials');
    doc(await runCli(['rotate', '--user', s.userName, '--auth-profile', 'key-admin', '--mfa-code', '123456', '--out', out, '-y', '--json', ...FAST], s.home.env));
    expectOneAssumeRole(s, '123456');

    // A profile whose user lives in the role's account, rotated with the role making the IAM calls.
    const [work] = (await seedUsers(s.iamB, [{ userName: uniqueName('work') }])).values();
    await writeFile(s.home.credentialsPath, credentialsFile({ admin: s.admin, work: work![0]! }), { mode: 0o600 });
    const from = proxy.log.length;
    const rotated = doc<{ status: string }>(await runCli(['--profile', 'work', '--auth-profile', 'key-admin', '--mfa-code', '654321', '-y', '--json', ...FAST], s.home.env));
    expect(rotated.status).toBe('rotated');
    expectOneAssumeRole(s, '654321', from);
    // The role's session is the MFA session: no sts:GetSessionToken of the work key.
    expect(proxy.log.slice(from).map((e) => e.action)).not.toContain('GetSessionToken');

    const listed = await runCli(['keys', '--profile', 'work', '--auth-profile', 'key-admin', '--mfa-code', '111111', '--json'], s.home.env);
    expect(doc<{ keys: unknown[] }>(listed).keys).toHaveLength(2);
  });

  it('rotate --profile a --profile b --auth-profile (the MFA role) --mfa-code: one AssumeRole for both plans and both rotations', async () => {
    const s = await mfaAdmin();
    const pairs = await seedUsers(s.iamB, [{ userName: uniqueName('app1') }, { userName: uniqueName('app2') }]);
    const [one, two] = [...pairs.values()].map((keys) => keys[0]!);
    await writeFile(s.home.credentialsPath, credentialsFile({ admin: s.admin, app1: one!, app2: two! }), { mode: 0o600 });
    const many = doc<{ exitCode: number; results: Array<{ profiles: string[]; status: string }> }>(
      await runCli(['rotate', '--profile', 'app1', '--profile', 'app2', '--auth-profile', 'key-admin', '--mfa-code', '123456', '-y', '--json', ...FAST], s.home.env),
    );
    expect(many.exitCode).toBe(0);
    expect(many.results.map((r) => [r.profiles, r.status])).toEqual([
      [['app1'], 'rotated'],
      [['app2'], 'rotated'],
    ]);
    expectOneAssumeRole(s, '123456');
  });

  it('recover --auth-profile (the MFA role) --mfa-code: an interrupted rotation is finished with one AssumeRole', async () => {
    const s = await mfaAdmin();
    const workName = uniqueName('work');
    const [old] = (await seedUsers(s.iamB, [{ userName: workName }])).get(workName)!;
    // A crash right after CreateAccessKey: the new secret only in the journal, the profile still on the old key.
    const created = (await s.iamB.send(new CreateAccessKeyCommand({ UserName: workName }))).AccessKey!;
    await writeFile(s.home.credentialsPath, credentialsFile({ admin: s.admin, work: old! }), { mode: 0o600 });
    const now = new Date().toISOString();
    await writeJournal({
      version: 1,
      profile: 'work',
      profiles: ['work'],
      credentialsPath: s.home.credentialsPath,
      userName: workName,
      userArn: `arn:aws:iam::${OTHER_ACCOUNT}:user/${workName}`,
      oldKeyId: old!.accessKeyId,
      oldSecretAccessKey: old!.secretAccessKey,
      keysBefore: [old!.accessKeyId],
      retire: 'deactivate',
      phase: 'created',
      newKey: { accessKeyId: created.AccessKeyId!, secretAccessKey: created.SecretAccessKey! },
      startedAt: now,
      updatedAt: now,
    });
    const recovered = doc<{ outcome: string }>(await runCli(['recover', '--profile', 'work', '--auth-profile', 'key-admin', '--mfa-code', '123456', '--json', ...FAST], s.home.env));
    expect(recovered.outcome).toBe('finished');
    expectOneAssumeRole(s, '123456');
    expect(await s.home.readCredentials()).toContain(`aws_access_key_id = ${created.AccessKeyId}`);
    expect(await keysOf(s.iamB, workName)).toEqual(
      expect.arrayContaining([{ accessKeyId: old!.accessKeyId, status: 'Inactive' }, { accessKeyId: created.AccessKeyId, status: 'Active' }]),
    );
  });

  it('org report and org run --mode enforce with --mfa-code: one AssumeRole each, every call signed by that role; the run\'s plan and the run share it', async () => {
    const s = await mfaAdmin();
    const from = proxy.log.length;
    const report = doc<{ scope: string; accounts: Array<{ id: string; users: Array<{ userName: string }> }> }>(
      await runCli(['org', 'report', '--profile', 'key-admin', '--mfa-code', '777777', '--all', '--json'], s.home.env),
    );
    expect(report.scope).toBe('account');
    expect(report.accounts.map((a) => a.id)).toEqual([OTHER_ACCOUNT]);
    expect(report.accounts[0]?.users.map((u) => u.userName)).toContain(s.userName);
    expectOneRoleSession(s, '777777', from);

    // On a terminal, without --yes: the plan, the question, then the run; the code is used once.
    const next = proxy.log.length;
    const run = await runOnTerminal(['org', 'run', '--mode', 'enforce', '--profile', 'key-admin', '--mfa-code', '888888', ...FAST], s.home.env, 'Rotate 0 keys', 'y');
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/✔ Rotate 0 keys, deactivate 0 keys and delete 0 keys as above, and send the\s+events and mails\? Yes/);
    expect(run.output).toContain('Mode enforce: done: nothing was due.');
    expectOneRoleSession(s, '888888', next);
    await expectUnchanged(s);
  });

  describe('refused before anything changes', () => {
    it('no terminal and no --mfa-code: exit 2, the error names the device and --mfa-code; no AssumeRole is sent', async () => {
      const s = await mfaAdmin();
      const out = join(s.home.home, 'ci.credentials');
      for (const args of [
        ['rotate', '--user', s.userName, '--profile', 'key-admin', '--out', out, '-y', '--json', ...FAST],
        ['rotate', '--user', s.userName, '--profile', 'key-admin', '--stage', 'retire', '-y', '--json'],
        ['prune', '--user', s.userName, '--profile', 'key-admin', '-y', '--json'],
        ['audit', '--profile', 'key-admin', '--json'],
        ['org', 'report', '--profile', 'key-admin', '--json'],
        ['org', 'run', '--mode', 'enforce', '--profile', 'key-admin', '--dry-run', '--json'],
      ]) {
        const run = await runCli(args, s.home.env);
        expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
        expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'MFA_CODE_NEEDED' } });
        expect(run.stderr).toContain(`error: Profile 'key-admin' assumes its role with the MFA device ${s.serial} (mfa_serial), and there is no terminal to ask for the code.`);
        expect(run.stderr).toMatch(/^hint: Pass the code the device shows now with --mfa-code CODE/m);
      }
      expect(assumeRoles()).toEqual([]);
      await expectUnchanged(s);
    });

    it('a wrong or expired code: AWS refuses the AssumeRole; exit 2, the error says to run again with the current code; asked once', async () => {
      const s = await mfaAdmin();
      proxy.setRules([{ action: 'AssumeRole', fault: { kind: 'error', status: 403, code: 'AccessDenied', message: 'MultiFactorAuthentication failed with invalid MFA one time pass code.' } }]);
      const out = join(s.home.home, 'ci.credentials');
      const run = await runCli(['rotate', '--user', s.userName, '--profile', 'key-admin', '--mfa-code', '123456', '--out', out, '-y', '--json', ...FAST], s.home.env);
      expect(run.code, run.stderr).toBe(2);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'MFA_CODE_REJECTED' } });
      expect(run.stderr).toMatch(new RegExp(`^error: AWS did not accept the MFA code for ${s.serial.replace(/[/.]/g, '\\$&')} \\(admin profile 'key-admin'\\): MultiFactorAuthentication failed`, 'm'));
      expect(run.stderr).toMatch(/^hint: A code is good once, for about 30 seconds: run aws-rekey again with the code the device shows now \(--mfa-code CODE/m);
      expect(assumeRoles()).toHaveLength(1);
      await expectUnchanged(s);
    });

    it('--mfa-code that no role takes, or that is not 6 digits: a usage error, and no request at all', async () => {
      const s = await mfaAdmin();
      const out = join(s.home.home, 'ci.credentials');
      const unused = await runCli(['rotate', '--user', s.userName, '--profile', 'plain-admin', '--mfa-code', '123456', '--out', out, '-y'], s.home.env);
      expect(unused.code, unused.stderr).toBe(2);
      expect(unused.stderr).toMatch(/^error: --mfa-code is the code of the MFA device of a role profile \(mfa_serial beside role_arn\), and the admin profile 'plain-admin' has none\./m);
      const malformed = await runCli(['audit', '--profile', 'key-admin', '--mfa-code', '12ab56'], s.home.env);
      expect(malformed.code, malformed.stderr).toBe(2);
      expect(malformed.stderr).toMatch(/^error: The MFA code must be 6 digits, not '12ab56'\./m);
      const orgUnused = await runCli(['org', 'report', '--profile', 'plain-admin', '--mfa-code', '123456'], s.home.env);
      expect(orgUnused.code, orgUnused.stderr).toBe(2);
      expect(orgUnused.stderr).toMatch(/^error: --mfa-code is the code of the MFA device of a role profile \(mfa_serial beside role_arn\), and the profile 'plain-admin' has none\./m);
      const orgMalformed = await runCli(['org', 'run', '--mode', 'enforce', '--profile', 'key-admin', '--mfa-code', '1234', '--yes'], s.home.env);
      expect(orgMalformed.code, orgMalformed.stderr).toBe(2);
      expect(orgMalformed.stderr).toMatch(/^error: The MFA code must be 6 digits, not '1234'\./m);
      expect(proxy.log).toEqual([]);
      await expectUnchanged(s);
    });
  });
});
