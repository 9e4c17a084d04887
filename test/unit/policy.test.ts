import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_READ_ACTIONS, ALL_POLICY_ACTIONS, AUDIT_ACTIONS, KEY_WRITE_ACTIONS, buildPolicy, type PolicyDocument } from '../../src/core/policy.js';
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
