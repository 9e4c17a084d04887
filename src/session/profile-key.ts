import { isTemporaryKeyId } from '../core/mask.js';
import { hasKeySettings } from '../core/key-settings.js';
import type { StaticCredentials } from '../core/types.js';
import { shellQuote } from '../core/shell.js';
import { targetCommand } from '../core/next-command.js';
import { ProfileError } from '../errors.js';
import { findProfilesWithKey, getProfile, listProfiles, type IniDocument, type IniFileKind } from '../credentials/ini.js';

export interface ProfileKey extends StaticCredentials {
  profile: string;
  /** Every profile of the credentials file holding the same key id (the profile itself first, when its key is there). */
  profiles: string[];
  /** Every profile of the config file holding the same key id (the profile itself first, when its key is there). */
  configProfiles: string[];
  /** The file the profile's key was read from. */
  source: IniFileKind;
}

export interface ResolveProfileKeyOptions {
  profile: string;
  credentials: IniDocument;
  credentialsPath: string;
  /** The profile's section of the config file: its keys, or where its credentials come from instead. */
  profileConfig?: Record<string, string>;
  configPath: string;
  /** The whole config file, to find every profile there that holds the same key. */
  config?: IniDocument;
  /** false when there is no credentials file at all (the error says so). */
  credentialsExist?: boolean;
  /** For the commands that the hints print (src/core/next-command.ts). */
  env?: NodeJS.ProcessEnv;
}

const SOURCE_SETTINGS: Array<[string, string]> = [
  ['sso_session', 'AWS IAM Identity Center (SSO)'],
  ['sso_start_url', 'AWS IAM Identity Center (SSO)'],
  ['role_arn', 'an assumed role (role_arn)'],
  ['credential_process', 'an external process (credential_process)'],
  ['login_session', 'a console login session'],
  ['web_identity_token_file', 'a web identity token'],
];

/**
 * The long-lived key a profile holds, or an error that says why it has none and what to do. Like botocore,
 * the credentials file's keys come first; a profile without keys there may hold them in the config file
 * (`[profile NAME]`), which the AWS CLI reads too.
 */
export function resolveProfileKey(options: ResolveProfileKeyOptions): ProfileKey {
  const { profile, credentials, credentialsPath, profileConfig, configPath } = options;
  const inCredentials = getProfile(credentials, profile);
  const source: IniFileKind = !hasKeySettings(inCredentials) && hasKeySettings(profileConfig) ? 'config' : 'credentials';
  const values = source === 'config' ? profileConfig : inCredentials;
  const path = source === 'config' ? configPath : credentialsPath;
  const section = source === 'config' && profile !== 'default' ? `profile ${profile}` : profile;
  if (!values) {
    if (profileConfig) throw noStaticKeys(profile, profileConfig, configPath, options.env ?? {});
    if (options.credentialsExist === false) {
      throw new ProfileError('PROFILE_NOT_FOUND', `Profile '${profile}' cannot be rotated: there is no credentials file (${credentialsPath}).`, {
        hint: `Create it with 'aws configure --profile ${profile}', or point AWS_SHARED_CREDENTIALS_FILE at yours.`,
      });
    }
    const known = listProfiles(credentials);
    throw new ProfileError('PROFILE_NOT_FOUND', `Profile '${profile}' is not in ${credentialsPath}.`, {
      hint: known.length
        ? `Profiles there: ${known.join(', ')}. Pick one with --profile NAME (or AWS_PROFILE).`
        : `The file has no profiles. Create one with 'aws configure --profile ${profile}'.`,
    });
  }
  const accessKeyId = values.aws_access_key_id?.trim();
  const secretAccessKey = values.aws_secret_access_key?.trim();
  if (values.aws_session_token || values.aws_security_token || (accessKeyId && isTemporaryKeyId(accessKeyId))) {
    throw new ProfileError(
      'TEMPORARY_CREDENTIALS',
      `Profile '${profile}' holds temporary credentials (${values.aws_session_token ? 'it has a session token' : 'an ASIA… key'}); they expire on their own and cannot be rotated.`,
      {
        hint: 'Rotate the long-lived key (AKIA…) they were made from: name its profile with --profile. To make IAM calls with a session, use --auth-profile.',
      },
    );
  }
  if (!accessKeyId || !secretAccessKey) {
    if (!accessKeyId && !secretAccessKey && profileConfig) throw noStaticKeys(profile, profileConfig, configPath, options.env ?? {});
    const missing = !accessKeyId ? 'aws_access_key_id' : 'aws_secret_access_key';
    throw new ProfileError('PROFILE_INCOMPLETE', `Profile '${profile}' in ${path} has no ${missing}.`, {
      hint: `Add both aws_access_key_id and aws_secret_access_key to [${section}] (aws configure --profile ${profile}).`,
    });
  }
  const first = (holders: string[], kind: IniFileKind) => (source === kind ? [profile, ...holders.filter((name) => name !== profile)] : holders);
  return {
    profile,
    profiles: first(findProfilesWithKey(credentials, accessKeyId), 'credentials'),
    configProfiles: first(options.config ? findProfilesWithKey(options.config, accessKeyId, 'config') : [], 'config'),
    source,
    accessKeyId,
    secretAccessKey,
  };
}


/** What to do instead depends on where the credentials come from. */
function noStaticKeysHint(profile: string, config: Record<string, string>, env: NodeJS.ProcessEnv): string {
  const quoted = shellQuote(profile);
  const authOnly = `To rotate another profile's key with these credentials: aws-rekey --profile OTHER --auth-profile ${quoted}.`;
  if (config.role_arn !== undefined && config.source_profile !== undefined) {
    return `The role is assumed with the key of profile ${config.source_profile}: rotate that one (\`${targetCommand('rotate', { profile: config.source_profile }, env)}\`). ${authOnly}`;
  }
  if (config.role_arn !== undefined || config.web_identity_token_file !== undefined) return `A role's credentials are temporary and expire on their own. ${authOnly}`;
  if (config.credential_process !== undefined) {
    return `The program in credential_process (${config.credential_process.split(/\s/)[0]}) supplies them: rotate the key it holds with that program's own tools. ${authOnly}`;
  }
  if (config.sso_session !== undefined || config.sso_start_url !== undefined || config.login_session !== undefined) {
    return `Sign-in sessions are temporary and renewed with 'aws sso login' (or 'aws login'). ${authOnly}`;
  }
  return `Give it a key with 'aws configure --profile ${quoted}', or pick another profile.`;
}

function noStaticKeys(profile: string, profileConfig: Record<string, string>, configPath: string, env: NodeJS.ProcessEnv): ProfileError {
  const source = SOURCE_SETTINGS.find(([key]) => profileConfig[key] !== undefined)?.[1];
  return new ProfileError(
    'NO_STATIC_KEYS',
    `Profile '${profile}' has no long-lived access key to rotate${source ? `: its credentials come from ${source}` : ''} (${configPath}).`,
    { hint: noStaticKeysHint(profile, profileConfig, env) },
  );
}
