import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { redactSecrets } from '../core/mask.js';
import { ExitCode, isRekeyError, UsageError } from '../errors.js';
import { version } from '../version.js';
import { commandWord, nearestWord, rewriteSingleDash, SINGLE_DASH_NOTE } from './argv.js';
import { nextCommand } from '../core/next-command.js';
import { shellQuote } from '../core/shell.js';
import type { CliStreams } from './io.js';
import { painter, useColor } from './io.js';

/** --mfa-code, alike for every command whose credentials may come from a role profile. */
const MFA_CODE_HELP = 'the current code of the MFA device (mfa_serial) of the role profile that makes the calls (--profile or --auth-profile), for a run without a prompt; asked for on a terminal otherwise';

/** The one place that decides exit codes and prints errors. Commands are imported only when they run. */
export async function main(argv: string[], streams: CliStreams = defaultStreams()): Promise<void> {
  let json = argv.includes('--json');
  try {
    const words = { rotateNamed: false };
    const program = buildProgram(streams, (value) => (json = value), words);
    const args = rewriteSingleDash(argv, program);
    words.rotateNamed = commandWord(args, program) === 'rotate';
    await program.parseAsync(args, { from: 'user' });
    process.exitCode = process.exitCode ?? ExitCode.ok;
  } catch (error) {
    process.exitCode = reportError(error, streams, json);
  }
}

function defaultStreams(): CliStreams {
  return {
    // Made by Node on first use: only a prompt reads it.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  };
}

/** `rotateNamed`: the word rotate was given. `rotate PROFILE` needs it: `aws-rekey stauts` is a mistyped command, not a profile. */
function buildProgram(streams: CliStreams, setJson: (json: boolean) => void, words: { rotateNamed: boolean }): Command {
  const program = new Command('aws-rekey')
    .description('Rotate AWS IAM access keys safely: create, save, verify, then retire the old key.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
      getOutHelpWidth: () => helpWidth(streams.stdout),
      getErrHelpWidth: () => helpWidth(streams.stderr),
      outputError: () => undefined,
    })
    .addHelpText('after', `\n${SINGLE_DASH_NOTE}`);
  /** A command's action: its --json decides how an error is reported; its module is imported only when it runs. */
  const run =
    <Flags extends { json?: boolean }>(load: () => Promise<(flags: Flags, streams: CliStreams) => Promise<number>>) =>
    async (flags: Flags): Promise<void> => {
      setJson(Boolean(flags.json));
      process.exitCode = await (await load())(flags, streams);
    };

  program
    .command('rotate', { isDefault: true })
    .description('rotate the access key of a profile in the shared credentials file (the default command); with --user, another IAM user\'s key')
    .argument('[profile]', 'profile whose key is rotated (same as --profile; after the word rotate)')
    .option('--profile <name>', 'profile whose key is rotated (default: $AWS_PROFILE or $AWS_DEFAULT_PROFILE, else "default"); repeat it to rotate several; with --user, the admin\'s profile', collectProfiles)
    .option('--profiles <a,b,c>', 'several profiles, comma-separated (same as repeating --profile)', commaList)
    .option('--all', 'rotate every profile that holds a long-lived key, in the credentials file or the config file (profiles sharing a key: once)')
    .option('--auth-profile <name>', "make the IAM calls with this profile's credentials (static, role, SSO, credential_process)")
    .option('--user <name>', "admin: rotate this IAM user's key with your own credentials (needs one destination: --out, --to-profile, --print-secret, --to-secret, --to-parameter, --to-env or --exec)")
    .option('--key <akid>', 'with --user: the key to rotate, when the user has two')
    .option('--out <file>', 'with --user: write the new key to this new file, mode 0600 (credentials format; JSON if it ends in .json)')
    .option('--to-profile <name>', 'with --user: write the new key to this profile of your credentials file')
    .option('--print-secret', 'with --user: print the new key on stdout (the only copy)')
    .option('--to-secret <name>', 'with --user: put the new key in this AWS Secrets Manager secret (created, or a new AWSCURRENT version), as JSON')
    .option('--to-parameter <name>', 'with --user: put the new key in this SSM Parameter Store SecureString parameter (created, or a new version), as JSON')
    .option('--kms-key-id <id>', 'with --to-parameter: the KMS key that encrypts it (default: the account\'s aws/ssm key)')
    .option('--to-env <file>', 'with --user: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in this dotenv file (the rest kept as it is; mode 0600, with a backup)')
    .option('--exec <cmd>', 'with --user: once the new key works, run CMD (no shell; split like credential_process) with the key as JSON on its standard input; a failure undoes the rotation')
    .addOption(new Option('--exec-timeout <seconds>', 'with --exec: how long CMD may run before it counts as failed (default 60)').argParser(positiveNumber))
    .option('--force', 'overwrite an existing --out file, --to-profile key or --to-env key; with --stage retire, retire a key that is still used')
    .addOption(new Option('--stage <stage>', 'staged rotation for keys used by applications: create (new key, old stays active), retire (deactivate the old key if unused since), delete (delete the inactive old key)').choices(['create', 'retire', 'delete']))
    .option('-y, --yes', 'do not ask for confirmation')
    .option('-d, --delete', 'delete the old key instead of deactivating it')
    .option('--mfa', "make the IAM calls in an MFA session (sts:GetSessionToken) of the profile's own key")
    .option('--mfa-serial <arn>', 'MFA device ARN (implies --mfa; default: the user\'s first device)')
    .option('--mfa-code <code>', `${MFA_CODE_HELP}; without such a role, the code of the --mfa session (implies --mfa)`)
    .option('--delete-key <akid>', "allow deleting this other *active* key of the user to make room for the new one")
    .option('--dry-run', 'show the plan and run the read-only pre-flight checks; change nothing')
    .addOption(new Option('--if-older-than <days>', 'rotate only a key at least this many days old; a younger one is left alone ("not due until DATE", exit 0)').argParser(positiveInteger))
    .option('--json', 'print one JSON document on stdout; never prompt (use with --yes to act)')
    .addOption(new Option('--verify-timeout <seconds>', 'how long to wait for AWS to accept the new key').default(30).argParser(positiveNumber))
    .addOption(new Option('--verify-successes <n>', 'consecutive successful checks that prove the new key works').default(3).argParser(positiveInteger))
    .addHelpText('after', `\n${SINGLE_DASH_NOTE}`)
    .action(async (profile: string | undefined, options) => {
      setJson(Boolean(options.json));
      if (profile !== undefined && !words.rotateNamed) throw unknownCommand(profile, program.commands.map((command) => command.name()));
      const { runRotate } = await import('./commands/rotate.js');
      process.exitCode = await runRotate({ ...options, positionalProfile: profile }, streams);
    });

  program
    .command('status')
    .description('list the staged rotations (and interrupted ones) recorded next to the credentials file, and what to run next')
    .option('--json', 'print one JSON document on stdout')
    .action(run(async () => (await import('./commands/status.js')).runStatus));

  program
    .command('rollback')
    .description("undo a staged rotation: reactivate the old key; with --delete-new, also delete the new key and put the old one back")
    .option('--profile <name>', 'the profile of the staged rotation; with --user, the admin\'s profile (default: $AWS_PROFILE or $AWS_DEFAULT_PROFILE, else "default")')
    .option('--auth-profile <name>', "make the IAM calls with this profile's credentials")
    .option('--user <name>', "the IAM user of a staged rotation started with --user")
    .option('--mfa-code <code>', MFA_CODE_HELP)
    .option('--delete-new', 'also delete the new key and take it out of where it went (a profile gets the old key back)')
    .option('--force', 'with --delete-new: delete the new key even though IAM saw it used after it was created')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'show what would be done and change nothing')
    .option('--json', 'print one JSON document on stdout')
    .addOption(new Option('--verify-timeout <seconds>', 'with --delete-new: how long to wait for AWS to accept the old key again').default(30).argParser(positiveNumber))
    .addOption(new Option('--verify-successes <n>', 'with --delete-new: consecutive successful checks that prove the old key works').default(3).argParser(positiveInteger))
    .action(run(async () => (await import('./commands/rollback.js')).runRollback));

  program
    .command('recover')
    .description('finish or undo a rotation that was interrupted (crash, Ctrl-C, network failure)')
    .option('--profile <name>', 'profile whose rotation is recovered (default: $AWS_PROFILE or $AWS_DEFAULT_PROFILE, else "default")')
    .option('--auth-profile <name>', "make the IAM calls with this profile's credentials")
    .option('--mfa-code <code>', MFA_CODE_HELP)
    .option('--dry-run', 'show what would be done and change nothing')
    .option('--json', 'print one JSON document on stdout')
    .addOption(new Option('--verify-timeout <seconds>', 'how long to wait for AWS to accept the new key').default(30).argParser(positiveNumber))
    .addOption(new Option('--verify-successes <n>', 'consecutive successful checks that prove the new key works').default(3).argParser(positiveInteger))
    .action(run(async () => (await import('./commands/recover.js')).runRecover));

  program
    .command('keys')
    .description("list an IAM user's access keys (only reads): status, age, last use, which profiles hold them")
    .option('--profile <name>', 'whose user is listed: a profile of any kind (keys in either file, role_arn, credential_process, SSO); default: $AWS_PROFILE, else the environment\'s keys, else the default chain')
    .option('--auth-profile <name>', "make the IAM calls with this profile's credentials")
    .option('--mfa-code <code>', MFA_CODE_HELP)
    .option('--user <name>', "list this IAM user's keys (with --profile's credentials)")
    .option('--json', 'print one JSON document on stdout')
    .action(run(async () => (await import('./commands/keys.js')).runKeys));

  program
    .command('prune')
    .description("delete the user's retired keys: inactive and held by no profile (never an active key); shows their last use")
    .option('--profile <name>', 'profile whose IAM user is pruned, and whose credentials make the calls (default: $AWS_PROFILE or $AWS_DEFAULT_PROFILE, else "default")')
    .option('--auth-profile <name>', "make the IAM calls with this profile's credentials")
    .option('--user <name>', "admin: prune this IAM user's keys instead")
    .option('--mfa-code <code>', MFA_CODE_HELP)
    .option('--key <akid>', 'only this key (refused when it is active or a profile holds it)')
    .option('--older-than <days>', 'only keys unused for at least this many days (never used: since creation)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'show what would be deleted and change nothing')
    .option('--json', 'print one JSON document on stdout; never prompt (use with --yes to act)')
    .action(run(async () => (await import('./commands/prune.js')).runPrune));

  program
    .command('audit')
    .description("every IAM user's access keys against the CIS rules: age, last use, two active keys, root keys")
    .option('--profile <name>', 'call IAM with the credentials of this profile, of any kind (default: $AWS_PROFILE or $AWS_DEFAULT_PROFILE, else the default chain)')
    .option('--auth-profile <name>', 'same as --profile (wins over it)')
    .option('--mfa-code <code>', MFA_CODE_HELP)
    .addOption(new Option('--source <source>', 'credential report, per-user calls, or the report when allowed and fresh').choices(['auto', 'report', 'api']).default('auto'))
    .option('--user <name>', 'audit only this user (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--path-prefix <path>', 'audit only users whose path starts with this, e.g. /engineering/')
    .option('--max-age <days>', 'an active key older than this is a finding (default 90)')
    .option('--max-unused <days>', 'an active key unused for this long is a finding (default 45; never used counts from creation)')
    .option('--only-findings', 'list only the keys with findings')
    .option('--json', 'print one JSON document on stdout')
    .addOption(new Option('--csv', 'print CSV on stdout, one row per key').conflicts('json'))
    .option('--fail', 'exit with code 4 when there are findings (for CI)')
    .action(run(async () => (await import('./commands/audit.js')).runAudit));

  const org = program
    .command('org')
    .description('the organisation engine from a workstation: every account of the organisation (--role), or the current one');
  const orgOptions = (command: Command) =>
    command
      .option('--profile <name>', 'call AWS with the credentials of this profile (in the management or delegated-administrator account with --role)')
      .option('--mfa-code <code>', MFA_CODE_HELP)
      .option('--role <name>', 'assume this role in each account of the organisation (listed with organizations:ListAccounts); without it, only the current account')
      .option('--rotate-after <days>', 'rotate an active key this many days old (default 90)')
      .option('--deactivate-after <days>', 'deactivate the old key this many days after its replacement was delivered (default 7)')
      .option('--delete-after <days>', 'delete a key aws-rekey deactivated this many days after (default 7)')
      .option('--warn-before <days>', 'warn the owner this many days before each action (default 7)')
      .option('--unused-after <days>', 'report an active key unused this long (default 45)')
      .option('--exempt-group <name>', 'members of this IAM group are exempt (repeatable)', collectList)
      .option('--include-account <id>', 'only these accounts (repeatable, or comma-separated)', collectList)
      .option('--exclude-account <id>', 'never these accounts (repeatable, or comma-separated)', collectList)
      .option('--include-ou <id>', 'only accounts under these OUs (repeatable)', collectList)
      .option('--exclude-ou <id>', 'never accounts under these OUs (repeatable)', collectList)
      .option('--json', 'print one JSON document on stdout')
      .addOption(new Option('--csv', 'print CSV on stdout, one row per key').conflicts('json'))
      .option('--fail', 'exit with code 4 when a key is due for an action or needs a person (for CI)')
      .option('--all', 'list every key with its id and owner, also those that need nothing now (two more requests per such user)');
  orgOptions(org.command('report').description('every key against the policy, with what is due and when, the exemptions and Trusted Advisor levels; changes nothing')).action(
    async (options) => {
      setJson(Boolean(options.json));
      const { runOrgCommand } = await import('./commands/org.js');
      process.exitCode = await runOrgCommand({ ...options, mode: 'report' }, streams);
    },
  );
  orgOptions(org.command('run').description('run the engine in a mode: notify sends the decision events (SNS) and owner mails (SES); enforce also rotates (into the secret aws-rekey/USER), deactivates and deletes keys as due'))
    .addOption(new Option('--mode <mode>', 'what the run may do').choices(['report', 'notify', 'enforce']).makeOptionMandatory())
    .option('--topic-arn <arn>', 'notify: publish one JSON event per decision to this SNS topic')
    .option('--mail-from <address>', 'notify: mail the owners (user tag aws-rekey:owner) from this verified SES identity')
    .addOption(new Option('--digest <kind>', 'with --mail-from: owner (one mail per owner and account instead of one per user) or account (also one summary per account to --digest-to)').choices(['off', 'owner', 'account']))
    .option('--digest-to <address>', 'with --digest account: where the account digest goes (repeatable, or comma-separated)', collectList)
    .option('--dry-run', 'show what the run would do (the report of its plan) and change or send nothing')
    .option('-y, --yes', 'go ahead without asking (without a terminal to ask on, required: the run sends mails, and enforce changes keys)')
    .addOption(new Option('--verify-timeout <seconds>', 'enforce: how long to wait for AWS to accept each new key').default(30).argParser(positiveNumber))
    .addOption(new Option('--verify-successes <n>', 'enforce: consecutive successful checks that prove a new key works').default(3).argParser(positiveInteger))
    .action(run(async () => (await import('./commands/org.js')).runOrgCommand));

  program
    .command('policy')
    .description('print the least-privilege IAM policy that aws-rekey needs (JSON)')
    .option('--mfa', 'require MFA (aws:MultiFactorAuthPresent) for the actions that change keys')
    .option('--admin', "rotate any user's keys and audit the account, not only your own keys")
    .addOption(new Option('--partition <name>', 'ARN partition').choices(['aws', 'aws-cn', 'aws-us-gov']).default('aws'))
    .addOption(new Option('--org <role>', "an organisation role's policy instead (docs/deploy.md)").choices(['planner', 'worker', 'member', 'config-rule']))
    .option('--trust', 'with --org: the role\'s trust policy instead of its permissions')
    .option('--member-role-name <name>', 'with --org: the member role\'s name (default aws-rekey-member)')
    .option('--worker-role-arn <arn>', 'with --org member --trust: the worker role the member role trusts')
    .option('--queue-arn <arn>', 'with --org: the accounts queue')
    .option('--topic-arn <arn>', 'with --org: the SNS topic of the decision events')
    .option('--mail-identity-arn <arn>', 'with --org: the SES identity the owner mails come from')
    .action(async (options) => {
      const { runPolicy } = await import('./commands/policy.js');
      process.exitCode = await runPolicy(options, streams);
    });

  const schedule = program
    .command('schedule')
    .description("rotate when due, unattended: a job of your platform's scheduler (systemd user timer, else cron; launchd; Task Scheduler) that runs 'rotate --yes --if-older-than DAYS'");
  schedule
    .command('install')
    .description('install the job, or replace the one installed (never two)')
    .addOption(new Option('--every <interval>', 'how often the job checks: 1h, 2h, 3h, 4h, 6h, 8h, 12h, 1d or 1w (at minute 17; daily and weekly at 09:17)').default('1d'))
    .addOption(new Option('--if-older-than <days>', 'rotate a key once it is this many days old').default(90).argParser(positiveInteger))
    .option('--profile <name>', 'profile to rotate (repeatable; default: the default profile)', collectProfiles)
    .option('--profiles <a,b,c>', 'several profiles, comma-separated', commaList)
    .option('--all', 'every profile that holds a long-lived key, in the credentials file or the config file')
    .option('--auth-profile <name>', "make the IAM calls with this profile's credentials")
    .option('-d, --delete', 'delete the old key instead of deactivating it')
    .option('--json', 'print one JSON document on stdout')
    .action(run(async () => (await import('./commands/schedule.js')).runScheduleInstall));
  schedule
    .command('status')
    .description('whether the job is installed, its last run and result (from the log), and its next run')
    .option('--json', 'print one JSON document on stdout')
    .action(run(async () => (await import('./commands/schedule.js')).runScheduleStatus));
  schedule
    .command('remove')
    .description('remove the job (the log stays)')
    .option('--json', 'print one JSON document on stdout')
    .action(run(async () => (await import('./commands/schedule.js')).runScheduleRemove));
  schedule
    .command('run', { hidden: true })
    .description('what the job runs: aws-rekey schedule run -- rotate --yes …, logged beside the records')
    .argument('<args...>')
    .action(async (args: string[]) => {
      const { runScheduleRun } = await import('./commands/schedule.js');
      process.exitCode = await runScheduleRun(args, streams);
    });

  return program;
}

/**
 * Help wraps at 80 columns, or at a narrower terminal's width. The same text at every width from 80 up is what
 * lets bin/aws-rekey answer `--help` from dist/bundle/help.json without loading the CLI.
 */
export function helpWidth(stream: NodeJS.WriteStream): number {
  return stream.isTTY && stream.columns > 0 && stream.columns < 80 ? stream.columns : 80;
}

/** Every command's words, the program's own (`[]`) first: `['schedule', 'install']`, hidden ones included. */
export function commandPaths(): string[][] {
  const streams = defaultStreams();
  const program = buildProgram(streams, () => undefined, { rotateNamed: false });
  const walk = (command: Command, path: string[]): string[][] => [path, ...command.commands.flatMap((sub) => walk(sub, [...path, sub.name()]))];
  return walk(program, []);
}

function unknownCommand(word: string, commands: string[]): UsageError {
  const nearest = nearestWord(word, commands);
  const rotate = `To rotate a profile by name: \`${nextCommand(['rotate', word], {})}\` (or --profile ${shellQuote(word)}).`;
  return nearest
    ? new UsageError(`unknown command '${word}': did you mean '${nearest}'?`, `Run \`${nextCommand([nearest, '--help'], {})}\` for its options. ${rotate}`)
    : new UsageError(`unknown command '${word}'.`, `${rotate} Run \`aws-rekey --help\` for the commands.`);
}

function collectProfiles(value: string, previous: string | string[] | undefined): string | string[] {
  return previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
}

function commaList(value: string, previous: string[] = []): string[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError('expected profile names separated by commas, e.g. --profiles work,personal.');
  return [...previous, ...names];
}

function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('expected a number of seconds greater than 0.');
  return number;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InvalidArgumentError('expected a whole number greater than 0.');
  return number;
}

function reportError(error: unknown, streams: CliStreams, json: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
    const message = error.message.replace(/^error: /, '');
    return printError(streams, json, { code: 'USAGE', message, hint: "Run 'aws-rekey --help' for the commands and options." }, ExitCode.usage);
  }
  if (isExitPrompt(error)) {
    return printError(streams, json, { code: 'INTERRUPTED', message: 'Interrupted at the prompt. Nothing was changed.' }, ExitCode.interrupted);
  }
  if (isRekeyError(error)) {
    return printError(streams, json, { code: error.code, message: error.message, hint: error.hint }, error.exitCode);
  }
  // The name and message only: a stack trace names the machine's paths and is no use to the person running it.
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return printError(
    streams,
    json,
    { code: 'INTERNAL', message: `Unexpected error: ${message}`, hint: 'This is a bug in aws-rekey; please report it with this message.' },
    ExitCode.failure,
  );
}

function isExitPrompt(error: unknown): boolean {
  return error instanceof Error && error.name === 'ExitPromptError';
}

function printError(streams: CliStreams, json: boolean, raw: { code: string; message: string; hint?: string }, exitCode: number): number {
  const error = { ...raw, message: redactSecrets(raw.message), ...(raw.hint === undefined ? {} : { hint: redactSecrets(raw.hint) }) };
  if (json) {
    streams.stdout.write(`${JSON.stringify({ schemaVersion: 1, ok: false, error: { ...error, exitCode } }, null, 2)}\n`);
  }
  const paint = painter(useColor(streams.stderr, streams.env));
  streams.stderr.write(`${paint('red', 'error:')} ${error.message}\n`);
  if (error.hint) streams.stderr.write(`${paint('dim', 'hint:')} ${error.hint}\n`);
  return exitCode;
}
