import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { ClientFactory, CredentialsInput } from './clients.js';
import { errorCodeOf, mapAwsError } from './errors.js';

export interface SecretState {
  arn: string;
  /** Version id → its stages (AWSCURRENT, AWSPREVIOUS, …). */
  versions: Record<string, string[]>;
}

/** The Secrets Manager calls of the key hand-off. SDK errors come out as AwsError. */
export interface SecretsApi {
  /** undefined when there is no such secret (or it is scheduled for deletion). */
  describe(name: string): Promise<SecretState | undefined>;
  /** A new secret whose first version (`versionId`) holds `value`; false when a secret of that name exists (ResourceExistsException). */
  create(name: string, value: string, versionId: string, description: string, tags: Record<string, string>): Promise<boolean>;
  /** A new version (`versionId`; the same id and value again is a no-op) that becomes AWSCURRENT. */
  putValue(name: string, value: string, versionId: string): Promise<void>;
  putResourcePolicy(name: string, policy: string): Promise<void>;
  /** AWSCURRENT goes to `toVersionId`, away from `fromVersionId`. */
  moveCurrent(name: string, toVersionId: string, fromVersionId: string): Promise<void>;
  /** Deleted at once, without a recovery window. */
  deleteNow(name: string): Promise<void>;
  getValue(name: string, versionId?: string): Promise<string | undefined>;
}

const isMissing = (error: unknown) => errorCodeOf(error) === 'ResourceNotFoundException';

export function createSecretsApi(client: SecretsManagerClient): SecretsApi {
  return {
    async describe(name) {
      try {
        const out = await client.send(new DescribeSecretCommand({ SecretId: name }));
        if (out.DeletedDate) return undefined;
        return { arn: out.ARN ?? '', versions: out.VersionIdsToStages ?? {} };
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw mapAwsError(error, 'secretsmanager:DescribeSecret', name);
      }
    },
    async create(name, value, versionId, description, tags) {
      try {
        await client.send(
          new CreateSecretCommand({
            Name: name,
            SecretString: value,
            ClientRequestToken: versionId,
            Description: description,
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        );
        return true;
      } catch (error) {
        if (errorCodeOf(error) === 'ResourceExistsException') return false;
        throw mapAwsError(error, 'secretsmanager:CreateSecret', name);
      }
    },
    async putValue(name, value, versionId) {
      try {
        await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value, ClientRequestToken: versionId }));
      } catch (error) {
        throw mapAwsError(error, 'secretsmanager:PutSecretValue', name);
      }
    },
    async putResourcePolicy(name, policy) {
      try {
        await client.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: policy, BlockPublicPolicy: true }));
      } catch (error) {
        throw mapAwsError(error, 'secretsmanager:PutResourcePolicy', name);
      }
    },
    async moveCurrent(name, toVersionId, fromVersionId) {
      try {
        await client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: toVersionId, RemoveFromVersionId: fromVersionId }));
      } catch (error) {
        throw mapAwsError(error, 'secretsmanager:UpdateSecretVersionStage', name);
      }
    },
    async deleteNow(name) {
      try {
        await client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
      } catch (error) {
        if (isMissing(error)) return;
        throw mapAwsError(error, 'secretsmanager:DeleteSecret', name);
      }
    },
    async getValue(name, versionId) {
      try {
        return (await client.send(new GetSecretValueCommand({ SecretId: name, ...(versionId ? { VersionId: versionId } : {}) }))).SecretString;
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw mapAwsError(error, 'secretsmanager:GetSecretValue', name);
      }
    },
  };
}

/** A client with the factory's connection setup (proxy, CA bundle, AWS_ENDPOINT_URL_SECRETS_MANAGER). */
export function openSecretsApi(factory: ClientFactory, credentials: CredentialsInput): SecretsApi {
  return createSecretsApi(new SecretsManagerClient(factory.clientConfig('SECRETS_MANAGER', credentials)));
}
