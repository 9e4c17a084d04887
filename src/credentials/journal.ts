import { CredentialsFileError } from '../errors.js';
import type { RetireAction } from '../core/plan.js';
import { listRecordNames, readJsonRecord, recordPath, removeRecord, writeJsonRecord } from './records.js';

/**
 * Where a rotation stands, written (and fsynced) before each step that cannot be undone by doing nothing.
 * `creating`: CreateAccessKey may have run; `created`: the new secret is here, maybe not yet in the file;
 * `written`: the file holds the new key; `verified`: AWS accepts it, the old key may still be active.
 */
export type JournalPhase = 'creating' | 'created' | 'written' | 'verified';

/** The new key as a journal keeps it. `createDate`: IAM's creation time (absent in journals of 0.1.0 for a profile). */
export interface JournalKey {
  accessKeyId: string;
  secretAccessKey: string;
  createDate?: string;
}

/** What every journal of a rotation holds, whatever else its flow keeps in it (0.1.0 journals have it all). */
export interface JournalCore {
  userName: string;
  userArn: string;
  credentialsPath: string;
  oldKeyId: string;
  /** Kept while the old key may go back where the new one went (a rollback). */
  oldSecretAccessKey?: string;
  /** The user's key ids before CreateAccessKey: a key not among them and not ours is an orphan. */
  keysBefore: string[];
  retire: RetireAction;
  /** Staged rotation (`--stage create`): stop once the new key works; the old key stays active (src/flows/staged.ts). */
  keepOld?: boolean;
  phase: JournalPhase;
  newKey?: JournalKey;
  startedAt: string;
  updatedAt: string;
  /**
   * The profile whose credentials signed the IAM calls, when it is not the rotated profile itself
   * (`--auth-profile`, or the admin's `--profile` with `--user`): the commands printed later name it too.
   */
  signedBy?: string;
}

/**
 * A profile's own rotation: the new key goes to every profile of the file that held the old one. A rotation
 * that also edits the config file keeps its journal with the credentials file's records all the same (one
 * journal, one lock: both files are named by the same environment) and records the config file's path here.
 */
export interface RotationJournal extends JournalCore {
  version: 1;
  profile: string;
  profiles: string[];
  /** The config file, when profiles there get the new key too (absent in 0.1.0 journals: the credentials file only). */
  configPath?: string;
  configProfiles?: string[];
  /** The user's other key, deleted to make room: its holders get the new key too. */
  alsoReplaces?: string[];
}

const SUFFIX = '.journal.json';

function journalName(profile: string): string {
  return `${encodeURIComponent(profile)}${SUFFIX}`;
}

/** Journals live beside the credentials file, in a folder only the user can read (they may hold a secret). */
export function journalPath(credentialsPath: string, profile: string): Promise<string> {
  return recordPath(credentialsPath, journalName(profile));
}

export async function writeJournal(journal: RotationJournal): Promise<void> {
  await writeJsonRecord(journal.credentialsPath, journalName(journal.profile), journal);
}

export async function removeJournal(credentialsPath: string, profile: string): Promise<void> {
  await removeRecord(credentialsPath, journalName(profile));
}

/** Every unfinished rotation recorded next to this credentials file. */
export async function readJournals(credentialsPath: string): Promise<RotationJournal[]> {
  const journals: RotationJournal[] = [];
  for (const name of await listRecordNames(credentialsPath, SUFFIX)) {
    const parsed = await readJsonRecord(credentialsPath, name, journalUnreadable);
    if (isJournal(parsed)) journals.push(parsed);
  }
  return journals;
}

/** The unfinished rotation that concerns any of these profiles or key ids, if there is one. */
export function findJournal(journals: RotationJournal[], profiles: string[], keyIds: string[]): RotationJournal | undefined {
  return journals.find(
    (j) =>
      // Stryker disable next-line ArrayDeclaration: the default is for journals written before configProfiles; a made-up name in it matches only a profile of that very name.
      [...j.profiles, ...(j.configProfiles ?? [])].some((p) => profiles.includes(p)) ||
      keyIds.includes(j.oldKeyId) ||
      (j.newKey !== undefined && keyIds.includes(j.newKey.accessKeyId)),
  );
}

export function journalUnreadable(path: string, error: unknown): CredentialsFileError {
  return new CredentialsFileError('JOURNAL_UNREADABLE', `The recovery journal ${path} cannot be read: ${(error as Error).message}.`, {
    hint: 'It may hold the secret of a new key: keep a copy, check the keys with aws-rekey keys, then remove the file.',
    cause: error,
  });
}

function isJournal(value: unknown): value is RotationJournal {
  const v = value as Partial<RotationJournal> | null;
  return v !== null && typeof v === 'object' && v.version === 1 && typeof v.profile === 'string' && typeof v.oldKeyId === 'string';
}
