import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ensureOwnFolder, inspectOwnPath, listOwnFolder, writeOwnFile } from '../../src/credentials/own-files.js';
import { clearRaces, pendingRaces, raceBefore } from '../support/races.js';
import { useTempDir } from '../support/temp-dir.js';
import { isRoot, me, OTHER_UID } from '../support/users.js';

/*
 * What someone who can write to the folder could do between aws-rekey's look at one of its paths and its
 * use of it: swap in a link, a file, another user's folder; make or remove the thing meanwhile. Each race is
 * made here by doing that just before the call that follows the check (test/support/races.ts).
 */

vi.mock('../../src/credentials/local-fs.js', async (importOriginal) => (await import('../support/races.js')).racedFs(await importOriginal()));

const tempDir = useTempDir('aws-rekey-own-races-');
const outsideDir = useTempDir('aws-rekey-own-races-outside-');
afterEach(clearRaces);

/** A folder outside with a file in it, each with an open mode that a followed link would change. */
beforeEach(async () => {
  await chmod(outsideDir(), 0o755);
  await writeFile(join(outsideDir(), 'system-file'), 'do not touch\n', { mode: 0o644 });
});

const outsideUntouched = async (): Promise<void> => {
  const outside = outsideDir();
  expect((await stat(outside)).mode & 0o777).toBe(0o755);
  expect(await readdir(outside)).toEqual(['system-file']);
  expect(await readFile(join(outside, 'system-file'), 'utf8')).toBe('do not touch\n');
  expect((await stat(join(outside, 'system-file'))).mode & 0o777).toBe(0o644);
};

describe('ensureOwnFolder: the folder swapped after the check', () => {
  it('for a link to a folder outside: refused as a link; the folder outside keeps its mode', async () => {
    const path = join(tempDir(), 'aws-rekey');
    await mkdir(path, { mode: 0o755 });
    raceBefore('open', async (real) => {
      await real.rm(path, { recursive: true });
      await real.symlink(outsideDir(), path);
    }, (file) => file === path);
    await expect(ensureOwnFolder(path, me)).rejects.toMatchObject({ code: 'OWN_FILE_IS_LINK', message: `${path} is a symbolic link (to ${outsideDir()}). aws-rekey makes this folder itself and never follows a link there.` });
    expect(pendingRaces()).toBe(0);
    await outsideUntouched();
  });

  it('for a file: refused as the wrong type', async () => {
    const path = join(tempDir(), 'aws-rekey');
    raceBefore('open', async (real) => {
      await real.rm(path, { recursive: true });
      await real.writeFile(path, 'x');
    }, (file) => file === path);
    await expect(ensureOwnFolder(path, me)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_TYPE', message: `${path} should be a folder of aws-rekey's, but it is a file.` });
    expect(await readFile(path, 'utf8')).toBe('x');
  });

  // Only root can make a folder of another user's; as anyone else, a folder they may own is all there is.
  it.runIf(isRoot)('for a folder of another user: refused as theirs (seen through the handle), its mode and owner as they were', async () => {
    const path = join(tempDir(), 'aws-rekey');
    raceBefore('open', async (real) => {
      await real.rm(path, { recursive: true });
      await real.mkdir(path, { mode: 0o755 });
      await real.chmod(path, 0o755);
      await real.chown(path, OTHER_UID, OTHER_UID);
    }, (file) => file === path);
    await expect(ensureOwnFolder(path, { uid: 1000, gid: 1000 })).rejects.toMatchObject({
      code: 'OWN_FILE_WRONG_OWNER',
      message: `${path} belongs to uid ${OTHER_UID}, not to uid 1000 (the owner of the credentials file) or root.`,
    });
    expect(await stat(path)).toMatchObject({ uid: OTHER_UID, gid: OTHER_UID });
    expect((await stat(path)).mode & 0o777).toBe(0o755);
  });

  it('a new folder is private from the moment it exists: no moment where others may list it', async () => {
    const path = join(tempDir(), 'aws-rekey');
    const modes: number[] = [];
    // Between mkdir and the open that follows it, before any chmod.
    raceBefore('open', async (real) => void modes.push((await real.stat(path)).mode & 0o777), (file) => file === path);
    await ensureOwnFolder(path, me);
    expect(modes).toEqual([0o700]);
  });

  it('made meanwhile by a rotation beside this one: taken as it is, made private', async () => {
    const path = join(tempDir(), 'aws-rekey');
    raceBefore('mkdir', async (real) => real.mkdir(path, { mode: 0o755 }), (folder) => folder === path);
    await ensureOwnFolder(path, me);
    expect(pendingRaces()).toBe(0);
    expect((await stat(path)).mode & 0o777).toBe(0o700);
  });

  it('made meanwhile as a link: refused as a link', async () => {
    const path = join(tempDir(), 'aws-rekey');
    raceBefore('mkdir', async (real) => real.symlink(outsideDir(), path), (folder) => folder === path);
    await expect(ensureOwnFolder(path, me)).rejects.toMatchObject({ code: 'OWN_FILE_IS_LINK' });
    await outsideUntouched();
  });
});

describe('listOwnFolder / inspectOwnPath / writeOwnFile: the thing gone or swapped after the check', () => {
  it('a folder removed between the check and the listing (another run finished): no names', async () => {
    const path = join(tempDir(), 'aws-rekey');
    await mkdir(path);
    await writeFile(join(path, 'a.json'), '{}');
    raceBefore('readdir', async (real) => real.rm(path, { recursive: true }), (folder) => folder === path);
    expect(await listOwnFolder(path, me)).toEqual([]);
    expect(pendingRaces()).toBe(0);
  });

  it('a link removed before its target could be read: refused all the same, the target shown as "?"', async () => {
    const path = join(tempDir(), 'record.json');
    await symlink(join(outsideDir(), 'system-file'), path);
    raceBefore('readlink', async (real) => real.rm(path), (link) => link === path);
    await expect(inspectOwnPath(path, 'file', me)).rejects.toMatchObject({
      code: 'OWN_FILE_IS_LINK',
      message: `${path} is a symbolic link (to ?). aws-rekey makes this file itself and never follows a link there.`,
    });
  });

  it('a link planted after the check is replaced by the rename, never written through', async () => {
    const path = join(tempDir(), 'record.json');
    raceBefore('rename', async (real) => real.symlink(join(outsideDir(), 'system-file'), path), (_temp, target) => target === path);
    await writeOwnFile(path, 'secret', me);
    expect(pendingRaces()).toBe(0);
    expect((await lstat(path)).isFile()).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('secret');
    await outsideUntouched();
  });

  it('a folder planted after the check: the rename fails, the reason is given, no temp file stays', async () => {
    const path = join(tempDir(), 'record.json');
    raceBefore('rename', async (real) => {
      await real.mkdir(path);
      await real.writeFile(join(path, 'inside'), 'x');
    }, (_temp, target) => target === path);
    await expect(writeOwnFile(path, 'secret', me)).rejects.toMatchObject({
      code: 'CREDENTIALS_WRITE_FAILED',
      message: `Cannot write ${path}: it is a directory.`,
      hint: `Check ${tempDir()} (ls -la '${tempDir()}'), then run aws-rekey again.`,
    });
    expect(await readdir(tempDir())).toEqual(['record.json']);
    expect(await readdir(path)).toEqual(['inside']);
  });
});
