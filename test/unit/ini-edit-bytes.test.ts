import { describe, expect, it } from 'vitest';
import { removeProfileKeys, setProfileValues } from '../../src/credentials/ini-edit.js';
import { findProfilesWithKey, getProfile, parseIni, serializeIni } from '../../src/credentials/ini.js';

/*
 * The exact bytes an edit writes, where the choice is subtle: the indentation and the separator of an added
 * line, the gap after `key =`, the line ending of a file that mixes them, what is left at the end of the file
 * after a removal; and the reading details these choices rest on. Documents are parsed inside each test.
 */

const text = (...lines: string[]): string => lines.join('\n');

function edit(before: string, name: string, values: Record<string, string>): string {
  return serializeIni(setProfileValues(parseIni(before), name, values));
}

function remove(before: string, name: string, keys: string[]): string {
  return serializeIni(removeProfileKeys(parseIni(before), name, keys));
}

describe('setProfileValues: an added line is indented and spaced like its neighbours', () => {
  const cases: Array<{ name: string; before: string; profile: string; values: Record<string, string>; after: string }> = [
    {
      name: 'after indented settings: their indentation',
      before: text('[a]', '  x = 1', ''),
      profile: 'a',
      values: { y: '2' },
      after: text('[a]', '  x = 1', '  y = 2', ''),
    },
    {
      name: 'after a value over two lines: the indentation of the setting, not of its second line',
      before: text('[a]', '  note = first', '      second', ''),
      profile: 'a',
      values: { y: '2' },
      after: text('[a]', '  note = first', '      second', '  y = 2', ''),
    },
    {
      name: 'in an empty section followed by an indented header: that indentation (shallower, the header would continue it)',
      before: text('[a]', '', '# note', '   [b]', '   k = 1', ''),
      profile: 'a',
      values: { x: 'v' },
      after: text('[a]', '   x = v', '', '# note', '   [b]', '   k = 1', ''),
    },
    {
      name: 'in an empty section at the end: no indentation',
      before: text('[b]', '   k = 1', '[a]', ''),
      profile: 'a',
      values: { x: 'v' },
      after: text('[b]', '   k = 1', '[a]', 'x = v', ''),
    },
    {
      name: 'the separator of the profile\'s own settings, not of the first setting in the file',
      before: text('[a]', 'k = 1', '[b]', 'k=2', ''),
      profile: 'b',
      values: { region: 'x' },
      after: text('[a]', 'k = 1', '[b]', 'k=2', 'region=x', ''),
    },
    {
      name: 'the separator of a setting with a value, not of an empty `s3 =` before it',
      before: text('[a]', 's3 =', '  max = 1', 'region=x', ''),
      profile: 'a',
      values: { output: 'json' },
      after: text('[a]', 's3 =', '  max = 1', 'region=x', 'output=json', ''),
    },
    {
      name: 'a new profile in a file whose last line is blanks without a line feed: no extra blank line',
      before: '[a]\nx = 1\n   ',
      profile: 'b',
      values: { k: 'v' },
      after: '[a]\nx = 1\n   \n[b]\nk = v',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const after = edit(c.before, c.profile, c.values);
      expect(after).toBe(c.after);
      expect(getProfile(parseIni(after), c.profile)).toMatchObject(c.values);
    });
  }
});

describe('setProfileValues: a changed value keeps the spacing around it', () => {
  const cases: Array<[string, string, string]> = [
    ['`k =old`: no space is added', '[a]\nk =old\n', '[a]\nk =new\n'],
    ['`k =` with no value: `k = new`', '[a]\nk =\n', '[a]\nk = new\n'],
    ['`k=` with no value: `k=new`', '[a]\nk=\n', '[a]\nk=new\n'],
    ['`k =  ` with spaces after it: they stay', '[a]\nk =  \n', '[a]\nk =  new\n'],
  ];
  for (const [name, before, after] of cases) {
    it(name, () => {
      expect(edit(before, 'a', { k: 'new' })).toBe(after);
    });
  }

  it('nothing to set: the same document, and no section added for a missing profile', () => {
    const doc = parseIni('[a]\nk = 1\n');
    expect(setProfileValues(doc, 'b', {})).toBe(doc);
    expect(serializeIni(setProfileValues(doc, 'b', {}))).toBe('[a]\nk = 1\n');
  });

  it('a setting with indented lines under it is not overwritten: the message and the way out', () => {
    expect(() => setProfileValues(parseIni('[a]\ns3 =\n  x = 1\n', 'creds'), 'a', { s3: 'v' })).toThrowError(
      expect.objectContaining({
        code: 'CREDENTIALS_EDIT_UNSUPPORTED',
        message: `creds: "s3" of profile 'a' has indented lines under it; aws-rekey does not overwrite it.`,
        hint: 'Edit [a] by hand, or remove the indented lines under s3.',
      }),
    );
  });

  it('a key that would be read as another (`a:b` reads as `a`): refused, it would not read back', () => {
    expect(() => setProfileValues(parseIni('[a]\n', 'creds'), 'a', { 'a:b': 'v' })).toThrowError(
      expect.objectContaining({
        code: 'CREDENTIALS_INVALID_VALUE',
        message: `creds: "a:b" of profile 'a' would not read back as written.`,
        hint: 'Values must fit on one line, without surrounding spaces or " #" / " ;" (those start a comment).',
      }),
    );
  });
});

describe('removeProfileKeys: the end of the file', () => {
  const cases: Array<[string, string, string]> = [
    ['the last line, without a line feed: the new last line has none either', '[a]\nx = 1\nz = 3\ny = 2', '[a]\nx = 1\nz = 3'],
    ['the last line, with a line feed: the new last line keeps its own', '[a]\nx = 1\nz = 3\ny = 2\n', '[a]\nx = 1\nz = 3\n'],
    ['a line in the middle of a file without a final line feed: the end stays as it was', '[a]\ny = 2\nx = 1', '[a]\nx = 1'],
  ];
  for (const [name, before, after] of cases) {
    it(name, () => {
      expect(remove(before, 'a', ['y'])).toBe(after);
    });
  }
});

describe('parseIni: the details that edits rest on', () => {
  it('the line ending for added lines is the one most lines have; a last line without one does not count', () => {
    expect(parseIni('[a]\r\nx = 1').eol).toBe('\r\n');
    expect(parseIni('[a]\r\nx = 1\ny = 2\n').eol).toBe('\n');
    expect(parseIni('[a]\r\nx = 1\r\ny = 2\n').eol).toBe('\r\n');
    expect(parseIni('[a]\nx = 1').eol).toBe('\n');
    expect(edit('[a]\r\nx = 1', 'a', { y: '2' })).toBe('[a]\r\nx = 1\r\ny = 2');
  });

  it('a blank line, and a CR LF after an empty line, split where they should', () => {
    const doc = parseIni('\n[a]\r\n\r\nx = 1\r\n');
    expect(doc.lines.map((line) => [line.raw, line.eol])).toEqual([
      ['', '\n'],
      ['[a]', '\r\n'],
      ['', '\r\n'],
      ['x = 1', '\r\n'],
    ]);
  });

  it('errors name "the credentials file" when no source is given', () => {
    expect(() => parseIni('[a')).toThrowError(/^the credentials file, line 1: /);
  });

  it('`s3 =` followed by blanks is still empty: the indented lines under it are its settings', () => {
    expect(getProfile(parseIni('[a]\ns3 =   \n  max = 1\n'), 'a')).toEqual({ 's3.max': '1' });
  });

  it('a comment line inside a value over several lines is skipped, not the end of it', () => {
    expect(getProfile(parseIni(text('[a]', 'note = first', '# a comment', '  second', 'x = 1', '')), 'a')).toEqual({ note: 'first\nsecond', x: '1' });
  });

  it('a setting without a value holds no key: findProfilesWithKey("") finds nothing', () => {
    const doc = parseIni('[a]\naws_access_key_id =\n[b]\naws_access_key_id = AKIAOLD0000000000001\n');
    expect(findProfilesWithKey(doc, '')).toEqual([]);
    expect(findProfilesWithKey(doc, 'AKIAOLD0000000000001')).toEqual(['b']);
  });
});
