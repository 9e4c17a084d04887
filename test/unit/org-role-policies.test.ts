import { beforeAll, describe, expect, it } from 'vitest';
import { buildHubStack, HANDLER_POLICY } from '../../deploy/hub-stack.js';
import { MEMBER_POLICY } from '../../deploy/member-template.js';
import { synthesizeStack, type CloudFormationTemplate } from '../../deploy/synth-template.js';
import { runPolicy, type PolicyFlags } from '../../src/cli/commands/policy.js';
import type { CliStreams } from '../../src/cli/io.js';
import { UsageError } from '../../src/errors.js';
import { ORG_PERMISSIONS, type OrgRoleName } from '../../src/org/permissions.js';
import { ORG_ROLE_OPTIONS, orgPermissionsPolicy, orgTrustPolicy, placeholdersIn, type IamDocument } from '../../src/org/role-policies.js';

async function policy(flags: PolicyFlags): Promise<{ code: number; document: IamDocument }> {
  const out: string[] = [];
  const streams = { stdout: { write: (s: string) => out.push(s) }, stderr: { isTTY: false, write: () => true }, env: {} } as unknown as CliStreams;
  const code = await runPolicy(flags, streams);
  return { code, document: JSON.parse(out.join('')) as IamDocument };
}

const HUB = '111122223333';
const VALUES = {
  partition: 'aws',
  memberRoleName: 'rekey-member',
  queueArn: `arn:aws:sqs:eu-west-1:${HUB}:accounts`,
  topicArn: `arn:aws:sns:eu-west-1:${HUB}:events`,
  mailIdentityArn: `arn:aws:ses:eu-west-1:${HUB}:identity/keys@example.com`,
};

describe('aws-rekey policy --org ROLE', () => {
  it.each(Object.entries(ORG_ROLE_OPTIONS))('%s: the permissions of the role, placeholders filled in from the options', async (option, role) => {
    const { code, document } = await policy({ org: option, ...VALUES });
    expect(code).toBe(0);
    expect(document).toEqual(orgPermissionsPolicy(role, VALUES));
    expect(placeholdersIn(document)).toEqual([]);
    expect(document.Statement.flatMap((s) => [s.Action].flat()).sort()).toEqual([...new Set(ORG_PERMISSIONS[role].flatMap((p) => p.actions))].sort());
  });

  it('values not given stay visible as placeholders; the member role name has a default', async () => {
    const { document } = await policy({ org: 'worker' });
    expect(placeholdersIn(document)).toEqual(['${MailIdentityArn}', '${QueueArn}', '${TopicArn}']);
    expect(JSON.stringify(document)).toContain('arn:aws:iam::*:role/aws-rekey-member');
    expect(JSON.stringify((await policy({ org: 'member', partition: 'aws-cn' })).document)).toContain('arn:aws-cn:iam::*:user/*');
  });

  it('--trust: the member role trusts the hub account root narrowed to the worker role; the others are Lambda roles', async () => {
    const worker = `arn:aws:iam::${HUB}:role/aws-rekey-worker`;
    expect((await policy({ org: 'member', trust: true, workerRoleArn: worker })).document).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${HUB}:root` }, Action: 'sts:AssumeRole', Condition: { ArnEquals: { 'aws:PrincipalArn': worker } } }],
    });
    expect((await policy({ org: 'planner', trust: true })).document.Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    expect(orgTrustPolicy('member', 'arn:aws-us-gov:iam::123456789012:role/path/w').Statement[0]?.Principal).toEqual({ AWS: 'arn:aws-us-gov:iam::123456789012:root' });
  });

  it.each<[string, PolicyFlags, RegExp]>([
    ['member --trust without the worker role', { org: 'member', trust: true }, /names the worker role/],
    ['a worker role that is not a role ARN', { org: 'member', trust: true, workerRoleArn: 'arn:aws:iam::1:user/x' }, /is not a role ARN/],
    ['an org option without --org', { queueArn: VALUES.queueArn }, /--queue-arn is for the organisation roles/],
    ['--admin with --org', { org: 'worker', admin: true }, /not with --org/],
    ['an unknown role', { org: 'hub' }, /--org hub: no such role/],
  ])('refuses %s (usage error, nothing printed)', async (_name, flags, message) => {
    const run = policy(flags);
    await expect(run).rejects.toThrow(message);
    await expect(run).rejects.toBeInstanceOf(UsageError);
  });
});

/**
 * Evaluates the few intrinsic functions the template's policies use, for a stack with these parameters and
 * outputs; enough to compare the deployed policies with the printed ones.
 */
function evaluate(value: unknown, env: Record<string, string>, conditions: Record<string, boolean>): unknown {
  if (Array.isArray(value)) return value.map((v) => evaluate(v, env, conditions));
  if (typeof value !== 'object' || value === null) return value;
  const [fn, arg] = Object.entries(value)[0] as [string, unknown];
  const sub = (text: string, vars: Record<string, unknown>) =>
    text.replace(/\$\{([\w:]+)\}/g, (_m, name: string) => String(name in vars ? evaluate(vars[name], env, conditions) : env[name]));
  switch (fn) {
    case 'Ref':
      return env[arg as string];
    case 'Fn::GetAtt':
      return env[`${(arg as string[])[0]?.replace(/[0-9A-F]{8}$/, '')}.${(arg as string[])[1]}`];
    case 'Fn::Sub':
      return typeof arg === 'string' ? sub(arg, {}) : sub((arg as [string, Record<string, unknown>])[0], (arg as [string, Record<string, unknown>])[1]);
    case 'Fn::If': {
      const [condition, yes, no] = arg as [string, unknown, unknown];
      return evaluate(conditions[condition] ? yes : no, env, conditions);
    }
    case 'Fn::Split': {
      const [separator, text] = arg as [string, unknown];
      return String(evaluate(text, env, conditions)).split(separator);
    }
    case 'Fn::Select': {
      const [index, list] = arg as [number, unknown];
      return (evaluate(list, env, conditions) as unknown[])[index];
    }
    default:
      throw new Error(`not evaluated here: ${fn}`);
  }
}

describe('aws-rekey policy --org prints what the template deploys', () => {
  let template: CloudFormationTemplate;
  const env: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': 'eu-west-1',
    'AWS::AccountId': HUB,
    MemberRoleName: VALUES.memberRoleName,
    SenderAddress: 'keys@example.com',
    Topic: VALUES.topicArn,
    'Accounts.Arn': VALUES.queueArn,
  };
  const conditions = { CreateTopic: true, WithMail: true };

  beforeAll(() => {
    template = synthesizeStack((app) => buildHubStack(app, { permissions: ORG_PERMISSIONS, codeKey: 'k.zip' }));
  });

  /** The role's own statements in the template, evaluated: the member role as the hub stack creates it. */
  function deployed(role: OrgRoleName): Array<{ Action: string[]; Resource: string[] }> {
    const resources = Object.values(template.Resources);
    let iamRole = resources.find((r) => r.Type === 'AWS::IAM::Role' && r.Properties?.RoleName !== undefined);
    if (role !== 'member') {
      const handler = role === 'configRule' ? 'config-rule' : role;
      const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Handler === `${handler}.handler`);
      iamRole = template.Resources[(fn?.Properties?.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] as string];
    }
    const policies = iamRole?.Properties?.Policies as Array<{ PolicyName: string; PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } }>;
    const statements = policies.find((p) => p.PolicyName === (role === 'member' ? MEMBER_POLICY : HANDLER_POLICY))?.PolicyDocument.Statement ?? [];
    return statements.map((s) => ({ Action: [s.Action].flat() as string[], Resource: [evaluate(s.Resource, env, conditions)].flat() as string[] }));
  }

  it.each(['planner', 'worker', 'member', 'configRule'] as OrgRoleName[])('%s', (role) => {
    const printed = orgPermissionsPolicy(role, VALUES).Statement.map((s) => ({ Action: [s.Action].flat().sort(), Resource: s.Resource ?? [] }));
    const inTemplate = deployed(role);
    expect(inTemplate).toHaveLength(printed.length);
    for (const [i, statement] of inTemplate.entries()) {
      expect(statement.Action).toEqual(printed[i]?.Action);
      // The template also allows the sender's domain identity (SES authorizes against it when only the domain is verified).
      if (statement.Action.includes('ses:SendEmail')) expect(statement.Resource).toEqual([...(printed[i]?.Resource ?? []), `arn:aws:ses:eu-west-1:${HUB}:identity/example.com`]);
      else expect(statement.Resource).toEqual(printed[i]?.Resource);
    }
  });
});
