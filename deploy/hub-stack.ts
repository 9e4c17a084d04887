import { Aws, CfnOutput, type CfnResource, Duration, Fn, RemovalPolicy, Stack, Token, type App } from 'aws-cdk-lib';
import { CfnStackSet } from 'aws-cdk-lib/aws-cloudformation';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { CfnConfigRule } from 'aws-cdk-lib/aws-config';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, CfnPermission, Code, Function as LambdaFn, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { CfnTopic, Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { statementsOf, type Grant, type PlaceholderValue } from './grants.js';
import { addMemberRole, memberTemplate } from './member-template.js';
import { defineConditions, defineParameters, type RekeyParameters } from './parameters.js';
import { templateSynthesizer } from './synth-template.js';

/** The IAM actions (with their resources) each role needs for what its handler sends. */
export interface RolePermissions {
  planner: readonly Grant[];
  worker: readonly Grant[];
  /** The role in each member account that the worker assumes. */
  member: readonly Grant[];
  configRule: readonly Grant[];
}

export interface HubStackOptions {
  permissions: RolePermissions;
  /** Default of the CodeKey parameter: the S3 key of the handlers zip built with this template. */
  codeKey: string;
}

/** The three handlers of the handlers zip (see deploy/handlers.ts). */
export const HANDLERS = {
  planner: { id: 'Planner', file: 'planner', timeout: Duration.minutes(5), memoryMiB: 256 },
  // Lambda's hard limit: a worker that nears it sends a continuation message instead of failing.
  worker: { id: 'Worker', file: 'worker', timeout: Duration.minutes(15), memoryMiB: 512 },
  configRule: { id: 'ConfigRuleHandler', file: 'config-rule', timeout: Duration.minutes(5), memoryMiB: 256 },
} as const;
export type HandlerName = keyof typeof HANDLERS;

export const STACK_NAME = 'AwsRekey';

/** The inline policies of a handler's role: what the handler sends, and what the Lambda service does with the role. */
export const HANDLER_POLICY = 'handler';
export const SERVICE_POLICY = 'lambda-service';
/** What the Lambda service itself does with a handler's role (logs; the worker's queue poller). */
export const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;
export const EVENT_SOURCE_ACTIONS = ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'] as const;

/**
 * The hub (one account, one region): schedule → planner → queue (+ dead letters) → worker with bounded
 * concurrency; the Config rule; the SNS topic; alarms. The member role goes to every account of the chosen
 * OUs as a service-managed StackSet from the same template.
 */
export function buildHubStack(app: App, options: HubStackOptions): Stack {
  const stack = new Stack(app, STACK_NAME, {
    synthesizer: templateSynthesizer(),
    description: 'aws-rekey: organisation-wide rotation of IAM access keys (hub, member role StackSet).',
  });
  const parameters = defineParameters(stack, options.codeKey);
  const conditions = defineConditions(stack, parameters);

  const createdTopic = new CfnTopic(stack, 'Topic', { displayName: 'aws-rekey' });
  createdTopic.cfnOptions.condition = conditions.createTopic;
  const topicArn = Fn.conditionIf(conditions.createTopic.logicalId, createdTopic.ref, parameters.topicArn.valueAsString).toString();
  const topic = Topic.fromTopicArn(stack, 'TopicRef', topicArn);

  const deadLetters = new Queue(stack, 'DeadLetters', { retentionPeriod: Duration.days(14), encryption: QueueEncryption.SQS_MANAGED });
  const accounts = new Queue(stack, 'Accounts', {
    // At least the worker's timeout, or a message would be handed to a second worker while the first runs.
    visibilityTimeout: HANDLERS.worker.timeout.plus(Duration.minutes(1)),
    retentionPeriod: Duration.days(4),
    encryption: QueueEncryption.SQS_MANAGED,
    deadLetterQueue: { queue: deadLetters, maxReceiveCount: 3 },
  });

  // SES authorizes a send against the address's identity, or its domain's when only the domain is verified.
  const mailAddress = Fn.conditionIf(conditions.withMail.logicalId, parameters.senderAddress.valueAsString, 'none@none').toString();
  const identityArn = (name: string) => Fn.sub('arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${Name}', { Name: name });
  const placeholders: Record<string, PlaceholderValue> = {
    MemberRoleName: parameters.memberRoleName.valueAsString,
    QueueArn: accounts.queueArn,
    TopicArn: topicArn,
    MailIdentityArn: [identityArn(mailAddress), identityArn(Fn.select(1, Fn.split('@', mailAddress)))],
  };
  const environment = handlerEnvironment(parameters, accounts.queueUrl, topicArn);
  const codeBucket = Bucket.fromBucketName(stack, 'CodeBucketRef', parameters.codeBucket.valueAsString);
  const makeFunction = (name: HandlerName, grants: readonly Grant[], service: PolicyStatement[] = []) => {
    const spec = HANDLERS[name];
    const logGroup = new LogGroup(stack, `${spec.id}Logs`, { removalPolicy: RemovalPolicy.DESTROY });
    (logGroup.node.defaultChild as { retentionInDays?: number }).retentionInDays = Token.asNumber(parameters.logRetentionDays.valueAsNumber);
    const writeLogs = new PolicyStatement({ sid: 'WriteOwnLogs', effect: Effect.ALLOW, actions: [...LOG_ACTIONS], resources: [logGroup.logGroupArn] });
    // Inline policies are part of the role, so they exist before anything that uses the role.
    const role = new Role(stack, `${spec.id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `aws-rekey ${spec.file} handler`,
      inlinePolicies: {
        [HANDLER_POLICY]: new PolicyDocument({ statements: statementsOf(grants, placeholders) }),
        [SERVICE_POLICY]: new PolicyDocument({ statements: [writeLogs, ...service] }),
      },
    });
    return new LambdaFn(stack, spec.id, {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      code: Code.fromBucket(codeBucket, parameters.codeKey.valueAsString),
      handler: `${spec.file}.handler`,
      timeout: spec.timeout,
      memorySize: spec.memoryMiB,
      role,
      logGroup,
      environment,
      description: `aws-rekey ${spec.file}`,
    });
  };

  const planner = makeFunction('planner', options.permissions.planner);
  // Lambda's poller reads the queue with the worker's role.
  const pollQueue = new PolicyStatement({ sid: 'PollAccountQueue', effect: Effect.ALLOW, actions: [...EVENT_SOURCE_ACTIONS], resources: [accounts.queueArn] });
  const worker = makeFunction('worker', options.permissions.worker, [pollQueue]);
  const configRule = makeFunction('configRule', options.permissions.configRule);

  new Rule(stack, 'ScheduleRule', {
    description: 'aws-rekey: start a run',
    schedule: Schedule.expression(parameters.schedule.valueAsString),
    // The scheduled event as it is: its id names the run in the logs and the messages.
    targets: [new LambdaFunction(planner)],
  });
  worker.addEventSourceMapping('AccountQueue', {
    eventSourceArn: accounts.queueArn,
    batchSize: 1,
    maxConcurrency: Token.asNumber(parameters.workerConcurrency.valueAsNumber),
    reportBatchItemFailures: true,
  });

  const rule = new CfnConfigRule(stack, 'AccessKeysRotated', {
    description: 'aws-rekey: active access keys are rotated within maxAccessKeyAge days (like access-keys-rotated).',
    source: {
      owner: 'CUSTOM_LAMBDA',
      sourceIdentifier: configRule.functionArn,
      sourceDetails: [{ eventSource: 'aws.config', messageType: 'ScheduledNotification', maximumExecutionFrequency: 'TwentyFour_Hours' }],
    },
    inputParameters: { maxAccessKeyAge: parameters.rotateAfterDays.valueAsString },
  });
  const configInvoke = new CfnPermission(stack, 'ConfigInvokesRule', {
    action: 'lambda:InvokeFunction',
    functionName: configRule.functionArn,
    principal: 'config.amazonaws.com',
    sourceAccount: Aws.ACCOUNT_ID,
  });
  rule.cfnOptions.condition = conditions.configRule;
  configInvoke.cfnOptions.condition = conditions.configRule;
  rule.addResourceDependency(configInvoke);

  const alarms: Array<[string, string, IMetric]> = [
    ['DeadLetterAlarm', 'aws-rekey: an account message failed 3 times (see the dead-letter queue)', deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })],
    ['PlannerErrorAlarm', 'aws-rekey: the planner failed', planner.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' })],
    ['WorkerErrorAlarm', 'aws-rekey: a worker failed', worker.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' })],
    ['ConfigRuleErrorAlarm', 'aws-rekey: the Config rule handler failed', configRule.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' })],
  ];
  for (const [id, description, metric] of alarms) {
    const alarm = new Alarm(stack, id, {
      alarmDescription: description,
      metric,
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(topic));
  }

  // Service-managed StackSets never deploy to the management account: when the hub is that account, its own
  // users get the member role from this stack.
  const hubMemberRole = addMemberRole(stack, 'HubMemberRole', {
    roleName: parameters.memberRoleName.valueAsString,
    hubAccountId: Aws.ACCOUNT_ID,
    workerRoleArn: worker.role?.roleArn ?? '',
    grants: options.permissions.member,
  });
  (hubMemberRole.node.defaultChild as CfnResource).cfnOptions.condition = conditions.hubIsManagementAccount;

  const stackSet = new CfnStackSet(stack, 'MemberRoles', {
    stackSetName: Fn.sub('${AWS::StackName}-member-role'),
    description: 'aws-rekey: the role the hub worker assumes, in every member account',
    permissionModel: 'SERVICE_MANAGED',
    callAs: parameters.stackSetCallAs.valueAsString,
    autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
    capabilities: ['CAPABILITY_NAMED_IAM'],
    managedExecution: { Active: true },
    operationPreferences: { failureTolerancePercentage: 10, maxConcurrentPercentage: 25, regionConcurrencyType: 'PARALLEL' },
    // IAM is global: one region per account is enough.
    stackInstancesGroup: [{ deploymentTargets: { organizationalUnitIds: parameters.memberOrganizationalUnitIds.valueAsList }, regions: [Aws.REGION] }],
    parameters: [
      { parameterKey: 'RoleName', parameterValue: parameters.memberRoleName.valueAsString },
      { parameterKey: 'HubAccountId', parameterValue: Aws.ACCOUNT_ID },
      { parameterKey: 'WorkerRoleArn', parameterValue: worker.role?.roleArn ?? '' },
    ],
    templateBody: JSON.stringify(memberTemplate(options.permissions.member)),
  });

  new CfnOutput(stack, 'QueueUrl', { value: accounts.queueUrl, description: 'One message per account and run' });
  new CfnOutput(stack, 'DeadLetterQueueUrl', { value: deadLetters.queueUrl, description: 'Messages that failed 3 times' });
  new CfnOutput(stack, 'NotificationTopicArn', { value: topicArn, description: 'Decision events and alarms' });
  new CfnOutput(stack, 'WorkerRoleArn', { value: worker.role?.roleArn ?? '', description: 'The only principal the member roles trust' });
  new CfnOutput(stack, 'MemberStackSetId', { value: stackSet.ref, description: 'The member role StackSet' });
  return stack;
}

/** What the handlers read from their environment (src/org/config.ts, orgSettingsFromEnv). */
function handlerEnvironment(parameters: RekeyParameters, queueUrl: string, topicArn: string): Record<string, string> {
  return {
    AWS_REKEY_MODE: parameters.mode.valueAsString,
    AWS_REKEY_ROTATE_AFTER_DAYS: parameters.rotateAfterDays.valueAsString,
    AWS_REKEY_DEACTIVATE_AFTER_DAYS: parameters.deactivateAfterDays.valueAsString,
    AWS_REKEY_DELETE_AFTER_DAYS: parameters.deleteAfterDays.valueAsString,
    AWS_REKEY_WARN_DAYS_BEFORE: parameters.warnDaysBefore.valueAsString,
    AWS_REKEY_UNUSED_AFTER_DAYS: parameters.unusedAfterDays.valueAsString,
    AWS_REKEY_EXEMPT_GROUPS: parameters.exemptGroups.valueAsString,
    AWS_REKEY_INCLUDE_ACCOUNTS: parameters.includeAccounts.valueAsString,
    AWS_REKEY_EXCLUDE_ACCOUNTS: parameters.excludeAccounts.valueAsString,
    AWS_REKEY_INCLUDE_OUS: parameters.includeOus.valueAsString,
    AWS_REKEY_EXCLUDE_OUS: parameters.excludeOus.valueAsString,
    AWS_REKEY_MEMBER_ROLE_NAME: parameters.memberRoleName.valueAsString,
    AWS_REKEY_PARTITION: Aws.PARTITION,
    AWS_REKEY_MAIL_FROM: parameters.senderAddress.valueAsString,
    AWS_REKEY_DIGEST: parameters.digest.valueAsString,
    AWS_REKEY_DIGEST_TO: parameters.digestTo.valueAsString,
    AWS_REKEY_TOPIC_ARN: topicArn,
    AWS_REKEY_QUEUE_URL: queueUrl,
    AWS_REKEY_SECRET_ADMIN_ROLE_ARN: parameters.adminRoleArn.valueAsString,
  };
}
