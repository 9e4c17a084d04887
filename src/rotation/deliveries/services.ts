import type { ClientFactory, CredentialsInput } from '../../aws/clients.js';
import type { ParametersApi } from '../../aws/parameters.js';
import type { SecretsApi } from '../../aws/secrets.js';

/** The AWS services a destination needs besides IAM and STS. */
export interface DestinationServices {
  secrets?: SecretsApi;
  parameters?: ParametersApi;
}

/**
 * The Secrets Manager or SSM client a destination needs, loaded only then: a rotation that writes a file
 * never loads either SDK client (start-up time; see scripts/bundle.mjs). They share the factory's
 * connection setup and are closed with it.
 */
export async function openDestinationServices(kind: string, factory: ClientFactory, credentials: CredentialsInput): Promise<DestinationServices> {
  if (kind === 'secret') {
    const { openSecretsApi } = await import('../../aws/secrets.js');
    return { secrets: openSecretsApi(factory, credentials) };
  }
  if (kind === 'parameter') {
    const { openParametersApi } = await import('../../aws/parameters.js');
    return { parameters: openParametersApi(factory, credentials) };
  }
  return {};
}
