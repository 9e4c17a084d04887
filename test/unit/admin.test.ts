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

  // The admin reads these and nothing else before choosing: each says what is wrong and what to run.
  const used = (id: string, status: AccessKeyInfo['status']): AccessKeyInfo => ({ ...key(id, status), lastUsed: { date: new Date('2026-03-04T05:06:07Z'), serviceName: 's3', region: 'eu-west-1' } });
  it.each([
    {
      name: 'no key',
      keys: [],
      text: 'IAM user bob has no access key to rotate. aws-rekey replaces existing keys. To give bob a first key, use aws iam create-access-key --user-name bob.',
    },
    {
      name: 'an unknown --key: lists every key with its status and last use',
      keys: [used(A, 'Active'), key(B, 'Inactive')],
      keyId: 'AKIANOPE000000000009',
      text: `--key AKIA…0009 is not an access key of user bob. Its keys: ${A} (active, last used 2026-03-04 by s3 in eu-west-1), ${B} (inactive, never used). Name one of them with --key.`,
    },
    {
      name: 'an inactive key: how to replace it by hand',
      keys: [key(A, 'Inactive')],
      text: `The key AKIA…AAA1 of user bob is inactive: nothing can be using it, so there is nothing to rotate safely. Delete it (aws iam delete-access-key --user-name bob --access-key-id ${A}) and create a fresh key, or reactivate it first.`,
    },
    {
      name: 'two active keys: the example names the first active key',
      keys: [used(A, 'Active'), key(B, 'Active')],
      text: `User bob has 2 access keys: ${A} (active, last used 2026-03-04 by s3 in eu-west-1), ${B} (active, never used). Which one should be replaced? Name it with --key, e.g. --key ${A}. The other key is then deleted to make room if it is inactive; if it is active, that also needs --delete-key.`,
    },
  ])('$name: the message and the hint', ({ keys, keyId, text }) => {
    expect(messageAndHint(() => selectKeyToRotate(keys, 'bob', keyId))).toBe(text);
  });

  it('two inactive keys: refused at once, not sent round to --key (which would refuse either key)', () => {
    const run = () => selectKeyToRotate([key(A, 'Inactive'), key(B, 'Inactive')], 'bob');
    expect(run).toThrowError(expect.objectContaining({ code: 'KEY_INACTIVE', exitCode: 1 }));
    expect(messageAndHint(run)).toBe(
      `User bob has 2 access keys, all inactive: ${A} (inactive, never used), ${B} (inactive, never used). Nothing can be using them, so there is nothing to rotate safely.` +
        ' Delete them (aws iam delete-access-key --user-name bob --access-key-id ID) and create a fresh key, or reactivate the one to rotate first.',
    );
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

  it.each([
    ['compact JSON', `{"Version":1,"AccessKeyId":"${pair.accessKeyId}"}`, pair.accessKeyId],
    ['JSON with a space before the colon', `{ "AccessKeyId" : "${pair.accessKeyId}" }`, pair.accessKeyId],
    ['ini without spaces', `[bob]\naws_access_key_id=${pair.accessKeyId}\n`, pair.accessKeyId],
    ['ini indented, with trailing spaces', `[bob]\n  aws_access_key_id =  ${pair.accessKeyId}  \n`, pair.accessKeyId],
    ['a commented-out line', `[bob]\n# aws_access_key_id = ${pair.accessKeyId}\n`, undefined],
    ['another setting ending in the name', `[bob]\nold_aws_access_key_id = ${pair.accessKeyId}\n`, undefined],
    ['a value that is not a key id', `[bob]\naws_access_key_id = ${pair.accessKeyId}-edited\n`, undefined],
  ])('key id of %s: %s', (_name, text, expected) => {
    // Undoing an --out file removes it only when it still holds the key aws-rekey wrote: a line that merely
    // resembles ours must not count.
    expect(keyIdInKeyFile(text)).toBe(expected);
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

  it('every line, in order: the verification names the user', () => {
    expect(describeUserPlan(plan, 'the new file bob.json', { keepOld: false })).toEqual([
      'delete inactive key AKIA…BBB2 (never used) to make room',
      'create a new access key for bob',
      'write it to the new file bob.json',
      'check that AWS accepts the new key as bob',
      expect.stringMatching(/^deactivate the old key AKIA…AAA1/),
    ]);
  });

  it('--stage create keeps the old key active', () => {
    expect(describeUserPlan(plan, 'x', { keepOld: true }).at(-1)).toMatch(/keep the old key .* active/);
  });
});
