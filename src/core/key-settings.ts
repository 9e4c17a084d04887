import { getProfile, type IniDocument } from '../credentials/ini.js';

/** The settings that make a profile hold keys of its own. */
const KEY_SETTINGS = ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'aws_security_token'];

export function hasKeySettings(values: Record<string, string> | undefined): values is Record<string, string> {
  return values !== undefined && KEY_SETTINGS.some((key) => values[key] !== undefined);
}

/**
 * The settings a profile's keys are read from, as botocore chooses: its section of the credentials file when
 * that holds keys, else its section of the config file (`[profile NAME]`, `[default]`) when that does.
 */
export function keySettingsOf(credentials: IniDocument, config: IniDocument | undefined, name: string): { values: Record<string, string>; source: 'credentials' | 'config' } | undefined {
  const inCredentials = getProfile(credentials, name);
  if (hasKeySettings(inCredentials)) return { values: inCredentials, source: 'credentials' };
  const inConfig = config ? getProfile(config, name, 'config') : undefined;
  if (hasKeySettings(inConfig)) return { values: inConfig, source: 'config' };
  return inCredentials ? { values: inCredentials, source: 'credentials' } : undefined;
}
