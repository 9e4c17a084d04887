import type { Command } from 'commander';
import { closest, distance } from 'fastest-levenshtein';
import { UsageError } from '../errors.js';

/**
 * aws-rotate-key (Go's flag package) spells long flags with one dash: `-profile work -auth-profile admin -mfa`,
 * and names the MFA device `-mfa-serial-number`. These words are accepted as aliases of our options, so a
 * script written for it keeps working; `-d`, `-y` and `-h` are our short options already.
 */
export const SINGLE_DASH_ALIASES: ReadonlyMap<string, string> = new Map([
  ['profile', 'profile'],
  ['auth-profile', 'auth-profile'],
  ['mfa', 'mfa'],
  ['mfa-serial', 'mfa-serial'],
  ['mfa-serial-number', 'mfa-serial'],
  ['version', 'version'],
  ['help', 'help'],
]);

/** The line `--help` shows about them (the options themselves are listed once, with two dashes). */
export const SINGLE_DASH_NOTE =
  "Also accepted, as aws-rotate-key spells them: -profile, -auth-profile, -mfa, -mfa-serial, -version, -help (one dash), and -mfa-serial-number for --mfa-serial.";

interface OptionSpec {
  /** Long option names without dashes, and whether each takes a value. */
  longs: Map<string, boolean>;
  /** Short option letters, and whether each takes a value. */
  shorts: Map<string, boolean>;
}

/**
 * Rewrites aws-rotate-key's one-dash long flags (`-profile work`, `-mfa-serial=ARN`) to ours (`--profile work`)
 * before commander parses the arguments: one parser, one list of options in `--help`. Any other word after a
 * single dash (`-dry-run`, `-all`) is refused here with the spelling that works, instead of commander reading it
 * as a bundle of short flags. Values of options (`--profile -odd-name`) and everything after `--` are left alone.
 */
export function rewriteSingleDash(argv: readonly string[], program: Command): string[] {
  const spec = optionSpec(program);
  const out: string[] = [];
  let valueNext = false;
  for (const [index, token] of argv.entries()) {
    if (valueNext || token === '--') {
      valueNext = false;
      if (token === '--') return [...out, ...argv.slice(index)];
      out.push(token);
      continue;
    }
    if (token.startsWith('--')) {
      // Go's flag package takes two dashes as well: --mfa-serial-number is aws-rotate-key's too.
      const [name = '', ...value] = token.slice(2).split('=');
      const long = name === 'mfa-serial-number' ? 'mfa-serial' : name;
      valueNext = value.length === 0 && spec.longs.get(long) === true;
      out.push([`--${long}`, ...value].join('='));
      continue;
    }
    const word = /^-([a-zA-Z][\w-]+)(=.*)?$/.exec(token);
    if (!word) {
      // A short option (`-y`) or a value; `-x VALUE` takes the next token as its value.
      valueNext = token.length === 2 && spec.shorts.get(token[1]!) === true;
      out.push(token);
      continue;
    }
    const [, name, assigned = ''] = word as unknown as [string, string, string | undefined];
    const alias = SINGLE_DASH_ALIASES.get(name);
    if (alias !== undefined) {
      valueNext = assigned === '' && spec.longs.get(alias) === true;
      out.push(`--${alias}${assigned}`);
      continue;
    }
    if (assigned === '' && [...name].every((letter) => spec.shorts.get(letter) === false)) {
      out.push(token); // bundled short flags: -yd
      continue;
    }
    throw unknownSingleDash(token, name, spec);
  }
  return out;
}

function unknownSingleDash(token: string, name: string, spec: OptionSpec): UsageError {
  const aliases = [...SINGLE_DASH_ALIASES.keys()].map((alias) => `-${alias}`).join(', ');
  const why = `Long options take two dashes; of the one-dash words only aws-rotate-key's (${aliases}) are accepted.`;
  if (spec.longs.has(name)) return new UsageError(`unknown option '${token}': did you mean '--${name}'?`, why);
  const nearest = nearestWord(name, [...spec.longs.keys()]);
  return new UsageError(
    nearest ? `unknown option '${token}': did you mean '--${nearest}'?` : `unknown option '${token}'.`,
    `${why} Run 'aws-rekey --help' (or 'aws-rekey COMMAND --help') for the options.`,
  );
}

/** The candidate a mistyped word most likely meant (`audti` → `audit`), if one is close enough. */
export function nearestWord(word: string, candidates: string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const nearest = closest(word, candidates);
  const d = distance(word, nearest);
  // Short candidates need a closer match: two edits turn `work` into `org`, which nobody meant.
  return d <= Math.max(2, Math.floor(word.length / 3)) && d < nearest.length - 1 ? nearest : undefined;
}

/** The first word that is neither an option nor an option's value: the command, when one was named. */
export function commandWord(argv: readonly string[], program: Command): string | undefined {
  const spec = optionSpec(program);
  for (let index = 0; index < argv.length; index += 1) {
    const token = argv[index]!;
    if (token === '--') return argv[index + 1];
    if (!token.startsWith('-') || token === '-') return token;
    const long = token.startsWith('--') ? token.slice(2) : undefined;
    const takesValue = long !== undefined ? !long.includes('=') && spec.longs.get(long) === true : token.length === 2 && spec.shorts.get(token[1]!) === true;
    if (takesValue) index += 1;
  }
  return undefined;
}

/** Every option of the program and its commands: commander's own definitions, not a second list. */
function optionSpec(program: Command): OptionSpec {
  const longs = new Map<string, boolean>([['help', false]]);
  const shorts = new Map<string, boolean>([['h', false]]);
  const commands = (command: Command): Command[] => [command, ...command.commands.flatMap(commands)];
  for (const command of commands(program)) {
    for (const option of command.options) {
      const takesValue = option.required || option.optional;
      if (option.long) longs.set(option.long.replace(/^--/, ''), takesValue);
      if (option.short) shorts.set(option.short.replace(/^-/, ''), takesValue);
    }
  }
  return { longs, shorts };
}
