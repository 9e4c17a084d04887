import { readFile } from 'node:fs/promises';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { describe, expect, inject, it } from 'vitest';
import { awsCli } from '../support/aws-cli.js';
import { credentialsFile, runCli, type TempHome } from '../support/cli.js';
import type { RequestLogEntry } from '../support/fault-proxy.js';
import { createUserWithKey, createVirtualMfa, iamClient, listKeys, uniqueName, type KeyInfo, type MotoTarget, type SeededUser } from '../support/iam.js';
import { FAST, sharedFaultProxy, tempHome } from '../support/integration.js';

/*
 * Whose credentials make the IAM calls (--auth-profile: a static key or an assumed role; an MFA session), and
 * how aws-rekey reaches IAM (the AWS CLI reads what we wrote; an HTTPS proxy; NO_PROXY). Requests go through
 * the fault proxy without faults where the test needs to see who signed what.
 */

const endpoint = inject('motoEndpoint');
const motoProxy = inject('motoProxy');
const IAM_ACTIONS = new Set(['ListAccessKeys', 'GetAccessKeyLastUsed', 'CreateAccessKey', 'UpdateAccessKey', 'DeleteAccessKey', 'ListMFADevices']);

const proxy = sharedFaultProxy(endpoint);

function iamCalls(): RequestLogEntry[] {
  return proxy.log.filter((e) => IAM_ACTIONS.has(e.action));
}

/** The user's keys after a rotation that deactivated `old`: the old one inactive, one new active key. */
async function expectRotated(target: MotoTarget, user: SeededUser): Promise<KeyInfo> {
  const keys = await listKeys(target, user.userName);
  expect(keys).toHaveLength(2);
  expect(keys.find((k) => k.accessKeyId === user.accessKeyId)?.status).toBe('Inactive');
  const fresh = keys.find((k) => k.accessKeyId !== user.accessKeyId);
  expect(fresh?.status).toBe('Active');
  return fresh as KeyInfo;
}

function profileSection(text: string, name: string): string {
  return new RegExp(`\\[${name}\\]\\n(?:[^[].*\\n?)*`).exec(text)?.[0] ?? '';
}

describe('--auth-profile', () => {
  it("a static admin profile makes the IAM calls; the work user's key rotates, the admin key is untouched", async () => {
    const work = await createUserWithKey(endpoint, uniqueName('work'));
    const admin = await createUserWithKey(endpoint, uniqueName('admin'));
    const h = await tempHome({
      endpoint: proxy.endpoint,
      credentials: credentialsFile({
        work: { accessKeyId: work.accessKeyId, secretAccessKey: work.secretAccessKey },
        admin: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey, extra: 'region = us-east-1\n' },
      }),
    });
    const before = await h.readCredentials();
    const run = await runCli(['--profile', 'work', '--auth-profile', 'admin', '-y', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(0);

    const fresh = await expectRotated(endpoint, work);
    const after = await h.readCredentials();
    expect(profileSection(after, 'work')).toContain(`aws_access_key_id = ${fresh.accessKeyId}`);
    expect(profileSection(after, 'admin')).toBe(profileSection(before, 'admin'));
    expect(await listKeys(endpoint, admin.userName)).toEqual([expect.objectContaining({ accessKeyId: admin.accessKeyId, status: 'Active' })]);

    // Who signed what: the work key only identifies itself (and the new key proves it works); IAM sees the admin.
    const calls = iamCalls();
    expect(calls.map((e) => e.action)).toEqual(expect.arrayContaining(['ListAccessKeys', 'CreateAccessKey', 'UpdateAccessKey']));
    for (const call of calls) {
      expect(call.accessKeyId).toBe(admin.accessKeyId);
      if (call.params.UserName !== undefined) expect(call.params.UserName).toBe(work.userName);
    }
    expect(proxy.log.find((e) => e.action === 'UpdateAccessKey')?.params).toMatchObject({ AccessKeyId: work.accessKeyId, Status: 'Inactive' });
    expect(proxy.log.find((e) => e.action === 'GetCallerIdentity')?.accessKeyId).toBe(work.accessKeyId);
  });

  it('an auth profile in ~/.aws/config with role_arn + source_profile: IAM calls are made as the assumed role', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('work'));
    const admin = await createUserWithKey(endpoint, uniqueName('admin'));
    const roleName = uniqueName('rotator');
    const role = await iamClient(endpoint).send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: admin.arn }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    const roleArn = role.Role?.Arn ?? '';
    expect(roleArn).toContain(`role/${roleName}`);
    const h = await tempHome({
      endpoint: proxy.endpoint,
      credentials: credentialsFile({
        work: { accessKeyId: work.accessKeyId, secretAccessKey: work.secretAccessKey },
        admin: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey },
      }),
      config: `[profile key-admin]\nrole_arn = ${roleArn}\nsource_profile = admin\n`,
    });
    const run = await runCli(['--profile', 'work', '--auth-profile', 'key-admin', '-y', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(0);
    await expectRotated(endpoint, work);
    expect(await listKeys(endpoint, admin.userName)).toEqual([expect.objectContaining({ accessKeyId: admin.accessKeyId, status: 'Active' })]);

    const assume = proxy.log.filter((e) => e.action === 'AssumeRole');
    expect(assume).toHaveLength(1);
    expect(assume[0]).toMatchObject({ accessKeyId: admin.accessKeyId, params: expect.objectContaining({ RoleArn: roleArn }) });
    const calls = iamCalls();
    expect(calls.map((e) => e.action)).toEqual(expect.arrayContaining(['ListAccessKeys', 'CreateAccessKey', 'UpdateAccessKey']));
    const signers = new Set(calls.map((e) => e.accessKeyId));
    expect(signers.size).toBe(1);
    const [roleKey] = [...signers];
    // Temporary credentials of the role: neither the admin's key nor the work user's.
    expect(roleKey).toMatch(/^ASIA/);
  });

  describe('an auth profile whose credentials cannot be had: said as such, nothing changed', () => {
    async function roleScene(config: (roleArn: string) => string) {
      const work = await createUserWithKey(endpoint, uniqueName('work'));
      const admin = await createUserWithKey(endpoint, uniqueName('admin'));
      const roleArn = `arn:aws:iam::123456789012:role/${uniqueName('rotator')}`;
      const h = await tempHome({
        endpoint: proxy.endpoint,
        credentials: credentialsFile({
          work: { accessKeyId: work.accessKeyId, secretAccessKey: work.secretAccessKey },
          admin: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey },
        }),
        config: config(roleArn),
      });
      return { work, h, before: await h.readCredentials() };
    }

    async function expectUnchanged(scene: { work: SeededUser; h: TempHome; before: string }): Promise<void> {
      expect(await scene.h.readCredentials()).toBe(scene.before);
      expect(await listKeys(endpoint, scene.work.userName)).toEqual([expect.objectContaining({ accessKeyId: scene.work.accessKeyId, status: 'Active' })]);
      expect(proxy.log.map((e) => e.action)).not.toContain('CreateAccessKey');
    }

    it('a role with mfa_serial, no terminal to ask for the code and no --mfa-code: exit 2, naming --mfa-code', async () => {
      const scene = await roleScene((roleArn) => `[profile key-admin]\nrole_arn = ${roleArn}\nsource_profile = admin\nmfa_serial = arn:aws:iam::123456789012:mfa/admin\n`);
      const run = await runCli(['--profile', 'work', '--auth-profile', 'key-admin', '-y', '--json', ...FAST], scene.h.env);
      expect(run.code, run.stderr).toBe(2);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'MFA_CODE_NEEDED' } });
      expect(run.stderr).toMatch(/^error: Profile 'key-admin' assumes its role with the MFA device arn:aws:iam::123456789012:mfa\/admin \(mfa_serial\), and there is no terminal to ask for the code\./m);
      expect(run.stderr).toMatch(/^hint: Pass the code the device shows now with --mfa-code CODE/m);
      expect(proxy.log.map((e) => e.action)).not.toContain('AssumeRole');
      await expectUnchanged(scene);
    });

    it('a role without source_profile: exit 2', async () => {
      const scene = await roleScene((roleArn) => `[profile key-admin]\nrole_arn = ${roleArn}\n`);
      const run = await runCli(['--profile', 'work', '--auth-profile', 'key-admin', '-y', ...FAST], scene.h.env);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/^error: Cannot get credentials from the auth profile 'key-admin'/m);
      expect(run.stderr).toMatch(/^hint: Check it with 'aws sts get-caller-identity --profile key-admin'/m);
      await expectUnchanged(scene);
    });

    it('sts:AssumeRole denied: the message names sts:AssumeRole, not the IAM call that needed it; exit 1', async () => {
      const scene = await roleScene((roleArn) => `[profile key-admin]\nrole_arn = ${roleArn}\nsource_profile = admin\n`);
      proxy.setRules([{ action: 'AssumeRole', fault: { kind: 'error', status: 403, code: 'AccessDenied', message: 'User is not authorized to perform: sts:AssumeRole' } }]);
      const run = await runCli(['--profile', 'work', '--auth-profile', 'key-admin', '-y', '--json', ...FAST], scene.h.env);
      expect(run.code, run.stderr).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'ACCESS_DENIED' } });
      expect(run.stderr).toMatch(/^error: sts:AssumeRole was denied \(auth profile key-admin\)/m);
      expect(run.stderr).toMatch(/^hint: Allow sts:AssumeRole/m);
      await expectUnchanged(scene);
    });
  });

  it('an --auth-profile that exists nowhere: exit 2, nothing changed', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('work'));
    const h = await tempHome({ endpoint: proxy.endpoint, credentials: credentialsFile({ work: { accessKeyId: work.accessKeyId, secretAccessKey: work.secretAccessKey } }) });
    const before = await h.readCredentials();
    const run = await runCli(['--profile', 'work', '--auth-profile', 'nope', '-y', ...FAST], h.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: The auth profile 'nope' is in neither/m);
    expect(run.stderr).toMatch(/^hint: /m);
    expect(await h.readCredentials()).toBe(before);
    expect(await listKeys(endpoint, work.userName)).toHaveLength(1);
    expect(proxy.log).toEqual([]);
  });
});

describe('--mfa', () => {
  async function mfaScene() {
    const user = await createUserWithKey(endpoint, uniqueName('mfa'));
    const serial = await createVirtualMfa(endpoint, user.userName);
    const h = await tempHome({ endpoint: proxy.endpoint, credentials: credentialsFile({ work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } }) });
    return { user, serial, h };
  }

  /** The IAM changes were made in the MFA session, not with the user's key. */
  function expectMfaSession(user: SeededUser, serial: string): void {
    const sessions = proxy.log.filter((e) => e.action === 'GetSessionToken');
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ accessKeyId: user.accessKeyId, params: expect.objectContaining({ SerialNumber: serial, TokenCode: '123456' }) });
    const changes = proxy.log.filter((e) => e.action === 'CreateAccessKey' || e.action === 'UpdateAccessKey');
    expect(changes.map((e) => e.action)).toEqual(['CreateAccessKey', 'UpdateAccessKey']);
    for (const change of changes) expect(change.accessKeyId).not.toBe(user.accessKeyId);
    expect(new Set(changes.map((e) => e.accessKeyId)).size).toBe(1);
  }

  it('--mfa --mfa-code: finds the device, opens an MFA session, rotates', async () => {
    const { user, serial, h } = await mfaScene();
    const run = await runCli(['--profile', 'work', '--mfa', '--mfa-code', '123456', '-y', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(0);
    const fresh = await expectRotated(endpoint, user);
    expect(await h.readCredentials()).toContain(`aws_access_key_id = ${fresh.accessKeyId}`);
    expect(proxy.log.filter((e) => e.action === 'ListMFADevices').map((e) => e.params.UserName)).toEqual([user.userName]);
    expectMfaSession(user, serial);
  });

  it('--mfa-serial ARN --mfa-code: uses that device without looking it up', async () => {
    const { user, serial, h } = await mfaScene();
    const run = await runCli(['--profile', 'work', '--mfa-serial', serial, '--mfa-code', '123456', '-y', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(0);
    await expectRotated(endpoint, user);
    expect(proxy.log.filter((e) => e.action === 'ListMFADevices')).toEqual([]);
    expectMfaSession(user, serial);
  });

  it('--mfa without --mfa-code and without a terminal: a usage error naming the device, nothing changed', async () => {
    const { user, serial, h } = await mfaScene();
    const before = await h.readCredentials();
    const run = await runCli(['--profile', 'work', '--mfa', '-y', ...FAST], h.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^error: An MFA code for ${serial.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is needed and there is no terminal`, 'm'));
    expect(run.stderr).toMatch(/^hint: Pass --mfa-code CODE\./m);
    expect(await h.readCredentials()).toBe(before);
    expect(await listKeys(endpoint, user.userName)).toEqual([expect.objectContaining({ accessKeyId: user.accessKeyId, status: 'Active' })]);
    expect(proxy.log.map((e) => e.action)).not.toContain('GetSessionToken');
    expect(proxy.log.map((e) => e.action)).not.toContain('CreateAccessKey');
  });

  it('an MFA code that is not 6 digits: a usage error, nothing changed', async () => {
    const { user, h } = await mfaScene();
    const run = await runCli(['--profile', 'work', '--mfa-code', '12345', '-y', ...FAST], h.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: The MFA code must be 6 digits/m);
    expect(run.stderr).toMatch(/^hint: /m);
    expect(await listKeys(endpoint, user.userName)).toHaveLength(1);
  });
});

describe('interop with the AWS CLI', () => {
  it('after a rotation, `aws sts get-caller-identity --profile work` reads the new key from the file we wrote', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('cli'));
    const h = await tempHome({
      endpoint,
      credentials: `# written by hand\n${credentialsFile({ work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey, extra: 'output = json\n' } })}`,
    });
    // -d: the old key is deleted, so an AWS CLI still reading it would not be recognised as the user.
    const run = await runCli(['--profile', 'work', '-y', '-d', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(0);
    const keys = await listKeys(endpoint, user.userName);
    expect(keys).toHaveLength(1);
    const fresh = keys[0] as KeyInfo;
    expect(fresh.accessKeyId).not.toBe(user.accessKeyId);

    // Debian's AWS CLI (2.9) predates AWS_ENDPOINT_URL: give it the endpoint as a flag.
    const cliEnv = { ...h.env, AWS_ENDPOINT_URL: undefined };
    const identity = await awsCli(['sts', 'get-caller-identity', '--profile', 'work', '--endpoint-url', endpoint, '--output', 'json'], cliEnv);
    expect(identity.code, identity.stderr).toBe(0);
    expect(JSON.parse(identity.stdout)).toMatchObject({ Arn: user.arn, Account: '123456789012' });
    const configured = await awsCli(['configure', 'get', 'aws_access_key_id', '--profile', 'work'], cliEnv);
    expect(configured.stdout.trim()).toBe(fresh.accessKeyId);
    expect((await readFile(h.credentialsPath, 'utf8')).startsWith('# written by hand\n')).toBe(true);
  });
});

describe('proxies', () => {
  it('rotates through an HTTPS proxy (moto proxy mode, AWS_CA_BUNDLE = its CA), with no endpoint override', async () => {
    const user = await createUserWithKey(motoProxy, uniqueName('proxied'));
    const h = await tempHome({
      credentials: credentialsFile({ work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } }),
      env: { HTTPS_PROXY: motoProxy.proxyUrl, AWS_CA_BUNDLE: motoProxy.caBundle },
    });
    expect(h.env.AWS_ENDPOINT_URL).toBeUndefined();
    const run = await runCli(['--profile', 'work', '-y', '--json', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, status: 'rotated', user: { arn: user.arn } });
    const fresh = await expectRotated(motoProxy, user);
    expect(await h.readCredentials()).toContain(`aws_access_key_id = ${fresh.accessKeyId}`);
  });

  it("through the HTTPS proxy without its CA in AWS_CA_BUNDLE: a TLS error that says to set it, nothing changed", async () => {
    const user = await createUserWithKey(motoProxy, uniqueName('untrusted'));
    const h = await tempHome({
      credentials: credentialsFile({ work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } }),
      // A bundle of real CAs, none of which signed the proxy's certificates.
      env: { HTTPS_PROXY: motoProxy.proxyUrl, AWS_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt' },
    });
    const before = await h.readCredentials();
    const run = await runCli(['--profile', 'work', '-y', '--json', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'TLS' } });
    expect(run.stderr).toMatch(/^error: The TLS certificate of the endpoint for sts:GetCallerIdentity is not trusted/m);
    expect(run.stderr).toMatch(/^hint: .*AWS_CA_BUNDLE/m);
    expect(await h.readCredentials()).toBe(before);
    expect(await listKeys(motoProxy, user.userName)).toEqual([expect.objectContaining({ accessKeyId: user.accessKeyId, status: 'Active' })]);
  });

  describe('NO_PROXY', () => {
    // The proxy variables point at a closed port: a request that goes through the proxy fails.
    const deadProxy = { HTTP_PROXY: 'http://127.0.0.1:1', HTTPS_PROXY: 'http://127.0.0.1:1' };

    it('without NO_PROXY the (dead) proxy is used: a network error, nothing changed', async () => {
      const user = await createUserWithKey(endpoint, uniqueName('noproxy'));
      const h = await tempHome({ endpoint, credentials: credentialsFile({ work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } }), env: deadProxy });
      const before = await h.readCredentials();
      const run = await runCli(['--profile', 'work', '-y', ...FAST], h.env);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/^error: Could not reach AWS for sts:GetCallerIdentity/m);
      expect(run.stderr).toMatch(/^hint: .*HTTPS_PROXY, NO_PROXY/m);
      expect(await h.readCredentials()).toBe(before);
      expect(await listKeys(endpoint, user.userName)).toHaveLength(1);
    });

    it.each([
      ['NO_PROXY', '127.0.0.1'],
      ['no_proxy', 'example.com,127.0.0.1'],
    ])('%s=%s covering the endpoint host: the proxy is bypassed and the rotation succeeds', async (name, value) => {
      const user = await createUserWithKey(endpoint, uniqueName('noproxy'));
      const h = await tempHome({
        endpoint,
        credentials: credentialsFile({ work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } }),
        env: { ...deadProxy, [name]: value },
      });
      const run = await runCli(['--profile', 'work', '-y', ...FAST], h.env);
      expect(run.code, run.stderr).toBe(0);
      await expectRotated(endpoint, user);
    });
  });
});
