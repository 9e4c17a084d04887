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

/** The reasons a policy is refused for, in order; fails if it is accepted. */
function reasonsFor(input: OrgPolicyInput): string[] {
  try {
    resolveOrgPolicy(input);
  } catch (error) {
    if (error instanceof OrgPolicyError) return error.reasons;
    throw error;
  }
  throw new Error('the policy was accepted');
}

describe('resolveOrgPolicy: the refusal in words', () => {
  it('one message with every reason, and the way out', () => {
    let error: unknown;
    try {
      resolveOrgPolicy({ mode: 'fix' as never, deleteAfterDays: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OrgPolicyError);
    expect(error).toMatchObject({
      message:
        "The organisation policy is refused: The mode 'fix' is not one of report, notify, enforce. deleteAfterDays must be a whole number of days from 1 to 3650 (got 0).",
      hint: 'Fix the periods (see docs/org.md "Policy"); nothing was changed.',
      reasons: ["The mode 'fix' is not one of report, notify, enforce.", 'deleteAfterDays must be a whole number of days from 1 to 3650 (got 0).'],
    });
  });

  it('each contradiction of the periods, whole', () => {
    expect(reasonsFor({ rotateAfterDays: 7 })).toEqual([
      'warnDaysBefore (7) must be less than rotateAfterDays (7): the warning would come before the key exists.',
    ]);
    expect(reasonsFor({ warnDaysBefore: 8, rotateAfterDays: 30, deactivateAfterDays: 7, deleteAfterDays: 6 })).toEqual([
      'warnDaysBefore (8) must not exceed deactivateAfterDays (7): the deactivation warning would come before the replacement is delivered.',
      'warnDaysBefore (8) must not exceed deleteAfterDays (6): the deletion warning would come before the key is deactivated.',
    ]);
  });

  it('a period that is not valid is refused for that alone: it is not compared with the others', () => {
    expect(reasonsFor({ rotateAfterDays: 0 })).toEqual(['rotateAfterDays must be a whole number of days from 1 to 3650 (got 0).']);
    expect(reasonsFor({ warnDaysBefore: 5000 })).toEqual(['warnDaysBefore must be a whole number of days from 0 to 3650 (got 5000).']);
  });
});

describe('resolveOrgPolicy: the limits of the periods', () => {
  const periods = ['rotateAfterDays', 'deactivateAfterDays', 'deleteAfterDays', 'unusedAfterDays'] as const;
  // The warning period is 0 so that it contradicts none of them.
  it.each(periods)('%s: 1 and 3650 are accepted; 0, 3651, 2.5 and "30" are not', (name) => {
    expect(resolveOrgPolicy({ warnDaysBefore: 0, [name]: 1 })[name]).toBe(1);
    expect(resolveOrgPolicy({ warnDaysBefore: 0, [name]: 3650 })[name]).toBe(3650);
    for (const value of [0, 3651, 2.5, '30', Number.NaN]) {
      expect(reasonsFor({ warnDaysBefore: 0, [name]: value as never })).toEqual([`${name} must be a whole number of days from 1 to 3650 (got ${String(value)}).`]);
    }
  });

  it('warnDaysBefore: 0 is accepted (no warning), -1 is not', () => {
    expect(resolveOrgPolicy({ warnDaysBefore: 0 }).warnDaysBefore).toBe(0);
    expect(reasonsFor({ warnDaysBefore: -1 })).toEqual(['warnDaysBefore must be a whole number of days from 0 to 3650 (got -1).']);
  });

  it('a warning a day shorter than the key lives is accepted', () => {
    expect(resolveOrgPolicy({ rotateAfterDays: 8, warnDaysBefore: 7 })).toMatchObject({ rotateAfterDays: 8, warnDaysBefore: 7 });
  });
});

describe('resolveOrgPolicy: ids and lists', () => {
  it.each([
    ['ou-abcd-12345678', true],
    ['ou-0a1z-abcdefgh', true],
    [`ou-${'a'.repeat(32)}-${'1'.repeat(32)}`, true],
    ['ou-abc-12345678', false],
    [`ou-${'a'.repeat(33)}-12345678`, false],
    ['ou-abcd-1234567', false],
    [`ou-abcd-${'1'.repeat(33)}`, false],
    ['ou-ABCD-12345678', false],
    ['ou-ab_d-12345678', false],
    ['ou-abcd12345678', false],
    ['xou-abcd-12345678', false],
    ['ou-abcd-12345678 ', false],
    ['ou-abcd-12345678-r-abcd', false],
    ['r-abcd', true],
    [`r-${'0'.repeat(32)}`, true],
    ['r-abc', false],
    [`r-${'0'.repeat(33)}`, false],
    ['r-ABCD', false],
    [' r-abcd', false],
    ['r-abcdx!', false],
    ['root', false],
  ])('%s is an OU or root id: %s', (id, valid) => {
    const reason = `'${id}' is not an organisational unit id (ou-xxxx-xxxxxxxx) or root id (r-xxxx).`;
    if (valid) {
      expect(resolveOrgPolicy({ includeOus: [id] }).includeOus).toEqual([id]);
      expect(resolveOrgPolicy({ excludeOus: [id] }).excludeOus).toEqual([id]);
    } else {
      expect(reasonsFor({ includeOus: [id] })).toEqual([reason]);
      expect(reasonsFor({ excludeOus: [id] })).toEqual([reason]);
    }
  });

  it.each([
    ['123456789012', true],
    ['000000000000', true],
    ['12345678901', false],
    ['1234567890123', false],
    ['12345678901a', false],
    ['a123456789012', false],
    ['123456789012\n', false],
  ])('%j is an account id: %s', (id, valid) => {
    if (valid) {
      expect(resolveOrgPolicy({ includeAccounts: [id], excludeAccounts: ['999999999999'] }).includeAccounts).toEqual([id]);
    } else {
      expect(reasonsFor({ includeAccounts: [id] })).toEqual([`'${id}' is not an account id (12 digits).`]);
      expect(reasonsFor({ excludeAccounts: [id] })).toEqual([`'${id}' is not an account id (12 digits).`]);
    }
  });

  const lists = ['exemptGroups', 'includeAccounts', 'includeOus', 'excludeAccounts', 'excludeOus'] as const;
  it.each(lists)('%s: a list that is not one, or holds something other than a name, is refused for that alone', (name) => {
    const reason = `${name} must be a list of non-empty names.`;
    for (const value of ['123456789012', 123456789012, { id: '123456789012' }, null, [123456789012], [['123456789012']], [42], [true], [{ id: 'ou-abcd-12345678' }]]) {
      expect(reasonsFor({ [name]: value as never })).toEqual([reason]);
    }
    // A blank name is refused as such first (an id list then also says it is no id).
    for (const value of [[''], ['   '], ['admins', ' ']]) expect(reasonsFor({ [name]: value })[0]).toBe(reason);
  });

  it('exemptGroups: any non-blank name is a group', () => {
    expect(resolveOrgPolicy({ exemptGroups: ['break-glass', 'ci-bots'] }).exemptGroups).toEqual(['break-glass', 'ci-bots']);
  });

  it('a list that is not one, beside a list that holds the same value, is not "both included and excluded"', () => {
    expect(reasonsFor({ includeAccounts: '123456789012' as never, excludeAccounts: ['123456789012'] })).toEqual(['includeAccounts must be a list of non-empty names.']);
    expect(reasonsFor({ includeOus: ['r-abcd'], excludeOus: 'r-abcd' as never })).toEqual(['excludeOus must be a list of non-empty names.']);
  });

  it('every id in both lists is named, in order; ids in one list only are not', () => {
    expect(
      reasonsFor({
        includeAccounts: ['111111111111', '222222222222', '333333333333'],
        excludeAccounts: ['333333333333', '444444444444', '111111111111'],
        includeOus: ['r-abcd'],
        excludeOus: ['ou-abcd-12345678'],
      }),
    ).toEqual(['Account 111111111111 is both included and excluded.', 'Account 333333333333 is both included and excluded.']);
  });
});

describe('resolveOrgPolicy: the digest addresses', () => {
  it.each(['platform@example.com', 'a.b+keys@mail.example.co.uk', 'x@y.z'])('%s is an address', (address) => {
    expect(resolveOrgPolicy({ digest: 'account', digestTo: [address] }).digestTo).toEqual([address]);
  });

  it.each([
    'platform team@example.com',
    'platform@example.com, security@example.com',
    'platform@example.com ',
    ' platform@example.com',
    'platform@example',
    '@example.com',
    'platform@.com',
    'platform@example.',
    'platform@@example.com',
    'platform',
  ])('%j is not an address', (address) => {
    expect(reasonsFor({ digest: 'account', digestTo: [address] })).toEqual(['digestTo must be a list of email addresses.']);
  });

  it.each([
    ['a string', 'platform@example.com'],
    ['a list in a list', [['platform@example.com']]],
    ['a number', [42]],
  ])('digestTo as %s is refused, for that alone', (_name, digestTo) => {
    expect(reasonsFor({ digest: 'account', digestTo: digestTo as never })).toEqual(['digestTo must be a list of email addresses.']);
  });

  it('no digest or the owner digest, and no addresses: accepted', () => {
    expect(resolveOrgPolicy({ digest: 'off', digestTo: [] }).digest).toBe('off');
    expect(resolveOrgPolicy({ digest: 'owner' }).digest).toBe('owner');
    expect(reasonsFor({ digestTo: ['platform@example.com'] })).toEqual(["digestTo is only used by the account digest, and the digest is 'off'."]);
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
    expect(policyNeedsParents(policy({ includeOus: ['r-abcd'] }))).toBe(true);
    expect(policyNeedsParents(policy({ includeAccounts: ['111111111111'], excludeAccounts: ['222222222222'] }))).toBe(false);
  });

  const more: Array<[string, OrgPolicyInput, { id: string; status?: string; parents?: string[] }, boolean, string?]> = [
    ['an account outside the excluded OU', { excludeOus: ['ou-abcd-12345678'] }, { id: '111111111111', parents: ['ou-efgh-12345678', 'r-abcd'] }, true],
    ['an account whose OU path is not known, with an OU excluded', { excludeOus: ['ou-abcd-12345678'] }, { id: '111111111111' }, true],
    ['an account whose OU path is not known, with an OU included', { includeOus: ['ou-abcd-12345678'] }, { id: '111111111111' }, false, 'not in the included accounts or OUs'],
    ['an account outside the included OU', { includeOus: ['ou-abcd-12345678'] }, { id: '111111111111', parents: ['ou-efgh-12345678', 'r-abcd'] }, false, 'not in the included accounts or OUs'],
    ['an account in one of two included OUs, high up', { includeOus: ['ou-abcd-12345678', 'r-abcd'] }, { id: '111111111111', parents: ['ou-efgh-12345678', 'r-abcd'] }, true],
    ['an account included by OU though not by id', { includeAccounts: ['222222222222'], includeOus: ['r-abcd'] }, { id: '111111111111', parents: ['r-abcd'] }, true],
    ['an account included by id though not by OU', { includeAccounts: ['111111111111'], includeOus: ['ou-abcd-12345678'] }, { id: '111111111111', parents: ['r-abcd'] }, true],
    ['an excluded OU named by the first match in the policy', { excludeOus: ['ou-efgh-12345678', 'r-abcd'] }, { id: '111111111111', parents: ['ou-abcd-12345678', 'r-abcd'] }, false, 'in excluded OU r-abcd'],
    ['an excluded OU wins over an included account', { includeAccounts: ['111111111111'], excludeOus: ['r-abcd'] }, { id: '111111111111', parents: ['r-abcd'] }, false, 'in excluded OU r-abcd'],
    ['an account being closed', {}, { id: '111111111111', status: 'PENDING_CLOSURE' }, false, 'account status PENDING_CLOSURE'],
    ['an account with no status given', {}, { id: '111111111111' }, true],
  ];
  it.each(more)('%s', (_name, input, account, selected, reason) => {
    expect(selectAccount(account, policy(input))).toEqual(selected ? { selected: true } : { selected: false, reason });
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
