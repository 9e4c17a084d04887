import { mapBounded } from '../core/map-bounded.js';
import { createAuditIamApi, type AuditIamApi, type IamUser } from '../aws/audit-api.js';
import {
  DEFAULT_THRESHOLDS,
  auditKeys,
  userPathOfArn,
  type AuditInventory,
  type AuditKeyRecord,
  type AuditReport,
  type AuditSource,
  type AuditThresholds,
} from '../core/audit.js';
import { CredentialReportFormatError, parseCredentialReport } from '../core/credential-report.js';
import { AwsError, ExitCode, RekeyError, UsageError } from '../errors.js';

export type AuditSourceOption = 'auto' | 'report' | 'api';

export interface AuditOptions {
  /** The profile whose credentials call IAM (any kind of credentials). */
  profile?: string;
  authProfile?: string;
  /** The current code of the MFA device the profile's role is assumed with (mfa_serial); else `mfaCodeProvider` asks. */
  mfaCode?: string;
  env?: NodeJS.ProcessEnv;
  /** auto (default): the credential report when it is allowed and fresh, else per-user calls. */
  source?: AuditSourceOption;
  /** Audit only these users. */
  users?: string[];
  /** Audit only users whose path starts with this (IAM's PathPrefix, e.g. `/engineering/`). */
  pathPrefix?: string;
  maxAgeDays?: number;
  maxUnusedDays?: number;
  /** "Now" for key ages. */
  now?: Date;
  /** Parallel IAM calls on the per-user path (default 16). */
  concurrency?: number;
  /** A credential report older than this is not used by `auto` (default 4 hours, as IAM regenerates then). */
  reportMaxAgeMs?: number;
  /** How long to wait for IAM to generate the report (default 120 s). */
  reportTimeoutMs?: number;
}

export interface AuditProgress {
  phase: 'report' | 'users' | 'keys';
  done: number;
  /** Unknown while users are still being listed. */
  total?: number;
}

export interface AuditDeps {
  /** The IAM calls; by default made with the profile's credentials. */
  api?: AuditIamApi;
  /** Real time, for the age of the credential report (`now` may be shifted; this is not). */
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (progress: AuditProgress) => void;
  mfaCodeProvider?: (serial: string) => Promise<string>;
}

export interface AuditResult extends AuditReport {
  schemaVersion: 1;
  /** Why this source: asked for, why the credential report, or why not the report (`fallback`). */
  sourceReason: string;
  /** True when the credential report was tried and could not be used. */
  fallback: boolean;
  /** When IAM generated the credential report (source credential-report). */
  reportGeneratedAt?: Date;
  /** Whose credentials made the calls. */
  credentialSource?: string;
  scope: { users?: string[]; pathPrefix?: string };
  warnings: string[];
}

const DEFAULT_CONCURRENCY = 16;
const REPORT_MAX_AGE_MS = 4 * 3_600_000;
const REPORT_TIMEOUT_MS = 120_000;
/** Audits read a lot: more patient retries than a rotation's, with the SDK's adaptive rate limiting. */
const AUDIT_MAX_ATTEMPTS = 10;

/** Every IAM user's access keys (or those asked for) against the rules, from the credential report or per-user calls. */
export async function auditAccount(options: AuditOptions = {}, deps: AuditDeps = {}): Promise<AuditResult> {
  const thresholds: AuditThresholds = {
    maxAgeDays: options.maxAgeDays ?? DEFAULT_THRESHOLDS.maxAgeDays,
    maxUnusedDays: options.maxUnusedDays ?? DEFAULT_THRESHOLDS.maxUnusedDays,
  };
  for (const [flag, value] of [
    ['--max-age', thresholds.maxAgeDays],
    ['--max-unused', thresholds.maxUnusedDays],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) throw new UsageError(`${flag} must be a whole number of days, not ${value}.`);
  }
  const source = options.source ?? 'auto';
  if (!['auto', 'report', 'api'].includes(source)) throw new UsageError(`--source must be auto, report or api, not '${source}'.`);
  if (options.pathPrefix !== undefined && !/^\/(.*\/)?$/.test(options.pathPrefix)) {
    throw new UsageError(`--path-prefix must start and end with '/', like /engineering/, not '${options.pathPrefix}'.`);
  }
  const users = options.users?.length ? [...new Set(options.users.map((u) => u.trim()).filter(Boolean))] : undefined;

  if (deps.api) return runAudit(deps.api, undefined);
  // Loaded only here: callers that bring their own IAM calls (the organisation's handlers) need no profile code.
  const { openAccountContext } = await import('../session/account-context.js');
  const { withGetUser } = await import('../aws/audit-user.js');
  const ctx = await openAccountContext({
    profile: options.profile,
    authProfile: options.authProfile,
    env: options.env,
    mfaCode: options.mfaCode,
    mfaCodeProvider: deps.mfaCodeProvider,
    defaultMaxAttempts: AUDIT_MAX_ATTEMPTS,
  });
  try {
    const client = ctx.factory.iam(ctx.credentials, { retryMode: 'adaptive' });
    const api = withGetUser(createAuditIamApi(client), client);
    return await runAudit(api, ctx.credentialSource);
  } finally {
    ctx.destroy();
  }

  async function runAudit(api: AuditIamApi, credentialSource: string | undefined): Promise<AuditResult> {
    const now = options.now ?? new Date();
    const warnings: string[] = [];
    const scope = { ...(users ? { users } : {}), ...(options.pathPrefix ? { pathPrefix: options.pathPrefix } : {}) };
    const collector = { api, deps, options, users, warnings };
    let inventory: AuditInventory;
    let sourceReason: string;
    let fallback = false;
    let reportGeneratedAt: Date | undefined;

    if (source === 'api' || (source === 'auto' && users)) {
      sourceReason = source === 'api' ? 'asked for (--source api)' : `--user names ${users?.length} user${users?.length === 1 ? '' : 's'}: per-user calls cost less than a report`;
      inventory = await collectFromApi(collector);
    } else {
      const attempt = await collectFromReport(collector, source === 'report');
      if (attempt.inventory) {
        inventory = attempt.inventory;
        reportGeneratedAt = attempt.generatedAt;
        sourceReason = source === 'report' ? 'asked for (--source report)' : attempt.reason;
      } else {
        sourceReason = attempt.reason;
        fallback = true;
        inventory = await collectFromApi(collector);
      }
    }

    const report = auditKeys(inventory, now, thresholds);
    return {
      schemaVersion: 1,
      source: report.source,
      sourceReason,
      fallback,
      ...(reportGeneratedAt ? { reportGeneratedAt } : {}),
      ...(credentialSource ? { credentialSource } : {}),
      now: report.now,
      thresholds: report.thresholds,
      scope,
      summary: report.summary,
      findings: report.findings,
      keys: report.keys,
      warnings,
    };
  }
}

interface Collector {
  api: AuditIamApi;
  deps: AuditDeps;
  options: AuditOptions;
  users?: string[];
  warnings: string[];
}

interface ReportAttempt {
  inventory?: AuditInventory;
  generatedAt?: Date;
  /** Why the report was used, or why not. */
  reason: string;
}

/** Errors that mean "the report cannot be had", after which per-user calls may still work. */
function reportUnavailable(error: unknown): string | undefined {
  if (error instanceof CredentialReportFormatError) return error.message;
  if (error instanceof AwsError) {
    if (error.code === 'ACCESS_DENIED') return `${error.action} was denied (${error.awsCode})`;
    if (['CredentialReportExpiredException', 'CredentialReportNotPresentException', 'ReportExpired', 'ReportNotPresent'].includes(error.awsCode)) {
      return `${error.action}: ${error.awsCode}`;
    }
  }
  return undefined;
}

async function collectFromReport(c: Collector, required: boolean): Promise<ReportAttempt> {
  const clock = c.deps.clock ?? (() => new Date());
  const sleep = c.deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timeoutMs = c.options.reportTimeoutMs ?? REPORT_TIMEOUT_MS;
  const maxAgeMs = c.options.reportMaxAgeMs ?? REPORT_MAX_AGE_MS;
  const started = clock().getTime();
  let fetched: { csv: string; generatedAt?: Date } | undefined;
  try {
    // GenerateCredentialReport starts a report when none younger than 4 hours exists, and says COMPLETE
    // once one is ready; calling it again is how IAM's documentation says to wait.
    let polls = 0;
    let state = await c.api.generateCredentialReport();
    for (;;) {
      c.deps.onProgress?.({ phase: 'report', done: polls });
      if (state === 'COMPLETE') {
        fetched = await c.api.getCredentialReport();
        if (fetched) break;
      }
      if (clock().getTime() - started > timeoutMs) {
        const reason = `IAM had not finished the credential report after ${Math.round(timeoutMs / 1000)} s`;
        if (required) throw new RekeyError('CREDENTIAL_REPORT_TIMEOUT', `${reason}.`, { hint: 'Run the audit again in a minute, or use --source api.' });
        return { reason };
      }
      polls += 1;
      await sleep(Math.min(500 * 2 ** Math.min(polls - 1, 3), 4_000));
      state = await c.api.generateCredentialReport();
    }
  } catch (error) {
    const reason = reportUnavailable(error);
    if (required || reason === undefined) throw error;
    return { reason };
  }

  let rows;
  try {
    rows = parseCredentialReport(fetched.csv);
  } catch (error) {
    if (required || !(error instanceof CredentialReportFormatError)) throw error;
    return { reason: error.message };
  }
  const generatedAt = fetched.generatedAt;
  const ageMs = generatedAt ? clock().getTime() - generatedAt.getTime() : undefined;
  const staleText =
    ageMs === undefined ? 'the credential report has no generation time' : ageMs > maxAgeMs ? `the credential report was generated at ${generatedAt?.toISOString()}, ${describeAge(ageMs)} ago` : undefined;
  if (staleText) {
    if (!required) return { reason: `${staleText} (older than ${describeAge(maxAgeMs)})` };
    c.warnings.push(`${staleText}: keys created, deleted or used since then are not reflected.`);
  }

  const { users, options } = c;
  const wanted = users ? new Set(users) : undefined;
  const userRows = rows.filter((row) => !row.root);
  const selected = userRows.filter((row) => {
    if (wanted && !wanted.has(row.user)) return false;
    if (options.pathPrefix && !(userPathOfArn(row.arn) ?? '/').startsWith(options.pathPrefix)) return false;
    return true;
  });
  if (wanted) {
    const found = new Set(selected.map((row) => row.user));
    const missing = [...wanted].filter((name) => !found.has(name));
    if (missing.length > 0) throw noSuchUsers(missing, 'in the credential report');
  }
  const keys: AuditKeyRecord[] = selected.flatMap((row) => row.keys);
  const wholeAccount = !users && !options.pathPrefix;
  let rootKeysPresent: boolean | undefined;
  if (wholeAccount) {
    const rootRow = rows.find((row) => row.root);
    if (rootRow) {
      keys.push(...rootRow.keys);
      rootKeysPresent = rootRow.keys.length > 0;
    } else {
      // IAM's report always has the <root_account> row; an implementation without it (moto) still gets the answer.
      rootKeysPresent = await checkRootKeys(c);
    }
  }
  const reason = `the credential report generated at ${generatedAt?.toISOString() ?? 'an unknown time'}`;
  return { inventory: { source: 'credential-report', userCount: selected.length, keys, rootKeysPresent }, generatedAt, reason };
}

async function checkRootKeys(c: Collector): Promise<boolean | undefined> {
  try {
    return await c.api.rootKeysPresent();
  } catch (error) {
    if (error instanceof AwsError && error.code === 'ACCESS_DENIED') {
      c.warnings.push(`Could not check the root user's keys: ${error.action} was denied.`);
      return undefined;
    }
    throw error;
  }
}

function noSuchUsers(names: string[], where: string): RekeyError {
  return new RekeyError('NO_SUCH_USER', `No IAM user named ${names.join(', ')} ${where}.`, {
    hint: 'Check the names given with --user (IAM user names are case-sensitive, without the path).',
    exitCode: ExitCode.usage,
  });
}

async function collectFromApi(c: Collector): Promise<AuditInventory> {
  const { api, users, options } = c;
  const progress = c.deps.onProgress;
  let targets: Array<Pick<IamUser, 'userName'> & Partial<IamUser>>;
  if (users && !options.pathPrefix) {
    targets = users.map((userName) => ({ userName }));
  } else {
    targets = [];
    let marker: string | undefined;
    do {
      const page = await api.listUsers({ pathPrefix: options.pathPrefix, marker });
      targets.push(...page.users);
      marker = page.marker;
      progress?.({ phase: 'users', done: targets.length });
    } while (marker);
    if (users) {
      // Both --user and --path-prefix: the named users, who must be under the path.
      const wanted = new Set(users);
      targets = targets.filter((user) => wanted.has(user.userName));
      const found = new Set(targets.map((user) => user.userName));
      const absent = users.filter((name) => !found.has(name));
      if (absent.length > 0) throw noSuchUsers(absent.sort(), `under the path ${options.pathPrefix}`);
    }
  }

  const missing: string[] = [];
  let audited = 0;
  let done = 0;
  const perUser = await mapBounded(targets, options.concurrency ?? DEFAULT_CONCURRENCY, async (user) => {
    let keys;
    let arn = user.arn;
    try {
      // Named with --user alone: GetUser gives the ARN (with the user's path) that ListUsers gives otherwise.
      if (!arn && api.getUser) arn = (await api.getUser(user.userName)).arn;
      keys = await api.listAccessKeys(user.userName);
    } catch (error) {
      if (error instanceof AwsError && error.code === 'NO_SUCH_ENTITY') {
        // Named with --user but absent; or deleted since ListUsers, which is no finding.
        if (users) missing.push(user.userName);
        return [];
      }
      throw error;
    }
    audited += 1;
    const records: AuditKeyRecord[] = [];
    for (const key of keys) {
      let used;
      try {
        used = await api.getAccessKeyLastUsed(key.accessKeyId, user.userName);
      } catch (error) {
        if (error instanceof AwsError && error.code === 'NO_SUCH_ENTITY') continue; // deleted meanwhile
        throw error;
      }
      const record: AuditKeyRecord = { userName: user.userName, accessKeyId: key.accessKeyId, active: key.status === 'Active' };
      if (arn) record.userArn = arn;
      if (key.createDate) record.createDate = key.createDate;
      if (used.date) record.lastUsedDate = used.date;
      if (used.serviceName) record.lastUsedService = used.serviceName;
      if (used.region) record.lastUsedRegion = used.region;
      records.push(record);
    }
    done += 1;
    progress?.({ phase: 'keys', done, total: targets.length });
    return records;
  });
  if (missing.length > 0) throw noSuchUsers(missing.sort(), 'in the account');
  const wholeAccount = !users && !options.pathPrefix;
  return {
    source: 'api' satisfies AuditSource,
    userCount: audited,
    keys: perUser.flat(),
    rootKeysPresent: wholeAccount ? await checkRootKeys(c) : undefined,
  };
}


function describeAge(ms: number): string {
  const hours = ms / 3_600_000;
  if (hours < 48) return `${Math.round(hours * 10) / 10} h`;
  return `${Math.floor(hours / 24)} days`;
}
