import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createAuditIamApi } from '../aws/audit-api.js';
import { BULK_CLIENT_OPTIONS, type ClientFactory, type CredentialsInput } from '../aws/clients.js';
import { createAwsGateway } from '../aws/gateway.js';
import { assumeRole, createOrgIamApi } from '../aws/org-iam.js';
import { createSecretsApi } from '../aws/secrets.js';
import { memberRoleArn, type OrgSettings } from './config.js';
import type { AccountServices } from './worker.js';

/**
 * The calls into one account: with the member role assumed there, or (`own`) with the given credentials as
 * they are, for the account they belong to. `callerArn` (own) may read the users' secrets, to resume.
 */
export async function openAccount(
  factory: ClientFactory,
  credentials: CredentialsInput,
  settings: Pick<OrgSettings, 'partition' | 'memberRoleName' | 'secretAdminRoleArn'>,
  accountId: string,
  own: { callerArn: string } | false = false,
): Promise<AccountServices> {
  const roleArn = memberRoleArn(settings, accountId);
  const accountCredentials = own ? credentials : await assumeRole(factory.sts(credentials), roleArn, `aws-rekey-${accountId}`);
  const iam = factory.iam(accountCredentials, BULK_CLIENT_OPTIONS);
  const tags = createOrgIamApi(iam);
  const gateway = createAwsGateway(factory);
  const secrets = new SecretsManagerClient(factory.clientConfig('SECRETS_MANAGER', accountCredentials));
  const readers = [own ? own.callerArn : roleArn, ...(settings.secretAdminRoleArn ? [settings.secretAdminRoleArn] : [])];
  return {
    read: { audit: createAuditIamApi(iam), tags },
    tags,
    enforce: { keys: gateway.iam(accountCredentials), gateway, tags, secrets: createSecretsApi(secrets), secretReaders: readers },
    close: () => {
      iam.destroy();
      secrets.destroy();
    },
  };
}
