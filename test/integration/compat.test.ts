import { createRequire } from 'node:module';
import { describe, expect, inject, it } from 'vitest';
import { credentialsFile, runCli, type TempHome } from '../support/cli.js';
import { createAccessKey, createUserWithKey, createVirtualMfa, listKeys, setKeyStatus, uniqueName, type SeededUser } from '../support/iam.js';
import { FAST, sharedFaultProxy, tempHome } from '../support/integration.js';

/*
 * The spellings of the tools people switch from (issue 16): aws-rotate-key's one-dash flags, aws-vault's
 * `rotate PROFILE`, aws-rotate-iam-keys' `--profiles a,b,c`. Each either rotates, or is refused exactly as our
 * own spelling is.
 */

const endpoint = inject('motoEndpoint');
const proxy = sharedFaultProxy(endpoint);
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

async function homeFor(users: Record<string, SeededUser>): Promise<TempHome> {
  const profiles = Object.fromEntries(Object.entries(users).map(([name, u]) => [name, { accessKeyId: u.accessKeyId, secretAccessKey: u.secretAccessKey }]));
  return tempHome({ endpoint: proxy.endpoint, credentials: credentialsFile(profiles) });
}

/** The output with the durations a slow step prints (` (1.2 s)`, io.ts) left out: a loaded machine may slow one run only. */
const untimed = (text: string): string => text.replace(/ \(\d+\.\d s\)/g, '');

function keyIdOf(text: string, profile: string): string | undefined {
  return new RegExp(`\\[${profile}\\]\\naws_access_key_id = (\\S+)`).exec(text)?.[1];
}

/** The profile now holds the user's one new active key; the old key is `old` (inactive, or gone when deleted). */
async function expectRotated(h: TempHome, profile: string, user: SeededUser, old: 'Inactive' | 'deleted' = 'Inactive'): Promise<void> {
  const keys = await listKeys(endpoint, user.userName);
  const fresh = keyIdOf(await h.readCredentials(), profile);
  expect(fresh).not.toBe(user.accessKeyId);
  expect(keys.find((k) => k.accessKeyId === fresh)?.status).toBe('Active');
  if (old === 'deleted') expect(keys.map((k) => k.accessKeyId)).not.toContain(user.accessKeyId);
  else expect(keys.find((k) => k.accessKeyId === user.accessKeyId)?.status).toBe('Inactive');
}

describe("aws-rotate-key's one-dash flags", () => {
  it('-profile work -y: rotates, no prompt without a terminal', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('work'));
    const h = await homeFor({ work });
    const run = await runCli(['-profile', 'work', '-y', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(0);
    await expectRotated(h, 'work', work);
  });

  it('-profile=work -d -y: the old key is deleted', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('work'));
    const h = await homeFor({ work });
    const run = await runCli(['-profile=work', '-d', '-y', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(0);
    await expectRotated(h, 'work', work, 'deleted');
  });

  it('-auth-profile admin: the IAM calls are signed by the admin', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('work'));
    const admin = await createUserWithKey(endpoint, uniqueName('admin'));
    const h = await homeFor({ work, admin });
    const run = await runCli(['-profile', 'work', '-auth-profile', 'admin', '-y', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(0);
    await expectRotated(h, 'work', work);
    expect(proxy.log.find((e) => e.action === 'CreateAccessKey')?.accessKeyId).toBe(admin.accessKeyId);
  });

  for (const spelling of [['-mfa'], ['-mfa-serial', 'SERIAL'], ['-mfa-serial-number', 'SERIAL'], ['-mfa-serial-number=SERIAL']]) {
    it(`${spelling.join(' ')} (with --mfa-code): the changes are made in an MFA session`, async () => {
      const work = await createUserWithKey(endpoint, uniqueName('mfa'));
      const serial = await createVirtualMfa(endpoint, work.userName);
      const h = await homeFor({ work });
      const args = spelling.map((word) => word.replace('SERIAL', serial));
      const run = await runCli(['-profile', 'work', ...args, '--mfa-code', '123456', '-y', ...FAST], h.env);
      expect(run.code, run.stderr).toBe(0);
      await expectRotated(h, 'work', work);
      const session = proxy.log.filter((e) => e.action === 'GetSessionToken');
      expect(session).toHaveLength(1);
      expect(session[0]?.params).toMatchObject({ SerialNumber: serial });
      expect(proxy.log.find((e) => e.action === 'CreateAccessKey')?.accessKeyId).not.toBe(work.accessKeyId);
    });
  }

  it('-mfa without a code and without a terminal: the same usage error as --mfa (exit 2), nothing changed', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('mfa'));
    await createVirtualMfa(endpoint, work.userName);
    const h = await homeFor({ work });
    const before = await h.readCredentials();
    const ours = await runCli(['--profile', 'work', '--mfa', '--yes'], h.env);
    const theirs = await runCli(['-profile', 'work', '-mfa', '-y'], h.env);
    expect(theirs.code).toBe(2);
    expect(theirs.code).toBe(ours.code);
    expect(untimed(theirs.stderr)).toBe(untimed(ours.stderr));
    expect(await h.readCredentials()).toBe(before);
    expect(await listKeys(endpoint, work.userName)).toHaveLength(1);
  });

  it('-y with another *active* key: refused like --yes (exit 1), and the message says what aws-rotate-key would have done and which flag allows it', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('busy'));
    const other = await createAccessKey(endpoint, work.userName);
    const h = await homeFor({ work });
    const before = await h.readCredentials();
    const theirs = await runCli(['-profile', 'work', '-y', ...FAST], h.env);
    const ours = await runCli(['--profile', 'work', '--yes', ...FAST], h.env);
    expect(theirs.code).toBe(1);
    expect(theirs.code).toBe(ours.code);
    expect(untimed(theirs.stderr)).toBe(untimed(ours.stderr));
    expect(theirs.stderr).toMatch(/aws-rotate-key -y would have deleted it without asking/);
    expect(theirs.stderr).toContain(`--delete-key ${other.accessKeyId}`);
    expect(await h.readCredentials()).toBe(before);
    expect((await listKeys(endpoint, work.userName)).map((k) => k.status)).toEqual(['Active', 'Active']);

    // Named, it goes, as aws-rotate-key -y would have done.
    const allowed = await runCli(['-profile', 'work', '-y', '--delete-key', other.accessKeyId, ...FAST], h.env);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect((await listKeys(endpoint, work.userName)).map((k) => k.accessKeyId)).not.toContain(other.accessKeyId);
  });

  it('-y with another *inactive* key: it is deleted to make room, as aws-rotate-key does', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('spare'));
    const other = await createAccessKey(endpoint, work.userName);
    await setKeyStatus(endpoint, work.userName, other.accessKeyId, 'Inactive');
    const h = await homeFor({ work });
    const run = await runCli(['-profile', 'work', '-y', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(0);
    await expectRotated(h, 'work', work);
    expect((await listKeys(endpoint, work.userName)).map((k) => k.accessKeyId)).not.toContain(other.accessKeyId);
  });

  it('-version prints the version; -help and -h print the help; exit 0', async () => {
    const h = await tempHome();
    const v = await runCli(['-version'], h.env);
    expect(v).toMatchObject({ code: 0, stdout: `${version}\n` });
    for (const flag of ['-help', '-h']) {
      const help = await runCli([flag], h.env);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: aws-rekey/);
    }
  });

  it('a one-dash word that is not one of them: exit 2, the right spelling suggested, nothing changed', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('work'));
    const h = await homeFor({ work });
    const before = await h.readCredentials();
    for (const [word, suggestion] of [
      ['-dry-run', '--dry-run'],
      ['-all', '--all'],
      ['-yes', '--yes'],
      ['-profiles', '--profiles'],
      ['-auth-profle', '--auth-profile'],
    ]) {
      const run = await runCli(['-profile', 'work', word!, ...FAST], h.env);
      expect(run.code, word).toBe(2);
      expect(run.stderr).toContain(`error: unknown option '${word}': did you mean '${suggestion}'?`);
      expect(run.stderr).toMatch(/^hint: Long options take two dashes/m);
    }
    expect(await h.readCredentials()).toBe(before);
    expect(proxy.log).toEqual([]);
  });
});

describe('aws-vault and aws-rotate-iam-keys spellings', () => {
  it('rotate PROFILE (aws-vault rotate work)', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('work'));
    const other = await createUserWithKey(endpoint, uniqueName('other'));
    const h = await homeFor({ work, other });
    const run = await runCli(['rotate', 'work', '-y', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(0);
    await expectRotated(h, 'work', work);
    expect(keyIdOf(await h.readCredentials(), 'other')).toBe(other.accessKeyId);
  });

  it('a profile without the word rotate is a mistyped command, not a profile: exit 2, nothing changed', async () => {
    const work = await createUserWithKey(endpoint, uniqueName('work'));
    const h = await homeFor({ work });
    const run = await runCli(['work', '-y'], h.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: unknown command 'work'");
    expect(run.stderr).toContain('aws-rekey rotate work');
    expect(proxy.log).toEqual([]);
  });

  it('--profiles a,b,c (with a repeated --profile beside it) rotates each', async () => {
    const users = { a: await createUserWithKey(endpoint, uniqueName('a')), b: await createUserWithKey(endpoint, uniqueName('b')), c: await createUserWithKey(endpoint, uniqueName('c')) };
    const untouched = await createUserWithKey(endpoint, uniqueName('d'));
    const h = await homeFor({ ...users, d: untouched });
    const run = await runCli(['rotate', '--profiles', 'a, b', '--profile', 'c', '-y', '--json', ...FAST], h.env);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { results: Array<{ profiles: string[]; status: string }> };
    expect(doc.results.map((r) => [r.profiles.join(','), r.status])).toEqual([
      ['c', 'rotated'],
      ['a', 'rotated'],
      ['b', 'rotated'],
    ]);
    for (const [name, user] of Object.entries(users)) await expectRotated(h, name, user);
    expect(keyIdOf(await h.readCredentials(), 'd')).toBe(untouched.accessKeyId);
  });

  it('--profiles with no name in it: exit 2', async () => {
    const h = await tempHome({ credentials: '' });
    const run = await runCli(['rotate', '--profiles', ' , '], h.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/expected profile names separated by commas/);
  });
});

describe('--help', () => {
  it('lists each option once, with two dashes, and notes the one-dash spellings', async () => {
    const h = await tempHome();
    for (const command of [[], ['rotate'], ['keys'], ['recover'], ['rollback'], ['status'], ['audit'], ['policy']]) {
      const run = await runCli([...command, '--help'], h.env);
      expect(run.code).toBe(0);
      const optionLines = run.stdout.split('\n').filter((line) => /^ {2}-/.test(line));
      expect(optionLines.length, command.join(' ')).toBeGreaterThan(0);
      const longs = optionLines.map((line) => /--[\w-]+/.exec(line)?.[0]);
      expect(new Set(longs).size, `${command.join(' ')}: ${longs.join(' ')}`).toBe(longs.length);
      // No one-dash long word is listed as an option of its own.
      for (const line of optionLines) expect(line).not.toMatch(/^ {2}-[a-z]{2,}/);
    }
    const rotate = await runCli(['rotate', '--help'], h.env);
    expect(rotate.stdout).toContain('Also accepted, as aws-rotate-key spells them: -profile, -auth-profile, -mfa, -mfa-serial, -version, -help');
    expect(rotate.stdout).toMatch(/Usage: aws-rekey rotate \[options\] \[profile\]/);
    expect(rotate.stdout).toContain('--profiles <a,b,c>');
  });
});
