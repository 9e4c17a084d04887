import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findJournal, journalPath, readJournals, removeJournal, writeJournal, type RotationJournal } from '../../src/credentials/journal.js';
import { recordsDir } from '../../src/credentials/records.js';
import { journalOf } from '../support/journals.js';

/** The recovery journal of a profile's rotation: where it lives, which files count as one, which rotation it is. */

let dir: string;
let credentialsPath: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aws-rekey-journal-'));
  credentialsPath = join(dir, 'credentials');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const journal = (profile: string, extra: Partial<RotationJournal> = {}): RotationJournal => journalOf(credentialsPath, profile, extra);

describe('writeJournal / readJournals / removeJournal', () => {
  it('one private JSON file per profile, named for the profile (escaped), read back as written', async () => {
    const j = journal('team/dev');
    await writeJournal(j);
    const path = await journalPath(credentialsPath, 'team/dev');
    expect(path).toBe(join(await recordsDir(credentialsPath), 'team%2Fdev.journal.json'));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toBe(`${JSON.stringify(j, null, 2)}\n`);
    expect(await readJournals(credentialsPath)).toEqual([j]);
  });

  it('removing one profile\'s journal leaves the others', async () => {
    await writeJournal(journal('work'));
    await writeJournal(journal('home'));
    await removeJournal(credentialsPath, 'work');
    expect((await readJournals(credentialsPath)).map((j) => j.profile)).toEqual(['home']);
  });

  it('only files that are journals count: other records and other shapes are left alone', async () => {
    await writeJournal(journal('work'));
    const records = await recordsDir(credentialsPath);
    const files: Record<string, unknown> = {
      'user-x.user-journal.json': { ...journal('x'), kind: 'user' },
      'x.staged.json': journal('x'),
      'v2.journal.json': { ...journal('v2'), version: 2 },
      'no-profile.journal.json': { ...journal('p'), profile: 7 },
      'no-old-key.journal.json': { ...journal('p'), oldKeyId: null },
      'null.journal.json': null,
      'text.journal.json': 'a journal',
    };
    for (const [name, content] of Object.entries(files)) await writeFile(join(records, name), JSON.stringify(content), { mode: 0o600 });
    expect((await readJournals(credentialsPath)).map((j) => j.profile)).toEqual(['work']);
    expect(await readdir(records)).toHaveLength(Object.keys(files).length + 1);
  });

  it('a journal that is not JSON: JOURNAL_UNREADABLE names the file and says to keep it (it may hold a secret)', async () => {
    await mkdir(await recordsDir(credentialsPath), { recursive: true, mode: 0o700 });
    const path = await journalPath(credentialsPath, 'work');
    await writeFile(path, '{"version": 1, "profile": "wo', { mode: 0o600 });
    const error = await readJournals(credentialsPath).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'JOURNAL_UNREADABLE',
      hint: 'It may hold the secret of a new key: keep a copy, check the keys with aws-rekey keys, then remove the file.',
    });
    expect((error as Error).message).toMatch(new RegExp(`^The recovery journal ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} cannot be read: .*JSON.*\\.$`));
  });
});

describe('findJournal', () => {
  const journals = [
    journal('work', { profiles: ['work', 'alias'], oldKeyId: 'AKIAWORKOLD000000001', newKey: { accessKeyId: 'AKIAWORKNEW000000001', secretAccessKey: 's' } }),
    journal('home', { oldKeyId: 'AKIAHOMEOLD000000001', newKey: undefined }),
  ];
  it.each([
    ['a profile it rotates', ['alias'], [], 'work'],
    ['its old key', ['other'], ['AKIAHOMEOLD000000001'], 'home'],
    ['its new key', [], ['AKIAWORKNEW000000001'], 'work'],
    ['nothing of it', ['other'], ['AKIAOTHER00000000001'], undefined],
  ])('found by %s', (_name, profiles, keyIds, expected) => {
    expect(findJournal(journals, profiles, keyIds)?.profile).toBe(expected);
  });
});
