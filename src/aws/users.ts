import { GetUserCommand } from '@aws-sdk/client-iam';
import { AwsError } from '../errors.js';
import type { ClientFactory, CredentialsInput } from './clients.js';
import { mapAwsError } from './errors.js';

/**
 * The ARN of an IAM user (with its path): what GetCallerIdentity signed with the user's new key must
 * answer. Not in the gateway because only admin rotation needs it.
 */
export async function getUserArn(factory: ClientFactory, credentials: CredentialsInput, userName: string): Promise<string> {
  // Not destroyed afterwards: the client shares the factory's request handler (destroying it would close that).
  const client = factory.iam(credentials);
  try {
    const out = await client.send(new GetUserCommand({ UserName: userName }));
    const arn = out.User?.Arn;
    if (!arn) throw new AwsError('AWS_ERROR', 'iam:GetUser', 'EmptyResponse', `iam:GetUser returned no ARN for ${userName}.`);
    return arn;
  } catch (error) {
    const mapped = mapAwsError(error, 'iam:GetUser', `user ${userName}`);
    if (mapped.code === 'NO_SUCH_ENTITY') {
      throw new AwsError('USER_NOT_FOUND', mapped.action, mapped.awsCode, `There is no IAM user ${userName} in this account.`, {
        hint: 'Check the name (aws iam list-users); give the name without its path.',
        cause: error,
      });
    }
    throw mapped;
  }
}
