import fc from 'fast-check';

/*
 * Random credentials files as people write them by hand: duplicate sections and settings, odd case,
 * `=` and `:` with odd spacing, indentation, CRLF, a BOM, comments, junk. Half of them are cleaned of what
 * the AWS CLI refuses (duplicates, junk), so that many files reach the editor.
 */

export const OLD = 'AKIAOLD0000000000001';
export const OLD_SECRET = 'old/Secret+0000000000000000000000000000001';
export const OTHER = 'AKIAOTHER00000000003';
export const OTHER_SECRET = 'other/Secret+00000000000000000000000000003';
export const NEW_PAIR = { accessKeyId: 'AKIANEW0000000000002', secretAccessKey: 'new/Secret+0000000000000000000000000000002' };

interface GeneratedLine {
  text: string;
  eol: '\n' | '\r\n';
  /** For cleaning: the section name of a header, the lower-case name of a setting, or junk. */
  header?: string;
  setting?: string;
  junk?: boolean;
}

const eol = fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n');
const indent = fc.constantFrom('', '', '', '', '  ', '\t');

const CREDENTIALS_HEADERS = ['default', 'work', 'Work', 'alias', ' spaced ', 'profile x', 'DEFAULT'];
/** The config file's: `[profile NAME]` (split as a shell would), `[default]`, and sections that are no profile. */
const CONFIG_HEADERS = ['default', 'profile work', 'profile Work', 'profile  alias', 'profile "a b"', 'profile default', 'profile x y', 'work', 'sso-session corp', 'DEFAULT'];

const headerOf = (names: string[]) =>
  fc
    .tuple(fc.constantFrom('', '', '', ' '), fc.constantFrom(...names), fc.constantFrom('', '', '', ' # note', ' ;x', ' junk', '#glued'), eol)
    .map(([space, name, tail, end]): GeneratedLine => ({ text: `${space}[${name}]${tail}`, eol: end, header: name, junk: tail === ' junk' || tail === '#glued' }));

const keyIds = fc.constantFrom(OLD, OLD, OLD, OTHER, '', 'x ;y');
const secrets = fc.constantFrom(OLD_SECRET, OTHER_SECRET, '', 'a#b');
const others = fc.constantFrom('us-east-1', '', 'a#b', 'a:b=c', 'x ;y', OLD);
const named = (names: string[], values: fc.Arbitrary<string>): fc.Arbitrary<[string, string]> => fc.tuple(fc.constantFrom(...names), values);

const setting = fc
  .tuple(
    indent,
    fc.oneof(
      { weight: 3, arbitrary: named(['aws_access_key_id', 'AWS_ACCESS_KEY_ID', 'Aws_Access_Key_Id'], keyIds) },
      { weight: 2, arbitrary: named(['aws_secret_access_key', 'AWS_Secret_Access_Key'], secrets) },
      { weight: 2, arbitrary: named(['aws_session_token', 'region', 'Region', 's3', 'output'], others) },
    ),
    fc.constantFrom(' = ', '=', ': ', ':', ' :\t', '\t= ', ' =  '),
    fc.constantFrom('', '', '', ' # note', '   ', '\t; why'),
    eol,
  )
  .map(([space, [key, value], separator, tail, end]): GeneratedLine => ({ text: `${space}${key}${separator}${value}${tail}`, eol: end, setting: key.toLowerCase() }));

const other = fc
  .tuple(fc.constantFrom('', '   ', '# c', '; c', '  # c', '  more', '    nested = 1', '  max_attempts: 3', 'oops', '= v', '  [inner]'), eol)
  .map(([text, end]): GeneratedLine => ({ text, eol: end, junk: text === 'oops' || text === '= v' }));

const sectionOf = (names: string[]) => fc.tuple(headerOf(names), fc.array(fc.oneof({ weight: 3, arbitrary: setting }, { weight: 1, arbitrary: other }), { maxLength: 6 }));

export interface GeneratedFile {
  text: string;
}

const iniFiles = (headers: string[]): fc.Arbitrary<GeneratedFile> => fc
  .record({
    bom: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    prelude: fc.array(fc.tuple(fc.constantFrom('', '# top', '; top', '  # top'), eol), { maxLength: 2 }),
    sections: fc.array(sectionOf(headers), { maxLength: 4 }),
    clean: fc.boolean(),
    finalEol: fc.integer({ min: 0, max: 4 }).map((n) => n !== 0),
  })
  .map(({ bom, prelude, sections, clean, finalEol }): GeneratedFile => {
    const lines: GeneratedLine[] = prelude.map(([text, end]) => ({ text, eol: end }));
    const seenSections = new Set<string>();
    for (const [head, body] of sections) {
      if (clean && (head.junk || head.header === 'DEFAULT' || seenSections.has(head.header!))) continue;
      seenSections.add(head.header!);
      lines.push(clean ? { ...head, text: head.text.trimStart() } : head);
      const seenSettings = new Set<string>();
      for (const line of body) {
        if (clean && (line.junk || (line.setting !== undefined && seenSettings.has(line.setting)))) continue;
        // Indented lines continue the setting above (a refusal under a credential): keep few in clean files.
        if (clean && line.setting === undefined && /^\s+[^\s#;]/.test(line.text) && seenSettings.size % 2 === 0) continue;
        if (line.setting !== undefined) seenSettings.add(line.setting);
        lines.push(clean && line.setting !== undefined ? { ...line, text: line.text.trimStart() } : line);
      }
    }
    let text = lines.map((line) => line.text + line.eol).join('');
    if (!finalEol) text = text.replace(/\r?\n$/, '');
    return { text: (bom && !clean ? '\uFEFF' : '') + text };
  });

export const credentialsFiles = iniFiles(CREDENTIALS_HEADERS);
/** Config files (`[profile NAME]`), generated the same way. */
export const configFiles = iniFiles(CONFIG_HEADERS);
