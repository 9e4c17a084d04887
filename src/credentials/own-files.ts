import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CredentialsFileError, type ExitCodeValue } from '../errors.js';
import { lchown, lstat, mkdir, open, readdir, readlink, realpath, rename, rmdir, stat, unlink } from './local-fs.js';

/*
 * aws-rekey's own files and folders beside a credentials file: the backup, the records folder with its
 * journals and staged records, the lock, temp files. Whoever else can write to that folder could plant a
 * symbolic link there, and a run as root that followed it would overwrite, or lock everyone out of, whatever
 * it points to (CWE-59). So these paths are looked at with lstat, never stat; new files are opened with
 * O_CREAT|O_EXCL|O_NOFOLLOW; modes and owners are set through a handle on what was opened, never by path;
 * and a link, a thing of the wrong type or one of another owner is refused with the path and the fix.
 * The credentials file itself is the user's choice: following its link is right (see atomic-replace.ts).
 */

/** Whose files these are: the credentials file's owner (its folder's while there is no file yet). */
export interface FileOwner {
  uid: number;
  gid: number;
}

export type OwnPathKind = 'file' | 'folder';

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW;
// O_NONBLOCK: a named pipe planted there would otherwise hang the run until someone writes to it.
const READ_NOFOLLOW = constants.O_RDONLY | NOFOLLOW | (constants.O_NONBLOCK ?? 0);
const OPEN_FOLDER = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | NOFOLLOW;
const FILE_MODE = 0o600;
const FOLDER_MODE = 0o700;

/**
 * Where writes to a file the user chose (the credentials file, an `--out` file) go: the final target of a
 * link chain (even a dangling one), else the path itself. Also what identifies a credentials file.
 */
export async function resolveLinkTarget(path: string, depth = 0): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOTDIR') return resolve(path);
    if (code !== 'ENOENT') throw fileFailure('CREDENTIALS_UNREADABLE', `Cannot resolve ${path}: ${reasonOf(error)}.`, error, path);
  }
  const link = await lstat(path).catch(() => undefined);
  if (!link?.isSymbolicLink() || depth > 32) return resolve(path);
  return resolveLinkTarget(resolve(dirname(path), await readlink(path)), depth + 1);
}

/** The owner that aws-rekey's files beside `credentialsPath` must have, and are given when root writes them. */
export async function ownerOf(credentialsPath: string): Promise<FileOwner> {
  for (const path of [credentialsPath, dirname(resolve(credentialsPath))]) {
    const info = await stat(path).catch(() => undefined);
    if (info) return { uid: info.uid, gid: info.gid };
  }
  return processOwner();
}

export function ownerFromStats(info: Pick<Stats, 'uid' | 'gid'>): FileOwner {
  return { uid: info.uid, gid: info.gid };
}

function processOwner(): FileOwner {
  return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Root, the files' owner and the running user may own them (a run as another user makes them its own). */
function mayOwn(uid: number, owner: FileOwner): boolean {
  return uid === 0 || uid === owner.uid || uid === process.getuid?.();
}

/**
 * What is at `path` (never following a link), if it is fit to be aws-rekey's own `kind`; `undefined` when
 * there is nothing yet. Anything else is refused: a link, another type of thing, another owner.
 */
export async function inspectOwnPath(path: string, kind: OwnPathKind, owner: FileOwner): Promise<Stats | undefined> {
  let info: Stats;
  try {
    info = await lstat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw fileFailure('OWN_FILE_UNREADABLE', `Cannot look at ${path}: ${reasonOf(error)}.`, error, path);
  }
  await refuseUnfit(path, info, kind, owner);
  return info;
}

async function refuseUnfit(path: string, info: Stats, kind: OwnPathKind, owner: FileOwner): Promise<void> {
  if (info.isSymbolicLink()) {
    const target = await readlink(path).catch(() => '?');
    throw unsafe(
      'OWN_FILE_IS_LINK',
      `${path} is a symbolic link (to ${target}). aws-rekey makes this ${kind} itself and never follows a link there.`,
      `Remove the link (rm '${path}'), then run aws-rekey again. If you did not make it, someone who can write to ${dirname(path)} did: find out who.`,
    );
  }
  if (kind === 'file' ? !info.isFile() : !info.isDirectory()) {
    throw unsafe(
      'OWN_FILE_WRONG_TYPE',
      `${path} should be a ${kind} of aws-rekey's, but it is ${describeType(info)}.`,
      `Move it out of the way (mv '${path}' '${path}.moved'), then run aws-rekey again.`,
    );
  }
  if (!mayOwn(info.uid, owner)) {
    throw unsafe(
      'OWN_FILE_WRONG_OWNER',
      `${path} belongs to uid ${info.uid}, not to uid ${owner.uid} (the owner of the credentials file) or root.`,
      `aws-rekey did not make it for this file. Check what it is, then remove it (rm -r '${path}') or give it to its owner (chown -R ${owner.uid}:${owner.gid} '${path}').`,
    );
  }
}

function describeType(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFile()) return 'a file';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'something else';
}

/**
 * Makes the folder (0700, given to `owner` when root makes it) or checks the one there; a folder opened up
 * to others is made private again. The mode and owner are set through a handle on the folder that was
 * opened without following a link, so a link swapped in after the check is never changed.
 */
export async function ensureOwnFolder(dir: string, owner: FileOwner): Promise<void> {
  if (!(await inspectOwnPath(dir, 'folder', owner))) {
    try {
      await mkdir(dir, { mode: FOLDER_MODE });
    } catch (error) {
      // Made meanwhile by a rotation running beside this one: checked below like any other.
      if (errorCode(error) !== 'EEXIST') throw writeFailed(dir, error);
    }
  }
  // Windows has neither O_NOFOLLOW nor these modes; the lstat above is what there is.
  if (process.platform === 'win32') return;
  let handle;
  try {
    handle = await open(dir, OPEN_FOLDER);
  } catch (error) {
    if (errorCode(error) === 'ELOOP' || errorCode(error) === 'ENOTDIR') {
      await inspectOwnPath(dir, 'folder', owner);
    }
    throw writeFailed(dir, error);
  }
  try {
    const info = await handle.stat();
    await refuseUnfit(dir, info, 'folder', owner);
    if ((info.mode & 0o077) !== 0) await handle.chmod(FOLDER_MODE);
    if (isRoot() && (info.uid !== owner.uid || info.gid !== owner.gid)) await handle.chown(owner.uid, owner.gid);
  } catch (error) {
    if (error instanceof CredentialsFileError) throw error;
    throw writeFailed(dir, error);
  } finally {
    await handle.close();
  }
}

/** The names in the folder; none when there is no folder. The folder itself must be fit to be ours. */
export async function listOwnFolder(dir: string, owner: FileOwner): Promise<string[]> {
  if (!(await inspectOwnPath(dir, 'folder', owner))) return [];
  try {
    return await readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw fileFailure('OWN_FILE_UNREADABLE', `Cannot list ${dir}: ${reasonOf(error)}.`, error, dir);
  }
}

/** The file's bytes, read without following a link; `undefined` when it does not exist. */
export async function readOwnFile(path: string, owner: FileOwner): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, READ_NOFOLLOW);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return undefined;
    // ELOOP: a link (O_NOFOLLOW); say so as the checks do.
    if (code === 'ELOOP' || code === 'EISDIR') await inspectOwnPath(path, 'file', owner);
    throw fileFailure('OWN_FILE_UNREADABLE', `Cannot read ${path}: ${reasonOf(error)}.`, error, path);
  }
  try {
    await refuseUnfit(path, await handle.stat(), 'file', owner);
    return await handle.readFile();
  } catch (error) {
    if (error instanceof CredentialsFileError) throw error;
    throw fileFailure('OWN_FILE_UNREADABLE', `Cannot read ${path}: ${reasonOf(error)}.`, error, path);
  } finally {
    await handle.close();
  }
}

/**
 * Replaces the file atomically (0600, fsynced): a new temp file beside it, renamed over the name. A rename
 * replaces the name itself, so even a link planted after the check is replaced, never written through.
 */
export async function writeOwnFile(path: string, data: string | Uint8Array, owner: FileOwner): Promise<void> {
  await inspectOwnPath(path, 'file', owner);
  await renameTempOver(await writeOwnTemp(path, data, owner), path, writeFailed);
}

/**
 * Renames the temp file over `path`, then fsyncs the folder. A temp file whose rename failed is removed;
 * a renamed one is gone already (no unlink to make).
 */
export async function renameTempOver(temp: string, path: string, failed: (path: string, error: unknown) => Error): Promise<void> {
  try {
    await rename(temp, path);
  } catch (error) {
    await removeOwnFile(temp).catch(() => undefined);
    throw failed(path, error);
  }
  await syncFolder(dirname(path));
}

/**
 * A new 0600 file beside `path`, with a name nobody could have guessed, holding `data`, fsynced; given to
 * `owner` when root writes it. Returns its path; it is removed again if anything fails.
 */
export async function writeOwnTemp(path: string, data: string | Uint8Array, owner: FileOwner): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.aws-rekey-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, NEW_FILE, FILE_MODE);
    try {
      // open's mode goes through the umask; a umask such as 0277 would leave the file unreadable to us.
      await handle.chmod(FILE_MODE);
      // Under sudo, a new root-owned 0600 file would lock its owner out of their own credentials.
      if (isRoot() && (owner.uid !== 0 || owner.gid !== 0)) await handle.chown(owner.uid, owner.gid);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temp;
  } catch (error) {
    await removeOwnFile(temp).catch(() => undefined);
    throw writeFailed(path, error);
  }
}

/** A new, empty file that must not exist yet (O_EXCL, never through a link); for probes and notes. */
export async function createOwnFile(path: string, data: string, owner: FileOwner): Promise<void> {
  const handle = await open(path, NEW_FILE, FILE_MODE);
  try {
    if (isRoot() && (owner.uid !== 0 || owner.gid !== 0)) await handle.chown(owner.uid, owner.gid);
    if (data) await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}

/** Gives a path root just made (a lock folder) to `owner`, without following a link. */
export async function giveToOwner(path: string, owner: FileOwner): Promise<void> {
  if (isRoot() && (owner.uid !== 0 || owner.gid !== 0)) await lchown(path, owner.uid, owner.gid);
}

/** Removes a file (unlink never follows a link); `false` when there was none. */
export async function removeOwnFile(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw new CredentialsFileError('FILE_REMOVE_FAILED', `Cannot remove ${path}: ${reasonOf(error)}.`, {
      hint: `Remove it yourself: rm '${path}'.`,
      cause: error,
    });
  }
}

/** Removes the folder if it is empty (a link is never removed this way: rmdir refuses it). */
export async function removeOwnFolderIfEmpty(dir: string): Promise<void> {
  await rmdir(dir).catch(() => undefined);
}

/** Makes a rename durable. Some platforms (Windows) cannot open a directory; the rename still happened. */
export async function syncFolder(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF', 'EACCES'].includes(errorCode(error) ?? '')) {
      throw new CredentialsFileError('CREDENTIALS_WRITE_FAILED', `The file in ${dir} was replaced, but the directory could not be synced to disk: ${reasonOf(error)}.`, {
        hint: 'The new content is in place; check the disk (a crash now could lose the change).',
        cause: error,
      });
    }
  } finally {
    await handle?.close();
  }
}

/**
 * Run as root on a folder another user can write to, no check can be complete: that user could swap a name
 * for a link between the check and the write. The links found are refused; this says what remains.
 */
export async function rootInSharedFolderWarning(credentialsPath: string): Promise<string | undefined> {
  if (!isRoot()) return undefined;
  const given = dirname(resolve(credentialsPath));
  const target = dirname(await realpath(credentialsPath).catch(() => resolve(credentialsPath)));
  for (const dir of new Set([given, target])) {
    const info = await stat(dir).catch(() => undefined);
    if (!info) continue;
    const writers = [
      ...(info.uid !== 0 && info.mode & 0o200 ? [`uid ${info.uid} (its owner)`] : []),
      ...(info.mode & 0o020 && !(info.mode & 0o002) ? [`the members of group ${info.gid}`] : []),
      ...(info.mode & 0o002 ? ['every user'] : []),
    ];
    if (writers.length === 0) continue;
    const owner = info.uid !== 0 ? `sudo -u '#${info.uid}' aws-rekey …` : 'aws-rekey as the owner of the credentials file';
    return (
      `aws-rekey runs as root, and ${dir} can be written by ${writers.join(' and ')}: they could swap a file aws-rekey ` +
      `writes there for a link between its check and its write. Links found there are refused; to rule out the race, run ${owner} instead.`
    );
  }
  return undefined;
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

export function reasonOf(error: unknown): string {
  const code = errorCode(error);
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a parent is not a directory',
    EEXIST: 'it already exists',
    ELOOP: 'it is a symbolic link',
    ENOENT: 'it does not exist',
  };
  return (code && reasons[code]) ?? (error instanceof Error ? error.message : String(error));
}

function unsafe(code: string, message: string, hint: string): CredentialsFileError {
  return new CredentialsFileError(code, message, { hint });
}

/** A failure of the file system on a path, with the fix that matches its cause. */
export function fileFailure(code: string, message: string, error: unknown, path: string, exitCode?: ExitCodeValue): CredentialsFileError {
  return new CredentialsFileError(code, message, { hint: fixFor(error, path), cause: error, ...(exitCode ? { exitCode } : {}) });
}

function fixFor(error: unknown, path: string): string {
  switch (errorCode(error)) {
    case 'EACCES':
    case 'EPERM':
      return `Run aws-rekey as the user who owns ${dirname(path)}, or give that folder back to them (ls -ld '${dirname(path)}' shows who owns it).`;
    case 'EROFS':
      return `${dirname(path)} is on a read-only file system: point AWS_SHARED_CREDENTIALS_FILE at a file on a writable one, or remount it read-write.`;
    case 'ENOSPC':
    case 'EDQUOT':
      return 'Free some space, then run aws-rekey again.';
    case 'ENOTDIR':
      return `A parent of ${path} is a file, not a folder: move it out of the way.`;
    default:
      return `Check ${dirname(path)} (ls -la '${dirname(path)}'), then run aws-rekey again.`;
  }
}

function writeFailed(path: string, error: unknown): CredentialsFileError {
  return fileFailure('CREDENTIALS_WRITE_FAILED', `Cannot write ${path}: ${reasonOf(error)}.`, error, path);
}
