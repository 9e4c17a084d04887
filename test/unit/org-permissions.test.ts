import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ORG_PERMISSIONS, ORG_ROLE_HANDLERS, orgRoleActions, orgRolePolicy, type OrgRoleName } from '../../src/org/permissions.js';
import { SRC, permissionsSentFrom as actionsSentFrom } from '../support/source-scan.js';

describe('the organisation roles allow exactly what the handlers send', () => {
  it('the handlers exist at their fixed paths and export handler', () => {
    for (const name of ['planner', 'worker', 'config-rule']) {
      const file = join(SRC, 'lambda', `${name}.ts`);
      expect(existsSync(file), file).toBe(true);
      expect(readFileSync(file, 'utf8')).toMatch(/^export const handler = /m);
    }
  });

  it('planner', () => {
    expect(orgRoleActions('planner')).toEqual(actionsSentFrom(ORG_ROLE_HANDLERS.planner));
  });

  it('worker and member: together what the worker sends; IAM only in the member role, the rest only in the worker role', () => {
    const sent = actionsSentFrom(ORG_ROLE_HANDLERS.worker);
    expect(sent).toEqual(expect.arrayContaining(['sts:AssumeRole', 'iam:GetCredentialReport', 'sns:Publish']));
    expect([...new Set([...orgRoleActions('worker'), ...orgRoleActions('member')])].sort()).toEqual(sent);
    expect(orgRoleActions('member').every((a) => a.startsWith('iam:') || a.startsWith('secretsmanager:'))).toBe(true);
    expect(orgRoleActions('worker').some((a) => a.startsWith('iam:') || a.startsWith('secretsmanager:'))).toBe(false);
    // The rotation's MFA lookup lives outside the shared gateway (src/aws/mfa.ts): the worker never sends it.
    expect(sent).not.toContain('iam:ListMFADevices');
  });

  it('config rule', () => {
    const sent = actionsSentFrom(ORG_ROLE_HANDLERS.configRule);
    expect(sent).toContain('config:PutEvaluations');
    expect(orgRoleActions('configRule')).toEqual(sent);
  });

  it('no role can change keys except the member role', () => {
    for (const role of ['planner', 'worker', 'configRule'] as OrgRoleName[]) {
      for (const action of orgRoleActions(role)) expect(action).not.toMatch(/^iam:(Create|Update|Delete)AccessKey$/);
    }
  });
});

describe('orgRolePolicy', () => {
  it('fills in the placeholders and keeps the scoping', () => {
    const policy = orgRolePolicy('worker', { Partition: 'aws', MemberRoleName: 'aws-rekey-member', QueueArn: 'arn:aws:sqs:eu-west-1:111111111111:accounts' });
    expect(policy.Statement[0]).toEqual({ Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: ['arn:aws:iam::*:role/aws-rekey-member'] });
    expect(policy.Statement[1]?.Resource).toEqual(['arn:aws:sqs:eu-west-1:111111111111:accounts']);
    // An unknown placeholder stays visible rather than turning into an empty string.
    expect(policy.Statement[2]?.Resource).toEqual(['${TopicArn}']);
  });

  it('every statement says why', () => {
    for (const statements of Object.values(ORG_PERMISSIONS)) for (const s of statements) expect(s.why.length).toBeGreaterThan(10);
  });
});
