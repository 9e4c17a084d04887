import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { credentialsFile, runCli, type TempHome } from '../support/cli.js';
import { createUserWithKey, listKeys, uniqueName, type SeededUser } from '../support/iam.js';
import { FAST, tempHome } from '../support/integration.js';

/*
 * rotate --if-older-than DAYS (issue 13): a key younger than that is left alone ("not due until DATE", exit 0);
 * an older one goes through the whole rotation. moto dates every key "now", so the tests move the clock that
 * ages are counted from (AWS_REKEY_NOW, test-only) instead of backdating keys.
 */

const endpoint = inject('motoEndpoint');
const DAY_MS = 24 * 60 * 60 * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface NotDueDoc {
  accessKeyId: string;
  createdAt: string;
  ageDays: number;
  ifOlderThan: number;
  dueAt: string;
}

async function homeFor(users: Record<string, SeededUser>): Promise<TempHome> {
  const profiles = Object.fromEntries(Object.entries(users).map(([name, u]) => [name, { accessKeyId: u.accessKeyId, secretAccessKey: u.secretAccessKey }]));
  return tempHome({ endpoint, credentials: credentialsFile(profiles) });
}

async function createdAt(user: SeededUser): Promise<Date> {
  const key = (await listKeys(endpoint, user.userName)).find((k) => k.accessKeyId === user.accessKeyId);
  if (!key?.createDate) throw new Error(`moto gave no CreateDate for ${user.accessKeyId}`);
  return key.createDate;
}

/** The environment of a run made `days` (and `extraMs`) after the key's creation. */
function later(h: TempHome, from: Date, days: number, extraMs = 0): NodeJS.ProcessEnv {
  return { ...h.env, AWS_REKEY_NOW: new Date(from.getTime() + days * DAY_MS + extraMs).toISOString() };
}

async function untouched(h: TempHome, before: string, user: SeededUser): Promise<void> {
  expect(await h.readCredentials()).toBe(before);
  expect(await listKeys(endpoint, user.userName)).toEqual([expect.objectContaining({ accessKeyId: user.accessKeyId, status: 'Active' })]);
}

describe('rotate --if-older-than (moto)', () => {
  it('a younger key: one line "not due until DATE", exit 0, nothing changed; --json says so', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('young'));
    const h = await homeFor({ work });
    const before = await h.readCredentials();
    const created = await createdAt(work);
    const dueAt = new Date(created.getTime() + 90 * DAY_MS);

    const run = await runCli(['rotate', 'work', '--if-older-than', '90', '-y', ...FAST], later(h, created, 12));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Profile work: not due until ${dueAt.toISOString().slice(0, 10)}: key AKIA…${work.accessKeyId.slice(-4)} is 12 days old (--if-older-than 90). Nothing was changed.`);
    expect(run.stdout).toBe('');
    await untouched(h, before, work);

    const json = await runCli(['rotate', '--profile', 'work', '--if-older-than', '90', '-y', '--json', ...FAST], later(h, created, 12));
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as { ok: boolean; status: string; notDue: NotDueDoc; newKeyId?: string };
    expect(doc).toMatchObject({ ok: true, status: 'not-due', notDue: { accessKeyId: work.accessKeyId, ageDays: 12, ifOlderThan: 90, dueAt: dueAt.toISOString() } });
    expect(doc.newKeyId).toBeUndefined();
    await untouched(h, before, work);
  });

  it('a key exactly that old is due: the whole rotation runs (verification, old key deactivated)', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('due'));
    const h = await homeFor({ work });
    const run = await runCli(['rotate', 'work', '--if-older-than', '30', '-y', '--json', ...FAST], later(h, await createdAt(work), 30));
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { status: string; newKeyId: string; steps: Array<{ step: string; status: string }> };
    expect(doc.status).toBe('rotated');
    expect(doc.steps.filter((s) => s.status === 'done').map((s) => s.step)).toEqual(expect.arrayContaining(['create', 'write', 'verify', 'retire']));
    const keys = await listKeys(endpoint, work.userName);
    expect(keys.find((k) => k.accessKeyId === work.accessKeyId)?.status).toBe('Inactive');
    expect(keys.find((k) => k.accessKeyId === doc.newKeyId)?.status).toBe('Active');
    expect(await h.readCredentials()).toContain(doc.newKeyId);
  });

  it('--dry-run of a due key plans; of a younger one says not due', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('dry'));
    const h = await homeFor({ work });
    const created = await createdAt(work);
    const due = await runCli(['rotate', 'work', '--if-older-than', '7', '--dry-run'], later(h, created, 8));
    expect(due.code, due.stderr).toBe(0);
    expect(due.stderr).toContain('Dry run: nothing was changed.');
    const young = await runCli(['rotate', 'work', '--if-older-than', '7', '--dry-run'], later(h, created, 6));
    expect(young.code, young.stderr).toBe(0);
    expect(young.stderr).toMatch(/not due until/);
    expect(await listKeys(endpoint, work.userName)).toHaveLength(1);
  });

  it('--all: the due profiles rotate, the others are "not-due" in the table and in --json (exit 0)', async () => {
    const old = await createUserWithKey(endpoint, uniqueName('old'));
    await sleep(2100);
    const fresh = await createUserWithKey(endpoint, uniqueName('fresh'));
    const [oldAt, freshAt] = [await createdAt(old), await createdAt(fresh)];
    expect(freshAt.getTime() - oldAt.getTime()).toBeGreaterThanOrEqual(1000); // the premise: two different ages
    const h = await homeFor({ old, fresh });
    // A clock at which `old` is just 1 day old and `fresh` is not yet.
    const env = later(h, oldAt, 1, 500);

    const table = await runCli(['rotate', '--all', '--if-older-than', '1', '--dry-run'], env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stderr).toMatch(/│ fresh\s+│.*│ not-due\s+│ not due until/);
    expect(table.stderr).toContain('1 rotation planned, 0 refused, 1 not due.');

    const run = await runCli(['rotate', '--all', '--if-older-than', '1', '-y', '--json', ...FAST], env);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { ok: boolean; results: Array<{ profiles: string[]; status: string; notDue?: NotDueDoc; newKeyId?: string }> };
    expect(doc.ok).toBe(true);
    expect(doc.results.map((r) => [r.profiles[0], r.status])).toEqual([
      ['old', 'rotated'],
      ['fresh', 'not-due'],
    ]);
    expect(doc.results[1]?.notDue).toMatchObject({ accessKeyId: fresh.accessKeyId, ageDays: 0, ifOlderThan: 1 });
    expect((await listKeys(endpoint, old.userName)).find((k) => k.accessKeyId === old.accessKeyId)?.status).toBe('Inactive');
    expect(await listKeys(endpoint, fresh.userName)).toEqual([expect.objectContaining({ accessKeyId: fresh.accessKeyId, status: 'Active' })]);
    const after = await h.readCredentials();
    expect(after).toContain(fresh.accessKeyId);
    expect(after).not.toContain(old.accessKeyId);
  });

  it('--user: a younger key is left alone and no --out file is made; a due one is rotated into it', async () => {
    const admin = await createUserWithKey(endpoint, uniqueName('admin'));
    const ci = await createUserWithKey(endpoint, uniqueName('ci'));
    const h = await homeFor({ admin });
    const out = join(h.home, 'ci.json');
    const created = await createdAt(ci);
    const args = ['rotate', '--user', ci.userName, '--profile', 'admin', '--out', out, '--if-older-than', '45', '-y', ...FAST];

    const young = await runCli(args, later(h, created, 44));
    expect(young.code, young.stderr).toBe(0);
    expect(young.stderr).toContain(`User ${ci.userName}: not due until`);
    expect(await readdir(h.home)).not.toContain('ci.json');
    expect(await listKeys(endpoint, ci.userName)).toHaveLength(1);

    const json = await runCli([...args, '--json'], later(h, created, 44));
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, status: 'not-due', notDue: { accessKeyId: ci.accessKeyId, ageDays: 44, ifOlderThan: 45 } });

    const due = await runCli(args, later(h, created, 45));
    expect(due.code, due.stderr).toBe(0);
    expect(await readdir(h.home)).toContain('ci.json');
    expect((await listKeys(endpoint, ci.userName)).find((k) => k.accessKeyId === ci.accessKeyId)?.status).toBe('Inactive');
  });

  it('--stage create: a younger key starts no staged rotation; a due one does (old key kept active)', async () => {
    const app = await createUserWithKey(endpoint, uniqueName('app'));
    const h = await homeFor({ app });
    const before = await h.readCredentials();
    const created = await createdAt(app);
    const args = ['rotate', 'app', '--stage', 'create', '--if-older-than', '90', '-y', ...FAST];

    const young = await runCli(args, later(h, created, 10));
    expect(young.code, young.stderr).toBe(0);
    expect(young.stderr).toContain('Profile app: not due until');
    expect(young.stderr).toContain('No staged rotation was started.');
    await untouched(h, before, app);
    expect(JSON.parse((await runCli(['status', '--json'], h.env)).stdout)).toMatchObject({ rotations: [] });

    const due = await runCli(args, later(h, created, 91));
    expect(due.code, due.stderr).toBe(0);
    const keys = await listKeys(endpoint, app.userName);
    expect(keys.map((k) => k.status)).toEqual(['Active', 'Active']);
    expect(JSON.parse((await runCli(['status', '--json'], h.env)).stdout)).toMatchObject({ rotations: [{ id: 'profile-app', stage: 'created', oldKeyId: app.accessKeyId }] });
  });

  it('with --stage retire, or a number of days that is not a whole number > 0: exit 2, nothing changed', async () => {
    const app = await createUserWithKey(endpoint, uniqueName('bad'));
    const h = await homeFor({ app });
    const before = await h.readCredentials();
    const retire = await runCli(['rotate', 'app', '--stage', 'retire', '--if-older-than', '90', '-y'], h.env);
    expect(retire.code).toBe(2);
    expect(retire.stderr).toMatch(/--if-older-than decides whether a new key is created/);
    for (const days of ['0', '-3', '1.5', 'ninety']) {
      const bad = await runCli(['rotate', 'app', '--if-older-than', days, '-y'], h.env);
      expect(bad.code, days).toBe(2);
      expect(bad.stderr).toMatch(/--if-older-than <days>.*expected a whole number greater than 0/);
    }
    await untouched(h, before, app);
  });
});
