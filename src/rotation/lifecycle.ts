import type { CredentialsInput } from '../aws/clients.js';
import { plural } from '../core/plural.js';
import type { AwsGateway, IamApi } from '../aws/gateway.js';
import { maskKeyId } from '../core/mask.js';
import type { AccessKeyInfo } from '../core/types.js';
import type { JournalCore, JournalKey, JournalPhase } from '../credentials/journal.js';
import { InterruptedError, RekeyError, RotationIncompleteError } from '../errors.js';
import type { Delivery, DeliveryReceipt, KeyPair } from './delivery.js';
import { createKeyOnce, deleteKeyIfPresent, deleteOrphans } from './key-steps.js';
import type { Runtime } from './runtime.js';
import { retryWhilePropagating, verifyNewKey, type VerifyOptions } from './verify.js';

/**
 * The one rotation sequence: create → deliver → verify → confirm the delivery → retire, with a journal
 * written before each step that doing nothing cannot undo, a rollback when the new key fails, and the
 * resumption of a journal left by an interrupted run. Flows plug in what differs: where the key goes (a
 * Delivery), who signs the retirement, how their journal is kept, and what a staged rotation records.
 *
 * Phases of the journal: `creating` (CreateAccessKey may have run), `created` (the new secret is in the
 * journal), `written` (the delivery holds it), `verified` (AWS accepts it; the old key may still be active).
 */

/** The fields every journal has (credentials/journal.ts): the lifecycle reads and moves only these. */
export type LifecycleJournal = JournalCore;

/** How a flow keeps its journal: the lifecycle says when, the record says where and in what shape. */
export interface JournalRecord<J extends LifecycleJournal> {
  save(journal: J): Promise<void>;
  remove(journal: J): Promise<void>;
  /** What finishes or undoes the rotation after an interruption, as a phrase for messages: "run `aws-rekey recover --profile work`". */
  resumeStep(journal: J): string;
  /** Keep what the delivery reports it wrote (e.g. more profiles than planned). */
  delivered?(journal: J, receipt: DeliveryReceipt): void;
}

export interface RetireCredentials {
  credentials: CredentialsInput;
  label: string;
  /** Signed with the brand-new key: InvalidClientTokenId may still come back for a while. */
  fresh?: boolean;
}

/** One rotation, as a flow sets it up. */
export interface Rotation<J extends LifecycleJournal> {
  journal: J;
  record: JournalRecord<J>;
  /** Makes the IAM calls on the user's keys (create, list, delete). */
  iam: IamApi;
  /** Verifies the new key (calls signed with it) and retires the old one. */
  gateway: AwsGateway;
  delivery: Delivery;
  verify: VerifyOptions;
  /** The credentials that retire the old key, tried in order. */
  retireWith(newKey: KeyPair): RetireCredentials[];
  /** `--stage create`: what to record instead of retiring (the journal is removed after it). */
  recordStaged?(journal: J, newKey: JournalKey, rt: Runtime): Promise<void>;
}

export interface RotationOutcome {
  status: 'rotated' | 'staged';
  newKey: KeyPair;
  /** The last delivery of this run (absent when a resumed run found the key delivered). */
  receipt?: DeliveryReceipt;
}

/** How long calls signed with the new key may keep failing as "unknown key" after verification. */
export const RETIRE_PROPAGATION_MS = 20_000;

/** A fresh rotation: the journal is at `creating` and not saved yet; the plan is confirmed, the lock held. */
export async function rotateKey<J extends LifecycleJournal>(rotation: Rotation<J>, rt: Runtime): Promise<RotationOutcome> {
  const { journal, record, iam } = rotation;
  await record.save(journal);
  let created;
  try {
    created = await rt.steps.run('create', () => createKeyOnce(iam, journal.userName, journal.keysBefore, rt), (k) => `created ${maskKeyId(k.accessKeyId)}`);
  } catch (error) {
    if (error instanceof RekeyError && error.code === 'CREATE_UNCERTAIN') {
      // A key may exist whose secret never arrived: the journal stays, so that the next run finds and deletes it.
      throw new RotationIncompleteError('CREATE_UNCERTAIN', error.message, {
        hint: `A key of ${journal.userName} may exist whose secret never arrived. To find and delete it, ${record.resumeStep(journal)}.`,
        cause: error,
      });
    }
    await record.remove(journal);
    throw error;
  }
  const newKey: JournalKey = { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey, ...(created.createDate ? { createDate: created.createDate.toISOString() } : {}) };
  journal.newKey = newKey;
  try {
    await advance(rotation, 'created', rt);
  } catch (error) {
    // The secret is kept nowhere: a key nobody can use must not stay.
    return rollBack(rotation, error, rt, 'The new key could not be saved in the recovery journal, so it was deleted again');
  }
  return carryOn(rotation, newKey, rt);
}

export type ResumeOutcome = { outcome: 'finished'; rotation: RotationOutcome } | { outcome: 'rolled-back'; deletedOrphans: string[] };

/** An interrupted rotation, from its journal and IAM's state: finished when the new key works, else undone. */
export async function resumeRotation<J extends LifecycleJournal>(rotation: Rotation<J>, rt: Runtime): Promise<ResumeOutcome> {
  const { journal, iam } = rotation;
  const keys = await rt.steps.run('inspect', () => iam.listAccessKeys(journal.userName), (k) => plural(k.length, 'key'));
  if (journal.phase === 'creating') {
    const deleted = await rt.steps.run('orphans', () => deleteOrphans(iam, journal.userName, journal.keysBefore), (ids) =>
      ids.length ? `deleted ${ids.map(maskKeyId).join(', ')} (created, secret never received)` : 'no key was created',
    );
    await rotation.record.remove(journal);
    return { outcome: 'rolled-back', deletedOrphans: deleted };
  }
  try {
    const newKey = journal.newKey;
    // Someone deleted the new key: the old key is the only one left. Make sure the destination holds it.
    if (!newKey || !keys.some((k) => k.accessKeyId === newKey.accessKeyId)) {
      const gone = new RekeyError(
        // Stryker disable next-line StringLiteral: equivalent, nothing reads this code (the rollback's error that carries it is turned into 'rolled-back' below).
        'NEW_KEY_GONE',
        'the new key no longer exists in IAM',
      );
      return await rollBack(rotation, gone, rt);
    }
    return { outcome: 'finished', rotation: await carryOn(rotation, newKey, rt, keys) };
  } catch (error) {
    if (error instanceof RekeyError && error.code === 'ROTATION_ROLLED_BACK') return { outcome: 'rolled-back', deletedOrphans: [] };
    throw error;
  }
}

/** From `created` on (the journal holds `created`): deliver (again, when resuming: deliveries are idempotent), verify, confirm, retire. */
async function carryOn<J extends LifecycleJournal>(rotation: Rotation<J>, created: JournalKey, rt: Runtime, keys?: readonly AccessKeyInfo[]): Promise<RotationOutcome> {
  const { journal, delivery } = rotation;
  const newKey: KeyPair = { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey };
  let receipt: DeliveryReceipt;
  try {
    receipt = await rt.steps.run('write', () => delivery.write(newKey), (r) => r.detail);
  } catch (error) {
    return rollBack(rotation, error, rt, `The new key could not be saved to ${delivery.label}, so it was deleted again`);
  }
  rotation.record.delivered?.(journal, receipt);
  if (journal.phase === 'created') await advance(rotation, 'written', rt);
  checkpoint(rotation, rt);

  if (journal.phase === 'written') {
    try {
      await rt.steps.run(
        'verify',
        () => verifyNewKey(rotation.gateway, newKey, journal.userArn, rotation.verify, rt.timing),
        (v) => `AWS accepted ${maskKeyId(newKey.accessKeyId)} ${plural(rotation.verify.successes, 'time')} in a row (${plural(v.attempts, 'call')})`,
      );
    } catch (error) {
      if (error instanceof InterruptedError) checkpoint(rotation, rt);
      return rollBack(rotation, error, rt);
    }
    await advance(rotation, 'verified', rt);
    checkpoint(rotation, rt);
  }

  // Nothing is retired before the destination is known to hold the key (for stdout: printed and flushed).
  try {
    await rt.steps.run('deliver', () => delivery.confirm(newKey), (detail) => detail);
  } catch (error) {
    return rollBack(rotation, error, rt, `The new key could not be delivered to ${delivery.label}, so it was deleted again`);
  }

  if (journal.keepOld) {
    await rotation.recordStaged?.(journal, created, rt);
    await rotation.record.remove(journal);
    return { status: 'staged', newKey, receipt };
  }
  await retireOld(rotation, newKey, rt, keys);
  return { status: 'rotated', newKey, receipt };
}

/** Deactivate or delete the old key, trying each set of credentials in turn; then the journal goes. */
async function retireOld<J extends LifecycleJournal>(rotation: Rotation<J>, newKey: KeyPair, rt: Runtime, keys?: readonly AccessKeyInfo[]): Promise<void> {
  const { journal, record } = rotation;
  const action = journal.retire;
  const old = keys?.find((k) => k.accessKeyId === journal.oldKeyId);
  if (keys && (!old || (action === 'deactivate' && old.status === 'Inactive'))) {
    rt.steps.record({ step: 'retire', status: 'skipped', detail: `the old key ${maskKeyId(journal.oldKeyId)} is already ${old ? 'inactive' : 'deleted'}` });
    await record.remove(journal);
    return;
  }
  const act = (iam: IamApi) =>
    // "No such key" after a retried call whose answer was lost: the key is already deleted, which is done.
    action === 'delete' ? deleteKeyIfPresent(iam, journal.userName, journal.oldKeyId) : iam.updateAccessKey(journal.userName, journal.oldKeyId, 'Inactive');
  const candidates = rotation.retireWith(newKey);
  let lastError: unknown;
  for (const [index, candidate] of candidates.entries()) {
    try {
      await rt.steps.run(
        'retire',
        () => retryWhilePropagating(() => act(rotation.gateway.iam(candidate.credentials)), candidate.fresh ? RETIRE_PROPAGATION_MS : 0, rt.timing),
        () => `${action === 'delete' ? 'deleted' : 'deactivated'} the old key ${maskKeyId(journal.oldKeyId)} (signed with ${candidate.label})`,
        { quietFailure: index < candidates.length - 1 },
      );
    } catch (error) {
      if (error instanceof InterruptedError) checkpoint(rotation, rt);
      lastError = error;
      continue;
    }
    await record.remove(journal);
    return;
  }
  throw new RotationIncompleteError(
    'RETIRE_FAILED',
    `The new key is delivered to ${rotation.delivery.label} and works, but the old key ${maskKeyId(journal.oldKeyId)} could not be ${action === 'delete' ? 'deleted' : 'deactivated'}: ${(lastError as Error).message}`,
    { hint: `The old key is still active. To finish, ${record.resumeStep(journal)}.`, cause: lastError },
  );
}

/**
 * The new key failed (or could not be kept or delivered): take it back out of its destination (the old
 * pair goes back when known), delete it, forget the journal. The user is where they started. If the
 * destination cannot be put back, or the key cannot be deleted, the journal stays and says so.
 */
async function rollBack<J extends LifecycleJournal>(
  rotation: Rotation<J>,
  cause: unknown,
  rt: Runtime,
  summary = 'The new key never worked, so the rotation was undone',
): Promise<never> {
  const { journal, record, delivery } = rotation;
  const why = cause instanceof Error ? cause.message : String(cause);
  const newKey = journal.newKey;
  if (newKey) {
    const oldPair = journal.oldSecretAccessKey ? { accessKeyId: journal.oldKeyId, secretAccessKey: journal.oldSecretAccessKey } : undefined;
    try {
      const undone = await delivery.undo(newKey.accessKeyId, oldPair);
      rt.steps.record({ step: 'rollback', status: 'done', detail: undone });
    } catch (error) {
      // The destination may still hold the new key: it must stay valid, so it is not deleted. The journal stays.
      const undo = oldPair ? `putting the old key back in ${delivery.label}` : `taking the new key back out of ${delivery.label}`;
      throw new RotationIncompleteError('ROLLBACK_INCOMPLETE', `${summary} (${why}), but ${undo} failed: ${(error as Error).message}`, {
        hint: `Both keys are still active and the recovery journal keeps the new key's secret. Fix that, then ${record.resumeStep(journal)}.`,
        cause: error,
      });
    }
    try {
      await deleteKeyIfPresent(rotation.iam, journal.userName, newKey.accessKeyId);
    } catch (error) {
      // The key lives on and its secret is only in the journal: keep it there, back at 'created' (the
      // destination no longer holds it), so that the next run delivers and checks it again, or undoes it.
      await record.save({ ...journal, phase: 'created' });
      throw new RotationIncompleteError(
        'ROLLBACK_INCOMPLETE',
        `${summary} (${why}): the old key is still active and where it was, but deleting the new key ${maskKeyId(newKey.accessKeyId)} failed: ${(error as Error).message}`,
        { hint: `The recovery journal keeps the new key's secret. To finish or undo it, ${record.resumeStep(journal)}.`, cause: error },
      );
    }
    rt.steps.record({ step: 'rollback', status: 'done', detail: `deleted the new key ${maskKeyId(newKey.accessKeyId)}` });
  }
  // A journal that cannot be removed now describes a finished rollback: the next run sees the new key gone and clears it.
  await record.remove(journal).catch((error: unknown) => {
    rt.reporter.warn(`The recovery journal could not be removed (${(error as Error).message}); the next run clears it.`);
  });
  throw new RekeyError('ROTATION_ROLLED_BACK', `${summary}: ${why}`, {
    hint: `The old key is still active and where it was. ${cause instanceof RekeyError && cause.hint ? cause.hint : 'Run aws-rekey again later.'}`,
    cause,
  });
}

async function advance<J extends LifecycleJournal>(rotation: Rotation<J>, phase: JournalPhase, rt: Runtime): Promise<void> {
  rotation.journal.phase = phase;
  rotation.journal.updatedAt = new Date(rt.timing.now()).toISOString();
  await rotation.record.save(rotation.journal);
}

/** Stop between steps when the user pressed Ctrl-C; the journal says where to resume. */
function checkpoint<J extends LifecycleJournal>(rotation: Rotation<J>, rt: Runtime): void {
  if (!rt.signal?.aborted) return;
  const { journal } = rotation;
  throw new InterruptedError(
    `Interrupted after step '${journal.phase}'. The new key of ${journal.userName} is kept in a recovery journal.`,
    `To finish it, ${rotation.record.resumeStep(journal)}.`,
  );
}
