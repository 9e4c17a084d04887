import type { StaticCredentials } from '../core/types.js';
import { CredentialsFileError, ExitCode } from '../errors.js';

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
 * What botocore refuses, we refuse with the line numbers, before anything else happens: a section that
 * appears twice, a setting set twice in one section, a line that is not a setting, a section or a comment,
 * text before the first section, a byte-order mark (Python reads it as text before the first section).
 *
 * Where botocore and the JS SDK (@smithy/shared-ini-file-loader) would read a line differently, and the
 * difference could decide which key a profile holds, we refuse it too (naming the line): an indented line
 * that botocore reads as part of the value above and the SDK as a setting or section of its own, text after
 * a section header, a control character. One difference stays, on purpose: `#` or `;` after whitespace
 * starts a comment at the end of a value (`key = AKIA… # work`), as in the SDK; botocore keeps such a
 * comment in the value.
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

const COMMENT = /(^|\s)[;#]/;
/** C0 controls but tab, DEL, NEL, BOM: Python and JavaScript split or trim lines around them differently. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u0085\ufeff]/;
/** Settings whose value decides which key a profile holds: never multi-line, never in [DEFAULT]. */
const CREDENTIAL_SETTINGS = new Set(['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'aws_security_token']);
/** configparser's default section: its settings are every section's defaults. */
const DEFAULTS_SECTION = 'DEFAULT';

interface OpenSetting {
  index: number;
  indent: number;
  key: string;
  empty: boolean;
}

export function parseIni(text: string, source = 'the credentials file'): IniDocument {
  if (text.startsWith('\uFEFF')) {
    throw malformed(source, [0], 'the file starts with a byte-order mark (BOM), which the AWS CLI cannot read', 'Save the file as UTF-8 without a BOM (in most editors: "UTF-8", not "UTF-8 with BOM").');
  }
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

    if (CONTROL.test(raw)) {
      throw malformed(source, [index], 'the line holds a control character (a carriage return without a line feed, a form feed, ...)', 'Remove it: the AWS CLI and the SDKs split and trim such lines differently.');
    }
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
      const earlier = sections.get(name);
      // configparser lets [DEFAULT] appear again (its settings still count once).
      if (earlier !== undefined && name !== DEFAULTS_SECTION) {
        throw malformed(source, [earlier, index], `the section [${name}] appears twice`, `Merge the two [${name}] sections into one (the AWS CLI refuses the file as it is).`);
      }
      sections.set(name, index);
      lines.push({ kind: 'section', raw, eol, name });
      section = index;
      setting = undefined;
      continue;
    }

    if (section === -1) {
      const problem = /[=:]/.test(content) ? 'a setting comes before the first [section]' : 'text before the first [section]';
      throw malformed(source, [index], problem, 'Put settings under a section header such as [default], or comment the line out with #.');
    }
    const delimiter = content.search(/[=:]/);
    const key = delimiter === -1 ? '' : content.slice(0, delimiter).trim();
    if (key === '') {
      // The line itself is not quoted: it may hold a secret.
      throw malformed(
        source,
        [index],
        delimiter === -1 ? 'the line is not "key = value", a [section] or a comment' : `the line has "${content[delimiter]}" but no key before it`,
        'Write settings as key = value (or key: value), start comments with # or ;, or remove the line.',
      );
    }
    const sectionName = (lines[section] as IniSectionLine).name;
    const settingId = `${sectionName}\n${key.toLowerCase()}`;
    const earlier = settings.get(settingId);
    if (earlier !== undefined) {
      throw malformed(source, [earlier, index], `"${key.toLowerCase()}" is set twice in [${sectionName}] (names are case-insensitive)`, 'Keep one of the two lines (the AWS CLI refuses the file as it is).');
    }
    settings.set(settingId, index);
    if (sectionName === DEFAULTS_SECTION && CREDENTIAL_SETTINGS.has(key.toLowerCase())) {
      throw malformed(source, [index], `the [${DEFAULTS_SECTION}] section holds ${key.toLowerCase()}, which the AWS CLI then gives to every profile`, 'Move the key to [default] (lower case) or to a named profile.');
    }
    const after = content.slice(delimiter + 1);
    const valueStart = delimiter + 1 + (after.length - after.trimStart().length);
    const value = after.trim();
    lines.push({ kind: 'key', raw, eol, key, value, valueStart, valueEnd: valueStart + value.length, section, subsection: undefined, owner: index });
    // botocore sees no comment after a value: `key = ; note` is not empty there, so no nested section follows.
    setting = { index, indent, key, empty: raw.slice(delimiter + 1).trim() === '' };
  }

  return { source, eol: crlf > lf ? '\r\n' : '\n', lines };
}

/**
 * A line indented deeper than the setting above it: botocore reads it as more of that setting's value, or,
 * under a setting with an empty value, as a `name = value` of a nested section.
 */
function readContinuation(source: string, lines: IniLine[], setting: OpenSetting, index: number, raw: string, eol: LineEnding, content: string): IniLine {
  const owner = lines[setting.index] as IniKeyLine;
  const where = `indented under "${setting.key}" (line ${setting.index + 1})`;
  if (CREDENTIAL_SETTINGS.has(setting.key.toLowerCase())) {
    throw malformed(source, [setting.index, index], `the line is ${where}, so the AWS CLI reads it as part of that credential`, 'Remove the indentation, or the line.');
  }
  const equals = content.indexOf('=');
  if (setting.empty) {
    const key = equals === -1 ? '' : content.slice(0, equals).trim();
    if (key === '') {
      throw malformed(source, [index], `the line is ${where}, a nested section, but is not "name = value"`, 'Write it as name = value, or remove the indentation.');
    }
    const after = content.slice(equals + 1);
    const valueStart = equals + 1 + (after.length - after.trimStart().length);
    const value = after.trim();
    return { kind: 'key', raw, eol, key, value, valueStart, valueEnd: valueStart + value.length, section: owner.section, subsection: owner.key.toLowerCase(), owner: setting.index };
  }
  const trimmed = content.trim();
  if (trimmed.startsWith('[') || equals > 0) {
    throw malformed(
      source,
      [index],
      `the line is ${where}: the AWS CLI reads it as part of that value, the SDKs as a ${trimmed.startsWith('[') ? 'section header' : 'setting'} of its own`,
      'Remove the indentation (or the line).',
    );
  }
  return { kind: 'continuation', raw, eol, section: owner.section, owner: setting.index };
}

/** botocore's `\[(.+)\]` must agree with the SDK's reading (the header with any comment removed). */
function readSectionName(source: string, index: number, trimmed: string, withoutComment: string): string {
  if (!withoutComment.endsWith(']')) {
    throw malformed(source, [index], `the section header ${quote(trimmed)} has no closing "]" (or text after it)`, 'Write it as [name]; a comment after it needs a space before # or ;.');
  }
  const name = withoutComment.slice(1, -1);
  if (name.trim() === '') throw malformed(source, [index], 'the section header has no name', 'Name the section, e.g. [default], or remove the line.');
  if (/^\[(.+)\]/.exec(trimmed)?.[1] !== name) {
    throw malformed(source, [index], `the section header ${quote(trimmed)} reads differently in the AWS CLI and the SDKs`, 'Write it as [name], with a comment after it only after a space.');
  }
  return name;
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

function malformed(source: string, indexes: number[], problem: string, hint: string): CredentialsFileError {
  const where = indexes.length === 1 ? `line ${indexes[0]! + 1}` : `lines ${indexes.map((index) => index + 1).join(' and ')}`;
  // Exit 2, like a missing profile: the user's file must be fixed before anything can be tried.
  return new CredentialsFileError('CREDENTIALS_MALFORMED', `${source}, ${where}: ${problem}.`, { hint, exitCode: ExitCode.usage });
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** botocore's naming: in the config file `[profile NAME]` split as a shell would (`[profile "a b"]`), and `[default]`. */
function toProfileName(section: string, kind: IniFileKind): string | undefined {
  if (section === DEFAULTS_SECTION) return undefined;
  if (kind === 'credentials' || section === 'default') return section;
  if (!section.startsWith('profile')) return undefined;
  const words = splitShellWords(section);
  return words?.length === 2 ? words[1] : undefined;
}

/** Python's shlex.split (POSIX mode, no comments); undefined where it raises (an open quote, a final backslash). */
function splitShellWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (' \t'.includes(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === '\\') {
      i += 1;
      if (i === text.length) return undefined;
      word = (word ?? '') + text[i];
    } else if (char === '"' || char === "'") {
      word ??= '';
      for (i += 1; text[i] !== char; i += 1) {
        if (i >= text.length) return undefined;
        if (char === '"' && text[i] === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) i += 1;
        word += text[i];
      }
    } else {
      word = (word ?? '') + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The section of a profile (none, or one: two sections that name one profile are refused). */
function findSections(doc: IniDocument, name: string, kind: IniFileKind): Set<number> {
  const sections = new Set<number>();
  doc.lines.forEach((line, index) => {
    if (line.kind === 'section' && toProfileName(line.name, kind) === name) sections.add(index);
  });
  if (sections.size > 1) {
    throw malformed(doc.source, [...sections], `two sections are the profile '${name}'`, `Merge them into one section (the AWS CLI would read only one of them).`);
  }
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

function sectionNameFor(name: string, kind: IniFileKind): string {
  return kind === 'config' && name !== 'default' ? `profile ${name}` : name;
}

function checkProfileName(doc: IniDocument, name: string, header: string, kind: IniFileKind): void {
  if (name === '' || name !== name.trim() || CONTROL.test(name) || /[\r\n]/.test(name) || COMMENT.test(name) || toProfileName(header, kind) !== name) {
    throw new CredentialsFileError('CREDENTIALS_INVALID_VALUE', `${doc.source}: ${quote(name)} cannot be used as a profile name.`, {
      hint: 'Use a name without surrounding spaces, line breaks, " #" / " ;" or quotes (and not DEFAULT).',
    });
  }
}
