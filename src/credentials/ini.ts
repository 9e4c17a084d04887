import {
  COMMENT,
  readContinuation,
  readSectionName,
  refuseByteOrderMark,
  refuseControlCharacter,
  refuseNotASetting,
  refuseOutsideSection,
  refuseRepeatedSection,
  refuseRepeatedSetting,
  refuseTwoSectionsForProfile,
  type OpenSetting,
} from './ini-validate.js';
import { DEFAULTS_SECTION, toProfileName } from './ini-names.js';

/*
 * Lossless reading of the AWS shared credentials and config files (editing: ini-edit.ts). Pure: text in, text out.
 *
 * Reading follows botocore (the AWS CLI), which reads both files with Python's configparser:
 * - setting names are case-insensitive (`AWS_ACCESS_KEY_ID` is `aws_access_key_id`); `key = value` and
 *   `key: value` both work (the first `=` or `:` separates them);
 * - a line indented deeper than the setting above it continues that setting: a setting with an empty value
 *   followed by indented `name = value` lines is a nested section (`s3 =` → `s3.max_concurrent_requests`);
 * - settings of a `[DEFAULT]` section apply to every profile; section names are taken as written (`[ a ]` is
 *   the profile " a "); in the config file `[profile NAME]` is split as a shell would.
 * What botocore refuses, and where it and the JS SDK would read a line differently, is refused with the line
 * numbers before anything else happens (ini-validate.ts).
 */

export type IniFileKind = 'credentials' | 'config';
export type LineEnding = '' | '\n' | '\r\n';

interface IniLineBase {
  /** The line as written, without its line ending. */
  readonly raw: string;
  readonly eol: LineEnding;
}

export interface IniBlankLine extends IniLineBase {
  readonly kind: 'blank';
}

export interface IniCommentLine extends IniLineBase {
  readonly kind: 'comment';
}

export interface IniSectionLine extends IniLineBase {
  readonly kind: 'section';
  /** The text between the brackets, as written: `[profile work]` → `profile work`, `[ a ]` → ` a `. */
  readonly name: string;
}

export interface IniKeyLine extends IniLineBase {
  readonly kind: 'key';
  readonly key: string;
  readonly value: string;
  /** Where the value sits in `raw`: an edit replaces exactly this span and keeps spacing and comment. */
  readonly valueStart: number;
  readonly valueEnd: number;
  /** Index of the section header this line is under. */
  readonly section: number;
  /** Set for the indented lines under `key =`: the SDK reads them as `subsection.key`. */
  readonly subsection: string | undefined;
  /** Index of the top-level key line this one belongs to (itself when it is top-level). */
  readonly owner: number;
}

export interface IniContinuationLine extends IniLineBase {
  readonly kind: 'continuation';
  readonly section: number;
  readonly owner: number;
}

export type IniLine = IniBlankLine | IniCommentLine | IniSectionLine | IniKeyLine | IniContinuationLine;

export interface IniDocument {
  /** Names the file in error messages. */
  readonly source: string;
  /** The most common line ending, used for lines that an edit adds. */
  readonly eol: '\n' | '\r\n';
  readonly lines: readonly IniLine[];
}


export function parseIni(text: string, source = 'the credentials file'): IniDocument {
  refuseByteOrderMark(source, text);
  const lines: IniLine[] = [];
  const sections = new Map<string, number>();
  const settings = new Map<string, number>();
  let section = -1;
  let setting: OpenSetting | undefined;
  let crlf = 0;
  let lf = 0;

  for (const [raw, eol] of splitLines(text)) {
    const index = lines.length;
    if (eol === '\r\n') crlf += 1;
    else if (eol === '\n') lf += 1;

    refuseControlCharacter(source, index, raw);
    const trimmed = raw.trim();
    if (trimmed === '') {
      lines.push({ kind: 'blank', raw, eol });
      continue;
    }
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) {
      lines.push({ kind: 'comment', raw, eol });
      continue;
    }
    const comment = COMMENT.exec(raw);
    const content = comment ? raw.slice(0, comment.index) : raw;
    const indent = raw.length - raw.trimStart().length;

    if (setting && indent > setting.indent) {
      lines.push(readContinuation(source, lines, setting, index, raw, eol, content));
      continue;
    }

    if (trimmed.startsWith('[')) {
      const name = readSectionName(source, index, trimmed, content.trim());
      refuseRepeatedSection(source, sections, name, index);
      sections.set(name, index);
      lines.push({ kind: 'section', raw, eol, name });
      section = index;
      setting = undefined;
      continue;
    }

    if (section === -1) refuseOutsideSection(source, index, content);
    const delimiter = content.search(/[=:]/);
    const key = delimiter === -1 ? '' : content.slice(0, delimiter).trim();
    if (key === '') refuseNotASetting(source, index, content, delimiter);
    const sectionName = (lines[section] as IniSectionLine).name;
    refuseRepeatedSetting(source, settings, sectionName, key, index);
    settings.set(`${sectionName}\n${key.toLowerCase()}`, index);
    const after = content.slice(delimiter + 1);
    const valueStart = delimiter + 1 + (after.length - after.trimStart().length);
    const value = after.trim();
    lines.push({ kind: 'key', raw, eol, key, value, valueStart, valueEnd: valueStart + value.length, section, subsection: undefined, owner: index });
    // botocore sees no comment after a value: `key = ; note` is not empty there, so no nested section follows.
    setting = { index, indent, key, empty: raw.slice(delimiter + 1).trim() === '' };
  }

  return { source, eol: crlf > lf ? '\r\n' : '\n', lines };
}

export function serializeIni(doc: IniDocument): string {
  return doc.lines.map((line) => line.raw + line.eol).join('');
}

/** Profile names in the order they first appear. */
export function listProfiles(doc: IniDocument, kind: IniFileKind = 'credentials'): string[] {
  const names = new Set<string>();
  for (const line of doc.lines) {
    if (line.kind !== 'section') continue;
    const name = toProfileName(line.name, kind);
    if (name !== undefined) names.add(name);
  }
  return [...names];
}

/**
 * A profile's settings as botocore reads them: names in lower case, nested settings as `parent.name` (as
 * spelled), a value over several lines joined with "\n", the [DEFAULT] section's settings where the profile
 * has none. A setting without a value is left out, as the SDK does. `undefined` when there is no such
 * section; `{}` when it is empty.
 */
export function getProfile(doc: IniDocument, name: string, kind: IniFileKind = 'credentials'): Record<string, string> | undefined {
  const sections = findSections(doc, name, kind);
  if (sections.size === 0) return undefined;
  const values = new Map<string, string>();
  for (const section of [findDefaultsSections(doc), sections]) {
    doc.lines.forEach((line, index) => {
      if (line.kind !== 'key' || !section.has(line.section)) return;
      const value = line.subsection === undefined ? readValue(doc, index) : line.value;
      if (value !== '') values.set(line.subsection === undefined ? line.key.toLowerCase() : `${line.subsection}.${line.key}`, value);
    });
  }
  // fromEntries defines own properties, so a key named __proto__ stays a plain key.
  return Object.fromEntries(values);
}

/** A top-level setting's value with its continuation lines (blank lines inside kept, as botocore does). */
function readValue(doc: IniDocument, index: number): string {
  const owner = doc.lines[index] as IniKeyLine;
  const parts = [owner.value];
  for (const line of doc.lines.slice(index + 1)) {
    if (line.kind === 'blank') parts.push('');
    else if (line.kind === 'continuation' && line.owner === index) parts.push(stripComment(line.raw));
    else if (line.kind !== 'comment') break;
  }
  return parts.join('\n').trimEnd();
}

function stripComment(raw: string): string {
  const comment = COMMENT.exec(raw);
  return (comment ? raw.slice(0, comment.index) : raw).trim();
}

/** `getProfile` with config-file naming (`[profile NAME]`, `[default]`) unless told otherwise. */
export function getConfigProfile(doc: IniDocument, name: string, kind: IniFileKind = 'config'): Record<string, string> | undefined {
  return getProfile(doc, name, kind);
}

/** The profiles whose `aws_access_key_id` (the value that wins) is this key id. */
export function findProfilesWithKey(doc: IniDocument, accessKeyId: string, kind: IniFileKind = 'credentials'): string[] {
  return listProfiles(doc, kind).filter((name) => readSetting(doc, findSections(doc, name, kind), 'aws_access_key_id') === accessKeyId);
}

function* splitLines(text: string): Generator<[string, LineEnding]> {
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    if (newline === -1) {
      yield [text.slice(start), ''];
      return;
    }
    // The character before an empty line's \n is the \n before it (or nothing): never a \r.
    const crlf = text[newline - 1] === '\r';
    yield [text.slice(start, crlf ? newline - 1 : newline), crlf ? '\r\n' : '\n'];
    start = newline + 1;
  }
}

/** The section of a profile (none, or one: two sections that name one profile are refused). */
export function findSections(doc: IniDocument, name: string, kind: IniFileKind): Set<number> {
  const sections = new Set<number>();
  doc.lines.forEach((line, index) => {
    if (line.kind === 'section' && toProfileName(line.name, kind) === name) sections.add(index);
  });
  refuseTwoSectionsForProfile(doc.source, sections, name);
  return sections;
}

function findDefaultsSections(doc: IniDocument): Set<number> {
  const sections = new Set<number>();
  doc.lines.forEach((line, index) => {
    if (line.kind === 'section' && line.name === DEFAULTS_SECTION) sections.add(index);
  });
  return sections;
}

/** Top-level key lines (not inside a sub-section) of these sections, keys compared case-insensitively. */
export function findKeyLines(doc: IniDocument, sections: Set<number>, keys: string[]): { index: number; line: IniKeyLine }[] {
  const wanted = new Set(keys.map((key) => key.toLowerCase()));
  const found: { index: number; line: IniKeyLine }[] = [];
  doc.lines.forEach((line, index) => {
    if (line.kind === 'key' && line.owner === index && sections.has(line.section) && wanted.has(line.key.toLowerCase())) found.push({ index, line });
  });
  return found;
}

/** The value of a top-level key that wins (the last one), key compared case-insensitively. */
export function readSetting(doc: IniDocument, sections: Set<number>, key: string): string | undefined {
  return findKeyLines(doc, sections, [key])
    .map((target) => readValue(doc, target.index))
    .filter((value) => value !== '')
    .at(-1);
}
