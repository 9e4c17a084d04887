import http from 'node:http';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, ListAccessKeysCommand, ListUserTagsCommand, TagUserCommand } from '@aws-sdk/client-iam';
import { GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateAccountCommand, CreateOrganizationCommand, ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SNSClient, CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DUMMY_CREDENTIALS, REGION, type Credentials } from './iam.js';

/**
 * An AWS Organization on moto, seeded and read with the SDK directly (never through the code under test):
 * accounts made with CreateAccount, users and keys in each through AssumeRole (moto keeps IAM per account and
 * lets any role be assumed), a queue, a topic delivered to a queue, and the mail moto's SES "sent".
 */

export const MANAGEMENT_ACCOUNT = '123456789012';

const base = (endpoint: string, credentials: Credentials = DUMMY_CREDENTIALS) => ({ region: REGION, endpoint, credentials, maxAttempts: 1 });

export async function createOrganization(endpoint: string, accountNames: string[]): Promise<Array<{ id: string; name: string }>> {
  await new OrganizationsClient(base(endpoint)).send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  return createAccounts(endpoint, accountNames);
}

/** More accounts in the organisation (CreateAccount), with their ids. */
export async function createAccounts(endpoint: string, accountNames: string[]): Promise<Array<{ id: string; name: string }>> {
  const org = new OrganizationsClient(base(endpoint));
  for (const name of accountNames) await org.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }));
  const accounts = (await org.send(new ListAccountsCommand({}))).Accounts ?? [];
  return accountNames.map((name) => {
    const id = accounts.find((a) => a.Name === name)?.Id;
    if (!id) throw new Error(`moto did not create the account ${name}`);
    return { id, name };
  });
}

/** An IAM client working inside an account (the management account's own, or through AssumeRole). */
export async function accountIam(endpoint: string, accountId: string): Promise<IAMClient> {
  return new IAMClient(base(endpoint, await accountCredentials(endpoint, accountId)));
}

async function accountCredentials(endpoint: string, accountId: string): Promise<Credentials> {
  if (accountId === MANAGEMENT_ACCOUNT) return DUMMY_CREDENTIALS;
  const sts = new STSClient(base(endpoint));
  const c = (await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/seed`, RoleSessionName: 'seed' }))).Credentials;
  return { accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', sessionToken: c?.SessionToken ?? '' };
}

/** The account's Secrets Manager secrets: their names, and the current value of one (undefined when there is none). */
export async function accountSecrets(endpoint: string, accountId: string): Promise<{ names: string[]; value(name: string): Promise<Record<string, string> | undefined> }> {
  const sm = new SecretsManagerClient(base(endpoint, await accountCredentials(endpoint, accountId)));
  const names = ((await sm.send(new ListSecretsCommand({}))).SecretList ?? []).map((s) => s.Name ?? '');
  return {
    names,
    value: async (name) => {
      if (!names.includes(name)) return undefined;
      return JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString ?? '{}') as Record<string, string>;
    },
  };
}

export async function userTags(iam: IAMClient, userName: string): Promise<Record<string, string>> {
  const out = await iam.send(new ListUserTagsCommand({ UserName: userName }));
  return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

export interface SeedUser {
  userName: string;
  keys?: number;
  tags?: Record<string, string>;
}

/** Users with keys (one each unless told otherwise) and tags; the key pairs, by user. */
export async function seedUsers(iam: IAMClient, users: SeedUser[]): Promise<Map<string, Array<{ accessKeyId: string; secretAccessKey: string }>>> {
  const out = new Map<string, Array<{ accessKeyId: string; secretAccessKey: string }>>();
  for (const user of users) {
    await iam.send(new CreateUserCommand({ UserName: user.userName }));
    if (user.tags) await iam.send(new TagUserCommand({ UserName: user.userName, Tags: Object.entries(user.tags).map(([Key, Value]) => ({ Key, Value })) }));
    const pairs = [];
    for (let i = 0; i < (user.keys ?? 1); i++) {
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: user.userName }))).AccessKey;
      pairs.push({ accessKeyId: key?.AccessKeyId ?? '', secretAccessKey: key?.SecretAccessKey ?? '' });
    }
    out.set(user.userName, pairs);
  }
  return out;
}

export async function keysOf(iam: IAMClient, userName: string): Promise<Array<{ accessKeyId: string; status: string }>> {
  const out = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return (out.AccessKeyMetadata ?? []).map((k) => ({ accessKeyId: k.AccessKeyId ?? '', status: k.Status ?? '' }));
}

export interface Queues {
  sqs: SQSClient;
  accountsQueueUrl: string;
  eventsQueueUrl: string;
  topicArn: string;
}

/** The accounts queue, and an SNS topic delivered (raw) to a queue the test reads. */
export async function createQueuesAndTopic(endpoint: string, prefix: string): Promise<Queues> {
  const sqs = new SQSClient(base(endpoint));
  const accountsQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-accounts` }))).QueueUrl ?? '';
  const eventsQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-events` }))).QueueUrl ?? '';
  const eventsArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: eventsQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  const sns = new SNSClient(base(endpoint));
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: `${prefix}-decisions` }))).TopicArn ?? '';
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: eventsArn, Attributes: { RawMessageDelivery: 'true' } }));
  return { sqs, accountsQueueUrl, eventsQueueUrl, topicArn };
}

/** Every message now in the queue, received and deleted (as Lambda's SQS integration would). */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<Array<{ messageId: string; body: string }>> {
  const out: Array<{ messageId: string; body: string }> = [];
  for (;;) {
    const got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }))).Messages ?? [];
    if (got.length === 0) return out;
    for (const m of got) {
      out.push({ messageId: m.MessageId ?? '', body: m.Body ?? '' });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

/** moto's SES refuses unverified senders; SES v1's VerifyEmailIdentity (a Query call moto routes by its signing scope). */
export async function verifySender(endpoint: string, address: string): Promise<void> {
  const body = new URLSearchParams({ Action: 'VerifyEmailIdentity', Version: '2010-12-01', EmailAddress: address }).toString();
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const status = await request(endpoint, 'POST', '/', body, {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `AWS4-HMAC-SHA256 Credential=testing/${day}/${REGION}/ses/aws4_request, SignedHeaders=host, Signature=0`,
  });
  if (status.code !== 200) throw new Error(`VerifyEmailIdentity: HTTP ${status.code} ${status.body}`);
}

export interface SentMail {
  source: string;
  destinations: unknown;
  subject: string;
  body: string;
}

/** What moto's SES (v1 and v2) has "sent", from /moto-api/data.json. */
export async function sentMail(endpoint: string): Promise<SentMail[]> {
  const answer = await request(endpoint, 'GET', '/moto-api/data.json');
  const data = JSON.parse(answer.body) as { ses?: { Message?: Array<Record<string, unknown>> } };
  return (data.ses?.Message ?? []).map((m) => ({
    source: String(m.source ?? ''),
    destinations: m.destinations,
    subject: String(m.subject ?? ''),
    body: String(m.body ?? ''),
  }));
}

/** The addresses a sent mail went to, however moto recorded them. */
export function recipientsOf(mail: SentMail): string[] {
  const d = mail.destinations as { ToAddresses?: string[] } | string[] | undefined;
  if (Array.isArray(d)) return d;
  return d?.ToAddresses ?? [];
}

function request(endpoint: string, method: string, path: string, body = '', headers: Record<string, string> = {}): Promise<{ code: number; body: string }> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
