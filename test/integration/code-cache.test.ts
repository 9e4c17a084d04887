import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { baseEnv, ROOT, runCli } from '../support/cli.js';

/*
 * The built CLI and its code cache (bin/code-cache.js, scripts/bundle.mjs): the first run of a command leaves a cache
 * in $XDG_CACHE_HOME/aws-rekey/code-cache, the next one uses it (and so does not write it again), and a corrupt cache
 * changes nothing in what the CLI does: it is replaced.
 */

let cacheHome: string;
beforeEach(async () => {
  cacheHome = await mkdtemp(join(tmpdir(), 'aws-rekey-cache-home-'));
});
afterEach(() => rm(cacheHome, { recursive: true, force: true }));

const folder = () => join(cacheHome, 'aws-rekey', 'code-cache');
// Without NODE_V8_COVERAGE under `npm run coverage`: a run measuring its coverage does not use the cache.
const policy = () => runCli(['policy'], baseEnv({ XDG_CACHE_HOME: cacheHome }), undefined, { coverage: false });

describe('the code cache of the built CLI', () => {
  it('is written by the first run of a command (0600 in a 0700 folder) and used, not rewritten, by the next', async () => {
    const first = await policy();
    expect(first.code, first.stderr).toBe(0);
    const files = await readdir(folder());
    expect(files).toEqual([expect.stringMatching(/-policy\.bin$/)]);
    const file = join(folder(), files[0] as string);
    const written = await stat(file);
    expect(written.mode & 0o777).toBe(0o600);
    expect((await stat(folder())).mode & 0o777).toBe(0o700);
    const second = await policy();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const after = await stat(file);
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it('a corrupt cache is ignored and replaced; the output stays the same', async () => {
    const first = await policy();
    const [name] = await readdir(folder());
    const file = join(folder(), name as string);
    const bytes = await readFile(file);
    for (let i = 64; i < bytes.length; i += 97) bytes[i] = (bytes[i] ?? 0) ^ 0x5a;
    await writeFile(file, bytes);
    const second = await policy();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toBe('');
    expect(await readFile(file)).not.toEqual(bytes);
  });

  it('the bundle is ASCII, wrapped for vm.Script, free of import(), and keyed by the SHA-256 the build recorded', async () => {
    const bundle = await readFile(join(ROOT, 'dist', 'bundle', 'cli.cjs'));
    const { sha256, commands } = JSON.parse(await readFile(join(ROOT, 'dist', 'bundle', 'cli.json'), 'utf8')) as { sha256: string; commands: string[] };
    expect(createHash('sha256').update(bundle).digest('hex')).toBe(sha256);
    expect(commands).toEqual(expect.arrayContaining(['rotate', 'keys', 'status', 'policy', 'org']));
    expect(bundle.every((byte) => byte < 0x80)).toBe(true);
    const text = bundle.toString('latin1');
    expect(text.startsWith('(function (exports, require, module, __filename, __dirname) {')).toBe(true);
    // Without an ES module loader of its own, an import() there would fail (or, on Node 20, warn).
    expect(text.match(/\bimport\(/g) ?? []).toEqual([]);
  });
});
