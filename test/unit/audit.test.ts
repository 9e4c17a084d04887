import { describe, expect, it } from 'vitest';
import { auditAccount, type AuditOptions } from '../../src/flows/audit.js';
import { mapBounded } from '../../src/core/map-bounded.js';
import type { AuditIamApi, IamUser } from '../../src/aws/audit-api.js';
import { AwsError } from '../../src/errors.js';
import { DEFAULT_THRESHOLDS, auditKeys, userPathOfArn, wholeDaysBetween, type AuditInventory, type AuditKeyRecord, type FindingKind } from '../../src/core/audit.js';
import { CredentialReportFormatError, parseCredentialReport, parseCsv } from '../../src/core/credential-report.js';
import { csvField, spreadsheetField } from '../../src/core/csv.js';
import { REPORT_HEADER as HEADER } from '../support/credential-report.js';
import { CSV_COLUMNS, createProgress, renderAuditCsv, renderAuditTable, summaryLine } from '../../src/cli/commands/audit.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const daysAgo = (days: number, hours = 0) => new Date(NOW.getTime() - days * 86_400_000 - hours * 3_600_000);

function key(overrides: Partial<AuditKeyRecord> = {}): AuditKeyRecord {
  return { userName: 'alice', accessKeyId: 'AKIAAAAAAAAAAAAAAAA1', active: true, createDate: daysAgo(10), lastUsedDate: daysAgo(1), ...overrides };
}

function inventory(keys: AuditKeyRecord[], extra: Partial<AuditInventory> = {}): AuditInventory {
  return { source: 'api', userCount: new Set(keys.map((k) => k.userName)).size, keys, ...extra };
}

describe('auditKeys: one key against the rules (max age 90, max unused 45)', () => {
  const cases: Array<{ name: string; key: Partial<AuditKeyRecord>; findings: FindingKind[] }> = [
    { name: 'young, used yesterday', key: {}, findings: [] },
    { name: 'exactly 90 days old is not yet older than 90', key: { createDate: daysAgo(90, 23) }, findings: [] },
    { name: '91 days old', key: { createDate: daysAgo(91) }, findings: ['old'] },
    { name: 'old but inactive: no finding', key: { createDate: daysAgo(400), lastUsedDate: daysAgo(300), active: false }, findings: [] },
    { name: 'unused for 44 days', key: { createDate: daysAgo(60), lastUsedDate: daysAgo(44, 23) }, findings: [] },
    { name: 'unused for exactly 45 days', key: { createDate: daysAgo(60), lastUsedDate: daysAgo(45) }, findings: ['unused'] },
    { name: 'never used, created 44 days ago', key: { createDate: daysAgo(44), lastUsedDate: undefined }, findings: [] },
    { name: 'never used, created 45 days ago (counted from creation)', key: { createDate: daysAgo(45), lastUsedDate: undefined }, findings: ['unused'] },
    { name: 'old and unused', key: { createDate: daysAgo(200), lastUsedDate: daysAgo(100) }, findings: ['old', 'unused'] },
    { name: 'no creation date: no age finding', key: { createDate: undefined, lastUsedDate: daysAgo(2) }, findings: [] },
    { name: 'created in the future (clock skew): age 0', key: { createDate: new Date(NOW.getTime() + 3_600_000), lastUsedDate: undefined }, findings: [] },
  ];
  it.each(cases)('$name → $findings', ({ key: overrides, findings }) => {
    const report = auditKeys(inventory([key(overrides)]), NOW);
    expect(report.keys[0]?.findings).toEqual(findings);
    expect(report.findings.map((f) => f.kind)).toEqual(findings);
    expect(report.summary).toEqual({ keys: 1, users: 1, findings: findings.length });
  });

  it('reports ages and days unused in whole days', () => {
    const report = auditKeys(inventory([key({ createDate: daysAgo(100, 5), lastUsedDate: daysAgo(3, 1) })]), NOW);
    expect(report.keys[0]).toMatchObject({ ageDays: 100, unusedDays: 3 });
    expect(report.findings[0]?.message).toBe('Active key is 100 days old (rotate within 90).');
  });

  it('takes other thresholds', () => {
    const report = auditKeys(inventory([key({ createDate: daysAgo(31), lastUsedDate: daysAgo(8) })]), NOW, { maxAgeDays: 30, maxUnusedDays: 7 });
    expect(report.keys[0]?.findings).toEqual(['old', 'unused']);
    expect(report.findings.map((f) => f.message)).toEqual([
      'Active key is 31 days old (rotate within 30).',
      'Active key unused for 8 days (disable after 7).',
    ]);
  });
});

describe('auditKeys: users and the root user', () => {
  const cases: Array<{ name: string; keys: AuditKeyRecord[]; extra?: Partial<AuditInventory>; findings: Array<[FindingKind, string]> }> = [
    {
      name: 'two active keys: one finding for the user, both keys marked',
      keys: [key(), key({ accessKeyId: 'AKIAAAAAAAAAAAAAAAA2' })],
      findings: [['two-active', 'alice']],
    },
    {
      name: 'one active and one inactive key: fine',
      keys: [key(), key({ accessKeyId: 'AKIAAAAAAAAAAAAAAAA2', active: false })],
      findings: [],
    },
    {
      name: 'two users with one active key each: fine',
      keys: [key(), key({ userName: 'bob', accessKeyId: 'AKIAAAAAAAAAAAAAAAA2' })],
      findings: [],
    },
    {
      name: 'root keys known from GetAccountSummary only',
      keys: [],
      extra: { rootKeysPresent: true },
      findings: [['root-key', '<root_account>']],
    },
    {
      name: 'root keys from the report, one finding whatever their number or state',
      keys: [
        key({ userName: '<root_account>', root: true, accessKeyId: undefined, slot: 1, createDate: daysAgo(500) }),
        key({ userName: '<root_account>', root: true, accessKeyId: undefined, slot: 2, active: false }),
      ],
      findings: [['root-key', '<root_account>']],
    },
    {
      name: 'no root keys',
      keys: [key()],
      extra: { rootKeysPresent: false },
      findings: [],
    },
  ];
  it.each(cases)('$name', ({ keys, extra, findings }) => {
    const report = auditKeys(inventory(keys, extra), NOW);
    expect(report.findings.map((f) => [f.kind, f.userName])).toEqual(findings);
    if (findings.some(([kind]) => kind === 'two-active')) {
      expect(report.keys.map((k) => k.findings)).toEqual([['two-active'], ['two-active']]);
    }
  });

  it('root keys get only the root-key finding, not age or use', () => {
    const report = auditKeys(inventory([key({ userName: '<root_account>', root: true, createDate: daysAgo(900), lastUsedDate: undefined })]), NOW);
    expect(report.keys[0]?.findings).toEqual(['root-key']);
    expect(report.findings[0]?.message).toBe('The root user has 1 access key (1 active): delete it.');
  });

  it('sorts keys by user, then creation; the root user first', () => {
    const report = auditKeys(
      inventory([
        key({ userName: 'bob', accessKeyId: 'B1', createDate: daysAgo(5) }),
        key({ userName: 'alice', accessKeyId: 'A2', createDate: daysAgo(1) }),
        key({ userName: 'alice', accessKeyId: 'A1', createDate: daysAgo(9) }),
        key({ userName: '<root_account>', root: true, accessKeyId: undefined }),
      ]),
      NOW,
    );
    expect(report.keys.map((k) => k.accessKeyId ?? k.userName)).toEqual(['<root_account>', 'A1', 'A2', 'B1']);
  });
});

describe('auditKeys: the findings in words', () => {
  const root = (overrides: Partial<AuditKeyRecord> = {}) => key({ userName: '<root_account>', root: true, accessKeyId: undefined, ...overrides });
  const rootMessage = (keys: AuditKeyRecord[], extra: Partial<AuditInventory> = {}) =>
    auditKeys(inventory(keys, extra), NOW).findings.map((f) => [f.kind, f.userName, f.message]);

  it.each([
    ['one active key', [root({ slot: 1 })], 'The root user has 1 access key (1 active): delete it.'],
    ['one inactive key', [root({ slot: 1, active: false })], 'The root user has 1 access key (0 active): delete it.'],
    ['two keys, one active', [root({ slot: 1 }), root({ slot: 2, active: false })], 'The root user has 2 access keys (1 active): delete them.'],
    ['two active keys', [root({ slot: 1 }), root({ slot: 2 })], 'The root user has 2 access keys (2 active): delete them.'],
  ])('the root user with %s', (_name, keys, message) => {
    expect(rootMessage(keys)).toEqual([['root-key', '<root_account>', message]]);
  });

  it('the root user known to have keys only from GetAccountSummary: no count to give', () => {
    expect(rootMessage([], { rootKeysPresent: true })).toEqual([['root-key', '<root_account>', 'The root user has access keys: delete them.']]);
  });

  it('root keys in the report win over a summary that says there are none', () => {
    expect(rootMessage([root()], { rootKeysPresent: false })).toEqual([['root-key', '<root_account>', 'The root user has 1 access key (1 active): delete it.']]);
  });

  it('a key never used: its age counts as the time unused, said so', () => {
    const report = auditKeys(inventory([key({ createDate: daysAgo(50), lastUsedDate: undefined })]), NOW);
    expect(report.findings.map((f) => f.message)).toEqual(['Active key never used in the 50 days since it was created (disable after 45).']);
    expect(report.keys[0]).toMatchObject({ ageDays: 50, unusedDays: 50 });
  });

  it('one day: "1 day", not "1 days" (thresholds of 0 and 1)', () => {
    const thresholds = { maxAgeDays: 0, maxUnusedDays: 1 };
    const used = auditKeys(inventory([key({ createDate: daysAgo(1), lastUsedDate: daysAgo(1) })]), NOW, thresholds);
    expect(used.findings.map((f) => f.message)).toEqual(['Active key is 1 day old (rotate within 0).', 'Active key unused for 1 day (disable after 1).']);
    const never = auditKeys(inventory([key({ createDate: daysAgo(1, 2), lastUsedDate: undefined })]), NOW, thresholds);
    expect(never.findings.map((f) => f.message)).toEqual([
      'Active key is 1 day old (rotate within 0).',
      'Active key never used in the 1 day since it was created (disable after 1).',
    ]);
  });

  it('an old, unused key: each finding names the key by id and creation date', () => {
    const created = daysAgo(120);
    const report = auditKeys(inventory([key({ userName: 'bob', accessKeyId: 'AKIABOB0000000000001', createDate: created, lastUsedDate: daysAgo(60) })]), NOW);
    expect(report.findings).toEqual([
      { kind: 'old', userName: 'bob', accessKeyId: 'AKIABOB0000000000001', keyCreated: created, message: 'Active key is 120 days old (rotate within 90).' },
      { kind: 'unused', userName: 'bob', accessKeyId: 'AKIABOB0000000000001', keyCreated: created, message: 'Active key unused for 60 days (disable after 45).' },
    ]);
  });

  it('two active keys: one finding for the user, in words, with no key named', () => {
    const report = auditKeys(inventory([key(), key({ accessKeyId: 'AKIAAAAAAAAAAAAAAAA2' })]), NOW);
    expect(report.findings).toEqual([{ kind: 'two-active', userName: 'alice', message: 'The user has two active keys (keep one).' }]);
  });

  it('an inactive key beside an active one is not counted; nor are the root user\'s keys', () => {
    const report = auditKeys(inventory([key({ active: false, accessKeyId: 'AKIAAAAAAAAAAAAAAAA2' }), key(), root({ slot: 1 }), root({ slot: 2 })]), NOW);
    expect(report.findings.map((f) => f.kind)).toEqual(['root-key']);
    expect(report.keys.map((k) => k.findings)).toEqual([['root-key'], ['root-key'], [], []]);
  });

  it('a key with no dates at all: no age, no days unused, no finding', () => {
    const report = auditKeys(inventory([key({ createDate: undefined, lastUsedDate: undefined })]), NOW);
    expect(report.keys[0]).toEqual({ userName: 'alice', accessKeyId: 'AKIAAAAAAAAAAAAAAAA1', active: true, findings: [] });
    expect(report.findings).toEqual([]);
  });

  it('the report carries its source, thresholds and time, and counts users as the inventory does', () => {
    const report = auditKeys({ source: 'credential-report', userCount: 7, keys: [key()] }, NOW);
    expect(report).toMatchObject({ source: 'credential-report', thresholds: DEFAULT_THRESHOLDS, now: NOW, summary: { keys: 1, users: 7, findings: 0 } });
  });
});

describe('auditKeys: the order of keys, whatever the order they come in', () => {
  // In the order the audit gives them: the root user first, then users by name, then by creation date (a key
  // with no date first), then by key id, then by report slot.
  const ordered: AuditKeyRecord[] = [
    key({ userName: '<root_account>', root: true, accessKeyId: undefined, slot: 1, createDate: daysAgo(3) }),
    key({ userName: '<root_account>', root: true, accessKeyId: undefined, slot: 2, createDate: daysAgo(1) }),
    // IAM allows names that sort before '<': the root user is first all the same.
    key({ userName: '+ci', accessKeyId: 'C1' }),
    key({ userName: '007', accessKeyId: 'N1' }),
    key({ userName: 'Zed', accessKeyId: 'Z1' }),
    key({ userName: 'alice', accessKeyId: 'A9', createDate: undefined }),
    key({ userName: 'alice', accessKeyId: 'A5', createDate: daysAgo(9) }),
    key({ userName: 'alice', accessKeyId: 'A1', createDate: daysAgo(2) }),
    key({ userName: 'alice', accessKeyId: 'A2', createDate: daysAgo(2) }),
    key({ userName: 'bob', accessKeyId: undefined, slot: 1, createDate: daysAgo(4) }),
    key({ userName: 'bob', accessKeyId: undefined, slot: 2, createDate: daysAgo(4) }),
  ];
  const label = (k: AuditKeyRecord) => `${k.userName}:${k.accessKeyId ?? `slot${k.slot}`}`;
  const expected = ordered.map(label);

  function permutations<T>(items: T[]): T[][] {
    if (items.length <= 1) return [items];
    return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
  }

  it('every order of input gives the same order out', () => {
    // 11! orders are too many: every order of the first five and of the last six, the rest as given and reversed.
    const heads = permutations(ordered.slice(0, 5));
    const tails = permutations(ordered.slice(5));
    const inputs = [
      ...heads.flatMap((head) => [[...head, ...ordered.slice(5)], [...ordered.slice(5).reverse(), ...head]]),
      ...tails.flatMap((tail) => [[...ordered.slice(0, 5), ...tail], [...tail, ...ordered.slice(0, 5).reverse()]]),
    ];
    for (const keys of inputs) {
      const got = auditKeys(inventory(keys), NOW).keys.map(label);
      if (got.join() !== expected.join()) expect(got).toEqual(expected);
    }
    expect(auditKeys(inventory([...ordered].reverse()), NOW).keys.map(label)).toEqual(expected);
  });

  it('does not reorder the caller\'s list', () => {
    const keys = [...ordered].reverse();
    auditKeys(inventory(keys), NOW);
    expect(keys.map(label)).toEqual([...expected].reverse());
  });
});

describe('small helpers', () => {
  it.each([
    ['arn:aws:iam::123456789012:user/alice', '/'],
    ['arn:aws:iam::123456789012:user/team/alice', '/team/'],
    ['arn:aws-cn:iam::123456789012:user/a/b/carol', '/a/b/'],
    ['arn:aws:iam::123456789012:root', undefined],
    ['arn:aws:iam::123456789012:user', undefined],
    ['arn:aws:iam::123456789012:role/team/deploy', undefined],
    ['arn:aws:sts::123456789012:user/team/alice', undefined],
    ['arn::iam::123456789012:user/team/alice', undefined],
    ['arn:aws:iam::12345678901a:user/team/alice', undefined],
    ['xarn:aws:iam::123456789012:user/team/alice', undefined],
    ['arn:aws:iam::123456789012:user/team/alice\n', undefined],
    ['arn:aws:iam:::user/team/alice', '/team/'],
    ['arn:aws-us-gov:iam::123456789012:user/alice/', '/alice/'],
  ])('userPathOfArn(%j) = %s', (arn, path) => {
    expect(userPathOfArn(arn)).toBe(path);
  });

  it('wholeDaysBetween never goes negative', () => {
    expect(wholeDaysBetween(daysAgo(2, 23), NOW)).toBe(2);
    expect(wholeDaysBetween(new Date(NOW.getTime() + 86_400_000 * 3), NOW)).toBe(0);
  });
});

const REPORT = [
  HEADER,
  '<root_account>,arn:aws:iam::123456789012:root,2014-01-01T00:00:00+00:00,not_supported,2025-05-01T10:00:00+00:00,not_supported,not_supported,true,' +
    'true,2019-03-04T05:06:07+00:00,2025-05-30T08:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
  'alice,arn:aws:iam::123456789012:user/alice,2020-01-01T00:00:00+00:00,true,2025-05-31T00:00:00+00:00,2020-01-01T00:00:00+00:00,N/A,false,' +
    'true,2024-01-02T03:04:05+00:00,2025-05-31T09:10:11+00:00,eu-west-1,ec2,false,2023-06-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A',
  '"ops,team",arn:aws:iam::123456789012:user/ops/ops%2Cteam,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,' +
    'false,N/A,N/A,N/A,N/A,true,2025-04-01T00:00:00+00:00,no_information,N/A,N/A,false,N/A,false,N/A',
  'nokeys,arn:aws:iam::123456789012:user/nokeys,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
].join('\r\n');

describe('parseCredentialReport', () => {
  it('reads every user, the root user, both key slots and the "nothing" values', () => {
    const rows = parseCredentialReport(`${REPORT}\r\n`);
    expect(rows.map((r) => [r.user, r.root, r.keys.length])).toEqual([
      ['<root_account>', true, 1],
      ['alice', false, 2],
      ['ops,team', false, 1],
      ['nokeys', false, 0],
    ]);
    expect(rows[0]?.keys[0]).toEqual({
      userName: '<root_account>',
      userArn: 'arn:aws:iam::123456789012:root',
      root: true,
      slot: 1,
      active: true,
      createDate: new Date('2019-03-04T05:06:07Z'),
      lastUsedDate: new Date('2025-05-30T08:00:00Z'),
      lastUsedRegion: 'us-east-1',
      lastUsedService: 's3',
    });
    expect(rows[1]?.keys).toEqual([
      {
        userName: 'alice',
        userArn: 'arn:aws:iam::123456789012:user/alice',
        slot: 1,
        active: true,
        createDate: new Date('2024-01-02T03:04:05Z'),
        lastUsedDate: new Date('2025-05-31T09:10:11Z'),
        lastUsedRegion: 'eu-west-1',
        lastUsedService: 'ec2',
      },
      { userName: 'alice', userArn: 'arn:aws:iam::123456789012:user/alice', slot: 2, active: false, createDate: new Date('2023-06-01T00:00:00Z') },
    ]);
    // A key only in slot 2; `no_information` means no date.
    expect(rows[2]?.keys).toEqual([
      { userName: 'ops,team', userArn: 'arn:aws:iam::123456789012:user/ops/ops%2Cteam', slot: 2, active: true, createDate: new Date('2025-04-01T00:00:00Z') },
    ]);
  });

  it('gives the same findings as the keys it describes', () => {
    const rows = parseCredentialReport(REPORT);
    const report = auditKeys({ source: 'credential-report', userCount: 3, keys: rows.flatMap((r) => r.keys) }, NOW);
    expect(report.findings.map((f) => [f.kind, f.userName])).toEqual([
      ['root-key', '<root_account>'],
      ['old', 'alice'],
      ['unused', 'ops,team'],
    ]);
  });

  it.each([
    ['an empty report', '', /empty/],
    ['a missing key column', 'user,arn,access_key_1_active\nalice,arn,true', /lacks the columns access_key_1_last_rotated/],
    ['a row with too few fields', `${HEADER}\nalice,arn:aws:iam::1:user/alice,true`, /Line 2 .* has 3 fields; its header has 22/],
    ['a date that is not one', REPORT.replace('2024-01-02T03:04:05+00:00', 'yesterday'), /Line 3 .*'yesterday' in access_key_1_last_rotated/],
    ['an unterminated quote', `${HEADER}\n"alice,`, /inside a quoted field/],
  ])('refuses %s', (_name, csv, message) => {
    expect(() => parseCredentialReport(csv)).toThrow(CredentialReportFormatError);
    expect(() => parseCredentialReport(csv)).toThrow(message);
  });
});

describe('parseCsv / csvField', () => {
  it.each([
    ['a,b\nc,d', [['a', 'b'], ['c', 'd']]],
    ['a,b\r\nc,d\r\n', [['a', 'b'], ['c', 'd']]],
    ['"a,1","b ""q"""\n', [['a,1', 'b "q"']]],
    ['"multi\nline",x', [['multi\nline', 'x']]],
    ['\ufeffa,,c', [['a', '', 'c']]],
    ['', []],
  ])('parseCsv(%j)', (text, rows) => {
    expect(parseCsv(text)).toEqual(rows);
  });

  it('csvField quotes only what needs it, and round-trips', () => {
    const values = ['plain', 'a,b', 'say "hi"', 'two\nlines', ''];
    expect(values.map(csvField)).toEqual(['plain', '"a,b"', '"say ""hi"""', '"two\nlines"', '']);
    expect(parseCsv(values.map(csvField).join(','))).toEqual([values]);
  });

  it('spreadsheetField: a cell a spreadsheet would evaluate gets a leading quote (OWASP CSV injection); others as csvField', () => {
    const cases: Array<[string, string]> = [
      ['=HYPERLINK("http://x","y")', '"\'=HYPERLINK(""http://x"",""y"")"'],
      ['+admin', "'+admin"],
      ['-1+2', "'-1+2"],
      ['@SUM(A1)', "'@SUM(A1)"],
      ['\tcmd', "'\tcmd"],
      ['\rcmd', '"\'\rcmd"'],
      ['alice=x', 'alice=x'],
      ['2026-11-30T09:17:00.000Z', '2026-11-30T09:17:00.000Z'],
      ['', ''],
    ];
    for (const [value, field] of cases) expect(spreadsheetField(value), JSON.stringify(value)).toBe(field);
  });
});

/** An in-memory IAM for the orchestrator: users with keys, a credential report, and a log of calls. */
function fakeIam(options: {
  users: Array<IamUser & { keys: Array<{ id: string; active: boolean; created: Date; used?: Date }> }>;
  report?: string;
  generatedAt?: Date;
  reportStates?: string[];
  denied?: string[];
  rootKeys?: boolean;
}) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const states = [...(options.reportStates ?? ['COMPLETE'])];
  const track = async <T>(name: string, fn: () => T): Promise<T> => {
    calls.push(name);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await new Promise((r) => setTimeout(r, 1));
      if (options.denied?.includes(name)) throw new AwsError('ACCESS_DENIED', `iam:${name}`, 'AccessDenied', `iam:${name} was denied`);
      return fn();
    } finally {
      inFlight -= 1;
    }
  };
  const find = (name: string) => {
    const user = options.users.find((u) => u.userName === name);
    if (!user) throw new AwsError('NO_SUCH_ENTITY', 'iam:ListAccessKeys', 'NoSuchEntity', `no user ${name}`);
    return user;
  };
  const api: AuditIamApi = {
    listUsers: ({ pathPrefix, marker }) =>
      track('ListUsers', () => {
        const all = options.users.filter((u) => !pathPrefix || u.path.startsWith(pathPrefix));
        const start = marker ? Number(marker) : 0;
        const page = all.slice(start, start + 2);
        return { users: page.map(({ userName, arn, path }) => ({ userName, arn, path })), ...(start + 2 < all.length ? { marker: String(start + 2) } : {}) };
      }),
    getUser: (userName) =>
      track('GetUser', () => {
        const { arn, path } = find(userName);
        return { userName, arn, path };
      }),
    listAccessKeys: (userName) =>
      track('ListAccessKeys', () => find(userName).keys.map((k) => ({ accessKeyId: k.id, status: k.active ? ('Active' as const) : ('Inactive' as const), createDate: k.created }))),
    getAccessKeyLastUsed: (id) =>
      track('GetAccessKeyLastUsed', () => {
        const found = options.users.flatMap((u) => u.keys).find((k) => k.id === id);
        return found?.used ? { date: found.used, serviceName: 'iam', region: 'us-east-1' } : {};
      }),
    rootKeysPresent: () => track('GetAccountSummary', () => options.rootKeys ?? false),
    generateCredentialReport: () => track('GenerateCredentialReport', () => states.shift() ?? 'COMPLETE'),
    getCredentialReport: () => track('GetCredentialReport', () => ({ csv: options.report ?? HEADER, ...(options.generatedAt ? { generatedAt: options.generatedAt } : {}) })),
  };
  return { api, calls, maxInFlight: () => maxInFlight };
}

function reportLine(user: IamUser & { keys: Array<{ active: boolean; created: Date; used?: Date }> }): string {
  const slot = (k?: { active: boolean; created: Date; used?: Date }) =>
    k ? [String(k.active), k.created.toISOString(), k.used?.toISOString() ?? 'N/A', 'us-east-1', 'iam'] : ['false', 'N/A', 'N/A', 'N/A', 'N/A'];
  return [user.userName, user.arn, 'N/A', 'false', 'N/A', 'N/A', 'N/A', 'false', ...slot(user.keys[0]), ...slot(user.keys[1]), 'false', 'N/A', 'false', 'N/A'].join(',');
}

const USERS = [
  { userName: 'alice', arn: 'arn:aws:iam::123456789012:user/alice', path: '/', keys: [{ id: 'AKIAALICE00000000001', active: true, created: daysAgo(200), used: daysAgo(1) }] },
  {
    userName: 'bob',
    arn: 'arn:aws:iam::123456789012:user/eng/bob',
    path: '/eng/',
    keys: [
      { id: 'AKIABOB0000000000001', active: true, created: daysAgo(10) },
      { id: 'AKIABOB0000000000002', active: true, created: daysAgo(5), used: daysAgo(2) },
    ],
  },
  { userName: 'carol', arn: 'arn:aws:iam::123456789012:user/eng/carol', path: '/eng/', keys: [{ id: 'AKIACAROL00000000001', active: false, created: daysAgo(900) }] },
  { userName: 'dave', arn: 'arn:aws:iam::123456789012:user/dave', path: '/', keys: [] },
  { userName: 'erin', arn: 'arn:aws:iam::123456789012:user/erin', path: '/', keys: [{ id: 'AKIAERIN000000000001', active: true, created: daysAgo(60) }] },
];
const FULL_REPORT = [HEADER, ...USERS.map(reportLine)].join('\n');
const clockAt = (date: Date) => () => date;
const noSleep = async () => undefined;

async function audit(fake: ReturnType<typeof fakeIam>, options: AuditOptions = {}) {
  return auditAccount({ now: NOW, ...options }, { api: fake.api, clock: clockAt(NOW), sleep: noSleep });
}

const findingsOf = (result: { findings: Array<{ kind: string; userName: string; keyCreated?: Date }> }) =>
  result.findings.map((f) => `${f.kind} ${f.userName} ${f.keyCreated?.toISOString() ?? ''}`).sort();

describe('auditAccount: choosing and using a source', () => {
  it('auto uses a fresh credential report: 2 requests, and the same findings as the per-user calls', async () => {
    const viaReport = fakeIam({ users: USERS, report: FULL_REPORT, generatedAt: daysAgo(0, 1) });
    const fromReport = await audit(viaReport);
    expect(fromReport.source).toBe('credential-report');
    expect(fromReport.fallback).toBe(false);
    expect(fromReport.reportGeneratedAt).toEqual(daysAgo(0, 1));
    // The report has no root row here, so the root user's keys come from GetAccountSummary.
    expect(viaReport.calls).toEqual(['GenerateCredentialReport', 'GetCredentialReport', 'GetAccountSummary']);

    const viaApi = fakeIam({ users: USERS });
    const fromApi = await audit(viaApi, { source: 'api' });
    expect(fromApi.source).toBe('api');
    expect(fromApi.sourceReason).toBe('asked for (--source api)');
    expect(findingsOf(fromApi)).toEqual(findingsOf(fromReport));
    expect(findingsOf(fromApi)).toEqual([
      `old alice ${daysAgo(200).toISOString()}`,
      'two-active bob ',
      `unused erin ${daysAgo(60).toISOString()}`,
    ]);
    expect(fromApi.summary).toEqual(fromReport.summary);
    expect(fromApi.summary).toEqual({ keys: 5, users: 5, findings: 3 });
    // ListUsers pages (2 a page), one ListAccessKeys per user, one GetAccessKeyLastUsed per key.
    expect(viaApi.calls.filter((c) => c === 'ListUsers')).toHaveLength(3);
    expect(viaApi.calls.filter((c) => c === 'ListAccessKeys')).toHaveLength(5);
    expect(viaApi.calls.filter((c) => c === 'GetAccessKeyLastUsed')).toHaveLength(5);
    expect(fromApi.keys.find((k) => k.accessKeyId === 'AKIAALICE00000000001')).toMatchObject({ userArn: USERS[0]?.arn, lastUsedService: 'iam', ageDays: 200 });
  });

  it('waits for the report while IAM generates it', async () => {
    const fake = fakeIam({ users: USERS, report: FULL_REPORT, generatedAt: NOW, reportStates: ['STARTED', 'INPROGRESS', 'INPROGRESS', 'COMPLETE'] });
    const result = await audit(fake);
    expect(result.source).toBe('credential-report');
    expect(fake.calls.filter((c) => c === 'GenerateCredentialReport')).toHaveLength(4);
  });

  it.each([
    {
      name: 'a report older than 4 hours',
      fake: { report: FULL_REPORT, generatedAt: daysAgo(0, 5) },
      reason: /the credential report was generated at .*, 5 h ago \(older than 4 h\)/,
    },
    { name: 'GenerateCredentialReport denied', fake: { denied: ['GenerateCredentialReport'] }, reason: /^iam:GenerateCredentialReport was denied \(AccessDenied\)$/ },
    { name: 'GetCredentialReport denied', fake: { denied: ['GetCredentialReport'], generatedAt: NOW }, reason: /^iam:GetCredentialReport was denied/ },
    { name: 'a malformed report', fake: { report: 'user,arn\nx,y', generatedAt: NOW }, reason: /lacks the columns/ },
  ])('auto falls back to per-user calls after $name, and says why', async ({ fake: extra, reason }) => {
    const fake = fakeIam({ users: USERS, ...extra });
    const result = await audit(fake);
    expect(result.source).toBe('api');
    expect(result.fallback).toBe(true);
    expect(result.sourceReason).toMatch(reason);
    expect(summaryLine(result)).toMatch(/; source: per-user calls \(the credential report was not used: /);
    expect(result.summary.findings).toBe(3);
  });

  it('auto gives up waiting for a report that never completes', async () => {
    const fake = fakeIam({ users: USERS, reportStates: Array(1000).fill('INPROGRESS') });
    let t = NOW.getTime();
    const result = await auditAccount({ now: NOW, reportTimeoutMs: 10_000 }, { api: fake.api, clock: () => new Date(t), sleep: async (ms) => void (t += ms) });
    expect(result.source).toBe('api');
    expect(result.sourceReason).toBe('IAM had not finished the credential report after 10 s');
  });

  it('--source report uses even a stale report, with a warning; and fails instead of falling back', async () => {
    const stale = await audit(fakeIam({ users: USERS, report: FULL_REPORT, generatedAt: daysAgo(3) }), { source: 'report' });
    expect(stale.source).toBe('credential-report');
    expect(stale.warnings.join('\n')).toMatch(/generated at .*, 3 days ago: keys created, deleted or used since then are not reflected/);
    await expect(audit(fakeIam({ users: USERS, denied: ['GenerateCredentialReport'] }), { source: 'report' })).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
  });

  it('--user narrows; auto then uses per-user calls for just those users', async () => {
    const fake = fakeIam({ users: USERS, report: FULL_REPORT, generatedAt: NOW });
    const result = await audit(fake, { users: ['bob', 'alice', 'bob'] });
    expect(result.source).toBe('api');
    expect(result.sourceReason).toMatch(/--user names 2 users/);
    expect(result.keys.map((k) => k.userName)).toEqual(['alice', 'bob', 'bob']);
    // The ARN, with the user's path, as the report and ListUsers paths give it (GetUser, one per user).
    expect(result.keys.map((k) => k.userArn)).toEqual(['arn:aws:iam::123456789012:user/alice', 'arn:aws:iam::123456789012:user/eng/bob', 'arn:aws:iam::123456789012:user/eng/bob']);
    expect(fake.calls.filter((c) => c === 'GetUser')).toHaveLength(2);
    expect(fake.calls).not.toContain('ListUsers');
    expect(fake.calls).not.toContain('GetAccountSummary');
    expect(result.scope).toEqual({ users: ['bob', 'alice'] });
  });

  it('--user with the report keeps those rows; unknown users are an error on both paths', async () => {
    const result = await audit(fakeIam({ users: USERS, report: FULL_REPORT, generatedAt: NOW }), { users: ['erin'], source: 'report' });
    expect(result.keys.map((k) => k.userName)).toEqual(['erin']);
    await expect(audit(fakeIam({ users: USERS }), { users: ['zed', 'alice', 'yan'] })).rejects.toMatchObject({
      code: 'NO_SUCH_USER',
      exitCode: 2,
      message: 'No IAM user named yan, zed in the account.',
    });
    await expect(audit(fakeIam({ users: USERS, report: FULL_REPORT, generatedAt: NOW }), { users: ['zed'], source: 'report' })).rejects.toMatchObject({
      code: 'NO_SUCH_USER',
    });
  });

  it('--user with --path-prefix: the named users, who must be under the path, on both sources', async () => {
    const viaApi = await audit(fakeIam({ users: USERS }), { users: ['bob'], pathPrefix: '/eng/' });
    const viaReport = await audit(fakeIam({ users: USERS, report: FULL_REPORT, generatedAt: NOW }), { users: ['bob'], pathPrefix: '/eng/', source: 'report' });
    expect(viaApi.keys.map((k) => k.userName)).toEqual(['bob', 'bob']);
    expect(viaReport.keys.map((k) => k.userName)).toEqual(['bob', 'bob']);
    await expect(audit(fakeIam({ users: USERS }), { users: ['bob', 'alice'], pathPrefix: '/eng/' })).rejects.toThrow('No IAM user named alice under the path /eng/.');
    await expect(
      audit(fakeIam({ users: USERS, report: FULL_REPORT, generatedAt: NOW }), { users: ['alice'], pathPrefix: '/eng/', source: 'report' }),
    ).rejects.toMatchObject({ code: 'NO_SUCH_USER' });
  });

  it('--path-prefix narrows both sources alike and skips the root check', async () => {
    const viaReport = fakeIam({ users: USERS, report: FULL_REPORT, generatedAt: NOW, rootKeys: true });
    const viaApi = fakeIam({ users: USERS, rootKeys: true });
    const a = await audit(viaReport, { pathPrefix: '/eng/' });
    const b = await audit(viaApi, { pathPrefix: '/eng/', source: 'api' });
    expect(a.keys.map((k) => k.userName)).toEqual(['bob', 'bob', 'carol']);
    expect(b.keys.map((k) => k.userName)).toEqual(['bob', 'bob', 'carol']);
    expect(findingsOf(a)).toEqual(['two-active bob ']);
    expect(findingsOf(b)).toEqual(['two-active bob ']);
    expect([...viaReport.calls, ...viaApi.calls]).not.toContain('GetAccountSummary');
  });

  it('root keys: from GetAccountSummary on the per-user path; a denied check is a warning, not silence', async () => {
    const found = await audit(fakeIam({ users: USERS, rootKeys: true }), { source: 'api' });
    expect(findingsOf(found)).toContain('root-key <root_account> ');
    const denied = await audit(fakeIam({ users: USERS, denied: ['GetAccountSummary'] }), { source: 'api' });
    expect(denied.warnings).toEqual(["Could not check the root user's keys: iam:GetAccountSummary was denied."]);
  });

  it('keeps at most `concurrency` calls in flight', async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      userName: `u${i}`,
      arn: `arn:aws:iam::123456789012:user/u${i}`,
      path: '/',
      keys: [{ id: `AKIA${String(i).padStart(16, '0')}`, active: true, created: daysAgo(1) }],
    }));
    const fake = fakeIam({ users: many });
    const result = await audit(fake, { source: 'api', concurrency: 4 });
    expect(result.summary.keys).toBe(60);
    expect(fake.maxInFlight()).toBe(4);
  });

  it('refuses bad thresholds and path prefixes before calling IAM', async () => {
    const fake = fakeIam({ users: USERS });
    await expect(audit(fake, { maxAgeDays: -1 })).rejects.toMatchObject({ code: 'USAGE', exitCode: 2 });
    await expect(audit(fake, { pathPrefix: 'eng' })).rejects.toThrow(/must start and end with '\/'/);
    expect(fake.calls).toEqual([]);
  });
});

describe('mapBounded', () => {
  it('keeps the order of the input and stops at the first failure', async () => {
    expect(await mapBounded([3, 1, 2], 2, async (n) => n * 10)).toEqual([30, 10, 20]);
    const started: number[] = [];
    await expect(
      mapBounded([1, 2, 3, 4, 5, 6], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('boom');
        return n;
      }),
    ).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });
});

describe('renderAuditCsv', () => {
  it('one row per key, with a header; a root user known only from the summary gets its own row', async () => {
    const result = await audit(fakeIam({ users: USERS, rootKeys: true }), { source: 'api' });
    const rows = parseCsv(renderAuditCsv(result, result.keys));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(1 + 5 + 1);
    const alice = rows.find((r) => r[2] === 'AKIAALICE00000000001');
    expect(alice).toEqual([
      'alice',
      'arn:aws:iam::123456789012:user/alice',
      'AKIAALICE00000000001',
      '',
      'Active',
      daysAgo(200).toISOString(),
      '200',
      daysAgo(1).toISOString(),
      'iam',
      'us-east-1',
      '1',
      'old',
    ]);
    expect(rows.filter((r) => r[0] === 'bob').map((r) => r[11])).toEqual(['two-active', 'two-active']);
    expect(rows.at(-1)).toEqual(['<root_account>', '', '', '', '', '', '', '', '', '', '', 'root-key']);
  });
});

describe('renderAuditTable', () => {
  it('aligned columns, whole key ids (an admin acts on them), findings per key, the root line and the summary', async () => {
    const result = await audit(fakeIam({ users: USERS, rootKeys: true }), { source: 'api' });
    const text = renderAuditTable(result, result.keys, false);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^USER +KEY +STATUS +CREATED +AGE +LAST USED +SERVICE +REGION +FINDINGS$/);
    expect(lines).toContain(`alice  AKIAALICE00000000001  Active    ${daysAgo(200).toISOString().slice(0, 10)}  200 d  ${daysAgo(1).toISOString().slice(0, 16).replace('T', ' ')}  iam      us-east-1  old`);
    expect(text).not.toContain('…');
    const columns = lines.slice(0, 6).map((line) => line.search(/STATUS|Active|Inactive/));
    expect(new Set(columns)).toEqual(new Set([29]));
    expect(text).toContain('<root_account>: The root user has access keys: delete them.');
    expect(lines.at(-2)).toBe('5 keys, 5 users, 4 findings; source: per-user calls');
    expect(renderAuditTable(result, [], false)).toMatch(/^No key has a finding\./);
  });

  it('renders a large account (12,000 keys): a header, one line per key, the summary', () => {
    const keys = Array.from({ length: 12_000 }, (_, i) => key({ userName: `user-${i}`, accessKeyId: `AKIA${String(i).padStart(16, '0')}` }));
    const report = auditKeys(inventory(keys), NOW);
    const text = renderAuditTable({ ...report, schemaVersion: 1, sourceReason: '', fallback: false, scope: {}, warnings: [] }, report.keys, true);
    const lines = text.split('\n');
    expect(lines).toHaveLength(12_000 + 2 + 1);
    expect(lines.filter((line) => line.startsWith('user-'))).toHaveLength(12_000);
  });

  it('says the thresholds in the right number: 1 day, 90 days', () => {
    const report = auditKeys(inventory([key({ createDate: daysAgo(2), lastUsedDate: daysAgo(2) })]), NOW, { maxAgeDays: 1, maxUnusedDays: 90 });
    const text = renderAuditTable({ ...report, schemaVersion: 1, sourceReason: '', fallback: false, scope: {}, warnings: [] }, report.keys, false);
    expect(text).toContain('Findings (old: 1); thresholds: rotate within 1 day, disable after 90 days unused.');
  });
});

describe('createProgress', () => {
  const stream = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, isTTY, write: (text: string) => (writes.push(text), true) } as unknown as { writes: string[]; isTTY: boolean; write: NodeJS.WriteStream['write'] };
  };

  it('draws nothing when stderr is not a terminal', () => {
    const err = stream(false);
    let t = 0;
    const progress = createProgress(err, () => t);
    t = 5_000;
    progress.update({ phase: 'keys', done: 3, total: 10 });
    progress.done();
    expect(err.writes).toEqual([]);
  });

  it('on a terminal: nothing for short runs, then one line redrawn at most ten times a second, cleared at the end', () => {
    const err = stream(true);
    let t = 0;
    const progress = createProgress(err, () => t);
    t = 100;
    progress.update({ phase: 'users', done: 1000 });
    expect(err.writes).toEqual([]);
    t = 500;
    progress.update({ phase: 'keys', done: 10, total: 1000 });
    t = 550;
    progress.update({ phase: 'keys', done: 20, total: 1000 });
    t = 700;
    progress.update({ phase: 'keys', done: 30, total: 1000 });
    progress.done();
    expect(err.writes).toEqual(['\r\u001b[2Kreading keys… 10/1000 users', '\r\u001b[2Kreading keys… 30/1000 users', '\r\u001b[2K']);
  });
});
