import { describe, expect, it } from 'vitest';
import { ageLevel, decideUser, needsInspection, TAGS, type OrgKey, type OrgUserState } from '../../src/core/org-decision.js';
import { resolveOrgPolicy, type OrgPolicyInput } from '../../src/core/org-policy.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);
/** Used 20 days ago (or when created, if younger) unless told otherwise. */
const key = (id: string, ageDays: number, extra: Partial<OrgKey> = {}): OrgKey => ({
  accessKeyId: id,
  active: true,
  createDate: daysAgo(ageDays),
  lastUsedDate: daysAgo(Math.min(ageDays, 20)),
  ...extra,
});
const user = (keys: OrgKey[], tags: Record<string, string> = {}, groups: string[] = []): OrgUserState => ({ userName: 'ci', keys, tags, groups });
const decide = (state: OrgUserState, policy: OrgPolicyInput = {}) => decideUser(state, NOW, resolveOrgPolicy(policy));

interface Row {
  name: string;
  state: OrgUserState;
  policy?: OrgPolicyInput;
  /** Per key, oldest first: action, upcoming action (or '-'), findings. */
  expect: Array<[string, string, string[]]>;
}

const rotated = (at: number, replacement: string) => ({ [TAGS.rotatedAt]: daysAgo(at).toISOString(), [TAGS.replacement]: replacement });
const deactivated = (at: number, id: string) => ({ [TAGS.deactivatedAt]: daysAgo(at).toISOString(), [TAGS.deactivated]: id });

const rows: Row[] = [
  { name: 'a young key: nothing', state: user([key('A', 10)]), expect: [['none', '-', []]] },
  { name: 'within the warning period: a rotation warning', state: user([key('A', 85)]), expect: [['none', 'rotate', []]] },
  { name: '90 days old: rotate', state: user([key('A', 90)]), expect: [['rotate', 'rotate', []]] },
  { name: 'older than 90: rotate, and an old-key finding', state: user([key('A', 91)]), expect: [['rotate', 'rotate', ['old']]] },
  { name: 'a custom period', state: user([key('A', 31)]), policy: { rotateAfterDays: 30 }, expect: [['rotate', 'rotate', ['old']]] },
  { name: 'unused for 45 days: a finding, no action', state: user([key('A', 50, { lastUsedDate: daysAgo(45) })]), expect: [['none', '-', ['unused']]] },
  {
    name: 'replacement delivered 3 days ago, warnings 2 days ahead: the old key waits',
    state: user([key('OLD', 93), key('NEW', 3)], rotated(3, 'NEW')),
    policy: { warnDaysBefore: 2 },
    expect: [['none', '-', ['old']], ['none', '-', []]],
  },
  {
    name: 'replacement delivered 1 day ago: the deactivation is warned of (warning period = deactivation period)',
    state: user([key('OLD', 91, { lastUsedDate: daysAgo(2) }), key('NEW', 1)], rotated(1, 'NEW')),
    expect: [['none', 'deactivate', ['old']], ['none', '-', []]],
  },
  {
    name: 'replacement delivered 7 days ago, old key unused since: deactivate',
    state: user([key('OLD', 97, { lastUsedDate: daysAgo(8) }), key('NEW', 7)], rotated(7, 'NEW')),
    expect: [['deactivate', 'deactivate', ['old']], ['none', '-', []]],
  },
  {
    name: 'old key used after its replacement was delivered: never deactivated',
    state: user([key('OLD', 97, { lastUsedDate: daysAgo(1) }), key('NEW', 7)], rotated(7, 'NEW')),
    expect: [['none', '-', ['old', 'used-after-replacement']], ['none', '-', []]],
  },
  {
    name: 'two active keys without a marker: a conflict, nothing deleted',
    state: user([key('A', 100), key('B', 50)]),
    expect: [['none', '-', ['conflict', 'old']], ['none', '-', ['conflict']]],
  },
  {
    name: 'a marker naming a key the user no longer has: a conflict',
    state: user([key('A', 100), key('B', 50)], rotated(10, 'GONE')),
    expect: [['none', '-', ['conflict', 'old']], ['none', '-', ['conflict']]],
  },
  {
    name: 'deactivated by aws-rekey 7 days ago: delete',
    state: user([key('OLD', 104, { active: false }), key('NEW', 14)], { ...rotated(14, 'NEW'), ...deactivated(7, 'OLD') }),
    expect: [['delete', 'delete', []], ['none', '-', []]],
  },
  {
    name: 'deactivated by aws-rekey 2 days ago: the deletion is warned of',
    state: user([key('OLD', 99, { active: false }), key('NEW', 9)], { ...rotated(9, 'NEW'), ...deactivated(2, 'OLD') }),
    expect: [['none', 'delete', []], ['none', '-', []]],
  },
  {
    name: 'an inactive key aws-rekey did not deactivate: never deleted',
    state: user([key('OLD', 400, { active: false }), key('NEW', 10)]),
    expect: [['none', '-', ['unmanaged-inactive']], ['none', '-', []]],
  },
  {
    name: 'due for rotation with the second slot taken: blocked, never a third key',
    state: user([key('OLD', 400, { active: false }), key('A', 95)]),
    expect: [['none', '-', ['unmanaged-inactive']], ['none', '-', ['blocked', 'old']]],
  },
  {
    name: 'exempt by tag: no action, findings kept',
    state: user([key('A', 200)], { [TAGS.exempt]: 'true', [TAGS.exemptReason]: 'vendor' }),
    expect: [['none', '-', ['old']]],
  },
  {
    name: 'exempt by group',
    state: user([key('A', 200)], {}, ['break-glass']),
    policy: { exemptGroups: ['break-glass'] },
    expect: [['none', '-', ['old']]],
  },
  {
    name: 'an exemption that ended: the policy applies',
    state: user([key('A', 200)], { [TAGS.exempt]: '2026-05-31' }),
    expect: [['rotate', 'rotate', ['old']]],
  },
];

describe('decideUser', () => {
  it.each(rows)('$name', ({ state, policy, expect: expected }) => {
    const decision = decide(state, policy);
    expect(decision.keys.map((k) => [k.action, k.upcoming?.action ?? '-', [...k.findings].sort()])).toEqual(expected);
    for (const k of decision.keys) expect(k.reason).not.toBe('');
  });

  it('dates: the deactivation is due 7 days after delivery, the deletion 7 days after deactivation', () => {
    const d = decide(user([key('OLD', 94), key('NEW', 2)], rotated(2, 'NEW')));
    expect(d.keys[0]?.upcoming?.on.toISOString()).toBe(new Date(daysAgo(2).getTime() + 7 * 86_400_000).toISOString());
    expect(d.keys[0]?.reason).toMatch(/deactivate on 2026-06-06/);
  });

  it('an exemption through a day still holds on that day, with its reason shown', () => {
    const d = decide(user([key('A', 200)], { [TAGS.exempt]: '2026-06-01', [TAGS.exemptReason]: 'migration, ticket 42' }));
    expect(d.exemption).toEqual({ by: 'tag', until: '2026-06-01', reason: 'migration, ticket 42' });
    expect(d.notes).toEqual([]);
  });

  it('notes: an ended exemption, an unreadable exemption, an owner that is not an address', () => {
    expect(decide(user([key('A', 1)], { [TAGS.exempt]: '2026-01-01' })).notes[0]).toMatch(/ended on 2026-01-01/);
    expect(decide(user([key('A', 1)], { [TAGS.exempt]: 'forever' })).notes[0]).toMatch(/not understood \(use true or a date/);
    const d = decide(user([key('A', 1)], { [TAGS.owner]: 'bob' }));
    expect(d.owner).toBeUndefined();
    expect(d.notes[0]).toMatch(/not an email address/);
    expect(decide(user([key('A', 1)], { [TAGS.owner]: 'bob@example.com' })).owner).toBe('bob@example.com');
  });

  it('Trusted Advisor levels: green ≤ 90 days, yellow ≤ 2 years, red beyond', () => {
    expect([0, 90, 91, 730, 731].map(ageLevel)).toEqual(['green', 'green', 'yellow', 'yellow', 'red']);
  });
});

describe('needsInspection (credential report first)', () => {
  const fromReport = (keys: Array<Omit<OrgKey, 'accessKeyId'>>) => decide({ userName: 'u', keys, tags: {}, groups: [] });
  it.each([
    ['one young key', [{ active: true, createDate: daysAgo(10) }], false],
    ['one young unused key (the finding needs no key id)', [{ active: true, createDate: daysAgo(60) }], false],
    ['a key within the warning period', [{ active: true, createDate: daysAgo(84) }], true],
    ['a key due', [{ active: true, createDate: daysAgo(120) }], true],
    ['two active keys', [{ active: true, createDate: daysAgo(10) }, { active: true, createDate: daysAgo(5) }], true],
    ['an inactive key', [{ active: false, createDate: daysAgo(10) }], true],
    ['no keys', [], false],
  ])('%s → %s', (_name, keys, expected) => {
    expect(needsInspection(fromReport(keys))).toBe(expected);
  });
});
