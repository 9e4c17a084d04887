import { describe, expect, it } from 'vitest';
import { DEFAULT_ORG_POLICY, OrgPolicyError, policyNeedsParents, resolveOrgPolicy, selectAccount, type OrgPolicyInput } from '../../src/core/org-policy.js';
import { orgSettingsFromEnv } from '../../src/org/config.js';

describe('resolveOrgPolicy', () => {
  it('defaults: report mode, 90/7/7 days, warnings 7 days ahead, unused at 45', () => {
    const policy = resolveOrgPolicy();
    expect(policy).toEqual(DEFAULT_ORG_POLICY);
    expect(policy).toMatchObject({ mode: 'report', rotateAfterDays: 90, deactivateAfterDays: 7, deleteAfterDays: 7, warnDaysBefore: 7, unusedAfterDays: 45 });
  });

  it('keeps the given values and ignores undefined ones', () => {
    expect(resolveOrgPolicy({ mode: 'enforce', rotateAfterDays: 30, deleteAfterDays: undefined })).toMatchObject({ mode: 'enforce', rotateAfterDays: 30, deleteAfterDays: 7 });
  });

  const refused: Array<[string, OrgPolicyInput, RegExp]> = [
    ['unknown mode', { mode: 'destroy' as never }, /mode 'destroy' is not one of report, notify, enforce/],
    ['zero rotation period', { rotateAfterDays: 0 }, /rotateAfterDays must be a whole number of days from 1/],
    ['fractional period', { deleteAfterDays: 1.5 }, /deleteAfterDays must be a whole number/],
    ['negative warning', { warnDaysBefore: -1 }, /warnDaysBefore must be a whole number of days from 0/],
    ['absurd period', { rotateAfterDays: 99999 }, /from 1 to 3650/],
    ['warning longer than the key lives', { rotateAfterDays: 5, warnDaysBefore: 5 }, /less than rotateAfterDays.*before the key exists/],
    ['deactivation warned before delivery', { deactivateAfterDays: 3 }, /must not exceed deactivateAfterDays \(3\)/],
    ['deletion warned before deactivation', { deleteAfterDays: 2 }, /must not exceed deleteAfterDays \(2\)/],
    ['account both in and out', { includeAccounts: ['111111111111'], excludeAccounts: ['111111111111'] }, /111111111111 is both included and excluded/],
    ['OU both in and out', { includeOus: ['ou-abcd-12345678'], excludeOus: ['ou-abcd-12345678'] }, /OU ou-abcd-12345678 is both included and excluded/],
    ['not an account id', { excludeAccounts: ['prod'] }, /'prod' is not an account id/],
    ['not an OU id', { includeOus: ['Production'] }, /'Production' is not an organisational unit id/],
    ['empty group name', { exemptGroups: [''] }, /exemptGroups must be a list of non-empty names/],
    ['unknown digest', { digest: 'weekly' as never }, /digest 'weekly' is not one of off, owner, account/],
    ['account digest to nobody', { digest: 'account' }, /The account digest needs an address to go to \(digestTo\)/],
    ['digest address that is none', { digest: 'account', digestTo: ['platform team'] }, /digestTo must be a list of email addresses/],
    ['an address no digest uses', { digest: 'owner', digestTo: ['platform@example.com'] }, /digestTo is only used by the account digest, and the digest is 'owner'/],
  ];
  it.each(refused)('refuses %s, saying why', (_name, input, reason) => {
    let error: unknown;
    try {
      resolveOrgPolicy(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OrgPolicyError);
    expect((error as OrgPolicyError).message).toMatch(reason);
    expect((error as OrgPolicyError).exitCode).toBe(2);
    expect((error as OrgPolicyError).code).toBe('ORG_POLICY_INVALID');
  });

  it('lists every reason at once', () => {
    expect(() => resolveOrgPolicy({ rotateAfterDays: 0, excludeAccounts: ['x'] })).toThrow(/rotateAfterDays.*'x' is not an account id/);
  });

  it('accepts a warning period equal to the deactivation and deletion periods (the defaults)', () => {
    expect(() => resolveOrgPolicy({ warnDaysBefore: 3, deactivateAfterDays: 3, deleteAfterDays: 3 })).not.toThrow();
  });
});

describe('selectAccount', () => {
  const policy = (input: OrgPolicyInput) => resolveOrgPolicy(input);
  const cases: Array<[string, OrgPolicyInput, { id: string; status?: string; parents?: string[] }, boolean, string?]> = [
    ['everything by default', {}, { id: '111111111111', status: 'ACTIVE' }, true],
    ['a suspended account never', {}, { id: '111111111111', status: 'SUSPENDED' }, false, 'account status SUSPENDED'],
    ['an excluded account', { excludeAccounts: ['111111111111'] }, { id: '111111111111' }, false, 'account excluded'],
    ['an account in an excluded OU', { excludeOus: ['ou-abcd-12345678'] }, { id: '111111111111', parents: ['ou-abcd-12345678', 'r-abcd'] }, false, 'in excluded OU ou-abcd-12345678'],
    ['an included account', { includeAccounts: ['111111111111'] }, { id: '111111111111' }, true],
    ['an account not included', { includeAccounts: ['222222222222'] }, { id: '111111111111' }, false, 'not in the included accounts or OUs'],
    ['an account in an included OU', { includeOus: ['ou-abcd-12345678'] }, { id: '111111111111', parents: ['ou-abcd-12345678'] }, true],
    ['exclusion wins over inclusion', { includeOus: ['r-abcd'], excludeAccounts: ['111111111111'] }, { id: '111111111111', parents: ['r-abcd'] }, false, 'account excluded'],
  ];
  it.each(cases)('%s', (_name, input, account, selected, reason) => {
    const result = selectAccount(account, policy(input));
    expect(result.selected).toBe(selected);
    if (!result.selected) expect(result.reason).toBe(reason);
  });

  it('asks for the OU path only when OUs are named', () => {
    expect(policyNeedsParents(policy({}))).toBe(false);
    expect(policyNeedsParents(policy({ excludeOus: ['r-abcd'] }))).toBe(true);
  });
});

describe('orgSettingsFromEnv: the digest', () => {
  const env = (extra: NodeJS.ProcessEnv) => ({ AWS_REKEY_MODE: 'notify', AWS_REKEY_MAIL_FROM: 'rekey@example.com', ...extra });

  it('off by default; owner; account with its addresses', () => {
    expect(orgSettingsFromEnv(env({})).policy).toMatchObject({ digest: 'off', digestTo: [] });
    expect(orgSettingsFromEnv(env({ AWS_REKEY_DIGEST: 'owner' })).policy.digest).toBe('owner');
    expect(orgSettingsFromEnv(env({ AWS_REKEY_DIGEST: 'account', AWS_REKEY_DIGEST_TO: 'a@example.com, b@example.com' })).policy).toMatchObject({
      digest: 'account',
      digestTo: ['a@example.com', 'b@example.com'],
    });
  });

  it('a digest without a sender is refused, naming both variables', () => {
    expect(() => orgSettingsFromEnv(env({ AWS_REKEY_DIGEST: 'owner', AWS_REKEY_MAIL_FROM: '' }))).toThrow(/AWS_REKEY_DIGEST=owner sends mail, and AWS_REKEY_MAIL_FROM is not set/);
  });
});
