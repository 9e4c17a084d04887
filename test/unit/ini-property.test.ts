import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replaceAccessKey } from '../../src/credentials/ini-edit.js';
import { findProfilesWithKey, getProfile, listProfiles, parseIni, serializeIni, type IniDocument, type IniFileKind } from '../../src/credentials/ini.js';
import { toProfileName } from '../../src/credentials/ini-names.js';
import { configFiles, credentialsFiles, NEW_PAIR, OLD, type GeneratedFile } from '../support/ini-files.js';

/*
 * The editor's invariant, on random hand-written files: a rotation rewrites only the sections that held the
 * old key id, and in them only the two credential settings (or adds the missing secret); every profile reads
 * as before except that the old key's holders now read the new pair. A file is either refused as malformed,
 * or read and edited: nothing in between. test/integration/aws-cli-files.test.ts checks the same files
 * against the AWS CLI's own parser.
 */

const CREDENTIAL_LINE = /^\s*aws_(access_key_id|secret_access_key)\s*[=:]/i;

function readAll(doc: IniDocument, kind: IniFileKind): Map<string, Record<string, string>> {
  return new Map(listProfiles(doc, kind).map((name) => [name, getProfile(doc, name, kind)!]));
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

const FILES: Array<{ kind: IniFileKind; files: fc.Arbitrary<GeneratedFile>; minEdited: number }> = [
  { kind: 'credentials', files: credentialsFiles, minEdited: 200 },
  // `[profile NAME]` headers: the config file holds keys too (issue 9.2), and its edits keep the same promise.
  { kind: 'config', files: configFiles, minEdited: 150 },
];

describe.each(FILES)('replaceAccessKey on random $kind files (fast-check)', ({ kind, files, minEdited }) => {
  it('refuses the file, or changes only the credentials of the profiles that held the old key', () => {
    let edited = 0;
    fc.assert(
      fc.property(files, ({ text }) => {
        let doc: IniDocument;
        try {
          doc = parseIni(text);
        } catch (error) {
          expect(error).toMatchObject({ code: 'CREDENTIALS_MALFORMED', exitCode: 2 });
          return;
        }
        expect(serializeIni(doc)).toBe(text);
        let before: Map<string, Record<string, string>>;
        try {
          before = readAll(doc, kind);
        } catch (error) {
          // Two sections that name one profile (`[default]` and `[profile default]`): refused, never edited.
          expect(error).toMatchObject({ code: 'CREDENTIALS_MALFORMED', message: expect.stringMatching(/two sections are the profile/) });
          expect(() => replaceAccessKey(doc, OLD, NEW_PAIR, kind)).toThrow(/two sections are the profile/);
          return;
        }
        const { doc: after, profiles } = replaceAccessKey(doc, OLD, NEW_PAIR, kind);
        if (profiles.length > 0) edited += 1;

        expect(profiles).toEqual([...before].filter(([, values]) => values.aws_access_key_id === OLD).map(([name]) => name));
        const reading = readAll(after, kind);
        for (const [name, values] of before) {
          const expected = profiles.includes(name) ? { ...values, aws_access_key_id: NEW_PAIR.accessKeyId, aws_secret_access_key: NEW_PAIR.secretAccessKey } : values;
          expect(reading.get(name), name).toEqual(expected);
        }
        expect(findProfilesWithKey(after, OLD, kind)).toEqual([]);

        const was = sectionsOf(doc);
        const now = sectionsOf(after);
        expect(now.map((s) => s.name)).toEqual(was.map((s) => s.name));
        was.forEach((section, i) => {
          const profile = section.name === undefined ? undefined : toProfileName(section.name, kind);
          if (profile !== undefined && profiles.includes(profile)) {
            const others = (lines: string[]): string[] => lines.filter((line) => !CREDENTIAL_LINE.test(line)).map((line) => line.replace(/\r?\n$/, ''));
            expect(others(now[i]!.lines)).toEqual(others(section.lines));
            expect(now[i]!.lines.length - section.lines.length).toBeLessThanOrEqual(1);
          } else {
            // A section that held another key id, or is no profile at all (`[work]`, `[sso-session x]` in the config file), is never rewritten.
            expect(now[i]!.lines).toEqual(section.lines);
          }
        });
        expect(serializeIni(parseIni(serializeIni(after)))).toBe(serializeIni(after));
      }),
      { numRuns: 3000 },
    );
    // Not vacuous: many generated files hold the old key and get edited.
    expect(edited).toBeGreaterThan(minEdited);
  });
});
