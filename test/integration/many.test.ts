import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createAccessKey, createUserWithKey, listKeys, uniqueName, type SeededUser } from '../support/iam.js';
import { FAST, tempFaultProxy, tempHome } from '../support/integration.js';

const endpoint = inject('motoEndpoint');

const section = (name: string, u: { accessKeyId: string; secretAccessKey: string }, extra = '') =>
  `[${name}]\naws_access_key_id = ${u.accessKeyId}\naws_secret_access_key = ${u.secretAccessKey}\n${extra}`;
const keyOf = (text: string, profile: string) => new RegExp(`\\[${profile}\\]\\naws_access_key_id = (\\S+)\\naws_secret_access_key = (\\S+)`).exec(text)?.slice(1, 3) ?? [];

interface ManyDoc {
  ok: boolean;
  exitCode: number;
  results: Array<{ profiles: string[]; status: string; oldKeyId?: string; newKeyId?: string; updatedProfiles?: string[]; error?: { code: string }; exitCode: number }>;
}

describe('rotate several profiles at once (moto)', () => {
  it('--profile a --profile b: profiles sharing a key are rotated once, the new pair goes to all of them; a table sums up', async () => {
    const alice = await createUserWithKey(endpoint, uniqueName('alice'));
    const bob = await createUserWithKey(endpoint, uniqueName('bob'));
    const body = `# mine\n${section('a', alice, 'region = eu-west-1\n')}\n${section('a-alias', alice)}\n${section('b', bob)}\n[c]\nregion = us-east-1\n`;
    const home = await tempHome({ endpoint, credentials: body });
    const run = await runCli(['rotate', '--profile', 'a', '--profile', 'a-alias', '--profile', 'b', '-y', ...FAST], home.env);
    expect(run.stderr).toMatch(/2 of 2 rotations done/);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/│ a, a-alias\s+│/);

    const aliceKeys = await listKeys(endpoint, alice.userName);
    expect(aliceKeys).toHaveLength(2); // one new key for both profiles
    const aliceNew = aliceKeys.find((k) => k.accessKeyId !== alice.accessKeyId);
    const after = await home.readCredentials();
    expect(keyOf(after, 'a')[0]).toBe(aliceNew?.accessKeyId);
    expect(keyOf(after, 'a-alias')).toEqual(keyOf(after, 'a'));
    expect(keyOf(after, 'b')[0]).not.toBe(bob.accessKeyId);
    expect((await listKeys(endpoint, bob.userName)).find((k) => k.accessKeyId === bob.accessKeyId)?.status).toBe('Inactive');
    // Everything else is as it was.
    expect(after).toContain('# mine\n');
    expect(after).toContain('region = eu-west-1\n');
    expect(after).toContain('[c]\nregion = us-east-1\n');
    expect(await home.credentialsMode()).toBe(0o600);
    expect(run.stdout + run.stderr).not.toContain(keyOf(after, 'b')[1]);
  });

  it('--all rotates every profile with a long-lived key side by side, none lost to another\'s write; one failing profile stops nothing and exit is 1', async () => {
    const users: SeededUser[] = [];
    // Enough users that rotations overlap in every step (journal writes and removals, file edits).
    for (let i = 0; i < 8; i += 1) users.push(await createUserWithKey(endpoint, uniqueName(`u${i}`)));
    // A user with two active keys: rotating one of them is refused (the other may be in use).
    const busy = await createUserWithKey(endpoint, uniqueName('busy'));
    await createAccessKey(endpoint, busy.userName);
    const body = [
      ...users.map((u, i) => section(`p${i}`, u)),
      section('busy', busy),
      '[session]\naws_access_key_id = ASIAXXXXXXXXXXXXXXXX\naws_secret_access_key = s\naws_session_token = t\n',
    ].join('\n');
    const home = await tempHome({ endpoint, credentials: body });
    const run = await runCli(['rotate', '--all', '-y', '--json', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(1);
    const doc = JSON.parse(run.stdout) as ManyDoc;
    expect(doc).toMatchObject({ ok: false, exitCode: 1 });
    expect(doc.results.map((r) => r.profiles[0])).toEqual([...users.map((_, i) => `p${i}`), 'busy']);
    expect(doc.results.filter((r) => r.status === 'rotated'), JSON.stringify(doc.results.filter((r) => r.status !== 'rotated'), null, 2)).toHaveLength(users.length);
    expect(doc.results.find((r) => r.profiles[0] === 'busy')).toMatchObject({ status: 'failed', error: { code: 'OTHER_KEY_ACTIVE' } });

    const after = await home.readCredentials();
    for (const [i, u] of users.entries()) {
      const [id] = keyOf(after, `p${i}`);
      expect(id).not.toBe(u.accessKeyId);
      expect(doc.results[i]?.newKeyId).toBe(id);
      const keys = await listKeys(endpoint, u.userName);
      expect(keys.find((k) => k.accessKeyId === id)?.status).toBe('Active');
      expect(keys.find((k) => k.accessKeyId === u.accessKeyId)?.status).toBe('Inactive');
    }
    expect(keyOf(after, 'busy')[0]).toBe(busy.accessKeyId);
    expect(after).toContain('aws_session_token = t');
    expect((await listKeys(endpoint, busy.userName)).map((k) => k.status)).toEqual(['Active', 'Active']);
  });

  it('exit code is the worst: a rotation left incomplete (3) beats a failure (1)', async () => {
    const proxy = await tempFaultProxy(endpoint);
    const good = await createUserWithKey(endpoint, uniqueName('good'));
    const home = await tempHome({
      endpoint: proxy.endpoint,
      credentials: `${section('good', good)}\n${section('unknown', { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'nope' })}`,
    });
    // Retiring the old key is denied: the new key is saved and works, the old one stays active.
    proxy.setRules([{ action: 'UpdateAccessKey', fault: { kind: 'error', status: 403, code: 'AccessDenied' } }]);
    const run = await runCli(['rotate', '--profile', 'good', '--profile', 'unknown', '-y', '--json', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(3);
    const doc = JSON.parse(run.stdout) as ManyDoc;
    expect(doc.results.map((r) => [r.profiles[0], r.status, r.exitCode])).toEqual([
      ['good', 'incomplete', 3],
      ['unknown', 'failed', expect.any(Number)],
    ]);
    const [id] = keyOf(await home.readCredentials(), 'good');
    expect(id).not.toBe(good.accessKeyId);
    expect((await listKeys(endpoint, good.userName)).map((k) => k.status)).toEqual(['Active', 'Active']);
  });

  it('--dry-run shows every plan and changes nothing; without --yes and a terminal nothing happens either', async () => {
    const alice = await createUserWithKey(endpoint, uniqueName('alice'));
    const bob = await createUserWithKey(endpoint, uniqueName('bob'));
    const body = `${section('a', alice)}\n${section('b', bob)}`;
    const home = await tempHome({ endpoint, credentials: body });
    const dry = await runCli(['rotate', '--all', '--dry-run'], home.env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain('[a] Plan for');
    expect(dry.stderr).toContain('[b] Plan for');
    expect(dry.stderr).toMatch(/Dry run: nothing was changed. 2 rotations planned/);
    const unconfirmed = await runCli(['rotate', '--profile', 'a', '--profile', 'b'], home.env);
    expect(unconfirmed.code, unconfirmed.stderr).toBe(2);
    expect(unconfirmed.stderr).toContain('--yes');
    expect(await home.readCredentials()).toBe(body);
    expect(await listKeys(endpoint, alice.userName)).toHaveLength(1);
    expect(await listKeys(endpoint, bob.userName)).toHaveLength(1);
  });

  it('an unfinished rotation of one profile is finished first, on its own; the others rotate', async () => {
    const alice = await createUserWithKey(endpoint, uniqueName('alice'));
    const bob = await createUserWithKey(endpoint, uniqueName('bob'));
    const home = await tempHome({ endpoint, credentials: `${section('a', alice)}\n${section('b', bob)}` });
    // What a run killed during CreateAccessKey leaves: a journal in phase 'creating' and a key nobody has the secret of.
    const orphan = await createAccessKey(endpoint, alice.userName);
    const now = new Date().toISOString();
    await mkdir(join(home.home, '.aws', 'aws-rekey'), { mode: 0o700 });
    await writeFile(
      join(home.home, '.aws', 'aws-rekey', 'a.journal.json'),
      JSON.stringify({
        version: 1,
        profile: 'a',
        profiles: ['a'],
        credentialsPath: home.credentialsPath,
        userName: alice.userName,
        userArn: alice.arn,
        oldKeyId: alice.accessKeyId,
        oldSecretAccessKey: alice.secretAccessKey,
        keysBefore: [alice.accessKeyId],
        retire: 'deactivate',
        phase: 'creating',
        startedAt: now,
        updatedAt: now,
      }),
      { mode: 0o600 },
    );
    const run = await runCli(['rotate', '--profile', 'a', '--profile', 'b', '-y', '--json', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as ManyDoc;
    expect(doc.results.map((r) => [r.profiles[0], r.status])).toEqual([
      ['a', 'recovered'],
      ['b', 'rotated'],
    ]);
    expect((await listKeys(endpoint, alice.userName)).map((k) => k.accessKeyId)).toEqual([alice.accessKeyId]);
    expect((await listKeys(endpoint, alice.userName)).map((k) => k.accessKeyId)).not.toContain(orphan.accessKeyId);
    expect(keyOf(await home.readCredentials(), 'a')[0]).toBe(alice.accessKeyId);
    expect(keyOf(await home.readCredentials(), 'b')[0]).not.toBe(bob.accessKeyId);
  });

  it('--all with no long-lived key in the file: a usage error that lists what it skipped', async () => {
    const home = await tempHome({ endpoint, credentials: '[x]\nregion = eu-west-1\n' });
    const run = await runCli(['rotate', '--all', '-y'], home.env);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/no profile with a long-lived access key; skipped: x \(no access key\)/);
  });

  it('--all lists the profiles it skipped and why, in text and in --json', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('skip'));
    const body = [
      section('good', user),
      '[session]\naws_access_key_id = ASIAXXXXXXXXXXXXXXXX\naws_secret_access_key = s\naws_session_token = t\n',
      '[half]\naws_access_key_id = AKIAHALF000000000000\n',
      '[settings]\nregion = eu-west-1\n',
    ].join('\n');
    const home = await tempHome({ endpoint, credentials: body });
    const json = await runCli(['rotate', '--all', '--dry-run', '--json'], home.env);
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { skipped: unknown }).skipped).toEqual([
      { profile: 'session', reason: 'temporary credentials (a session token)' },
      { profile: 'half', reason: 'no aws_secret_access_key' },
      { profile: 'settings', reason: 'no access key' },
    ]);
    const text = await runCli(['rotate', '--all', '--dry-run'], home.env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain('Skipped (no long-lived key): session (temporary credentials (a session token)), half (no aws_secret_access_key), settings (no access key).');
  });
});
