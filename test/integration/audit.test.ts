import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateAccessKeyCommand, CreateUserCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/credential-report.js';
import { BIN, baseEnv, makeHome, ROOT, runCli, type TempHome } from '../support/cli.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { iamClient, stsClient, uniqueName } from '../support/iam.js';
import { startMoto, type MotoHandle } from '../support/moto.js';
import { freshReportRewrite, startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';

/**
 * `aws-rekey audit` against moto with 1,000 users of our own, under a path of their own (assertions are
 * scoped with --path-prefix or --user, as they would be in a shared account).
 *
 * This file starts a moto of its own rather than sharing the global one: moto's IAM is not thread-safe
 * (GetCallerIdentity iterates the users while another request adds one: "RuntimeError: dictionary
 * changed size during iteration", HTTP 500), and 1,000 CreateUser calls would make other test files'
 * rotations fail at random.
 *
 * moto cannot backdate keys: ages are shifted with AWS_REKEY_NOW (test-only), which moves "now" for key
 * ages but not for the credential report's freshness. moto's report also always says it was generated at
 * 2015-02-02T20:02:02Z, so the "fresh report" case goes through a proxy that rewrites that time.
 */

let endpoint: string;
let moto: MotoHandle | undefined;
const USERS = 1000;
const PATH = `/${uniqueName('audit')}/`;
/** The first SMALL users live under ${PATH}small/, the others under ${PATH}bulk/: the tests that do not need 1,000 users use the small group. */
const SMALL = 25;
const SMALL_PATH = `${PATH}small/`;
const DAY = 86_400_000;

interface Seeded {
  userName: string;
  keys: Array<{ accessKeyId: string; secretAccessKey: string; active: boolean }>;
}

let seeded: Seeded[] = [];
let home: TempHome;
let recorder: RecordingProxy;
let fresh: RecordingProxy;
const timings: Record<string, number> = {};

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return out;
}

/**
 * User i: one active key; every 10th user a second active key (two-active); every 7th a second key made
 * inactive; every 25th user has no key at all; every 5th user's first key is used once (sts call signed
 * with it, which moto records as its last use) — after all users exist (see above: moto's race).
 */
async function seed(): Promise<Seeded[]> {
  const iam = iamClient(endpoint);
  const createKey = async (userName: string) => {
    const out = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    return { accessKeyId: out.AccessKey?.AccessKeyId ?? '', secretAccessKey: out.AccessKey?.SecretAccessKey ?? '', active: true };
  };
  const users = await mapLimit(
    Array.from({ length: USERS }, (_, i) => i),
    32,
    async (i) => {
      const userName = `u${String(i).padStart(4, '0')}-${PATH.slice(1, -1)}`.slice(0, 64);
      await iam.send(new CreateUserCommand({ UserName: userName, Path: i < SMALL ? SMALL_PATH : `${PATH}bulk/` }));
      const keys: Seeded['keys'] = [];
      if (i % 25 === 24) return { userName, keys };
      keys.push(await createKey(userName));
      if (i % 10 === 0) keys.push(await createKey(userName));
      else if (i % 7 === 0) {
        const second = await createKey(userName);
        await iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: second.accessKeyId, Status: 'Inactive' }));
        keys.push({ ...second, active: false });
      }
      return { userName, keys };
    },
  );
  await mapLimit(
    users.filter((_, i) => i % 5 === 0),
    32,
    async (user) => {
      const first = user.keys[0];
      if (first) await stsClient(endpoint, first).send(new GetCallerIdentityCommand({}));
    },
  );
  return users;
}

interface AuditDoc {
  schemaVersion: number;
  ok: boolean;
  source: string;
  sourceReason: string;
  fallback: boolean;
  reportGeneratedAt?: string;
  summary: { keys: number; users: number; findings: number };
  keys: Array<{ userName: string; userArn?: string; accessKeyId?: string; slot?: number; active: boolean; createDate?: string; lastUsedDate?: string; lastUsedService?: string; ageDays?: number; findings: string[] }>;
  findings: Array<{ kind: string; userName: string; accessKeyId?: string; keyCreated?: string; message: string }>;
  warnings: string[];
}

async function audit(args: string[], env: NodeJS.ProcessEnv = home.env) {
  const started = Date.now();
  const run = await runCli(['audit', ...args], env);
  return { ...run, ms: Date.now() - started };
}

async function auditJson(args: string[], env: NodeJS.ProcessEnv = home.env): Promise<{ doc: AuditDoc; ms: number; code: number; stderr: string }> {
  const run = await audit([...args, '--json'], env);
  if (run.code !== 0 && run.code !== 4) throw new Error(`audit ${args.join(' ')} failed (${run.code}):\n${run.stderr}\n${run.stdout}`);
  return { doc: JSON.parse(run.stdout) as AuditDoc, ms: run.ms, code: run.code, stderr: run.stderr };
}

const envFor = (url: string, extra: NodeJS.ProcessEnv = {}) => ({ ...home.env, AWS_ENDPOINT_URL: url, ...extra });
const shifted = (days: number) => ({ AWS_REKEY_NOW: new Date(Date.now() + days * DAY).toISOString() });

/** What both sources know about a key: user, creation (to the second), state, last use (to the second). */
const keyFacts = (doc: AuditDoc) =>
  doc.keys.map((k) => [k.userName, k.createDate?.slice(0, 19), k.active, k.lastUsedDate?.slice(0, 19) ?? null, k.findings.join(',')].join(' ')).sort();
const findingFacts = (doc: AuditDoc) => doc.findings.map((f) => [f.kind, f.userName, f.keyCreated?.slice(0, 19) ?? ''].join(' ')).sort();

beforeAll(async () => {
  moto = await startMoto();
  endpoint = moto.endpoint;
  const started = Date.now();
  seeded = await seed();
  timings.seed = Date.now() - started;
  home = await makeHome({
    endpoint,
    credentials: '[auditor]\naws_access_key_id = testing\naws_secret_access_key = testing\n',
    env: { AWS_PROFILE: 'auditor' },
  });
  recorder = await startRecordingProxy(endpoint);
  fresh = await startRecordingProxy(endpoint, freshReportRewrite());
});

afterAll(async () => {
  await Promise.all([recorder?.stop(), fresh?.stop(), home?.cleanup()]);
  await moto?.stop();
  // The figures quoted in docs/audit.md come from here.
  console.info(`audit timings (ms): ${JSON.stringify(timings)}`);
});

const activeKeys = () => seeded.flatMap((u) => u.keys.filter((k) => k.active));
const keyCount = () => seeded.reduce((n, u) => n + u.keys.length, 0);
const twoActiveUsers = () => seeded.filter((u) => u.keys.filter((k) => k.active).length === 2).map((u) => u.userName).sort();

describe('aws-rekey audit: 1,000 users, both sources', () => {
  it('seeded the account', () => {
    expect(seeded).toHaveLength(USERS);
    expect(keyCount()).toBeGreaterThan(USERS);
  });

  it('the credential report and the per-user calls give the same keys and findings (ages shifted 100 days)', async () => {
    recorder.reset();
    const viaApi = await auditJson(['--source', 'api', '--path-prefix', PATH], envFor(recorder.endpoint, shifted(100)));
    timings.api1000 = viaApi.ms;
    const apiCounts = recorder.counts();
    recorder.reset();
    const viaReport = await auditJson(['--source', 'report', '--path-prefix', PATH], envFor(fresh.endpoint, shifted(100)));
    timings.report1000 = viaReport.ms;
    const reportCounts = fresh.counts();
    timings.apiRequests = Object.values(apiCounts).reduce((a, b) => a + b, 0);
    timings.reportRequests = Object.values(reportCounts).reduce((a, b) => a + b, 0);

    expect(viaApi.doc).toMatchObject({ schemaVersion: 1, ok: true, source: 'api', fallback: false });
    expect(viaReport.doc).toMatchObject({ schemaVersion: 1, ok: true, source: 'credential-report', fallback: false });
    expect(viaReport.doc.warnings).toEqual([]);

    const expected = { keys: keyCount(), users: USERS, findings: activeKeys().length * 2 + twoActiveUsers().length };
    expect(viaApi.doc.summary).toEqual(expected);
    expect(viaReport.doc.summary).toEqual(expected);
    expect(findingFacts(viaReport.doc)).toEqual(findingFacts(viaApi.doc));
    expect(keyFacts(viaReport.doc)).toEqual(keyFacts(viaApi.doc));

    // Every active key is 100 days old and unused for at least 100 days; inactive keys are no finding.
    const kinds = (doc: AuditDoc, kind: string) => doc.findings.filter((f) => f.kind === kind);
    expect(kinds(viaApi.doc, 'old')).toHaveLength(activeKeys().length);
    expect(kinds(viaApi.doc, 'unused')).toHaveLength(activeKeys().length);
    expect(kinds(viaApi.doc, 'two-active').map((f) => f.userName).sort()).toEqual(twoActiveUsers());
    expect(viaApi.doc.keys.filter((k) => !k.active).every((k) => k.findings.length === 0)).toBe(true);
    expect(kinds(viaApi.doc, 'root-key')).toEqual([]);

    // The per-user path has key ids and the service of the last use; the report has neither (moto's has no service).
    const usedKey = seeded[5]?.keys[0];
    const apiKey = viaApi.doc.keys.find((k) => k.accessKeyId === usedKey?.accessKeyId);
    expect(apiKey).toMatchObject({ lastUsedService: 'sts', active: true });
    expect(viaReport.doc.keys.every((k) => k.accessKeyId === undefined && (k.slot === 1 || k.slot === 2))).toBe(true);

    // What each source cost: one report versus a call per user and per key (moto's ListUsers does not paginate).
    // moto, like IAM, answers STARTED to the first GenerateCredentialReport of an account, then COMPLETE.
    expect(Object.keys(reportCounts).sort()).toEqual(['GenerateCredentialReport', 'GetCredentialReport']);
    expect(reportCounts.GenerateCredentialReport).toBeLessThanOrEqual(2);
    expect(reportCounts.GetCredentialReport).toBe(1);
    expect(apiCounts.ListUsers).toBe(1);
    expect(apiCounts.ListAccessKeys).toBe(USERS);
    expect(apiCounts.GetAccessKeyLastUsed).toBe(keyCount());
    expect(apiCounts.GetAccountSummary).toBeUndefined();
  });

  it('without shifted ages only the two-active users are findings, on both sources', async () => {
    const small = seeded.slice(0, SMALL);
    const twoActive = small.filter((u) => u.keys.filter((k) => k.active).length === 2).map((u) => u.userName).sort();
    expect(twoActive.length).toBeGreaterThan(1);
    const viaApi = await auditJson(['--source', 'api', '--path-prefix', SMALL_PATH]);
    const viaReport = await auditJson(['--source', 'report', '--path-prefix', SMALL_PATH], envFor(fresh.endpoint));
    for (const { doc } of [viaApi, viaReport]) {
      expect(doc.summary.users).toBe(SMALL);
      expect(doc.findings.map((f) => f.kind)).toEqual(twoActive.map(() => 'two-active'));
      expect(doc.findings.map((f) => f.userName).sort()).toEqual(twoActive);
    }
    expect(keyFacts(viaReport.doc)).toEqual(keyFacts(viaApi.doc));
    // The whole report's findings for 1,000 users, without shifted ages: the two-active ones only.
    const all = await auditJson(['--source', 'report', '--path-prefix', PATH], envFor(fresh.endpoint));
    expect(all.doc.findings.map((f) => f.userName).sort()).toEqual(twoActiveUsers());
  });

  it('auto: uses a fresh report; falls back to per-user calls with moto\'s 2015 report, saying why', async () => {
    fresh.reset();
    const asked = new Date();
    asked.setMilliseconds(0);
    const viaFresh = await auditJson(['--path-prefix', PATH], envFor(fresh.endpoint));
    expect(viaFresh.doc.source).toBe('credential-report');
    // The report this run asked for (moto's own is dated 2015), not an older one.
    expect(Date.parse(viaFresh.doc.reportGeneratedAt ?? '')).toBeGreaterThanOrEqual(asked.getTime());
    expect(fresh.counts().ListAccessKeys).toBeUndefined();

    const human = await audit(['--path-prefix', PATH], envFor(fresh.endpoint));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`${keyCount()} keys, ${USERS} users, ${twoActiveUsers().length} findings; source: credential report generated \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\n$`));

    const stale = await auditJson(['--path-prefix', SMALL_PATH]);
    expect(stale.doc).toMatchObject({ source: 'api', fallback: true });
    expect(stale.doc.sourceReason).toMatch(/^the credential report was generated at 2015-02-02T20:02:02\.000Z, \d+ days ago \(older than 4 h\)$/);
    expect(stale.doc.summary.users).toBe(SMALL);
    const staleHuman = await audit(['--path-prefix', SMALL_PATH, '--only-findings']);
    expect(staleHuman.stdout).toContain('; source: per-user calls (the credential report was not used: the credential report was generated at 2015-02-02');
  });

  it('auto falls back when the report is not allowed (AccessDenied), and says so', async () => {
    const proxy: FaultProxy = await startFaultProxy(endpoint);
    try {
      proxy.setRules([{ action: 'GenerateCredentialReport', fault: { kind: 'error', status: 403, code: 'AccessDenied', message: 'not authorized to perform iam:GenerateCredentialReport' } }]);
      const run = await auditJson(['--path-prefix', SMALL_PATH, '--only-findings'], envFor(proxy.endpoint));
      expect(run.doc).toMatchObject({ source: 'api', fallback: true, sourceReason: 'iam:GenerateCredentialReport was denied (AccessDenied)' });
      const twoActive = seeded.slice(0, SMALL).filter((u) => u.keys.filter((k) => k.active).length === 2);
      expect(run.doc.summary.findings).toBe(twoActive.length);
      expect(run.doc.keys).toHaveLength(twoActive.length * 2);
      expect(proxy.log.filter((e) => e.action === 'ListAccessKeys')).toHaveLength(SMALL);
      // --source report does not fall back: it fails, with the usual hint about permissions.
      const strict = await audit(['--path-prefix', SMALL_PATH, '--source', 'report'], envFor(proxy.endpoint));
      expect(strict.code).toBe(1);
      expect(strict.stderr).toMatch(/iam:GenerateCredentialReport was denied/);
      expect(strict.stderr).toMatch(/aws-rekey policy/);
    } finally {
      await proxy.stop();
    }
  });
});

describe('aws-rekey audit: narrowing, exit codes, formats', () => {
  it('--user narrows to those users, with per-user calls only for them', async () => {
    const a = seeded[10] as Seeded;
    const b = seeded[3] as Seeded;
    recorder.reset();
    const run = await auditJson(['--user', a.userName, '--user', b.userName], envFor(recorder.endpoint));
    expect(run.doc.source).toBe('api');
    expect(run.doc.sourceReason).toMatch(/--user names 2 users/);
    expect([...new Set(run.doc.keys.map((k) => k.userName))].sort()).toEqual([a.userName, b.userName].sort());
    expect(run.doc.keys.map((k) => k.accessKeyId).sort()).toEqual([...a.keys, ...b.keys].map((k) => k.accessKeyId).sort());
    expect(run.doc.summary).toEqual({ keys: 3, users: 2, findings: 1 });
    // user_arn filled as on the other paths: GetUser gives it (with the path) for each named user.
    const arnOf = Object.fromEntries(run.doc.keys.map((k) => [k.userName, k.userArn]));
    expect(arnOf[a.userName]).toMatch(new RegExp(`^arn:aws:iam::\\d{12}:user${SMALL_PATH}${a.userName}$`));
    expect(arnOf[b.userName]).toMatch(new RegExp(`^arn:aws:iam::\\d{12}:user${SMALL_PATH}${b.userName}$`));
    expect(recorder.counts()).toEqual({ GetUser: 2, ListAccessKeys: 2, GetAccessKeyLastUsed: 3 });

    const missing = await audit(['--user', a.userName, '--user', 'nobody-at-all']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No IAM user named nobody-at-all in the account.');
  });

  it('per-user calls ride out throttling and 5xx answers (SDK retries), with the same result', async () => {
    const proxy = await startFaultProxy(endpoint);
    try {
      const clean = await auditJson(['--source', 'api', '--path-prefix', SMALL_PATH]);
      proxy.setRules([
        { action: 'ListAccessKeys', fault: { kind: 'error', status: 400, code: 'Throttling', message: 'Rate exceeded' }, times: 8 },
        { action: 'GetAccessKeyLastUsed', fault: { kind: 'error', status: 503, code: 'ServiceUnavailable' }, times: 4 },
      ]);
      const run = await auditJson(['--source', 'api', '--path-prefix', SMALL_PATH], envFor(proxy.endpoint));
      expect(keyFacts(run.doc)).toEqual(keyFacts(clean.doc));
      expect(run.doc.summary).toEqual(clean.doc.summary);
      const statuses = (action: string) => proxy.log.filter((e) => e.action === action).map((e) => e.status);
      expect(statuses('ListAccessKeys').filter((status) => status === 400)).toHaveLength(8);
      expect(statuses('ListAccessKeys').filter((status) => status === 200)).toHaveLength(SMALL);
      expect(statuses('GetAccessKeyLastUsed').filter((status) => status === 503)).toHaveLength(4);
    } finally {
      await proxy.stop();
    }
  });

  it('--user with --path-prefix: only named users under the path', async () => {
    const inside = seeded[3] as Seeded;
    const outside = seeded[SMALL + 3] as Seeded;
    const run = await auditJson(['--user', inside.userName, '--path-prefix', SMALL_PATH]);
    expect(run.doc.keys.map((k) => k.userName)).toEqual([inside.userName]);
    const refused = await audit(['--user', outside.userName, '--path-prefix', SMALL_PATH]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`No IAM user named ${outside.userName} under the path ${SMALL_PATH}.`);
  });

  it('--fail exits 4 when there are findings, 0 when there are none', async () => {
    const twoActive = seeded[20] as Seeded;
    const single = seeded[1] as Seeded;
    const failing = await audit(['--user', twoActive.userName, '--fail']);
    expect(failing.code).toBe(4);
    expect(failing.stdout).toMatch(/two active/);
    expect(failing.stdout).toContain('2 keys, 1 user, 1 finding; source: per-user calls');
    const clean = await audit(['--user', single.userName, '--fail']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('1 key, 1 user, 0 findings');
    const aged = await auditJson(['--user', single.userName, '--fail', '--max-age', '30'], envFor(endpoint, shifted(31)));
    expect(aged.code).toBe(4);
    expect(aged.doc.findings.map((f) => f.kind)).toEqual(['old']);
    expect(aged.doc.keys[0]).toMatchObject({ accessKeyId: single.keys[0]?.accessKeyId, ageDays: 31, findings: ['old'] });
  });

  it('--csv: a header and one row per key; the summary goes to stderr', async () => {
    const run = await audit(['--path-prefix', SMALL_PATH, '--csv', '--source', 'api'], envFor(endpoint, shifted(50)));
    expect(run.code).toBe(0);
    const rows = parseCsv(run.stdout);
    expect(rows[0]).toEqual(['user', 'user_arn', 'access_key_id', 'key_slot', 'status', 'created', 'age_days', 'last_used', 'last_used_service', 'last_used_region', 'unused_days', 'findings']);
    const smallKeys = seeded.slice(0, SMALL).reduce((n, u) => n + u.keys.length, 0);
    expect(rows).toHaveLength(1 + smallKeys);
    const byKey = new Map(rows.slice(1).map((r) => [r[2], r]));
    const used = seeded[5]?.keys[0];
    expect(byKey.get(used?.accessKeyId)).toEqual([
      seeded[5]?.userName,
      `arn:aws:iam::123456789012:user${SMALL_PATH}${seeded[5]?.userName}`,
      used?.accessKeyId,
      '',
      'Active',
      expect.stringMatching(/^\d{4}-/),
      '50',
      expect.stringMatching(/^\d{4}-/),
      'sts',
      'us-east-1',
      '50',
      'unused',
    ]);
    expect(byKey.get(seeded[7]?.keys[1]?.accessKeyId)?.[4]).toBe('Inactive');
    expect(run.stderr).toMatch(new RegExp(`^${smallKeys} keys, ${SMALL} users, \\d+ findings; source: per-user calls\\n$`));
    expect((await audit(['--csv', '--json'])).code).toBe(2);
  });

  it('--csv: a user name a spreadsheet would evaluate (=…, +…, @…) is written as text, with a leading quote (OWASP)', async () => {
    const iam = iamClient(endpoint);
    const names = [`=HYPERLINK${Date.now()}`, `+cmd${Date.now()}`, `@SUM${Date.now()}`];
    for (const name of names) {
      await iam.send(new CreateUserCommand({ UserName: name, Path: `${PATH}formula/` }));
      await iam.send(new CreateAccessKeyCommand({ UserName: name }));
    }
    const run = await audit(['--path-prefix', `${PATH}formula/`, '--csv', '--source', 'api']);
    expect(run.code, run.stderr).toBe(0);
    const rows = parseCsv(run.stdout).slice(1);
    expect(rows.map((r) => r[0]).sort()).toEqual(names.map((n) => `'${n}`).sort());
    for (const row of rows) expect(row[1]).toMatch(/^arn:aws:iam::123456789012:user\//);
    // The human table shows whole key ids: an admin acts on them.
    const table = await audit(['--path-prefix', `${PATH}formula/`, '--source', 'api']);
    for (const row of rows) expect(table.stdout).toContain(row[2]);
  });

  it('root keys and the last-used service/region from a real-format report (moto\'s lacks them)', async () => {
    const proxy = await startFaultProxy(endpoint);
    try {
      const header =
        'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';
      const csv = [
        header,
        '<root_account>,arn:aws:iam::123456789012:root,2014-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,true,2020-01-01T00:00:00+00:00,2020-02-01T00:00:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
        'carol,arn:aws:iam::123456789012:user/carol,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-01-01T00:00:00+00:00,2024-06-01T12:00:00+00:00,ap-south-1,dynamodb,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
      ].join('\n');
      const ns = 'https://iam.amazonaws.com/doc/2010-05-08/';
      proxy.setRules([
        { action: 'GenerateCredentialReport', fault: { kind: 'respond', status: 200, body: `<GenerateCredentialReportResponse xmlns="${ns}"><GenerateCredentialReportResult><State>COMPLETE</State></GenerateCredentialReportResult></GenerateCredentialReportResponse>` } },
        {
          action: 'GetCredentialReport',
          fault: {
            kind: 'respond',
            status: 200,
            body: `<GetCredentialReportResponse xmlns="${ns}"><GetCredentialReportResult><Content>${Buffer.from(csv).toString('base64')}</Content><ReportFormat>text/csv</ReportFormat><GeneratedTime>${new Date().toISOString()}</GeneratedTime></GetCredentialReportResult></GetCredentialReportResponse>`,
          },
        },
      ]);
      const run = await auditJson(['--fail'], envFor(proxy.endpoint, { AWS_REKEY_NOW: '2025-01-01T00:00:00Z' }));
      expect(run.code).toBe(4);
      expect(run.doc.source).toBe('credential-report');
      expect(run.doc.summary).toEqual({ keys: 2, users: 1, findings: 3 });
      expect(findingFacts(run.doc)).toEqual(['old carol 2024-01-01T00:00:00', 'root-key <root_account> ', 'unused carol 2024-01-01T00:00:00']);
      expect(run.doc.keys[1]).toMatchObject({ userName: 'carol', lastUsedService: 'dynamodb', lastUsedRegion: 'ap-south-1', ageDays: 366 });
      expect(proxy.log.map((e) => e.action)).toEqual(['GenerateCredentialReport', 'GetCredentialReport']);

      const human = await audit([], envFor(proxy.endpoint, { AWS_REKEY_NOW: '2025-01-01T00:00:00Z' }));
      expect(human.stdout).toContain('<root_account>: The root user has 1 access key (1 active): delete it.');
      expect(human.stdout).toMatch(/^USER +KEY +STATUS +CREATED +AGE +LAST USED +SERVICE +REGION +FINDINGS$/m);
      expect(human.stdout).toMatch(/^carol +key 1 +Active +2024-01-01 +366 d +2024-06-01 12:00 +dynamodb +ap-south-1 +old, unused$/m);
    } finally {
      await proxy.stop();
    }
  });

  it('--profile may be a role profile (no long-lived key of its own): its credentials are used', async () => {
    const roleHome = await makeHome({
      endpoint,
      credentials: '[base]\naws_access_key_id = testing\naws_secret_access_key = testing\n',
      config: '[profile auditor-role]\nrole_arn = arn:aws:iam::123456789012:role/auditor\nsource_profile = base\n',
    });
    try {
      const single = seeded[1] as Seeded;
      const run = await runCli(['audit', '--profile', 'auditor-role', '--user', single.userName, '--json'], roleHome.env);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ credentialSource: 'profile auditor-role', summary: { keys: 1, users: 1 } });
      const missing = await runCli(['audit', '--profile', 'nope'], roleHome.env);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("The profile 'nope' is in neither");
    } finally {
      await roleHome.cleanup();
    }
  });
});

/** What NODE_V8_COVERAGE writes: per script, its functions and their block ranges (the first: the whole function). */
interface V8Coverage {
  result: Array<{ url: string; functions: Array<{ ranges: Array<{ startOffset: number; endOffset: number; count: number }> }> }>;
}

describe('aws-rekey policy', () => {
  it('prints the policy JSON alone on stdout', async () => {
    const run = await runCli(['policy', '--admin', '--mfa'], baseEnv());
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { Version: string; Statement: Array<{ Action: string[]; Condition?: unknown }> };
    expect(doc.Version).toBe('2012-10-17');
    expect(doc.Statement.flatMap((s) => s.Action)).toContain('iam:GenerateCredentialReport');
    expect(doc.Statement.filter((s) => s.Condition).flatMap((s) => s.Action).sort()).toEqual(['iam:CreateAccessKey', 'iam:DeleteAccessKey', 'iam:UpdateAccessKey']);
  });

  it('runs no AWS SDK code (and audit, as a check of the check, does)', async () => {
    // The CLI is one bundle (dist/bundle/cli.cjs); the SDK's modules in it are wrapped in functions that run only
    // when a command imports them. V8's coverage of a run (NODE_V8_COVERAGE; the CLI then runs without its code
    // cache) says which functions ran: none may lie in a module that esbuild's path comments place under
    // node_modules/@aws-sdk or @smithy.
    const bundle = join(ROOT, 'dist', 'bundle', 'cli.cjs');
    const text = readFileSync(bundle, 'latin1');
    const modules = [...text.matchAll(/^\/\/ (\S+)$/gm)].map((m) => ({ start: m.index ?? 0, path: m[1] ?? '' }));
    const moduleAt = (offset: number) => modules.findLast((m) => m.start <= offset);
    const dir = await mkdtemp(join(tmpdir(), 'aws-rekey-coverage-'));
    try {
      const sdkFunctions = (args: string[]) => {
        const coverage = join(dir, args[0] ?? '');
        const run = spawnSync(process.execPath, [BIN, ...args], { env: { ...baseEnv(), NODE_V8_COVERAGE: coverage }, encoding: 'utf8' });
        const scripts = readdirSync(coverage).flatMap((file) => (JSON.parse(readFileSync(join(coverage, file), 'utf8')) as V8Coverage).result);
        const cli = scripts.filter((script) => script.url === pathToFileURL(bundle).href);
        expect(cli).toHaveLength(1);
        const ran = (cli[0]?.functions ?? []).flatMap((f) => f.ranges.slice(0, 1)).filter((r) => r.count > 0);
        expect(ran.length).toBeGreaterThan(10);
        // A function inside one module (the bundle's own wrapper spans them all).
        const sdk = ran.filter((r) => moduleAt(r.startOffset) === moduleAt(r.endOffset - 1) && /node_modules\/(@aws-sdk|@smithy)\//.test(moduleAt(r.startOffset)?.path ?? ''));
        return { run, sdk };
      };
      const policy = sdkFunctions(['policy', '--admin']);
      expect(policy.run.status).toBe(0);
      expect(JSON.parse(policy.run.stdout).Statement).toHaveLength(3);
      expect(policy.sdk).toEqual([]);
      const audit = sdkFunctions(['audit', '--max-age', 'soon']);
      expect(audit.run.status).toBe(2);
      expect(audit.sdk.length).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
