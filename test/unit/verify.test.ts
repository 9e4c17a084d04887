import { describe, expect, it } from 'vitest';
import type { AwsGateway } from '../../src/aws/gateway.js';
import { AwsError } from '../../src/errors.js';
import type { Timing } from '../../src/rotation/timing.js';
import { retryWhilePropagating, verifyNewKey, type VerifyOptions } from '../../src/rotation/verify.js';

const ARN = 'arn:aws:iam::123456789012:user/alice';
const options: VerifyOptions = { timeoutMs: 10_000, successes: 3, successIntervalMs: 1_000, initialDelayMs: 1_000, maxDelayMs: 4_000 };

/** A clock that only moves when the code under test sleeps. */
function fakeTiming(start = 0): Timing & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return { slept, now: () => now, sleep: async (ms) => { slept.push(ms); now += ms; } };
}

const invalid = () => new AwsError('INVALID_CREDENTIALS', 'sts:GetCallerIdentity', 'InvalidClientTokenId', 'The security token included in the request is invalid.');

/** A gateway whose GetCallerIdentity answers from a script: 'ok', 'invalid', 'denied' or another ARN. */
function scriptedGateway(script: string[]): AwsGateway & { calls: number } {
  const gateway = {
    calls: 0,
    async getCallerIdentity() {
      const answer = script[Math.min(gateway.calls, script.length - 1)] ?? 'ok';
      gateway.calls += 1;
      if (answer === 'invalid') throw invalid();
      if (answer === 'denied') throw new AwsError('ACCESS_DENIED', 'sts:GetCallerIdentity', 'AccessDenied', 'denied');
      return { arn: answer === 'ok' ? ARN : answer, account: '123456789012', userId: 'AIDA' };
    },
  };
  return gateway as unknown as AwsGateway & { calls: number };
}

describe('verifyNewKey', () => {
  it.each([
    { name: 'accepted at once', script: ['ok'], calls: 3, slept: [1000, 1000] },
    { name: 'rejected twice while propagating, then accepted', script: ['invalid', 'invalid', 'ok'], calls: 5, slept: [1000, 1500, 1000, 1000] },
    { name: 'one success then a rejection starts the count again', script: ['ok', 'invalid', 'ok'], calls: 5, slept: [1000, 1000, 1000, 1000] },
  ])('$name', async ({ script, calls, slept }) => {
    const gateway = scriptedGateway(script);
    const timing = fakeTiming();
    const result = await verifyNewKey(gateway, { accessKeyId: 'AKIA', secretAccessKey: 's' }, ARN, options, timing);
    expect(gateway.calls).toBe(calls);
    expect(result.attempts).toBe(calls);
    expect(timing.slept).toEqual(slept);
  });

  it('gives up at the timeout when the key is never accepted', async () => {
    const gateway = scriptedGateway(['invalid']);
    const timing = fakeTiming();
    await expect(verifyNewKey(gateway, { accessKeyId: 'AKIA', secretAccessKey: 's' }, ARN, options, timing)).rejects.toMatchObject({
      code: 'VERIFY_TIMEOUT',
      message: expect.stringContaining('0 of 5 checks succeeded.'),
    });
    // It kept trying, with growing pauses, until the next pause would have crossed the deadline: not less.
    expect(timing.slept).toEqual([1000, 1500, 2250, 3375]);
    expect(gateway.calls).toBe(5);
    expect(timing.now()).toBeGreaterThan(options.timeoutMs - options.maxDelayMs);
    expect(timing.now()).toBeLessThanOrEqual(options.timeoutMs);
  });

  it('gives up at the timeout when the key starts working too late for enough successes', async () => {
    // Four rejections take 8.125 s; two successes follow; a third would come after the 10 s deadline.
    const gateway = scriptedGateway(['invalid', 'invalid', 'invalid', 'invalid', 'ok']);
    const timing = fakeTiming();
    // The message says how far it got: two checks succeeded, both at the end.
    await expect(verifyNewKey(gateway, { accessKeyId: 'AKIA', secretAccessKey: 's' }, ARN, options, timing)).rejects.toMatchObject({
      code: 'VERIFY_TIMEOUT',
      message: expect.stringContaining('3 times in a row within 10 s: 2 of 6 checks succeeded (the last 2 in a row).'),
    });
    expect(gateway.calls).toBe(6);
    expect(timing.slept).toEqual([1000, 1500, 2250, 3375, 1000]);
    expect(timing.now()).toBeLessThanOrEqual(options.timeoutMs);
  });

  it('the delay between rejections grows by half and stops at maxDelayMs', async () => {
    const gateway = scriptedGateway(['invalid', 'invalid', 'invalid', 'invalid', 'invalid', 'invalid', 'ok']);
    const timing = fakeTiming();
    await verifyNewKey(gateway, { accessKeyId: 'AKIA', secretAccessKey: 's' }, ARN, { ...options, timeoutMs: 60_000, successes: 1 }, timing);
    expect(timing.slept).toEqual([1000, 1500, 2250, 3375, 4000, 4000]);
  });

  it('fails at once when the key signs in as someone else', async () => {
    const gateway = scriptedGateway(['arn:aws:iam::123456789012:user/mallory']);
    await expect(verifyNewKey(gateway, { accessKeyId: 'AKIA', secretAccessKey: 's' }, ARN, options, fakeTiming())).rejects.toMatchObject({
      code: 'VERIFY_WRONG_IDENTITY',
      message: `The new key signs in as arn:aws:iam::123456789012:user/mallory, not ${ARN}.`,
    });
    expect(gateway.calls).toBe(1);
  });

  it('does not retry an error that is not propagation', async () => {
    const gateway = scriptedGateway(['denied']);
    await expect(verifyNewKey(gateway, { accessKeyId: 'AKIA', secretAccessKey: 's' }, ARN, options, fakeTiming())).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    expect(gateway.calls).toBe(1);
  });

  it('reports the attempts and the time it took, by the clock it was given', async () => {
    const result = await verifyNewKey(scriptedGateway(['invalid', 'ok']), { accessKeyId: 'AKIA', secretAccessKey: 's' }, ARN, options, fakeTiming(1_000_000));
    // 1 s after the rejection, then two pauses of 1 s between the three successes.
    expect(result).toEqual({ attempts: 4, elapsedMs: 3_000 });
  });

  it('a check due exactly at the deadline is still made (after a success, and after a rejection)', async () => {
    const afterSuccesses = await verifyNewKey(scriptedGateway(['ok']), { accessKeyId: 'AKIA', secretAccessKey: 's' }, ARN, { ...options, timeoutMs: 2_000 }, fakeTiming());
    expect(afterSuccesses.attempts).toBe(3);
    const afterRejection = await verifyNewKey(scriptedGateway(['invalid', 'ok']), { accessKeyId: 'AKIA', secretAccessKey: 's' }, ARN, { ...options, timeoutMs: 1_000, successes: 1 }, fakeTiming());
    expect(afterRejection.attempts).toBe(2);
  });

  it('the timeout message: how many checks, how many in a row, the last rejection, and a hint', async () => {
    const never = verifyNewKey(scriptedGateway(['invalid']), { accessKeyId: 'AKIA', secretAccessKey: 's' }, ARN, { ...options, timeoutMs: 500, successes: 1 }, fakeTiming());
    await expect(never).rejects.toMatchObject({
      code: 'VERIFY_TIMEOUT',
      message: 'AWS did not accept the new key once in a row within 1 s: 0 of 1 check succeeded. The last answer was: The security token included in the request is invalid.',
      hint: 'New keys usually work within seconds. Try again later with a longer --verify-timeout.',
    });
    // Accepted each time, but not often enough before the deadline: no rejection to quote.
    const tooFew = verifyNewKey(scriptedGateway(['ok']), { accessKeyId: 'AKIA', secretAccessKey: 's' }, ARN, { ...options, timeoutMs: 1_500 }, fakeTiming());
    await expect(tooFew).rejects.toMatchObject({ message: 'AWS did not accept the new key 3 times in a row within 2 s: 2 of 2 checks succeeded (the last 2 in a row).' });
  });

  it('needs only one success when asked for one', async () => {
    const gateway = scriptedGateway(['ok']);
    await verifyNewKey(gateway, { accessKeyId: 'AKIA', secretAccessKey: 's' }, ARN, { ...options, successes: 1 }, fakeTiming());
    expect(gateway.calls).toBe(1);
  });
});

describe('retryWhilePropagating', () => {
  it('retries InvalidClientTokenId until the call works', async () => {
    let calls = 0;
    const value = await retryWhilePropagating(async () => {
      calls += 1;
      if (calls < 3) throw invalid();
      return 'done';
    }, 10_000, fakeTiming());
    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  it('stops retrying after the time allowed', async () => {
    const timing = fakeTiming();
    let calls = 0;
    await expect(retryWhilePropagating(async () => { calls += 1; throw invalid(); }, 3_000, timing)).rejects.toMatchObject({ awsCode: 'InvalidClientTokenId' });
    // 0.5 s, then 1 s; the next pause (2 s) would end after the 3 s allowed.
    expect(timing.slept).toEqual([500, 1000]);
    expect(calls).toBe(3);
  });

  it('a retry due exactly at the deadline is made', async () => {
    let calls = 0;
    const value = await retryWhilePropagating(async () => {
      calls += 1;
      if (calls < 2) throw invalid();
      return 'done';
    }, 500, fakeTiming());
    expect(value).toBe('done');
  });

  it('does not retry another error', async () => {
    const timing = fakeTiming();
    let calls = 0;
    const denied = new AwsError('ACCESS_DENIED', 'iam:UpdateAccessKey', 'AccessDenied', 'denied');
    await expect(retryWhilePropagating(async () => { calls += 1; throw denied; }, 3_000, timing)).rejects.toBe(denied);
    expect(calls).toBe(1);
    expect(timing.slept).toEqual([]);
  });
});
