import { GetUserCommand, type IAMClient } from '@aws-sdk/client-iam';
import { mapAuditError, type AuditIamApi } from './audit-api.js';

// Its own module, imported lazily by the CLI's audit only: the organisation's handlers import audit-api.ts,
// and their roles allow exactly the calls those imports send (GetUser is not one).

/** The audit's calls plus GetUser, for `audit --user` from the CLI (in the `--admin` policy). */
export function withGetUser(api: AuditIamApi, client: IAMClient): AuditIamApi {
  return {
    ...api,
    async getUser(userName) {
      try {
        const u = (await client.send(new GetUserCommand({ UserName: userName }))).User;
        return { userName: u?.UserName ?? userName, arn: u?.Arn ?? '', path: u?.Path ?? '/', ...(u?.UserId ? { userId: u.UserId } : {}) };
      } catch (error) {
        throw mapAuditError(error, 'iam:GetUser', `user ${userName}`);
      }
    },
  };
}
