import { execFile, spawn } from 'node:child_process';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { homedir as osHomedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  appendLogEntry,
  describeEvery,
  hasCrontabEntry,
  JOB,
  lastLoggedRun,
  nextRun,
  renderCrontabLine,
  renderLaunchdPlist,
  renderLogEntry,
  renderSystemdService,
  renderSystemdTimer,
  renderTaskXml,
  withCrontabEntry,
  withoutCrontabEntry,
  type Every,
  type LoggedRun,
  type SchedulerKind,
  type ScheduleSpec,
} from '../core/schedule.js';
import { ensureOwnFolder, ownerOf, readOwnFile, writeOwnFile, type FileOwner } from '../credentials/own-files.js';
import { readJsonRecord, recordPath, recordsDir, removeRecord, writeJsonRecord } from '../credentials/records.js';
import { roleMfaSerial } from '../credentials/profile-chain.js';
import { keySettingsOf } from '../core/key-settings.js';
import { readCredentialsFile, resolveConfigPath, resolveCredentialsPath } from '../credentials/store.js';
import { RekeyError, UsageError } from '../errors.js';

/** Runs a program without a shell; `code` is null when it could not be started (`error` says why). */
export type Exec = (file: string, args: string[], input?: string) => Promise<{ code: number | null; stdout: string; stderr: string; error?: string }>;

export interface ScheduleEnv {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  homedir: string;
  exec: Exec;
  /** How the scheduler starts this aws-rekey: node and the CLI's path, or the single executable. */
  cli: string[];
  now: () => Date;
}

export function defaultScheduleEnv(env: NodeJS.ProcessEnv, cli: string[]): ScheduleEnv {
  return { env, platform: process.platform, homedir: env.HOME || osHomedir(), exec: execCommand, cli, now: () => new Date() };
}

export interface ScheduleInstallOptions {
  every: Every;
  ifOlderThan: number;
  /** Profiles to rotate, every profile with a long-lived key, or (none) the default profile. */
  profiles: string[] | 'all';
  authProfile?: string;
  deleteOld?: boolean;
}

/** What `schedule install` wrote, kept beside the records so that `status` and `remove` know it. */
export interface ScheduleRecord {
  schemaVersion: 1;
  scheduler: SchedulerKind;
  every: Every;
  hour: number;
  minute: number;
  /** The rotate command the job runs. */
  args: string[];
  /** The scheduler's files (unit files, plist), when it has any. */
  files: string[];
  installedAt: string;
}

export interface ScheduleStatus {
  schemaVersion: 1;
  installed: boolean;
  /** The record says installed, but the scheduler no longer has the job (removed by hand). */
  missing?: boolean;
  scheduler?: SchedulerKind;
  every?: string;
  command?: string;
  logPath: string;
  lastRun?: LoggedRun & { result: string };
  nextRun?: string;
}

const RECORD = 'schedule.json';
const LOG = 'schedule.log';
const HOUR = 9;
const MINUTE = 17;

/** The rotate command of the job: never interactive, never a secret on its output. */
export function rotateArgs(options: ScheduleInstallOptions): string[] {
  return [
    'rotate',
    '--yes',
    '--if-older-than',
    String(options.ifOlderThan),
    ...(options.profiles === 'all' ? ['--all'] : options.profiles.flatMap((p) => ['--profile', p])),
    ...(options.authProfile ? ['--auth-profile', options.authProfile] : []),
    ...(options.deleteOld ? ['-d'] : []),
  ];
}

/** Installs the job (replacing an earlier one) with the platform's scheduler. */
export async function installSchedule(options: ScheduleInstallOptions, se: ScheduleEnv): Promise<ScheduleStatus> {
  const credentialsPath = resolveCredentialsPath(se.env, se.homedir);
  await checkProfiles(credentialsPath, resolveConfigPath(se.env, se.homedir), options);
  await refuseMfaAuthProfile(credentialsPath, resolveConfigPath(se.env, se.homedir), options.authProfile);
  const scheduler = await detectScheduler(se);
  const args = rotateArgs(options);
  const spec: ScheduleSpec = {
    every: options.every,
    command: [...se.cli, 'schedule', 'run', '--', ...args],
    env: jobEnv(se.env),
    hour: HOUR,
    minute: MINUTE,
  };
  const files = await BACKENDS[scheduler].install(spec, se, credentialsPath);
  const record: ScheduleRecord = { schemaVersion: 1, scheduler, every: options.every, hour: HOUR, minute: MINUTE, args, files, installedAt: se.now().toISOString() };
  await writeJsonRecord(credentialsPath, RECORD, record);
  return scheduleStatus(se);
}

export async function removeSchedule(se: ScheduleEnv): Promise<{ removed: boolean; scheduler?: SchedulerKind }> {
  const credentialsPath = resolveCredentialsPath(se.env, se.homedir);
  const record = await readRecord(credentialsPath);
  const scheduler = record?.scheduler ?? (await detectScheduler(se).catch(() => undefined));
  if (scheduler) await BACKENDS[scheduler].remove(se);
  if (record) await removeRecord(credentialsPath, RECORD);
  return { removed: record !== undefined, ...(scheduler ? { scheduler } : {}) };
}

export async function scheduleStatus(se: ScheduleEnv): Promise<ScheduleStatus> {
  const credentialsPath = resolveCredentialsPath(se.env, se.homedir);
  const logPath = await recordPath(credentialsPath, LOG);
  const record = await readRecord(credentialsPath);
  const log = (await readOwnFile(logPath, await ownerOf(credentialsPath)))?.toString('utf8');
  const last = log ? lastLoggedRun(log) : undefined;
  const lastRun = last ? { ...last, result: last.exitCode === undefined ? 'no end recorded (killed, or still running)' : last.exitCode === 0 ? 'ok' : `failed (exit ${last.exitCode})` } : undefined;
  if (!record) return { schemaVersion: 1, installed: false, logPath, ...(lastRun ? { lastRun } : {}) };
  const present = await BACKENDS[record.scheduler].present(se);
  return {
    schemaVersion: 1,
    installed: present,
    ...(present ? {} : { missing: true }),
    scheduler: record.scheduler,
    every: describeEvery(record.every),
    command: `aws-rekey ${record.args.join(' ')}`,
    logPath,
    ...(lastRun ? { lastRun } : {}),
    ...(present ? { nextRun: nextRun(record, se.now()).toISOString() } : {}),
  };
}

/**
 * `schedule run -- ARGS`: what the scheduler starts. Runs `aws-rekey ARGS` and adds its output and exit code
 * to the log beside the records (0600, never through a link); returns that exit code.
 */
export async function runScheduled(args: string[], se: ScheduleEnv): Promise<{ exitCode: number; logPath: string }> {
  if (args.includes('--print-secret')) {
    throw new UsageError('A scheduled run never prints a secret: its output goes to a log file.', 'Deliver keys with --out or --to-profile instead.');
  }
  const credentialsPath = resolveCredentialsPath(se.env, se.homedir);
  const owner = await ownerOf(credentialsPath);
  const logPath = await recordPath(credentialsPath, LOG);
  const startedAt = se.now();
  const { code, output } = await runCapturing(se.cli, args, { ...se.env, NO_COLOR: '1' });
  const entry = renderLogEntry({ startedAt, finishedAt: se.now(), args, output, exitCode: code });
  await ensureRecordsFolder(credentialsPath, owner);
  const before = (await readOwnFile(logPath, owner))?.toString('utf8') ?? '';
  await writeOwnFile(logPath, appendLogEntry(before, entry), owner);
  return { exitCode: code, logPath };
}

// ---- the schedulers ---------------------------------------------------------------------------------

interface Backend {
  install(spec: ScheduleSpec, se: ScheduleEnv, credentialsPath: string): Promise<string[]>;
  remove(se: ScheduleEnv): Promise<void>;
  present(se: ScheduleEnv): Promise<boolean>;
}

const BACKENDS: Record<SchedulerKind, Backend> = {
  cron: {
    async install(spec, se) {
      const line = renderCrontabLine(spec);
      await writeCrontab(se, withCrontabEntry(await readCrontab(se), line));
      return [];
    },
    async remove(se) {
      const current = await readCrontab(se);
      if (hasCrontabEntry(current)) await writeCrontab(se, withoutCrontabEntry(current));
    },
    present: async (se) => hasCrontabEntry(await readCrontab(se)),
  },
  systemd: {
    async install(spec, se) {
      const dir = systemdUserDir(se);
      await mkdir(dir, { recursive: true });
      const service = join(dir, JOB.systemdService);
      const timer = join(dir, JOB.systemdTimer);
      await writeFile(service, renderSystemdService(spec));
      await writeFile(timer, renderSystemdTimer(spec));
      await must(se, 'systemctl', ['--user', 'daemon-reload']);
      await must(se, 'systemctl', ['--user', 'enable', '--now', JOB.systemdTimer]);
      return [service, timer];
    },
    async remove(se) {
      await se.exec('systemctl', ['--user', 'disable', '--now', JOB.systemdTimer]);
      const dir = systemdUserDir(se);
      await rm(join(dir, JOB.systemdService), { force: true });
      await rm(join(dir, JOB.systemdTimer), { force: true });
      await se.exec('systemctl', ['--user', 'daemon-reload']);
    },
    present: (se) => exists(join(systemdUserDir(se), JOB.systemdTimer)),
  },
  launchd: {
    async install(spec, se) {
      const path = launchdPath(se);
      await mkdir(join(se.homedir, 'Library', 'LaunchAgents'), { recursive: true });
      await writeFile(path, renderLaunchdPlist(spec));
      const domain = `gui/${process.getuid?.() ?? 0}`;
      await se.exec('launchctl', ['bootout', `${domain}/${JOB.launchdLabel}`]); // an earlier one, if loaded
      await must(se, 'launchctl', ['bootstrap', domain, path]);
      return [path];
    },
    async remove(se) {
      await se.exec('launchctl', ['bootout', `gui/${process.getuid?.() ?? 0}/${JOB.launchdLabel}`]);
      await rm(launchdPath(se), { force: true });
    },
    present: (se) => exists(launchdPath(se)),
  },
  windows: {
    async install(spec, se, credentialsPath) {
      // schtasks reads the definition from a file, in the UTF-16 its declaration names.
      const owner = await ownerOf(credentialsPath);
      await ensureRecordsFolder(credentialsPath, owner);
      const xmlPath = await recordPath(credentialsPath, 'schedule-task.xml');
      await writeOwnFile(xmlPath, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(renderTaskXml(spec, se.now()), 'utf16le')]), owner);
      try {
        await must(se, 'schtasks', ['/Create', '/TN', JOB.windowsTask, '/XML', xmlPath, '/F']);
      } finally {
        await rm(xmlPath, { force: true });
      }
      return [];
    },
    async remove(se) {
      await se.exec('schtasks', ['/Delete', '/TN', JOB.windowsTask, '/F']);
    },
    present: async (se) => (await se.exec('schtasks', ['/Query', '/TN', JOB.windowsTask])).code === 0,
  },
};

/** macOS: launchd; Windows: Task Scheduler; elsewhere a systemd user timer when systemd runs the user's session, else cron. */
export async function detectScheduler(se: ScheduleEnv): Promise<SchedulerKind> {
  if (se.platform === 'darwin') return 'launchd';
  if (se.platform === 'win32') return 'windows';
  if ((await se.exec('systemctl', ['--user', 'show-environment'])).code === 0) return 'systemd';
  const crontab = await se.exec('crontab', ['-l']);
  if (crontab.code !== null) return 'cron';
  throw new RekeyError('NO_SCHEDULER', 'Found no scheduler for this user: systemd does not run your session, and there is no crontab command.', {
    hint: "Install cron (Debian/Ubuntu: apt-get install cron), or run 'aws-rekey rotate --yes --if-older-than 90' from a scheduler of your own.",
  });
}

async function readCrontab(se: ScheduleEnv): Promise<string> {
  const result = await se.exec('crontab', ['-l']);
  if (result.code === 0) return result.stdout;
  if (/no crontab for/i.test(result.stderr)) return '';
  throw new RekeyError('CRONTAB_FAILED', `'crontab -l' failed: ${(result.stderr || result.error || `exit ${result.code}`).trim()}`, {
    hint: 'Check that you may use cron (/etc/cron.allow, /etc/cron.deny).',
  });
}

async function writeCrontab(se: ScheduleEnv, text: string): Promise<void> {
  await must(se, 'crontab', ['-'], text);
}

async function must(se: ScheduleEnv, file: string, args: string[], input?: string): Promise<void> {
  const result = await se.exec(file, args, input);
  if (result.code === 0) return;
  throw new RekeyError('SCHEDULER_FAILED', `'${[file, ...args].join(' ')}' failed: ${(result.stderr || result.error || `exit ${result.code}`).trim()}`, {
    hint: 'Nothing else was changed. Fix the cause and run aws-rekey schedule install again.',
  });
}

function systemdUserDir(se: ScheduleEnv): string {
  const config = se.env.XDG_CONFIG_HOME && isAbsolute(se.env.XDG_CONFIG_HOME) ? se.env.XDG_CONFIG_HOME : join(se.homedir, '.config');
  return join(config, 'systemd', 'user');
}

function launchdPath(se: ScheduleEnv): string {
  return join(se.homedir, 'Library', 'LaunchAgents', `${JOB.launchdLabel}.plist`);
}

/** Settings a scheduler does not pass on that decide which files the job works on. */
function jobEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const names = ['AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE'];
  return Object.fromEntries(
    names.filter((name) => env[name]).map((name) => [name, name.endsWith('_FILE') ? resolve(env[name]!) : env[name]!]),
  );
}

async function checkProfiles(credentialsPath: string, configPath: string, options: ScheduleInstallOptions): Promise<void> {
  if (options.profiles === 'all' || options.profiles.length === 0) return;
  const [{ doc }, config] = await Promise.all([readCredentialsFile(credentialsPath), readCredentialsFile(configPath)]);
  const unknown = options.profiles.filter((name) => !keySettingsOf(doc, config.doc, name)?.values.aws_access_key_id);
  if (unknown.length > 0) {
    throw new UsageError(`No long-lived key in profile ${unknown.join(', ')} of ${credentialsPath}: the job would fail every time.`, 'Name profiles of that file, or use --all.');
  }
}

/** A job has nobody to type an MFA code, and a code is good for seconds: a role that takes one would fail every time. */
async function refuseMfaAuthProfile(credentialsPath: string, configPath: string, authProfile: string | undefined): Promise<void> {
  if (authProfile === undefined) return;
  const [credentials, config] = await Promise.all([readCredentialsFile(credentialsPath), readCredentialsFile(configPath)]);
  const serial = roleMfaSerial(authProfile, config.doc, credentials.doc);
  if (serial === undefined) return;
  throw new UsageError(
    `The auth profile '${authProfile}' assumes its role with the MFA device ${serial} (mfa_serial): a scheduled job has nobody to type the code, and a code is good for about 30 seconds, so the job would fail every time.`,
    "Schedule with an --auth-profile that takes no MFA code (static keys, or a role without mfa_serial), or rotate by hand: aws-rekey rotate --auth-profile NAME --mfa-code CODE.",
    'SCHEDULE_NEEDS_MFA',
  );
}

async function readRecord(credentialsPath: string): Promise<ScheduleRecord | undefined> {
  const record = await readJsonRecord(credentialsPath, RECORD, (path) => new RekeyError('SCHEDULE_RECORD_UNREADABLE', `${path} is not valid JSON.`, { hint: 'Run aws-rekey schedule install again.' }));
  return record as ScheduleRecord | undefined;
}

/** The records folder of this credentials file (and the aws-rekey folder it is in), private. */
async function ensureRecordsFolder(credentialsPath: string, owner: FileOwner): Promise<void> {
  const dir = await recordsDir(credentialsPath);
  await ensureOwnFolder(dirname(dir), owner);
  await ensureOwnFolder(dir, owner);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function execCommand(file: string, args: string[], input?: string): ReturnType<Exec> {
  return new Promise((done) => {
    const child = execFile(file, args, { encoding: 'utf8', windowsHide: true }, (error, stdout, stderr) => {
      const code = error && typeof (error as NodeJS.ErrnoException).code === 'string' ? null : (child.exitCode ?? (error ? 1 : 0));
      done({ code, stdout, stderr, ...(error && code === null ? { error: error.message } : {}) });
    });
    // A program that exits without reading its input (crontab -l) must not crash us with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

/** Runs the CLI with `args`; its stdout and stderr, interleaved as they came. */
function runCapturing(cli: string[], args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    const [program = process.execPath, ...rest] = cli;
    const child = spawn(program, [...rest, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', (error) => done({ code: 1, output: `${output}could not start aws-rekey: ${error.message}\n` }));
    child.on('close', (code, signal) => done({ code: code ?? (signal ? 128 + 15 : 1), output }));
  });
}
