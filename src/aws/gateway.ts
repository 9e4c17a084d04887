import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
  type AccessKeyMetadata,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, GetSessionTokenCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AccessKeyInfo, CallerIdentity, KeyLastUsed, StaticCredentials, KeyStatus } from '../core/types.js';
import { AwsError } from '../errors.js';
import type { ClientFactory, CredentialsInput } from './clients.js';
import { mapAwsError } from './errors.js';

export interface NewAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  createDate?: Date;
}

/** IAM calls made with one set of credentials. Every call names the user: robust for MFA sessions and admins. */
export interface IamApi {
  listAccessKeys(userName: string, options?: { lastUsed?: boolean }): Promise<AccessKeyInfo[]>;
  /** The keys of the user who signs the call (ListAccessKeys without UserName), each with its owner's name. */
  listOwnAccessKeys(): Promise<Array<AccessKeyInfo & { userName: string }>>;
  getAccessKeyLastUsed(accessKeyId: string, subject: string): Promise<KeyLastUsed>;
  createAccessKey(userName: string): Promise<NewAccessKey>;
  updateAccessKey(userName: string, accessKeyId: string, status: 'Active' | 'Inactive'): Promise<void>;
  deleteAccessKey(userName: string, accessKeyId: string): Promise<void>;
}

export interface MfaInput {
  serialNumber: string;
  tokenCode: string;
  durationSeconds?: number;
}

/** The narrow surface of IAM and STS that aws-rekey uses; SDK errors come out as AwsError. */
export interface AwsGateway {
  getCallerIdentity(credentials: CredentialsInput): Promise<CallerIdentity>;
  getSessionToken(credentials: CredentialsInput, mfa: MfaInput): Promise<StaticCredentials>;
  iam(credentials: CredentialsInput): IamApi;
  destroy(): void;
}

export function createAwsGateway(factory: ClientFactory): AwsGateway {
  const stsClients = new WeakMap<object, STSClient>();
  const iamApis = new WeakMap<object, IamApi>();
  const sts = (credentials: CredentialsInput): STSClient => {
    let client = stsClients.get(credentials);
    if (!client) {
      // The SDK's retries (throttling, 5xx, network) apply; verification adds its own schedule for an unknown new key.
      client = factory.sts(credentials);
      stsClients.set(credentials, client);
    }
    return client;
  };

  return {
    async getCallerIdentity(credentials) {
      try {
        const out = await sts(credentials).send(new GetCallerIdentityCommand({}));
        return { arn: out.Arn ?? '', account: out.Account ?? '', userId: out.UserId ?? '' };
      } catch (error) {
        throw mapAwsError(error, 'sts:GetCallerIdentity');
      }
    },
    async getSessionToken(credentials, mfa) {
      try {
        const out = await sts(credentials).send(
          new GetSessionTokenCommand({
            SerialNumber: mfa.serialNumber,
            TokenCode: mfa.tokenCode,
            DurationSeconds: mfa.durationSeconds ?? 900,
          }),
        );
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) {
          throw new AwsError('AWS_ERROR', 'sts:GetSessionToken', 'EmptyResponse', 'sts:GetSessionToken returned no credentials.', {
            hint: 'Nothing was changed. Run aws-rekey again; check the endpoint (AWS_ENDPOINT_URL_STS) if it keeps happening.',
          });
        }
        return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
      } catch (error) {
        throw mapAwsError(error, 'sts:GetSessionToken', `MFA device ${mfa.serialNumber}`);
      }
    },
    iam(credentials) {
      let api = iamApis.get(credentials);
      if (!api) {
        api = createIamApi(factory.iam(credentials), factory.iam(credentials, { maxAttempts: 1 }));
        iamApis.set(credentials, api);
      }
      return api;
    },
    destroy: () => factory.destroy(),
  };
}

function toKeyInfo(meta: AccessKeyMetadata): AccessKeyInfo {
  return { accessKeyId: meta.AccessKeyId ?? '', status: (meta.Status ?? 'Active') as KeyStatus, createDate: meta.CreateDate };
}

/**
 * `createClient` makes one attempt only: a retried CreateAccessKey whose first response was lost would
 * create a second key whose secret nobody has. The orchestrator recovers from lost responses itself.
 */
function createIamApi(client: IAMClient, createClient: IAMClient): IamApi {
  /** Without a user name, IAM lists the keys of the user who signs the call. */
  const listKeys = async (userName: string | undefined, subject: string): Promise<AccessKeyMetadata[]> => {
    try {
      return (await client.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? [];
    } catch (error) {
      throw mapAwsError(error, 'iam:ListAccessKeys', subject);
    }
  };
  const getAccessKeyLastUsed = async (accessKeyId: string, subject: string): Promise<KeyLastUsed> => {
    try {
      const used = (await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }))).AccessKeyLastUsed;
      return { date: used?.LastUsedDate, serviceName: used?.ServiceName, region: used?.Region };
    } catch (error) {
      throw mapAwsError(error, 'iam:GetAccessKeyLastUsed', subject);
    }
  };
  return {
    async listAccessKeys(userName, options = {}) {
      const keys = (await listKeys(userName, `user ${userName}`)).map(toKeyInfo);
      if (!options.lastUsed) return keys;
      return Promise.all(keys.map(async (key) => ({ ...key, lastUsed: await getAccessKeyLastUsed(key.accessKeyId, `key of user ${userName}`) })));
    },
    async listOwnAccessKeys() {
      return (await listKeys(undefined, 'the signing user')).map((meta) => ({ ...toKeyInfo(meta), userName: meta.UserName ?? '' }));
    },
    getAccessKeyLastUsed,
    async createAccessKey(userName) {
      try {
        const out = await createClient.send(new CreateAccessKeyCommand({ UserName: userName }));
        const key = out.AccessKey;
        if (!key?.AccessKeyId || !key.SecretAccessKey) {
          throw new AwsError('AWS_ERROR', 'iam:CreateAccessKey', 'EmptyResponse', 'iam:CreateAccessKey returned no key.', {
            hint: "Check the user's keys with aws-rekey keys (delete a key whose secret you never got), then run aws-rekey again.",
          });
        }
        return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey, createDate: key.CreateDate };
      } catch (error) {
        throw mapAwsError(error, 'iam:CreateAccessKey', `user ${userName}`);
      }
    },
    async updateAccessKey(userName, accessKeyId, status) {
      try {
        await client.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: status }));
      } catch (error) {
        throw mapAwsError(error, 'iam:UpdateAccessKey', `user ${userName}`);
      }
    },
    async deleteAccessKey(userName, accessKeyId) {
      try {
        await client.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }));
      } catch (error) {
        throw mapAwsError(error, 'iam:DeleteAccessKey', `user ${userName}`);
      }
    },
  };
}
