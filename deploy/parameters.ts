import { CfnCondition, CfnParameter, Fn, type Stack } from 'aws-cdk-lib';
import { ORG_DIGESTS, ORG_MODES } from '../src/core/org-policy.js';

/**
 * The template's parameters: everything a platform team chooses at deploy time. Defaults are the safe
 * ones (mode `report` changes nothing), so a first deployment with only the required parameters is harmless.
 */
export interface RekeyParameters {
  mode: CfnParameter;
  rotateAfterDays: CfnParameter;
  deactivateAfterDays: CfnParameter;
  deleteAfterDays: CfnParameter;
  warnDaysBefore: CfnParameter;
  unusedAfterDays: CfnParameter;
  schedule: CfnParameter;
  exemptGroups: CfnParameter;
  includeAccounts: CfnParameter;
  excludeAccounts: CfnParameter;
  includeOus: CfnParameter;
  excludeOus: CfnParameter;
  memberOrganizationalUnitIds: CfnParameter;
  memberRoleName: CfnParameter;
  stackSetCallAs: CfnParameter;
  senderAddress: CfnParameter;
  digest: CfnParameter;
  digestTo: CfnParameter;
  topicArn: CfnParameter;
  adminRoleArn: CfnParameter;
  workerConcurrency: CfnParameter;
  logRetentionDays: CfnParameter;
  configRule: CfnParameter;
  codeBucket: CfnParameter;
  codeKey: CfnParameter;
}

export interface RekeyConditions {
  /** No topic given: the stack creates its own. */
  createTopic: CfnCondition;
  /** The Config rule (needs an AWS Config recorder in the hub account). */
  configRule: CfnCondition;
  /** A sender address is given: owners get mail. */
  withMail: CfnCondition;
  /** A StackSet called as SELF is the management account's, which the StackSet itself never deploys to. */
  hubIsManagementAccount: CfnCondition;
}

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function days(stack: Stack, id: string, defaultDays: number, description: string, minValue = 1): CfnParameter {
  return new CfnParameter(stack, id, { type: 'Number', default: defaultDays, minValue, maxValue: 3650, description });
}

/** A string parameter: `defaultValue` undefined makes it required. */
function text(stack: Stack, id: string, defaultValue: string | undefined, allowedPattern: string, description: string): CfnParameter {
  return new CfnParameter(stack, id, { type: 'String', ...(defaultValue === undefined ? {} : { default: defaultValue }), allowedPattern, description });
}

function choice(stack: Stack, id: string, defaultValue: string, allowedValues: string[], description: string): CfnParameter {
  return new CfnParameter(stack, id, { type: 'String', default: defaultValue, allowedValues, description });
}

const ID_LIST = '^[0-9a-z,\\- ]*$';

export function defineParameters(stack: Stack, codeKeyDefault: string): RekeyParameters {
  return {
    mode: choice(stack, 'Mode', 'report', [...ORG_MODES], 'report: list findings, change nothing. notify: also mail the key owners. enforce: rotate, deactivate and delete keys.'),
    rotateAfterDays: days(stack, 'RotateAfterDays', 90, 'Age (days) at which a key is rotated (CIS: 90).'),
    deactivateAfterDays: days(stack, 'DeactivateAfterDays', 7, 'Days after its replacement was delivered before the old key is deactivated.'),
    deleteAfterDays: days(stack, 'DeleteAfterDays', 7, 'Days after deactivation before the old key is deleted.'),
    warnDaysBefore: days(stack, 'WarnDaysBefore', 7, 'Days before each action that the owner is warned.', 0),
    unusedAfterDays: days(stack, 'UnusedAfterDays', 45, 'A key unused for this many days is reported (CIS: 45).'),
    schedule: text(stack, 'Schedule', 'rate(1 day)', '^(rate|cron)\\(.+\\)$', 'EventBridge schedule of the planner, e.g. rate(1 day) or cron(0 6 * * ? *).'),
    exemptGroups: text(stack, 'ExemptGroups', '', '^[\\w+=,.@ -]*$', 'Comma-separated IAM group names whose members are exempt (in every account); empty: none.'),
    includeAccounts: text(stack, 'IncludeAccounts', '', ID_LIST, 'Comma-separated account ids to handle; empty: every active account.'),
    excludeAccounts: text(stack, 'ExcludeAccounts', '', ID_LIST, 'Comma-separated account ids never to touch.'),
    includeOus: text(stack, 'IncludeOus', '', ID_LIST, 'Comma-separated OU ids (ou-...) whose accounts are handled; empty: all.'),
    excludeOus: text(stack, 'ExcludeOus', '', ID_LIST, 'Comma-separated OU ids (ou-...) whose accounts are never touched.'),
    memberOrganizationalUnitIds: new CfnParameter(stack, 'MemberOrganizationalUnitIds', {
      type: 'CommaDelimitedList',
      description: 'Where the StackSet creates the member role: the organisation root id (r-...) or OU ids (ou-...).',
    }),
    memberRoleName: text(stack, 'MemberRoleName', 'aws-rekey-member', '^[\\w+=,.@-]{1,64}$', 'Name of the role the worker assumes in each member account (created by the StackSet).'),
    stackSetCallAs: choice(stack, 'StackSetCallAs', 'SELF', ['SELF', 'DELEGATED_ADMIN'], 'SELF when this is the management account; DELEGATED_ADMIN in a delegated administrator account for StackSets.'),
    senderAddress: text(stack, 'SenderAddress', '', '^$|^[^@\\s]+@[^@\\s]+$', 'SES-verified address the owner mails come from; empty: no mail (events go to the SNS topic only).'),
    digest: choice(stack, 'Digest', 'off', [...ORG_DIGESTS], 'Digest mails (need SenderAddress): owner, one mail per owner and account instead of one per user; account, also one summary per account to DigestTo.'),
    digestTo: text(stack, 'DigestTo', '', '^[^\\s]*$', 'Comma-separated addresses the account digest goes to (Digest account only).'),
    topicArn: text(stack, 'TopicArn', '', '^$|^arn:[\\w-]+:sns:[\\w-]+:\\d{12}:[\\w-]+$', 'SNS topic for the decision events and the alarms; empty: the stack creates one.'),
    adminRoleArn: text(stack, 'AdminRoleArn', '', '^$|^arn:[\\w-]+:iam::\\d{12}:role/.+$', "A role that may also read every user's new key in Secrets Manager (break-glass); empty: none."),
    workerConcurrency: new CfnParameter(stack, 'WorkerConcurrency', {
      type: 'Number',
      default: 5,
      minValue: 2,
      maxValue: 100,
      description: 'At most this many accounts are worked on at once (SQS maximum concurrency, at least 2).',
    }),
    // A Number whose default is a string, like the allowed values: CloudFormation compares them as strings.
    logRetentionDays: new CfnParameter(stack, 'LogRetentionDays', { type: 'Number', default: '90', allowedValues: LOG_RETENTION_DAYS.map(String), description: "How long the handlers' logs are kept (days)." }),
    configRule: choice(stack, 'ConfigRule', 'disabled', ['enabled', 'disabled'], 'enabled: an AWS Config rule like access-keys-rotated (needs an AWS Config recorder in this account).'),
    codeBucket: text(stack, 'CodeBucket', undefined, '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', 'S3 bucket (in this region) holding the handlers zip.'),
    codeKey: text(stack, 'CodeKey', codeKeyDefault, '^.+$', 'S3 key of the handlers zip (the default names the zip built with this template).'),
  };
}

export function defineConditions(stack: Stack, parameters: RekeyParameters): RekeyConditions {
  return {
    createTopic: new CfnCondition(stack, 'CreateTopic', { expression: Fn.conditionEquals(parameters.topicArn.valueAsString, '') }),
    configRule: new CfnCondition(stack, 'WithConfigRule', { expression: Fn.conditionEquals(parameters.configRule.valueAsString, 'enabled') }),
    withMail: new CfnCondition(stack, 'WithMail', { expression: Fn.conditionNot(Fn.conditionEquals(parameters.senderAddress.valueAsString, '')) }),
    hubIsManagementAccount: new CfnCondition(stack, 'HubIsManagementAccount', { expression: Fn.conditionEquals(parameters.stackSetCallAs.valueAsString, 'SELF') }),
  };
}
