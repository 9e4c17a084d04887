import { describe, expect, it } from 'vitest';
import { countByAction, criticalPath, fileStep, phaseBreakdown, stats, unionMs, type Timeline } from '../../bench/lib.js';
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

describe('phaseBreakdown: a run cut into phases that add up to its wall time', () => {
  it('union of intervals counts overlaps once', () => {
    expect(unionMs([])).toBe(0);
    expect(unionMs([[0, 10], [5, 15], [20, 25], [21, 22], [30, 30]])).toBe(20);
  });

  it('start, load (module files included), requests, file calls outside requests, computation, exit', () => {
    const timeline: Timeline = {
      origin: 1005,
      bootstrapComplete: 1030,
      exit: 1200,
      events: [
        { kind: 'fs', name: 'readFile', path: '/x/dist/bundle/main.js', start: 1050, end: 1060 },
        { kind: 'fs', name: 'readFile', path: '/home/a/.aws/credentials', start: 1100, end: 1104 },
        { kind: 'request', name: 'POST', start: 1110, end: 1141 },
        { kind: 'fs', name: 'handle.sync', start: 1150, end: 1160 },
        { kind: 'fs', name: 'handle.sync', start: 1170, end: 1172 },
        { kind: 'fs', name: 'stat', start: 1120, end: 1125 },
      ],
    };
    const { phases, fsByCall } = phaseBreakdown(1000, 1210, timeline, [request('GetCallerIdentity', 1112, 1140)]);
    expect(phases).toEqual({
      'process start': 30,
      'load (modules, compile, arguments)': 70,
      'requests (network + moto)': 28,
      'file system calls': 16,
      computation: 28,
      exit: 38,
    });
    expect(Object.values(phases).reduce((a, b) => a + b, 0)).toBe(210);
    expect(fsByCall['handle.sync']).toEqual({ calls: 2, ms: 12 });
  });

  it('each request in the order it started, and the file calls by the file they work on', () => {
    const timeline: Timeline = {
      origin: 0,
      bootstrapComplete: 10,
      exit: 100,
      events: [
        { kind: 'fs', name: 'readFile', path: '/h/.aws/credentials', start: 20, end: 22 },
        { kind: 'fs', name: 'open', path: '/h/.aws/aws-rekey/credentials-0123456789ab/.work.journal.json.aws-rekey-42-0a1b2c3d.tmp', start: 30, end: 31 },
        { kind: 'fs', name: 'rename', path: '/h/.aws/aws-rekey/credentials-0123456789ab/.work.journal.json.aws-rekey-42-0a1b2c3d.tmp', start: 31, end: 33 },
        { kind: 'fs', name: 'handle.sync', start: 40, end: 45 },
      ],
    };
    const log = [request('CreateAccessKey', 50, 60), request('GetCallerIdentity', 20, 30), request('ListAccessKeys', 21, 25), request('GetCallerIdentity', 61, 70)];
    const { requests, fsByFile } = phaseBreakdown(0, 110, timeline, log);
    expect(requests).toEqual({ '1. GetCallerIdentity': 10, '2. ListAccessKeys': 4, '3. CreateAccessKey': 10, '4. GetCallerIdentity': 9 });
    expect(fsByFile).toEqual({ 'credentials file': { calls: 1, ms: 2 }, 'journal (records folder)': { calls: 2, ms: 3 }, 'other (by handle)': { calls: 1, ms: 5 } });
  });

  it.each([
    ['/h/.aws/credentials', 'credentials file'],
    ['/h/.aws/.credentials.aws-rekey-7-deadbeef.tmp', 'credentials file'],
    ['/h/.aws/credentials.aws-rekey.bak', 'backup'],
    ['/h/.aws/.credentials.aws-rekey.bak.aws-rekey-7-deadbeef.tmp', 'backup'],
    ['/h/.aws/credentials.aws-rekey.lock', 'lock'],
    ['/h/.aws/aws-rekey', 'journal (records folder)'],
    ['/h/.aws/config', 'config file'],
    ['/etc/ssl/cert.pem', 'other'],
  ])('fileStep(%s) is %s', (path, step) => {
    expect(fileStep(path)).toBe(step);
  });
});
