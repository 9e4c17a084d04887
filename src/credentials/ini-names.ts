import type { IniFileKind } from './ini.js';

/* How section headers name profiles, as botocore reads the credentials and config files. */

/** configparser's default section: its settings are every section's defaults. */
export const DEFAULTS_SECTION = 'DEFAULT';

/** botocore's naming: in the config file `[profile NAME]` split as a shell would (`[profile "a b"]`), and `[default]`. */
export function toProfileName(section: string, kind: IniFileKind): string | undefined {
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
        // The end is met exactly: an escape skips only to a character that is there.
        if (i === text.length) return undefined;
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

/** The header aws-rekey writes for a new profile. */
export function sectionNameFor(name: string, kind: IniFileKind): string {
  return kind === 'config' && name !== 'default' ? `profile ${name}` : name;
}
