import { describe, expect, it } from 'vitest';
import { countByAction, criticalPath, stats } from '../../bench/lib.js';
import type { RequestLogEntry } from '../support/fault-proxy.js';

const request = (action: string, startedAt: number, endedAt: number): RequestLogEntry => ({ action, accessKeyId: 'AKIA', params: {}, status: 200, startedAt, endedAt });

describe('criticalPath: the sequential round trips of a run', () => {
  it.each([
    { name: 'no requests', log: [], roundTrips: 0, networkMs: 0, actions: [] },
    { name: 'one after the other', log: [request('A', 0, 10), request('B', 10, 30), request('C', 31, 40)], roundTrips: 3, networkMs: 39, actions: ['A', 'B', 'C'] },
    {
      name: 'overlapping requests count once, the longer chain wins',
      log: [request('GetCallerIdentity', 0, 20), request('ListAccessKeys', 1, 8), request('GetAccessKeyLastUsed', 9, 15), request('Create', 21, 30)],
      roundTrips: 3,
      networkMs: 22,
      actions: ['ListAccessKeys', 'GetAccessKeyLastUsed', 'Create'],
    },
    { name: 'unanswered requests are left out', log: [request('A', 0, 10), request('B', 11, 0)], roundTrips: 1, networkMs: 10, actions: ['A'] },
  ])('$name', ({ log, roundTrips, networkMs, actions }) => {
    expect(criticalPath(log)).toEqual({ roundTrips, networkMs, actions });
  });
});

describe('stats and counts', () => {
  it('median of an odd and an even number of values, with min and max', () => {
    expect(stats([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, runs: 3 });
    expect(stats([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, runs: 4 });
    expect(() => stats([])).toThrow(/no measurements/);
  });

  it('counts requests per action', () => {
    expect(countByAction([request('B', 0, 1), request('A', 0, 1), request('B', 2, 3)])).toEqual({ A: 1, B: 2 });
  });
});
