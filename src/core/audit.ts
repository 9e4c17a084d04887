import { plural } from './plural.js';

/**
 * The audit's rules, as pure functions: key records in, findings out. The rules follow the CIS AWS
 * Foundations Benchmark: rotate keys within 90 days, disable keys unused for 45 days, one active key per
 * user, no access keys for the root user. `now` is a parameter, never the clock.
 */

export const ROOT_USER_NAME = '<root_account>';

export type AuditSource = 'credential-report' | 'api';

export type FindingKind = 'old' | 'unused' | 'two-active' | 'root-key';

/** One access key, from either source. The credential report has no key ids; the per-user calls do. */
export interface AuditKeyRecord {
  userName: string;
  userArn?: string;
  /** True for the account's root user (its keys are a finding whatever their state). */
  root?: boolean;
  /** Absent when the source is the credential report: it does not list key ids. */
  accessKeyId?: string;
  /** Position in the credential report (access_key_1 / access_key_2). */
  slot?: 1 | 2;
  active: boolean;
  createDate?: Date;
  lastUsedDate?: Date;
  lastUsedService?: string;
  lastUsedRegion?: string;
}

/** What a source collected: every key, how many users were looked at, and whether the root user has keys. */
export interface AuditInventory {
  source: AuditSource;
  /** Users looked at (with or without keys), not counting the root user. */
  userCount: number;
  keys: AuditKeyRecord[];
  /** From GetAccountSummary (AccountAccessKeysPresent) or the report's root row; undefined when not checked. */
  rootKeysPresent?: boolean;
}

export interface AuditThresholds {
  /** An active key older than this many whole days is due for rotation (default 90). */
  maxAgeDays: number;
  /** An active key unused for at least this many whole days should be disabled (default 45). */
  maxUnusedDays: number;
}

export const DEFAULT_THRESHOLDS: AuditThresholds = { maxAgeDays: 90, maxUnusedDays: 45 };

export interface Finding {
  kind: FindingKind;
  userName: string;
  accessKeyId?: string;
  /** Identifies a key when there is no key id (credential report): its creation time. */
  keyCreated?: Date;
  /** For a person: what is wrong, and the figure behind it. */
  message: string;
}

export interface AuditedKey extends AuditKeyRecord {
  /** Whole days since creation; undefined when the creation date is unknown. */
  ageDays?: number;
  /** Whole days since last use, or since creation for a key never used. */
  unusedDays?: number;
  /** The kinds of finding that concern this key (user-level ones included, e.g. two-active). */
  findings: FindingKind[];
}

export interface AuditReport {
  source: AuditSource;
  thresholds: AuditThresholds;
  now: Date;
  summary: { keys: number; users: number; findings: number };
  keys: AuditedKey[];
  findings: Finding[];
}

const DAY_MS = 86_400_000;

export function wholeDaysBetween(from: Date, to: Date): number {
  return Math.max(0, Math.floor((to.getTime() - from.getTime()) / DAY_MS));
}

/** Applies the rules to every key. Keys come out sorted by user, then creation date; findings in the same order. */
export function auditKeys(inventory: AuditInventory, now: Date, thresholds: AuditThresholds = DEFAULT_THRESHOLDS): AuditReport {
  const records = [...inventory.keys].sort(compareRecords);
  const activeByUser = new Map<string, number>();
  for (const key of records) {
    if (key.active && !key.root) activeByUser.set(key.userName, (activeByUser.get(key.userName) ?? 0) + 1);
  }

  const findings: Finding[] = [];
  const keys: AuditedKey[] = [];
  const reportedTwoActive = new Set<string>();
  const rootKeys = records.filter((key) => key.root);
  const rootPresent = inventory.rootKeysPresent === true || rootKeys.length > 0;
  if (rootPresent) {
    const count = rootKeys.length;
    findings.push({
      kind: 'root-key',
      userName: ROOT_USER_NAME,
      message:
        count > 0
          ? `The root user has ${plural(count, 'access key')} (${rootKeys.filter((k) => k.active).length} active): delete ${count === 1 ? 'it' : 'them'}.`
          : 'The root user has access keys: delete them.',
    });
  }

  for (const record of records) {
    const since = record.lastUsedDate ?? record.createDate;
    const audited: AuditedKey = {
      ...record,
      ...(record.createDate ? { ageDays: wholeDaysBetween(record.createDate, now) } : {}),
      ...(since ? { unusedDays: wholeDaysBetween(since, now) } : {}),
      findings: [],
    };

    if (record.root) {
      audited.findings.push('root-key');
      keys.push(audited);
      continue;
    }
    const subject = { userName: record.userName, accessKeyId: record.accessKeyId, keyCreated: record.createDate };
    if (record.active && audited.ageDays !== undefined && audited.ageDays > thresholds.maxAgeDays) {
      audited.findings.push('old');
      findings.push({ kind: 'old', ...subject, message: `Active key is ${plural(audited.ageDays, 'day')} old (rotate within ${thresholds.maxAgeDays}).` });
    }
    if (record.active && audited.unusedDays !== undefined && audited.unusedDays >= thresholds.maxUnusedDays) {
      audited.findings.push('unused');
      const what = record.lastUsedDate ? `unused for ${plural(audited.unusedDays, 'day')}` : `never used in the ${plural(audited.unusedDays, 'day')} since it was created`;
      findings.push({ kind: 'unused', ...subject, message: `Active key ${what} (disable after ${thresholds.maxUnusedDays}).` });
    }
    if (record.active && (activeByUser.get(record.userName) ?? 0) > 1) {
      audited.findings.push('two-active');
      if (!reportedTwoActive.has(record.userName)) {
        reportedTwoActive.add(record.userName);
        findings.push({ kind: 'two-active', userName: record.userName, message: 'The user has two active keys (keep one).' });
      }
    }
    keys.push(audited);
  }

  return {
    source: inventory.source,
    thresholds,
    now,
    summary: { keys: keys.length, users: inventory.userCount, findings: findings.length },
    keys,
    findings,
  };
}

function compareRecords(a: AuditKeyRecord, b: AuditKeyRecord): number {
  if (Boolean(a.root) !== Boolean(b.root)) return a.root ? -1 : 1;
  if (a.userName < b.userName) return -1;
  if (a.userName > b.userName) return 1;
  const at = a.createDate?.getTime() ?? 0;
  const bt = b.createDate?.getTime() ?? 0;
  if (at !== bt) return at - bt;
  return (a.accessKeyId ?? '').localeCompare(b.accessKeyId ?? '') || (a.slot ?? 0) - (b.slot ?? 0);
}

/** `/team/` matches ARNs `…:user/team/alice` and `…:user/team/sub/bob`, as IAM's PathPrefix does. */
export function userPathOfArn(arn: string): string | undefined {
  const match = /^arn:[^:]+:iam::\d*:user(\/.*)$/.exec(arn);
  if (!match?.[1]) return undefined;
  const resource = match[1];
  return resource.slice(0, resource.lastIndexOf('/') + 1);
}
