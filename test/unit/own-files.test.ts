import { chmod, chown, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ensureOwnFolder,
  inspectOwnPath,
  listOwnFolder,
  ownerOf,
  readOwnFile,
  rootInSharedFolderWarning,
  writeOwnFile,
} from '../../src/credentials/own-files.js';
import { getBackupPath, writeCredentialsFileAtomic } from '../../src/credentials/atomic-replace.js';
import { checkOwnFiles } from '../../src/credentials/store.js';
import { isRoot, me, OTHER_UID } from '../support/users.js';

/*
 * aws-rekey's own files never follow a planted link: each bad thing at an own path (a link to a file, to a
 * folder, a dangling link, another type, another owner) is refused with its path, and what the link points
 * to is left byte- and mode-identical.
 */

let dir: string;
let outside: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aws-rekey-own-'));
  outside = await mkdtemp(join(tmpdir(), 'aws-rekey-outside-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

/** A file and a folder outside, each with content and an open mode that a followed link would change. */
async function outsideThings(): Promise<{ file: string; folder: string; state: () => Promise<string> }> {
  const file = join(outside, 'system-file');
  const folder = join(outside, 'system-folder');
  await writeFile(file, 'do not touch\n');
  await chmod(file, 0o644);
  await mkdir(folder);
  await chmod(folder, 0o755);
  await writeFile(join(folder, 'inside'), 'x');
  const state = async () => {
    const parts: string[] = [];
    for (const name of (await readdir(outside, { recursive: true })).sort()) {
      const info = await lstat(join(outside, name));
      parts.push(`${name} ${(info.mode & 0o7777).toString(8)} ${info.uid} ${info.isFile() ? (await readFile(join(outside, name))).toString('base64') : 'dir'}`);
    }
    return parts.join('\n');
  };
  return { file, folder, state };
}

type Plant = (path: string, things: { file: string; folder: string }) => Promise<void>;

const plants: Array<[string, Plant, RegExp, boolean?]> = [
  ['a link to a file outside', (p, t) => symlink(t.file, p), /is a symbolic link/],
  ['a link to a folder outside', (p, t) => symlink(t.folder, p), /is a symbolic link/],
  ['a dangling link', (p) => symlink(join(outside, 'nothing-here'), p), /is a symbolic link/],
  ['a named pipe', async (p) => void (await import('node:child_process')).execFileSync('mkfifo', [p]), /but it is a named pipe/],
  [
    'a file of another user',
    async (p) => {
      await writeFile(p, '{}');
      await chown(p, OTHER_UID, OTHER_UID);
    },
    new RegExp(`belongs to uid ${OTHER_UID}`),
    true,
  ],
];

describe('writeOwnFile / readOwnFile', () => {
  for (const [name, plant, message, needsRoot] of plants) {
    it.skipIf(needsRoot && !isRoot)(`refuses ${name}, naming the path; nothing outside changes`, async () => {
      const things = await outsideThings();
      const before = await things.state();
      const path = join(dir, 'record.json');
      await plant(path, things);
      await expect(writeOwnFile(path, 'secret', me)).rejects.toMatchObject({ message: expect.stringMatching(message), hint: expect.any(String) });
      await expect(writeOwnFile(path, 'secret', me)).rejects.toThrow(path);
      await expect(readOwnFile(path, me)).rejects.toThrow(path);
      expect(await things.state()).toBe(before);
      expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('writes a new file 0600 and replaces an old one of ours; reads it back', async () => {
    const path = join(dir, 'record.json');
    await writeOwnFile(path, 'one', me);
    await chmod(path, 0o644);
    await writeOwnFile(path, 'two', me);
    expect(await readFile(path, 'utf8')).toBe('two');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readOwnFile(path, me))?.toString()).toBe('two');
    expect(await readOwnFile(join(dir, 'missing'), me)).toBeUndefined();
  });

  it.runIf(isRoot)('root writes files of another user\'s credentials as that user', async () => {
    const path = join(dir, 'record.json');
    await writeOwnFile(path, 'x', { uid: OTHER_UID, gid: OTHER_UID });
    expect(await stat(path)).toMatchObject({ uid: OTHER_UID, gid: OTHER_UID });
  });
});

describe('ensureOwnFolder / listOwnFolder', () => {
  for (const [name, plant, message] of plants.filter(([n]) => n !== 'a file of another user')) {
    it(`refuses ${name}; nothing outside changes`, async () => {
      const things = await outsideThings();
      const before = await things.state();
      const path = join(dir, 'aws-rekey');
      await plant(path, things);
      await expect(ensureOwnFolder(path, me)).rejects.toMatchObject({ message: expect.stringMatching(message) });
      await expect(listOwnFolder(path, me)).rejects.toThrow(path);
      expect(await things.state()).toBe(before);
    });
  }

  it('refuses a plain file in place of the folder', async () => {
    const path = join(dir, 'aws-rekey');
    await writeFile(path, 'x');
    await expect(ensureOwnFolder(path, me)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_TYPE', message: expect.stringContaining(`${path} should be a folder`) });
  });

  it.runIf(isRoot)('refuses a folder of another user', async () => {
    const path = join(dir, 'aws-rekey');
    await mkdir(path, { mode: 0o755 });
    await chown(path, OTHER_UID, OTHER_UID);
    await expect(ensureOwnFolder(path, me)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_OWNER', message: expect.stringContaining(path) });
    expect((await stat(path)).mode & 0o777).toBe(0o755);
  });

  it('makes the folder 0700, and makes an opened-up one private again', async () => {
    const path = join(dir, 'aws-rekey');
    await ensureOwnFolder(path, me);
    expect((await stat(path)).mode & 0o777).toBe(0o700);
    await chmod(path, 0o755);
    await ensureOwnFolder(path, me);
    expect((await stat(path)).mode & 0o777).toBe(0o700);
    expect(await listOwnFolder(path, me)).toEqual([]);
    expect(await listOwnFolder(join(dir, 'missing'), me)).toEqual([]);
  });

  it.runIf(isRoot)('root makes the folder of another user\'s credentials as that user', async () => {
    const path = join(dir, 'aws-rekey');
    await ensureOwnFolder(path, { uid: OTHER_UID, gid: OTHER_UID });
    expect(await stat(path)).toMatchObject({ uid: OTHER_UID, gid: OTHER_UID });
  });
});

describe('the credentials file: its link is followed, its backup\'s never', () => {
  it('a backup planted as a link is refused before the file changes', async () => {
    const things = await outsideThings();
    const before = await things.state();
    const path = join(dir, 'credentials');
    await writeFile(path, 'old\n', { mode: 0o600 });
    await symlink(things.file, getBackupPath(path));
    await expect(checkOwnFiles(path)).rejects.toMatchObject({ code: 'OWN_FILE_IS_LINK', message: expect.stringContaining(getBackupPath(path)) });
    await expect(writeCredentialsFileAtomic(path, 'new\n', { backup: true })).rejects.toMatchObject({ code: 'OWN_FILE_IS_LINK' });
    expect(await readFile(path, 'utf8')).toBe('old\n');
    expect(await things.state()).toBe(before);
  });

  it('inspectOwnPath: nothing there is fine; ownerOf is the file\'s owner, else its folder\'s', async () => {
    expect(await inspectOwnPath(join(dir, 'nothing'), 'file', me)).toBeUndefined();
    const path = join(dir, 'credentials');
    expect(await ownerOf(path)).toEqual(await stat(dir).then((s) => ({ uid: s.uid, gid: s.gid })));
    await writeFile(path, '');
    if (isRoot) await chown(path, OTHER_UID, OTHER_UID + 1);
    expect(await ownerOf(path)).toEqual(isRoot ? { uid: OTHER_UID, gid: OTHER_UID + 1 } : me);
  });
});

describe.runIf(isRoot)('rootInSharedFolderWarning', () => {
  it('says so when another user can write to the folder, and not when only root can', async () => {
    const path = join(dir, 'credentials');
    await chmod(dir, 0o700);
    expect(await rootInSharedFolderWarning(path)).toBeUndefined();
    await chown(dir, OTHER_UID, OTHER_UID);
    expect(await rootInSharedFolderWarning(path)).toMatch(new RegExp(`${dir} can be written by uid ${OTHER_UID}`));
    await chown(dir, 0, 0);
    await chmod(dir, 0o777);
    expect(await rootInSharedFolderWarning(path)).toMatch(/every user/);
  });
});
