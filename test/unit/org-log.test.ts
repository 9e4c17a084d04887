import { describe, expect, it } from 'vitest';
import { AwsError, RekeyError } from '../../src/errors.js';
import { createJsonLogger, describeError } from '../../src/org/log.js';

describe('describeError', () => {
  const secretInCause = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const awsCause = new AwsError('AWS_ERROR', 'secretsmanager:CreateSecret', 'ResourceExistsException', 'secretsmanager:CreateSecret failed (aws-rekey/svc): exists', {
    cause: { $response: { body: secretInCause } },
  });
  const cases: Array<[string, unknown, object]> = [
    ['a rolled-back rotation: its code, its cause\'s code and the AWS call under it', new RekeyError('ROTATION_ROLLED_BACK', 'undone', { cause: awsCause }), {
      code: 'ROTATION_ROLLED_BACK',
      message: 'undone',
      causeCode: 'AWS_ERROR',
      awsAction: 'secretsmanager:CreateSecret',
      awsCode: 'ResourceExistsException',
    }],
    ['an AWS error itself', awsCause, { code: 'AWS_ERROR', message: awsCause.message, awsAction: 'secretsmanager:CreateSecret', awsCode: 'ResourceExistsException' }],
    ['a rekey error under another', new RekeyError('ROTATION_ROLLED_BACK', 'undone', { cause: new RekeyError('VERIFY_TIMEOUT', 'slow') }), { code: 'ROTATION_ROLLED_BACK', message: 'undone', causeCode: 'VERIFY_TIMEOUT' }],
    ['an SDK error: its name', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), { code: 'ThrottlingException', message: 'Rate exceeded' }],
    ['a plain Error: no code', new Error('boom'), { message: 'boom' }],
    ['a hint', new RekeyError('SECRET_PENDING_DELETION', 'scheduled', { hint: 'restore it' }), { code: 'SECRET_PENDING_DELETION', message: 'scheduled', hint: 'restore it' }],
    ['not an error', 'text', { message: 'text' }],
  ];
  it.each(cases)('%s', (_, error, expected) => {
    expect(describeError(error)).toEqual(expected);
  });

  it('never carries what the cause holds besides its code', () => {
    expect(JSON.stringify(describeError(new RekeyError('ROTATION_ROLLED_BACK', 'undone', { cause: awsCause })))).not.toContain(secretInCause);
  });
});

describe('createJsonLogger', () => {
  it('writes one JSON object a line with the base fields, and redacts fields named like a secret', () => {
    const lines: string[] = [];
    createJsonLogger((line) => lines.push(line), { handler: 'worker' }).error('user-failed', { userName: 'svc', secretAccessKey: 'abc', nested: { sessionToken: 'def' } });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 'error', event: 'user-failed', handler: 'worker', userName: 'svc', secretAccessKey: '[redacted]', nested: { sessionToken: '[redacted]' } });
  });

  describe('masks what is shaped like a secret access key in any string, whatever its field is named', () => {
    const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      ['an error message', { error: describeError(new Error(`CreateSecret failed: value '${SECRET}' is invalid`)) }, { error: { message: "CreateSecret failed: value '****' is invalid" } }],
      ['an AKIA key id and its secret, nested in an array', { detail: { pairs: [`AKIAIOSFODNN7EXAMPLE ${SECRET}`] } }, { detail: { pairs: ['AKIAIOSFODNN7EXAMPLE ****'] } }],
      ['an ASIA key id and its secret, in a hint', { error: { hint: `aws_access_key_id=ASIAIOSFODNN7EXAMPLE aws_secret_access_key=${SECRET}` } }, { error: { hint: 'aws_access_key_id=ASIAIOSFODNN7EXAMPLE aws_secret_access_key=****' } }],
    ];
    it.each(cases)('%s', (_, fields, expected) => {
      const lines: string[] = [];
      createJsonLogger((line) => lines.push(line)).error('user-failed', fields);
      expect(lines[0]).not.toContain(SECRET);
      expect(JSON.parse(lines[0] ?? '')).toMatchObject(expected);
    });

    it('in the base fields too, and leaves other values as they were', () => {
      const lines: string[] = [];
      createJsonLogger((line) => lines.push(line), { note: `key ${SECRET}` }).info('done', { accessKeyId: 'AKIA…MPLE', users: 3, ok: true });
      expect(JSON.parse(lines[0] ?? '')).toMatchObject({ note: 'key ****', accessKeyId: 'AKIA…MPLE', users: 3, ok: true });
    });
  });
});
