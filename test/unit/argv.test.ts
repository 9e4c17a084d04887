import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandWord, rewriteSingleDash } from '../../src/cli/argv.js';

/** A program shaped like ours: options taking values, booleans, short flags, two commands. */
function program(): Command {
  const p = new Command('aws-rekey').version('1.0.0', '-V, --version');
  p.command('rotate', { isDefault: true })
    .argument('[profile]')
    .option('--profile <name>')
    .option('--auth-profile <name>')
    .option('--mfa')
    .option('--mfa-serial <arn>')
    .option('--dry-run')
    .option('--all')
    .option('-y, --yes')
    .option('-d, --delete');
  p.command('keys').option('--profile <name>').option('--json');
  return p;
}

describe('rewriteSingleDash', () => {
  const cases: Array<{ name: string; argv: string[]; out?: string[]; error?: RegExp }> = [
    { name: "aws-rotate-key's command line", argv: ['-profile', 'work', '-auth-profile', 'admin', '-mfa', '-d', '-y'], out: ['--profile', 'work', '--auth-profile', 'admin', '--mfa', '-d', '-y'] },
    { name: '-flag=value', argv: ['-profile=work', '-mfa-serial=arn:aws:iam::1:mfa/me'], out: ['--profile=work', '--mfa-serial=arn:aws:iam::1:mfa/me'] },
    { name: '-mfa-serial-number is --mfa-serial', argv: ['-mfa-serial-number', 'arn:x'], out: ['--mfa-serial', 'arn:x'] },
    { name: '--mfa-serial-number (Go takes two dashes too)', argv: ['--mfa-serial-number=arn:x'], out: ['--mfa-serial=arn:x'] },
    { name: '-version and -help', argv: ['-version', '-help'], out: ['--version', '--help'] },
    { name: 'our own spellings are untouched', argv: ['rotate', 'work', '--profile', 'x', '-y', '--dry-run'], out: ['rotate', 'work', '--profile', 'x', '-y', '--dry-run'] },
    { name: 'bundled short flags', argv: ['-yd'], out: ['-yd'] },
    { name: "an option's value that looks like a flag", argv: ['--profile', '-all', '-profile', '-odd'], out: ['--profile', '-all', '--profile', '-odd'] },
    { name: 'everything after --', argv: ['keys', '--', '-whatever'], out: ['keys', '--', '-whatever'] },
    { name: 'one dash before one of our long options', argv: ['-dry-run'], error: /unknown option '-dry-run': did you mean '--dry-run'\?/ },
    { name: 'one dash before --all (not -a -l -l)', argv: ['-all'], error: /did you mean '--all'/ },
    { name: 'a near miss', argv: ['-profle', 'x'], error: /did you mean '--profile'/ },
    { name: 'nothing near', argv: ['-zzzzzzzz'], error: /^unknown option '-zzzzzzzz'\.$/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.error) expect(() => rewriteSingleDash(c.argv, program())).toThrow(c.error);
      else expect(rewriteSingleDash(c.argv, program())).toEqual(c.out);
    });
  }

  it('a refusal is a usage error (exit 2) whose hint names the accepted one-dash words', () => {
    try {
      rewriteSingleDash(['-json'], program());
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'USAGE', exitCode: 2, hint: expect.stringContaining('-auth-profile') });
    }
  });
});

describe('commandWord', () => {
  const cases: Array<[string[], string | undefined]> = [
    [['rotate', 'work'], 'rotate'],
    [['--profile', 'work', '-y'], undefined],
    [['--profile', 'rotate'], undefined],
    [['-y', 'rotate', 'work'], 'rotate'],
    [['--profile=x', 'keys'], 'keys'],
    [['work'], 'work'],
  ];
  for (const [argv, word] of cases) it(`${argv.join(' ')} → ${word}`, () => expect(commandWord(argv, program())).toBe(word));
});
