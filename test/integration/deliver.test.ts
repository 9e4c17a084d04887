import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, GetParameterHistoryCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { chmod, lstat, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runCli, startCli, type CliRun, type TempHome } from '../support/cli.js';
import { DUMMY_CREDENTIALS, REGION, createUserWithKey, listKeys, stsClient, uniqueName, type SeededUser } from '../support/iam.js';
import { FAST, succeed, tempFaultProxy, tempHome } from '../support/integration.js';

/*
 * rotate --user's hand-offs beside --out/--to-profile/--print-secret: Secrets Manager, SSM Parameter Store,
 * a dotenv file and a command, against moto (through the fault proxy where a failure is needed).
 */

const endpoint = inject('motoEndpoint');
const clients = { region: REGION, endpoint, credentials: DUMMY_CREDENTIALS, maxAttempts: 1 };
const sm = new SecretsManagerClient(clients);
const ssm = new SSMClient(clients);

interface Setup {
  target: SeededUser;
  home: TempHome;
  rotate(args: string[]): Promise<CliRun>;
}

async function setup(options: { endpoint?: string } = {}): Promise<Setup> {
  const admin = await createUserWithKey(endpoint, uniqueName('admin'));
  const target = await createUserWithKey(endpoint, uniqueName('ci'));
  const home = await tempHome({
    endpoint: options.endpoint ?? endpoint,
    credentials: `[admin]\naws_access_key_id = ${admin.accessKeyId}\naws_secret_access_key = ${admin.secretAccessKey}\n`,
  });
  return { target, home, rotate: (args) => runCli(['rotate', '--user', target.userName, '--profile', 'admin', '-y', ...FAST, ...args], home.env) };
}

interface KeyDocument {
  schemaVersion: number;
  userName: string;
  accessKeyId: string;
  secretAccessKey: string;
  createDate?: string;
}

async function whoIs(pair: { accessKeyId: string; secretAccessKey: string }): Promise<string | undefined> {
  return (await stsClient(endpoint, pair).send(new GetCallerIdentityCommand({}))).Arn;
}

async function keyStates(userName: string): Promise<Array<[string, string]>> {
  return (await listKeys(endpoint, userName)).map((k) => [k.accessKeyId, k.status]);
}

async function secretStages(name: string): Promise<Record<string, string[]>> {
  return (await sm.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages ?? {};
}

async function secretValue(name: string, stage = 'AWSCURRENT'): Promise<Partial<KeyDocument> & { accessKeyId: string; secretAccessKey: string }> {
  return JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }))).SecretString ?? '{}') as KeyDocument;
}

async function parameterValue(name: string): Promise<{ value: string; version: number; type: string } | undefined> {
  try {
    const p = (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter;
    return { value: p?.Value ?? '', version: p?.Version ?? 0, type: p?.Type ?? '' };
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return undefined;
    throw error;
  }
}

/** No recovery journal is left beside the credentials file. */
async function noJournal(home: TempHome): Promise<void> {
  const names = await readdir(join(home.home, '.aws', 'aws-rekey'), { recursive: true }).catch(() => []);
  expect(names.filter((name) => name.endsWith('journal.json'))).toEqual([]);
}

describe('rotate --user --to-secret NAME (Secrets Manager)', () => {
  it('creates the secret, then puts a new AWSCURRENT version on each rotation (the one before becomes AWSPREVIOUS)', async () => {
    const { target, home, rotate } = await setup();
    const name = `ci/${uniqueName('key')}`;
    const first = await rotate(['--to-secret', name]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`in the Secrets Manager secret ${name}`);
    const v1 = await secretValue(name);
    expect(v1).toMatchObject({ schemaVersion: 1, userName: target.userName });
    expect(v1.createDate).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await whoIs(v1)).toBe(target.arn);
    expect(first.stdout + first.stderr).not.toContain(v1.secretAccessKey);
    expect(await keyStates(target.userName)).toEqual(expect.arrayContaining([[target.accessKeyId, 'Inactive'], [v1.accessKeyId, 'Active']]));

    await succeed(['rotate', '--user', target.userName, '--profile', 'admin', '-y', ...FAST, '--to-secret', name], home.env);
    const v2 = await secretValue(name);
    expect(v2.accessKeyId).not.toBe(v1.accessKeyId);
    expect(await whoIs(v2)).toBe(target.arn);
    expect((await secretValue(name, 'AWSPREVIOUS')).accessKeyId).toBe(v1.accessKeyId);
    const stages = await secretStages(name);
    expect(stages[`aws-rekey-new-key-${v2.accessKeyId}`]).toContain('AWSCURRENT');
    expect(stages[`aws-rekey-new-key-${v1.accessKeyId}`]).toContain('AWSPREVIOUS');
    await noJournal(home);
  });

  it('a new key that never works: AWSCURRENT goes back to the previous version, the key is deleted, the old key stays active', async () => {
    const proxy = await tempFaultProxy(endpoint);
    proxy.setNewKeyDelay(60_000);
    const { target, rotate } = await setup({ endpoint: proxy.endpoint });
    const name = `ci/${uniqueName('key')}`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: '{"before":true}' }));
    const run = await rotate(['--to-secret', name, '--verify-timeout', '1']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/was undone/);
    expect(run.stderr).toMatch(/rollback +the Secrets Manager secret .* is back on its previous version/);
    // By stage: moto's GetSecretValue without one keeps answering with the version last put, whatever the stages say.
    expect(await secretValue(name)).toEqual({ before: true });
    const stages = Object.values(await secretStages(name));
    expect(stages.filter((s) => s.includes('AWSCURRENT'))).toHaveLength(1);
    expect(await keyStates(target.userName)).toEqual([[target.accessKeyId, 'Active']]);
  });

  it('Secrets Manager fails (PutSecretValue: 500 through the fault proxy): the new key is deleted, the old key stays active, the secret unchanged', async () => {
    const proxy = await tempFaultProxy(endpoint);
    const { target, rotate, home } = await setup({ endpoint: proxy.endpoint });
    const name = `ci/${uniqueName('key')}`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: '{"before":true}' }));
    proxy.setRules([{ action: 'PutSecretValue', fault: { kind: 'error', status: 500, code: 'InternalServiceError' } }]);
    const run = await rotate(['--to-secret', name, '--json']);
    expect(run.code, run.stderr).toBe(1);
    const doc = JSON.parse(run.stdout) as { ok: boolean; error: { code: string; message: string; hint: string } };
    expect(doc.error.code).toBe('ROTATION_ROLLED_BACK');
    expect(doc.error.message).toMatch(/could not be saved to the Secrets Manager secret .* deleted again/);
    expect(doc.error.hint).toMatch(/old key is still active/);
    expect(proxy.log.filter((e) => e.action === 'PutSecretValue').length).toBeGreaterThan(0);
    expect(await secretValue(name)).toEqual({ before: true });
    expect(await keyStates(target.userName)).toEqual([[target.accessKeyId, 'Active']]);
    await noJournal(home);
  });
});

describe('rotate --user --to-parameter NAME (SSM Parameter Store)', () => {
  it('a SecureString parameter: created, then a new version per rotation', async () => {
    const { target, home, rotate } = await setup();
    const name = `/ci/${uniqueName('key')}`;
    const first = await rotate(['--to-parameter', name]);
    expect(first.code, first.stderr).toBe(0);
    const p1 = await parameterValue(name);
    expect(p1).toMatchObject({ type: 'SecureString', version: 1 });
    const k1 = JSON.parse(p1?.value ?? '{}') as KeyDocument;
    expect(k1.userName).toBe(target.userName);
    expect(await whoIs(k1)).toBe(target.arn);
    expect(first.stdout + first.stderr).not.toContain(k1.secretAccessKey);

    await succeed(['rotate', '--user', target.userName, '--profile', 'admin', '-y', ...FAST, '--to-parameter', name], home.env);
    const p2 = await parameterValue(name);
    expect(p2?.version).toBe(2);
    const k2 = JSON.parse(p2?.value ?? '{}') as KeyDocument;
    expect(k2.accessKeyId).not.toBe(k1.accessKeyId);
    expect(await whoIs(k2)).toBe(target.arn);
  });

  it('a new key that never works: the previous value comes back as a new version; a parameter it created is deleted', async () => {
    const proxy = await tempFaultProxy(endpoint);
    proxy.setNewKeyDelay(60_000);
    const { target, rotate } = await setup({ endpoint: proxy.endpoint });
    const name = `/ci/${uniqueName('key')}`;
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'the value before', Type: 'SecureString' }));
    const run = await rotate(['--to-parameter', name, '--verify-timeout', '1']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/was undone/);
    expect(await parameterValue(name)).toMatchObject({ value: 'the value before', version: 3 });
    const history = (await ssm.send(new GetParameterHistoryCommand({ Name: name, WithDecryption: true }))).Parameters ?? [];
    expect(history.map((h) => h.Version)).toEqual([1, 2, 3]);
    expect(await keyStates(target.userName)).toEqual([[target.accessKeyId, 'Active']]);

    const fresh = `/ci/${uniqueName('key')}`;
    const again = await rotate(['--to-parameter', fresh, '--verify-timeout', '1']);
    expect(again.code, again.stderr).toBe(1);
    expect(await parameterValue(fresh)).toBeUndefined();
    expect(await keyStates(target.userName)).toEqual([[target.accessKeyId, 'Active']]);
  });

  it('a String parameter is refused before any key is created; a bad name is refused before any AWS call', async () => {
    const proxy = await tempFaultProxy(endpoint);
    const { target, rotate } = await setup({ endpoint: proxy.endpoint });
    const name = `/ci/${uniqueName('plain')}`;
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'not a secret', Type: 'String' }));
    const plain = await rotate(['--to-parameter', name]);
    expect(plain.code, plain.stderr).toBe(2);
    expect(plain.stderr).toMatch(/is a String parameter; aws-rekey writes a secret only to a SecureString/);
    expect(await parameterValue(name)).toMatchObject({ value: 'not a secret', version: 1 });
    expect(await keyStates(target.userName)).toEqual([[target.accessKeyId, 'Active']]);

    proxy.log.splice(0);
    const bad = await rotate(['--to-parameter', 'ci/no-leading-slash']);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/--to-parameter needs an SSM parameter name/);
    expect(proxy.log).toEqual([]);
  });
});

/** A dotenv file holding the user's old key (OLDKEY), among everything an edit must keep. */
const DOTENV_TEMPLATE = [
  '# deploy settings',
  'APP_ENV=production',
  '',
  'export AWS_ACCESS_KEY_ID="OLDKEY"   # rotated by aws-rekey',
  "AWS_SECRET_ACCESS_KEY='old-secret'",
  'AWS_SESSION_TOKEN=a-token',
  'MULTI="line one',
  'AWS_ACCESS_KEY_ID=inside-a-value',
  'line three"',
  'AWS_REGION = eu-west-1 # comment',
  '',
].join('\n');

describe('rotate --user --to-env FILE (dotenv)', () => {
  it('replaces the two variables in place, drops the session token, keeps everything else; 0600 with a backup', async () => {
    const { target, home, rotate } = await setup();
    const file = join(home.home, 'ci.env');
    const DOTENV = DOTENV_TEMPLATE.replace('OLDKEY', target.accessKeyId);
    await writeFile(file, DOTENV, { mode: 0o644 });
    const run = await rotate(['--to-env', file]);
    expect(run.code, run.stderr).toBe(0);
    const after = await readFile(file, 'utf8');
    const id = /^export AWS_ACCESS_KEY_ID="(\w+)" {3}# rotated by aws-rekey$/m.exec(after)?.[1] ?? '?';
    const secret = /^AWS_SECRET_ACCESS_KEY='(\S+)'$/m.exec(after)?.[1] ?? '?';
    expect(await whoIs({ accessKeyId: id, secretAccessKey: secret })).toBe(target.arn);
    expect(after).toBe(
      DOTENV.replace(`"${target.accessKeyId}"`, `"${id}"`)
        .replace("'old-secret'", `'${secret}'`)
        .replace('AWS_SESSION_TOKEN=a-token\n', ''),
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(`${file}.aws-rekey.bak`, 'utf8')).toBe(DOTENV);
    expect(run.stdout + run.stderr).not.toContain(secret);
    expect(await keyStates(target.userName)).toEqual(expect.arrayContaining([[target.accessKeyId, 'Inactive'], [id, 'Active']]));
  });

  it('a missing file is created with the two variables; an existing one holding another key needs --force', async () => {
    const { home, rotate } = await setup();
    const file = join(home.home, 'new.env');
    const first = await rotate(['--to-env', file]);
    expect(first.code, first.stderr).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^AWS_ACCESS_KEY_ID=AKIA\w+\nAWS_SECRET_ACCESS_KEY=\S+\n$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const other = await createUserWithKey(endpoint, uniqueName('other'));
    const refused = await runCli(['rotate', '--user', other.userName, '--profile', 'admin', '-y', ...FAST, '--to-env', file], home.env);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/already holds another key in AWS_ACCESS_KEY_ID/);
    expect(await readFile(file, 'utf8')).toBe(text);
    expect(await listKeys(endpoint, other.userName)).toHaveLength(1);
    await succeed(['rotate', '--user', other.userName, '--profile', 'admin', '-y', ...FAST, '--to-env', file, '--force'], home.env);
    const forced = await readFile(file, 'utf8');
    const otherKey = (await listKeys(endpoint, other.userName)).find((k) => k.accessKeyId !== other.accessKeyId)?.accessKeyId;
    expect(forced).toMatch(new RegExp(`^AWS_ACCESS_KEY_ID=${otherKey}\nAWS_SECRET_ACCESS_KEY=\\S+\n$`));
  });

  it('a new key that never works: the file is back byte for byte, the old key active', async () => {
    const proxy = await tempFaultProxy(endpoint);
    proxy.setNewKeyDelay(60_000);
    const { target, home, rotate } = await setup({ endpoint: proxy.endpoint });
    const file = join(home.home, 'ci.env');
    const DOTENV = DOTENV_TEMPLATE.replace('OLDKEY', target.accessKeyId);
    await writeFile(file, DOTENV, { mode: 0o600 });
    const run = await rotate(['--to-env', file, '--verify-timeout', '1']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/was undone/);
    expect(await readFile(file, 'utf8')).toBe(DOTENV);
    expect(await keyStates(target.userName)).toEqual([[target.accessKeyId, 'Active']]);
    await noJournal(home);
  });

  it('an unwritable FILE, a directory or a dangling link is refused with exit 2 before any AWS call', async () => {
    const proxy = await tempFaultProxy(endpoint);
    const { target, home, rotate } = await setup({ endpoint: proxy.endpoint });
    const blocker = join(home.home, 'not-a-dir');
    await writeFile(blocker, 'x');
    const link = join(home.home, 'planted.env');
    await symlink(join(home.home, 'nowhere', 'x.env'), link);
    const cases: Array<[string, RegExp]> = [
      [join(blocker, 'ci.env'), /not a directory/],
      [home.home, /is a directory/],
      [link, /dangling link/],
    ];
    for (const [file, error] of cases) {
      const run = await rotate(['--to-env', file]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(error);
    }
    expect(proxy.log).toEqual([]);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await keyStates(target.userName)).toEqual([[target.accessKeyId, 'Active']]);
  });
});

/** A command that writes what it receives on stdin, its argv and its environment to 0600 files. */
async function recorder(home: TempHome, exitCode = 0): Promise<{ script: string; received: string; argvFile: string; envFile: string }> {
  const script = join(home.home, 'store-key.mjs');
  const received = join(home.home, 'received.json');
  const argvFile = join(home.home, 'argv.json');
  const envFile = join(home.home, 'env.json');
  await writeFile(
    script,
    [
      '#!/usr/bin/env node',
      "import { writeFileSync } from 'node:fs';",
      "let input = '';",
      "process.stdin.setEncoding('utf8').on('data', (c) => (input += c)).on('end', () => {",
      `  writeFileSync(${JSON.stringify(received)}, input, { mode: 0o600 });`,
      `  writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify(process.argv), { mode: 0o600 });`,
      `  writeFileSync(${JSON.stringify(envFile)}, JSON.stringify(process.env), { mode: 0o600 });`,
      "  process.stderr.write('stored the key in the vault\\n');",
      `  process.exit(${exitCode});`,
      '});',
    ].join('\n'),
  );
  await chmod(script, 0o755);
  return { script, received, argvFile, envFile };
}

describe('rotate --user --exec CMD', () => {
  it('a real command gets the pair as JSON on stdin, never in argv or its environment; its stderr is shown', async () => {
    const { target, home, rotate } = await setup();
    const r = await recorder(home);
    const run = await rotate(['--exec', `${r.script} --vault "ci keys"`]);
    expect(run.code, run.stderr).toBe(0);
    const got = JSON.parse(await readFile(r.received, 'utf8')) as { Version: number; AccessKeyId: string; SecretAccessKey: string; UserName: string };
    expect(got).toMatchObject({ Version: 1, UserName: target.userName });
    expect(await whoIs({ accessKeyId: got.AccessKeyId, secretAccessKey: got.SecretAccessKey })).toBe(target.arn);
    expect(JSON.parse(await readFile(r.argvFile, 'utf8'))).toEqual([expect.any(String), r.script, '--vault', 'ci keys']);
    const argvAndEnv = (await readFile(r.argvFile, 'utf8')) + (await readFile(r.envFile, 'utf8'));
    expect(argvAndEnv).not.toContain(got.SecretAccessKey);
    expect(argvAndEnv).not.toContain(got.AccessKeyId);
    expect(run.stderr).toContain('exec | stored the key in the vault');
    expect(run.stdout + run.stderr).not.toContain(got.SecretAccessKey);
    expect(await keyStates(target.userName)).toEqual(expect.arrayContaining([[target.accessKeyId, 'Inactive'], [got.AccessKeyId, 'Active']]));
  });

  it('a command that exits 1 fails the delivery: the new key is deleted, the old key stays active', async () => {
    const { target, home, rotate } = await setup();
    const r = await recorder(home, 1);
    const run = await rotate(['--exec', r.script]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/failed with exit code 1/);
    expect(run.stderr).toMatch(/could not be delivered to the command .* deleted again/);
    expect(run.stderr).toContain('exec | stored the key in the vault');
    expect(await keyStates(target.userName)).toEqual([[target.accessKeyId, 'Active']]);
    await noJournal(home);
  });

  it('a command killed by a signal, and one past --exec-timeout, fail the delivery the same way', async () => {
    const { target, rotate } = await setup();
    const killed = await rotate(['--exec', `sh -c 'kill -TERM $$'`]);
    expect(killed.code, killed.stderr).toBe(1);
    expect(killed.stderr).toMatch(/was killed by SIGTERM/);
    const slow = await rotate(['--exec', 'sleep 30', '--exec-timeout', '1']);
    expect(slow.code, slow.stderr).toBe(1);
    expect(slow.stderr).toMatch(/did not finish within 1 s and was stopped/);
    expect(await keyStates(target.userName)).toEqual([[target.accessKeyId, 'Active']]);
  });

  it('a command that is not found, or needs a shell, is refused with exit 2 before any AWS call', async () => {
    const proxy = await tempFaultProxy(endpoint);
    const { target, rotate } = await setup({ endpoint: proxy.endpoint });
    const missing = await rotate(['--exec', 'no-such-command-aws-rekey --x']);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/the command 'no-such-command-aws-rekey' was not found on PATH/);
    const piped = await rotate(['--exec', 'cat | tee x']);
    expect(piped.code, piped.stderr).toBe(2);
    expect(piped.stderr).toMatch(/has '\|', which only a shell understands/);
    expect(proxy.log).toEqual([]);
    expect(await keyStates(target.userName)).toEqual([[target.accessKeyId, 'Active']]);
  });
});

describe('--stage create with each destination', () => {
  it.for(['secret', 'parameter', 'env', 'exec'] as const)('%s: the new key is delivered and works, the old key stays active, the staged rotation is recorded; rollback --delete-new undoes it', async (kind) => {
    const { target, home, rotate } = await setup();
    const name = kind === 'parameter' ? `/ci/${uniqueName('staged')}` : `ci/${uniqueName('staged')}`;
    const file = join(home.home, 'staged.env');
    const r = await recorder(home);
    const flag = { secret: ['--to-secret', name], parameter: ['--to-parameter', name], env: ['--to-env', file], exec: ['--exec', r.script] }[kind];
    const run = await rotate(['--stage', 'create', ...flag]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/Staged rotation of/);
    let pair: { accessKeyId: string; secretAccessKey: string };
    if (kind === 'secret') pair = await secretValue(name);
    else if (kind === 'parameter') pair = JSON.parse((await parameterValue(name))?.value ?? '{}') as KeyDocument;
    else if (kind === 'env') {
      const text = await readFile(file, 'utf8');
      pair = { accessKeyId: /AWS_ACCESS_KEY_ID=(\S+)/.exec(text)?.[1] ?? '', secretAccessKey: /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(text)?.[1] ?? '' };
    } else {
      const got = JSON.parse(await readFile(r.received, 'utf8')) as { AccessKeyId: string; SecretAccessKey: string };
      pair = { accessKeyId: got.AccessKeyId, secretAccessKey: got.SecretAccessKey };
    }
    expect(await whoIs(pair)).toBe(target.arn);
    expect((await keyStates(target.userName)).sort()).toEqual([[target.accessKeyId, 'Active'], [pair.accessKeyId, 'Active']].sort());
    const status = await succeed(['status', '--json'], home.env);
    const rotations = (JSON.parse(status.stdout) as { rotations: Array<{ userName: string; stage: string; destination: { kind: string } }> }).rotations;
    expect(rotations.find((s) => s.userName === target.userName)).toMatchObject({ stage: 'created', destination: { kind } });

    // Undone for good: the new key deleted and taken back out of where it went (which held nothing before).
    // --force: the test itself used the new key above (whoIs), which rollback would otherwise take as a sign it is in use.
    const undo = await runCli(['rollback', '--user', target.userName, '--profile', 'admin', '--delete-new', '--force', '-y', ...FAST], home.env);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await keyStates(target.userName)).toEqual([[target.accessKeyId, 'Active']]);
    if (kind === 'secret') await expect(sm.send(new DescribeSecretCommand({ SecretId: name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    if (kind === 'parameter') expect(await parameterValue(name)).toBeUndefined();
    if (kind === 'env') expect(await readFile(file, 'utf8')).toBe('');
  });
});

describe('killed while delivering: the next run delivers the key from its journal and finishes', () => {
  it.for([
    ['secret', 'CreateSecret'],
    ['parameter', 'PutParameter'],
  ] as const)('--to-%s, killed when %s goes out', async ([kind, action]) => {
    const proxy = await tempFaultProxy(endpoint);
    const { target, home } = await setup({ endpoint: proxy.endpoint });
    const name = kind === 'parameter' ? `/ci/${uniqueName('killed')}` : `ci/${uniqueName('killed')}`;
    const args = ['rotate', '--user', target.userName, '--profile', 'admin', '-y', ...FAST, `--to-${kind}`, name];
    const started = startCli(args, home.env);
    let killed = false;
    proxy.onRequest(action, () => {
      if (killed) return;
      killed = true;
      started.child.kill('SIGKILL');
    });
    expect((await started.done).signal).toBe('SIGKILL');
    const created = (await listKeys(endpoint, target.userName)).find((k) => k.accessKeyId !== target.accessKeyId)?.accessKeyId;
    expect(created).toBeDefined();
    // What to run next names the destination: `rotate --user` needs one.
    const status = JSON.parse((await succeed(['status', '--json'], home.env)).stdout) as { rotations: Array<{ stage: string; next: string }> };
    expect(status.rotations).toEqual([expect.objectContaining({ stage: 'interrupted', next: `finish or undo it with \`AWS_ENDPOINT_URL=${proxy.endpoint} aws-rekey rotate --user ${target.userName} --profile admin --to-${kind} ${name}\`` })]);

    const again = await runCli(args, home.env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/did not finish/);
    const held = kind === 'secret' ? await secretValue(name) : (JSON.parse((await parameterValue(name))?.value ?? '{}') as KeyDocument);
    expect(held.accessKeyId).toBe(created);
    expect(await whoIs(held)).toBe(target.arn);
    expect((await keyStates(target.userName)).sort()).toEqual([[target.accessKeyId, 'Inactive'], [created, 'Active']].sort());
    await noJournal(home);
  });
});

it('two destinations in one run are refused before any AWS call', async () => {
  const proxy = await tempFaultProxy(endpoint);
  const { home, rotate } = await setup({ endpoint: proxy.endpoint });
  const run = await rotate(['--to-secret', 'ci/x', '--to-env', join(home.home, 'x.env')]);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(/Give only one of --to-secret, --to-env/);
  expect(proxy.log).toEqual([]);
});
