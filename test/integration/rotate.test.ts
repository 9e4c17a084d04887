import { readFile, stat } from 'node:fs/promises';
import { describe, expect, inject, it } from 'vitest';
import { credentialsFile, runCli } from '../support/cli.js';
import { createAccessKey, createUserWithKey, listKeys, setKeyStatus, uniqueName } from '../support/iam.js';
import { FAST, tempHome } from '../support/integration.js';

const endpoint = inject('motoEndpoint');

async function setup(options: { path?: string; extraProfiles?: string; credentials?: (key: { accessKeyId: string; secretAccessKey: string }) => string } = {}) {
  const user = await createUserWithKey(endpoint, uniqueName('rot'), options.path ? { path: options.path } : {});
  const body = options.credentials
    ? options.credentials(user)
    : credentialsFile({ work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey, extra: 'region = eu-west-1\n' } }) + (options.extraProfiles ?? '');
  const home = await tempHome({ endpoint, credentials: body });
  return { user, home };
}

describe('rotate against a real IAM API (moto)', () => {
  it('rotates a single key: new key in the file, old key inactive, file 0600 with a 0600 backup', async () => {
    const { user, home } = await setup();
    const before = await home.readCredentials();
    const run = await runCli(['--profile', 'work', '--yes', ...FAST], home.env);
    expect(run.stderr).toContain('Rotated the access key');
    expect(run.code).toBe(0);

    const keys = await listKeys(endpoint, user.userName);
    expect(keys).toHaveLength(2);
    const old = keys.find((k) => k.accessKeyId === user.accessKeyId);
    const fresh = keys.find((k) => k.accessKeyId !== user.accessKeyId);
    expect(old?.status).toBe('Inactive');
    expect(fresh?.status).toBe('Active');

    const after = await home.readCredentials();
    expect(after).toContain(`aws_access_key_id = ${fresh?.accessKeyId}`);
    expect(after).not.toContain(user.secretAccessKey);
    expect(after).toContain('region = eu-west-1');
    expect(await home.credentialsMode()).toBe(0o600);
    const backupPath = `${home.credentialsPath}.aws-rekey.bak`;
    expect(await readFile(backupPath, 'utf8')).toBe(before);
    expect((await stat(backupPath)).mode & 0o777).toBe(0o600);
    // Secrets are never printed.
    expect(run.stdout + run.stderr).not.toContain(user.secretAccessKey);
    const newSecret = /aws_secret_access_key = (\S+)/.exec(after)?.[1] ?? '';
    expect(newSecret.length).toBeGreaterThan(10);
    expect(run.stdout + run.stderr).not.toContain(newSecret);
    expect(run.stderr).not.toContain(fresh?.accessKeyId);
  });

  it('deletes the old key with -d, and the new key works for the next rotation', async () => {
    const { user, home } = await setup();
    expect((await runCli(['--profile', 'work', '-y', '-d', ...FAST], home.env)).code).toBe(0);
    let keys = await listKeys(endpoint, user.userName);
    expect(keys.map((k) => k.status)).toEqual(['Active']);
    expect(keys[0]?.accessKeyId).not.toBe(user.accessKeyId);
    const second = keys[0]?.accessKeyId;
    expect((await runCli(['--profile', 'work', '-y', '-d', ...FAST], home.env)).code).toBe(0);
    keys = await listKeys(endpoint, user.userName);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.accessKeyId).not.toBe(second);
  });

  it('deletes an inactive other key first to make room', async () => {
    const { user, home } = await setup();
    const other = await createAccessKey(endpoint, user.userName);
    await setKeyStatus(endpoint, user.userName, other.accessKeyId, 'Inactive');
    const run = await runCli(['--profile', 'work', '-y', ...FAST], home.env);
    expect(run.code).toBe(0);
    const keys = await listKeys(endpoint, user.userName);
    expect(keys.map((k) => k.accessKeyId)).not.toContain(other.accessKeyId);
    expect(keys).toHaveLength(2);
  });

  it('refuses when the other key is active, naming it, and changes nothing; --delete-key allows it', async () => {
    const { user, home } = await setup();
    const other = await createAccessKey(endpoint, user.userName);
    const before = await home.readCredentials();
    const refused = await runCli(['--profile', 'work', '-y', ...FAST], home.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/two active keys/);
    expect(refused.stderr).toContain(`--delete-key ${other.accessKeyId}`);
    expect(await home.readCredentials()).toBe(before);
    expect((await listKeys(endpoint, user.userName)).map((k) => k.status)).toEqual(['Active', 'Active']);

    const allowed = await runCli(['--profile', 'work', '-y', '--delete-key', other.accessKeyId, ...FAST], home.env);
    expect(allowed.code).toBe(0);
    const keys = await listKeys(endpoint, user.userName);
    expect(keys.map((k) => k.accessKeyId)).not.toContain(other.accessKeyId);
    expect(keys.find((k) => k.accessKeyId === user.accessKeyId)?.status).toBe('Inactive');
  });

  it('--dry-run shows the plan and changes nothing', async () => {
    const { user, home } = await setup();
    const before = await home.readCredentials();
    const run = await runCli(['--profile', 'work', '--dry-run'], home.env);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('create a new access key');
    expect(run.stderr).toContain('Dry run');
    expect(await home.readCredentials()).toBe(before);
    expect(await listKeys(endpoint, user.userName)).toHaveLength(1);
  });

  it('--json prints one document with the new key id and never a secret', async () => {
    const { user, home } = await setup();
    const run = await runCli(['--profile', 'work', '--json', '--yes', ...FAST], home.env);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ schemaVersion: 1, ok: true, status: 'rotated', oldKeyId: user.accessKeyId, retired: 'deactivate', profiles: ['work'] });
    const keys = await listKeys(endpoint, user.userName);
    expect(doc.newKeyId).toBe(keys.find((k) => k.accessKeyId !== user.accessKeyId)?.accessKeyId);
    expect(run.stdout).not.toMatch(/secret/i);
    const after = await home.readCredentials();
    const newSecret = /aws_secret_access_key = (\S+)/.exec(after)?.[1] ?? '';
    expect(run.stdout + run.stderr).not.toContain(newSecret);
  });

  it('--json without --yes refuses (no prompt) with a JSON error and exit 2', async () => {
    const { user, home } = await setup();
    const run = await runCli(['--profile', 'work', '--json'], home.env);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'ABORTED' } });
    expect(await listKeys(endpoint, user.userName)).toHaveLength(1);
  });

  it('without a terminal and without --yes, refuses and changes nothing', async () => {
    const { user, home } = await setup();
    const run = await runCli(['--profile', 'work'], home.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--yes');
    expect(await listKeys(endpoint, user.userName)).toHaveLength(1);
  });

  it('updates every profile holding the old key and nothing else, keeping comments and CRLF', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('alias'));
    const unrelated = await createUserWithKey(endpoint, uniqueName('other'));
    const body = [
      '# my keys\r\n',
      '[work]\r\n',
      `aws_access_key_id = ${user.accessKeyId}\r\n`,
      `aws_secret_access_key = ${user.secretAccessKey}\r\n`,
      '; same key, other name\r\n',
      '[alias]\r\n',
      `aws_access_key_id=${user.accessKeyId}\r\n`,
      `aws_secret_access_key=${user.secretAccessKey}\r\n`,
      'output = json\r\n',
      '\r\n',
      '[unrelated]\r\n',
      `aws_access_key_id = ${unrelated.accessKeyId}\r\n`,
      `aws_secret_access_key = ${unrelated.secretAccessKey}\r\n`,
    ].join('');
    const home = await tempHome({ endpoint, credentials: body });
    const run = await runCli(['--profile', 'alias', '-y', ...FAST], home.env);
    expect(run.code).toBe(0);
    const after = await home.readCredentials();
    const fresh = (await listKeys(endpoint, user.userName)).find((k) => k.accessKeyId !== user.accessKeyId);
    const newSecret = /\[work\]\r\naws_access_key_id = \S+\r\naws_secret_access_key = (\S+)\r\n/.exec(after)?.[1] ?? '';
    const expected = body
      .replaceAll(user.accessKeyId, fresh?.accessKeyId ?? '?')
      .replaceAll(user.secretAccessKey, newSecret);
    expect(after).toBe(expected);
    expect(after).toContain(unrelated.secretAccessKey);
  });

  it('rotates a user with a path (user/team/name)', async () => {
    const { user, home } = await setup({ path: '/team/dev/' });
    const run = await runCli(['--profile', 'work', '-y', '--json', ...FAST], home.env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).user).toMatchObject({ name: user.userName, arn: expect.stringContaining(`user/team/dev/${user.userName}`) });
  });

  it('lists the keys with `keys`, marking the profile key', async () => {
    const { user, home } = await setup();
    const other = await createAccessKey(endpoint, user.userName);
    const run = await runCli(['keys', '--profile', 'work', '--json'], home.env);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { keys: Array<{ accessKeyId: string; current: boolean; status: string; profiles: string[] }> };
    expect(doc.keys).toHaveLength(2);
    expect(doc.keys.find((k) => k.accessKeyId === user.accessKeyId)).toMatchObject({ current: true, profiles: ['work'], status: 'Active' });
    expect(doc.keys.find((k) => k.accessKeyId === other.accessKeyId)).toMatchObject({ current: false, profiles: [] });
    const table = await runCli(['keys', '--profile', 'work'], home.env);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`${user.accessKeyId} *`);
    expect(table.stdout).toContain(other.accessKeyId);
  });
});
