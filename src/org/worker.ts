import type { MailApi } from '../aws/mail.js';
import { plural } from '../core/plural.js';
import type { OrgIamApi } from '../aws/org-iam.js';
import type { QueueApi } from '../aws/queue.js';
import type { TopicApi } from '../aws/topic.js';
import { tallyDecisions, type KeyDecision, type UserDecision } from '../core/org-decision.js';
import { RekeyError } from '../errors.js';
import type { VerifyOptions } from '../rotation/verify.js';
import { assessAccount, type AccountReadApi } from './assess.js';
import { enforceUser, type DoneAction, type DoneItem, type EnforceServices } from './enforce.js';
import type { OrgSettings } from './config.js';
import { describeError, type OrgLogger } from './log.js';
import type { AccountMessage } from './messages.js';
import { accountDigestMail, noteworthy, noticeFingerprint, ownerDigestMail, ownerMail, type DecisionEvent, type NoticeLine, type UserNotice } from './notices.js';

/** Where aws-rekey remembers which notice a user's owner already got (so a daily run does not repeat it). */
export const NOTIFIED_TAG = 'aws-rekey:notified';

/** The calls into one member account, made with the member role's credentials. */
export interface AccountServices {
  read: AccountReadApi;
  tags: OrgIamApi;
  /** Enforce mode: the key, verification and Secrets Manager calls. */
  enforce?: EnforceServices;
  /** Takes the member role's session down (connections, timers). */
  close(): void;
}

export interface WorkerDeps {
  settings: OrgSettings;
  openAccount(accountId: string): Promise<AccountServices>;
  queue?: QueueApi;
  topic?: TopicApi;
  mail?: MailApi;
  log: OrgLogger;
  /** "Now" for key ages and schedules (injectable for tests only; the handler passes the real clock). */
  now: () => Date;
  /** True when the invocation must stop and hand the rest of the account to a continuation. */
  outOfTime?: () => boolean;
  /** How new keys are verified (default: three successes in a row, DEFAULT_VERIFY_OPTIONS). */
  verify?: VerifyOptions;
  /** Read the key ids and tags of users the credential report decides alone (AssessOptions.identify; the CLI's listing). */
  identify?: 'listed' | 'all';
}

export interface AccountOutcome {
  accountId: string;
  source: 'credential-report' | 'api';
  users: UserDecision[];
  inspected: number;
  identified: number;
  events: number;
  mails: number;
  /** Enforce mode: what was done. */
  done: Array<{ userName: string; accessKeyId?: string; done: DoneAction; newKeyId?: string }>;
  /** Users whose action failed (the message fails too, so that the queue tries the account again). */
  failures: Array<{ userName: string; code: string; message: string }>;
  /** Set when the rest of the account went back to the queue. */
  continuedAfter?: string;
  warnings: string[];
}

/**
 * Every continuation starts after a user its invocation finished, so an account needs at most one per user:
 * IAM's cap of 5,000 users per account. (A rotation takes seconds on AWS: an account whose every key is due
 * takes one invocation per ~80 rotations, more than the 50 this once allowed.)
 */
const MAX_CONTINUATIONS = 5_000;

/** One account: assess every key, then (notify, enforce) tell the topic and the owners. */
export async function processAccount(message: AccountMessage, deps: WorkerDeps): Promise<AccountOutcome> {
  const { settings, log } = deps;
  const { policy } = settings;
  const now = deps.now();
  const services = await deps.openAccount(message.accountId);
  try {
    const assessment = await assessAccount(services.read, {
      policy,
      now,
      ...(message.startAfter !== undefined ? { startAfter: message.startAfter } : {}),
      ...(deps.outOfTime ? { outOfTime: deps.outOfTime } : {}),
      ...(deps.identify ? { identify: deps.identify } : {}),
    });
    let events = 0;
    let mails = 0;
    const notices: UserNotice[] = [];
    const done: AccountOutcome['done'] = [];
    const failures: AccountOutcome['failures'] = [];
    let users = assessment.users;
    let continueAfter = assessment.continueAfter;
    if (policy.mode !== 'report') {
      for (const [index, user] of assessment.users.entries()) {
        // A user's actions can take many seconds (a rotation waits for AWS to accept the new key): the time
        // budget is asked before each one too, not only while assessing, and the rest goes to a continuation.
        // The first user is always done, so that every invocation makes progress.
        if (index > 0 && deps.outOfTime?.()) {
          users = assessment.users.slice(0, index);
          continueAfter = assessment.users[index - 1]?.userName;
          break;
        }
        let items: DoneItem[] = [];
        if (policy.mode === 'enforce' && (user.interrupted || user.keys.some((k) => k.action !== 'none'))) {
          if (!services.enforce) throw new RekeyError('ORG_ENFORCE_UNAVAILABLE', 'The enforce mode needs the key and Secrets Manager calls, which were not set up.');
          try {
            items = await enforceUser(user, services.enforce, { now, ...(deps.verify ? { verify: deps.verify } : {}) });
          } catch (error) {
            const e = error as { code?: string; message?: string };
            failures.push({ userName: user.userName, code: e.code ?? 'INTERNAL', message: e.message ?? String(error) });
            log.error('user-failed', {
              runId: message.runId,
              accountId: message.accountId,
              userName: user.userName,
              actions: dueActions(user),
              error: describeError(error),
            });
            continue;
          }
          for (const item of items) done.push({ userName: user.userName, ...(item.key.accessKeyId ? { accessKeyId: item.key.accessKeyId } : {}), done: item.done, ...(item.newKeyId ? { newKeyId: item.newKeyId } : {}) });
        }
        const doneKeys = new Set(items.map((i) => i.key));
        const pending = user.keys.filter((k) => noteworthy(k) && !doneKeys.has(k) && !(policy.mode === 'enforce' && k.action !== 'none'));
        if (items.length === 0 && pending.length === 0) continue;
        events += await publishEvents(message, user, items, pending, deps);
        const notice: UserNotice = { decision: user, lines: noticeLines(items, pending) };
        if (notice.lines.length > 0) notices.push(notice);
        if (policy.digest !== 'owner') mails += await mailOwner(message, notice, services, deps);
      }
      if (policy.digest === 'owner') mails += await mailOwnerDigests(message, notices, services, deps);
      if (policy.digest === 'account') mails += await mailAccountDigest(message, notices, users, done, deps);
    }
    const outcome: AccountOutcome = {
      accountId: message.accountId,
      source: assessment.source,
      users,
      inspected: assessment.inspected,
      identified: assessment.identified,
      events,
      mails,
      done,
      failures,
      warnings: assessment.warnings,
    };
    if (continueAfter !== undefined) {
      await continueLater(message, continueAfter, deps);
      outcome.continuedAfter = continueAfter;
    }
    log.info('account-done', {
      runId: message.runId,
      accountId: message.accountId,
      mode: policy.mode,
      source: outcome.source,
      users: outcome.users.length,
      inspected: outcome.inspected,
      events,
      mails,
      done: done.length,
      failures: failures.length,
      ...(outcome.continuedAfter !== undefined ? { continuedAfter: outcome.continuedAfter } : {}),
    });
    if (failures.length > 0) {
      throw new RekeyError('ORG_USERS_FAILED', `${plural(failures.length, 'user')} of account ${message.accountId} failed: ${failures.map((f) => `${f.userName} (${f.code})`).join(', ')}.`, {
        hint: 'The queue delivers the account again; each run redoes only what is still due.',
      });
    }
    return outcome;
  } finally {
    services.close();
  }
}

async function continueLater(message: AccountMessage, startAfter: string, deps: WorkerDeps): Promise<void> {
  const count = (message.continuation ?? 0) + 1;
  // Time ran out before a single user was done (the credential report took it all, say): handing the same
  // start on would loop. The message fails instead, and the queue delivers it again later.
  if (startAfter === (message.startAfter ?? '')) {
    throw new RekeyError('ORG_NO_PROGRESS', `Account ${message.accountId}: the worker ran out of time before finishing a single user${message.startAfter ? ` after ${message.startAfter}` : ''}.`, {
      hint: 'Give the worker more time (its timeout); the queue delivers the account again.',
    });
  }
  if (count > MAX_CONTINUATIONS) {
    throw new RekeyError('ORG_NO_PROGRESS', `Account ${message.accountId} was handed on ${MAX_CONTINUATIONS} times without finishing.`, {
      hint: 'Give the worker more time (its timeout) or fewer accounts at once.',
    });
  }
  if (!deps.queue || !deps.settings.queueUrl) {
    throw new RekeyError('ORG_SETTINGS_INVALID', 'The worker ran out of time and has no queue for the rest (AWS_REKEY_QUEUE_URL).', { hint: 'Set AWS_REKEY_QUEUE_URL.' });
  }
  const next: AccountMessage = { ...message, startAfter, continuation: count };
  await deps.queue.send(deps.settings.queueUrl, JSON.stringify(next));
  deps.log.info('account-continued', { runId: message.runId, accountId: message.accountId, startAfter, continuation: count });
}

async function publishEvents(message: AccountMessage, user: UserDecision, items: DoneItem[], pending: KeyDecision[], deps: WorkerDeps): Promise<number> {
  const topicArn = deps.settings.topicArn;
  if (!deps.topic || !topicArn) return 0;
  const entries: Array<{ key: KeyDecision; item?: DoneItem }> = [...items.map((item) => ({ key: item.key, item })), ...pending.map((key) => ({ key }))];
  for (const { key, item } of entries) {
    const event: DecisionEvent = {
      schemaVersion: 1,
      type: 'aws-rekey.decision',
      runId: message.runId,
      mode: deps.settings.policy.mode,
      accountId: message.accountId,
      userName: user.userName,
      ...(key.accessKeyId ? { accessKeyId: key.accessKeyId } : {}),
      done: item ? eventDone(item.done) : 'none',
      ...(key.upcoming && !item ? { upcoming: { action: key.upcoming.action, on: key.upcoming.on.toISOString() } } : {}),
      findings: key.findings,
      exempt: user.exemption !== undefined,
      reason: key.reason,
      ...(item?.secretName ? { secretName: item.secretName } : {}),
      ...(item?.newKeyId ? { newAccessKeyId: item.newKeyId } : {}),
    };
    await deps.topic.publish(topicArn, JSON.stringify(event), `aws-rekey: ${user.userName} in ${message.accountId}`);
  }
  return entries.length;
}

function eventDone(done: DoneAction): DecisionEvent['done'] {
  return done === 'resumed' ? 'rotated' : done === 'undone' ? 'none' : done;
}

function noticeLines(items: DoneItem[], pending: KeyDecision[]): NoticeLine[] {
  return [
    ...items.filter((i) => i.done !== 'undone').map((i) => ({ key: i.key, done: doneText(i.done), ...(i.secretName ? { secretName: i.secretName } : {}) })),
    ...pending.map((key) => ({ key })),
  ];
}

/** Whether the user's owner already got this very notice (the marker tag holds its fingerprint). */
async function alreadyNotified(services: AccountServices, userName: string, fingerprint: string): Promise<boolean> {
  return (await services.tags.listUserTags(userName))[NOTIFIED_TAG] === fingerprint;
}

async function mailOwner(message: AccountMessage, notice: UserNotice, services: AccountServices, deps: WorkerDeps): Promise<number> {
  const from = deps.settings.mailFrom;
  const user = notice.decision;
  if (!deps.mail || !from || !user.owner || user.exemption || notice.lines.length === 0) return 0;
  const mail = ownerMail(message.accountId, user, notice.lines, deps.now());
  if (await alreadyNotified(services, user.userName, mail.fingerprint)) return 0;
  await deps.mail.send({ from, to: [user.owner], subject: mail.subject, text: mail.text });
  await services.tags.tagUser(user.userName, { [NOTIFIED_TAG]: mail.fingerprint });
  deps.log.info('owner-mailed', { runId: message.runId, accountId: message.accountId, userName: user.userName });
  return 1;
}

/**
 * Digest per owner: one mail per owner for all its users of the account, each user's part left out when its
 * owner already got it (the same marker tag per user as the single mails, so switching the digest on or off
 * repeats nothing).
 */
async function mailOwnerDigests(message: AccountMessage, notices: UserNotice[], services: AccountServices, deps: WorkerDeps): Promise<number> {
  const from = deps.settings.mailFrom;
  if (!deps.mail || !from) return 0;
  const byOwner = new Map<string, UserNotice[]>();
  for (const notice of notices) {
    const { owner, exemption } = notice.decision;
    if (owner && !exemption) byOwner.set(owner, [...(byOwner.get(owner) ?? []), notice]);
  }
  let sent = 0;
  for (const [owner, all] of byOwner) {
    const fresh: Array<{ notice: UserNotice; fingerprint: string }> = [];
    for (const notice of all) {
      const fingerprint = noticeFingerprint(message.accountId, notice, deps.now());
      if (!(await alreadyNotified(services, notice.decision.userName, fingerprint))) fresh.push({ notice, fingerprint });
    }
    if (fresh.length === 0) continue;
    const mail = ownerDigestMail(message.accountId, owner, fresh.map((f) => f.notice), deps.now());
    await deps.mail.send({ from, to: [owner], subject: mail.subject, text: mail.text });
    for (const { notice, fingerprint } of fresh) await services.tags.tagUser(notice.decision.userName, { [NOTIFIED_TAG]: fingerprint });
    deps.log.info('owner-digest-mailed', { runId: message.runId, accountId: message.accountId, users: fresh.map((f) => f.notice.decision.userName) });
    sent += 1;
  }
  return sent;
}

/** Digest per account: one summary of the run's decisions to the policy's digestTo, when anything is worth a line. */
async function mailAccountDigest(message: AccountMessage, notices: UserNotice[], users: UserDecision[], done: AccountOutcome['done'], deps: WorkerDeps): Promise<number> {
  const from = deps.settings.mailFrom;
  const to = deps.settings.policy.digestTo;
  if (!deps.mail || !from || to.length === 0 || (notices.length === 0 && done.length === 0)) return 0;
  const doneCounts: Record<string, number> = {};
  for (const d of done) doneCounts[d.done] = (doneCounts[d.done] ?? 0) + 1;
  const mail = accountDigestMail(message.accountId, deps.settings.policy.mode, { ...tallyDecisions(users), done: doneCounts }, notices, deps.now());
  await deps.mail.send({ from, to, subject: mail.subject, text: mail.text });
  deps.log.info('account-digest-mailed', { runId: message.runId, accountId: message.accountId, users: notices.length });
  return 1;
}

/** What enforce was about to do for the user, for the log: `rotate AKIA…`, `resume`. */
function dueActions(user: UserDecision): string[] {
  if (user.interrupted) return ['resume'];
  return user.keys.filter((k) => k.action !== 'none').map((k) => `${k.action}${k.accessKeyId ? ` ${k.accessKeyId}` : ''}`);
}

function doneText(done: DoneAction): string {
  return done === 'rotated' || done === 'resumed' ? 'replaced by a new key' : done;
}
