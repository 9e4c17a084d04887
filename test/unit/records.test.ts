import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readJournals, removeJournal, writeJournal, type RotationJournal } from '../../src/credentials/journal.js';
import { recordsDir, recordsRoot } from '../../src/credentials/records.js';
import { listStaged, type StagedRotation } from '../../src/credentials/staged-store.js';

/** Records belong to one credentials file (its real path), and records of aws-rekey 0.1.0 are still found. */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aws-rekey-records-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function journal(credentialsPath: string, profile = 'work'): RotationJournal {
  const now = new Date().toISOString();
  return {
    version: 1,
    profile,
    profiles: [profile],
    credentialsPath,
    userName: 'alice',
    userArn: 'arn:aws:iam::123456789012:user/alice',
    oldKeyId: `AKIA${profile.toUpperCase().padEnd(16, 'X')}`,
    keysBefore: [],
    retire: 'deactivate',
    phase: 'creating',
    startedAt: now,
    updatedAt: now,
  };
}

describe('records per credentials file', () => {
  it('two files in one folder keep apart: a journal of one is not the other\'s', async () => {
    const a = join(dir, 'credentials');
    const b = join(dir, 'work-credentials');
    await writeJournal(journal(a));
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
    const real = join(dir, 'real-credentials');
    await writeFile(real, '');
    const link = join(dir, 'credentials');
    await symlink('real-credentials', link);
    await writeJournal(journal(link));
    expect(await recordsDir(link)).toBe(await recordsDir(real));
    expect(await readJournals(real)).toHaveLength(1);
  });
});

describe('records of aws-rekey 0.1.0 (all in the shared folder)', () => {
  async function legacy(name: string, record: unknown): Promise<string> {
    const root = join(dir, 'aws-rekey');
    await mkdir(root, { recursive: true, mode: 0o700 });
    await writeFile(join(root, name), JSON.stringify(record), { mode: 0o600 });
    return join(root, name);
  }

  it('are found by the file they name and moved into its folder; another file\'s stay where they are', async () => {
    const a = join(dir, 'credentials');
    const b = join(dir, 'work-credentials');
    await legacy('work.journal.json', journal(a));
    await legacy('other.journal.json', journal(b, 'other'));
    expect((await readJournals(a)).map((j) => j.profile)).toEqual(['work']);
    expect(await readdir(await recordsDir(a))).toEqual(['work.journal.json']);
    expect(await readdir(recordsRoot(a))).toContain('other.journal.json');
    expect((await readJournals(b)).map((j) => j.profile)).toEqual(['other']);
    expect((await readdir(recordsRoot(a))).filter((n) => n.endsWith('.json'))).toEqual([]);
  });

  it('a staged record that names no file (delivered with --out) is found by the first file that looks', async () => {
    const a = join(dir, 'credentials');
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
      destination: { kind: 'file', path: join(dir, 'bob.credentials'), format: 'ini', section: 'bob' },
      stage: 'created',
      recordedAt: now,
      updatedAt: now,
    };
    await legacy('user-bob.staged.json', record);
    expect((await listStaged(a)).map((r) => r.id)).toEqual(['user-bob']);
  });
});
