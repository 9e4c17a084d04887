import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, utimes, writeFile, chown } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getBackupPath, removeIfExists, statOrUndefined, writeCredentialsFileAtomic, writeSecretFile } from '../../src/credentials/atomic-replace.js';
import { serializeIni } from '../../src/credentials/ini.js';
import { recordsDir } from '../../src/credentials/records.js';
import { checkWritable, getLockPath, readCredentialsFile, resolveConfigPath, resolveCredentialsPath, withFileLock } from '../../src/credentials/store.js';
import { asOwner, isRoot, OTHER_UID } from '../support/users.js';

// As root, permission bits stop nothing: the tests that rely on them run as nobody (effective ids, see
// asOwner), and root's own refusals (chattr +i, a directory in the way, a file as a parent) have tests too.
const canChattr = isRoot && probeChattr();

function probeChattr(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'aws-rekey-chattr-'));
  const file = join(dir, 'f');
  writeFileSync(file, '');
  const ok = spawnSync('chattr', ['+i', file]).status === 0;
  if (ok) spawnSync('chattr', ['-i', file]);
  rmSync(dir, { recursive: true, force: true });
  return ok;
}

function chattr(flag: '+i' | '-i', path: string): void {
  const result = spawnSync('chattr', [flag, path]);
  if (result.status !== 0) throw new Error(`chattr ${flag} ${path} failed: ${String(result.stderr)}`);
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;
const leftovers = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((name) => name.includes('aws-rekey') && !name.endsWith('.bak'));

const CONTENT = '[default]\naws_access_key_id = AKIAOLD0000000000001\naws_secret_access_key = old\n';
const NEW_CONTENT = '[default]\naws_access_key_id = AKIANEW0000000000002\naws_secret_access_key = new\n';

let dir: string;
let immutable: string[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aws-rekey-store-'));
});
afterEach(async () => {
  for (const path of immutable) chattr('-i', path);
  immutable = [];
  await chmod(dir, 0o700).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

function makeImmutable(path: string): void {
  chattr('+i', path);
  immutable.push(path);
}

describe('resolveCredentialsPath / resolveConfigPath', () => {
  const home = '/home/me';
  const cases: Array<[string, NodeJS.ProcessEnv, string, string]> = [
    ['defaults under ~/.aws', {}, '/home/me/.aws/credentials', '/home/me/.aws/config'],
    ['an empty variable counts as unset', { AWS_SHARED_CREDENTIALS_FILE: '', AWS_CONFIG_FILE: '' }, '/home/me/.aws/credentials', '/home/me/.aws/config'],
    ['absolute paths as given', { AWS_SHARED_CREDENTIALS_FILE: '/etc/creds', AWS_CONFIG_FILE: '/etc/conf' }, '/etc/creds', '/etc/conf'],
    ['a leading ~/ is the home directory', { AWS_SHARED_CREDENTIALS_FILE: '~/x/creds', AWS_CONFIG_FILE: '~/x/conf' }, '/home/me/x/creds', '/home/me/x/conf'],
    ['~ in the middle stays', { AWS_SHARED_CREDENTIALS_FILE: '/a/~/c', AWS_CONFIG_FILE: '~other/conf' }, '/a/~/c', '~other/conf'],
  ];
  for (const [name, env, credentials, config] of cases) {
    it(name, () => {
      expect(resolveCredentialsPath(env, home)).toBe(credentials);
      expect(resolveConfigPath(env, home)).toBe(config);
    });
  }
});

describe('readCredentialsFile', () => {
  it('a missing file is an empty document', async () => {
    const file = await readCredentialsFile(join(dir, 'nope'));
    expect(file).toMatchObject({ text: '', exists: false });
    expect(file.doc.lines).toEqual([]);
    expect(file.mode).toBeUndefined();
  });

  it('reads the exact text (CRLF) and the mode', async () => {
    const path = join(dir, 'credentials');
    const text = CONTENT.replace(/\n/g, '\r\n');
    await writeFile(path, text, { mode: 0o640 });
    await chmod(path, 0o640);
    const file = await readCredentialsFile(path);
    expect(file).toMatchObject({ text, exists: true, mode: 0o640 });
    expect(serializeIni(file.doc)).toBe(text);
  });

  it('a malformed file names the path and line', async () => {
    const path = join(dir, 'credentials');
    await writeFile(path, '[default]\n[broken\n');
    await expect(readCredentialsFile(path)).rejects.toMatchObject({ code: 'CREDENTIALS_MALFORMED', message: expect.stringContaining(`${path}, line 2`) });
  });

  it('bytes that are not UTF-8 are refused rather than rewritten', async () => {
    const path = join(dir, 'credentials');
    await writeFile(path, Buffer.from([0x5b, 0x61, 0x5d, 0x0a, 0x23, 0xe9, 0x0a]));
    await expect(readCredentialsFile(path)).rejects.toMatchObject({ code: 'CREDENTIALS_MALFORMED' });
  });

  it('a directory in place of the file is unreadable', async () => {
    await expect(readCredentialsFile(dir)).rejects.toMatchObject({ code: 'CREDENTIALS_UNREADABLE', hint: expect.any(String) });
  });

  it.runIf(existsSync('/proc/self/fd'))('leaves no file open, whether the read succeeds or fails', async () => {
    const path = join(dir, 'credentials');
    await writeFile(path, CONTENT);
    const open = async (): Promise<number> => (await readdir('/proc/self/fd')).length;
    const before = await open();
    for (let i = 0; i < 20; i += 1) {
      await readCredentialsFile(path);
      await expect(readCredentialsFile(dir)).rejects.toMatchObject({ code: 'CREDENTIALS_UNREADABLE' });
    }
    expect(await open()).toBe(before);
  });

  it('a file without read permission is unreadable', async () => {
    await asOwner(dir, async () => {
      const path = join(dir, 'credentials');
      await writeFile(path, CONTENT);
      await chmod(path, 0o000);
      await expect(readCredentialsFile(path)).rejects.toMatchObject({ code: 'CREDENTIALS_UNREADABLE', hint: expect.stringContaining('chmod u+r') });
    });
  });
});

describe('writeCredentialsFileAtomic', () => {
  it('replaces a 0644 file with a 0600 one, leaving no temp file', async () => {
    const path = join(dir, 'credentials');
    await writeFile(path, CONTENT);
    await chmod(path, 0o644);
    const result = await writeCredentialsFileAtomic(path, NEW_CONTENT, { backup: false });
    // No backupPath key at all: --json output and callers test for the key.
    expect(result).toStrictEqual({});
    expect(await readFile(path, 'utf8')).toBe(NEW_CONTENT);
    expect(await mode(path)).toBe(0o600);
    expect(await leftovers(dir)).toEqual([]);
  });

  it('is 0600 whatever the umask', async () => {
    const path = join(dir, 'credentials');
    const previous = process.umask(0o277);
    try {
      await writeCredentialsFileAtomic(path, NEW_CONTENT, { backup: false });
    } finally {
      process.umask(previous);
    }
    expect(await mode(path)).toBe(0o600);
  });

  it('keeps the previous content in a 0600 backup, replacing an older backup', async () => {
    const path = join(dir, 'credentials');
    await writeFile(path, CONTENT);
    await chmod(path, 0o644);
    await writeFile(getBackupPath(path), 'an older backup');
    await chmod(getBackupPath(path), 0o644);
    const result = await writeCredentialsFileAtomic(path, NEW_CONTENT, { backup: true });
    expect(result).toEqual({ backupPath: `${path}.aws-rekey.bak` });
    expect(await readFile(getBackupPath(path), 'utf8')).toBe(CONTENT);
    expect(await mode(getBackupPath(path))).toBe(0o600);
    expect(await readFile(path, 'utf8')).toBe(NEW_CONTENT);
    expect(await leftovers(dir)).toEqual([]);
  });

  it('creates a missing file and its 0700 directory; no backup of nothing', async () => {
    const path = join(dir, 'home', '.aws', 'credentials');
    const result = await writeCredentialsFileAtomic(path, NEW_CONTENT, { backup: true });
    expect(result).toStrictEqual({});
    expect(await readFile(path, 'utf8')).toBe(NEW_CONTENT);
    expect(await mode(path)).toBe(0o600);
    expect(await mode(join(dir, 'home', '.aws'))).toBe(0o700);
    expect(existsSync(getBackupPath(path))).toBe(false);
  });

  it('writes through a symlink: the link stays, its target changes, the backup sits next to the link', async () => {
    await mkdir(join(dir, 'dotfiles'));
    await mkdir(join(dir, '.aws'));
    const target = join(dir, 'dotfiles', 'credentials');
    const link = join(dir, '.aws', 'credentials');
    await writeFile(target, CONTENT);
    await chmod(target, 0o644);
    await symlink('../dotfiles/credentials', link);
    const result = await writeCredentialsFileAtomic(link, NEW_CONTENT, { backup: true });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('../dotfiles/credentials');
    expect(await readFile(target, 'utf8')).toBe(NEW_CONTENT);
    expect(await mode(target)).toBe(0o600);
    expect(result.backupPath).toBe(`${link}.aws-rekey.bak`);
    expect(await readFile(`${link}.aws-rekey.bak`, 'utf8')).toBe(CONTENT);
    expect(await leftovers(join(dir, 'dotfiles'))).toEqual([]);
    expect(await leftovers(join(dir, '.aws'))).toEqual([]);
  });

  it('writes through a dangling symlink by creating its target', async () => {
    const link = join(dir, 'credentials');
    await symlink('real-credentials', link);
    await writeCredentialsFileAtomic(link, NEW_CONTENT, { backup: true });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(join(dir, 'real-credentials'), 'utf8')).toBe(NEW_CONTENT);
  });

  // With a backup, reading the old content fails first; without one, the rename over the directory does.
  const inTheWay = [
    { backup: false, code: 'CREDENTIALS_WRITE_FAILED', message: (path: string) => `Cannot write ${path}: it is a directory.`, hint: (path: string) => `Nothing was changed in ${path}. Free some space or fix its permissions (the directory must be writable), then try again.` },
    { backup: true, code: 'CREDENTIALS_UNREADABLE', message: (path: string) => `Cannot read ${path}: it is a directory.`, hint: (path: string) => `Check that ${path} is a readable file.` },
  ];
  for (const c of inTheWay) {
    it(`a failed write (a directory in the way, backup: ${c.backup}) says why, leaves no temp file and changes nothing`, async () => {
      const path = join(dir, 'credentials');
      await mkdir(path);
      await writeFile(join(path, 'keep'), 'x');
      await expect(writeCredentialsFileAtomic(path, NEW_CONTENT, { backup: c.backup })).rejects.toMatchObject({ code: c.code, message: c.message(path), hint: c.hint(path) });
      expect(await leftovers(dir)).toEqual([]);
      expect(await readdir(path)).toEqual(['keep']);
      expect(existsSync(getBackupPath(path))).toBe(false);
    });
  }

  it('a parent that is a file: the folder cannot be made, nothing is written', async () => {
    await writeFile(join(dir, 'aws'), 'not a folder');
    const path = join(dir, 'aws', 'credentials');
    await expect(writeCredentialsFileAtomic(path, NEW_CONTENT, { backup: true })).rejects.toMatchObject({
      code: 'CREDENTIALS_WRITE_FAILED',
      message: expect.stringMatching(new RegExp(`^Cannot write ${path}: `)),
      hint: expect.stringContaining(`Nothing was changed in ${path}.`),
    });
    expect(await readFile(join(dir, 'aws'), 'utf8')).toBe('not a folder');
    expect(await readdir(dir)).toEqual(['aws']);
  });

  it('a file it may write but not read: refused before the rename (its backup could not be made), nothing changes', async () => {
    const path = join(dir, 'credentials');
    await asOwner(dir, async () => {
      await writeFile(path, CONTENT);
      await chmod(path, 0o200);
      await expect(writeCredentialsFileAtomic(path, NEW_CONTENT, { backup: true })).rejects.toMatchObject({
        code: 'CREDENTIALS_UNREADABLE',
        message: `Cannot read ${path}: permission denied.`,
        hint: `Make it readable by you: chmod u+r '${path}'.`,
      });
    });
    expect(await readFile(path, 'utf8')).toBe(CONTENT);
    expect(await mode(path)).toBe(0o200);
    expect(await leftovers(dir)).toEqual([]);
    expect(existsSync(getBackupPath(path))).toBe(false);
  });

  it.runIf(canChattr)('a failed rename over an immutable file (root: chattr +i) leaves no temp file', async () => {
    const path = join(dir, 'credentials');
    await writeFile(path, CONTENT);
    makeImmutable(path);
    await expect(writeCredentialsFileAtomic(path, NEW_CONTENT, { backup: true })).rejects.toMatchObject({ code: 'CREDENTIALS_WRITE_FAILED' });
    expect(await leftovers(dir)).toEqual([]);
    expect(await readFile(path, 'utf8')).toBe(CONTENT);
  });

  it('a directory made read-only after the check: error, no temp file, file unchanged', async () => {
    await asOwner(dir, async () => {
      const path = join(dir, 'credentials');
      await writeFile(path, CONTENT);
      await checkWritable(path);
      await chmod(dir, 0o500);
      await expect(writeCredentialsFileAtomic(path, NEW_CONTENT, { backup: true })).rejects.toMatchObject({ code: 'CREDENTIALS_WRITE_FAILED' });
      await chmod(dir, 0o700);
      expect(await leftovers(dir)).toEqual([]);
      expect(await readFile(path, 'utf8')).toBe(CONTENT);
    });
  });

  it.runIf(isRoot)('run as root on a user-owned file, the new file keeps its owner', async () => {
    const path = join(dir, 'credentials');
    await writeFile(path, CONTENT);
    await chown(path, OTHER_UID, OTHER_UID);
    await writeCredentialsFileAtomic(path, NEW_CONTENT, { backup: true });
    expect(await stat(path)).toMatchObject({ uid: OTHER_UID, gid: OTHER_UID });
    expect(await stat(getBackupPath(path))).toMatchObject({ uid: OTHER_UID, gid: OTHER_UID });
  });
});

describe('checkWritable', () => {
  it('passes for a writable file and leaves nothing behind', async () => {
    const path = join(dir, 'credentials');
    await writeFile(path, CONTENT);
    await checkWritable(path);
    expect(await readdir(dir)).toEqual(['credentials']);
  });

  it('passes for a file that does not exist yet, in a directory that does not exist yet, creating nothing', async () => {
    await checkWritable(join(dir, 'home', '.aws', 'credentials'));
    expect(await readdir(dir)).toEqual([]);
  });

  it('passes through a symlink to a writable file', async () => {
    await mkdir(join(dir, 'real'));
    await writeFile(join(dir, 'real', 'credentials'), CONTENT);
    await symlink(join(dir, 'real', 'credentials'), join(dir, 'credentials'));
    await expect(checkWritable(join(dir, 'credentials'))).resolves.toBeUndefined();
    expect(await readdir(join(dir, 'real'))).toEqual(['credentials']);
    expect(await readFile(join(dir, 'real', 'credentials'), 'utf8')).toBe(CONTENT);
  });

  const refused: Array<[string, (path: string) => Promise<void>, RegExp]> = [
    ['the path is a directory', (path) => mkdir(path), /is a directory/],
    ['a parent is a regular file', async () => writeFile(join(dir, 'aws'), 'not a dir'), /is not a directory/],
    [
      'a symlink points at a directory',
      async (path) => {
        await mkdir(join(dir, 'somewhere'));
        await symlink(join(dir, 'somewhere'), path);
      },
      /a link to .*somewhere.* is a directory/,
    ],
  ];
  for (const [name, setup, message] of refused) {
    it(`refuses when ${name}`, async () => {
      const path = name.startsWith('a parent') ? join(dir, 'aws', 'credentials') : join(dir, 'credentials');
      await setup(path);
      await expect(checkWritable(path)).rejects.toMatchObject({ code: 'CREDENTIALS_NOT_WRITABLE', message: expect.stringMatching(message), hint: expect.any(String) });
    });
  }

  it.runIf(existsSync('/proc/self/status'))('refuses a directory where no one can create files (procfs, even for root)', async () => {
    await expect(checkWritable('/proc/self/aws-credentials')).rejects.toMatchObject({ code: 'CREDENTIALS_NOT_WRITABLE', hint: expect.stringContaining('chmod u+w') });
  });

  // CI runs as root: a missing or unsupported chattr must not quietly turn the tests below into skips.
  it.runIf(isRoot && process.env.CI)('as root in CI, chattr +i works here (the immutable-file tests need it)', () => {
    expect(canChattr, "chattr +i failed: install Debian's e2fsprogs, or run the tests on ext4/xfs/btrfs").toBe(true);
  });

  it.runIf(canChattr)('refuses an immutable file (root: chattr +i)', async () => {
    const path = join(dir, 'credentials');
    await writeFile(path, CONTENT);
    makeImmutable(path);
    await expect(checkWritable(path)).rejects.toMatchObject({
      code: 'CREDENTIALS_NOT_WRITABLE',
      message: `${path} is not writable: operation not permitted.`,
      hint: `Make it writable: chmod u+w ${path}.`,
    });
  });

  it.runIf(canChattr)('refuses an immutable directory (root: chattr +i)', async () => {
    const sub = join(dir, 'aws');
    await mkdir(sub);
    await writeFile(join(sub, 'credentials'), CONTENT);
    makeImmutable(sub);
    await expect(checkWritable(join(sub, 'credentials'))).rejects.toMatchObject({ code: 'CREDENTIALS_NOT_WRITABLE', message: expect.stringContaining(sub) });
  });

  // access(2) asks about the real user, whom asOwner leaves as root (and setuid could not be undone in this
  // process). Root's counterparts: 'refuses an immutable file' above (the same check and hint; in CI a missing
  // chattr fails the test before it), and test/integration/bad-input.test.ts 'read-only for its owner', which
  // runs the CLI as nobody.
  it.skipIf(isRoot)('refuses a read-only file', async () => {
    const path = join(dir, 'credentials');
    await writeFile(path, CONTENT);
    await chmod(path, 0o400);
    await expect(checkWritable(path)).rejects.toMatchObject({ code: 'CREDENTIALS_NOT_WRITABLE', hint: expect.stringContaining('chmod u+w') });
  });

  it('refuses a read-only directory', async () => {
    await asOwner(dir, async () => {
      const path = join(dir, 'credentials');
      await writeFile(path, CONTENT);
      await chmod(dir, 0o500);
      await expect(checkWritable(path)).rejects.toMatchObject({
        code: 'CREDENTIALS_NOT_WRITABLE',
        message: `Cannot create files in ${dir}, where ${path} is replaced atomically: permission denied.`,
        hint: `Make it writable: chmod u+w ${dir}.`,
      });
    });
  });

  it('a link in a read-only folder to a file elsewhere: refused, as its backup and lock go beside the link', async () => {
    const links = join(dir, 'links');
    const real = join(dir, 'real');
    const link = join(links, 'credentials');
    await asOwner(dir, async () => {
      await mkdir(links);
      await mkdir(real);
      await writeFile(join(real, 'credentials'), CONTENT);
      await symlink(join(real, 'credentials'), link);
      await checkWritable(link);
      await chmod(links, 0o500);
      await expect(checkWritable(link)).rejects.toMatchObject({
        code: 'CREDENTIALS_NOT_WRITABLE',
        message: `Cannot create files in ${links}, where the backup and lock of ${link} are written: permission denied.`,
      });
      await chmod(links, 0o700);
    });
    expect(await readdir(links)).toEqual(['credentials']);
    expect(await readdir(real)).toEqual(['credentials']);
  });

  it('a records folder it cannot write to is refused before anything is locked or created', async () => {
    const path = join(dir, 'credentials');
    await asOwner(dir, async () => {
      await writeFile(path, CONTENT);
      const records = await recordsDir(path);
      await mkdir(records, { recursive: true, mode: 0o700 });
      await chmod(records, 0o500);
      await expect(withFileLock(path, async () => 'x')).rejects.toMatchObject({
        code: 'CREDENTIALS_NOT_WRITABLE',
        message: `Cannot create files in ${records}, where aws-rekey keeps the records of unfinished rotations: permission denied.`,
      });
      await chmod(records, 0o700);
    });
    expect(existsSync(getLockPath(path))).toBe(false);
  });
});

describe('withFileLock', () => {
  it('runs the function, returns its result and removes the lock', async () => {
    const path = join(dir, 'credentials');
    const result = await withFileLock(path, async () => {
      expect(existsSync(getLockPath(path))).toBe(true);
      return 42;
    });
    expect(result).toBe(42);
    expect(existsSync(getLockPath(path))).toBe(false);
  });

  it('works before the file or its directory exist', async () => {
    const path = join(dir, 'new', '.aws', 'credentials');
    await withFileLock(path, async () => undefined);
    expect(await readdir(join(dir, 'new', '.aws'))).toEqual([]);
  });

  it('releases the lock when the function throws', async () => {
    const path = join(dir, 'credentials');
    await expect(withFileLock(path, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(getLockPath(path))).toBe(false);
  });

  it('a second run while the first holds the lock: CREDENTIALS_LOCKED, quickly', async () => {
    const path = join(dir, 'credentials');
    let release!: () => void;
    const holding = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const hasLock = new Promise<void>((resolve) => (started = resolve));
    const first = withFileLock(path, async () => {
      started();
      await holding;
      return 'first';
    });
    await hasLock;
    // The first still holds the lock when the second gives up: it did not wait for the first to finish.
    await expect(withFileLock(path, async () => 'second')).rejects.toMatchObject({
      code: 'CREDENTIALS_LOCKED',
      message: expect.stringContaining('Another aws-rekey run'),
      hint: expect.any(String),
    });
    release();
    expect(await first).toBe('first');
    expect(await withFileLock(path, async () => 'third')).toBe('third');
  });

  it('a fresh lock left by another process is respected', async () => {
    const path = join(dir, 'credentials');
    await mkdir(getLockPath(path));
    await expect(withFileLock(path, async () => 'x')).rejects.toMatchObject({ code: 'CREDENTIALS_LOCKED' });
    expect(existsSync(getLockPath(path))).toBe(true);
  });

  it('a folder where the lock cannot be made: CREDENTIALS_LOCK_FAILED, naming the lock and the fix', async () => {
    const path = join(dir, 'credentials');
    await asOwner(dir, async () => {
      await writeFile(path, CONTENT);
      await chmod(dir, 0o500);
      await expect(withFileLock(path, async () => 'x')).rejects.toMatchObject({
        code: 'CREDENTIALS_LOCK_FAILED',
        message: `Cannot lock ${path}: permission denied.`,
        hint: `aws-rekey creates ${getLockPath(path)} next to the file; make that directory writable.`,
      });
      await chmod(dir, 0o700);
    });
    expect(await readdir(dir)).toEqual(['credentials']);
  });

  // kill() lets a process whose real uid is root signal root's processes, as nobody's effective uid too: this
  // is never EPERM (store-checks.test.ts has the EPERM a real other user gets).
  it('a lock whose owner is a live process of root\'s, looked at as nobody, is respected', async () => {
    const path = join(dir, 'credentials');
    await asOwner(dir, async () => {
      await mkdir(getLockPath(path));
      await writeFile(join(getLockPath(path), 'owner.json'), JSON.stringify({ pid: process.ppid, hostname: hostname(), acquiredAt: 'now' }));
      await expect(withFileLock(path, async () => 'x')).rejects.toMatchObject({ code: 'CREDENTIALS_LOCKED', message: expect.stringContaining(`process ${process.ppid} on`) });
    });
    expect(existsSync(join(getLockPath(path), 'owner.json'))).toBe(true);
  });

  it('a stale lock of a dead process is taken over', async () => {
    const path = join(dir, 'credentials');
    await mkdir(getLockPath(path));
    const old = new Date(Date.now() - 60_000);
    await utimes(getLockPath(path), old, old);
    expect(await withFileLock(path, async () => 'taken over', { staleMs: 5_000 })).toBe('taken over');
    expect(existsSync(getLockPath(path))).toBe(false);
  });
});

describe('statOrUndefined: nothing there is no error; what cannot be looked at is', () => {
  it('a missing path, or one under a file, is undefined', async () => {
    await writeFile(join(dir, 'file'), 'x');
    expect(await statOrUndefined(join(dir, 'missing'))).toBeUndefined();
    expect(await statOrUndefined(join(dir, 'file', 'credentials'))).toBeUndefined();
    expect((await statOrUndefined(join(dir, 'file')))?.size).toBe(1);
  });

  it('a link loop is unreadable, with the path and a hint', async () => {
    const path = join(dir, 'loop');
    await symlink('loop', path);
    await expect(statOrUndefined(path)).rejects.toMatchObject({
      code: 'CREDENTIALS_UNREADABLE',
      message: `Cannot read ${path}: it is a symbolic link.`,
      hint: `Check that ${path} is a readable file.`,
    });
  });

  it('a path in a folder it may not enter is unreadable: permission denied', async () => {
    const path = join(dir, 'closed', 'credentials');
    await asOwner(dir, async () => {
      await mkdir(join(dir, 'closed'), { mode: 0o700 });
      await writeFile(path, CONTENT);
      await chmod(join(dir, 'closed'), 0o000);
      await expect(statOrUndefined(path)).rejects.toMatchObject({ code: 'CREDENTIALS_UNREADABLE', message: `Cannot read ${path}: permission denied.`, hint: expect.stringContaining('chmod u+r') });
      await chmod(join(dir, 'closed'), 0o700);
    });
  });
});

describe('writeSecretFile / removeIfExists', () => {
  it('writes 0600 atomically over a 0644 file', async () => {
    const path = join(dir, 'out', 'bob.credentials');
    await mkdir(join(dir, 'out'));
    await writeFile(path, 'old');
    await chmod(path, 0o644);
    await writeSecretFile(path, '[bob]\n');
    expect(await readFile(path, 'utf8')).toBe('[bob]\n');
    expect(await mode(path)).toBe(0o600);
    expect(await leftovers(join(dir, 'out'))).toEqual([]);
  });

  it('removeIfExists: true when removed, false when there was nothing', async () => {
    const path = join(dir, 'f');
    await writeFile(path, 'x');
    expect(await removeIfExists(path)).toBe(true);
    expect(await removeIfExists(path)).toBe(false);
  });
});
