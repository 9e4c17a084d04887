import { describe, expect, it } from 'vitest';
import { parseIni } from '../../src/credentials/ini.js';
import { hasKeySettings, keySettingsOf } from '../../src/core/key-settings.js';

describe('hasKeySettings', () => {
  it.each([
    ['no section', undefined, false],
    ['an empty section', {}, false],
    ['a region only', { region: 'eu-west-1' }, false],
    ['a role only', { role_arn: 'arn:aws:iam::123456789012:role/r', source_profile: 'base' }, false],
    ['a key id only', { aws_access_key_id: 'AKIAAAAAAAAAAAAAAAA1' }, true],
    ['a secret only', { aws_secret_access_key: 'secret' }, true],
    ['a session token only', { aws_session_token: 'token' }, true],
    ['the legacy security token only', { aws_security_token: 'token' }, true],
    ['an empty key id (set, if blank)', { aws_access_key_id: '' }, true],
  ])('%s: %s', (_name, values, expected) => {
    expect(hasKeySettings(values)).toBe(expected);
  });
});

describe('keySettingsOf: where botocore reads a profile\'s keys from', () => {
  const credentials = parseIni(
    ['[both]', 'aws_access_key_id = AKIACREDENTIALS00001', '[region-only]', 'region = eu-west-1', '[only-credentials]', 'aws_access_key_id = AKIACREDENTIALS00003', ''].join('\n'),
  );
  const config = parseIni(
    ['[profile both]', 'aws_access_key_id = AKIACONFIG0000000001', '[profile region-only]', 'aws_access_key_id = AKIACONFIG0000000002', '[profile only-config]', 'aws_secret_access_key = s', '[profile no-keys]', 'region = us-east-1', ''].join('\n'),
    'the config file',
  );

  it.each([
    ['keys in both files: the credentials file wins', 'both', { source: 'credentials', values: { aws_access_key_id: 'AKIACREDENTIALS00001' } }],
    ['a credentials section without keys: the config file\'s keys', 'region-only', { source: 'config', values: { aws_access_key_id: 'AKIACONFIG0000000002' } }],
    ['keys in the credentials file only', 'only-credentials', { source: 'credentials', values: { aws_access_key_id: 'AKIACREDENTIALS00003' } }],
    ['keys in the config file only', 'only-config', { source: 'config', values: { aws_secret_access_key: 's' } }],
    ['no keys anywhere, no credentials section', 'no-keys', undefined],
    ['no such profile', 'nope', undefined],
  ])('%s', (_name, profile, expected) => {
    expect(keySettingsOf(credentials, config, profile)).toEqual(expected);
  });

  it('no keys in either file: the credentials section, as it is', () => {
    const regionOnly = parseIni('[p]\nregion = eu-west-1\n');
    expect(keySettingsOf(regionOnly, parseIni('[profile p]\noutput = json\n', 'the config file'), 'p')).toEqual({ source: 'credentials', values: { region: 'eu-west-1' } });
  });

  it('no config file: the credentials section or nothing', () => {
    expect(keySettingsOf(credentials, undefined, 'region-only')).toEqual({ source: 'credentials', values: { region: 'eu-west-1' } });
    expect(keySettingsOf(credentials, undefined, 'only-config')).toBeUndefined();
  });
});
