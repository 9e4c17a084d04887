import { describe, expect, it } from 'vitest';
import { helpTexts, printedBy } from '../../src/cli/help-texts.js';
import { commandPaths, helpWidth } from '../../src/cli/main.js';

// bin/aws-rekey answers `[COMMAND...] --help` from these texts (saved by the build) without loading the CLI.
describe('helpTexts', () => {
  it('holds every command, hidden ones included, each as the CLI prints it for --help, -h and -help', async () => {
    const texts = await helpTexts();
    const paths = commandPaths();
    expect(Object.keys(texts)).toEqual(paths.map((path) => path.join(' ')));
    expect(Object.keys(texts)).toEqual(expect.arrayContaining(['', 'rotate', 'org report', 'schedule install', 'schedule run']));
    for (const path of paths) {
      const text = texts[path.join(' ')];
      expect(text, path.join(' ')).toMatch(new RegExp(`^Usage: ${['aws-rekey', ...path].join(' ')} `));
      for (const flag of ['-h', '-help']) expect(await printedBy([...path, flag]), `${path.join(' ')} ${flag}`).toBe(text);
    }
  });

  it('are the same on a terminal of 80 columns or wider; a narrower one gets text wrapped to its width', async () => {
    const texts = await helpTexts();
    for (const path of [[], ['rotate'], ['org', 'run']]) {
      const key = path.join(' ');
      expect(await printedBy([...path, '--help'], 80)).toBe(texts[key]);
      expect(await printedBy([...path, '--help'], 200)).toBe(texts[key]);
      // Commander wraps the description to the width (and the option lists too, where 40 columns are left for them).
      const [, , description = ''] = (await printedBy([...path, '--help'], 60)).split('\n');
      expect(description.length, key).toBeGreaterThan(40);
      expect(description.length, key).toBeLessThanOrEqual(60);
      expect(texts[key]?.split('\n')[2]?.length, key).toBeGreaterThan(60);
    }
  });
});

describe('helpWidth', () => {
  const stream = (isTTY: boolean, columns?: number) => ({ isTTY, columns }) as unknown as NodeJS.WriteStream;
  it.each([
    { name: 'not a terminal', isTTY: false, columns: undefined, width: 80 },
    { name: 'a wide terminal', isTTY: true, columns: 200, width: 80 },
    { name: 'an 80-column terminal', isTTY: true, columns: 80, width: 80 },
    { name: 'a narrow terminal', isTTY: true, columns: 60, width: 60 },
    { name: 'a terminal of unknown width', isTTY: true, columns: 0, width: 80 },
  ])('$name: $width', ({ isTTY, columns, width }) => {
    expect(helpWidth(stream(isTTY, columns))).toBe(width);
  });
});
