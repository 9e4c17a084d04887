import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensurePrivateDir, writeSecretFile } from './store.js';

/*
 * The JSON records kept beside the credentials file (recovery journals, staged rotations), one file each in
 * one folder. Rotations run side by side: a record listed a moment ago may be gone when it is read.
 */

/** The names in `dir` that end in `suffix`, in the order the folder gives them; none when there is no folder. */
export async function listRecordNames(dir: string, suffix: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.filter((n) => n.endsWith(suffix));
}

/** The record as parsed, or undefined when there is no such file; `unreadable` says why it cannot be read. */
export async function readJsonRecord(path: string, unreadable: (path: string, error: unknown) => Error): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(path, error);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw unreadable(path, error);
  }
}

/** Writes the record (0600, atomically) into its folder, which is made private (0700) first. */
export async function writeJsonRecord(path: string, record: unknown): Promise<void> {
  await ensurePrivateDir(dirname(path));
  await writeSecretFile(path, `${JSON.stringify(record, null, 2)}\n`);
}

/** Leave ~/.aws as it was: the folder goes too once it is empty (another record keeps it). */
export async function removeRecord(path: string): Promise<void> {
  await rm(path, { force: true });
  await rmdir(dirname(path)).catch(() => undefined);
}
