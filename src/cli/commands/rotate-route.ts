import { describeNotDue } from '../../core/due.js';
import { plural } from '../../core/plural.js';
import { maskKeyId } from '../../core/mask.js';
import { resolveRotateMode, type RotateMode } from '../../core/rotate-mode.js';
import { ExitCode } from '../../errors.js';
import type { Prompter, Reporter } from '../../rotation/ports.js';
import type { RotateResult } from '../../flows/rotate-profile.js';
import { rotateMany, type RotateManyResult } from '../../flows/rotate-many.js';
import { rotateUser, type RotateUserResult } from '../../flows/rotate-user.js';
import { createStageForProfile, deleteStage, retireStage, type StageResult } from '../../flows/staged.js';
import { refuseIfProfileStaged } from '../../flows/staged-guards.js';
import { ageGateOf, mfaCodeOf, profilesOf, verifyOptionsFromFlags, type RotateFlags } from '../flags.js';
import { createPorts, createSecretOutput, painter, useColor, type CliStreams } from '../io.js';
import { withInterrupts } from '../signals.js';
import { targetCommand } from '../../core/next-command.js';
import { backupLines, newKeyLine } from '../profile-summary.js';

/**
 * `rotate` beyond one profile's plain rotation: --user, --stage, several profiles, --all. Returns the exit
 * code, or undefined for a plain rotation (which src/cli/commands/rotate.ts runs as before).
 */
export async function routeRotate(flags: RotateFlags, streams: CliStreams, plainOptions: () => Parameters<typeof createStageForProfile>[0]): Promise<number | undefined> {
  const mfaCode = mfaCodeOf(flags);
  const mode = resolveRotateMode({ ...flags, profiles: profilesOf(flags), deleteOld: flags.delete, mfa: Boolean(flags.mfa || flags.mfaSerial !== undefined), mfaCode });
  const json = flags.json ?? false;
  const { reporter, prompter } = createPorts(streams, json);
  const verify = verifyOptionsFromFlags(flags);

  if (mode.kind === 'profile') {
    if (mode.stage === undefined) {
      await refuseIfProfileStaged(mode.profile, streams.env);
      return undefined;
    }
    if (mode.stage === 'create') {
      const result = await withInterrupts(streams.stderr, (signal) => createStageForProfile(plainOptions(), { reporter, prompter, signal }));
      write(streams, json, result, () => summarizeStagedCreate(result, flags.authProfile, streams.env));
      return ExitCode.ok;
    }
    const stageOptions = { profile: mode.profile, authProfile: flags.authProfile, mfaCode, force: flags.force, dryRun: flags.dryRun, yes: flags.yes, env: streams.env };
    const run = mode.stage === 'retire' ? retireStage : deleteStage;
    const result = await withInterrupts(streams.stderr, (signal) => run(stageOptions, { reporter, prompter, signal }));
    write(streams, json, result, () => summarizeStage(result));
    return ExitCode.ok;
  }

  if (mode.kind === 'user') return runUser(mode, { ...flags, mfaCode }, streams, reporter, prompter, verify);

  const result = await withInterrupts(streams.stderr, (signal) =>
    rotateMany(
      {
        profiles: mode.profiles,
        authProfile: flags.authProfile,
        mfaCode,
        deleteOld: flags.delete,
        ifOlderThan: ageGateOf(flags, streams.env),
        dryRun: flags.dryRun,
        yes: flags.yes,
        verify,
        env: streams.env,
      },
      { reporter, prompter, signal },
    ),
  );
  if (json) streams.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else streams.stderr.write(await renderManySummary(result, useColor(streams.stderr, streams.env), flags.dryRun ?? false));
  return result.exitCode;
}

async function runUser(
  mode: Extract<RotateMode, { kind: 'user' }>,
  flags: RotateFlags,
  streams: CliStreams,
  reporter: Reporter,
  prompter: Prompter,
  verify: ReturnType<typeof verifyOptionsFromFlags>,
): Promise<number> {
  const json = flags.json ?? false;
  if (mode.stage === 'retire' || mode.stage === 'delete') {
    const run = mode.stage === 'retire' ? retireStage : deleteStage;
    const options = { userName: mode.userName, adminProfile: mode.adminProfile, mfaCode: flags.mfaCode, force: flags.force, dryRun: flags.dryRun, yes: flags.yes, env: streams.env };
    const result = await withInterrupts(streams.stderr, (signal) => run(options, { reporter, prompter, signal }));
    write(streams, json, result, () => summarizeStage(result));
    return ExitCode.ok;
  }
  const destination = mode.destination;
  if (!destination) throw new Error('a destination is required');
  const result = await withInterrupts(streams.stderr, (signal) =>
    rotateUser(
      {
        userName: mode.userName,
        adminProfile: mode.adminProfile,
        mfaCode: flags.mfaCode,
        keyId: mode.keyId,
        destination,
        force: flags.force,
        deleteOld: flags.delete,
        deleteKeyId: flags.deleteKey?.trim(),
        keepOld: mode.stage === 'create',
        ifOlderThan: ageGateOf(flags, streams.env),
        dryRun: flags.dryRun,
        yes: flags.yes,
        verify,
        env: streams.env,
      },
      // The secret goes to stdout and nowhere else, flushed before the old key is retired. An --exec
      // command's output goes to stderr, never to stdout (which holds --json's document).
      { reporter, prompter, signal, secretOutput: createSecretOutput(streams, json), commandOutput: (line) => streams.stderr.write(`  exec | ${line}\n`) },
    ),
  );
  if (json) {
    streams.stdout.write(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
    return ExitCode.ok;
  }
  streams.stderr.write(summarizeUser(result, streams.env));
  return ExitCode.ok;
}

function write<T extends object>(streams: CliStreams, json: boolean, result: T, human: () => string): void {
  if (json) streams.stdout.write(`${JSON.stringify({ ok: true, ...result }, null, 2)}\n`);
  else streams.stderr.write(human());
}

function summarizeStagedCreate(result: RotateResult, authProfile: string | undefined, env: NodeJS.ProcessEnv): string {
  if (result.notDue) return `Profile ${result.profile}: ${describeNotDue(result.notDue)}. No staged rotation was started.\n`;
  if (result.status === 'planned') return 'Dry run: nothing was changed.\n';
  if (result.status === 'recovered') return '\nAn earlier interrupted rotation was finished or undone instead. Run the command again to start the staged rotation.\n';
  const lines = [
    '',
    `Staged rotation of ${result.user.name} (${result.user.arn}): stage 'created'.`,
    newKeyLine(result),
    `  old key   ${maskKeyId(result.oldKeyId)}  still active`,
  ];
  lines.push(...backupLines(result));
  const retire = targetCommand('rotate', { profile: result.profile, ...(authProfile !== undefined ? { authProfile } : {}) }, env, '--stage', 'retire');
  lines.push(`Next: give the new key to everything that uses the old one, then run \`${retire}\`.`);
  return `${lines.join('\n')}\n`;
}

function summarizeStage(result: StageResult): string {
  if (result.status === 'planned') return 'Dry run: nothing was changed.\n';
  const r = result.rotation ?? result.before;
  const who = r.mode === 'user' ? `user ${r.userName}` : `profile ${r.profile}`;
  if (!result.rotation) return `\nThe staged rotation of ${who} is over${result.action === 'rollback' ? ': the old key is back' : ''}.\n`;
  return `\nStaged rotation of ${who}: stage '${result.rotation.stage}'. Next: ${result.rotation.next}.\n`;
}

function summarizeUser(result: RotateUserResult, env: NodeJS.ProcessEnv): string {
  if (result.notDue) return `User ${result.user.name}: ${describeNotDue(result.notDue)}. Nothing was changed.\n`;
  if (result.status === 'planned') return 'Dry run: nothing was changed.\n';
  if (result.status === 'recovered') {
    return result.outcome === 'finished'
      ? `\nThe earlier rotation of ${result.user.name} was finished${result.destination?.kind === 'stdout' ? ' (the new key is printed on stdout)' : ''}. Run aws-rekey again to rotate anew.\n`
      : `\nThe earlier rotation of ${result.user.name} was undone: the old key is active, no new key is left behind.\n`;
  }
  const where = result.destination ? describeWhere(result) : '';
  const lines = [
    '',
    `${result.status === 'staged' ? 'Staged rotation of' : 'Rotated the access key of'} ${result.user.name} (${result.user.arn}) as profile ${result.adminProfile}.`,
    `  new key   ${maskKeyId(result.newKeyId ?? '')}  ${where}`,
    result.status === 'staged'
      ? `  old key   ${maskKeyId(result.oldKeyId)}  still active. Next: roll the new key out, then \`${targetCommand('rotate', { userName: result.user.name, adminProfile: result.adminProfile }, env, '--stage', 'retire')}\`.`
      : `  old key   ${maskKeyId(result.oldKeyId)}  ${result.retired === 'delete' ? 'deleted' : 'deactivated'}`,
  ];
  if (result.deletedOtherKeyId) lines.push(`  removed   ${maskKeyId(result.deletedOtherKeyId)}  (the other key, to make room)`);
  if (result.backupPath) lines.push(`  backup    ${result.backupPath}`);
  return `${lines.join('\n')}\n`;
}

function describeWhere(result: RotateUserResult): string {
  const d = result.destination!;
  switch (d.kind) {
    case 'file':
      return `written to ${d.path} (0600)`;
    case 'profiles':
      return `in profile${d.profiles.length > 1 ? 's' : ''} ${d.profiles.join(', ')} of ${d.credentialsPath}`;
    case 'stdout':
      return 'printed on stdout';
    case 'secret':
      return `in the Secrets Manager secret ${d.name} (AWSCURRENT)`;
    case 'parameter':
      return `in the SSM parameter ${d.name} (SecureString)`;
    case 'env':
      return `in ${d.path} (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; 0600)`;
    case 'exec':
      return `handed to "${d.command}" (exit code 0)`;
  }
}

export async function renderManySummary(result: RotateManyResult, color: boolean, dryRun: boolean): Promise<string> {
  // Imported here: a single rotation, which shows no table, need not load a table library.
  const { default: Table } = await import('cli-table3');
  const paint = painter(color);
  const table = new Table({
    head: ['profiles', 'user', 'old key', 'new key', 'result', 'detail'],
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
    wordWrap: true,
    colWidths: [null, null, null, null, null, 60],
  });
  for (const entry of result.results) {
    const extra = entry.updatedProfiles?.filter((p) => !entry.profiles.includes(p)) ?? [];
    const outcome =
      entry.status === 'failed' || entry.status === 'skipped'
        ? paint('red', entry.status)
        : entry.status === 'planned' || entry.status === 'incomplete'
          ? paint('yellow', entry.status)
          : entry.status === 'not-due'
            ? entry.status
            : paint('green', entry.status);
    const detail = entry.error
      ? `${entry.error.code}: ${entry.error.message}`
      : entry.status === 'rotated'
        ? `old key ${entry.retired === 'delete' ? 'deleted' : 'deactivated'}${extra.length ? `; also updated ${extra.join(', ')}` : ''}`
        : entry.status === 'planned'
          ? `${entry.plan?.length ?? 0} steps (plan above)`
          : entry.notDue
            ? describeNotDue(entry.notDue)
            : '';
    table.push([
      entry.profiles.join(', '),
      entry.user?.name ?? '-',
      entry.oldKeyId ? maskKeyId(entry.oldKeyId) : '-',
      entry.newKeyId ? maskKeyId(entry.newKeyId) : '-',
      outcome,
      detail,
    ]);
  }
  const failed = result.results.filter((r) => r.status === 'failed' || r.status === 'skipped' || r.status === 'incomplete').length;
  const done = result.results.filter((r) => r.status === 'rotated' || r.status === 'recovered').length;
  const waiting = result.results.filter((r) => r.status === 'not-due').length;
  const notDue = waiting ? `, ${waiting} not due` : '';
  const headline = dryRun
    ? `Dry run: nothing was changed. ${plural(result.results.length - failed - waiting, 'rotation')} planned, ${failed} refused${notDue}.`
    : `${done} of ${plural(result.results.length - waiting, 'rotation')} done${failed ? `, ${failed} failed` : ''}${notDue}.`;
  const skipped = result.skipped.length > 0 ? `Skipped (no long-lived key): ${result.skipped.map((p) => `${p.profile} (${p.reason})`).join(', ')}.\n` : '';
  return `\n${table.toString()}\n${headline}\n${skipped}`;
}
