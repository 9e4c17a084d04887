#!/usr/bin/env node
// `npm run demo`: a real rotation against a local IAM (moto on loopback), never against an AWS account.
// It provisions moto (scripts/provision-moto.sh), creates an IAM user with a key, writes a credentials file
// in a throwaway HOME, runs the built CLI, and shows the file before and after (secrets masked).
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { IAMClient, CreateAccessKeyCommand, CreateUserCommand } = await import('@aws-sdk/client-iam');

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'aws-rekey');
const PYTHON = '/usr/bin/python3';
const bold = (text) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${text}\x1b[0m` : text);

function say(text) {
  process.stdout.write(`\n${bold(`== ${text}`)}\n`);
}

/** The secret's first four characters, so that the reader sees it changed without seeing it. */
function maskSecrets(text) {
  return text.replace(/^(\s*aws_secret_access_key\s*=\s*)(\S{4})\S*/gm, '$1$2…(secret, masked by the demo)');
}

async function provisionMoto() {
  const { stdout } = await promisify(execFile)('bash', [join(ROOT, 'scripts', 'provision-moto.sh')], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.trim().split('\n').pop() ?? '';
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function answers(port) {
  return new Promise((resolveAnswer) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/moto-api/data.json', timeout: 2000 }, (res) => {
      res.resume();
      resolveAnswer(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveAnswer(false));
  });
}

async function startMoto(pythonPath) {
  const port = await freePort();
  const env = { ...process.env, PYTHONNOUSERSITE: '1', PYTHONUNBUFFERED: '1' };
  delete env.PYTHONHOME;
  delete env.VIRTUAL_ENV;
  if (pythonPath) env.PYTHONPATH = pythonPath;
  const child = spawn(PYTHON, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => (log = (log + chunk).slice(-8192)));
  const deadline = Date.now() + 30_000;
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      throw new Error(`moto did not start on 127.0.0.1:${port}. Its output:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

function runCli(args, env) {
  process.stdout.write(`\n$ aws-rekey ${args.join(' ')}\n`);
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => resolveRun(code ?? 1));
  });
}

async function main() {
  say('Starting a local IAM (moto on loopback); the first run downloads it from the Debian archive');
  const moto = await startMoto(await provisionMoto());
  const home = await mkdtemp(join(tmpdir(), 'aws-rekey-demo-'));
  try {
    process.stdout.write(`IAM endpoint: ${moto.endpoint}\nTemporary HOME: ${home}\n`);
    const iam = new IAMClient({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const userName = 'demo-alice';
    await iam.send(new CreateUserCommand({ UserName: userName, Path: '/engineering/' }));
    const { AccessKey: key } = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    iam.destroy();

    const awsDir = join(home, '.aws');
    await mkdir(awsDir, { recursive: true, mode: 0o700 });
    const credentialsPath = join(awsDir, 'credentials');
    await writeFile(
      credentialsPath,
      [
        '# Alice\'s keys. aws-rekey keeps this comment, the order and the other settings.',
        '[work]',
        `aws_access_key_id = ${key.AccessKeyId}`,
        `aws_secret_access_key = ${key.SecretAccessKey}`,
        'region = eu-west-1',
        '',
        '; the same key under a second name: it is rotated too',
        '[work-alias]',
        `aws_access_key_id = ${key.AccessKeyId}`,
        `aws_secret_access_key = ${key.SecretAccessKey}`,
        '',
        '[personal]',
        'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
        'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      AWS_SHARED_CREDENTIALS_FILE: credentialsPath,
      AWS_CONFIG_FILE: join(awsDir, 'config'),
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...(process.env.NO_COLOR ? { NO_COLOR: process.env.NO_COLOR } : {}),
    };

    say(`The credentials file before (${credentialsPath})`);
    process.stdout.write(maskSecrets(await readFile(credentialsPath, 'utf8')));

    say('The user\'s keys, as IAM sees them');
    if ((await runCli(['keys', '--profile', 'work'], env)) !== 0) throw new Error('aws-rekey keys failed');

    say('The plan, without changing anything');
    if ((await runCli(['--profile', 'work', '--dry-run'], env)) !== 0) throw new Error('aws-rekey --dry-run failed');

    say('The rotation');
    if ((await runCli(['--profile', 'work', '--yes'], env)) !== 0) throw new Error('aws-rekey rotate failed');

    say('The credentials file after');
    process.stdout.write(maskSecrets(await readFile(credentialsPath, 'utf8')));
    const mode = ((await stat(credentialsPath)).mode & 0o777).toString(8);
    process.stdout.write(`(mode ${mode}; the previous content is in ${credentialsPath}.aws-rekey.bak, mode 600)\n`);

    say('The user\'s keys now: the new one active and in the file, the old one inactive');
    if ((await runCli(['keys', '--profile', 'work'], env)) !== 0) throw new Error('aws-rekey keys failed');
    say('Done. Nothing outside the temporary HOME and the local IAM was touched.');
  } finally {
    moto.stop();
    await rm(home, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
