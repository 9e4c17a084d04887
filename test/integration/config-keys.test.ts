import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { describe, expect, inject, it } from 'vitest';
import { awsCli } from '../support/aws-cli.js';
import { runCli } from '../support/cli.js';
import { createAccessKey, createUserWithKey, listKeys, setKeyStatus, uniqueName, type Credentials } from '../support/iam.js';
import { FAST, tempHome } from '../support/integration.js';

/*
 * Issue 9.2 and 9.4: long-lived keys in the config file (`[default]`, `[profile NAME]`), which the AWS CLI
 * reads too, and the profiles that hold a key the plan deletes or deactivates: every one of them, in either
 * file, is named in the plan and gets the new key.
 */

const endpoint = inject('motoEndpoint');

const section = (header: string, pair: Credentials, extra: string[] = []) => [`[${header}]`, `aws_access_key_id = ${pair.accessKeyId}`, `aws_secret_access_key = ${pair.secretAccessKey}`, ...extra, ''];
const UNRELATED = { accessKeyId: 'AKIAUNRELATED0000000', secretAccessKey: 'unrelated-secret' };
const mode = async (path: string) => (await stat(path)).mode & 0o777;
/** The masked form aws-rekey prints: AKIA…WXYZ. */
const masked = (id: string) => `AKIA…${id.slice(-4)}`;

async function activeKeys(userName: string) {
  return (await listKeys(endpoint, userName)).filter((key) => key.status === 'Active');
}

describe('keys in the config file (issue 9.2)', () => {
  it('a profile whose keys are only in the config file is rotated by name: the config file gets the new key, its own backup (0600), and the AWS CLI signs with it', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('cfg'));
    const config = ['# my config', ...section('profile ci', user, ['region = eu-west-1', 'output = json']), '[profile sso]', 'sso_session = corp', ''].join('\n');
    const credentials = section('unrelated', UNRELATED).join('\n');
    const home = await tempHome({ endpoint, credentials, config });

    const run = await runCli(['--profile', 'ci', '--yes', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`write it to profile ci in ${home.configPath}`);
    expect(run.stderr).toContain(`deactivate the old key ${masked(user.accessKeyId)}, held by profile ci in ${home.configPath} (it gets the new key)`);
    const [fresh] = await activeKeys(user.userName);
    expect(fresh!.accessKeyId).not.toBe(user.accessKeyId);
    expect(run.stderr).toContain(`new key   ${masked(fresh!.accessKeyId)}  in profile ci (${home.configPath})`);
    expect(run.stderr).toContain(`backup    ${home.configPath}.aws-rekey.bak`);

    const after = await readFile(home.configPath, 'utf8');
    expect(after).toContain(`aws_access_key_id = ${fresh!.accessKeyId}`);
    expect(after).not.toContain(user.secretAccessKey);
    // Nothing else changed: comments, settings, other profiles.
    const newSecret = /aws_secret_access_key = (\S+)/.exec(after)![1]!;
    expect(after.replace(fresh!.accessKeyId, user.accessKeyId).replace(newSecret, user.secretAccessKey)).toBe(config);
    expect(await mode(home.configPath)).toBe(0o600);
    expect(await readFile(`${home.configPath}.aws-rekey.bak`, 'utf8')).toBe(config);
    expect(await mode(`${home.configPath}.aws-rekey.bak`)).toBe(0o600);
    // The credentials file was not touched.
    expect(await home.readCredentials()).toBe(credentials);
    expect(run.stdout + run.stderr).not.toContain(newSecret);

    const identity = await awsCli(['sts', 'get-caller-identity', '--profile', 'ci', '--endpoint-url', endpoint, '--output', 'json'], home.env);
    expect(identity.code, identity.stderr).toBe(0);
    expect(JSON.parse(identity.stdout)).toMatchObject({ Arn: user.arn });
    expect((await listKeys(endpoint, user.userName)).find((key) => key.accessKeyId === user.accessKeyId)?.status).toBe('Inactive');
  });

  it('a key held in both files: every profile in either file gets it, each file its own backup; --json names each file', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('both'));
    const credentials = [...section('work', user, ['region = eu-west-1']), ...section('alias', user), ...section('unrelated', UNRELATED)].join('\n');
    const config = [...section('default', user), ...section('profile ci', user), ...section('profile other', UNRELATED), '[profile admin]', 'role_arn = arn:aws:iam::123456789012:role/x', 'source_profile = work', ''].join('\n');
    const home = await tempHome({ endpoint, credentials, config });

    const dry = await runCli(['--profile', 'work', '--dry-run', '--json'], home.env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      status: 'planned',
      profiles: ['work', 'alias', 'default', 'ci'],
      files: [
        { path: home.credentialsPath, kind: 'credentials', profiles: ['work', 'alias'] },
        { path: home.configPath, kind: 'config', profiles: ['default', 'ci'] },
      ],
    });
    expect(JSON.parse(dry.stdout).plan).toContain(`write it to profiles work, alias in ${home.credentialsPath} and profiles default, ci in ${home.configPath}`);
    expect(await home.readCredentials()).toBe(credentials);
    expect(await readFile(home.configPath, 'utf8')).toBe(config);

    const run = await runCli(['--profile', 'work', '--yes', '--json', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    const [fresh] = await activeKeys(user.userName);
    expect(result).toMatchObject({
      status: 'rotated',
      newKeyId: fresh!.accessKeyId,
      files: [
        { path: home.credentialsPath, kind: 'credentials', profiles: ['work', 'alias'] },
        { path: home.configPath, kind: 'config', profiles: ['default', 'ci'] },
      ],
      backupPath: `${home.credentialsPath}.aws-rekey.bak`,
      backupPaths: [`${home.credentialsPath}.aws-rekey.bak`, `${home.configPath}.aws-rekey.bak`],
    });
    expect(await readFile(`${home.credentialsPath}.aws-rekey.bak`, 'utf8')).toBe(credentials);
    expect(await readFile(`${home.configPath}.aws-rekey.bak`, 'utf8')).toBe(config);

    const newCredentials = await home.readCredentials();
    const newConfig = await readFile(home.configPath, 'utf8');
    const newSecret = /aws_secret_access_key = (\S+)/.exec(newCredentials)![1]!;
    for (const [text, original] of [
      [newCredentials, credentials],
      [newConfig, config],
    ] as const) {
      expect(text).not.toContain(user.accessKeyId);
      expect(text.replaceAll(fresh!.accessKeyId, user.accessKeyId).replaceAll(newSecret, user.secretAccessKey)).toBe(original);
    }
    for (const profile of ['work', 'alias', 'default', 'ci']) {
      const configured = await awsCli(['configure', 'get', 'aws_access_key_id', '--profile', profile], home.env);
      expect(configured.stdout.trim(), profile).toBe(fresh!.accessKeyId);
    }
  });

  it('--all finds a profile whose keys are only in the config file, and skips config profiles without keys', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('cfgall'));
    const config = [...section('profile cfgonly', user), '[profile settings]', 'region = eu-west-1', ''].join('\n');
    const home = await tempHome({ endpoint, credentials: '', config });
    const run = await runCli(['--all', '--yes', '--json', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.results).toMatchObject([{ profiles: ['cfgonly'], status: 'rotated' }]);
    expect(result.skipped).toEqual([]);
    const [fresh] = await activeKeys(user.userName);
    expect(fresh!.accessKeyId).not.toBe(user.accessKeyId);
    expect(await readFile(home.configPath, 'utf8')).toContain(`aws_access_key_id = ${fresh!.accessKeyId}`);
  });

  it('a config file whose backup cannot be written is refused in the pre-flight: no key is created, nothing changes', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('cfgro'));
    const config = section('profile ci', user).join('\n');
    const home = await tempHome({ endpoint, credentials: '', config });
    // A directory in place of the backup: the config file's own files are checked like the credentials file's.
    await mkdir(`${home.configPath}.aws-rekey.bak`);
    const run = await runCli(['--profile', 'ci', '--yes', ...FAST], home.env);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`${home.configPath}.aws-rekey.bak`);
    expect((await listKeys(endpoint, user.userName)).map((key) => key.accessKeyId)).toEqual([user.accessKeyId]);
    expect(await readFile(home.configPath, 'utf8')).toBe(config);
  });
});

describe('who holds what the plan retires (issue 9.4)', () => {
  it('the inactive other key deleted to make room: the profiles holding it, in either file, are named and get the new key', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('other'));
    const other = await createAccessKey(endpoint, user.userName);
    await setKeyStatus(endpoint, user.userName, other.accessKeyId, 'Inactive');
    const credentials = [...section('work', user), ...section('legacy', other)].join('\n');
    const config = section('profile old', other).join('\n');
    const home = await tempHome({ endpoint, credentials, config });

    const run = await runCli(['--profile', 'work', '--yes', '--json', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.plan[0]).toBe(
      `delete inactive key ${masked(other.accessKeyId)} (never used) to make room; profile legacy in ${home.credentialsPath} and profile old in ${home.configPath} hold it and get the new key instead`,
    );
    expect(result.plan).toContain(`write it to profiles work, legacy in ${home.credentialsPath} and profile old in ${home.configPath}`);
    expect(result.deletedOtherKeyId).toBe(other.accessKeyId);
    const [fresh] = await activeKeys(user.userName);
    // No profile is left with the deleted key.
    const newCredentials = await home.readCredentials();
    const newConfig = await readFile(home.configPath, 'utf8');
    expect(newCredentials + newConfig).not.toContain(other.accessKeyId);
    for (const profile of ['work', 'legacy', 'old']) {
      const configured = await awsCli(['configure', 'get', 'aws_access_key_id', '--profile', profile], home.env);
      expect(configured.stdout.trim(), profile).toBe(fresh!.accessKeyId);
    }
  });

  it('--delete-key: the active other key is refused first, naming who holds it; allowed, its holder gets the new key', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('delkey'));
    const other = await createAccessKey(endpoint, user.userName);
    const home = await tempHome({ endpoint, credentials: section('work', user).join('\n'), config: section('profile ci', other).join('\n') });

    const refused = await runCli(['--profile', 'work', '--yes', ...FAST], home.env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`(profile ci in ${home.configPath} holds it) may be in use`);

    const run = await runCli(['--profile', 'work', '--yes', '--delete-key', other.accessKeyId, ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`profile ci in ${home.configPath} holds it and gets the new key instead`);
    const [fresh] = await activeKeys(user.userName);
    const configured = await awsCli(['configure', 'get', 'aws_access_key_id', '--profile', 'ci'], home.env);
    expect(configured.stdout.trim()).toBe(fresh!.accessKeyId);
    expect((await listKeys(endpoint, user.userName)).map((key) => key.accessKeyId)).not.toContain(other.accessKeyId);
  });

  it('--delete: the plan names every profile that holds the key it deletes', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('delold'));
    const home = await tempHome({ endpoint, credentials: [...section('work', user), ...section('alias', user)].join('\n'), config: section('profile ci', user).join('\n') });
    const run = await runCli(['--profile', 'work', '--yes', '--delete', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`delete the old key ${masked(user.accessKeyId)}, held by profiles work, alias in ${home.credentialsPath} and profile ci in ${home.configPath} (they get the new key)`);
    expect((await listKeys(endpoint, user.userName)).map((key) => key.accessKeyId)).not.toContain(user.accessKeyId);
    expect(await readFile(home.configPath, 'utf8')).not.toContain(user.accessKeyId);
  });

  it('rotate --user: the plan warns about every local profile, in either file, that holds a key it retires and will not get the new one', async () => {
    const admin = await createUserWithKey(endpoint, uniqueName('admin'));
    const user = await createUserWithKey(endpoint, uniqueName('bob'));
    const other = await createAccessKey(endpoint, user.userName);
    await setKeyStatus(endpoint, user.userName, other.accessKeyId, 'Inactive');
    const home = await tempHome({ endpoint, credentials: [...section('admin', admin), ...section('bob-old', other)].join('\n'), config: section('profile bob', user).join('\n') });
    const out = `${home.home}/bob.credentials`;
    const run = await runCli(['rotate', '--user', user.userName, '--profile', 'admin', '--out', out, '--dry-run'], home.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Profile bob in ${home.configPath} holds the old key, which is deactivated, and will not get the new one`);
    expect(run.stderr).toContain(`Profile bob-old in ${home.credentialsPath} holds the other key ${masked(other.accessKeyId)}, which is deleted to make room, and will not get the new one`);
  });
});

describe('staged retire and delete name the local holders of the old key (issue 9.4)', () => {
  it('rotate --user --stage retire and --stage delete: the plan (text and --json) names every profile, in either file, still holding the old key', async () => {
    const admin = await createUserWithKey(endpoint, uniqueName('admin'));
    const user = await createUserWithKey(endpoint, uniqueName('bob'));
    const home = await tempHome({ endpoint, credentials: section('admin', admin).join('\n') });
    const out = `${home.home}/bob.credentials`;
    const created = await runCli(['rotate', '--user', user.userName, '--profile', 'admin', '--stage', 'create', '--out', out, '-y', ...FAST], home.env);
    expect(created.code, created.stderr).toBe(0);
    // After the new key went to --out, the old key turns up in a profile of each file.
    await writeFile(home.credentialsPath, [...section('admin', admin), ...section('bob-old', user)].join('\n'));
    await writeFile(home.configPath, ['[profile plain]', 'region = eu-west-1', '', ...section('profile bob', user)].join('\n'));
    const stage = (name: string, ...extra: string[]) => runCli(['rotate', '--user', user.userName, '--profile', 'admin', '--stage', name, ...extra], home.env);
    const warning = (fate: string) => `Profile bob-old in ${home.credentialsPath} and profile bob in ${home.configPath} hold the old key, which is ${fate}, and will not get the new one.`;

    const retirePlan = await stage('retire', '--dry-run', '--json');
    expect(retirePlan.code, retirePlan.stderr).toBe(0);
    expect((JSON.parse(retirePlan.stdout) as { warnings: string[] }).warnings).toContain(warning('deactivated'));
    const retired = await stage('retire', '-y');
    expect(retired.code, retired.stderr).toBe(0);
    expect(retired.stderr).toContain(warning('deactivated'));
    expect((await listKeys(endpoint, user.userName)).find((key) => key.accessKeyId === user.accessKeyId)?.status).toBe('Inactive');

    const deletePlan = await stage('delete', '--dry-run', '--json');
    expect(deletePlan.code, deletePlan.stderr).toBe(0);
    expect((JSON.parse(deletePlan.stdout) as { warnings: string[] }).warnings).toContain(warning('deleted'));
    const deleted = await stage('delete', '-y');
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stderr).toContain(warning('deleted'));
    expect((await listKeys(endpoint, user.userName)).map((key) => key.accessKeyId)).not.toContain(user.accessKeyId);
  });

  it('a staged retire with no local holder of the old key warns about none', async () => {
    const admin = await createUserWithKey(endpoint, uniqueName('admin'));
    const user = await createUserWithKey(endpoint, uniqueName('carol'));
    const home = await tempHome({ endpoint, credentials: section('admin', admin).join('\n'), config: section('profile unrelated', UNRELATED).join('\n') });
    const created = await runCli(['rotate', '--user', user.userName, '--profile', 'admin', '--stage', 'create', '--out', `${home.home}/carol.credentials`, '-y', ...FAST], home.env);
    expect(created.code, created.stderr).toBe(0);
    const plan = await runCli(['rotate', '--user', user.userName, '--profile', 'admin', '--stage', 'retire', '--dry-run', '--json'], home.env);
    expect(plan.code, plan.stderr).toBe(0);
    expect((JSON.parse(plan.stdout) as { warnings: string[] }).warnings.filter((w) => w.includes('old key'))).toEqual([]);
  });
});
