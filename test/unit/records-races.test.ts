import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CredentialsFileError } from '../../src/errors.js';
import { clearRaces, pendingRaces, raceBefore } from '../support/races.js';
import { useTempDir } from '../support/temp-dir.js';

/**
 * Rotations side by side (rotate --all): one that finishes removes the records folders the moment they are
 * empty, possibly between another's making them and its write, which then fails with ENOENT. The write makes
 * the folders again, three times at most. The race is made here by failing the write itself.
 */

const writes = { failuresLeft: 0, attempts: 0, code: 'ENOENT' };
/** A record listed a moment ago is gone when read: another run finished it. */
const reads = { vanish: '' };

vi.mock('../../src/credentials/own-files.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/credentials/own-files.js')>();
  return {
    ...real,
    writeOwnFile: async (...args: Parameters<typeof real.writeOwnFile>) => {
      writes.attempts += 1;
      if (writes.failuresLeft > 0) {
        writes.failuresLeft -= 1;
        const cause = Object.assign(new Error(`${writes.code}: no such file or directory`), { code: writes.code });
        throw new CredentialsFileError('CREDENTIALS_WRITE_FAILED', 'the folder went away', { cause });
      }
      return real.writeOwnFile(...args);
    },
    readOwnFile: async (...args: Parameters<typeof real.readOwnFile>) => (reads.vanish && args[0].endsWith(reads.vanish) ? undefined : real.readOwnFile(...args)),
  };
});

vi.mock('../../src/credentials/local-fs.js', async (importOriginal) => (await import('../support/races.js')).racedFs(await importOriginal()));

const { writeJsonRecord, recordsDir, recordsRoot } = await import('../../src/credentials/records.js');
const { readJournals } = await import('../../src/credentials/journal.js');

const tempDir = useTempDir('aws-rekey-records-retry-');
beforeEach(() => {
  Object.assign(writes, { failuresLeft: 0, attempts: 0, code: 'ENOENT' });
  reads.vanish = '';
});
afterEach(clearRaces);

describe('writeJsonRecord when the folder goes away under it', () => {
  it('makes it again and writes: twice gone, the third attempt succeeds', async () => {
    writes.failuresLeft = 2;
    const credentials = join(tempDir(), 'credentials');
    await writeJsonRecord(credentials, 'x.json', { a: 1 });
    expect(writes.attempts).toBe(3);
    expect(await readdir(await recordsDir(credentials))).toEqual(['x.json']);
  });

  it('gives up after three attempts', async () => {
    writes.failuresLeft = 3;
    await expect(writeJsonRecord(join(tempDir(), 'credentials'), 'x.json', {})).rejects.toThrow('the folder went away');
    expect(writes.attempts).toBe(3);
  });

  it('another failure is not retried', async () => {
    writes.failuresLeft = 1;
    writes.code = 'EACCES';
    await expect(writeJsonRecord(join(tempDir(), 'credentials'), 'x.json', {})).rejects.toThrow('the folder went away');
    expect(writes.attempts).toBe(1);
  });
});

describe('adopting a record of aws-rekey 0.1.0 that another run adopts at the same moment', () => {
  async function legacyJournal(credentials: string): Promise<void> {
    await mkdir(recordsRoot(credentials), { recursive: true, mode: 0o700 });
    const journal = { version: 1, profile: 'work', profiles: ['work'], credentialsPath: credentials, oldKeyId: 'AKIAOLDOLDOLDOLDOLD1', phase: 'creating' };
    await writeFile(join(recordsRoot(credentials), 'work.journal.json'), JSON.stringify(journal), { mode: 0o600 });
  }

  it('the record already moved is found where it went', async () => {
    const credentials = join(tempDir(), 'credentials');
    await legacyJournal(credentials);
    // Another run moves it first.
    raceBefore('rename', (real, from, to) => real.rename(from, to));
    expect((await readJournals(credentials)).map((j) => j.profile)).toEqual(['work']);
    expect(pendingRaces()).toBe(0);
    expect(await readdir(await recordsDir(credentials))).toEqual(['work.journal.json']);
  });

  it('another failure to move it is not hidden', async () => {
    const credentials = join(tempDir(), 'credentials');
    await legacyJournal(credentials);
    raceBefore('rename', async (_real, from) => {
      throw Object.assign(new Error(`EACCES: permission denied, rename '${String(from)}'`), { code: 'EACCES' });
    });
    await expect(readJournals(credentials)).rejects.toThrow('EACCES');
    expect(pendingRaces()).toBe(0);
  });
});

describe('a journal finished by another run between listing and reading', () => {
  it('is skipped', async () => {
    const credentials = join(tempDir(), 'credentials');
    await writeJsonRecord(credentials, 'work.journal.json', { version: 1, profile: 'work', oldKeyId: 'AKIAOLDOLDOLDOLDOLD1' });
    reads.vanish = 'work.journal.json';
    expect(await readJournals(credentials)).toEqual([]);
  });
});
