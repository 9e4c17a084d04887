import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromIni } from '@aws-sdk/credential-providers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { removeProfileKeys, replaceAccessKey, setProfileValues } from '../../src/credentials/ini-edit.js';
import { parseIni, serializeIni, type IniDocument } from '../../src/credentials/ini.js';
import { NEW_PAIR, OLD, OLD_SECRET, OTHER, OTHER_SECRET } from '../support/ini-files.js';

/** Editing the credentials and config files (ini-edit.ts): only the values asked for change, byte for byte. */

const { accessKeyId: NEW, secretAccessKey: NEW_SECRET } = NEW_PAIR;
const text = (...lines: string[]): string => lines.join('\n');
const crlf = (s: string): string => s.replace(/\n/g, '\r\n');

interface ReplaceCase {
  name: string;
  before: string;
  after: string;
  profiles: string[];
  /** The JS SDK does not read this profile by that name (e.g. upper-case keys, a spaced section name). */
  sdkBlind?: boolean;
  /** Replacing back does not give the original bytes (a line was added, or copies were aligned). */
  oneWay?: boolean;
}

const plain = text(
  '# managed by hand',
  '; second comment style',
  '',
  '[default]',
  '# the work key',
  `aws_access_key_id = ${OLD}`,
  `aws_secret_access_key = ${OLD_SECRET}`,
  'region = eu-west-1',
  '',
  '[other]',
  `aws_access_key_id = ${OTHER}`,
  `aws_secret_access_key = ${OTHER_SECRET}`,
  '',
);
const plainAfter = plain.replace(OLD, NEW).replace(OLD_SECRET, NEW_SECRET);

const replaceCases: ReplaceCase[] = [
  { name: 'comments (# and ;), blank lines and other keys stay', before: plain, after: plainAfter, profiles: ['default'] },
  { name: 'CRLF line endings', before: crlf(plain), after: crlf(plainAfter), profiles: ['default'] },
  {
    name: 'mixed line endings: each line keeps its own',
    before: `[default]\r\naws_access_key_id = ${OLD}\naws_secret_access_key = ${OLD_SECRET}\r\nregion = us-east-1\n`,
    after: `[default]\r\naws_access_key_id = ${NEW}\naws_secret_access_key = ${NEW_SECRET}\r\nregion = us-east-1\n`,
    profiles: ['default'],
  },
  {
    name: 'no final newline',
    before: text('[default]', `aws_access_key_id = ${OLD}`, `aws_secret_access_key = ${OLD_SECRET}`),
    after: text('[default]', `aws_access_key_id = ${NEW}`, `aws_secret_access_key = ${NEW_SECRET}`),
    profiles: ['default'],
  },
  {
    name: 'spacing around = and trailing spaces are kept',
    before: text('[default]', `\taws_access_key_id=${OLD}`, `aws_secret_access_key   =\t${OLD_SECRET}   `, ''),
    after: text('[default]', `\taws_access_key_id=${NEW}`, `aws_secret_access_key   =\t${NEW_SECRET}   `, ''),
    profiles: ['default'],
  },
  {
    name: 'odd profile names',
    before: text('[my.profile-1_x]', `aws_access_key_id = ${OLD}`, `aws_secret_access_key = ${OLD_SECRET}`, ''),
    after: text('[my.profile-1_x]', `aws_access_key_id = ${NEW}`, `aws_secret_access_key = ${NEW_SECRET}`, ''),
    profiles: ['my.profile-1_x'],
  },
  {
    name: 'a section name with spaces inside the brackets keeps them (botocore: the profile " spaced ")',
    before: text('[ spaced ]', `aws_access_key_id = ${OLD}`, `aws_secret_access_key = ${OLD_SECRET}`, ''),
    after: text('[ spaced ]', `aws_access_key_id = ${NEW}`, `aws_secret_access_key = ${NEW_SECRET}`, ''),
    profiles: [' spaced '],
    sdkBlind: true,
  },
  {
    name: 'nested sub-section: its own keys are not the profile keys',
    before: text(
      '[default]',
      `aws_access_key_id = ${OLD}`,
      's3 =',
      '  max_concurrent_requests = 10',
      '  aws_secret_access_key = not-the-profile-secret',
      `aws_secret_access_key = ${OLD_SECRET}`,
      '',
    ),
    after: text(
      '[default]',
      `aws_access_key_id = ${NEW}`,
      's3 =',
      '  max_concurrent_requests = 10',
      '  aws_secret_access_key = not-the-profile-secret',
      `aws_secret_access_key = ${NEW_SECRET}`,
      '',
    ),
    profiles: ['default'],
  },
  {
    name: 'inline comments stay after the new value',
    before: text('[default]', `aws_access_key_id = ${OLD} # work account`, `aws_secret_access_key = ${OLD_SECRET}\t; rotated in May`, ''),
    after: text('[default]', `aws_access_key_id = ${NEW} # work account`, `aws_secret_access_key = ${NEW_SECRET}\t; rotated in May`, ''),
    profiles: ['default'],
  },
  {
    name: 'two profiles hold the same key (alias): both are updated',
    before: text('[work]', `aws_access_key_id = ${OLD}`, `aws_secret_access_key = ${OLD_SECRET}`, '', '[alias]', `aws_secret_access_key = ${OLD_SECRET}`, `aws_access_key_id = ${OLD}`, 'region = us-west-2', ''),
    after: text('[work]', `aws_access_key_id = ${NEW}`, `aws_secret_access_key = ${NEW_SECRET}`, '', '[alias]', `aws_secret_access_key = ${NEW_SECRET}`, `aws_access_key_id = ${NEW}`, 'region = us-west-2', ''),
    profiles: ['work', 'alias'],
  },
  {
    name: 'a profile with the key but no secret gets the secret after its last key',
    before: text('[half]', `aws_access_key_id=${OLD}`, 'region=eu-central-1', '', '# about next', '[next]', 'region=x', ''),
    after: text('[half]', `aws_access_key_id=${NEW}`, 'region=eu-central-1', `aws_secret_access_key=${NEW_SECRET}`, '', '# about next', '[next]', 'region=x', ''),
    profiles: ['half'],
    oneWay: true,
  },
  {
    name: 'upper-case key names (botocore reads them) are updated in place',
    before: text('[upper]', `AWS_ACCESS_KEY_ID = ${OLD}`, `AWS_SECRET_ACCESS_KEY = ${OLD_SECRET}`, ''),
    after: text('[upper]', `AWS_ACCESS_KEY_ID = ${NEW}`, `AWS_SECRET_ACCESS_KEY = ${NEW_SECRET}`, ''),
    profiles: ['upper'],
    sdkBlind: true,
  },
  {
    name: 'key: value (botocore reads it) is updated in place, the colon kept',
    before: text('[colon]', `aws_access_key_id: ${OLD}`, `aws_secret_access_key :${OLD_SECRET}`, 'region: eu-west-1', ''),
    after: text('[colon]', `aws_access_key_id: ${NEW}`, `aws_secret_access_key :${NEW_SECRET}`, 'region: eu-west-1', ''),
    profiles: ['colon'],
    sdkBlind: true,
  },
  {
    name: 'mixed-case names and an indented section body',
    before: text('[mixed]', `  Aws_Access_Key_Id = ${OLD}`, `  aws_SECRET_access_key = ${OLD_SECRET}`, ''),
    after: text('[mixed]', `  Aws_Access_Key_Id = ${NEW}`, `  aws_SECRET_access_key = ${NEW_SECRET}`, ''),
    profiles: ['mixed'],
    sdkBlind: true,
  },
  {
    name: 'a value that merely contains # or ; is not a comment',
    before: text('[default]', `aws_access_key_id = ${OLD}`, `aws_secret_access_key = ${OLD_SECRET}`, 'note = a#b;c', ''),
    after: text('[default]', `aws_access_key_id = ${NEW}`, `aws_secret_access_key = ${NEW_SECRET}`, 'note = a#b;c', ''),
    profiles: ['default'],
  },
  {
    name: 'a key line with an = in its value and a multi-line value after it',
    before: text('[default]', 'description = a = b', '  continued text', `aws_access_key_id = ${OLD}`, `aws_secret_access_key = ${OLD_SECRET}`, ''),
    after: text('[default]', 'description = a = b', '  continued text', `aws_access_key_id = ${NEW}`, `aws_secret_access_key = ${NEW_SECRET}`, ''),
    profiles: ['default'],
  },
  { name: 'no profile holds the key: nothing changes', before: text('[a]', `aws_access_key_id = ${OTHER}`, ''), after: text('[a]', `aws_access_key_id = ${OTHER}`, ''), profiles: [] },
  { name: 'an empty file', before: '', after: '', profiles: [] },
];

describe('replaceAccessKey', () => {
  for (const c of replaceCases) {
    it(c.name, () => {
      const doc = parseIni(c.before);
      const result = replaceAccessKey(doc, OLD, NEW_PAIR);
      expect(serializeIni(result.doc)).toBe(c.after);
      expect(result.profiles).toEqual(c.profiles);
      expect(serializeIni(doc)).toBe(c.before);
    });
  }

  it('puts the old key back (rollback) to the byte', () => {
    for (const c of replaceCases.filter((r) => r.profiles.length > 0 && !r.oneWay)) {
      const there = replaceAccessKey(parseIni(c.before), OLD, NEW_PAIR).doc;
      const back = replaceAccessKey(there, NEW, { accessKeyId: OLD, secretAccessKey: OLD_SECRET });
      expect(serializeIni(back.doc), c.name).toBe(c.before);
    }
  });
});

describe('the JS SDK reads what replaceAccessKey wrote', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aws-rekey-ini-'));
    vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await rm(dir, { recursive: true, force: true });
  });

  const readable = replaceCases.filter((c) => c.profiles.length > 0 && !c.sdkBlind);
  for (const [i, c] of readable.entries()) {
    it(c.name, async () => {
      const filepath = join(dir, `credentials-${i}`);
      await writeFile(filepath, c.after);
      for (const profile of c.profiles) {
        const credentials = await fromIni({ profile, filepath, configFilepath: join(dir, 'no-config'), ignoreCache: true })();
        expect({ id: credentials.accessKeyId, secret: credentials.secretAccessKey }).toEqual({ id: NEW, secret: NEW_SECRET });
      }
    });
  }
});

interface EditCase {
  name: string;
  before: string;
  edit: (doc: IniDocument) => IniDocument;
  after: string;
}

const editCases: EditCase[] = [
  {
    name: 'missing profile: added at the end after a blank line',
    before: text('[a]', 'x = 1', ''),
    edit: (doc) => setProfileValues(doc, 'new', { aws_access_key_id: NEW, aws_secret_access_key: NEW_SECRET }),
    after: text('[a]', 'x = 1', '', '[new]', `aws_access_key_id = ${NEW}`, `aws_secret_access_key = ${NEW_SECRET}`, ''),
  },
  {
    name: 'missing profile, file already ends with a blank line: no second blank line',
    before: text('[a]', 'x = 1', '', ''),
    edit: (doc) => setProfileValues(doc, 'new', { k: 'v' }),
    after: text('[a]', 'x = 1', '', '[new]', 'k = v', ''),
  },
  {
    name: 'missing profile, no final newline: the file still ends without one',
    before: text('[a]', 'x = 1'),
    edit: (doc) => setProfileValues(doc, 'new', { k: 'v' }),
    after: text('[a]', 'x = 1', '', '[new]', 'k = v'),
  },
  { name: 'missing profile in an empty file', before: '', edit: (doc) => setProfileValues(doc, 'new', { k: 'v' }), after: text('[new]', 'k = v', '') },
  {
    name: 'missing profile in a CRLF file: CRLF lines',
    before: crlf(text('[a]', 'x = 1', '')),
    edit: (doc) => setProfileValues(doc, 'new', { k: 'v' }),
    after: crlf(text('[a]', 'x = 1', '', '[new]', 'k = v', '')),
  },
  {
    name: 'mixed endings: added lines use the dominant one',
    before: '[a]\r\nx = 1\r\ny = 2\n',
    edit: (doc) => setProfileValues(doc, 'a', { z: '3' }),
    after: '[a]\r\nx = 1\r\ny = 2\nz = 3\r\n',
  },
  {
    name: 'config file: a new profile is written [profile NAME]',
    before: text('[default]', 'region = eu-west-1', ''),
    edit: (doc) => setProfileValues(doc, 'work', { region: 'us-east-1' }, 'config'),
    after: text('[default]', 'region = eu-west-1', '', '[profile work]', 'region = us-east-1', ''),
  },
  {
    name: 'config file: [profile work] is the profile work',
    before: text('[profile work]', 'region = eu-west-1', ''),
    edit: (doc) => setProfileValues(doc, 'work', { region: 'us-east-1' }, 'config'),
    after: text('[profile work]', 'region = us-east-1', ''),
  },
  {
    name: 'missing key goes after the last key, before the comments of the next section',
    before: text('[a]', 'x = 1', '  continued', '', '# b is for builds', '[b]', 'y = 2', ''),
    edit: (doc) => setProfileValues(doc, 'a', { z: '3' }),
    after: text('[a]', 'x = 1', '  continued', 'z = 3', '', '# b is for builds', '[b]', 'y = 2', ''),
  },
  {
    name: 'missing key in the last section of a file without final newline',
    before: text('[a]', 'x = 1'),
    edit: (doc) => setProfileValues(doc, 'a', { z: '3' }),
    after: text('[a]', 'x = 1', 'z = 3'),
  },
  {
    name: 'missing key in a section without keys goes right after the header',
    before: text('[a]', '', '[b]', 'y = 2', ''),
    edit: (doc) => setProfileValues(doc, 'a', { z: '3' }),
    after: text('[a]', 'z = 3', '', '[b]', 'y = 2', ''),
  },
  {
    name: 'missing key after a nested sub-section is not indented into it',
    before: text('[a]', 's3 =', '  max_concurrent_requests = 10', ''),
    edit: (doc) => setProfileValues(doc, 'a', { region: 'x' }),
    after: text('[a]', 's3 =', '  max_concurrent_requests = 10', 'region = x', ''),
  },
  {
    name: 'an empty value gets one',
    before: text('[a]', 'aws_session_token =', 'region=x', ''),
    edit: (doc) => setProfileValues(doc, 'a', { aws_session_token: 'T' }),
    after: text('[a]', 'aws_session_token = T', 'region=x', ''),
  },
  {
    name: 'config file: a profile named in quotes is found, as botocore splits the header',
    before: text('[profile "my work"]', 'region = eu-west-1', ''),
    edit: (doc) => setProfileValues(doc, 'my work', { region: 'us-east-1' }, 'config'),
    after: text('[profile "my work"]', 'region = us-east-1', ''),
  },
  {
    name: 'removeProfileKeys: lines go, with their continuation lines; the rest stays',
    before: text('[a]', 'description = T', '  more of it', '# keep', 'region = x', '[b]', 'description = U', ''),
    edit: (doc) => removeProfileKeys(doc, 'a', ['description']),
    after: text('[a]', '# keep', 'region = x', '[b]', 'description = U', ''),
  },
  {
    name: 'removeProfileKeys: a nested sub-section goes whole',
    before: text('[a]', 's3 =', '  max_concurrent_requests = 10', 'region = x', ''),
    edit: (doc) => removeProfileKeys(doc, 'a', ['s3']),
    after: text('[a]', 'region = x', ''),
  },
  {
    name: 'removeProfileKeys: last line removed from a file without final newline',
    before: text('[a]', 'region = x', 'aws_session_token = T'),
    edit: (doc) => removeProfileKeys(doc, 'a', ['AWS_SESSION_TOKEN']),
    after: text('[a]', 'region = x'),
  },
  {
    name: 'removeProfileKeys: missing profile or key changes nothing',
    before: text('[a]', 'region = x', ''),
    edit: (doc) => removeProfileKeys(removeProfileKeys(doc, 'zz', ['region']), 'a', ['nope']),
    after: text('[a]', 'region = x', ''),
  },
];

describe('setProfileValues / removeProfileKeys', () => {
  for (const c of editCases) {
    it(c.name, () => {
      const doc = parseIni(c.before);
      expect(serializeIni(c.edit(doc))).toBe(c.after);
      expect(serializeIni(doc)).toBe(c.before);
    });
  }

  const invalid: Array<[string, Record<string, string>]> = [
    ['a newline in a value', { k: 'a\nb' }],
    ['a value that would read as a comment', { k: 'a #b' }],
    ['an empty value', { k: '' }],
    ['surrounding spaces', { k: ' v' }],
    ['a key with =', { 'k=x': 'v' }],
  ];
  for (const [name, values] of invalid) {
    it(`refuses ${name}`, () => {
      expect(() => setProfileValues(parseIni('[a]\n'), 'a', values)).toThrowError(expect.objectContaining({ code: 'CREDENTIALS_INVALID_VALUE' }));
    });
  }

  it('refuses a profile name that cannot be a section header', () => {
    expect(() => setProfileValues(parseIni(''), 'a ;b', { k: 'v' })).toThrowError(expect.objectContaining({ code: 'CREDENTIALS_INVALID_VALUE' }));
  });

  it('refuses to overwrite a nested sub-section or a value over several lines', () => {
    expect(() => setProfileValues(parseIni('[a]\ns3 =\n  x = 1\n'), 'a', { s3: 'v' })).toThrowError(expect.objectContaining({ code: 'CREDENTIALS_EDIT_UNSUPPORTED' }));
    expect(() => setProfileValues(parseIni('[a]\nnote = x\n  more\n'), 'a', { note: 'v' })).toThrowError(expect.objectContaining({ code: 'CREDENTIALS_EDIT_UNSUPPORTED' }));
  });

  it('refuses a profile name that would not read back (config: quotes, spaces; DEFAULT)', () => {
    for (const [name, kind] of [['a b', 'config'], ['"q', 'config'], ['DEFAULT', 'credentials']] as const) {
      expect(() => setProfileValues(parseIni(''), name, { k: 'v' }, kind), name).toThrowError(expect.objectContaining({ code: 'CREDENTIALS_INVALID_VALUE' }));
    }
  });
});

describe('round trip: serializeIni(parseIni(x)) === x', () => {
  const fixtures = [
    ...replaceCases.flatMap((c) => [c.before, c.after]),
    ...editCases.flatMap((c) => [c.before, c.after]),
    '\n',
    '\r\n\r\n',
    '[a]\r\n\r\nx = 1',
    '[a]\n\tx\t=\t1\t\n   \n',
  ];
  it.each(fixtures.map((f, i) => [i, f] as const))('fixture %i', (_, input) => {
    expect(serializeIni(parseIni(input))).toBe(input);
  });
});
