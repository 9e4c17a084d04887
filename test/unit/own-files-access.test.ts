import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createOwnFile, ensureOwnFolder, inspectOwnPath, listOwnFolder, readOwnFile, removeOwnFile, syncFolder, writeOwnTemp } from '../../src/credentials/own-files.js';
import { asOwner, isRoot, me, NOBODY, OTHER_UID, pretendUid } from '../support/users.js';
import { useTempDir } from '../support/temp-dir.js';

/*
 * own-files.ts where the system says no: permission bits in force (as root, the bodies run as nobody, see
 * asOwner), a chown the system refuses, a umask that takes everything away. Each failure names the path and
 * the reason, and leaves what was there as it was; no file stays open. Switching effective ids, setting the
 * umask and counting this process's open files need a process of its own (vitest.stryker.config.ts).
 */

/** Who runs the bodies of asOwner, and owns what they make. */
const runner = isRoot ? NOBODY : me.uid;
const runnerGroup = isRoot ? NOBODY : me.gid;
const ours = { uid: runner, gid: runnerGroup };
const EACCES_FIX = (folder: string) => `Run aws-rekey as the user who owns ${folder}, or give that folder back to them (ls -ld '${folder}' shows who owns it).`;
const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

const tempDir = useTempDir('aws-rekey-own-access-');
let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('permission denied: the path, the reason and the fix; nothing changes', () => {
  it('inspectOwnPath in a folder it may not enter: "Cannot look at"', async () => {
    const closed = join(dir, 'closed');
    const path = join(closed, 'record.json');
    await asOwner(dir, async () => {
      await mkdir(closed, { mode: 0o700 });
      await writeFile(path, '{}');
      await chmod(closed, 0o000);
      await expect(inspectOwnPath(path, 'file', ours)).rejects.toMatchObject({
        code: 'OWN_FILE_UNREADABLE',
        message: `Cannot look at ${path}: permission denied.`,
        hint: EACCES_FIX(closed),
      });
      await chmod(closed, 0o700);
    });
    expect(await readFile(path, 'utf8')).toBe('{}');
  });

  // A folder it may enter and write to, but not read (0300): its names cannot be listed, nor can it be opened.
  const unreadableFolder: Array<[string, (folder: string) => Promise<unknown>, Record<string, string> | undefined]> = [
    ['listOwnFolder: "Cannot list"', (folder) => listOwnFolder(folder, ours), { code: 'OWN_FILE_UNREADABLE', message: 'Cannot list' }],
    ['ensureOwnFolder: "Cannot write"', (folder) => ensureOwnFolder(folder, ours), { code: 'CREDENTIALS_WRITE_FAILED', message: 'Cannot write' }],
    ['syncFolder: no error (the rename it follows has happened; syncing is best effort there)', (folder) => syncFolder(folder), undefined],
  ];
  for (const [name, call, refusal] of unreadableFolder) {
    it(`a folder it may not read (0300), ${name}; the folder as it was`, async () => {
      const records = join(dir, 'aws-rekey');
      await asOwner(dir, async () => {
        await mkdir(records, { mode: 0o700 });
        await writeFile(join(records, 'a.json'), '{}');
        await chmod(records, 0o300);
        if (refusal) {
          await expect(call(records)).rejects.toMatchObject({ code: refusal.code, message: `${refusal.message} ${records}: permission denied.`, hint: EACCES_FIX(dir) });
        } else {
          await expect(call(records)).resolves.toBeUndefined();
        }
        expect(await mode(records)).toBe(0o300);
        await chmod(records, 0o700);
      });
      expect(await readdir(records)).toEqual(['a.json']);
    });
  }

  it('readOwnFile of a file it may not read: "Cannot read", the file as it was', async () => {
    const path = join(dir, 'record.json');
    await asOwner(dir, async () => {
      await writeFile(path, '{"kept":true}');
      await chmod(path, 0o200);
      await expect(readOwnFile(path, ours)).rejects.toMatchObject({
        code: 'OWN_FILE_UNREADABLE',
        message: `Cannot read ${path}: permission denied.`,
        hint: EACCES_FIX(dir),
      });
      expect(await mode(path)).toBe(0o200);
    });
    expect(await readFile(path, 'utf8')).toBe('{"kept":true}');
  });

  it('ensureOwnFolder in a read-only folder: the folder cannot be made, "permission denied", nothing made', async () => {
    const records = join(dir, 'aws-rekey');
    await asOwner(dir, async () => {
      await chmod(dir, 0o500);
      await expect(ensureOwnFolder(records, ours)).rejects.toMatchObject({ code: 'CREDENTIALS_WRITE_FAILED', message: `Cannot write ${records}: permission denied.`, hint: EACCES_FIX(dir) });
      await chmod(dir, 0o700);
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('removeOwnFile in a read-only folder: FILE_REMOVE_FAILED with the command to run, the file stays', async () => {
    const path = join(dir, 'record.json');
    await asOwner(dir, async () => {
      await writeFile(path, '{}');
      await chmod(dir, 0o500);
      await expect(removeOwnFile(path)).rejects.toMatchObject({
        code: 'FILE_REMOVE_FAILED',
        message: `Cannot remove ${path}: permission denied.`,
        hint: `Remove it yourself: rm '${path}'.`,
      });
      await chmod(dir, 0o700);
    });
    expect(await readdir(dir)).toEqual(['record.json']);
  });

  // Only root can make a folder that belongs to someone else; the files' owner may be handed a folder of root's.
  it.runIf(isRoot)('ensureOwnFolder on a folder of root\'s that nobody may not chmod: "operation not permitted", its mode as it was', async () => {
    const records = join(dir, 'aws-rekey');
    await mkdir(records, { mode: 0o755 });
    await chmod(records, 0o755);
    await asOwner(dir, async () => {
      await expect(ensureOwnFolder(records, ours)).rejects.toMatchObject({
        code: 'CREDENTIALS_WRITE_FAILED',
        message: `Cannot write ${records}: operation not permitted.`,
        hint: EACCES_FIX(dir),
      });
    });
    expect((await stat(records)).uid).toBe(0);
    expect(await mode(records)).toBe(0o755);
  });
});

/*
 * A chown the system refuses although aws-rekey runs as root: root in a user namespace, where the owner's
 * uid is not mapped. Made here by a root whose effective user is nobody (as root) or by a user that
 * aws-rekey takes for root (getuid() says 0); either way chown fails with EPERM.
 */
describe('a chown the system refuses', () => {
  const strangerGroup = { uid: runner, gid: OTHER_UID };

  it('writeOwnTemp: the temp file made before the chown is removed again', async () => {
    const path = join(dir, 'record.json');
    await asOwner(dir, async () => {
      pretendUid(0);
      await expect(writeOwnTemp(path, 'secret', strangerGroup)).rejects.toMatchObject({
        code: 'CREDENTIALS_WRITE_FAILED',
        message: `Cannot write ${path}: operation not permitted.`,
        hint: EACCES_FIX(dir),
      });
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('ensureOwnFolder: refused with the reason; the folder is made, but private', async () => {
    const records = join(dir, 'aws-rekey');
    await asOwner(dir, async () => {
      pretendUid(0);
      await expect(ensureOwnFolder(records, strangerGroup)).rejects.toMatchObject({
        code: 'CREDENTIALS_WRITE_FAILED',
        message: `Cannot write ${records}: operation not permitted.`,
        hint: EACCES_FIX(dir),
      });
    });
    expect(await stat(records)).toMatchObject({ uid: runner, gid: runnerGroup });
    expect(await mode(records)).toBe(0o700);
  });
});

describe.runIf(existsSync('/proc/self/fd'))('no file left open, whether the call succeeds or fails', () => {
  const openFiles = async (): Promise<number> => (await readdir('/proc/self/fd')).length;

  it('ensureOwnFolder, readOwnFile, createOwnFile, writeOwnTemp, syncFolder', async () => {
    const pipe = join(dir, 'pipe');
    execFileSync('mkfifo', [pipe]);
    await writeFile(join(dir, 'record.json'), '{}');
    const before = await openFiles();
    for (let i = 0; i < 10; i += 1) {
      await ensureOwnFolder(join(dir, 'aws-rekey'), me);
      await chmod(join(dir, 'aws-rekey'), 0o755);
      await ensureOwnFolder(join(dir, 'aws-rekey'), me);
      expect((await readOwnFile(join(dir, 'record.json'), me))?.toString()).toBe('{}');
      await expect(readOwnFile(pipe, me)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_TYPE' });
      await createOwnFile(join(dir, `note-${i}`), 'x', me);
      await writeOwnTemp(join(dir, 'record.json'), 'x', me);
      await syncFolder(dir);
    }
    expect(await openFiles()).toBe(before);
  });

  it('ensureOwnFolder refused through its handle (a chmod the system refuses)', async () => {
    const records = join(dir, 'aws-rekey');
    const before = await openFiles();
    await asOwner(dir, async () => {
      await mkdir(records, { mode: 0o700 });
      pretendUid(0);
      for (let i = 0; i < 10; i += 1) await expect(ensureOwnFolder(records, { uid: runner, gid: OTHER_UID })).rejects.toMatchObject({ code: 'CREDENTIALS_WRITE_FAILED' });
    });
    expect(await openFiles()).toBe(before);
  });
});

describe('writeOwnTemp', () => {
  it('the temp file: beside the file, a name nobody could guess, 0600 whatever the umask, the data in it', async () => {
    const previous = process.umask(0o277);
    let temp: string;
    try {
      temp = await writeOwnTemp(join(dir, 'record.json'), 'data', me);
    } finally {
      process.umask(previous);
    }
    expect(temp).toMatch(new RegExp(`^${dir}/\\.record\\.json\\.aws-rekey-${process.pid}-[0-9a-f]{8}\\.tmp$`));
    expect(await readFile(temp, 'utf8')).toBe('data');
    expect((await stat(temp)).mode & 0o777).toBe(0o600);
  });
});
