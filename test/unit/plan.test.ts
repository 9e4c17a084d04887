import { describe, expect, it } from 'vitest';
import { describeHolders, describePlan, planRotation, type PlanOptions } from '../../src/core/plan.js';
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

describe('planRotation: the refusals say exactly what is wrong and what to do', () => {
  const refusals: Array<{ name: string; keys: AccessKeyInfo[]; options?: Partial<PlanOptions>; code: string; message: string; hint: string }> = [
    {
      name: 'profile key not among the user keys',
      keys: [key(OTHER, 'Active')],
      code: 'KEY_NOT_FOUND',
      message: "The key AKIA…0001 of profile work is not one of IAM user alice's keys.",
      hint: 'It may have been deleted or belong to another user. Put a working key of this user in the profile (aws configure) and run aws-rekey again.',
    },
    {
      name: 'profile key not among the user keys, no profile named',
      keys: [key(OTHER, 'Active')],
      options: { profiles: [] },
      code: 'KEY_NOT_FOUND',
      message: "The key AKIA…0001 of profile ? is not one of IAM user alice's keys.",
      hint: 'It may have been deleted or belong to another user. Put a working key of this user in the profile (aws configure) and run aws-rekey again.',
    },
    {
      name: 'profile key inactive',
      keys: [key(CURRENT, 'Inactive')],
      code: 'KEY_INACTIVE',
      message: 'The key AKIA…0001 of profile work is inactive in IAM, so it cannot be the key that is replaced.',
      hint: "Reactivate it (aws iam update-access-key --status Active) or put the user's active key in the profile, then run aws-rekey again.",
    },
    {
      name: 'profile key inactive, no profile named',
      keys: [key(CURRENT, 'Inactive')],
      options: { profiles: [] },
      code: 'KEY_INACTIVE',
      message: 'The key AKIA…0001 of profile ? is inactive in IAM, so it cannot be the key that is replaced.',
      hint: "Reactivate it (aws iam update-access-key --status Active) or put the user's active key in the profile, then run aws-rekey again.",
    },
    {
      name: '--delete-key naming the current key',
      keys: [key(CURRENT, 'Active'), key(OTHER, 'Active')],
      options: { allowDeleteKeyId: CURRENT, listKeysCommand: "aws-rekey keys --profile 'my work'" },
      code: 'USAGE',
      message: '--delete-key AKIA…0001 cannot be used: it is the key being rotated (use --delete to delete it after the new key works).',
      hint: "Run `aws-rekey keys --profile 'my work'` to see the user's keys.",
    },
    {
      name: '--delete-key naming an unknown key, no command given for the hint',
      keys: [key(CURRENT, 'Active')],
      options: { allowDeleteKeyId: 'AKIAUNKNOWN000000003', profiles: [] },
      code: 'USAGE',
      message: '--delete-key AKIA…0003 cannot be used: it is not a key of user alice.',
      hint: "List the user's keys with aws-rekey keys.",
    },
    {
      name: 'more keys than IAM allows',
      keys: [key(CURRENT, 'Active'), key(OTHER, 'Inactive'), key('AKIATHIRD00000000003', 'Inactive')],
      code: 'TOO_MANY_KEYS',
      message: 'User alice has 3 access keys; IAM allows 2.',
      hint: 'Delete the keys that are not in use, then run aws-rekey again.',
    },
  ];
  for (const r of refusals) {
    it(r.name, () => {
      expect(() => planRotation(r.keys, { ...base, ...r.options })).toThrowError(expect.objectContaining({ code: r.code, message: r.message, hint: r.hint }));
    });
  }
});

describe('planRotation: the plan it returns', () => {
  it('keeps the profiles (a copy) and names the other key and the retire action', () => {
    const profiles = ['work', 'alias'];
    const other = key(OTHER, 'Inactive');
    const plan = planRotation([key(CURRENT, 'Active'), other], { ...base, profiles, deleteOld: true });
    expect(plan).toEqual({
      userName: 'alice',
      currentKeyId: CURRENT,
      profiles: ['work', 'alias'],
      configProfiles: [],
      otherKey: other,
      retire: 'delete',
      steps: [
        { kind: 'delete-other', key: other },
        { kind: 'create' },
        { kind: 'write', profiles: ['work', 'alias'] },
        { kind: 'verify' },
        { kind: 'retire', accessKeyId: CURRENT, action: 'delete' },
      ],
    });
    profiles.push('later');
    expect(plan.profiles).toEqual(['work', 'alias']);
  });
});

describe('describePlan', () => {
  const used = (serviceName: string, region: string): AccessKeyInfo => ({
    ...key(OTHER, 'Inactive'),
    lastUsed: { date: new Date('2026-11-20T10:00:00Z'), serviceName, region },
  });
  const cases: Array<{ name: string; other?: AccessKeyInfo; profiles?: string[]; deleteOld?: boolean; lines: string[] }> = [
    {
      name: 'one profile, deactivate',
      lines: ['create a new access key for alice', 'write it to profile work', 'check that AWS accepts the new key', 'deactivate the old key AKIA…0001'],
    },
    {
      name: 'two profiles, delete',
      profiles: ['work', 'alias'],
      deleteOld: true,
      lines: ['create a new access key for alice', 'write it to profiles work, alias', 'check that AWS accepts the new key', 'delete the old key AKIA…0001'],
    },
    { name: 'an other key used by a service in a region', other: used('s3', 'eu-west-1'), lines: ['delete inactive key AKIA…0002 (last used 2026-11-20 by s3 in eu-west-1) to make room'] },
    { name: "IAM's N/A for the service and region is left out", other: used('N/A', 'N/A'), lines: ['delete inactive key AKIA…0002 (last used 2026-11-20) to make room'] },
    { name: 'an empty service and region are left out', other: used('', ''), lines: ['delete inactive key AKIA…0002 (last used 2026-11-20) to make room'] },
    { name: 'a service without a region', other: used('sts', 'N/A'), lines: ['delete inactive key AKIA…0002 (last used 2026-11-20 by sts) to make room'] },
    { name: 'a region without a service', other: used('N/A', 'us-east-1'), lines: ['delete inactive key AKIA…0002 (last used 2026-11-20 in us-east-1) to make room'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const keys = [key(CURRENT, 'Active'), ...(c.other ? [c.other] : [])];
      const lines = describePlan(planRotation(keys, { ...base, profiles: c.profiles ?? ['work'], deleteOld: c.deleteOld ?? false }));
      if (c.other) expect(lines[0]).toBe(c.lines[0]);
      else expect(lines).toEqual(c.lines);
    });
  }
});

describe('describePlan: who holds what the plan retires (issue 9.2, 9.4)', () => {
  const files = { credentials: '/h/.aws/credentials', config: '/h/.aws/config' };
  const holders = { [OTHER]: { credentials: ['legacy'], config: ['ci'] } };

  it('names each file and profile the key is written to, and who holds the key it deactivates', () => {
    const plan = planRotation([key(CURRENT, 'Active')], { ...base, profiles: ['work', 'alias'], configProfiles: ['cfg'], files });
    expect(plan.configProfiles).toEqual(['cfg']);
    expect(describePlan(plan)).toEqual([
      'create a new access key for alice',
      'write it to profiles work, alias in /h/.aws/credentials and profile cfg in /h/.aws/config',
      'check that AWS accepts the new key',
      'deactivate the old key AKIA…0001, held by profiles work, alias in /h/.aws/credentials and profile cfg in /h/.aws/config (they get the new key)',
    ]);
  });

  it('a key only in the config file: the credentials file is not named', () => {
    const plan = planRotation([key(CURRENT, 'Active')], { ...base, profiles: [], configProfiles: ['cfg'], files, deleteOld: true });
    expect(describePlan(plan).slice(1)).toEqual([
      'write it to profile cfg in /h/.aws/config',
      'check that AWS accepts the new key',
      'delete the old key AKIA…0001, held by profile cfg in /h/.aws/config (it gets the new key)',
    ]);
  });

  it('the other key deleted to make room: its holders are named and get the new key too', () => {
    const plan = planRotation([key(CURRENT, 'Active'), key(OTHER, 'Inactive')], { ...base, holders, files });
    expect(plan.profiles).toEqual(['work', 'legacy']);
    expect(plan.configProfiles).toEqual(['ci']);
    expect(plan.otherKeyHolders).toEqual(holders[OTHER]);
    const lines = describePlan(plan);
    expect(lines[0]).toBe('delete inactive key AKIA…0002 (never used) to make room; profile legacy in /h/.aws/credentials and profile ci in /h/.aws/config hold it and get the new key instead');
    expect(lines[2]).toBe('write it to profiles work, legacy in /h/.aws/credentials and profile ci in /h/.aws/config');
  });

  it('--delete-key: the active other key and its one holder', () => {
    const plan = planRotation([key(CURRENT, 'Active'), key(OTHER, 'Active')], { ...base, allowDeleteKeyId: OTHER, holders: { [OTHER]: { credentials: [], config: ['ci'] } }, files });
    expect(describePlan(plan)[0]).toBe('delete active key AKIA…0002 (never used) to make room; profile ci in /h/.aws/config holds it and gets the new key instead');
  });

  it('an active other key is refused, naming who holds it', () => {
    expect(() => planRotation([key(CURRENT, 'Active'), key(OTHER, 'Active')], { ...base, holders, files })).toThrow(
      /AKIA…0002 \(never used\) \(profile legacy in \/h\/\.aws\/credentials and profile ci in \/h\/\.aws\/config hold it\) may be in use/,
    );
  });

  it('an active other key held by one profile: it "holds" it; held by none: no holders named', () => {
    expect(() => planRotation([key(CURRENT, 'Active'), key(OTHER, 'Active')], { ...base, holders: { [OTHER]: { credentials: [], config: ['ci'] } }, files })).toThrow(
      'User alice already has two active keys: AKIA…0002 (never used) (profile ci in /h/.aws/config holds it) may be in use somewhere, and a new key needs its slot.',
    );
    expect(() => planRotation([key(CURRENT, 'Active'), key(OTHER, 'Active')], { ...base, files })).toThrow(
      'User alice already has two active keys: AKIA…0002 (never used) may be in use somewhere, and a new key needs its slot.',
    );
  });

  it('no profile of the config file: the write names the credentials file alone', () => {
    expect(describePlan(planRotation([key(CURRENT, 'Active')], { ...base, files }))).toEqual([
      'create a new access key for alice',
      'write it to profile work in /h/.aws/credentials',
      'check that AWS accepts the new key',
      'deactivate the old key AKIA…0001, held by profile work in /h/.aws/credentials (it gets the new key)',
    ]);
  });

  it('an old key no profile holds: the retire line names nobody', () => {
    const plan = planRotation([key(CURRENT, 'Active')], { ...base, profiles: [], files, deleteOld: true });
    expect(describePlan(plan).at(-1)).toBe('delete the old key AKIA…0001');
  });

  it('describeHolders without the files: the config file is named as such, the credentials file not at all', () => {
    expect(describeHolders({ credentials: ['a', 'b'], config: ['ci'] }, undefined)).toBe('profiles a, b and profile ci in the config file');
    expect(describeHolders({ credentials: [], config: ['ci', 'dev'] }, undefined)).toBe('profiles ci, dev in the config file');
  });

  it('nobody holds the other key: the plan is as before', () => {
    const plan = planRotation([key(CURRENT, 'Active'), key(OTHER, 'Inactive')], { ...base, holders: { [OTHER]: { credentials: [], config: [] } }, files });
    expect(plan.otherKeyHolders).toBeUndefined();
    expect(describePlan(plan)[0]).toBe('delete inactive key AKIA…0002 (never used) to make room');
  });
});
