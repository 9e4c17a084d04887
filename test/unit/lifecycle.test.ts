import { describe, expect, it } from 'vitest';
import type { CredentialsInput } from '../../src/aws/clients.js';
import type { AwsGateway, IamApi, NewAccessKey } from '../../src/aws/gateway.js';
import type { AccessKeyInfo } from '../../src/core/types.js';
import type { JournalPhase } from '../../src/credentials/journal.js';
import { AwsError, RekeyError } from '../../src/errors.js';
import type { Delivery, KeyPair } from '../../src/rotation/delivery.js';
import { resumeRotation, rotateKey, type JournalRecord, type LifecycleJournal, type Rotation } from '../../src/rotation/lifecycle.js';
import { createRuntime } from '../../src/rotation/runtime.js';
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
  calls: Op[] = [];
  /** Abort the signal after this operation succeeds. */
  abortAfter: Op | undefined;
  controller = new AbortController();
  private created = 0;

  fail(op: Op, times = Infinity): this {
    this.failures.set(op, times);
    return this;
  }

  step(op: Op): void {
    this.calls.push(op);
    const left = this.failures.get(op) ?? 0;
    if (left > 0) {
      this.failures.set(op, left - 1);
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
      listMfaDevices: () => Promise.resolve([]),
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
        this.journal = undefined;
      },
      resumeCommand: () => 'aws-rekey recover --profile test',
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
