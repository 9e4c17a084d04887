import { parsePrincipalArn } from '../core/arn.js';
import { recordedTarget, targetCommand } from '../core/next-command.js';
import { resumeProfileCommand, resumeUserCommand } from '../rotation/journal-records.js';
import { readJournals, type RotationJournal } from '../credentials/journal.js';
import { listStaged, stagedId, type Destination, type StagedRotation, type StagedStage } from '../credentials/staged-store.js';
import { resolveCredentialsPath } from '../credentials/store.js';
import { listUserJournals, userRefOf, userRecordId, type UserJournal } from '../credentials/user-journal.js';

/** `status`: the staged rotations under way and the interrupted ones, as recorded beside the credentials file. */

/** A staged rotation as shown to people and scripts: never a secret. */
export interface StagedSummary {
  id: string;
  mode: StagedRotation['mode'];
  profile?: string;
  userName: string;
  userArn: string;
  /** The AWS account of the user (from its ARN). */
  account: string;
  oldKeyId: string;
  newKeyId: string;
  newKeyCreatedAt: string;
  stage: StagedStage;
  recordedAt: string;
  retiredAt?: string;
  destination: Destination;
  /** What to run next. */
  next: string;
}

export interface StatusEntry extends Omit<StagedSummary, 'stage' | 'destination' | 'newKeyCreatedAt' | 'recordedAt' | 'newKeyId'> {
  /** `interrupted`: a rotation stopped part-way (crash, Ctrl-C); its journal says where. */
  stage: StagedStage | 'interrupted';
  newKeyId?: string;
  newKeyCreatedAt?: string;
  recordedAt: string;
  destination?: Destination;
  /** For `interrupted`: the last step that completed. */
  phase?: string;
}

export interface StatusResult {
  schemaVersion: 1;
  credentialsPath: string;
  rotations: StatusEntry[];
}

/** Every staged rotation and every interrupted one recorded beside the credentials file. No AWS call. */
export async function rotationStatus(options: { env?: NodeJS.ProcessEnv } = {}): Promise<StatusResult> {
  const env = options.env ?? process.env;
  const credentialsPath = resolveCredentialsPath(env);
  const [staged, journals, userJournals] = await Promise.all([listStaged(credentialsPath), readJournals(credentialsPath), listUserJournals(credentialsPath)]);
  const rotations: StatusEntry[] = staged.map((record) => summarize(record, env));
  for (const j of journals) {
    rotations.push({
      id: stagedId('profile', j.profile),
      mode: 'profile',
      profile: j.profile,
      ...interrupted(j),
      next: `finish or undo it with \`${resumeProfileCommand(j, env)}\``,
    });
  }
  for (const j of userJournals) {
    rotations.push({
      id: userRecordId(userRefOf(j.userArn, j.userName)),
      mode: 'user',
      ...interrupted(j),
      destination: j.destination,
      next: `finish or undo it with \`${resumeUserCommand(j, env)}\``,
    });
  }
  return { schemaVersion: 1, credentialsPath, rotations };
}

/** What a journal left by an interrupted rotation says, whichever kind of rotation wrote it. */
function interrupted(j: RotationJournal | UserJournal) {
  return {
    userName: j.userName,
    userArn: j.userArn,
    account: accountOf(j.userArn),
    oldKeyId: j.oldKeyId,
    ...(j.newKey ? { newKeyId: j.newKey.accessKeyId } : {}),
    stage: 'interrupted' as const,
    phase: j.phase,
    recordedAt: j.startedAt,
  };
}

export function summarize(record: StagedRotation, env: NodeJS.ProcessEnv): StagedSummary {
  return {
    id: record.id,
    mode: record.mode,
    ...(record.profile ? { profile: record.profile } : {}),
    userName: record.userName,
    userArn: record.userArn,
    account: accountOf(record.userArn),
    oldKeyId: record.oldKeyId,
    newKeyId: record.newKeyId,
    newKeyCreatedAt: record.newKeyCreatedAt,
    stage: record.stage,
    recordedAt: record.recordedAt,
    ...(record.retiredAt ? { retiredAt: record.retiredAt } : {}),
    destination: record.destination,
    next: nextStep(record, env),
  };
}

function accountOf(arn: string): string {
  return parsePrincipalArn(arn)?.account ?? '';
}

/** `aws-rekey COMMAND <the record's target, signed as it was> ARGS…`. */
export function stagedCommand(record: StagedRotation, env: NodeJS.ProcessEnv, command: string, ...args: string[]): string {
  return targetCommand(command, recordedTarget(record), env, ...args);
}

export function describeTarget(record: StagedRotation): string {
  return record.mode === 'user' ? `user ${record.userName}` : `profile ${record.profile ?? 'default'}`;
}

export function nextStep(record: StagedRotation, env: NodeJS.ProcessEnv): string {
  return record.stage === 'created'
    ? `roll the new key out, then \`${stagedCommand(record, env, 'rotate', '--stage', 'retire')}\``
    : `once nothing broke, \`${stagedCommand(record, env, 'rotate', '--stage', 'delete')}\` (or \`${stagedCommand(record, env, 'rollback')}\`)`;
}
