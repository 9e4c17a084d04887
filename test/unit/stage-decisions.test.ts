import { describe, expect, it } from 'vitest';
import { planRotation } from '../../src/core/plan.js';
import { decideDelete, decideRetire, decideRollback, describeStagedCreatePlan, usedAfter, type StagedKeys } from '../../src/core/stage-decisions.js';
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

describe('describeStagedCreatePlan', () => {
  it('replaces the retire step by keeping the old key active', () => {
    const plan = planRotation([key(OLD, 'Active')], { userName: 'alice', currentKeyId: OLD, profiles: ['work'], deleteOld: false });
    const lines = describeStagedCreatePlan(plan);
    expect(lines).toHaveLength(4);
    expect(lines.at(-1)).toBe('keep the old key AKIA…OLD1 active (retire it later with --stage retire)');
    expect(lines.join('\n')).not.toMatch(/deactivate/);
  });
});
