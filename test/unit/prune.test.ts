import { describe, expect, it } from 'vitest';
import { nextCommand } from '../../src/core/next-command.js';
import { shellQuote } from '../../src/core/shell.js';
import { planPrune, type PruneKey } from '../../src/core/prune.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const daysAgo = (days: number): Date => new Date(NOW.getTime() - days * 86_400_000);
const key = (id: string, extra: Partial<PruneKey> = {}): PruneKey => ({ accessKeyId: id, status: 'Inactive', profiles: [], createDate: daysAgo(100), ...extra });

describe('planPrune', () => {
  const cases: Array<{ name: string; keys: PruneKey[]; olderThanDays?: number; remove: string[]; keep: Array<[string, string]> }> = [
    { name: 'an inactive key no profile holds goes', keys: [key('AKIAAAAAAAAAAAAAAAA1')], remove: ['AKIAAAAAAAAAAAAAAAA1'], keep: [] },
    { name: 'an active key stays', keys: [key('AKIAAAAAAAAAAAAAAAA1', { status: 'Active' })], remove: [], keep: [['AKIAAAAAAAAAAAAAAAA1', 'active']] },
    { name: 'an inactive key a profile holds stays', keys: [key('AKIAAAAAAAAAAAAAAAA1', { profiles: ['work'] })], remove: [], keep: [['AKIAAAAAAAAAAAAAAAA1', 'in-profile']] },
    { name: '--older-than: used 10 days ago stays', keys: [key('AKIAAAAAAAAAAAAAAAA1', { lastUsed: { date: daysAgo(10) } })], olderThanDays: 30, remove: [], keep: [['AKIAAAAAAAAAAAAAAAA1', 'recently-used']] },
    { name: '--older-than: used 40 days ago goes', keys: [key('AKIAAAAAAAAAAAAAAAA1', { lastUsed: { date: daysAgo(40) } })], olderThanDays: 30, remove: ['AKIAAAAAAAAAAAAAAAA1'], keep: [] },
    { name: '--older-than: never used counts from creation', keys: [key('AKIAAAAAAAAAAAAAAAA1', { createDate: daysAgo(5) })], olderThanDays: 30, remove: [], keep: [['AKIAAAAAAAAAAAAAAAA1', 'recently-used']] },
    { name: '--older-than: unknown age stays', keys: [key('AKIAAAAAAAAAAAAAAAA1', { createDate: undefined })], olderThanDays: 1, remove: [], keep: [['AKIAAAAAAAAAAAAAAAA1', 'recently-used']] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planPrune(c.keys, { now: NOW, olderThanDays: c.olderThanDays });
      expect(plan.remove.map((k) => k.accessKeyId)).toEqual(c.remove);
      expect(plan.keep.map((k) => [k.key.accessKeyId, k.reason])).toEqual(c.keep);
    });
  }

  it('--key: refuses an active, held or unknown key (usage error), takes an inactive one', () => {
    const keys = [key('AKIAACTIVE0000000001', { status: 'Active' }), key('AKIAHELD000000000002', { profiles: ['a', 'b'] }), key('AKIAFREE000000000003')];
    expect(() => planPrune(keys, { now: NOW, keyId: 'AKIAACTIVE0000000001' })).toThrowError(expect.objectContaining({ code: 'PRUNE_REFUSED', exitCode: 2, message: 'AKIA…0001 cannot be pruned: it is active.' }));
    expect(() => planPrune(keys, { now: NOW, keyId: 'AKIAHELD000000000002' })).toThrowError(/still in profiles a, b/);
    expect(() => planPrune(keys, { now: NOW, keyId: 'AKIANOPE000000000009' })).toThrowError(expect.objectContaining({ code: 'PRUNE_KEY_NOT_FOUND' }));
    expect(planPrune(keys, { now: NOW, keyId: 'AKIAFREE000000000003' }).remove.map((k) => k.accessKeyId)).toEqual(['AKIAFREE000000000003']);
  });
});

describe('next commands', () => {
  it.each([
    ['work', 'work'],
    ['my work', "'my work'"],
    ["it's", "'it'\\''s'"],
    ['a;b', "'a;b'"],
    ['', "''"],
    ['--profile', '--profile'],
  ])('shellQuote(%j) → %s', (input, quoted) => {
    expect(shellQuote(input)).toBe(quoted);
  });

  it('names the credentials file only when it is not the default one', () => {
    const home = { HOME: '/home/me' };
    expect(nextCommand(['prune', '--profile', 'a b'], home)).toBe("aws-rekey prune --profile 'a b'");
    expect(nextCommand(['prune'], { ...home, AWS_SHARED_CREDENTIALS_FILE: '/home/me/.aws/credentials' })).toBe('aws-rekey prune');
    expect(nextCommand(['prune'], { ...home, AWS_SHARED_CREDENTIALS_FILE: '/work/my creds' })).toBe("AWS_SHARED_CREDENTIALS_FILE='/work/my creds' aws-rekey prune");
  });
});
