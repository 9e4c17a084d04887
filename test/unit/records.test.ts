import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJournals, removeJournal, writeJournal } from '../../src/credentials/journal.js';
import { checkRecords, readJsonRecord, recordsDir, recordsRoot, removeRecord, writeJsonRecord } from '../../src/credentials/records.js';
import { listStaged, type StagedRotation } from '../../src/credentials/staged-store.js';
import { journalOf } from '../support/journals.js';
import { useTempDir } from '../support/temp-dir.js';

/** Records belong to one credentials file (its real path), and records of aws-rekey 0.1.0 are still found. */

const tempDir = useTempDir('aws-rekey-records-');

describe('records per credentials file', () => {
  it('two files in one folder keep apart: a journal of one is not the other\'s', async () => {
    const a = join(tempDir(), 'credentials');
    const b = join(tempDir(), 'work-credentials');
    await writeJournal(journalOf(a));
    expect(await readJournals(a)).toHaveLength(1);
    expect(await readJournals(b)).toEqual([]);
    expect(await recordsDir(a)).not.toBe(await recordsDir(b));
    expect(dirname(await recordsDir(a))).toBe(recordsRoot(a));
    expect(basename(await recordsDir(a))).toMatch(/^credentials-[0-9a-f]{12}$/);
    expect((await stat(await recordsDir(a))).mode & 0o777).toBe(0o700);
    await removeJournal(a, 'work');
    // Nothing is left: the file's folder and the shared one go once empty.
    expect(existsSync(recordsRoot(a))).toBe(false);
  });

  it('a link and its target are one file: one records folder', async () => {
    const real = join(tempDir(), 'real-credentials');
    await writeFile(real, '');
    const link = join(tempDir(), 'credentials');
    await symlink('real-credentials', link);
    await writeJournal(journalOf(link));
    expect(await recordsDir(link)).toBe(await recordsDir(real));
    expect(await readJournals(real)).toHaveLength(1);
  });
});

describe('records of aws-rekey 0.1.0 (all in the shared folder)', () => {
  async function legacy(name: string, record: unknown): Promise<string> {
    const root = join(tempDir(), 'aws-rekey');
    await mkdir(root, { recursive: true, mode: 0o700 });
    await writeFile(join(root, name), JSON.stringify(record), { mode: 0o600 });
    return join(root, name);
  }

  it('are found by the file they name and moved into its folder; another file\'s stay where they are', async () => {
    const a = join(tempDir(), 'credentials');
    const b = join(tempDir(), 'work-credentials');
    await legacy('work.journal.json', journalOf(a));
    await legacy('other.journal.json', journalOf(b, 'other'));
    expect((await readJournals(a)).map((j) => j.profile)).toEqual(['work']);
    expect(await readdir(await recordsDir(a))).toEqual(['work.journal.json']);
    expect(await readdir(recordsRoot(a))).toContain('other.journal.json');
    expect((await readJournals(b)).map((j) => j.profile)).toEqual(['other']);
    expect((await readdir(recordsRoot(a))).filter((n) => n.endsWith('.json'))).toEqual([]);
  });

  it('a staged record that names no file (delivered with --out) is found by the first file that looks', async () => {
    const a = join(tempDir(), 'credentials');
    const now = new Date().toISOString();
    const record: StagedRotation = {
      version: 1,
      id: 'user-bob',
      mode: 'user',
      userName: 'bob',
      userArn: 'arn:aws:iam::123456789012:user/bob',
      oldKeyId: 'AKIAOLDOLDOLDOLDOLD1',
      newKeyId: 'AKIANEWNEWNEWNEWNEW1',
      newKeyCreatedAt: now,
      destination: { kind: 'file', path: join(tempDir(), 'bob.credentials'), format: 'ini', section: 'bob' },
      stage: 'created',
      recordedAt: now,
      updatedAt: now,
    };
    await legacy('user-bob.staged.json', record);
    expect((await listStaged(a)).map((r) => r.id)).toEqual(['user-bob']);
  });
});

describe('records of aws-rekey 0.1.0: what is not adopted', () => {
  async function legacy(name: string, content: string): Promise<string> {
    const root = join(tempDir(), 'aws-rekey');
    await mkdir(root, { recursive: true, mode: 0o700 });
    await writeFile(join(root, name), content, { mode: 0o600 });
    return join(root, name);
  }

  it.each([
    ['a file that is not JSON', 'broken.journal.json', '{"version": 1, "profile": "wo'],
    ['JSON that is no record (null)', 'null.journal.json', 'null'],
    ['JSON that is no record (a string)', 'text.journal.json', '"a journal"'],
    ['a file that is not a .json record', 'notes.txt', '{}'],
  ])('%s stays where it is', async (_name, name, content) => {
    const a = join(tempDir(), 'credentials');
    await legacy(name, content);
    expect(await readJournals(a)).toEqual([]);
    expect(await readdir(recordsRoot(a))).toContain(name);
  });

  it("a staged record is adopted by the file its destination names, not by another", async () => {
    const a = join(tempDir(), 'credentials');
    const b = join(tempDir(), 'work-credentials');
    await legacy('user-bob.staged.json', JSON.stringify({ version: 1, id: 'user-bob', destination: { kind: 'profiles', credentialsPath: b, profiles: ['bob'] } }));
    // Any look at a file's records adopts the old ones that name it.
    expect(await readJournals(a)).toEqual([]);
    expect(await readdir(recordsRoot(a))).toContain('user-bob.staged.json');
    await readJournals(b);
    expect(await readdir(await recordsDir(b))).toEqual(['user-bob.staged.json']);
  });

  it("a record of the same name already in the file's folder is kept; the old one stays in the shared folder", async () => {
    const a = join(tempDir(), 'credentials');
    await writeJournal(journalOf(a));
    const current = await readFile(join(await recordsDir(a), 'work.journal.json'), 'utf8');
    await legacy('work.journal.json', JSON.stringify({ ...journalOf(a), phase: 'verified' }));
    expect((await readJournals(a)).map((j) => j.phase)).toEqual(['written']);
    expect(await readFile(join(await recordsDir(a), 'work.journal.json'), 'utf8')).toBe(current);
    expect(await readdir(recordsRoot(a))).toContain('work.journal.json');
  });
});

describe('readJsonRecord / writeJsonRecord / removeRecord / checkRecords', () => {
  const unreadable = (path: string) => new Error(`unreadable ${path}`);

  it('a record that is not there reads as undefined; one that is not JSON goes to `unreadable` with its path', async () => {
    const a = join(tempDir(), 'credentials');
    expect(await readJsonRecord(a, 'missing.json', unreadable)).toBeUndefined();
    await writeJsonRecord(a, 'x.json', { a: 1 });
    expect(await readJsonRecord(a, 'x.json', unreadable)).toEqual({ a: 1 });
    await writeFile(join(await recordsDir(a), 'bad.json'), '{', { mode: 0o600 });
    await expect(readJsonRecord(a, 'bad.json', unreadable)).rejects.toThrow(`unreadable ${join(await recordsDir(a), 'bad.json')}`);
  });

  it('the folders stay while another record is in them, and go with the last one', async () => {
    const a = join(tempDir(), 'credentials');
    await writeJsonRecord(a, 'one.json', 1);
    await writeJsonRecord(a, 'two.json', 2);
    await removeRecord(a, 'one.json');
    expect(await readdir(await recordsDir(a))).toEqual(['two.json']);
    await removeRecord(a, 'two.json');
    expect(existsSync(recordsRoot(a))).toBe(false);
  });

  it.each([
    ['a folder named like a record, in the shared folder', (root: string) => mkdir(join(root, 'x.json'))],
    ['a file where a folder of records belongs, in the shared folder', (root: string) => writeFile(join(root, 'credentials-000000000000'), '')],
  ])('checkRecords refuses %s', async (_name, plant) => {
    const a = join(tempDir(), 'credentials');
    await mkdir(recordsRoot(a), { recursive: true, mode: 0o700 });
    await plant(recordsRoot(a));
    await expect(checkRecords(a)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_TYPE' });
  });

  it("checkRecords refuses a folder among the file's records, and accepts the records themselves", async () => {
    const a = join(tempDir(), 'credentials');
    await writeJsonRecord(a, 'ok.json', {});
    await checkRecords(a);
    await mkdir(join(await recordsDir(a), 'sub.json'));
    await expect(checkRecords(a)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_TYPE' });
  });
});
