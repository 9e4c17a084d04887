// `npm run bench` (part 2): the organisation engine against moto: an organisation of ORG_BENCH_ACCOUNTS
// accounts (default 20) × ORG_BENCH_USERS users (default 500) with a key each, run through the Lambda
// handlers in-process (planner → SQS → workers). Wall time, requests by action, requests per user. Writes
// bench/org-results.json and bench/org-results.md. See bench/README.md.
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateAccessKeyCommand, CreateUserCommand, TagUserCommand, type IAMClient } from '@aws-sdk/client-iam';
import { createPlannerHandler } from '../src/lambda/planner.js';
import { createWorkerHandler } from '../src/lambda/worker.js';
import { mapBounded } from '../src/core/map-bounded.js';
import type { AccountOutcome } from '../src/org/worker.js';
import { DUMMY_CREDENTIALS } from '../test/support/iam.js';
import { startMoto } from '../test/support/moto.js';
import { MANAGEMENT_ACCOUNT, accountIam, createOrganization, createQueuesAndTopic, drainQueue, verifySender } from '../test/support/org.js';
import { freshReportRewrite, startRecordingProxy } from '../test/support/recording-proxy.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ACCOUNTS = Number(process.env.ORG_BENCH_ACCOUNTS ?? 20);
const USERS = Number(process.env.ORG_BENCH_USERS ?? 500);
const DAY = 86_400_000;

interface RunFigures {
  scenario: string;
  mode: string;
  wallMs: number;
  requests: Record<string, number>;
  requestTotal: number;
  requestsPerUser: number;
  inspectedUsers: number;
  events: number;
  mails: number;
  done: number;
}

async function seedAccount(iam: IAMClient, index: number): Promise<void> {
  // moto's IAM is not thread-safe within an account: a few calls at a time.
  await mapBounded(
    Array.from({ length: USERS }, (_, i) => i),
    4,
    async (i) => {
      const userName = `svc-${index}-${String(i).padStart(4, '0')}`;
      await iam.send(new CreateUserCommand({ UserName: userName }));
      if (i % 10 === 0) await iam.send(new TagUserCommand({ UserName: userName, Tags: [{ Key: 'aws-rekey:owner', Value: `team-${i % 7}@example.com` }] }));
      await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    },
  );
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const moto = await startMoto();
  const proxy = await startRecordingProxy(moto.endpoint, freshReportRewrite());
  const results: RunFigures[] = [];
  try {
    const seedStarted = Date.now();
    const accounts = await createOrganization(
      moto.endpoint,
      Array.from({ length: ACCOUNTS }, (_, i) => `bench-${i}`),
    );
    const queues = await createQueuesAndTopic(moto.endpoint, 'bench');
    await verifySender(moto.endpoint, 'rekey@example.com');
    for (const [index, account] of accounts.entries()) {
      await seedAccount(await accountIam(moto.endpoint, account.id), index);
      process.stderr.write(`org bench: seeded account ${index + 1}/${ACCOUNTS}\r`);
    }
    const seedMs = Date.now() - seedStarted;
    process.stderr.write(`\norg bench: seeded ${ACCOUNTS} × ${USERS} users in ${Math.round(seedMs / 1000)} s\n`);

    const env = (mode: string) => ({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_REKEY_MODE: mode,
      AWS_REKEY_QUEUE_URL: queues.accountsQueueUrl,
      AWS_REKEY_TOPIC_ARN: queues.topicArn,
      AWS_REKEY_MAIL_FROM: 'rekey@example.com',
      AWS_REKEY_EXCLUDE_ACCOUNTS: MANAGEMENT_ACCOUNT,
    });
    const scenarios: Array<[string, string, number]> = [
      ['young keys (the credential report decides alone)', 'report', 10],
      ['every key due (every user inspected)', 'report', 100],
      ['every key within the warning period', 'notify', 85],
      ['every key due: rotated into the users\' secrets', 'enforce', 91],
    ];
    for (const [scenario, mode, days] of scenarios) {
      const now = new Date(Date.now() + days * DAY);
      const options = { env: env(mode), credentials: DUMMY_CREDENTIALS, now: () => now, write: () => undefined };
      const outcomes: AccountOutcome[] = [];
      proxy.reset();
      const started = Date.now();
      await createPlannerHandler(options)({ id: `bench-${mode}-${days}` });
      // moto knows a new key at once: one successful check instead of three a second apart.
      const verify = { timeoutMs: 30_000, successes: 1, successIntervalMs: 0, initialDelayMs: 200, maxDelayMs: 1_000 };
      const worker = createWorkerHandler({ ...options, verify, onOutcome: (o) => outcomes.push(o) });
      const messages = await drainQueue(queues.sqs, queues.accountsQueueUrl);
      // Lambda runs workers side by side: one invocation per message, a few at a time.
      await mapBounded(messages, 4, async (message) => {
        const response = await worker({ Records: [message] });
        if (response.batchItemFailures.length > 0) throw new Error(`worker failed on ${message.body}`);
      });
      const wallMs = Date.now() - started;
      await drainQueue(queues.sqs, queues.eventsQueueUrl);
      const requests = proxy.counts();
      const requestTotal = Object.values(requests).reduce((a, b) => a + b, 0);
      results.push({
        scenario,
        mode,
        wallMs,
        requests,
        requestTotal,
        requestsPerUser: Math.round((requestTotal / (ACCOUNTS * USERS)) * 100) / 100,
        inspectedUsers: outcomes.reduce((n, o) => n + o.inspected, 0),
        events: outcomes.reduce((n, o) => n + o.events, 0),
        mails: outcomes.reduce((n, o) => n + o.mails, 0),
        done: outcomes.reduce((n, o) => n + o.done.length, 0),
      });
      process.stderr.write(`org bench: ${scenario}: ${Math.round(wallMs / 1000)} s, ${requestTotal} requests\n`);
    }
    const rows = results.map(
      (r) =>
        `| ${r.scenario} | ${r.mode} | ${(r.wallMs / 1000).toFixed(1)} s | ${r.requestTotal} | ${r.requestsPerUser} | ${r.inspectedUsers} | ${r.events} | ${r.mails} | ${r.done} |`,
    );
    const markdown = [
      `# aws-rekey organisation benchmark`,
      ``,
      `${new Date().toISOString().slice(0, 10)}, Node ${process.version}; moto on loopback (one process for every account, so the accounts' calls queue behind each other there), ${ACCOUNTS} accounts × ${USERS} users with one key each; the handlers run in-process, 4 workers at a time. Seeding took ${Math.round(seedMs / 1000)} s. Requests are the Query-API requests moto saw (IAM, STS, SNS, SES); SQS and Organizations speak JSON and are not counted by action.`,
      ``,
      `| scenario | mode | wall time | requests | per user | users inspected | events | mails | keys changed |`,
      `| --- | --- | --- | --- | --- | --- | --- | --- | --- |`,
      ...rows,
      ``,
      `Requests by action:`,
      ``,
      ...results.map((r) => `- ${r.scenario}: ${Object.entries(r.requests).sort(([, a], [, b]) => b - a).map(([k, v]) => `${k} ${v}`).join(', ')}`),
      ``,
    ].join('\n');
    process.stdout.write(markdown);
    await writeFile(join(HERE, 'org-results.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, accounts: ACCOUNTS, users: USERS, seedMs, results }, null, 2)}\n`);
    await writeFile(join(HERE, 'org-results.md'), markdown);
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`org bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
