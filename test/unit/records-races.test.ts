import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CredentialsFileError } from '../../src/errors.js';

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

/** Another run adopts the old record first (`'race'`), or the move fails for another reason (`'denied'`). */
const moves: { next: 'race' | 'denied' | undefined } = { next: undefined };

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    rename: async (from: string, to: string) => {
      const what = moves.next;
      moves.next = undefined;
      if (what === 'race') await real.rename(from, to);
      if (what === 'denied') throw Object.assign(new Error(`EACCES: permission denied, rename '${from}'`), { code: 'EACCES' });
      return real.rename(from, to);
    },
  };
});

const { writeJsonRecord, recordsDir, recordsRoot } = await import('../../src/credentials/records.js');
const { readJournals } = await import('../../src/credentials/journal.js');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aws-rekey-records-retry-'));
  Object.assign(writes, { failuresLeft: 0, attempts: 0, code: 'ENOENT' });
  moves.next = undefined;
  reads.vanish = '';
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeJsonRecord when the folder goes away under it', () => {
  it('makes it again and writes: twice gone, the third attempt succeeds', async () => {
    writes.failuresLeft = 2;
    const credentials = join(dir, 'credentials');
    await writeJsonRecord(credentials, 'x.json', { a: 1 });
    expect(writes.attempts).toBe(3);
    expect(await readdir(await recordsDir(credentials))).toEqual(['x.json']);
  });

  it('gives up after three attempts', async () => {
    writes.failuresLeft = 3;
    await expect(writeJsonRecord(join(dir, 'credentials'), 'x.json', {})).rejects.toThrow('the folder went away');
    expect(writes.attempts).toBe(3);
  });

  it('another failure is not retried', async () => {
    writes.failuresLeft = 1;
    writes.code = 'EACCES';
    await expect(writeJsonRecord(join(dir, 'credentials'), 'x.json', {})).rejects.toThrow('the folder went away');
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
    const credentials = join(dir, 'credentials');
    await legacyJournal(credentials);
    moves.next = 'race';
    expect((await readJournals(credentials)).map((j) => j.profile)).toEqual(['work']);
    expect(await readdir(await recordsDir(credentials))).toEqual(['work.journal.json']);
  });

  it('another failure to move it is not hidden', async () => {
    const credentials = join(dir, 'credentials');
    await legacyJournal(credentials);
    moves.next = 'denied';
    await expect(readJournals(credentials)).rejects.toThrow('EACCES');
  });
});

describe('a journal finished by another run between listing and reading', () => {
  it('is skipped', async () => {
    const credentials = join(dir, 'credentials');
    await writeJsonRecord(credentials, 'work.journal.json', { version: 1, profile: 'work', oldKeyId: 'AKIAOLDOLDOLDOLDOLD1' });
    reads.vanish = 'work.journal.json';
    expect(await readJournals(credentials)).toEqual([]);
  });
});
