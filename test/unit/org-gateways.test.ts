import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { ServiceFailureException, type IAMClient } from '@aws-sdk/client-iam';
import { TooManyRequestsException, type OrganizationsClient } from '@aws-sdk/client-organizations';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { createConfigEvaluationsApi } from '../../src/aws/config-evaluations.js';
import { assumeRole, createOrgIamApi } from '../../src/aws/org-iam.js';
import { createOrganizationsApi } from '../../src/aws/organizations.js';
import { createQueueApi } from '../../src/aws/queue.js';
import { AwsError } from '../../src/errors.js';
import { rejectionOf } from '../support/rejection.js';

/*
 * What moto cannot show of the organisation engine's gateways (test/integration/org-gateways.test.ts runs
 * them against moto): pages that moto never splits (IAM tags, group members, ListAccounts under 100
 * accounts), entries refused inside a successful batch call, throttling, a broken answer.
 */

/** A client that answers each send with the next scripted answer (an Error is thrown), and records the inputs. */
function scripted<T>(answers: Array<object | Error>): { client: T; inputs: Array<Record<string, unknown>> } {
  const inputs: Array<Record<string, unknown>> = [];
  const client = {
    send: async (command: { input: Record<string, unknown> }) => {
      inputs.push(command.input);
      const answer = answers.shift();
      if (answer === undefined) throw new Error('scripted client: no answer left');
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { client: client as T, inputs };
}


describe('organizations', () => {
  it('listAccounts follows NextToken; an entry without an id is left out, a missing name or status is not invented', async () => {
    const { client, inputs } = scripted<OrganizationsClient>([
      { Accounts: [{ Id: '111111111111', Name: 'one', Status: 'ACTIVE' }, { Name: 'no id' }], NextToken: 't1' },
      { Accounts: [{ Id: '222222222222' }], NextToken: 't2' },
      {},
    ]);
    expect(await createOrganizationsApi(client).listAccounts()).toEqual([{ id: '111111111111', name: 'one', status: 'ACTIVE' }, { id: '222222222222' }]);
    expect(inputs).toEqual([{}, { NextToken: 't1' }, { NextToken: 't2' }]);
  });

  it('throttling of ListAccounts is an error that says so', async () => {
    const { client } = scripted<OrganizationsClient>([new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} })]);
    expect(await rejectionOf(createOrganizationsApi(client).listAccounts(), AwsError)).toMatchObject({ code: 'THROTTLED', action: 'organizations:ListAccounts' });
  });

  it('parentsOf stops at a parent without an id, and after 8 levels of an answer that loops', async () => {
    const { client: noId } = scripted<OrganizationsClient>([{ Parents: [{ Id: 'ou-ab12-11111111', Type: 'ORGANIZATIONAL_UNIT' }] }, { Parents: [] }]);
    expect(await createOrganizationsApi(noId).parentsOf('111111111111')).toEqual(['ou-ab12-11111111']);
    const loop = Array.from({ length: 20 }, () => ({ Parents: [{ Id: 'ou-ab12-22222222', Type: 'ORGANIZATIONAL_UNIT' }] }));
    const { client, inputs } = scripted<OrganizationsClient>(loop);
    expect(await createOrganizationsApi(client).parentsOf('111111111111')).toHaveLength(8);
    expect(inputs).toHaveLength(8);
  });
});

describe('org-iam', () => {
  it('listUserTags and groupMembers follow Marker while IsTruncated', async () => {
    const { client, inputs } = scripted<IAMClient>([
      { Tags: [{ Key: 'a', Value: '1' }, { Key: 'b' }], IsTruncated: true, Marker: 'm1' },
      { Tags: [{ Key: 'c', Value: '3' }], IsTruncated: false, Marker: 'ignored' },
      { Users: [{ UserName: 'alice' }], IsTruncated: true, Marker: 'g1' },
      { Users: [{ UserName: 'bob' }, {}], IsTruncated: false },
    ]);
    const api = createOrgIamApi(client);
    expect(await api.listUserTags('alice')).toEqual({ a: '1', b: '', c: '3' });
    expect(await api.groupMembers('admins')).toEqual(['alice', 'bob']);
    expect(inputs).toEqual([{ UserName: 'alice' }, { UserName: 'alice', Marker: 'm1' }, { GroupName: 'admins' }, { GroupName: 'admins', Marker: 'g1' }]);
  });

  it('groupMembers: only NoSuchEntity means "no such group"; another failure is an error', async () => {
    const { client } = scripted<IAMClient>([new ServiceFailureException({ message: 'internal', $metadata: { httpStatusCode: 500 } })]);
    const error = await rejectionOf(createOrgIamApi(client).groupMembers('admins'), AwsError);
    expect(error).toMatchObject({ action: 'iam:GetGroup', awsCode: 'ServiceFailureException' });
    expect(error.message).toContain('group admins');
  });

  it('assumeRole: an answer without credentials is an error naming the role', async () => {
    const roleArn = 'arn:aws:iam::111111111111:role/aws-rekey-member';
    const { client } = scripted<STSClient>([{}]);
    const error = await rejectionOf(assumeRole(client, roleArn, 'run'), AwsError);
    expect(error).toMatchObject({ action: 'sts:AssumeRole' });
    expect(error.message).toMatch(/AssumeRole returned no credentials/);
    expect(error.message).toContain(roleArn);
  });
});

describe('queue', () => {
  it('an entry refused inside a successful batch fails sendAll, saying how many and why', async () => {
    const bodies = Array.from({ length: 12 }, (_, i) => `m${i}`);
    const { client, inputs } = scripted<SQSClient>([{}, { Failed: [{ Id: '10', Code: 'InternalError', Message: 'try again', SenderFault: false }] }]);
    const error = await rejectionOf(createQueueApi(client).sendAll('https://sqs.example/q', bodies), AwsError);
    expect(error).toMatchObject({ code: 'AWS_ERROR', action: 'sqs:SendMessage', awsCode: 'InternalError' });
    expect(error.message).toBe('SQS refused 1 of 2 messages: try again.');
    expect(inputs.map((i) => (i.Entries as Array<{ Id: string }>).map((e) => e.Id))).toEqual([
      ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      ['10', '11'],
    ]);
  });

  it('a refused entry without a code or message: the message says BatchEntryFailed (it said "undefined")', async () => {
    const { client } = scripted<SQSClient>([{ Failed: [{ Id: '0' }] }]);
    const error = await rejectionOf(createQueueApi(client).sendAll('https://sqs.example/q', ['m']), AwsError);
    expect(error.awsCode).toBe('BatchEntryFailed');
    expect(error.message).toBe('SQS refused 1 of 1 messages: BatchEntryFailed.');
  });
});

describe('config evaluations', () => {
  it('FailedEvaluations in an answer fail the call, naming the first resource; later chunks are not sent', async () => {
    const evaluations = Array.from({ length: 150 }, (_, i) => ({ ComplianceResourceType: 'AWS::IAM::User', ComplianceResourceId: `u${i}`, ComplianceType: 'COMPLIANT' as const, OrderingTimestamp: new Date(0) }));
    const { client, inputs } = scripted<ConfigServiceClient>([{ FailedEvaluations: [{ ComplianceResourceId: 'u7' }, { ComplianceResourceId: 'u9' }] }, {}]);
    const error = await rejectionOf(createConfigEvaluationsApi(client).putEvaluations('token', evaluations), AwsError);
    expect(error).toMatchObject({ action: 'config:PutEvaluations', awsCode: 'FailedEvaluations' });
    expect(error.message).toBe('AWS Config refused 2 evaluations (first: u7).');
    expect(inputs).toHaveLength(1);
    expect(inputs[0]).toMatchObject({ ResultToken: 'token', TestMode: false });
  });
});
