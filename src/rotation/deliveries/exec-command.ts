import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { renderKeyFile } from '../../core/admin.js';
import { maskKeyId } from '../../core/mask.js';
import type { Destination } from '../../credentials/staged-store.js';
import { RekeyError, UsageError } from '../../errors.js';
import type { Delivery, KeyPair } from '../delivery.js';

type ExecDestination = Extract<Destination, { kind: 'exec' }>;

export interface ExecOptions {
  userName: string;
  /** The command's environment (the CLI's own); the pair is never added to it. */
  env?: NodeJS.ProcessEnv;
  /** Where the command's output goes, line by line, with the secret blanked out; without it, only failures quote it. */
  output?: (line: string) => void;
}

/** Tokens a shell would read as operators: without a shell they would reach the program as arguments. */
const SHELL_OPERATORS = new Set(['|', '||', '&', '&&', ';', ';;', '>', '>>', '<', '<<', '2>', '2>&1', '&>', '|&']);

/**
 * `--exec CMD`, split like the AWS CLI splits `credential_process` (POSIX shell words: quotes and
 * backslashes, no variables, globs or pipes) and run without a shell. A command that needs a shell says
 * so: `--exec "sh -c 'vault kv put secret/ci-key - | tee log'"`.
 */
export async function splitCommand(command: string): Promise<string[]> {
  // Loaded only for --exec: every other rotation does without it.
  const { split } = await import('shlex');
  let argv: string[];
  try {
    argv = split(command);
  } catch (error) {
    throw new UsageError(`--exec "${command}" cannot be split into words: ${(error as Error).message}.`, 'Check its quotes: it is split like a POSIX shell command line (credential_process does the same).', 'BAD_EXEC_COMMAND');
  }
  if (argv.length === 0) throw new UsageError('--exec needs a command, e.g. --exec "./store-key.sh ci-user".', undefined, 'BAD_EXEC_COMMAND');
  const operator = argv.find((word) => SHELL_OPERATORS.has(word));
  if (operator) {
    throw new UsageError(
      `--exec "${command}" has '${operator}', which only a shell understands; aws-rekey runs the command without one.`,
      `Run it through a shell explicitly: --exec "sh -c '…'" (the key still arrives on standard input).`,
      'BAD_EXEC_COMMAND',
    );
  }
  return argv;
}

/** Refuses, before anything happens, a command that cannot be run: not found, not executable. Returns its words. */
export async function checkCommand(command: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const argv = await splitCommand(command);
  const program = argv[0]!;
  const candidates = program.includes('/') || isAbsolute(program) ? [resolve(program)] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, program));
  for (const candidate of candidates) {
    const info = await stat(candidate).catch(() => undefined);
    if (!info?.isFile()) continue;
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return argv;
    if (program.includes('/')) {
      throw new UsageError(`--exec: ${program} is not executable.`, `Make it executable (chmod +x '${program}'), or name its interpreter: --exec "sh ${program}".`, 'EXEC_NOT_FOUND');
    }
  }
  throw new UsageError(
    `--exec: the command '${program}' was not found${program.includes('/') ? '' : ' on PATH'}.`,
    program.includes('/') ? 'Check the path.' : `Give its path (e.g. ./${program}), or add its folder to PATH.`,
    'EXEC_NOT_FOUND',
  );
}

/**
 * `--exec CMD`: the pair goes to the command's standard input as JSON (the credential_process shape:
 * Version, AccessKeyId, SecretAccessKey, plus UserName), never in its arguments or environment. Like
 * `--print-secret`, what a command received cannot be taken back, so it runs in `confirm`: once AWS
 * accepts the key, before the old key is retired. A non-zero exit, a signal or the timeout fails the
 * delivery, and the lifecycle deletes the new key.
 */
export function execDelivery(destination: ExecDestination, options: ExecOptions): Delivery {
  const label = `the command "${destination.command}"`;
  return {
    destination,
    label,
    write: async (pair) => ({ detail: `${maskKeyId(pair.accessKeyId)} goes to ${label} once AWS accepts it`, destination }),
    confirm: async (pair) => {
      const seconds = await runWithKey(destination, pair, options);
      return `${label} took ${maskKeyId(pair.accessKeyId)} (exit code 0, ${seconds} s)`;
    },
    undo: async () => `nothing to take back: ${label} runs only once the new key works, and did not take it`,
  };
}

async function runWithKey(destination: ExecDestination, pair: KeyPair, options: ExecOptions): Promise<string> {
  const argv = await splitCommand(destination.command);
  // Loaded only for --exec, like shlex: child_process and what it loads cost every other rotation time.
  const { spawn } = await import('node:child_process');
  const started = Date.now();
  const tail: string[] = [];
  const relay = lineRelay(pair.secretAccessKey, (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    options.output?.(line);
  });
  const failure = (what: string, cause?: unknown) =>
    new RekeyError('EXEC_FAILED', `--exec "${destination.command}" ${what}.${tail.length > 0 && !options.output ? ` Its output ended with: ${tail.slice(-5).join(' | ')}` : ''}`, {
      hint: 'The command did not take the new key, so it was not used. Fix the command (run it by hand with a test value on stdin), then run aws-rekey again.',
      ...(cause ? { cause } : {}),
    });

  await new Promise<void>((resolveRun, reject) => {
    // Its own process group, so that a timeout stops what it started too (a shell's children).
    const child = spawn(argv[0]!, argv.slice(1), { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: process.platform !== 'win32', shell: false });
    let timedOut = false;
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // Gone already.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), 2000).unref();
    }, destination.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', relay.push);
    child.stderr.setEncoding('utf8').on('data', relay.push);
    // A command that exits without reading its input closes the pipe: its exit code decides, not the EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(failure(`could not be started: ${error.message}`, error));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      relay.flush();
      if (timedOut) reject(failure(`did not finish within ${destination.timeoutMs / 1000} s and was stopped`));
      else if (signal) reject(failure(`was killed by ${signal}`));
      else if (code !== 0) reject(failure(`failed with exit code ${code}`));
      else resolveRun();
    });
    child.stdin.end(renderKeyFile('json', '', pair, options.userName));
  });
  return ((Date.now() - started) / 1000).toFixed(1);
}

/** Whole lines of output, with the secret blanked out should the command echo it. */
function lineRelay(secret: string, emit: (line: string) => void): { push: (chunk: string) => void; flush: () => void } {
  let pending = '';
  const clean = (line: string) => line.split(secret).join('****');
  return {
    push: (chunk) => {
      pending += chunk;
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) emit(clean(line));
    },
    flush: () => {
      if (pending) emit(clean(pending));
      pending = '';
    },
  };
}
