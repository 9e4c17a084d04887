import type { Stats } from 'node:fs';
import { dirname } from 'node:path';
import { CredentialsFileError } from '../errors.js';
import { errorCode, ownerFromStats, ownerOf, reasonOf, removeOwnFile, renameTempOver, resolveLinkTarget, writeOwnFile, writeOwnTemp } from './own-files.js';
import { mkdir, readFile, stat } from './local-fs.js';

/*
 * Writing a file the user chose (the credentials file, an `--out` file) without ever leaving half of it:
 * atomic replace (temp file in the same directory, fsync, rename, fsync of the directory) and the backup of
 * what it replaced.
 */

export interface WriteCredentialsFileOptions {
  /** Keep the previous content in `<path>.aws-rekey.bak` (0600), replacing an older backup. */
  backup: boolean;
}

export interface WriteCredentialsFileResult {
  backupPath?: string;
}

const DIR_MODE = 0o700;

export function getBackupPath(path: string): string {
  return `${path}.aws-rekey.bak`;
}

/**
 * Replaces the file atomically: a 0600 temp file in the same directory, fsynced, renamed over the target,
 * then the directory fsynced. A symlink is written through (its target is replaced, the link stays): the
 * credentials file is the user's choice. Its backup is aws-rekey's own file, and is never written through a link.
 */
export async function writeCredentialsFileAtomic(path: string, text: string, options: WriteCredentialsFileOptions): Promise<WriteCredentialsFileResult> {
  const target = await resolveLinkTarget(path);
  await makeParentDir(target);
  const existing = await statOrUndefined(target);
  const owner = existing ? ownerFromStats(existing) : await ownerOf(target);
  const temp = await writeOwnTemp(target, text, owner);
  let backupPath: string | undefined;
  try {
    if (options.backup && existing) {
      const previous = await readOptionalBytes(target);
      if (previous !== undefined) {
        backupPath = getBackupPath(path);
        await writeOwnFile(backupPath, previous, owner);
      }
    }
  } catch (error) {
    await removeIfExists(temp).catch(() => undefined);
    throw error;
  }
  await renameTempOver(temp, target, writeFailed);
  return backupPath === undefined ? {} : { backupPath };
}

/**
 * A 0600 file the user named (`--out`), replaced atomically. Like the credentials file, a link is written
 * through; the caller checks first that the link and its target have one owner (see destination.ts).
 */
export async function writeSecretFile(path: string, data: string | Uint8Array): Promise<void> {
  const target = await resolveLinkTarget(path);
  await makeParentDir(target);
  const existing = await statOrUndefined(target);
  await renameTempOver(await writeOwnTemp(target, data, existing ? ownerFromStats(existing) : await ownerOf(target)), target, writeFailed);
}

/** Removes a file (never through a link: the link itself goes); `false` when there was none. */
export async function removeIfExists(path: string): Promise<boolean> {
  return removeOwnFile(path);
}

export async function makeParentDir(path: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: DIR_MODE });
  } catch (error) {
    throw writeFailed(path, error);
  }
}

async function readOptionalBytes(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw unreadable(path, error);
  }
}

export async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    if (errorCode(error) === 'ENOTDIR') return undefined;
    throw unreadable(path, error);
  }
}

export function unreadable(path: string, error: unknown): CredentialsFileError {
  return new CredentialsFileError('CREDENTIALS_UNREADABLE', `Cannot read ${path}: ${reasonOf(error)}.`, {
    hint: errorCode(error) === 'EACCES' ? `Make it readable by you: chmod u+r '${path}'.` : `Check that ${path} is a readable file.`,
    cause: error,
  });
}

function writeFailed(path: string, error: unknown): CredentialsFileError {
  return new CredentialsFileError('CREDENTIALS_WRITE_FAILED', `Cannot write ${path}: ${reasonOf(error)}.`, {
    hint: `Nothing was changed in ${path}. Free some space or fix its permissions (the directory must be writable), then try again.`,
    cause: error,
  });
}
