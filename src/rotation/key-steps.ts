import { isLostResponse, isServerFault, isThrottlingError } from '../aws/errors.js';
import type { IamApi, NewAccessKey } from '../aws/gateway.js';
import { maskKeyId } from '../core/mask.js';
import type { AccessKeyInfo } from '../core/types.js';
import { AwsError, RekeyError, RotationIncompleteError } from '../errors.js';
import type { Runtime } from './runtime.js';

/** The IAM steps on keys that every rotation takes: make room, create exactly one key, clean up orphans. */

/** Makes room for the new key, as planned, by deleting the user's other key; returns its id. */
export async function deleteOtherKey(iam: IamApi, userName: string, other: AccessKeyInfo | undefined, rt: Pick<Runtime, 'steps'>): Promise<string | undefined> {
  if (!other) return undefined;
  await rt.steps.run('delete-other', () => iam.deleteAccessKey(userName, other.accessKeyId), () => `deleted ${other.status.toLowerCase()} key ${maskKeyId(other.accessKeyId)}`);
  return other.accessKeyId;
}

/** How often CreateAccessKey is tried while IAM throttles it: a throttled call created nothing. */
export const CREATE_THROTTLE_ATTEMPTS = 3;

/**
 * CreateAccessKey is never retried blindly (the SDK makes one attempt): a retry after a lost answer would
 * make a second key while the first, whose secret nobody has, stays. A throttled call created nothing and is
 * tried again after a pause. After a lost answer or a 5xx, the keys are listed and any key that appeared is
 * deleted, then the call is tried once more; if that fails too, stop with nothing left behind. If the
 * listing itself fails, a CREATE_UNCERTAIN error says so, and the caller keeps the journal for `recover`.
 */
export async function createKeyOnce(iam: IamApi, userName: string, keysBefore: string[], rt?: Pick<Runtime, 'timing' | 'steps'>): Promise<NewAccessKey> {
  let throttled = 0;
  let uncertain = 0;
  const deleted: string[] = [];
  for (;;) {
    try {
      return await iam.createAccessKey(userName);
    } catch (error) {
      if (isThrottlingError(error) && throttled < CREATE_THROTTLE_ATTEMPTS - 1 && rt) {
        throttled += 1;
        await rt.timing.sleep(Math.round(500 * 2 ** (throttled - 1) * (0.5 + Math.random() / 2)));
        continue;
      }
      if (!isLostResponse(error) && !isServerFault(error)) throw error;
      let orphans: string[];
      try {
        orphans = await deleteOrphans(iam, userName, keysBefore);
      } catch (cleanupError) {
        throw new RotationIncompleteError(
          'CREATE_UNCERTAIN',
          `iam:CreateAccessKey got no usable answer (${(error as Error).message}), and the check for a key it may have created failed too: ${(cleanupError as Error).message}`,
          { hint: `A key of ${userName} may exist whose secret never arrived. Run aws-rekey again to find and delete it.`, cause: error },
        );
      }
      if (orphans.length > 0) {
        deleted.push(...orphans);
        rt?.steps.record({ step: 'orphans', status: 'done', detail: `deleted ${orphans.map(maskKeyId).join(', ')}: created, but its secret never arrived` });
      }
      uncertain += 1;
      if (uncertain >= 2) {
        const left = deleted.length > 0 ? `the ${deleted.length === 1 ? 'key it created' : 'keys it created'} (${deleted.map(maskKeyId).join(', ')}) ${deleted.length === 1 ? 'was' : 'were'} deleted again` : 'no key was left behind';
        throw new RekeyError('CREATE_FAILED', `iam:CreateAccessKey failed twice (${(error as Error).message}); ${left}. Nothing was changed.`, {
          hint: 'The old key is still active and in the file. Run aws-rekey again in a moment.',
          cause: error,
        });
      }
    }
  }
}

/** Delete keys that appeared after `keysBefore` was taken: they were made for us but their secret was lost. */
// Stryker disable next-line ArrayDeclaration: equivalent, a default holding any string that is not an access key id keeps nothing.
export async function deleteOrphans(iam: IamApi, userName: string, keysBefore: string[], keep: string[] = []): Promise<string[]> {
  const now = await iam.listAccessKeys(userName);
  const orphans = now.filter((k) => !keysBefore.includes(k.accessKeyId) && !keep.includes(k.accessKeyId)).map((k) => k.accessKeyId);
  for (const id of orphans) await deleteKeyIfPresent(iam, userName, id);
  return orphans;
}

/** DeleteAccessKey, where "no such key" means done: a retried call whose first answer was lost finds it gone. */
export async function deleteKeyIfPresent(iam: IamApi, userName: string, accessKeyId: string): Promise<void> {
  try {
    await iam.deleteAccessKey(userName, accessKeyId);
  } catch (error) {
    if (!isNoSuchEntity(error)) throw error;
  }
}

function isNoSuchEntity(error: unknown): boolean {
  return error instanceof AwsError && (error.awsCode === 'NoSuchEntity' || error.awsCode === 'NoSuchEntityException');
}
