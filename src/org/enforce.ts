import type { AwsGateway, IamApi } from '../aws/gateway.js';
import type { OrgIamApi } from '../aws/org-iam.js';
import type { SecretsApi } from '../aws/secrets.js';
import { PROGRESS_TAGS, TAGS, rotationTagValue, type KeyDecision, type UserDecision } from '../core/org-decision.js';
import type { JournalCore } from '../credentials/journal.js';
import { RekeyError } from '../errors.js';
import { openDelivery } from '../rotation/delivery.js';
import { secretVersionId } from '../rotation/deliveries/secrets-manager.js';
import { deleteKeyIfPresent } from '../rotation/key-steps.js';
import { resumeRotation, rotateKey, type JournalRecord, type Rotation } from '../rotation/lifecycle.js';
import { createRuntime } from '../rotation/runtime.js';
import { DEFAULT_VERIFY_OPTIONS, type VerifyOptions } from '../rotation/verify.js';

/** What enforce mode needs in a member account, besides the reads. */
export interface EnforceServices {
  /** Key calls (create, list, update, delete), made with the member role. */
  keys: IamApi;
  /** Verifies a new key (calls signed with it). */
  gateway: AwsGateway;
  tags: OrgIamApi;
  secrets: SecretsApi;
  /** Principals besides the user who may read the user's secret: the member role (to resume), an admin role. */
  secretReaders: string[];
}

export interface EnforceOptions {
  /** "Now" for the tags that schedule the next steps (the injected clock in tests). */
  now: Date;
  verify?: VerifyOptions;
}

export type DoneAction = 'rotated' | 'deactivated' | 'deleted' | 'resumed' | 'undone';

export interface DoneItem {
  key: KeyDecision;
  done: DoneAction;
  /** Where the new key is (rotated, resumed). */
  secretName?: string;
  newKeyId?: string;
}

/** The user's secret: one per user, in the user's account. */
export function secretNameOf(userName: string): string {
  return `aws-rekey/${userName}`;
}

/**
 * Does what the decision says is due now, for one user: finish or undo an interrupted rotation first (and
 * nothing else then); else rotate (through the one rotation lifecycle, with the Secrets Manager delivery and
 * without retiring: the old key is deactivated days later), deactivate, delete.
 */
export async function enforceUser(user: UserDecision, services: EnforceServices, options: EnforceOptions): Promise<DoneItem[]> {
  if (user.exemption) return [];
  if (user.interrupted) return [await finishInterrupted(user, services, options)];
  const done: DoneItem[] = [];
  for (const key of user.keys) {
    if (key.action === 'none' || !key.accessKeyId) continue;
    if (key.action === 'rotate') {
      const newKeyId = await rotate(user, key.accessKeyId, user.keys.map((k) => k.accessKeyId ?? ''), services, options);
      done.push({ key, done: 'rotated', secretName: secretNameOf(user.userName), newKeyId });
    } else if (key.action === 'deactivate') {
      await services.keys.updateAccessKey(user.userName, key.accessKeyId, 'Inactive');
      await services.tags.tagUser(user.userName, { [TAGS.deactivated]: key.accessKeyId, [TAGS.deactivatedAt]: options.now.toISOString() });
      done.push({ key, done: 'deactivated' });
    } else if (key.action === 'delete') {
      await deleteKeyIfPresent(services.keys, user.userName, key.accessKeyId);
      // The rotation is over: its progress tags go (the notice marker stays, so no mail repeats).
      await services.tags.untagUser(user.userName, PROGRESS_TAGS);
      done.push({ key, done: 'deleted' });
    }
  }
  return done;
}

type OrgJournal = JournalCore;

/**
 * The journal of an organisation rotation is a user tag (no disk in Lambda): the keys before it. Written once,
 * before CreateAccessKey: an interrupted rotation is finished or undone from IAM's keys and the user's secret
 * (finishInterrupted), never from the phase it reached, so a TagUser per later phase would tell the next run
 * nothing (and cost three requests per rotation).
 */
function tagJournalRecord(tags: OrgIamApi): JournalRecord<OrgJournal> {
  return {
    save: async (journal) => {
      if (journal.phase !== 'creating') return;
      await tags.tagUser(journal.userName, { [TAGS.rotation]: rotationTagValue(journal.phase, journal.keysBefore) });
    },
    remove: (journal) => tags.untagUser(journal.userName, [TAGS.rotation]),
    resumeStep: () => 'let the next enforce run of aws-rekey resume it',
  };
}

function orgRotation(user: UserDecision, journal: OrgJournal, services: EnforceServices, options: EnforceOptions): Rotation<OrgJournal> {
  return {
    journal,
    record: tagJournalRecord(services.tags),
    iam: services.keys,
    gateway: services.gateway,
    delivery: openDelivery(
      { kind: 'secret', name: secretNameOf(user.userName) },
      {
        userName: user.userName,
        oldKeyId: journal.oldKeyId,
        secret: {
          secrets: services.secrets,
          userArn: journal.userArn,
          readers: services.secretReaders,
          // CreateAccessKey's answer has the date; a resumed rotation (the answer long gone) asks IAM.
          createDateOf: async (id) =>
            (journal.newKey?.accessKeyId === id ? journal.newKey.createDate : undefined) ??
            (await services.keys.listAccessKeys(user.userName)).find((k) => k.accessKeyId === id)?.createDate?.toISOString(),
        },
      },
    ),
    verify: options.verify ?? DEFAULT_VERIFY_OPTIONS,
    // Nothing is retired in this run: the old key is deactivated deactivateAfterDays later, if unused since.
    retireWith: () => [],
    recordStaged: async (j, newKey) => {
      await services.tags.tagUser(j.userName, { [TAGS.rotatedAt]: options.now.toISOString(), [TAGS.replacement]: newKey.accessKeyId });
    },
  };
}

function newJournal(user: UserDecision, oldKeyId: string, keysBefore: string[], now: Date): OrgJournal {
  if (!user.arn) throw new RekeyError('ORG_USER_ARN_UNKNOWN', `The ARN of ${user.userName} is unknown: the new key cannot be verified.`);
  return {
    userName: user.userName,
    userArn: user.arn,
    credentialsPath: '',
    oldKeyId,
    keysBefore,
    retire: 'deactivate',
    keepOld: true,
    phase: 'creating',
    startedAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

async function rotate(user: UserDecision, oldKeyId: string, keysBefore: string[], services: EnforceServices, options: EnforceOptions): Promise<string> {
  const journal = newJournal(user, oldKeyId, keysBefore.filter(Boolean), options.now);
  const outcome = await rotateKey(orgRotation(user, journal, services, options), createRuntime());
  return outcome.newKey.accessKeyId;
}

/**
 * A rotation that stopped part-way: if the user's secret holds a key created by it, the rotation is finished
 * from there (verified, confirmed, recorded); otherwise the key whose secret was lost is deleted.
 */
async function finishInterrupted(user: UserDecision, services: EnforceServices, options: EnforceOptions): Promise<DoneItem> {
  const recorded = user.interrupted ?? { phase: 'creating', keysBefore: [] };
  const keysBefore = recorded.keysBefore;
  const oldKeyId = keysBefore.find((id) => user.keys.some((k) => k.accessKeyId === id && k.active)) ?? keysBefore[0] ?? '';
  const journal = newJournal(user, oldKeyId, keysBefore, options.now);
  const now = await services.keys.listAccessKeys(user.userName);
  const created = now.find((k) => !keysBefore.includes(k.accessKeyId));
  const name = secretNameOf(user.userName);
  if (created) {
    const state = await services.secrets.describe(name);
    const version = secretVersionId(created.accessKeyId);
    if ((state?.versions[version] ?? []).includes('AWSCURRENT')) {
      const value = JSON.parse((await services.secrets.getValue(name, version)) ?? '{}') as { accessKeyId?: string; secretAccessKey?: string };
      if (value.accessKeyId === created.accessKeyId && value.secretAccessKey) {
        journal.phase = 'written';
        journal.newKey = { accessKeyId: created.accessKeyId, secretAccessKey: value.secretAccessKey };
      }
    }
  }
  const key = user.keys.find((k) => k.accessKeyId === oldKeyId) ?? (user.keys[0] as KeyDecision);
  const resumed = await resumeRotation(orgRotation(user, journal, services, options), createRuntime());
  if (resumed.outcome === 'finished') return { key, done: 'resumed', secretName: name, newKeyId: resumed.rotation.newKey.accessKeyId };
  return { key, done: 'undone' };
}
