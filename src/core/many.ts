import { ExitCode } from '../errors.js';
import { listProfiles, type IniDocument } from '../credentials/ini.js';
import { isTemporaryKeyId } from './mask.js';
import { hasKeySettings, keySettingsOf } from './key-settings.js';

/** Decisions of `rotate --profile a --profile b` and `rotate --all`. Pure. */

export interface ProfileGroup {
  /** The key the profiles hold; undefined when the profile has none (its rotation then fails with the reason). */
  accessKeyId?: string;
  /** The named profiles holding this key, in the order given. The rotation updates every holder in the file. */
  profiles: string[];
}

export interface SkippedProfile {
  profile: string;
  /** Why --all leaves it alone, e.g. `temporary credentials (a session token)`. */
  reason: string;
}

/**
 * The profiles --all looks at: every profile of the credentials file, and the profiles of the config file
 * that hold keys there (a config profile for a role, SSO or settings only is not a credentials profile).
 */
function candidateProfiles(doc: IniDocument, config: IniDocument | undefined): string[] {
  const inConfig = config ? listProfiles(config, 'config').filter((name) => hasKeySettings(keySettingsOf(doc, config, name)?.values)) : [];
  return [...new Set([...listProfiles(doc), ...inConfig])];
}

/** The profiles of the credentials file (and of the config file, when given) that hold a long-lived key (not a session). */
export function staticKeyProfiles(doc: IniDocument, config?: IniDocument): string[] {
  return candidateProfiles(doc, config).filter((name) => whyNotStatic(keySettingsOf(doc, config, name)?.values ?? {}) === undefined);
}

/** The profiles --all leaves alone, and why. */
export function skippedProfiles(doc: IniDocument, config?: IniDocument): SkippedProfile[] {
  return candidateProfiles(doc, config).flatMap((profile) => {
    const reason = whyNotStatic(keySettingsOf(doc, config, profile)?.values ?? {});
    return reason === undefined ? [] : [{ profile, reason }];
  });
}

// The values come from getProfile, which trims them and leaves out the empty ones.
function whyNotStatic(values: Record<string, string>): string | undefined {
  const id = values.aws_access_key_id;
  if (values.aws_session_token || values.aws_security_token) return 'temporary credentials (a session token)';
  if (!id) return values.aws_secret_access_key ? 'no aws_access_key_id' : 'no access key';
  if (isTemporaryKeyId(id)) return 'temporary credentials (an ASIA… key)';
  if (!values.aws_secret_access_key) return 'no aws_secret_access_key';
  return undefined;
}

/** One group per key: profiles sharing a key (in either file) are rotated once. */
export function groupProfilesByKey(doc: IniDocument, names: readonly string[], config?: IniDocument): ProfileGroup[] {
  const groups: ProfileGroup[] = [];
  const byKey = new Map<string, ProfileGroup>();
  for (const name of names) {
    const id = keySettingsOf(doc, config, name)?.values.aws_access_key_id;
    if (!id) {
      groups.push({ profiles: [name] });
      continue;
    }
    const group = byKey.get(id);
    if (group) {
      if (!group.profiles.includes(name)) group.profiles.push(name);
      continue;
    }
    const created = { accessKeyId: id, profiles: [name] };
    byKey.set(id, created);
    groups.push(created);
  }
  return groups;
}

/**
 * Items in chains: items of the same user run one after the other (a user has two key slots, and two
 * rotations of one user would fight over them); different users run side by side. Items without a known
 * user run alone.
 */
export function chainByUser<T>(items: readonly T[], userOf: (item: T) => string | undefined): T[][] {
  const chains: T[][] = [];
  const byUser = new Map<string, T[]>();
  for (const item of items) {
    const user = userOf(item);
    if (user === undefined) {
      chains.push([item]);
      continue;
    }
    const chain = byUser.get(user);
    if (chain) chain.push(item);
    else {
      const created = [item];
      byUser.set(user, created);
      chains.push(created);
    }
  }
  return chains;
}

/** 0 when every rotation succeeded; else the worst: interrupted (130), incomplete (3), failed (1). */
export function worstExitCode(codes: readonly number[]): number {
  if (codes.every((code) => code === ExitCode.ok)) return ExitCode.ok;
  if (codes.includes(ExitCode.interrupted)) return ExitCode.interrupted;
  if (codes.includes(ExitCode.incomplete)) return ExitCode.incomplete;
  return ExitCode.failure;
}
