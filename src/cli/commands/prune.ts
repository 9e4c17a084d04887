import { ExitCode, UsageError } from '../../errors.js';
import { pruneKeys, type PruneResult } from '../../flows/prune.js';
import { mfaCodeOf } from '../flags.js';
import { createPorts, type CliStreams } from '../io.js';

export interface PruneFlags {
  profile?: string;
  authProfile?: string;
  user?: string;
  mfaCode?: string;
  key?: string;
  olderThan?: string;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

export async function runPrune(flags: PruneFlags, streams: CliStreams): Promise<number> {
  const json = flags.json ?? false;
  const { reporter, prompter } = createPorts(streams, json);
  const result = await pruneKeys(
    {
      profile: flags.profile,
      authProfile: flags.authProfile,
      user: flags.user?.trim(),
      mfaCode: mfaCodeOf(flags),
      keyId: flags.key?.trim(),
      olderThanDays: flags.olderThan === undefined ? undefined : parseDays(flags.olderThan),
      dryRun: flags.dryRun,
      yes: flags.yes,
      env: streams.env,
    },
    { reporter, prompter },
  );
  if (json) streams.stdout.write(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
  else streams.stderr.write(summarize(result));
  return ExitCode.ok;
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 0) throw new UsageError(`--older-than ${value} is not a number of days.`, 'Give a whole number of days, e.g. --older-than 30.');
  return days;
}

function summarize(result: PruneResult): string {
  const count = result.deleted.length;
  const keys = `${count} ${count === 1 ? 'key' : 'keys'}`;
  if (count === 0) return '';
  return result.dryRun ? `Dry run: would delete ${keys}; nothing was changed.\n` : `Deleted ${keys} of ${result.user.name}.\n`;
}
