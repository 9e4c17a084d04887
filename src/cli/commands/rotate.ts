import { describeNotDue } from '../../core/due.js';
import { maskKeyId } from '../../core/mask.js';
import { ExitCode } from '../../errors.js';
import { rotateProfile, type RotateOptions, type RotateResult } from '../../flows/rotate-profile.js';
import { withInterrupts } from '../signals.js';
import { routeRotate } from './rotate-route.js';
import { ageGateOf, mfaCodeOf, profilesOf, verifyOptionsFromFlags, wantsMfa, type RotateFlags } from '../flags.js';
import { createPorts, type CliStreams } from '../io.js';
import { targetCommand } from '../../core/next-command.js';
import { backupLines, newKeyLine } from '../profile-summary.js';

export function rotateOptionsFromFlags(flags: RotateFlags, env: NodeJS.ProcessEnv): RotateOptions {
  return {
    profile: profilesOf(flags)[0],
    authProfile: flags.authProfile,
    yes: flags.yes ?? false,
    deleteOld: flags.delete ?? false,
    deleteKeyId: flags.deleteKey?.trim(),
    dryRun: flags.dryRun ?? false,
    ifOlderThan: ageGateOf(flags, env),
    mfa: wantsMfa(flags) ? { serialNumber: flags.mfaSerial, tokenCode: mfaCodeOf(flags) } : undefined,
    verify: verifyOptionsFromFlags(flags),
    env,
  };
}

export async function runRotate(flags: RotateFlags, streams: CliStreams): Promise<number> {
  const routed = await routeRotate(flags, streams, () => rotateOptionsFromFlags(flags, streams.env));
  if (routed !== undefined) return routed;
  const json = flags.json ?? false;
  const { reporter, prompter } = createPorts(streams, json);
  const result = await withInterrupts(streams.stderr, (signal) =>
    rotateProfile(rotateOptionsFromFlags(flags, streams.env), { reporter, prompter, signal }),
  );
  if (json) {
    streams.stdout.write(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
  } else {
    streams.stderr.write(summarize(result, streams.env, flags.authProfile));
  }
  return ExitCode.ok;
}

function summarize(result: RotateResult, env: NodeJS.ProcessEnv, authProfile: string | undefined): string {
  if (result.notDue) return `Profile ${result.profile}: ${describeNotDue(result.notDue)}. Nothing was changed.\n`;
  if (result.status === 'planned') return 'Dry run: nothing was changed.\n';
  if (result.status === 'recovered') {
    const outcome = result.recovery?.outcome === 'finished' ? 'finished' : 'undone (the old key is in the file and active)';
    return `\nThe earlier rotation was ${outcome}. Run aws-rekey again to rotate anew.\n`;
  }
  const lines = [
    '',
    `Rotated the access key of ${result.user.name} (${result.user.arn}).`,
    newKeyLine(result),
    `  old key   ${maskKeyId(result.oldKeyId)}  ${result.retired === 'delete' ? 'deleted' : `deactivated (once nothing needs it: \`${targetCommand('prune', { profile: result.profile, ...(authProfile !== undefined ? { authProfile } : {}) }, env)}\`)`}`,
  ];
  if (result.deletedOtherKeyId) lines.push(`  removed   ${maskKeyId(result.deletedOtherKeyId)}  (the other key, to make room)`);
  lines.push(...backupLines(result));
  return `${lines.join('\n')}\n`;
}
