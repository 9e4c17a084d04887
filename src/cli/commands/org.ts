import { spreadsheetField } from '../../core/csv.js';
import { isoDay } from '../../core/org-decision.js';
import { maskKeyId } from '../../core/mask.js';
import { plural } from '../../core/plural.js';
import type { OrgDigest, OrgMode, OrgPolicyInput } from '../../core/org-policy.js';
import { ExitCode, UsageError } from '../../errors.js';
import { checkOrgRun, openOrgContext, runOrg, type OrgRunOptions, type OrgRunResult } from '../../flows/org.js';
import { mfaPrompt } from '../../rotation/runtime.js';
import { DEFAULT_VERIFY_OPTIONS } from '../../rotation/verify.js';
import { createPrompter, painter, useColor, type CliStreams } from '../io.js';
import { mfaCodeOf, testNow, verifyOptionsFromFlags, type VerifyFlags } from '../flags.js';
import { renderColumns } from './audit.js';

export interface OrgFlags extends Partial<VerifyFlags> {
  profile?: string;
  mfaCode?: string;
  role?: string;
  mode?: OrgMode;
  rotateAfter?: string;
  deactivateAfter?: string;
  deleteAfter?: string;
  warnBefore?: string;
  unusedAfter?: string;
  exemptGroup?: string[];
  includeAccount?: string[];
  excludeAccount?: string[];
  includeOu?: string[];
  excludeOu?: string[];
  topicArn?: string;
  mailFrom?: string;
  digest?: OrgDigest;
  digestTo?: string[];
  json?: boolean;
  csv?: boolean;
  fail?: boolean;
  all?: boolean;
  yes?: boolean;
  dryRun?: boolean;
}

/**
 * `org report` (mode report) and `org run --mode notify|enforce`: the plan (the run's decisions, nothing changed
 * or sent) → confirm on a terminal, or `--yes` → the run; `--dry-run` stops after the plan.
 */
export async function runOrgCommand(flags: OrgFlags, streams: CliStreams): Promise<number> {
  const mode = flags.mode ?? 'report';
  const changes = mode !== 'report';
  const prompter = createPrompter(streams, !flags.json && !flags.csv);
  if (changes && !flags.yes && !flags.dryRun && !prompter.interactive) {
    throw new UsageError(
      `org run --mode ${mode} ${mode === 'enforce' ? 'changes keys and ' : ''}sends events and mails, and there is no terminal to confirm it on: add --yes to go ahead.`,
      `See what it would do first: the same command with --dry-run (or aws-rekey org report). Nothing was changed.`,
    );
  }
  const mfaCode = mfaCodeOf(flags);
  const options: OrgRunOptions = {
    profile: flags.profile,
    env: streams.env,
    ...(flags.role !== undefined ? { role: flags.role } : {}),
    policy: policyFromFlags(flags, mode),
    ...(flags.topicArn ? { topicArn: flags.topicArn } : {}),
    ...(flags.mailFrom ? { mailFrom: flags.mailFrom } : {}),
    ...(testNow(streams.env) ? { now: testNow(streams.env) } : {}),
    ...(flags.verifyTimeout !== undefined && flags.verifySuccesses !== undefined
      ? { verify: { ...DEFAULT_VERIFY_OPTIONS, ...verifyOptionsFromFlags({ verifyTimeout: flags.verifyTimeout, verifySuccesses: flags.verifySuccesses }) } }
      : {}),
    ...(flags.all ? { listAll: true } : {}),
  };
  checkOrgRun(options);
  // One caller for the plan and the run: a role assumed with an MFA code is assumed (and the code asked for) once.
  const context = await openOrgContext({ profile: flags.profile, env: streams.env, ...(mfaCode ? { mfaCode } : {}), mfaCodeProvider: mfaPrompt(prompter) });
  try {
    if (changes && (flags.dryRun || !flags.yes)) {
      const plan = await runOrg({ ...options, context, dryRun: true });
      if (flags.dryRun) return printResult(plan, flags, streams);
      streams.stdout.write(renderOrgTable(plan, useColor(streams.stdout, streams.env)));
      if (!(await prompter.confirm(confirmQuestion(mode, plan.summary.due)))) {
        streams.stderr.write('Nothing was changed or sent.\n');
        return ExitCode.ok;
      }
    }
    return printResult(await runOrg({ ...options, context }), flags, streams);
  } finally {
    context.destroy();
  }
}

/** What `org run` asks on a terminal, below the plan, before it changes or sends anything. */
export function confirmQuestion(mode: OrgMode, due: OrgRunResult['summary']['due']): string {
  if (mode !== 'enforce') return 'Send the events and mails for the keys above?';
  return `Rotate ${plural(due.rotate, 'key')}, deactivate ${plural(due.deactivate, 'key')} and delete ${plural(due.delete, 'key')} as above, and send the events and mails?`;
}

function printResult(result: OrgRunResult, flags: OrgFlags, streams: CliStreams): number {
  if (flags.json) streams.stdout.write(`${JSON.stringify({ ok: result.summary.failedAccounts === 0, ...result }, null, 2)}\n`);
  else if (flags.csv) streams.stdout.write(renderOrgCsv(result));
  else streams.stdout.write(renderOrgTable(result, useColor(streams.stdout, streams.env)));
  if (!flags.json) {
    const paint = painter(useColor(streams.stderr, streams.env));
    for (const account of result.accounts) {
      if (account.error) streams.stderr.write(`${paint('red', 'error:')} account ${account.id}: ${account.error.message}${account.error.hint ? `\n${paint('dim', 'hint:')} ${account.error.hint}` : ''}\n`);
      for (const warning of account.warnings ?? []) streams.stderr.write(`warning: account ${account.id}: ${warning}\n`);
    }
  }
  if (result.summary.failedAccounts > 0) return ExitCode.failure;
  const s = result.summary;
  const attention = s.due.rotate + s.due.deactivate + s.due.delete + (s.findings.conflict ?? 0) + (s.findings['used-after-replacement'] ?? 0) + (s.findings.blocked ?? 0);
  return flags.fail && attention > 0 ? ExitCode.findings : ExitCode.ok;
}

function policyFromFlags(flags: OrgFlags, mode: OrgMode): OrgPolicyInput {
  // Not-a-number goes on to the policy, which names the field and the accepted range.
  const days = (value: string | undefined) => (value === undefined ? undefined : value.trim() === '' ? Number.NaN : Number(value));
  const list = (values: string[] | undefined) => values?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  return {
    mode,
    rotateAfterDays: days(flags.rotateAfter),
    deactivateAfterDays: days(flags.deactivateAfter),
    deleteAfterDays: days(flags.deleteAfter),
    warnDaysBefore: days(flags.warnBefore),
    unusedAfterDays: days(flags.unusedAfter),
    exemptGroups: list(flags.exemptGroup),
    includeAccounts: list(flags.includeAccount),
    excludeAccounts: list(flags.excludeAccount),
    includeOus: list(flags.includeOu),
    excludeOus: list(flags.excludeOu),
    digest: flags.digest,
    digestTo: list(flags.digestTo),
  };
}

interface Row {
  account: string;
  user: string;
  key: string;
  status: string;
  created: string;
  ageDays: string;
  level: string;
  next: string;
  findings: string;
  exemption: string;
  owner: string;
}

function rowsOf(result: OrgRunResult, maskIds: boolean): Row[] {
  const rows: Row[] = [];
  for (const account of result.accounts) {
    for (const user of account.users ?? []) {
      const exemption = user.exemption
        ? user.exemption.by === 'group'
          ? `group ${user.exemption.group}`
          : `tag${user.exemption.until ? ` until ${user.exemption.until}` : ''}${user.exemption.reason ? `: ${user.exemption.reason}` : ''}`
        : '';
      for (const key of user.keys) {
        const id = key.accessKeyId ? (maskIds ? maskKeyId(key.accessKeyId) : key.accessKeyId) : '';
        const next =
          key.action !== 'none' ? `${key.action} now` : key.upcoming ? `${key.upcoming.action} ${isoDay(key.upcoming.on)}` : '';
        rows.push({
          account: account.id,
          user: user.userName,
          key: id,
          status: key.active ? 'Active' : 'Inactive',
          created: isoDay(key.createDate),
          ageDays: String(key.ageDays),
          level: key.level,
          next,
          findings: key.findings.join(maskIds ? ', ' : ';'),
          exemption,
          owner: user.owner ?? '',
        });
      }
    }
  }
  return rows;
}

export function renderOrgTable(result: OrgRunResult, color: boolean): string {
  const paint = painter(color);
  const levelColor = { green: 'green', yellow: 'yellow', red: 'red' } as const;
  const rows = rowsOf(result, true).map((r) => [
    r.account,
    r.user,
    r.key || '-',
    r.status,
    `${r.ageDays} d`,
    paint(levelColor[r.level as keyof typeof levelColor] ?? 'dim', r.level),
    r.next ? paint('bold', r.next) : paint('dim', '-'),
    r.exemption ? paint('cyan', `exempt (${r.exemption})`) : r.findings ? paint('red', r.findings) : paint('dim', 'ok'),
  ]);
  const lines: string[] = [];
  if (rows.length > 0) lines.push(renderColumns(['ACCOUNT', 'USER', 'KEY', 'STATUS', 'AGE', 'LEVEL', 'NEXT', 'FINDINGS'].map((h) => paint('bold', h)), rows));
  else lines.push(result.summary.unlistedKeys > 0 ? 'No key needs attention.' : 'No access keys.');
  for (const account of result.accounts) if (!account.selected) lines.push(paint('dim', `skipped ${account.id}${account.name ? ` (${account.name})` : ''}: ${account.skipped}`));
  lines.push(summaryText(result));
  return `${lines.join('\n')}\n`;
}

export function summaryText(result: OrgRunResult): string {
  const s = result.summary;
  const p = result.policy;
  const findings = Object.entries(s.findings).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  const outcome = result.dryRun
    ? `Dry run of mode ${result.mode}: nothing was changed or sent`
    : `Mode ${result.mode}: ${result.mode === 'report' ? 'nothing was changed or sent' : result.mode === 'notify' ? 'events and owner mails were sent; no key was changed' : `done: ${doneCounts(result)}`}`;
  return [
    `${plural(s.accounts, 'account')}${s.failedAccounts ? ` (${s.failedAccounts} failed)` : ''}, ${plural(s.users, 'user')} with keys, ${plural(s.keys, 'key')} (green ${s.levels.green}, yellow ${s.levels.yellow}, red ${s.levels.red}); ${plural(s.exemptUsers, 'exempt user')}.`,
    `Due now: rotate ${s.due.rotate}, deactivate ${s.due.deactivate}, delete ${s.due.delete}; within ${plural(p.warnDaysBefore, 'day')}: ${s.upcoming}. Findings: ${findings}.`,
    ...(s.unlistedKeys > 0 ? [`Not listed: ${plural(s.unlistedKeys, 'key')} that ${s.unlistedKeys === 1 ? 'needs' : 'need'} nothing now (--all lists every key).`] : []),
    `${outcome}. Policy: rotate at ${plural(p.rotateAfterDays, 'day')}, deactivate ${plural(p.deactivateAfterDays, 'day')} after delivery, delete ${plural(p.deleteAfterDays, 'day')} after deactivation.`,
  ].join('\n');
}

function doneCounts(result: OrgRunResult): string {
  const counts = new Map<string, number>();
  for (const account of result.accounts) for (const d of account.done ?? []) counts.set(d.done, (counts.get(d.done) ?? 0) + 1);
  return counts.size === 0 ? 'nothing was due' : [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}

export const ORG_CSV_COLUMNS = ['account', 'user', 'access_key_id', 'status', 'created', 'age_days', 'level', 'next', 'findings', 'exemption', 'owner'] as const;

export function renderOrgCsv(result: OrgRunResult): string {
  const rows = rowsOf(result, false).map((r) => [r.account, r.user, r.key, r.status, r.created, r.ageDays, r.level, r.next, r.findings, r.exemption, r.owner]);
  return [[...ORG_CSV_COLUMNS], ...rows].map((row) => row.map(spreadsheetField).join(',')).join('\n') + '\n';
}
