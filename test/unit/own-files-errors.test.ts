import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { chmod, chown, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createOwnFile,
  ensureOwnFolder,
  errorCode,
  fileFailure,
  giveToOwner,
  inspectOwnPath,
  ownerOf,
  readOwnFile,
  reasonOf,
  removeOwnFile,
  removeOwnFolderIfEmpty,
  resolveLinkTarget,
  rootInSharedFolderWarning,
  syncFolder,
  writeOwnFile,
  writeOwnTemp,
} from '../../src/credentials/own-files.js';
import { isRoot, me, OTHER_UID, pretendUid } from '../support/users.js';
import { useTempDir } from '../support/temp-dir.js';

/*
 * own-files.ts as a user meets it when something is wrong: what each refusal says (the path, what is there,
 * the fix), which failures leave nothing behind, and where writes to a linked file go.
 */

const errno = (code: string, message = `${code}: failed`): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

const tempDir = useTempDir('aws-rekey-own-errors-');
let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('reasonOf / fileFailure: the cause in words, and the fix that matches it', () => {
  const reasons: Array<[string, string]> = [
    ['EACCES', 'permission denied'],
    ['EPERM', 'operation not permitted'],
    ['EROFS', 'read-only file system'],
    ['ENOSPC', 'no space left on the device'],
    ['EDQUOT', 'disk quota exceeded'],
    ['EISDIR', 'it is a directory'],
    ['ENOTDIR', 'a parent is not a directory'],
    ['EEXIST', 'it already exists'],
    ['ELOOP', 'it is a symbolic link'],
    ['ENOENT', 'it does not exist'],
  ];
  for (const [code, reason] of reasons) {
    it(`${code} → "${reason}"`, () => {
      expect(reasonOf(errno(code))).toBe(reason);
    });
  }

  it('another code: the error\'s own message; not an Error: its text', () => {
    expect(reasonOf(errno('EIO', 'EIO: i/o error, write'))).toBe('EIO: i/o error, write');
    expect(reasonOf('plain words')).toBe('plain words');
  });

  const fixes: Array<[string, string]> = [
    ['EACCES', "Run aws-rekey as the user who owns /home/me/.aws, or give that folder back to them (ls -ld '/home/me/.aws' shows who owns it)."],
    ['EPERM', "Run aws-rekey as the user who owns /home/me/.aws, or give that folder back to them (ls -ld '/home/me/.aws' shows who owns it)."],
    ['EROFS', '/home/me/.aws is on a read-only file system: point AWS_SHARED_CREDENTIALS_FILE at a file on a writable one, or remount it read-write.'],
    ['ENOSPC', 'Free some space, then run aws-rekey again.'],
    ['EDQUOT', 'Free some space, then run aws-rekey again.'],
    ['ENOTDIR', 'A parent of /home/me/.aws/x is a file, not a folder: move it out of the way.'],
    ['EIO', "Check /home/me/.aws (ls -la '/home/me/.aws'), then run aws-rekey again."],
  ];
  for (const [code, hint] of fixes) {
    it(`the fix for ${code}`, () => {
      const cause = errno(code);
      const error = fileFailure('SOME_CODE', 'it failed', cause, '/home/me/.aws/x');
      expect(error).toMatchObject({ code: 'SOME_CODE', message: 'it failed', hint, cause });
    });
  }

  it('an exit code is kept when given, and the default otherwise', () => {
    expect(fileFailure('X', 'm', errno('EIO'), '/a/b', 2).exitCode).toBe(2);
    expect(fileFailure('X', 'm', errno('EIO'), '/a/b').exitCode).toBe(1);
  });
});

describe('resolveLinkTarget: where writes to a file the user chose go', () => {
  it('a path under a file resolves to itself; a missing path too', async () => {
    await writeFile(join(dir, 'file'), 'x');
    expect(await resolveLinkTarget(join(dir, 'file', 'credentials'))).toBe(join(dir, 'file', 'credentials'));
    expect(await resolveLinkTarget(join(dir, 'missing'))).toBe(join(dir, 'missing'));
  });

  it('a chain of dangling links resolves to its last target, relative links from their own folder', async () => {
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    await symlink('../b/second', join(dir, 'a', 'first'));
    await symlink('third', join(dir, 'b', 'second'));
    expect(await resolveLinkTarget(join(dir, 'a', 'first'))).toBe(join(dir, 'b', 'third'));
  });

  it('a chain longer than 33 links stops there instead of running on', async () => {
    for (let i = 0; i < 40; i += 1) await symlink(`l${i + 1}`, join(dir, `l${i}`));
    expect(await resolveLinkTarget(join(dir, 'l0'))).toBe(join(dir, 'l33'));
  });

  it('a link loop cannot be resolved: the path and the reason', async () => {
    await symlink('loop', join(dir, 'loop'));
    await expect(resolveLinkTarget(join(dir, 'loop'))).rejects.toMatchObject({
      code: 'CREDENTIALS_UNREADABLE',
      message: `Cannot resolve ${join(dir, 'loop')}: it is a symbolic link.`,
      hint: `Check ${dir} (ls -la '${dir}'), then run aws-rekey again.`,
    });
  });
});

describe('ownerOf', () => {
  it('neither the file nor its folder exists: the running user', async () => {
    expect(await ownerOf(join(dir, 'no', 'such', 'credentials'))).toEqual(me);
  });

  it('where the process has no uid (Windows: no getuid/getgid): -1, which no file has', async () => {
    const ids = process as { getuid?: unknown; getgid?: unknown };
    const { getuid, getgid } = ids;
    ids.getuid = undefined;
    ids.getgid = undefined;
    try {
      expect(await ownerOf(join(dir, 'no', 'such', 'credentials'))).toEqual({ uid: -1, gid: -1 });
    } finally {
      ids.getuid = getuid;
      ids.getgid = getgid;
    }
  });
});

describe('inspectOwnPath: what is there, in words', () => {
  it('a folder where a file should be', async () => {
    await mkdir(join(dir, 'x'));
    await expect(inspectOwnPath(join(dir, 'x'), 'file', me)).rejects.toMatchObject({
      code: 'OWN_FILE_WRONG_TYPE',
      message: `${join(dir, 'x')} should be a file of aws-rekey's, but it is a folder.`,
      hint: `Move it out of the way (mv '${join(dir, 'x')}' '${join(dir, 'x')}.moved'), then run aws-rekey again.`,
    });
  });

  it('a device', async () => {
    await expect(inspectOwnPath('/dev/null', 'file', me)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_TYPE', message: "/dev/null should be a file of aws-rekey's, but it is a device." });
  });

  it('a socket', async () => {
    const path = join(dir, 'sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      await expect(inspectOwnPath(path, 'folder', me)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_TYPE', message: `${path} should be a folder of aws-rekey's, but it is a socket.` });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a link: the message names its target, the hint says how to remove it', async () => {
    const path = join(dir, 'record.json');
    await symlink('/etc/passwd', path);
    await expect(inspectOwnPath(path, 'file', me)).rejects.toMatchObject({
      code: 'OWN_FILE_IS_LINK',
      message: `${path} is a symbolic link (to /etc/passwd). aws-rekey makes this file itself and never follows a link there.`,
      hint: `Remove the link (rm '${path}'), then run aws-rekey again. If you did not make it, someone who can write to ${dir} did: find out who.`,
    });
  });

  it.runIf(isRoot)('another user\'s file: whose it is, and the two ways out', async () => {
    const path = join(dir, 'record.json');
    await writeFile(path, '{}');
    await chown(path, OTHER_UID, OTHER_UID);
    const owner = { uid: 1000, gid: 1001 };
    await expect(inspectOwnPath(path, 'file', owner)).rejects.toMatchObject({
      code: 'OWN_FILE_WRONG_OWNER',
      message: `${path} belongs to uid ${OTHER_UID}, not to uid 1000 (the owner of the credentials file) or root.`,
      hint: `aws-rekey did not make it for this file. Check what it is, then remove it (rm -r '${path}') or give it to its owner (chown -R 1000:1001 '${path}').`,
    });
  });

  it.runIf(isRoot)('root\'s own file, and one of the credentials file\'s owner, are fine', async () => {
    const path = join(dir, 'record.json');
    await writeFile(path, '{}');
    expect((await inspectOwnPath(path, 'file', { uid: OTHER_UID, gid: OTHER_UID }))?.isFile()).toBe(true);
    await chown(path, OTHER_UID, OTHER_UID);
    expect((await inspectOwnPath(path, 'file', { uid: OTHER_UID, gid: OTHER_UID }))?.isFile()).toBe(true);
  });
});

describe('readOwnFile / writeOwnFile / createOwnFile / removeOwnFile: failures leave nothing behind', () => {
  it('reading a folder in place of the file: refused as the wrong type', async () => {
    await mkdir(join(dir, 'record.json'));
    await expect(readOwnFile(join(dir, 'record.json'), me)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_TYPE', message: expect.stringContaining('but it is a folder') });
  });

  it('writing into a folder that does not exist: the reason, and no temp file anywhere', async () => {
    const path = join(dir, 'gone', 'record.json');
    await expect(writeOwnFile(path, 'x', me)).rejects.toMatchObject({
      code: 'CREDENTIALS_WRITE_FAILED',
      message: `Cannot write ${path}: it does not exist.`,
      hint: `Check ${join(dir, 'gone')} (ls -la '${join(dir, 'gone')}'), then run aws-rekey again.`,
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('createOwnFile: 0600 with the content given, or empty; never over an existing file', async () => {
    await createOwnFile(join(dir, 'note'), 'hello\n', me);
    await createOwnFile(join(dir, 'probe'), '', me);
    expect(await readFile(join(dir, 'note'), 'utf8')).toBe('hello\n');
    expect((await stat(join(dir, 'note'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'probe'))).size).toBe(0);
    await expect(createOwnFile(join(dir, 'note'), 'other', me)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(join(dir, 'note'), 'utf8')).toBe('hello\n');
  });

  it.runIf(isRoot)('createOwnFile as root gives the file to the owner', async () => {
    await createOwnFile(join(dir, 'note'), 'x', { uid: OTHER_UID, gid: OTHER_UID + 1 });
    expect(await stat(join(dir, 'note'))).toMatchObject({ uid: OTHER_UID, gid: OTHER_UID + 1 });
  });

  it('removeOwnFile: a folder cannot be removed this way; the error says how to do it', async () => {
    const path = join(dir, 'folder');
    await mkdir(path);
    await expect(removeOwnFile(path)).rejects.toMatchObject({ code: 'FILE_REMOVE_FAILED', message: `Cannot remove ${path}: it is a directory.`, hint: `Remove it yourself: rm '${path}'.` });
    expect((await stat(path)).isDirectory()).toBe(true);
  });

  it('removeOwnFile removes a link, not what it points to', async () => {
    await writeFile(join(dir, 'target'), 'keep');
    await symlink(join(dir, 'target'), join(dir, 'link'));
    expect(await removeOwnFile(join(dir, 'link'))).toBe(true);
    expect(await readdir(dir)).toEqual(['target']);
  });

  it('removeOwnFolderIfEmpty: an empty folder goes, one with files stays, a missing one is no error', async () => {
    await mkdir(join(dir, 'empty'));
    await mkdir(join(dir, 'full'));
    await writeFile(join(dir, 'full', 'f'), 'x');
    await removeOwnFolderIfEmpty(join(dir, 'empty'));
    await removeOwnFolderIfEmpty(join(dir, 'full'));
    await removeOwnFolderIfEmpty(join(dir, 'missing'));
    expect(await readdir(dir)).toEqual(['full']);
  });
});

describe('syncFolder', () => {
  it('a folder is synced without error', async () => {
    await expect(syncFolder(dir)).resolves.toBeUndefined();
  });

  it('a folder that cannot be opened for another reason: the new content is in place, the sync is not', async () => {
    const missing = join(dir, 'missing');
    await expect(syncFolder(missing)).rejects.toMatchObject({
      code: 'CREDENTIALS_WRITE_FAILED',
      message: `The file in ${missing} was replaced, but the directory could not be synced to disk: it does not exist.`,
      hint: 'The new content is in place; check the disk (a crash now could lose the change).',
    });
  });
});

describe.runIf(isRoot)('rootInSharedFolderWarning: who else can write there, and what to run instead', () => {
  it('a folder of another user: that user, and sudo -u as them', async () => {
    await chown(dir, OTHER_UID, OTHER_UID);
    await chmod(dir, 0o700);
    expect(await rootInSharedFolderWarning(join(dir, 'credentials'))).toBe(
      `aws-rekey runs as root, and ${dir} can be written by uid ${OTHER_UID} (its owner): they could swap a file aws-rekey writes there for a link between its check and its write. ` +
        `Links found there are refused; to rule out the race, run sudo -u '#${OTHER_UID}' aws-rekey … instead.`,
    );
  });

  it('root\'s folder that its group may write to: the group\'s members, and the owner of the file', async () => {
    await chown(dir, 0, OTHER_UID);
    await chmod(dir, 0o770);
    expect(await rootInSharedFolderWarning(join(dir, 'credentials'))).toMatch(
      new RegExp(`can be written by the members of group ${OTHER_UID}: .* run aws-rekey as the owner of the credentials file instead\\.$`),
    );
  });

  it('a folder every user may write to names every user, not the group too', async () => {
    await chown(dir, 0, OTHER_UID);
    await chmod(dir, 0o777);
    const warning = await rootInSharedFolderWarning(join(dir, 'credentials'));
    expect(warning).toContain(`${dir} can be written by every user:`);
    expect(warning).not.toContain('group');
  });

  it('a folder of another user that its group may write to: both, joined by "and"', async () => {
    await chown(dir, OTHER_UID, OTHER_UID + 1);
    await chmod(dir, 0o770);
    expect(await rootInSharedFolderWarning(join(dir, 'credentials'))).toContain(`${dir} can be written by uid ${OTHER_UID} (its owner) and the members of group ${OTHER_UID + 1}: they could`);
  });

  it('a folder that does not exist: nobody to warn about', async () => {
    expect(await rootInSharedFolderWarning(join(dir, 'missing', 'credentials'))).toBeUndefined();
  });

  it('an owner without write permission is no writer', async () => {
    await chown(dir, OTHER_UID, OTHER_UID);
    await chmod(dir, 0o500);
    expect(await rootInSharedFolderWarning(join(dir, 'credentials'))).toBeUndefined();
  });

  it('a link into another user\'s folder: the target\'s folder is named', async () => {
    const mine = join(dir, 'mine');
    const theirs = join(dir, 'theirs');
    await mkdir(mine, { mode: 0o700 });
    await mkdir(theirs, { mode: 0o700 });
    await writeFile(join(theirs, 'credentials'), '');
    await chown(theirs, OTHER_UID, OTHER_UID);
    await symlink(join(theirs, 'credentials'), join(mine, 'credentials'));
    expect(await rootInSharedFolderWarning(join(mine, 'credentials'))).toContain(`${theirs} can be written by uid ${OTHER_UID} (its owner)`);
  });
});

describe('errorCode / reasonOf of what is not an error', () => {
  it('undefined (a promise rejected with nothing): no code, and its text', () => {
    expect(errorCode(undefined)).toBeUndefined();
    expect(reasonOf(undefined)).toBe('undefined');
  });
});

describe('a parent that is a file, not a folder', () => {
  it('inspectOwnPath: "Cannot look at", and the fix for a file in the way', async () => {
    await writeFile(join(dir, 'aws'), 'not a folder');
    const path = join(dir, 'aws', 'record.json');
    await expect(inspectOwnPath(path, 'file', me)).rejects.toMatchObject({
      code: 'OWN_FILE_UNREADABLE',
      message: `Cannot look at ${path}: a parent is not a directory.`,
      hint: `A parent of ${path} is a file, not a folder: move it out of the way.`,
    });
    expect(await readFile(join(dir, 'aws'), 'utf8')).toBe('not a folder');
  });

  it('readOwnFile: "Cannot read", the same fix', async () => {
    await writeFile(join(dir, 'aws'), 'not a folder');
    const path = join(dir, 'aws', 'record.json');
    await expect(readOwnFile(path, me)).rejects.toMatchObject({
      code: 'OWN_FILE_UNREADABLE',
      message: `Cannot read ${path}: a parent is not a directory.`,
      hint: `A parent of ${path} is a file, not a folder: move it out of the way.`,
    });
  });

  it('ensureOwnFolder in a folder that does not exist: "Cannot write", nothing is made', async () => {
    const path = join(dir, 'gone', 'aws-rekey');
    await expect(ensureOwnFolder(path, me)).rejects.toMatchObject({
      code: 'CREDENTIALS_WRITE_FAILED',
      message: `Cannot write ${path}: it does not exist.`,
      hint: `Check ${join(dir, 'gone')} (ls -la '${join(dir, 'gone')}'), then run aws-rekey again.`,
    });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('readOwnFile: each refusal by its own code', () => {
  it('a link: OWN_FILE_IS_LINK (not a failed read), the target untouched', async () => {
    await writeFile(join(dir, 'target'), 'keep');
    await symlink(join(dir, 'target'), join(dir, 'record.json'));
    await expect(readOwnFile(join(dir, 'record.json'), me)).rejects.toMatchObject({ code: 'OWN_FILE_IS_LINK', message: expect.stringContaining(`(to ${join(dir, 'target')})`) });
    expect(await readFile(join(dir, 'target'), 'utf8')).toBe('keep');
  });

  it('a named pipe: OWN_FILE_WRONG_TYPE at once (no wait for a writer)', async () => {
    const path = join(dir, 'record.json');
    execFileSync('mkfifo', [path]);
    await expect(readOwnFile(path, me)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_TYPE', message: `${path} should be a file of aws-rekey's, but it is a named pipe.` });
  });

  // A file the kernel opens and describes but will not read from offset 0: a read that fails after the checks.
  it.runIf(existsSync('/proc/self/mem'))('a file whose read fails (/proc/self/mem): "Cannot read" with the system\'s own words', async () => {
    await expect(readOwnFile('/proc/self/mem', me)).rejects.toMatchObject({
      code: 'OWN_FILE_UNREADABLE',
      message: 'Cannot read /proc/self/mem: EIO: i/o error, read.',
      hint: "Check /proc/self (ls -la '/proc/self'), then run aws-rekey again.",
    });
  });
});

describe('inspectOwnPath: the other things in the wrong place', () => {
  it('a file where a folder should be', async () => {
    const path = join(dir, 'aws-rekey');
    await writeFile(path, 'x');
    await expect(inspectOwnPath(path, 'folder', me)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_TYPE', message: `${path} should be a folder of aws-rekey's, but it is a file.` });
  });

  // A block device: made with mknod as root (where the container allows it); else the first one /dev has.
  const blockDevice = async (): Promise<string | undefined> => {
    if (isRoot) {
      try {
        execFileSync('mknod', [join(dir, 'disk'), 'b', '7', '0'], { stdio: 'ignore' });
        return join(dir, 'disk');
      } catch {
        // No CAP_MKNOD here: look in /dev.
      }
    }
    for (const name of await readdir('/dev')) if ((await lstat(join('/dev', name)).catch(() => undefined))?.isBlockDevice()) return join('/dev', name);
    return undefined;
  };
  it('a block device', async () => {
    const path = await blockDevice();
    if (!path) throw new Error('no block device to test with: mknod failed and /dev has none');
    await expect(inspectOwnPath(path, 'file', me)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_TYPE', message: `${path} should be a file of aws-rekey's, but it is a device.` });
  });
});

describe('ensureOwnFolder: races with a rotation beside it, and a folder left as it is', () => {
  it('eight at once on the same new folder: each one passes, one private folder', async () => {
    const path = join(dir, 'aws-rekey');
    await Promise.all(Array.from({ length: 8 }, () => ensureOwnFolder(path, me)));
    expect((await stat(path)).mode & 0o777).toBe(0o700);
    expect(await readdir(dir)).toEqual(['aws-rekey']);
  });

  // chmod and chown change a file's ctime even when they change nothing else: an untouched folder keeps it.
  it('a private folder of the right owner is not touched at all (its ctime stays)', async () => {
    const path = join(dir, 'aws-rekey');
    await ensureOwnFolder(path, me);
    const before = (await stat(path, { bigint: true })).ctimeNs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await ensureOwnFolder(path, me);
    expect((await stat(path, { bigint: true })).ctimeNs).toBe(before);
  });
});

describe('who owns what root makes: each of uid and gid counts', () => {
  const owner = { uid: 0, gid: OTHER_UID };
  // Root's uid with another group, and another uid with root's group: either one differing is a chown.
  const halfRoot = [owner, { uid: OTHER_UID, gid: 0 }];

  it.runIf(isRoot)('createOwnFile, writeOwnTemp and giveToOwner: root\'s uid with another group, another uid with root\'s group', async () => {
    for (const [i, who] of halfRoot.entries()) {
      await createOwnFile(join(dir, `note-${i}`), '', who);
      const temp = await writeOwnTemp(join(dir, `record-${i}.json`), 'x', who);
      await mkdir(join(dir, `lock-${i}`));
      await giveToOwner(join(dir, `lock-${i}`), who);
      for (const path of [join(dir, `note-${i}`), temp, join(dir, `lock-${i}`)]) expect(await stat(path), path).toMatchObject(who);
    }
  });

  it.runIf(isRoot)('ensureOwnFolder gives an existing folder its owner\'s group, and its owner\'s uid', async () => {
    const path = join(dir, 'aws-rekey');
    await mkdir(path, { mode: 0o700 });
    await chown(path, OTHER_UID, 0);
    await ensureOwnFolder(path, { uid: OTHER_UID, gid: OTHER_UID + 1 });
    expect(await stat(path)).toMatchObject({ uid: OTHER_UID, gid: OTHER_UID + 1 });
    await chown(path, 0, OTHER_UID + 1);
    await ensureOwnFolder(path, { uid: OTHER_UID, gid: OTHER_UID + 1 });
    expect(await stat(path)).toMatchObject({ uid: OTHER_UID, gid: OTHER_UID + 1 });
  });

  it.runIf(isRoot)('giveToOwner: a folder root made goes to the owner; a link is given itself, never what it points to', async () => {
    await mkdir(join(dir, 'lock'));
    await writeFile(join(dir, 'target'), 'x');
    await symlink(join(dir, 'target'), join(dir, 'link'));
    await giveToOwner(join(dir, 'lock'), owner);
    await giveToOwner(join(dir, 'link'), { uid: OTHER_UID, gid: OTHER_UID });
    expect(await stat(join(dir, 'lock'))).toMatchObject(owner);
    expect(await lstat(join(dir, 'link'))).toMatchObject({ uid: OTHER_UID, gid: OTHER_UID });
    expect(await stat(join(dir, 'target'))).toMatchObject({ uid: 0, gid: 0 });
  });

  it('giveToOwner of root\'s own: nothing to change, not even the ctime a chown would set', async () => {
    await mkdir(join(dir, 'lock'));
    const before = await stat(join(dir, 'lock'), { bigint: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await giveToOwner(join(dir, 'lock'), { uid: 0, gid: 0 });
    expect(await stat(join(dir, 'lock'), { bigint: true })).toMatchObject({ uid: before.uid, gid: before.gid, ctimeNs: before.ctimeNs });
  });
});

/*
 * A run as a user other than root gives nothing away (it could not) and keeps files of its own. As root,
 * process.getuid() is made to answer another uid (pretendUid): root could chown, so a chown shows.
 */
describe('a run that is not root', () => {
  const runner = isRoot ? OTHER_UID : me.uid;
  const owner = { uid: runner + 1, gid: runner + 1 };
  const notRoot = (): void => {
    if (isRoot) pretendUid(OTHER_UID);
  };

  it('makes files and folders for another owner as its own: no chown', async () => {
    notRoot();
    const made = me.uid;
    await writeOwnFile(join(dir, 'record.json'), 'x', owner);
    await createOwnFile(join(dir, 'note'), 'x', owner);
    await ensureOwnFolder(join(dir, 'aws-rekey'), owner);
    await mkdir(join(dir, 'lock'));
    await giveToOwner(join(dir, 'lock'), owner);
    for (const name of ['record.json', 'note', 'aws-rekey', 'lock']) expect((await stat(join(dir, name))).uid, name).toBe(made);
  });

  it('a file of the running user is one of its own, whoever owns the credentials file', async () => {
    const path = join(dir, 'record.json');
    await writeFile(path, '{}');
    if (isRoot) await chown(path, runner, runner);
    notRoot();
    expect((await inspectOwnPath(path, 'file', owner))?.uid).toBe(runner);
  });

  it('is given no warning about runs as root', async () => {
    await chmod(dir, 0o777);
    notRoot();
    expect(await rootInSharedFolderWarning(join(dir, 'credentials'))).toBeUndefined();
  });
});

describe('writeOwnTemp / removeOwnFile / syncFolder', () => {
  it('removeOwnFile of nothing: false, no error', async () => {
    expect(await removeOwnFile(join(dir, 'missing'))).toBe(false);
  });

  it.runIf(existsSync('/proc/self'))('syncFolder on a file system that cannot sync a folder (procfs: EINVAL): no error', async () => {
    await expect(syncFolder('/proc/self')).resolves.toBeUndefined();
  });
});
