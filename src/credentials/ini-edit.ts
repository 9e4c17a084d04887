import type { StaticCredentials } from '../core/types.js';
import { CredentialsFileError } from '../errors.js';
import { findKeyLines, findProfilesWithKey, findSections, parseIni, readSetting, type IniDocument, type IniFileKind, type IniKeyLine, type LineEnding } from './ini.js';
import { sectionNameFor } from './ini-names.js';
import { checkProfileName, checkSetting } from './ini-validate.js';

/*
 * Lossless editing of the AWS shared credentials and config files (reading: ini.ts). Pure: document in,
 * document out; every edit is re-parsed, so what it returns reads as any parsed file does.
 */

export interface ReplaceAccessKeyResult {
  doc: IniDocument;
  /** The profiles that held the old key and now hold the new one. */
  profiles: string[];
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
    // Stryker disable next-line MethodExpression: equivalent, a profile has one section at most here (findSections refuses two), so max and min agree.
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