import { dirname, join } from 'node:path';
import {
  ensureOwnFolder,
  inspectOwnPath,
  listOwnFolder,
  ownerOf,
  readOwnFile,
  removeOwnFile,
  removeOwnFolderIfEmpty,
  writeOwnFile,
} from './own-files.js';

/*
 * The JSON records kept beside the credentials file (recovery journals, staged rotations), one file each in
 * one folder of aws-rekey's own (0700, its files 0600; never through a link: see own-files.ts). Rotations run
 * side by side: a record listed a moment ago may be gone when it is read.
 */

/** aws-rekey's folder beside the credentials file: `<credentials dir>/aws-rekey`. */
export function recordsDir(credentialsPath: string): string {
  return join(dirname(credentialsPath), 'aws-rekey');
}

export function recordPath(credentialsPath: string, name: string): string {
  return join(recordsDir(credentialsPath), name);
}

/**
 * Refuses a records folder, or anything in it, that is not aws-rekey's own: a link, a thing of the wrong
 * type or owner. Changes nothing; run before anything is created.
 */
export async function checkRecords(credentialsPath: string): Promise<void> {
  const owner = await ownerOf(credentialsPath);
  const dir = recordsDir(credentialsPath);
  for (const name of await listOwnFolder(dir, owner)) await inspectOwnPath(join(dir, name), 'file', owner);
}

/** The names of the records that end in `suffix`, in the order the folder gives them; none when there is no folder. */
export async function listRecordNames(credentialsPath: string, suffix: string): Promise<string[]> {
  const names = await listOwnFolder(recordsDir(credentialsPath), await ownerOf(credentialsPath));
  return names.filter((n) => n.endsWith(suffix));
}

/** The record as parsed, or undefined when there is no such file; `unreadable` says why it cannot be read. */
export async function readJsonRecord(credentialsPath: string, name: string, unreadable: (path: string, error: unknown) => Error): Promise<unknown> {
  const path = recordPath(credentialsPath, name);
  const bytes = await readOwnFile(path, await ownerOf(credentialsPath));
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw unreadable(path, error);
  }
}

/** Writes the record (0600, atomically) into the records folder, which is made (or kept) private first. */
export async function writeJsonRecord(credentialsPath: string, name: string, record: unknown): Promise<void> {
  const owner = await ownerOf(credentialsPath);
  await ensureOwnFolder(recordsDir(credentialsPath), owner);
  await writeOwnFile(recordPath(credentialsPath, name), `${JSON.stringify(record, null, 2)}\n`, owner);
}

/** Leave ~/.aws as it was: the folder goes too once it is empty (another record keeps it). */
export async function removeRecord(credentialsPath: string, name: string): Promise<void> {
  await removeOwnFile(recordPath(credentialsPath, name));
  await removeOwnFolderIfEmpty(recordsDir(credentialsPath));
}
