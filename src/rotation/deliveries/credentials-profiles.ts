import { maskKeyId } from '../../core/mask.js';
import { writeCredentialsFileAtomic } from '../../credentials/atomic-replace.js';
import { findProfilesWithKey, getProfile, serializeIni, type IniDocument, type IniFileKind } from '../../credentials/ini.js';
import { removeProfileKeys, replaceAccessKey, setProfileValues } from '../../credentials/ini-edit.js';
import type { Destination } from '../../credentials/staged-store.js';
import { readCredentialsFile } from '../../credentials/store.js';
import { CredentialsFileError } from '../../errors.js';
import type { Delivery, DeliveryContext, KeyPair } from '../delivery.js';

type ProfilesDestination = Extract<Destination, { kind: 'profiles' }>;

const SESSION_KEYS = ['aws_session_token', 'aws_security_token'];

interface EditedFile {
  path: string;
  kind: IniFileKind;
}

/** What one file's write did. */
interface FileWrite {
  file: EditedFile;
  /** Profiles that hold the new pair now. */
  holders: string[];
  /** Profiles this write gave it to. */
  changed: string[];
  backupPath?: string;
}

/**
 * Profiles of the credentials file, and of the config file when the destination names it, edited losslessly,
 * each file with its own atomic write and backup: every profile that holds the old key (or a key of
 * `destination.alsoReplaces`) gets the new pair, and so does `destination.named`, the profile `--to-profile`
 * names, even if it held no key or another one (its session token lines go). Nothing else changes.
 *
 * The credentials file is written first, then the config file. A run that stops between the two leaves the
 * journal at `created`; the next run writes again, which changes only what still holds the old key.
 */
export function credentialsProfilesDelivery(destination: ProfilesDestination, ctx: DeliveryContext): Delivery {
  const files: EditedFile[] = [
    { path: destination.credentialsPath, kind: 'credentials' },
    ...(destination.configPath ? [{ path: destination.configPath, kind: 'config' as const }] : []),
  ];
  const replaced = [ctx.oldKeyId, ...(destination.alsoReplaces ?? [])];
  const named = destination.named;
  const serialized = <T>(edit: () => Promise<T>): Promise<T> => (ctx.serializeFileEdit ? ctx.serializeFileEdit(edit) : edit());
  // Each file as this run found it and as it left it: an undo within the run puts it back exactly.
  const before = new Map<string, { text: string; after: string }>();

  const writeFile = async (file: EditedFile, pair: KeyPair): Promise<FileWrite> => {
    const read = await readCredentialsFile(file.path);
    let doc = read.doc;
    const changed: string[] = [];
    for (const keyId of replaced) {
      const result = replaceAccessKey(doc, keyId, pair, file.kind);
      doc = result.doc;
      changed.push(...result.profiles);
    }
    if (named && file.kind === 'credentials') {
      doc = removeProfileKeys(setProfileValues(doc, named, { aws_access_key_id: pair.accessKeyId, aws_secret_access_key: pair.secretAccessKey }), named, SESSION_KEYS);
      changed.unshift(named);
    }
    const after = serializeIni(doc);
    const holders = holdersOf(doc, pair, file.kind);
    if (after === read.text) return { file, holders, changed: [] };
    const result = await writeCredentialsFileAtomic(file.path, after, { backup: true });
    before.set(file.path, { text: read.text, after });
    return { file, holders, changed: [...new Set(changed)], ...(result.backupPath ? { backupPath: result.backupPath } : {}) };
  };

  return {
    destination,
    label: describeFiles(files.map((file) => ({ file, profiles: file.kind === 'config' ? (destination.configProfiles ?? []) : destination.profiles })), true),

    write: (pair) =>
      serialized(async () => {
        const writes: FileWrite[] = [];
        for (const file of files) writes.push(await writeFile(file, pair));
        const [inCredentials, inConfig] = writes;
        const written: Destination = {
          ...destination,
          profiles: inCredentials!.holders.length > 0 ? inCredentials!.holders : destination.profiles,
          ...(inConfig ? { configProfiles: inConfig.holders.length > 0 ? inConfig.holders : (destination.configProfiles ?? []) } : {}),
        };
        const backups = writes.flatMap((w) => (w.backupPath ? [w.backupPath] : []));
        const key = maskKeyId(pair.accessKeyId);
        // With one file, as in 0.1.0: "profiles work, alias now hold AKIA…"; with two, each file is named.
        const withPaths = writes.length > 1;
        const details = writes.flatMap((w) => {
          if (w.changed.length > 0) return [`${describeFiles([{ file: w.file, profiles: w.changed }], withPaths)} now ${verb(w.changed, 'hold')} ${key}`];
          if (w.holders.length > 0) return [`${describeFiles([{ file: w.file, profiles: w.holders }], withPaths)} already ${verb(w.holders, 'hold')} ${key}`];
          return [];
        });
        return {
          detail: details.join('; ') || `no profile holds ${key}`,
          destination: written,
          ...(backups.length > 0 ? { backupPath: backups[0], backupPaths: backups } : {}),
        };
      }),

    confirm: async (pair) => {
      const found: Array<{ file: EditedFile; profiles: string[] }> = [];
      for (const file of files) {
        const holders = holdersOf((await readCredentialsFile(file.path)).doc, pair, file.kind);
        if (holders.length > 0) found.push({ file, profiles: holders });
      }
      if (found.length === 0) {
        throw new CredentialsFileError('DELIVERY_NOT_CONFIRMED', `No profile in ${files.map((f) => f.path).join(' or ')} holds the new key ${maskKeyId(pair.accessKeyId)} any more.`, {
          hint: 'Another program changed the credentials file while aws-rekey was running.',
        });
      }
      return `${describeFiles(found, files.length > 1)} ${verb(found.flatMap((f) => f.profiles), 'hold')} ${maskKeyId(pair.accessKeyId)}`;
    },

    // The config file first: the reverse order of the writes. A profile that held the deleted other key
    // is not put back to it (a dead key): with the old pair known, it gets the old key, like the others.
    undo: (newKeyId, oldPair) =>
      serialized(async () => {
        const done: string[] = [];
        const restoreExactly = !(oldPair && (destination.alsoReplaces ?? []).length > 0);
        for (const file of [...files].reverse()) {
          const undone = await undoFile(file, restoreExactly ? before.get(file.path) : undefined, newKeyId, oldPair, files.length > 1);
          if (undone) done.push(undone);
        }
        return done.join('; ') || `no profile in ${files.map((f) => f.path).join(' or ')} holds ${maskKeyId(newKeyId)}`;
      }),
  };
}

async function undoFile(
  file: EditedFile,
  before: { text: string; after: string } | undefined,
  newKeyId: string,
  oldPair: KeyPair | undefined,
  withPaths: boolean,
): Promise<string | undefined> {
  const read = await readCredentialsFile(file.path);
  if (before && read.text === before.after) {
    await writeCredentialsFileAtomic(file.path, before.text, { backup: false });
    return `${file.path} is as it was`;
  }
  const holders = findProfilesWithKey(read.doc, newKeyId, file.kind);
  if (holders.length === 0) return undefined;
  let doc = read.doc;
  if (oldPair) doc = replaceAccessKey(doc, newKeyId, oldPair, file.kind).doc;
  else for (const profile of holders) doc = removeProfileKeys(doc, profile, ['aws_access_key_id', 'aws_secret_access_key'], file.kind);
  await writeCredentialsFileAtomic(file.path, serializeIni(doc), { backup: true });
  const where = describeFiles([{ file, profiles: holders }], withPaths);
  return oldPair ? `${where} ${verb(holders, 'hold')} ${maskKeyId(oldPair.accessKeyId)} again` : `removed ${maskKeyId(newKeyId)} from ${where}`;
}

/** Profiles holding exactly this pair: the id and its secret. */
function holdersOf(doc: IniDocument, pair: KeyPair, kind: IniFileKind): string[] {
  return findProfilesWithKey(doc, pair.accessKeyId, kind).filter((p) => getProfile(doc, p, kind)?.aws_secret_access_key?.trim() === pair.secretAccessKey);
}

/** "profiles work, alias", or with the files: "profile work in ~/.aws/credentials and profile ci in ~/.aws/config". */
function describeFiles(parts: Array<{ file: EditedFile; profiles: string[] }>, withPaths: boolean): string {
  const shown = parts.filter((part, index) => part.profiles.length > 0 || (index === 0 && parts.length === 1));
  return shown.map((part) => `${part.profiles.length > 1 ? 'profiles' : 'profile'} ${part.profiles.join(', ')}${withPaths ? ` in ${part.file.path}` : ''}`).join(' and ');
}

function verb(profiles: readonly unknown[], word: 'hold'): string {
  return profiles.length > 1 ? word : `${word}s`;
}
