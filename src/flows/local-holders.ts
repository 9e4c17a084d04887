import { describeHolders, type KeyHolders, type PlanFiles } from '../core/plan.js';
import { findProfilesWithKey } from '../credentials/ini.js';
import { readCredentialsFile } from '../credentials/store.js';

/** A key a plan deletes or deactivates, as its warning names it. */
export interface RetiredKey {
  keyId: string;
  /** 'the old key', 'the other key AKIA…WXYZ'. */
  what: string;
  /** 'deactivated', 'deleted', 'deleted to make room'. */
  fate: string;
  /** The credentials file's holders get the new key (rotate --user --to-profile): only the config file's are named. */
  credentialsGetNewKey?: boolean;
  /** Appended in parentheses: how to give the new key to the holders. */
  hint?: (holders: KeyHolders) => string;
}

/**
 * Local profiles, in the credentials or the config file, that hold a key the plan retires and will not get
 * the new one: they stop working, so the plan says so (one warning a key). A file that cannot be read holds none.
 */
export async function localHoldersWarnings(files: PlanFiles, retired: readonly RetiredKey[]): Promise<string[]> {
  const [credentials, config] = await Promise.all([files.credentials, files.config].map((path) => readCredentialsFile(path).catch(() => undefined)));
  return retired.flatMap(({ keyId, what, fate, credentialsGetNewKey, hint }) => {
    const holders = {
      credentials: credentialsGetNewKey || !credentials ? [] : findProfilesWithKey(credentials.doc, keyId),
      config: config ? findProfilesWithKey(config.doc, keyId, 'config') : [],
    };
    const count = holders.credentials.length + holders.config.length;
    if (count === 0) return [];
    const extra = hint ? ` (${hint(holders)})` : '';
    return [`${capitalize(describeHolders(holders, files))} ${count > 1 ? 'hold' : 'holds'} ${what}, which is ${fate}, and will not get the new one${extra}.`];
  });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
