import { resolveOrgPolicy, type OrgDigest, type OrgMode, type OrgPolicy } from '../core/org-policy.js';
import { UsageError } from '../errors.js';

/** How a deployment of the engine is set up: the policy plus where its queue, topic, mail and member role are. */
export interface OrgSettings {
  policy: OrgPolicy;
  /** The planner → worker queue (workers also send their continuations there). */
  queueUrl?: string;
  /** The role each worker assumes in a member account: arn:<partition>:iam::<account>:role/<name>. */
  memberRoleName: string;
  /** The account the engine runs in: its own keys are handled without assuming a role. */
  partition: string;
  /** SNS topic for the JSON decision events. */
  topicArn?: string;
  /** Verified SES identity the owner mails come from; no mail without it. */
  mailFrom?: string;
  /** A role allowed to read the users' secrets besides the user (optional). */
  secretAdminRoleArn?: string;
}

export const DEFAULT_MEMBER_ROLE_NAME = 'aws-rekey-member';

/** The handlers' settings from their environment (AWS_REKEY_*), validated; every problem named at once. */
export function orgSettingsFromEnv(env: NodeJS.ProcessEnv): OrgSettings {
  const problems: string[] = [];
  const days = (name: string): number | undefined => {
    const text = env[name]?.trim();
    if (!text) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n)) problems.push(`${name} must be a whole number of days, not '${text}'.`);
    return n;
  };
  const list = (name: string): string[] | undefined => {
    const text = env[name]?.trim();
    return text ? text.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  };
  const input = {
    mode: (env.AWS_REKEY_MODE?.trim() || undefined) as OrgMode | undefined,
    rotateAfterDays: days('AWS_REKEY_ROTATE_AFTER_DAYS'),
    deactivateAfterDays: days('AWS_REKEY_DEACTIVATE_AFTER_DAYS'),
    deleteAfterDays: days('AWS_REKEY_DELETE_AFTER_DAYS'),
    warnDaysBefore: days('AWS_REKEY_WARN_DAYS_BEFORE'),
    unusedAfterDays: days('AWS_REKEY_UNUSED_AFTER_DAYS'),
    exemptGroups: list('AWS_REKEY_EXEMPT_GROUPS'),
    includeAccounts: list('AWS_REKEY_INCLUDE_ACCOUNTS'),
    excludeAccounts: list('AWS_REKEY_EXCLUDE_ACCOUNTS'),
    includeOus: list('AWS_REKEY_INCLUDE_OUS'),
    excludeOus: list('AWS_REKEY_EXCLUDE_OUS'),
    digest: (env.AWS_REKEY_DIGEST?.trim() || undefined) as OrgDigest | undefined,
    digestTo: list('AWS_REKEY_DIGEST_TO'),
  };
  if (problems.length > 0) throw new UsageError(`The aws-rekey settings are refused: ${problems.join(' ')}`, 'Fix the AWS_REKEY_* variables of the function.', 'ORG_SETTINGS_INVALID');
  const policy = resolveOrgPolicy(input);
  const memberRoleName = env.AWS_REKEY_MEMBER_ROLE_NAME?.trim() || DEFAULT_MEMBER_ROLE_NAME;
  if (!/^[\w+=,.@-]{1,64}$/.test(memberRoleName)) {
    throw new UsageError(`AWS_REKEY_MEMBER_ROLE_NAME '${memberRoleName}' is not an IAM role name.`, 'Give the name only, without a path or ARN.', 'ORG_SETTINGS_INVALID');
  }
  const optional = (name: string) => env[name]?.trim() || undefined;
  const settings: OrgSettings = { policy, memberRoleName, partition: optional('AWS_REKEY_PARTITION') ?? 'aws' };
  const queueUrl = optional('AWS_REKEY_QUEUE_URL');
  if (queueUrl) settings.queueUrl = queueUrl;
  const topicArn = optional('AWS_REKEY_TOPIC_ARN');
  if (topicArn) settings.topicArn = topicArn;
  const mailFrom = optional('AWS_REKEY_MAIL_FROM');
  if (mailFrom) settings.mailFrom = mailFrom;
  else if (policy.digest !== 'off') {
    throw new UsageError(`AWS_REKEY_DIGEST=${policy.digest} sends mail, and AWS_REKEY_MAIL_FROM is not set.`, 'Set AWS_REKEY_MAIL_FROM to a verified SES identity, or AWS_REKEY_DIGEST=off.', 'ORG_SETTINGS_INVALID');
  }
  const admin = optional('AWS_REKEY_SECRET_ADMIN_ROLE_ARN');
  if (admin) settings.secretAdminRoleArn = admin;
  return settings;
}

export function memberRoleArn(settings: Pick<OrgSettings, 'partition' | 'memberRoleName'>, accountId: string): string {
  return `arn:${settings.partition}:iam::${accountId}:role/${settings.memberRoleName}`;
}
