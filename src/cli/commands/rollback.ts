import { ExitCode } from '../../errors.js';
import { UsageError } from '../../errors.js';
import { rollbackStaged, type StageResult } from '../../flows/staged.js';
import { mfaCodeOf, verifyOptionsFromFlags, type VerifyFlags } from '../flags.js';
import { createPorts, type CliStreams } from '../io.js';
import { withInterrupts } from '../signals.js';

export interface RollbackFlags extends VerifyFlags {
  profile?: string;
  authProfile?: string;
  user?: string;
  mfaCode?: string;
  deleteNew?: boolean;
  force?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export async function runRollback(flags: RollbackFlags, streams: CliStreams): Promise<number> {
  if (flags.user !== undefined && flags.profile !== undefined && flags.authProfile !== undefined) {
    throw new UsageError('With --user, --profile and --auth-profile both name the admin credentials: give one of them.');
  }
  const json = flags.json ?? false;
  const { reporter, prompter } = createPorts(streams, json);
  const target =
    flags.user !== undefined
      ? { userName: flags.user.trim(), adminProfile: flags.profile ?? flags.authProfile }
      : { profile: flags.profile, authProfile: flags.authProfile };
  const result = await withInterrupts(streams.stderr, (signal) =>
    rollbackStaged(
      {
        ...target,
        mfaCode: mfaCodeOf(flags),
        deleteNew: flags.deleteNew ?? false,
        force: flags.force,
        yes: flags.yes,
        dryRun: flags.dryRun,
        verify: verifyOptionsFromFlags(flags),
        env: streams.env,
      },
      { reporter, prompter, signal },
    ),
  );
  if (json) streams.stdout.write(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
  else streams.stderr.write(summarize(result));
  return ExitCode.ok;
}

function summarize(result: StageResult): string {
  if (result.status === 'planned') return 'Dry run: nothing was changed.\n';
  if (result.status === 'unchanged') return '';
  if (!result.rotation) return `\nRolled back: the old key is active again, the new key is deleted, and the staged rotation is forgotten.\n`;
  return `\nRolled back: the old key is active again; the new key stays. The rotation is at stage 'created' again. Next: ${result.rotation.next}; or roll back with --delete-new to drop the new key.\n`;
}
