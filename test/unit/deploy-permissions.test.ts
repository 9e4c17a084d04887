import { beforeAll, describe, expect, it } from 'vitest';
import { buildHubStack, EVENT_SOURCE_ACTIONS, HANDLER_POLICY, HANDLERS, LOG_ACTIONS, SERVICE_POLICY } from '../../deploy/hub-stack.js';
import { MEMBER_POLICY } from '../../deploy/member-template.js';
import { synthesizeStack, type CloudFormationTemplate } from '../../deploy/synth-template.js';
import { ORG_PERMISSIONS, ORG_ROLE_HANDLERS } from '../../src/org/permissions.js';
import { permissionsSentFrom } from '../support/source-scan.js';

/**
 * Least privilege, end to end: the policies in the synthesized template (not the declaration they are built
 * from) allow exactly the actions the handlers' code sends, both ways, on the narrowest resources.
 */

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
interface InlinePolicy {
  PolicyName: string;
  PolicyDocument: { Statement: Statement[] };
}
type Resource = { Type: string; Properties: Record<string, unknown>; Condition?: string };

/** Actions that take no resource (or whose resource cannot be named in advance): `*` is the narrowest. */
const RESOURCE_FREE = new Set([
  'organizations:ListAccounts',
  'organizations:ListParents',
  'iam:GenerateCredentialReport',
  'iam:GetCredentialReport',
  'iam:GetAccountSummary',
  'iam:ListUsers',
  'config:PutEvaluations',
]);

let template: CloudFormationTemplate;
let member: CloudFormationTemplate;

const actionsOf = (statements: Statement[]) => [...new Set(statements.flatMap((s) => [s.Action].flat()))].sort();

function policiesOfRole(roleId: string): InlinePolicy[] {
  const role = template.Resources[roleId] as Resource;
  expect(role.Type).toBe('AWS::IAM::Role');
  return (role.Properties.Policies ?? []) as InlinePolicy[];
}

/** The statements of inline policy `name` of the role the handler's function runs with. */
function handlerRole(file: string, name: string): Statement[] {
  const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Handler === `${file}.handler`);
  expect(functions).toHaveLength(1);
  const roleId = ((functions[0]?.Properties?.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'] ?? [])[0] as string;
  const policy = policiesOfRole(roleId).find((p) => p.PolicyName === name);
  expect(policy, `${file}: ${name}`).toBeDefined();
  return policy?.PolicyDocument.Statement ?? [];
}

function memberRole(tpl: CloudFormationTemplate): Statement[] {
  const roles = Object.values(tpl.Resources).filter((r) => r.Type === 'AWS::IAM::Role' && (r.Properties?.Policies as InlinePolicy[] | undefined)?.some((p) => p.PolicyName === MEMBER_POLICY));
  expect(roles).toHaveLength(1);
  return ((roles[0]?.Properties?.Policies as InlinePolicy[]).find((p) => p.PolicyName === MEMBER_POLICY) as InlinePolicy).PolicyDocument.Statement;
}

beforeAll(() => {
  template = synthesizeStack((app) => buildHubStack(app, { permissions: ORG_PERMISSIONS, codeKey: 'aws-rekey-lambda-0000000000000000.zip' }));
  const stackSet = Object.values(template.Resources).find((r) => r.Type === 'AWS::CloudFormation::StackSet');
  member = JSON.parse(stackSet?.Properties?.TemplateBody as string) as CloudFormationTemplate;
});

describe('the synthesized roles allow exactly what the handlers send', () => {
  it('the handlers the roles are for are the functions of the template', () => {
    expect(Object.values(HANDLERS).map((h) => `src/lambda/${h.file}.ts`).sort()).toEqual([...new Set(Object.values(ORG_ROLE_HANDLERS))].sort());
  });

  it('planner', () => {
    const sent = permissionsSentFrom(ORG_ROLE_HANDLERS.planner);
    expect(sent).toContain('organizations:ListAccounts');
    expect(actionsOf(handlerRole('planner', HANDLER_POLICY))).toEqual(sent);
  });

  it('worker and member role together: what the worker sends; IAM only through the member role', () => {
    const sent = permissionsSentFrom(ORG_ROLE_HANDLERS.worker);
    expect(sent).toEqual(expect.arrayContaining(['sts:AssumeRole', 'iam:ListAccessKeys']));
    const worker = actionsOf(handlerRole('worker', HANDLER_POLICY));
    const inMember = actionsOf(memberRole(member));
    expect([...new Set([...worker, ...inMember])].sort()).toEqual(sent);
    expect(worker.filter((a) => a.startsWith('iam:') || a.startsWith('secretsmanager:'))).toEqual([]);
    expect(inMember.filter((a) => !a.startsWith('iam:') && !a.startsWith('secretsmanager:'))).toEqual([]);
  });

  it('the hub member role (management account) holds the same policy as the StackSet one', () => {
    expect(memberRole(template)).toEqual(memberRole(member));
  });

  it('config rule', () => {
    const sent = permissionsSentFrom(ORG_ROLE_HANDLERS.configRule);
    expect(sent).toContain('config:PutEvaluations');
    expect(actionsOf(handlerRole('config-rule', HANDLER_POLICY))).toEqual(sent);
  });

  it('what the Lambda service does with the roles, and only that: logs; the queue poller for the worker', () => {
    expect(actionsOf(handlerRole('planner', SERVICE_POLICY))).toEqual([...LOG_ACTIONS].sort());
    expect(actionsOf(handlerRole('config-rule', SERVICE_POLICY))).toEqual([...LOG_ACTIONS].sort());
    expect(actionsOf(handlerRole('worker', SERVICE_POLICY))).toEqual([...LOG_ACTIONS, ...EVENT_SOURCE_ACTIONS].sort());
    for (const file of ['planner', 'worker', 'config-rule']) {
      for (const statement of handlerRole(file, SERVICE_POLICY)) expect(JSON.stringify(statement.Resource)).toMatch(/^\{"Fn::GetAtt":\["(\w+Logs|Accounts)\w*","Arn"\]\}$/);
    }
  });
});

describe('on the narrowest resources', () => {
  const allStatements = () => [
    ...['planner', 'worker', 'config-rule'].flatMap((file) => handlerRole(file, HANDLER_POLICY)),
    ...memberRole(member),
  ];

  it('no wildcard action; `*` as a resource only for actions that take no resource', () => {
    const statements = allStatements();
    expect(statements.length).toBeGreaterThan(5);
    for (const statement of statements) {
      for (const action of [statement.Action].flat()) expect(action).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z]+$/);
      if ([statement.Resource].flat().includes('*')) {
        for (const action of [statement.Action].flat()) expect(RESOURCE_FREE, `${action} on *`).toContain(action);
      }
    }
  });

  it('access keys and tags only on users; secrets only under aws-rekey/; roles only the member role', () => {
    for (const statement of allStatements()) {
      const resources = JSON.stringify(statement.Resource);
      for (const action of [statement.Action].flat()) {
        if (/^iam:.*(AccessKey|UserTags|TagUser|UntagUser)/.test(action)) expect(resources, action).toMatch(/^\[?\{"Fn::Sub":"arn:\$\{AWS::Partition\}:iam::\*:user\/\*"\}\]?$/);
        if (action.startsWith('secretsmanager:')) expect(resources, action).toMatch(/:secret:aws-rekey\/\*/);
        if (action === 'sts:AssumeRole') expect(resources, action).toContain(':role/${MemberRoleName}');
        if (action === 'iam:GetGroup') expect(resources, action).toContain(':group/*');
      }
    }
  });

  it('the worker sends to its own queue and topic only, and mails from the sender address (or its domain) only', () => {
    const byAction = (action: string) => handlerRole('worker', HANDLER_POLICY).filter((s) => [s.Action].flat().includes(action));
    expect(JSON.stringify(byAction('sqs:SendMessage').map((s) => s.Resource))).toMatch(/^\[\{"Fn::GetAtt":\["Accounts\w+","Arn"\]\}\]$/);
    expect(byAction('sns:Publish').map((s) => s.Resource)).toEqual([{ 'Fn::If': ['CreateTopic', { Ref: 'Topic' }, { Ref: 'TopicArn' }] }]);
    const mail = JSON.stringify(byAction('ses:SendEmail').map((s) => s.Resource));
    expect(mail).toContain(':identity/${Name}');
    expect(mail).toContain('"Fn::If":["WithMail",{"Ref":"SenderAddress"},"none@none"]');
    // Each ORG_PERMISSIONS statement is one template statement: nothing merged away, nothing added.
    for (const role of ['planner', 'worker', 'configRule'] as const) {
      const file = role === 'configRule' ? 'config-rule' : role;
      expect(handlerRole(file, HANDLER_POLICY)).toHaveLength(ORG_PERMISSIONS[role].length);
    }
  });
});
