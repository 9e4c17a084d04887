import { describe, expect, it } from 'vitest';
import { describeUserPlan, keyIdInKeyFile, renderKeyFile, selectKeyToRotate } from '../../src/core/admin.js';
import { resolveDestination, type DestinationFlags } from '../../src/core/destination.js';
import { planRotation } from '../../src/core/plan.js';
import type { AccessKeyInfo } from '../../src/core/types.js';

const A = 'AKIAAAAAAAAAAAAAAAA1';
const B = 'AKIABBBBBBBBBBBBBBB2';
/** What the user reads: the error's message and its hint. */
function messageAndHint(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return `${(error as Error).message} ${(error as { hint?: string }).hint ?? ''}`;
  }
  throw new Error('expected an error');
}

const key = (accessKeyId: string, status: AccessKeyInfo['status']): AccessKeyInfo => ({ accessKeyId, status, createDate: new Date('2026-01-01T00:00:00Z') });

describe('resolveDestination', () => {
  const cases: Array<{ name: string; flags: DestinationFlags; kind?: string; format?: string; error?: RegExp }> = [
    { name: 'none: refused, naming the three choices', flags: {}, error: /--out FILE.*--to-profile NAME.*--print-secret/ },
    { name: '--out x.json: JSON', flags: { out: 'bob.json' }, kind: 'file', format: 'json' },
    { name: '--out X.JSON: JSON whatever the case', flags: { out: 'BOB.JSON' }, kind: 'file', format: 'json' },
    { name: '--out other: credentials format', flags: { out: 'bob.credentials' }, kind: 'file', format: 'ini' },
    { name: '--out -: refused (use --print-secret)', flags: { out: '-' }, error: /--print-secret/ },
    { name: '--to-profile', flags: { toProfile: 'bob' }, kind: 'profile' },
    { name: '--to-profile with a bracket: refused', flags: { toProfile: 'a]b' }, error: /profile name/ },
    { name: '--print-secret', flags: { printSecret: true }, kind: 'stdout' },
    { name: 'two of them: refused', flags: { out: 'x', printSecret: true }, error: /only one/ },
    { name: 'all three: refused', flags: { out: 'x', toProfile: 'y', printSecret: true }, error: /only one/ },
    { name: 'none: the hint names the seven choices', flags: {}, error: /--to-secret NAME.*--to-parameter NAME.*--to-env FILE.*--exec CMD/ },
    { name: '--to-secret', flags: { toSecret: 'ci/deploy-user' }, kind: 'secret' },
    { name: '--to-secret with a space: refused', flags: { toSecret: 'ci key' }, error: /secret name/ },
    { name: '--to-parameter', flags: { toParameter: '/ci/deploy-user' }, kind: 'parameter' },
    { name: '--to-parameter hierarchy without a leading /: refused', flags: { toParameter: 'ci/deploy-user' }, error: /hierarchy starts with \// },
    { name: '--to-parameter under aws: refused', flags: { toParameter: '/aws/key' }, error: /cannot start with aws or ssm/ },
    { name: '--kms-key-id alone: refused', flags: { toEnv: '.env', kmsKeyId: 'alias/x' }, error: /--kms-key-id goes with --to-parameter/ },
    { name: '--to-env', flags: { toEnv: '.env' }, kind: 'env' },
    { name: '--to-env -: refused', flags: { toEnv: '-' }, error: /file name/ },
    { name: '--exec', flags: { exec: './store.sh' }, kind: 'exec' },
    { name: '--exec empty: refused', flags: { exec: '  ' }, error: /needs a command/ },
    { name: 'two new ones: refused, named', flags: { toSecret: 'a', exec: 'b' }, error: /only one of --to-secret, --exec.*--exec with a script/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.error) {
        expect(() => resolveDestination(c.flags)).toThrowError(expect.objectContaining({ exitCode: 2 }));
        expect(messageAndHint(() => resolveDestination(c.flags))).toMatch(c.error);
        return;
      }
      const destination = resolveDestination(c.flags);
      expect(destination.kind).toBe(c.kind);
      if (c.format) expect(destination).toMatchObject({ format: c.format });
    });
  }
});

describe('selectKeyToRotate', () => {
  const cases: Array<{ name: string; keys: AccessKeyInfo[]; keyId?: string; chosen?: string; error?: string }> = [
    { name: 'no key: refused', keys: [], error: 'NO_KEYS' },
    { name: 'one active key: that one', keys: [key(A, 'Active')], chosen: A },
    { name: 'one inactive key: refused', keys: [key(A, 'Inactive')], error: 'KEY_INACTIVE' },
    { name: 'one active, one inactive: the active one', keys: [key(A, 'Inactive'), key(B, 'Active')], chosen: B },
    { name: 'two active keys without --key: refused', keys: [key(A, 'Active'), key(B, 'Active')], error: 'KEY_AMBIGUOUS' },
    { name: 'two active keys with --key: that one', keys: [key(A, 'Active'), key(B, 'Active')], keyId: B, chosen: B },
    { name: '--key naming an inactive key: refused', keys: [key(A, 'Inactive'), key(B, 'Active')], keyId: A, error: 'KEY_INACTIVE' },
    { name: '--key naming another user\'s key: refused', keys: [key(A, 'Active')], keyId: B, error: 'KEY_NOT_FOUND' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.error) {
        expect(() => selectKeyToRotate(c.keys, 'bob', c.keyId)).toThrowError(expect.objectContaining({ code: c.error }));
        return;
      }
      expect(selectKeyToRotate(c.keys, 'bob', c.keyId)).toBe(c.chosen);
    });
  }

  it('the ambiguity error lists both key ids and suggests --key', () => {
    expect(() => selectKeyToRotate([key(A, 'Active'), key(B, 'Active')], 'bob')).toThrowError(new RegExp(`${A}.*${B}`));
  });
});

describe('key files', () => {
  const pair = { accessKeyId: 'AKIANEWNEWNEWNEWNEW1', secretAccessKey: 'secret/with+chars' };

  it('credentials format: one [section] with both values', () => {
    expect(renderKeyFile('ini', 'bob', pair, 'bob')).toBe('[bob]\naws_access_key_id = AKIANEWNEWNEWNEWNEW1\naws_secret_access_key = secret/with+chars\n');
  });

  it('JSON: the credential_process shape', () => {
    expect(JSON.parse(renderKeyFile('json', 'bob', pair, 'bob'))).toEqual({ Version: 1, AccessKeyId: pair.accessKeyId, SecretAccessKey: pair.secretAccessKey, UserName: 'bob' });
  });

  it('reads the key id back from either format, and nothing from other text', () => {
    expect(keyIdInKeyFile(renderKeyFile('ini', 'bob', pair, 'bob'))).toBe(pair.accessKeyId);
    expect(keyIdInKeyFile(renderKeyFile('json', 'bob', pair, 'bob'))).toBe(pair.accessKeyId);
    expect(keyIdInKeyFile('hello\n')).toBeUndefined();
  });
});

describe('describeUserPlan', () => {
  const plan = planRotation([key(A, 'Active'), key(B, 'Inactive')], { userName: 'bob', currentKeyId: A, profiles: ['--user bob'], deleteOld: false });

  it('names the destination and keeps the other steps', () => {
    const lines = describeUserPlan(plan, 'the new file bob.json', { keepOld: false });
    expect(lines[0]).toMatch(/delete inactive key/);
    expect(lines).toContain('write it to the new file bob.json');
    expect(lines.at(-1)).toMatch(/deactivate the old key/);
  });

  it('--stage create keeps the old key active', () => {
    expect(describeUserPlan(plan, 'x', { keepOld: true }).at(-1)).toMatch(/keep the old key .* active/);
  });
});
