import { randomBytes } from 'node:crypto';
import { chmod, chown, readdir, readFile, lstat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { credentialsFile, readableCliCopy, runCli, type CliRun, type RunCliOptions, type TempHome } from '../support/cli.js';
import type { FaultRule } from '../support/fault-proxy.js';
import { createUserWithKey, listKeys, setKeyStatus, uniqueName, type KeyInfo, type SeededUser } from '../support/iam.js';
import { FAST, sharedFaultProxy, tempHome } from '../support/integration.js';
import { setImmutable } from '../support/invariants.js';

/*
 * Every bad input ends in a clear error (the message names the problem, a `hint:` says the fix), the right
 * exit code (2: usage or profile problem, 1: AWS or operation failure), and no change at all: the ~/.aws
 * folder is byte-identical (no backup, journal or lock left), IAM holds the same keys, and no call that
 * changes IAM was made.
 */

const endpoint = inject('motoEndpoint');
const NOBODY = 65534;
const MUTATING = new Set(['CreateAccessKey', 'UpdateAccessKey', 'DeleteAccessKey']);

const proxy = sharedFaultProxy(endpoint);
const immutable: string[] = [];

// Before the homes are removed (when the test finishes): an immutable file cannot be.
afterEach(async () => {
  for (const path of immutable.splice(0)) await setImmutable(path, false);
});

interface Scene {
  user: SeededUser;
  home: TempHome;
  /** Every file and folder under ~/.aws with its content, before the run. */
  before: Map<string, string>;
  keysBefore: KeyInfo[];
}

/** A user with one key in profile `work` (plus an unrelated profile); the CLI reaches moto through the fault proxy. */
async function scene(options: { user?: SeededUser; credentials?: (user: SeededUser) => string; config?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Scene> {
  const user = options.user ?? (await createUserWithKey(endpoint, uniqueName('bad')));
  const body =
    options.credentials?.(user) ??
    credentialsFile({
      work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
      personal: { accessKeyId: fakeKeyId('AKIA'), secretAccessKey: 'personal-secret-not-used-here' },
    });
  const home = await tempHome({ endpoint: proxy.endpoint, credentials: body, ...(options.config ? { config: options.config } : {}), env: options.env });
  return { user, home, before: await snapshot(join(home.home, '.aws')), keysBefore: await listKeys(endpoint, user.userName) };
}

function fakeKeyId(prefix: 'AKIA' | 'ASIA'): string {
  return `${prefix}${randomBytes(8).toString('hex').toUpperCase()}`;
}

async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isDirectory()) {
      out.set(path, `dir ${(info.mode & 0o777).toString(8)}`);
      for (const [p, v] of await snapshot(path)) out.set(p, v);
    } else {
      out.set(path, `file ${(info.mode & 0o777).toString(8)} ${(await readFile(path)).toString('base64')}`);
    }
  }
  return out;
}

async function rekey(s: Scene, args: string[], env: NodeJS.ProcessEnv = {}, options?: RunCliOptions): Promise<CliRun> {
  return runCli([...args, '--yes', '--json', ...FAST], { ...s.home.env, ...env }, undefined, options);
}

interface ExpectedError {
  exit: 1 | 2;
  code: string;
  /** Every one of these appears in the `error:` line. */
  message: Array<string | RegExp>;
  hint: RegExp;
}

function expectError(run: CliRun, expected: ExpectedError): void {
  const context = `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;
  expect(run.code, context).toBe(expected.exit);
  const doc = JSON.parse(run.stdout) as { ok: boolean; error: { code: string; message: string; hint?: string; exitCode: number } };
  expect(doc, context).toMatchObject({ ok: false, error: { code: expected.code, exitCode: expected.exit } });
  const errorLine = /^error: (.*)$/m.exec(run.stderr)?.[1] ?? '';
  const hintLine = /^hint: (.*)$/m.exec(run.stderr)?.[1] ?? '';
  for (const part of expected.message) {
    if (typeof part === 'string') expect(errorLine, context).toContain(part);
    else expect(errorLine, context).toMatch(part);
  }
  expect(hintLine, context).toMatch(expected.hint);
  expect(doc.error.hint).toBe(hintLine);
  // No stack traces, no "Unexpected error".
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

async function expectNothingChanged(s: Scene): Promise<void> {
  expect(await snapshot(join(s.home.home, '.aws'))).toEqual(s.before);
  expect(await listKeys(endpoint, s.user.userName)).toEqual(s.keysBefore);
  expect(proxy.log.filter((entry) => MUTATING.has(entry.action))).toEqual([]);
}

const ROOT_IDENTITY = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:root</Arn>
    <UserId>123456789012</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>fault-proxy-root</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`;

describe('bad input: the profile', () => {
  it('no credentials file at all: exit 2, the message says so and names the path', async () => {
    const missing = join(tmpdir(), `aws-rekey-no-such-dir-${randomBytes(4).toString('hex')}`, 'credentials');
    const s = await scene({ env: { AWS_SHARED_CREDENTIALS_FILE: missing } });
    const run = await rekey(s, ['--profile', 'work']);
    expectError(run, { exit: 2, code: 'PROFILE_NOT_FOUND', message: ['there is no credentials file', missing], hint: /aws configure --profile work/ });
    await expectNothingChanged(s);
    await expect(lstat(missing)).rejects.toThrow();
    expect(proxy.log).toEqual([]);
  });

  it('a missing profile: exit 2, the message names it and the hint lists the profiles there', async () => {
    const s = await scene();
    const run = await rekey(s, ['--profile', 'nope']);
    expectError(run, { exit: 2, code: 'PROFILE_NOT_FOUND', message: ["'nope'", s.home.credentialsPath], hint: /Profiles there: work, personal\./ });
    await expectNothingChanged(s);
    expect(proxy.log).toEqual([]);
  });

  it('a profile with a session token: temporary credentials are refused', async () => {
    const s = await scene({
      credentials: (user) =>
        credentialsFile({ work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey, extra: 'aws_session_token = FwoGZXIvYXdzEXAMPLE\n' } }),
    });
    const run = await rekey(s, ['--profile', 'work']);
    expectError(run, { exit: 2, code: 'TEMPORARY_CREDENTIALS', message: ["'work'", 'temporary credentials', 'session token'], hint: /long-lived key/ });
    await expectNothingChanged(s);
    expect(proxy.log).toEqual([]);
  });

  it('a profile with an ASIA… key id: temporary credentials are refused', async () => {
    const s = await scene({
      credentials: (user) =>
        credentialsFile({
          work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
          session: { accessKeyId: fakeKeyId('ASIA'), secretAccessKey: 'session-secret' },
        }),
    });
    const run = await rekey(s, ['--profile', 'session']);
    expectError(run, { exit: 2, code: 'TEMPORARY_CREDENTIALS', message: ["'session'", 'ASIA'], hint: /long-lived key \(AKIA…\)/ });
    await expectNothingChanged(s);
    expect(proxy.log).toEqual([]);
  });

  it('a profile with no static keys (SSO in ~/.aws/config): says where its credentials come from', async () => {
    const config = [
      '[profile sso-dev]',
      'sso_start_url = https://example.awsapps.com/start',
      'sso_region = us-east-1',
      'sso_account_id = 123456789012',
      'sso_role_name = Developer',
      '',
    ].join('\n');
    const s = await scene({ config });
    const run = await rekey(s, ['--profile', 'sso-dev']);
    expectError(run, { exit: 2, code: 'NO_STATIC_KEYS', message: ["'sso-dev'", 'no long-lived access key', 'SSO', s.home.configPath], hint: /--auth-profile sso-dev/ });
    await expectNothingChanged(s);
    expect(proxy.log).toEqual([]);
  });

  it('a malformed credentials file: the error names the file and the line', async () => {
    const s = await scene({
      credentials: (user) =>
        ['[work]', `aws_access_key_id = ${user.accessKeyId}`, `aws_secret_access_key = ${user.secretAccessKey}`, '', '[other]', 'region eu-west-1', ''].join('\n'),
    });
    const run = await rekey(s, ['--profile', 'work']);
    expectError(run, { exit: 2, code: 'CREDENTIALS_MALFORMED', message: [`${s.home.credentialsPath}, line 6`], hint: /key = value/ });
    await expectNothingChanged(s);
    expect(proxy.log).toEqual([]);
  });

  // The AWS CLI refuses these files ("Unable to parse config file"); so does aws-rekey, before any AWS call.
  const refused: Array<{ name: string; file: (user: SeededUser) => string; lines: string; problem: RegExp; hint: RegExp }> = [
    {
      name: 'a section that appears twice',
      file: (user) => ['[work]', `aws_access_key_id = ${user.accessKeyId}`, '', '[personal]', 'region = x', '[work]', `aws_secret_access_key = ${user.secretAccessKey}`, ''].join('\n'),
      lines: 'lines 1 and 6',
      problem: /\[work] appears twice/,
      hint: /Merge the two \[work] sections/,
    },
    {
      name: 'a setting twice in one section, spelled in another case',
      file: (user) => ['[work]', `aws_access_key_id = ${user.accessKeyId}`, `aws_secret_access_key = ${user.secretAccessKey}`, `AWS_ACCESS_KEY_ID: ${user.accessKeyId}`, ''].join('\n'),
      lines: 'lines 2 and 4',
      problem: /"aws_access_key_id" is set twice in \[work]/,
      hint: /Keep one/,
    },
    {
      name: 'a byte-order mark',
      file: (user) => `\uFEFF${['[work]', `aws_access_key_id = ${user.accessKeyId}`, `aws_secret_access_key = ${user.secretAccessKey}`, ''].join('\r\n')}`,
      lines: 'line 1',
      problem: /byte-order mark/,
      hint: /without a BOM/,
    },
  ];
  for (const c of refused) {
    it(`${c.name}: refused like the AWS CLI does, naming the lines, exit 2, before any AWS call`, async () => {
      const s = await scene({ credentials: c.file });
      const run = await rekey(s, ['--profile', 'work']);
      expectError(run, { exit: 2, code: 'CREDENTIALS_MALFORMED', message: [`${s.home.credentialsPath}, ${c.lines}:`, c.problem], hint: c.hint });
      await expectNothingChanged(s);
      expect(proxy.log).toEqual([]);
    });
  }
});

describe('bad input: the key, as IAM sees it', () => {
  it('a key unknown to IAM (moto names a placeholder user/moto for it): refused, nothing changed', async () => {
    const s = await scene({
      credentials: (user) =>
        credentialsFile({
          work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
          stale: { accessKeyId: fakeKeyId('AKIA'), secretAccessKey: 'a-key-iam-never-issued' },
        }),
    });
    const run = await rekey(s, ['--profile', 'stale']);
    expectError(run, { exit: 1, code: 'KEY_UNKNOWN', message: ["profile stale", 'unknown to IAM'], hint: /Put a working key/ });
    await expectNothingChanged(s);
  });

  it('a key AWS rejects (InvalidClientTokenId, as AWS answers for an unknown or deleted key): refused, nothing changed', async () => {
    const s = await scene();
    proxy.setRules([{ action: 'GetCallerIdentity', fault: { kind: 'error', status: 403, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' } }]);
    const run = await rekey(s, ['--profile', 'work']);
    expectError(run, { exit: 1, code: 'KEY_REJECTED', message: ['profile work', 'unknown, deleted or inactive'], hint: /aws-rekey keys --user NAME --profile ADMIN/ });
    await expectNothingChanged(s);
    // Only reads: the key's own listing runs alongside GetCallerIdentity, and nothing follows the refusal.
    const actions = proxy.log.map((e) => e.action);
    expect(actions).toContain('GetCallerIdentity');
    expect(actions.filter((a) => !['GetCallerIdentity', 'ListAccessKeys', 'GetAccessKeyLastUsed'].includes(a))).toEqual([]);
  });

  it('an inactive key: found through iam:ListAccessKeys (moto itself accepts inactive keys), refused', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('inactive'));
    await setKeyStatus(endpoint, user.userName, user.accessKeyId, 'Inactive');
    const s = await scene({ user });
    expect(s.keysBefore.map((k) => k.status)).toEqual(['Inactive']);
    const run = await rekey(s, ['--profile', 'work']);
    expectError(run, { exit: 1, code: 'KEY_INACTIVE', message: ['profile work', 'inactive in IAM'], hint: /Reactivate it/ });
    await expectNothingChanged(s);
    expect(proxy.log.map((e) => e.action)).toContain('ListAccessKeys');
  });

  it("the root user's keys: refused (GetCallerIdentity answered with a root ARN by the fault proxy)", async () => {
    const s = await scene();
    proxy.setRules([{ action: 'GetCallerIdentity', fault: { kind: 'respond', status: 200, body: ROOT_IDENTITY } }]);
    const run = await rekey(s, ['--profile', 'work']);
    expectError(run, { exit: 1, code: 'ROOT_KEYS', message: ['root user', '123456789012', 'does not rotate root keys'], hint: /delete the key/ });
    await expectNothingChanged(s);
    // Only reads: the key's own listing runs alongside GetCallerIdentity, and nothing follows the refusal.
    const actions = proxy.log.map((e) => e.action);
    expect(actions).toContain('GetCallerIdentity');
    expect(actions.filter((a) => !['GetCallerIdentity', 'ListAccessKeys', 'GetAccessKeyLastUsed'].includes(a))).toEqual([]);
  });
});

describe('bad input: IAM refuses', () => {
  const denied = (action: string, userName: string): FaultRule => ({
    action,
    fault: {
      kind: 'error',
      status: 403,
      code: 'AccessDenied',
      message: `User: arn:aws:iam::123456789012:user/${userName} is not authorized to perform: iam:${action} on resource: user ${userName}`,
    },
  });

  it('AccessDenied on iam:CreateAccessKey: the message names the missing permission', async () => {
    const s = await scene();
    proxy.setRules([denied('CreateAccessKey', s.user.userName)]);
    const run = await rekey(s, ['--profile', 'work']);
    expectError(run, { exit: 1, code: 'ACCESS_DENIED', message: ['iam:CreateAccessKey', s.user.userName], hint: /Allow iam:CreateAccessKey/ });
    // The request was made (and refused): nothing else changed.
    expect(proxy.log.filter((e) => e.action === 'CreateAccessKey').map((e) => e.status)).toEqual([403]);
    proxy.log.splice(0);
    await expectNothingChanged(s);
  });

  it('AccessDenied on iam:ListAccessKeys: the message names the missing permission', async () => {
    const s = await scene();
    proxy.setRules([denied('ListAccessKeys', s.user.userName)]);
    const run = await rekey(s, ['--profile', 'work']);
    expectError(run, { exit: 1, code: 'ACCESS_DENIED', message: ['iam:ListAccessKeys', s.user.userName], hint: /Allow iam:ListAccessKeys/ });
    await expectNothingChanged(s);
  });

  it('LimitExceeded on iam:CreateAccessKey: says a limit was reached and how to make room', async () => {
    const s = await scene();
    proxy.setRules([{ action: 'CreateAccessKey', fault: { kind: 'error', status: 409, code: 'LimitExceeded', message: 'Cannot exceed quota for AccessKeysPerUser: 2' } }]);
    const run = await rekey(s, ['--profile', 'work']);
    expectError(run, { exit: 1, code: 'LIMIT_EXCEEDED', message: ['iam:CreateAccessKey', 'limit', 'AccessKeysPerUser'], hint: /two access keys/ });
    proxy.log.splice(0);
    await expectNothingChanged(s);
  });
});

describe('bad input: the connection', () => {
  it('no network (endpoint on a closed port): a network error naming the endpoint setting', async () => {
    const s = await scene();
    const run = await rekey(s, ['--profile', 'work'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:1' });
    expectError(run, { exit: 1, code: 'NETWORK', message: ['Could not reach AWS', 'sts:GetCallerIdentity', 'ECONNREFUSED'], hint: /AWS_ENDPOINT_URL/ });
    await expectNothingChanged(s);
  });

  it.each([
    ['not a URL', 'iam endpoint, please', /is not a URL/],
    ['not http(s)', 'ftp://127.0.0.1:21/', /must start with https:\/\/ or http:\/\//],
  ])('a bad endpoint (%s): a usage error naming the value', async (_label, value, message) => {
    const s = await scene();
    const run = await rekey(s, ['--profile', 'work'], { AWS_ENDPOINT_URL: value });
    expectError(run, { exit: 2, code: 'BAD_ENDPOINT', message: [`'${value}'`, message], hint: /AWS_ENDPOINT_URL/ });
    await expectNothingChanged(s);
    expect(proxy.log).toEqual([]);
  });

  it('a CA bundle that does not exist: a usage error naming the file', async () => {
    const s = await scene();
    const missing = join(s.home.home, 'no-such-ca.pem');
    const run = await rekey(s, ['--profile', 'work'], { AWS_CA_BUNDLE: missing });
    expectError(run, { exit: 2, code: 'CA_BUNDLE_UNREADABLE', message: [missing], hint: /AWS_CA_BUNDLE/ });
    await expectNothingChanged(s);
    expect(proxy.log).toEqual([]);
  });

  it('a CA bundle that is not a certificate: a usage error naming the file', async () => {
    const s = await scene();
    const notCert = join(s.home.home, 'ca.pem');
    await writeFile(notCert, '-----BEGIN PRIVATE KEY-----\nMIIEvQ==\n-----END PRIVATE KEY-----\n');
    const run = await rekey(s, ['--profile', 'work'], { AWS_CA_BUNDLE: notCert });
    expectError(run, { exit: 2, code: 'CA_BUNDLE_INVALID', message: [notCert, 'no PEM certificate'], hint: /BEGIN CERTIFICATE/ });
    await expectNothingChanged(s);
    expect(proxy.log).toEqual([]);
  });
});

describe('bad input: a credentials file that cannot be written, found before any key is created', () => {
  it('read-only for its owner (run as nobody, the file 0400)', async () => {
    const s = await scene();
    await chmod(s.home.credentialsPath, 0o400);
    // Permission bits stop everyone but root: as root, the CLI runs as nobody.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await chownTree(s.home.home, NOBODY, NOBODY);
    s.before = await snapshot(join(s.home.home, '.aws'));
    const run = await rekey(s, ['--profile', 'work'], {}, asRoot ? { uid: NOBODY, gid: NOBODY, bin: await readableCliCopy() } : {});
    expectError(run, { exit: 1, code: 'CREDENTIALS_NOT_WRITABLE', message: [s.home.credentialsPath, 'not writable', 'permission denied'], hint: /chmod u\+w/ });
    await expectNothingChanged(s);
    // It got as far as planning (so the check is the pre-flight), and no further.
    expect(proxy.log.map((e) => e.action)).toContain('ListAccessKeys');
    expect(await listKeys(endpoint, s.user.userName)).toEqual([expect.objectContaining({ accessKeyId: s.user.accessKeyId, status: 'Active' })]);
  });

  it.runIf(process.getuid?.() === 0)("another user's file (run as nobody, the file root's 0644): the hint says whose it is, not chmod", async () => {
    const s = await scene();
    // The folder and the records are nobody's, the file stays root's: only the file is in the way.
    await chownTree(s.home.home, NOBODY, NOBODY);
    await chown(s.home.credentialsPath, 0, 0);
    await chmod(s.home.credentialsPath, 0o644);
    s.before = await snapshot(join(s.home.home, '.aws'));
    const run = await rekey(s, ['--profile', 'work'], {}, { uid: NOBODY, gid: NOBODY, bin: await readableCliCopy() });
    expectError(run, { exit: 1, code: 'CREDENTIALS_NOT_WRITABLE', message: [s.home.credentialsPath, 'not writable'], hint: /belongs to another user \(uid 0; you are uid 65534\)/ });
    expect(run.stderr).not.toMatch(/chmod/);
    await expectNothingChanged(s);
  });

  it.runIf(process.getuid?.() === 0)("another user's folder (run as nobody, ~/.aws root's 0755, the file nobody's): the hint says whose, not chmod", async () => {
    const s = await scene();
    await chownTree(s.home.home, NOBODY, NOBODY);
    const folder = dirname(s.home.credentialsPath);
    await chown(folder, 0, 0);
    await chmod(folder, 0o755);
    s.before = await snapshot(join(s.home.home, '.aws'));
    const run = await rekey(s, ['--profile', 'work'], {}, { uid: NOBODY, gid: NOBODY, bin: await readableCliCopy() });
    expectError(run, { exit: 1, code: 'CREDENTIALS_NOT_WRITABLE', message: ['Cannot create files in', folder], hint: /belongs to another user \(uid 0; you are uid 65534\).*have the directory given to you/ });
    expect(run.stderr).not.toMatch(/chmod/);
    await expectNothingChanged(s);
    expect(await listKeys(endpoint, s.user.userName)).toEqual([expect.objectContaining({ accessKeyId: s.user.accessKeyId, status: 'Active' })]);
  });

  it('a folder nobody may create files in, not even root (chattr +i ~/.aws)', async () => {
    const s = await scene();
    const awsDir = join(s.home.home, '.aws');
    await setImmutable(awsDir, true);
    immutable.push(awsDir);
    const run = await rekey(s, ['--profile', 'work']);
    expectError(run, { exit: 1, code: 'CREDENTIALS_NOT_WRITABLE', message: [`Cannot create files in ${awsDir}`, /operation not permitted|permission denied/], hint: /writable/ });
    await expectNothingChanged(s);
    expect(proxy.log.map((e) => e.action)).toContain('ListAccessKeys');
    expect(await listKeys(endpoint, s.user.userName)).toEqual([expect.objectContaining({ accessKeyId: s.user.accessKeyId, status: 'Active' })]);
  });

  it('an immutable credentials file (chattr +i): refused before anything is created', async () => {
    const s = await scene();
    await setImmutable(s.home.credentialsPath, true);
    immutable.push(s.home.credentialsPath);
    const run = await rekey(s, ['--profile', 'work']);
    expectError(run, { exit: 1, code: 'CREDENTIALS_NOT_WRITABLE', message: [s.home.credentialsPath, 'not writable'], hint: /./ });
    await expectNothingChanged(s);
    expect(await listKeys(endpoint, s.user.userName)).toHaveLength(1);
  });

  it('--dry-run runs the same read-only pre-flight: an immutable file is reported, not a plan that would fail', async () => {
    const s = await scene();
    await setImmutable(s.home.credentialsPath, true);
    immutable.push(s.home.credentialsPath);
    const run = await rekey(s, ['--profile', 'work', '--dry-run']);
    expectError(run, { exit: 1, code: 'CREDENTIALS_NOT_WRITABLE', message: [s.home.credentialsPath, 'not writable'], hint: /./ });
    await expectNothingChanged(s);
  });

  it('--dry-run with a run holding the lock: says so (the real run would refuse too)', async () => {
    const s = await scene();
    const lockfile = await import('proper-lockfile');
    const release = await lockfile.lock(s.home.credentialsPath, { realpath: false, lockfilePath: `${s.home.credentialsPath}.aws-rekey.lock` });
    try {
      s.before = await snapshot(join(s.home.home, '.aws'));
      const run = await rekey(s, ['--profile', 'work', '--dry-run']);
      expectError(run, { exit: 1, code: 'CREDENTIALS_LOCKED', message: ['Another aws-rekey run is using', s.home.credentialsPath], hint: /Wait/ });
      await expectNothingChanged(s);
    } finally {
      await release();
    }
  });

  it('--dry-run on a healthy file: the pre-flight is among the steps, nothing is left behind', async () => {
    const s = await scene();
    const run = await rekey(s, ['--profile', 'work', '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'planned', steps: expect.arrayContaining([expect.objectContaining({ step: 'pre-flight', status: 'done' })]) });
    await expectNothingChanged(s);
  });
});

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  const info = await lstat(path);
  if (!info.isDirectory()) return;
  for (const name of await readdir(path)) await chownTree(join(path, name), uid, gid);
}
