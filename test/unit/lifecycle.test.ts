import { describe, expect, it } from 'vitest';
import type { CredentialsInput } from '../../src/aws/clients.js';
import type { AwsGateway, IamApi, NewAccessKey } from '../../src/aws/gateway.js';
import type { AccessKeyInfo } from '../../src/core/types.js';
import type { JournalPhase } from '../../src/credentials/journal.js';
import { AwsError, InterruptedError, RekeyError } from '../../src/errors.js';
import type { Delivery, KeyPair } from '../../src/rotation/delivery.js';
import { resumeRotation, rotateKey, type JournalRecord, type LifecycleJournal, type Rotation } from '../../src/rotation/lifecycle.js';
import { createRuntime, type Runtime } from '../../src/rotation/runtime.js';
import type { Timing } from '../../src/rotation/timing.js';

/**
 * The lifecycle against a scripted, in-memory IAM: every phase × a failure there, then the invariants of
 * docs/invariants.md checked from the fake's state — no live key whose secret is kept nowhere, the old key
 * active unless the new one is delivered and confirmed, the journal gone only when nothing is left to do.
 */

const USER = 'alice';
const ARN = `arn:aws:iam::123456789012:user/${USER}`;
const OLD: KeyPair = { accessKeyId: 'AKIAOLDOLDOLDOLDOLD1', secretAccessKey: 'old-secret' };

type Op = 'create' | 'list' | 'update' | 'delete' | 'verify' | 'save-creating' | 'save-created' | 'save-written' | 'save-verified' | 'write' | 'confirm' | 'undo';

class World {
  keys = new Map<string, { secret: string; status: 'Active' | 'Inactive' }>([[OLD.accessKeyId, { secret: OLD.secretAccessKey, status: 'Active' }]]);
  journal: LifecycleJournal | undefined;
  delivered: KeyPair | undefined = OLD;
  staged: string[] = [];
  failures = new Map<Op, number>();
  /** The error a scripted failure throws, when not the default for its operation. */
  errors = new Map<Op, Error>();
  /** Removing the journal fails (a read-only records folder). */
  removeFails = false;
  calls: Op[] = [];
  /** Abort the signal after this operation succeeds. */
  abortAfter: Op | undefined;
  controller = new AbortController();
  private created = 0;

  fail(op: Op, times = Infinity, error?: Error): this {
    this.failures.set(op, times);
    if (error) this.errors.set(op, error);
    return this;
  }

  step(op: Op): void {
    this.calls.push(op);
    const left = this.failures.get(op) ?? 0;
    if (left > 0) {
      this.failures.set(op, left - 1);
      const scripted = this.errors.get(op);
      if (scripted) throw scripted;
      if (op === 'verify') throw new AwsError('INVALID_CREDENTIALS', 'sts:GetCallerIdentity', 'InvalidClientTokenId', 'The security token included in the request is invalid.');
      // A refusal, not a lost answer: CreateAccessKey then surely created nothing.
      if (op === 'create') throw new AwsError('ACCESS_DENIED', 'iam:CreateAccessKey', 'AccessDenied', 'create refused (scripted)');
      throw new AwsError('SERVICE_FAILURE', `iam:${op}`, 'ServiceFailure', `${op} failed (scripted)`);
    }
  }

  after(op: Op): void {
    if (this.abortAfter === op) this.controller.abort();
  }

  newKey(): NewAccessKey {
    this.created += 1;
    const pair = { accessKeyId: `AKIANEWNEWNEWNEWNEW${this.created}`, secretAccessKey: `new-secret-${this.created}` };
    this.keys.set(pair.accessKeyId, { secret: pair.secretAccessKey, status: 'Active' });
    return { ...pair, createDate: new Date('2026-01-01T00:00:00Z') };
  }

  iam(): IamApi {
    const op = async <T>(name: Op, fn: () => T): Promise<T> => {
      this.step(name);
      const value = fn();
      this.after(name);
      return value;
    };
    return {
      listAccessKeys: (userName) =>
        op('list', () => {
          expect(userName).toBe(USER);
          return [...this.keys].map(([accessKeyId, k]): AccessKeyInfo => ({ accessKeyId, status: k.status, createDate: new Date('2025-01-01T00:00:00Z') }));
        }),
      listOwnAccessKeys: () => Promise.reject(new Error('not used')),
      getAccessKeyLastUsed: () => Promise.reject(new Error('not used')),
      createAccessKey: () => op('create', () => this.newKey()),
      updateAccessKey: (_user, id, status) =>
        op('update', () => {
          const key = this.keys.get(id);
          if (!key) throw new AwsError('NO_SUCH_ENTITY', 'iam:UpdateAccessKey', 'NoSuchEntity', 'no such key');
          key.status = status;
        }),
      deleteAccessKey: (_user, id) =>
        op('delete', () => {
          if (!this.keys.delete(id)) throw new AwsError('NO_SUCH_ENTITY', 'iam:DeleteAccessKey', 'NoSuchEntity', 'no such key');
        }),
    };
  }

  gateway(): AwsGateway {
    return {
      getCallerIdentity: async (credentials: CredentialsInput) => {
        this.step('verify');
        const pair = credentials as KeyPair;
        if (this.keys.get(pair.accessKeyId)?.secret !== pair.secretAccessKey) {
          throw new AwsError('INVALID_CREDENTIALS', 'sts:GetCallerIdentity', 'InvalidClientTokenId', 'unknown key');
        }
        return { arn: ARN, account: '123456789012', userId: 'AIDA' };
      },
      getSessionToken: () => Promise.reject(new Error('not used')),
      iam: () => this.iam(),
      destroy: () => undefined,
    };
  }

  record(): JournalRecord<LifecycleJournal> {
    return {
      save: async (journal) => {
        this.step(`save-${journal.phase}` as Op);
        this.journal = structuredClone(journal);
        this.after(`save-${journal.phase}` as Op);
      },
      remove: async () => {
        if (this.removeFails) throw new Error('EROFS: read-only file system');
        this.journal = undefined;
      },
      resumeStep: () => 'run `aws-rekey recover --profile test`',
    };
  }

  delivery(): Delivery {
    let before: KeyPair | undefined;
    return {
      destination: { kind: 'stdout' },
      label: 'the test destination',
      write: async (pair) => {
        this.step('write');
        before = this.delivered;
        this.delivered = pair;
        this.after('write');
        return { detail: `wrote ${pair.accessKeyId}`, destination: { kind: 'stdout' } };
      },
      confirm: async (pair) => {
        this.step('confirm');
        expect(this.delivered).toEqual(pair);
        return 'confirmed';
      },
      undo: async (newKeyId, oldPair) => {
        this.step('undo');
        if (this.delivered?.accessKeyId === newKeyId) this.delivered = oldPair ?? before;
        return 'undone';
      },
    };
  }

  rotation(journal: LifecycleJournal): Rotation<LifecycleJournal> {
    return {
      journal,
      record: this.record(),
      iam: this.iam(),
      gateway: this.gateway(),
      delivery: this.delivery(),
      verify: { timeoutMs: 5_000, successes: 2, successIntervalMs: 100, initialDelayMs: 100, maxDelayMs: 1_000 },
      retireWith: (newKey) => [{ credentials: newKey, label: 'the new key', fresh: true }],
      recordStaged: async (_j, newKey) => {
        this.staged.push(newKey.accessKeyId);
      },
    };
  }

  /** The invariants, from the fake's state. */
  check(): void {
    const live = [...this.keys].filter(([, k]) => k.status === 'Active').map(([id]) => id);
    // Someone holds a working key: the delivery holds an active key, or the journal keeps one.
    const deliveredActive = this.delivered !== undefined && live.includes(this.delivered.accessKeyId);
    expect(deliveredActive || (this.journal?.newKey !== undefined && live.includes(this.journal.newKey.accessKeyId)), 'a working key is written down').toBe(true);
    // No live key whose secret is nowhere.
    for (const [id] of this.keys) {
      const known = id === OLD.accessKeyId || this.delivered?.accessKeyId === id || this.journal?.newKey?.accessKeyId === id;
      expect(known, `the secret of ${id} is kept somewhere`).toBe(true);
    }
    // The old key is retired only once the new one is delivered.
    if (this.keys.get(OLD.accessKeyId)?.status !== 'Active') expect(this.delivered?.accessKeyId).not.toBe(OLD.accessKeyId);
  }
}

/** A clock that never waits. */
function fakeTiming(): Timing {
  let now = Date.parse('2026-01-01T00:00:00Z');
  return { now: () => now, sleep: async (ms) => void (now += ms) };
}

function freshJournal(options: { keepOld?: boolean } = {}): LifecycleJournal {
  return {
    userName: USER,
    userArn: ARN,
    credentialsPath: '/nowhere/credentials',
    oldKeyId: OLD.accessKeyId,
    oldSecretAccessKey: OLD.secretAccessKey,
    keysBefore: [OLD.accessKeyId],
    retire: 'deactivate',
    ...(options.keepOld ? { keepOld: true } : {}),
    phase: 'creating',
    startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

/** The signal only for the checkpoints: abortableTiming would turn the fake sleeps into real ones. */
function runtimeFor(world: World) {
  return { ...createRuntime({ timing: fakeTiming() }), signal: world.controller.signal };
}

async function outcomeOf(promise: Promise<unknown>): Promise<string> {
  try {
    const value = (await promise) as { status?: string; outcome?: string };
    return value.status ?? value.outcome ?? 'ok';
  } catch (error) {
    return error instanceof RekeyError ? error.code : `raw: ${(error as Error).message}`;
  }
}

interface Case {
  name: string;
  script: (w: World) => void;
  /** The error code or status of the run. */
  result: string;
  /** The journal's phase afterwards (undefined: removed). */
  journal?: JournalPhase;
  oldKey: 'Active' | 'Inactive';
  /** Which key the destination holds afterwards. */
  delivered: 'old' | 'new';
  /** How many keys IAM has afterwards. */
  keys: number;
}

const CASES: Case[] = [
  { name: 'no failure: rotated', script: () => undefined, result: 'rotated', oldKey: 'Inactive', delivered: 'new', keys: 2 },
  { name: 'the journal cannot be written at creating: nothing happens', script: (w) => w.fail('save-creating'), result: 'SERVICE_FAILURE', journal: undefined, oldKey: 'Active', delivered: 'old', keys: 1 },
  { name: 'CreateAccessKey is refused: the journal goes, nothing is left', script: (w) => w.fail('create'), result: 'ACCESS_DENIED', oldKey: 'Active', delivered: 'old', keys: 1 },
  { name: 'the secret cannot be journaled: the key is deleted again', script: (w) => w.fail('save-created'), result: 'ROTATION_ROLLED_BACK', oldKey: 'Active', delivered: 'old', keys: 1 },
  { name: 'the delivery cannot be written: undone, key deleted', script: (w) => w.fail('write'), result: 'ROTATION_ROLLED_BACK', oldKey: 'Active', delivered: 'old', keys: 1 },
  { name: 'the new key never works: undone, key deleted', script: (w) => w.fail('verify'), result: 'ROTATION_ROLLED_BACK', oldKey: 'Active', delivered: 'old', keys: 1 },
  { name: 'the new key works after a while: waited out', script: (w) => w.fail('verify', 3), result: 'rotated', oldKey: 'Inactive', delivered: 'new', keys: 2 },
  { name: 'the delivery cannot be confirmed (stdout closed): undone before anything is retired', script: (w) => w.fail('confirm'), result: 'ROTATION_ROLLED_BACK', oldKey: 'Active', delivered: 'old', keys: 1 },
  { name: 'retiring fails: incomplete, journal kept at verified', script: (w) => w.fail('update'), result: 'RETIRE_FAILED', journal: 'verified', oldKey: 'Active', delivered: 'new', keys: 2 },
  { name: 'the failed key cannot be deleted: journal kept at created, secret in it', script: (w) => w.fail('verify').fail('delete'), result: 'ROLLBACK_INCOMPLETE', journal: 'created', oldKey: 'Active', delivered: 'old', keys: 2 },
  { name: 'the delivery cannot be undone: journal and new key kept', script: (w) => w.fail('verify').fail('undo'), result: 'ROLLBACK_INCOMPLETE', journal: 'written', oldKey: 'Active', delivered: 'new', keys: 2 },
  { name: 'Ctrl-C after the write: interrupted at written', script: (w) => (w.abortAfter = 'save-written'), result: 'INTERRUPTED', journal: 'written', oldKey: 'Active', delivered: 'new', keys: 2 },
  { name: 'Ctrl-C after verification: interrupted at verified', script: (w) => (w.abortAfter = 'save-verified'), result: 'INTERRUPTED', journal: 'verified', oldKey: 'Active', delivered: 'new', keys: 2 },
];

describe('rotateKey: every phase × a failure there', () => {
  it.each(CASES)('$name', async ({ script, result, journal, oldKey, delivered, keys }) => {
    const world = new World();
    script(world);
    const outcome = await outcomeOf(rotateKey(world.rotation(freshJournal()), runtimeFor(world)));
    expect(outcome).toBe(result);
    expect(world.journal?.phase).toBe(journal);
    expect(world.keys.get(OLD.accessKeyId)?.status).toBe(oldKey);
    expect(world.delivered?.accessKeyId === OLD.accessKeyId ? 'old' : 'new').toBe(delivered);
    expect(world.keys.size).toBe(keys);
    world.check();
    // Nothing is retired before the delivery is confirmed.
    const calls = world.calls.filter((c) => c === 'confirm' || c === 'update');
    if (calls.includes('update')) expect(calls.indexOf('confirm')).toBeLessThan(calls.indexOf('update'));
  });

  it('a staged rotation records instead of retiring, and the old key stays active', async () => {
    const world = new World();
    const outcome = await rotateKey(world.rotation(freshJournal({ keepOld: true })), runtimeFor(world));
    expect(outcome.status).toBe('staged');
    expect(world.staged).toEqual([outcome.newKey.accessKeyId]);
    expect(world.keys.get(OLD.accessKeyId)?.status).toBe('Active');
    expect(world.journal).toBeUndefined();
  });
});

describe('resumeRotation: the next run finishes or undoes what every failure left', () => {
  const LEFT = CASES.filter((c) => c.journal !== undefined);
  it.each(LEFT)('after: $name', async ({ script }) => {
    const world = new World();
    script(world);
    await outcomeOf(rotateKey(world.rotation(freshJournal()), runtimeFor(world)));
    const left = world.journal;
    expect(left).toBeDefined();
    world.failures.clear();
    world.abortAfter = undefined;
    world.controller = new AbortController();
    const resumed = await resumeRotation(world.rotation(structuredClone(left!)), runtimeFor(world));
    expect(resumed.outcome).toBe('finished');
    expect(world.journal).toBeUndefined();
    expect(world.keys.get(OLD.accessKeyId)?.status).toBe('Inactive');
    expect(world.delivered?.accessKeyId).toBe(left?.newKey?.accessKeyId);
    world.check();
  });

  it('creating: a key whose secret never arrived is deleted, the old key stays', async () => {
    const world = new World();
    world.newKey(); // created by the interrupted run; its answer was lost
    world.journal = freshJournal();
    const resumed = await resumeRotation(world.rotation(freshJournal()), runtimeFor(world));
    expect(resumed).toEqual({ outcome: 'rolled-back', deletedOrphans: ['AKIANEWNEWNEWNEWNEW1'] });
    expect([...world.keys.keys()]).toEqual([OLD.accessKeyId]);
    expect(world.journal).toBeUndefined();
  });

  it('the new key was deleted meanwhile: the old key goes back, rolled back', async () => {
    const world = new World();
    world.abortAfter = 'save-written';
    await outcomeOf(rotateKey(world.rotation(freshJournal()), runtimeFor(world)));
    const left = structuredClone(world.journal!);
    world.keys.delete(left.newKey!.accessKeyId);
    const resumed = await resumeRotation(world.rotation(left), runtimeFor(world));
    expect(resumed.outcome).toBe('rolled-back');
    expect(world.delivered).toEqual(OLD);
    expect(world.journal).toBeUndefined();
    world.check();
  });

  it('the new key still fails when resuming: undone, not retired', async () => {
    const world = new World();
    world.abortAfter = 'save-written';
    await outcomeOf(rotateKey(world.rotation(freshJournal()), runtimeFor(world)));
    const left = structuredClone(world.journal!);
    world.abortAfter = undefined;
    world.controller = new AbortController();
    world.fail('verify');
    const resumed = await resumeRotation(world.rotation(left), runtimeFor(world));
    expect(resumed.outcome).toBe('rolled-back');
    expect([...world.keys.keys()]).toEqual([OLD.accessKeyId]);
    expect(world.keys.get(OLD.accessKeyId)?.status).toBe('Active');
    world.check();
  });

  it('verified, and the old key already inactive: retirement is skipped, the key delivered again', async () => {
    const world = new World();
    world.abortAfter = 'save-verified';
    await outcomeOf(rotateKey(world.rotation(freshJournal()), runtimeFor(world)));
    const left = structuredClone(world.journal!);
    world.keys.get(OLD.accessKeyId)!.status = 'Inactive';
    world.delivered = OLD; // someone put the old pair back meanwhile
    world.abortAfter = undefined;
    world.controller = new AbortController();
    world.calls = [];
    const resumed = await resumeRotation(world.rotation(left), runtimeFor(world));
    expect(resumed.outcome).toBe('finished');
    expect(world.calls).not.toContain('update');
    expect(world.calls).not.toContain('verify');
    expect(world.delivered?.accessKeyId).toBe(left.newKey?.accessKeyId);
    world.check();
  });
});

/** The error a run ends with. */
async function errorOf(promise: Promise<unknown>): Promise<RekeyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RekeyError);
  return error as RekeyError;
}

const stepsOf = (rt: Runtime) => rt.steps.records.map((r) => [r.step, r.status, r.detail]);
const unknownKey = () => new AwsError('INVALID_CREDENTIALS', 'iam:UpdateAccessKey', 'InvalidClientTokenId', 'The security token included in the request is invalid.');
const NEW1 = 'AKIANEWNEWNEWNEWNEW1';

/** A runtime whose reporter keeps the warnings. */
function watchedRuntime(world: World): Runtime & { warnings: string[] } {
  const warnings: string[] = [];
  const reporter = { info: () => undefined, warn: (m: string) => void warnings.push(m), step: () => undefined };
  return { ...createRuntime({ timing: fakeTiming(), reporter }), signal: world.controller.signal, warnings };
}

/** Ctrl-C while the run waits: the pause ends with INTERRUPTED, as abortableTiming makes it. */
function interruptedAtSleep(world: World): Runtime {
  const rt = runtimeFor(world);
  const timing: Timing = {
    now: rt.timing.now,
    sleep: async () => {
      world.controller.abort();
      throw new InterruptedError('interrupted while waiting');
    },
  };
  return { ...rt, timing };
}

describe('rotateKey: what it records and says', () => {
  it('each step with what it did; the journal moves through every phase, dated by the clock', async () => {
    const world = new World();
    const rt = runtimeFor(world);
    const saved: Array<[JournalPhase, string]> = [];
    const rotation = world.rotation(freshJournal());
    const save = rotation.record.save;
    rotation.record.save = async (j) => {
      saved.push([j.phase, j.updatedAt]);
      await save(j);
    };
    const outcome = await rotateKey(rotation, rt);
    expect(outcome).toEqual({ status: 'rotated', newKey: { accessKeyId: NEW1, secretAccessKey: 'new-secret-1' }, receipt: { detail: `wrote ${NEW1}`, destination: { kind: 'stdout' } } });
    expect(stepsOf(rt)).toEqual([
      ['create', 'done', 'created AKIA…NEW1'],
      ['write', 'done', `wrote ${NEW1}`],
      ['verify', 'done', 'AWS accepted AKIA…NEW1 2 times in a row (2 calls)'],
      ['deliver', 'done', 'confirmed'],
      ['retire', 'done', 'deactivated the old key AKIA…OLD1 (signed with the new key)'],
    ]);
    // Verification waited 100 ms between its two successes: the clock dates the phase after it.
    expect(saved).toEqual([
      ['creating', '2026-01-01T00:00:00.000Z'],
      ['created', '2026-01-01T00:00:00.000Z'],
      ['written', '2026-01-01T00:00:00.000Z'],
      ['verified', '2026-01-01T00:00:00.100Z'],
    ]);
    expect(world.journal).toBeUndefined();
  });

  it('the journal keeps the new key with its creation date', async () => {
    const world = new World();
    world.abortAfter = 'save-created';
    await outcomeOf(rotateKey(world.rotation(freshJournal()), runtimeFor(world)));
    expect(world.journal?.newKey).toEqual({ accessKeyId: NEW1, secretAccessKey: 'new-secret-1', createDate: '2026-01-01T00:00:00.000Z' });
  });

  it('--delete deletes the old key', async () => {
    const world = new World();
    const rt = runtimeFor(world);
    await rotateKey(world.rotation({ ...freshJournal(), retire: 'delete' }), rt);
    expect([...world.keys.keys()]).toEqual([NEW1]);
    expect(stepsOf(rt).at(-1)).toEqual(['retire', 'done', 'deleted the old key AKIA…OLD1 (signed with the new key)']);
  });

  it.each([
    ['deactivate', 'update', 'deactivated'],
    ['delete', 'delete', 'deleted'],
  ] as const)('retiring (%s) fails: RETIRE_FAILED says the new key works and how to finish', async (retire, op, verb) => {
    const world = new World().fail(op);
    const error = await errorOf(rotateKey(world.rotation({ ...freshJournal(), retire }), runtimeFor(world)));
    expect(error).toMatchObject({
      code: 'RETIRE_FAILED',
      message: `The new key is delivered to the test destination and works, but the old key AKIA…OLD1 could not be ${verb}: ${op} failed (scripted)`,
      hint: 'The old key is still active. To finish, run `aws-rekey recover --profile test`.',
    });
  });

  it('the new key signs the retirement, and IAM not knowing it yet is waited out', async () => {
    const world = new World().fail('update', 2, unknownKey());
    const rt = runtimeFor(world);
    expect((await rotateKey(world.rotation(freshJournal()), rt)).status).toBe('rotated');
    expect(world.calls.filter((c) => c === 'update')).toHaveLength(3);
    expect(world.keys.get(OLD.accessKeyId)?.status).toBe('Inactive');
  });

  it('credentials that are not fresh are not waited for: the next ones retire, the failure stays quiet', async () => {
    const world = new World().fail('update', 1, unknownKey());
    const rt = runtimeFor(world);
    const rotation = { ...world.rotation(freshJournal()), retireWith: () => [{ credentials: OLD, label: 'the old key' }, { credentials: OLD, label: 'the admin' }] };
    expect((await rotateKey(rotation, rt)).status).toBe('rotated');
    expect(world.calls.filter((c) => c === 'update')).toHaveLength(2);
    expect(stepsOf(rt).filter(([step]) => step === 'retire')).toEqual([['retire', 'done', 'deactivated the old key AKIA…OLD1 (signed with the admin)']]);
  });

  it('when every set of credentials fails, the last failure is recorded and reported', async () => {
    const world = new World().fail('update');
    const rt = runtimeFor(world);
    const rotation = { ...world.rotation(freshJournal()), retireWith: () => [{ credentials: OLD, label: 'the old key' }, { credentials: OLD, label: 'the admin' }] };
    expect((await errorOf(rotateKey(rotation, rt))).code).toBe('RETIRE_FAILED');
    expect(stepsOf(rt).filter(([step]) => step === 'retire')).toEqual([['retire', 'failed', 'update failed (scripted)']]);
  });

  it.each([
    ['the secret cannot be journaled', 'save-created', 'The new key could not be saved in the recovery journal, so it was deleted again: save-created failed (scripted)'],
    ['the delivery cannot be written', 'write', 'The new key could not be saved to the test destination, so it was deleted again: write failed (scripted)'],
    ['the delivery cannot be confirmed', 'confirm', 'The new key could not be delivered to the test destination, so it was deleted again: confirm failed (scripted)'],
  ] as const)('%s: ROTATION_ROLLED_BACK says what happened and that the old key is still in use', async (_name, op, message) => {
    const world = new World().fail(op);
    const rt = runtimeFor(world);
    const error = await errorOf(rotateKey(world.rotation(freshJournal()), rt));
    expect(error).toMatchObject({ code: 'ROTATION_ROLLED_BACK', message, hint: 'The old key is still active and where it was. Run aws-rekey again later.' });
    expect(stepsOf(rt).filter(([step]) => step === 'rollback').at(-1)).toEqual(['rollback', 'done', 'deleted the new key AKIA…NEW1']);
  });

  it('the new key never works: the cause and its hint are passed on', async () => {
    const world = new World().fail('verify');
    const rt = runtimeFor(world);
    const error = await errorOf(rotateKey(world.rotation(freshJournal()), rt));
    expect(error.code).toBe('ROTATION_ROLLED_BACK');
    expect(error.message).toMatch(/^The new key never worked, so the rotation was undone: AWS did not accept the new key 2 times in a row within 5 s/);
    expect(error.hint).toBe('The old key is still active and where it was. New keys usually work within seconds. Try again later with a longer --verify-timeout.');
    expect(stepsOf(rt).filter(([step]) => step === 'rollback')).toEqual([
      ['rollback', 'done', 'undone'],
      ['rollback', 'done', 'deleted the new key AKIA…NEW1'],
    ]);
  });

  it('a journal that cannot be removed after a rollback: a warning, the rollback still reported', async () => {
    const world = new World().fail('verify');
    world.removeFails = true;
    const rt = watchedRuntime(world);
    expect((await errorOf(rotateKey(world.rotation(freshJournal()), rt))).code).toBe('ROTATION_ROLLED_BACK');
    expect(rt.warnings).toEqual(['The recovery journal could not be removed (EROFS: read-only file system); the next run clears it.']);
    expect(world.keys.size).toBe(1);
  });

  it.each([
    ['with the old secret', OLD.secretAccessKey, 'putting the old key back in the test destination'],
    ['without it', undefined, 'taking the new key back out of the test destination'],
  ])('the delivery cannot be undone (%s): ROLLBACK_INCOMPLETE says what failed, the new key is kept', async (_name, oldSecretAccessKey, what) => {
    const world = new World().fail('verify').fail('undo');
    const journal = { ...freshJournal(), oldSecretAccessKey };
    const error = await errorOf(rotateKey(world.rotation(journal), runtimeFor(world)));
    expect(error.code).toBe('ROLLBACK_INCOMPLETE');
    expect(error.message).toMatch(/^The new key never worked, so the rotation was undone \(AWS did not accept the new key/);
    expect(error.message).toContain(`), but ${what} failed: undo failed (scripted)`);
    expect(error.hint).toBe("Both keys are still active and the recovery journal keeps the new key's secret. Fix that, then run `aws-rekey recover --profile test`.");
    expect(world.keys.has(NEW1)).toBe(true);
  });

  it('the new key cannot be deleted: ROLLBACK_INCOMPLETE, the journal back at created', async () => {
    const world = new World().fail('verify').fail('delete');
    const error = await errorOf(rotateKey(world.rotation(freshJournal()), runtimeFor(world)));
    expect(error.code).toBe('ROLLBACK_INCOMPLETE');
    expect(error.message).toContain('the old key is still active and where it was, but deleting the new key AKIA…NEW1 failed: delete failed (scripted)');
    expect(error.hint).toBe("The recovery journal keeps the new key's secret. To finish or undo it, run `aws-rekey recover --profile test`.");
    expect(world.journal).toMatchObject({ phase: 'created', newKey: { accessKeyId: NEW1 } });
  });

  it('CreateAccessKey lost its answer and the keys cannot be listed: CREATE_UNCERTAIN, the journal stays at creating', async () => {
    const world = new World().fail('create', 1, new AwsError('NETWORK', 'iam:CreateAccessKey', 'ECONNRESET', 'socket hang up')).fail('list');
    const error = await errorOf(rotateKey(world.rotation(freshJournal()), runtimeFor(world)));
    expect(error.code).toBe('CREATE_UNCERTAIN');
    expect(error.exitCode).toBe(3);
    expect(error.hint).toBe("A key of alice may exist whose secret never arrived. To find and delete it, run `aws-rekey recover --profile test`.");
    expect(world.journal?.phase).toBe('creating');
  });

  it('Ctrl-C while verification waits: INTERRUPTED at written, nothing undone', async () => {
    const world = new World().fail('verify', 1);
    const error = await errorOf(rotateKey(world.rotation(freshJournal()), interruptedAtSleep(world)));
    expect(error).toMatchObject({
      code: 'INTERRUPTED',
      message: "Interrupted after step 'written'. The new key of alice is kept in a recovery journal.",
      hint: 'To finish it, run `aws-rekey recover --profile test`.',
    });
    expect(world.journal?.phase).toBe('written');
    expect(world.keys.size).toBe(2);
    expect(world.delivered?.accessKeyId).toBe(NEW1);
  });

  it('Ctrl-C as the new key turns out wrong: still rolled back (a failure is not an interruption)', async () => {
    const world = new World();
    const rotation = world.rotation(freshJournal());
    rotation.gateway = {
      ...rotation.gateway,
      getCallerIdentity: async () => {
        world.controller.abort();
        throw new RekeyError('VERIFY_WRONG_IDENTITY', 'The new key signs in as someone else.');
      },
    };
    expect((await errorOf(rotateKey(rotation, runtimeFor(world)))).code).toBe('ROTATION_ROLLED_BACK');
    expect([...world.keys.keys()]).toEqual([OLD.accessKeyId]);
    expect(world.delivered).toEqual(OLD);
  });

  it('Ctrl-C as the retirement is refused: RETIRE_FAILED, the journal kept at verified', async () => {
    const world = new World().fail('update', Infinity, new AwsError('ACCESS_DENIED', 'iam:UpdateAccessKey', 'AccessDenied', 'denied'));
    const rotation = world.rotation(freshJournal());
    const iam = rotation.gateway.iam;
    rotation.gateway = {
      ...rotation.gateway,
      iam: (credentials) => {
        const api = iam(credentials);
        return { ...api, updateAccessKey: (...args) => (world.controller.abort(), api.updateAccessKey(...args)) };
      },
    };
    expect((await errorOf(rotateKey(rotation, runtimeFor(world)))).code).toBe('RETIRE_FAILED');
    expect(world.journal?.phase).toBe('verified');
  });

  it('Ctrl-C while the retirement waits for the new key: INTERRUPTED at verified, the old key still active', async () => {
    const world = new World().fail('update', 1, unknownKey());
    const rt = interruptedAtSleep(world);
    // Verification needs one success only: no pause before the retirement's.
    const rotation = { ...world.rotation(freshJournal()), verify: { timeoutMs: 5_000, successes: 1, successIntervalMs: 100, initialDelayMs: 100, maxDelayMs: 1_000 } };
    const error = await errorOf(rotateKey(rotation, rt));
    expect(error).toMatchObject({ code: 'INTERRUPTED', message: "Interrupted after step 'verified'. The new key of alice is kept in a recovery journal." });
    expect(world.journal?.phase).toBe('verified');
    expect(world.keys.get(OLD.accessKeyId)?.status).toBe('Active');
  });
});

describe('resumeRotation: what it records', () => {
  async function leftAt(op: Op, journal = freshJournal()): Promise<{ world: World; left: LifecycleJournal }> {
    const world = new World();
    world.abortAfter = op;
    await outcomeOf(rotateKey(world.rotation(journal), runtimeFor(world)));
    world.abortAfter = undefined;
    world.controller = new AbortController();
    world.calls = [];
    return { world, left: structuredClone(world.journal!) };
  }

  it('written: inspected, delivered again, verified, retired; the journal moves to verified only', async () => {
    const { world, left } = await leftAt('save-written');
    const rt = runtimeFor(world);
    const resumed = await resumeRotation(world.rotation(left), rt);
    expect(resumed).toEqual({ outcome: 'finished', rotation: { status: 'rotated', newKey: { accessKeyId: NEW1, secretAccessKey: 'new-secret-1' }, receipt: { detail: `wrote ${NEW1}`, destination: { kind: 'stdout' } } } });
    expect(stepsOf(rt)[0]).toEqual(['inspect', 'done', '2 keys']);
    expect(world.calls.filter((c) => c.startsWith('save-'))).toEqual(['save-verified']);
    expect(world.calls).toContain('verify');
  });

  it('created (the delivery undone, the key kept): delivered, then the journal moves to written and verified', async () => {
    const world = new World().fail('verify').fail('delete');
    await outcomeOf(rotateKey(world.rotation(freshJournal()), runtimeFor(world)));
    const left = structuredClone(world.journal!);
    expect(left.phase).toBe('created');
    world.failures.clear();
    world.calls = [];
    const resumed = await resumeRotation(world.rotation(left), runtimeFor(world));
    expect(resumed.outcome).toBe('finished');
    expect(world.calls.filter((c) => c.startsWith('save-'))).toEqual(['save-written', 'save-verified']);
  });

  it('verified: not verified again', async () => {
    const { world, left } = await leftAt('save-verified');
    await resumeRotation(world.rotation(left), runtimeFor(world));
    expect(world.calls).not.toContain('verify');
    expect(world.keys.get(OLD.accessKeyId)?.status).toBe('Inactive');
  });

  it.each([
    ['already inactive', 'deactivate', (w: World): void => void (w.keys.get(OLD.accessKeyId)!.status = 'Inactive'), 'the old key AKIA…OLD1 is already inactive'],
    ['already deleted', 'deactivate', (w: World): void => void w.keys.delete(OLD.accessKeyId), 'the old key AKIA…OLD1 is already deleted'],
    ['already deleted (--delete)', 'delete', (w: World): void => void w.keys.delete(OLD.accessKeyId), 'the old key AKIA…OLD1 is already deleted'],
  ] as const)('the old key is %s: retirement skipped, said so, the journal cleared', async (_name, retire, change, detail) => {
    const { world, left } = await leftAt('save-verified', { ...freshJournal(), retire });
    change(world);
    const rt = runtimeFor(world);
    expect((await resumeRotation(world.rotation(left), rt)).outcome).toBe('finished');
    expect(stepsOf(rt).at(-1)).toEqual(['retire', 'skipped', detail]);
    expect(world.calls.filter((c) => c === 'update' || c === 'delete')).toEqual([]);
    expect(world.journal).toBeUndefined();
  });

  it('--delete, and the old key only inactive: it is deleted', async () => {
    const { world, left } = await leftAt('save-verified', { ...freshJournal(), retire: 'delete' });
    world.keys.get(OLD.accessKeyId)!.status = 'Inactive';
    expect((await resumeRotation(world.rotation(left), runtimeFor(world))).outcome).toBe('finished');
    expect([...world.keys.keys()]).toEqual([NEW1]);
  });

  it('creating, and no key was made: said so, nothing deleted', async () => {
    const world = new World();
    world.journal = freshJournal();
    const rt = runtimeFor(world);
    expect(await resumeRotation(world.rotation(freshJournal()), rt)).toEqual({ outcome: 'rolled-back', deletedOrphans: [] });
    expect(stepsOf(rt)).toEqual([
      ['inspect', 'done', '1 key'],
      ['orphans', 'done', 'no key was created'],
    ]);
    expect(world.journal).toBeUndefined();
  });

  it('creating, and keys were made: deleted, said so', async () => {
    const world = new World();
    world.newKey();
    world.newKey();
    const rt = runtimeFor(world);
    await resumeRotation(world.rotation(freshJournal()), rt);
    expect(stepsOf(rt).at(-1)).toEqual(['orphans', 'done', 'deleted AKIA…NEW1, AKIA…NEW2 (created, secret never received)']);
  });

  it('the new key is gone and the delivery cannot be undone: ROLLBACK_INCOMPLETE says why it rolled back', async () => {
    const { world, left } = await leftAt('save-written');
    world.keys.delete(NEW1);
    world.fail('undo');
    const error = await errorOf(resumeRotation(world.rotation(left), runtimeFor(world)));
    expect(error.code).toBe('ROLLBACK_INCOMPLETE');
    expect(error.message).toMatch(/^The new key never worked, so the rotation was undone \(the new key no longer exists in IAM\), but putting the old key back/);
  });

  it('an error other than a rollback is thrown as it is, the journal kept', async () => {
    const { world, left } = await leftAt('save-verified');
    world.fail('update');
    const error = await errorOf(resumeRotation(world.rotation(left), runtimeFor(world)));
    expect(error.code).toBe('RETIRE_FAILED');
    expect(world.journal?.phase).toBe('verified');
  });
});
