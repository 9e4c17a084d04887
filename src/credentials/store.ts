import { randomBytes } from 'node:crypto';
import fs, { constants, type Stats } from 'node:fs';
import { homedir as osHomedir, hostname as osHostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { check, lock } from 'proper-lockfile';
import { shellQuote } from '../core/shell.js';
import { CredentialsFileError, ExitCode } from '../errors.js';
import { getBackupPath, makeParentDir, removeIfExists, statOrUndefined, unreadable } from './atomic-replace.js';
import { parseIni, type IniDocument } from './ini.js';
import {
  createOwnFile,
  errorCode,
  giveToOwner,
  inspectOwnPath,
  ownerOf,
  readOwnFile,
  reasonOf,
  resolveLinkTarget,
  type FileOwner,
} from './own-files.js';
import { checkRecords, recordsDir } from './records.js';
import { access, open, rmdir, stat, unlink } from './local-fs.js';

export interface CredentialsFile {
  /** The file exactly as read: `serializeIni(doc) === text`. */
  text: string;
  doc: IniDocument;
  exists: boolean;
  /** Permission bits, when the file exists. */
  mode?: number;
}

export interface FileLockOptions {
  /** A lock not refreshed for this long belongs to a dead process and is taken over (min 2000). */
  staleMs?: number;
}

export function resolveCredentialsPath(env: NodeJS.ProcessEnv = process.env, homedir: string = osHomedir()): string {
  return expandHome(env.AWS_SHARED_CREDENTIALS_FILE || join(homedir, '.aws', 'credentials'), homedir);
}

export function resolveConfigPath(env: NodeJS.ProcessEnv = process.env, homedir: string = osHomedir()): string {
  return expandHome(env.AWS_CONFIG_FILE || join(homedir, '.aws', 'config'), homedir);
}

export function getLockPath(path: string): string {
  return `${path}.aws-rekey.lock`;
}

/** Reads and parses the file; a missing file is an empty document (the caller decides whether that is fine). */
export async function readCredentialsFile(path: string): Promise<CredentialsFile> {
  let bytes: Buffer;
  let mode: number;
  try {
    const handle = await open(path, 'r');
    try {
      mode = (await handle.stat()).mode & 0o777;
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { text: '', doc: parseIni('', path), exists: false };
    throw unreadable(path, error);
  }
  let text: string;
  try {
    // fatal: a byte that is not UTF-8 would come back as U+FFFD and be written over the original.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new CredentialsFileError('CREDENTIALS_MALFORMED', `${path} is not valid UTF-8 text.`, {
      hint: 'Save it as UTF-8 (the AWS CLI and SDKs expect that), then run aws-rekey again.',
      cause: error,
      exitCode: ExitCode.usage,
    });
  }
  return { text, doc: parseIni(text, path), exists: true, mode };
}

/** The other way out when the credentials file's place cannot be written (the config file, --out and --to-env have theirs). */
const CREDENTIALS_ELSEWHERE = 'point AWS_SHARED_CREDENTIALS_FILE at another file';

/**
 * Pre-flight, before any key exists that would need to be written: fails with the reason and the fix if
 * the file (or, through a symlink, its target) cannot be replaced.
 */
export async function checkWritable(path: string, elsewhere = CREDENTIALS_ELSEWHERE): Promise<void> {
  const target = await resolveLinkTarget(path);
  const shown = target === resolve(path) ? path : `${path} (a link to ${target})`;
  const existing = await statOrUndefined(target);
  if (existing?.isDirectory()) {
    throw notWritable(`${shown} is a directory, not a file.`, `Remove or rename the directory ${target}, or ${elsewhere}.`);
  }
  if (existing) {
    try {
      await access(target, constants.W_OK);
    } catch (error) {
      throw notWritable(`${shown} is not writable: ${reasonOf(error)}.`, notWritableHint(target, existing), error);
    }
  }

  await checkDirWritable(dirname(target), `${shown} is replaced atomically`, elsewhere);
  // The backup and the lock sit next to the path as given, which for a link is not the target's directory.
  if (resolve(dirname(path)) !== dirname(target)) await checkDirWritable(dirname(path), `the backup and lock of ${path} are written`, elsewhere);
}

/** chmod helps only the owner: a file or directory of another user needs that user (or root). */
function notWritableHint(target: string, stats: Stats): string {
  const me = process.getuid?.();
  if (me !== undefined && me !== 0 && stats.uid !== me) {
    const what = stats.isDirectory() ? 'directory' : 'file';
    return `It belongs to another user (uid ${stats.uid}; you are uid ${me}): run aws-rekey as that user, or have the ${what} given to you (sudo chown $(id -u) ${shellQuote(target)}).`;
  }
  return `Make it writable: chmod u+w ${shellQuote(target)}.`;
}

/** `elsewhere`: the other way out, for the kind of path (the credentials file, the config file, --out, --to-env). */
async function checkDirWritable(dir: string, purpose: string, elsewhere: string): Promise<void> {
  const ancestor = await nearestExisting(dir);
  if (!ancestor.stats.isDirectory()) {
    throw notWritable(`${dir}, where ${purpose}, cannot be created: ${ancestor.path} is not a directory.`, `Move ${ancestor.path} out of the way, or ${elsewhere}.`);
  }
  if (ancestor.path !== resolve(dir)) {
    try {
      await access(ancestor.path, constants.W_OK | constants.X_OK);
    } catch (error) {
      throw notWritable(`${dir}, where ${purpose}, cannot be created in ${ancestor.path}: ${reasonOf(error)}.`, `Create it yourself: mkdir -m 700 -p '${dir}'.`, error);
    }
    return;
  }
  // access() is not enough: it does not see a read-only file system, ACLs or an immutable directory.
  const probe = join(dir, `.aws-rekey-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    // Stryker disable next-line StringLiteral: equivalent, the probe is removed at once and never read (a few bytes more could only fail on a full disk, which the write would meet anyway).
    await createOwnFile(probe, '', { uid: 0, gid: 0 });
    await unlink(probe);
  } catch (error) {
    await removeIfExists(probe).catch(() => undefined);
    throw notWritable(`Cannot create files in ${dir}, where ${purpose}: ${reasonOf(error)}.`, notWritableHint(dir, ancestor.stats), error);
  }
}

/**
 * Refuses, before anything is created, an own path of aws-rekey's beside the credentials file (backup, lock,
 * records folder and records) that is a link, a thing of the wrong type, or another user's. Changes nothing.
 */
export async function checkOwnFiles(path: string): Promise<FileOwner> {
  const owner = await ownerOf(path);
  await inspectOwnPath(getBackupPath(path), 'file', owner);
  await inspectOwnPath(getLockPath(await resolveLinkTarget(path)), 'folder', owner);
  await checkRecords(path);
  // A records folder on a read-only mount, or made immutable, would fail only once a key exists.
  await checkDirWritable(await recordsDir(path), 'aws-rekey keeps the records of unfinished rotations', CREDENTIALS_ELSEWHERE);
  return owner;
}

/**
 * Pre-flight of the config file, when a rotation edits it too: it can be replaced, and its backup is
 * aws-rekey's own (not a link, not another user's). Its journal and lock are the credentials file's.
 */
export async function checkConfigWritable(path: string): Promise<void> {
  await checkWritable(path, 'point AWS_CONFIG_FILE at another file');
  await inspectOwnPath(getBackupPath(path), 'file', await ownerOf(path));
}

/**
 * The pre-flight that changes nothing, for --dry-run: what the real run would refuse before creating a key
 * (a file or folder it cannot write, a planted link, a records folder it cannot use, a lock held by a run).
 */
export async function checkBeforeRotation(path: string, options: FileLockOptions = {}): Promise<void> {
  await checkWritable(path);
  await checkOwnFiles(path);
  const lockfilePath = getLockPath(await resolveLinkTarget(path));
  if (await check(path, { realpath: false, lockfilePath, stale: options.staleMs ?? 10_000, fs: lockFs })) {
    throw new CredentialsFileError('CREDENTIALS_LOCKED', `Another aws-rekey run is using ${path} (lock ${lockfilePath}).`, {
      hint: 'Wait for it to finish and try again; a lock left by a run that died is taken over by the next real run.',
    });
  }
}

/**
 * Runs `fn` holding `<file>.aws-rekey.lock`, so that two aws-rekey runs never edit the file at once. The lock
 * sits beside the real file (a link's target): two links to one file share it. The file itself need not
 * exist yet. A lock left by a dead process is taken over once it is `staleMs` old.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const lockfilePath = getLockPath(await resolveLinkTarget(path));
  // Every change to IAM or to the files is made under this lock: a planted link is refused before any.
  const owner = await checkOwnFiles(path);
  await makeParentDir(lockfilePath);
  const acquire = () =>
    lock(path, {
      realpath: false,
      lockfilePath,
      stale: options.staleMs ?? 10_000,
      retries: { retries: 4, minTimeout: 50, maxTimeout: 150 },
      fs: lockFs,
      // The lock could only be lost if this process stalled past `stale`; the work under it is already
      // done or under way and cannot be undone from a timer, so a lost lock must not crash the process.
      onCompromised: () => undefined,
    });
  let release: () => Promise<void>;
  try {
    release = await acquire().catch(async (error: unknown) => {
      // A run killed with the lock held (SIGKILL, a crash, a power cut) is recognised at once, not after `staleMs`.
      if (errorCode(error) !== 'ELOCKED' || !(await takeOverDeadOwnersLock(lockfilePath, owner))) throw error;
      return acquire();
    });
  } catch (error) {
    if (errorCode(error) === 'ELOCKED') {
      const holder = await readLockOwner(lockfilePath, owner);
      const who = holder ? ` (process ${holder.pid} on ${holder.hostname}, since ${holder.acquiredAt})` : '';
      throw new CredentialsFileError('CREDENTIALS_LOCKED', `Another aws-rekey run is using ${path}${who} (lock ${lockfilePath}).`, {
        hint: `Wait for it to finish and try again. If no other run is going, the lock is taken over by itself after ${Math.round((options.staleMs ?? 10_000) / 1000)} s; or remove ${lockfilePath}.`,
        cause: error,
      });
    }
    throw new CredentialsFileError('CREDENTIALS_LOCK_FAILED', `Cannot lock ${path}: ${reasonOf(error)}.`, {
      hint: `aws-rekey creates ${lockfilePath} next to the file; make that directory writable.`,
      cause: error,
    });
  }
  // Without the note the lock still works; only a crash would then be recognised by the lock's age alone.
  await writeLockOwner(lockfilePath, owner).catch(() => undefined);
  try {
    return await fn();
  } finally {
    // Releasing fails only if the lock was already lost; a leftover lock goes stale by itself.
    await release().catch(() => undefined);
  }
}

/** Who holds a lock: a note inside the lock folder, so that a lock left by a dead process is taken over at once. */
interface LockOwner {
  pid: number;
  hostname: string;
  acquiredAt: string;
}

const LOCK_OWNER_FILE = 'owner.json';

/**
 * proper-lockfile removes its lock folder with rmdir: the owner note inside goes too, but only when the folder
 * can go (ENOTEMPTY). If it cannot (an unwritable directory), the note stays and still names the process.
 * rmdirSync is what its exit handler calls, for a process that exits holding the lock. (Exported for their tests.)
 */
export function removeLockFolder(path: string, callback: (error: NodeJS.ErrnoException | null) => void): void {
  fs.rmdir(path, (error) => {
    if (error?.code !== 'ENOTEMPTY' && error?.code !== 'EEXIST') return callback(error);
    fs.unlink(join(path, LOCK_OWNER_FILE), () => fs.rmdir(path, callback));
  });
}

export function removeLockFolderSync(path: string): void {
  try {
    fs.rmdirSync(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOTEMPTY' && errorCode(error) !== 'EEXIST') throw error;
    fs.rmSync(join(path, LOCK_OWNER_FILE), { force: true });
    fs.rmdirSync(path);
  }
}

const lockFs = { ...fs, rmdir: removeLockFolder, rmdirSync: removeLockFolderSync };

/** Root's lock in a user's folder is given to the user: else a crash would leave a lock they cannot remove. */
async function writeLockOwner(lockfilePath: string, fileOwner: FileOwner): Promise<void> {
  await giveToOwner(lockfilePath, fileOwner);
  const owner: LockOwner = { pid: process.pid, hostname: osHostname(), acquiredAt: new Date().toISOString() };
  await createOwnFile(join(lockfilePath, LOCK_OWNER_FILE), `${JSON.stringify(owner)}\n`, fileOwner);
}

async function readLockOwner(lockfilePath: string, fileOwner: FileOwner): Promise<LockOwner | undefined> {
  try {
    const bytes = await readOwnFile(join(lockfilePath, LOCK_OWNER_FILE), fileOwner);
    if (!bytes) return undefined;
    const owner = JSON.parse(bytes.toString('utf8')) as Partial<LockOwner>;
    if (typeof owner.pid !== 'number' || typeof owner.hostname !== 'string') return undefined;
    return { pid: owner.pid, hostname: owner.hostname, acquiredAt: String(owner.acquiredAt ?? '?') };
  } catch {
    return undefined;
  }
}

/** Remove the lock when its note names a process of this machine that no longer exists; true if it did. */
async function takeOverDeadOwnersLock(lockfilePath: string, fileOwner: FileOwner): Promise<boolean> {
  const owner = await readLockOwner(lockfilePath, fileOwner);
  // This process's own pid is alive too: a lock it holds already is never taken over.
  if (!owner || owner.hostname !== osHostname() || isProcessAlive(owner.pid)) return false;
  await unlink(join(lockfilePath, LOCK_OWNER_FILE)).catch(() => undefined);
  await rmdir(lockfilePath).catch(() => undefined);
  return true;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but belongs to another user.
    return errorCode(error) === 'EPERM';
  }
}

function expandHome(path: string, homedir: string): string {
  if (path === '~') return homedir;
  if (path.startsWith('~/') || path.startsWith('~\\')) return join(homedir, path.slice(2));
  return path;
}

async function nearestExisting(dir: string): Promise<{ path: string; stats: Stats }> {
  for (let current = resolve(dir); ; current = dirname(current)) {
    try {
      return { path: current, stats: await stat(current) };
    } catch (error) {
      const code = errorCode(error);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(current) === current) throw unreadable(current, error);
    }
  }
}

function notWritable(message: string, hint: string, cause?: unknown): CredentialsFileError {
  return new CredentialsFileError('CREDENTIALS_NOT_WRITABLE', message, { hint, cause });
}
