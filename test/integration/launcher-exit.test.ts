import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, ROOT, runCli } from '../support/cli.js';
import { useTempDir } from '../support/temp-dir.js';

/*
 * bin/aws-rekey ends the process as soon as the CLI is done and nothing but written output is left, instead of
 * letting Node free its heap and environment first (exitWhenIdle); anything still pending keeps the process
 * alive as before. Checked with the real launcher and a stand-in bundle whose main() does what each case needs.
 * 'beforeExit' is emitted only when a process ends by itself: that is how the test tells the two endings apart.
 */

const STAND_IN = `(function (exports, require) {
  exports.main = async (args) => {
    const fs = require('node:fs');
    const marker = process.env.MARKER;
    process.on('beforeExit', () => fs.appendFileSync(marker, 'ended by itself\\n'));
    process.on('exit', (code) => fs.appendFileSync(marker, 'exit ' + code + '\\n'));
    if (args[0] === 'timer') setTimeout(() => fs.appendFileSync(marker, 'timer ran\\n'), 100);
    if (args[0] === 'write') fs.writeFile(marker + '.data', 'x'.repeat(1 << 20), () => fs.appendFileSync(marker, 'write done\\n'));
    process.stdout.write(args[0] === 'big' ? 'y'.repeat(4 << 20) : 'done\\n');
    process.exitCode = 3;
  };
})
`;

const tempDir = useTempDir('aws-rekey-launcher-');

/** A copy of bin/ and package.json beside the stand-in bundle; returns its launcher. */
async function launcherWithStandIn(): Promise<string> {
  const root = tempDir();
  await cp(join(ROOT, 'bin'), join(root, 'bin'), { recursive: true });
  await cp(join(ROOT, 'package.json'), join(root, 'package.json'));
  await mkdir(join(root, 'dist', 'bundle'), { recursive: true });
  await writeFile(join(root, 'dist', 'bundle', 'cli.cjs'), STAND_IN);
  // No bundle hash: the launcher then runs without a code cache.
  await writeFile(join(root, 'dist', 'bundle', 'cli.json'), JSON.stringify({ sha256: '', commands: ['idle', 'timer', 'write', 'big'] }));
  return join(root, 'bin', 'aws-rekey');
}

async function run(command: string): Promise<{ code: number; stdout: string; marker: string[] }> {
  const bin = await launcherWithStandIn();
  const marker = join(tempDir(), 'marker.txt');
  const result = await runCli([command], baseEnv({ MARKER: marker }), '', { bin, coverage: false });
  return { code: result.code, stdout: result.stdout, marker: (await readFile(marker, 'utf8')).trim().split('\n') };
}

describe('bin/aws-rekey after the CLI is done', () => {
  it('with only its output left, ends the process at once, with the exit code the CLI set', async () => {
    const { code, stdout, marker } = await run('idle');
    expect({ code, stdout, marker }).toEqual({ code: 3, stdout: 'done\n', marker: ['exit 3'] });
  });

  it('with a timer pending, lets it run: the process ends by itself', async () => {
    const { code, marker } = await run('timer');
    expect({ code, marker }).toEqual({ code: 3, marker: ['timer ran', 'ended by itself', 'exit 3'] });
  });

  it('with a file write under way, lets it finish', async () => {
    const { code, marker } = await run('write');
    expect({ code, marker }).toEqual({ code: 3, marker: ['write done', 'ended by itself', 'exit 3'] });
    expect((await readFile(join(tempDir(), 'marker.txt.data'))).length).toBe(1 << 20);
  });

  it('4 MiB of output arrive whole', async () => {
    const { code, stdout } = await run('big');
    expect(code).toBe(3);
    expect(stdout.length).toBe(4 << 20);
  });
});
