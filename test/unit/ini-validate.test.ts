import { describe, expect, it } from 'vitest';
import { setProfileValues } from '../../src/credentials/ini-edit.js';
import { getConfigProfile, getProfile, parseIni, serializeIni, type IniKeyLine } from '../../src/credentials/ini.js';

/*
 * The refusals of ini-validate.ts, as a user meets them: each names the problem (message) and the way out
 * (hint), and each check refuses what it is there for, not only what a later check would also catch.
 * Documents are parsed inside each test: a fixture built at collection time runs before a mutant is active.
 */

const text = (...lines: string[]): string => lines.join('\n');
const SOURCE = '/home/me/.aws/credentials';

function refusal(fn: () => unknown): { code: string; message: string; hint: string; exitCode: number } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string; hint: string; exitCode: number };
  }
  throw new Error('expected a refusal');
}

describe('parseIni: every refusal names the problem and the fix', () => {
  const cases: Array<{ name: string; input: string; message: string; hint: RegExp }> = [
    { name: 'a byte-order mark', input: '\uFEFF[default]\n', message: 'line 1: the file starts with a byte-order mark (BOM), which the AWS CLI cannot read.', hint: /Save the file as UTF-8 without a BOM/ },
    { name: 'a control character', input: '[a]\nregion = x\fy\n', message: 'line 2: the line holds a control character (a carriage return without a line feed, a form feed, ...).', hint: /^Remove it: the AWS CLI and the SDKs split and trim such lines differently\.$/ },
    { name: 'a section twice', input: text('[work]', '[b]', '[work]'), message: 'lines 1 and 3: the section [work] appears twice.', hint: /^Merge the two \[work] sections into one/ },
    { name: 'text before any section', input: text('hello', '[default]'), message: 'line 1: text before the first [section].', hint: /^Put settings under a section header such as \[default], or comment the line out with #\.$/ },
    { name: 'a setting before any section', input: text('region: x', '[default]'), message: 'line 1: a setting comes before the first [section].', hint: /^Put settings under/ },
    { name: 'a line that is not a setting', input: text('[a]', 'oops'), message: 'line 2: the line is not "key = value", a [section] or a comment.', hint: /^Write settings as key = value \(or key: value\)/ },
    { name: 'a setting twice', input: text('[a]', 'Region = x', 'REGION = y'), message: 'lines 2 and 3: "region" is set twice in [a] (names are case-insensitive).', hint: /^Keep one of the two lines/ },
    {
      name: 'a key id in [DEFAULT], written in upper case',
      input: text('[DEFAULT]', 'AWS_ACCESS_KEY_ID = AKIAOLD0000000000001'),
      message: 'line 2: the [DEFAULT] section holds aws_access_key_id, which the AWS CLI then gives to every profile.',
      hint: /^Move the key to \[default] \(lower case\) or to a named profile\.$/,
    },
    {
      name: 'a line indented under a credential',
      input: text('[a]', 'region = x', 'aws_secret_access_key = s', '  more'),
      message: 'lines 3 and 4: the line is indented under "aws_secret_access_key" (line 3), so the AWS CLI reads it as part of that credential.',
      hint: /^Remove the indentation, or the line\.$/,
    },
    {
      name: 'a nested line without =',
      input: text('[a]', 'region = x', 's3 =', '  oops'),
      message: 'line 4: the line is indented under "s3" (line 3), a nested section, but is not "name = value".',
      hint: /^Write it as name = value, or remove the indentation\.$/,
    },
    {
      name: 'an indented setting under a value',
      input: text('[a]', 'region = x', '  output = json'),
      message: 'line 3: the line is indented under "region" (line 2): the AWS CLI reads it as part of that value, the SDKs as a setting of its own.',
      hint: /^Remove the indentation \(or the line\)\.$/,
    },
    { name: 'a header without "]"', input: text('[a', 'x = 1'), message: 'line 1: the section header "[a" has no closing "]" (or text after it).', hint: /^Write it as \[name]; a comment after it needs a space before # or ;\.$/ },
    { name: 'a header of blanks', input: text('[ ]', 'x = 1'), message: 'line 1: the section header has no name.', hint: /^Name the section, e\.g\. \[default], or remove the line\.$/ },
    { name: 'a header read differently', input: text('[a] # b]', 'x = 1'), message: 'line 1: the section header "[a] # b]" reads differently in the AWS CLI and the SDKs.', hint: /^Write it as \[name], with a comment after it only after a space\.$/ },
    {
      name: 'two sections that are one profile',
      input: text('[profile a]', '[profile  a]'),
      message: "lines 1 and 2: two sections are the profile 'a'.",
      hint: /^Merge them into one section \(the AWS CLI would read only one of them\)\.$/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const error = refusal(() => getConfigProfile(parseIni(c.input, SOURCE), 'a'));
      expect(error).toMatchObject({ code: 'CREDENTIALS_MALFORMED', exitCode: 2 });
      expect(error.message).toBe(`${SOURCE}, ${c.message}`);
      expect(error.hint).toMatch(c.hint);
    });
  }

  it('a long header is quoted cut to 57 characters and "..."; one of 60 whole', () => {
    const long = `[${'x'.repeat(70)}`;
    expect(refusal(() => parseIni(long)).message).toContain(`"[${'x'.repeat(56)}..." has no closing`);
    const sixty = `[${'y'.repeat(59)}`;
    expect(refusal(() => parseIni(sixty)).message).toContain(`"${sixty}" has no closing`);
  });

  it('[DEFAULT] may appear twice (configparser merges it), and both parts count', () => {
    const doc = parseIni(text('[DEFAULT]', 'region = r', '[a]', '[DEFAULT]', 'output = json', ''));
    expect(getProfile(doc, 'a')).toEqual({ region: 'r', output: 'json' });
  });
});

describe('parseIni: nested settings (`s3 =` and the indented lines under it)', () => {
  it('read as parent.name: the parent in lower case, the name as spelled and trimmed, the value trimmed', () => {
    const doc = parseIni(text('[a]', 'S3 =', '   Max_Concurrent_Requests   =   10  ', '\taddressing_style=path', ''));
    expect(getProfile(doc, 'a')).toEqual({ 's3.Max_Concurrent_Requests': '10', 's3.addressing_style': 'path' });
  });

  it('every setting line knows where its value sits: raw.slice(valueStart, valueEnd) is the value', () => {
    const doc = parseIni(text('[a]', 'region =  eu-west-1  # here', 's3 =', '   max_concurrent_requests   =   10  ', '  use_accelerate_endpoint=true', 'output:json', ''));
    const keys = doc.lines.filter((line): line is IniKeyLine => line.kind === 'key');
    expect(keys.map((line) => [line.key, line.value, line.raw.slice(line.valueStart, line.valueEnd)])).toEqual([
      ['region', 'eu-west-1', 'eu-west-1'],
      ['s3', '', ''],
      ['max_concurrent_requests', '10', '10'],
      ['use_accelerate_endpoint', 'true', 'true'],
      ['output', 'json', 'json'],
    ]);
    expect(keys.map((line) => line.subsection)).toEqual([undefined, undefined, 's3', 's3', undefined]);
  });

  it('an indented line without "=" or "[" under a value continues it', () => {
    const doc = parseIni(text('[a]', 'note = first', '  second: part', ''));
    expect(getProfile(doc, 'a')).toEqual({ note: 'first\nsecond: part' });
  });
});

describe('setProfileValues: what cannot be written is refused before anything is edited', () => {
  const badKeys: Array<[string, string]> = [
    ['an empty key', ''],
    ['a key with a leading space', ' region'],
    ['a key with a trailing space', 'region '],
    ['a key with a space inside', 'my key'],
    ['a key with a tab inside', 'my\tkey'],
    ['a key with =', 'k=x'],
    ['a key starting with [', '[k'],
    ['a key starting with #', '#k'],
    ['a key starting with ;', ';k'],
    ['a key with a control character', 'k\u0001x'],
  ];
  for (const [name, key] of badKeys) {
    it(`refuses ${name}`, () => {
      const error = refusal(() => setProfileValues(parseIni('[a]\n', SOURCE), 'a', { [key]: 'v' }));
      expect(error).toMatchObject({ code: 'CREDENTIALS_INVALID_VALUE', message: `${SOURCE}: ${JSON.stringify(key)} is not a valid key for profile 'a'.`, hint: 'Keys are single words such as aws_access_key_id.' });
    });
  }

  it('a # or ; inside a key is no comment: written and read back', () => {
    const doc = setProfileValues(parseIni('[a]\n'), 'a', { 'x#y': '1', 'p;q': '2' });
    expect(serializeIni(doc)).toBe('[a]\nx#y = 1\np;q = 2\n');
    expect(getProfile(doc, 'a')).toEqual({ 'x#y': '1', 'p;q': '2' });
  });

  it('a long bad key is quoted cut short; one of 60 characters whole', () => {
    expect(refusal(() => setProfileValues(parseIni('[a]\n'), 'a', { [`k ${'x'.repeat(70)}`]: 'v' })).message).toContain(`"k ${'x'.repeat(55)}..." is not a valid key`);
    const sixty = `k ${'y'.repeat(58)}`;
    expect(refusal(() => setProfileValues(parseIni('[a]\n'), 'a', { [sixty]: 'v' })).message).toContain(`"${sixty}" is not a valid key`);
  });

  const badValues: Array<[string, string]> = [
    ['an empty value', ''],
    ['a value with a leading space', ' v'],
    ['a value with a trailing tab', 'v\t'],
    ['a line feed in a value', 'a\nb'],
    ['a carriage return in a value', 'a\rb'],
    ['a value that reads as a comment (#)', 'a #b'],
    ['a value that reads as a comment (;)', 'a ;b'],
    ['a control character in a value (it was refused as if the file were malformed)', 'a\u0001b'],
    ['a form feed in a value', 'a\fb'],
  ];
  for (const [name, value] of badValues) {
    it(`refuses ${name}, without quoting it`, () => {
      const error = refusal(() => setProfileValues(parseIni('[a]\n', SOURCE), 'a', { aws_secret_access_key: value }));
      expect(error).toMatchObject({
        code: 'CREDENTIALS_INVALID_VALUE',
        message: `${SOURCE}: the value for "aws_secret_access_key" of profile 'a' cannot be written to an ini file.`,
        hint: 'Values must be non-empty, fit on one line, and have no surrounding spaces or " #" / " ;" (those start a comment).',
      });
    });
  }

  const badNames: Array<[string, string, 'credentials' | 'config']> = [
    ['an empty name', '', 'credentials'],
    ['a name with a leading space', ' a', 'credentials'],
    ['a name with a trailing space', 'a ', 'credentials'],
    ['a control character', 'a\u0001b', 'credentials'],
    ['a line feed', 'a\nb', 'credentials'],
    ['a carriage return', 'a\rb', 'credentials'],
    ['a comment (" ;")', 'a ;b', 'credentials'],
    ['a comment (" #")', 'a #b', 'credentials'],
    ['DEFAULT, which is no profile', 'DEFAULT', 'credentials'],
    ['a space, in the config file', 'a b', 'config'],
    ['a quote, in the config file', '"q', 'config'],
  ];
  for (const [name, profile, kind] of badNames) {
    it(`refuses a new profile named with ${name}`, () => {
      const error = refusal(() => setProfileValues(parseIni('', SOURCE), profile, { region: 'x' }, kind));
      expect(error).toMatchObject({
        code: 'CREDENTIALS_INVALID_VALUE',
        message: `${SOURCE}: ${JSON.stringify(profile)} cannot be used as a profile name.`,
        hint: 'Use a name without surrounding spaces, line breaks, " #" / " ;" or quotes (and not DEFAULT).',
      });
    });
  }

  it('a space inside a name is fine in the credentials file', () => {
    expect(serializeIni(setProfileValues(parseIni(''), 'my work', { region: 'x' }))).toBe('[my work]\nregion = x\n');
  });
});
