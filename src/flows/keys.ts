import { parsePrincipalArn } from '../core/arn.js';
import type { AccessKeyInfo, StaticCredentials } from '../core/types.js';
import { findProfilesWithKey } from '../credentials/ini.js';
import { findJournal, readJournals } from '../credentials/journal.js';
import { describeRecovery } from './recover.js';
import { openProfileContext } from '../session/profile-context.js';
import { ProfileError } from '../errors.js';

export interface ListKeysOptions {
  profile?: string;
  authProfile?: string;
  /** The current code of the MFA device the --auth-profile's role is assumed with (mfa_serial). */
  mfaCode?: string;
  /** Asks for that code when none was given. */
  mfaCodeProvider?: (serial: string) => Promise<string>;
  env?: NodeJS.ProcessEnv;
  /** For ages; injected by tests. */
  now?: Date;
}

export interface ListedKey extends AccessKeyInfo {
  ageDays?: number;
  /** Profiles of the credentials file that hold this key id. */
  profiles: string[];
  /** True for the key of the profile that was asked about. */
  current: boolean;
}

export interface ListKeysResult {
  schemaVersion: 1;
  profile: string;
  user: { arn: string; name: string; account: string };
  keys: ListedKey[];
  warnings: string[];
}

const DAY_MS = 86_400_000;

/** The access keys of the profile's IAM user, with last use and which local profiles hold them. */
export async function listKeys(options: ListKeysOptions = {}): Promise<ListKeysResult> {
  const ctx = await openProfileContext({ profile: options.profile, authProfile: options.authProfile, env: options.env, mfaCode: options.mfaCode, mfaCodeProvider: options.mfaCodeProvider });
  try {
    const self: StaticCredentials = { accessKeyId: ctx.key.accessKeyId, secretAccessKey: ctx.key.secretAccessKey };
    const identity = await ctx.gateway.getCallerIdentity(self);
    const principal = parsePrincipalArn(identity.arn);
    if (principal?.kind !== 'user' || !principal.userName) {
      throw new ProfileError('NOT_AN_IAM_USER', `The key of profile ${ctx.profile} belongs to ${identity.arn}, not to an IAM user.`, {
        hint:
          principal?.kind === 'root'
            ? 'Root keys should be deleted, not rotated: see the IAM console, Security credentials.'
            : 'Only IAM users have long-lived access keys: name a profile that holds an IAM user\'s key.',
      });
    }
    const keys = await ctx.gateway.iam(ctx.authCredentials ?? self).listAccessKeys(principal.userName, { lastUsed: true });
    const now = (options.now ?? new Date()).getTime();
    // Keys listed mid-rotation can mislead (two active keys, one not yet in the file): say what will fix it.
    const pending = findJournal(await readJournals(ctx.credentialsPath), ctx.key.profiles, [ctx.key.accessKeyId]);
    const warnings = pending
      ? [
          ...ctx.warnings,
          `A rotation of profile ${pending.profile} in ${ctx.credentialsPath} did not finish (it stopped after step '${pending.phase}'). 'aws-rekey recover --profile ${pending.profile}' (or aws-rekey) finishes or undoes it: ${describeRecovery(pending).join('; ')}.`,
        ]
      : ctx.warnings;
    return {
      schemaVersion: 1,
      profile: ctx.profile,
      user: { arn: identity.arn, name: principal.userName, account: identity.account },
      keys: keys.map((key) => ({
        ...key,
        ...(key.createDate ? { ageDays: Math.floor((now - key.createDate.getTime()) / DAY_MS) } : {}),
        profiles: findProfilesWithKey(ctx.credentials, key.accessKeyId),
        current: key.accessKeyId === ctx.key.accessKeyId,
      })),
      warnings,
    };
  } finally {
    ctx.gateway.destroy();
  }
}
