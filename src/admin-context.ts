import { fromIni } from '@aws-sdk/credential-providers';
import { createClientFactory, type ClientFactory, type CredentialsInput } from './aws/clients.js';
import { createAwsGateway, type AwsGateway } from './aws/gateway.js';
import { resolveConnectionSettings } from './aws/settings.js';
import { defaultProfileName } from './context.js';
import { getConfigProfile, listProfiles } from './credentials/ini.js';
import { readCredentialsFile, resolveConfigPath, resolveCredentialsPath } from './credentials/store.js';
import { ProfileError } from './errors.js';

export interface AdminContextOptions {
  /** The admin's profile: any kind (static keys, role_arn, SSO, credential_process). Default: AWS_PROFILE, else `default`. */
  profile?: string;
  env?: NodeJS.ProcessEnv;
  mfaCodeProvider?: (serial: string) => Promise<string>;
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

/** Unlike openProfileContext, the profile needs no long-lived key of its own: its credentials are only used. */
export async function openAdminContext(options: AdminContextOptions): Promise<AdminContext> {
  const env = options.env ?? process.env;
  const adminProfile = options.profile ?? defaultProfileName(env);
  const credentialsPath = resolveCredentialsPath(env);
  const configPath = resolveConfigPath(env);
  const [credentialsFile, configFile] = await Promise.all([readCredentialsFile(credentialsPath), readCredentialsFile(configPath)]);
  const profileConfig = getConfigProfile(configFile.doc, adminProfile);
  if (!profileConfig && !getConfigProfile(credentialsFile.doc, adminProfile, 'credentials')) {
    const known = [...new Set([...listProfiles(credentialsFile.doc), ...listProfiles(configFile.doc, 'config')])];
    throw new ProfileError('PROFILE_NOT_FOUND', `The admin profile '${adminProfile}' is in neither ${credentialsPath} nor ${configPath}.`, {
      hint: known.length ? `Profiles there: ${known.join(', ')}. Name the admin's with --profile (or --auth-profile).` : "Create one with 'aws configure --profile NAME'.",
    });
  }
  const settings = resolveConnectionSettings({ env, profileConfig });
  const factory = await createClientFactory(settings);
  const credentials = fromIni({
    profile: adminProfile,
    filepath: credentialsPath,
    configFilepath: configPath,
    ignoreCache: true,
    clientConfig: factory.stsClientConfig(),
    ...(options.mfaCodeProvider ? { mfaCodeProvider: options.mfaCodeProvider } : {}),
  });
  return { adminProfile, env, credentialsPath, configPath, credentials, factory, gateway: createAwsGateway(factory), warnings: [] };
}
