import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { BIN, runCli, startCli, type TempHome } from '../support/cli.js';
import { createAccessKey, createUserWithKey, listKeys, setKeyStatus, stsClient, uniqueName, type SeededUser } from '../support/iam.js';
import { FAST, succeed, tempFaultProxy, tempHome } from '../support/integration.js';
import { recordsDir, recordsRoot } from '../../src/credentials/records.js';

const endpoint = inject('motoEndpoint');

interface Setup {
  admin: SeededUser;
  target: SeededUser;
  home: TempHome;
}

/** An admin profile and a target user; the admin's key is just another moto user's (moto checks no policy). */
async function setup(options: { endpoint?: string; extra?: string } = {}): Promise<Setup> {
  const admin = await createUserWithKey(endpoint, uniqueName('admin'));
  const target = await createUserWithKey(endpoint, uniqueName('bob'), { path: '/apps/' });
  const home = await tempHome({
    endpoint: options.endpoint ?? endpoint,
    credentials: `# admin keys\n[admin]\naws_access_key_id = ${admin.accessKeyId}\naws_secret_access_key = ${admin.secretAccessKey}\n${options.extra ?? ''}`,
  });
  return { admin, target, home };
}

async function whoIs(pair: { accessKeyId: string; secretAccessKey: string }): Promise<string | undefined> {
  return (await stsClient(endpoint, pair).send(new GetCallerIdentityCommand({}))).Arn;
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('rotate --user (admin) against moto', () => {
  it('--out FILE: a 0600 credentials-format file holding a working key of the user; the old key is deactivated', async () => {
    const { target, home } = await setup();
    const out = join(home.home, 'bob.credentials');
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--out', out, '--yes', ...FAST], home.env);
    expect(run.stderr).toContain('Rotated the access key');
    expect(run.code, run.stderr).toBe(0);
    const text = await readFile(out, 'utf8');
    const match = /^\[(.+)\]\naws_access_key_id = (\S+)\naws_secret_access_key = (\S+)\n$/.exec(text);
    expect(match?.[1]).toBe(target.userName);
    const pair = { accessKeyId: match?.[2] ?? '', secretAccessKey: match?.[3] ?? '' };
    expect(await mode(out)).toBe(0o600);
    expect(await whoIs(pair)).toBe(target.arn);
    const keys = await listKeys(endpoint, target.userName);
    expect(keys.find((k) => k.accessKeyId === target.accessKeyId)?.status).toBe('Inactive');
    expect(keys.find((k) => k.accessKeyId === pair.accessKeyId)?.status).toBe('Active');
    expect(run.stdout + run.stderr).not.toContain(pair.secretAccessKey);
    // No journal is left behind.
    await expect(readdir(join(home.home, '.aws', 'aws-rekey'))).rejects.toThrow();
  });

  it('--out FILE.json: the credential_process shape; an existing file is refused before any key is created, --force replaces it', async () => {
    const { target, home } = await setup();
    const out = join(home.home, 'bob.json');
    await succeed(['rotate', '--user', target.userName, '--profile', 'admin', '--out', out, '-y', ...FAST], home.env);
    const first = JSON.parse(await readFile(out, 'utf8')) as { Version: number; AccessKeyId: string; SecretAccessKey: string };
    expect(first.Version).toBe(1);
    expect(await whoIs({ accessKeyId: first.AccessKeyId, secretAccessKey: first.SecretAccessKey })).toBe(target.arn);

    const keysBefore = await listKeys(endpoint, target.userName);
    const refused = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--out', out, '-y', ...FAST], home.env);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/already exists.*does not overwrite/);
    expect(refused.stderr).toContain('--force');
    expect(await listKeys(endpoint, target.userName)).toEqual(keysBefore);
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(first);

    const forced = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--out', out, '--force', '-y', ...FAST], home.env);
    expect(forced.code, forced.stderr).toBe(0);
    const second = JSON.parse(await readFile(out, 'utf8')) as { AccessKeyId: string; SecretAccessKey: string };
    expect(second.AccessKeyId).not.toBe(first.AccessKeyId);
    expect(await whoIs({ accessKeyId: second.AccessKeyId, secretAccessKey: second.SecretAccessKey })).toBe(target.arn);
    expect(await mode(out)).toBe(0o600);
    const keys = await listKeys(endpoint, target.userName);
    // The first rotation's old key (inactive) made room; the first new key is now the inactive one.
    expect(keys.map((k) => k.accessKeyId).sort()).toEqual([first.AccessKeyId, second.AccessKeyId].sort());
    expect(keys.find((k) => k.accessKeyId === first.AccessKeyId)?.status).toBe('Inactive');
  });

  it('an --out that cannot be written is refused before any key is created', async () => {
    const { target, home } = await setup();
    const blocker = join(home.home, 'not-a-dir');
    await writeFile(blocker, 'x');
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--out', join(blocker, 'bob.json'), '-y', ...FAST], home.env);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/not a directory/);
    // The way out is another --out file, not the credentials file's variable.
    expect(run.stderr).toMatch(/or name another file with --out/);
    expect(run.stderr).not.toMatch(/AWS_SHARED_CREDENTIALS_FILE/);
    expect((await listKeys(endpoint, target.userName)).map((k) => k.accessKeyId)).toEqual([target.accessKeyId]);
  });

  it('--to-profile NAME: a new profile at the end of the credentials file, the rest byte for byte, with a backup', async () => {
    const { target, home } = await setup();
    const before = await home.readCredentials();
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--to-profile', 'bob', '-y', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    const after = await home.readCredentials();
    expect(after.startsWith(before)).toBe(true);
    const match = /\[bob\]\naws_access_key_id = (\S+)\naws_secret_access_key = (\S+)\n$/.exec(after);
    expect(match).not.toBeNull();
    expect(await whoIs({ accessKeyId: match?.[1] ?? '', secretAccessKey: match?.[2] ?? '' })).toBe(target.arn);
    expect(await home.credentialsMode()).toBe(0o600);
    expect(await readFile(`${home.credentialsPath}.aws-rekey.bak`, 'utf8')).toBe(before);
  });

  it('--to-profile: a profile holding the old key gets the new one (every holder does); one holding another key needs --force', async () => {
    const { target, home } = await setup();
    const holder = `[bob]\naws_access_key_id = ${target.accessKeyId}\naws_secret_access_key = ${target.secretAccessKey}\nregion = eu-west-1\n[bob-too]\naws_access_key_id = ${target.accessKeyId}\naws_secret_access_key = ${target.secretAccessKey}\n`;
    await writeFile(home.credentialsPath, (await home.readCredentials()) + holder);
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--to-profile', 'bob', '-y', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    const after = await home.readCredentials();
    const fresh = (await listKeys(endpoint, target.userName)).find((k) => k.accessKeyId !== target.accessKeyId)?.accessKeyId ?? '?';
    expect(after.match(new RegExp(fresh, 'g'))).toHaveLength(2);
    expect(after).not.toContain(target.secretAccessKey);
    expect(after).toContain('region = eu-west-1');

    const other = await createUserWithKey(endpoint, uniqueName('carol'));
    const refused = await runCli(['rotate', '--user', other.userName, '--profile', 'admin', '--to-profile', 'bob', '-y', ...FAST], home.env);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/already holds another key/);
    expect(await home.readCredentials()).toBe(after);
    expect(await listKeys(endpoint, other.userName)).toHaveLength(1);
    const forced = await runCli(['rotate', '--user', other.userName, '--profile', 'admin', '--to-profile', 'bob', '--force', '-y', ...FAST], home.env);
    expect(forced.code, forced.stderr).toBe(0);
    const carolKey = (await listKeys(endpoint, other.userName)).find((k) => k.accessKeyId !== other.accessKeyId)?.accessKeyId ?? '?';
    const final = await home.readCredentials();
    expect(/\[bob\]\naws_access_key_id = (\S+)/.exec(final)?.[1]).toBe(carolKey);
    // bob-too held bob's key, not carol's old key: it is left alone.
    expect(/\[bob-too\]\naws_access_key_id = (\S+)/.exec(final)?.[1]).toBe(fresh);
  });

  it("--to-profile never writes into the admin's own credentials, even with --force: its source_profile is refused before any key exists", async () => {
    const { target, home } = await setup();
    await writeFile(home.configPath, `[profile admin-role]\nrole_arn = arn:aws:iam::123456789012:role/key-admin\nsource_profile = admin\nrole_session_name = t\n`);
    const before = await home.readCredentials();
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin-role', '--to-profile', 'admin', '--force', '-y', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/--to-profile admin is where the credentials of profile admin-role come from \(source_profile admin-role → admin\)/);
    expect(await home.readCredentials()).toBe(before);
    expect((await listKeys(endpoint, target.userName)).map((k) => k.accessKeyId)).toEqual([target.accessKeyId]);
  });

  it.for(['a closed pipe', 'a full disk (/dev/full)'])('--print-secret to %s: nothing is retired, the new key is deleted again, the old key stays active', async (where) => {
    const { target, home } = await setup();
    const args = [BIN, 'rotate', '--user', target.userName, '--profile', 'admin', '--print-secret', '-y', ...FAST];
    const full = where.includes('full') ? openSync('/dev/full', 'w') : undefined;
    const child = spawn(process.execPath, args, { env: home.env, stdio: ['ignore', full ?? 'pipe', 'pipe'] });
    // The reader goes away before anything is printed: the write meets EPIPE.
    child.stdout?.destroy();
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (full !== undefined) closeSync(full);
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/The new key could not be printed: .*(EPIPE|ENOSPC)/);
    expect(stderr).toMatch(/deleted again/);
    expect(stderr).not.toMatch(/Unexpected error|Unhandled/);
    const keys = await listKeys(endpoint, target.userName);
    expect(keys.map((k) => [k.accessKeyId, k.status])).toEqual([[target.accessKeyId, 'Active']]);
    await expect(readdir(join(home.home, '.aws', 'aws-rekey'))).rejects.toThrow();
  });

  it('--print-secret: the pair on stdout only, once; --json prints it as a document of its own, ahead of the result', async () => {
    const { target, home } = await setup();
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--print-secret', '-y', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    const match = new RegExp(`^\\[${target.userName}\\]\\naws_access_key_id = (\\S+)\\naws_secret_access_key = (\\S+)\\n$`).exec(run.stdout);
    expect(match).not.toBeNull();
    expect(run.stderr).not.toContain(match?.[2] ?? '?');
    expect(await whoIs({ accessKeyId: match?.[1] ?? '', secretAccessKey: match?.[2] ?? '' })).toBe(target.arn);

    const json = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--print-secret', '--json', '-y', ...FAST], home.env);
    expect(json.code, json.stderr).toBe(0);
    const [secretDoc, resultDoc, ...more] = json.stdout.split(/\n(?=\{)/).map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(more).toEqual([]);
    const newKey = secretDoc?.newKey as { accessKeyId: string; secretAccessKey: string };
    expect(secretDoc).toMatchObject({ schemaVersion: 1, user: target.userName });
    expect(resultDoc).toMatchObject({ ok: true, status: 'rotated', oldKeyId: match?.[1], newKeyId: newKey.accessKeyId });
    expect(JSON.stringify(resultDoc)).not.toContain(newKey.secretAccessKey);
    expect(await whoIs(newKey)).toBe(target.arn);
  });

  it('without a destination: a usage error naming the choices, and nothing happens', async () => {
    const { target, home } = await setup();
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '-y'], home.env);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/--out FILE.*--to-profile NAME.*--print-secret/);
    expect(await listKeys(endpoint, target.userName)).toHaveLength(1);
  });

  it('two active keys: --key says which; the other active key is refused unless --delete-key names it', async () => {
    const { target, home } = await setup();
    const second = await createAccessKey(endpoint, target.userName);
    const ambiguous = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--print-secret', '-y', ...FAST], home.env);
    expect(ambiguous.code, ambiguous.stderr).toBe(2);
    expect(ambiguous.stderr).toContain(target.accessKeyId);
    expect(ambiguous.stderr).toContain(second.accessKeyId);
    expect(ambiguous.stderr).toContain('--key');

    const refused = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--key', second.accessKeyId, '--print-secret', '-y', ...FAST], home.env);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`--delete-key ${target.accessKeyId}`);
    expect((await listKeys(endpoint, target.userName)).map((k) => k.status)).toEqual(['Active', 'Active']);

    const allowed = await runCli(
      ['rotate', '--user', target.userName, '--profile', 'admin', '--key', second.accessKeyId, '--delete-key', target.accessKeyId, '--print-secret', '-y', ...FAST],
      home.env,
    );
    expect(allowed.code, allowed.stderr).toBe(0);
    const keys = await listKeys(endpoint, target.userName);
    expect(keys.map((k) => k.accessKeyId)).not.toContain(target.accessKeyId);
    expect(keys.find((k) => k.accessKeyId === second.accessKeyId)?.status).toBe('Inactive');
  });

  it('an inactive other key is deleted to make room, without --key; -d deletes the old key', async () => {
    const { target, home } = await setup();
    const spare = await createAccessKey(endpoint, target.userName);
    await setKeyStatus(endpoint, target.userName, spare.accessKeyId, 'Inactive');
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--print-secret', '-d', '-y', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    const keys = await listKeys(endpoint, target.userName);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.accessKeyId).not.toBe(target.accessKeyId);
    expect(keys[0]?.accessKeyId).not.toBe(spare.accessKeyId);
    expect(run.stdout).toContain(keys[0]?.accessKeyId ?? '?');
  });

  it('--auth-profile names the admin as well; --dry-run changes nothing', async () => {
    const { target, home } = await setup();
    const out = join(home.home, 'x.json');
    const run = await runCli(['rotate', '--user', target.userName, '--auth-profile', 'admin', '--out', out, '--dry-run'], home.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/write it to the new file .*x\.json/);
    expect(run.stderr).toContain('Dry run');
    await expect(stat(out)).rejects.toThrow();
    expect(await listKeys(endpoint, target.userName)).toHaveLength(1);
  });

  it('refuses to rotate the admin\'s own key with --user, and an unknown user', async () => {
    const { admin, home } = await setup();
    const own = await runCli(['rotate', '--user', admin.userName, '--profile', 'admin', '--print-secret', '-y'], home.env);
    expect(own.code, own.stderr).toBe(2);
    expect(own.stderr).toContain('aws-rekey rotate --profile admin');
    const unknown = await runCli(['rotate', '--user', uniqueName('nobody'), '--profile', 'admin', '--print-secret', '-y'], home.env);
    expect(unknown.code, unknown.stderr).toBe(1);
    expect(unknown.stderr).toMatch(/no IAM user/);
    expect(await listKeys(endpoint, admin.userName)).toHaveLength(1);
  });

  it('a new key that never works is rolled back: the --out file is removed, the key deleted, the old key stays active', async () => {
    const proxy = await tempFaultProxy(endpoint);
    proxy.setNewKeyDelay(60_000);
    const { target, home } = await setup({ endpoint: proxy.endpoint });
    const out = join(home.home, 'bob.json');
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--out', out, '-y', '--verify-timeout', '1', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/was undone/);
    await expect(stat(out)).rejects.toThrow();
    const keys = await listKeys(endpoint, target.userName);
    expect(keys.map((k) => [k.accessKeyId, k.status])).toEqual([[target.accessKeyId, 'Active']]);
    await expect(readdir(join(home.home, '.aws', 'aws-rekey'))).rejects.toThrow();
  });

  it('a failed key that cannot be deleted keeps its secret in the journal; the next run finishes', async () => {
    const proxy = await tempFaultProxy(endpoint);
    proxy.setNewKeyDelay(60_000);
    proxy.setRules([{ action: 'DeleteAccessKey', fault: { kind: 'error', status: 500, code: 'ServiceFailure' } }]);
    const { target, home } = await setup({ endpoint: proxy.endpoint });
    const out = join(home.home, 'bob.json');
    const args = ['rotate', '--user', target.userName, '--profile', 'admin', '--out', out, '-y', '--verify-timeout', '1', ...FAST];
    const run = await runCli(args, home.env);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/deleting the new key .* failed/);
    expect(run.stderr).toMatch(/journal keeps the new key's secret/);
    const keys = await listKeys(endpoint, target.userName);
    const fresh = keys.find((k) => k.accessKeyId !== target.accessKeyId);
    expect(fresh?.status).toBe('Active');
    // Invariant 2: the live new key's secret is stored locally (0600), not lost.
    const journalDir = await recordsDir(home.credentialsPath);
    const [journalName] = await readdir(journalDir);
    const journalPath = join(journalDir, journalName ?? '');
    expect(await readFile(journalPath, 'utf8')).toContain(fresh?.accessKeyId);
    expect(await mode(journalPath)).toBe(0o600);

    // Faults gone: the next run delivers and verifies the key from the journal and retires the old one.
    proxy.setRules([]);
    proxy.setNewKeyDelay(0);
    const again = await runCli(args, home.env);
    expect(again.code, again.stderr).toBe(0);
    const after = await listKeys(endpoint, target.userName);
    expect(after.filter((k) => k.status === 'Active').map((k) => k.accessKeyId)).toEqual([fresh?.accessKeyId]);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ AccessKeyId: fresh?.accessKeyId });
    await expect(readdir(recordsRoot(home.credentialsPath))).rejects.toThrow(); // the journal is gone, and its empty folders with it
  });

  it('killed while CreateAccessKey is in flight: the next run deletes the key whose secret never arrived', async () => {
    const proxy = await tempFaultProxy(endpoint);
    const { target, home } = await setup({ endpoint: proxy.endpoint });
    const out = join(home.home, 'bob.json');
    const args = ['rotate', '--user', target.userName, '--profile', 'admin', '--out', out, '-y', ...FAST];
    const started = startCli(args, home.env);
    proxy.onRequest('CreateAccessKey', () => {
      started.child.kill('SIGKILL');
    });
    await started.done;
    // The request still reached IAM: a key exists that nobody has the secret of.
    await expect.poll(async () => (await listKeys(endpoint, target.userName)).length).toBe(2);
    const journalDir = await recordsDir(home.credentialsPath);
    expect((await readdir(journalDir)).some((n) => n.endsWith('.user-journal.json'))).toBe(true);
    expect(((await stat(journalDir)).mode & 0o777)).toBe(0o700);

    const again = await runCli(args, home.env);
    expect(again.stderr).toMatch(/did not finish/);
    expect(again.code, again.stderr).toBe(0);
    expect((await listKeys(endpoint, target.userName)).map((k) => k.accessKeyId)).toEqual([target.accessKeyId]);
    await expect(stat(out)).rejects.toThrow();
    // Now a rotation goes through.
    expect((await runCli(args, home.env)).code).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ Version: 1 });
  });

  it('a crash between create and write loses no secret: the journal delivers the key on the next run', async () => {
    const { target, home } = await setup();
    // The state a crash right after CreateAccessKey leaves: the new secret only in the journal.
    const fresh = await createAccessKey(endpoint, target.userName);
    const out = join(home.home, 'bob.credentials');
    const dir = join(home.home, '.aws', 'aws-rekey');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const now = new Date().toISOString();
    await writeFile(
      join(dir, `user-${target.userName}.user-journal.json`),
      JSON.stringify({
        version: 1,
        kind: 'user',
        userName: target.userName,
        userArn: target.arn,
        credentialsPath: home.credentialsPath,
        oldKeyId: target.accessKeyId,
        keysBefore: [target.accessKeyId],
        retire: 'deactivate',
        destination: { kind: 'file', path: out, format: 'ini', section: target.userName },
        force: false,
        phase: 'created',
        newKey: fresh,
        startedAt: now,
        updatedAt: now,
      }),
      { mode: 0o600 },
    );
    const run = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--out', out, '-y', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('finished');
    expect(await readFile(out, 'utf8')).toBe(`[${target.userName}]\naws_access_key_id = ${fresh.accessKeyId}\naws_secret_access_key = ${fresh.secretAccessKey}\n`);
    const keys = await listKeys(endpoint, target.userName);
    expect(keys.find((k) => k.accessKeyId === target.accessKeyId)?.status).toBe('Inactive');
    expect(keys.find((k) => k.accessKeyId === fresh.accessKeyId)?.status).toBe('Active');
    await expect(readdir(dir)).rejects.toThrow();
  });
});
