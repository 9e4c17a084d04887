import { describe, expect, it } from 'vitest';
import { describeDestination, destinationFlagsGiven, pairInKeyDocument, renderKeyDocument, resolveDestination, type DestinationFlags, type DestinationSpec } from '../../src/core/destination.js';

/** What the user reads: the error's message and its hint (and code, for the ones that have their own). */
function refusal(flags: DestinationFlags): string {
  try {
    resolveDestination(flags);
  } catch (error) {
    const e = error as Error & { hint?: string; code?: string; exitCode?: number };
    return `${e.code} ${e.exitCode}: ${e.message} | ${e.hint}`;
  }
  throw new Error('expected a refusal');
}

describe('resolveDestination: the whole destination, values trimmed', () => {
  it.each([
    [{ out: ' bob.json ' }, { kind: 'file', path: 'bob.json', format: 'json' }],
    [{ out: 'bob.json.bak' }, { kind: 'file', path: 'bob.json.bak', format: 'ini' }],
    [{ out: 'keys/bob' }, { kind: 'file', path: 'keys/bob', format: 'ini' }],
    [{ toProfile: ' bob ' }, { kind: 'profile', profile: 'bob' }],
    [{ printSecret: true }, { kind: 'stdout' }],
    [{ toSecret: ' ci/deploy-user ' }, { kind: 'secret', name: 'ci/deploy-user' }],
    [{ toParameter: ' /ci/deploy-user ' }, { kind: 'parameter', name: '/ci/deploy-user' }],
    [{ toParameter: 'deploy-user', kmsKeyId: ' alias/ci ' }, { kind: 'parameter', name: 'deploy-user', kmsKeyId: 'alias/ci' }],
    [{ toParameter: '/ci/awsome-key' }, { kind: 'parameter', name: '/ci/awsome-key' }],
    [{ toEnv: ' .env ' }, { kind: 'env', path: '.env' }],
    [{ exec: ' ./store.sh ci ' }, { kind: 'exec', command: './store.sh ci', timeoutMs: 60_000 }],
    [{ exec: './store.sh', execTimeout: 0.0004 }, { kind: 'exec', command: './store.sh', timeoutMs: 0 }],
  ] as Array<[DestinationFlags, DestinationSpec]>)('%j → %j', (flags, destination) => {
    expect(resolveDestination(flags)).toStrictEqual(destination);
  });

  it('printSecret: false is not a destination', () => {
    expect(destinationFlagsGiven({ printSecret: false, toProfile: 'p', toParameter: '/x' })).toEqual(['--to-profile', '--to-parameter']);
  });
});

describe('resolveDestination: refusals, in words', () => {
  it.each([
    [{ out: '  ' }, "USAGE 2: --out needs a file name, not '  '. | To print the key, use --print-secret."],
    [{ out: ' - ' }, "USAGE 2: --out needs a file name, not ' - '. | To print the key, use --print-secret."],
    [{ toProfile: ' ' }, "USAGE 2: --to-profile needs a profile name, not ' '. | undefined"],
    [{ toProfile: 'a\nb' }, "USAGE 2: --to-profile needs a profile name, not 'a\nb'. | undefined"],
    [{ toSecret: 'a b' }, "BAD_SECRET_NAME 2: --to-secret needs a Secrets Manager secret name, not 'a b'. | Names have up to 512 letters, digits and /_+=.@- characters, e.g. --to-secret ci/deploy-user."],
    [
      { toParameter: '/ssm/key' },
      "BAD_PARAMETER_NAME 2: --to-parameter needs an SSM parameter name, not '/ssm/key'. | Names have letters, digits and _.-/ characters; a hierarchy starts with /, e.g. --to-parameter /ci/deploy-user/access-key; names cannot start with aws or ssm.",
    ],
    [{ toParameter: 'AWSkey' }, expect.stringMatching(/^BAD_PARAMETER_NAME 2: --to-parameter needs an SSM parameter name, not 'AWSkey'/)],
    [{ toParameter: 'a b' }, expect.stringMatching(/^BAD_PARAMETER_NAME 2: /)],
    [{ toParameter: '/ci/key', kmsKeyId: '  ' }, 'USAGE 2: --kms-key-id needs a KMS key id, ARN or alias (alias/NAME). | undefined'],
    [{ kmsKeyId: 'alias/ci', printSecret: true }, 'USAGE 2: --kms-key-id goes with --to-parameter. | It names the KMS key that encrypts the SecureString parameter.'],
    [{ execTimeout: 5, printSecret: true }, 'USAGE 2: --exec-timeout goes with --exec. | undefined'],
    [{ toEnv: ' ' }, "USAGE 2: --to-env needs a file name, not ' '. | e.g. --to-env .env"],
    [{ toEnv: '-' }, "USAGE 2: --to-env needs a file name, not '-'. | e.g. --to-env .env"],
    [
      { toProfile: 'p', toParameter: '/x' },
      'USAGE 2: Give only one of --to-profile, --to-parameter: the new key goes to one place in a run, so that undoing a failed rotation has one place to undo. | Pick one; to hand the key to several places, use --exec with a script that writes them all (and fails if one fails).',
    ],
  ] as Array<[DestinationFlags, string]>)('%j', (flags, text) => {
    expect(refusal(flags)).toEqual(text);
  });

  it('the parameter prefixes reserved by AWS are refused in any case, with or without the leading /', () => {
    for (const name of ['aws-key', '/aws/key', 'SSM.key', '/Ssm/key']) expect(() => resolveDestination({ toParameter: name })).toThrowError(expect.objectContaining({ code: 'BAD_PARAMETER_NAME' }));
    for (const name of ['/ci/aws', 'my-aws-key', '/team/ssm-key']) expect(resolveDestination({ toParameter: name })).toMatchObject({ kind: 'parameter', name });
  });
});

describe('describeDestination: the plan line that says where the key goes', () => {
  it.each([
    [{ kind: 'file', path: 'bob.json', format: 'json' }, undefined, 'the new file bob.json (JSON, mode 0600)'],
    [{ kind: 'file', path: 'bob.ini', format: 'ini' }, undefined, 'the new file bob.ini (credentials format, mode 0600)'],
    [{ kind: 'profile', profile: 'bob' }, '/home/me/.aws/credentials', 'profile bob in /home/me/.aws/credentials'],
    [{ kind: 'profile', profile: 'bob' }, undefined, 'profile bob'],
    [{ kind: 'stdout' }, undefined, 'standard output (--print-secret), once'],
    [{ kind: 'secret', name: 'ci/key' }, undefined, 'the Secrets Manager secret ci/key (a new version, AWSCURRENT)'],
    [{ kind: 'parameter', name: '/ci/key' }, undefined, 'the SSM parameter /ci/key (SecureString, a new version)'],
    [{ kind: 'env', path: '.env' }, undefined, 'the variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY of .env (dotenv, mode 0600)'],
    [{ kind: 'exec', command: './store.sh', timeoutMs: 1000 }, undefined, 'the standard input of "./store.sh", as JSON, once AWS accepts the key'],
  ] as Array<[DestinationSpec, string | undefined, string]>)('%j', (destination, credentialsPath, text) => {
    expect(describeDestination(destination, credentialsPath)).toBe(text);
  });
});

describe('key documents (secrets and parameters)', () => {
  const pair = { accessKeyId: 'AKIANEWNEWNEWNEWNEW1', secretAccessKey: 'secret/with+chars' };

  it('render and read back; the creation date only when known', () => {
    expect(JSON.parse(renderKeyDocument('ci', pair, '2026-11-30T10:00:00Z'))).toEqual({ schemaVersion: 1, userName: 'ci', ...pair, createDate: '2026-11-30T10:00:00Z' });
    expect(Object.keys(JSON.parse(renderKeyDocument('ci', pair)))).toEqual(['schemaVersion', 'userName', 'accessKeyId', 'secretAccessKey']);
    expect(pairInKeyDocument(renderKeyDocument('ci', pair))).toEqual(pair);
  });

  it.each([
    ['nothing', undefined],
    ['not JSON', 'AKIA… plain text'],
    ['JSON null', 'null'],
    ['another JSON document', '{"user":"ci","password":"x"}'],
    ['a key id without its secret', '{"accessKeyId":"AKIANEWNEWNEWNEWNEW1"}'],
    ['values that are not strings', '{"accessKeyId":1,"secretAccessKey":2}'],
  ])('%s: no pair', (_name, text) => {
    expect(pairInKeyDocument(text)).toBeUndefined();
  });
});
