import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import * as local from '../../src/credentials/local-fs.js';
import { useTempDir } from '../support/temp-dir.js';
import { rejectionOf } from '../support/rejection.js';

/*
 * src/credentials/local-fs.ts makes the credentials code's file calls synchronously behind the promise API of
 * node:fs/promises: each call must answer as node:fs/promises does, with the same value or the same error
 * (code, syscall, path), since the callers decide on both.
 */

// The calls themselves, watched: a flush to disk shows in nothing a test can read back short of a power cut.
const fsyncs = vi.hoisted(() => [] as number[]);
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, fsyncSync: (fd: number) => (fsyncs.push(fd), real.fsyncSync(fd)) };
});

const tempDir = useTempDir('aws-rekey-local-fs-');

/** A folder with a file, a link to it, a dangling link and a folder holding a file. */
async function layout(): Promise<Record<'file' | 'link' | 'dangling' | 'folder' | 'missing', string>> {
  const dir = tempDir();
  const paths = { file: join(dir, 'file'), link: join(dir, 'link'), dangling: join(dir, 'dangling'), folder: join(dir, 'folder'), missing: join(dir, 'missing') };
  await fsp.writeFile(paths.file, 'content\n', { mode: 0o640 });
  await fsp.symlink(paths.file, paths.link);
  await fsp.symlink(paths.missing, paths.dangling);
  await fsp.mkdir(paths.folder);
  await fsp.writeFile(join(paths.folder, 'inside'), 'x');
  return paths;
}

type Outcome = { value: unknown } | { error: { code?: string; syscall?: string; path?: string } };

/** What a call gives: its value (Stats reduced to what identifies them) or its error's code, syscall and path. */
async function outcome(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    const value = await call();
    return { value: value instanceof Object && 'mode' in value && 'size' in value ? { mode: value.mode, size: value.size } : value };
  } catch (error) {
    const { code, syscall, path } = error as NodeJS.ErrnoException;
    return { error: { code, syscall, path } };
  }
}

describe('local-fs answers as node:fs/promises does', () => {
  type Paths = Awaited<ReturnType<typeof layout>>;
  const cases: Array<[string, (fs: typeof local, p: Paths) => Promise<unknown>]> = [
    ['lstat of a link', (fs, p) => fs.lstat(p.link)],
    ['lstat of nothing', (fs, p) => fs.lstat(p.missing)],
    ['stat through a link', (fs, p) => fs.stat(p.link)],
    ['stat through a dangling link', (fs, p) => fs.stat(p.dangling)],
    ['realpath of a link', (fs, p) => fs.realpath(p.link)],
    ['realpath of a dangling link', (fs, p) => fs.realpath(p.dangling)],
    ['realpath under a file', (fs, p) => fs.realpath(join(p.file, 'x'))],
    ['readlink of a link', (fs, p) => fs.readlink(p.link)],
    ['readlink of a file', (fs, p) => fs.readlink(p.file)],
    ['readdir of a folder', (fs, p) => fs.readdir(p.folder)],
    ['readdir of a file', (fs, p) => fs.readdir(p.file)],
    ['readFile', (fs, p) => fs.readFile(p.file)],
    ['readFile of a folder', (fs, p) => fs.readFile(p.folder)],
    ['mkdir, recursive', (fs, p) => fs.mkdir(join(p.missing, 'a', 'b'), { recursive: true, mode: 0o700 })],
    ['mkdir of a folder there', (fs, p) => fs.mkdir(p.folder, { mode: 0o700 })],
    ['rmdir of a folder with a file', (fs, p) => fs.rmdir(p.folder)],
    ['unlink of nothing', (fs, p) => fs.unlink(p.missing)],
    ['rename onto a folder', (fs, p) => fs.rename(p.file, p.folder)],
    ['access of nothing', (fs, p) => fs.access(p.missing, constants.W_OK)],
    ['lchown of nothing', (fs, p) => fs.lchown(p.missing, 0, 0)],
    ['open of a link, not following it', (fs, p) => fs.open(p.link, constants.O_RDONLY | constants.O_NOFOLLOW)],
  ];

  it.each(cases)('%s', async (_name, call) => {
    const mine = await outcome(async () => call(local, await layout()));
    await fsp.rm(tempDir(), { recursive: true });
    await fsp.mkdir(tempDir());
    const theirs = await outcome(async () => call(fsp as unknown as typeof local, await layout()));
    expect(mine).toStrictEqual(theirs);
  });
});

describe('local-fs file handles', () => {
  it('write, chmod, sync, stat and read through one descriptor, then close it', async () => {
    const path = join(tempDir(), 'new');
    const handle = await local.open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644);
    await handle.chmod(0o600);
    await handle.chown(process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    await handle.writeFile('secret\n');
    fsyncs.length = 0;
    await handle.sync();
    expect(fsyncs).toEqual([handle.fd]);
    const info = await handle.stat();
    expect({ mode: info.mode & 0o777, size: info.size, isFile: info.isFile() }).toEqual({ mode: 0o600, size: 7, isFile: true });
    await handle.close();
    expect(await fsp.readFile(path, 'utf8')).toBe('secret\n');
    const again = await local.open(path, constants.O_RDONLY);
    expect((await again.readFile()).toString('utf8')).toBe('secret\n');
    await again.close();
    // Closed: the descriptor is no longer this process's.
    expect(await rejectionOf(again.stat(), Error)).toMatchObject({ code: 'EBADF', syscall: 'fstat' });
  });

  it('a failing call gives a rejected promise, never a throw', async () => {
    const call = local.open(join(tempDir(), 'missing'), constants.O_RDONLY);
    expect(call).toBeInstanceOf(Promise);
    expect(await rejectionOf(call, Error)).toMatchObject({ code: 'ENOENT', syscall: 'open' });
  });
});
