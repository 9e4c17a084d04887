import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { baseEnv, credentialsFile, ROOT, runCli } from '../support/cli.js';
import { createUserWithKey, listKeys, uniqueName } from '../support/iam.js';
import { FAST, tempHome } from '../support/integration.js';

/*
 * The two ways aws-rekey reaches a machine without this checkout: the npm tarball installed globally, and the
 * single executable (`npm run package`). Each is run from outside the checkout, with a throwaway HOME, for
 * --version, --help and a real rotation against moto.
 */

const endpoint = inject('motoEndpoint');
const run = promisify(execFile);
const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };

async function rotatesWith(executable: string, path: string): Promise<void> {
  const user = await createUserWithKey(endpoint, uniqueName('inst'));
  const home = await tempHome({ endpoint, credentials: credentialsFile({ work: user }), env: { PATH: path } });
  const rotation = await runCli(['--profile', 'work', '--yes', ...FAST], home.env, '', { executable, cwd: home.home });
  expect(rotation.code, rotation.stderr).toBe(0);
  const keys = await listKeys(endpoint, user.userName);
  const fresh = keys.find((k) => k.accessKeyId !== user.accessKeyId);
  expect(keys.find((k) => k.accessKeyId === user.accessKeyId)?.status).toBe('Inactive');
  expect(fresh?.status).toBe('Active');
  expect(await home.readCredentials()).toContain(`aws_access_key_id = ${fresh?.accessKeyId}`);
}

async function versionAndHelp(executable: string, path: string): Promise<void> {
  const env = { PATH: path, NO_COLOR: '1' };
  const printed = await runCli(['--version'], env, '', { executable, cwd: tmpdir() });
  expect(printed).toMatchObject({ code: 0, stdout: `${version}\n` });
  const help = await runCli(['--help'], env, '', { executable, cwd: tmpdir() });
  expect(help.code, help.stderr).toBe(0);
  expect(help.stdout).toContain('Usage: aws-rekey');
  expect(help.stdout).toContain('rotate');
}

describe('npm pack, then npm install -g from the tarball', () => {
  let dir = '';
  let installed = '';
  // Only the installed package and the node that runs this test: nothing from the checkout.
  let path = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aws-rekey-pack-'));
    // --ignore-scripts: the tests run on the dist/ that `npm test` built; prepare would rebuild it under them.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    const prefix = join(dir, 'prefix');
    await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, filename)], { cwd: dir });
    installed = join(prefix, 'bin', 'aws-rekey');
    path = [join(prefix, 'bin'), dirname(process.execPath)].join(delimiter);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('holds the CLI and its bundle, not the single executable', async () => {
    const { stdout } = await run('tar', ['tzf', join(dir, `aws-rekey-${version}.tgz`)]);
    const files = stdout.split('\n');
    expect(files).toContain('package/bin/aws-rekey');
    expect(files).toContain('package/dist/bundle/cli.cjs');
    expect(files).toContain('package/bin/code-cache.js');
    expect(files).toContain('package/bin/launcher.js');
    expect(files).toContain('package/dist/index.js');
    expect(files.filter((f) => f.includes('dist/sea'))).toEqual([]);
    // Neither the library (dist/index.js) nor the CLI (dist/bundle, self-contained) loads the Lambda handlers,
    // the organisation engine's own files or the unbundled CLI: they stay out of the package...
    expect(files.filter((f) => /^package\/dist\/(lambda|org|cli)\/|^package\/dist\/flows\/org\.|meta\.json$/.test(f))).toEqual([]);
    // ...and every relative import of every packed module still resolves inside the package.
    const packed = new Set(files.map((f) => f.replace(/^package\//, '')));
    const dangling: string[] = [];
    for (const file of [...packed].filter((f) => /\.(js|d\.ts)$/.test(f))) {
      const text = (await readFile(join(ROOT, file), 'utf8')).replace(/^\s*\/\/.*$/gm, '');
      for (const [, spec = ''] of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^'"]+)["']/g)) {
        const target = posix.join(posix.dirname(file), file.endsWith('.d.ts') ? spec.replace(/\.js$/, '.d.ts') : spec);
        if (!packed.has(target)) dangling.push(`${file} → ${spec}`);
      }
    }
    expect(dangling).toEqual([]);
  });

  it('the installed command prints --version and --help', async () => {
    await versionAndHelp(installed, path);
  });

  it('the installed command rotates a key', async () => {
    await rotatesWith(installed, path);
  });
});

// The single executable embeds Node 24 for linux-x64 (scripts/runtimes); elsewhere there is nothing to run.
describe.runIf(process.platform === 'linux' && process.arch === 'x64')('the single executable (npm run package)', () => {
  let dir = '';
  let executable = '';
  let path = '';

  beforeAll(async () => {
    // Built into a folder of this run's own: the suite may run on several Node versions at once.
    dir = await mkdtemp(join(tmpdir(), 'aws-rekey-sea-'));
    await run(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--out-dir', join(dir, 'sea')], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    executable = join(dir, 'sea', 'aws-rekey-linux-x64');
    // A PATH with no node on it: the executable must not need one.
    path = join(dir, 'empty');
    await mkdir(path);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is built', async () => {
    expect((await stat(executable)).mode & 0o111).not.toBe(0);
  });

  it('prints --version and --help with no node on PATH', async () => {
    await expect(run('/bin/sh', ['-c', 'command -v node'], { env: { PATH: path } })).rejects.toThrow();
    await versionAndHelp(executable, path);
  });

  it('rotates a key with no node on PATH', async () => {
    await rotatesWith(executable, path);
  });

  it('answers --help with the npm package\'s very text, for the CLI and each command', async () => {
    const env = { PATH: path, NO_COLOR: '1' };
    for (const args of [['--help'], ['rotate', '--help'], ['keys', '-h'], ['org', 'run', '--help']]) {
      const [sea, pkg] = await Promise.all([runCli(args, env, '', { executable, cwd: tmpdir() }), runCli(args, env, '', { cwd: tmpdir(), coverage: false })]);
      expect(pkg.code, pkg.stderr).toBe(0);
      expect(pkg.stdout).toMatch(/^Usage: aws-rekey/);
      expect({ args, ...sea }).toEqual({ args, ...pkg });
    }
  });

  it('writes a code cache of its own at the end of the first run of a command (0600, 0700 folder) and uses it, not rewritten, the next time', async () => {
    const cacheHome = join(dir, 'cache-home');
    const folder = join(cacheHome, 'aws-rekey', 'code-cache');
    // Without NODE_V8_COVERAGE under `npm run coverage`: a run measuring its coverage does not use the cache.
    const policy = () => runCli(['policy'], baseEnv({ PATH: path, XDG_CACHE_HOME: cacheHome }), '', { executable, cwd: tmpdir(), coverage: false });
    // The package's cache of another version in the same folder: the single executable's caches are another kind,
    // so neither removes the other's (bin/code-cache.js).
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const packageCache = `${'0'.repeat(16)}-v24.0.0-linux-x64-00000000-policy.bin`;
    await writeFile(join(folder, packageCache), 'a cache', { mode: 0o600 });
    const first = await policy();
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ Version: '2012-10-17' });
    const files = await readdir(folder);
    expect(files.sort()).toEqual([packageCache, expect.stringMatching(/^sea-[0-9a-f]{16}-v24\.[0-9.]+-linux-x64-[0-9a-f]{8}-policy\.bin$/)].sort());
    const file = join(folder, files.find((name) => name.startsWith('sea-')) as string);
    const written = await stat(file);
    expect(written.mode & 0o777).toBe(0o600);
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    const second = await policy();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const after = await stat(file);
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
    expect((await readdir(folder)).sort()).toEqual(files.sort());
  });
});
