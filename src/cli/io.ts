import { styleText } from 'node:util';
import { renderKeyFile } from '../core/admin.js';
import type { SecretOutput } from '../rotation/delivery.js';
import { redactSecrets } from '../core/mask.js';
import type { Prompter, Reporter, StepRecord } from '../rotation/ports.js';

export interface CliStreams {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

type Style = Parameters<typeof styleText>[0];

export function useColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

export function painter(enabled: boolean): (style: Style, text: string) => string {
  return (style, text) => (enabled ? styleText(style, text) : text);
}

/** Human progress on stderr: one line a step, warnings marked. */
export function createHumanReporter(streams: CliStreams): Reporter {
  const paint = painter(useColor(streams.stderr, streams.env));
  const write = (line: string) => streams.stderr.write(`${redactSecrets(line)}\n`);
  const marks: Record<StepRecord['status'], string> = {
    done: paint('green', '✓'),
    skipped: paint('dim', '-'),
    failed: paint('red', '✗'),
  };
  return {
    info: (message) => write(message),
    warn: (message) => write(`${paint('yellow', 'warning:')} ${message}`),
    step: (record) => {
      const took = record.durationMs !== undefined && record.durationMs >= 1000 ? paint('dim', ` (${(record.durationMs / 1000).toFixed(1)} s)`) : '';
      write(`${marks[record.status]} ${record.step.padEnd(12)} ${record.detail ?? ''}${took}`);
    },
  };
}

/** With --json nothing but the document goes to stdout; warnings still reach stderr. */
export function createJsonReporter(streams: CliStreams): Reporter {
  return {
    info: () => undefined,
    warn: (message) => streams.stderr.write(`warning: ${redactSecrets(message)}\n`),
    step: () => undefined,
  };
}

/** How a command reports and asks: with --json, progress stays off stdout and nobody is asked anything. */
export function createPorts(streams: CliStreams, json: boolean): { reporter: Reporter; prompter: Prompter } {
  return { reporter: json ? createJsonReporter(streams) : createHumanReporter(streams), prompter: createPrompter(streams, !json) };
}

/**
 * Prompts on stderr, only when stdin and stderr are terminals; otherwise nobody is asked anything. stdin is
 * looked at only when a question comes up: Node makes process.stdin on first use (about 1.5 ms), and a run
 * that asks nothing (--yes, --json) need not pay for it.
 */
export function createPrompter(streams: CliStreams, allowed: boolean): Prompter {
  let interactive: boolean | undefined;
  const isInteractive = (): boolean => (interactive ??= allowed && Boolean(streams.stderr.isTTY) && Boolean(streams.stdin.isTTY));
  const context = (): { input: NodeJS.ReadStream; output: NodeJS.WriteStream } => ({ input: streams.stdin, output: streams.stderr });
  return {
    get interactive() {
      return isInteractive();
    },
    // Each prompt from its own package: @inquirer/prompts would bring every kind of prompt into the bundle,
    // the editor prompt with its encoding tables among them (iconv-lite, chardet: 670 KB of 3 MB).
    async confirm(message) {
      if (!isInteractive()) return false;
      const { default: confirm } = await import('@inquirer/confirm');
      return confirm({ message, default: false }, context());
    },
    async input(message, options = {}) {
      if (!isInteractive()) return '';
      if (options.secret) {
        const { default: password } = await import('@inquirer/password');
        return password({ message, mask: '*' }, context());
      }
      const { default: input } = await import('@inquirer/input');
      return input({ message }, context());
    },
  };
}

/**
 * `--print-secret`: the pair on stdout (credentials format; with --json, a JSON document of its own ahead of
 * the result). Resolves once the write is flushed, rejects on EPIPE or ENOSPC: the rotation then rolls back
 * instead of retiring the old key. After a failed write, stdout's later errors are ignored (nobody reads it).
 */
export function createSecretOutput(streams: CliStreams, json: boolean): SecretOutput {
  const { stdout } = streams;
  return {
    print: (pair, userName) =>
      new Promise<void>((resolve, reject) => {
        const text = json
          ? `${JSON.stringify({ schemaVersion: 1, user: userName, newKey: { accessKeyId: pair.accessKeyId, secretAccessKey: pair.secretAccessKey } }, null, 2)}\n`
          : renderKeyFile('ini', userName, pair, userName);
        let settled = false;
        const fail = (error: Error) => {
          if (settled) return;
          settled = true;
          stdout.on('error', () => undefined);
          reject(error);
        };
        stdout.once('error', fail);
        try {
          stdout.write(text, (error) => {
            stdout.off('error', fail);
            if (error) return fail(error);
            settled = true;
            resolve();
          });
        } catch (error) {
          fail(error as Error);
        }
      }),
  };
}
