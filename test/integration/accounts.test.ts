import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { writeUserJournal } from '../../src/credentials/user-journal.js';
import { credentialsFile, runCli, type CliRun, type TempHome } from '../support/cli.js';
import { createAccessKey, createUserWithKey, listKeys, stsClient, uniqueName, type SeededUser } from '../support/iam.js';
import { FAST, tempHome } from '../support/integration.js';
import { accountIam, keysOf, MANAGEMENT_ACCOUNT, seedUsers } from '../support/org.js';

/*
 * Issue 17, part 2: records of `--user NAME` rotations are kept per partition, account and user. moto runs
 * the calls made with an assumed role in that role's account, so the `other` profile (a role in account
 * 111111111111) reaches a second account where a user of the same name lives. A rotation recorded in one
 * account is never resumed, retired or undone by a run in the other.
 */

const endpoint = inject('motoEndpoint');
const OTHER_ACCOUNT = '111111111111';

interface TwoAccounts {
  home: TempHome;
  userName: string;
  /** NAME in the first account (the admin's own). */
  inA: SeededUser;
  /** NAME's key in the second account. */
  inB: { accessKeyId: string; secretAccessKey: string };
}

async function twoAccounts(): Promise<TwoAccounts> {
  const admin = await createUserWithKey(endpoint, uniqueName('admin'));
  const userName = uniqueName('ci');
  const inA = await createUserWithKey(endpoint, userName);
  const pairs = await seedUsers(await accountIam(endpoint, OTHER_ACCOUNT), [{ userName }]);
  const home = await tempHome({
    endpoint,
    credentials: credentialsFile({ admin }),
    config: `[profile other]\nrole_arn = arn:aws:iam::${OTHER_ACCOUNT}:role/X\nsource_profile = admin\n`,
  });
  return { home, userName, inA, inB: pairs.get(userName)![0]! };
}

function doc<T>(run: CliRun): T {
  expect(run.stdout, run.stderr).not.toBe('');
  return JSON.parse(run.stdout) as T;
}

interface StatusDoc {
  rotations: Array<{ id: string; userName: string; account: string; stage: string }>;
}

describe('--user records know their account', () => {
  it('an interrupted rotation in one account is neither finished nor undone by a run in another; its own account finishes it', async () => {
    const t = await twoAccounts();
    // A crash right after CreateAccessKey in the first account: the new secret only in the journal.
    const fresh = await createAccessKey(endpoint, t.userName);
    const outA = join(t.home.home, 'ci-a.credentials');
    const now = new Date().toISOString();
    await writeUserJournal({
      version: 1,
      kind: 'user',
      userName: t.userName,
      userArn: t.inA.arn,
      credentialsPath: t.home.credentialsPath,
      oldKeyId: t.inA.accessKeyId,
      keysBefore: [t.inA.accessKeyId],
      retire: 'deactivate',
      destination: { kind: 'file', path: outA, format: 'ini', section: t.userName },
      force: false,
      phase: 'created',
      newKey: fresh,
      startedAt: now,
      updatedAt: now,
    });

    const outB = join(t.home.home, 'ci-b.credentials');
    const inB = await runCli(['rotate', '--user', t.userName, '--profile', 'other', '--out', outB, '-y', '--json', ...FAST], t.home.env);
    expect(inB.code, inB.stderr).toBe(0);
    expect(doc<{ status: string; user: { account: string } }>(inB)).toMatchObject({ status: 'rotated', user: { account: OTHER_ACCOUNT } });
    expect(inB.stderr).toMatch(new RegExp(`in account ${MANAGEMENT_ACCOUNT} is recorded .* this run is for account ${OTHER_ACCOUNT}`));
    // The second account's user got a new key; the first account's rotation was left as it was.
    const keyB = /aws_access_key_id = (\S+)/.exec(await readFile(outB, 'utf8'))?.[1];
    expect((await keysOf(await accountIam(endpoint, OTHER_ACCOUNT), t.userName)).find((k) => k.accessKeyId === keyB)?.status).toBe('Active');
    await expect(stat(outA)).rejects.toThrow();
    expect((await listKeys(endpoint, t.userName)).map((k) => [k.accessKeyId, k.status]).sort()).toEqual(
      [
        [t.inA.accessKeyId, 'Active'],
        [fresh.accessKeyId, 'Active'],
      ].sort(),
    );
    const status = doc<StatusDoc>(await runCli(['status', '--json'], t.home.env));
    expect(status.rotations).toMatchObject([{ userName: t.userName, account: MANAGEMENT_ACCOUNT, stage: 'interrupted' }]);

    // The first account's own run finishes it: the key from the journal is delivered, the old one retired.
    const inA = await runCli(['rotate', '--user', t.userName, '--profile', 'admin', '--out', outA, '-y', '--json', ...FAST], t.home.env);
    expect(inA.code, inA.stderr).toBe(0);
    expect(inA.stderr).toContain(`An earlier rotation of user ${t.userName} in account ${MANAGEMENT_ACCOUNT}`);
    expect(await readFile(outA, 'utf8')).toContain(fresh.accessKeyId);
    expect((await listKeys(endpoint, t.userName)).find((k) => k.accessKeyId === t.inA.accessKeyId)?.status).toBe('Inactive');
    expect(doc<StatusDoc>(await runCli(['status', '--json'], t.home.env)).rotations).toEqual([]);
  });

  it('a staged rotation in one account is not retired or rolled back from another: a refusal naming both', async () => {
    const t = await twoAccounts();
    const outA = join(t.home.home, 'ci-a.credentials');
    const created = await runCli(['rotate', '--user', t.userName, '--profile', 'admin', '--out', outA, '--stage', 'create', '-y', ...FAST], t.home.env);
    expect(created.code, created.stderr).toBe(0);
    const keysA = await listKeys(endpoint, t.userName);
    expect(keysA.map((k) => k.status)).toEqual(['Active', 'Active']);

    for (const args of [
      ['rotate', '--user', t.userName, '--profile', 'other', '--stage', 'retire', '-y', '--json'],
      ['rotate', '--user', t.userName, '--profile', 'other', '--stage', 'delete', '-y', '--json'],
      ['rollback', '--user', t.userName, '--profile', 'other', '--delete-new', '-y', '--json'],
    ]) {
      const run = await runCli(args, t.home.env);
      expect(run.code, run.stderr).toBe(2);
      const error = doc<{ error: { code: string; message: string; hint: string } }>(run).error;
      expect(error.code).toBe('RECORD_OF_ANOTHER_ACCOUNT');
      expect(error.message).toContain(`account ${MANAGEMENT_ACCOUNT}`);
      expect(error.message).toContain(`account ${OTHER_ACCOUNT}`);
      expect(error.hint).toContain('status');
    }
    // Nothing changed in either account.
    expect(await listKeys(endpoint, t.userName)).toEqual(keysA);
    expect((await keysOf(await accountIam(endpoint, OTHER_ACCOUNT), t.userName)).map((k) => [k.accessKeyId, k.status])).toEqual([[t.inB.accessKeyId, 'Active']]);
    expect(doc<StatusDoc>(await runCli(['status', '--json'], t.home.env)).rotations).toMatchObject([{ account: MANAGEMENT_ACCOUNT, stage: 'created' }]);
    const table = await runCli(['status'], t.home.env);
    expect(table.stdout).toContain(MANAGEMENT_ACCOUNT);

    // In the second account, NAME is another user: its own staged rotation goes through, beside the first.
    const outB = join(t.home.home, 'ci-b.credentials');
    const createdB = await runCli(['rotate', '--user', t.userName, '--profile', 'other', '--out', outB, '--stage', 'create', '-y', ...FAST], t.home.env);
    expect(createdB.code, createdB.stderr).toBe(0);
    const both = doc<StatusDoc>(await runCli(['status', '--json'], t.home.env)).rotations.map((r) => r.account).sort();
    expect(both).toEqual([OTHER_ACCOUNT, MANAGEMENT_ACCOUNT].sort());
    // And the first account's goes on.
    const retired = await runCli(['rotate', '--user', t.userName, '--profile', 'admin', '--stage', 'retire', '-y'], t.home.env);
    expect(retired.code, retired.stderr).toBe(0);
    expect((await listKeys(endpoint, t.userName)).find((k) => k.accessKeyId === t.inA.accessKeyId)?.status).toBe('Inactive');
  });

  it('the role profile really reaches the second account (the premise of these tests)', async () => {
    const t = await twoAccounts();
    const identity = await stsClient(endpoint, t.inB).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(OTHER_ACCOUNT);
  });
});
