import { describe, expect, it } from 'vitest';
import { DEFAULTS_SECTION, sectionNameFor, toProfileName } from '../../src/credentials/ini-names.js';

// The config file's `[profile NAME]` headers are split by botocore with Python's shlex.split (POSIX mode) and
// read as a profile only when that gives exactly two words; where shlex raises, the section is skipped.
// Every expected name below is what `python3 -c 'import shlex; print(shlex.split(HEADER))'` gives.
describe('toProfileName: config headers split as botocore splits them (shlex)', () => {
  const cases: Array<{ header: string; name: string | undefined; why: string }> = [
    { header: 'profile work', name: 'work', why: 'the plain form' },
    { header: 'profile\t work', name: 'work', why: 'tabs and runs of blanks separate words' },
    { header: 'profile  work ', name: 'work', why: 'a trailing blank is no word' },
    { header: 'profile a b', name: undefined, why: 'three words: botocore skips the section' },
    { header: 'profile', name: undefined, why: 'one word' },
    { header: 'profilework', name: undefined, why: 'one word, though it starts with "profile"' },
    { header: 'profile a\\ b', name: 'a b', why: 'a backslash escapes the blank after it' },
    { header: 'profile \\"x', name: '"x', why: 'a backslash escapes a quote outside quotes' },
    { header: 'profile a\\', name: undefined, why: 'a final backslash (shlex: "No escaped character")' },
    { header: 'profile "a b"', name: 'a b', why: 'double quotes keep a blank' },
    { header: "profile 'a b'", name: 'a b', why: 'single quotes keep a blank' },
    { header: 'profile a"b c"', name: 'ab c', why: 'a quote inside a word joins the word' },
    { header: 'profile "a b"c', name: 'a bc', why: 'a word goes on after the closing quote' },
    { header: 'profile ""', name: '', why: 'empty quotes are an (empty) word' },
    { header: "profile ''", name: '', why: 'empty single quotes too' },
    { header: 'profile "a\\"b"', name: 'a"b', why: 'in double quotes, \\" is a quote' },
    { header: 'profile "a\\\\b"', name: 'a\\b', why: 'in double quotes, \\\\ is one backslash' },
    { header: 'profile "a\\b"', name: 'a\\b', why: 'in double quotes, a backslash before another character stays' },
    { header: 'profile "a\\\\"', name: 'a\\', why: 'an escaped backslash does not escape the closing quote' },
    { header: "profile 'a\\\"b'", name: 'a\\"b', why: 'in single quotes a backslash escapes nothing (before ")' },
    { header: "profile 'a\\\\b'", name: 'a\\\\b', why: 'in single quotes a backslash escapes nothing (before \\)' },
    { header: 'profile "a', name: undefined, why: 'an open double quote (shlex: "No closing quotation")' },
    { header: "profile 'a", name: undefined, why: 'an open single quote' },
    { header: 'profile "a\\"', name: undefined, why: 'the only closing quote is escaped' },
  ];
  for (const c of cases) {
    it(`[${c.header}] → ${c.name === undefined ? 'no profile' : JSON.stringify(c.name)}: ${c.why}`, () => {
      expect(toProfileName(c.header, 'config')).toBe(c.name);
    });
  }

  it('[default] is the default profile in both files; [DEFAULT] is no profile in either', () => {
    expect(toProfileName('default', 'config')).toBe('default');
    expect(toProfileName('default', 'credentials')).toBe('default');
    expect(toProfileName(DEFAULTS_SECTION, 'config')).toBeUndefined();
    expect(toProfileName(DEFAULTS_SECTION, 'credentials')).toBeUndefined();
  });

  it('the credentials file takes the header as the name, quotes and "profile " included', () => {
    expect(toProfileName('work', 'credentials')).toBe('work');
    expect(toProfileName('profile work', 'credentials')).toBe('profile work');
    expect(toProfileName('"a b"', 'credentials')).toBe('"a b"');
    expect(toProfileName('work', 'config')).toBeUndefined();
  });
});

describe('sectionNameFor: the header written for a new profile reads back as that profile', () => {
  const cases: Array<{ name: string; kind: 'config' | 'credentials'; header: string }> = [
    { name: 'work', kind: 'config', header: 'profile work' },
    { name: 'default', kind: 'config', header: 'default' },
    { name: 'work', kind: 'credentials', header: 'work' },
    { name: 'default', kind: 'credentials', header: 'default' },
  ];
  for (const c of cases) {
    it(`${c.name} in the ${c.kind} file → [${c.header}]`, () => {
      expect(sectionNameFor(c.name, c.kind)).toBe(c.header);
      expect(toProfileName(sectionNameFor(c.name, c.kind), c.kind)).toBe(c.name);
    });
  }
});
