import { execFile } from 'node:child_process';
import { chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { JOB, renderSystemdService, renderSystemdTimer } from '../../src/core/schedule.js';
import { BIN, cliNode, credentialsFile, readableCliCopy, runCli } from '../support/cli.js';
import { createUserWithKey, listKeys, uniqueName } from '../support/iam.js';
import { tempHome } from '../support/integration.js';

/*
 * `aws-rekey schedule` for real on Linux: the crontab of a throwaway user (installed, replaced, listed by
 * status, removed, the user's own lines kept), `systemd-analyze verify` on the units it writes, and the
 * scheduled run itself against moto (the log: output, exit code, no secret, 0600).
 */

const endpoint = inject('motoEndpoint');
const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** A user made for one test (as root, as CI runs), with a credentials file in its home; removed afterwards. */
async function throwawayUser(credentials: string): Promise<{ name: string; uid: number; gid: number; home: string; env: NodeJS.ProcessEnv }> {
  if (!isRoot) throw new Error('This test makes a throwaway user to own a crontab: run it as root (as .ci/run does).');
  const name = `rekey${Date.now().toString(36).slice(-6)}${Math.floor(Math.random() * 1000)}`;
  await run('useradd', ['--create-home', '--shell', '/bin/sh', name]);
  onTestFinished(async () => {
    await run('crontab', ['-r', '-u', name]).catch(() => undefined);
    await run('userdel', ['--remove', name]).catch(() => undefined);
  });
  const uid = Number((await run('id', ['-u', name])).stdout.trim());
  const gid = Number((await run('id', ['-g', name])).stdout.trim());
  const home = (await run('sh', ['-c', `getent passwd ${name} | cut -d: -f6`])).stdout.trim();
  await mkdir(join(home, '.aws'), { mode: 0o700 });
  await writeFile(join(home, '.aws', 'credentials'), credentials, { mode: 0o600 });
  for (const path of [join(home, '.aws'), join(home, '.aws', 'credentials')]) await chown(path, uid, gid);
  const env = { PATH: process.env.PATH, HOME: home, USER: name, LOGNAME: name, NO_COLOR: '1', AWS_REGION: 'us-east-1' };
  return { name, uid, gid, home, env };
}

async function crontabOf(user: string): Promise<string> {
  return run('crontab', ['-l', '-u', user]).then(
    (r) => r.stdout,
    () => '',
  );
}

describe('schedule with cron (a throwaway user, for real)', () => {
  it('install puts one line in the crontab (again: still one), keeps the user\'s own lines; status shows it; remove takes it out', async () => {
    const user = await throwawayUser(credentialsFile({ work: { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 's' } }));
    await run('sh', ['-c', `printf '0 3 * * * /usr/bin/true # my own job\\n' | crontab -u ${user.name} -`]);
    const as = { uid: user.uid, gid: user.gid, bin: await readableCliCopy() };

    const first = await runCli(['schedule', 'install', '--profile', 'work', '--every', '6h', '--if-older-than', '30'], user.env, '', as);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('with cron');
    const second = await runCli(['schedule', 'install', '--profile', 'work', '--if-older-than', '45', '-d'], user.env, '', as);
    expect(second.code, second.stderr).toBe(0);

    const lines = (await crontabOf(user.name)).split('\n').filter(Boolean);
    expect(lines[0]).toBe('0 3 * * * /usr/bin/true # my own job');
    const ours = lines.filter((l) => l.includes(JOB.cronMarker));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(new RegExp(`^17 9 \\* \\* \\* ${cliNode(as.bin)} \\S+/bin/aws-rekey schedule run -- rotate --yes --if-older-than 45 --profile work -d `));

    const status = await runCli(['schedule', 'status', '--json'], user.env, '', as);
    expect(status.code, status.stderr).toBe(0);
    const doc = JSON.parse(status.stdout) as { installed: boolean; scheduler: string; every: string; command: string; nextRun: string; lastRun?: unknown; logPath: string };
    expect(doc).toMatchObject({ installed: true, scheduler: 'cron', every: 'every day', command: 'aws-rekey rotate --yes --if-older-than 45 --profile work -d' });
    expect(doc.lastRun).toBeUndefined();
    const next = new Date(doc.nextRun);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect([next.getHours(), next.getMinutes()]).toEqual([9, 17]);
    // Beside the records of this credentials file.
    expect(doc.logPath).toMatch(new RegExp(`^${user.home}/\\.aws/aws-rekey/credentials-[0-9a-f]{12}/schedule\\.log$`));
    const record = join(dirname(doc.logPath), 'schedule.json');
    expect((await stat(record)).uid).toBe(user.uid);
    expect((await stat(record)).mode & 0o777).toBe(0o600);
    const human = await runCli(['schedule', 'status'], user.env, '', as);
    expect(human.stdout).toMatch(
      /^scheduled rotation: every day, with cron\n {2}runs {6}aws-rekey rotate --yes --if-older-than 45 --profile work -d\n {2}last run {2}none yet\n {2}next run {2}.+\n {2}log {7}\S+schedule\.log\n$/,
    );

    const removed = await runCli(['schedule', 'remove'], user.env, '', as);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('Removed the scheduled rotation (cron).');
    expect(await crontabOf(user.name)).toBe('0 3 * * * /usr/bin/true # my own job\n');
    const after = JSON.parse((await runCli(['schedule', 'status', '--json'], user.env, '', as)).stdout) as { installed: boolean };
    expect(after.installed).toBe(false);
  });

  it('a line removed by hand: status says the scheduler no longer has it', async () => {
    const user = await throwawayUser(credentialsFile({ work: { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 's' } }));
    const as = { uid: user.uid, gid: user.gid, bin: await readableCliCopy() };
    const installed = await runCli(['schedule', 'install', '--all'], user.env, '', as);
    expect(installed.code, installed.stderr).toBe(0);
    await run('crontab', ['-r', '-u', user.name]);
    const status = await runCli(['schedule', 'status'], user.env, '', as);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/recorded \(cron\), but cron no longer has it/);
  });

  it('bad input changes nothing: an unknown --every, a profile without a key, --all with --profile (exit 2)', async () => {
    const user = await throwawayUser(credentialsFile({ work: { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 's' } }));
    const as = { uid: user.uid, gid: user.gid, bin: await readableCliCopy() };
    const cases: Array<[string[], RegExp]> = [
      [['--every', '5h'], /--every '5h' is not a schedule/],
      [['--profile', 'nope'], /No long-lived key in profile nope/],
      [['--all', '--profile', 'work'], /either --all or --profile/],
      [['--if-older-than', '0'], /expected a whole number greater than 0/],
    ];
    for (const [args, message] of cases) {
      const bad = await runCli(['schedule', 'install', ...args], user.env, '', as);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(message);
    }
    expect(await crontabOf(user.name)).toBe('');
  });
});

describe('schedule with systemd', () => {
  it('the units pass systemd-analyze verify (and a broken one does not: the check is real)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aws-rekey-units-'));
    const runtime = await mkdtemp(join(tmpdir(), 'aws-rekey-runtime-'));
    onTestFinished(() => Promise.all([rm(dir, { recursive: true, force: true }), rm(runtime, { recursive: true, force: true })]).then(() => undefined));
    const spec = {
      every: { unit: 'hours' as const, hours: 6 },
      command: [process.execPath, BIN, 'schedule', 'run', '--', 'rotate', '--yes', '--if-older-than', '90', '--profile', "o'brien's work"],
      env: { AWS_SHARED_CREDENTIALS_FILE: '/home/someone/100% sure/credentials' },
      hour: 9,
      minute: 17,
    };
    await writeFile(join(dir, JOB.systemdService), renderSystemdService(spec));
    await writeFile(join(dir, JOB.systemdTimer), renderSystemdTimer(spec));
    const verify = (...files: string[]) =>
      run('systemd-analyze', ['verify', '--user', ...files.map((f) => join(dir, f))], { env: { ...process.env, XDG_RUNTIME_DIR: runtime } }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    const good = await verify(JOB.systemdTimer, JOB.systemdService);
    expect(good, good.out).toEqual({ code: 0, out: '' });

    await writeFile(join(dir, 'broken.service'), renderSystemdService({ ...spec, command: ['node', ...spec.command.slice(1)] }).replace('ExecStart=node', 'ExecStart=relative/node'));
    const broken = await verify('broken.service');
    expect(broken.code).not.toBe(0);
    expect(broken.out).toMatch(/Neither a valid executable name nor an absolute path/);
  });
});

describe('schedule run (what the job runs), against moto', () => {
  it('logs each run beside the records: the output, the exit code; never a secret; 0600; status shows the last run', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('sched'));
    const h = await tempHome({ endpoint, credentials: credentialsFile({ work: { accessKeyId: work.accessKeyId, secretAccessKey: work.secretAccessKey } }) });
    const logPath = (JSON.parse((await runCli(['schedule', 'status', '--json'], h.env)).stdout) as { logPath: string }).logPath;
    expect(logPath.startsWith(join(h.home, '.aws', 'aws-rekey'))).toBe(true);

    // Not due: exit 0, and the log says so.
    const young = await runCli(['schedule', 'run', '--', 'rotate', '--yes', '--if-older-than', '90', '--profile', 'work'], h.env);
    expect(young.code, young.stderr).toBe(0);
    expect(young.stdout + young.stderr).toBe('');
    let log = await readFile(logPath, 'utf8');
    expect(log).toMatch(/^=== \S+ run: aws-rekey rotate --yes --if-older-than 90 --profile work\n/);
    expect(log).toContain('Profile work: not due until');
    expect(log).toMatch(/=== \S+ exit 0 \(ok\)\n$/);
    expect((await stat(logPath)).mode & 0o777).toBe(0o600);

    // Due (the clock moved on): rotated, logged, and the new secret is nowhere in the log.
    const later = { ...h.env, AWS_REKEY_NOW: new Date(Date.now() + 91 * 86_400_000).toISOString() };
    const due = await runCli(['schedule', 'run', '--', 'rotate', '--yes', '--if-older-than', '90', '--profile', 'work', '--verify-successes', '1'], later);
    expect(due.code, due.stderr).toBe(0);
    const fresh = /aws_secret_access_key = (\S+)/.exec(await h.readCredentials())?.[1];
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(work.secretAccessKey);
    log = await readFile(logPath, 'utf8');
    expect(log).toContain('Rotated the access key of');
    expect(log).not.toContain(fresh!);
    expect(log).not.toContain(work.secretAccessKey);
    expect((await listKeys(endpoint, work.userName)).find((k) => k.accessKeyId === work.accessKeyId)?.status).toBe('Inactive');

    // A failing run: its exit code is the job's, and it is in the log and in status.
    const failing = await runCli(['schedule', 'run', '--', 'rotate', '--yes', '--if-older-than', '90', '--profile', 'gone'], h.env);
    expect(failing.code).toBe(2);
    log = await readFile(logPath, 'utf8');
    expect(log).toMatch(/error: .*gone.*\n(hint: .*\n)?=== \S+ exit 2 \(usage error\)\n$/);
    expect(log.match(/ run: /g)).toHaveLength(3);
    const status = JSON.parse((await runCli(['schedule', 'status', '--json'], h.env)).stdout) as { installed: boolean; lastRun: { exitCode: number; result: string } };
    expect(status).toMatchObject({ installed: false, lastRun: { exitCode: 2, result: 'failed (exit 2)' } });
    expect((await runCli(['schedule', 'status'], h.env)).stdout).toMatch(/last run {2}\S+: failed \(exit 2\)/);
  });

  it('refuses to run anything but rotate, or --print-secret (the log would hold it)', async () => {
    const h = await tempHome({ credentials: '' });
    const other = await runCli(['schedule', 'run', '--', 'policy'], h.env);
    expect(other.code).toBe(2);
    const secret = await runCli(['schedule', 'run', '--', 'rotate', '--user', 'ci', '--print-secret'], h.env);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toMatch(/never prints a secret/);
  });
});
