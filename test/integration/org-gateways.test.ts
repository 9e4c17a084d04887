import { ConfigServiceClient, type Evaluation } from '@aws-sdk/client-config-service';
import { AddUserToGroupCommand, CreateGroupCommand } from '@aws-sdk/client-iam';
import { CreateOrganizationalUnitCommand, ListRootsCommand, MoveAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigEvaluationsApi } from '../../src/aws/config-evaluations.js';
import { assumeRole, createOrgIamApi } from '../../src/aws/org-iam.js';
import { createOrganizationsApi } from '../../src/aws/organizations.js';
import { createQueueApi } from '../../src/aws/queue.js';
import { AwsError } from '../../src/errors.js';
import { createPlannerHandler } from '../../src/lambda/planner.js';
import { DUMMY_CREDENTIALS, REGION } from '../support/iam.js';
import { startMoto, type MotoHandle } from '../support/moto.js';
import { MANAGEMENT_ACCOUNT, accountIam, createOrganization, createQueuesAndTopic, drainQueue, seedUsers, userTags, type Queues } from '../support/org.js';
import { rejectionOf } from '../support/rejection.js';

/**
 * The organisation engine's gateways (src/aws/organizations.ts, queue.ts, org-iam.ts, config-evaluations.ts)
 * against a moto of this file's own (one organisation per moto): an OU tree two levels deep, more accounts
 * than one SQS batch holds, a real queue, IAM tags and groups in a member account, Config in TestMode.
 */

let moto: MotoHandle;
let queues: Queues;
let accounts: Array<{ id: string; name: string }>;
let tree: { root: string; eng: string; prod: string };

const client = <T>(Client: new (config: object) => T): T => new Client({ region: REGION, endpoint: moto.endpoint, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 });


beforeAll(async () => {
  moto = await startMoto();
  // 11 accounts and the management account: 12 messages, more than one SendMessageBatch (10) holds.
  accounts = await createOrganization(
    moto.endpoint,
    Array.from({ length: 11 }, (_, i) => `acct${i}`),
  );
  const org = client(OrganizationsClient);
  const root = (await org.send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? '';
  const eng = (await org.send(new CreateOrganizationalUnitCommand({ ParentId: root, Name: 'eng' }))).OrganizationalUnit?.Id ?? '';
  const prod = (await org.send(new CreateOrganizationalUnitCommand({ ParentId: eng, Name: 'prod' }))).OrganizationalUnit?.Id ?? '';
  tree = { root, eng, prod };
  // acct0 in eng/prod, acct1 in eng, the others at the root.
  await org.send(new MoveAccountCommand({ AccountId: accounts[0]!.id, SourceParentId: root, DestinationParentId: prod }));
  await org.send(new MoveAccountCommand({ AccountId: accounts[1]!.id, SourceParentId: root, DestinationParentId: eng }));
  queues = await createQueuesAndTopic(moto.endpoint, 'gateways');
}, 120_000);

afterAll(async () => {
  await moto?.stop();
});

describe('organizations', () => {
  it('lists every account with its name and status', async () => {
    const listed = await createOrganizationsApi(client(OrganizationsClient)).listAccounts();
    expect(listed).toHaveLength(12);
    expect(listed.map((a) => a.id).sort()).toEqual([MANAGEMENT_ACCOUNT, ...accounts.map((a) => a.id)].sort());
    expect(listed.find((a) => a.id === accounts[3]!.id)).toEqual({ id: accounts[3]!.id, name: 'acct3', status: 'ACTIVE' });
  });

  it('parentsOf: the OUs up to the root, nearest first; an unknown account is an error that names it', async () => {
    const api = createOrganizationsApi(client(OrganizationsClient));
    expect(await api.parentsOf(accounts[0]!.id)).toEqual([tree.prod, tree.eng, tree.root]);
    expect(await api.parentsOf(accounts[1]!.id)).toEqual([tree.eng, tree.root]);
    expect(await api.parentsOf(accounts[2]!.id)).toEqual([tree.root]);
    const error = await rejectionOf(api.parentsOf('999999999999'), AwsError);
    expect(error).toMatchObject({ action: 'organizations:ListParents', awsCode: 'AccountNotFoundException' });
    expect(error.message).toContain('account 999999999999');
  });

  it('the planner selects by OU through ListParents, and queues more than one batch of accounts', async () => {
    const env = (extra: Record<string, string>) => ({
      env: { AWS_REGION: REGION, AWS_ENDPOINT_URL: moto.endpoint, AWS_MAX_ATTEMPTS: '1', AWS_REKEY_QUEUE_URL: queues.accountsQueueUrl, ...extra },
      credentials: DUMMY_CREDENTIALS,
      write: () => undefined,
    });
    const included = await createPlannerHandler(env({ AWS_REKEY_INCLUDE_OUS: tree.eng }))({ id: 'by-ou' });
    expect(included.queued.map((a) => a.id).sort()).toEqual([accounts[0]!.id, accounts[1]!.id].sort());
    expect(included.skipped).toHaveLength(10);
    expect(included.skipped[0]?.reason).toBe('not in the included accounts or OUs');
    expect((await drainQueue(queues.sqs, queues.accountsQueueUrl)).map((m) => JSON.parse(m.body).accountId).sort()).toEqual(included.queued.map((a) => a.id).sort());

    const excluded = await createPlannerHandler(env({ AWS_REKEY_EXCLUDE_OUS: tree.prod }))({ id: 'but-prod' });
    expect(excluded.queued).toHaveLength(11);
    expect(excluded.skipped).toEqual([{ id: accounts[0]!.id, name: 'acct0', reason: `in excluded OU ${tree.prod}` }]);
    const messages = await drainQueue(queues.sqs, queues.accountsQueueUrl);
    expect(messages.map((m) => JSON.parse(m.body).accountId).sort()).toEqual(excluded.queued.map((a) => a.id).sort());
  });
});

describe('queue', () => {
  it('sendAll sends every body, ten a request; send delays a message when asked', async () => {
    const api = createQueueApi(client(SQSClient));
    const bodies = Array.from({ length: 23 }, (_, i) => `body-${i}`);
    await api.sendAll(queues.accountsQueueUrl, bodies);
    expect((await drainQueue(queues.sqs, queues.accountsQueueUrl)).map((m) => m.body).sort()).toEqual([...bodies].sort());

    await api.send(queues.accountsQueueUrl, 'now');
    await api.send(queues.accountsQueueUrl, 'later', 600);
    expect((await drainQueue(queues.sqs, queues.accountsQueueUrl)).map((m) => m.body)).toEqual(['now']);
    const attributes = await queues.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queues.accountsQueueUrl, AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }));
    expect(attributes.Attributes?.ApproximateNumberOfMessagesDelayed).toBe('1');
  });

  it('a queue that does not exist: an error that names it, from sendAll and send', async () => {
    const api = createQueueApi(client(SQSClient));
    const missing = queues.accountsQueueUrl.replace(/gateways-accounts$/, 'no-such-queue');
    for (const call of [() => api.sendAll(missing, ['x']), () => api.send(missing, 'x')]) {
      const error = await rejectionOf(call(), AwsError);
      expect(error.action).toBe('sqs:SendMessage');
      expect(error.awsCode).toMatch(/QueueDoesNotExist|NonExistentQueue/);
      expect(error.message).toContain(missing);
    }
  });
});

describe('org-iam', () => {
  it('tags a user, reads the tags, removes some; group members, and undefined for a group that does not exist', async () => {
    const iam = await accountIam(moto.endpoint, accounts[2]!.id);
    await seedUsers(iam, [{ userName: 'alice', keys: 0, tags: { team: 'a' } }, { userName: 'bob', keys: 0 }, { userName: 'carol', keys: 0 }]);
    await iam.send(new CreateGroupCommand({ GroupName: 'breakglass' }));
    for (const userName of ['alice', 'carol']) await iam.send(new AddUserToGroupCommand({ GroupName: 'breakglass', UserName: userName }));
    await iam.send(new CreateGroupCommand({ GroupName: 'empty' }));

    const api = createOrgIamApi(iam);
    await api.tagUser('alice', { 'aws-rekey:warned': '2026-11-30', 'aws-rekey:note': '' });
    expect(await api.listUserTags('alice')).toEqual({ team: 'a', 'aws-rekey:warned': '2026-11-30', 'aws-rekey:note': '' });
    await api.untagUser('alice', ['aws-rekey:warned', 'aws-rekey:note']);
    expect(await userTags(iam, 'alice')).toEqual({ team: 'a' });
    expect(await api.listUserTags('bob')).toEqual({});

    expect((await api.groupMembers('breakglass'))?.sort()).toEqual(['alice', 'carol']);
    expect(await api.groupMembers('empty')).toEqual([]);
    expect(await api.groupMembers('no-such-group')).toBeUndefined();
  });

  it('a user that does not exist: an error that names the user and the action', async () => {
    const api = createOrgIamApi(await accountIam(moto.endpoint, accounts[2]!.id));
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['iam:ListUserTags', () => api.listUserTags('nobody')],
      ['iam:TagUser', () => api.tagUser('nobody', { a: 'b' })],
      ['iam:UntagUser', () => api.untagUser('nobody', ['a'])],
    ];
    for (const [action, call] of cases) {
      const error = await rejectionOf(call(), AwsError);
      expect(error).toMatchObject({ code: 'NO_SUCH_ENTITY', action });
      expect(error.message).toContain('user nobody');
    }
  });

  it('assumeRole: temporary credentials of the member account, with their expiry', async () => {
    const roleArn = `arn:aws:iam::${accounts[4]!.id}:role/aws-rekey-member`;
    const credentials = await assumeRole(client(STSClient), roleArn, 'aws-rekey-test');
    expect(credentials.accessKeyId).toMatch(/^ASIA/);
    expect(credentials.secretAccessKey).not.toBe('');
    expect(credentials.sessionToken).toBeTruthy();
    expect(credentials.expiration?.getTime()).toBeGreaterThan(Date.now());
  });
});

describe('config evaluations', () => {
  const evaluation = (i: number): Evaluation => ({
    ComplianceResourceType: 'AWS::IAM::User',
    ComplianceResourceId: `AIDA${String(i).padStart(17, '0')}`,
    ComplianceType: i % 2 ? 'COMPLIANT' : 'NON_COMPLIANT',
    OrderingTimestamp: new Date(),
  });

  it('reports every evaluation in calls of 100 (TestMode); none: no call', async () => {
    const api = createConfigEvaluationsApi(client(ConfigServiceClient));
    expect(await api.putEvaluations('token', Array.from({ length: 250 }, (_, i) => evaluation(i)), true)).toEqual({ calls: 3 });
    expect(await api.putEvaluations('token', Array.from({ length: 100 }, (_, i) => evaluation(i)), true)).toEqual({ calls: 1 });
    expect(await api.putEvaluations('token', [], true)).toEqual({ calls: 0 });
  });

  it('a refused call is an error naming the action', async () => {
    const error = await rejectionOf(createConfigEvaluationsApi(client(ConfigServiceClient)).putEvaluations('', [evaluation(1)], true), AwsError);
    expect(error).toMatchObject({ action: 'config:PutEvaluations', awsCode: 'InvalidResultTokenException' });
  });
});
