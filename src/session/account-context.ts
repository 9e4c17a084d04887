import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { createClientFactory, type ClientFactory, type CredentialsInput } from '../aws/clients.js';
import { createAwsGateway, type AwsGateway } from '../aws/gateway.js';
import { resolveConnectionSettings } from '../aws/settings.js';
import { defaultProfileName, envProfileName } from './profile-context.js';
import { getConfigProfile, listProfiles } from '../credentials/ini.js';
import { rootInSharedFolderWarning } from '../credentials/own-files.js';
import { readCredentialsFile, resolveConfigPath, resolveCredentialsPath } from '../credentials/store.js';
import type { StaticCredentials } from '../core/types.js';
import { ProfileError } from '../errors.js';
import { profileChain, roleMfaSerial } from '../credentials/profile-chain.js';
import { mfaCodeSource, profileCredentials, refuseUnusedMfaCode, sharedCredentials, type MfaCodeOptions } from './profile-credentials.js';

/** `mfaCode` / `mfaCodeProvider`: the code of the MFA device when a role profile needs one (mfa_serial). */
export interface AccountContextOptions extends MfaCodeOptions {
  /** The profile whose credentials make the calls; any kind (static keys, role_arn, SSO, credential_process). */
  profile?: string;
  /** Same as `profile`, and wins over it: for symmetry with the commands that rotate a profile's key. */
  authProfile?: string;
  env?: NodeJS.ProcessEnv;
  /** Client retries when neither AWS_MAX_ATTEMPTS nor max_attempts says otherwise. */
  defaultMaxAttempts?: number;
}

/** A way to call IAM as someone, for commands that read the account and edit no profile (audit). */
export interface AccountContext {
  /** Where the credentials come from, for messages: `profile work`, `environment`, `default chain`. */
  credentialSource: string;
  credentials: CredentialsInput;
  factory: ClientFactory;
  destroy(): void;
}

export interface AdminContextOptions extends MfaCodeOptions {
  /** The admin's profile: any kind (static keys, role_arn, SSO, credential_process). Default: AWS_PROFILE, else `default`. */
  profile?: string;
  env?: NodeJS.ProcessEnv;
}

/** The admin's way to call IAM and STS, and the local files where journals and records live. */
export interface AdminContext {
  adminProfile: string;
  env: NodeJS.ProcessEnv;
  credentialsPath: string;
  configPath: string;
  credentials: CredentialsInput;
  factory: ClientFactory;
  gateway: AwsGateway;
  warnings: string[];
}

/**
 * Resolved as the AWS CLI does: a named profile (flag, AWS_PROFILE), else
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the SDK's default chain (default profile, SSO,
 * container and instance roles).
 */
export async function openAccountContext(options: AccountContextOptions = {}): Promise<AccountContext> {
  const env = options.env ?? process.env;
  const { credentialSource, credentials, factory } = await openCaller({
    profile: options.authProfile ?? options.profile ?? envProfileName(env),
    env,
    mfaCode: options.mfaCode,
    mfaCodeProvider: options.mfaCodeProvider,
    defaultMaxAttempts: options.defaultMaxAttempts,
    label: options.authProfile !== undefined ? 'auth profile' : 'profile',
    howToName: '',
  });
  return { credentialSource, credentials, factory, destroy: () => factory.destroy() };
}

/** Always a named profile: the admin's, by default the `default` one (never the environment's keys). */
export async function openAdminContext(options: AdminContextOptions): Promise<AdminContext> {
  const env = options.env ?? process.env;
  const adminProfile = options.profile ?? defaultProfileName(env);
  const { credentialsPath, configPath, credentials, factory } = await openCaller({
    profile: adminProfile,
    env,
    mfaCode: options.mfaCode,
    mfaCodeProvider: options.mfaCodeProvider,
    label: 'admin profile',
    howToName: " Name the admin's with --profile (or --auth-profile).",
  });
  const shared = await rootInSharedFolderWarning(credentialsPath);
  return { adminProfile, env, credentialsPath, configPath, credentials, factory, gateway: createAwsGateway(factory), warnings: shared ? [shared] : [] };
}

const OTHER_SOURCES = ['role_arn', 'credential_process', 'sso_session', 'sso_start_url', 'web_identity_token_file'];

/** The profile's static keys from the credentials file, unless the profile gets its credentials another way. */
function staticKeysOf(inCredentials: Record<string, string> | undefined, inConfig: Record<string, string> | undefined): StaticCredentials | undefined {
  const merged = { ...inConfig, ...inCredentials };
  if (!inCredentials?.aws_access_key_id || !inCredentials.aws_secret_access_key || OTHER_SOURCES.some((key) => merged[key] !== undefined)) return undefined;
  return {
    accessKeyId: inCredentials.aws_access_key_id,
    secretAccessKey: inCredentials.aws_secret_access_key,
    ...(inCredentials.aws_session_token ? { sessionToken: inCredentials.aws_session_token } : {}),
  };
}

interface CallerOptions extends MfaCodeOptions {
  /** Undefined: the environment's keys, else the SDK's default chain. */
  profile: string | undefined;
  env: NodeJS.ProcessEnv;
  defaultMaxAttempts?: number;
  /** How the messages name the profile (`profile`, `admin profile`). */
  label: string;
  /** Added to the hint that lists the profiles there. */
  howToName: string;
}

interface Caller {
  credentialsPath: string;
  configPath: string;
  credentialSource: string;
  credentials: CredentialsInput;
  factory: ClientFactory;
}

/**
 * Unlike openProfileContext, the profile needs no long-lived key of its own: its credentials, of any kind,
 * are simply used.
 */
async function openCaller(options: CallerOptions): Promise<Caller> {
  const { profile: name, env } = options;
  const credentialsPath = resolveCredentialsPath(env);
  const configPath = resolveConfigPath(env);
  const [credentialsFile, configFile] = await Promise.all([readCredentialsFile(credentialsPath), readCredentialsFile(configPath)]);
  const profileConfig = getConfigProfile(configFile.doc, name ?? 'default');
  if (name !== undefined && !profileConfig && !getConfigProfile(credentialsFile.doc, name, 'credentials')) {
    const known = [...new Set([...listProfiles(credentialsFile.doc), ...listProfiles(configFile.doc, 'config')])];
    throw new ProfileError('PROFILE_NOT_FOUND', `The ${options.label} '${name}' is in neither ${credentialsPath} nor ${configPath}.`, {
      hint: known.length ? `Profiles there: ${known.join(', ')}.${options.howToName}` : "Create one with 'aws configure --profile NAME'.",
    });
  }
  const envKey = env.AWS_ACCESS_KEY_ID?.trim();
  const envSecret = env.AWS_SECRET_ACCESS_KEY?.trim();
  const fromEnv = name === undefined && Boolean(envKey && envSecret);
  const mfaSerial = fromEnv ? undefined : roleMfaSerial(name ?? 'default', configFile.doc, credentialsFile.doc);
  refuseUnusedMfaCode(options.mfaCode, mfaSerial, name !== undefined ? `the ${options.label} '${name}'` : fromEnv ? 'AWS_ACCESS_KEY_ID (environment)' : 'the default profile');
  const settings = resolveConnectionSettings({ env, profileConfig });
  const maxAttemptsSet = Boolean(env.AWS_MAX_ATTEMPTS?.trim() || profileConfig?.max_attempts?.trim());
  if (!maxAttemptsSet && options.defaultMaxAttempts !== undefined) settings.maxAttempts = options.defaultMaxAttempts;
  const factory = await createClientFactory(settings);
  let credentials: CredentialsInput;
  let credentialSource: string;
  if (name !== undefined) {
    // Keys read as the AWS CLI reads them (any case, key: value), which the SDK's own reader would miss.
    const ownKeys = staticKeysOf(getConfigProfile(credentialsFile.doc, name, 'credentials'), profileConfig);
    credentials =
      ownKeys ??
      profileCredentials({ profile: name, config: profileConfig, credentialsPath, configPath, factory, label: options.label, mfaSerial, mfaCode: options.mfaCode, mfaCodeProvider: options.mfaCodeProvider });
    credentialSource = `profile ${name}`;
  } else if (fromEnv && envKey && envSecret) {
    credentials = { accessKeyId: envKey, secretAccessKey: envSecret, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
    credentialSource = 'AWS_ACCESS_KEY_ID (environment)';
  } else {
    const chain = fromNodeProviderChain({
      filepath: credentialsPath,
      configFilepath: configPath,
      ignoreCache: true,
      clientConfig: factory.stsClientConfig(),
      mfaCodeProvider: mfaCodeSource(options, 'default'),
    });
    credentials = sharedCredentials(chain);
    credentialSource = 'the default credential chain';
  }
  return { credentialsPath, configPath, credentialSource, credentials, factory };
}

/**
 * The profiles the credentials of `profile` come from: itself, then each `source_profile` in turn (in the
 * config file, or the credentials file), as the SDK follows them. A run never writes into any of them.
 */
export async function credentialChain(profile: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const [credentialsFile, configFile] = await Promise.all([readCredentialsFile(resolveCredentialsPath(env)), readCredentialsFile(resolveConfigPath(env))]);
  return profileChain(profile, configFile.doc, credentialsFile.doc).map((link) => link.name);
}
