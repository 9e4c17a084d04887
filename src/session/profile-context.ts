import { fromIni } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { createClientFactory, type CredentialsInput } from '../aws/clients.js';
import { createAwsGateway, type AwsGateway } from '../aws/gateway.js';
import { resolveConnectionSettings, type ConnectionSettings } from '../aws/settings.js';
import { getConfigProfile, type IniDocument } from '../credentials/ini.js';
import { rootInSharedFolderWarning } from '../credentials/own-files.js';
import { readCredentialsFile, resolveConfigPath, resolveCredentialsPath } from '../credentials/store.js';
import { mapAwsError } from '../aws/errors.js';
import { AwsError, ExitCode, ProfileError, RekeyError } from '../errors.js';
import { resolveProfileKey, type ProfileKey } from './profile-key.js';

export interface ContextOptions {
  profile?: string;
  authProfile?: string;
  env?: NodeJS.ProcessEnv;
  /** Asked for the code of an MFA device when an --auth-profile role needs one (mfa_serial). */
  mfaCodeProvider?: (serial: string) => Promise<string>;
}

/** Everything a command needs to act on one profile: its key, where it lives, and a way to reach AWS. */
export interface ProfileContext {
  profile: string;
  env: NodeJS.ProcessEnv;
  credentialsPath: string;
  configPath: string;
  credentials: IniDocument;
  credentialsText: string;
  key: ProfileKey;
  settings: ConnectionSettings;
  gateway: AwsGateway;
  /** Credentials for IAM calls when they differ from the profile's own key (--auth-profile). */
  authCredentials?: CredentialsInput;
  /** Things the user should know (e.g. AWS_ACCESS_KEY_ID set in the environment). */
  warnings: string[];
}

/**
 * One set of credentials for every client made with them. Each SDK client caches credentials on its own, so
 * without this a role would be assumed once per client, and an MFA code (valid once) asked for each time.
 */
export function shareCredentials(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let current: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    const held = current && (await current.catch(() => undefined));
    if (held && !expiresWithin(held, 60_000)) return held;
    const next = provider();
    current = next;
    next.catch(() => {
      if (current === next) current = undefined;
    });
    return next;
  };
}

/**
 * A failure to get the --auth-profile's credentials, told as such: otherwise it surfaces as a failure of the
 * IAM call that needed them ("iam:ListAccessKeys failed: CredentialsProviderError …"), without a hint.
 */
function explainAuthFailures(profile: string, config: Record<string, string> | undefined, provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  return async () => {
    try {
      return await provider();
    } catch (error) {
      if (error instanceof RekeyError) throw error;
      if (error instanceof Error && error.name === 'CredentialsProviderError') {
        const needsMfa = /multi-factor|mfa/i.test(error.message);
        throw new AwsError('AUTH_PROFILE_UNUSABLE', 'credentials', error.name, `Cannot get credentials from the auth profile '${profile}': ${error.message}`, {
          hint: needsMfa
            ? `Its role needs an MFA code (mfa_serial): run aws-rekey in a terminal to be asked for it.`
            : `Check it with 'aws sts get-caller-identity --profile ${profile}' (for SSO, run 'aws sso login --profile ${profile}' first).`,
          cause: error,
          exitCode: ExitCode.usage,
        });
      }
      const action = config?.role_arn ? 'sts:AssumeRole' : config?.sso_session || config?.sso_start_url ? 'sso:GetRoleCredentials' : undefined;
      throw action ? mapAwsError(error, action, `auth profile ${profile}`) : error;
    }
  };
}

function expiresWithin(credentials: AwsCredentialIdentity, ms: number): boolean {
  return credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < ms;
}

export function defaultProfileName(env: NodeJS.ProcessEnv): string {
  return envProfileName(env) ?? 'default';
}

/** The profile AWS_PROFILE (or AWS_DEFAULT_PROFILE) names, if any. */
export function envProfileName(env: NodeJS.ProcessEnv): string | undefined {
  return env.AWS_PROFILE?.trim() || env.AWS_DEFAULT_PROFILE?.trim() || undefined;
}

export async function openProfileContext(options: ContextOptions): Promise<ProfileContext> {
  const env = options.env ?? process.env;
  const profile = options.profile ?? defaultProfileName(env);
  const credentialsPath = resolveCredentialsPath(env);
  const configPath = resolveConfigPath(env);
  const [credentialsFile, configFile] = await Promise.all([
    readCredentialsFile(credentialsPath),
    readCredentialsFile(configPath),
  ]);
  const profileConfig = getConfigProfile(configFile.doc, profile);
  const key = resolveProfileKey({
    profile,
    credentials: credentialsFile.doc,
    credentialsPath,
    profileConfig,
    configPath,
    credentialsExist: credentialsFile.exists,
  });
  let authConfig: Record<string, string> | undefined;
  if (options.authProfile !== undefined) {
    authConfig = getConfigProfile(configFile.doc, options.authProfile);
    const inCredentials = credentialsFile.doc && getConfigProfile(credentialsFile.doc, options.authProfile, 'credentials');
    if (!authConfig && !inCredentials) {
      throw new ProfileError('AUTH_PROFILE_NOT_FOUND', `The auth profile '${options.authProfile}' is in neither ${credentialsPath} nor ${configPath}.`, {
        hint: 'Name a profile that exists (aws configure list-profiles lists them).',
      });
    }
  }
  // Region, endpoint and CA bundle come from the profile whose credentials make the calls.
  const settings = resolveConnectionSettings({ env, profileConfig: authConfig ?? profileConfig });
  const factory = await createClientFactory(settings);
  const gateway = createAwsGateway(factory);
  const authCredentials =
    options.authProfile === undefined
      ? undefined
      : shareCredentials(
          explainAuthFailures(
            options.authProfile,
            authConfig,
            fromIni({
              profile: options.authProfile,
              filepath: credentialsPath,
              configFilepath: configPath,
              ignoreCache: true,
              ...(options.mfaCodeProvider ? { mfaCodeProvider: options.mfaCodeProvider } : {}),
              clientConfig: factory.stsClientConfig(),
            }),
          ),
        );
  const warnings: string[] = [];
  if (env.AWS_ACCESS_KEY_ID) {
    warnings.push(
      'AWS_ACCESS_KEY_ID is set in the environment: other programs use it instead of any profile, and it still holds whatever key it held. Update or unset it after the rotation.',
    );
  }
  const shared = await rootInSharedFolderWarning(credentialsPath);
  if (shared) warnings.push(shared);
  return {
    profile,
    env,
    credentialsPath,
    configPath,
    credentials: credentialsFile.doc,
    credentialsText: credentialsFile.text,
    key,
    settings,
    gateway,
    authCredentials,
    warnings,
  };
}
