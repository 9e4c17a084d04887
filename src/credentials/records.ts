import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import {
  ensureOwnFolder,
  errorCode,
  inspectOwnPath,
  listOwnFolder,
  ownerOf,
  readOwnFile,
  removeOwnFile,
  removeOwnFolderIfEmpty,
  resolveLinkTarget,
  writeOwnFile,
  type FileOwner,
} from './own-files.js';
import { rename } from './local-fs.js';

/*
 * The JSON records of rotations (recovery journals, staged rotations) belong to one credentials file: each
 * file has a folder of its own, `<credentials dir>/aws-rekey/<name>-<hash of its real path>/`, so that two
 * files in one folder (or a file reached through a link) never see each other's records. Everything there
 * is aws-rekey's own: folders 0700, files 0600, never through a link (own-files.ts). Rotations run side by
 * side: a record listed a moment ago may be gone when it is read.
 */

interface Records {
  /** The folder of this credentials file's records. */
  dir: string;
  owner: FileOwner;
}

/** aws-rekey's folder beside the credentials file (beside the link, when it is one: not in a dotfiles repository). */
export function recordsRoot(credentialsPath: string): string {
  return join(dirname(resolve(credentialsPath)), 'aws-rekey');
}

/** The folder of this credentials file's records, named for its real path (links resolved). */
export async function recordsDir(credentialsPath: string): Promise<string> {
  const real = await resolveLinkTarget(credentialsPath);
  const hash = createHash('sha256').update(real).digest('hex').slice(0, 12);
  return join(recordsRoot(credentialsPath), `${basename(real)}-${hash}`);
}

export async function recordPath(credentialsPath: string, name: string): Promise<string> {
  return join(await recordsDir(credentialsPath), name);
}

/** This file's records folder, with the records of aws-rekey 0.1.0 that belong to the file moved into it. */
async function recordsOf(credentialsPath: string): Promise<Records> {
  const owner = await ownerOf(credentialsPath);
  const dir = await recordsDir(credentialsPath);
  await adoptLegacyRecords(credentialsPath, dir, owner);
  return { dir, owner };
}

/**
 * aws-rekey 0.1.0 kept every record in the `aws-rekey` folder itself, whatever file it belonged to. Those
 * that name this file (or name none: a `--user` record delivered elsewhere) move into its folder, where
 * they are found, finished and removed like any other.
 */
async function adoptLegacyRecords(credentialsPath: string, dir: string, owner: FileOwner): Promise<void> {
  const root = recordsRoot(credentialsPath);
  const legacy = (await listOwnFolder(root, owner)).filter((name) => name.endsWith('.json'));
  // Stryker disable next-line ConditionalExpression: equivalent, a shortcut: with no old record the loop below does nothing.
  if (legacy.length === 0) return;
  const real = await resolveLinkTarget(credentialsPath);
  for (const name of legacy) {
    const from = join(root, name);
    const recorded = fileNamedIn(parseOrUndefined(await readOwnFile(from, owner)));
    if (recorded === null) continue;
    if (recorded !== undefined && (await resolveLinkTarget(recorded)) !== real) continue;
    await ensureOwnFolder(dir, owner);
    if (await inspectOwnPath(join(dir, name), 'file', owner)) continue;
    await rename(from, join(dir, name)).catch((error: unknown) => {
      // Another run adopted it a moment ago.
      if (errorCode(error) !== 'ENOENT') throw error;
    });
  }
}

function parseOrUndefined(bytes: Buffer | undefined): unknown {
  try {
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as unknown);
  } catch {
    return undefined;
  }
}

/** The credentials file a 0.1.0 record names; `undefined` if it names none, `null` if it is no record at all. */
function fileNamedIn(record: unknown): string | undefined | null {
  if (record === null || typeof record !== 'object') return null;
  const r = record as { credentialsPath?: unknown; destination?: { credentialsPath?: unknown } };
  const path = r.credentialsPath ?? r.destination?.credentialsPath;
  return typeof path === 'string' ? path : undefined;
}

/**
 * Refuses a records folder, or anything in it, that is not aws-rekey's own: a link, a thing of the wrong
 * type or owner. Changes nothing; run before anything is created.
 */
export async function checkRecords(credentialsPath: string): Promise<void> {
  const owner = await ownerOf(credentialsPath);
  const root = recordsRoot(credentialsPath);
  for (const name of await listOwnFolder(root, owner)) await inspectOwnPath(join(root, name), name.endsWith('.json') ? 'file' : 'folder', owner);
  const dir = await recordsDir(credentialsPath);
  for (const name of await listOwnFolder(dir, owner)) await inspectOwnPath(join(dir, name), 'file', owner);
}

/** The names of this file's records that end in `suffix`, in the order the folder gives them. */
export async function listRecordNames(credentialsPath: string, suffix: string): Promise<string[]> {
  const { dir, owner } = await recordsOf(credentialsPath);
  return (await listOwnFolder(dir, owner)).filter((n) => n.endsWith(suffix));
}

/** The record as parsed, or undefined when there is no such file; `unreadable` says why it cannot be read. */
export async function readJsonRecord(credentialsPath: string, name: string, unreadable: (path: string, error: unknown) => Error): Promise<unknown> {
  const { dir, owner } = await recordsOf(credentialsPath);
  const path = join(dir, name);
  const bytes = await readOwnFile(path, owner);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw unreadable(path, error);
  }
}

/** Writes the record (0600, atomically) into the file's records folder, which is made (or kept) private first. */
export async function writeJsonRecord(credentialsPath: string, name: string, record: unknown): Promise<void> {
  const { dir, owner } = await recordsOf(credentialsPath);
  const text = `${JSON.stringify(record, null, 2)}\n`;
  // Rotations side by side (rotate --all): one that just finished removes the folders when they are empty
  // for an instant, possibly between making them and the write. Then make them again.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ensureOwnFolder(dirname(dir), owner);
      await ensureOwnFolder(dir, owner);
      await writeOwnFile(join(dir, name), text, owner);
      return;
    } catch (error) {
      if (attempt >= 3 || errorCode((error as Error).cause) !== 'ENOENT') throw error;
    }
  }
}

/** Leave ~/.aws as it was: the folders go too once they are empty (another record keeps them). */
export async function removeRecord(credentialsPath: string, name: string): Promise<void> {
  const { dir } = await recordsOf(credentialsPath);
  await removeOwnFile(join(dir, name));
  await removeOwnFolderIfEmpty(dir);
  await removeOwnFolderIfEmpty(dirname(dir));
}
