import { ExitCode } from '../../errors.js';
import { recoverProfile, type RecoverResult } from '../../flows/recover.js';
import { mfaCodeOf, verifyOptionsFromFlags, type VerifyFlags } from '../flags.js';
import { createPorts, type CliStreams } from '../io.js';
import { withInterrupts } from '../signals.js';

export interface RecoverFlags extends VerifyFlags {
  profile?: string;
  authProfile?: string;
  mfaCode?: string;
  dryRun?: boolean;
  json?: boolean;
}

export async function runRecover(flags: RecoverFlags, streams: CliStreams): Promise<number> {
  const json = flags.json ?? false;
  const { reporter, prompter } = createPorts(streams, json);
  const result = await withInterrupts(streams.stderr, (signal) =>
    recoverProfile(
      {
        profile: flags.profile,
        authProfile: flags.authProfile,
        mfaCode: mfaCodeOf(flags),
        dryRun: flags.dryRun ?? false,
        verify: verifyOptionsFromFlags(flags),
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
