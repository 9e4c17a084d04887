import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getBackupPath, writeCredentialsFileAtomic } from '../../src/credentials/atomic-replace.js';

/**
 * The credentials file removed by another program between writeCredentialsFileAtomic's look at it and its
 * read for the backup: there is nothing to keep, so the new file is written without a backup. The race is
 * made here by removing the file just before the read.
 */

const race = { removeBeforeRead: '' };

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    readFile: async (...args: Parameters<typeof real.readFile>) => {
      if (race.removeBeforeRead && args[0] === race.removeBeforeRead) {
        race.removeBeforeRead = '';
        await real.unlink(args[0]);
      }
      return real.readFile(...args);
    },
  };
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aws-rekey-races-'));
});
afterEach(async () => {
  race.removeBeforeRead = '';
  await rm(dir, { recursive: true, force: true });
});

describe('writeCredentialsFileAtomic, the file removed under it', () => {
  it('removed between the look and the backup read: written anyway (0600), no backup, no temp file', async () => {
    const path = join(dir, 'credentials');
    await writeFile(path, 'old\n');
    race.removeBeforeRead = path;
    const result = await writeCredentialsFileAtomic(path, 'new\n', { backup: true });
    expect(race.removeBeforeRead).toBe('');
    expect(result).toStrictEqual({});
    expect(await readFile(path, 'utf8')).toBe('new\n');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(existsSync(getBackupPath(path))).toBe(false);
    expect(await readdir(dir)).toEqual(['credentials']);
  });
});
