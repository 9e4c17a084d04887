import { chmod, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/**
 * A new folder in the system's temp folder for each test of the file (or describe block) that calls it; removed
 * after the test, after opening it and the folders directly in it to their owner again (tests close folders to
 * make permission errors; links are left alone, so nothing outside is touched).
 */
export function useTempDir(prefix: string): () => string {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    if (dir) {
      await chmod(dir, 0o700).catch(() => undefined);
      for (const name of await readdir(dir).catch(() => [])) {
        const path = join(dir, name);
        if ((await lstat(path).catch(() => undefined))?.isDirectory()) await chmod(path, 0o700).catch(() => undefined);
      }
      await rm(dir, { recursive: true, force: true });
    }
    dir = undefined;
  });
  return () => {
    if (!dir) throw new Error('useTempDir: the folder exists only while a test runs');
    return dir;
  };
}
