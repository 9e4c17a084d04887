import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getBackupPath } from '../../src/credentials/atomic-replace.js';
import {
  checkBeforeRotation,
  checkConfigWritable,
  checkWritable,
  getLockPath,
  readCredentialsFile,
  removeLockFolder,
  removeLockFolderSync,
  resolveConfigPath,
  resolveCredentialsPath,
  withFileLock,
} from '../../src/credentials/store.js';
import { isRoot, OTHER_UID, pretendUid } from '../support/users.js';
import { useTempDir } from '../support/temp-dir.js';

/*
 * The store's answers as a user reads them: each refusal's message and hint, the pre-flight of --dry-run
 * (checkBeforeRotation) and of the config file, the lock's staleness setting and what its error says about
 * the holder. (store.test.ts has the tests that switch effective ids; these need none.)
 */

const canChattr = isRoot && probeChattr();

function probeChattr(): boolean {
  const probeDir = mkdtempSync(join(tmpdir(), 'aws-rekey-chattr-'));
  const file = join(probeDir, 'f');
  writeFileSync(file, '');
  const ok = spawnSync('chattr', ['+i', file]).status === 0;
  if (ok) spawnSync('chattr', ['-i', file]);
  rmSync(probeDir, { recursive: true, force: true });
  return ok;
}

const CONTENT = '[default]\naws_access_key_id = AKIAOLD0000000000001\naws_secret_access_key = old\n';

// Registered before the hook below, so that its removal of the folder runs after (hooks after a test run last first).
const tempDir = useTempDir('aws-rekey-store-checks-');
let immutable: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const path of immutable) spawnSync('chattr', ['-i', path]);
  immutable = [];
});

function makeImmutable(path: string): void {
  expect(spawnSync('chattr', ['+i', path]).status).toBe(0);
  immutable.push(path);
}

/** A lock folder as a run leaves it, `ageMs` old, with its owner note when given. */
async function leaveLock(path: string, ageMs: number, note?: Record<string, unknown> | string): Promise<void> {
  await mkdir(getLockPath(path));
  if (note !== undefined) await writeFile(join(getLockPath(path), 'owner.json'), typeof note === 'string' ? note : JSON.stringify(note));
  const when = new Date(Date.now() - ageMs);
  await utimes(getLockPath(path), when, when);
}

describe('readCredentialsFile: bytes it will not rewrite', () => {
  it('a UTF-8 byte-order mark is kept, so the file is refused (not silently saved without it)', async () => {
    const path = join(tempDir(), 'credentials');
    await writeFile(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CONTENT)]));
    await expect(readCredentialsFile(path)).rejects.toMatchObject({ code: 'CREDENTIALS_MALFORMED', message: expect.stringContaining('byte-order mark') });
  });

  it('bytes that are not UTF-8: the path, and how to fix it', async () => {
    const path = join(tempDir(), 'credentials');
    await writeFile(path, Buffer.from([0x5b, 0x61, 0x5d, 0x0a, 0x23, 0xe9, 0x0a]));
    await expect(readCredentialsFile(path)).rejects.toMatchObject({
      code: 'CREDENTIALS_MALFORMED',
      exitCode: 2,
      message: `${path} is not valid UTF-8 text.`,
      hint: 'Save it as UTF-8 (the AWS CLI and SDKs expect that), then run aws-rekey again.',
    });
  });
});

describe('checkWritable: the refusal names the path and the way out', () => {
  it('a directory in place of the file', async () => {
    const path = join(tempDir(), 'credentials');
    await mkdir(path);
    await expect(checkWritable(path)).rejects.toMatchObject({
      code: 'CREDENTIALS_NOT_WRITABLE',
      message: `${path} is a directory, not a file.`,
      hint: `Remove or rename the directory ${path}, or point AWS_SHARED_CREDENTIALS_FILE at another file.`,
    });
  });

  it('a link to a directory says it is a link, and to what', async () => {
    await mkdir(join(tempDir(), 'somewhere'));
    const path = join(tempDir(), 'credentials');
    await symlink(join(tempDir(), 'somewhere'), path);
    await expect(checkWritable(path)).rejects.toMatchObject({ message: `${path} (a link to ${join(tempDir(), 'somewhere')}) is a directory, not a file.` });
  });

  it('a parent that is a file', async () => {
    await writeFile(join(tempDir(), 'aws'), 'not a folder');
    const path = join(tempDir(), 'aws', 'credentials');
    await expect(checkWritable(path)).rejects.toMatchObject({
      code: 'CREDENTIALS_NOT_WRITABLE',
      message: `${join(tempDir(), 'aws')}, where ${path} is replaced atomically, cannot be created: ${join(tempDir(), 'aws')} is not a directory.`,
      hint: `Move ${join(tempDir(), 'aws')} out of the way, or point AWS_SHARED_CREDENTIALS_FILE at another file.`,
    });
    expect(await readFile(join(tempDir(), 'aws'), 'utf8')).toBe('not a folder');
  });

  it.runIf(existsSync('/proc/self/status'))('a folder of another user: the hint says whose it is and how to get it (uid taken as 1000)', async () => {
    pretendUid(1000);
    await expect(checkWritable('/proc/self/aws-credentials')).rejects.toMatchObject({
      code: 'CREDENTIALS_NOT_WRITABLE',
      message: expect.stringMatching(/^Cannot create files in \/proc\/self, where \/proc\/self\/aws-credentials is replaced atomically: /),
      hint: "It belongs to another user (uid 0; you are uid 1000): run aws-rekey as that user, or have the directory given to you (sudo chown $(id -u) /proc/self).",
    });
  });

  // Never a quiet skip in CI: store.test.ts fails there when root cannot chattr +i.
  it.runIf(canChattr)('an immutable file of another user, run as root: chmod is the way out (root needs no one\'s leave)', async () => {
    const path = join(tempDir(), 'credentials');
    await writeFile(path, CONTENT);
    await chown(path, OTHER_UID, OTHER_UID);
    makeImmutable(path);
    await expect(checkWritable(path)).rejects.toMatchObject({ message: `${path} is not writable: operation not permitted.`, hint: `Make it writable: chmod u+w ${path}.` });
  });

  it.runIf(canChattr)('an immutable file of the user who runs it (uid taken as 1000): chmod, not someone else\'s leave', async () => {
    const path = join(tempDir(), 'credentials');
    await writeFile(path, CONTENT);
    await chown(path, 1000, 1000);
    makeImmutable(path);
    pretendUid(1000);
    await expect(checkWritable(path)).rejects.toMatchObject({ hint: `Make it writable: chmod u+w ${path}.` });
  });

  it.runIf(canChattr)('an immutable file of root\'s, run by another user (uid taken as 1000): the file is to be given to them', async () => {
    const path = join(tempDir(), 'credentials');
    await writeFile(path, CONTENT);
    makeImmutable(path);
    pretendUid(1000);
    await expect(checkWritable(path)).rejects.toMatchObject({
      message: `${path} is not writable: operation not permitted.`,
      hint: `It belongs to another user (uid 0; you are uid 1000): run aws-rekey as that user, or have the file given to you (sudo chown $(id -u) ${path}).`,
    });
  });

  it.runIf(canChattr)('a folder to create inside one that cannot be written (root: chattr +i): create it yourself', async () => {
    const parent = join(tempDir(), 'home');
    await mkdir(parent);
    makeImmutable(parent);
    const path = join(parent, '.aws', 'credentials');
    await expect(checkWritable(path)).rejects.toMatchObject({
      code: 'CREDENTIALS_NOT_WRITABLE',
      message: `${join(parent, '.aws')}, where ${path} is replaced atomically, cannot be created in ${parent}: operation not permitted.`,
      hint: `Create it yourself: mkdir -m 700 -p '${join(parent, '.aws')}'.`,
    });
  });
});

describe('checkConfigWritable: the config file, with its own way out', () => {
  it('passes for a writable config file, creating nothing', async () => {
    const path = join(tempDir(), 'config');
    await writeFile(path, '[default]\nregion = x\n');
    await checkConfigWritable(path);
    expect(await readdir(tempDir())).toEqual(['config']);
  });

  it('a directory in its place: the hint names AWS_CONFIG_FILE', async () => {
    const path = join(tempDir(), 'config');
    await mkdir(path);
    await expect(checkConfigWritable(path)).rejects.toMatchObject({ code: 'CREDENTIALS_NOT_WRITABLE', hint: `Remove or rename the directory ${path}, or point AWS_CONFIG_FILE at another file.` });
  });

  it('its backup planted as a link is refused', async () => {
    const path = join(tempDir(), 'config');
    await writeFile(path, '[default]\n');
    await writeFile(join(tempDir(), 'elsewhere'), 'keep');
    await symlink(join(tempDir(), 'elsewhere'), getBackupPath(path));
    await expect(checkConfigWritable(path)).rejects.toMatchObject({ code: 'OWN_FILE_IS_LINK', message: expect.stringContaining(getBackupPath(path)) });
    expect(await readFile(join(tempDir(), 'elsewhere'), 'utf8')).toBe('keep');
  });
});

describe('checkBeforeRotation (--dry-run): what the real run would refuse, changing nothing', () => {
  it('passes for a writable file and leaves nothing behind', async () => {
    const path = join(tempDir(), 'credentials');
    await writeFile(path, CONTENT);
    await checkBeforeRotation(path);
    expect(await readdir(tempDir())).toEqual(['credentials']);
  });

  it('passes for a file not made yet (the lock is looked for beside it, the file is not resolved), creating nothing', async () => {
    await checkBeforeRotation(join(tempDir(), 'credentials'));
    await checkBeforeRotation(join(tempDir(), 'home', '.aws', 'credentials'));
    expect(await readdir(tempDir())).toEqual([]);
  });

  it('a directory in place of the file is refused', async () => {
    const path = join(tempDir(), 'credentials');
    await mkdir(path);
    await expect(checkBeforeRotation(path)).rejects.toMatchObject({ code: 'CREDENTIALS_NOT_WRITABLE' });
  });

  it('a planted backup link is refused', async () => {
    const path = join(tempDir(), 'credentials');
    await writeFile(path, CONTENT);
    await symlink(join(tempDir(), 'nothing'), getBackupPath(path));
    await expect(checkBeforeRotation(path)).rejects.toMatchObject({ code: 'OWN_FILE_IS_LINK' });
  });

  it('a lock held by a run: CREDENTIALS_LOCKED, and the lock stays', async () => {
    const path = join(tempDir(), 'credentials');
    await writeFile(path, CONTENT);
    await leaveLock(path, 0);
    await expect(checkBeforeRotation(path)).rejects.toMatchObject({
      code: 'CREDENTIALS_LOCKED',
      message: `Another aws-rekey run is using ${path} (lock ${getLockPath(path)}).`,
      hint: 'Wait for it to finish and try again; a lock left by a run that died is taken over by the next real run.',
    });
    expect(existsSync(getLockPath(path))).toBe(true);
  });

  it('a lock older than staleMs does not stop it (the real run takes it over); by default 10 s is the limit', async () => {
    const path = join(tempDir(), 'credentials');
    await writeFile(path, CONTENT);
    await leaveLock(path, 6_000);
    await expect(checkBeforeRotation(path, { staleMs: 5_000 })).resolves.toBeUndefined();
    await expect(checkBeforeRotation(path)).rejects.toMatchObject({ code: 'CREDENTIALS_LOCKED' });
    expect(existsSync(getLockPath(path))).toBe(true);
  });
});

describe('withFileLock: staleness and what the error says about the holder', () => {
  it('a lock without an owner note older than staleMs is taken over; younger than the default 10 s, it is not', async () => {
    const path = join(tempDir(), 'credentials');
    await leaveLock(path, 6_000);
    await expect(withFileLock(path, async () => 'x')).rejects.toMatchObject({
      code: 'CREDENTIALS_LOCKED',
      message: `Another aws-rekey run is using ${path} (lock ${getLockPath(path)}).`,
      hint: `Wait for it to finish and try again. If no other run is going, the lock is taken over by itself after 10 s; or remove ${getLockPath(path)}.`,
    });
    expect(await withFileLock(path, async () => 'taken over', { staleMs: 5_000 })).toBe('taken over');
    expect(existsSync(getLockPath(path))).toBe(false);
  });

  it('the hint gives the staleness asked for, in seconds', async () => {
    const path = join(tempDir(), 'credentials');
    await leaveLock(path, 0);
    await expect(withFileLock(path, async () => 'x', { staleMs: 30_000 })).rejects.toMatchObject({ hint: expect.stringContaining('taken over by itself after 30 s;') });
  });

  it('a live holder whose note has no date: "since ?"', async () => {
    const path = join(tempDir(), 'credentials');
    await leaveLock(path, 0, { pid: process.ppid, hostname: hostname() });
    await expect(withFileLock(path, async () => 'x')).rejects.toMatchObject({ message: expect.stringContaining(`(process ${process.ppid} on ${hostname()}, since ?)`) });
  });

  it('a note that is not JSON names no holder, and the lock is respected', async () => {
    const path = join(tempDir(), 'credentials');
    await leaveLock(path, 0, 'not json');
    await expect(withFileLock(path, async () => 'x')).rejects.toMatchObject({ code: 'CREDENTIALS_LOCKED', message: `Another aws-rekey run is using ${path} (lock ${getLockPath(path)}).` });
    expect(existsSync(getLockPath(path))).toBe(true);
  });

  // What the kernel answers a user who signals another user's process; made here for a pid that no longer exists,
  // which the lock would otherwise be taken from.
  it('a holder that may not be signalled (EPERM: another user\'s process) is alive: the lock is respected', async () => {
    const path = join(tempDir(), 'credentials');
    const holder = spawnSync(process.execPath, ['-e', '0']).pid;
    await leaveLock(path, 0, { pid: holder, hostname: hostname(), acquiredAt: 'then' });
    vi.spyOn(process, 'kill').mockImplementation((pid) => {
      if (pid === holder) throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
      return true;
    });
    await expect(withFileLock(path, async () => 'x')).rejects.toMatchObject({ code: 'CREDENTIALS_LOCKED', message: expect.stringContaining(`(process ${holder} on ${hostname()}, since then)`) });
    expect(existsSync(join(getLockPath(path), 'owner.json'))).toBe(true);
  });

  it('a note naming this very process (a lock it holds already) is respected, not taken over', async () => {
    const path = join(tempDir(), 'credentials');
    await leaveLock(path, 0, { pid: process.pid, hostname: hostname(), acquiredAt: 'then' });
    await expect(withFileLock(path, async () => 'x')).rejects.toMatchObject({ message: expect.stringContaining(`(process ${process.pid} on ${hostname()}, since then)`) });
    expect(await readFile(join(getLockPath(path), 'owner.json'), 'utf8')).toContain(`"pid":${process.pid}`);
  });
});

describe('resolveCredentialsPath: the home directory forms', () => {
  const cases: Array<[string, string]> = [
    ['~', '/home/me'],
    ['~/creds', '/home/me/creds'],
    ['~\\creds', '/home/me/creds'],
    ['x~\\creds', 'x~\\creds'],
    ['~~', '~~'],
  ];
  for (const [given, expected] of cases) {
    it(`${given} → ${expected}`, () => {
      expect(resolveCredentialsPath({ AWS_SHARED_CREDENTIALS_FILE: given }, '/home/me')).toBe(expected);
      expect(resolveConfigPath({ AWS_CONFIG_FILE: given }, '/home/me')).toBe(expected);
    });
  }
});

/*
 * What proper-lockfile calls to remove the lock folder: rmdir when a run releases it, rmdirSync from its exit
 * handler when a process exits holding it (process.exit on Ctrl-C). The owner note inside goes with the
 * folder; anything else inside keeps the folder, and the error says so.
 */
describe('removeLockFolder / removeLockFolderSync: the lock folder goes with its owner note, and only then', () => {
  const removeAsync = (path: string): Promise<NodeJS.ErrnoException | null> => new Promise((resolve) => removeLockFolder(path, resolve));
  const removeSync = (path: string): NodeJS.ErrnoException | null => {
    try {
      removeLockFolderSync(path);
      return null;
    } catch (error) {
      return error as NodeJS.ErrnoException;
    }
  };
  const cases: Array<[string, (lock: string) => void | Promise<void>, string | undefined, string[]]> = [
    ['an empty lock folder', () => undefined, undefined, []],
    ['a lock folder with its owner note', (lock) => writeFile(join(lock, 'owner.json'), '{}'), undefined, []],
    ['a lock folder with something else in it', (lock) => writeFile(join(lock, 'other'), 'x'), 'ENOTEMPTY', ['other']],
    ['a lock folder with its note and something else', async (lock) => {
      await writeFile(join(lock, 'owner.json'), '{}');
      await writeFile(join(lock, 'other'), 'x');
    }, 'ENOTEMPTY', ['other']],
  ];
  for (const [name, fill, code, left] of cases) {
    it(`${name}: ${code ?? 'removed'}`, async () => {
      for (const [how, remove] of [['sync', removeSync], ['async', removeAsync]] as const) {
        const lock = join(tempDir(), `${how}.lock`);
        await mkdir(lock);
        await fill(lock);
        expect((await remove(lock))?.code, how).toBe(code);
        expect(existsSync(lock) ? await readdir(lock) : [], how).toEqual(left);
      }
    });
  }

  it('no lock folder at all: ENOENT, from both', async () => {
    expect(removeSync(join(tempDir(), 'gone.lock'))?.code).toBe('ENOENT');
    expect((await removeAsync(join(tempDir(), 'gone.lock')))?.code).toBe('ENOENT');
  });
});
