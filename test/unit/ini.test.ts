import { describe, expect, it } from 'vitest';
import { findProfilesWithKey, getConfigProfile, getProfile, listProfiles, parseIni, serializeIni } from '../../src/credentials/ini.js';
import { NEW_PAIR, OLD, OLD_SECRET, OTHER } from '../support/ini-files.js';

/** Reading the credentials and config files (ini.ts) as botocore does; what it refuses, refused. Editing: ini-edit.test.ts. */

const NEW = NEW_PAIR.accessKeyId;
const text = (...lines: string[]): string => lines.join('\n');
const crlf = (s: string): string => s.replace(/\n/g, '\r\n');

describe('queries', () => {
  const credentials = text(
    '[default]',
    `aws_access_key_id = ${OLD} # main`,
    'aws_secret_access_key = abc#def',
    'region = eu-west-1',
    's3 =',
    '  max_concurrent_requests = 10',
    'output = json',
    '[alias]',
    `AWS_ACCESS_KEY_ID: ${OLD}`,
    'Region = us-east-2',
    'description = first line',
    '',
    '  second line # a comment',
    '[ spaced ]',
    'region = x',
    '[empty]',
    '[DEFAULT]',
    'region = from-defaults',
    'output = text',
    '',
  );
  const doc = parseIni(credentials);

  it('listProfiles: each name once, in order', () => {
    expect(listProfiles(doc)).toEqual(['default', 'alias', ' spaced ', 'empty']);
  });

  it('getProfile: as botocore reads it (lower-case names, multi-line values, [DEFAULT] settings)', () => {
    expect(getProfile(doc, 'default')).toEqual({
      aws_access_key_id: OLD,
      aws_secret_access_key: 'abc#def',
      region: 'eu-west-1',
      's3.max_concurrent_requests': '10',
      output: 'json',
    });
    expect(getProfile(doc, 'alias')).toEqual({ aws_access_key_id: OLD, region: 'us-east-2', description: 'first line\n\nsecond line', output: 'text' });
    expect(getProfile(doc, ' spaced ')).toEqual({ region: 'x', output: 'text' });
    expect(getProfile(doc, 'spaced')).toBeUndefined();
    expect(getProfile(doc, 'empty')).toEqual({ region: 'from-defaults', output: 'text' });
    expect(getProfile(doc, 'missing')).toBeUndefined();
  });

  it('findProfilesWithKey: every profile holding the key', () => {
    expect(findProfilesWithKey(doc, OLD)).toEqual(['default', 'alias']);
    expect(findProfilesWithKey(doc, NEW)).toEqual([]);
  });

  it('a key named __proto__ is data, not a prototype', () => {
    const values = getProfile(parseIni('[a]\n__proto__ = x\n'), 'a');
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
    expect(Object.keys(values ?? {})).toEqual(['__proto__']);
  });

  it('config file naming: [profile NAME], [default], other section types are not profiles', () => {
    const config = parseIni(
      text('[default]', 'region = a', '[profile work]', 'region = b', '[profile "quoted"]', 'region = c', '[sso-session corp]', 'sso_region = d', '[work]', 'region = e', '[profile a b]', 'region = f', ''),
    );
    expect(listProfiles(config, 'config')).toEqual(['default', 'work', 'quoted']);
    expect(getConfigProfile(config, 'work')).toEqual({ region: 'b' });
    expect(getConfigProfile(config, 'quoted')).toEqual({ region: 'c' });
    expect(getConfigProfile(config, 'corp')).toBeUndefined();
    expect(getConfigProfile(config, 'work', 'credentials')).toEqual({ region: 'e' });
    expect(getConfigProfile(config, 'profile work', 'credentials')).toEqual({ region: 'b' });
  });
});

describe('malformed input: what the AWS CLI refuses, or reads differently from the SDKs', () => {
  const cases: Array<{ name: string; input: string; line: number | string; mentions: RegExp }> = [
    { name: 'an unterminated [section', input: text('[default]', 'region = x', '[work', 'region = y'), line: 3, mentions: /"\[work" has no closing "]"/ },
    { name: 'text after the closing bracket', input: text('[default] extra', 'region = x'), line: 1, mentions: /no closing/ },
    { name: 'a comment glued to the header', input: text('[default]#c', 'region = x'), line: 1, mentions: /no closing/ },
    { name: 'a comment holding "]" after the header', input: text('[default] # a]', 'region = x'), line: 1, mentions: /reads differently/ },
    { name: 'an empty section name', input: text('# c', '[]', 'region = x'), line: 2, mentions: /no name/ },
    { name: 'a key line without = or :', input: text('[default]', 'aws_access_key_id AKIAXXXXXXXXXXXXXXXX'), line: 2, mentions: /not "key = value"/ },
    { name: 'a line with = and no key', input: text('[default]', '= value'), line: 2, mentions: /no key/ },
    { name: 'a line with : and no key', input: text('[default]', ': value'), line: 2, mentions: /":" but no key/ },
    { name: 'a key before any section', input: text('# top', '', 'region = x', '[default]'), line: 3, mentions: /a setting comes before the first \[section]/ },
    { name: 'text before any section', input: text('hello', '[default]'), line: 1, mentions: /before the first \[section]/ },
    { name: 'an indented line without = right after a header', input: text('[default]', '  stray'), line: 2, mentions: /not "key = value"/ },
    { name: 'CRLF does not shift the line number', input: crlf(text('[default]', 'region = x', '', 'oops')), line: 4, mentions: /not "key = value"/ },
    { name: 'a byte-order mark', input: `\uFEFF${text('[default]', 'region = x')}`, line: 1, mentions: /byte-order mark/ },
    { name: 'a section twice', input: text('[work]', 'region = x', '', '[work]', 'output = json'), line: 's 1 and 4', mentions: /\[work] appears twice/ },
    { name: 'a setting twice, in another case', input: text('[work]', `aws_access_key_id = ${OLD}`, `AWS_ACCESS_KEY_ID: ${OTHER}`), line: 's 2 and 3', mentions: /"aws_access_key_id" is set twice in \[work]/ },
    { name: 'a key in [DEFAULT]', input: text('[DEFAULT]', `aws_access_key_id = ${OLD}`), line: 2, mentions: /every profile/ },
    { name: 'a line indented under a key id', input: text('[a]', `aws_access_key_id = ${OLD}`, `  aws_secret_access_key = ${OLD_SECRET}`), line: 's 2 and 3', mentions: /part of that credential/ },
    { name: 'an indented setting under a value', input: text('[a]', 'region = x', '  output = json'), line: 3, mentions: /the SDKs as a setting/ },
    { name: 'an indented section header under a value', input: text('[a]', 'region = x', '  [b]'), line: 3, mentions: /the SDKs as a section header/ },
    { name: 'a nested line without =', input: text('[a]', 's3 =', '  oops'), line: 3, mentions: /nested section/ },
    { name: 'a carriage return without a line feed', input: '[a]\rregion = x\n', line: 1, mentions: /control character/ },
  ];
  for (const c of cases) {
    it(`${c.name} → line ${c.line}`, () => {
      let error: unknown;
      try {
        parseIni(c.input, '/home/me/.aws/credentials');
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ code: 'CREDENTIALS_MALFORMED', exitCode: 2, hint: expect.any(String) });
      const message = (error as Error).message;
      expect(message).toContain(`/home/me/.aws/credentials, line${c.line}:`.replace('line1', 'line 1').replace(/line(\d)/, 'line $1'));
      expect(message).toMatch(c.mentions);
    });
  }

  it('config file: two sections that are one profile', () => {
    const doc = parseIni(text('[profile a]', 'region = x', '[profile  a]', 'region = y', '[default]', '[profile default]'), 'config');
    expect(() => getConfigProfile(doc, 'a')).toThrowError(/config, lines 1 and 3: two sections are the profile 'a'/);
    expect(() => getConfigProfile(doc, 'default')).toThrowError(/lines 5 and 6/);
  });

  it('does not quote a line that may hold a secret', () => {
    expect(() => parseIni(text('[default]', 'aws_secret_access_key wJalrXUtnFEMI/K7MDENG'))).toThrowError(
      expect.objectContaining({ message: expect.not.stringContaining('wJalr') }),
    );
  });

  const accepted = [
    text('[default] # comment after a header', 'region = x'),
    text('[default] ; other comment style', 'region = x'),
    text('  # indented comment before any section', '[default]', '   ; indented comment', 'region = x'),
    text('[default]', 'key = value with = signs'),
    text('[default]', 'region: eu-west-1', 'role_arn: arn:aws:iam::123456789012:role/x'),
    text('[default]', 'description = a', '  b: c'),
    text('[profile foo bar]', 'region = x'),
    text('[default]', 'empty =', 'next = 1'),
    text('  [indented]', 'region = x'),
  ];
  for (const input of accepted) {
    it(`accepts ${JSON.stringify(input.split('\n')[0])}…`, () => {
      expect(serializeIni(parseIni(input))).toBe(input);
    });
  }
});
