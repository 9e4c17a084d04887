import { link, lstat, mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { keyIdInKeyFile, renderKeyFile } from '../../core/admin.js';
import { maskKeyId } from '../../core/mask.js';
import { errorCode, fileFailure, ownerOf, reasonOf, syncFolder, writeOwnTemp } from '../../credentials/own-files.js';
import type { Destination } from '../../credentials/staged-store.js';
import { removeIfExists, writeSecretFile } from '../../credentials/atomic-replace.js';
import { CredentialsFileError, UsageError } from '../../errors.js';
import type { Delivery, DeliveryContext } from '../delivery.js';

type FileDestination = Extract<Destination, { kind: 'file' }>;

/** `--out FILE`: a 0600 file of its own, in credentials (ini) or JSON format; never replaced without --force. */
export function keyFileDelivery(destination: FileDestination, ctx: DeliveryContext): Delivery {
  const { path } = destination;
  // What the file held before this run wrote it: an undo within the run puts it back.
  let previous: Buffer | undefined;
  let wrote = false;

  return {
    destination,
    label: path,

    write: async (pair) => {
      const existing = await readIfExists(path);
      if (existing !== undefined && keyIdInKeyFile(existing.toString('utf8')) === pair.accessKeyId) {
        return { detail: `${path} already holds ${maskKeyId(pair.accessKeyId)}`, destination };
      }
      await writeNewFile(path, renderKeyFile(destination.format, destination.section, pair, ctx.userName), ctx.force ?? false);
      previous = existing;
      wrote = true;
      return { detail: `wrote ${maskKeyId(pair.accessKeyId)} to ${path} (0600)`, destination };
    },

    confirm: async (pair) => {
      const text = (await readIfExists(path))?.toString('utf8');
      if (text === undefined || keyIdInKeyFile(text) !== pair.accessKeyId) {
        throw new CredentialsFileError('DELIVERY_NOT_CONFIRMED', `${path} no longer holds the new key ${maskKeyId(pair.accessKeyId)}.`, {
          hint: 'Another program removed or replaced the file while aws-rekey was running.',
        });
      }
      return `${path} holds ${maskKeyId(pair.accessKeyId)}`;
    },

    undo: async (newKeyId) => {
      if (wrote && previous !== undefined) {
        await writeSecretFile(path, previous);
        return `${path} holds what it held before`;
      }
      return removeKeyFile(path, newKeyId);
    },
  };
}

async function removeKeyFile(path: string, keyId: string): Promise<string> {
  const text = (await readIfExists(path))?.toString('utf8');
  if (text === undefined) return `${path} is gone already`;
  if (keyIdInKeyFile(text) !== keyId) return `${path} no longer holds ${maskKeyId(keyId)}; left as it is`;
  await removeIfExists(path);
  return `removed ${path}`;
}

/** The --out file's bytes; `undefined` when there is none. Any other failure says why. */
async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw fileFailure('OUTPUT_UNREADABLE', `Cannot read ${path}: ${reasonOf(error)}.`, error, path);
  }
}

/**
 * A 0600 file, complete or absent: written to a temp file, then linked into place — link fails if the
 * name was taken meanwhile, so without --force an existing file is never replaced.
 */
async function writeNewFile(path: string, content: string, force: boolean): Promise<void> {
  if (force) {
    await writeSecretFile(path, content);
    return;
  }
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    throw fileFailure('OUTPUT_WRITE_FAILED', `Cannot create the folder of ${path}: ${reasonOf(error)}.`, error, path);
  });
  const temp = await writeOwnTemp(path, content, await ownerOf(path));
  try {
    try {
      await link(temp, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new UsageError(`${path} appeared while aws-rekey was running; it was not overwritten.`, 'Choose another file name, or add --force.', 'OUTPUT_EXISTS');
      // Some file systems have no hard links: fall back to a rename after checking again.
      if (await lstat(path).catch(() => undefined)) throw new UsageError(`${path} appeared while aws-rekey was running; it was not overwritten.`, undefined, 'OUTPUT_EXISTS');
      await rename(temp, path);
    }
    await syncFolder(dir);
  } catch (error) {
    if (error instanceof UsageError || error instanceof CredentialsFileError) throw error;
    throw fileFailure('OUTPUT_WRITE_FAILED', `Cannot write ${path}: ${reasonOf(error)}.`, error, path);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
