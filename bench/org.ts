// `npm run bench` (part 2): the organisation engine against moto, run through the Lambda handlers in-process
// (planner → SQS → workers). Wall time, requests by action, requests per user. Writes bench/org-results.md
// and .json at 20 × 500, bench/org-results-<A>x<U>.md/.json at other sizes. See bench/README.md.
//
// Size: ORG_BENCH_ACCOUNTS × ORG_BENCH_USERS (default 4 × 100, so that `npm run bench` stays short);
// ORG_BENCH_SCALE=full is the issue's 20 × 500. moto's backends are seeded in its own process before it serves
// (bench/moto-seed.py): seconds instead of the 635 s that 30,000 seeding requests took.
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ListSubscriptionsByTopicCommand, SNSClient, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { runOrg } from '../src/flows/org.js';
import { createPlannerHandler } from '../src/lambda/planner.js';
import { createWorkerHandler } from '../src/lambda/worker.js';
import { mapBounded } from '../src/core/map-bounded.js';
import type { LoggedError } from '../src/org/log.js';
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
/** The deployed worker's timeout (deploy/hub-stack.ts). */
const WORKER_TIMEOUT_MS = 15 * 60_000;
/** As the deployed accounts queue (deploy/hub-stack.ts): a failed message comes back, then goes to the dead-letter queue. */
const MAX_RECEIVE_COUNT = 3;
/** The handlers' JSON log lines, one file per scenario (gitignored; they never hold a secret). */
const LOG_DIR = join(HERE, 'org-logs', `${ACCOUNTS}x${USERS}`);

async function unsubscribeAll(endpoint: string, topicArn: string): Promise<void> {
  const sns = new SNSClient({ region: 'us-east-1', endpoint, credentials: DUMMY_CREDENTIALS });
  const { Subscriptions = [] } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
  for (const { SubscriptionArn } of Subscriptions) await sns.send(new UnsubscribeCommand({ SubscriptionArn }));
  sns.destroy();
}

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
  /** Deliveries of an account message that the worker answered as failed (each came back, up to MAX_RECEIVE_COUNT). */
  failedDeliveries: number;
  /** Accounts still failed after MAX_RECEIVE_COUNT deliveries (the dead-letter queue), or failed in the CLI. */
  failedAccounts: number;
  /** moto's slowest answer: the action and how long it took. */
  slowest: [action: string, ms: number];
  /** Requests the SDK sent again, by action (after an answer lost on the way, a timeout, a 5xx or a throttling). */
  retried: Record<string, number>;
  /**
   * The benchmark's own event loop (the workers, the SDK and the proxy share it): its longest delay. A long one
   * fires the SDK's timers (connection 5 s, request 15 s) before the answers waiting in the socket are read.
   */
  eventLoopDelayMaxMs: number;
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
    // Nobody reads the events here (the outcomes count them), and moto delivers each Publish to a subscribed
    // queue inside the call, slower with every message the queue holds (500 publishes: 22 s, the next 500: 41 s):
    // with 10,000 events that, not aws-rekey, was the notify scenario. On AWS, SNS delivers after answering.
    await unsubscribeAll(moto.endpoint, queues.topicArn);
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
    for (const [index, { scenario, mode, days, cli }] of org.scenarios.entries()) {
      if (MODES && !MODES.includes(mode)) continue;
      const now = new Date(Date.now() + days * DAY);
      const log = openScenarioLog(`${keyOf(org)}-${index + 1}-${mode}${cli ? `-cli-${cli}` : ''}`);
      const options = { env: env(mode), credentials: DUMMY_CREDENTIALS, now: () => now, write: log.write };
      const outcomes: Array<Pick<AccountOutcome, 'inspected' | 'identified' | 'events' | 'mails'> & { done: unknown[] }> = [];
      let failedDeliveries = 0;
      let failedAccounts = 0;
      proxy.reset();
      const loopDelay = monitorEventLoopDelay({ resolution: 20 });
      loopDelay.enable();
      const loadBefore = loadavg();
      const started = Date.now();
      if (cli) {
        const result = await runOrg({ env: cliEnv(proxy.endpoint), role: 'aws-rekey-member', policy: { excludeAccounts: [MANAGEMENT_ACCOUNT] }, now, listAll: cli === 'all' });
        for (const a of result.accounts) outcomes.push({ inspected: a.inspected ?? 0, identified: a.identified ?? 0, events: 0, mails: 0, done: [] });
        for (const a of result.accounts.filter((a) => a.error)) {
          failedAccounts += 1;
          log.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'account-failed', handler: 'cli', accountId: a.id, error: a.error })}\n`);
        }
      } else {
        await createPlannerHandler(options)({ id: `bench-${mode}-${days}` });
        // moto knows a new key at once: one successful check instead of three a second apart.
        const verify = { timeoutMs: 30_000, successes: 1, successIntervalMs: 0, initialDelayMs: 200, maxDelayMs: 1_000 };
        const worker = createWorkerHandler({ ...options, verify, onOutcome: (o) => outcomes.push(o) });
        // Lambda runs workers side by side: one invocation per message, a few at a time, each with the deployed
        // worker's 15 minutes (a worker short of time hands the rest of its account on: those messages come next).
        // A failed message comes back (after the visibility timeout, here at once) until the queue moves it to
        // the dead-letter queue.
        for (let messages = await drainQueue(queues.sqs, queues.accountsQueueUrl); messages.length > 0; messages = await drainQueue(queues.sqs, queues.accountsQueueUrl)) {
          await mapBounded(messages, 4, async (message) => {
            for (let receive = 1; receive <= MAX_RECEIVE_COUNT; receive += 1) {
              const invoked = Date.now();
              const response = await worker({ Records: [message] }, { getRemainingTimeInMillis: () => WORKER_TIMEOUT_MS - (Date.now() - invoked) });
              if (response.batchItemFailures.length === 0) return;
              failedDeliveries += 1;
              process.stderr.write(`org bench: ${scenario}: the worker failed on ${message.body} (delivery ${receive} of ${MAX_RECEIVE_COUNT})\n`);
            }
            failedAccounts += 1;
          });
        }
      }
      const wallMs = Date.now() - started;
      loopDelay.disable();
      await log.close();
      // Purged, not drained: moto's SQS slows down with every message a queue holds (10,000 events at full size).
      await queues.sqs.send(new PurgeQueueCommand({ QueueUrl: queues.eventsQueueUrl }));
      const requests = proxy.counts();
      const timings = Object.entries(proxy.timings());
      const slowest = timings.reduce<[string, number]>((worst, [action, t]) => (t.maxMs > worst[1] ? [action, t.maxMs] : worst), ['-', 0]);
      const retried = Object.fromEntries(timings.filter(([, t]) => t.retried > 0).map(([action, t]) => [action, t.retried]));
      const upstreamErrors = Object.fromEntries(timings.filter(([, t]) => Object.keys(t.upstreamErrors).length > 0).map(([action, t]) => [action, t.upstreamErrors]));
      const clientClosed = Object.fromEntries(timings.filter(([, t]) => t.clientClosed > 0).map(([action, t]) => [action, t.clientClosed]));
      const retryableAnswers = Object.fromEntries(timings.filter(([, t]) => Object.keys(t.retryableAnswers).length > 0).map(([action, t]) => [action, t.retryableAnswers]));
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
        failedDeliveries,
        failedAccounts,
        slowest,
        retried,
        eventLoopDelayMaxMs: Math.round(loopDelay.max / 1e6),
        load: [loadBefore, loadavg()],
      });
      process.stderr.write(`org bench: ${scenario}: ${Math.round(wallMs / 1000)} s, ${requestTotal} requests (load ${loadBefore} → ${loadavg()}); slowest answer ${slowest[0]} ${(slowest[1] / 1000).toFixed(1)} s; event loop delay up to ${(loopDelay.max / 1e9).toFixed(1)} s${Object.keys(retried).length > 0 ? `; sent again by the SDK: ${JSON.stringify(retried)}` : ''}${Object.keys(upstreamErrors).length > 0 ? `; moto's connection failed: ${JSON.stringify(upstreamErrors)}` : ''}${Object.keys(retryableAnswers).length > 0 ? `; moto answered 5xx or throttling: ${JSON.stringify(retryableAnswers)}` : ''}${Object.keys(clientClosed).length > 0 ? `; closed by the SDK before the answer: ${JSON.stringify(clientClosed)}` : ''}; log: ${log.path}\n`);
      for (const line of log.errors) process.stderr.write(`org bench:   ${describeFailure(line)}\n`);
    }
  } finally {
    await proxy.stop();
    await moto.stop();
  }
  return seedMs;
}

interface ScenarioLog {
  path: string;
  write: (line: string) => void;
  /** The error lines (user-failed, account-failed, run-failed), parsed. */
  errors: Array<Record<string, unknown>>;
  close: () => Promise<void>;
}

function openScenarioLog(name: string): ScenarioLog {
  const path = join(LOG_DIR, `${name}.jsonl`);
  const stream: WriteStream = createWriteStream(path, { mode: 0o600 });
  const errors: ScenarioLog['errors'] = [];
  return {
    path,
    errors,
    write: (line) => {
      stream.write(line);
      if (line.includes('"level":"error"')) errors.push(JSON.parse(line) as Record<string, unknown>);
    },
    close: () => new Promise((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve()))),
  };
}

/** One failed user or account, from its log line: which, what was due, the error's code (and its cause's) and message. */
function describeFailure(line: Record<string, unknown>): string {
  const error = (line.error ?? {}) as LoggedError;
  const who = line.userName ? `${String(line.accountId)} ${String(line.userName)}` : `account ${String(line.accountId ?? line.messageId ?? '?')}`;
  const actions = Array.isArray(line.actions) ? ` [${line.actions.join(', ')}]` : '';
  return `${String(line.event)}: ${who}${actions}: ${error.code ?? '?'}${error.causeCode ? ` (cause ${error.causeCode})` : ''}${error.awsCode ? ` (${error.awsAction ?? 'AWS'}: ${error.awsCode})` : ''}: ${error.message ?? ''}`;
}

/** ORG_BENCH_ONLY=daily (or same-day): one of the two organisations. */
const ONLY = process.env.ORG_BENCH_ONLY;
/** ORG_BENCH_MODES=enforce (or report,notify): only the scenarios of those modes (to reproduce one). */
const MODES = process.env.ORG_BENCH_MODES?.split(',');

/** One organisation's run, as kept in the results file (a run of one organisation replaces only its own part). */
interface OrganisationRun {
  key: OrganisationKey;
  name: string;
  date: string;
  node: string;
  seedMs: number;
  enforceAll: boolean;
  results: RunFigures[];
}

type OrganisationKey = 'same-day' | 'daily';

const keyOf = (org: Organisation): OrganisationKey => (org.ageSpreadDays > 0 ? 'daily' : 'same-day');

function renderMarkdown(runs: OrganisationRun[]): string {
  const lines = [
    `# aws-rekey organisation benchmark`,
    ``,
    `${ACCOUNTS} accounts × ${USERS} users with one key each (every ${OWNER_EVERY}th user has an owner tag), written by \`bench/org.ts\` (see bench/README.md). moto on loopback (one process for every account, so the accounts' calls queue behind each other there), seeded in its own process (bench/moto-seed.py); the handlers run in-process, 4 workers at a time; a message the worker answers as failed is delivered again, up to ${MAX_RECEIVE_COUNT} times as the deployed queue does ("failed deliveries / accounts": deliveries answered as failed / accounts still failed after the last one; the handlers' log lines are in bench/org-logs/${ACCOUNTS}x${USERS}/, not committed). Requests are those moto saw, by action; "slowest answer" is moto's slowest, "requests sent again" those the SDK repeated (header \`amz-sdk-request: attempt=2\` or more, each in the request count; the benchmark's stderr says how many moto answered with a 5xx or a throttling and how many the SDK closed before their answer), and "event loop delay" the longest stall of the benchmark's own process (workers, SDK and proxy share it; a stall fires the SDK's connection and request timers before the answers waiting in the sockets are read). Each worker invocation gets the deployed 15 minutes; a continuation it sends is processed in the same scenario. The load is the machine's (\`/proc/loadavg\`: 2 cores shared with other sessions), before and after each scenario.`,
    ``,
  ];
  for (const run of runs) {
    lines.push(
      `### ${run.name}`,
      ``,
      `Run ${run.date.slice(0, 16).replace('T', ' ')} UTC, Node ${run.node}, moto seeded in ${(run.seedMs / 1000).toFixed(1)} s.${run.key === 'same-day' && !run.enforceAll ? ' "Every key due: rotated" is left out at this size (ORG_BENCH_ENFORCE_ALL=1 runs it).' : ''}`,
      ``,
      `| scenario | mode | wall time | requests | per user | users inspected | users identified | events | mails | keys changed | failed deliveries / accounts | slowest answer | requests sent again | event loop delay | load before → after |`,
      `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`,
      ...run.results.map(
        (r) =>
          `| ${r.scenario} | ${r.mode} | ${(r.wallMs / 1000).toFixed(1)} s | ${r.requestTotal} | ${r.requestsPerUser} | ${r.inspectedUsers} | ${r.identifiedUsers} | ${r.events} | ${r.mails} | ${r.done} | ${r.failedDeliveries} / ${r.failedAccounts} | ${r.slowest[0]} ${(r.slowest[1] / 1000).toFixed(1)} s | ${Object.entries(r.retried).map(([k, v]) => `${k} ${v}`).join(', ') || 0} | ${(r.eventLoopDelayMaxMs / 1000).toFixed(1)} s | ${r.load[0]} → ${r.load[1]} |`,
      ),
      ``,
    );
  }
  lines.push(
    `Requests by action:`,
    ``,
    ...runs.flatMap((run) => run.results.map((r) => `- ${r.scenario}: ${Object.entries(r.requests).sort(([, a], [, b]) => b - a).map(([k, v]) => `${k} ${v}`).join(', ')}`)),
    ``,
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  if (ONLY && ONLY !== 'daily' && ONLY !== 'same-day') throw new Error(`ORG_BENCH_ONLY=${ONLY}: give daily or same-day.`);
  await mkdir(LOG_DIR, { recursive: true });
  process.stderr.write(`org bench: the handlers' logs go to ${LOG_DIR}\n`);
  // The issue's size keeps bench/org-results.md; other sizes (the default run) get files of their own.
  const name = ACCOUNTS === 20 && USERS === 500 ? 'org-results' : `org-results-${ACCOUNTS}x${USERS}`;
  const jsonPath = join(HERE, `${name}.json`);
  const ran = new Map<OrganisationKey, OrganisationRun>();
  for (const org of ORGANISATIONS) {
    if (ONLY && ONLY !== keyOf(org)) continue;
    const results: RunFigures[] = [];
    const seedMs = await runOrganisation(org, results);
    ran.set(keyOf(org), { key: keyOf(org), name: org.name, date: new Date().toISOString(), node: process.version, seedMs, enforceAll: ENFORCE_ALL, results });
  }
  // ORG_BENCH_ONLY: the other organisation's part of the results file stays as it is now (read at the end, so
  // that two runs of one organisation each, side by side, keep both parts).
  const previous = await readFile(jsonPath, 'utf8').then((text) => (JSON.parse(text) as { organisations?: OrganisationRun[] }).organisations ?? [], () => []);
  const runs = ORGANISATIONS.flatMap((org) => ran.get(keyOf(org)) ?? previous.find((run) => run.key === keyOf(org)) ?? []);
  const markdown = renderMarkdown(runs);
  process.stdout.write(markdown);
  if (MODES) {
    process.stderr.write(`org bench: ORG_BENCH_MODES=${MODES.join(',')} (a partial run): ${name}.md and .json left as they were\n`);
    return;
  }
  await writeFile(jsonPath, `${JSON.stringify({ accounts: ACCOUNTS, users: USERS, organisations: runs }, null, 2)}\n`);
  await writeFile(join(HERE, `${name}.md`), markdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`org bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
