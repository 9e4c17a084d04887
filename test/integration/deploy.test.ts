import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetEventSourceMappingCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORG_PERMISSIONS } from '../../src/org/permissions.js';
import { MEMBER_TEMPLATE_FILE, synthesize, TEMPLATE_FILE, writeSynthOutput, type SynthResult } from '../../deploy/synth.js';
import { startMoto, type MotoHandle } from '../support/moto.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

let result: SynthResult;
let outDir: string;

beforeAll(async () => {
  result = await synthesize(ROOT, ORG_PERMISSIONS);
  outDir = await mkdtemp(join(tmpdir(), 'aws-rekey-deploy-'));
  await writeSynthOutput(outDir, result);
});

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('npm run synth', () => {
  it('writes the templates and the zip, byte-identical to another synthesis of the same sources', async () => {
    const other = await mkdtemp(join(tmpdir(), 'aws-rekey-synth-'));
    try {
      const { stderr } = await run('npm', ['run', '--silent', 'synth', '--', '--out', other], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
      expect(stderr).toContain(`wrote ${join(other, TEMPLATE_FILE)}`);
      const names = (await readdir(other)).sort();
      expect(names).toEqual([result.zip.name, MEMBER_TEMPLATE_FILE, TEMPLATE_FILE].sort());
      for (const name of names) expect(Buffer.compare(await readFile(join(other, name)), await readFile(join(outDir, name))), name).toBe(0);
      expect(result.zip.name).toMatch(/^aws-rekey-lambda-[0-9a-f]{16}\.zip$/);
      expect((result.template.Parameters as Record<string, { Default?: unknown }>).CodeKey?.Default).toBe(result.zip.name);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

/** Checks cfn-lint does not apply to a CDK template: CDK repeats a role it references in DependsOn. */
const IGNORED_CHECKS = ['W3005'];

/** cfn-lint's findings on `files` (empty when it finds nothing); an error that says how to install it when it is missing. */
async function cfnLint(files: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ output: string; code: number }> {
  try {
    const { stdout, stderr } = await run('cfn-lint', ['--format', 'parseable', '--ignore-checks', ...IGNORED_CHECKS, '--', ...files], { env });
    return { output: `${stdout}${stderr}`, code: 0 };
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string; code?: number | string };
    if (e.code === 'ENOENT') {
      throw new Error('cfn-lint is not installed, and this test needs it: `pip install cfn-lint` (PyPI; Debian has no package), then make sure `cfn-lint` is on PATH.');
    }
    return { output: `${e.stdout ?? ''}${e.stderr ?? ''}`, code: typeof e.code === 'number' ? e.code : -1 };
  }
}

describe('cfn-lint', () => {
  it(`finds nothing in ${TEMPLATE_FILE} and ${MEMBER_TEMPLATE_FILE}`, async () => {
    const lint = await cfnLint([TEMPLATE_FILE, MEMBER_TEMPLATE_FILE].map((name) => join(outDir, name)));
    expect(lint.output).toBe('');
    expect(lint.code).toBe(0);
  });

  it('finds what is wrong in a broken template (it really checks)', async () => {
    const broken = JSON.parse(result.body) as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
    const queue = Object.values(broken.Resources).find((r) => r.Type === 'AWS::SQS::Queue');
    if (queue) queue.Properties = { ...queue.Properties, VisibilityTimeout: 'soon' };
    const file = join(outDir, 'broken.template.json');
    await writeFile(file, JSON.stringify(broken));
    const lint = await cfnLint([file]);
    expect(lint.code).not.toBe(0);
    expect(lint.output).toMatch(/E3012:'soon' is not of type 'integer'/);
  });

  it('a machine without cfn-lint fails the test, saying how to install it (no skip)', async () => {
    await expect(cfnLint([join(outDir, TEMPLATE_FILE)], { ...process.env, PATH: outDir })).rejects.toThrow(/cfn-lint is not installed.*pip install cfn-lint/);
  });
});

describe('CreateStack into moto', () => {
  let moto: MotoHandle;
  let resources: StackResourceSummary[];
  const config = () => ({
    endpoint: moto.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    forcePathStyle: true,
  });
  const physicalIds = (type: string) => resources.filter((r) => r.ResourceType === type).map((r) => r.PhysicalResourceId ?? '');

  beforeAll(async () => {
    // A moto of its own: other test files reset theirs, which would remove the stack under this one.
    moto = await startMoto();
    const s3 = new S3Client(config());
    await s3.send(new CreateBucketCommand({ Bucket: 'aws-rekey-code', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    await s3.send(new PutObjectCommand({ Bucket: 'aws-rekey-code', Key: result.zip.name, Body: result.zip.bytes }));
    const cloudFormation = new CloudFormationClient(config());
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: 'aws-rekey',
        TemplateBody: result.body,
        Capabilities: ['CAPABILITY_NAMED_IAM'],
        Parameters: [
          { ParameterKey: 'CodeBucket', ParameterValue: 'aws-rekey-code' },
          { ParameterKey: 'MemberOrganizationalUnitIds', ParameterValue: 'r-abcd' },
          { ParameterKey: 'SenderAddress', ParameterValue: 'keys@example.com' },
          { ParameterKey: 'WorkerConcurrency', ParameterValue: '3' },
        ],
      }),
    );
    let status = '';
    for (let attempt = 0; attempt < 120 && !/_(COMPLETE|FAILED)$/.test(status); attempt++) {
      const stack = (await cloudFormation.send(new DescribeStacksCommand({ StackName: 'aws-rekey' }))).Stacks?.[0];
      status = `${stack?.StackStatus ?? ''}`;
      if (status.endsWith('IN_PROGRESS')) await new Promise((r) => setTimeout(r, 250));
      else expect(status, stack?.StackStatusReason ?? moto.stderr()).toBe('CREATE_COMPLETE');
    }
    resources = (await cloudFormation.send(new ListStackResourcesCommand({ StackName: 'aws-rekey' }))).StackResourceSummaries ?? [];
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('creates every resource of the template; moto skips exactly the types deploy/README.md names', () => {
    const conditionsTrue = new Set(['CreateTopic', 'HubIsManagementAccount', 'WithMail']);
    const expected = Object.entries(result.template.Resources).filter(([, r]) => {
      const condition = (r as { Condition?: string }).Condition;
      return condition === undefined || conditionsTrue.has(condition);
    });
    // moto lists a resource it skipped (or whose condition is false) with neither its logical id nor its type,
    // and says on stderr which types it skipped.
    const skippedTypes = [...moto.stderr().matchAll(/No Moto CloudFormation support for (\S+)/g)].map((m) => m[1]);
    expect([...new Set(skippedTypes)].sort()).toEqual(['AWS::CloudFormation::StackSet', 'AWS::CloudWatch::Alarm']);
    const skipped = expected.filter(([, r]) => skippedTypes.includes(r.Type));
    expect(skipped).toHaveLength(5);
    const created = resources.filter((r) => r.LogicalResourceId);
    expect(created.map((r) => r.LogicalResourceId).sort()).toEqual(expected.filter((e) => !skipped.includes(e)).map(([id]) => id).sort());
    for (const r of resources) expect(r.ResourceStatus, r.LogicalResourceId).toBe('CREATE_COMPLETE');
    // moto gives a Lambda permission no physical id.
    for (const r of created.filter((c) => c.ResourceType !== 'AWS::Lambda::Permission')) expect(r.PhysicalResourceId, r.LogicalResourceId).toBeTruthy();
  });

  it('the functions: Node.js 22, the handlers zip, the settings from the parameters', async () => {
    const lambda = new LambdaClient(config());
    const names = physicalIds('AWS::Lambda::Function');
    expect(names).toHaveLength(3);
    const handlers: string[] = [];
    for (const name of names) {
      const fn = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
      handlers.push(fn.Handler ?? '');
      // moto reports every function as x86_64 whatever the template says: the architecture is checked in the unit tests.
      expect(fn.Runtime).toBe('nodejs22.x');
      // moto passes Number parameters on as numbers; Lambda has strings only.
      const variables = Object.fromEntries(Object.entries(fn.Environment?.Variables ?? {}).map(([k, v]) => [k, String(v)]));
      expect(variables).toMatchObject({ AWS_REKEY_MODE: 'report', AWS_REKEY_ROTATE_AFTER_DAYS: '90', AWS_REKEY_MAIL_FROM: 'keys@example.com', AWS_REKEY_MEMBER_ROLE_NAME: 'aws-rekey-member' });
      expect(variables.AWS_REKEY_QUEUE_URL).toMatch(/Accounts/);
    }
    expect(handlers.sort()).toEqual(['config-rule.handler', 'planner.handler', 'worker.handler']);
    const [uuid] = physicalIds('AWS::Lambda::EventSourceMapping');
    const mapping = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
    expect(mapping).toMatchObject({ BatchSize: 1, FunctionArn: expect.stringMatching(/Worker/), EventSourceArn: expect.stringMatching(/Accounts/) });
  });

  it('the queue sends a message to the dead-letter queue after 3 receives', async () => {
    const sqs = new SQSClient(config());
    const [queueUrl] = physicalIds('AWS::SQS::Queue').filter((url) => /Accounts/.test(url));
    const attributes = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
    expect(JSON.parse(attributes.RedrivePolicy ?? '{}')).toMatchObject({ deadLetterTargetArn: expect.stringMatching(/DeadLetters/), maxReceiveCount: 3 });
    expect(Number(attributes.VisibilityTimeout)).toBeGreaterThan(900);
  });

  it('the roles exist with their inline policies; the hub member role trusts the worker role only', async () => {
    const iam = new IAMClient(config());
    const roles = physicalIds('AWS::IAM::Role');
    expect(roles).toHaveLength(4);
    expect(roles).toContain('aws-rekey-member');
    const worker = await iam.send(new GetRoleCommand({ RoleName: roles.find((r) => /WorkerRole/.test(r)) }));
    const member = await iam.send(new GetRoleCommand({ RoleName: 'aws-rekey-member' }));
    const trust = JSON.parse(decodeURIComponent(member.Role?.AssumeRolePolicyDocument ?? '{}'));
    expect(trust.Statement[0].Condition).toEqual({ ArnEquals: { 'aws:PrincipalArn': worker.Role?.Arn } });
    const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: 'aws-rekey-member' }))).PolicyNames;
    expect(names).toEqual(['aws-rekey-member']);
    const policy = await iam.send(new GetRolePolicyCommand({ RoleName: 'aws-rekey-member', PolicyName: 'aws-rekey-member' }));
    expect(decodeURIComponent(policy.PolicyDocument ?? '')).toContain('iam:GetCredentialReport');
  });
});
