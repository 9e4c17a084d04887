import { afterEach, describe, expect, it, vi } from 'vitest';
import type { IamApi, NewAccessKey } from '../../src/aws/gateway.js';
import type { AccessKeyInfo } from '../../src/core/types.js';
import { AwsError, RekeyError } from '../../src/errors.js';
import { createKeyOnce, deleteKeyIfPresent, deleteOrphans, deleteOtherKey } from '../../src/rotation/key-steps.js';
import { createRuntime } from '../../src/rotation/runtime.js';
import type { Timing } from '../../src/rotation/timing.js';

/** The IAM steps on keys: CreateAccessKey made exactly once whatever its answer, orphans cleaned up. */

const OLD = 'AKIAOLDOLDOLDOLDOLD1';
const lost = () => new AwsError('NETWORK', 'iam:CreateAccessKey', 'ECONNRESET', 'socket hang up');
const throttled = () => new AwsError('THROTTLED', 'iam:CreateAccessKey', 'Throttling', 'Rate exceeded');
const serverFault = () => new AwsError('SERVICE_FAILURE', 'iam:CreateAccessKey', 'ServiceFailure', 'internal error');

/**
 * IAM for one user: `create` answers from a script — 'ok', or an error thrown after (lost: the key was made)
 * or instead of (refused) making the key.
 */
class FakeIam {
  keys: string[] = [OLD];
  created = 0;
  calls: string[] = [];
  listFails = false;

  constructor(private readonly script: Array<'ok' | 'lost' | 'lost-nothing-made' | 'throttled' | 'fault' | 'denied'>) {}

  api(): IamApi {
    return {
      listAccessKeys: async () => {
        this.calls.push('list');
        if (this.listFails) throw new AwsError('SERVICE_FAILURE', 'iam:ListAccessKeys', 'ServiceFailure', 'list failed');
        return this.keys.map((accessKeyId): AccessKeyInfo => ({ accessKeyId, status: 'Active' }));
      },
      listOwnAccessKeys: () => Promise.reject(new Error('not used')),
      getAccessKeyLastUsed: () => Promise.reject(new Error('not used')),
      createAccessKey: async (): Promise<NewAccessKey> => {
        const answer = this.script[this.calls.filter((c) => c === 'create').length] ?? 'ok';
        this.calls.push('create');
        if (answer === 'throttled') throw throttled();
        if (answer === 'denied') throw new AwsError('ACCESS_DENIED', 'iam:CreateAccessKey', 'AccessDenied', 'denied');
        if (answer === 'lost-nothing-made') throw lost();
        this.created += 1;
        const accessKeyId = `AKIANEWNEWNEWNEWNEW${this.created}`;
        this.keys.push(accessKeyId);
        if (answer === 'lost') throw lost();
        if (answer === 'fault') throw serverFault();
        return { accessKeyId, secretAccessKey: `secret-${this.created}` };
      },
      updateAccessKey: () => Promise.reject(new Error('not used')),
      deleteAccessKey: async (_user, id) => {
        this.calls.push(`delete ${id}`);
        this.keys = this.keys.filter((k) => k !== id);
      },
    };
  }
}

function fakeTiming(): Timing & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return { slept, now: () => now, sleep: async (ms) => void (slept.push(ms), (now += ms)) };
}

function runtime() {
  const timing = fakeTiming();
  return { ...createRuntime({ timing }), timing };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createKeyOnce', () => {
  it('an answered call: one key, no listing', async () => {
    const iam = new FakeIam(['ok']);
    expect(await createKeyOnce(iam.api(), 'alice', [OLD], runtime())).toEqual({ accessKeyId: 'AKIANEWNEWNEWNEWNEW1', secretAccessKey: 'secret-1' });
    expect(iam.calls).toEqual(['create']);
  });

  it('throttled: tried again after growing, jittered pauses (nothing was created)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const iam = new FakeIam(['throttled', 'throttled', 'ok']);
    const rt = runtime();
    expect((await createKeyOnce(iam.api(), 'alice', [OLD], rt)).accessKeyId).toBe('AKIANEWNEWNEWNEWNEW1');
    expect(iam.calls).toEqual(['create', 'create', 'create']);
    // 500 ms × 2^(n-1) × a factor between 0.5 and 1 (0.75 here).
    expect(rt.timing.slept).toEqual([375, 750]);
  });

  it('throttled three times: the throttling error, after three calls', async () => {
    const iam = new FakeIam(['throttled', 'throttled', 'throttled', 'ok']);
    await expect(createKeyOnce(iam.api(), 'alice', [OLD], runtime())).rejects.toMatchObject({ awsCode: 'Throttling' });
    expect(iam.calls).toEqual(['create', 'create', 'create']);
  });

  it('throttled with no clock to wait on: not tried again', async () => {
    const iam = new FakeIam(['throttled', 'ok']);
    await expect(createKeyOnce(iam.api(), 'alice', [OLD])).rejects.toMatchObject({ awsCode: 'Throttling' });
    expect(iam.calls).toEqual(['create']);
  });

  it('refused: thrown at once, nothing listed', async () => {
    const iam = new FakeIam(['denied']);
    await expect(createKeyOnce(iam.api(), 'alice', [OLD], runtime())).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    expect(iam.calls).toEqual(['create']);
  });

  it.each([
    ['a lost answer', 'lost'],
    ['a 5xx', 'fault'],
  ] as const)('%s: the key it made is deleted, said so, and the call made once more', async (_name, fault) => {
    const iam = new FakeIam([fault, 'ok']);
    const rt = runtime();
    expect((await createKeyOnce(iam.api(), 'alice', [OLD], rt)).accessKeyId).toBe('AKIANEWNEWNEWNEWNEW2');
    expect(iam.calls).toEqual(['create', 'list', 'delete AKIANEWNEWNEWNEWNEW1', 'create']);
    expect(iam.keys).toEqual([OLD, 'AKIANEWNEWNEWNEWNEW2']);
    expect(rt.steps.records.map((r) => [r.step, r.detail])).toEqual([['orphans', 'deleted AKIA…NEW1: created, but its secret never arrived']]);
  });

  it('every key that appeared is deleted and named in one line', async () => {
    const iam = new FakeIam(['lost', 'ok']);
    // A user with no key before: one made by an earlier run whose answer was lost too.
    iam.keys = ['AKIAEARLIEREARLIER01'];
    const rt = runtime();
    await createKeyOnce(iam.api(), 'alice', [], rt);
    expect(rt.steps.records.map((r) => r.detail)).toEqual(['deleted AKIA…ER01, AKIA…NEW1: created, but its secret never arrived']);
  });

  it('a lost answer that made nothing: nothing to delete, nothing recorded', async () => {
    const iam = new FakeIam(['lost-nothing-made', 'ok']);
    const rt = runtime();
    expect((await createKeyOnce(iam.api(), 'alice', [OLD], rt)).accessKeyId).toBe('AKIANEWNEWNEWNEWNEW1');
    expect(iam.calls).toEqual(['create', 'list', 'create']);
    expect(rt.steps.records).toEqual([]);
  });

  it('two lost answers: CREATE_FAILED, every key it made deleted again', async () => {
    const iam = new FakeIam(['lost', 'lost', 'ok']);
    const error = await createKeyOnce(iam.api(), 'alice', [OLD], runtime()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RekeyError);
    expect(error).toMatchObject({
      code: 'CREATE_FAILED',
      message: 'iam:CreateAccessKey failed twice (socket hang up); the keys it created (AKIA…NEW1, AKIA…NEW2) were deleted again. Nothing was changed.',
      hint: 'The old key is still active and in the file. Run aws-rekey again in a moment.',
    });
    expect(iam.keys).toEqual([OLD]);
    expect(iam.calls.filter((c) => c === 'create')).toHaveLength(2);
  });

  it('two lost answers, one of which made a key: CREATE_FAILED names that one key, in the singular', async () => {
    const iam = new FakeIam(['lost', 'lost-nothing-made']);
    await expect(createKeyOnce(iam.api(), 'alice', [OLD], runtime())).rejects.toMatchObject({
      code: 'CREATE_FAILED',
      message: 'iam:CreateAccessKey failed twice (socket hang up); the key it created (AKIA…NEW1) was deleted again. Nothing was changed.',
    });
    expect(iam.keys).toEqual([OLD]);
  });

  it('two lost answers that made nothing: CREATE_FAILED says no key was left behind', async () => {
    const iam = new FakeIam(['lost-nothing-made', 'lost-nothing-made']);
    await expect(createKeyOnce(iam.api(), 'alice', [OLD], runtime())).rejects.toMatchObject({
      code: 'CREATE_FAILED',
      message: 'iam:CreateAccessKey failed twice (socket hang up); no key was left behind. Nothing was changed.',
    });
  });

  it('a lost answer, and the keys cannot be listed: CREATE_UNCERTAIN (exit 3), nothing deleted', async () => {
    const iam = new FakeIam(['lost']);
    iam.listFails = true;
    await expect(createKeyOnce(iam.api(), 'alice', [OLD], runtime())).rejects.toMatchObject({
      code: 'CREATE_UNCERTAIN',
      exitCode: 3,
      message: 'iam:CreateAccessKey got no usable answer (socket hang up), and the check for a key it may have created failed too: list failed',
      hint: 'A key of alice may exist whose secret never arrived. Run aws-rekey again to find and delete it.',
    });
    expect(iam.keys).toEqual([OLD, 'AKIANEWNEWNEWNEWNEW1']);
  });
});

describe('deleteOrphans / deleteKeyIfPresent / deleteOtherKey', () => {
  it('deletes the keys that appeared since, except those to keep', async () => {
    const iam = new FakeIam([]);
    iam.keys = [OLD, 'AKIANEW1', 'AKIANEW2'];
    expect(await deleteOrphans(iam.api(), 'alice', [OLD], ['AKIANEW2'])).toEqual(['AKIANEW1']);
    expect(iam.keys).toEqual([OLD, 'AKIANEW2']);
  });

  it.each(['NoSuchEntity', 'NoSuchEntityException'])('a key already gone (%s) counts as deleted', async (awsCode) => {
    const iam = { deleteAccessKey: () => Promise.reject(new AwsError('NO_SUCH_ENTITY', 'iam:DeleteAccessKey', awsCode, 'gone')) } as unknown as IamApi;
    await expect(deleteKeyIfPresent(iam, 'alice', 'AKIAGONE')).resolves.toBeUndefined();
  });

  it('another failure to delete is thrown', async () => {
    const iam = { deleteAccessKey: () => Promise.reject(new AwsError('ACCESS_DENIED', 'iam:DeleteAccessKey', 'AccessDenied', 'denied')) } as unknown as IamApi;
    await expect(deleteKeyIfPresent(iam, 'alice', 'AKIAX')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
  });

  it('making room: the other key is deleted and the step says which; no other key, no call', async () => {
    const iam = new FakeIam([]);
    iam.keys = [OLD, 'AKIAOTHEROTHEROTHER1'];
    const rt = runtime();
    expect(await deleteOtherKey(iam.api(), 'alice', { accessKeyId: 'AKIAOTHEROTHEROTHER1', status: 'Inactive' }, rt)).toBe('AKIAOTHEROTHEROTHER1');
    expect(iam.keys).toEqual([OLD]);
    expect(rt.steps.records.map((r) => [r.step, r.detail])).toEqual([['delete-other', 'deleted inactive key AKIA…HER1']]);
    expect(await deleteOtherKey(iam.api(), 'alice', undefined, rt)).toBeUndefined();
    expect(iam.calls).toEqual(['delete AKIAOTHEROTHEROTHER1']);
  });
});
