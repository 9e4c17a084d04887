import { describe, expect, it } from 'vitest';
import { parsePrincipalArn, partitionOfRegion } from '../../src/core/arn.js';
import { isTemporaryKeyId, maskKeyId, redactSecrets } from '../../src/core/mask.js';

describe('parsePrincipalArn', () => {
  it.each([
    ['arn:aws:iam::123456789012:user/alice', { kind: 'user', userName: 'alice', path: '/', partition: 'aws' }],
    ['arn:aws:iam::123456789012:user/team/dev/alice', { kind: 'user', userName: 'alice', path: '/team/dev/', partition: 'aws' }],
    ['arn:aws-cn:iam::123456789012:user/bob', { kind: 'user', userName: 'bob', partition: 'aws-cn' }],
    ['arn:aws-us-gov:iam::123456789012:user/x/carol', { kind: 'user', userName: 'carol', partition: 'aws-us-gov' }],
    ['arn:aws:iam::123456789012:root', { kind: 'root', account: '123456789012' }],
    ['arn:aws:sts::123456789012:assumed-role/Admin/session', { kind: 'assumed-role' }],
    ['arn:aws:sts::123456789012:federated-user/bob', { kind: 'federated-user' }],
    // A resource that names no user (no name after `user`, or another type) is some other principal.
    ['arn:aws:iam::123456789012:user', { kind: 'other', partition: 'aws', account: '123456789012' }],
    ['arn:aws:iam::123456789012:role/Admin', { kind: 'other', partition: 'aws', account: '123456789012' }],
  ])('%s', (arn, expected) => {
    expect(parsePrincipalArn(arn)).toMatchObject(expected);
  });

  it('rejects what is not a principal ARN', () => {
    expect(parsePrincipalArn('not-an-arn')).toBeUndefined();
    expect(parsePrincipalArn('arn:aws:s3:::bucket')).toBeUndefined();
    // The whole value must be the ARN: nothing before it, no second line after it.
    expect(parsePrincipalArn('xarn:aws:iam::123456789012:user/alice')).toBeUndefined();
    expect(parsePrincipalArn('arn:aws:iam::123456789012:user/alice\nextra')).toBeUndefined();
  });
});

describe('partitionOfRegion', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['eu-west-3', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
  ])('%s → %s', (region, partition) => expect(partitionOfRegion(region)).toBe(partition));
});

describe('key ids', () => {
  it('masks all but the first and last four characters', () => {
    expect(maskKeyId('AKIAIOSFODNN7EXAMPLE')).toBe('AKIA…MPLE');
    expect(maskKeyId('AKIA12345')).toBe('AKIA…2345');
  });
  it('leaves an id of 8 characters or fewer as it is (masking would show all of it anyway)', () => {
    expect(maskKeyId('AKIA1234')).toBe('AKIA1234');
    expect(maskKeyId('AKIAX')).toBe('AKIAX');
  });
  it('recognises temporary keys', () => {
    expect(isTemporaryKeyId('ASIAIOSFODNN7EXAMPLE')).toBe(true);
    expect(isTemporaryKeyId('AKIAIOSFODNN7EXAMPLE')).toBe(false);
  });
});

describe('redactSecrets', () => {
  const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  it.each([
    ['a secret alone', SECRET, '****'],
    ['a secret inside a message', `bad value '${SECRET}' for --profile`, "bad value '****' for --profile"],
    ['each of several secrets', `${SECRET} and ${SECRET}`, '**** and ****'],
    ['a secret whose only non-letters are +', 'wJalrXUtnFEMIaK7MDENGabPxRfiCYEXAMPLEKE+', '****'],
    ['a secret after = (an ini line or a query string)', `aws_secret_access_key=${SECRET}`, 'aws_secret_access_key=****'],
  ])('hides %s', (_name, text, expected) => expect(redactSecrets(text)).toBe(expected));

  it.each([
    ['no lower case', 'WJALRXUTNFEMI/K7MDENG/BPXRFICYEXAMPLEKEY'],
    ['no upper case', 'wjalrxutnfemi/k7mdeng/bpxrficyexamplekey'],
    ['no digit, / or +', 'wJalrXUtnFEMIaKbMDENGabPxRfiCYEXAMPLEKEY'],
    ['39 characters', SECRET.slice(1)],
    ['41 characters', `${SECRET}A`],
    ['= after it (padded base64)', `${SECRET}=`],
    ['a key id and a profile name', 'AKIAIOSFODNN7EXAMPLE in profile work'],
  ])('keeps a token with %s', (_name, text) => expect(redactSecrets(text)).toBe(text));
});
