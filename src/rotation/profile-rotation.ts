import type { AwsGateway, IamApi } from '../aws/gateway.js';
import type { RotationJournal } from '../credentials/journal.js';
import type { KeyPair } from './delivery.js';
import { openDelivery } from './delivery.js';
import { profileDestination, profileJournalRecord } from './journal-records.js';
import type { RetireCredentials, Rotation } from './lifecycle.js';
import type { Runtime } from './runtime.js';
import { recordStagedCreate } from './staged-record.js';
import type { VerifyOptions } from './verify.js';

/** A profile's own rotation on the lifecycle: the key goes to every profile of either file that held the old one (or the deleted other key). */
export function profileRotation(
  gateway: AwsGateway,
  iam: IamApi,
  journal: RotationJournal,
  verify: VerifyOptions,
  retireWith: (newKey: KeyPair) => RetireCredentials[],
  rt: Pick<Runtime, 'serializeFileEdit'>,
  env: NodeJS.ProcessEnv,
): Rotation<RotationJournal> {
  return {
    journal,
    record: profileJournalRecord(env),
    iam,
    gateway,
    delivery: openDelivery(
      profileDestination(journal),
      { userName: journal.userName, oldKeyId: journal.oldKeyId, serializeFileEdit: rt.serializeFileEdit },
    ),
    verify,
    retireWith,
    recordStaged: async (j, newKey, runtime) => {
      await recordStagedCreate(j, newKey, runtime);
    },
  };
}
