import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_READ_ACTIONS, ALL_POLICY_ACTIONS, AUDIT_ACTIONS, KEY_WRITE_ACTIONS, buildPolicy, describePolicy, type PolicyDocument, type PolicyOptions } from '../../src/core/policy.js';
import { SRC, actionsUsed, importGraph, sourceFiles } from '../support/source-scan.js';

function policyActions(policy: PolicyDocument): string[] {
  return [...new Set(policy.Statement.flatMap((s) => s.Action))].sort();
}

/**
 * The code of the organisation engine (src/lambda/, and the `org` command that runs it from a workstation)
 * runs with its own roles, declared in src/org/permissions.ts and checked by test/unit/org-permissions.test.ts:
 * not the CLI's policy.
 */
const ORG_ONLY = new Set(
  ['planner', 'worker', 'config-rule'].flatMap((name) => [...importGraph(join(SRC, 'lambda', `${name}.ts`), () => false).files]),
);
const ORG_COMMAND = join(SRC, 'cli', 'commands', 'org.ts');
const CLI_REACHABLE = importGraph(join(SRC, 'cli', 'main.ts'), () => true, (file) => file === ORG_COMMAND).files;
for (const file of importGraph(ORG_COMMAND, () => false).files) if (!CLI_REACHABLE.has(file)) ORG_ONLY.add(file);
const ALL_FILES = sourceFiles(SRC).filter((file) => CLI_REACHABLE.has(file) || !ORG_ONLY.has(file));

describe('the policy matches the IAM calls the code makes', () => {
  it('finds the calls it checks (the scan works)', () => {
    const used = actionsUsed(ALL_FILES, '@aws-sdk/client-iam', 'iam');
    expect(used).toEqual(expect.arrayContaining(['iam:CreateAccessKey', 'iam:ListUsers', 'iam:GetCredentialReport']));
  });

  it('--admin allows every IAM action any code path sends, and nothing else', () => {
    const used = actionsUsed(ALL_FILES, '@aws-sdk/client-iam', 'iam');
    expect(policyActions(buildPolicy({ admin: true }))).toEqual(used);
    expect([...ALL_POLICY_ACTIONS].sort()).toEqual(used);
  });

  it('self-rotation allows every IAM action of the rotation gateway, and no account-wide action', () => {
    const gatewayFiles = ALL_FILES.filter((file) => relative(SRC, file) === join('aws', 'gateway.ts'));
    expect(gatewayFiles).toHaveLength(1);
    const used = actionsUsed(gatewayFiles, '@aws-sdk/client-iam', 'iam');
    expect(used.length).toBeGreaterThan(3);
    const allowed = policyActions(buildPolicy());
    expect(allowed).toEqual(expect.arrayContaining(used));
    for (const action of [...AUDIT_ACTIONS, ...ADMIN_READ_ACTIONS]) expect(allowed).not.toContain(action);
  });

  it('the code calls no STS action that needs a permission (only GetCallerIdentity and GetSessionToken)', () => {
    const used = actionsUsed(ALL_FILES, '@aws-sdk/client-sts', 'sts');
    expect(used).toContain('sts:GetCallerIdentity');
    for (const action of used) expect(['sts:GetCallerIdentity', 'sts:GetSessionToken']).toContain(action);
  });
});

describe('buildPolicy', () => {
  it('self-rotation: own user only, with and without a path', () => {
    const policy = buildPolicy();
    expect(policy.Version).toBe('2012-10-17');
    for (const statement of policy.Statement) {
      expect(statement.Resource).toEqual(['arn:aws:iam::*:user/${aws:username}', 'arn:aws:iam::*:user/*/${aws:username}']);
      expect(statement.Condition).toBeUndefined();
      expect(statement.Effect).toBe('Allow');
    }
    expect(policy.Statement.map((s) => s.Sid)).toEqual(['ReadKeysOfOwnUser', 'RotateKeysOfOwnUser']);
  });

  it('--mfa: the changes, and only the changes, need an MFA session', () => {
    const policy = buildPolicy({ mfa: true });
    const conditioned = policy.Statement.filter((s) => s.Condition);
    expect(conditioned.flatMap((s) => s.Action).sort()).toEqual([...KEY_WRITE_ACTIONS].sort());
    expect(conditioned[0]?.Condition).toEqual({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } });
  });

  it('--admin: any user, plus the audit on *', () => {
    const policy = buildPolicy({ admin: true, mfa: true });
    const keyStatements = policy.Statement.filter((s) => s.Sid !== 'AuditAccount');
    for (const statement of keyStatements) expect(statement.Resource).toBe('arn:aws:iam::*:user/*');
    const audit = policy.Statement.find((s) => s.Sid === 'AuditAccount');
    expect(audit).toMatchObject({ Resource: '*', Action: [...AUDIT_ACTIONS] });
    expect(audit?.Condition).toBeUndefined();
  });

  it('other partitions', () => {
    expect(buildPolicy({ partition: 'aws-cn', admin: true }).Statement[0]?.Resource).toBe('arn:aws-cn:iam::*:user/*');
    expect(buildPolicy({ partition: 'aws-us-gov' }).Statement[1]?.Resource).toEqual([
      'arn:aws-us-gov:iam::*:user/${aws:username}',
      'arn:aws-us-gov:iam::*:user/*/${aws:username}',
    ]);
  });

  it('self-rotation with MFA, whole: what `aws-rekey policy --mfa` prints', () => {
    const own = ['arn:aws:iam::*:user/${aws:username}', 'arn:aws:iam::*:user/*/${aws:username}'];
    expect(buildPolicy({ mfa: true })).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'ReadKeysOfOwnUser', Effect: 'Allow', Action: ['iam:GetAccessKeyLastUsed', 'iam:ListAccessKeys', 'iam:ListMFADevices'], Resource: own },
        {
          Sid: 'RotateKeysOfOwnUser',
          Effect: 'Allow',
          Action: ['iam:CreateAccessKey', 'iam:DeleteAccessKey', 'iam:UpdateAccessKey'],
          Resource: own,
          Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
        },
      ],
    });
  });

  it('--admin, whole: actions in alphabetical order, no MFA condition unless asked', () => {
    expect(buildPolicy({ admin: true })).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ReadKeysOfAnyUser',
          Effect: 'Allow',
          Action: ['iam:GetAccessKeyLastUsed', 'iam:GetUser', 'iam:ListAccessKeys', 'iam:ListMFADevices'],
          Resource: 'arn:aws:iam::*:user/*',
        },
        { Sid: 'RotateKeysOfAnyUser', Effect: 'Allow', Action: ['iam:CreateAccessKey', 'iam:DeleteAccessKey', 'iam:UpdateAccessKey'], Resource: 'arn:aws:iam::*:user/*' },
        {
          Sid: 'AuditAccount',
          Effect: 'Allow',
          Action: ['iam:GenerateCredentialReport', 'iam:GetAccountSummary', 'iam:GetCredentialReport', 'iam:ListUsers'],
          Resource: '*',
        },
      ],
    });
  });

  it('each call gives a new document: changing one changes no other', () => {
    const first = buildPolicy({ admin: true });
    first.Statement[0]?.Action.push('iam:*');
    expect(buildPolicy({ admin: true }).Statement[0]?.Action).not.toContain('iam:*');
    expect(buildPolicy().Statement[0]?.Action).not.toContain('iam:*');
  });
});

describe('describePolicy', () => {
  it.each<[PolicyOptions, string]>([
    [{}, 'Least-privilege policy for rotating your own access keys.'],
    [{ mfa: true }, 'Least-privilege policy for rotating your own access keys, with MFA required for the changes.'],
    [{ admin: true }, "Least-privilege policy for rotating any IAM user's keys and auditing the account."],
    [{ admin: true, mfa: true }, "Least-privilege policy for rotating any IAM user's keys and auditing the account, with MFA required for the changes."],
  ])('%j', (options, line) => {
    expect(describePolicy(options)).toBe(line);
  });

  it('no options: your own keys', () => {
    expect(describePolicy()).toBe('Least-privilege policy for rotating your own access keys.');
  });
});

describe('the policy command loads no AWS SDK', () => {
  it('neither main.ts nor commands/policy.ts imports @aws-sdk or @smithy, directly or not', () => {
    const main = importGraph(join(SRC, 'cli', 'main.ts'), () => false);
    const policy = importGraph(join(SRC, 'cli', 'commands', 'policy.ts'), () => true);
    const packages = [...main.packages, ...policy.packages];
    expect(packages.filter((p) => p.startsWith('@aws-sdk') || p.startsWith('@smithy'))).toEqual([]);
    // The same walk does see the SDK behind the audit command: it would notice.
    const audit = importGraph(join(SRC, 'cli', 'commands', 'audit.ts'), () => true);
    expect([...audit.packages]).toContain('@aws-sdk/client-iam');
  });
});
