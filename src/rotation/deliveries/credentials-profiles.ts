import { maskKeyId } from '../../core/mask.js';
import { writeCredentialsFileAtomic } from '../../credentials/atomic-replace.js';
import { findProfilesWithKey, getProfile, removeProfileKeys, replaceAccessKey, serializeIni, setProfileValues, type IniDocument } from '../../credentials/ini.js';
import type { Destination } from '../../credentials/staged-store.js';
import { readCredentialsFile } from '../../credentials/store.js';
import { CredentialsFileError } from '../../errors.js';
import type { Delivery, DeliveryContext, KeyPair } from '../delivery.js';

type ProfilesDestination = Extract<Destination, { kind: 'profiles' }>;

const SESSION_KEYS = ['aws_session_token', 'aws_security_token'];

/**
 * Profiles of a credentials file, edited losslessly with a backup: every profile that holds the old key
 * gets the new pair (a profile's own rotation), and so does `destination.named`, the profile `--to-profile`
 * names, even if it held no key or another one (its session token lines go). Nothing else changes.
 */
export function credentialsProfilesDelivery(destination: ProfilesDestination, ctx: DeliveryContext): Delivery {
  const path = destination.credentialsPath;
  const named = destination.named;
  const serialized = <T>(edit: () => Promise<T>): Promise<T> => (ctx.serializeFileEdit ? ctx.serializeFileEdit(edit) : edit());
  // The file as this run found it and as it left it: an undo within the run puts it back exactly.
  let before: { text: string; after: string } | undefined;

  return {
    destination,
    label: `${plural(destination.profiles, 'profile')} ${destination.profiles.join(', ')} in ${path}`,

    write: (pair) =>
      serialized(async () => {
        const file = await readCredentialsFile(path);
        const replaced = replaceAccessKey(file.doc, ctx.oldKeyId, pair);
        let doc = replaced.doc;
        const profiles = [...new Set([...(named ? [named] : []), ...replaced.profiles])];
        if (named) doc = removeProfileKeys(setProfileValues(doc, named, { aws_access_key_id: pair.accessKeyId, aws_secret_access_key: pair.secretAccessKey }), named, SESSION_KEYS);
        const holders = holdersOf(doc, pair);
        const written: Destination = { ...destination, profiles: holders.length > 0 ? holders : destination.profiles };
        const after = serializeIni(doc);
        if (after === file.text) return { detail: `${describe(holders)} already hold${holders.length > 1 ? '' : 's'} ${maskKeyId(pair.accessKeyId)}`, destination: written };
        const result = await writeCredentialsFileAtomic(path, after, { backup: true });
        before = { text: file.text, after };
        return {
          detail: `${describe(profiles)} now hold${profiles.length > 1 ? '' : 's'} ${maskKeyId(pair.accessKeyId)}`,
          destination: written,
          ...(result.backupPath ? { backupPath: result.backupPath } : {}),
        };
      }),

    confirm: async (pair) => {
      const holders = holdersOf((await readCredentialsFile(path)).doc, pair);
      if (holders.length === 0) {
        throw new CredentialsFileError('DELIVERY_NOT_CONFIRMED', `No profile in ${path} holds the new key ${maskKeyId(pair.accessKeyId)} any more.`, {
          hint: 'Another program changed the credentials file while aws-rekey was running.',
        });
      }
      return `${describe(holders)} hold${holders.length > 1 ? '' : 's'} ${maskKeyId(pair.accessKeyId)}`;
    },

    undo: (newKeyId, oldPair) =>
      serialized(async () => {
        const file = await readCredentialsFile(path);
        if (before && file.text === before.after) {
          await writeCredentialsFileAtomic(path, before.text, { backup: false });
          return `${path} is as it was`;
        }
        const holders = findProfilesWithKey(file.doc, newKeyId);
        if (holders.length === 0) return `no profile in ${path} holds ${maskKeyId(newKeyId)}`;
        let doc = file.doc;
        if (oldPair) doc = replaceAccessKey(doc, newKeyId, oldPair).doc;
        else for (const profile of holders) doc = removeProfileKeys(doc, profile, ['aws_access_key_id', 'aws_secret_access_key']);
        await writeCredentialsFileAtomic(path, serializeIni(doc), { backup: true });
        return oldPair ? `${describe(holders)} hold${holders.length > 1 ? '' : 's'} ${maskKeyId(oldPair.accessKeyId)} again` : `removed ${maskKeyId(newKeyId)} from ${describe(holders)}`;
      }),
  };
}

/** Profiles holding exactly this pair: the id and its secret. */
function holdersOf(doc: IniDocument, pair: KeyPair): string[] {
  return findProfilesWithKey(doc, pair.accessKeyId).filter((p) => getProfile(doc, p)?.aws_secret_access_key?.trim() === pair.secretAccessKey);
}

function describe(profiles: string[]): string {
  return `${plural(profiles, 'profile')} ${profiles.join(', ')}`;
}

function plural(items: readonly unknown[], word: string): string {
  return items.length > 1 ? `${word}s` : word;
}
