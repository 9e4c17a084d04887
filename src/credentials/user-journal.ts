import { parsePrincipalArn } from '../core/arn.js';
import { journalUnreadable, type JournalCore } from './journal.js';
import { listRecordNames, readJsonRecord, recordPath, removeRecord, writeJsonRecord } from './records.js';
import type { Destination } from './staged-store.js';

/**
 * The recovery journal of `rotate --user NAME`: the same phases as a profile's journal, but the new key
 * goes to a destination chosen by the admin. Kept apart (`user-<partition>-<account>-NAME.user-journal.json`)
 * so that the profile recovery never mistakes it for one of its own, and a run in another account never
 * takes it for its own.
 */
export interface UserJournal extends JournalCore {
  version: 1;
  kind: 'user';
  destination: Destination;
  /** --force was given: the destination may be overwritten. */
  force: boolean;
}

const SUFFIX = '.user-journal.json';

/**
 * Whose key a `--user` record is about: a user name means one user in one account of one partition only (the
 * same name in another account is someone else). Records are kept under all three.
 */
export interface UserRef {
  partition: string;
  account: string;
  userName: string;
}

/** The user an ARN names (`userName` from the caller when the ARN cannot be read). */
export function userRefOf(userArn: string, userName: string): UserRef {
  const principal = parsePrincipalArn(userArn);
  return { partition: principal?.partition ?? 'aws', account: principal?.account ?? '', userName };
}

export function sameUser(a: UserRef, b: UserRef): boolean {
  return a.partition === b.partition && a.account === b.account && a.userName === b.userName;
}

/** How a message names where a user lives: `account 111111111111` (with the partition when it is not `aws`). */
export function describeAccount(ref: UserRef): string {
  return ref.partition === 'aws' ? `account ${ref.account}` : `account ${ref.account} (${ref.partition})`;
}

/** `user-<partition>-<account>-<name>`: the record id of a `--user` rotation (staged records use it too). */
export function userRecordId(ref: UserRef): string {
  return `user-${ref.partition}-${ref.account}-${ref.userName}`;
}

function userJournalName(ref: UserRef): string {
  return `${encodeURIComponent(userRecordId(ref))}${SUFFIX}`;
}

/** aws-rekey 0.1.0 named a user's journal by the user name alone. */
function legacyJournalName(userName: string): string {
  return `${encodeURIComponent(`user-${userName}`)}${SUFFIX}`;
}

export function userJournalPath(credentialsPath: string, ref: UserRef): Promise<string> {
  return recordPath(credentialsPath, userJournalName(ref));
}

export async function writeUserJournal(journal: UserJournal): Promise<void> {
  await writeJsonRecord(journal.credentialsPath, userJournalName(userRefOf(journal.userArn, journal.userName)), journal);
}

export async function removeUserJournal(journal: UserJournal): Promise<void> {
  await removeRecord(journal.credentialsPath, userJournalName(userRefOf(journal.userArn, journal.userName)));
}

/**
 * The unfinished rotation of this user in this account, if any. A 0.1.0 journal (named by the user alone) is
 * taken only when its ARN is of the same account, and is then kept under the new name.
 */
export async function readUserJournal(credentialsPath: string, ref: UserRef): Promise<UserJournal | undefined> {
  const journal = await parseUserJournal(credentialsPath, userJournalName(ref));
  if (journal) return journal;
  const legacy = await parseUserJournal(credentialsPath, legacyJournalName(ref.userName));
  if (!legacy || !sameUser(userRefOf(legacy.userArn, legacy.userName), ref)) return undefined;
  await writeUserJournal(legacy);
  await removeRecord(credentialsPath, legacyJournalName(ref.userName));
  return legacy;
}

async function parseUserJournal(credentialsPath: string, name: string): Promise<UserJournal | undefined> {
  const parsed = (await readJsonRecord(credentialsPath, name, journalUnreadable)) as Partial<UserJournal> | null | undefined;
  if (parsed === undefined) return undefined;
  if (!parsed || parsed.version !== 1 || parsed.kind !== 'user' || typeof parsed.oldKeyId !== 'string' || typeof parsed.userArn !== 'string' || typeof parsed.destination !== 'object') {
    throw journalUnreadable(await recordPath(credentialsPath, name), new Error('it is not an aws-rekey journal'));
  }
  return parsed as UserJournal;
}

/** Every unfinished `--user` rotation recorded for this credentials file, whatever its account. */
export async function listUserJournals(credentialsPath: string): Promise<UserJournal[]> {
  const journals: UserJournal[] = [];
  for (const name of (await listRecordNames(credentialsPath, SUFFIX)).sort()) {
    const journal = await parseUserJournal(credentialsPath, name);
    if (journal) journals.push(journal);
  }
  return journals;
}
