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

  it('usage errors exit 2', () => {
    expect(() => resolveRotateMode(flags({ out: 'x' }))).toThrowError(expect.objectContaining({ exitCode: 2 }));
  });
});
