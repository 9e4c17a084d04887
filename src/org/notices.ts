import { isoDay, type KeyDecision, type OrgFindingKind, type UserDecision } from '../core/org-decision.js';
import { maskKeyId } from '../core/mask.js';
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

/** What the owner of a user's keys reads: each key, what happens (or happened) to it, when, and where the new key is. */
export function ownerMail(accountId: string, decision: UserDecision, lines: Array<{ key: KeyDecision; done?: string; secretName?: string }>, now: Date = new Date()): OwnerMail {
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
  const subject = `aws-rekey: access keys of IAM user ${decision.userName} in account ${accountId}`;
  const text = [
    `Hello,`,
    ``,
    `aws-rekey manages the access keys of the IAM user ${decision.userName} in AWS account ${accountId}, which names you as its owner.`,
    ``,
    ...parts,
    ``,
    `New keys are delivered to the Secrets Manager secret aws-rekey/${decision.userName} in that account; only the user (and the platform team's role) can read it.`,
    `A key that is still used after its replacement was delivered is never deactivated: switch your systems to the new key.`,
    `To be exempted, ask the platform team to tag the user aws-rekey:exempt with an end date and a reason.`,
  ].join('\n');
  return { subject, text, fingerprint: shortHash(fingerprint.sort().join(',')) };
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
