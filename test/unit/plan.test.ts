import { describe, expect, it } from 'vitest';
import { describePlan, planRotation, type PlanOptions } from '../../src/core/plan.js';
import type { AccessKeyInfo } from '../../src/core/types.js';

const CURRENT = 'AKIACURRENT000000001';
const OTHER = 'AKIAOTHER00000000002';
const base: PlanOptions = { userName: 'alice', currentKeyId: CURRENT, profiles: ['work'], deleteOld: false };
const key = (accessKeyId: string, status: AccessKeyInfo['status'], lastUsed?: Date): AccessKeyInfo => ({
  accessKeyId,
  status,
  createDate: new Date('2026-01-01T00:00:00Z'),
  ...(lastUsed ? { lastUsed: { date: lastUsed, serviceName: 's3', region: 'eu-west-1' } } : {}),
});

describe('planRotation', () => {
  const cases: Array<{ name: string; keys: AccessKeyInfo[]; options?: Partial<PlanOptions>; steps?: string[]; error?: string }> = [
    { name: 'one key: create, write, verify, deactivate', keys: [key(CURRENT, 'Active')], steps: ['create', 'write', 'verify', 'retire:deactivate'] },
    { name: 'one key with --delete: delete the old key at the end', keys: [key(CURRENT, 'Active')], options: { deleteOld: true }, steps: ['create', 'write', 'verify', 'retire:delete'] },
    { name: 'inactive other key: deleted first', keys: [key(CURRENT, 'Active'), key(OTHER, 'Inactive')], steps: ['delete-other', 'create', 'write', 'verify', 'retire:deactivate'] },
    { name: 'active other key: refused', keys: [key(CURRENT, 'Active'), key(OTHER, 'Active', new Date('2026-11-20T00:00:00Z'))], error: 'OTHER_KEY_ACTIVE' },
    {
      name: 'active other key named by --delete-key: deleted first',
      keys: [key(CURRENT, 'Active'), key(OTHER, 'Active')],
      options: { allowDeleteKeyId: OTHER },
      steps: ['delete-other', 'create', 'write', 'verify', 'retire:deactivate'],
    },
    { name: '--delete-key naming the current key', keys: [key(CURRENT, 'Active'), key(OTHER, 'Active')], options: { allowDeleteKeyId: CURRENT }, error: 'USAGE' },
    { name: '--delete-key naming an unknown key', keys: [key(CURRENT, 'Active')], options: { allowDeleteKeyId: 'AKIAUNKNOWN000000003' }, error: 'USAGE' },
    { name: 'profile key not among the user keys', keys: [key(OTHER, 'Active')], error: 'KEY_NOT_FOUND' },
    { name: 'profile key inactive', keys: [key(CURRENT, 'Inactive')], error: 'KEY_INACTIVE' },
    { name: 'more keys than IAM allows', keys: [key(CURRENT, 'Active'), key(OTHER, 'Inactive'), key('AKIATHIRD00000000003', 'Inactive')], error: 'TOO_MANY_KEYS' },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const run = () => planRotation(c.keys, { ...base, ...c.options });
      if (c.error) {
        expect(run).toThrowError(expect.objectContaining({ code: c.error }));
        return;
      }
      const plan = run();
      expect(plan.steps.map((s) => (s.kind === 'retire' ? `retire:${s.action}` : s.kind))).toEqual(c.steps);
    });
  }

  it('names the active other key, its last use and the flag that allows deleting it', () => {
    const keys = [key(CURRENT, 'Active'), key(OTHER, 'Active', new Date('2026-11-20T00:00:00Z'))];
    try {
      planRotation(keys, base);
      expect.unreachable();
    } catch (error) {
      const e = error as { message: string; hint: string };
      expect(e.message).toContain('AKIA…0002');
      expect(e.message).toContain('last used 2026-11-20 by s3 in eu-west-1');
      expect(e.hint).toContain(`--delete-key ${OTHER}`);
    }
  });

  it('writes to every profile holding the key, and describes the plan with masked ids', () => {
    const plan = planRotation([key(CURRENT, 'Active'), key(OTHER, 'Inactive')], { ...base, profiles: ['work', 'alias'] });
    expect(plan.steps).toContainEqual({ kind: 'write', profiles: ['work', 'alias'] });
    const text = describePlan(plan).join('\n');
    expect(text).toContain('write it to profiles work, alias');
    expect(text).toContain('delete inactive key AKIA…0002 (never used)');
    expect(text).not.toContain(CURRENT);
  });
});
