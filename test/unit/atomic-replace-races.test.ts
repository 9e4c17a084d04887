import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getBackupPath, writeCredentialsFileAtomic } from '../../src/credentials/atomic-replace.js';
import { clearRaces, pendingRaces, raceBefore } from '../support/races.js';
import { useTempDir } from '../support/temp-dir.js';

/**
 * The credentials file removed by another program between writeCredentialsFileAtomic's look at it and its
 * read for the backup: there is nothing to keep, so the new file is written without a backup. The race is
 * made here by removing the file just before the read.
 */

vi.mock('../../src/credentials/local-fs.js', async (importOriginal) => (await import('../support/races.js')).racedFs(await importOriginal()));

const tempDir = useTempDir('aws-rekey-races-');
afterEach(clearRaces);

describe('writeCredentialsFileAtomic, the file removed under it', () => {
  it('removed between the look and the backup read: written anyway (0600), no backup, no temp file', async () => {
    const path = join(tempDir(), 'credentials');
    await writeFile(path, 'old\n');
    raceBefore('readFile', (real) => real.unlink(path), (file) => file === path);
    const result = await writeCredentialsFileAtomic(path, 'new\n', { backup: true });
    expect(pendingRaces()).toBe(0);
    expect(result).toStrictEqual({});
    expect(await readFile(path, 'utf8')).toBe('new\n');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(existsSync(getBackupPath(path))).toBe(false);
    expect(await readdir(tempDir())).toEqual(['credentials']);
  });
});
