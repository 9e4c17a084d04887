import { CredentialsFileError } from '../errors.js';
import { listRecordNames, readJsonRecord, recordPath, removeRecord, writeJsonRecord } from './records.js';
import { listUserJournals, sameUser, userRecordId, userRefOf, type UserRef } from './user-journal.js';

/**
 * Where a new key was delivered. `profiles`: profiles of a local credentials file (self-rotation, or
 * `--to-profile`); `file`: a file of its own (`--out`); `stdout`: printed once (`--print-secret`); the
 * others are the hand-offs of rotation/deliveries/.
 */
export type Destination =
  | {
      kind: 'profiles';
      credentialsPath: string;
      profiles: string[];
      /** `--to-profile NAME`: this profile gets the key even if it did not hold the old one. */
      named?: string;
      /** The config file, when profiles there get the key too (`[profile NAME]`): its own atomic write and backup. */
      configPath?: string;
      configProfiles?: string[];
      /** Key ids besides the old one whose holders get the new key: the user's other key, deleted to make room. */
      alsoReplaces?: string[];
    }
  | { kind: 'file'; path: string; format: 'ini' | 'json'; section: string }
  | { kind: 'stdout' }
  /** A Secrets Manager secret (`--to-secret`, and the organisation engine's hand-off). */
  | { kind: 'secret'; name: string }
  /** A SecureString parameter of SSM Parameter Store (`--to-parameter`). */
  | { kind: 'parameter'; name: string; kmsKeyId?: string }
  /** The AWS_* variables of a dotenv file (`--to-env`). */
  | { kind: 'env'; path: string }
  /** A command that reads the pair on its standard input (`--exec`), run once AWS accepts the key. */
  | { kind: 'exec'; command: string; timeoutMs: number };

/** Where a recorded destination is, for plans and messages. */
export function describeRecordedDestination(destination: Destination): string {
  switch (destination.kind) {
    case 'file':
      return destination.path;
    case 'profiles':
      return `profile ${destination.profiles.join(', ')} in ${destination.credentialsPath}`;
    case 'stdout':
      return 'standard output';
    case 'secret':
      return `the Secrets Manager secret ${destination.name}`;
    case 'parameter':
      return `the SSM parameter ${destination.name}`;
    case 'env':
      return `the dotenv file ${destination.path}`;
    case 'exec':
      return `the command "${destination.command}"`;
  }
}

/** `created`: both keys active, the new one works; `retired`: the old key is inactive. */
export type StagedStage = 'created' | 'retired';

/**
 * A staged rotation between `--stage create` and `--stage delete` (or `rollback`). Kept as
 * `<credentials dir>/aws-rekey/<id>.staged.json`, 0600 in a 0700 folder, beside the recovery journals.
 */
export interface StagedRotation {
  version: 1;
  /** `profile-NAME` for a profile's own key, `user-PARTITION-ACCOUNT-NAME` for `--user NAME` (`user-NAME` in 0.1.0). */
  id: string;
  mode: 'profile' | 'user';
  /** The profile whose key is rotated (mode `profile`). */
  profile?: string;
  userName: string;
  userArn: string;
  oldKeyId: string;
  /**
   * The old key's secret, kept only when the new key replaced it in local profiles: `rollback --delete-new`
   * puts the old pair back there. The old key is still valid (that is the point of a staged rotation), so
   * this file is as sensitive as the credentials file. Dropped when the old key is deleted.
   */
  oldSecretAccessKey?: string;
  newKeyId: string;
  /** The new key's CreateDate (IAM's clock): a later use of the old key means something still uses it. */
  newKeyCreatedAt: string;
  destination: Destination;
  stage: StagedStage;
  recordedAt: string;
  retiredAt?: string;
  updatedAt: string;
  /** As in the journal: the `--auth-profile` (or, with `--user`, the admin's profile) that signed the IAM calls. */
  signedBy?: string;
}

const SUFFIX = '.staged.json';

export function stagedId(mode: StagedRotation['mode'], name: string): string {
  return `${mode}-${name}`;
}

function stagedName(id: string): string {
  return `${encodeURIComponent(id)}${SUFFIX}`;
}

export function stagedPath(credentialsPath: string, id: string): Promise<string> {
  return recordPath(credentialsPath, stagedName(id));
}

export async function writeStaged(credentialsPath: string, record: StagedRotation): Promise<void> {
  await writeJsonRecord(credentialsPath, stagedName(record.id), record);
}

export async function removeStaged(credentialsPath: string, id: string): Promise<void> {
  await removeRecord(credentialsPath, stagedName(id));
}

export async function readStaged(credentialsPath: string, id: string): Promise<StagedRotation | undefined> {
  return parseStaged(credentialsPath, stagedName(id));
}

/**
 * The staged rotation of this user in this account. A 0.1.0 record (`user-NAME`, by the name alone) is taken
 * only when its ARN is of that account, and is then kept under the new id.
 */
export async function readStagedUser(credentialsPath: string, ref: UserRef): Promise<StagedRotation | undefined> {
  const id = userRecordId(ref);
  const record = await readStaged(credentialsPath, id);
  if (record) return record;
  const legacy = await readStaged(credentialsPath, stagedId('user', ref.userName));
  if (!legacy || !sameUser(userRefOf(legacy.userArn, legacy.userName), ref)) return undefined;
  const adopted: StagedRotation = { ...legacy, id };
  await writeStaged(credentialsPath, adopted);
  await removeStaged(credentialsPath, legacy.id);
  return adopted;
}

/** The accounts (other than `ref`'s) where a rotation of a user of the same name is recorded, staged or unfinished. */
export async function sameNameElsewhere(credentialsPath: string, ref: UserRef): Promise<UserRef[]> {
  const found = [...(await listStaged(credentialsPath)).filter((r) => r.mode === 'user'), ...(await listUserJournals(credentialsPath))]
    .map((r) => userRefOf(r.userArn, r.userName))
    .filter((other) => other.userName === ref.userName && !sameUser(other, ref));
  return found.filter((other, i) => found.findIndex((o) => sameUser(o, other)) === i);
}

/** Every staged rotation recorded beside this credentials file, oldest first. */
export async function listStaged(credentialsPath: string): Promise<StagedRotation[]> {
  const records: StagedRotation[] = [];
  for (const name of (await listRecordNames(credentialsPath, SUFFIX)).sort()) {
    const record = await parseStaged(credentialsPath, name);
    if (record) records.push(record);
  }
  return records.sort((a, b) => a.recordedAt.localeCompare(b.recordedAt));
}

/** The staged rotation of this profile: recorded for it, or for a profile sharing its key. */
export function findStagedForProfile(records: StagedRotation[], profile: string, keyIds: string[] = []): StagedRotation | undefined {
  return (
    records.find((r) => r.mode === 'profile' && r.profile === profile) ??
    records.find((r) => r.mode === 'profile' && (keyIds.includes(r.newKeyId) || keyIds.includes(r.oldKeyId)))
  );
}

async function parseStaged(credentialsPath: string, name: string): Promise<StagedRotation | undefined> {
  const parsed = await readJsonRecord(credentialsPath, name, unreadable);
  if (parsed === undefined) return undefined;
  if (!isStaged(parsed)) throw unreadable(await recordPath(credentialsPath, name), new Error('it is not a staged rotation record'));
  return parsed;
}

function unreadable(path: string, error: unknown): CredentialsFileError {
  return new CredentialsFileError('STAGED_UNREADABLE', `The staged rotation record ${path} cannot be read: ${(error as Error).message}.`, {
    hint: 'It may hold the old key\'s secret: keep a copy, check the keys with aws-rekey keys, then remove the file.',
    cause: error,
  });
}

function isStaged(value: unknown): value is StagedRotation {
  const v = value as Partial<StagedRotation> | null;
  return (
    v !== null &&
    typeof v === 'object' &&
    v.version === 1 &&
    typeof v.id === 'string' &&
    (v.mode === 'profile' || v.mode === 'user') &&
    typeof v.userName === 'string' &&
    typeof v.oldKeyId === 'string' &&
    typeof v.newKeyId === 'string' &&
    (v.stage === 'created' || v.stage === 'retired') &&
    typeof v.destination === 'object'
  );
}
