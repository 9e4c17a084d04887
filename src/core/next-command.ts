import { homedir as osHomedir } from 'node:os';
import { join, resolve } from 'node:path';
import { shellQuote } from './shell.js';

/*
 * The commands the tool tells a user to run next. Every one is built here, complete and shell-quoted, so
 * that copying it works: it names the target and the credentials that sign (`--user NAME --profile admin`,
 * `--profile work --auth-profile admin`), and the settings that decide which file and which IAM it reaches
 * when they are not the defaults (another shell may not have them set). Pure.
 */

/** Whose key a command is about, and whose credentials sign its calls. */
export type CommandTarget =
  | { profile: string; authProfile?: string }
  /** An admin's rotation of another user: `--profile` names the admin's credentials. */
  | { userName: string; adminProfile?: string };

/** `--profile work --auth-profile admin`, `--user ci --profile admin`. */
export function targetArgs(target: CommandTarget): string[] {
  if ('userName' in target) return ['--user', target.userName, ...(target.adminProfile !== undefined ? ['--profile', target.adminProfile] : [])];
  return ['--profile', target.profile, ...(target.authProfile !== undefined ? ['--auth-profile', target.authProfile] : [])];
}

/** The target of a recorded rotation (a journal or a staged record), signed as it was. */
export function recordedTarget(record: { mode: 'profile' | 'user'; profile?: string; userName: string; signedBy?: unknown }): CommandTarget {
  const signedBy = typeof record.signedBy === 'string' && record.signedBy !== '' ? record.signedBy : undefined;
  if (record.mode === 'user') return signedBy === undefined ? { userName: record.userName } : { userName: record.userName, adminProfile: signedBy };
  const profile = record.profile ?? 'default';
  return signedBy === undefined ? { profile } : { profile, authProfile: signedBy };
}

/** `aws-rekey ARGS…`, quoted, after the settings of `env` that it needs. */
export function nextCommand(args: readonly string[], env: NodeJS.ProcessEnv): string {
  return [...settingsOf(env), 'aws-rekey', ...args.map(shellQuote)].join(' ');
}

/** `aws-rekey COMMAND <target> ARGS…`. */
export function targetCommand(command: string, target: CommandTarget, env: NodeJS.ProcessEnv, ...args: string[]): string {
  return nextCommand([command, ...targetArgs(target), ...args], env);
}

/**
 * The environment a printed command carries: the credentials and config files when they are not the
 * default ones, the endpoints when set, and the region when it chooses another partition (IAM is global
 * within a partition, so an ordinary region changes nothing a command does).
 */
function settingsOf(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME || osHomedir();
  const settings: string[] = [];
  for (const [name, file] of [
    ['AWS_SHARED_CREDENTIALS_FILE', 'credentials'],
    ['AWS_CONFIG_FILE', 'config'],
  ] as const) {
    const value = env[name]?.trim();
    if (value && resolvePath(value, home) !== join(home, '.aws', file)) settings.push(`${name}=${shellQuote(value)}`);
  }
  for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_IAM', 'AWS_ENDPOINT_URL_STS']) {
    const value = env[name]?.trim();
    if (value) settings.push(`${name}=${shellQuote(value)}`);
  }
  const regionName = env.AWS_REGION?.trim() ? 'AWS_REGION' : 'AWS_DEFAULT_REGION';
  const region = env[regionName]?.trim();
  if (region && /^(cn|us-gov|us-iso[a-z]*|eu-isoe)-/.test(region)) settings.push(`${regionName}=${shellQuote(region)}`);
  return settings;
}

// `~` alone is the home folder, never one of the default files: it needs no case of its own.
function resolvePath(path: string, home: string): string {
  return resolve(path.startsWith('~/') ? join(home, path.slice(2)) : path);
}
