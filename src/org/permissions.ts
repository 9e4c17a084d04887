/**
 * The IAM permissions of the organisation engine's roles, one declaration for the deployment (issue 12, CDK)
 * to build its policies from. test/unit/org-permissions.test.ts keeps it equal to the calls each handler's
 * code sends (the commands reachable from src/lambda/<handler>.ts).
 *
 * Roles:
 * - planner: in the management (or delegated-administrator) account; lists accounts, fills the queue;
 * - worker: assumes the member role in each account; sends continuations, events and owner mails;
 * - member: the role in every member account (a service-managed StackSet), assumed by the worker;
 * - configRule: the custom AWS Config rule's function, in each account where the rule runs.
 *
 * Resources are written with placeholders the deployment fills in: ${Partition}, ${Region}, ${Account},
 * ${QueueArn}, ${TopicArn}, ${MailIdentityArn}, ${MemberRoleName}.
 */

export type OrgRoleName = 'planner' | 'worker' | 'member' | 'configRule';

export interface OrgPermission {
  /** IAM actions, e.g. `organizations:ListAccounts`. */
  actions: readonly string[];
  /** Resource ARNs (patterns with placeholders), or `*` where the action takes no resource. */
  resources: readonly string[];
  /** Why the role needs them. */
  why: string;
}

/** The lambda entry point whose code sends each role's calls (the member role's calls come from the worker). */
export const ORG_ROLE_HANDLERS: Readonly<Record<OrgRoleName, string>> = {
  planner: 'src/lambda/planner.ts',
  worker: 'src/lambda/worker.ts',
  member: 'src/lambda/worker.ts',
  configRule: 'src/lambda/config-rule.ts',
};

const USERS = 'arn:${Partition}:iam::*:user/*';
/** The credential report, the account summary and ListUsers take no resource. */
const ACCOUNT_READS = ['iam:GenerateCredentialReport', 'iam:GetAccountSummary', 'iam:GetCredentialReport', 'iam:ListUsers'] as const;
const KEY_READS = ['iam:GetAccessKeyLastUsed', 'iam:ListAccessKeys'] as const;

export const ORG_PERMISSIONS: Readonly<Record<OrgRoleName, readonly OrgPermission[]>> = {
  planner: [
    { actions: ['organizations:ListAccounts', 'organizations:ListParents'], resources: ['*'], why: 'list the accounts and, when the policy names OUs, their place in the tree' },
    { actions: ['sqs:SendMessage'], resources: ['${QueueArn}'], why: 'one message per account' },
  ],
  worker: [
    { actions: ['sts:AssumeRole'], resources: ['arn:${Partition}:iam::*:role/${MemberRoleName}'], why: 'work in each member account' },
    { actions: ['sqs:SendMessage'], resources: ['${QueueArn}'], why: 'hand the rest of an account on before the time limit' },
    { actions: ['sns:Publish'], resources: ['${TopicArn}'], why: 'one JSON event per decision' },
    { actions: ['ses:SendEmail'], resources: ['${MailIdentityArn}'], why: "mail the keys' owners" },
  ],
  member: [
    { actions: [...ACCOUNT_READS], resources: ['*'], why: 'the credential report first; ListUsers only when the report cannot be had' },
    { actions: [...KEY_READS, 'iam:ListUserTags', 'iam:TagUser', 'iam:UntagUser'], resources: [USERS], why: "the keys, last use and tags of users the report cannot decide; the rotation's progress and the owner's notice marker" },
    { actions: ['iam:GetGroup'], resources: ['arn:${Partition}:iam::*:group/*'], why: 'members of the exempt groups' },
    {
      actions: ['iam:CreateAccessKey', 'iam:DeleteAccessKey', 'iam:UpdateAccessKey'],
      resources: [USERS],
      why: 'enforce: rotate (through the rotation lifecycle), deactivate, delete',
    },
    {
      actions: [
        'secretsmanager:CreateSecret',
        'secretsmanager:DeleteSecret',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutResourcePolicy',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      resources: ['arn:${Partition}:secretsmanager:*:*:secret:aws-rekey/*'],
      why: "enforce: the user's secret aws-rekey/USER (write, undo, and read back to resume an interrupted rotation)",
    },
  ],
  configRule: [
    { actions: [...ACCOUNT_READS], resources: ['*'], why: 'the users and the credential report' },
    { actions: [...KEY_READS], resources: [USERS], why: 'per-user reads when the credential report cannot be had' },
    { actions: ['config:PutEvaluations'], resources: ['*'], why: 'report compliance per user' },
  ],
};

/** Every action of a role, sorted. */
export function orgRoleActions(role: OrgRoleName): string[] {
  return [...new Set(ORG_PERMISSIONS[role].flatMap((p) => p.actions))].sort();
}

/** An IAM policy document for a role, with the placeholders replaced by `values`. */
export function orgRolePolicy(role: OrgRoleName, values: Record<string, string>): { Version: '2012-10-17'; Statement: Array<{ Effect: 'Allow'; Action: string[]; Resource: string[] }> } {
  const fill = (text: string) => text.replace(/\$\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
  return {
    Version: '2012-10-17',
    Statement: ORG_PERMISSIONS[role].map((p) => ({ Effect: 'Allow', Action: [...p.actions], Resource: p.resources.map(fill) })),
  };
}
