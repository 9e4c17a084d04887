import { GetAccessKeyLastUsedCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, inject, it } from 'vitest';
import { awsCli } from '../support/aws-cli.js';
import { createUserWithKey, createVirtualMfa, iamClient, proxyRequestHandler, setKeyStatus, stsClient, uniqueName } from '../support/iam.js';

const endpoint = inject('motoEndpoint');
const proxy = inject('motoProxy');

describe('moto as a real IAM/STS', () => {
  it('server mode: STS GetCallerIdentity signed with a seeded key names its user', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('smoke'));
    expect(user.arn).toBe(`arn:aws:iam::123456789012:user/${user.userName}`);
    const identity = await stsClient(endpoint, user).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe(user.arn);
    expect(identity.Account).toBe('123456789012');
  });

  it('the AWS CLI talks to it too', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('smoke-cli'));
    const run = await awsCli(['sts', 'get-caller-identity', '--endpoint-url', endpoint, '--output', 'json'], {
      PATH: process.env.PATH,
      HOME: '/nonexistent',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: user.accessKeyId,
      AWS_SECRET_ACCESS_KEY: user.secretAccessKey,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).Arn).toBe(user.arn);
  });

  it('proxy mode: the real AWS host names, no endpoint override, TLS trusted through moto CA', async () => {
    // The proxy is its own moto (own state): seed it through the proxy as well.
    const user = await createUserWithKey(proxy, uniqueName('smoke-proxy'));
    const sts = new STSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
      requestHandler: proxyRequestHandler(proxy), // hpagent HttpsProxyAgent({ proxy, ca }) in a NodeHttpHandler
      maxAttempts: 1,
    });
    expect(await sts.config.endpoint?.()).toBeUndefined();
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe(user.arn);
  });
});

/** What the rotation tests rely on, pinned so that a moto upgrade that changes it is noticed here first. */
describe('moto behaviours the suite relies on', () => {
  it('does not reject unknown or inactive keys: GetCallerIdentity answers with a placeholder identity for an unknown key', async () => {
    const unknown = await stsClient(endpoint, { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' }).send(new GetCallerIdentityCommand({}));
    expect(unknown.Arn).toBe('arn:aws:sts::123456789012:user/moto');

    const user = await createUserWithKey(endpoint, uniqueName('inactive'));
    await setKeyStatus(endpoint, user.userName, user.accessKeyId, 'Inactive');
    const inactive = await stsClient(endpoint, user).send(new GetCallerIdentityCommand({}));
    expect(inactive.Arn).toBe(user.arn);
  });

  it('records GetAccessKeyLastUsed', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('lastused'));
    await stsClient(endpoint, user).send(new GetCallerIdentityCommand({}));
    const out = await iamClient(endpoint).send(new GetAccessKeyLastUsedCommand({ AccessKeyId: user.accessKeyId }));
    expect(out.UserName).toBe(user.userName);
    expect(out.AccessKeyLastUsed?.LastUsedDate).toBeInstanceOf(Date);
  });

  it('MFA: any 6-digit code works with an enabled virtual device; the session is not tied to the user', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('mfa'));
    const serialNumber = await createVirtualMfa(endpoint, user.userName);
    expect(serialNumber).toMatch(/^arn:aws:iam::123456789012:mfa\//);
    const session = await stsClient(endpoint, user).send(new GetSessionTokenCommand({ SerialNumber: serialNumber, TokenCode: '000000' }));
    const creds = session.Credentials;
    expect(creds?.SessionToken).toBeTruthy();
    const identity = await stsClient(endpoint, {
      accessKeyId: creds?.AccessKeyId ?? '',
      secretAccessKey: creds?.SecretAccessKey ?? '',
      sessionToken: creds?.SessionToken ?? '',
    }).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).not.toBe(user.arn);
  });
});
