import { recordedTarget, targetCommand } from '../core/next-command.js';
import { removeJournal, writeJournal, type RotationJournal } from '../credentials/journal.js';
import type { Destination } from '../credentials/staged-store.js';
import { removeUserJournal, writeUserJournal, type UserJournal } from '../credentials/user-journal.js';
import type { JournalRecord } from './lifecycle.js';

/**
 * The two journal formats of 0.1.0, kept as they are on disk so that rotations they describe still finish:
 * a profile's own rotation (`<profile>.journal.json`) and an admin's rotation of a user
 * (`user-<partition>-<account>-<name>.user-journal.json`, which also records where the key goes).
 */

export function profileJournalRecord(env: NodeJS.ProcessEnv): JournalRecord<RotationJournal> {
  return {
    save: writeJournal,
    remove: (journal) => removeJournal(journal.credentialsPath, journal.profile),
    resumeStep: (journal) => `run \`${resumeProfileCommand(journal, env)}\``,
  };
}

/** Where a profile's own rotation delivers: the profiles of the credentials file and, when recorded, of the config file. */
export function profileDestination(journal: RotationJournal): Extract<Destination, { kind: 'profiles' }> {
  return {
    kind: 'profiles',
    credentialsPath: journal.credentialsPath,
    profiles: journal.profiles,
    ...(journal.configPath ? { configPath: journal.configPath, configProfiles: journal.configProfiles ?? [] } : {}),
    ...(journal.alsoReplaces?.length ? { alsoReplaces: journal.alsoReplaces } : {}),
  };
}

export function userJournalRecord(env: NodeJS.ProcessEnv): JournalRecord<UserJournal> {
  return {
    save: writeUserJournal,
    remove: removeUserJournal,
    resumeStep: (journal) => `run \`${resumeUserCommand(journal, env)}\``,
    delivered: (journal, receipt) => {
      journal.destination = receipt.destination;
    },
  };
}

/** `aws-rekey recover --profile P [--auth-profile A]`: finishes or undoes a profile's interrupted rotation. */
export function resumeProfileCommand(journal: RotationJournal, env: NodeJS.ProcessEnv): string {
  return targetCommand('recover', recordedTarget({ ...journal, mode: 'profile' }), env);
}

/**
 * The command that finishes an admin's interrupted rotation: `rotate --user NAME --profile ADMIN` with the
 * destination it was delivering to (a destination is required; the journal's is the one used).
 */
export function resumeUserCommand(journal: Pick<UserJournal, 'userName' | 'destination' | 'signedBy'>, env: NodeJS.ProcessEnv): string {
  return targetCommand('rotate', recordedTarget({ ...journal, mode: 'user' }), env, ...destinationArgs(journal.destination));
}

function destinationArgs(destination: Destination): string[] {
  switch (destination.kind) {
    case 'stdout':
      return ['--print-secret'];
    case 'file':
      return ['--out', destination.path];
    case 'profiles':
      return ['--to-profile', destination.named ?? destination.profiles[0] ?? ''];
    case 'secret':
      return ['--to-secret', destination.name];
    case 'parameter':
      return ['--to-parameter', destination.name];
    case 'env':
      return ['--to-env', destination.path];
    case 'exec':
      return ['--exec', destination.command];
  }
}
