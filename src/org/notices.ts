import { isoDay, type DecisionTally, type KeyDecision, type OrgFindingKind, type UserDecision } from '../core/org-decision.js';
import { maskKeyId } from '../core/mask.js';
import { plural } from '../core/plural.js';
import type { OrgMode } from '../core/org-policy.js';

/** Findings a person must act on: they go out as events and mails even when no action is scheduled. */
const ESCALATED: readonly OrgFindingKind[] = ['used-after-replacement', 'conflict', 'blocked'];

/** One key's decision as a JSON event for the SNS topic (other systems subscribe to it). */
export interface DecisionEvent {
  schemaVersion: 1;
  type: 'aws-rekey.decision';
  runId: string;
  mode: OrgMode;
  accountId: string;
  userName: string;
  accessKeyId?: string;
  /** What was done now ('none' in report and notify modes, or when nothing was due). */
  done: 'none' | 'rotated' | 'deactivated' | 'deleted';
  /** What is due, and when. */
  upcoming?: { action: string; on: string };
  findings: OrgFindingKind[];
  exempt: boolean;
  reason: string;
  /** Where the new key is (a rotation): the secret's name, and the new key's id. */
  secretName?: string;
  newAccessKeyId?: string;
}

/** The keys worth telling anyone about: something due, done or escalated. */
export function noteworthy(key: KeyDecision): boolean {
  return key.action !== 'none' || key.upcoming !== undefined || key.findings.some((f) => ESCALATED.includes(f));
}

export interface OwnerMail {
  subject: string;
  text: string;
  /** Identifies the content, so that the same warning is not mailed on every run (kept in a user tag). */
  fingerprint: string;
}

/** One key's line in a mail: what was done to it (`done`, with where the new key is), or what is due. */
export interface NoticeLine {
  key: KeyDecision;
  done?: string;
  secretName?: string;
}

/** A user's keys worth a mail, with the owner's address (when the user has one). */
export interface UserNotice {
  decision: UserDecision;
  lines: NoticeLine[];
}

/** The lines of one user's keys, and what identifies them (so that the same notice is not mailed twice). */
function keyLines(accountId: string, lines: NoticeLine[], now: Date): { parts: string[]; fingerprint: string } {
  const parts: string[] = [];
  const fingerprint: string[] = [];
  for (const { key, done, secretName } of lines) {
    const id = key.accessKeyId ? maskKeyId(key.accessKeyId) : 'a key';
    if (done) {
      parts.push(`- ${id}: ${done} on ${isoDay(now)}.${secretName ? ` The new key is in the Secrets Manager secret ${secretName} of account ${accountId}; switch to it before the old key is deactivated.` : ''}`);
      fingerprint.push(`${key.accessKeyId}:${done}`);
    } else if (key.upcoming) {
      const when = key.action !== 'none' ? `is due (since ${isoDay(key.upcoming.on)})` : `is planned for ${isoDay(key.upcoming.on)}`;
      parts.push(`- ${id}: ${verb(key.upcoming.action)} ${when}. ${key.reason}.`);
      fingerprint.push(`${key.accessKeyId}:${key.upcoming.action}@${isoDay(key.upcoming.on)}`);
    } else {
      parts.push(`- ${id}: needs your attention: ${key.reason}.`);
      fingerprint.push(`${key.accessKeyId}:${key.findings.join('+')}`);
    }
  }
  return { parts, fingerprint: shortHash(fingerprint.sort().join(',')) };
}

const MAIL_FOOTER = [
  `A key that is still used after its replacement was delivered is never deactivated: switch your systems to the new key.`,
  `To be exempted, ask the platform team to tag the user aws-rekey:exempt with an end date and a reason.`,
];

/** What the owner of a user's keys reads: each key, what happens (or happened) to it, when, and where the new key is. */
export function ownerMail(accountId: string, decision: UserDecision, lines: NoticeLine[], now: Date = new Date()): OwnerMail {
  const { parts, fingerprint } = keyLines(accountId, lines, now);
  const subject = `aws-rekey: access keys of IAM user ${decision.userName} in account ${accountId}`;
  const text = [
    `Hello,`,
    ``,
    `aws-rekey manages the access keys of the IAM user ${decision.userName} in AWS account ${accountId}, which names you as its owner.`,
    ``,
    ...parts,
    ``,
    `New keys are delivered to the Secrets Manager secret aws-rekey/${decision.userName} in that account; only the user (and the platform team's role) can read it.`,
    ...MAIL_FOOTER,
  ].join('\n');
  return { subject, text, fingerprint };
}

/** The fingerprint ownerMail gives one user's notice (kept per user in aws-rekey:notified, digest or not). */
export function noticeFingerprint(accountId: string, notice: UserNotice, now: Date): string {
  return keyLines(accountId, notice.lines, now).fingerprint;
}

/** Digest per owner: one mail for all the users of an account that name the same owner, a section per user. */
export function ownerDigestMail(accountId: string, owner: string, notices: UserNotice[], now: Date = new Date()): { subject: string; text: string } {
  const users = notices.map((n) => n.decision.userName);
  const sections = notices.flatMap((n) => [``, `IAM user ${n.decision.userName} (its new keys go to the secret aws-rekey/${n.decision.userName}):`, ...keyLines(accountId, n.lines, now).parts]);
  return {
    subject: `aws-rekey: access keys of ${plural(users.length, 'IAM user')} in account ${accountId}`,
    text: [
      `Hello,`,
      ``,
      `aws-rekey manages the access keys of these IAM users in AWS account ${accountId}, which name you (${owner}) as their owner: ${users.join(', ')}.`,
      ...sections,
      ``,
      `Only each user (and the platform team's role) can read its Secrets Manager secret.`,
      ...MAIL_FOOTER,
    ].join('\n'),
  };
}

/** The account's decisions counted, and what the run did (enforce), by action. */
export type AccountDigestCounts = DecisionTally & { done: Record<string, number> };

/** Digest per account, for the platform team: the counts of the run's decisions, then every user worth a line. */
export function accountDigestMail(accountId: string, mode: OrgMode, counts: AccountDigestCounts, notices: UserNotice[], now: Date = new Date()): { subject: string; text: string } {
  const list = (record: Record<string, number>) => Object.entries(record).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  const sections = notices.flatMap((n) => [
    ``,
    `${n.decision.userName}${n.decision.owner ? ` (owner ${n.decision.owner})` : ' (no owner tag)'}${n.decision.exemption ? ', exempt' : ''}:`,
    ...keyLines(accountId, n.lines, now).parts,
  ]);
  return {
    subject: `aws-rekey: ${isoDay(now)} digest of account ${accountId} (${mode}): ${plural(notices.length, 'user')} to look at`,
    text: [
      `aws-rekey ran in mode ${mode} over AWS account ${accountId} on ${isoDay(now)}.`,
      ``,
      `${plural(counts.users, 'user')} with keys, ${plural(counts.keys, 'key')}. Due now: rotate ${counts.due.rotate}, deactivate ${counts.due.deactivate}, delete ${counts.due.delete}; coming within the warning period: ${counts.upcoming}.`,
      `Done: ${list(counts.done)}. Findings: ${list(counts.findings)}.`,
      ...sections,
    ].join('\n'),
  };
}

function verb(action: string): string {
  return action === 'rotate' ? 'rotation (a new key is created and delivered)' : action === 'deactivate' ? 'deactivation' : 'deletion';
}

/** A short, tag-safe digest (FNV-1a, 32 bits, hex). */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
