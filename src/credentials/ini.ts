import type { StaticCredentials } from '../core/types.js';
import { CredentialsFileError } from '../errors.js';
import {
  checkProfileName,
  checkSetting,
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
import { DEFAULTS_SECTION, sectionNameFor, toProfileName } from './ini-names.js';

/*
 * Lossless reading and editing of the AWS shared credentials and config files. Pure: text in, text out.
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

export interface ReplaceAccessKeyResult {
  doc: IniDocument;
  /** The profiles that held the old key and now hold the new one. */
  profiles: string[];
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

/**
 * Sets keys of a profile and returns the new document. An existing key is changed in place, keeping its
 * spelling, spacing, trailing comment and line ending. Missing keys go after the last key of the profile's last
 * section; a missing profile is added at the end of the file.
 */
export function setProfileValues(doc: IniDocument, name: string, values: Record<string, string>, kind: IniFileKind = 'credentials'): IniDocument {
  const entries = Object.entries(values);
  for (const [key, value] of entries) checkSetting(doc, name, key, value);
  if (entries.length === 0) return doc;

  const sections = findSections(doc, name, kind);
  const lines = copyLines(doc);
  const separator = findSeparator(doc, sections);
  const missing: string[] = [];
  for (const [key, value] of entries) {
    const targets = findKeyLines(doc, sections, [key]);
    if (targets.length === 0) missing.push(`${key}${separator}${value}`);
    for (const target of targets) {
      if (doc.lines.some((line, index) => index !== target.index && (line.kind === 'key' || line.kind === 'continuation') && line.owner === target.index)) {
        throw new CredentialsFileError('CREDENTIALS_EDIT_UNSUPPORTED', `${doc.source}: "${key}" of profile '${name}' has indented lines under it; aws-rekey does not overwrite it.`, {
          hint: `Edit [${name}] by hand, or remove the indented lines under ${key}.`,
        });
      }
      lines[target.index] = { raw: replaceValue(target.line, value), eol: target.line.eol };
    }
  }

  if (sections.size === 0) {
    const header = sectionNameFor(name, kind);
    checkProfileName(doc, name, header, kind);
    const block = [`[${header}]`, ...missing];
    const last = lines.at(-1);
    if (last && last.raw.trim() !== '') block.unshift('');
    insertLines(lines, lines.length - 1, block, doc.eol);
  } else if (missing.length > 0) {
    const after = lastLineOfProfile(doc, Math.max(...sections));
    const indent = indentForLineAfter(doc, after);
    insertLines(lines, after, missing.map((line) => indent + line), doc.eol);
  }

  const edited = rebuild(doc, lines);
  const editedSections = findSections(edited, name, kind);
  for (const [key, value] of entries) {
    if (readSetting(edited, editedSections, key) !== value) {
      throw new CredentialsFileError('CREDENTIALS_INVALID_VALUE', `${doc.source}: "${key}" of profile '${name}' would not read back as written.`, {
        hint: 'Values must fit on one line, without surrounding spaces or " #" / " ;" (those start a comment).',
      });
    }
  }
  return edited;
}

/** Removes keys (every line that holds them, with their continuation lines) from a profile. */
export function removeProfileKeys(doc: IniDocument, name: string, keys: string[], kind: IniFileKind = 'credentials'): IniDocument {
  const drop = new Set(findKeyLines(doc, findSections(doc, name, kind), keys).map((target) => target.index));
  if (drop.size === 0) return doc;
  doc.lines.forEach((line, index) => {
    if ((line.kind === 'key' || line.kind === 'continuation') && drop.has(line.owner)) drop.add(index);
  });
  const lines = copyLines(doc).filter((_, index) => !drop.has(index));
  const last = lines.at(-1);
  // Keep a file that ended without a newline ending without one.
  if (last && drop.has(doc.lines.length - 1) && doc.lines.at(-1)?.eol === '') last.eol = '';
  return rebuild(doc, lines);
}

/** Puts a new key pair in every profile that holds `oldAccessKeyId`, and changes nothing else. */
export function replaceAccessKey(
  doc: IniDocument,
  oldAccessKeyId: string,
  newPair: Pick<StaticCredentials, 'accessKeyId' | 'secretAccessKey'>,
  kind: IniFileKind = 'credentials',
): ReplaceAccessKeyResult {
  const profiles = findProfilesWithKey(doc, oldAccessKeyId, kind);
  let edited = doc;
  for (const name of profiles) {
    edited = setProfileValues(edited, name, { aws_access_key_id: newPair.accessKeyId, aws_secret_access_key: newPair.secretAccessKey }, kind);
  }
  return { doc: edited, profiles };
}

interface RawLine {
  raw: string;
  eol: LineEnding;
}

function* splitLines(text: string): Generator<[string, LineEnding]> {
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    if (newline === -1) {
      yield [text.slice(start), ''];
      return;
    }
    const crlf = newline > start && text[newline - 1] === '\r';
    yield [text.slice(start, crlf ? newline - 1 : newline), crlf ? '\r\n' : '\n'];
    start = newline + 1;
  }
}

/** The section of a profile (none, or one: two sections that name one profile are refused). */
function findSections(doc: IniDocument, name: string, kind: IniFileKind): Set<number> {
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
function findKeyLines(doc: IniDocument, sections: Set<number>, keys: string[]): { index: number; line: IniKeyLine }[] {
  const wanted = new Set(keys.map((key) => key.toLowerCase()));
  const found: { index: number; line: IniKeyLine }[] = [];
  doc.lines.forEach((line, index) => {
    if (line.kind === 'key' && line.owner === index && sections.has(line.section) && wanted.has(line.key.toLowerCase())) found.push({ index, line });
  });
  return found;
}

/** The value of a top-level key that wins (the last one), key compared case-insensitively. */
function readSetting(doc: IniDocument, sections: Set<number>, key: string): string | undefined {
  return findKeyLines(doc, sections, [key])
    .map((target) => readValue(doc, target.index))
    .filter((value) => value !== '')
    .at(-1);
}

/** The line after which new keys go: the profile's last key or continuation line, else its header. */
function lastLineOfProfile(doc: IniDocument, header: number): number {
  let last = header;
  for (let index = header + 1; index < doc.lines.length; index += 1) {
    const line = doc.lines[index]!;
    if (line.kind === 'section') break;
    if (line.kind === 'key' || line.kind === 'continuation') last = index;
  }
  return last;
}

/**
 * The indentation of a setting added after line `after`: that of the setting it follows, else that of the
 * next line that is not blank or a comment. Deeper, it would continue the setting above; shallower, the
 * indented line below would become a continuation of it (botocore reads indentation).
 */
function indentForLineAfter(doc: IniDocument, after: number): string {
  const line = doc.lines[after]!;
  const model = line.kind === 'key' || line.kind === 'continuation' ? doc.lines[line.owner] : doc.lines.slice(after + 1).find((next) => next.kind !== 'blank' && next.kind !== 'comment');
  return model ? /^\s*/.exec(model.raw)![0] : '';
}

/** Written like the keys around it: `key=value` in a file that writes it so, `key = value` otherwise. */
function findSeparator(doc: IniDocument, sections: Set<number>): string {
  const keyLines = doc.lines.filter((line, index): line is IniKeyLine => line.kind === 'key' && line.owner === index && line.value !== '');
  const model = keyLines.find((line) => sections.has(line.section)) ?? keyLines[0];
  if (!model) return ' = ';
  const keyEnd = model.raw.length - model.raw.trimStart().length + model.key.length;
  return model.raw.slice(keyEnd, model.valueStart);
}

function replaceValue(line: IniKeyLine, value: string): string {
  const before = line.raw.slice(0, line.valueStart);
  // `key =` with no value yet: write `key = value`, not `key =value`.
  const gap = line.value === '' && /\s=$/.test(before) ? ' ' : '';
  return before + gap + value + line.raw.slice(line.valueEnd);
}

/** Inserts lines after `after` (-1: at the start); a file without a final newline stays without one. */
function insertLines(lines: RawLine[], after: number, texts: string[], eol: '\n' | '\r\n'): void {
  const previous = lines[after];
  const atEndWithoutNewline = previous !== undefined && previous.eol === '';
  if (previous && atEndWithoutNewline) previous.eol = eol;
  const added = texts.map((raw, i): RawLine => ({ raw, eol: atEndWithoutNewline && i === texts.length - 1 ? '' : eol }));
  lines.splice(after + 1, 0, ...added);
}

function copyLines(doc: IniDocument): RawLine[] {
  return doc.lines.map(({ raw, eol }) => ({ raw, eol }));
}

/** Re-parsing the edited text keeps every derived field (sections, owners, sub-sections) right by construction. */
function rebuild(doc: IniDocument, lines: RawLine[]): IniDocument {
  const text = lines.map((line) => line.raw + line.eol).join('');
  return parseIni(text, doc.source);
}
