import { shellQuote } from '../core/shell.js';
import { removeJournal, writeJournal, type RotationJournal } from '../credentials/journal.js';
import type { Destination } from '../credentials/staged-store.js';
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
  resumeCommand: (journal) => resumeUserCommand(journal),
  delivered: (journal, receipt) => {
    journal.destination = receipt.destination;
  },
};

/**
 * The command that finishes an admin's interrupted rotation: `rotate --user NAME` with the destination it
 * was delivering to (a destination is required; the journal's is the one used).
 */
export function resumeUserCommand(journal: Pick<UserJournal, 'userName' | 'destination'>): string {
  return `aws-rekey rotate --user ${shellQuote(journal.userName)} ${destinationFlag(journal.destination)}`;
}

function destinationFlag(destination: Destination): string {
  switch (destination.kind) {
    case 'stdout':
      return '--print-secret';
    case 'file':
      return `--out ${shellQuote(destination.path)}`;
    case 'profiles':
      return `--to-profile ${shellQuote(destination.named ?? destination.profiles[0] ?? '')}`;
    case 'secret':
      return `--to-secret ${shellQuote(destination.name)}`;
    case 'parameter':
      return `--to-parameter ${shellQuote(destination.name)}`;
    case 'env':
      return `--to-env ${shellQuote(destination.path)}`;
    case 'exec':
      return `--exec ${shellQuote(destination.command)}`;
  }
}
