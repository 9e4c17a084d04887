import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  DeleteAccessKeyCommand,
  EnableMFADeviceCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { HttpsProxyAgent } from 'hpagent';

/**
 * Seeding and inspecting moto from tests with the AWS SDK directly (never through the code under test).
 * A target is moto's server endpoint (inject('motoEndpoint')) or its proxy (inject('motoProxy')): the two
 * hold separate state, so seed the one the code under test talks to.
 */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const REGION = 'us-east-1';
/** moto accepts any credentials for seeding; these are the conventional dummies. */
export const DUMMY_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export type MotoTarget = string | { proxyUrl: string; caBundle: string };

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SeededUser {
  userName: string;
  arn: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface KeyInfo {
  accessKeyId: string;
  status: string;
  createDate: Date | undefined;
}

/** An SDK request handler that reaches "AWS" through moto's HTTPS proxy, trusting moto's CA (no endpoint override). */
export function proxyRequestHandler(proxy: { proxyUrl: string; caBundle: string }): NodeHttpHandler {
  const httpsAgent = new HttpsProxyAgent({ proxy: proxy.proxyUrl, ca: readFileSync(proxy.caBundle, 'utf8'), keepAlive: false });
  return new NodeHttpHandler({ httpsAgent });
}

/** Client config for a target: endpoint override for the server, proxy agent for the proxy. */
export function clientConfig(target: MotoTarget, credentials: Credentials = DUMMY_CREDENTIALS) {
  const base = { region: REGION, credentials, maxAttempts: 1 };
  return typeof target === 'string' ? { ...base, endpoint: target } : { ...base, requestHandler: proxyRequestHandler(target) };
}

const iamClients = new Map<string, IAMClient>();
export function iamClient(target: MotoTarget): IAMClient {
  const key = JSON.stringify(target);
  let client = iamClients.get(key);
  if (!client) {
    client = new IAMClient(clientConfig(target));
    iamClients.set(key, client);
  }
  return client;
}

/** An STS client signing with the given credentials (e.g. a seeded user's key). */
export function stsClient(target: MotoTarget, credentials: Credentials): STSClient {
  return new STSClient(clientConfig(target, credentials));
}

/** A name no other test (or earlier run against the same moto) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export async function createAccessKey(target: MotoTarget, userName: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const out = await iamClient(target).send(new CreateAccessKeyCommand({ UserName: userName }));
  const accessKeyId = out.AccessKey?.AccessKeyId;
  const secretAccessKey = out.AccessKey?.SecretAccessKey;
  if (!accessKeyId || !secretAccessKey) throw new Error(`CreateAccessKey for ${userName} returned no key`);
  return { accessKeyId, secretAccessKey };
}

export async function createUserWithKey(target: MotoTarget, userName: string, options: { path?: string } = {}): Promise<SeededUser> {
  const out = await iamClient(target).send(new CreateUserCommand({ UserName: userName, ...(options.path ? { Path: options.path } : {}) }));
  const arn = out.User?.Arn;
  if (!arn) throw new Error(`CreateUser ${userName} returned no ARN`);
  return { userName, arn, ...(await createAccessKey(target, userName)) };
}

export async function listKeys(target: MotoTarget, userName: string): Promise<KeyInfo[]> {
  const out = await iamClient(target).send(new ListAccessKeysCommand({ UserName: userName }));
  return (out.AccessKeyMetadata ?? []).map((k) => ({ accessKeyId: k.AccessKeyId ?? '', status: k.Status ?? '', createDate: k.CreateDate }));
}

export async function setKeyStatus(target: MotoTarget, userName: string, accessKeyId: string, status: 'Active' | 'Inactive'): Promise<void> {
  await iamClient(target).send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: status }));
}

export async function deleteAccessKey(target: MotoTarget, userName: string, accessKeyId: string): Promise<void> {
  await iamClient(target).send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }));
}

/** A virtual MFA device enabled for the user; moto then accepts any 6-digit code with it. Returns its serial number (ARN). */
export async function createVirtualMfa(target: MotoTarget, userName: string): Promise<string> {
  const device = await iamClient(target).send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: uniqueName(userName).slice(0, 64) }));
  const serialNumber = device.VirtualMFADevice?.SerialNumber;
  if (!serialNumber) throw new Error(`CreateVirtualMFADevice for ${userName} returned no serial number`);
  await iamClient(target).send(
    new EnableMFADeviceCommand({ UserName: userName, SerialNumber: serialNumber, AuthenticationCode1: '123456', AuthenticationCode2: '654321' }),
  );
  return serialNumber;
}
