import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CredentialsInput } from '../../src/aws/clients.js';
import type { AwsGateway, IamApi } from '../../src/aws/gateway.js';
import type { AccessKeyInfo } from '../../src/core/types.js';
import { readJournals, writeJournal, type RotationJournal } from '../../src/credentials/journal.js';
import { AwsError, RekeyError } from '../../src/errors.js';
import { describeRecovery, recoverProfile, recoverWithContext, type RecoverSettings } from '../../src/flows/recover.js';
import type { Reporter } from '../../src/rotation/ports.js';
import { createRuntime } from '../../src/rotation/runtime.js';
import type { Timing } from '../../src/rotation/timing.js';
import type { ProfileContext } from '../../src/session/profile-context.js';

/**
 * Recovery of a profile's interrupted rotation (src/flows/recover.ts), on a real temp credentials file and
 * journal, against an in-memory IAM whose calls are signed: which credentials recovery picks for IAM, and
 * which it retires the old key with, are what these tests look at.
 */

const USER = 'alice';
const ARN = `arn:aws:iam::123456789012:user/${USER}`;
const OLD = { accessKeyId: 'AKIAOLDOLDOLDOLDOLD1', secretAccessKey: 'old-secret' };
const NEW = { accessKeyId: 'AKIANEWNEWNEWNEWNEW1', secretAccessKey: 'new-secret' };
const ADMIN = { accessKeyId: 'AKIAADMINADMINADMIN1', secretAccessKey: 'admin-secret' };
const VERIFY = { timeoutMs: 1_000, successes: 1, successIntervalMs: 0, initialDelayMs: 10, maxDelayMs: 10 };

type Call = { action: 'list' | 'update' | 'delete' | 'verify'; signedBy: string };

/** IAM and STS in memory: a call signed with an unknown or inactive key is refused, as AWS does. */
class FakeAws {
  keys = new Map<string, { secret: string; status: 'Active' | 'Inactive' }>([
    [OLD.accessKeyId, { secret: OLD.secretAccessKey, status: 'Active' }],
    [NEW.accessKeyId, { secret: NEW.secretAccessKey, status: 'Active' }],
    [ADMIN.accessKeyId, { secret: ADMIN.secretAccessKey, status: 'Active' }],
  ]);
  calls: Call[] = [];
  /** Keys that IAM refuses (AccessDenied) though STS accepts them. */
  deniedForIam = new Set<string>();
  /** An IAM failure for every call signed with this key. */
  failing = new Map<string, AwsError>();
  /** UpdateAccessKey signed with this key is refused as an unknown key this many times (a key IAM does not know yet). */
  notYetKnown = new Map<string, number>();

  private check(action: Call['action'], credentials: CredentialsInput): void {
    const pair = credentials as { accessKeyId: string; secretAccessKey: string };
    this.calls.push({ action, signedBy: pair.accessKeyId });
    const key = this.keys.get(pair.accessKeyId);
    if (key?.secret !== pair.secretAccessKey || key.status !== 'Active') {
      throw new AwsError('INVALID_CREDENTIALS', `${action === 'verify' ? 'sts:GetCallerIdentity' : `iam:${action}`}`, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    }
    const unknownFor = this.notYetKnown.get(pair.accessKeyId) ?? 0;
    if (action === 'update' && unknownFor > 0) {
      this.notYetKnown.set(pair.accessKeyId, unknownFor - 1);
      throw new AwsError('INVALID_CREDENTIALS', 'iam:UpdateAccessKey', 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    }
    const failure = this.failing.get(pair.accessKeyId);
    if (failure && action !== 'verify') throw failure;
    if (action !== 'verify' && this.deniedForIam.has(pair.accessKeyId)) throw new AwsError('ACCESS_DENIED', `iam:${action}`, 'AccessDenied', `${pair.accessKeyId} may not call iam:${action}`);
  }

  userKeys(): string[] {
    return [...this.keys.keys()].filter((id) => id !== ADMIN.accessKeyId);
  }

  gateway(): AwsGateway {
    return {
      getCallerIdentity: async (credentials) => {
        this.check('verify', credentials);
        return { arn: ARN, account: '123456789012', userId: 'AIDA' };
      },
      getSessionToken: () => Promise.reject(new Error('not used')),
      iam: (credentials) => this.iam(credentials),
      destroy: () => undefined,
    };
  }

  iam(credentials: CredentialsInput): IamApi {
    return {
      listAccessKeys: async () => {
        this.check('list', credentials);
        return this.userKeys().map((id): AccessKeyInfo => ({ accessKeyId: id, status: this.keys.get(id)?.status ?? 'Active' }));
      },
      listOwnAccessKeys: () => Promise.reject(new Error('not used')),
      getAccessKeyLastUsed: () => Promise.reject(new Error('not used')),
      createAccessKey: () => Promise.reject(new Error('recovery never creates a key')),
      updateAccessKey: async (_user, id, status) => {
        this.check('update', credentials);
        const key = this.keys.get(id);
        if (!key) throw new AwsError('NO_SUCH_ENTITY', 'iam:UpdateAccessKey', 'NoSuchEntity', 'no such key');
        key.status = status;
      },
      deleteAccessKey: async (_user, id) => {
        this.check('delete', credentials);
        if (!this.keys.delete(id)) throw new AwsError('NO_SUCH_ENTITY', 'iam:DeleteAccessKey', 'NoSuchEntity', 'no such key');
      },
    };
  }
}

let dir: string;
let credentialsPath: string;

const FILE = (pair: { accessKeyId: string; secretAccessKey: string }) =>
  `[work]\naws_access_key_id = ${pair.accessKeyId}\naws_secret_access_key = ${pair.secretAccessKey}\n\n[alias]\naws_access_key_id = ${pair.accessKeyId}\naws_secret_access_key = ${pair.secretAccessKey}\n\n[other]\naws_access_key_id = AKIAOTHEROTHEROTHER1\naws_secret_access_key = other-secret\n`;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rekey-recover-'));
  credentialsPath = join(dir, 'credentials');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function journalAt(phase: RotationJournal['phase'], extra: Partial<RotationJournal> = {}): RotationJournal {
  return {
    version: 1,
    profile: 'work',
    profiles: ['work', 'alias'],
    userName: USER,
    userArn: ARN,
    credentialsPath,
    oldKeyId: OLD.accessKeyId,
    oldSecretAccessKey: OLD.secretAccessKey,
    keysBefore: [OLD.accessKeyId],
    retire: 'deactivate',
    phase,
    ...(phase === 'creating' ? {} : { newKey: { ...NEW } }),
    startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  };
}

/** A clock that never waits. */
function fakeTiming(): Timing {
  let now = Date.parse('2026-01-01T00:00:00Z');
  return { now: () => now, sleep: async (ms) => void (now += ms) };
}

function capture(): Reporter & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info: ${m}`), warn: (m) => lines.push(`warn: ${m}`), step: () => undefined };
}

async function recover(aws: FakeAws, journal: RotationJournal, options: { auth?: CredentialsInput; dryRun?: boolean; reporter?: Reporter } = {}) {
  const ctx = { profile: 'work', env: {}, credentialsPath, gateway: aws.gateway(), ...(options.auth ? { authCredentials: options.auth } : {}) } as ProfileContext;
  const settings: RecoverSettings = { verify: VERIFY, dryRun: options.dryRun ?? false };
  return recoverWithContext(ctx, journal, settings, createRuntime({ timing: fakeTiming(), reporter: options.reporter }));
}

describe('describeRecovery: what recovery will do, per phase', () => {
  it('creating: orphans go, the old key stays', () => {
    expect(describeRecovery(journalAt('creating'))).toEqual([`delete any key of alice created without its secret reaching us`, 'keep AKIA…OLD1 active in the file']);
  });

  it('created or written: deliver, check, retire (or keep, when staged); one profile or several', () => {
    const expected = ['make sure profiles work, alias hold AKIA…NEW1', 'check that AWS accepts AKIA…NEW1; if it does not, put AKIA…OLD1 back and delete AKIA…NEW1', 'deactivate the old key AKIA…OLD1'];
    expect(describeRecovery(journalAt('created'))).toEqual(expected);
    expect(describeRecovery(journalAt('written'))).toEqual(expected);
    expect(describeRecovery(journalAt('written', { profiles: ['work'], retire: 'delete' }))).toEqual([
      'make sure profile work hold AKIA…NEW1',
      expected[1],
      'delete the old key AKIA…OLD1',
    ]);
    expect(describeRecovery(journalAt('written', { keepOld: true }))[2]).toBe('keep the old key AKIA…OLD1 active (staged rotation: record it)');
  });

  it('a journal without its new key names "the new key"', () => {
    expect(describeRecovery({ ...journalAt('created'), newKey: undefined })[0]).toBe('make sure profiles work, alias hold the new key');
  });

  it('verified: only the retirement (or the staged record) is left', () => {
    expect(describeRecovery(journalAt('verified'))).toEqual(['deactivate the old key AKIA…OLD1 (AKIA…NEW1 is saved and works)']);
    expect(describeRecovery(journalAt('verified', { keepOld: true }))).toEqual(['keep the old key AKIA…OLD1 active and record the staged rotation (AKIA…NEW1 is saved and works)']);
  });
});

describe('recoverWithContext', () => {
  it('--dry-run prints the plan and changes nothing', async () => {
    const aws = new FakeAws();
    const journal = journalAt('written');
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    await writeJournal(journal);
    const reporter = capture();
    const result = await recover(aws, journal, { dryRun: true, reporter });
    expect(result).toEqual({ schemaVersion: 1, profile: 'work', phase: 'written', plan: describeRecovery(journal), outcome: 'clean', steps: [], deletedOrphans: [] });
    expect(reporter.lines[0]).toBe(`info: Unfinished rotation of ${ARN} (started 2026-01-01T00:00:00.000Z, stopped after 'written'). Recovery:`);
    expect(reporter.lines[1]).toBe('info:   1. make sure profiles work, alias hold AKIA…NEW1');
    expect(aws.calls).toEqual([]);
    expect(await readJournals(credentialsPath)).toHaveLength(1);
  });

  it('a journal another run finished meanwhile (gone under the lock): nothing left to do', async () => {
    const aws = new FakeAws();
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    const reporter = capture();
    const result = await recover(aws, journalAt('written'), { reporter });
    expect(result).toEqual({ schemaVersion: 1, profile: 'work', phase: 'written', plan: describeRecovery(journalAt('written')), outcome: 'clean', steps: [], deletedOrphans: [] });
    expect(reporter.lines).toContain('info: Another aws-rekey run has finished it meanwhile: nothing left to do.');
    expect(aws.calls).toEqual([]);
  });

  it("another profile's journal under the lock is not this one's", async () => {
    const aws = new FakeAws();
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    await writeJournal(journalAt('creating', { profile: 'home', profiles: ['home'] }));
    const result = await recover(aws, journalAt('written'));
    expect(result.outcome).toBe('clean');
    expect(aws.calls).toEqual([]);
    expect((await readJournals(credentialsPath)).map((j) => j.profile)).toEqual(['home']);
  });

  it('the journal on disk wins over the one read before the lock (the rotation moved on meanwhile)', async () => {
    const aws = new FakeAws();
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    await writeJournal(journalAt('verified'));
    const result = await recover(aws, journalAt('written'));
    expect(result.outcome).toBe('finished');
    // Verified already: recovery does not check the key again.
    expect(aws.calls.filter((c) => c.action === 'verify')).toEqual([]);
    expect(aws.keys.get(OLD.accessKeyId)?.status).toBe('Inactive');
  });

  it('written: finished with the new key, which also signs the IAM calls and retires the old key', async () => {
    const aws = new FakeAws();
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    await writeJournal(journalAt('written'));
    const result = await recover(aws, journalAt('written'));
    expect(result.outcome).toBe('finished');
    expect(result.deletedOrphans).toEqual([]);
    expect(await readFile(credentialsPath, 'utf8')).toBe(FILE(NEW));
    expect(aws.keys.get(OLD.accessKeyId)?.status).toBe('Inactive');
    expect(aws.calls.filter((c) => c.action !== 'verify').map((c) => c.signedBy)).toEqual([NEW.accessKeyId, NEW.accessKeyId, NEW.accessKeyId]);
    expect(result.steps.find((s) => s.step === 'retire')?.detail).toBe('deactivated the old key AKIA…OLD1 (signed with the new key)');
    expect(await readJournals(credentialsPath)).toEqual([]);
  });

  it('the new key retires the old one even while IAM does not know it everywhere yet (it is waited for)', async () => {
    const aws = new FakeAws();
    aws.notYetKnown.set(NEW.accessKeyId, 2);
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    await writeJournal(journalAt('written'));
    const result = await recover(aws, journalAt('written'));
    expect(result.steps.filter((s) => s.step === 'retire').map((s) => s.detail)).toEqual(['deactivated the old key AKIA…OLD1 (signed with the new key)']);
    expect(aws.calls.filter((c) => c.action === 'update').map((c) => c.signedBy)).toEqual([NEW.accessKeyId, NEW.accessKeyId, NEW.accessKeyId]);
  });

  it('the new key may not call IAM: the old key does (new key first, then the old one)', async () => {
    const aws = new FakeAws();
    aws.deniedForIam.add(NEW.accessKeyId);
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    await writeJournal(journalAt('written'));
    const result = await recover(aws, journalAt('written'));
    expect(result.outcome).toBe('finished');
    expect(aws.calls.filter((c) => c.action === 'list').map((c) => c.signedBy)).toEqual([NEW.accessKeyId, OLD.accessKeyId, OLD.accessKeyId]);
    // The retirement, too, falls back to the old key when the new one is refused.
    expect(result.steps.filter((s) => s.step === 'retire').map((s) => [s.status, s.detail])).toContainEqual(['done', 'deactivated the old key AKIA…OLD1 (signed with the old key)']);
    expect(aws.keys.get(OLD.accessKeyId)?.status).toBe('Inactive');
  });

  it('without the old secret, only the new key is tried for IAM: refused, nothing changes', async () => {
    const aws = new FakeAws();
    aws.deniedForIam.add(NEW.accessKeyId);
    const journal = journalAt('verified', { oldSecretAccessKey: undefined });
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    await writeJournal(journal);
    const error = await recover(aws, journal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RekeyError);
    expect(error).toMatchObject({
      code: 'RECOVER_NO_CREDENTIALS',
      message: `Neither the new nor the old key of alice is accepted for IAM calls: ${NEW.accessKeyId} may not call iam:list.`,
      hint: "Run aws-rekey recover --profile work --auth-profile ADMIN, where ADMIN is a profile allowed to manage alice's keys.",
    });
    // The old key was never tried: its secret is not kept.
    expect(aws.calls.map((c) => c.signedBy)).toEqual([NEW.accessKeyId]);
    expect(aws.keys.get(OLD.accessKeyId)?.status).toBe('Active');
  });

  it('neither key is accepted: RECOVER_NO_CREDENTIALS names the last answer and --auth-profile; nothing changes', async () => {
    const aws = new FakeAws();
    aws.keys.get(NEW.accessKeyId)!.status = 'Inactive';
    aws.deniedForIam.add(OLD.accessKeyId);
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    await writeJournal(journalAt('written'));
    await expect(recover(aws, journalAt('written'))).rejects.toMatchObject({
      code: 'RECOVER_NO_CREDENTIALS',
      message: `Neither the new nor the old key of alice is accepted for IAM calls: ${OLD.accessKeyId} may not call iam:list.`,
    });
    expect(aws.calls.map((c) => c.signedBy)).toEqual([NEW.accessKeyId, OLD.accessKeyId]);
    expect(await readJournals(credentialsPath)).toHaveLength(1);
  });

  it('a journal with no key to try: RECOVER_NO_CREDENTIALS without a last answer', async () => {
    const aws = new FakeAws();
    const journal = journalAt('creating', { oldSecretAccessKey: undefined });
    await writeFile(credentialsPath, FILE(OLD), { mode: 0o600 });
    await writeJournal(journal);
    await expect(recover(aws, journal)).rejects.toMatchObject({ code: 'RECOVER_NO_CREDENTIALS', message: 'Neither the new nor the old key of alice is accepted for IAM calls.' });
    expect(aws.calls).toEqual([]);
  });

  it('an IAM failure that is not about the credentials is not hidden behind the next key', async () => {
    const aws = new FakeAws();
    aws.failing.set(NEW.accessKeyId, new AwsError('SERVICE_FAILURE', 'iam:ListAccessKeys', 'ServiceFailure', 'IAM is down'));
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    await writeJournal(journalAt('written'));
    await expect(recover(aws, journalAt('written'))).rejects.toMatchObject({ code: 'SERVICE_FAILURE', message: 'IAM is down' });
    expect(aws.calls.map((c) => c.signedBy)).toEqual([NEW.accessKeyId]);
  });

  it('a plain error from the first key is not taken for a refusal either', async () => {
    const aws = new FakeAws();
    const gateway = aws.gateway();
    const broken: AwsGateway = { ...gateway, iam: () => ({ ...aws.iam(NEW), listAccessKeys: () => Promise.reject(new Error('socket hang up')) }) };
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    await writeJournal(journalAt('written'));
    const ctx = { profile: 'work', credentialsPath, gateway: broken } as ProfileContext;
    await expect(recoverWithContext(ctx, journalAt('written'), { verify: VERIFY, dryRun: false }, createRuntime({ timing: fakeTiming() }))).rejects.toThrow('socket hang up');
  });

  it('--auth-profile: its credentials make every IAM call, the retirement included', async () => {
    const aws = new FakeAws();
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    await writeJournal(journalAt('written'));
    const result = await recover(aws, journalAt('written'), { auth: ADMIN });
    expect(result.outcome).toBe('finished');
    expect(aws.calls.filter((c) => c.action !== 'verify').map((c) => c.signedBy)).toEqual([ADMIN.accessKeyId, ADMIN.accessKeyId]);
    expect(result.steps.find((s) => s.step === 'retire')?.detail).toBe('deactivated the old key AKIA…OLD1 (signed with the IAM credentials)');
  });

  it('creating: the key whose secret never arrived is deleted, and reported', async () => {
    const aws = new FakeAws();
    const journal = journalAt('creating');
    await writeFile(credentialsPath, FILE(OLD), { mode: 0o600 });
    await writeJournal(journal);
    const result = await recover(aws, journal);
    expect(result).toMatchObject({ outcome: 'rolled-back', phase: 'creating', deletedOrphans: [NEW.accessKeyId] });
    expect(aws.userKeys()).toEqual([OLD.accessKeyId]);
    expect(await readFile(credentialsPath, 'utf8')).toBe(FILE(OLD));
  });

  it('the new key is gone: rolled back, the old pair back in every profile, no orphans reported', async () => {
    const aws = new FakeAws();
    aws.keys.delete(NEW.accessKeyId);
    await writeFile(credentialsPath, FILE(NEW), { mode: 0o600 });
    await writeJournal(journalAt('written'));
    const result = await recover(aws, journalAt('written'));
    expect(result).toMatchObject({ outcome: 'rolled-back', deletedOrphans: [] });
    expect(await readFile(credentialsPath, 'utf8')).toBe(FILE(OLD));
    expect(await readJournals(credentialsPath)).toEqual([]);
  });
});

describe('recoverProfile: from the profile to its journal (no AWS call on these paths)', () => {
  const env = () => ({ AWS_SHARED_CREDENTIALS_FILE: credentialsPath, AWS_CONFIG_FILE: join(dir, 'config'), AWS_REGION: 'us-east-1', HOME: dir });

  it('no journal: nothing to recover, said so', async () => {
    await writeFile(credentialsPath, FILE(OLD), { mode: 0o600 });
    const reporter = capture();
    expect(await recoverProfile({ profile: 'work', env: env() }, { reporter })).toEqual({ schemaVersion: 1, outcome: 'clean', profile: 'work', plan: [], steps: [], deletedOrphans: [] });
    expect(reporter.lines).toContain('info: No unfinished rotation of profile work: nothing to recover.');
  });

  it('a journal found by the key the profile holds (it names other profiles): --dry-run shows its plan', async () => {
    await writeFile(credentialsPath, FILE(OLD), { mode: 0o600 });
    const journal = journalAt('creating', { profile: 'gone', profiles: ['gone'] });
    await writeJournal(journal);
    const result = await recoverProfile({ profile: 'work', env: env(), dryRun: true });
    expect(result).toMatchObject({ outcome: 'clean', profile: 'gone', phase: 'creating', plan: describeRecovery(journal) });
  });

  it('without --dry-run it acts: here, with no key to sign with, RECOVER_NO_CREDENTIALS before any call', async () => {
    await writeFile(credentialsPath, FILE(OLD), { mode: 0o600 });
    await writeJournal(journalAt('creating', { oldSecretAccessKey: undefined }));
    await expect(recoverProfile({ profile: 'work', env: env() })).rejects.toMatchObject({ code: 'RECOVER_NO_CREDENTIALS' });
  });
});
