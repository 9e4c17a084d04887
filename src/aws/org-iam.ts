import { GetGroupCommand, ListUserTagsCommand, TagUserCommand, UntagUserCommand, type IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { StaticCredentials } from '../core/types.js';
import { errorCodeOf, mapAwsError } from './errors.js';

/** The IAM calls of the organisation engine beside those of the audit and the rotation: tags and groups. */
export interface OrgIamApi {
  listUserTags(userName: string): Promise<Record<string, string>>;
  /** The user names in a group; `undefined` when the account has no such group. */
  groupMembers(groupName: string): Promise<string[] | undefined>;
  tagUser(userName: string, tags: Record<string, string>): Promise<void>;
  untagUser(userName: string, keys: readonly string[]): Promise<void>;
}

export function createOrgIamApi(client: IAMClient): OrgIamApi {
  return {
    async listUserTags(userName) {
      const tags: Record<string, string> = {};
      let marker: string | undefined;
      do {
        try {
          const page = await client.send(new ListUserTagsCommand({ UserName: userName, ...(marker ? { Marker: marker } : {}) }));
          for (const tag of page.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
          marker = page.IsTruncated ? page.Marker : undefined;
        } catch (error) {
          throw mapAwsError(error, 'iam:ListUserTags', `user ${userName}`);
        }
      } while (marker);
      return tags;
    },
    async groupMembers(groupName) {
      const members: string[] = [];
      let marker: string | undefined;
      do {
        try {
          const page = await client.send(new GetGroupCommand({ GroupName: groupName, ...(marker ? { Marker: marker } : {}) }));
          for (const user of page.Users ?? []) if (user.UserName) members.push(user.UserName);
          marker = page.IsTruncated ? page.Marker : undefined;
        } catch (error) {
          if (errorCodeOf(error) === 'NoSuchEntity' || errorCodeOf(error) === 'NoSuchEntityException') return undefined;
          throw mapAwsError(error, 'iam:GetGroup', `group ${groupName}`);
        }
      } while (marker);
      return members;
    },
    async tagUser(userName, tags) {
      try {
        await client.send(new TagUserCommand({ UserName: userName, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
      } catch (error) {
        throw mapAwsError(error, 'iam:TagUser', `user ${userName}`);
      }
    },
    async untagUser(userName, keys) {
      try {
        await client.send(new UntagUserCommand({ UserName: userName, TagKeys: [...keys] }));
      } catch (error) {
        throw mapAwsError(error, 'iam:UntagUser', `user ${userName}`);
      }
    },
  };
}

/** Temporary credentials of a role in another account (sts:AssumeRole). */
export async function assumeRole(client: STSClient, roleArn: string, sessionName: string): Promise<StaticCredentials & { expiration?: Date }> {
  try {
    const out = await client.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 3600 }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('AssumeRole returned no credentials');
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
  } catch (error) {
    throw mapAwsError(error, 'sts:AssumeRole', roleArn);
  }
}
