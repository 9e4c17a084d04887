import { removeJournal, writeJournal, type RotationJournal } from '../credentials/journal.js';
import { removeUserJournal, writeUserJournal, type UserJournal } from '../credentials/user-journal.js';
import type { JournalRecord } from './lifecycle.js';

/**
 * The two journal formats of 0.1.0, kept as they are on disk so that rotations they describe still finish:
 * a profile's own rotation (`<profile>.journal.json`) and an admin's rotation of a user
 * (`user-<partition>-<account>-<name>.user-journal.json`, which also records where the key goes).
 */

export const profileJournalRecord: JournalRecord<RotationJournal> = {
  save: writeJournal,
  remove: (journal) => removeJournal(journal.credentialsPath, journal.profile),
  resumeCommand: (journal) => `aws-rekey recover --profile ${journal.profile}`,
};

export const userJournalRecord: JournalRecord<UserJournal> = {
  save: writeUserJournal,
  remove: removeUserJournal,
  resumeCommand: (journal) => `aws-rekey rotate --user ${journal.userName}${journal.destination.kind === 'stdout' ? ' --print-secret' : ''}`,
  delivered: (journal, receipt) => {
    journal.destination = receipt.destination;
  },
};
