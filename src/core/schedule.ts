import { UsageError } from '../errors.js';
import { shellQuote } from './shell.js';

/*
 * `aws-rekey schedule`: the job each platform's own scheduler runs, as text (pure). The job runs
 * `aws-rekey schedule run -- rotate --yes …` at a fixed minute; `schedule run` logs the run next to the records.
 */

export type SchedulerKind = 'systemd' | 'cron' | 'launchd' | 'windows';

/** How often the job runs: every `hours` hours (a divisor of 24), or every day, or every week (Sundays). */
export type Every = { unit: 'hours'; hours: number } | { unit: 'day' } | { unit: 'week' };

export interface ScheduleSpec {
  every: Every;
  /** The program and its arguments: node, the CLI, `schedule run -- rotate --yes …`. */
  command: string[];
  /** Settings the job needs that a scheduler does not pass on (AWS_SHARED_CREDENTIALS_FILE, …). */
  env: Record<string, string>;
  /** The minute of the hour (and, daily or weekly, the hour) at which it runs, local time. */
  hour: number;
  minute: number;
}

/** The names the job has in each scheduler; one job per user, so installing again replaces it. */
export const JOB = {
  systemdService: 'aws-rekey-rotate.service',
  systemdTimer: 'aws-rekey-rotate.timer',
  cronMarker: '# aws-rekey schedule (managed by aws-rekey schedule install/remove)',
  launchdLabel: 'io.aws-rekey.rotate',
  windowsTask: 'aws-rekey rotate',
} as const;

const HOURS_DIVIDING_A_DAY = [1, 2, 3, 4, 6, 8, 12];

/** `--every`: `1h` … `12h` (dividing a day), `1d`, `7d` or `1w`. */
export function parseEvery(value: string): Every {
  const match = /^(\d+)\s*([hdw])$/.exec(value.trim().toLowerCase());
  const n = match ? Number(match[1]) : NaN;
  if (match?.[2] === 'h' && HOURS_DIVIDING_A_DAY.includes(n)) return { unit: 'hours', hours: n };
  if ((match?.[2] === 'h' && n === 24) || (match?.[2] === 'd' && n === 1)) return { unit: 'day' };
  if ((match?.[2] === 'd' && n === 7) || (match?.[2] === 'w' && n === 1)) return { unit: 'week' };
  throw new UsageError(
    `--every '${value}' is not a schedule aws-rekey can install.`,
    `Use 1h, 2h, 3h, 4h, 6h, 8h or 12h, 1d (daily) or 1w (weekly). The job only checks; --if-older-than decides when a key is rotated.`,
  );
}

export function describeEvery(every: Every): string {
  if (every.unit === 'hours') return every.hours === 1 ? 'every hour' : `every ${every.hours} hours`;
  return every.unit === 'day' ? 'every day' : 'every week (Sunday)';
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The next time the job runs after `now` (local time, as the schedulers count). */
export function nextRun(spec: Pick<ScheduleSpec, 'every' | 'hour' | 'minute'>, now: Date): Date {
  const next = new Date(now.getTime());
  next.setSeconds(0, 0);
  if (spec.every.unit === 'hours') {
    const step = spec.every.hours;
    next.setMinutes(spec.minute);
    next.setHours(Math.floor(next.getHours() / step) * step);
    while (next.getTime() <= now.getTime()) next.setHours(next.getHours() + step);
    return next;
  }
  next.setHours(spec.hour, spec.minute);
  const days = spec.every.unit === 'day' ? 1 : 7;
  // Stryker disable next-line ConditionalExpression: a daily job stepping a day at a time from last Sunday reaches the same first run after now.
  if (spec.every.unit === 'week') next.setDate(next.getDate() - next.getDay());
  while (next.getTime() <= now.getTime()) next.setDate(next.getDate() + days);
  return next;
}

// ---- cron -------------------------------------------------------------------------------------------

/** One line of a crontab: time fields, settings, the command (single-quoted for sh; % escaped for cron). */
export function renderCrontabLine(spec: ScheduleSpec): string {
  const time =
    spec.every.unit === 'hours'
      ? `${spec.minute} ${spec.every.hours === 1 ? '*' : `*/${spec.every.hours}`} * * *`
      : `${spec.minute} ${spec.hour} * * ${spec.every.unit === 'week' ? '0' : '*'}`;
  const env = Object.entries(spec.env).map(([name, value]) => `${name}=${shellQuote(value)} `);
  const command = spec.command.map(shellQuote).join(' ');
  return `${time} ${env.join('')}${command} ${JOB.cronMarker}`.replace(/%/g, '\\%');
}

/** The crontab with our one line in place of any earlier one (idempotent), the rest as it was. */
export function withCrontabEntry(crontab: string, line: string): string {
  const kept = withoutCrontabEntry(crontab);
  return `${kept}${kept === '' || kept.endsWith('\n') ? '' : '\n'}${line}\n`;
}

export function withoutCrontabEntry(crontab: string): string {
  return crontab
    .split(/(?<=\n)/)
    .filter((line) => !line.includes(JOB.cronMarker))
    .join('');
}

export function hasCrontabEntry(crontab: string): boolean {
  return crontab.split('\n').some((line) => line.includes(JOB.cronMarker));
}

// ---- systemd ----------------------------------------------------------------------------------------

export function renderSystemdService(spec: ScheduleSpec): string {
  const env = Object.entries(spec.env).map(([name, value]) => `Environment=${systemdQuote(`${name}=${value}`)}\n`);
  return [
    '[Unit]',
    'Description=aws-rekey: rotate AWS access keys when they are due',
    '',
    '[Service]',
    'Type=oneshot',
    `${env.join('')}ExecStart=${spec.command.map(systemdQuote).join(' ')}`,
    '',
  ].join('\n');
}

export function renderSystemdTimer(spec: ScheduleSpec): string {
  const calendar =
    spec.every.unit === 'hours'
      ? `*-*-* 00/${spec.every.hours}:${pad(spec.minute)}:00`
      : `${spec.every.unit === 'week' ? 'Sun ' : ''}*-*-* ${pad(spec.hour)}:${pad(spec.minute)}:00`;
  return [
    '[Unit]',
    `Description=aws-rekey: rotate AWS access keys when they are due (${describeEvery(spec.every)})`,
    '',
    '[Timer]',
    `OnCalendar=${calendar}`,
    // A run missed while the machine was off happens at the next start.
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** systemd's own quoting: double quotes, backslash escapes; `%` and `$` would be specifiers and variables. */
function systemdQuote(value: string): string {
  const escaped = value.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[\w@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

// ---- launchd (macOS) --------------------------------------------------------------------------------

export function renderLaunchdPlist(spec: ScheduleSpec): string {
  const intervals =
    spec.every.unit === 'hours'
      ? Array.from({ length: 24 / spec.every.hours }, (_, i) => ({ Hour: i * (spec.every as { hours: number }).hours, Minute: spec.minute }))
      : [{ ...(spec.every.unit === 'week' ? { Weekday: 0 } : {}), Hour: spec.hour, Minute: spec.minute }];
  const dict = (entries: Record<string, number>, indent: string) =>
    `${indent}<dict>\n${Object.entries(entries)
      .map(([key, value]) => `${indent}  <key>${key}</key>\n${indent}  <integer>${value}</integer>\n`)
      .join('')}${indent}</dict>\n`;
  const env = Object.entries(spec.env);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n',
    '<plist version="1.0">\n<dict>\n',
    `  <key>Label</key>\n  <string>${JOB.launchdLabel}</string>\n`,
    '  <key>ProgramArguments</key>\n  <array>\n',
    ...spec.command.map((arg) => `    <string>${xmlEscape(arg)}</string>\n`),
    '  </array>\n',
    ...(env.length
      ? ['  <key>EnvironmentVariables</key>\n  <dict>\n', ...env.map(([k, v]) => `    <key>${xmlEscape(k)}</key>\n    <string>${xmlEscape(v)}</string>\n`), '  </dict>\n']
      : []),
    '  <key>StartCalendarInterval</key>\n  <array>\n',
    ...intervals.map((entry) => dict(entry, '    ')),
    '  </array>\n',
    '  <key>RunAtLoad</key>\n  <false/>\n',
    '</dict>\n</plist>\n',
  ].join('');
}

// ---- Windows Task Scheduler -------------------------------------------------------------------------

/** A task definition for `schtasks /Create /XML` (saved as UTF-16, as the declaration says). */
export function renderTaskXml(spec: ScheduleSpec, start: Date): string {
  const boundary = `${start.getFullYear()}-${pad(start.getMonth() + 1)}-${pad(start.getDate())}T${pad(spec.every.unit === 'hours' ? 0 : spec.hour)}:${pad(spec.minute)}:00`;
  const schedule =
    spec.every.unit === 'week'
      ? '      <ScheduleByWeek>\n        <WeeksInterval>1</WeeksInterval>\n        <DaysOfWeek>\n          <Sunday />\n        </DaysOfWeek>\n      </ScheduleByWeek>\n'
      : '      <ScheduleByDay>\n        <DaysInterval>1</DaysInterval>\n      </ScheduleByDay>\n';
  const repetition = spec.every.unit === 'hours' ? `      <Repetition>\n        <Interval>PT${spec.every.hours}H</Interval>\n        <Duration>P1D</Duration>\n      </Repetition>\n` : '';
  const [program = '', ...args] = spec.command;
  return [
    '<?xml version="1.0" encoding="UTF-16"?>\n',
    '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\n',
    '  <RegistrationInfo>\n    <Description>aws-rekey: rotate AWS access keys when they are due</Description>\n  </RegistrationInfo>\n',
    '  <Triggers>\n    <CalendarTrigger>\n',
    `      <StartBoundary>${boundary}</StartBoundary>\n`,
    repetition,
    schedule,
    '    </CalendarTrigger>\n  </Triggers>\n',
    '  <Principals>\n    <Principal id="Author">\n      <LogonType>InteractiveToken</LogonType>\n      <RunLevel>LeastPrivilege</RunLevel>\n    </Principal>\n  </Principals>\n',
    '  <Settings>\n',
    '    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n',
    '    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n',
    '    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n',
    '    <StartWhenAvailable>true</StartWhenAvailable>\n',
    '    <ExecutionTimeLimit>PT1H</ExecutionTimeLimit>\n',
    '  </Settings>\n',
    '  <Actions Context="Author">\n    <Exec>\n',
    `      <Command>${xmlEscape(program)}</Command>\n`,
    `      <Arguments>${xmlEscape(args.map(windowsQuote).join(' '))}</Arguments>\n`,
    '    </Exec>\n  </Actions>\n',
    '</Task>\n',
  ].join('');
}

/** Quoting that CommandLineToArgvW (and so Node on Windows) reads back as the same argument. */
export function windowsQuote(value: string): string {
  if (value !== '' && !/[\s"]/.test(value)) return value;
  return `"${value.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`;
}

function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// ---- the log ----------------------------------------------------------------------------------------

export interface LoggedRun {
  startedAt: string;
  finishedAt?: string;
  /** Undefined when the run has no end line (killed, or still running). */
  exitCode?: number;
}

const START = /^=== (\S+) run: /;
const END = /^=== (\S+) exit (\d+)/;

/** The lines a run leaves in the log: a start line, the command's output, an end line with the exit code. */
export function renderLogEntry(run: { startedAt: Date; finishedAt: Date; args: string[]; output: string; exitCode: number }): string {
  const output = run.output === '' || run.output.endsWith('\n') ? run.output : `${run.output}\n`;
  return `=== ${run.startedAt.toISOString()} run: aws-rekey ${run.args.join(' ')}\n${output}=== ${run.finishedAt.toISOString()} exit ${run.exitCode} (${exitMeaning(run.exitCode)})\n`;
}

export function exitMeaning(code: number): string {
  return ({ 0: 'ok', 1: 'failed', 2: 'usage error', 3: 'rotation incomplete', 130: 'interrupted' } as Record<number, string>)[code] ?? 'failed';
}

/** The last run recorded in the log. */
export function lastLoggedRun(log: string): LoggedRun | undefined {
  let last: LoggedRun | undefined;
  for (const line of log.split('\n')) {
    const start = START.exec(line);
    if (start) last = { startedAt: start[1]! };
    const end = END.exec(line);
    if (end && last) last = { ...last, finishedAt: end[1]!, exitCode: Number(end[2]) };
  }
  return last;
}

/** The log with the new entry, keeping the last `keep` runs. */
export function appendLogEntry(log: string, entry: string, keep = 100): string {
  // Split before each start line (a lookahead split leaves no empty chunk, but for an empty text, which joins back the same).
  const runs = `${log}${entry}`.split(/(?=^=== \S+ run: )/m);
  return runs.slice(-keep).join('');
}
