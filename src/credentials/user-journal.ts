import { journalUnreadable, type JournalCore } from './journal.js';
import { listRecordNames, readJsonRecord, recordPath, removeRecord, writeJsonRecord } from './records.js';
import type { Destination } from './staged-store.js';

/**
 * The recovery journal of `rotate --user NAME`: the same phases as a profile's journal, but the new key
 * goes to a destination chosen by the admin. Kept apart (`user-NAME.user-journal.json`) so that the
 * profile recovery never mistakes it for one of its own.
 */
export interface UserJournal extends JournalCore {
  version: 1;
  kind: 'user';
  destination: Destination;
  /** --force was given: the destination may be overwritten. */
  force: boolean;
}

const SUFFIX = '.user-journal.json';

function userJournalName(userName: string): string {
  return `${encodeURIComponent(`user-${userName}`)}${SUFFIX}`;
}

export function userJournalPath(credentialsPath: string, userName: string): Promise<string> {
  return recordPath(credentialsPath, userJournalName(userName));
}

export async function writeUserJournal(journal: UserJournal): Promise<void> {
  await writeJsonRecord(journal.credentialsPath, userJournalName(journal.userName), journal);
}

export async function removeUserJournal(credentialsPath: string, userName: string): Promise<void> {
  await removeRecord(credentialsPath, userJournalName(userName));
}

export async function readUserJournal(credentialsPath: string, userName: string): Promise<UserJournal | undefined> {
  const parsed = (await readJsonRecord(credentialsPath, userJournalName(userName), journalUnreadable)) as Partial<UserJournal> | null | undefined;
  if (parsed === undefined) return undefined;
  if (!parsed || parsed.version !== 1 || parsed.kind !== 'user' || typeof parsed.oldKeyId !== 'string' || typeof parsed.destination !== 'object') {
    throw journalUnreadable(await userJournalPath(credentialsPath, userName), new Error('it is not an aws-rekey journal'));
  }
  return parsed as UserJournal;
}

/** Every unfinished `--user` rotation recorded beside this credentials file. */
export async function listUserJournals(credentialsPath: string): Promise<UserJournal[]> {
  const journals: UserJournal[] = [];
  for (const name of (await listRecordNames(credentialsPath, SUFFIX)).sort()) {
    const userName = decodeURIComponent(name.slice(0, -SUFFIX.length)).replace(/^user-/, '');
    const journal = await readUserJournal(credentialsPath, userName);
    if (journal) journals.push(journal);
  }
  return journals;
}
