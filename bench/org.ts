// `npm run bench` (part 2): the organisation engine against moto, run through the Lambda handlers in-process
// (planner → SQS → workers). Wall time, requests by action, requests per user. Writes bench/org-results.md
// and .json at 20 × 500, bench/org-results-<A>x<U>.md/.json at other sizes. See bench/README.md.
//
// Size: ORG_BENCH_ACCOUNTS × ORG_BENCH_USERS (default 4 × 100, so that `npm run bench` stays short);
// ORG_BENCH_SCALE=full is the issue's 20 × 500. moto's backends are seeded in its own process before it serves
// (bench/moto-seed.py): seconds instead of the 635 s that 30,000 seeding requests took.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { runOrg } from '../src/flows/org.js';
import { createPlannerHandler } from '../src/lambda/planner.js';
import { createWorkerHandler } from '../src/lambda/worker.js';
import { mapBounded } from '../src/core/map-bounded.js';
import type { AccountOutcome } from '../src/org/worker.js';
import { DUMMY_CREDENTIALS } from '../test/support/iam.js';
import { startMoto } from '../test/support/moto.js';
import { MANAGEMENT_ACCOUNT, createQueuesAndTopic, drainQueue, verifySender } from '../test/support/org.js';
import { freshReportRewrite, startRecordingProxy } from '../test/support/recording-proxy.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FULL = process.env.ORG_BENCH_SCALE === 'full';
const ACCOUNTS = Number(process.env.ORG_BENCH_ACCOUNTS ?? (FULL ? 20 : 4));
const USERS = Number(process.env.ORG_BENCH_USERS ?? (FULL ? 500 : 100));
/** Every key due and rotated: 10,000 rotations at full size would take most of an hour against one moto process. */
const ENFORCE_ALL = process.env.ORG_BENCH_ENFORCE_ALL !== undefined ? process.env.ORG_BENCH_ENFORCE_ALL === '1' : ACCOUNTS * USERS <= 1_000;
const OWNER_EVERY = 10;
const AGE_SPREAD_DAYS = 100;
const DAY = 86_400_000;

/** `aws-rekey org` from a workstation: the management account's credentials, no files. */
const cliEnv = (endpoint: string): NodeJS.ProcessEnv => ({
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL: endpoint,
  AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
  AWS_CONFIG_FILE: '/nonexistent/config',
});

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

interface RunFigures {
  scenario: string;
  mode: string;
  wallMs: number;
  requests: Record<string, number>;
  requestTotal: number;
  requestsPerUser: number;
  inspectedUsers: number;
  /** Users the report decided alone whose key ids and owner were read for the CLI's listing. */
  identifiedUsers: number;
  events: number;
  mails: number;
  done: number;
  /** `uptime`'s load averages before and after the scenario (2 cores shared by several sessions). */
  load: [before: string, after: string];
}

/** One seeded organisation, and the scenarios run on it one after the other (each sees what the previous did). */
interface Organisation {
  name: string;
  ageSpreadDays: number;
  /** `cli`: `aws-rekey org report` (runOrg, in-process) instead of the Lambda handlers; `all` is its --all. */
  scenarios: Array<{ scenario: string; mode: string; days: number; cli?: 'listed' | 'all' }>;
}

const ORGANISATIONS: Organisation[] = [
  {
    name: 'every key created the same day (the clock moves)',
    ageSpreadDays: 0,
    scenarios: [
      { scenario: 'young keys (the credential report decides alone)', mode: 'report', days: 10 },
      { scenario: 'every key due (every user inspected)', mode: 'report', days: 100 },
      { scenario: 'every key within the warning period', mode: 'notify', days: 85 },
      ...(ENFORCE_ALL ? [{ scenario: "every key due: rotated into the users' secrets", mode: 'enforce', days: 91 }] : []),
    ],
  },
  {
    name: `key ages spread over ${AGE_SPREAD_DAYS} days (a daily run: 10% due, 7% within the warning period)`,
    ageSpreadDays: AGE_SPREAD_DAYS,
    scenarios: [
      { scenario: 'daily run, report', mode: 'report', days: 0 },
      { scenario: 'daily run, `org report` (CLI): rows that need a person with key id and owner', mode: 'report', days: 0, cli: 'listed' },
      { scenario: 'daily run, `org report --all` (CLI): every key with its id and owner', mode: 'report', days: 0, cli: 'all' },
      { scenario: 'daily run, enforce: the 10% due rotated', mode: 'enforce', days: 0 },
      { scenario: 'the same run repeated (nothing left to do)', mode: 'enforce', days: 0 },
    ],
  },
];

async function runOrganisation(org: Organisation, results: RunFigures[]): Promise<number> {
  const seedStarted = Date.now();
  const moto = await startMoto({
    seed: { script: join(HERE, 'moto-seed.py'), args: { accounts: ACCOUNTS, users: USERS, ownerEvery: OWNER_EVERY, ageSpreadDays: org.ageSpreadDays } },
    startTimeoutMs: 600_000,
  });
  const seedMs = Date.now() - seedStarted;
  process.stderr.write(`org bench: ${org.name}: moto seeded with ${ACCOUNTS} × ${USERS} users in ${(seedMs / 1000).toFixed(1)} s\n`);
  const proxy = await startRecordingProxy(moto.endpoint, freshReportRewrite());
  try {
    const queues = await createQueuesAndTopic(moto.endpoint, 'bench');
    await verifySender(moto.endpoint, 'rekey@example.com');
    const env = (mode: string) => ({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_REKEY_MODE: mode,
      AWS_REKEY_QUEUE_URL: queues.accountsQueueUrl,
      AWS_REKEY_TOPIC_ARN: queues.topicArn,
      AWS_REKEY_MAIL_FROM: 'rekey@example.com',
      AWS_REKEY_EXCLUDE_ACCOUNTS: MANAGEMENT_ACCOUNT,
    });
    for (const { scenario, mode, days, cli } of org.scenarios) {
      const now = new Date(Date.now() + days * DAY);
      const options = { env: env(mode), credentials: DUMMY_CREDENTIALS, now: () => now, write: () => undefined };
      const outcomes: Array<Pick<AccountOutcome, 'inspected' | 'identified' | 'events' | 'mails'> & { done: unknown[] }> = [];
      proxy.reset();
      const loadBefore = loadavg();
      const started = Date.now();
      if (cli) {
        const result = await runOrg({ env: cliEnv(proxy.endpoint), role: 'aws-rekey-member', policy: { excludeAccounts: [MANAGEMENT_ACCOUNT] }, now, listAll: cli === 'all' });
        for (const a of result.accounts) outcomes.push({ inspected: a.inspected ?? 0, identified: a.identified ?? 0, events: 0, mails: 0, done: [] });
      } else {
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
      }
      const wallMs = Date.now() - started;
      // Purged, not drained: moto's SQS slows down with every message a queue holds (10,000 events at full size).
      await queues.sqs.send(new PurgeQueueCommand({ QueueUrl: queues.eventsQueueUrl }));
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
        identifiedUsers: outcomes.reduce((n, o) => n + o.identified, 0),
        events: outcomes.reduce((n, o) => n + o.events, 0),
        mails: outcomes.reduce((n, o) => n + o.mails, 0),
        done: outcomes.reduce((n, o) => n + o.done.length, 0),
        load: [loadBefore, loadavg()],
      });
      process.stderr.write(`org bench: ${scenario}: ${Math.round(wallMs / 1000)} s, ${requestTotal} requests (load ${loadBefore} → ${loadavg()})\n`);
    }
  } finally {
    await proxy.stop();
    await moto.stop();
  }
  return seedMs;
}

/** ORG_BENCH_ONLY=daily (or same-day): one of the two organisations. */
const ONLY = process.env.ORG_BENCH_ONLY;

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const results: RunFigures[] = [];
  const seeds: number[] = [];
  const sections: string[] = [];
  for (const org of ORGANISATIONS.filter((o) => !ONLY || (ONLY === 'daily') === o.ageSpreadDays > 0)) {
    const first = results.length;
    seeds.push(await runOrganisation(org, results));
    sections.push(
      `### ${org.name}`,
      ``,
      `| scenario | mode | wall time | requests | per user | users inspected | users identified | events | mails | keys changed | load before → after |`,
      `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`,
      ...results
        .slice(first)
        .map(
          (r) =>
            `| ${r.scenario} | ${r.mode} | ${(r.wallMs / 1000).toFixed(1)} s | ${r.requestTotal} | ${r.requestsPerUser} | ${r.inspectedUsers} | ${r.identifiedUsers} | ${r.events} | ${r.mails} | ${r.done} | ${r.load[0]} → ${r.load[1]} |`,
        ),
      ``,
    );
  }
  const markdown = [
    `# aws-rekey organisation benchmark`,
    ``,
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}; moto on loopback (one process for every account, so the accounts' calls queue behind each other there), ${ACCOUNTS} accounts × ${USERS} users with one key each (every ${OWNER_EVERY}th user has an owner tag), seeded in moto's process (bench/moto-seed.py) in ${seeds.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(' and ')}; the handlers run in-process, 4 workers at a time. Requests are those moto saw (IAM, STS, SNS, SES by action; SQS, Organizations and Secrets Manager speak JSON and count as Unknown). The load is the machine's (\`uptime\`: 2 cores shared with other sessions), before and after each scenario.${ENFORCE_ALL ? '' : ' "Every key due: rotated" is left out at this size (ORG_BENCH_ENFORCE_ALL=1 runs it).'}`,
    ``,
    ...sections,
    `Requests by action:`,
    ``,
    ...results.map((r) => `- ${r.scenario}: ${Object.entries(r.requests).sort(([, a], [, b]) => b - a).map(([k, v]) => `${k} ${v}`).join(', ')}`),
    ``,
  ].join('\n');
  process.stdout.write(markdown);
  // The issue's size keeps bench/org-results.md; other sizes (the default run) get files of their own.
  const name = ACCOUNTS === 20 && USERS === 500 ? 'org-results' : `org-results-${ACCOUNTS}x${USERS}`;
  await writeFile(join(HERE, `${name}.json`), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, accounts: ACCOUNTS, users: USERS, seedMs: seeds, results }, null, 2)}\n`);
  await writeFile(join(HERE, `${name}.md`), markdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`org bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
