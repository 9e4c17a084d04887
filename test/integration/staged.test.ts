import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { credentialsFile, runCli, startCli, type TempHome } from '../support/cli.js';
import { createUserWithKey, listKeys, stsClient, uniqueName } from '../support/iam.js';
import { FAST, succeed, tempFaultProxy, tempHome } from '../support/integration.js';
import { recordsDir } from '../../src/credentials/records.js';

const endpoint = inject('motoEndpoint');

async function setupProfile(options: { endpoint?: string } = {}) {
  const user = await createUserWithKey(endpoint, uniqueName('app'));
  const body = `# app keys\n${credentialsFile({ app: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey, extra: 'region = eu-west-1\n' } })}`;
  const home = await tempHome({ endpoint: options.endpoint ?? endpoint, credentials: body });
  return { user, home, body };
}

const statusOf = async (home: TempHome) => JSON.parse((await runCli(['status', '--json'], home.env)).stdout) as { rotations: Array<Record<string, unknown>> };
const keyStatus = async (userName: string, id: string) => (await listKeys(endpoint, userName)).find((k) => k.accessKeyId === id)?.status;
const profileKey = (text: string) => /aws_access_key_id = (\S+)/.exec(text)?.[1] ?? '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lastUsedBody(date: string, service: string, region: string): string {
  return `<GetAccessKeyLastUsedResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccessKeyLastUsedResult><AccessKeyLastUsed><Region>${region}</Region><LastUsedDate>${date}</LastUsedDate><ServiceName>${service}</ServiceName></AccessKeyLastUsed><UserName>x</UserName></GetAccessKeyLastUsedResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetAccessKeyLastUsedResponse>`;
}

describe('staged rotation of a profile (moto)', () => {
  it('create → retire → delete: the old key stays active, then inactive, then gone; status follows', async () => {
    const { user, home } = await setupProfile();
    const created = await runCli(['rotate', '--profile', 'app', '--stage', 'create', '-y', ...FAST], home.env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('--stage retire');
    const after = await home.readCredentials();
    const fresh = profileKey(after);
    expect(fresh).not.toBe(user.accessKeyId);
    expect(after).toContain('region = eu-west-1');
    expect(await keyStatus(user.userName, user.accessKeyId)).toBe('Active');
    expect(await keyStatus(user.userName, fresh)).toBe('Active');

    // The record: 0600, and the only place besides the backup that keeps the old secret (for a rollback).
    const dir = await recordsDir(home.credentialsPath);
    const names = await readdir(dir);
    expect(names).toEqual(['profile-app.staged.json']);
    const recordPath = join(dir, names[0]!);
    expect((await stat(recordPath)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(recordPath, 'utf8'))).toMatchObject({ stage: 'created', oldKeyId: user.accessKeyId, newKeyId: fresh, oldSecretAccessKey: user.secretAccessKey });
    expect((await statusOf(home)).rotations).toMatchObject([{ id: 'profile-app', stage: 'created', oldKeyId: user.accessKeyId, newKeyId: fresh }]);
    const table = await runCli(['status'], home.env);
    expect(table.stdout).toContain('--profile app');
    expect(table.stdout).toContain('created');
    expect(table.stdout + table.stderr).not.toContain(user.secretAccessKey);

    // A plain rotation now would fight over the key slots.
    const plain = await runCli(['rotate', '--profile', 'app', '-y', ...FAST], home.env);
    expect(plain.code, plain.stderr).toBe(2);
    expect(plain.stderr).toMatch(/staged rotation of profile app is under way/);

    const early = await runCli(['rotate', '--profile', 'app', '--stage', 'delete', '-y'], home.env);
    expect(early.code, early.stderr).toBe(1);
    expect(early.stderr).toMatch(/still active/);
    expect(await keyStatus(user.userName, user.accessKeyId)).toBe('Active');

    const retired = await runCli(['rotate', '--profile', 'app', '--stage', 'retire', '-y'], home.env);
    expect(retired.code, retired.stderr).toBe(0);
    expect(await keyStatus(user.userName, user.accessKeyId)).toBe('Inactive');
    expect((await statusOf(home)).rotations).toMatchObject([{ stage: 'retired' }]);

    const deleted = await runCli(['rotate', '--profile', 'app', '--stage', 'delete', '-y'], home.env);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await listKeys(endpoint, user.userName)).map((k) => k.accessKeyId)).toEqual([fresh]);
    expect((await statusOf(home)).rotations).toEqual([]);
    await expect(stat(recordPath)).rejects.toThrow();
    expect(await home.readCredentials()).toBe(after);
  });

  it('retire refuses while the old key is still used after the new key was created, saying when and where; --force retires it', async () => {
    const { user, home } = await setupProfile();
    await succeed(['rotate', '--profile', 'app', '--stage', 'create', '-y', ...FAST], home.env);
    // Something still signs with the old key, a little later than the new key's creation.
    await sleep(1_100);
    await stsClient(endpoint, user).send(new GetCallerIdentityCommand({}));

    const dry = await runCli(['rotate', '--profile', 'app', '--stage', 'retire', '--dry-run'], home.env);
    expect(dry.code, dry.stderr).toBe(1);
    const refused = await runCli(['rotate', '--profile', 'app', '--stage', 'retire', '-y'], home.env);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/was used at \d{4}-\d\d-\d\dT[\d:.]+Z by sts in us-east-1, after the new key/);
    expect(refused.stderr).toContain('--force');
    expect(await keyStatus(user.userName, user.accessKeyId)).toBe('Active');
    expect((await statusOf(home)).rotations).toMatchObject([{ stage: 'created' }]);

    const forced = await runCli(['rotate', '--profile', 'app', '--stage', 'retire', '--force', '-y'], home.env);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/deactivating it anyway/);
    expect(await keyStatus(user.userName, user.accessKeyId)).toBe('Inactive');
  });

  it('rollback after retire reactivates the old key (back to stage created); rollback --delete-new restores the file byte for byte', async () => {
    const { user, home, body } = await setupProfile();
    await succeed(['rotate', '--profile', 'app', '--stage', 'create', '-y', ...FAST], home.env);
    const fresh = profileKey(await home.readCredentials());
    await succeed(['rotate', '--profile', 'app', '--stage', 'retire', '-y'], home.env);

    const back = await runCli(['rollback', '--profile', 'app', '-y', ...FAST], home.env);
    expect(back.code, back.stderr).toBe(0);
    expect(await keyStatus(user.userName, user.accessKeyId)).toBe('Active');
    expect(await keyStatus(user.userName, fresh)).toBe('Active');
    expect(profileKey(await home.readCredentials())).toBe(fresh);
    expect((await statusOf(home)).rotations).toMatchObject([{ stage: 'created' }]);

    const undo = await runCli(['rollback', '--profile', 'app', '--delete-new', '-y', ...FAST], home.env);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await home.readCredentials()).toBe(body);
    expect((await listKeys(endpoint, user.userName)).map((k) => [k.accessKeyId, k.status])).toEqual([[user.accessKeyId, 'Active']]);
    expect((await statusOf(home)).rotations).toEqual([]);
    // And the profile works as before: a fresh rotation goes through.
    await succeed(['rotate', '--profile', 'app', '-y', ...FAST], home.env);
  });

  it('with the old key back in the profile, retire is refused and rollback --delete-new still finishes', async () => {
    const { user, home, body } = await setupProfile();
    await succeed(['rotate', '--profile', 'app', '--stage', 'create', '-y', ...FAST], home.env);
    const fresh = profileKey(await home.readCredentials());
    // As a rollback that stopped after putting the old pair back would leave it.
    await writeFile(home.credentialsPath, body);
    const retire = await runCli(['rotate', '--profile', 'app', '--stage', 'retire', '-y'], home.env);
    expect(retire.code, retire.stderr).toBe(2);
    expect(retire.stderr).toMatch(/holds AKIA….*, not the new key/);
    expect(await keyStatus(user.userName, user.accessKeyId)).toBe('Active');

    const undo = await runCli(['rollback', '--profile', 'app', '--delete-new', '-y', ...FAST], home.env);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await keyStatus(user.userName, fresh)).toBeUndefined();
    expect(await home.readCredentials()).toBe(body);
    expect((await statusOf(home)).rotations).toEqual([]);
  });

  it('retire, delete and rollback without a recorded rotation: a usage error', async () => {
    const { home } = await setupProfile();
    for (const args of [
      ['rotate', '--profile', 'app', '--stage', 'retire', '-y'],
      ['rotate', '--profile', 'app', '--stage', 'delete', '-y'],
      ['rollback', '--profile', 'app', '-y'],
    ]) {
      const run = await runCli(args, home.env);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/No staged rotation is recorded for profile app/);
    }
  });

  it('--stage create without --yes and without a terminal changes nothing', async () => {
    const { user, home, body } = await setupProfile();
    const run = await runCli(['rotate', '--profile', 'app', '--stage', 'create'], home.env);
    expect(run.code, run.stderr).toBe(2);
    expect(await home.readCredentials()).toBe(body);
    expect(await listKeys(endpoint, user.userName)).toHaveLength(1);
  });

  it('killed during --stage create verification: recovery finishes the stage and keeps the old key active', async () => {
    const proxy = await tempFaultProxy(endpoint);
    const { user, home } = await setupProfile({ endpoint: proxy.endpoint });
    const started = startCli(['rotate', '--profile', 'app', '--stage', 'create', '-y', ...FAST], home.env);
    let calls = 0;
    proxy.onRequest('GetCallerIdentity', () => {
      calls += 1;
      // The first call identifies the user with the old key; the second verifies the new key.
      if (calls === 2) started.child.kill('SIGKILL');
    });
    await started.done;
    expect((await statusOf(home)).rotations).toMatchObject([{ stage: 'interrupted', phase: 'written' }]);

    const recovered = await runCli(['recover', '--profile', 'app', ...FAST], home.env);
    expect(recovered.code, recovered.stderr).toBe(0);
    const fresh = profileKey(await home.readCredentials());
    expect(fresh).not.toBe(user.accessKeyId);
    expect(await keyStatus(user.userName, user.accessKeyId)).toBe('Active');
    expect(await keyStatus(user.userName, fresh)).toBe('Active');
    expect((await statusOf(home)).rotations).toMatchObject([{ id: 'profile-app', stage: 'created', newKeyId: fresh }]);
  });
});

describe('staged rotation of another user (--user, moto)', () => {
  async function setupUser(options: { endpoint?: string } = {}) {
    const admin = await createUserWithKey(endpoint, uniqueName('admin'));
    const target = await createUserWithKey(endpoint, uniqueName('svc'));
    const home = await tempHome({ endpoint: options.endpoint ?? endpoint, credentials: credentialsFile({ admin }) });
    return { target, home };
  }

  it('create with --out, retire, delete; status lists it as --user', async () => {
    const { target, home } = await setupUser();
    const out = join(home.home, 'svc.json');
    const created = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--stage', 'create', '--out', out, '-y', ...FAST], home.env);
    expect(created.code, created.stderr).toBe(0);
    const fresh = (JSON.parse(await readFile(out, 'utf8')) as { AccessKeyId: string }).AccessKeyId;
    expect(await keyStatus(target.userName, target.accessKeyId)).toBe('Active');
    expect((await statusOf(home)).rotations).toMatchObject([{ id: `user-aws-123456789012-${target.userName}`, account: '123456789012', mode: 'user', stage: 'created', newKeyId: fresh }]);
    const again = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--print-secret', '-y', ...FAST], home.env);
    expect(again.code, again.stderr).toBe(2);
    expect(again.stderr).toMatch(/staged rotation of user .* is under way/);

    await succeed(['rotate', '--user', target.userName, '--profile', 'admin', '--stage', 'retire', '-y'], home.env);
    expect(await keyStatus(target.userName, target.accessKeyId)).toBe('Inactive');
    await succeed(['rotate', '--user', target.userName, '--profile', 'admin', '--stage', 'delete', '-y'], home.env);
    expect((await listKeys(endpoint, target.userName)).map((k) => k.accessKeyId)).toEqual([fresh]);
    expect((await statusOf(home)).rotations).toEqual([]);
  });

  it('retire shows the service and region of a late use (answer faked by the proxy) and refuses; JSON error for scripts', async () => {
    const proxy = await tempFaultProxy(endpoint);
    const { target, home } = await setupUser({ endpoint: proxy.endpoint });
    await succeed(['rotate', '--user', target.userName, '--profile', 'admin', '--stage', 'create', '--print-secret', '-y', ...FAST], home.env);
    proxy.setRules([{ action: 'GetAccessKeyLastUsed', fault: { kind: 'respond', status: 200, body: lastUsedBody('2099-01-02T03:04:05Z', 's3', 'ap-southeast-2') } }]);
    const refused = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--stage', 'retire', '-y', '--json'], home.env);
    expect(refused.code, refused.stderr).toBe(1);
    const doc = JSON.parse(refused.stdout) as { ok: boolean; error: { code: string; message: string } };
    expect(doc).toMatchObject({ ok: false, error: { code: 'OLD_KEY_IN_USE' } });
    expect(doc.error.message).toContain('at 2099-01-02T03:04:05.000Z by s3 in ap-southeast-2');
    expect(await keyStatus(target.userName, target.accessKeyId)).toBe('Active');

    proxy.setRules([{ action: 'GetAccessKeyLastUsed', fault: { kind: 'respond', status: 200, body: lastUsedBody('2001-01-01T00:00:00Z', 's3', 'ap-southeast-2') } }]);
    const ok = await runCli(['rotate', '--user', target.userName, '--profile', 'admin', '--stage', 'retire', '-y'], home.env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await keyStatus(target.userName, target.accessKeyId)).toBe('Inactive');
  });

  it('--to-profile holding the old key: rollback --delete-new puts the old pair back in it', async () => {
    const { target, home } = await setupUser();
    const before = `${await home.readCredentials()}\n${credentialsFile({ svc: target })}`;
    await writeFile(home.credentialsPath, before);
    await succeed(['rotate', '--user', target.userName, '--profile', 'admin', '--stage', 'create', '--to-profile', 'svc', '-y', ...FAST], home.env);
    const fresh = /\[svc\]\naws_access_key_id = (\S+)/.exec(await home.readCredentials())?.[1];
    expect(fresh).not.toBe(target.accessKeyId);
    expect(await keyStatus(target.userName, target.accessKeyId)).toBe('Active');
    const run = await runCli(['rollback', '--user', target.userName, '--auth-profile', 'admin', '--delete-new', '-y', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    expect(await home.readCredentials()).toBe(before);
    expect((await listKeys(endpoint, target.userName)).map((k) => k.accessKeyId)).toEqual([target.accessKeyId]);
  });

  it('rollback --delete-new refuses when IAM saw the new key used after it was created and checked, naming when and where; --force deletes it', async () => {
    const proxy = await tempFaultProxy(endpoint);
    const { target, home } = await setupUser({ endpoint: proxy.endpoint });
    const out = join(home.home, 'svc.credentials');
    await succeed(['rotate', '--user', target.userName, '--profile', 'admin', '--stage', 'create', '--out', out, '-y', ...FAST], home.env);
    const fresh = /aws_access_key_id = (\S+)/.exec(await readFile(out, 'utf8'))?.[1];
    proxy.setRules([{ action: 'GetAccessKeyLastUsed', fault: { kind: 'respond', status: 200, body: lastUsedBody('2099-01-02T03:04:05Z', 's3', 'ap-southeast-2') } }]);
    const refused = await runCli(['rollback', '--user', target.userName, '--profile', 'admin', '--delete-new', '-y', '--json', ...FAST], home.env);
    expect(refused.code, refused.stderr).toBe(1);
    const doc = JSON.parse(refused.stdout) as { ok: boolean; error: { code: string; message: string; hint: string } };
    expect(doc).toMatchObject({ ok: false, error: { code: 'NEW_KEY_IN_USE' } });
    expect(doc.error.message).toContain('at 2099-01-02T03:04:05.000Z by s3 in ap-southeast-2');
    expect(doc.error.hint).toContain('--force');
    expect(await readFile(out, 'utf8')).toContain(fresh);
    expect(await keyStatus(target.userName, fresh ?? '')).toBe('Active');

    const forced = await runCli(['rollback', '--user', target.userName, '--profile', 'admin', '--delete-new', '--force', '-y', ...FAST], home.env);
    expect(forced.code, forced.stderr).toBe(0);
    await expect(stat(out)).rejects.toThrow();
    expect((await listKeys(endpoint, target.userName)).map((k) => [k.accessKeyId, k.status])).toEqual([[target.accessKeyId, 'Active']]);
  });

  it('rollback --delete-new removes the --out file and the new key, and reactivates the old key', async () => {
    const { target, home } = await setupUser();
    const out = join(home.home, 'svc.credentials');
    await succeed(['rotate', '--user', target.userName, '--profile', 'admin', '--stage', 'create', '--out', out, '-y', ...FAST], home.env);
    await succeed(['rotate', '--user', target.userName, '--profile', 'admin', '--stage', 'retire', '-y'], home.env);
    const dry = await runCli(['rollback', '--user', target.userName, '--profile', 'admin', '--delete-new', '--dry-run'], home.env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/reactivate the old key/);
    expect(await keyStatus(target.userName, target.accessKeyId)).toBe('Inactive');

    const run = await runCli(['rollback', '--user', target.userName, '--profile', 'admin', '--delete-new', '-y', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    await expect(stat(out)).rejects.toThrow();
    expect((await listKeys(endpoint, target.userName)).map((k) => [k.accessKeyId, k.status])).toEqual([[target.accessKeyId, 'Active']]);
    expect((await statusOf(home)).rotations).toEqual([]);
  });
});
