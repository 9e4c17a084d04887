import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/*
 * bin/code-cache.js runs the CLI bundle with V8's code cache of an earlier run. What must hold: the cache made at the
 * end of a run is used by the next one; a corrupt, foreign or stale cache is ignored (V8 aborts the process on a
 * corrupt payload, so the loader checks a digest first) and replaced; the files are 0600 in a 0700 folder; a link
 * planted in the cache folder is never followed; and a cache that cannot be used never stops the run.
 */

interface Loaded {
  exports: { answer(): string };
  cache: 'hit' | 'miss' | 'rejected' | 'off';
  save(): void;
}
interface CodeCache {
  loadBundle(
    file: string,
    options: { bundleHash: string; command: string; cacheDir: string; enabled?: boolean; source?: string; require?: NodeJS.Require; kind?: string },
  ): Loaded;
  cacheFileName(bundleHash: string, command: string, kind?: string): string;
  defaultCacheDir(env: NodeJS.ProcessEnv): string;
}
const { loadBundle, cacheFileName, defaultCacheDir } = createRequire(import.meta.url)('../../bin/code-cache.js') as CodeCache;

const HASH = 'a'.repeat(64);
/** What the build makes of the CLI: a CommonJS module wrapped in a function expression. */
const BUNDLE = `(function (exports, require, module, __filename, __dirname) {
  const { join } = require('node:path');
  exports.answer = function answer() { return [1, 2, 3].map((n) => join('x', String(n * 2))).join(','); };
})`;

let dir: string;
let bundle: string;
let cacheDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aws-rekey-code-cache-'));
  bundle = join(dir, 'cli.cjs');
  await writeFile(bundle, BUNDLE);
  cacheDir = join(dir, 'cache', 'aws-rekey', 'code-cache');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const load = (options: { bundleHash?: string; command?: string; enabled?: boolean; kind?: string } = {}) =>
  loadBundle(bundle, { bundleHash: HASH, command: 'rotate', cacheDir, ...options });
const cachePath = (command = 'rotate') => join(cacheDir, cacheFileName(HASH, command));

/** A run: load, call what a run calls, then save at its end, as bin/aws-rekey does on exit. */
function run(options: Parameters<typeof load>[0] = {}): Loaded['cache'] {
  const loaded = load(options);
  expect(loaded.exports.answer()).toBe('x/2,x/4,x/6');
  loaded.save();
  return loaded.cache;
}

describe('the code cache of the CLI bundle', () => {
  it('is written at the end of the first run (0600, in a 0700 folder) and used by the next, not written again', async () => {
    expect(run()).toBe('miss');
    expect((await stat(cachePath())).mode & 0o777).toBe(0o600);
    expect((await stat(cacheDir)).mode & 0o777).toBe(0o700);
    const written = await stat(cachePath());
    expect(run()).toBe('hit');
    const after = await stat(cachePath());
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it('keeps one cache per command, and the key names the bundle, the Node version and the platform', async () => {
    run({ command: 'rotate' });
    expect(run({ command: 'keys' })).toBe('miss');
    expect(run({ command: 'keys' })).toBe('hit');
    expect((await readdir(cacheDir)).sort()).toEqual([cacheFileName(HASH, 'keys'), cacheFileName(HASH, 'rotate')].sort());
    expect(cacheFileName(HASH, 'rotate')).toMatch(new RegExp(`^a{16}-${process.version.replace(/\./g, '\\.')}-${process.platform}-${process.arch}-[0-9a-f]{8}-rotate\\.bin$`));
    // A command word is never a path.
    expect(cacheFileName(HASH, '../x')).toMatch(/-other\.bin$/);
  });

  it('ignores a corrupt cache (whose payload V8 would choke on), runs, and replaces it', async () => {
    run();
    const bytes = await readFile(cachePath());
    for (let i = 40; i < bytes.length; i += 7) bytes[i] = (bytes[i] ?? 0) ^ 0xff;
    await writeFile(cachePath(), bytes);
    expect(run()).toBe('miss');
    expect(await readFile(cachePath())).not.toEqual(bytes);
    expect(run()).toBe('hit');
  });

  it('ignores a truncated or empty cache file', async () => {
    run();
    const bytes = await readFile(cachePath());
    await writeFile(cachePath(), bytes.subarray(0, bytes.length >> 1));
    expect(run()).toBe('miss');
    await writeFile(cachePath(), '');
    expect(run()).toBe('miss');
    expect(run()).toBe('hit');
  });

  it('replaces a cache that V8 rejects (made for another source under the same key)', async () => {
    run();
    await writeFile(bundle, BUNDLE.replace('n * 2', 'n *  2'));
    expect(run()).toBe('rejected');
    expect(run()).toBe('hit');
  });

  it('ignores a cache file that others can read or write', async () => {
    run();
    await chmod(cachePath(), 0o644);
    expect(run()).toBe('miss');
    expect((await stat(cachePath())).mode & 0o777).toBe(0o600);
  });

  it('never follows a link planted at the cache file: the link is replaced, its target left as it was', async () => {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const target = join(dir, 'victim');
    await writeFile(target, 'precious', { mode: 0o600 });
    await symlink(target, cachePath());
    expect(run()).toBe('miss');
    expect(await readFile(target, 'utf8')).toBe('precious');
    expect((await lstat(cachePath())).isFile()).toBe(true);
  });

  it('is not used when the cache folder is a link, or open to others; the run goes on', async () => {
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere, { mode: 0o700 });
    await mkdir(join(dir, 'cache', 'aws-rekey'), { recursive: true, mode: 0o700 });
    await symlink(elsewhere, cacheDir);
    expect(run()).toBe('off');
    expect(await readdir(elsewhere)).toEqual([]);
    await rm(cacheDir);
    await mkdir(cacheDir, { mode: 0o755 });
    await chmod(cacheDir, 0o755);
    expect(run()).toBe('off');
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it('is not used when the aws-rekey folder above it is a link: nothing is made where the link points', () => {
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    mkdirSync(join(dir, 'cache'), { mode: 0o700 });
    symlinkSync(elsewhere, join(dir, 'cache', 'aws-rekey'));
    expect(run()).toBe('off');
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('once a cache is written, removes the caches of other bundles and old temp files, and nothing else', async () => {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const otherBundle = cacheFileName('b'.repeat(64), 'rotate');
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious');
    await writeFile(join(cacheDir, otherBundle), 'old');
    await symlink(victim, join(cacheDir, cacheFileName('c'.repeat(64), 'keys')));
    const oldTemp = `${cacheFileName(HASH, 'status')}.123.0123456789ab.tmp`;
    const youngTemp = `${cacheFileName(HASH, 'status')}.124.0123456789ab.tmp`;
    await writeFile(join(cacheDir, oldTemp), 'x');
    await utimes(join(cacheDir, oldTemp), new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
    await writeFile(join(cacheDir, youngTemp), 'x');
    await writeFile(join(cacheDir, 'notes.txt'), 'not a cache');
    expect(run({ command: 'keys' })).toBe('miss');
    expect(run({ command: 'rotate' })).toBe('miss');
    expect((await readdir(cacheDir)).sort()).toEqual([cacheFileName(HASH, 'keys'), cacheFileName(HASH, 'rotate'), youngTemp, 'notes.txt'].sort());
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });

  it('compiles the source text it is given (the single executable\'s asset) with the require it is given, and caches it the same way', async () => {
    const required: string[] = [];
    const bundleRequire = Object.assign((id: string) => (required.push(id), createRequire(import.meta.url)(id)), { main: undefined }) as unknown as NodeJS.Require;
    const fromText = () => {
      // No file there: `file` only names the bundle.
      const loaded = loadBundle(join(dir, 'nowhere', 'aws-rekey'), { source: BUNDLE, require: bundleRequire, bundleHash: HASH, command: 'rotate', cacheDir, kind: 'sea' });
      expect(loaded.exports.answer()).toBe('x/2,x/4,x/6');
      loaded.save();
      return loaded.cache;
    };
    expect(fromText()).toBe('miss');
    expect(required).toEqual(['node:path']);
    expect(await readdir(cacheDir)).toEqual([cacheFileName(HASH, 'rotate', 'sea')]);
    const written = await stat(join(cacheDir, cacheFileName(HASH, 'rotate', 'sea')));
    expect(fromText()).toBe('hit');
    const after = await stat(join(cacheDir, cacheFileName(HASH, 'rotate', 'sea')));
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it('keeps the caches of each kind apart: the single executable\'s and the package\'s never remove each other\'s', async () => {
    expect(cacheFileName(HASH, 'rotate', 'sea')).toBe(`sea-${cacheFileName(HASH, 'rotate')}`);
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    // Another version of the other kind, and a stale one of the same kind.
    const packageOfAnotherVersion = cacheFileName('b'.repeat(64), 'rotate');
    const seaOfAnotherVersion = cacheFileName('c'.repeat(64), 'rotate', 'sea');
    await writeFile(join(cacheDir, packageOfAnotherVersion), 'old', { mode: 0o600 });
    await writeFile(join(cacheDir, seaOfAnotherVersion), 'old', { mode: 0o600 });
    expect(run({ kind: 'sea' })).toBe('miss');
    expect((await readdir(cacheDir)).sort()).toEqual([packageOfAnotherVersion, cacheFileName(HASH, 'rotate', 'sea')].sort());
    await writeFile(join(cacheDir, seaOfAnotherVersion), 'old', { mode: 0o600 });
    expect(run()).toBe('miss');
    expect((await readdir(cacheDir)).sort()).toEqual([seaOfAnotherVersion, cacheFileName(HASH, 'rotate'), cacheFileName(HASH, 'rotate', 'sea')].sort());
    expect(run({ kind: 'sea' })).toBe('hit');
  });

  it('runs without a cache when the folder cannot be made, or when it is turned off', async () => {
    await writeFile(join(dir, 'cache'), 'a file where a folder should be');
    expect(run()).toBe('off');
    await rm(join(dir, 'cache'));
    expect(run({ enabled: false })).toBe('off');
    expect(run({ bundleHash: '' })).toBe('off');
    await expect(stat(cacheDir)).rejects.toThrow();
  });

  it('lives in $XDG_CACHE_HOME/aws-rekey/code-cache, else ~/.cache/aws-rekey/code-cache', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/aws-rekey/code-cache');
    expect(defaultCacheDir({})).toMatch(/\/\.cache\/aws-rekey\/code-cache$/);
  });
});
