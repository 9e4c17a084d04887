import * as FsPromises from 'node:fs/promises';
import type * as LocalFs from '../../src/credentials/local-fs.js';

/**
 * Races made on purpose, for the tests of code that another program (or another run) can overtake between two
 * file calls. A test file mocks the credentials code's file calls (src/credentials/local-fs.ts) with `racedFs`,
 * then sets a race with `raceBefore`:
 *
 *   vi.mock('../../src/credentials/local-fs.js', async (importOriginal) => (await import('../support/races.js')).racedFs(await importOriginal()));
 *
 * What the other program does runs with node:fs/promises itself; only types come from local-fs here, which is
 * being mocked when the mock's factory imports this file.
 */

type Fs = typeof FsPromises;
type Local = typeof LocalFs;
type RacedCall = 'readFile' | 'rename' | 'open' | 'mkdir' | 'readdir' | 'readlink';
type AnyCall = (...args: unknown[]) => Promise<unknown>;

interface Race {
  call: RacedCall;
  when: (...args: unknown[]) => boolean;
  before: (real: Fs, ...args: unknown[]) => Promise<unknown>;
}

const pending: Race[] = [];

/**
 * Once, before the next `call` whose arguments `when` accepts, runs `before` with the real module (what the
 * other program does in the meantime); the call itself runs after it, unless `before` throws in its place.
 */
export function raceBefore<C extends RacedCall>(
  call: C,
  before: (real: Fs, ...args: Parameters<Local[C]>) => Promise<unknown>,
  when: (...args: Parameters<Local[C]>) => boolean = () => true,
): void {
  pending.push({ call, before, when } as unknown as Race);
}

/** How many races set are still waiting for their call: 0 once each has happened. */
export function pendingRaces(): number {
  return pending.length;
}

/** Forgets the races that never happened (after each test). */
export function clearRaces(): void {
  pending.length = 0;
}

/** local-fs whose racy calls run the races set: the module a race test file mocks local-fs with. */
export function racedFs(real: Local): Local {
  return {
    ...real,
    readFile: raced(real, 'readFile'),
    rename: raced(real, 'rename'),
    open: raced(real, 'open'),
    mkdir: raced(real, 'mkdir'),
    readdir: raced(real, 'readdir'),
    readlink: raced(real, 'readlink'),
  };
}

function raced<C extends RacedCall>(real: Local, call: C): Local[C] {
  const realCall = real[call] as unknown as AnyCall;
  const racedCall: AnyCall = async (...args) => {
    const index = pending.findIndex((race) => race.call === call && race.when(...args));
    const [race] = index < 0 ? [] : pending.splice(index, 1);
    if (race) await race.before(FsPromises, ...args);
    return realCall(...args);
  };
  return racedCall as unknown as Local[C];
}
