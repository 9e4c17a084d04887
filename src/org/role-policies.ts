import { orgRolePolicy, type OrgRoleName } from './permissions.js';

/**
 * The organisation roles' IAM documents as `aws-rekey policy --org ROLE` prints them, for teams that create
 * the roles by other means than the template (deploy/). Pure: no SDK, no network. The template builds the
 * same documents (test/unit/deploy-permissions.test.ts compares them).
 */

/** The role names on the command line. */
export const ORG_ROLE_OPTIONS: Readonly<Record<string, OrgRoleName>> = { planner: 'planner', worker: 'worker', member: 'member', 'config-rule': 'configRule' };

export interface OrgPolicyValues {
  partition: string;
  memberRoleName: string;
  queueArn?: string;
  topicArn?: string;
  mailIdentityArn?: string;
}

export interface PolicyStatementDocument {
  Effect: 'Allow';
  Action: string | string[];
  Resource?: string[];
  Principal?: Record<string, string>;
  Condition?: Record<string, Record<string, string>>;
}

export interface IamDocument {
  Version: '2012-10-17';
  Statement: PolicyStatementDocument[];
}

/** The role's permissions policy; a value not given stays a visible placeholder (`${QueueArn}`). */
export function orgPermissionsPolicy(role: OrgRoleName, values: OrgPolicyValues): IamDocument {
  const fill: Record<string, string> = { Partition: values.partition, MemberRoleName: values.memberRoleName };
  if (values.queueArn) fill.QueueArn = values.queueArn;
  if (values.topicArn) fill.TopicArn = values.topicArn;
  if (values.mailIdentityArn) fill.MailIdentityArn = values.mailIdentityArn;
  return orgRolePolicy(role, fill);
}

/**
 * Who may assume the role. The member role trusts the hub account's root narrowed to the worker role by
 * aws:PrincipalArn, so it can be created before the worker role exists (a role ARN as the principal would be
 * refused as "Invalid principal"); the others are Lambda functions' roles.
 */
export function orgTrustPolicy(role: OrgRoleName, workerRoleArn?: string): IamDocument {
  if (role !== 'member') {
    return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
  }
  const match = /^arn:([\w-]+):iam::(\d{12}):role\/.+$/.exec(workerRoleArn ?? '');
  if (!match) throw new Error(`not a role ARN: ${workerRoleArn}`);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:${match[1]}:iam::${match[2]}:root` },
        Action: 'sts:AssumeRole',
        Condition: { ArnEquals: { 'aws:PrincipalArn': workerRoleArn as string } },
      },
    ],
  };
}

/** The placeholders a document still holds, e.g. `${QueueArn}`. */
export function placeholdersIn(document: IamDocument): string[] {
  return [...new Set([...JSON.stringify(document).matchAll(/\$\{(\w+)\}/g)].map((m) => m[0]))].sort();
}
