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

  it.each([
    { name: 'active', extra: { status: 'Active' as const }, detail: 'it is active' },
    { name: 'in one profile', extra: { profiles: ['credentials:work'] }, detail: 'it is still in profile credentials:work' },
    { name: 'in two profiles', extra: { profiles: ['credentials:work', 'config:ci'] }, detail: 'it is still in profiles credentials:work, config:ci' },
    { name: 'used 10 days ago', extra: { lastUsed: { date: daysAgo(10) } }, detail: 'last used 10 days ago (--older-than 30)' },
    { name: 'used yesterday', extra: { lastUsed: { date: daysAgo(1) } }, detail: 'last used 1 day ago (--older-than 30)' },
    { name: 'never used, created 5 days ago', extra: { createDate: daysAgo(5) }, detail: 'created, never used, 5 days ago (--older-than 30)' },
    { name: 'age unknown', extra: { createDate: undefined }, detail: 'its age is unknown' },
  ])('why a key stays, in words: $name', ({ extra, detail }) => {
    expect(planPrune([key('AKIAAAAAAAAAAAAAAAA1', extra)], { now: NOW, olderThanDays: 30 }).keep.map((k) => k.detail)).toEqual([detail]);
  });

  it('--older-than N takes a key last used exactly N days ago, not one used N-1 days ago', () => {
    const keys = [key('AKIAAAAAAAAAAAAAAAA1', { lastUsed: { date: daysAgo(30) } }), key('AKIAAAAAAAAAAAAAAAA2', { lastUsed: { date: daysAgo(29) } })];
    const plan = planPrune(keys, { now: NOW, olderThanDays: 30 });
    expect(plan.remove.map((k) => k.accessKeyId)).toEqual(['AKIAAAAAAAAAAAAAAAA1']);
    expect(plan.keep.map((k) => k.key.accessKeyId)).toEqual(['AKIAAAAAAAAAAAAAAAA2']);
  });

  it('--key: each refusal says why and what to do instead', () => {
    const keys = [key('AKIAACTIVE0000000001', { status: 'Active' }), key('AKIAHELD000000000002', { profiles: ['credentials:work'] }), key('AKIARECENT0000000003', { lastUsed: { date: daysAgo(2) } })];
    const refusal = (keyId: string, olderThanDays?: number): string => {
      try {
        planPrune(keys, { now: NOW, keyId, olderThanDays });
      } catch (error) {
        return `${(error as Error).message} | ${(error as { hint?: string }).hint}`;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal('AKIAACTIVE0000000001')).toBe('AKIA…0001 cannot be pruned: it is active. | prune deletes only inactive keys. To retire an active key, rotate it (aws-rekey rotate) or deactivate it first.');
    expect(refusal('AKIAHELD000000000002')).toBe(
      'AKIA…0002 cannot be pruned: it is still in profile credentials:work. | A profile still holds it, so deleting it would break that profile: rotate the profile first (it then gets the new key).',
    );
    expect(refusal('AKIARECENT0000000003', 7)).toBe('AKIA…0003 cannot be pruned: last used 2 days ago (--older-than 7). | Lower --older-than, or wait.');
    expect(refusal('AKIANOPE000000000009')).toBe('The user has no access key AKIA…0009. | Run aws-rekey keys to list the keys, then name one with --key.');
  });

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
