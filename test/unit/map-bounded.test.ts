import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../src/core/map-bounded.js';

describe('mapBounded', () => {
  it('keeps the order of the items whatever order the calls finish in, with at most `limit` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapBounded([30, 10, 20, 0], 2, async (ms, index) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, ms));
      inFlight -= 1;
      return `${index}:${ms}`;
    });
    expect(results).toEqual(['0:30', '1:10', '2:20', '3:0']);
    expect(most).toBe(2);
  });

  it('the first failure stops new calls, lets the call in flight settle, and is thrown', async () => {
    const called: number[] = [];
    const settled: number[] = [];
    const run = mapBounded([1, 2, 3, 4], 2, async (item) => {
      called.push(item);
      if (item === 1) throw new Error('item 1 failed');
      await new Promise((resolve) => setTimeout(resolve, 20));
      settled.push(item);
      return item;
    });
    await expect(run).rejects.toThrow('item 1 failed');
    expect(called).toEqual([1, 2]);
    expect(settled).toEqual([2]);
  });

  it('no items, no calls', async () => {
    expect(await mapBounded([], 4, async () => 'never')).toEqual([]);
  });
});
