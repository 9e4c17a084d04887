import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { recordsDir, recordsRoot } from '../../src/credentials/records.js';
import { credentialsFile, runCli, type CliRun, type TempHome } from '../support/cli.js';
import { createAccessKey, createUserWithKey, listKeys, uniqueName, type SeededUser } from '../support/iam.js';
import { FAST, tempHome } from '../support/integration.js';
import { setImmutable } from '../support/invariants.js';

/*
 * Issue 9, parts 3 and 5: the records of a rotation (journals, staged records, the lock) belong to one
 * credentials file, by its real path; two files in one folder never see each other's. Records of aws-rekey
 * 0.1.0 (all in the shared `aws-rekey` folder) are still found and finished by the file they name. A records
 * folder that cannot be used is a clear error with a hint, before anything is created.
 */

const endpoint = inject('motoEndpoint');
const immutable: string[] = [];
afterEach(async () => {
  for (const path of immutable.splice(0)) await setImmutable(path, false);
});

interface TwoFiles {
  home: TempHome;
  alice: SeededUser;
  bob: SeededUser;
  /** ~/.aws/credentials: profile work holds alice's key. */
  envA: NodeJS.ProcessEnv;
  /** ~/.aws/work-credentials, in the same folder: profile work holds bob's key. */
  envB: NodeJS.ProcessEnv;
  fileB: string;
}

async function twoFiles(): Promise<TwoFiles> {
  const alice = await createUserWithKey(endpoint, uniqueName('alice'));
  const bob = await createUserWithKey(endpoint, uniqueName('bob'));
  const home = await tempHome({ endpoint, credentials: credentialsFile({ work: alice }) });
  const fileB = join(home.home, '.aws', 'work-credentials');
  await writeFile(fileB, credentialsFile({ work: bob }), { mode: 0o600 });
  return { home, alice, bob, envA: home.env, envB: { ...home.env, AWS_SHARED_CREDENTIALS_FILE: fileB }, fileB };
}

function json<T>(run: CliRun): T {
  expect(run.stdout, run.stderr).not.toBe('');
  return JSON.parse(run.stdout) as T;
}

interface StatusDoc {
  credentialsPath: string;
  rotations: Array<{ id: string; stage: string; userName: string; account: string; phase?: string }>;
}

describe('records belong to one credentials file', () => {
  it('a staged rotation of one file is not in the way of, nor reported for, another file in the same folder', async () => {
    const f = await twoFiles();
    const staged = await runCli(['rotate', '--profile', 'work', '--stage', 'create', '-y', ...FAST], f.envA);
    expect(staged.code, staged.stderr).toBe(0);

    const other = await runCli(['rotate', '--profile', 'work', '-y', '--json', ...FAST], f.envB);
    expect(other.code, other.stderr).toBe(0);
    expect(json<{ status: string; user: { name: string } }>(other)).toMatchObject({ status: 'rotated', user: { name: f.bob.userName } });

    expect(json<StatusDoc>(await runCli(['status', '--json'], f.envB))).toMatchObject({ credentialsPath: f.fileB, rotations: [] });
    const statusA = json<StatusDoc>(await runCli(['status', '--json'], f.envA));
    expect(statusA).toMatchObject({ credentialsPath: f.home.credentialsPath, rotations: [{ id: 'profile-work', stage: 'created', userName: f.alice.userName, account: '123456789012' }] });
    const table = await runCli(['status'], f.envA);
    expect(table.stdout).toContain(`Rotations recorded for ${f.home.credentialsPath}:`);
    expect(table.stdout).toContain('123456789012');

    // The staged rotation of the first file goes on as if nothing happened.
    const retire = await runCli(['rotate', '--profile', 'work', '--stage', 'retire', '-y'], f.envA);
    expect(retire.code, retire.stderr).toBe(0);
  });

  it('an interrupted rotation recorded by aws-rekey 0.1.0 is finished by its own file\'s run, never by another file\'s', async () => {
    const f = await twoFiles();
    // What a 0.1.0 run of file A killed during CreateAccessKey leaves: a journal in the shared folder, phase
    // 'creating', and a key of alice's that nobody has the secret of.
    const orphan = await createAccessKey(endpoint, f.alice.userName);
    const legacy = join(recordsRoot(f.home.credentialsPath), 'work.journal.json');
    await mkdir(recordsRoot(f.home.credentialsPath), { mode: 0o700 });
    const now = new Date().toISOString();
    await writeFile(
      legacy,
      JSON.stringify({
        version: 1,
        profile: 'work',
        profiles: ['work'],
        credentialsPath: f.home.credentialsPath,
        userName: f.alice.userName,
        userArn: f.alice.arn,
        oldKeyId: f.alice.accessKeyId,
        oldSecretAccessKey: f.alice.secretAccessKey,
        keysBefore: [f.alice.accessKeyId],
        retire: 'deactivate',
        phase: 'creating',
        startedAt: now,
        updatedAt: now,
      }),
      { mode: 0o600 },
    );

    // File B's profile `work` rotates on its own: alice's rotation is neither finished nor reported there.
    const other = await runCli(['rotate', '--profile', 'work', '-y', '--json', ...FAST], f.envB);
    expect(other.code, other.stderr).toBe(0);
    expect(json<{ status: string }>(other).status).toBe('rotated');
    expect(other.stderr).not.toMatch(/earlier rotation/);
    expect((await listKeys(endpoint, f.alice.userName)).map((k) => k.accessKeyId).sort()).toEqual([f.alice.accessKeyId, orphan.accessKeyId].sort());
    expect(json<StatusDoc>(await runCli(['status', '--json'], f.envB)).rotations).toEqual([]);
    expect(await readFile(legacy, 'utf8')).toContain(f.alice.accessKeyId);

    // File A's status reports it, naming the file; its run finishes it (the orphan goes), and nothing is left.
    expect(json<StatusDoc>(await runCli(['status', '--json'], f.envA)).rotations).toMatchObject([{ stage: 'interrupted', phase: 'creating', userName: f.alice.userName }]);
    const own = await runCli(['rotate', '--profile', 'work', '-y', ...FAST], f.envA);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr).toContain(`An earlier rotation of profile work in ${f.home.credentialsPath} did not finish`);
    expect((await listKeys(endpoint, f.alice.userName)).map((k) => k.accessKeyId)).toEqual([f.alice.accessKeyId]);
    await expect(readdir(recordsRoot(f.home.credentialsPath))).rejects.toThrow();
  });

  it('two links to one file share its lock: a run through one waits for a run through the other', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('linked'));
    const home = await tempHome({ endpoint });
    const real = join(home.home, 'dotfiles', 'credentials');
    await mkdir(join(home.home, 'dotfiles'), { mode: 0o700 });
    await writeFile(real, credentialsFile({ work: user }), { mode: 0o600 });
    await rm(home.credentialsPath, { force: true });
    await symlink(real, home.credentialsPath);
    const other = join(home.home, 'elsewhere', 'credentials');
    await mkdir(join(home.home, 'elsewhere'), { mode: 0o700 });
    await symlink(real, other);
    // A run through ~/.aws/credentials holds the lock (a live process: this test's).
    const lock = `${real}.aws-rekey.lock`;
    await mkdir(lock);
    await writeFile(join(lock, 'owner.json'), JSON.stringify({ pid: process.pid, hostname: hostname(), acquiredAt: now() }));

    const run = await runCli(['rotate', '--profile', 'work', '-y', '--json', ...FAST], { ...home.env, AWS_SHARED_CREDENTIALS_FILE: other });
    expect(run.code, run.stderr).toBe(1);
    expect(json<{ error: { code: string; message: string } }>(run).error).toMatchObject({ code: 'CREDENTIALS_LOCKED', message: expect.stringContaining(lock) });
    expect(await listKeys(endpoint, user.userName)).toHaveLength(1);
  });
});

describe('a records folder that cannot be used: a clear error, before any key is created', () => {
  it('a plain file in its place', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('plain'));
    const home = await tempHome({ endpoint, credentials: credentialsFile({ work: user }) });
    await writeFile(recordsRoot(home.credentialsPath), 'not a folder\n');
    const run = await runCli(['rotate', '--profile', 'work', '-y', '--json', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(1);
    expect(json<{ error: { code: string; message: string; hint: string } }>(run).error).toMatchObject({
      code: 'OWN_FILE_WRONG_TYPE',
      message: expect.stringContaining(`${recordsRoot(home.credentialsPath)} should be a folder`),
      hint: expect.stringContaining('mv '),
    });
    expect(run.stderr).not.toMatch(/This is a bug|\n\s+at /);
    expect(await listKeys(endpoint, user.userName)).toHaveLength(1);
  });

  it('a records folder that cannot be written (chattr +i): a staged rotation is not retired half-way', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('frozen'));
    const home = await tempHome({ endpoint, credentials: credentialsFile({ work: user }) });
    const staged = await runCli(['rotate', '--profile', 'work', '--stage', 'create', '-y', ...FAST], home.env);
    expect(staged.code, staged.stderr).toBe(0);
    const dir = await recordsDir(home.credentialsPath);
    await setImmutable(dir, true);
    immutable.push(dir);

    const run = await runCli(['rotate', '--profile', 'work', '--stage', 'retire', '-y', '--json'], home.env);
    expect(run.code, run.stderr).toBe(1);
    expect(json<{ error: { code: string; message: string; hint: string } }>(run).error).toMatchObject({
      code: 'CREDENTIALS_NOT_WRITABLE',
      message: expect.stringContaining(dir),
      hint: expect.any(String),
    });
    expect(run.stderr).not.toMatch(/This is a bug|\n\s+at /);
    // Both keys are still active: the old one was not deactivated with no record to say so.
    expect((await listKeys(endpoint, user.userName)).map((k) => k.status)).toEqual(['Active', 'Active']);
  });
});

function now(): string {
  return new Date().toISOString();
}
