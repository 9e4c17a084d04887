/**
 * The least-privilege IAM policy for what aws-rekey does. Kept in step with the code by a unit test that
 * reads every IAM command the sources send (test/unit/policy.test.ts).
 *
 * sts:GetCallerIdentity and sts:GetSessionToken need no permission: IAM policies cannot deny them.
 */

export interface PolicyOptions {
  /** Require an MFA session (aws:MultiFactorAuthPresent) for the actions that change keys. */
  mfa?: boolean;
  /** Rotation of any user's keys and the account audit, instead of one's own keys only. */
  admin?: boolean;
  /** aws (default), aws-cn, aws-us-gov, … */
  partition?: string;
}

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** Read the keys of a user (every rotation starts here). */
export const KEY_READ_ACTIONS = ['iam:GetAccessKeyLastUsed', 'iam:ListAccessKeys', 'iam:ListMFADevices'] as const;
/** Rotation of another user (rotate --user): the user's ARN, which the new key must prove. */
export const ADMIN_READ_ACTIONS = ['iam:GetUser'] as const;
/** Change the keys of a user. */
export const KEY_WRITE_ACTIONS = ['iam:CreateAccessKey', 'iam:DeleteAccessKey', 'iam:UpdateAccessKey'] as const;
/** The account-wide audit (`aws-rekey audit`): these take no resource but `*`. */
export const AUDIT_ACTIONS = ['iam:GenerateCredentialReport', 'iam:GetAccountSummary', 'iam:GetCredentialReport', 'iam:ListUsers'] as const;

/** Every IAM action the policy can grant, for the test that compares them with the code. */
export const ALL_POLICY_ACTIONS: readonly string[] = [...KEY_READ_ACTIONS, ...ADMIN_READ_ACTIONS, ...KEY_WRITE_ACTIONS, ...AUDIT_ACTIONS];

export function buildPolicy(options: PolicyOptions = {}): PolicyDocument {
  const partition = options.partition ?? 'aws';
  // ${aws:username} is the caller's user name; users with a path (user/team/alice) need the second ARN.
  const users = options.admin
    ? [`arn:${partition}:iam::*:user/*`]
    : [`arn:${partition}:iam::*:user/\${aws:username}`, `arn:${partition}:iam::*:user/*/\${aws:username}`];
  const resource = users.length === 1 ? (users[0] as string) : users;
  const who = options.admin ? 'AnyUser' : 'OwnUser';
  const statements: PolicyStatement[] = [
    {
      Sid: `ReadKeysOf${who}`,
      Effect: 'Allow',
      Action: options.admin ? [...KEY_READ_ACTIONS, ...ADMIN_READ_ACTIONS].sort() : [...KEY_READ_ACTIONS],
      Resource: resource,
    },
    {
      Sid: `RotateKeysOf${who}`,
      Effect: 'Allow',
      Action: [...KEY_WRITE_ACTIONS],
      Resource: resource,
      // Bool (not BoolIfExists): long-lived keys carry no MFA context at all, and must not match.
      ...(options.mfa ? { Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } } : {}),
    },
  ];
  if (options.admin) {
    statements.push({ Sid: 'AuditAccount', Effect: 'Allow', Action: [...AUDIT_ACTIONS], Resource: '*' });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** One line for a person: what the policy allows. */
export function describePolicy(options: PolicyOptions = {}): string {
  const scope = options.admin ? "rotating any IAM user's keys and auditing the account" : 'rotating your own access keys';
  return `Least-privilege policy for ${scope}${options.mfa ? ', with MFA required for the changes' : ''}.`;
}
