import { readFile } from 'node:fs/promises';
import { maskKeyId } from '../../core/mask.js';
import { removeIfExists, writeCredentialsFileAtomic } from '../../credentials/atomic-replace.js';
import { dotenvValue, editDotenv } from '../../credentials/dotenv.js';
import { errorCode, fileFailure, reasonOf } from '../../credentials/own-files.js';
import type { Destination } from '../../credentials/staged-store.js';
import { CredentialsFileError, ExitCode } from '../../errors.js';
import type { Delivery, KeyPair } from '../delivery.js';

type EnvDestination = Extract<Destination, { kind: 'env' }>;

export const ENV_KEY_ID = 'AWS_ACCESS_KEY_ID';
export const ENV_SECRET = 'AWS_SECRET_ACCESS_KEY';
/** A session token beside a long-lived key would make every SDK send a token that does not belong to it. */
const ENV_SESSION_KEYS = ['AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN'];

/**
 * `--to-env FILE`: the pair as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY of a dotenv file, edited
 * losslessly (credentials/dotenv.ts), replaced atomically with a backup (`FILE.aws-rekey.bak`), mode 0600.
 * A missing file is created. `undo` puts the file back as it was (or the old pair, or removes a file it created).
 */
export function envFileDelivery(destination: EnvDestination): Delivery {
  const { path } = destination;
  // The file as this run found it (undefined: there was none) and as it left it: an undo puts it back exactly.
  let before: { text: string | undefined; after: string } | undefined;

  return {
    destination,
    label: path,

    write: async (pair) => {
      const text = await readEnvFile(path);
      const after = editDotenv(text ?? '', { [ENV_KEY_ID]: pair.accessKeyId, [ENV_SECRET]: pair.secretAccessKey }, ENV_SESSION_KEYS);
      if (text !== undefined && after === text) return { detail: `${path} already holds ${maskKeyId(pair.accessKeyId)}`, destination };
      const result = await writeCredentialsFileAtomic(path, after, { backup: true });
      before = { text, after };
      return {
        detail: `wrote ${maskKeyId(pair.accessKeyId)} to ${ENV_KEY_ID}/${ENV_SECRET} of ${path} (0600)`,
        destination,
        ...(result.backupPath ? { backupPath: result.backupPath } : {}),
      };
    },

    confirm: async (pair) => {
      if (!holds(await readEnvFile(path), pair)) {
        throw new CredentialsFileError('DELIVERY_NOT_CONFIRMED', `${path} no longer holds the new key ${maskKeyId(pair.accessKeyId)}.`, {
          hint: 'Another program changed the file while aws-rekey was running.',
        });
      }
      return `${path} holds ${maskKeyId(pair.accessKeyId)}`;
    },

    undo: async (newKeyId, oldPair) => {
      const text = await readEnvFile(path);
      if (before && text === before.after) {
        if (before.text === undefined) await removeIfExists(path);
        else await writeCredentialsFileAtomic(path, before.text, { backup: false });
        return `${path} is as it was`;
      }
      if (text === undefined || dotenvValue(text, ENV_KEY_ID) !== newKeyId) return `${path} does not hold ${maskKeyId(newKeyId)}; left as it is`;
      const values: Record<string, string> = oldPair ? { [ENV_KEY_ID]: oldPair.accessKeyId, [ENV_SECRET]: oldPair.secretAccessKey } : {};
      const remove = oldPair ? [] : [ENV_KEY_ID, ENV_SECRET];
      await writeCredentialsFileAtomic(path, editDotenv(text, values, remove), { backup: true });
      return oldPair ? `${path} holds ${maskKeyId(oldPair.accessKeyId)} again` : `removed ${maskKeyId(newKeyId)} from ${path}`;
    },
  };
}

function holds(text: string | undefined, pair: KeyPair): boolean {
  return text !== undefined && dotenvValue(text, ENV_KEY_ID) === pair.accessKeyId && dotenvValue(text, ENV_SECRET) === pair.secretAccessKey;
}

/** The file's text; `undefined` when there is none. Not UTF-8: refused, since an edit would damage it. */
export async function readEnvFile(path: string): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw fileFailure('ENV_FILE_UNREADABLE', `Cannot read ${path}: ${reasonOf(error)}.`, error, path);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new CredentialsFileError('ENV_FILE_MALFORMED', `${path} is not UTF-8 text; aws-rekey does not edit it.`, {
      hint: 'Name a dotenv file (KEY=value lines) with --to-env.',
      cause: error,
      exitCode: ExitCode.usage,
    });
  }
}
