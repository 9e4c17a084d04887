import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nextCommand, recordedTarget, targetArgs, targetCommand } from '../../src/core/next-command.js';

const home = { HOME: '/home/me' };

describe('nextCommand: complete and shell-quoted', () => {
  it.each([
    ['default files, no endpoint: the command alone', home, 'aws-rekey status'],
    ['the default file named explicitly: not repeated', { ...home, AWS_SHARED_CREDENTIALS_FILE: '/home/me/.aws/credentials', AWS_CONFIG_FILE: '~/.aws/config' }, 'aws-rekey status'],
    ['another credentials file, with a space', { ...home, AWS_SHARED_CREDENTIALS_FILE: '/work/my creds' }, "AWS_SHARED_CREDENTIALS_FILE='/work/my creds' aws-rekey status"],
    ['another config file', { ...home, AWS_CONFIG_FILE: '/etc/aws/config' }, 'AWS_CONFIG_FILE=/etc/aws/config aws-rekey status'],
    ['endpoints, as given', { ...home, AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_ENDPOINT_URL_IAM: 'https://iam.example' }, 'AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_ENDPOINT_URL_IAM=https://iam.example aws-rekey status'],
    ['an ordinary region changes nothing IAM does: left out', { ...home, AWS_REGION: 'eu-west-1' }, 'aws-rekey status'],
    ['a region of another partition is needed', { ...home, AWS_REGION: 'cn-north-1' }, 'AWS_REGION=cn-north-1 aws-rekey status'],
    ['AWS_DEFAULT_REGION too', { ...home, AWS_DEFAULT_REGION: 'us-gov-west-1' }, 'AWS_DEFAULT_REGION=us-gov-west-1 aws-rekey status'],
  ])('%s', (_name, env, expected) => {
    expect(nextCommand(['status'], env)).toBe(expected);
  });

  it.each([
    ['~ alone is not a file: named', { ...home, AWS_SHARED_CREDENTIALS_FILE: '~' }, "AWS_SHARED_CREDENTIALS_FILE='~' aws-rekey status"],
    ['~/ paths resolve in HOME: the default, left out', { ...home, AWS_SHARED_CREDENTIALS_FILE: '~/.aws/credentials' }, 'aws-rekey status'],
    ['another file under ~/: named as given', { ...home, AWS_SHARED_CREDENTIALS_FILE: '~/keys/credentials' }, "AWS_SHARED_CREDENTIALS_FILE='~/keys/credentials' aws-rekey status"],
    ['the default path with spaces around: left out', { ...home, AWS_CONFIG_FILE: '  /home/me/.aws/config  ' }, 'aws-rekey status'],
    ['the credentials default set as the config file: named', { ...home, AWS_CONFIG_FILE: '/home/me/.aws/credentials' }, 'AWS_CONFIG_FILE=/home/me/.aws/credentials aws-rekey status'],
    ['a blank setting counts as unset', { ...home, AWS_SHARED_CREDENTIALS_FILE: '  ', AWS_ENDPOINT_URL_STS: ' ', AWS_REGION: ' ' }, 'aws-rekey status'],
    ['the STS endpoint, trimmed', { ...home, AWS_ENDPOINT_URL_STS: ' http://127.0.0.1:5001 ' }, 'AWS_ENDPOINT_URL_STS=http://127.0.0.1:5001 aws-rekey status'],
    ['AWS_REGION wins over AWS_DEFAULT_REGION', { ...home, AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'cn-north-1' }, 'aws-rekey status'],
    ['a blank AWS_REGION: AWS_DEFAULT_REGION decides', { ...home, AWS_REGION: '', AWS_DEFAULT_REGION: 'cn-northwest-1' }, 'AWS_DEFAULT_REGION=cn-northwest-1 aws-rekey status'],
    ['an AWS_REGION of spaces is blank too: AWS_DEFAULT_REGION decides', { ...home, AWS_REGION: '  ', AWS_DEFAULT_REGION: 'cn-northwest-1' }, 'AWS_DEFAULT_REGION=cn-northwest-1 aws-rekey status'],
    ['the region, trimmed', { ...home, AWS_REGION: ' cn-north-1 ' }, 'AWS_REGION=cn-north-1 aws-rekey status'],
    ['the US ISO partition', { ...home, AWS_REGION: 'us-iso-east-1' }, 'AWS_REGION=us-iso-east-1 aws-rekey status'],
    ['the US ISO-B partition', { ...home, AWS_REGION: 'us-isob-east-1' }, 'AWS_REGION=us-isob-east-1 aws-rekey status'],
    ['the EU ISO-E partition', { ...home, AWS_REGION: 'eu-isoe-west-1' }, 'AWS_REGION=eu-isoe-west-1 aws-rekey status'],
    ['a region that only contains a partition name: ordinary', { ...home, AWS_REGION: 'ap-cn-1' }, 'aws-rekey status'],
  ])('%s', (_name, env, expected) => {
    expect(nextCommand(['status'], env)).toBe(expected);
  });

  it('without HOME, the default files are those of the user\'s home directory', () => {
    expect(nextCommand(['status'], { AWS_SHARED_CREDENTIALS_FILE: join(homedir(), '.aws', 'credentials') })).toBe('aws-rekey status');
    expect(nextCommand(['status'], { HOME: '', AWS_CONFIG_FILE: join(homedir(), '.aws', 'config') })).toBe('aws-rekey status');
  });

  it('quotes every argument that needs it', () => {
    expect(nextCommand(['rotate', '--profile', "bob's work", '--stage', 'retire'], home)).toBe("aws-rekey rotate --profile 'bob'\\''s work' --stage retire");
  });
});

describe('targetArgs and recordedTarget: who the command is about, and who signs', () => {
  it.each([
    [{ profile: 'work' }, ['--profile', 'work']],
    [{ profile: 'work', authProfile: 'admin' }, ['--profile', 'work', '--auth-profile', 'admin']],
    [{ userName: 'ci' }, ['--user', 'ci']],
    [{ userName: 'ci', adminProfile: 'admin' }, ['--user', 'ci', '--profile', 'admin']],
  ] as const)('%o → %o', (target, args) => {
    expect(targetArgs(target)).toEqual(args);
  });

  it('a record names the profile that signed, when one did; a record of 0.1.0 (none) or a bad value gives the bare target', () => {
    expect(recordedTarget({ mode: 'user', userName: 'ci', signedBy: 'admin' })).toEqual({ userName: 'ci', adminProfile: 'admin' });
    expect(recordedTarget({ mode: 'user', userName: 'ci' })).toEqual({ userName: 'ci' });
    expect(recordedTarget({ mode: 'profile', profile: 'app', userName: 'u', signedBy: 'admin' })).toEqual({ profile: 'app', authProfile: 'admin' });
    expect(recordedTarget({ mode: 'profile', profile: 'app', userName: 'u', signedBy: 42 })).toEqual({ profile: 'app' });
    expect(recordedTarget({ mode: 'profile', userName: 'u' })).toEqual({ profile: 'default' });
    expect(recordedTarget({ mode: 'user', userName: 'ci', signedBy: '' })).toStrictEqual({ userName: 'ci' });
    expect(recordedTarget({ mode: 'profile', profile: 'app', userName: 'u', signedBy: '' })).toStrictEqual({ profile: 'app' });
  });

  it('targetCommand puts the target right after the command', () => {
    expect(targetCommand('rollback', { userName: 'ci', adminProfile: 'my admin' }, home, '--delete-new')).toBe("aws-rekey rollback --user ci --profile 'my admin' --delete-new");
  });
});
