import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { credentialsFile, runCli, type CliRun } from '../support/cli.js';
import { createUserWithKey, uniqueName } from '../support/iam.js';
import { tempHome } from '../support/integration.js';

/*
 * `keys` only reads: whatever kind of credentials the AWS CLI takes will do, and it never says that a
 * profile "cannot be rotated".
 */

const endpoint = inject('motoEndpoint');

interface KeysDoc {
  source: string;
  profile?: string;
  user: { name: string; arn: string };
  keys: Array<{ accessKeyId: string; current: boolean; profiles: string[] }>;
}

function listed(run: CliRun): KeysDoc {
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout + run.stderr).not.toMatch(/cannot be rotated/);
  return JSON.parse(run.stdout) as KeysDoc;
}

describe('keys with any credentials source (moto)', () => {
  it('the environment (AWS_ACCESS_KEY_ID, no profile, no credentials file)', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('k-env'));
    const home = await tempHome({ endpoint });
    const doc = listed(await runCli(['keys', '--json'], { ...home.env, AWS_ACCESS_KEY_ID: user.accessKeyId, AWS_SECRET_ACCESS_KEY: user.secretAccessKey }));
    expect(doc.source).toMatch(/environment/);
    expect(doc.user.name).toBe(user.userName);
    expect(doc.keys).toEqual([expect.objectContaining({ accessKeyId: user.accessKeyId, current: true })]);
  });

  it('keys kept in the config file ([profile NAME])', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('k-cfg'));
    const home = await tempHome({ endpoint, config: `[profile cfg]\naws_access_key_id = ${user.accessKeyId}\naws_secret_access_key = ${user.secretAccessKey}\n` });
    const doc = listed(await runCli(['keys', '--profile', 'cfg', '--json'], home.env));
    expect(doc).toMatchObject({ profile: 'cfg', user: { name: user.userName } });
    expect(doc.keys).toEqual([expect.objectContaining({ accessKeyId: user.accessKeyId, current: true })]);
  });

  it('credential_process (a script printing the key as JSON)', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('k-proc'));
    const home = await tempHome({ endpoint });
    const script = join(home.home, 'creds.sh');
    await writeFile(script, `#!/bin/sh\nprintf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s"}' '${user.accessKeyId}' '${user.secretAccessKey}'\n`);
    await chmod(script, 0o700);
    await writeFile(home.configPath, `[profile proc]\ncredential_process = ${script}\n`, { mode: 0o600 });
    const doc = listed(await runCli(['keys', '--profile', 'proc', '--json'], home.env));
    expect(doc.user.name).toBe(user.userName);
    expect(doc.keys).toEqual([expect.objectContaining({ accessKeyId: user.accessKeyId, current: true })]);
  });

  it('a role_arn profile: a session has no keys, so the message points to --user and to its source_profile; with --user it lists', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('k-role'));
    const home = await tempHome({
      endpoint,
      credentials: credentialsFile({ base: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } }),
      config: '[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\n',
    });
    const refused = await runCli(['keys', '--profile', 'deploy', '--json'], home.env);
    expect(refused.code, refused.stderr).toBe(2);
    const error = (JSON.parse(refused.stdout) as { error: { code: string; message: string; hint: string } }).error;
    expect(error.code).toBe('NOT_AN_IAM_USER');
    expect(error.message).toMatch(/assumed-role\/deploy/);
    expect(error.hint).toContain('aws-rekey keys --user NAME --profile deploy');
    expect(error.hint).toMatch(/`(AWS_\S+ )*aws-rekey keys --profile base`/);
    expect(refused.stdout + refused.stderr).not.toMatch(/cannot be rotated/);

    const doc = listed(await runCli(['keys', '--profile', 'deploy', '--user', user.userName, '--json'], home.env));
    expect(doc.user).toMatchObject({ name: user.userName, arn: user.arn });
    // The session's key is no key of the user's; the profile that holds one says so.
    expect(doc.keys).toEqual([expect.objectContaining({ accessKeyId: user.accessKeyId, current: false, profiles: ['base'] })]);
    const table = await runCli(['keys', '--profile', 'deploy', '--user', user.userName], home.env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(`${user.arn}: 1 access key\n`);
  });
});
