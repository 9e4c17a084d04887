import { describe, expect, it } from 'vitest';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { checkMfaCode } from '../../src/core/mfa-code.js';
import { parseIni } from '../../src/credentials/ini.js';
import { AwsError, RekeyError } from '../../src/errors.js';
import { profileChain, roleMfaSerial } from '../../src/credentials/profile-chain.js';
import { mfaCodeSource, refuseUnusedMfaCode, sharedCredentials } from '../../src/session/profile-credentials.js';

const SERIAL = 'arn:aws:iam::123456789012:mfa/alice';

const config = parseIni(
  [
    '[profile admin-mfa]',
    'role_arn = arn:aws:iam::111111111111:role/KeyAdmin',
    'source_profile = admin',
    `mfa_serial = ${SERIAL}`,
    '',
    '[profile admin-plain]',
    'role_arn = arn:aws:iam::111111111111:role/KeyAdmin',
    'source_profile = admin',
    '',
    '[profile hop]',
    'role_arn = arn:aws:iam::222222222222:role/Reader',
    'source_profile = admin-mfa',
    '',
    '[profile loop-a]',
    'role_arn = arn:aws:iam::1:role/A',
    'source_profile = loop-b',
    '',
    '[profile loop-b]',
    'role_arn = arn:aws:iam::1:role/B',
    'source_profile = loop-a',
    '',
    '[profile device-only]',
    `mfa_serial = ${SERIAL}`,
    '',
  ].join('\n'),
  'the config file',
);
const credentials = parseIni('[admin]\naws_access_key_id = AKIAADMIN00000000000\naws_secret_access_key = secret\n');

describe('roleMfaSerial: the device a profile\'s role is assumed with, as the AWS CLI reads mfa_serial', () => {
  it.each([
    ['a role profile with mfa_serial', 'admin-mfa', SERIAL],
    ['a role profile without', 'admin-plain', undefined],
    ['a role whose source_profile is an MFA role (the chain asks for it)', 'hop', SERIAL],
    ['a profile of static keys', 'admin', undefined],
    ['mfa_serial without role_arn (the AWS CLI uses it only to assume a role)', 'device-only', undefined],
    ['a source_profile loop ends', 'loop-a', undefined],
    ['an unknown profile', 'nope', undefined],
  ])('%s', (_name, profile, serial) => {
    expect(roleMfaSerial(profile, config, credentials)).toBe(serial);
  });

  it('profileChain follows source_profile once through each profile, with the settings of both files', () => {
    expect(profileChain('hop', config, credentials).map((link) => link.name)).toEqual(['hop', 'admin-mfa', 'admin']);
    expect(profileChain('loop-a', config, credentials).map((link) => link.name)).toEqual(['loop-a', 'loop-b']);
    expect(profileChain('hop', config, credentials)[2]?.settings.aws_access_key_id).toBe('AKIAADMIN00000000000');
  });
});

describe('mfaCodeSource: --mfa-code, else the prompt, else an error naming --mfa-code', () => {
  it('a given code is used as it is, and no one is asked', async () => {
    const asked: string[] = [];
    const source = mfaCodeSource({ mfaCode: '123456', mfaCodeProvider: async (serial) => (asked.push(serial), '654321') }, 'admin-mfa');
    await expect(source(SERIAL)).resolves.toBe('123456');
    expect(asked).toEqual([]);
  });

  it('without a code, the prompt is asked with the device, and its answer trimmed', async () => {
    const asked: string[] = [];
    const source = mfaCodeSource({ mfaCodeProvider: async (serial) => (asked.push(serial), ' 654321 ') }, 'admin-mfa');
    await expect(source(SERIAL)).resolves.toBe('654321');
    expect(asked).toEqual([SERIAL]);
  });

  it('without a code and without a prompt: MFA_CODE_NEEDED, exit 2, naming the profile, the device and --mfa-code', async () => {
    const error = await mfaCodeSource({}, 'admin-mfa')(SERIAL).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ code: 'MFA_CODE_NEEDED', exitCode: 2 });
    expect((error as RekeyError).message).toContain(`Profile 'admin-mfa' assumes its role with the MFA device ${SERIAL}`);
    expect((error as RekeyError).hint).toContain('--mfa-code CODE');
  });

  it('a typed code that is not 6 digits is refused before it is sent', async () => {
    const error = await mfaCodeSource({ mfaCodeProvider: async () => '12 34' }, 'admin-mfa')(SERIAL).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MFA_CODE_INVALID', exitCode: 2, message: "The MFA code must be 6 digits, not '12 34'." });
  });
});

describe('checkMfaCode and refuseUnusedMfaCode (--mfa-code on the command line)', () => {
  it.each(['123456', ' 000000 '])('%j is a code', (code) => {
    expect(checkMfaCode(code)).toBe(code.trim());
  });

  it.each(['12345', '1234567', 'abcdef', ''])('%j is not: a usage error', (code) => {
    expect(() => checkMfaCode(code)).toThrow(expect.objectContaining({ code: 'MFA_CODE_INVALID', exitCode: 2 }));
  });

  it('a code for credentials whose role takes none is refused, naming them', () => {
    expect(() => refuseUnusedMfaCode('123456', undefined, "the admin profile 'admin'")).toThrow(
      expect.objectContaining({ code: 'MFA_CODE_NOT_USED', exitCode: 2, message: expect.stringContaining("the admin profile 'admin' has none") }),
    );
    expect(() => refuseUnusedMfaCode('123456', SERIAL, "the admin profile 'admin-mfa'")).not.toThrow();
    expect(() => refuseUnusedMfaCode(undefined, undefined, "the admin profile 'admin'")).not.toThrow();
  });
});

describe('sharedCredentials: one resolution for every client of a run', () => {
  const role = (expiresInMs: number): AwsCredentialIdentity => ({ accessKeyId: 'ASIAROLE', secretAccessKey: 's', sessionToken: 't', expiration: new Date(Date.now() + expiresInMs) });

  it('concurrent and later calls share one AssumeRole', async () => {
    let calls = 0;
    const shared = sharedCredentials(async () => (calls++, role(3_600_000)));
    const got = await Promise.all([shared(), shared(), shared()]);
    await shared();
    expect(calls).toBe(1);
    expect(new Set(got).size).toBe(1);
  });

  it('credentials about to expire are resolved again', async () => {
    let calls = 0;
    const shared = sharedCredentials(async () => (calls++, role(calls === 1 ? 60_000 : 3_600_000)));
    await shared();
    await shared();
    expect(calls).toBe(2);
  });

  it('a failure is not kept: the next call tries again', async () => {
    let calls = 0;
    const shared = sharedCredentials(async () => {
      calls++;
      if (calls === 1) throw new Error('denied');
      return role(3_600_000);
    });
    await expect(shared()).rejects.toThrow('denied');
    await expect(shared()).resolves.toMatchObject({ accessKeyId: 'ASIAROLE' });
    expect(calls).toBe(2);
  });
});
