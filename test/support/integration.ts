import { afterAll, beforeAll, beforeEach, expect, onTestFinished } from 'vitest';
import { makeHome, runCli, type CliRun, type MakeHomeOptions, type TempHome } from './cli.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

/*
 * What the integration test files share. Cleanups run when the test finishes, after its afterEach hooks.
 * Not for tests that run concurrently (test/integration/faults.test.ts): they clean up through their context.
 */

/** One successful check of a new key instead of three in a row: moto knows a key as soon as it exists. */
export const FAST = ['--verify-successes', '1'];

/** makeHome, removed when the test finishes. */
export async function tempHome(options: MakeHomeOptions = {}): Promise<TempHome> {
  const home = await makeHome(options);
  onTestFinished(() => home.cleanup());
  return home;
}

/** A fault proxy of the test's own, stopped when the test finishes. */
export async function tempFaultProxy(target: string): Promise<FaultProxy> {
  const proxy = await startFaultProxy(target);
  onTestFinished(() => proxy.stop());
  return proxy;
}

/** One fault proxy for every test of a file, with no rules and an empty log at the start of each test. */
export function sharedFaultProxy(target: string): Pick<FaultProxy, 'endpoint' | 'log' | 'setRules'> {
  let proxy: FaultProxy | undefined;
  const started = (): FaultProxy => {
    if (!proxy) throw new Error('The shared fault proxy starts in beforeAll: use it inside tests.');
    return proxy;
  };
  beforeAll(async () => {
    proxy = await startFaultProxy(target);
  });
  afterAll(async () => {
    await proxy?.stop();
  });
  beforeEach(() => {
    started().setRules([]);
    started().log.splice(0);
  });
  return {
    get endpoint() {
      return started().endpoint;
    },
    get log() {
      return started().log;
    },
    setRules: (rules) => started().setRules(rules),
  };
}

/** Runs the CLI and expects success, showing its stderr when it fails. */
export async function succeed(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const run = await runCli(args, env);
  expect(run.code, run.stderr).toBe(0);
  return run;
}
