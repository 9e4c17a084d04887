import { describe, expect, it } from 'vitest';
import { CredentialReportFormatError, parseCredentialReport, parseCsv } from '../../src/core/credential-report.js';
import { RekeyError } from '../../src/errors.js';
import { REPORT_HEADER, reportRow } from '../support/credential-report.js';

const ALICE = 'arn:aws:iam::123456789012:user/alice';
const report = (...lines: string[]) => [REPORT_HEADER, ...lines].join('\n');

function refusal(csv: string): CredentialReportFormatError {
  try {
    parseCredentialReport(csv);
  } catch (error) {
    if (error instanceof CredentialReportFormatError) return error;
    throw error;
  }
  throw new Error('parseCredentialReport accepted the report');
}

describe('parseCredentialReport: what it refuses, in words', () => {
  it('a refusal is a RekeyError with its code and the way out', () => {
    const error = refusal('');
    expect(error).toBeInstanceOf(RekeyError);
    expect(error).toMatchObject({ code: 'CREDENTIAL_REPORT_MALFORMED', exitCode: 1, hint: 'Audit with the per-user calls instead: --source api.' });
  });

  it.each([
    ['nothing', ''],
    ['a line break', '\n'],
    ['a CRLF', '\r\n'],
    ['a byte order mark', '\ufeff'],
    ['a blank first line', `\n${REPORT_HEADER}`],
  ])('a report of %s is empty', (_name, csv) => {
    expect(refusal(csv).message).toBe('The credential report is empty.');
  });

  it('a header with one column names the other 7 it lacks', () => {
    expect(refusal('user\nalice').message).toBe(
      'The credential report lacks the columns arn, access_key_1_active, access_key_1_last_rotated, access_key_1_last_used_date, ' +
        'access_key_2_active, access_key_2_last_rotated, access_key_2_last_used_date.',
    );
  });

  it('one column missing: "the column", singular', () => {
    expect(refusal(REPORT_HEADER.replace(',access_key_2_last_used_date,', ',something_else,')).message).toBe(
      'The credential report lacks the column access_key_2_last_used_date.',
    );
  });

  it('a line with too many or too few fields, counting lines from 1 with the header', () => {
    expect(refusal(report(reportRow('alice', ALICE), `${reportRow('bob', ALICE)},extra`)).message).toBe(
      'Line 3 of the credential report has 23 fields; its header has 22.',
    );
    expect(refusal(report('alice,arn')).message).toBe('Line 2 of the credential report has 2 fields; its header has 22.');
  });

  it('a line of one field: "1 field" (a blank line before it still counts as a line)', () => {
    expect(refusal(report(reportRow('alice', ALICE), '', 'bob')).message).toBe('Line 4 of the credential report has 1 field; its header has 22.');
  });

  it.each([
    ['access_key_1_last_rotated', reportRow('alice', ALICE, { active: 'true', lastRotated: 'last week' })],
    ['access_key_2_last_used_date', reportRow('alice', ALICE, {}, { active: 'true', lastRotated: '2025-01-01T00:00:00+00:00', lastUsedDate: 'last week' })],
  ])('a date in %s that is not one: the line, the value and the column', (column, line) => {
    expect(refusal(report(reportRow('bob', ALICE), line)).message).toBe(`Line 3 of the credential report has 'last week' in ${column}, which is not a date.`);
  });
});

describe('parseCredentialReport: what it reads', () => {
  it('blank lines between users are skipped', () => {
    const rows = parseCredentialReport(report('', reportRow('alice', ALICE), '', '', reportRow('bob', 'arn:aws:iam::123456789012:user/bob'), ''));
    expect(rows.map((r) => r.user)).toEqual(['alice', 'bob']);
  });

  it('header names with spaces around them', () => {
    const header = REPORT_HEADER.split(',').map((name) => ` ${name} `).join(',');
    const rows = parseCredentialReport([header, reportRow('alice', ALICE, { active: 'true', lastRotated: '2025-01-01T00:00:00+00:00' })].join('\n'));
    expect(rows[0]?.keys).toStrictEqual([{ userName: 'alice', userArn: ALICE, slot: 1, active: true, createDate: new Date('2025-01-01T00:00:00Z') }]);
  });

  it('a column with no name, even the first, is one it does not need', () => {
    const rows = parseCredentialReport([`,${REPORT_HEADER}`, `x,${reportRow('alice', ALICE, { active: 'true' })}`].join('\n'));
    expect(rows).toStrictEqual([{ user: 'alice', arn: ALICE, root: false, keys: [{ userName: 'alice', userArn: ALICE, slot: 1, active: true }] }]);
  });

  it('a line with an empty user name is read, not skipped as blank: its keys are counted', () => {
    const rows = parseCredentialReport(report(reportRow('', '', { active: 'true', lastRotated: '2025-01-01T00:00:00Z' })));
    expect(rows).toStrictEqual([{ user: '', arn: '', root: false, keys: [{ userName: '', userArn: '', slot: 1, active: true, createDate: new Date('2025-01-01T00:00:00Z') }] }]);
  });

  it('only the columns it needs: the last-used region and service may be missing', () => {
    const header = 'user,arn,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date';
    const rows = parseCredentialReport(`${header}\nalice,${ALICE},true,2025-01-01T00:00:00+00:00,2025-02-01T00:00:00+00:00,false,N/A,N/A`);
    expect(rows).toStrictEqual([
      {
        user: 'alice',
        arn: ALICE,
        root: false,
        keys: [{ userName: 'alice', userArn: ALICE, slot: 1, active: true, createDate: new Date('2025-01-01T00:00:00Z'), lastUsedDate: new Date('2025-02-01T00:00:00Z') }],
      },
    ]);
  });

  it('an active slot without a creation date is a key all the same; an inactive one without a date is none', () => {
    const rows = parseCredentialReport(report(reportRow('alice', ALICE, { active: 'true' }, { active: 'false' })));
    expect(rows[0]?.keys).toStrictEqual([{ userName: 'alice', userArn: ALICE, slot: 1, active: true }]);
  });

  it('only `true` is active', () => {
    const rows = parseCredentialReport(report(reportRow('alice', ALICE, { active: 'TRUE', lastRotated: '2025-01-01T00:00:00Z' }, { active: 'true', lastRotated: '2025-02-01T00:00:00Z' })));
    expect(rows[0]?.keys.map((k) => [k.slot, k.active])).toEqual([
      [1, false],
      [2, true],
    ]);
  });

  it.each(['N/A', 'no_information', 'not_supported', '', '  ', ' N/A '])('%j means nothing, in every optional column', (nothing) => {
    const slot = { active: 'true', lastRotated: '2025-01-01T00:00:00Z', lastUsedDate: nothing, lastUsedRegion: nothing, lastUsedService: nothing };
    const rows = parseCredentialReport(report(reportRow('alice', ALICE, slot, { ...slot, lastRotated: nothing })));
    expect(rows[0]?.keys).toStrictEqual([
      { userName: 'alice', userArn: ALICE, slot: 1, active: true, createDate: new Date('2025-01-01T00:00:00Z') },
      { userName: 'alice', userArn: ALICE, slot: 2, active: true },
    ]);
  });

  it('values are read without the spaces around them', () => {
    const slot = { active: 'true', lastRotated: ' 2025-01-01T00:00:00Z ', lastUsedDate: ' 2025-03-01T00:00:00Z', lastUsedRegion: ' eu-west-1 ', lastUsedService: 'iam ' };
    expect(parseCredentialReport(report(reportRow('alice', ALICE, slot)))[0]?.keys).toStrictEqual([
      {
        userName: 'alice',
        userArn: ALICE,
        slot: 1,
        active: true,
        createDate: new Date('2025-01-01T00:00:00Z'),
        lastUsedDate: new Date('2025-03-01T00:00:00Z'),
        lastUsedRegion: 'eu-west-1',
        lastUsedService: 'iam',
      },
    ]);
  });

  it('the root user is the row named <root_account>, and only that row', () => {
    const rows = parseCredentialReport(
      report(
        reportRow('<root_account>', 'arn:aws:iam::123456789012:root', { active: 'false', lastRotated: '2019-01-01T00:00:00Z' }),
        reportRow('root_account', 'arn:aws:iam::123456789012:user/root_account', { active: 'true', lastRotated: '2025-01-01T00:00:00Z' }),
      ),
    );
    expect(rows.map((r) => [r.user, r.root, r.keys.map((k) => k.root)])).toEqual([
      ['<root_account>', true, [true]],
      ['root_account', false, [undefined]],
    ]);
  });
});

describe('parseCsv: RFC 4180 and the line ends people meet', () => {
  it.each<[string, string[][]]>([
    ['a', [['a']]],
    ['a,', [['a', '']]],
    [',', [['', '']]],
    ['a\n\nb', [['a'], [''], ['b']]],
    ['a\rb', [['a'], ['b']]],
    ['a\r\rb', [['a'], [''], ['b']]],
    ['a\r\n\r\nb\r\n', [['a'], [''], ['b']]],
    ['a\n\rb', [['a'], [''], ['b']]],
    ['a"b,c', [['a"b', 'c']]],
    ['"a""b"', [['a"b']]],
    ['"",x', [['', 'x']]],
    ['"a"b', [['ab']]],
    ['"a\r\nb",c\r\nd', [['a\r\nb', 'c'], ['d']]],
    ['"a,b",\r\n', [['a,b', '']]],
    ['"",""""', [['', '"']]],
    ['a\ufeff', [['a\ufeff']]],
  ])('parseCsv(%j)', (text, rows) => {
    expect(parseCsv(text)).toEqual(rows);
  });

  it.each(['"', '"a', '"a""', 'x,"a\nb'])('%j ends inside a quoted field', (text) => {
    expect(() => parseCsv(text)).toThrow(new CredentialReportFormatError('The credential report ends inside a quoted field.'));
  });
});
