import { createClientFactory, type CredentialsInput } from '../aws/clients.js';
import { createAwsGateway, type AwsGateway } from '../aws/gateway.js';
import { createMfaApi, type MfaApi } from '../aws/mfa.js';
import { resolveConnectionSettings, type ConnectionSettings } from '../aws/settings.js';
import { getConfigProfile, type IniDocument } from '../credentials/ini.js';
import { rootInSharedFolderWarning } from '../credentials/own-files.js';
import { readCredentialsFile, resolveConfigPath, resolveCredentialsPath } from '../credentials/store.js';
import { ProfileError } from '../errors.js';
import { roleMfaSerial } from '../credentials/profile-chain.js';
import { profileCredentials, refuseUnusedMfaCode, type MfaCodeOptions } from './profile-credentials.js';
import { resolveProfileKey, type ProfileKey } from './profile-key.js';

/** `mfaCode` / `mfaCodeProvider`: the code of the MFA device when an --auth-profile role needs one (mfa_serial). */
export interface ContextOptions extends MfaCodeOptions {
  profile?: string;
  authProfile?: string;
  env?: NodeJS.ProcessEnv;
  /** An `mfaCode` that no --auth-profile role needs opens an MFA session (rotate --mfa) instead of being refused. */
  mfaCodeOpensSession?: boolean;
  /** The --auth-profile's credentials, already opened by the caller for several rotations (rotate --all). */
  authCredentials?: CredentialsInput;
}

/** Everything a command needs to act on one profile: its key, where it lives, and a way to reach AWS. */
export interface ProfileContext {
  profile: string;
  env: NodeJS.ProcessEnv;
  credentialsPath: string;
  configPath: string;
  credentials: IniDocument;
  credentialsText: string;
  /** The config file as read (empty when there is none): profiles there may hold the key too. */
  config: IniDocument;
  key: ProfileKey;
  settings: ConnectionSettings;
  gateway: AwsGateway;
  /** iam:ListMFADevices, for --mfa without --mfa-serial. */
  mfa: MfaApi;
  /** Credentials for IAM calls when they differ from the profile's own key (--auth-profile). */
  authCredentials?: CredentialsInput;
  /** The MFA device the --auth-profile's role is assumed with (mfa_serial), if any. */
  authMfaSerial?: string;
  /** Things the user should know (e.g. AWS_ACCESS_KEY_ID set in the environment). */
  warnings: string[];
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
    config: configFile.doc,
    credentialsExist: credentialsFile.exists,
    env,
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
  const authMfaSerial = options.authProfile === undefined ? undefined : roleMfaSerial(options.authProfile, configFile.doc, credentialsFile.doc);
  if (!options.mfaCodeOpensSession) {
    refuseUnusedMfaCode(options.mfaCode, authMfaSerial, options.authProfile === undefined ? `profile '${profile}' (without --auth-profile)` : `the auth profile '${options.authProfile}'`);
  }
  // Region, endpoint and CA bundle come from the profile whose credentials make the calls.
  const settings = resolveConnectionSettings({ env, profileConfig: authConfig ?? profileConfig });
  const factory = await createClientFactory(settings);
  const gateway = createAwsGateway(factory);
  const authCredentials =
    options.authProfile === undefined
      ? undefined
      : (options.authCredentials ??
        profileCredentials({
          profile: options.authProfile,
          config: authConfig,
          credentialsPath,
          configPath,
          factory,
          label: 'auth profile',
          mfaSerial: authMfaSerial,
          mfaCode: options.mfaCode,
          mfaCodeProvider: options.mfaCodeProvider,
        }));
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
    config: configFile.doc,
    key,
    settings,
    gateway,
    mfa: createMfaApi(factory),
    authCredentials,
    ...(authMfaSerial ? { authMfaSerial } : {}),
    warnings,
  };
}
