import type { CredentialsInput } from '../aws/clients.js';
import { createAwsGateway } from '../aws/gateway.js';
import { getUserArn } from '../aws/users.js';
import { parsePrincipalArn } from '../core/arn.js';
import { targetCommand } from '../core/next-command.js';
import { shellQuote } from '../core/shell.js';
import type { AccessKeyInfo } from '../core/types.js';
import { findProfilesWithKey, getConfigProfile } from '../credentials/ini.js';
import { findJournal, readJournals } from '../credentials/journal.js';
import { readCredentialsFile, resolveConfigPath, resolveCredentialsPath } from '../credentials/store.js';
import { ProfileError } from '../errors.js';
import { resumeProfileCommand } from '../rotation/journal-records.js';
import { openAccountContext, type AccountContext } from '../session/account-context.js';
import { envProfileName } from '../session/profile-context.js';
import { describeRecovery } from './recover.js';

export interface ListKeysOptions {
  /** Whose keys (the IAM user these credentials belong to) and, without --auth-profile, who asks. Any kind of profile. */
  profile?: string;
  /** Make the IAM calls with this profile's credentials. */
  authProfile?: string;
  /** List this IAM user's keys instead of the profile's own user's. */
  userName?: string;
  /** The current code of the MFA device a role profile is assumed with (mfa_serial): for the profile that signs. */
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
  /** True for the key that the credentials of the profile asked about are (never, for a role or SSO session). */
  current: boolean;
}

export interface ListKeysResult {
  schemaVersion: 1;
  /** The profile asked about; absent when the credentials came from the environment or the default chain. */
  profile?: string;
  /** Where the credentials asked about came from: `profile work`, `AWS_ACCESS_KEY_ID (environment)`, … */
  source: string;
  user: { arn: string; name: string; account: string };
  keys: ListedKey[];
  warnings: string[];
}

const DAY_MS = 86_400_000;

/**
 * The access keys of an IAM user, with last use and which local profiles hold them. Only reads: the
 * credentials may be of any kind the AWS CLI takes (a profile's keys in either file, the environment,
 * role_arn, credential_process, SSO); the user is the one they belong to, or `--user NAME`.
 */
export async function listKeys(options: ListKeysOptions = {}): Promise<ListKeysResult> {
  const env = options.env ?? process.env;
  const mfa = { mfaCodeProvider: options.mfaCodeProvider };
  // An MFA code is good for one role assumption: it goes to the profile whose credentials sign.
  const asked = await openAccountContext({ profile: options.profile, env, ...mfa, ...(options.authProfile === undefined ? { mfaCode: options.mfaCode } : {}) });
  let signer: AccountContext | undefined;
  try {
    signer = options.authProfile !== undefined ? await openAccountContext({ profile: options.authProfile, env, ...mfa, mfaCode: options.mfaCode }) : undefined;
    // Shared by every client (openAccountContext): a role is assumed once, however many calls use it.
    const credentials = asked.credentials;
    const gateway = createAwsGateway(asked.factory);
    const signing = signer ? signer.credentials : credentials;
    const iam = signer ? createAwsGateway(signer.factory).iam(signing) : gateway.iam(signing);
    const profile = options.profile ?? envProfileName(env);
    const user =
      options.userName !== undefined
        ? await namedUser(signer ?? asked, signing, options.userName)
        : await ownUser(await gateway.getCallerIdentity(credentials), profile, asked.credentialSource, env);
    const keys = await iam.listAccessKeys(user.name, { lastUsed: true });
    const ownKeyId = options.userName === undefined ? (await resolved(credentials)).accessKeyId : undefined;
    const credentialsPath = resolveCredentialsPath(env);
    const file = await readCredentialsFile(credentialsPath);
    const now = (options.now ?? new Date()).getTime();
    const listed = keys.map((key) => ({
      ...key,
      ...(key.createDate ? { ageDays: Math.floor((now - key.createDate.getTime()) / DAY_MS) } : {}),
      profiles: findProfilesWithKey(file.doc, key.accessKeyId),
      current: key.accessKeyId === ownKeyId,
    }));
    // Keys listed mid-rotation can mislead (two active keys, one not yet in the file): say what will fix it.
    const holders = [...new Set(listed.flatMap((key) => key.profiles))];
    const pending = findJournal(await readJournals(credentialsPath), holders, keys.map((key) => key.accessKeyId));
    const warnings = pending
      ? [
          `A rotation of profile ${pending.profile} in ${credentialsPath} did not finish (it stopped after step '${pending.phase}'). \`${resumeProfileCommand(pending, env)}\` finishes or undoes it: ${describeRecovery(pending).join('; ')}.`,
        ]
      : [];
    return { schemaVersion: 1, ...(profile !== undefined ? { profile } : {}), source: asked.credentialSource, user, keys: listed, warnings };
  } finally {
    asked.destroy();
    signer?.destroy();
  }
}

async function resolved(credentials: CredentialsInput): Promise<{ accessKeyId: string }> {
  return typeof credentials === 'function' ? credentials() : credentials;
}

async function namedUser(ctx: AccountContext, credentials: CredentialsInput, userName: string): Promise<ListKeysResult['user']> {
  const arn = await getUserArn(ctx.factory, credentials, userName);
  return { arn, name: userName, account: parsePrincipalArn(arn)?.account ?? '' };
}

/** The IAM user the credentials belong to; a role or SSO session has no keys of its own: say whose to list instead. */
async function ownUser(identity: { arn: string; account: string }, profile: string | undefined, source: string, env: NodeJS.ProcessEnv): Promise<ListKeysResult['user']> {
  const principal = parsePrincipalArn(identity.arn);
  if (principal?.kind === 'user' && principal.userName) return { arn: identity.arn, name: principal.userName, account: identity.account };
  if (principal?.kind === 'root') {
    throw new ProfileError('NOT_AN_IAM_USER', `The credentials of ${source} are the root user's of account ${identity.account}; root keys are not listed here.`, {
      hint: 'Root keys should be deleted: see the IAM console, Security credentials.',
    });
  }
  const hints = [`An IAM user's keys are listed by name: aws-rekey keys --user NAME${profile !== undefined ? ` --profile ${shellQuote(profile)}` : ''}.`];
  if (profile !== undefined) {
    const [config, credentials] = await Promise.all([readCredentialsFile(resolveConfigPath(env)), readCredentialsFile(resolveCredentialsPath(env))]);
    const sourceProfile = (getConfigProfile(config.doc, profile)?.source_profile ?? getConfigProfile(credentials.doc, profile, 'credentials')?.source_profile)?.trim();
    if (sourceProfile) hints.push(`The role is assumed with the key of profile ${sourceProfile}; its keys: \`${targetCommand('keys', { profile: sourceProfile }, env)}\`.`);
  }
  throw new ProfileError('NOT_AN_IAM_USER', `The credentials of ${source} are ${identity.arn}, a session that has no access keys of its own.`, { hint: hints.join(' ') });
}
