import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getLockPath, withFileLock } from '../../src/credentials/store.js';
import { useTempDir } from '../support/temp-dir.js';

/** The owner note in the lock folder: how a lock left by a killed run is told from a live one. */

const tempDir = useTempDir('aws-rekey-lock-');

const deadPid = (): number => {
  const child = spawnSync(process.execPath, ['-e', '0']);
  if (child.pid === undefined) throw new Error('could not spawn');
  return child.pid;
};

async function leaveLock(path: string, owner: { pid: number; hostname: string }): Promise<void> {
  await mkdir(getLockPath(path));
  await writeFile(join(getLockPath(path), 'owner.json'), JSON.stringify({ ...owner, acquiredAt: new Date().toISOString() }));
}

describe('withFileLock owner note', () => {
  it('names this process while the lock is held, and goes with the lock', async () => {
    const path = join(tempDir(), 'credentials');
    const owner = await withFileLock(path, async () => JSON.parse(await readFile(join(getLockPath(path), 'owner.json'), 'utf8')) as Record<string, unknown>);
    expect(owner).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(existsSync(getLockPath(path))).toBe(false);
  });

  it('a fresh lock whose owner died is taken over at once', async () => {
    const path = join(tempDir(), 'credentials');
    await leaveLock(path, { pid: deadPid(), hostname: hostname() });
    // Touched in the future, the lock never goes stale: only the dead owner's note lets it be taken over.
    const future = new Date(Date.now() + 60 * 60_000);
    await utimes(getLockPath(path), future, future);
    expect(await withFileLock(path, async () => 'taken over')).toBe('taken over');
    expect(existsSync(getLockPath(path))).toBe(false);
  });

  it('a lock whose owner is alive is respected, and the error names it', async () => {
    const path = join(tempDir(), 'credentials');
    const live = process.ppid;
    await leaveLock(path, { pid: live, hostname: hostname() });
    await expect(withFileLock(path, async () => 'x')).rejects.toMatchObject({
      code: 'CREDENTIALS_LOCKED',
      message: expect.stringContaining(`process ${live} on ${hostname()}`),
    });
    expect(existsSync(getLockPath(path))).toBe(true);
  });

  it('a lock from another machine is respected even if its pid means nothing here', async () => {
    const path = join(tempDir(), 'credentials');
    await leaveLock(path, { pid: deadPid(), hostname: `not-${hostname()}` });
    await expect(withFileLock(path, async () => 'x')).rejects.toMatchObject({ code: 'CREDENTIALS_LOCKED' });
  });
});
