import { describe, expect, it } from 'vitest';
import { describeNotDue, notDue } from '../../src/core/due.js';

const created = new Date('2026-01-01T12:00:00Z');
const key = { accessKeyId: 'AKIAAAAAAAAAAAAA1234', status: 'Active' as const, createDate: created };
const at = (iso: string) => ({ days: 90, now: new Date(iso) });

describe('notDue', () => {
  const cases: Array<{ name: string; now: string; due: boolean; ageDays?: number }> = [
    { name: 'just created', now: '2026-01-01T12:00:00Z', due: false, ageDays: 0 },
    { name: '89 days and 23 hours', now: '2026-04-01T11:00:00Z', due: false, ageDays: 89 },
    { name: 'exactly 90 days', now: '2026-04-01T12:00:00Z', due: true },
    { name: 'a year', now: '2027-01-01T12:00:00Z', due: true },
    { name: 'a clock behind IAM (created "in the future")', now: '2025-12-31T12:00:00Z', due: false, ageDays: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = notDue(key, at(c.now));
      if (c.due) expect(result).toBeUndefined();
      else expect(result).toEqual({ accessKeyId: key.accessKeyId, createdAt: created.toISOString(), ageDays: c.ageDays, ifOlderThan: 90, dueAt: '2026-04-01T12:00:00.000Z' });
    });
  }

  it('a key of unknown age, or no key, is due (the rotation decides what to do with it)', () => {
    expect(notDue({ accessKeyId: 'AKIAX', status: 'Active' }, at('2026-01-02T00:00:00Z'))).toBeUndefined();
    expect(notDue(undefined, at('2026-01-02T00:00:00Z'))).toBeUndefined();
  });

  it('one line with the date, the masked key, its age and the setting', () => {
    const waiting = notDue(key, at('2026-01-02T13:00:00Z'));
    expect(waiting && describeNotDue(waiting)).toBe('not due until 2026-04-01: key AKIA…1234 is 1 day old (--if-older-than 90)');
    const older = notDue(key, at('2026-01-13T13:00:00Z'));
    expect(older && describeNotDue(older)).toBe('not due until 2026-04-01: key AKIA…1234 is 12 days old (--if-older-than 90)');
  });
});
