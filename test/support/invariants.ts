import { execFile } from 'node:child_process';
import { chmod, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { RequestLogEntry } from './fault-proxy.js';
import { listKeys, type KeyInfo } from './iam.js';
import { recordsDir } from '../../src/credentials/records.js';

/**
 * The four invariants of a crash-safe rotation (docs/invariants.md), checked from outside: IAM's state read
 * from moto directly (never through the code under test), the credentials file, the recovery journal, and
 * the fault proxy's request log.
 */

export interface StoredPair {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface JournalOnDisk {
  path: string;
  mode: number;
  /** A profile's rotation (`<profile>.journal.json`) or `rotate --user`'s (`user-….user-journal.json`). */
  kind: 'profile' | 'user';
  phase: 'creating' | 'created' | 'written' | 'verified';
  /** A profile's journal only. */
  profile?: string;
  oldKeyId: string;
  oldSecretAccessKey?: string;
  keysBefore: string[];
  retire: 'deactivate' | 'delete';
  newKey?: StoredPair;
}

export interface LocalState {
  text: string;
  mode: number;
  /** Profile name → the key pair it holds. */
  profiles: Map<string, StoredPair>;
  /** Every recovery journal beside the file: the profiles' and those of `rotate --user`. */
  journals: JournalOnDisk[];
}

const JOURNAL_KINDS: Array<[suffix: string, kind: JournalOnDisk['kind']]> = [
  ['.user-journal.json', 'user'],
  ['.journal.json', 'profile'],
];

/** A deliberately small ini reader, independent of the product's parser. */
export function profilesOf(text: string): Map<string, StoredPair> {
  const out = new Map<string, StoredPair>();
  let current: Partial<StoredPair> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      current = {};
      out.set(section[1] ?? '', current as StoredPair);
      continue;
    }
    const kv = /^(aws_access_key_id|aws_secret_access_key)\s*=\s*(\S+)$/.exec(line);
    if (kv && current) {
      if (kv[1] === 'aws_access_key_id') current.accessKeyId = kv[2];
      else current.secretAccessKey = kv[2];
    }
  }
  return out;
}

export async function readLocalState(credentialsPath: string): Promise<LocalState> {
  const text = await readFile(credentialsPath, 'utf8');
  const mode = (await stat(credentialsPath)).mode & 0o777;
  const dir = await recordsDir(credentialsPath);
  const journals: JournalOnDisk[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    const kind = JOURNAL_KINDS.find(([suffix]) => name.endsWith(suffix))?.[1];
    if (!kind) continue;
    const path = join(dir, name);
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Omit<JournalOnDisk, 'path' | 'mode' | 'kind'>;
    journals.push({ ...parsed, kind, path, mode: (await stat(path)).mode & 0o777 });
  }
  return { text, mode, profiles: profilesOf(text), journals };
}

export interface RotationSubject {
  target: string;
  userName: string;
  credentialsPath: string;
  /** Profiles that held the old key before the rotation; they must always hold one and the same pair. */
  profiles: string[];
  old: StoredPair;
  /** The file before any run: everything but the rotated pair must survive byte for byte. */
  originalText: string;
  retire: 'deactivate' | 'delete';
  /** Every request that went through the fault proxy during the runs, to check the order of calls. */
  log: readonly RequestLogEntry[];
  /** The config file, when profiles there hold the key too (their section names: `profile ci`, `default`). */
  config?: { path: string; sections: string[]; originalText: string };
}

export type Outcome = 'rotated' | 'restored' | 'pending';

export interface Observation {
  keys: KeyInfo[];
  local: LocalState;
  fileKey: StoredPair;
  outcome: Outcome;
}

/**
 * Assert the invariants. `when`: 'after-fault' right after a faulted or killed run (a recovery may still be
 * due), 'final' after the follow-up run (everything must be clean). Returns what was seen, for more checks.
 */
export async function assertInvariants(subject: RotationSubject, when: 'after-fault' | 'final'): Promise<Observation> {
  const keys = await listKeys(subject.target, subject.userName);
  const local = await readLocalState(subject.credentialsPath);
  const status = (id: string | undefined) => keys.find((k) => k.accessKeyId === id)?.status;
  const describe = () =>
    `IAM keys: ${JSON.stringify(keys.map((k) => [k.accessKeyId, k.status]))}; journals: ${JSON.stringify(local.journals.map((j) => [j.phase, j.newKey?.accessKeyId]))}`;

  // The file stays a private file, and every profile that held the old key holds one and the same pair.
  expect(local.mode, 'credentials file mode').toBe(0o600);
  for (const journal of local.journals) expect(journal.mode, `journal ${journal.path} mode`).toBe(0o600);
  const pairs = subject.profiles.map((p) => local.profiles.get(p));
  const fileKey = pairs[0];
  expect(fileKey?.accessKeyId, 'the profile holds a key').toBeTruthy();
  if (!fileKey) throw new Error('unreachable');
  for (const pair of pairs) expect(pair, 'all profiles that held the old key hold the same pair').toEqual(fileKey);
  // Nothing but the rotated pair changed (comments, other profiles, settings).
  expect(local.text.replaceAll(fileKey.accessKeyId, subject.old.accessKeyId).replaceAll(fileKey.secretAccessKey, subject.old.secretAccessKey)).toBe(subject.originalText);
  if (fileKey.accessKeyId === subject.old.accessKeyId) expect(fileKey.secretAccessKey).toBe(subject.old.secretAccessKey);
  const journalNew = local.journals.flatMap((j) => (j.newKey ? [j.newKey] : []));
  for (const stored of journalNew) {
    if (stored.accessKeyId === fileKey.accessKeyId) expect(fileKey.secretAccessKey, 'file and journal agree on the new secret').toBe(stored.secretAccessKey);
  }

  // (1) At least one active key whose secret is stored locally; in fact the key in the file is active.
  const storedIds = new Set([fileKey.accessKeyId, ...journalNew.map((k) => k.accessKeyId)]);
  for (const j of local.journals) if (j.oldSecretAccessKey) storedIds.add(j.oldKeyId);
  expect(
    keys.some((k) => k.status === 'Active' && storedIds.has(k.accessKeyId)),
    `(1) an active key whose secret is stored locally. ${describe()}`,
  ).toBe(true);
  expect(status(fileKey.accessKeyId), `(1) the key in the file is active. ${describe()}`).toBe('Active');
  const configKey = subject.config ? await checkConfigFile(subject, subject.config, fileKey, storedIds, when) : undefined;
  if (configKey) expect(status(configKey.accessKeyId), `(1) the key in the config file is active. ${describe()}`).toBe('Active');

  // (2) No created key's secret is lost: every key that did not exist before is stored locally, or (right
  // after a crash inside CreateAccessKey) recorded as possibly created by a 'creating' journal.
  const creating = local.journals.find((j) => j.phase === 'creating');
  for (const key of keys) {
    if (key.accessKeyId === subject.old.accessKeyId) continue;
    const known = storedIds.has(key.accessKeyId) || (when === 'after-fault' && creating !== undefined && !creating.keysBefore.includes(key.accessKeyId));
    expect(known, `(2) created key ${key.accessKeyId} is stored locally or deleted. ${describe()}`).toBe(true);
  }

  // (3) The old key is retired only after the new key was verified: from IAM's state and from the order of calls.
  const oldStatus = status(subject.old.accessKeyId);
  if (oldStatus !== 'Active') {
    expect(fileKey.accessKeyId, `(3) the old key is retired, so the file holds a new key. ${describe()}`).not.toBe(subject.old.accessKeyId);
    if (configKey) expect(configKey.accessKeyId, `(3) the old key is retired, so the config file holds a new key. ${describe()}`).not.toBe(subject.old.accessKeyId);
    expect(local.journals.every((j) => j.phase === 'verified'), `(3) the old key is retired, so no journal predates verification. ${describe()}`).toBe(true);
  }
  const retireCalls = subject.log.filter(
    (e) =>
      e.params.AccessKeyId === subject.old.accessKeyId &&
      (e.action === 'DeleteAccessKey' || (e.action === 'UpdateAccessKey' && e.params.Status === 'Inactive')),
  );
  const firstRetire = retireCalls[0];
  if (firstRetire) {
    const verified = subject.log.some(
      (e) =>
        e.action === 'GetCallerIdentity' &&
        e.status === 200 &&
        e.accessKeyId !== subject.old.accessKeyId &&
        storedIds.has(e.accessKeyId) &&
        e.endedAt <= firstRetire.startedAt,
    );
    expect(verified, '(3) a GetCallerIdentity signed with the new key succeeded before the first call that retires the old key').toBe(true);
  }

  let outcome: Outcome = 'pending';
  if (fileKey.accessKeyId === subject.old.accessKeyId && keys.length === 1 && local.journals.length === 0) outcome = 'restored';
  else if (fileKey.accessKeyId !== subject.old.accessKeyId && local.journals.length === 0 && keys.filter((k) => k.status === 'Active').length === 1) outcome = 'rotated';

  if (when === 'final') {
    // (4) Clean: no journal, exactly one active key, the one in the file; the old key retired per the
    // options, or the old state restored with nothing left behind.
    expect(local.journals, `(4) no journal is left. ${describe()}`).toEqual([]);
    expect(keys.filter((k) => k.status === 'Active').map((k) => k.accessKeyId), `(4) exactly one active key, the one in the file. ${describe()}`).toEqual([fileKey.accessKeyId]);
    if (fileKey.accessKeyId === subject.old.accessKeyId) {
      expect(keys.map((k) => k.accessKeyId), `(4) restored: the old key is the user's only key. ${describe()}`).toEqual([subject.old.accessKeyId]);
    } else if (subject.retire === 'delete') {
      expect(oldStatus, `(4) rotated with --delete: the old key is deleted. ${describe()}`).toBeUndefined();
      expect(keys).toHaveLength(1);
    } else {
      expect(oldStatus, `(4) rotated: the old key is inactive. ${describe()}`).toBe('Inactive');
      expect(keys).toHaveLength(2);
    }
    expect(outcome).not.toBe('pending');
  }
  return { keys, local, fileKey, outcome };
}

/**
 * The config file's profiles hold one pair, and nothing else in the file changed. After a run that stopped
 * between the two writes it may still hold the old pair; at the end it holds the credentials file's.
 */
async function checkConfigFile(subject: RotationSubject, config: NonNullable<RotationSubject['config']>, fileKey: StoredPair, storedIds: Set<string>, when: 'after-fault' | 'final'): Promise<StoredPair> {
  const text = await readFile(config.path, 'utf8');
  expect((await stat(config.path)).mode & 0o777, 'config file mode').toBe(0o600);
  const pairs = config.sections.map((section) => profilesOf(text).get(section));
  const configKey = pairs[0];
  if (!configKey?.accessKeyId) throw new Error(`the config file's [${config.sections[0]}] holds no key`);
  for (const pair of pairs) expect(pair, 'all config profiles that held the old key hold the same pair').toEqual(configKey);
  expect(text.replaceAll(configKey.accessKeyId, subject.old.accessKeyId).replaceAll(configKey.secretAccessKey, subject.old.secretAccessKey)).toBe(config.originalText);
  if (when === 'final') expect(configKey, 'the config file holds the pair of the credentials file').toEqual(fileKey);
  else if (configKey.accessKeyId === subject.old.accessKeyId) expect(configKey.secretAccessKey).toBe(subject.old.secretAccessKey);
  else expect(storedIds.has(configKey.accessKeyId), 'the config file holds a key stored in the credentials file or the journal').toBe(true);
  if (configKey.accessKeyId === fileKey.accessKeyId) expect(configKey.secretAccessKey).toBe(fileKey.secretAccessKey);
  return configKey;
}

/** Poll until `predicate` holds; fail with `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const execFileAsync = promisify(execFile);

const isRoot = process.getuid?.() === 0;

/**
 * Make a file or directory unwritable (or writable again). As root, `chattr +i`: unlike chmod it stops root
 * too (ext4 and most Linux file systems). As another user, taking away the write bits is enough.
 */
export async function setImmutable(path: string, on: boolean): Promise<void> {
  if (!isRoot) {
    const mode = (await stat(path)).mode & 0o7777;
    await chmod(path, on ? mode & ~0o222 : mode | 0o200);
    return;
  }
  try {
    await execFileAsync('chattr', [on ? '+i' : '-i', path]);
  } catch (error) {
    throw new Error(`These tests make files unwritable for root with 'chattr ${on ? '+i' : '-i'}' (Debian's e2fsprogs), which failed on ${path}: ${(error as Error).message}`);
  }
}
