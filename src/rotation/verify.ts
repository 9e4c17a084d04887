import type { CredentialsInput } from '../aws/clients.js';
import { isInvalidCredentials, isTransientError } from '../aws/errors.js';
import type { AwsGateway } from '../aws/gateway.js';
import { RekeyError } from '../errors.js';
import type { Timing } from './timing.js';

export interface VerifyOptions {
  /** Give up after this long (the new key never worked). */
  timeoutMs: number;
  /** Consecutive successful calls needed: one success is not proof that every AWS endpoint knows the key. */
  successes: number;
  /** Pause between two successful calls. */
  successIntervalMs: number;
  /** First pause after a rejection; grows by half each time up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_VERIFY_OPTIONS: VerifyOptions = {
  timeoutMs: 30_000,
  successes: 3,
  successIntervalMs: 1_000,
  initialDelayMs: 1_000,
  maxDelayMs: 5_000,
};

export interface VerifyResult {
  attempts: number;
  elapsedMs: number;
}

/** A new key that AWS does not know yet answers InvalidClientTokenId (or SignatureDoesNotMatch) for a while. */
export function isPropagationError(error: unknown): boolean {
  return isInvalidCredentials(error) || isTransientError(error);
}

/**
 * Wait until `sts:GetCallerIdentity` signed with the new key answers with the expected ARN, `successes`
 * times in a row. Any other answer (a different user, AccessDenied) is not propagation: fail at once.
 */
export async function verifyNewKey(
  gateway: AwsGateway,
  credentials: CredentialsInput,
  expectedArn: string,
  options: VerifyOptions,
  timing: Timing,
): Promise<VerifyResult> {
  const start = timing.now();
  const deadline = start + options.timeoutMs;
  let attempts = 0;
  let succeeded = 0;
  let consecutive = 0;
  let delay = options.initialDelayMs;
  let lastError: unknown;
  for (;;) {
    attempts += 1;
    try {
      const identity = await gateway.getCallerIdentity(credentials);
      if (identity.arn !== expectedArn) {
        throw new RekeyError('VERIFY_WRONG_IDENTITY', `The new key signs in as ${identity.arn}, not ${expectedArn}.`);
      }
      succeeded += 1;
      consecutive += 1;
      if (consecutive >= options.successes) return { attempts, elapsedMs: timing.now() - start };
      if (timing.now() + options.successIntervalMs > deadline) break;
      await timing.sleep(options.successIntervalMs);
      continue;
    } catch (error) {
      if (!isPropagationError(error)) throw error;
      lastError = error;
      consecutive = 0;
    }
    if (timing.now() + delay > deadline) break;
    await timing.sleep(delay);
    delay = Math.min(Math.round(delay * 1.5), options.maxDelayMs);
  }
  const why = lastError instanceof Error ? ` The last answer was: ${lastError.message}` : '';
  throw new RekeyError(
    'VERIFY_TIMEOUT',
    `AWS did not accept the new key ${times(options.successes)} in a row within ${Math.round(options.timeoutMs / 1000)} s: ${succeeded} of ${attempts} ${attempts === 1 ? 'check' : 'checks'} succeeded${consecutive > 0 ? ` (the last ${consecutive} in a row)` : ''}.${why}`,
    { hint: 'New keys usually work within seconds. Try again later with a longer --verify-timeout.' },
  );
}

function times(count: number): string {
  return count === 1 ? 'once' : `${count} times`;
}

/**
 * Run `call` and retry it while it fails the way a freshly created key fails, until `timeoutMs` passes.
 * Used for the calls made with the new key right after verification.
 */
export async function retryWhilePropagating<T>(call: () => Promise<T>, timeoutMs: number, timing: Timing): Promise<T> {
  const deadline = timing.now() + timeoutMs;
  let delay = 500;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isInvalidCredentials(error) || timing.now() + delay > deadline) throw error;
      await timing.sleep(delay);
      delay = Math.min(delay * 2, 4_000);
    }
  }
}
