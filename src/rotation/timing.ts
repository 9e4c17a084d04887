import { InterruptedError } from '../errors.js';

/** The clock of a run: tests and benchmarks pass their own, so that waits cost nothing there. */
export interface Timing {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export const realTiming: Timing = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A sleep that ends early (rejecting) when the signal fires, so Ctrl-C does not wait out a backoff. */
export function abortableTiming(timing: Timing, signal?: AbortSignal): Timing {
  if (!signal) return timing;
  return {
    now: timing.now,
    sleep: (ms) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(new InterruptedError('Interrupted.'));
        const onAbort = () => {
          clearTimeout(timer);
          reject(new InterruptedError('Interrupted.'));
        };
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
  };
}
