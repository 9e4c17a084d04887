import { describe, expect, inject, it } from 'vitest';
import { credentialsFile, runCli } from '../support/cli.js';
import { createAccessKey, createUserWithKey, listKeys, setKeyStatus, uniqueName } from '../support/iam.js';
import { FAST, succeed, tempHome } from '../support/integration.js';

/*
 * aws-rekey prune: deletes the user's retired keys (inactive, held by no profile) and nothing else.
 */

const endpoint = inject('motoEndpoint');

interface PruneJson {
  ok: boolean;
  dryRun: boolean;
  user: { name: string };
  deleted: Array<{ accessKeyId: string }>;
  kept: Array<{ accessKeyId: string; reason: string; detail: string }>;
}

/** A user with an active key in profile `work` and a second, inactive key that no profile holds. */
async function retiredKeyScene(options: { extraProfiles?: (retired: { accessKeyId: string; secretAccessKey: string }) => string } = {}) {
  const user = await createUserWithKey(endpoint, uniqueName('prune'));
  const retired = await createAccessKey(endpoint, user.userName);
  await setKeyStatus(endpoint, user.userName, retired.accessKeyId, 'Inactive');
  const home = await tempHome({
    endpoint,
    credentials: credentialsFile({ work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } }) + (options.extraProfiles?.(retired) ?? ''),
  });
  return { user, retired, home };
}

describe('aws-rekey prune', () => {
  it('after a rotation: the summary names prune; --dry-run changes nothing; then the old key is deleted and the new one stays', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('prune-rot'));
    const home = await tempHome({ endpoint, credentials: credentialsFile({ 'my work': { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } }) });
    const rotation = await succeed(['--profile', 'my work', '--yes', ...FAST], home.env);
    // Quoted for the shell; the credentials file is the default one (~/.aws/credentials), so not named; the endpoint is.
    expect(rotation.stderr).toContain(`deactivated (once nothing needs it: \`AWS_ENDPOINT_URL=${endpoint} aws-rekey prune --profile 'my work'\`)`);
    expect(rotation.stderr).not.toContain('later with --delete');

    const dry = await succeed(['prune', '--profile', 'my work', '--dry-run', '--json'], home.env);
    expect(JSON.parse(dry.stdout)).toMatchObject({ ok: true, dryRun: true, deleted: [{ accessKeyId: user.accessKeyId }], kept: [{ reason: 'active' }] });
    expect(await listKeys(endpoint, user.userName)).toHaveLength(2);

    const run = await succeed(['prune', '--profile', 'my work', '--yes'], home.env);
    expect(run.stderr).toMatch(/delete {2}AKIA…\w{4} {2}inactive, created \d{4}-\d\d-\d\d, (never used|last used)/);
    expect(run.stderr).toMatch(/keep {4}AKIA…\w{4} {2}it is active/);
    const keys = await listKeys(endpoint, user.userName);
    expect(keys.map((key) => key.status)).toEqual(['Active']);
    expect(keys[0]!.accessKeyId).not.toBe(user.accessKeyId);
    expect(run.stdout).toBe('');
  });

  it('keeps an inactive key that a profile still holds, and says so', async () => {
    const { user, retired, home } = await retiredKeyScene({ extraProfiles: (r) => `\n[stale]\naws_access_key_id = ${r.accessKeyId}\naws_secret_access_key = ${r.secretAccessKey}\n` });
    const run = await succeed(['prune', '--profile', 'work', '--yes', '--json'], home.env);
    const doc = JSON.parse(run.stdout) as PruneJson;
    expect(doc.deleted).toEqual([]);
    expect(doc.kept).toEqual(
      expect.arrayContaining([expect.objectContaining({ accessKeyId: retired.accessKeyId, reason: 'in-profile', detail: 'it is still in profile stale' })]),
    );
    expect(await listKeys(endpoint, user.userName)).toHaveLength(2);

    const named = await runCli(['prune', '--profile', 'work', '--key', retired.accessKeyId, '--yes', '--json'], home.env);
    expect(named.code).toBe(2);
    expect(JSON.parse(named.stdout)).toMatchObject({ ok: false, error: { code: 'PRUNE_REFUSED', message: expect.stringContaining('still in profile stale') } });
  });

  it('refuses to delete an active key named with --key: exit 2, nothing deleted', async () => {
    const { user, home } = await retiredKeyScene();
    const run = await runCli(['prune', '--profile', 'work', '--key', user.accessKeyId, '--yes', '--json'], home.env);
    expect(run.code, run.stderr).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'PRUNE_REFUSED', message: expect.stringContaining('it is active') } });
    expect(await listKeys(endpoint, user.userName)).toHaveLength(2);
  });

  it('--older-than keeps keys used (or created) more recently', async () => {
    const { user, retired, home } = await retiredKeyScene();
    const run = await succeed(['prune', '--profile', 'work', '--older-than', '30', '--yes', '--json'], home.env);
    expect(JSON.parse(run.stdout)).toMatchObject({ deleted: [], kept: expect.arrayContaining([expect.objectContaining({ accessKeyId: retired.accessKeyId, reason: 'recently-used' })]) });
    expect(await listKeys(endpoint, user.userName)).toHaveLength(2);
    const zero = await succeed(['prune', '--profile', 'work', '--older-than', '0', '--yes', '--json'], home.env);
    expect(JSON.parse(zero.stdout)).toMatchObject({ deleted: [{ accessKeyId: retired.accessKeyId }] });
  });

  it('without a terminal and without --yes: asks nobody, exit 2, nothing deleted', async () => {
    const { user, home } = await retiredKeyScene();
    const run = await runCli(['prune', '--profile', 'work'], home.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/confirmation is needed/);
    expect(await listKeys(endpoint, user.userName)).toHaveLength(2);
  });

  it("--user: an admin prunes another user's retired key with their own profile", async () => {
    const admin = await createUserWithKey(endpoint, uniqueName('prune-admin'));
    const target = await createUserWithKey(endpoint, uniqueName('prune-target'));
    await setKeyStatus(endpoint, target.userName, target.accessKeyId, 'Inactive');
    const home = await tempHome({ endpoint, credentials: credentialsFile({ admin: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey } }) });
    const run = await succeed(['prune', '--profile', 'admin', '--user', target.userName, '--yes', '--json'], home.env);
    expect(JSON.parse(run.stdout)).toMatchObject({ user: { name: target.userName }, deleted: [{ accessKeyId: target.accessKeyId }] });
    expect(await listKeys(endpoint, target.userName)).toEqual([]);
    expect(await listKeys(endpoint, admin.userName)).toHaveLength(1);
  });
});
