import { describe, expect, it } from 'vitest';
import { resolveRotateMode, type RotateModeFlags } from '../../src/core/rotate-mode.js';

const flags = (over: Partial<RotateModeFlags>): RotateModeFlags => ({ profiles: [], ...over });

describe('resolveRotateMode', () => {
  type Case = { name: string; flags: Partial<RotateModeFlags> } & ({ mode: Record<string, unknown> } | { error: RegExp });
  const cases: Case[] = [
    { name: 'nothing: the default profile', flags: {}, mode: { kind: 'profile' } },
    { name: 'one --profile', flags: { profiles: ['work'] }, mode: { kind: 'profile', profile: 'work' } },
    { name: 'one --profile, staged', flags: { profiles: ['work'], stage: 'retire' }, mode: { kind: 'profile', profile: 'work', stage: 'retire' } },
    { name: 'two --profile: many', flags: { profiles: ['a', 'b'] }, mode: { kind: 'many', profiles: ['a', 'b'] } },
    { name: 'the same --profile twice: deduplicated', flags: { profiles: ['a', 'b', 'a'] }, mode: { kind: 'many', profiles: ['a', 'b'] } },
    { name: '--all', flags: { all: true }, mode: { kind: 'many', profiles: 'all' } },
    { name: '--all with --profile', flags: { all: true, profiles: ['a'] }, error: /either --all or --profile/ },
    { name: 'many with --stage', flags: { profiles: ['a', 'b'], stage: 'create' }, error: /one profile or one user/ },
    { name: 'many with --delete-key', flags: { all: true, deleteKey: 'AKIAXXXXXXXXXXXXXXXX' }, error: /--delete-key/ },
    { name: 'many with --mfa', flags: { all: true, mfa: true }, error: /--mfa/ },
    { name: '--user with --out', flags: { user: 'bob', out: 'bob.json' }, mode: { kind: 'user', userName: 'bob', destination: { kind: 'file', format: 'json' } } },
    { name: '--user: --profile names the admin', flags: { user: 'bob', profiles: ['admin'], printSecret: true }, mode: { kind: 'user', adminProfile: 'admin' } },
    { name: '--user: --auth-profile names the admin', flags: { user: 'bob', authProfile: 'admin', printSecret: true }, mode: { kind: 'user', adminProfile: 'admin' } },
    { name: '--user with both --profile and --auth-profile', flags: { user: 'bob', profiles: ['a'], authProfile: 'b', printSecret: true }, error: /give one of them/ },
    { name: '--user without a destination', flags: { user: 'bob' }, error: /where the new key goes/ },
    { name: '--user with --key', flags: { user: 'bob', key: 'AKIAAAAAAAAAAAAAAAA1', printSecret: true }, mode: { kind: 'user', keyId: 'AKIAAAAAAAAAAAAAAAA1' } },
    { name: '--user with a malformed --key', flags: { user: 'bob', key: 'nope', printSecret: true }, error: /not an access key id/ },
    { name: '--user with an ARN', flags: { user: 'arn:aws:iam::1:user/bob', printSecret: true }, error: /not an IAM user name/ },
    { name: '--user with --all', flags: { user: 'bob', all: true, printSecret: true }, error: /does not combine/ },
    { name: '--user with --mfa', flags: { user: 'bob', mfa: true, printSecret: true }, error: /--mfa and --mfa-serial are not supported with --user/ },
    { name: "--user with --mfa-code: the code of the admin profile's role", flags: { user: 'bob', mfaCode: '123456', printSecret: true }, mode: { kind: 'user', userName: 'bob' } },
    { name: '--user --stage retire with --mfa-code', flags: { user: 'bob', stage: 'retire', mfaCode: '123456' }, mode: { kind: 'user', stage: 'retire' } },
    { name: '--stage retire with --mfa-code: the code of the --auth-profile role', flags: { stage: 'retire', authProfile: 'role', mfaCode: '123456' }, mode: { kind: 'profile', stage: 'retire' } },
    { name: '--stage retire with --mfa (a session)', flags: { stage: 'retire', mfa: true }, error: /--mfa and --mfa-serial are not supported with --stage retire/ },
    { name: 'many with --mfa-code and no --auth-profile', flags: { profiles: ['a', 'b'], mfaCode: '123456' }, error: /there is no --auth-profile/ },
    { name: "many with --mfa-code: the code of the --auth-profile's role", flags: { all: true, authProfile: 'role', mfaCode: '123456' }, mode: { kind: 'many', profiles: 'all' } },
    { name: '--user --stage create needs a destination', flags: { user: 'bob', stage: 'create' }, error: /where the new key goes/ },
    { name: '--user --stage retire needs none', flags: { user: 'bob', stage: 'retire' }, mode: { kind: 'user', stage: 'retire' } },
    { name: '--user --stage retire refuses a destination', flags: { user: 'bob', stage: 'retire', out: 'x' }, error: /recorded rotation/ },
    { name: '--out without --user', flags: { out: 'x' }, error: /--out goes with --user/ },
    { name: '--print-secret without --user', flags: { printSecret: true }, error: /--print-secret goes with --user/ },
    { name: '--to-secret and --exec without --user', flags: { toSecret: 'ci/key', exec: 'true' }, error: /--to-secret, --exec go with --user/ },
    { name: '--user with --to-parameter and --kms-key-id', flags: { user: 'bob', toParameter: '/ci/key', kmsKeyId: 'alias/ci' }, mode: { kind: 'user', destination: { kind: 'parameter', name: '/ci/key', kmsKeyId: 'alias/ci' } } },
    { name: '--kms-key-id without --to-parameter', flags: { user: 'bob', toSecret: 'ci/key', kmsKeyId: 'alias/ci' }, error: /--kms-key-id goes with --to-parameter/ },
    { name: '--exec-timeout without --exec', flags: { user: 'bob', printSecret: true, execTimeout: 5 }, error: /--exec-timeout goes with --exec/ },
    { name: '--user with --exec and --exec-timeout', flags: { user: 'bob', exec: './store.sh', execTimeout: 2.5 }, mode: { kind: 'user', destination: { kind: 'exec', command: './store.sh', timeoutMs: 2500 } } },
    { name: '--user --stage retire refuses --to-env', flags: { user: 'bob', stage: 'retire', toEnv: '.env' }, error: /--to-env does not apply/ },
    { name: '--force with --to-env', flags: { user: 'bob', toEnv: '.env', force: true }, mode: { kind: 'user', destination: { kind: 'env', path: '.env' } } },
    { name: '--key without --user', flags: { key: 'AKIAAAAAAAAAAAAAAAA1' }, error: /--key goes with --user/ },
    { name: '--stage create with -d', flags: { stage: 'create', deleteOld: true }, error: /keeps the old key active/ },
    { name: '--if-older-than with --stage create', flags: { stage: 'create', ifOlderThan: 90 }, mode: { kind: 'profile', stage: 'create' } },
    { name: '--if-older-than with --stage retire', flags: { stage: 'retire', ifOlderThan: 90 }, error: /--if-older-than decides whether a new key is created/ },
    { name: '--if-older-than with --user --stage delete', flags: { user: 'bob', stage: 'delete', ifOlderThan: 90 }, error: /--stage delete finishes a rotation/ },
    { name: '--stage delete with -d', flags: { stage: 'delete', deleteOld: true }, error: /does not take/ },
    { name: '--force alone', flags: { force: true }, error: /--force applies only/ },
    { name: '--force with --stage retire', flags: { force: true, stage: 'retire' }, mode: { kind: 'profile', stage: 'retire' } },
    { name: '--force with --out', flags: { force: true, user: 'bob', out: 'x' }, mode: { kind: 'user' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if ('error' in c) {
        expect(() => resolveRotateMode(flags(c.flags))).toThrowError(c.error);
        return;
      }
      expect(resolveRotateMode(flags(c.flags))).toMatchObject(c.mode);
    });
  }

  // Each refusal names the problem and the way out; the whole text is what the user reads.
  it.each([
    ['--kms-key-id alone', { kmsKeyId: 'alias/ci' }, '--kms-key-id goes with --to-parameter. | It names the KMS key that encrypts the SecureString parameter.'],
    ['--exec-timeout alone', { execTimeout: 5 }, '--exec-timeout goes with --exec. | undefined'],
    ['--stage retire with --delete-key', { stage: 'retire', deleteKey: 'AKIAAAAAAAAAAAAAAAA1' }, '--stage retire does not take -d/--delete or --delete-key. | --stage retire deactivates the old key; --stage delete deletes it once it is inactive.'],
    ['--stage retire with --if-older-than', { stage: 'retire', ifOlderThan: 90 }, '--if-older-than decides whether a new key is created; --stage retire finishes a rotation already under way. | Use it with a plain rotation or with --stage create.'],
    ['--stage create with -d', { stage: 'create', deleteOld: true }, '--stage create keeps the old key active, so -d/--delete does not apply. | Delete it later with --stage retire, then --stage delete.'],
    ['--user with a path', { user: 'team/bob', printSecret: true }, "'team/bob' is not an IAM user name. | Give the name only (letters, digits and +=,.@_-), not the ARN or its path."],
    ['--user with two --profile', { user: 'bob', profiles: ['a', 'b'], printSecret: true }, "--user rotates one user's key; it does not combine with --all or several --profile. | undefined"],
    ['--user with --mfa', { user: 'bob', mfa: true, printSecret: true }, '--mfa and --mfa-serial are not supported with --user. | Use an admin profile whose config has role_arn and mfa_serial: give its code with --mfa-code CODE, or type it when asked.'],
    ['--user --stage retire with --key', { user: 'bob', stage: 'retire', key: 'AKIAAAAAAAAAAAAAAAA1' }, "--stage retire works on the recorded rotation: --key does not apply. | See the recorded rotations with 'aws-rekey status'."],
    ['--user --stage delete with --out and --key', { user: 'bob', stage: 'delete', out: 'x', key: 'AKIAAAAAAAAAAAAAAAA1' }, "--stage delete works on the recorded rotation: --out, --key do not apply. | See the recorded rotations with 'aws-rekey status'."],
    ['--user --stage retire with --out and --to-env', { user: 'bob', stage: 'retire', out: 'x', toEnv: '.env' }, "--stage retire works on the recorded rotation: --out, --to-env do not apply. | See the recorded rotations with 'aws-rekey status'."],
    ['--user with a lower-case --key', { user: 'bob', key: 'akiaaaaaaaaaaaaaaaa1', printSecret: true }, "--key 'akiaaaaaaaaaaaaaaaa1' is not an access key id (AKIA…). | undefined"],
    ['--user with a --key and more', { user: 'bob', key: 'AKIAAAAAAAAAAAAAAAA1,AKIABBBBBBBBBBBBBBB2', printSecret: true }, "--key 'AKIAAAAAAAAAAAAAAAA1,AKIABBBBBBBBBBBBBBB2' is not an access key id (AKIA…). | undefined"],
    ['--user with a prefixed --key', { user: 'bob', key: 'key=AKIAAAAAAAAAAAAAAAA1', printSecret: true }, "--key 'key=AKIAAAAAAAAAAAAAAAA1' is not an access key id (AKIA…). | undefined"],
    ['--out without --user', { out: 'x' }, "--out goes with --user NAME: the new key of another IAM user is delivered there. | A profile's own key is written back to the profiles that held it."],
    ['--out and --exec without --user', { out: 'x', exec: 'true' }, "--out, --exec go with --user NAME: the new key of another IAM user is delivered there. | A profile's own key is written back to the profiles that held it."],
    ['--key without --user', { key: 'AKIAAAAAAAAAAAAAAAA1' }, "--key goes with --user NAME: a profile's own key is the one it holds. | undefined"],
    ['--all with --profile', { all: true, profiles: ['a'] }, 'Give either --all or --profile, not both. | undefined'],
    ['many with --stage', { profiles: ['a', 'b'], stage: 'retire' }, '--stage works on one profile or one user at a time. | Run it once per profile.'],
    ['many with --delete-key', { all: true, deleteKey: 'AKIAAAAAAAAAAAAAAAA1' }, '--delete-key names a key of one user; it does not combine with --all or several --profile. | Rotate that profile on its own.'],
    ['many with --mfa', { profiles: ['a', 'b'], mfa: true }, '--mfa and --mfa-serial open one MFA session of one key; they do not combine with --all or several --profile. | Rotate those profiles one at a time, or use an --auth-profile (a role with mfa_serial takes --mfa-code).'],
    ['many with --mfa-code', { all: true, mfaCode: '123456' }, "--mfa-code with --all or several --profile is the code of the --auth-profile's role (mfa_serial), and there is no --auth-profile. | Add --auth-profile NAME (a role profile with mfa_serial), or rotate the profiles one at a time with --mfa."],
    ['--stage delete with --mfa', { stage: 'delete', mfa: true }, '--mfa and --mfa-serial are not supported with --stage delete. | Use an --auth-profile whose config has role_arn and mfa_serial; give its code with --mfa-code CODE, or type it when asked.'],
    ['--force alone', { force: true }, '--force applies only to --out, --to-profile and --to-env (overwrite) and to --stage retire (old key still in use). | undefined'],
  ] as Array<[string, Partial<RotateModeFlags>, string]>)('refused, in words: %s', (_name, given, text) => {
    let said = '';
    try {
      resolveRotateMode(flags(given));
    } catch (error) {
      said = `${(error as Error).message} | ${(error as { hint?: string }).hint}`;
    }
    expect(said).toBe(text);
  });

  it.each([
    ['-d on a plain rotation', { deleteOld: true }, { kind: 'profile' }],
    ['--delete-key on a plain rotation', { deleteKey: 'AKIAAAAAAAAAAAAAAAA1' }, { kind: 'profile' }],
    ['--user with spaces around the name and the key', { user: ' bob ', key: ' AKIAAAAAAAAAAAAAAAA1 ', printSecret: true }, { kind: 'user', userName: 'bob', keyId: 'AKIAAAAAAAAAAAAAAAA1', destination: { kind: 'stdout' } }],
    ['--user --stage create keeps the stage', { user: 'bob', stage: 'create', printSecret: true }, { kind: 'user', userName: 'bob', stage: 'create', destination: { kind: 'stdout' } }],
    ['--user --stage retire with the admin profile', { user: 'bob', stage: 'retire', profiles: ['admin'] }, { kind: 'user', userName: 'bob', adminProfile: 'admin', stage: 'retire' }],
    ['--user --stage delete, no admin profile', { user: 'bob', stage: 'delete' }, { kind: 'user', userName: 'bob', stage: 'delete' }],
    ['--user without --stage or --key: neither key is set', { user: 'bob', printSecret: true }, { kind: 'user', userName: 'bob', destination: { kind: 'stdout' } }],
    ['one --profile, not staged', { profiles: ['work'] }, { kind: 'profile', profile: 'work' }],
  ] as Array<[string, Partial<RotateModeFlags>, Record<string, unknown>]>)('the whole mode: %s', (_name, given, mode) => {
    expect(resolveRotateMode(flags(given))).toEqual(mode);
  });

  it('usage errors exit 2', () => {
    expect(() => resolveRotateMode(flags({ out: 'x' }))).toThrowError(expect.objectContaining({ exitCode: 2 }));
  });
});
