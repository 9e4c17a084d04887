import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordPath } from '../../src/credentials/records.js';
import { detectScheduler, installSchedule, removeSchedule, scheduleStatus, type Exec, type ScheduleEnv } from '../../src/flows/schedule.js';

/* The install/status/remove flow on each platform, with the scheduler's commands faked and the files real. */

const homes: string[] = [];
afterEach(async () => {
  await Promise.all(homes.splice(0).map((h) => rm(h, { recursive: true, force: true })));
});

interface Call {
  file: string;
  args: string[];
  /** For schtasks /Create: the XML file's bytes while the command ran. */
  xml?: Buffer;
}

async function scene(platform: NodeJS.Platform, answers: (call: Call) => { code: number | null; stdout?: string; stderr?: string } = () => ({ code: 0 })) {
  const home = await mkdtemp(join(tmpdir(), 'aws-rekey-sched-'));
  homes.push(home);
  await mkdir(join(home, '.aws'), { mode: 0o700 });
  await writeFile(join(home, '.aws', 'credentials'), '[work]\naws_access_key_id = AKIAAAAAAAAAAAAAAAAA\naws_secret_access_key = s\n', { mode: 0o600 });
  const calls: Call[] = [];
  const exec: Exec = async (file, args) => {
    const call: Call = { file, args };
    const xmlAt = args.indexOf('/XML');
    if (xmlAt >= 0) call.xml = await readFile(args[xmlAt + 1]!);
    calls.push(call);
    const answer = answers(call);
    return { code: answer.code, stdout: answer.stdout ?? '', stderr: answer.stderr ?? '' };
  };
  const se: ScheduleEnv = { env: { HOME: home }, platform, homedir: home, exec, cli: ['/usr/bin/node', '/opt/aws-rekey/bin/aws-rekey'], now: () => new Date(2026, 10, 30, 12, 0) };
  return { home, calls, se };
}

const options = { every: { unit: 'day' as const }, ifOlderThan: 90, profiles: ['work'] };

describe('detectScheduler', () => {
  it('macOS: launchd; Windows: Task Scheduler', async () => {
    expect(await detectScheduler((await scene('darwin')).se)).toBe('launchd');
    expect(await detectScheduler((await scene('win32')).se)).toBe('windows');
  });
  it('Linux: systemd when the user manager answers, else cron, else a clear error', async () => {
    expect(await detectScheduler((await scene('linux')).se)).toBe('systemd');
    const noSystemd = await scene('linux', (c) => (c.file === 'systemctl' ? { code: 1, stderr: 'Failed to connect to bus' } : { code: 1, stderr: 'no crontab for x' }));
    expect(await detectScheduler(noSystemd.se)).toBe('cron');
    const nothing = await scene('linux', () => ({ code: null }));
    await expect(detectScheduler(nothing.se)).rejects.toMatchObject({ code: 'NO_SCHEDULER', hint: expect.stringContaining('apt-get install cron') });
  });
});

describe('install, status, remove', () => {
  it('systemd: the units in ~/.config/systemd/user, reloaded and enabled; twice gives the same two files; remove disables and deletes them', async () => {
    const { home, calls, se } = await scene('linux');
    await installSchedule(options, se);
    const status = await installSchedule({ ...options, ifOlderThan: 30 }, se);
    const dir = join(home, '.config', 'systemd', 'user');
    expect(await readFile(join(dir, 'aws-rekey-rotate.service'), 'utf8')).toContain('ExecStart=/usr/bin/node /opt/aws-rekey/bin/aws-rekey schedule run -- rotate --yes --if-older-than 30 --profile work\n');
    expect(await readFile(join(dir, 'aws-rekey-rotate.timer'), 'utf8')).toContain('OnCalendar=*-*-* 09:17:00');
    expect(calls.filter((c) => c.args.includes('enable')).map((c) => c.args)).toEqual([
      ['--user', 'enable', '--now', 'aws-rekey-rotate.timer'],
      ['--user', 'enable', '--now', 'aws-rekey-rotate.timer'],
    ]);
    expect(status).toMatchObject({ installed: true, scheduler: 'systemd', every: 'every day', nextRun: new Date(2026, 11, 1, 9, 17).toISOString() });
    expect(await removeSchedule(se)).toEqual({ removed: true, scheduler: 'systemd' });
    expect(existsSync(join(dir, 'aws-rekey-rotate.timer'))).toBe(false);
    expect(calls.some((c) => c.args.join(' ') === '--user disable --now aws-rekey-rotate.timer')).toBe(true);
    expect(await scheduleStatus(se)).toMatchObject({ installed: false });
  });

  it('launchd: the plist in ~/Library/LaunchAgents, an earlier one booted out, the new one bootstrapped', async () => {
    const { home, calls, se } = await scene('darwin');
    const status = await installSchedule({ ...options, profiles: 'all', every: { unit: 'week' } }, se);
    const plist = await readFile(join(home, 'Library', 'LaunchAgents', 'io.aws-rekey.rotate.plist'), 'utf8');
    expect(plist).toContain('<string>--all</string>');
    expect(calls.map((c) => `${c.file} ${c.args[0]}`)).toEqual(['launchctl bootout', 'launchctl bootstrap']);
    expect(status).toMatchObject({ installed: true, scheduler: 'launchd', every: 'every week (Sunday)' });
    await removeSchedule(se);
    expect(existsSync(join(home, 'Library', 'LaunchAgents', 'io.aws-rekey.rotate.plist'))).toBe(false);
  });

  it('Windows: schtasks /Create /F from a UTF-16 XML file that is removed afterwards; /Delete on remove', async () => {
    const { home, calls, se } = await scene('win32');
    await installSchedule(options, se);
    const create = calls.find((c) => c.args[0] === '/Create');
    const xmlPath = await recordPath(join(home, '.aws', 'credentials'), 'schedule-task.xml');
    expect(create?.args).toEqual(['/Create', '/TN', 'aws-rekey rotate', '/XML', xmlPath, '/F']);
    expect([...create!.xml!.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    expect(create!.xml!.subarray(2).toString('utf16le')).toContain('<Arguments>/opt/aws-rekey/bin/aws-rekey schedule run -- rotate --yes --if-older-than 90 --profile work</Arguments>');
    expect(existsSync(xmlPath)).toBe(false);
    await removeSchedule(se);
    expect(calls.at(-1)?.args).toEqual(['/Delete', '/TN', 'aws-rekey rotate', '/F']);
  });

  it('an --auth-profile whose role takes an MFA code: refused before the scheduler is asked (a job has nobody to type it)', async () => {
    const { home, calls, se } = await scene('linux');
    await writeFile(
      join(home, '.aws', 'config'),
      '[profile key-admin]\nrole_arn = arn:aws:iam::111111111111:role/KeyAdmin\nsource_profile = work\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n\n[profile plain]\nrole_arn = arn:aws:iam::111111111111:role/KeyAdmin\nsource_profile = work\n',
      { mode: 0o600 },
    );
    await expect(installSchedule({ ...options, authProfile: 'key-admin' }, se)).rejects.toMatchObject({
      code: 'SCHEDULE_NEEDS_MFA',
      exitCode: 2,
      message: expect.stringContaining("The auth profile 'key-admin' assumes its role with the MFA device arn:aws:iam::123456789012:mfa/alice"),
    });
    expect(calls).toEqual([]);
    expect(await installSchedule({ ...options, authProfile: 'plain' }, se)).toMatchObject({ installed: true });
  });

  it('a scheduler command that fails: an error naming it, and no record of an install', async () => {
    const { se } = await scene('linux', (c) => (c.args.includes('enable') ? { code: 1, stderr: 'Unit file is masked.' } : { code: 0 }));
    await expect(installSchedule(options, se)).rejects.toMatchObject({ code: 'SCHEDULER_FAILED', message: expect.stringContaining('Unit file is masked.') });
    expect(await scheduleStatus(se)).toMatchObject({ installed: false });
  });
});
