import { describe, expect, it } from 'vitest';
import { ageLevel, decideUser, emptyTally, needsInspection, rotationTagValue, tallyDecisions, TAGS, worthListing, type OrgKey, type OrgUserState } from '../../src/core/org-decision.js';
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

describe('decideUser: the safety rules at their edges', () => {
  const actions = (state: OrgUserState, policy?: OrgPolicyInput) => decide(state, policy).keys.map((k) => [k.accessKeyId, k.action, k.upcoming?.action ?? '-', [...k.findings].sort()]);

  it('keys come in any order and are decided oldest first', () => {
    expect(actions(user([key('NEW', 7), key('OLD', 97, { lastUsedDate: daysAgo(8) })], rotated(7, 'NEW')))).toEqual([
      ['OLD', 'deactivate', 'deactivate', ['old']],
      ['NEW', 'none', '-', []],
    ]);
  });

  it('only the key aws-rekey deactivated is deleted: not another inactive key, not a key without an id', () => {
    expect(actions(user([key('OTHER', 104, { active: false }), key('NEW', 14)], deactivated(7, 'OLD')))).toEqual([
      ['OTHER', 'none', '-', ['unmanaged-inactive']],
      ['NEW', 'none', '-', []],
    ]);
    // From the credential report (no key ids) with a deactivation date but no id: nothing matches.
    const fromReport = decide({ userName: 'ci', keys: [{ active: false, createDate: daysAgo(104) }], tags: { [TAGS.deactivatedAt]: daysAgo(7).toISOString() }, groups: [] });
    expect(fromReport.keys.map((k) => [k.action, k.findings])).toEqual([['none', ['unmanaged-inactive']]]);
  });

  it('a delivery date without a replacement id: two active keys stay a conflict (report rows have no ids)', () => {
    const d = decide({ userName: 'ci', keys: [{ active: true, createDate: daysAgo(97), lastUsedDate: daysAgo(1) }, { active: true, createDate: daysAgo(7) }], tags: { [TAGS.rotatedAt]: daysAgo(7).toISOString() }, groups: [] });
    expect(d.keys.map((k) => [k.action, [...k.findings].sort()])).toEqual([
      ['none', ['conflict', 'old']],
      ['none', ['conflict']],
    ]);
  });

  it('the old key used at the very moment of delivery is not "used after": its deactivation goes on', () => {
    const at = daysAgo(7);
    expect(actions(user([key('OLD', 97, { lastUsedDate: at }), key('NEW', 7)], { [TAGS.rotatedAt]: at.toISOString(), [TAGS.replacement]: 'NEW' }))[0]).toEqual(['OLD', 'deactivate', 'deactivate', ['old']]);
    const later = new Date(at.getTime() + 1000);
    expect(actions(user([key('OLD', 97, { lastUsedDate: later }), key('NEW', 7)], { [TAGS.rotatedAt]: at.toISOString(), [TAGS.replacement]: 'NEW' }))[0]).toEqual([
      'OLD',
      'none',
      '-',
      ['old', 'used-after-replacement'],
    ]);
  });

  it('the warning period starts exactly warnDaysBefore days before the action', () => {
    expect(actions(user([key('A', 83)]))).toEqual([['A', 'none', 'rotate', []]]);
    expect(actions(user([key('A', 82.9)]))).toEqual([['A', 'none', '-', []]]);
  });

  it('the second slot taken by a key aws-rekey will not delete: blocked from the first day of the warning period', () => {
    const unmanaged = key('OLD', 400, { active: false });
    expect(actions(user([unmanaged, key('A', 83)]))[1]).toEqual(['A', 'none', '-', ['blocked']]);
    expect(actions(user([unmanaged, key('A', 82.9)]))[1]).toEqual(['A', 'none', '-', []]);
  });

  it('the second slot taken by a key aws-rekey is deleting: the rotation waits for the deletion, not blocked', () => {
    const d = decide(user([key('OLD', 104, { active: false }), key('NEW', 95)], deactivated(2, 'OLD')));
    expect(d.keys.map((k) => [k.accessKeyId, k.action, k.upcoming?.action ?? '-', [...k.findings].sort()])).toEqual([
      ['OLD', 'none', 'delete', []],
      ['NEW', 'none', '-', ['old']],
    ]);
    expect(d.keys[1]?.reason).toBe('due for rotation on 2026-05-27, after the inactive key is deleted');
  });

  it('reasons, with their dates', () => {
    const reasons = (state: OrgUserState) => decide(state).keys.map((k) => k.reason);
    expect(reasons(user([key('A', 10)]))).toEqual(['created on 2026-05-22: rotate on 2026-08-20']);
    expect(reasons(user([key('A', 85)]))).toEqual(['created on 2026-03-08: rotate on 2026-06-06']);
    expect(reasons(user([key('A', 100)]))).toEqual(['created on 2026-02-21: rotate due since 2026-05-22']);
    expect(reasons(user([key('OLD', 97, { lastUsedDate: daysAgo(8) }), key('NEW', 7)], rotated(7, 'NEW')))).toEqual([
      'replaced on 2026-05-25: deactivate due since 2026-06-01',
      'replacement delivered on 2026-05-25',
    ]);
    expect(reasons(user([key('OLD', 97, { lastUsedDate: daysAgo(1) }), key('NEW', 7)], rotated(7, 'NEW')))[0]).toBe(
      'used on 2026-05-31, after its replacement was delivered (2026-05-25): not deactivated',
    );
    expect(reasons(user([key('OLD', 104, { active: false }), key('NEW', 14)], deactivated(7, 'OLD')))[0]).toBe('deactivated by aws-rekey on 2026-05-25: delete due since 2026-06-01');
    expect(reasons(user([key('OLD', 400, { active: false }), key('A', 95)]))).toEqual([
      'inactive, not deactivated by aws-rekey: left alone',
      "due for rotation on 2026-05-27, but the user's second key slot is taken by an inactive key aws-rekey did not deactivate",
    ]);
    expect(reasons(user([key('A', 100), key('B', 50)]))).toEqual([
      'two active keys, and no record of which one replaced the other: decide by hand',
      'two active keys, and no record of which one replaced the other: decide by hand',
    ]);
  });

  it('a decision from the credential report, whole: no key id, no last use, the base reasons', () => {
    const created = daysAgo(400);
    const d = decideUser({ userName: 'ci', arn: 'arn:aws:iam::123456789012:user/ci', keys: [{ active: false, createDate: created }], tags: {}, groups: [] }, NOW, resolveOrgPolicy({}));
    expect(d).toStrictEqual({
      userName: 'ci',
      arn: 'arn:aws:iam::123456789012:user/ci',
      keys: [{ active: false, createDate: created, ageDays: 400, level: 'yellow', action: 'none', findings: ['unmanaged-inactive'], reason: 'inactive, not deactivated by aws-rekey: left alone' }],
      notes: [],
    });
    const exemptKey = decide(user([{ accessKeyId: 'A', active: true, createDate: daysAgo(10) }], { [TAGS.exempt]: 'true' })).keys[0];
    expect(exemptKey).toStrictEqual({ accessKeyId: 'A', active: true, createDate: daysAgo(10), ageDays: 10, level: 'green', action: 'none', findings: [], reason: 'created on 2026-05-22: rotate on 2026-08-20' });
  });

  it('a rotation that stopped part-way: no action on any key until the next enforce run finishes or undoes it', () => {
    const d = decide(user([key('OLD', 100), key('NEW', 0)], { [TAGS.rotation]: rotationTagValue('created', ['OLD']) }));
    expect(d.interrupted).toEqual({ phase: 'created', keysBefore: ['OLD'] });
    expect(d.keys.map((k) => [k.action, k.upcoming, k.reason])).toEqual([
      ['none', undefined, "a rotation stopped after 'created': the next enforce run finishes or undoes it"],
      ['none', undefined, "a rotation stopped after 'created': the next enforce run finishes or undoes it"],
    ]);
    expect(decide(user([key('A', 100)])).interrupted).toBeUndefined();
  });

  it.each([
    ['created', ['AKIAAAAAAAAAAAAAAAA1', 'AKIABBBBBBBBBBBBBBB2'], 'created:AKIAAAAAAAAAAAAAAAA1+AKIABBBBBBBBBBBBBBB2'],
    ['started', [], 'started:'],
  ])('the rotation tag %s with %j reads back', (phase, keysBefore, value) => {
    expect(rotationTagValue(phase, keysBefore)).toBe(value);
    expect(decide(user([key('A', 1)], { [TAGS.rotation]: value })).interrupted).toEqual({ phase, keysBefore });
  });

  it('a rotation tag without a colon: the phase alone; an empty tag still marks a stopped rotation', () => {
    expect(decide(user([key('A', 1)], { [TAGS.rotation]: 'created' })).interrupted).toEqual({ phase: 'created', keysBefore: [] });
    expect(decide(user([key('A', 1)], { [TAGS.rotation]: '' })).interrupted).toEqual({ phase: '', keysBefore: [] });
  });
});

describe('exemptions and owners, as people write the tags', () => {
  it.each([
    ['true', 'true', { by: 'tag' }],
    ['yes', 'yes', { by: 'tag' }],
    ['an empty value', '', { by: 'tag' }],
    ['upper case, spaces around', '  TRUE ', { by: 'tag' }],
    ['a date, spaces around', ' 2026-07-01 ', { by: 'tag', until: '2026-07-01' }],
  ])('%s: exempt', (_name, value, exemption) => {
    const d = decide(user([key('A', 200)], { [TAGS.exempt]: value }));
    expect(d.exemption).toEqual(exemption);
    expect(d.keys[0]?.action).toBe('none');
    expect(d.notes).toEqual([]);
  });

  it.each([
    ['false', 'false'],
    ['no', 'no'],
  ])('%s: not exempt, and nothing to fix', (_name, value) => {
    const d = decide(user([key('A', 200)], { [TAGS.exempt]: value }));
    expect(d.exemption).toBeUndefined();
    expect(d.keys[0]?.action).toBe('rotate');
    expect(d.notes).toEqual([]);
  });

  it.each([
    ['a word', 'forever'],
    ['a date that does not exist', '2026-13-45'],
    ['an expanded-year date', '+002026-07-01'],
    ['another date format', '07/01/2026'],
  ])('%s: not exempt, with a note naming the tag', (_name, value) => {
    const d = decide(user([key('A', 200)], { [TAGS.exempt]: value }));
    expect(d.exemption).toBeUndefined();
    expect(d.keys[0]?.action).toBe('rotate');
    expect(d.notes).toEqual([`The tag aws-rekey:exempt=${value} is not understood (use true or a date YYYY-MM-DD): the user is not exempt.`]);
  });

  it('an exemption through a day ends at midnight UTC after it', () => {
    const policy = resolveOrgPolicy({});
    const state = user([key('A', 200)], { [TAGS.exempt]: '2026-06-01' });
    expect(decideUser(state, new Date('2026-06-01T23:59:59.999Z'), policy).exemption).toEqual({ by: 'tag', until: '2026-06-01' });
    const after = decideUser(state, new Date('2026-06-02T00:00:00Z'), policy);
    expect(after.exemption).toBeUndefined();
    expect(after.notes).toEqual(['The exemption (aws-rekey:exempt=2026-06-01) ended on 2026-06-01: the policy applies again.']);
  });

  it('the reason is trimmed; a blank reason is none', () => {
    expect(decide(user([key('A', 1)], { [TAGS.exempt]: 'true', [TAGS.exemptReason]: '  vendor key  ' })).exemption).toEqual({ by: 'tag', reason: 'vendor key' });
    expect(decide(user([key('A', 1)], { [TAGS.exempt]: 'true', [TAGS.exemptReason]: '   ' })).exemption).toStrictEqual({ by: 'tag' });
    expect(decide(user([key('A', 1)], { [TAGS.exempt]: 'yes', [TAGS.exemptReason]: 'audit' })).exemption).toEqual({ by: 'tag', reason: 'audit' });
  });

  it.each([
    ['an address', 'bob@example.com', 'bob@example.com'],
    ['an address with spaces around', '  bob@example.com ', 'bob@example.com'],
    ['a name and an address', 'Bob <bob@example.com>', undefined],
    ['two addresses', 'bob@example.com, carol@example.com', undefined],
    ['an address with a trailing word', 'bob@example.com team', undefined],
    ['no domain dot', 'bob@localhost', undefined],
  ])('owner tag, %s', (_name, value, owner) => {
    const d = decide(user([key('A', 1)], { [TAGS.owner]: value }));
    expect(d.owner).toBe(owner);
    expect(d.notes).toEqual(owner ? [] : [`The tag aws-rekey:owner=${value.trim()} is not an email address: no mail can be sent.`]);
  });
});

describe('worthListing (which users the report shows)', () => {
  const worth = (state: OrgUserState, policy?: OrgPolicyInput) => worthListing(decide(state, policy));
  it.each([
    ['a young key, nothing to say', user([key('A', 10)]), false],
    ['no keys', user([]), false],
    ['a rotation coming', user([key('A', 85)]), true],
    ['a rotation due', user([key('A', 95)]), true],
    ['an unused key (a finding the engine never acts on)', user([key('A', 50, { lastUsedDate: daysAgo(45) })]), true],
    ['exempt, nothing else', user([key('A', 10)], { [TAGS.exempt]: 'true' }), true],
    ['a note only', user([key('A', 10)], { [TAGS.owner]: 'bob' }), true],
    ['a stopped rotation only', user([key('A', 10)], { [TAGS.rotation]: 'created:A' }), true],
  ])('%s → %s', (_name, state, expected) => {
    expect(worth(state)).toBe(expected);
  });

  it('a stopped rotation needs the user\'s keys and tags read, even with nothing else to do', () => {
    expect(needsInspection(decide(user([key('A', 10)], { [TAGS.rotation]: 'created:A' })))).toBe(true);
    expect(needsInspection(decide(user([key('A', 95)])))).toBe(true);
  });
});

describe('tallyDecisions', () => {
  it('counts users, keys by level, due and coming actions, findings, exempt users; adds to a running tally', () => {
    const users = [
      decide(user([key('A', 10)])),
      decide(user([key('A', 85)])),
      decide(user([key('OLD', 800, { active: false }), key('A', 100)])),
      decide(user([key('A', 400)], { [TAGS.exempt]: 'true' })),
      decide(user([key('OLD', 104, { active: false }), key('NEW', 14)], deactivated(7, 'OLD'))),
    ];
    const tally = tallyDecisions(users);
    expect(tally).toEqual({
      users: 5,
      keys: 7,
      due: { rotate: 0, deactivate: 0, delete: 1 },
      upcoming: 1,
      findings: { 'unmanaged-inactive': 1, blocked: 1, old: 2 },
      exemptUsers: 1,
      levels: { green: 3, yellow: 2, red: 0 },
    });
    const rotateDue = decide(user([key('A', 95)]));
    expect(tallyDecisions([rotateDue], tally)).toBe(tally);
    expect(tally).toMatchObject({ users: 6, keys: 8, due: { rotate: 1, deactivate: 0, delete: 1 }, findings: { old: 3 }, levels: { green: 3, yellow: 3, red: 0 } });
    expect(tallyDecisions([])).toEqual(emptyTally());
  });
});
