import { auditAccount, type AuditProgress, type AuditResult, type AuditSourceOption } from '../../flows/audit.js';
import { ROOT_USER_NAME, type AuditedKey, type FindingKind } from '../../core/audit.js';
import { spreadsheetField } from '../../core/csv.js';
import { plural } from '../../core/plural.js';
import { ExitCode, UsageError } from '../../errors.js';
import { stripVTControlCharacters } from 'node:util';
import { mfaPrompt } from '../../rotation/runtime.js';
import { mfaCodeOf, testNow } from '../flags.js';
import { createPrompter, painter, useColor, type CliStreams } from '../io.js';

export interface AuditFlags {
  profile?: string;
  authProfile?: string;
  mfaCode?: string;
  source?: AuditSourceOption;
  user?: string[];
  pathPrefix?: string;
  maxAge?: string;
  maxUnused?: string;
  onlyFindings?: boolean;
  json?: boolean;
  csv?: boolean;
  fail?: boolean;
}

export async function runAudit(flags: AuditFlags, streams: CliStreams): Promise<number> {
  const progress = createProgress(streams.stderr);
  const prompter = createPrompter(streams, !flags.json && !flags.csv);
  let result: AuditResult;
  try {
    result = await auditAccount(
      {
        profile: flags.profile,
        authProfile: flags.authProfile,
        mfaCode: mfaCodeOf(flags),
        env: streams.env,
        source: flags.source ?? 'auto',
        users: flags.user,
        pathPrefix: flags.pathPrefix,
        maxAgeDays: wholeDays('--max-age', flags.maxAge),
        maxUnusedDays: wholeDays('--max-unused', flags.maxUnused),
        now: testNow(streams.env),
      },
      {
        onProgress: progress.update,
        mfaCodeProvider: mfaPrompt(prompter),
      },
    );
  } finally {
    progress.done();
  }
  for (const warning of result.warnings) streams.stderr.write(`warning: ${warning}\n`);
  const shown = flags.onlyFindings ? result.keys.filter((key) => key.findings.length > 0) : result.keys;
  if (flags.json) {
    streams.stdout.write(`${JSON.stringify({ ok: true, ...result, keys: shown }, null, 2)}\n`);
  } else if (flags.csv) {
    streams.stdout.write(renderAuditCsv(result, shown));
    streams.stderr.write(`${summaryLine(result)}\n`);
  } else {
    streams.stdout.write(renderAuditTable(result, shown, useColor(streams.stdout, streams.env)));
  }
  return flags.fail && result.findings.length > 0 ? ExitCode.findings : ExitCode.ok;
}

function wholeDays(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isInteger(number) || number < 0) {
    throw new UsageError(`${flag} expects a whole number of days, not '${value}'.`, `For example: ${flag} 90.`);
  }
  return number;
}

const FINDING_LABELS: Record<FindingKind, string> = {
  old: 'old',
  unused: 'unused',
  'two-active': 'two active',
  'root-key': 'root key',
};

export function sourceText(result: AuditResult): string {
  if (result.source === 'credential-report') {
    const at = result.reportGeneratedAt ? ` generated ${formatMinute(result.reportGeneratedAt)} UTC` : '';
    return `credential report${at}`;
  }
  const why = result.fallback ? ` (the credential report was not used: ${result.sourceReason})` : '';
  return `per-user calls${why}`;
}

export function summaryLine(result: AuditResult): string {
  const { keys, users, findings } = result.summary;
  return `${plural(keys, 'key')}, ${plural(users, 'user')}, ${plural(findings, 'finding')}; source: ${sourceText(result)}`;
}

function keyLabel(key: AuditedKey): string {
  // The whole id: an admin acts on it, and a key id is no secret.
  if (key.accessKeyId) return key.accessKeyId;
  return key.slot ? `key ${key.slot}` : '-';
}

export function renderAuditTable(result: AuditResult, keys: AuditedKey[], color: boolean): string {
  const paint = painter(color);
  const rows: string[][] = [];
  for (const key of keys) {
    const flagged = (kind: FindingKind, text: string) => (key.findings.includes(kind) ? paint('red', text) : text);
    rows.push([
      key.findings.length ? paint('bold', key.userName) : key.userName,
      keyLabel(key),
      key.active ? paint('green', 'Active') : paint('yellow', 'Inactive'),
      key.createDate ? key.createDate.toISOString().slice(0, 10) : '-',
      flagged('old', key.ageDays === undefined ? '-' : `${key.ageDays} d`),
      flagged('unused', key.lastUsedDate ? formatMinute(key.lastUsedDate) : 'never'),
      key.lastUsedService ?? '-',
      key.lastUsedRegion ?? '-',
      key.findings.length ? paint('red', key.findings.map((k) => FINDING_LABELS[k]).join(', ')) : paint('dim', 'ok'),
    ]);
  }
  const lines: string[] = [];
  if (keys.length > 0) {
    const head = ['USER', 'KEY', 'STATUS', 'CREATED', 'AGE', 'LAST USED', 'SERVICE', 'REGION', 'FINDINGS'];
    lines.push(renderColumns(head.map((h) => paint('bold', h)), rows));
  }
  else lines.push(result.keys.length > 0 ? 'No key has a finding.' : 'No access keys.');
  if (result.findings.length > 0) {
    const counts = new Map<FindingKind, number>();
    for (const finding of result.findings) counts.set(finding.kind, (counts.get(finding.kind) ?? 0) + 1);
    const byKind = [...counts].map(([kind, n]) => `${FINDING_LABELS[kind]}: ${n}`).join(', ');
    lines.push(`Findings (${byKind}); thresholds: rotate within ${plural(result.thresholds.maxAgeDays, 'day')}, disable after ${plural(result.thresholds.maxUnusedDays, 'day')} unused.`);
    const root = result.findings.find((f) => f.kind === 'root-key');
    if (root) lines.push(paint('red', `${ROOT_USER_NAME}: ${root.message}`));
  }
  const summary = summaryLine(result);
  lines.push(result.findings.length > 0 ? paint('bold', summary) : summary);
  return `${lines.join('\n')}\n`;
}

/**
 * Aligned columns without borders, in linear time: cli-table3 (used by `keys`) needs over a minute for
 * the 12,000 rows of a large account.
 */
export function renderColumns(head: string[], rows: string[][]): string {
  const width = (text: string) => (text.includes('\u001b') ? stripVTControlCharacters(text).length : text.length);
  const all = [head, ...rows];
  const sizes = all.map((cells) => cells.map(width));
  const widths = head.map((_, i) => sizes.reduce((max, row) => Math.max(max, row[i] ?? 0), 0));
  return all
    .map((cells, r) =>
      cells
        .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - (sizes[r]?.[i] ?? 0))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const CSV_COLUMNS = [
  'user',
  'user_arn',
  'access_key_id',
  'key_slot',
  'status',
  'created',
  'age_days',
  'last_used',
  'last_used_service',
  'last_used_region',
  'unused_days',
  'findings',
] as const;

/** One row per key; findings are `;`-separated kinds. A root user known only from GetAccountSummary gets a row of its own. */
export function renderAuditCsv(result: AuditResult, keys: AuditedKey[]): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  const iso = (date: Date | undefined) => (date ? date.toISOString() : '');
  for (const key of keys) {
    rows.push([
      key.userName,
      key.userArn ?? '',
      key.accessKeyId ?? '',
      key.slot ? String(key.slot) : '',
      key.active ? 'Active' : 'Inactive',
      iso(key.createDate),
      key.ageDays === undefined ? '' : String(key.ageDays),
      iso(key.lastUsedDate),
      key.lastUsedService ?? '',
      key.lastUsedRegion ?? '',
      key.unusedDays === undefined ? '' : String(key.unusedDays),
      key.findings.join(';'),
    ]);
  }
  if (result.findings.some((f) => f.kind === 'root-key') && !result.keys.some((k) => k.root)) {
    rows.push([ROOT_USER_NAME, '', '', '', '', '', '', '', '', '', '', 'root-key']);
  }
  return rows.map((row) => row.map(spreadsheetField).join(',')).join('\n') + '\n';
}

function formatMinute(date: Date): string {
  return date.toISOString().slice(0, 16).replace('T', ' ');
}

/** A one-line counter on stderr, redrawn at most ten times a second; only on a terminal, only for runs longer than a moment. */
export function createProgress(
  stderr: Pick<NodeJS.WriteStream, 'isTTY' | 'write'>,
  clock: () => number = Date.now,
): { update: (progress: AuditProgress) => void; done: () => void } {
  if (!stderr.isTTY) return { update: () => undefined, done: () => undefined };
  const started = clock();
  let last = 0;
  let drawn = false;
  return {
    update(progress) {
      const now = clock();
      if (now - started < 400 || now - last < 100) return;
      last = now;
      const text =
        progress.phase === 'report'
          ? 'waiting for IAM to generate the credential report…'
          : progress.phase === 'users'
            ? `listing users… ${progress.done}`
            : `reading keys… ${progress.done}/${progress.total ?? '?'} users`;
      stderr.write(`\r\x1b[2K${text}`);
      drawn = true;
    },
    done() {
      if (drawn) stderr.write('\r\x1b[2K');
    },
  };
}
