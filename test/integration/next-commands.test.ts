import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { split } from 'shlex';
import { describe, expect, inject, it } from 'vitest';
import { baseEnv, credentialsFile, runCli, startCli, type CliRun, type TempHome } from '../support/cli.js';
import { createAccessKey, createUserWithKey, listKeys, uniqueName, type SeededUser } from '../support/iam.js';
import { FAST, tempFaultProxy, tempHome } from '../support/integration.js';
import { recordsDir } from '../../src/credentials/records.js';

/*
 * Every command the tool prints for the user to run next is complete and shell-quoted: copied into another
 * shell (one without this run's environment), it is accepted and does what the message says. The commands
 * are collected from real runs against moto, split as a POSIX shell splits them (shlex), and run.
 */

const endpoint = inject('motoEndpoint');

/** The commands in a run's output: printed between backticks, whatever the message around them. */
function printedCommands(text: string): string[] {
  return [...text.matchAll(/`([^`]*\baws-rekey\b[^`]*)`/g)].map((m) => m[1]!);
}

/** Outside backticks, a command is only ever a pattern with placeholders for the user to fill in (NAME, ADMIN, FILE…). */
function expectNoBareCommand(text: string): void {
  const outside = text.replace(/`[^`]*`/g, '');
  for (const match of outside.matchAll(/aws-rekey [a-z]+(?: --?[\w-]+(?: (?!--)\S+)?)+/g)) {
    expect(match[0], `a command printed outside backticks must carry a placeholder: ${match[0]}`).toMatch(/\b[A-Z]{3,}\b/);
  }
}

/** The environment of "another shell": only HOME and what every test run has; what the command needs, it carries. */
function freshShell(home: TempHome): NodeJS.ProcessEnv {
  return baseEnv({ HOME: home.home });
}

interface Executed {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  run: CliRun;
}

/**
 * Splits the command as the shell does: leading NAME=value assignments, then `aws-rekey`, then its
 * arguments (and nothing a shell would treat as an operator). Runs it as printed; a command that asks for
 * confirmation gets `--yes`, the answer a person gives at the prompt.
 */
async function runPrinted(command: string, home: TempHome, options: { confirm?: boolean } = {}): Promise<Executed> {
  const strings = split(command);
  for (const word of strings) expect(word, `${command}: only words, no shell operators`).not.toMatch(/^(\||&&?|;|>|<|\$\(|`)/);
  const env = freshShell(home);
  let i = 0;
  for (; i < strings.length && /^[A-Z_][A-Z0-9_]*=/.test(strings[i]!); i++) {
    const [name, ...value] = strings[i]!.split('=');
    env[name!] = value.join('=');
  }
  expect(strings[i], command).toBe('aws-rekey');
  const args = [...strings.slice(i + 1), ...(options.confirm ? ['--yes'] : [])];
  const run = await runCli(args, env);
  // Accepted: whatever else happens, never a usage error (exit 2).
  expect(run.code, `${command}\n${run.stderr}`).not.toBe(2);
  return { command, args, env, run };
}

function only(commands: string[], pattern: RegExp): string {
  const found = commands.filter((c) => pattern.test(c));
  expect(found, `one command matching ${pattern} in ${JSON.stringify(commands)}`).toHaveLength(1);
  return found[0]!;
}

const statusOf = async (userName: string, keyId: string) => (await listKeys(endpoint, userName)).find((k) => k.accessKeyId === keyId)?.status;

/** A credentials file in a folder whose name has a space, pointed at by AWS_SHARED_CREDENTIALS_FILE. */
async function otherFileHome(profiles: Parameters<typeof credentialsFile>[0], runEndpoint = endpoint) {
  const home = await tempHome({ endpoint: runEndpoint });
  const dir = join(home.home, 'work creds');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'credentials');
  await writeFile(path, credentialsFile(profiles), { mode: 0o600 });
  return { home, path, env: { ...home.env, AWS_SHARED_CREDENTIALS_FILE: path } };
}

async function adminScene(): Promise<{ admin: SeededUser; target: SeededUser; home: TempHome }> {
  const admin = await createUserWithKey(endpoint, uniqueName('adm'));
  const target = await createUserWithKey(endpoint, uniqueName('ci'), { path: '/apps/' });
  const home = await tempHome({ endpoint, credentials: credentialsFile({ admin: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey } }) });
  return { admin, target, home };
}

describe('the commands the tool prints run as printed', () => {
  it('a profile in a credentials file with a space in its path: the prune hint after a rotation carries the file, quoted', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('nc-prune'));
    const { home, path, env } = await otherFileHome({ 'my work': { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } });
    const rotated = await runCli(['--profile', 'my work', '--yes', ...FAST], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    expectNoBareCommand(rotated.stderr);
    const prune = only(printedCommands(rotated.stderr), / prune /);
    expect(prune).toContain(`AWS_SHARED_CREDENTIALS_FILE='${path}'`);
    expect(prune).toContain(`--profile 'my work'`);
    const { run } = await runPrinted(prune, home, { confirm: true });
    expect(run.code, run.stderr).toBe(0);
    // It did what it said: the retired key is gone, the new one stays.
    const keys = await listKeys(endpoint, user.userName);
    expect(keys.map((k) => k.status)).toEqual(['Active']);
    expect(keys[0]!.accessKeyId).not.toBe(user.accessKeyId);
  });

  it('a staged rotation signed with --auth-profile: create → the printed retire → status → the printed delete', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('nc-stage'));
    const admin = await createUserWithKey(endpoint, uniqueName('nc-adm'));
    const { home, path, env } = await otherFileHome({
      'my app': { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
      admin: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey },
    });
    const created = await runCli(['rotate', '--profile', 'my app', '--auth-profile', 'admin', '--stage', 'create', '--yes', ...FAST], env);
    expect(created.code, created.stderr).toBe(0);
    expectNoBareCommand(created.stderr);
    const retire = only(printedCommands(created.stderr), /--stage retire/);
    expect(retire).toContain(`--profile 'my app' --auth-profile admin`);

    // While it is under way, a plain rotation is refused; its hint names both ways out, complete.
    const refused = await runCli(['rotate', '--profile', 'my app', '--yes', ...FAST], env);
    expect(refused.code).toBe(2);
    expectNoBareCommand(refused.stderr);
    const ways = printedCommands(refused.stderr);
    expect(ways).toContain(retire);
    const rollback = only(ways, / rollback /);
    expect(rollback).toContain(`AWS_SHARED_CREDENTIALS_FILE='${path}'`);
    expect(rollback).toMatch(/--delete-new$/);
    const dry = await runPrinted(`${rollback} --dry-run`, home);
    expect(dry.run.code, dry.run.stderr).toBe(0);

    const retired = await runPrinted(retire, home, { confirm: true });
    expect(retired.run.code, retired.run.stderr).toBe(0);
    expect(await statusOf(user.userName, user.accessKeyId)).toBe('Inactive');
    expectNoBareCommand(retired.run.stderr);

    // `status`, run from the printed retire's own words (the file is named there), lists what is next.
    const status = await runCli(['status'], retired.env);
    expect(status.code, status.stderr).toBe(0);
    expectNoBareCommand(status.stdout);
    const next = printedCommands(status.stdout);
    const remove = only(next, /--stage delete/);
    expect(next.some((c) => / rollback /.test(c))).toBe(true);
    const deleted = await runPrinted(remove, home, { confirm: true });
    expect(deleted.run.code, deleted.run.stderr).toBe(0);
    expect(await statusOf(user.userName, user.accessKeyId)).toBeUndefined();
    expect(await readdir(await recordsDir(path)).catch(() => [])).toEqual([]);
  });

  it('admin flows (--profile admin --user NAME): every hint names both, and each one runs', async () => {
    const { target, home } = await adminScene();
    const created = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--to-profile', 'ci', '--stage', 'create', '--yes', ...FAST], home.env);
    expect(created.code, created.stderr).toBe(0);
    expectNoBareCommand(created.stderr);
    const retire = only(printedCommands(created.stderr), /--stage retire/);
    expect(retire).toContain(`--user ${target.userName} --profile admin`);

    // A second rotation is refused: finish (retire) or undo (rollback --delete-new), both complete.
    const refused = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--to-profile', 'ci', '--yes', ...FAST], home.env);
    expect(refused.code).toBe(2);
    expectNoBareCommand(refused.stderr);
    const undo = only(printedCommands(refused.stderr), / rollback .*--delete-new/);
    expect(printedCommands(refused.stderr)).toContain(retire);
    const undone = await runPrinted(undo, home, { confirm: true });
    expect(undone.run.code, undone.run.stderr).toBe(0);
    expect((await listKeys(endpoint, target.userName)).map((k) => [k.accessKeyId, k.status])).toEqual([[target.accessKeyId, 'Active']]);

    // --delete-key naming a key that is not the user's: the hint lists the user's keys, as the admin.
    const stray = await createAccessKey(endpoint, target.userName);
    const wrong = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--to-profile', 'ci', '--key', target.accessKeyId, '--delete-key', 'AKIAIOSFODNN7EXAMPLE', '--yes'], home.env);
    expect(wrong.code, wrong.stderr).toBe(2);
    expectNoBareCommand(wrong.stderr);
    const keys = only(printedCommands(wrong.stderr), / keys /);
    expect(keys).toContain(`keys --user ${target.userName} --profile admin`);
    const listed = await runPrinted(keys, home);
    expect(listed.run.code, listed.run.stderr).toBe(0);
    expect(listed.run.stdout).toContain(target.accessKeyId);
    expect(listed.run.stdout).toContain(stray.accessKeyId);

    // A staged rotation again, to its end through the printed commands.
    await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--key', target.accessKeyId, '--delete-key', stray.accessKeyId, '--to-profile', 'ci', '--stage', 'create', '--yes', '--force', ...FAST], home.env).then((run) =>
      expect(run.code, run.stderr).toBe(0),
    );
    const status = await runCli(['status'], home.env);
    const staged = only(printedCommands(status.stdout), /--stage retire/);
    expect(staged).toContain('--profile admin');
    expect((await runPrinted(staged, home, { confirm: true })).run.code).toBe(0);
    expect(await statusOf(target.userName, target.accessKeyId)).toBe('Inactive');
    const after = await runCli(['status'], home.env);
    const remove = only(printedCommands(after.stdout), /--stage delete/);
    expect((await runPrinted(remove, home, { confirm: true })).run.code).toBe(0);
    expect(await statusOf(target.userName, target.accessKeyId)).toBeUndefined();

    // The admin's own name as --user: the hint rotates the admin profile instead.
    const own = await runCli(['rotate', '--user', (await adminName(home)), '--profile', 'admin', '--to-profile', 'x', '--yes'], home.env);
    expect(own.code).toBe(2);
    const self = only(printedCommands(own.stderr), / rotate /);
    expect((await runPrinted(`${self} --dry-run`, home)).run.code).toBe(0);
  });

  it('an interrupted rotation in a non-default file: the printed recover (from the error, status and keys) finishes it', async () => {
    const proxy = await tempFaultProxy(endpoint);
    const user = await createUserWithKey(endpoint, uniqueName('nc-int'));
    const { home, path, env } = await otherFileHome({ 'my work': { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } }, proxy.endpoint);
    proxy.setNewKeyDelay(120_000);
    const cli = startCli(['--profile', 'my work', '--yes', '--verify-timeout', '60'], env);
    await waitFor(() => proxy.log.some((e) => e.action === 'GetCallerIdentity' && e.accessKeyId !== user.accessKeyId && e.status === 403));
    cli.child.kill('SIGINT');
    const stopped = await cli.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expectNoBareCommand(stopped.stderr);
    const recover = only(printedCommands(stopped.stderr), / recover /);
    expect(recover).toContain(`AWS_SHARED_CREDENTIALS_FILE='${path}'`);
    expect(recover).toContain(`AWS_ENDPOINT_URL=${proxy.endpoint}`);
    expect(recover).toContain(`--profile 'my work'`);

    proxy.setNewKeyDelay(0);
    const status = await runCli(['status'], env);
    expect(printedCommands(status.stdout)).toEqual([recover]);
    const keys = await runCli(['keys', '--profile', 'my work'], env);
    expect(keys.code, keys.stderr).toBe(0);
    expect(printedCommands(keys.stderr)).toEqual([recover]);

    const recovered = await runPrinted(recover, home);
    expect(recovered.run.code, recovered.run.stderr).toBe(0);
    expect(recovered.run.stderr).toMatch(/is finished/);
    expect(await statusOf(user.userName, user.accessKeyId)).toBe('Inactive');
    expect(await readdir(await recordsDir(path)).catch(() => [])).toEqual([]);
  });
});

async function adminName(home: TempHome): Promise<string> {
  const run = await runCli(['keys', '--profile', 'admin', '--json'], home.env);
  return (JSON.parse(run.stdout) as { user: { name: string } }).user.name;
}

async function waitFor(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
