import { link, lstat, mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { keyIdInKeyFile, renderKeyFile, type DestinationSpec } from '../core/admin.js';
import { maskKeyId } from '../core/mask.js';
import type { StaticCredentials } from '../core/types.js';
import { findProfilesWithKey, getProfile, removeProfileKeys, replaceAccessKey, serializeIni, setProfileValues } from '../credentials/ini.js';
import type { Destination } from '../credentials/staged-store.js';
import { ownerOf, syncFolder, writeOwnTemp } from '../credentials/own-files.js';
import { checkWritable, readCredentialsFile, removeIfExists, writeCredentialsFileAtomic, writeSecretFile } from '../credentials/store.js';
import { CredentialsFileError, UsageError } from '../errors.js';

/**
 * Delivering an admin-rotated key: the pre-flight check (before the key exists), the write, and its undo.
 * A secret goes only to the destination the admin named.
 */

type KeyPair = Pick<StaticCredentials, 'accessKeyId' | 'secretAccessKey'>;

export interface DestinationContext {
  credentialsPath: string;
  userName: string;
  /** The key being replaced: a --to-profile profile that holds it simply gets the new one. */
  oldKeyId: string;
  force: boolean;
  /** The profile whose credentials make the calls: never overwritten. */
  adminProfile?: string;
}

export interface PreparedDestination {
  destination: Destination;
  /** The old key's secret, when the --to-profile profile held the old key (a rollback puts it back). */
  oldSecretAccessKey?: string;
}

const SESSION_KEYS = ['aws_session_token', 'aws_security_token'];

/** Fails, saying why and what to do, if the new key could not be delivered. Nothing is created yet. */
export async function prepareDestination(spec: DestinationSpec, ctx: DestinationContext): Promise<PreparedDestination> {
  switch (spec.kind) {
    case 'stdout':
      return { destination: { kind: 'stdout' } };
    case 'file': {
      const path = resolve(spec.path);
      const existing = await lstat(path).catch(() => undefined);
      if (existing?.isDirectory()) throw new UsageError(`--out ${spec.path} is a directory.`, 'Name a file, e.g. --out bob.credentials.', 'OUTPUT_IS_DIRECTORY');
      if (existing && !ctx.force) {
        throw new UsageError(`${spec.path} already exists; aws-rekey does not overwrite it.`, 'Choose another file name, or add --force to replace it.', 'OUTPUT_EXISTS');
      }
      if (existing?.isSymbolicLink()) await refuseForeignLinkTarget(spec.path, path, existing.uid);
      await checkWritable(path);
      return { destination: { kind: 'file', path, format: spec.format, section: ctx.userName } };
    }
    case 'profile': {
      if (ctx.adminProfile !== undefined && spec.profile === ctx.adminProfile) {
        throw new UsageError(`--to-profile ${spec.profile} is the profile whose credentials make the calls; aws-rekey does not overwrite it.`, 'Name another profile.', 'TO_PROFILE_IS_ADMIN');
      }
      await checkWritable(ctx.credentialsPath);
      const file = await readCredentialsFile(ctx.credentialsPath);
      const values = getProfile(file.doc, spec.profile);
      const heldKey = values?.aws_access_key_id?.trim();
      if (heldKey && heldKey !== ctx.oldKeyId && !ctx.force) {
        throw new UsageError(
          `Profile ${spec.profile} in ${ctx.credentialsPath} already holds another key (${maskKeyId(heldKey)}); aws-rekey does not overwrite it.`,
          'Name another profile, or add --force to replace its keys.',
          'PROFILE_HAS_KEY',
        );
      }
      const holders = findProfilesWithKey(file.doc, ctx.oldKeyId).filter((p) => p !== spec.profile);
      const oldSecretAccessKey = heldKey === ctx.oldKeyId ? values?.aws_secret_access_key?.trim() : undefined;
      return {
        destination: { kind: 'profiles', credentialsPath: ctx.credentialsPath, profiles: [spec.profile, ...holders] },
        ...(oldSecretAccessKey ? { oldSecretAccessKey } : {}),
      };
    }
  }
}

/**
 * `--out LINK --force` writes through the link (like the credentials file) only when whoever made the link
 * also owns what it points to: else a link planted by another user would hand their pick of file to root.
 */
async function refuseForeignLinkTarget(given: string, path: string, linkUid: number): Promise<void> {
  const target = await stat(path).catch(() => undefined);
  if (target?.isFile() && target.uid === linkUid) return;
  const what = target ? `${given} is a symbolic link to a file of uid ${target.uid}, but the link belongs to uid ${linkUid}` : `${given} is a symbolic link to nothing (a dangling link)`;
  throw new UsageError(
    `${what}; aws-rekey does not write through it, even with --force.`,
    `Name the target itself with --out, or remove the link (rm '${given}'). See docs/security.md.`,
    'OUTPUT_LINK_REFUSED',
  );
}

export interface WrittenDestination {
  /** For the step log: where the key went (never the secret). */
  detail: string;
  destination: Destination;
  backupPath?: string;
  /** Puts the destination back as it was before this write (rollback within the same run). */
  undo: () => Promise<string>;
}

/**
 * Writes the pair to the destination. The named profile gets it, and so does every profile that held the
 * old key (it is about to be retired). `stdout` is written by the caller, at the end.
 */
export async function writeDestination(destination: Destination, pair: KeyPair, ctx: DestinationContext): Promise<WrittenDestination> {
  switch (destination.kind) {
    case 'stdout':
      return { detail: 'the key will be printed at the end (--print-secret)', destination, undo: async () => 'nothing was printed' };
    case 'file': {
      const previous = await readFile(destination.path).catch(() => undefined);
      const content = renderKeyFile(destination.format, destination.section, pair, ctx.userName);
      if (previous !== undefined && keyIdInKeyFile(previous.toString('utf8')) === pair.accessKeyId) {
        return { detail: `${destination.path} already holds ${maskKeyId(pair.accessKeyId)}`, destination, undo: () => removeKeyFile(destination.path, pair.accessKeyId) };
      }
      await writeNewFile(destination.path, content, ctx.force);
      return {
        detail: `wrote ${maskKeyId(pair.accessKeyId)} to ${destination.path} (0600)`,
        destination,
        undo: async () => {
          if (previous === undefined) return removeKeyFile(destination.path, pair.accessKeyId);
          await writeSecretFile(destination.path, previous);
          return `${destination.path} holds what it held before`;
        },
      };
    }
    case 'profiles': {
      const path = destination.credentialsPath;
      const file = await readCredentialsFile(path);
      // The named profile first; then whichever profiles hold the old key now (the file may have changed since the plan).
      const named = destination.profiles[0];
      const replaced = replaceAccessKey(file.doc, ctx.oldKeyId, pair);
      let doc = replaced.doc;
      const profiles = [...new Set([...(named ? [named] : []), ...replaced.profiles])];
      for (const profile of profiles) {
        doc = removeProfileKeys(setProfileValues(doc, profile, { aws_access_key_id: pair.accessKeyId, aws_secret_access_key: pair.secretAccessKey }), profile, SESSION_KEYS);
      }
      const after = serializeIni(doc);
      const written = await writeCredentialsFileAtomic(path, after, { backup: true });
      const updated: Destination = { ...destination, profiles };
      return {
        detail: `profile${profiles.length > 1 ? 's' : ''} ${profiles.join(', ')} now hold${profiles.length > 1 ? '' : 's'} ${maskKeyId(pair.accessKeyId)}`,
        destination: updated,
        ...(written.backupPath ? { backupPath: written.backupPath } : {}),
        undo: async () => {
          const now = await readCredentialsFile(path);
          if (now.text === after) {
            await writeCredentialsFileAtomic(path, file.text, { backup: false });
            return `${path} is as it was`;
          }
          return removeFromProfiles(path, pair.accessKeyId);
        },
      };
    }
  }
}

/**
 * Takes a new key back out of its destination later (`rollback --delete-new`): profiles holding it get the
 * old pair back when it is known, else lose the key lines; a file is removed if it still holds the key.
 */
export async function undoDestination(destination: Destination, newKeyId: string, oldPair?: KeyPair): Promise<string> {
  switch (destination.kind) {
    case 'stdout':
      return 'the printed key is deleted; whoever received it must stop using it';
    case 'file':
      return removeKeyFile(destination.path, newKeyId);
    case 'profiles':
      return removeFromProfiles(destination.credentialsPath, newKeyId, oldPair);
  }
}

async function removeFromProfiles(path: string, newKeyId: string, oldPair?: KeyPair): Promise<string> {
  const file = await readCredentialsFile(path);
  const holders = findProfilesWithKey(file.doc, newKeyId);
  if (holders.length === 0) return `no profile in ${path} holds ${maskKeyId(newKeyId)}`;
  let doc = file.doc;
  if (oldPair) doc = replaceAccessKey(doc, newKeyId, oldPair).doc;
  else for (const profile of holders) doc = removeProfileKeys(doc, profile, ['aws_access_key_id', 'aws_secret_access_key']);
  await writeCredentialsFileAtomic(path, serializeIni(doc), { backup: true });
  const names = `profile${holders.length > 1 ? 's' : ''} ${holders.join(', ')}`;
  return oldPair ? `${names} hold${holders.length > 1 ? '' : 's'} ${maskKeyId(oldPair.accessKeyId)} again` : `removed ${maskKeyId(newKeyId)} from ${names}`;
}

async function removeKeyFile(path: string, keyId: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return `${path} is gone already`;
  if (keyIdInKeyFile(text) !== keyId) return `${path} no longer holds ${maskKeyId(keyId)}; left as it is`;
  await removeIfExists(path);
  return `removed ${path}`;
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
  await mkdir(dir, { recursive: true, mode: 0o700 });
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
    if (error instanceof UsageError) throw error;
    throw new CredentialsFileError('OUTPUT_WRITE_FAILED', `Cannot write ${path}: ${(error as Error).message}.`, { cause: error });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
