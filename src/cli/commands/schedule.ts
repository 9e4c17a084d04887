import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { parseEvery } from '../../core/schedule.js';
import { ExitCode, UsageError } from '../../errors.js';
import { defaultScheduleEnv, installSchedule, removeSchedule, runScheduled, scheduleStatus, type ScheduleStatus } from '../../flows/schedule.js';
import { profilesOf } from '../flags.js';
import type { CliStreams } from '../io.js';

export interface ScheduleInstallFlags {
  every: string;
  ifOlderThan: number;
  profile?: string | string[];
  profiles?: string[];
  all?: boolean;
  authProfile?: string;
  delete?: boolean;
  json?: boolean;
}

/** How a scheduler starts this aws-rekey again: this Node and this CLI, or the single executable itself. */
function thisCli(): string[] {
  if (basename(process.execPath).startsWith('aws-rekey')) return [process.execPath];
  return [process.execPath, realpathSync(process.argv[1] ?? '')];
}

export async function runScheduleInstall(flags: ScheduleInstallFlags, streams: CliStreams): Promise<number> {
  const profiles = profilesOf(flags);
  if (flags.all && profiles.length > 0) throw new UsageError('Give either --all or --profile, not both.');
  const status = await installSchedule(
    { every: parseEvery(flags.every), ifOlderThan: flags.ifOlderThan, profiles: flags.all ? 'all' : profiles, authProfile: flags.authProfile, deleteOld: flags.delete },
    defaultScheduleEnv(streams.env, thisCli()),
  );
  write(streams, flags.json, status, () => `Installed: ${renderStatus(status)}`);
  return ExitCode.ok;
}

export async function runScheduleStatus(flags: { json?: boolean }, streams: CliStreams): Promise<number> {
  const status = await scheduleStatus(defaultScheduleEnv(streams.env, thisCli()));
  write(streams, flags.json, status, () => renderStatus(status));
  return ExitCode.ok;
}

export async function runScheduleRemove(flags: { json?: boolean }, streams: CliStreams): Promise<number> {
  const result = await removeSchedule(defaultScheduleEnv(streams.env, thisCli()));
  write(streams, flags.json, { schemaVersion: 1, ...result }, () => (result.removed ? `Removed the scheduled rotation (${result.scheduler}).\n` : 'No scheduled rotation was installed; nothing to remove.\n'));
  return ExitCode.ok;
}

/** What the scheduler runs: the exit code of the rotation is this command's exit code, and is in the log. */
export async function runScheduleRun(args: string[], streams: CliStreams): Promise<number> {
  if (args[0] !== 'rotate') throw new UsageError(`schedule run runs 'aws-rekey rotate …', not '${args.join(' ')}'.`, "It is what 'schedule install' puts in the scheduler; run that instead.");
  const { exitCode } = await runScheduled(args, defaultScheduleEnv(streams.env, thisCli()));
  return exitCode;
}

function write(streams: CliStreams, json: boolean | undefined, result: object, human: () => string): void {
  if (json) streams.stdout.write(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
  else streams.stdout.write(human());
}

export function renderStatus(status: ScheduleStatus): string {
  const lines: string[] = [];
  if (status.installed) lines.push(`scheduled rotation: ${status.every}, with ${status.scheduler}`, `  runs      ${status.command}`);
  else if (status.missing) lines.push(`scheduled rotation: recorded (${status.scheduler}), but ${status.scheduler} no longer has it. Run 'aws-rekey schedule install' again, or 'aws-rekey schedule remove'.`);
  else lines.push("No scheduled rotation is installed. Install one with 'aws-rekey schedule install' (see --help).");
  if (status.lastRun) lines.push(`  last run  ${status.lastRun.startedAt}: ${status.lastRun.result}`);
  else if (status.installed) lines.push('  last run  none yet');
  if (status.nextRun) lines.push(`  next run  ${new Date(status.nextRun).toString()}`);
  lines.push(`  log       ${status.logPath}`);
  return `${lines.join('\n')}\n`;
}
