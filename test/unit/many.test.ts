import { describe, expect, it } from 'vitest';
import { chainByUser, groupProfilesByKey, staticKeyProfiles, worstExitCode } from '../../src/core/many.js';
import { parseIni } from '../../src/credentials/ini.js';
import { mapBounded } from '../../src/core/map-bounded.js';
import { createMutex } from '../../src/rotation/runtime.js';

const FILE = `# keys
[a]
aws_access_key_id = AKIAAAAAAAAAAAAAAAA1
aws_secret_access_key = sa

[shares-a]
aws_access_key_id = AKIAAAAAAAAAAAAAAAA1
aws_secret_access_key = sa

[b]
aws_access_key_id = AKIABBBBBBBBBBBBBBB2
aws_secret_access_key = sb

[session]
aws_access_key_id = AKIASSSSSSSSSSSSSSS3
aws_secret_access_key = ss
aws_session_token = token

[asia]
aws_access_key_id = ASIAAAAAAAAAAAAAAAA4
aws_secret_access_key = sx

[half]
aws_access_key_id = AKIAHHHHHHHHHHHHHHH5

[settings-only]
region = eu-west-1
`;

describe('staticKeyProfiles', () => {
  it('lists profiles with a long-lived key pair, not sessions, ASIA keys or incomplete ones', () => {
    expect(staticKeyProfiles(parseIni(FILE))).toEqual(['a', 'shares-a', 'b']);
  });
});

describe('groupProfilesByKey', () => {
  const doc = parseIni(FILE);
  it('profiles sharing a key make one group', () => {
    expect(groupProfilesByKey(doc, ['a', 'b', 'shares-a'])).toEqual([
      { accessKeyId: 'AKIAAAAAAAAAAAAAAAA1', profiles: ['a', 'shares-a'] },
      { accessKeyId: 'AKIABBBBBBBBBBBBBBB2', profiles: ['b'] },
    ]);
  });
  it('a profile without a key is a group of its own (its rotation reports why)', () => {
    expect(groupProfilesByKey(doc, ['missing', 'settings-only', 'b'])).toEqual([
      { profiles: ['missing'] },
      { profiles: ['settings-only'] },
      { accessKeyId: 'AKIABBBBBBBBBBBBBBB2', profiles: ['b'] },
    ]);
  });
});

describe('chainByUser', () => {
  it('puts items of one user in one chain, in order; unknown users alone', () => {
    const items = [
      { id: 1, user: 'u1' },
      { id: 2, user: 'u2' },
      { id: 3, user: 'u1' },
      { id: 4, user: undefined },
      { id: 5, user: undefined },
    ];
    expect(chainByUser(items, (i) => i.user).map((chain) => chain.map((i) => i.id))).toEqual([[1, 3], [2], [4], [5]]);
  });
});

describe('worstExitCode', () => {
  const cases: Array<[number[], number]> = [
    [[0, 0], 0],
    [[0, 1], 1],
    [[0, 2], 1],
    [[1, 3, 0], 3],
    [[3, 130], 130],
    [[], 0],
  ];
  for (const [codes, expected] of cases) it(`${JSON.stringify(codes)} → ${expected}`, () => expect(worstExitCode(codes)).toBe(expected));
});

describe('createMutex', () => {
  it('runs edits one at a time, in call order, also after a failure', async () => {
    const serialize = createMutex();
    const events: string[] = [];
    const task = (name: string, ms: number, fail = false) =>
      serialize(async () => {
        events.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        events.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a', 20), task('b', 1, true), task('c', 5)]);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('mapBounded', () => {
  it('never runs more than the limit at once and keeps the order of results', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapBounded([30, 10, 20, 5, 15], 2, async (ms, i) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, ms));
      running -= 1;
      return i;
    });
    expect(results).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });
});
