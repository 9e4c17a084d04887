import { describe, expect, it } from 'vitest';
import { parsePrincipalArn, partitionOfRegion } from '../../src/core/arn.js';
import { isTemporaryKeyId, maskKeyId } from '../../src/core/mask.js';

describe('parsePrincipalArn', () => {
  it.each([
    ['arn:aws:iam::123456789012:user/alice', { kind: 'user', userName: 'alice', path: '/', partition: 'aws' }],
    ['arn:aws:iam::123456789012:user/team/dev/alice', { kind: 'user', userName: 'alice', path: '/team/dev/', partition: 'aws' }],
    ['arn:aws-cn:iam::123456789012:user/bob', { kind: 'user', userName: 'bob', partition: 'aws-cn' }],
    ['arn:aws-us-gov:iam::123456789012:user/x/carol', { kind: 'user', userName: 'carol', partition: 'aws-us-gov' }],
    ['arn:aws:iam::123456789012:root', { kind: 'root', account: '123456789012' }],
    ['arn:aws:sts::123456789012:assumed-role/Admin/session', { kind: 'assumed-role' }],
    ['arn:aws:sts::123456789012:federated-user/bob', { kind: 'federated-user' }],
  ])('%s', (arn, expected) => {
    expect(parsePrincipalArn(arn)).toMatchObject(expected);
  });

  it('rejects what is not a principal ARN', () => {
    expect(parsePrincipalArn('not-an-arn')).toBeUndefined();
    expect(parsePrincipalArn('arn:aws:s3:::bucket')).toBeUndefined();
  });
});

describe('partitionOfRegion', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['eu-west-3', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
  ])('%s → %s', (region, partition) => expect(partitionOfRegion(region)).toBe(partition));
});

describe('key ids', () => {
  it('masks all but the first and last four characters', () => {
    expect(maskKeyId('AKIAIOSFODNN7EXAMPLE')).toBe('AKIA…MPLE');
  });
  it('recognises temporary keys', () => {
    expect(isTemporaryKeyId('ASIAIOSFODNN7EXAMPLE')).toBe(true);
    expect(isTemporaryKeyId('AKIAIOSFODNN7EXAMPLE')).toBe(false);
  });
});
