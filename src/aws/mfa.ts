import { ListMFADevicesCommand } from '@aws-sdk/client-iam';
import type { ClientFactory, CredentialsInput } from './clients.js';
import { mapAwsError } from './errors.js';

/**
 * The user's MFA devices, for `rotate --mfa` without `--mfa-serial`. Kept out of the rotation gateway: the
 * organisation worker shares that gateway, and its roles allow exactly the calls its code can send
 * (test/unit/org-permissions.test.ts), so a call it never makes must not be reachable from it.
 */
export interface MfaApi {
  listMfaDevices(credentials: CredentialsInput, userName: string): Promise<string[]>;
}

export function createMfaApi(factory: ClientFactory): MfaApi {
  return {
    async listMfaDevices(credentials, userName) {
      try {
        const out = await factory.iam(credentials).send(new ListMFADevicesCommand({ UserName: userName }));
        return (out.MFADevices ?? []).map((device) => device.SerialNumber ?? '').filter(Boolean);
      } catch (error) {
        throw mapAwsError(error, 'iam:ListMFADevices', `user ${userName}`);
      }
    },
  };
}
