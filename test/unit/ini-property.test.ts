import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findProfilesWithKey, getProfile, listProfiles, parseIni, replaceAccessKey, serializeIni, type IniDocument } from '../../src/credentials/ini.js';
import { credentialsFiles, NEW_PAIR, OLD } from '../support/ini-files.js';

/*
 * The editor's invariant, on random hand-written files: a rotation rewrites only the sections that held the
 * old key id, and in them only the two credential settings (or adds the missing secret); every profile reads
 * as before except that the old key's holders now read the new pair. A file is either refused as malformed,
 * or read and edited: nothing in between. test/integration/aws-cli-files.test.ts checks the same files
 * against the AWS CLI's own parser.
 */

const CREDENTIAL_LINE = /^\s*aws_(access_key_id|secret_access_key)\s*[=:]/i;

function readAll(doc: IniDocument): Map<string, Record<string, string>> {
  return new Map(listProfiles(doc).map((name) => [name, getProfile(doc, name)!]));
}

/** The file cut at its section headers: [lines before the first header, then one entry per section]. */
function sectionsOf(doc: IniDocument): Array<{ name?: string; lines: string[] }> {
  const out: Array<{ name?: string; lines: string[] }> = [{ lines: [] }];
  for (const line of doc.lines) {
    if (line.kind === 'section') out.push({ name: line.name, lines: [] });
    out.at(-1)!.lines.push(line.raw + line.eol);
  }
  return out;
}

describe('replaceAccessKey on random files (fast-check)', () => {
  it('refuses the file, or changes only the credentials of the profiles that held the old key', () => {
    let edited = 0;
    fc.assert(
      fc.property(credentialsFiles, ({ text }) => {
        let doc: IniDocument;
        try {
          doc = parseIni(text);
        } catch (error) {
          expect(error).toMatchObject({ code: 'CREDENTIALS_MALFORMED', exitCode: 2 });
          return;
        }
        expect(serializeIni(doc)).toBe(text);
        const before = readAll(doc);
        const { doc: after, profiles } = replaceAccessKey(doc, OLD, NEW_PAIR);
        if (profiles.length > 0) edited += 1;

        expect(profiles).toEqual([...before].filter(([, values]) => values.aws_access_key_id === OLD).map(([name]) => name));
        const reading = readAll(after);
        for (const [name, values] of before) {
          const expected = profiles.includes(name) ? { ...values, aws_access_key_id: NEW_PAIR.accessKeyId, aws_secret_access_key: NEW_PAIR.secretAccessKey } : values;
          expect(reading.get(name), name).toEqual(expected);
        }
        expect(findProfilesWithKey(after, OLD)).toEqual([]);

        const was = sectionsOf(doc);
        const now = sectionsOf(after);
        expect(now.map((s) => s.name)).toEqual(was.map((s) => s.name));
        was.forEach((section, i) => {
          if (section.name !== undefined && profiles.includes(section.name)) {
            const others = (lines: string[]): string[] => lines.filter((line) => !CREDENTIAL_LINE.test(line)).map((line) => line.replace(/\r?\n$/, ''));
            expect(others(now[i]!.lines)).toEqual(others(section.lines));
            expect(now[i]!.lines.length - section.lines.length).toBeLessThanOrEqual(1);
          } else {
            expect(now[i]!.lines).toEqual(section.lines);
          }
        });
        expect(serializeIni(parseIni(serializeIni(after)))).toBe(serializeIni(after));
      }),
      { numRuns: 3000 },
    );
    // Not vacuous: many generated files hold the old key and get edited.
    expect(edited).toBeGreaterThan(200);
  });
});
