import { maskKeyId } from '../core/mask.js';
import type { JournalKey, RotationJournal } from '../credentials/journal.js';
import { stagedId, writeStaged, type StagedRotation } from '../credentials/staged-store.js';
import { userRecordId, userRefOf, type UserJournal } from '../credentials/user-journal.js';
import { profileDestination } from './journal-records.js';
import type { Runtime } from './runtime.js';

/**
 * The end of `rotate --profile P --stage create` (and of its recovery): the new key is in the profiles and
 * works, the old key stays active. The lifecycle drops the journal after this: a crash in between leaves
 * the journal, whose recovery records it again.
 */
export async function recordStagedCreate(journal: RotationJournal, newKey: JournalKey, rt: Pick<Runtime, 'timing' | 'steps'>): Promise<StagedRotation> {
  const record = await recordCreated(
    journal,
    {
      id: stagedId('profile', journal.profile),
      mode: 'profile',
      profile: journal.profile,
      newKeyId: newKey.accessKeyId,
      newKeyCreatedAt: newKey.createDate ?? journal.startedAt,
      destination: profileDestination(journal),
    },
    'is in use',
    rt,
  );
  return record;
}

/** The end of `rotate --user NAME --stage create`: the new key is delivered and works, the old key stays active. */
export async function recordStagedUser(journal: UserJournal, newKey: JournalKey, rt: Pick<Runtime, 'timing' | 'steps'>): Promise<StagedRotation> {
  return recordCreated(
    journal,
    {
      id: userRecordId(userRefOf(journal.userArn, journal.userName)),
      mode: 'user',
      newKeyId: newKey.accessKeyId,
      newKeyCreatedAt: newKey.createDate ?? journal.startedAt,
      destination: journal.destination,
    },
    'is delivered',
    rt,
  );
}

type CreatedTarget = Pick<StagedRotation, 'id' | 'mode' | 'profile' | 'newKeyId' | 'newKeyCreatedAt' | 'destination'>;

async function recordCreated(journal: RotationJournal | UserJournal, target: CreatedTarget, newKeyState: string, rt: Pick<Runtime, 'timing' | 'steps'>): Promise<StagedRotation> {
  const now = new Date(rt.timing.now()).toISOString();
  const record: StagedRotation = {
    version: 1,
    id: target.id,
    mode: target.mode,
    ...(target.profile !== undefined ? { profile: target.profile } : {}),
    userName: journal.userName,
    userArn: journal.userArn,
    oldKeyId: journal.oldKeyId,
    ...(journal.oldSecretAccessKey ? { oldSecretAccessKey: journal.oldSecretAccessKey } : {}),
    newKeyId: target.newKeyId,
    newKeyCreatedAt: target.newKeyCreatedAt,
    destination: target.destination,
    stage: 'created',
    recordedAt: now,
    updatedAt: now,
    ...(journal.signedBy !== undefined ? { signedBy: journal.signedBy } : {}),
  };
  await rt.steps.run(
    'record',
    () => writeStaged(journal.credentialsPath, record),
    () => `staged: ${maskKeyId(target.newKeyId)} ${newKeyState}, ${maskKeyId(journal.oldKeyId)} stays active until --stage retire`,
  );
  return record;
}
