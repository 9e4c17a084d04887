import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildHubStack, EVENT_SOURCE_ACTIONS, HANDLER_POLICY, LOG_ACTIONS, SERVICE_POLICY, type RolePermissions } from '../../deploy/hub-stack.js';
import { CLOUDFORMATION_LIMITS, templateLimitProblems } from '../../deploy/limits.js';
import { memberTemplate } from '../../deploy/member-template.js';
import { renderTemplate } from '../../deploy/synth.js';
import { synthesizeStack, type CloudFormationTemplate } from '../../deploy/synth-template.js';

/** Grants of every shape the declaration uses: plain ARNs, pseudo parameters, stack variables. */
const PERMISSIONS: RolePermissions = {
  planner: [
    { actions: ['organizations:ListAccounts'], resources: ['*'], why: 'list' },
    { actions: ['sqs:SendMessage'], resources: ['${QueueArn}'], why: 'queue' },
  ],
  worker: [
    { actions: ['sts:AssumeRole'], resources: ['arn:${Partition}:iam::*:role/${MemberRoleName}'], why: 'assume' },
    { actions: ['ses:SendEmail'], resources: ['${MailIdentityArn}'], why: 'mail' },
  ],
  member: [{ actions: ['iam:ListAccessKeys', 'iam:CreateAccessKey'], resources: ['arn:${Partition}:iam::${Account}:user/*'], why: 'keys' }],
  configRule: [{ actions: ['config:PutEvaluations'], resources: ['*'], why: 'evaluate' }],
};
const CODE_KEY = 'aws-rekey-lambda-0123456789abcdef.zip';

type Resource = { Type: string; Properties: Record<string, unknown>; Condition?: string; DependsOn?: string[] };

let raw: CloudFormationTemplate;
let template: Template;

function only(type: string, properties: Record<string, unknown> = {}): [string, Resource] {
  const found = Object.entries(template.findResources(type, { Properties: Match.objectLike(properties) })) as Array<[string, Resource]>;
  expect(found, `${type} ${JSON.stringify(properties)}`).toHaveLength(1);
  return found[0] as [string, Resource];
}

function functionOf(file: string): [string, Resource] {
  return only('AWS::Lambda::Function', { Handler: `${file}.handler` });
}

/** The inline policy `name` of the role that the function `file` runs with. */
function rolePolicy(file: string, name: string): Array<{ Sid: string; Action: string | string[]; Resource: unknown }> {
  const [, fn] = functionOf(file);
  const roleId = ((fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'] ?? [])[0] as string;
  const role = template.toJSON().Resources[roleId] as Resource;
  const policies = role.Properties.Policies as Array<{ PolicyName: string; PolicyDocument: { Statement: Array<{ Sid: string; Action: string | string[]; Resource: unknown }> } }>;
  const policy = policies.find((p) => p.PolicyName === name);
  expect(policy, `${file}: policy ${name}`).toBeDefined();
  return policy?.PolicyDocument.Statement ?? [];
}

beforeAll(() => {
  raw = synthesizeStack((app) => buildHubStack(app, { permissions: PERMISSIONS, codeKey: CODE_KEY }));
  template = Template.fromJSON(raw);
});

describe('the hub template: parameters', () => {
  it('defaults: report mode, CIS periods, a daily run, the handlers zip built with it', () => {
    const defaults = Object.fromEntries(Object.entries(raw.Parameters as Record<string, { Default?: unknown }>).map(([id, p]) => [id, p.Default]));
    expect(defaults).toEqual({
      Mode: 'report',
      RotateAfterDays: 90,
      DeactivateAfterDays: 7,
      DeleteAfterDays: 7,
      WarnDaysBefore: 7,
      UnusedAfterDays: 45,
      ExemptGroups: '',
      Schedule: 'rate(1 day)',
      IncludeAccounts: '',
      ExcludeAccounts: '',
      IncludeOus: '',
      ExcludeOus: '',
      MemberOrganizationalUnitIds: undefined,
      MemberRoleName: 'aws-rekey-member',
      StackSetCallAs: 'SELF',
      SenderAddress: '',
      Digest: 'off',
      DigestTo: '',
      TopicArn: '',
      AdminRoleArn: '',
      WorkerConcurrency: 5,
      LogRetentionDays: '90',
      ConfigRule: 'disabled',
      CodeBucket: undefined,
      CodeKey: CODE_KEY,
    });
    template.hasParameter('Mode', { AllowedValues: ['report', 'notify', 'enforce'] });
    template.hasParameter('MemberOrganizationalUnitIds', { Type: 'CommaDelimitedList' });
    template.hasParameter('WorkerConcurrency', { MinValue: 2 });
    template.hasParameter('LogRetentionDays', { AllowedValues: Match.arrayWith(['1', '90', '3653']) });
  });

  it('every parameter says what it is for', () => {
    for (const [id, parameter] of Object.entries(raw.Parameters as Record<string, { Description?: string }>)) {
      expect(parameter.Description?.length ?? 0, id).toBeGreaterThan(15);
    }
  });
});

describe('the hub template: resources', () => {
  it('no CDK bootstrap, version report, assets or construct paths: a plain template', () => {
    const text = JSON.stringify(raw);
    expect(raw.Parameters).not.toHaveProperty('BootstrapVersion');
    expect(raw).not.toHaveProperty('Rules');
    template.resourceCountIs('AWS::CDK::Metadata', 0);
    for (const needle of ['aws:cdk:path', 'aws:asset', 'cdk-hnb659fds', 'AssetParameters']) expect(text).not.toContain(needle);
  });

  it('three Node.js 22 functions from the handlers zip, each with its own log group and retention', () => {
    template.resourceCountIs('AWS::Lambda::Function', 3);
    for (const [file, timeout] of [['planner', 300], ['worker', 900], ['config-rule', 300]] as const) {
      const [, fn] = functionOf(file);
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Timeout: timeout,
        Code: { S3Bucket: { Ref: 'CodeBucket' }, S3Key: { Ref: 'CodeKey' } },
        Environment: { Variables: expect.objectContaining({ AWS_REKEY_MODE: { Ref: 'Mode' } }) },
      });
      const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(template.toJSON().Resources[logGroupId]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: { Ref: 'LogRetentionDays' } } });
    }
    template.resourceCountIs('AWS::Logs::LogGroup', 3);
  });

  it('the schedule starts the planner, which alone may be invoked by EventBridge', () => {
    const [plannerId] = functionOf('planner');
    const [ruleId] = only('AWS::Events::Rule', { ScheduleExpression: { Ref: 'Schedule' }, State: 'ENABLED' });
    // No Input: the planner gets the scheduled event itself, whose id names the run.
    template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [plannerId, 'Arn'] }, Input: Match.absent() })] });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [plannerId, 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
  });

  it('the account queue: dead letters after 3 receives, visibility beyond the worker timeout, encrypted', () => {
    const [dlqId, dlq] = only('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 86_400 });
    const [, queue] = only('AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 3 });
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThan(900);
    for (const q of [queue, dlq]) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
  });

  it('the worker reads the queue one account at a time, with bounded concurrency and partial failures', () => {
    const [workerId] = functionOf('worker');
    const [, mapping] = only('AWS::Lambda::EventSourceMapping');
    expect(mapping.Properties).toMatchObject({
      FunctionName: { Ref: workerId },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: { Ref: 'WorkerConcurrency' } },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('the Config rule (with the permission Config needs) exists only when enabled, and uses the rotation age', () => {
    const [configId] = functionOf('config-rule');
    expect(template.toJSON().Conditions.WithConfigRule).toEqual({ 'Fn::Equals': [{ Ref: 'ConfigRule' }, 'enabled'] });
    const [, rule] = only('AWS::Config::ConfigRule');
    expect(rule.Condition).toBe('WithConfigRule');
    expect(rule.Properties).toMatchObject({
      Source: { Owner: 'CUSTOM_LAMBDA', SourceIdentifier: { 'Fn::GetAtt': [configId, 'Arn'] }, SourceDetails: [{ MessageType: 'ScheduledNotification' }] },
      InputParameters: { maxAccessKeyAge: { Ref: 'RotateAfterDays' } },
    });
    const [permissionId, permission] = only('AWS::Lambda::Permission', { Principal: 'config.amazonaws.com' });
    expect(permission.Condition).toBe('WithConfigRule');
    expect(rule.DependsOn).toContain(permissionId);
  });

  it('the topic is created only when none is given; handlers and alarms use whichever applies', () => {
    const [topicId, topic] = only('AWS::SNS::Topic');
    expect(topic.Condition).toBe('CreateTopic');
    const either = { 'Fn::If': ['CreateTopic', { Ref: topicId }, { Ref: 'TopicArn' }] };
    expect(template.toJSON().Outputs.NotificationTopicArn.Value).toEqual(either);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
    expect(alarms).toHaveLength(4);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([either]);
  });

  it('alarms: anything in the dead-letter queue, any error of each function', () => {
    const [dlqId] = only('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 86_400 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    for (const file of ['planner', 'worker', 'config-rule']) {
      const [fnId] = functionOf(file);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }], Threshold: 0 });
    }
  });
});

describe('the hub template: roles', () => {
  it('each handler role holds its declared grants, placeholders filled in, and nothing else of its own', () => {
    expect(rolePolicy('planner', HANDLER_POLICY)).toEqual([
      { Effect: 'Allow', Action: 'organizations:ListAccounts', Resource: '*' },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Accounts/), 'Arn'] } },
    ]);
    const mailAddress = { 'Fn::If': ['WithMail', { Ref: 'SenderAddress' }, 'none@none'] };
    const identity = (name: unknown) => ({ 'Fn::Sub': ['arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${Name}', { Name: name }] });
    expect(rolePolicy('worker', HANDLER_POLICY)).toEqual([
      { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: { 'Fn::Sub': ['arn:${AWS::Partition}:iam::*:role/${MemberRoleName}', { MemberRoleName: { Ref: 'MemberRoleName' } }] } },
      { Effect: 'Allow', Action: 'ses:SendEmail', Resource: [identity(mailAddress), identity({ 'Fn::Select': [1, { 'Fn::Split': ['@', mailAddress] }] })] },
    ]);
    expect(rolePolicy('config-rule', HANDLER_POLICY)).toEqual([{ Effect: 'Allow', Action: 'config:PutEvaluations', Resource: '*' }]);
  });

  it('a placeholder the stack does not provide stops the synthesis', () => {
    const permissions = { ...PERMISSIONS, planner: [{ actions: ['sqs:SendMessage'], resources: ['arn:${Partition}:sqs:${Region}:${Account}:${Nope}'], why: 'x' }] };
    expect(() => synthesizeStack((app) => buildHubStack(app, { permissions, codeKey: CODE_KEY }))).toThrow(/names \$\{Nope\}, which the stack does not provide/);
  });

  it('what the Lambda service does with the roles: its own log group; the worker also polls its queue', () => {
    for (const file of ['planner', 'worker', 'config-rule']) {
      const [, fn] = functionOf(file);
      const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      const statements = rolePolicy(file, SERVICE_POLICY);
      expect(statements[0]).toEqual({ Sid: 'WriteOwnLogs', Effect: 'Allow', Action: [...LOG_ACTIONS], Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } });
      expect(statements.map((s) => s.Sid)).toEqual(file === 'worker' ? ['WriteOwnLogs', 'PollAccountQueue'] : ['WriteOwnLogs']);
    }
    expect(rolePolicy('worker', SERVICE_POLICY)[1]).toMatchObject({ Action: [...EVENT_SOURCE_ACTIONS] });
  });

  it('no role has a managed policy, a wildcard action or an AWS::IAM::Policy resource of its own', () => {
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    for (const role of Object.values(template.findResources('AWS::IAM::Role')) as Resource[]) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      const policies = (role.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: Array<{ Action: string | string[] }> } }>;
      const actions = policies.flatMap((p) => p.PolicyDocument.Statement.flatMap((s) => [s.Action].flat()));
      expect(actions.length).toBeGreaterThan(0);
      for (const action of actions) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
    }
  });
});

describe('the member role StackSet', () => {
  it('service-managed, auto-deployed to the chosen OUs, one region, the worker role as the only trusted principal', () => {
    const [workerId, worker] = functionOf('worker');
    expect(workerId).toBeTruthy();
    const workerRoleArn = worker.Properties.Role;
    const [, stackSet] = only('AWS::CloudFormation::StackSet');
    expect(stackSet.Properties).toMatchObject({
      PermissionModel: 'SERVICE_MANAGED',
      CallAs: { Ref: 'StackSetCallAs' },
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      StackInstancesGroup: [{ DeploymentTargets: { OrganizationalUnitIds: { Ref: 'MemberOrganizationalUnitIds' } }, Regions: [{ Ref: 'AWS::Region' }] }],
      Parameters: [
        { ParameterKey: 'RoleName', ParameterValue: { Ref: 'MemberRoleName' } },
        { ParameterKey: 'HubAccountId', ParameterValue: { Ref: 'AWS::AccountId' } },
        { ParameterKey: 'WorkerRoleArn', ParameterValue: workerRoleArn },
      ],
    });
    expect(JSON.parse(stackSet.Properties.TemplateBody as string)).toEqual(memberTemplate(PERMISSIONS.member));
  });

  const memberRoleProperties = (roleName: unknown, hubAccountId: unknown, workerRoleArn: unknown) => ({
    RoleName: roleName,
    Description: 'aws-rekey: assumed by the hub worker only',
    AssumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::Sub': ['arn:${AWS::Partition}:iam::${HubAccountId}:root', { HubAccountId: hubAccountId }] } },
          Condition: { ArnEquals: { 'aws:PrincipalArn': workerRoleArn } },
        },
      ],
    },
    Policies: [
      {
        PolicyName: 'aws-rekey-member',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['iam:CreateAccessKey', 'iam:ListAccessKeys'], Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*' } }],
        },
      },
    ],
  });

  it('the member role trusts the hub account root (always exists) narrowed to the worker role ARN', () => {
    const member = memberTemplate(PERMISSIONS.member);
    expect(Object.keys(member.Parameters as object)).toEqual(['RoleName', 'HubAccountId', 'WorkerRoleArn']);
    expect(Object.values(member.Resources)).toEqual([
      { Type: 'AWS::IAM::Role', Properties: memberRoleProperties({ Ref: 'RoleName' }, { Ref: 'HubAccountId' }, { Ref: 'WorkerRoleArn' }) },
    ]);
  });

  it('the hub account gets the same role from the hub stack when it is the management account (the StackSet skips it)', () => {
    const [, worker] = functionOf('worker');
    const [, role] = only('AWS::IAM::Role', { RoleName: { Ref: 'MemberRoleName' } });
    expect(role.Condition).toBe('HubIsManagementAccount');
    expect(role.Properties).toEqual(memberRoleProperties({ Ref: 'MemberRoleName' }, { Ref: 'AWS::AccountId' }, worker.Properties.Role));
    expect(template.toJSON().Conditions.HubIsManagementAccount).toEqual({ 'Fn::Equals': [{ Ref: 'StackSetCallAs' }, 'SELF'] });
  });
});

describe('synthesis', () => {
  it('is deterministic: the same inputs give the same bytes', () => {
    const again = synthesizeStack((app) => buildHubStack(app, { permissions: PERMISSIONS, codeKey: CODE_KEY }));
    expect(renderTemplate(again)).toBe(renderTemplate(raw));
  });

  it('fits CloudFormation limits, with room to grow', () => {
    const body = renderTemplate(raw);
    expect(templateLimitProblems('hub', body, raw)).toEqual([]);
    expect(Buffer.byteLength(body)).toBeLessThan(CLOUDFORMATION_LIMITS.templateBodyBytes * 0.8);
  });
});

describe('templateLimitProblems', () => {
  const resources = (n: number, type = 'AWS::SQS::Queue') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`R${i}`, { Type: type }]));
  it.each([
    ['a body over 51,200 bytes', 'x'.repeat(51_201), { Resources: {} }, /template body \(bytes\) is 51201, over CloudFormation's limit of 51200/],
    ['501 resources', '{}', { Resources: resources(501) }, /number of resources is 501, over .* 500/],
    ['201 parameters', '{}', { Resources: {}, Parameters: resources(201) }, /number of parameters is 201/],
    ['201 outputs', '{}', { Resources: {}, Outputs: resources(201) }, /number of outputs is 201/],
    ['a long description', '{}', { Resources: {}, Description: 'd'.repeat(1025) }, /description \(bytes\) is 1025/],
    [
      'a StackSet body over the limit',
      '{}',
      { Resources: { S: { Type: 'AWS::CloudFormation::StackSet', Properties: { TemplateBody: 'y'.repeat(60_000) } } } },
      /TemplateBody of S \(bytes\) is 60000/,
    ],
  ])('names %s', (_name, body, tpl, message) => {
    const problems = templateLimitProblems('t.json', body, tpl as CloudFormationTemplate);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
    expect(problems[0]).toMatch(/^t\.json: /);
  });

  it('at the limits: no problem', () => {
    expect(templateLimitProblems('t', 'x'.repeat(51_200), { Resources: resources(500), Description: 'd'.repeat(1024) })).toEqual([]);
  });
});
