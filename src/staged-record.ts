import { maskKeyId } from './core/mask.js';
import { removeJournal, type RotationJournal } from './credentials/journal.js';
import { stagedId, writeStaged, type StagedRotation } from './credentials/staged-store.js';
import { RekeyError } from './errors.js';
import type { StepRuntime } from './steps.js';

/**
 * The end of `rotate --profile P --stage create` (and of its recovery): the new key is in the profiles and
 * works, the old key stays active. Record the rotation, then drop the journal: a crash in between leaves
 * the journal, whose recovery records it again.
 */
export async function recordStagedCreate(journal: RotationJournal, newKeyCreatedAt: Date | undefined, rt: StepRuntime): Promise<StagedRotation> {
  const newKey = journal.newKey;
  if (!newKey) throw new RekeyError('JOURNAL_INVALID', 'The journal has no new key to record.');
  const now = new Date(rt.timing.now()).toISOString();
  const record: StagedRotation = {
    version: 1,
    id: stagedId('profile', journal.profile),
    mode: 'profile',
    profile: journal.profile,
    userName: journal.userName,
    userArn: journal.userArn,
    oldKeyId: journal.oldKeyId,
    ...(journal.oldSecretAccessKey ? { oldSecretAccessKey: journal.oldSecretAccessKey } : {}),
    newKeyId: newKey.accessKeyId,
    newKeyCreatedAt: (newKeyCreatedAt ?? new Date(journal.startedAt)).toISOString(),
    destination: { kind: 'profiles', credentialsPath: journal.credentialsPath, profiles: journal.profiles },
    stage: 'created',
    recordedAt: now,
    updatedAt: now,
  };
  await rt.steps.run(
    'record',
    () => writeStaged(journal.credentialsPath, record),
    () => `staged: ${maskKeyId(newKey.accessKeyId)} is in use, ${maskKeyId(journal.oldKeyId)} stays active until --stage retire`,
  );
  await removeJournal(journal.credentialsPath, journal.profile);
  return record;
}
