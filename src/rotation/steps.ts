import type { CredentialsInput } from '../aws/clients.js';
import { isLostResponse, isServerFault, isThrottlingError } from '../aws/errors.js';
import type { AwsGateway, IamApi, NewAccessKey } from '../aws/gateway.js';
import { maskKeyId } from '../core/mask.js';
import type { RetireAction } from '../core/plan.js';
import type { AccessKeyInfo, StaticCredentials } from '../core/types.js';
import { replaceAccessKey, serializeIni } from '../credentials/ini.js';
import { removeJournal, writeJournal, type JournalPhase, type RotationJournal } from '../credentials/journal.js';
import { readCredentialsFile, writeCredentialsFileAtomic } from '../credentials/store.js';
import { AwsError, InterruptedError, RekeyError, RotationIncompleteError } from '../errors.js';
import type { Reporter, StepRecord } from './ports.js';
import type { Timing } from './timing.js';
import { retryWhilePropagating, verifyNewKey, type VerifyOptions } from './verify.js';

/** The steps shared by a rotation and by the recovery of an interrupted one. */

export interface StepRuntime {
  reporter: Reporter;
  timing: Timing;
  steps: StepLog;
  signal?: AbortSignal;
  /** Runs each read-modify-write of the credentials file; rotations sharing a file in one process pass a mutex. */
  serializeFileEdit?: <T>(edit: () => Promise<T>) => Promise<T>;
}

function serialized<T>(rt: StepRuntime, edit: () => Promise<T>): Promise<T> {
  return rt.serializeFileEdit ? rt.serializeFileEdit(edit) : edit();
}

/** How long calls signed with the new key may keep failing as "unknown key" after verification. */
export const RETIRE_PROPAGATION_MS = 20_000;

/** Stop between steps when the user pressed Ctrl-C; the journal says where to resume. */
export function checkpoint(rt: StepRuntime, journal?: RotationJournal): void {
  if (!rt.signal?.aborted) return;
  if (!journal) throw new InterruptedError('Interrupted. Nothing was changed.');
  throw new InterruptedError(
    `Interrupted after step '${journal.phase}'. The new key is saved; the rotation is recorded in a journal.`,
    `Run 'aws-rekey recover --profile ${journal.profile}' (or aws-rekey again) to finish it.`,
  );
}

export function advance(journal: RotationJournal, phase: JournalPhase, timing: Timing, newKey?: RotationJournal['newKey']): RotationJournal {
  journal.phase = phase;
  journal.updatedAt = new Date(timing.now()).toISOString();
  if (newKey) journal.newKey = newKey;
  return journal;
}

/** Makes room for the new key, as planned, by deleting the user's other key; returns its id. */
export async function deleteOtherKey(iam: IamApi, userName: string, other: AccessKeyInfo | undefined, rt: Pick<StepRuntime, 'steps'>): Promise<string | undefined> {
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
export async function createKeyOnce(iam: IamApi, userName: string, keysBefore: string[], rt?: Pick<StepRuntime, 'timing' | 'steps'>): Promise<NewAccessKey> {
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
          { hint: `A key of ${userName} may exist whose secret never arrived. Run 'aws-rekey recover' (or aws-rekey again) to find and delete it.`, cause: error },
        );
      }
      if (orphans.length > 0) {
        deleted.push(...orphans);
        rt?.steps.record({ step: 'orphans', status: 'done', detail: `deleted ${orphans.map(maskKeyId).join(', ')}: created, but its secret never arrived` });
      }
      uncertain += 1;
      if (uncertain >= 2) {
        const left = deleted.length > 0 ? `the key(s) it created (${deleted.map(maskKeyId).join(', ')}) were deleted again` : 'no key was left behind';
        throw new RekeyError('CREATE_FAILED', `iam:CreateAccessKey failed twice (${(error as Error).message}); ${left}. Nothing was changed.`, {
          hint: 'The old key is still active and in the file. Run aws-rekey again in a moment.',
          cause: error,
        });
      }
    }
  }
}

/** Delete keys that appeared after `keysBefore` was taken: they were made for us but their secret was lost. */
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

/**
 * Keep the new secret: first in the journal, then in the credentials file. If either cannot be written,
 * the new key is deleted again at once (a key whose secret is kept nowhere must not exist) and the file
 * keeps the old key: the user is where they started.
 */
export async function saveNewKey(iam: IamApi, journal: RotationJournal, newKey: NewAccessKey, rt: StepRuntime): Promise<{ backupPath?: string; profiles: string[] }> {
  try {
    await writeJournal(advance(journal, 'created', rt.timing, { accessKeyId: newKey.accessKeyId, secretAccessKey: newKey.secretAccessKey }));
  } catch (error) {
    return rollBack(iam, journal, error, rt, 'The new key could not be saved in the recovery journal, so it was deleted again');
  }
  try {
    return await persistNewKey(journal, rt);
  } catch (error) {
    return rollBack(iam, journal, error, rt, `The new key could not be saved to ${journal.credentialsPath}, so it was deleted again`);
  }
}

/** Put the new pair in every profile that held the old key id, atomically, keeping a backup. */
export async function persistNewKey(journal: RotationJournal, rt: StepRuntime): Promise<{ backupPath?: string; profiles: string[] }> {
  const newKey = journal.newKey;
  if (!newKey) {
    throw new RekeyError('JOURNAL_INVALID', `The recovery journal of profile ${journal.profile} has no new key to write.`, {
      hint: `Check the user's keys with 'aws-rekey keys --profile ${journal.profile}', then remove the journal (in the aws-rekey folder next to ${journal.credentialsPath}).`,
    });
  }
  const { edited, written } = await serialized(rt, async () => {
    const file = await readCredentialsFile(journal.credentialsPath);
    const edited = replaceAccessKey(file.doc, journal.oldKeyId, newKey);
    const written = await rt.steps.run(
      'write',
      () => writeCredentialsFileAtomic(journal.credentialsPath, serializeIni(edited.doc), { backup: true }),
      () => `profile${edited.profiles.length > 1 ? 's' : ''} ${edited.profiles.join(', ')} now hold${edited.profiles.length > 1 ? '' : 's'} ${maskKeyId(newKey.accessKeyId)}`,
    );
    return { edited, written };
  });
  await writeJournal(advance(journal, 'written', rt.timing));
  return { ...written, profiles: edited.profiles };
}

export async function verifyPhase(gateway: AwsGateway, journal: RotationJournal, verify: VerifyOptions, rt: StepRuntime): Promise<void> {
  const newKey = journal.newKey as StaticCredentials;
  await rt.steps.run(
    'verify',
    () => verifyNewKey(gateway, { accessKeyId: newKey.accessKeyId, secretAccessKey: newKey.secretAccessKey }, journal.userArn, verify, rt.timing),
    (v) => `AWS accepted ${maskKeyId(newKey.accessKeyId)} ${verify.successes} time(s) in a row (${v.attempts} call(s))`,
  );
  await writeJournal(advance(journal, 'verified', rt.timing));
}

/**
 * The new key never worked: put the old key back in the file (the journal holds its secret), delete the
 * new key, forget the journal. The user is where they started.
 */
export async function rollBack(
  iam: IamApi,
  journal: RotationJournal,
  cause: unknown,
  rt: StepRuntime,
  summary = 'The new key never worked, so the rotation was undone',
): Promise<never> {
  const why = cause instanceof Error ? cause.message : String(cause);
  const newKey = journal.newKey;
  const oldSecretAccessKey = journal.oldSecretAccessKey;
  if (newKey && oldSecretAccessKey) {
    let restored: ReturnType<typeof replaceAccessKey>;
    try {
      restored = await serialized(rt, async () => {
        const file = await readCredentialsFile(journal.credentialsPath);
        const restored = replaceAccessKey(file.doc, newKey.accessKeyId, { accessKeyId: journal.oldKeyId, secretAccessKey: oldSecretAccessKey });
        if (restored.profiles.length > 0) await writeCredentialsFileAtomic(journal.credentialsPath, serializeIni(restored.doc), { backup: false });
        return restored;
      });
    } catch (error) {
      // The file may still hold the new key: it must stay valid, so it is not deleted. The journal stays.
      throw new RotationIncompleteError(
        'ROLLBACK_INCOMPLETE',
        `${summary} (${why}), but putting the old key back in ${journal.credentialsPath} failed: ${(error as Error).message}`,
        { hint: `Both keys are still active and the journal keeps both secrets. Fix the file, then run 'aws-rekey recover --profile ${journal.profile}'.`, cause: error },
      );
    }
    if (restored.profiles.length > 0) {
      rt.steps.record({ step: 'rollback', status: 'done', detail: `profile${restored.profiles.length > 1 ? 's' : ''} ${restored.profiles.join(', ')} hold ${maskKeyId(journal.oldKeyId)} again` });
    }
  }
  if (newKey) {
    try {
      await deleteKeyIfPresent(iam, journal.userName, newKey.accessKeyId);
    } catch (error) {
      throw new RotationIncompleteError(
        'ROLLBACK_INCOMPLETE',
        `${summary} (${why}): the file holds the old key, which is still active, but deleting the new key ${maskKeyId(newKey.accessKeyId)} failed: ${(error as Error).message}`,
        { hint: `Run 'aws-rekey recover --profile ${journal.profile}' to delete it.`, cause: error },
      );
    }
    rt.steps.record({ step: 'rollback', status: 'done', detail: `deleted the new key ${maskKeyId(newKey.accessKeyId)}` });
  }
  // A journal that cannot be removed now describes a finished rollback: the next run sees the new key gone and clears it.
  await removeJournal(journal.credentialsPath, journal.profile).catch((error: unknown) => {
    rt.reporter.warn(`The recovery journal could not be removed (${(error as Error).message}); the next run clears it.`);
  });
  throw new RekeyError('ROTATION_ROLLED_BACK', `${summary}: ${why}`, {
    hint:
      cause instanceof RekeyError && cause.hint
        ? `The old key is still active and in the file. ${cause.hint}`
        : 'The old key is still active and in the file. Run aws-rekey again later.',
    cause,
  });
}

export interface RetireCredentials {
  credentials: CredentialsInput;
  label: string;
  /** Signed with the brand-new key: InvalidClientTokenId may still come back for a while. */
  fresh?: boolean;
}

/** Deactivate or delete the old key, trying each set of credentials in turn. */
export async function retirePhase(gateway: AwsGateway, journal: RotationJournal, candidates: RetireCredentials[], rt: StepRuntime): Promise<void> {
  const action: RetireAction = journal.retire;
  const act = async (iam: IamApi) => {
    // "No such key" after a retried call whose answer was lost: the key is already deleted, which is done.
    if (action === 'delete') return deleteKeyIfPresent(iam, journal.userName, journal.oldKeyId);
    return iam.updateAccessKey(journal.userName, journal.oldKeyId, 'Inactive');
  };
  let lastError: unknown;
  for (const [index, candidate] of candidates.entries()) {
    try {
      await rt.steps.run(
        'retire',
        () => retryWhilePropagating(() => act(gateway.iam(candidate.credentials)), candidate.fresh ? RETIRE_PROPAGATION_MS : 0, rt.timing),
        () => `${action === 'delete' ? 'deleted' : 'deactivated'} the old key ${maskKeyId(journal.oldKeyId)} (signed with ${candidate.label})`,
        { quietFailure: index < candidates.length - 1 },
      );
    } catch (error) {
      if (error instanceof InterruptedError) checkpoint(rt, journal);
      lastError = error;
      continue;
    }
    await removeJournal(journal.credentialsPath, journal.profile);
    return;
  }
  throw new RotationIncompleteError(
    'RETIRE_FAILED',
    `The new key is saved in ${journal.profiles.join(', ')} and works, but the old key ${maskKeyId(journal.oldKeyId)} could not be ${action === 'delete' ? 'deleted' : 'deactivated'}: ${(lastError as Error).message}`,
    { hint: `The old key is still active. Run 'aws-rekey recover --profile ${journal.profile}' to finish.`, cause: lastError },
  );
}

/** Records each step with its duration and passes it on to the reporter. */
export class StepLog {
  readonly records: StepRecord[] = [];
  constructor(
    private readonly reporter: Reporter,
    private readonly timing: Timing,
  ) {}

  async run<T>(step: string, action: () => Promise<T>, describe: (value: T) => string, options: { quietFailure?: boolean } = {}): Promise<T> {
    const start = this.timing.now();
    try {
      const value = await action();
      this.record({ step, status: 'done', detail: describe(value), durationMs: this.timing.now() - start });
      return value;
    } catch (error) {
      if (!options.quietFailure) {
        this.record({ step, status: 'failed', detail: error instanceof Error ? error.message : String(error), durationMs: this.timing.now() - start });
      }
      throw error;
    }
  }

  record(record: StepRecord): void {
    this.records.push(record);
    this.reporter.step(record);
  }
}
