import { CredentialsFileError, ExitCode } from '../errors.js';
import type { IniDocument, IniFileKind, IniKeyLine, IniLine, LineEnding } from './ini.js';
import { DEFAULTS_SECTION, toProfileName } from './ini-names.js';

/*
 * The refusals of the ini reader and editor (ini.ts, ini-edit.ts).
 *
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

export const COMMENT = /(^|\s)[;#]/;
/** C0 controls but tab, DEL, NEL, BOM: Python and JavaScript split or trim lines around them differently. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u0085\ufeff]/;
/** Settings whose value decides which key a profile holds: never multi-line, never in [DEFAULT]. */
export const CREDENTIAL_SETTINGS = new Set(['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'aws_security_token']);

export interface OpenSetting {
  index: number;
  indent: number;
  key: string;
  empty: boolean;
}

export function refuseByteOrderMark(source: string, text: string): void {
  if (text.startsWith('\uFEFF')) {
    throw malformed(source, [0], 'the file starts with a byte-order mark (BOM), which the AWS CLI cannot read', 'Save the file as UTF-8 without a BOM (in most editors: "UTF-8", not "UTF-8 with BOM").');
  }
}

export function refuseControlCharacter(source: string, index: number, raw: string): void {
  if (CONTROL.test(raw)) {
    throw malformed(source, [index], 'the line holds a control character (a carriage return without a line feed, a form feed, ...)', 'Remove it: the AWS CLI and the SDKs split and trim such lines differently.');
  }
}

/** `sections`: where each section name was first seen. */
export function refuseRepeatedSection(source: string, sections: ReadonlyMap<string, number>, name: string, index: number): void {
  const earlier = sections.get(name);
  // configparser lets [DEFAULT] appear again (its settings still count once).
  if (earlier !== undefined && name !== DEFAULTS_SECTION) {
    throw malformed(source, [earlier, index], `the section [${name}] appears twice`, `Merge the two [${name}] sections into one (the AWS CLI refuses the file as it is).`);
  }
}

export function refuseOutsideSection(source: string, index: number, content: string): never {
  const problem = /[=:]/.test(content) ? 'a setting comes before the first [section]' : 'text before the first [section]';
  throw malformed(source, [index], problem, 'Put settings under a section header such as [default], or comment the line out with #.');
}

export function refuseNotASetting(source: string, index: number, content: string, delimiter: number): never {
  // The line itself is not quoted: it may hold a secret.
  throw malformed(
    source,
    [index],
    delimiter === -1 ? 'the line is not "key = value", a [section] or a comment' : `the line has "${content[delimiter]}" but no key before it`,
    'Write settings as key = value (or key: value), start comments with # or ;, or remove the line.',
  );
}

/** `settings`: where each `section\nsetting` was first set. */
export function refuseRepeatedSetting(source: string, settings: ReadonlyMap<string, number>, sectionName: string, key: string, index: number): void {
  const earlier = settings.get(`${sectionName}\n${key.toLowerCase()}`);
  if (earlier !== undefined) {
    throw malformed(source, [earlier, index], `"${key.toLowerCase()}" is set twice in [${sectionName}] (names are case-insensitive)`, 'Keep one of the two lines (the AWS CLI refuses the file as it is).');
  }
  if (sectionName === DEFAULTS_SECTION && CREDENTIAL_SETTINGS.has(key.toLowerCase())) {
    throw malformed(source, [index], `the [${DEFAULTS_SECTION}] section holds ${key.toLowerCase()}, which the AWS CLI then gives to every profile`, 'Move the key to [default] (lower case) or to a named profile.');
  }
}

export function refuseTwoSectionsForProfile(source: string, sections: ReadonlySet<number>, name: string): void {
  if (sections.size > 1) {
    throw malformed(source, [...sections], `two sections are the profile '${name}'`, `Merge them into one section (the AWS CLI would read only one of them).`);
  }
}

/**
 * A line indented deeper than the setting above it: botocore reads it as more of that setting's value, or,
 * under a setting with an empty value, as a `name = value` of a nested section.
 */
export function readContinuation(source: string, lines: IniLine[], setting: OpenSetting, index: number, raw: string, eol: LineEnding, content: string): IniLine {
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
  if (trimmed.startsWith('[') || equals !== -1) {
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
export function readSectionName(source: string, index: number, trimmed: string, withoutComment: string): string {
  if (!withoutComment.endsWith(']')) {
    throw malformed(source, [index], `the section header ${quote(trimmed)} has no closing "]" (or text after it)`, 'Write it as [name]; a comment after it needs a space before # or ;.');
  }
  const name = withoutComment.slice(1, -1);
  if (name.trim() === '') throw malformed(source, [index], 'the section header has no name', 'Name the section, e.g. [default], or remove the line.');
  // Stryker disable next-line Regex: equivalent, the caller passes only lines that start with "[", so the "^" anchors nothing more.
  if (/^\[(.+)\]/.exec(trimmed)?.[1] !== name) {
    throw malformed(source, [index], `the section header ${quote(trimmed)} reads differently in the AWS CLI and the SDKs`, 'Write it as [name], with a comment after it only after a space.');
  }
  return name;
}

export function checkSetting(doc: IniDocument, name: string, key: string, value: string): void {
  // Whitespace anywhere, at the ends too, is refused by /\s/.
  if (key === '' || /[\s=]/.test(key) || /^[[#;]/.test(key) || CONTROL.test(key)) {
    throw new CredentialsFileError('CREDENTIALS_INVALID_VALUE', `${doc.source}: ${quote(key)} is not a valid key for profile '${name}'.`, {
      hint: 'Keys are single words such as aws_access_key_id.',
    });
  }
  // The value itself is not quoted: it may be a secret.
  // A control character would be refused when the edited text is read again, as if the user's file were malformed.
  if (value === '' || value !== value.trim() || /[\r\n]/.test(value) || COMMENT.test(value) || CONTROL.test(value)) {
    throw new CredentialsFileError('CREDENTIALS_INVALID_VALUE', `${doc.source}: the value for "${key}" of profile '${name}' cannot be written to an ini file.`, {
      hint: 'Values must be non-empty, fit on one line, and have no surrounding spaces or " #" / " ;" (those start a comment).',
    });
  }
}

export function checkProfileName(doc: IniDocument, name: string, header: string, kind: IniFileKind): void {
  if (name === '' || name !== name.trim() || CONTROL.test(name) || /[\r\n]/.test(name) || COMMENT.test(name) || toProfileName(header, kind) !== name) {
    throw new CredentialsFileError('CREDENTIALS_INVALID_VALUE', `${doc.source}: ${quote(name)} cannot be used as a profile name.`, {
      hint: 'Use a name without surrounding spaces, line breaks, " #" / " ;" or quotes (and not DEFAULT).',
    });
  }
}

export function malformed(source: string, indexes: number[], problem: string, hint: string): CredentialsFileError {
  const where = indexes.length === 1 ? `line ${indexes[0]! + 1}` : `lines ${indexes.map((index) => index + 1).join(' and ')}`;
  // Exit 2, like a missing profile: the user's file must be fixed before anything can be tried.
  return new CredentialsFileError('CREDENTIALS_MALFORMED', `${source}, ${where}: ${problem}.`, { hint, exitCode: ExitCode.usage });
}

export function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
