import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dotenvValue, editDotenv } from '../../src/credentials/dotenv.js';

const NEW = { AWS_ACCESS_KEY_ID: 'AKIANEWNEWNEWNEW0001', AWS_SECRET_ACCESS_KEY: 'new/secret+value=' };
const SESSION = ['AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN'];
const edit = (text: string) => editDotenv(text, NEW, SESSION);

describe('editDotenv', () => {
  const cases: Array<{ name: string; before: string; after: string }> = [
    { name: 'an empty file gets the two variables', before: '', after: `AWS_ACCESS_KEY_ID=${NEW.AWS_ACCESS_KEY_ID}\nAWS_SECRET_ACCESS_KEY=${NEW.AWS_SECRET_ACCESS_KEY}\n` },
    {
      name: 'bare values are replaced in place; comments, blank lines and other variables stay',
      before: '# ci\nAPP=1\n\nAWS_ACCESS_KEY_ID=AKIAOLD\nAWS_SECRET_ACCESS_KEY=old\nZ=2\n',
      after: `# ci\nAPP=1\n\nAWS_ACCESS_KEY_ID=${NEW.AWS_ACCESS_KEY_ID}\nAWS_SECRET_ACCESS_KEY=${NEW.AWS_SECRET_ACCESS_KEY}\nZ=2\n`,
    },
    {
      name: 'export prefix, spacing around =, quotes and a trailing comment are kept',
      before: `  export AWS_ACCESS_KEY_ID = "AKIAOLD" # old\nAWS_SECRET_ACCESS_KEY='old'  \n`,
      after: `  export AWS_ACCESS_KEY_ID = "${NEW.AWS_ACCESS_KEY_ID}" # old\nAWS_SECRET_ACCESS_KEY='${NEW.AWS_SECRET_ACCESS_KEY}'  \n`,
    },
    {
      name: 'a bare value with a comment keeps the comment',
      before: 'AWS_ACCESS_KEY_ID=AKIAOLD   # rotated\n',
      after: `AWS_ACCESS_KEY_ID=${NEW.AWS_ACCESS_KEY_ID}   # rotated\nAWS_SECRET_ACCESS_KEY=${NEW.AWS_SECRET_ACCESS_KEY}\n`,
    },
    {
      name: 'the session token goes, with all its lines when quoted over several',
      before: 'A=1\nAWS_SESSION_TOKEN="abc\ndef"\nAWS_SECURITY_TOKEN=x\nB=2\n',
      after: `A=1\nB=2\nAWS_ACCESS_KEY_ID=${NEW.AWS_ACCESS_KEY_ID}\nAWS_SECRET_ACCESS_KEY=${NEW.AWS_SECRET_ACCESS_KEY}\n`,
    },
    {
      name: 'an assignment inside another value is text, not a variable',
      before: 'NOTE="line\nAWS_ACCESS_KEY_ID=not-a-variable\nend"\n',
      after: `NOTE="line\nAWS_ACCESS_KEY_ID=not-a-variable\nend"\nAWS_ACCESS_KEY_ID=${NEW.AWS_ACCESS_KEY_ID}\nAWS_SECRET_ACCESS_KEY=${NEW.AWS_SECRET_ACCESS_KEY}\n`,
    },
    {
      name: 'CRLF line endings are kept, and used for what is added; a missing final newline is added first',
      before: 'A=1\r\nAWS_ACCESS_KEY_ID=AKIAOLD',
      after: `A=1\r\nAWS_ACCESS_KEY_ID=${NEW.AWS_ACCESS_KEY_ID}\r\nAWS_SECRET_ACCESS_KEY=${NEW.AWS_SECRET_ACCESS_KEY}\r\n`,
    },
    {
      name: 'a file whose assignments all use export gets export on the added ones',
      before: 'export A=1\n',
      after: `export A=1\nexport AWS_ACCESS_KEY_ID=${NEW.AWS_ACCESS_KEY_ID}\nexport AWS_SECRET_ACCESS_KEY=${NEW.AWS_SECRET_ACCESS_KEY}\n`,
    },
    {
      name: 'a key given twice: both get the value (whichever a reader takes)',
      before: 'AWS_ACCESS_KEY_ID=a\nAWS_ACCESS_KEY_ID=b\nAWS_SECRET_ACCESS_KEY=s\n',
      after: `AWS_ACCESS_KEY_ID=${NEW.AWS_ACCESS_KEY_ID}\nAWS_ACCESS_KEY_ID=${NEW.AWS_ACCESS_KEY_ID}\nAWS_SECRET_ACCESS_KEY=${NEW.AWS_SECRET_ACCESS_KEY}\n`,
    },
    {
      name: 'an unclosed quote is not an assignment and is left alone',
      before: 'BROKEN="no end\nAWS_ACCESS_KEY_ID=AKIAOLD\n',
      after: `BROKEN="no end\nAWS_ACCESS_KEY_ID=${NEW.AWS_ACCESS_KEY_ID}\nAWS_SECRET_ACCESS_KEY=${NEW.AWS_SECRET_ACCESS_KEY}\n`,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(edit(c.before)).toBe(c.after);
      // Editing again changes nothing: a resumed delivery writes nothing new.
      expect(edit(c.after)).toBe(c.after);
    });
  }

  it('removes the two variables when asked (an undo without the old pair)', () => {
    expect(editDotenv('A=1\nAWS_ACCESS_KEY_ID=x\nAWS_SECRET_ACCESS_KEY=y\n', {}, ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'])).toBe('A=1\n');
  });
});

describe('dotenvValue', () => {
  it.each([
    ['A=1\nA=2\n', 'A', '2'],
    ['A="x y" # c\n', 'A', 'x y'],
    ["A='x # y'\n", 'A', 'x # y'],
    ['A=x # y\n', 'A', 'x'],
    ['A="a\\"b"\n', 'A', 'a"b'],
    ['export A = v\n', 'A', 'v'],
    ['B=1\n', 'A', undefined],
  ])('%j: %s is %s', (text, key, value) => {
    expect(dotenvValue(text, key)).toBe(value);
  });
});

/** A line that is anything but an assignment of the variables the edit touches (it may open a quote). */
const otherLine = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'B', '_', '=', ' ', '#', '"', "'", '\\', 'x', '1', '-', '.') }),
  fc.tuple(fc.constantFrom('', 'export ', '  '), fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), fc.constantFrom('=', ' = '), fc.string()).map(([a, b, c, d]) => `${a}${b}${c}${d}`),
  fc.constant(''),
  fc.string().map((s) => `# ${s}`),
).filter((line) => !/[\r\n]/.test(line) && !/^\s*(export\s+)?AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SECURITY_TOKEN)\s*=/.test(line));
const awsLine = fc
  .tuple(
    fc.constantFrom('', 'export '),
    fc.constantFrom('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'),
    fc.constantFrom('=', ' = '),
    fc.constantFrom('', '"', "'"),
    fc.stringMatching(/^[A-Za-z0-9/+=]{0,12}$/),
    fc.constantFrom('', ' # old'),
  )
  .map(([e, k, eq, q, v, c]) => `${e}${k}${eq}${q}${v}${q}${c}`);
const dotenvFiles = fc.tuple(fc.array(fc.oneof({ weight: 3, arbitrary: otherLine }, { weight: 1, arbitrary: awsLine }), { maxLength: 12 }), fc.constantFrom('\n', '\r\n'), fc.boolean()).map(([lines, eol, final]) => lines.join(eol) + (final && lines.length ? eol : ''));

describe('editDotenv on random files (fast-check)', () => {
  const touched = (line: string) => /^\s*(export\s+)?AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SECURITY_TOKEN)\s*=/.test(line);
  const others = (text: string) => text.split(/\r?\n/).filter((line) => !touched(line) && line !== '');

  it('other lines never change, in content or order; a reader then sees the new pair and no session token', () => {
    fc.assert(
      fc.property(dotenvFiles, (text) => {
        const after = edit(text);
        expect(others(after)).toEqual(others(text));
        expect(dotenvValue(after, 'AWS_ACCESS_KEY_ID')).toBe(NEW.AWS_ACCESS_KEY_ID);
        expect(dotenvValue(after, 'AWS_SECRET_ACCESS_KEY')).toBe(NEW.AWS_SECRET_ACCESS_KEY);
        expect(dotenvValue(after, 'AWS_SESSION_TOKEN')).toBeUndefined();
        expect(edit(after)).toBe(after);
      }),
      { numRuns: 500 },
    );
  });
});
