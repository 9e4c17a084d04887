import { chmod, chown, lchown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, expect, inject, it, type TestContext } from 'vitest';
import { journalPath } from '../../src/credentials/journal.js';
import { recordsDir } from '../../src/credentials/records.js';
import { stagedId, stagedPath } from '../../src/credentials/staged-store.js';
import { credentialsFile, makeHome, readableCliCopy, runCli, type CliRun, type RunCliOptions, type TempHome } from '../support/cli.js';
import { createUserWithKey, listKeys, uniqueName, type SeededUser } from '../support/iam.js';
import { FAST } from '../support/integration.js';
import { isRoot, NOBODY, OTHER_UID } from '../support/users.js';

/*
 * Issue 15: the files aws-rekey makes for itself beside the credentials file (backup, records folder,
 * journals, staged records, lock) never follow a planted link and are never another user's. For each own
 * path and each bad thing planted there, run as root and as nobody: the run is refused before any key is
 * created, the message names the path, what the link points to is byte- and mode-identical, ~/.aws is as it
 * was, and IAM holds the same keys.
 */

const endpoint = inject('motoEndpoint');

interface Runner {
  label: string;
  uid: number;
  options: () => Promise<RunCliOptions>;
}

const runners: Runner[] = [
  { label: 'as root', uid: 0, options: async () => ({}) },
  { label: 'as nobody', uid: NOBODY, options: async () => ({ uid: NOBODY, gid: NOBODY, bin: await readableCliCopy() }) },
];

interface OwnPath {
  name: string;
  kind: 'file' | 'folder';
  path: (home: TempHome) => string | Promise<string>;
  /** The command that would write there. */
  args: string[];
}

const ownPaths: OwnPath[] = [
  { name: 'the backup', kind: 'file', path: (h) => `${h.credentialsPath}.aws-rekey.bak`, args: ['rotate', '--profile', 'work'] },
  { name: 'the records folder', kind: 'folder', path: (h) => join(dirname(h.credentialsPath), 'aws-rekey'), args: ['rotate', '--profile', 'work'] },
  { name: "the file's records folder", kind: 'folder', path: (h) => recordsDir(h.credentialsPath), args: ['rotate', '--profile', 'work'] },
  { name: 'the journal', kind: 'file', path: (h) => journalPath(h.credentialsPath, 'work'), args: ['rotate', '--profile', 'work'] },
  { name: 'the staged record', kind: 'file', path: (h) => stagedPath(h.credentialsPath, stagedId('profile', 'work')), args: ['rotate', '--profile', 'work', '--stage', 'create'] },
  { name: 'the lock', kind: 'folder', path: (h) => `${h.credentialsPath}.aws-rekey.lock`, args: ['rotate', '--profile', 'work'] },
];

interface Outside {
  file: string;
  folder: string;
  /** Every name under the outside folder with its type, mode, owner and content. */
  state: () => Promise<string[]>;
}

type Plant = (path: string, outside: Outside, owner: number) => Promise<void>;

const plants: Array<[string, Plant]> = [
  ['a link to a file outside', (path, o, owner) => link(o.file, path, owner)],
  ['a link to a folder outside', (path, o, owner) => link(o.folder, path, owner)],
  ['a dangling link', (path, o, owner) => link(join(dirname(o.file), 'not-there-yet'), path, owner)],
  [
    'a file of another user',
    async (path) => {
      await writeFile(path, '{"not":"ours"}\n', { mode: 0o644 });
      await chown(path, OTHER_UID, OTHER_UID);
    },
  ],
  [
    'a folder of another user',
    async (path) => {
      await mkdir(path, { mode: 0o755 });
      await chown(path, OTHER_UID, OTHER_UID);
    },
  ],
];

async function link(target: string, path: string, owner: number): Promise<void> {
  await symlink(target, path);
  await lchown(path, owner, owner);
}

/** A file and a folder that the runner could write to, so that a followed link would change them. */
async function makeOutside(owner: number, ctx: TestContext): Promise<Outside> {
  const dir = await mkdtemp(join(tmpdir(), 'aws-rekey-outside-'));
  ctx.onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'system-file');
  const folder = join(dir, 'system-folder');
  await writeFile(file, 'a file aws-rekey must never touch\n', { mode: 0o644 });
  await mkdir(folder, { mode: 0o755 });
  await writeFile(join(folder, 'inside'), 'x\n', { mode: 0o644 });
  for (const path of [dir, file, folder, join(folder, 'inside')]) await chown(path, owner, owner);
  await chmod(dir, 0o755);
  return { file, folder, state: () => snapshot(dir) };
}

/** Every name under `dir` (links not followed) with its type, mode, owner and content. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const path = join(dir, name);
    const info = await lstat(path);
    const what = info.isSymbolicLink() ? `link ${await readlink(path)}` : info.isFile() ? `file ${(await readFile(path)).toString('base64')}` : 'folder';
    out.push(`${relative(dir, path)} ${(info.mode & 0o7777).toString(8)} ${info.uid} ${what}`);
  }
  return out;
}

async function chownTree(path: string, uid: number): Promise<void> {
  await lchown(path, uid, uid);
  const info = await lstat(path);
  if (info.isDirectory()) for (const name of await readdir(path)) await chownTree(join(path, name), uid);
}

interface Scene {
  user: SeededUser;
  home: TempHome;
  awsDir: string;
}

/** Tests here run concurrently: each cleans up through its own context. */
async function scene(owner: number, ctx: TestContext): Promise<Scene> {
  const user = await createUserWithKey(endpoint, uniqueName('own'));
  const home = await makeHome({ endpoint, credentials: credentialsFile({ work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } }) });
  ctx.onTestFinished(() => home.cleanup());
  await chownTree(home.home, owner);
  return { user, home, awsDir: dirname(home.credentialsPath) };
}

async function rekey(s: Scene, args: string[], runner: Runner, env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runCli([...args, '--yes', '--json', ...FAST], { ...s.home.env, ...env }, undefined, await runner.options());
}

function expectRefusal(run: CliRun, path: string): void {
  const context = `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;
  expect(run.code, context).toBe(1);
  const doc = JSON.parse(run.stdout) as { ok: boolean; error: { code: string; message: string; hint?: string } };
  expect(doc.error.code, context).toMatch(/^OWN_FILE_(IS_LINK|WRONG_TYPE|WRONG_OWNER)$/);
  expect(doc.error.message, context).toContain(path);
  expect(doc.error.hint, context).toMatch(/rm |mv |chown /);
  expect(run.stderr, context).toMatch(new RegExp(`^error: .*${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  expect(run.stderr, context).not.toMatch(/This is a bug|\n\s+at /);
}

describe.runIf(isRoot)('own files: a planted link or a stranger\'s file is refused, before any key is created', () => {
  for (const runner of runners) {
    describe.concurrent(runner.label, () => {
      for (const own of ownPaths) {
        for (const [plantName, plant] of plants) {
          it(`${own.name} (${own.kind}) is ${plantName}`, async (ctx) => {
            const s = await scene(runner.uid, ctx);
            const outside = await makeOutside(runner.uid, ctx);
            const path = await own.path(s.home);
            // The records folder a record sits in is a real one of the user's.
            if (dirname(path) !== s.awsDir) {
              await mkdir(dirname(path), { recursive: true, mode: 0o700 });
              await chownTree(join(s.awsDir, 'aws-rekey'), runner.uid);
            }
            await plant(path, outside, runner.uid);
            const [outsideBefore, homeBefore, keysBefore] = await Promise.all([outside.state(), snapshot(s.awsDir), listKeys(endpoint, s.user.userName)]);

            const run = await rekey(s, own.args, runner);

            expectRefusal(run, path);
            expect(await outside.state()).toEqual(outsideBefore);
            expect(await snapshot(s.awsDir)).toEqual(homeBefore);
            expect(await listKeys(endpoint, s.user.userName)).toEqual(keysBefore);
          });
        }
      }
    });
  }
});

describe.runIf(isRoot)('own files: what keeps working', () => {
  for (const runner of runners) {
    it(`${runner.label}: a credentials file that is a link (dotfiles) is written through; the backup sits beside the link`, async (ctx) => {
      const s = await scene(runner.uid, ctx);
      const dotfiles = join(s.home.home, 'dotfiles');
      await mkdir(dotfiles, { mode: 0o700 });
      const real = join(dotfiles, 'aws-credentials');
      await writeFile(real, await readFile(s.home.credentialsPath), { mode: 0o600 });
      await rm(s.home.credentialsPath);
      await symlink('../dotfiles/aws-credentials', s.home.credentialsPath);
      await chownTree(s.home.home, runner.uid);

      const run = await rekey(s, ['rotate', '--profile', 'work'], runner);
      expect(run.code, run.stderr).toBe(0);
      expect((await lstat(s.home.credentialsPath)).isSymbolicLink()).toBe(true);
      expect(await readFile(real, 'utf8')).not.toContain(s.user.accessKeyId);
      expect(await readFile(`${s.home.credentialsPath}.aws-rekey.bak`, 'utf8')).toContain(s.user.accessKeyId);
      expect(await stat(real)).toMatchObject({ uid: runner.uid, mode: expect.any(Number) });
      expect((await stat(real)).mode & 0o777).toBe(0o600);
    });
  }

  it('root on a folder another user can write to: a warning (also in --json); the files root makes there are that user\'s', async (ctx) => {
    const s = await scene(NOBODY, ctx);
    const run = await rekey(s, ['rotate', '--profile', 'work', '--stage', 'create'], runners[0]!);
    expect(run.code, run.stderr).toBe(0);
    const warning = `${s.awsDir} can be written by uid ${NOBODY}`;
    expect(run.stderr).toContain(warning);
    expect((JSON.parse(run.stdout) as { warnings: string[] }).warnings.join('\n')).toContain(warning);
    const record = await stagedPath(s.home.credentialsPath, stagedId('profile', 'work'));
    for (const path of [record, dirname(record), dirname(dirname(record)), s.home.credentialsPath, `${s.home.credentialsPath}.aws-rekey.bak`]) {
      expect(await stat(path), path).toMatchObject({ uid: NOBODY, gid: NOBODY });
    }
    expect((await stat(dirname(record))).mode & 0o777).toBe(0o700);
    expect((await stat(record)).mode & 0o777).toBe(0o600);
  });
});

describe.runIf(isRoot)('--out LINK --force: written through only when the link and its target have one owner', () => {
  async function adminScene(ctx: TestContext): Promise<{ target: SeededUser; home: TempHome }> {
    const admin = await createUserWithKey(endpoint, uniqueName('admin'));
    const target = await createUserWithKey(endpoint, uniqueName('bob'));
    const home = await makeHome({ endpoint, credentials: credentialsFile({ admin: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey } }) });
    ctx.onTestFinished(() => home.cleanup());
    return { target, home };
  }

  it('a link of nobody\'s to a file of root\'s is refused (exit 2), the file unchanged, no key created', async (ctx) => {
    const { target, home } = await adminScene(ctx);
    const outside = await makeOutside(0, ctx);
    const out = join(home.home, 'bob.credentials');
    await link(outside.file, out, NOBODY);
    const before = await outside.state();
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--out', out, '--force', '--yes', '--json', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'OUTPUT_LINK_REFUSED', message: expect.stringContaining(out) } });
    expect(run.stderr).toMatch(/hint: .*docs\/security\.md/);
    expect(await outside.state()).toEqual(before);
    expect(await listKeys(endpoint, target.userName)).toHaveLength(1);
  });

  it('a dangling link is refused too', async (ctx) => {
    const { target, home } = await adminScene(ctx);
    const out = join(home.home, 'bob.credentials');
    await symlink(join(home.home, 'nowhere', 'bob'), out);
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--out', out, '--force', '--yes', '--json', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`${out} is a symbolic link to nothing`);
    expect(await listKeys(endpoint, target.userName)).toHaveLength(1);
  });

  it('a link and its target of one owner: the target gets the new key, the link stays', async (ctx) => {
    const { target, home } = await adminScene(ctx);
    const real = join(home.home, 'keys', 'bob.credentials');
    await mkdir(dirname(real), { mode: 0o700 });
    await writeFile(real, 'old\n', { mode: 0o600 });
    const out = join(home.home, 'bob.credentials');
    await symlink(real, out);
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--out', out, '--force', '--yes', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    expect((await lstat(out)).isSymbolicLink()).toBe(true);
    const keys = await listKeys(endpoint, target.userName);
    const fresh = keys.find((k) => k.accessKeyId !== target.accessKeyId);
    expect(await readFile(real, 'utf8')).toContain(fresh?.accessKeyId ?? 'a new key');
  });
});
