import { ExitCode } from '../../errors.js';
import { recoverProfile, type RecoverResult } from '../../recover.js';
import { createHumanReporter, createJsonReporter, createPrompter, type CliStreams } from '../io.js';
import { withInterrupts } from '../signals.js';

export interface RecoverFlags {
  profile?: string;
  authProfile?: string;
  dryRun?: boolean;
  json?: boolean;
  verifyTimeout: number;
  verifySuccesses: number;
}

export async function runRecover(flags: RecoverFlags, streams: CliStreams): Promise<number> {
  const json = flags.json ?? false;
  const reporter = json ? createJsonReporter(streams) : createHumanReporter(streams);
  const prompter = createPrompter(streams, !json);
  const result = await withInterrupts(streams.stderr, (signal) =>
    recoverProfile(
      {
        profile: flags.profile,
        authProfile: flags.authProfile,
        dryRun: flags.dryRun ?? false,
        verify: { timeoutMs: Math.round(flags.verifyTimeout * 1000), successes: flags.verifySuccesses },
        env: streams.env,
      },
      { reporter, prompter, signal },
    ),
  );
  if (json) streams.stdout.write(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
  else streams.stderr.write(summarize(result, flags.dryRun ?? false));
  return ExitCode.ok;
}

function summarize(result: RecoverResult, dryRun: boolean): string {
  if (result.outcome === 'clean' && result.plan.length === 0) return '';
  if (dryRun) return 'Dry run: nothing was changed.\n';
  if (result.outcome === 'finished') return `\nThe rotation of profile ${result.profile} is finished: the new key is in the file and works; the old key is retired.\n`;
  return `\nThe rotation of profile ${result.profile} was undone: the old key is in the file and active; no new key is left behind.\n`;
}
