/**
 * A lossless editor of dotenv files (`KEY=value` lines, as read by dotenv, Docker Compose, direnv's
 * dotenv, systemd's EnvironmentFile). Pure: text in, text out. Only the assignments it is asked to change
 * are touched, and only their value: comments, blank lines, order, other variables, `export ` prefixes,
 * spacing around `=`, quoting, trailing comments and line endings stay as they were.
 */

interface Entry {
  key: string;
  /** Lines of the text (first, last) this assignment spans: a quoted value can go on over several lines. */
  first: number;
  last: number;
  /** Everything before the value on its first line: indentation, `export `, the key, `=` and its spacing. */
  head: string;
  /** The quote around the value (', " or `), or '' for a bare value. */
  quote: string;
  value: string;
  /** What follows the value on its last line (a closing quote's trailing text, or ` # comment`). */
  tail: string;
}

interface Line {
  text: string;
  /** '\n', '\r\n' or '' (the last line of a file without a final newline). */
  eol: string;
}

const ASSIGNMENT = /^(\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*)(.*)$/;

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  for (const match of text.matchAll(/([^\n]*?)(\r?\n|$)/g)) {
    if (match[0] === '' && match.index === text.length) break;
    lines.push({ text: match[1] ?? '', eol: match[2] ?? '' });
  }
  return lines;
}

/** Where the quote opened at `start` closes in `text`, or -1. Only a double quote knows escapes. */
function closingQuote(text: string, quote: string, start: number): number {
  for (let i = start; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] === quote) return i;
  }
  return -1;
}

function parseEntries(lines: Line[]): Entry[] {
  const entries: Entry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = ASSIGNMENT.exec(lines[i]!.text);
    if (!match) continue;
    const head = match[1]!;
    const key = match[2]!;
    const rest = match[3]!;
    const quote = /^["'`]/.test(rest) ? rest[0]! : '';
    if (!quote) {
      // dotenv: an unquoted value ends where ` #` starts a comment.
      const comment = /\s+#.*$/.exec(rest);
      const value = comment ? rest.slice(0, comment.index) : rest;
      entries.push({ key, first: i, last: i, head, quote, value: value.trimEnd(), tail: rest.slice(value.trimEnd().length) });
      continue;
    }
    let close = closingQuote(rest, quote, 1);
    if (close >= 0) {
      entries.push({ key, first: i, last: i, head, quote, value: rest.slice(1, close), tail: rest.slice(close + 1) });
      continue;
    }
    // A quoted value that goes on over the next lines, up to the line that closes the quote.
    const parts = [rest.slice(1)];
    let last = i;
    for (let j = i + 1; j < lines.length; j++) {
      close = closingQuote(lines[j]!.text, quote, 0);
      if (close >= 0) {
        parts.push(lines[j]!.text.slice(0, close));
        last = j;
        break;
      }
      parts.push(lines[j]!.text);
    }
    if (last === i) continue; // Never closed: not an assignment dotenv would read; left alone.
    entries.push({ key, first: i, last, head, quote, value: parts.join('\n'), tail: lines[last]!.text.slice(close + 1) });
    i = last;
  }
  return entries;
}

/** The value a reader of the file sees for `key` (the last assignment wins, as in dotenv and Compose). */
export function dotenvValue(text: string, key: string): string | undefined {
  const entries = parseEntries(splitLines(text)).filter((e) => e.key === key);
  const entry = entries[entries.length - 1];
  if (!entry) return undefined;
  return entry.quote === '"' ? entry.value.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1') : entry.value;
}

/**
 * Sets each of `values` (every assignment of the key gets the value, in its own quoting; a key the file
 * lacks is added at the end) and removes every assignment of the `remove` keys. Values must need no
 * quoting (access key ids and secrets never do). Everything else is kept byte for byte.
 */
export function editDotenv(text: string, values: Record<string, string>, remove: readonly string[] = []): string {
  const lines = splitLines(text);
  const entries = parseEntries(lines);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const out: string[] = [];
  let next = 0;
  for (const entry of entries) {
    if (!(entry.key in values) && !remove.includes(entry.key)) continue;
    for (; next < entry.first; next++) out.push(lines[next]!.text + lines[next]!.eol);
    next = entry.last + 1;
    if (remove.includes(entry.key)) continue;
    out.push(`${entry.head}${entry.quote}${values[entry.key]}${entry.quote}${entry.tail}${lines[entry.last]!.eol}`);
  }
  for (; next < lines.length; next++) out.push(lines[next]!.text + lines[next]!.eol);
  let result = out.join('');
  // New variables follow the file's own habit: `export ` if its assignments use it.
  const exported = entries.length > 0 && entries.every((e) => /^\s*export\s/.test(e.head));
  const missing = Object.keys(values).filter((key) => !entries.some((e) => e.key === key));
  if (missing.length > 0 && result !== '' && !result.endsWith('\n')) result += eol;
  for (const key of missing) result += `${exported ? 'export ' : ''}${key}=${values[key]}${eol}`;
  return result;
}
