import { getConfigProfile, type IniDocument } from './ini.js';

/**
 * A profile and the profiles its credentials come from, in turn (`source_profile`, in the config file or the
 * credentials file), with the settings of each as the SDK merges them.
 */
export function profileChain(profile: string, configDoc: IniDocument, credentialsDoc: IniDocument): Array<{ name: string; settings: Record<string, string> }> {
  const chain: Array<{ name: string; settings: Record<string, string> }> = [];
  for (let name: string | undefined = profile; name !== undefined && !chain.some((link) => link.name === name); ) {
    const settings: Record<string, string> = { ...getConfigProfile(configDoc, name), ...getConfigProfile(credentialsDoc, name, 'credentials') };
    chain.push({ name, settings });
    name = settings.source_profile?.trim() || undefined;
  }
  return chain;
}

/** The MFA device whose code assuming the profile's role takes (mfa_serial beside a role_arn), if any. */
export function roleMfaSerial(profile: string, configDoc: IniDocument, credentialsDoc: IniDocument): string | undefined {
  const link = profileChain(profile, configDoc, credentialsDoc).find(({ settings }) => settings.role_arn?.trim() && settings.mfa_serial?.trim());
  return link?.settings.mfa_serial?.trim();
}
