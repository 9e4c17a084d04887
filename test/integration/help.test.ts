import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { helpTexts } from '../../src/cli/help-texts.js';
import { baseEnv, ROOT, runCli } from '../support/cli.js';

/*
 * bin/aws-rekey answers `[COMMAND...] --help` from dist/bundle/help.json, which the build saved from the CLI's
 * own output: it must stay what the CLI prints now, for every command.
 */
describe('--help from the saved texts', () => {
  const env = baseEnv();

  it('prints, for every command, what the CLI itself prints', async () => {
    for (const [key, text] of Object.entries(await helpTexts())) {
      const words = key === '' ? [] : key.split(' ');
      const run = await runCli([...words, '--help'], env);
      expect(run, key).toEqual({ code: 0, stdout: text, stderr: '' });
    }
  });

  describe('in a copy of the CLI without its bundle', () => {
    let dir = '';
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('still answers --help, -h and -help of every command: the bundle is not loaded', async () => {
      dir = await mkdtemp(join(tmpdir(), 'aws-rekey-help-'));
      await cp(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
      await cp(join(ROOT, 'package.json'), join(dir, 'package.json'));
      await cp(join(ROOT, 'dist', 'bundle', 'help.json'), join(dir, 'dist', 'bundle', 'help.json'));
      const bin = join(dir, 'bin', 'aws-rekey');
      const texts = await helpTexts();
      for (const [args, key] of [[['--help'], ''], [['-h'], ''], [['rotate', '-help'], 'rotate'], [['schedule', 'install', '--help'], 'schedule install']] as const) {
        expect(await runCli([...args], env, '', { bin }), args.join(' ')).toEqual({ code: 0, stdout: texts[key], stderr: '' });
      }
      // Anything but COMMAND... --help goes to the CLI, which this copy lacks.
      for (const args of [['--profile', 'work', '--help'], ['work', '--help'], ['help', 'rotate']]) {
        const run = await runCli(args, env, '', { bin });
        expect(run.code, args.join(' ')).not.toBe(0);
        expect(run.stderr, args.join(' ')).toMatch(/Cannot find module .*dist\/bundle\/cli\./);
      }
    });
  });
});
