import { createAuditIamApi } from '../aws/audit-api.js';
import { BULK_CLIENT_OPTIONS, type ClientFactory, type CredentialsInput } from '../aws/clients.js';
import { assumeRole, createOrgIamApi } from '../aws/org-iam.js';
import { memberRoleArn, type OrgSettings } from './config.js';
import type { AccountServices } from './worker.js';

/**
 * The calls into one account: with the member role assumed there, or (`own`) with the given credentials as
 * they are, for the account they belong to.
 */
export async function openAccount(
  factory: ClientFactory,
  credentials: CredentialsInput,
  settings: Pick<OrgSettings, 'partition' | 'memberRoleName'>,
  accountId: string,
  own = false,
): Promise<AccountServices> {
  const accountCredentials = own ? credentials : await assumeRole(factory.sts(credentials), memberRoleArn(settings, accountId), `aws-rekey-${accountId}`);
  const iam = factory.iam(accountCredentials, BULK_CLIENT_OPTIONS);
  const tags = createOrgIamApi(iam);
  return { read: { audit: createAuditIamApi(iam), tags }, tags, close: () => iam.destroy() };
}
