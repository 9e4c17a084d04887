import { describe, expect, it } from 'vitest';
import { planRotation } from '../../src/core/plan.js';
import { decideDelete, decideRetire, decideRollback, describeStagedCreatePlan, describeUse, usedAfter, type StagedKeys } from '../../src/core/stage-decisions.js';
import type { AccessKeyInfo } from '../../src/core/types.js';

const OLD = 'AKIAOLDOLDOLDOLDOLD1';
const NEW = 'AKIANEWNEWNEWNEWNEW2';
const CREATED = new Date('2026-11-20T10:00:00.000Z');
const staged: StagedKeys = { oldKeyId: OLD, newKeyId: NEW, newKeyCreatedAt: CREATED };
const key = (accessKeyId: string, status: AccessKeyInfo['status'], used?: string): AccessKeyInfo => ({
  accessKeyId,
  status,
  createDate: accessKeyId === NEW ? CREATED : new Date('2026-01-01T00:00:00Z'),
  ...(used ? { lastUsed: { date: new Date(used), serviceName: 's3', region: 'eu-west-1' } } : { lastUsed: { serviceName: 'N/A', region: 'N/A' } }),
});

describe('usedAfter', () => {
  const cases: Array<[string, string, boolean]> = [
    ['2026-11-20T10:00:01.000Z', 'a second later', true],
    ['2026-11-20T10:00:00.900Z', 'in the same second (the creating call itself)', false],
    ['2026-11-20T09:59:59.000Z', 'before', false],
    ['2026-12-01T00:00:00.000Z', 'days later', true],
  ];
  for (const [used, name, expected] of cases) it(name, () => expect(usedAfter(new Date(used), CREATED)).toBe(expected));
});

describe('decideRetire', () => {
  type Case = { name: string; keys: AccessKeyInfo[]; force?: boolean } & ({ decision: Record<string, unknown> } | { error: string });
  const cases: Case[] = [
    { name: 'old key never used: deactivate', keys: [key(OLD, 'Active'), key(NEW, 'Active')], decision: { action: 'deactivate' } },
    { name: 'old key last used before the new key existed: deactivate', keys: [key(OLD, 'Active', '2026-11-19T00:00:00Z'), key(NEW, 'Active')], decision: { action: 'deactivate' } },
    { name: 'old key used after the new key was created: refused', keys: [key(OLD, 'Active', '2026-11-21T08:30:00Z'), key(NEW, 'Active')], error: 'OLD_KEY_IN_USE' },
    {
      name: 'used after, with --force: deactivate, saying so',
      keys: [key(OLD, 'Active', '2026-11-21T08:30:00Z'), key(NEW, 'Active')],
      force: true,
      decision: { action: 'deactivate', usedAfter: { serviceName: 's3', region: 'eu-west-1' } },
    },
    { name: 'old key already inactive: nothing to do', keys: [key(OLD, 'Inactive'), key(NEW, 'Active')], decision: { action: 'none', reason: 'inactive' } },
    { name: 'old key deleted: nothing to do', keys: [key(NEW, 'Active')], decision: { action: 'none', reason: 'deleted' } },
    { name: 'new key gone: refused (retiring would leave no key)', keys: [key(OLD, 'Active')], error: 'NEW_KEY_GONE' },
    { name: 'new key inactive: refused', keys: [key(OLD, 'Active'), key(NEW, 'Inactive')], error: 'NEW_KEY_INACTIVE' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const run = () => decideRetire(staged, c.keys, c.force ?? false);
      if ('error' in c) {
        expect(run).toThrowError(expect.objectContaining({ code: c.error }));
        return;
      }
      expect(run()).toMatchObject(c.decision);
    });
  }

  it('the refusal says when and where the old key was used', () => {
    expect(() => decideRetire(staged, [key(OLD, 'Active', '2026-11-21T08:30:00Z'), key(NEW, 'Active')], false)).toThrowError(
      /2026-11-21T08:30:00.000Z by s3 in eu-west-1/,
    );
  });
});

describe('decideDelete', () => {
  it('inactive old key: delete', () => expect(decideDelete(staged, [key(OLD, 'Inactive'), key(NEW, 'Active')])).toEqual({ action: 'delete' }));
  it('active old key: refused', () => expect(() => decideDelete(staged, [key(OLD, 'Active'), key(NEW, 'Active')])).toThrowError(expect.objectContaining({ code: 'OLD_KEY_ACTIVE' })));
  it('old key gone: nothing to delete', () => expect(decideDelete(staged, [key(NEW, 'Active')])).toEqual({ action: 'none', reason: 'deleted' }));
});

describe('decideRollback', () => {
  type Case = { name: string; keys: AccessKeyInfo[]; deleteNew: boolean; force?: boolean } & ({ decision: Record<string, boolean> } | { error: string });
  const usedKey = (id: string, at: string): AccessKeyInfo => ({ ...key(id, 'Active'), lastUsed: { date: new Date(at), serviceName: 's3', region: 'eu-west-1' } });
  const cases: Case[] = [
    { name: 'retired: reactivate', keys: [key(OLD, 'Inactive'), key(NEW, 'Active')], deleteNew: false, decision: { reactivate: true, deleteNew: false } },
    { name: 'retired, --delete-new: reactivate and delete', keys: [key(OLD, 'Inactive'), key(NEW, 'Active')], deleteNew: true, decision: { reactivate: true, deleteNew: true } },
    { name: 'created: nothing to reactivate', keys: [key(OLD, 'Active'), key(NEW, 'Active')], deleteNew: false, decision: { reactivate: false, deleteNew: false } },
    { name: 'created, --delete-new: delete only', keys: [key(OLD, 'Active'), key(NEW, 'Active')], deleteNew: true, decision: { reactivate: false, deleteNew: true } },
    { name: 'new key gone already: nothing to delete', keys: [key(OLD, 'Active')], deleteNew: true, decision: { reactivate: false, deleteNew: false } },
    { name: 'old key deleted: refused', keys: [key(NEW, 'Active')], deleteNew: true, error: 'OLD_KEY_GONE' },
    { name: 'new key used after it was checked, --delete-new: refused', keys: [key(OLD, 'Active'), usedKey(NEW, '2026-11-20T10:05:00Z')], deleteNew: true, error: 'NEW_KEY_IN_USE' },
    { name: 'new key used after it was checked, without --delete-new: reactivate only', keys: [key(OLD, 'Inactive'), usedKey(NEW, '2026-11-20T10:05:00Z')], deleteNew: false, decision: { reactivate: true, deleteNew: false } },
    { name: 'new key used only while aws-rekey checked it: deleted', keys: [key(OLD, 'Active'), usedKey(NEW, '2026-11-20T10:00:30Z')], deleteNew: true, decision: { reactivate: false, deleteNew: true } },
    { name: 'new key used after it was checked, --delete-new --force: deleted', keys: [key(OLD, 'Active'), usedKey(NEW, '2026-11-20T10:05:00Z')], deleteNew: true, force: true, decision: { reactivate: false, deleteNew: true } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const run = () => decideRollback({ ...staged, ownUseUntil: new Date('2026-11-20T10:01:00Z') }, c.keys, c.deleteNew, c.force);
      if ('error' in c) {
        expect(run).toThrowError(expect.objectContaining({ code: c.error }));
        return;
      }
      expect(run()).toEqual(c.decision);
    });
  }
});

/** What the user reads: the error's message and its hint. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return `${(error as Error).message} | ${(error as { hint?: string }).hint}`;
  }
  throw new Error('expected a refusal');
}

describe('refusals: what happened and the command that goes on from there', () => {
  const recorded: StagedKeys = { ...staged, rollbackCommand: 'aws-rekey rollback --profile work' };
  const inUse = [key(OLD, 'Active', '2026-11-21T08:30:00Z'), key(NEW, 'Active')];

  it('the old key still in use (retire): the rotation\'s own rollback command, else the bare words', () => {
    const text = (s: StagedKeys) => refusal(() => decideRetire(s, inUse, false));
    expect(text(recorded)).toBe(
      'The old key AKIA…OLD1 was used at 2026-11-21T08:30:00.000Z by s3 in eu-west-1, after the new key AKIA…NEW2 was created (2026-11-20T10:00:00.000Z): something still uses it. Nothing was changed.' +
        ' | Find what still signs with it (CloudTrail shows the calls) and give it the new key, then run --stage retire again. To deactivate it anyway, add --force; `aws-rekey rollback --profile work` reactivates it.',
    );
    expect(text(staged)).toMatch(/add --force; aws-rekey rollback reactivates it\.$/);
  });

  it('the new key gone (retire)', () => {
    expect(refusal(() => decideRetire(recorded, [key(OLD, 'Active')], false))).toBe(
      'The new key AKIA…NEW2 of this staged rotation no longer exists in IAM; --stage retire would leave only the old key, retired.' +
        ' | Undo the staged rotation with `aws-rekey rollback --profile work` (the old key stays active), then start again with --stage create.',
    );
    expect(refusal(() => decideRetire(staged, [key(OLD, 'Active')], false))).toMatch(/\| Undo the staged rotation with aws-rekey rollback \(the old key/);
  });

  it('the new key inactive (retire): undo deleting it', () => {
    expect(refusal(() => decideRetire(recorded, [key(OLD, 'Active'), key(NEW, 'Inactive')], false))).toBe(
      'The new key AKIA…NEW2 is inactive in IAM; --stage retire would leave no active key.' +
        ' | Reactivate it (aws iam update-access-key --status Active), or undo with `aws-rekey rollback --profile work --delete-new`.',
    );
    expect(refusal(() => decideRetire(staged, [key(OLD, 'Active'), key(NEW, 'Inactive')], false))).toMatch(/or undo with aws-rekey rollback --delete-new\.$/);
  });

  it('the old key still active (delete)', () => {
    expect(refusal(() => decideDelete(staged, [key(OLD, 'Active'), key(NEW, 'Active')]))).toBe(
      'The old key AKIA…OLD1 is still active; aws-rekey deletes it only once it is inactive. | Run --stage retire first: it checks that nothing still uses the key, then deactivates it.',
    );
  });

  it('the old key gone (rollback)', () => {
    expect(refusal(() => decideRollback(staged, [key(NEW, 'Active')], false))).toBe(
      'The old key AKIA…OLD1 no longer exists in IAM, so there is nothing to roll back to.' +
        ' | The new key stays as it is. Forget the record with --stage delete, or remove it from the aws-rekey folder next to the credentials file.',
    );
  });

  it('the new key in use (rollback --delete-new)', () => {
    const used: AccessKeyInfo = { ...key(NEW, 'Active'), lastUsed: { date: new Date('2026-11-20T10:05:00Z'), serviceName: 'sts', region: 'us-east-1' } };
    expect(refusal(() => decideRollback(staged, [key(OLD, 'Active'), used], true))).toBe(
      'The new key AKIA…NEW2 was used at 2026-11-20T10:05:00.000Z by sts in us-east-1, after it was created and checked: something already uses it, and deleting it would break that. Nothing was changed.' +
        ' | Roll back without --delete-new (the old key is reactivated, the new one stays), or find what uses the new key first (CloudTrail shows the calls). To delete it anyway, add --force.',
    );
  });
});

describe('describeUse', () => {
  const at = new Date('2026-11-21T08:30:00Z');
  it.each([
    ['never used', undefined, 'never'],
    ['no date', { serviceName: 'N/A', region: 'N/A' }, 'never'],
    ['service and region', { date: at, serviceName: 's3', region: 'eu-west-1' }, 'at 2026-11-21T08:30:00.000Z by s3 in eu-west-1'],
    ['IAM\'s N/A for both', { date: at, serviceName: 'N/A', region: 'N/A' }, 'at 2026-11-21T08:30:00.000Z'],
    ['a service, no region', { date: at, serviceName: 'iam', region: 'N/A' }, 'at 2026-11-21T08:30:00.000Z by iam'],
    ['a region, no service', { date: at, region: 'eu-west-1' }, 'at 2026-11-21T08:30:00.000Z in eu-west-1'],
    ['empty strings', { date: at, serviceName: '', region: '' }, 'at 2026-11-21T08:30:00.000Z'],
  ])('%s', (_name, lastUsed, text) => {
    expect(describeUse({ accessKeyId: OLD, status: 'Active', ...(lastUsed ? { lastUsed } : {}) })).toBe(text);
  });
});

describe('describeStagedCreatePlan', () => {
  it('replaces the retire step by keeping the old key active', () => {
    const plan = planRotation([key(OLD, 'Active')], { userName: 'alice', currentKeyId: OLD, profiles: ['work'], deleteOld: false });
    const lines = describeStagedCreatePlan(plan);
    expect(lines).toHaveLength(4);
    expect(lines.at(-1)).toBe('keep the old key AKIA…OLD1 active (retire it later with --stage retire)');
    expect(lines.join('\n')).not.toMatch(/deactivate/);
  });
});
