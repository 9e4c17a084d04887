import type { StaticCredentials } from '../core/types.js';
import { CredentialsFileError, ExitCode } from '../errors.js';

/*
 * Lossless reading and editing of the AWS shared credentials and config files. Pure: text in, text out.
 *
 * Reading mirrors @smithy/shared-ini-file-loader, which is what the JS SDK (and so fromIni) reads:
 * - `#` or `;` at the start of a line or after whitespace starts a comment, also after a value
 *   (`key = AKIA… # work`); a `#` glued to text (`abc#def`) is part of the value;
 * - `key = value`, both trimmed, keys case-sensitive; a later value wins, also across duplicate sections;
 * - a key with an empty value opens a sub-section: the indented `name = value` lines under it are `key.name`.
 *
 * Where the SDK silently skips a line (text before the first section, a line without `=`, a `[` that is not
 * closed), we stop with the line number instead: the SDK would attach the keys that follow to the previous
 * profile, and an edit made on that reading could hit the wrong profile. botocore (the AWS CLI) rejects
 * those lines too. An indented line without `=` after a key is botocore's multi-line value: kept verbatim.
 *
 * Edits match key names case-insensitively: botocore lowercases them, so `AWS_ACCESS_KEY_ID` and
 * `aws_access_key_id` in one section would be a duplicate that makes the AWS CLI refuse the whole file.
 */

export type IniFileKind = 'credentials' | 'config';
export type LineEnding = '' | '\n' | '\r\n';

interface IniLineBase {
  /** The line as written, without its line ending (and without the file's BOM). */
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
  /** The text between the brackets, trimmed: `[profile work]` → `profile work`. */
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
  readonly bom: boolean;
  /** The most common line ending, used for lines that an edit adds. */
  readonly eol: '\n' | '\r\n';
  readonly lines: readonly IniLine[];
}

export interface ReplaceAccessKeyResult {
  doc: IniDocument;
  /** The profiles that held the old key and now hold the new one. */
  profiles: string[];
}

const COMMENT = /(^|\s)[;#]/;
const INDENTED = /^\s/;

export function parseIni(text: string, source = 'the credentials file'): IniDocument {
  const bom = text.startsWith('\uFEFF');
  const lines: IniLine[] = [];
  let section = -1;
  let subsection: { name: string; owner: number } | undefined;
  let lastOwner = -1;
  let crlf = 0;
  let lf = 0;

  for (const [raw, eol] of splitLines(bom ? text.slice(1) : text)) {
    const index = lines.length;
    if (eol === '\r\n') crlf += 1;
    else if (eol === '\n') lf += 1;

    const comment = COMMENT.exec(raw);
    const content = comment ? raw.slice(0, comment.index) : raw;
    const trimmed = content.trim();
    if (trimmed === '') {
      lines.push({ kind: raw.trim() === '' ? 'blank' : 'comment', raw, eol });
      continue;
    }

    if (trimmed.startsWith('[')) {
      if (!trimmed.endsWith(']')) {
        throw malformed(source, index, `the section header ${quote(trimmed)} has no closing "]"`, 'Close the bracket, e.g. [work]; a comment after it needs a space before # or ;.');
      }
      const name = trimmed.slice(1, -1).trim();
      if (name === '') throw malformed(source, index, 'the section header [] has no name', 'Name the section, e.g. [default], or remove the line.');
      lines.push({ kind: 'section', raw, eol, name });
      section = index;
      subsection = undefined;
      lastOwner = -1;
      continue;
    }

    const equals = content.indexOf('=');
    const key = equals === -1 ? '' : content.slice(0, equals).trim();
    if (key === '') {
      if (equals === -1 && lastOwner !== -1 && INDENTED.test(raw)) {
        lines.push({ kind: 'continuation', raw, eol, section, owner: lastOwner });
        continue;
      }
      // The line itself is not quoted: it may hold a secret.
      if (section === -1) {
        throw malformed(source, index, 'text before the first [section]', 'Put settings under a section header such as [default], or comment the line out with #.');
      }
      throw malformed(
        source,
        index,
        equals === -1 ? 'the line is not "key = value", a [section] or a comment' : 'the line has "=" but no key before it',
        'Write settings as key = value (with "=", not ":"), start comments with # or ;, or remove the line.',
      );
    }
    if (section === -1) {
      throw malformed(source, index, `the key ${quote(key)} comes before the first [section]`, 'Put it under a section header such as [default], or remove it.');
    }

    const after = content.slice(equals + 1);
    const valueStart = equals + 1 + (after.length - after.trimStart().length);
    const value = after.trim();
    if (subsection && !INDENTED.test(raw)) subsection = undefined;
    const owner = subsection?.owner ?? index;
    lines.push({ kind: 'key', raw, eol, key, value, valueStart, valueEnd: valueStart + value.length, section, subsection: subsection?.name, owner });
    if (value === '') subsection = { name: key, owner };
    lastOwner = owner;
  }

  return { source, bom, eol: crlf > lf ? '\r\n' : '\n', lines };
}

export function serializeIni(doc: IniDocument): string {
  return (doc.bom ? '\uFEFF' : '') + doc.lines.map((line) => line.raw + line.eol).join('');
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
 * A profile's settings as the SDK reads them: keys as spelled, sub-section keys as `parent.key`, later
 * values winning. `undefined` when the file has no such section; `{}` when the section is empty.
 */
export function getProfile(doc: IniDocument, name: string, kind: IniFileKind = 'credentials'): Record<string, string> | undefined {
  const sections = findSections(doc, name, kind);
  if (sections.size === 0) return undefined;
  const values = new Map<string, string>();
  for (const line of doc.lines) {
    if (line.kind !== 'key' || !sections.has(line.section) || line.value === '') continue;
    values.set(line.subsection === undefined ? line.key : `${line.subsection}.${line.key}`, line.value);
  }
  // fromEntries defines own properties, so a key named __proto__ stays a plain key.
  return Object.fromEntries(values);
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
 * Sets keys of a profile and returns the new document. An existing key is changed in place, on every line
 * that holds it (duplicate sections included, so that no reader keeps a stale value), keeping its spelling,
 * spacing, trailing comment and line ending. Missing keys go after the last key of the profile's last
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
      if (doc.lines.some((line, index) => index !== target.index && line.kind === 'key' && line.owner === target.index)) {
        throw new CredentialsFileError('CREDENTIALS_EDIT_UNSUPPORTED', `${doc.source}: "${key}" of profile '${name}' is a nested section; aws-rekey does not overwrite it.`, {
          hint: `Edit [${name}] by hand, or remove the indented lines under ${key}.`,
        });
      }
      lines[target.index] = { raw: replaceValue(target.line, value), eol: target.line.eol };
    }
  }

  if (sections.size === 0) {
    checkProfileName(doc, name);
    const header = kind === 'config' && name !== 'default' ? `[profile ${name}]` : `[${name}]`;
    const block = [header, ...missing];
    const last = lines.at(-1);
    if (last && last.raw.trim() !== '') block.unshift('');
    insertLines(lines, lines.length - 1, block, doc.eol);
  } else if (missing.length > 0) {
    insertLines(lines, lastLineOfProfile(doc, Math.max(...sections)), missing, doc.eol);
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

function malformed(source: string, index: number, problem: string, hint: string): CredentialsFileError {
  // Exit 2, like a missing profile: the user's file must be fixed before anything can be tried.
  return new CredentialsFileError('CREDENTIALS_MALFORMED', `${source}, line ${index + 1}: ${problem}.`, { hint, exitCode: ExitCode.usage });
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

function toProfileName(section: string, kind: IniFileKind): string | undefined {
  if (kind === 'credentials' || section === 'default') return section;
  const match = /^profile\s+(.+)$/.exec(section);
  if (!match?.[1]) return undefined;
  // The SDK accepts [profile "name"] and [profile 'name'].
  return /^(["'])(.+)\1$/.exec(match[1])?.[2] ?? match[1];
}

function findSections(doc: IniDocument, name: string, kind: IniFileKind): Set<number> {
  const sections = new Set<number>();
  doc.lines.forEach((line, index) => {
    if (line.kind === 'section' && toProfileName(line.name, kind) === name) sections.add(index);
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
    .map((target) => target.line.value)
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
  const text = (doc.bom ? '\uFEFF' : '') + lines.map((line) => line.raw + line.eol).join('');
  return parseIni(text, doc.source);
}

function checkSetting(doc: IniDocument, name: string, key: string, value: string): void {
  if (key === '' || key !== key.trim() || /[\s=]/.test(key) || /^[[#;]/.test(key)) {
    throw new CredentialsFileError('CREDENTIALS_INVALID_VALUE', `${doc.source}: ${quote(key)} is not a valid key for profile '${name}'.`, {
      hint: 'Keys are single words such as aws_access_key_id.',
    });
  }
  // The value itself is not quoted: it may be a secret.
  if (value === '' || value !== value.trim() || /[\r\n]/.test(value) || COMMENT.test(value)) {
    throw new CredentialsFileError('CREDENTIALS_INVALID_VALUE', `${doc.source}: the value for "${key}" of profile '${name}' cannot be written to an ini file.`, {
      hint: 'Values must be non-empty, fit on one line, and have no surrounding spaces or " #" / " ;" (those start a comment).',
    });
  }
}

function checkProfileName(doc: IniDocument, name: string): void {
  if (name === '' || name !== name.trim() || /[\r\n]/.test(name) || COMMENT.test(name)) {
    throw new CredentialsFileError('CREDENTIALS_INVALID_VALUE', `${doc.source}: ${quote(name)} cannot be used as a profile name.`, {
      hint: 'Use a name without surrounding spaces, line breaks or " #" / " ;".',
    });
  }
}
