import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { chmod, copyFile, cp, link, mkdtemp, mkdir, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(ROOT, 'bin', 'aws-rekey');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A throwaway HOME with ~/.aws/credentials (and optionally ~/.aws/config). */
export interface TempHome {
  home: string;
  credentialsPath: string;
  configPath: string;
  env: NodeJS.ProcessEnv;
  readCredentials(): Promise<string>;
  credentialsMode(): Promise<number>;
  cleanup(): Promise<void>;
}

/**
 * One cache folder for the CLI's code cache (bin/code-cache.js) per test process, instead of one per temporary
 * HOME: every run would otherwise compile the whole bundle and write a new cache.
 */
let codeCacheHome: string | undefined;
function testCacheHome(): string {
  if (!codeCacheHome) {
    const dir = mkdtempSync(join(tmpdir(), 'aws-rekey-test-cache-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    codeCacheHome = dir;
  }
  return codeCacheHome;
}

/** Only what the CLI needs, so that nothing from the developer's own AWS setup leaks into a test. */
export function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    XDG_CACHE_HOME: testCacheHome(),
    NO_COLOR: '1',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

export interface MakeHomeOptions {
  endpoint?: string;
  credentials?: string;
  config?: string;
  env?: NodeJS.ProcessEnv;
}

export async function makeHome(options: MakeHomeOptions = {}): Promise<TempHome> {
  const home = await mkdtemp(join(tmpdir(), 'aws-rekey-test-'));
  const awsDir = join(home, '.aws');
  await mkdir(awsDir, { recursive: true, mode: 0o700 });
  const credentialsPath = join(awsDir, 'credentials');
  const configPath = join(awsDir, 'config');
  if (options.credentials !== undefined) await writeFile(credentialsPath, options.credentials, { mode: 0o600 });
  if (options.config !== undefined) await writeFile(configPath, options.config, { mode: 0o600 });
  const env = baseEnv({
    HOME: home,
    AWS_SHARED_CREDENTIALS_FILE: credentialsPath,
    AWS_CONFIG_FILE: configPath,
    ...(options.endpoint ? { AWS_ENDPOINT_URL: options.endpoint } : {}),
    ...options.env,
  });
  return {
    home,
    credentialsPath,
    configPath,
    env,
    readCredentials: () => readFile(credentialsPath, 'utf8'),
    credentialsMode: async () => (await stat(credentialsPath)).mode & 0o777,
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}

/** Extra spawn options, e.g. `{ uid: 65534, gid: 65534 }` to run the CLI as nobody (tests run as root). */
export type RunCliOptions = Pick<SpawnOptions, 'uid' | 'gid' | 'cwd'> & {
  /** Another copy of bin/aws-rekey to run (see readableCliCopy). */
  bin?: string;
  /** An executable to run instead of node with bin/aws-rekey: an installed CLI, the single executable. */
  executable?: string;
  /**
   * false: no NODE_V8_COVERAGE for this run, even under `npm run coverage` (a run measuring its coverage
   * skips the code cache, which the code cache's own tests need).
   */
  coverage?: boolean;
};

let readableCopy: Promise<string> | undefined;
/** The node each readable copy runs with: process.execPath, or a link to it in the copy (see readableCliCopy). */
const nodeOfCopy = new Map<string, string>();

/** Whether every user may run `path`: the file and each folder above it open to others. */
async function runnableByOthers(path: string): Promise<boolean> {
  const real = await realpath(path);
  if (((await stat(real)).mode & 0o001) === 0) return false;
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) return false;
    if (dir === dirname(dir)) return true;
  }
}

/** The node that runs `bin`: for a readable copy, one every user may run. */
export function cliNode(bin: string = BIN): string {
  return nodeOfCopy.get(bin) ?? process.execPath;
}

/**
 * A copy of the built CLI (bin/, package.json and the self-contained bundle in dist/bundle) that every user
 * can read and run, for tests that run it as another user: the checkout itself may sit in a folder only its
 * owner can enter (a clone into `mktemp -d` is 0700), and so may the node running the tests.
 */
export function readableCliCopy(): Promise<string> {
  readableCopy ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aws-rekey-cli-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await cp(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
    await cp(join(ROOT, 'package.json'), join(dir, 'package.json'));
    await cp(join(ROOT, 'dist', 'bundle'), join(dir, 'dist', 'bundle'), { recursive: true });
    const open = async (path: string): Promise<void> => {
      const info = await stat(path);
      await chmod(path, info.isDirectory() ? 0o755 : path.includes(`${sep}bin${sep}`) ? 0o755 : 0o644);
      if (info.isDirectory()) for (const name of await readdir(path)) await open(join(path, name));
    };
    await open(dir);
    const bin = join(dir, 'bin', 'aws-rekey');
    // The node running the tests may sit in the checkout too (Node 22 and 24 come from scripts/runtimes): then
    // the copy gets its own link to it (a copy across file systems), open to every user.
    if (!(await runnableByOthers(process.execPath))) {
      const node = join(dir, 'node');
      await link(await realpath(process.execPath), node).catch(() => copyFile(process.execPath, node));
      await chmod(node, 0o755);
      nodeOfCopy.set(bin, node);
    }
    return bin;
  })();
  return readableCopy;
}

export async function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string, options: RunCliOptions = {}): Promise<CliRun> {
  const { code, stdout, stderr } = await startCli(args, env, input, options).done;
  return { code: code ?? -1, stdout, stderr };
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface StartedCli {
  child: ChildProcess;
  done: Promise<CliExit>;
}

/**
 * `npm run coverage` sets AWS_REKEY_CHILD_COVERAGE: each CLI then writes its V8 coverage there. Not
 * NODE_V8_COVERAGE on vitest itself, whose workers would write coverage of code vite transformed in memory.
 */
function withChildCoverage(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const dir = process.env.AWS_REKEY_CHILD_COVERAGE;
  return dir ? { ...env, NODE_V8_COVERAGE: dir } : env;
}

/** The built CLI as a child the test can signal or kill mid-run (runCli only reports the end). */
export function startCli(args: string[], env: NodeJS.ProcessEnv, input = '', options: RunCliOptions = {}): StartedCli {
  const started = Date.now();
  const { bin = BIN, executable, coverage = true, ...spawnOptions } = options;
  const [command, argv] = executable ? [executable, args] : [cliNode(bin), [bin, ...args]];
  const child = spawn(command, argv, { ...spawnOptions, env: coverage ? withChildCoverage(env) : env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliExit>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
  child.stdin.end(input);
  return { child, done };
}

export interface ProfileFixture {
  accessKeyId: string;
  secretAccessKey: string;
  /** Lines after the key pair, each ending in a newline (`region = eu-west-1\n`). */
  extra?: string;
  /** `key=value` without spaces, as people also write it (the AWS CLI writes `key = value`). */
  compact?: boolean;
  /** A comment line above the section (`# …` or `; …`). */
  comment?: string;
}

/**
 * A credentials file body with one profile per entry, a blank line between them, as a person keeps it: an
 * admin's or a user's key, aliases holding the same pair, comments and other settings that must survive.
 */
export function credentialsFile(profiles: Record<string, ProfileFixture>): string {
  return Object.entries(profiles)
    .map(([name, p]) => {
      const is = p.compact ? '=' : ' = ';
      return `${p.comment === undefined ? '' : `${p.comment}\n`}[${name}]\naws_access_key_id${is}${p.accessKeyId}\naws_secret_access_key${is}${p.secretAccessKey}\n${p.extra ?? ''}`;
    })
    .join('\n');
}

/** The pair of a seeded user, for credentialsFile. */
export function pairOf(user: { accessKeyId: string; secretAccessKey: string }): ProfileFixture {
  return { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
}
