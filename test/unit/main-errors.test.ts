import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CliStreams } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

/** An error that is not aws-rekey's own (a bug) reaches the one top-level catch of src/cli/main.ts. */
const bug = vi.hoisted(() => ({ error: undefined as unknown }));
vi.mock('../../src/cli/commands/status.js', () => ({
  runStatus: async () => {
    throw bug.error;
  },
}));

function fakeStreams(): CliStreams & { out: () => string; err: () => string } {
  const capture = () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
  };
  const stdout = capture();
  const stderr = capture();
  return { stdin: new PassThrough() as unknown as NodeJS.ReadStream, stdout: stdout.stream, stderr: stderr.stream, env: { NO_COLOR: '1' }, out: stdout.text, err: stderr.text };
}

async function run(args: string[]): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  const streams = fakeStreams();
  await main(args, streams);
  await new Promise((resolve) => setImmediate(resolve));
  return { exitCode: process.exitCode as number | undefined, stdout: streams.out(), stderr: streams.err() };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('an unexpected error', () => {
  const error = new TypeError("Cannot read properties of undefined (reading 'x')");
  error.stack = `${error.name}: ${error.message}\n    at runStatus (/app/dist/cli/commands/status.js:10:5)\n    at main (/app/dist/cli/main.js:20:3)`;

  it('prints its name and message with exit 1, and no stack trace', async () => {
    bug.error = error;
    const { exitCode, stdout, stderr } = await run(['status']);
    expect(exitCode).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      "error: Unexpected error: TypeError: Cannot read properties of undefined (reading 'x')\nhint: This is a bug in aws-rekey; please report it with this message.\n",
    );
  });

  it('with --json: code INTERNAL, the same message, no stack trace in the document', async () => {
    bug.error = error;
    const { exitCode, stdout, stderr } = await run(['status', '--json']);
    expect(exitCode).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      schemaVersion: 1,
      ok: false,
      error: {
        code: 'INTERNAL',
        message: "Unexpected error: TypeError: Cannot read properties of undefined (reading 'x')",
        hint: 'This is a bug in aws-rekey; please report it with this message.',
        exitCode: 1,
      },
    });
    expect(`${stdout}${stderr}`).not.toMatch(/\bat |status\.js/);
  });

  it('a thrown value that is not an Error is printed as text', async () => {
    bug.error = 'just a string';
    const { exitCode, stderr } = await run(['status']);
    expect(exitCode).toBe(1);
    expect(stderr).toMatch(/^error: Unexpected error: just a string\n/);
  });
});
