import { UnsafeRotationError, UsageError } from '../errors.js';
import { maskKeyId } from './mask.js';
import type { AccessKeyInfo } from './types.js';

export type RetireAction = 'deactivate' | 'delete';

/** The profiles that hold a key, in the credentials file and in the config file (`[profile NAME]`, `[default]`). */
export interface KeyHolders {
  credentials: string[];
  config: string[];
}

/** The two files, to name them in the plan. */
export interface PlanFiles {
  credentials: string;
  config: string;
}

export type PlanStep =
  | { kind: 'delete-other'; key: AccessKeyInfo; holders?: KeyHolders }
  | { kind: 'create' }
  | { kind: 'write'; profiles: string[]; configProfiles?: string[] }
  | { kind: 'verify' }
  | { kind: 'retire'; accessKeyId: string; action: RetireAction; holders?: KeyHolders };

export interface RotationPlan {
  userName: string;
  currentKeyId: string;
  /** The profiles of the credentials file that get the new key: those that held the old key or the other key. */
  profiles: string[];
  /** The same in the config file (issue 9.2); empty when no profile there holds either key. */
  configProfiles: string[];
  /** The user's other key, if there is one; it is deleted first to make room for the new key. */
  otherKey?: AccessKeyInfo;
  /** The profiles that held the other key: a deleted key must not stay in a profile, so they get the new key too. */
  otherKeyHolders?: KeyHolders;
  retire: RetireAction;
  /** Set when the caller named the files: the plan's lines then say which file each profile is in. */
  files?: PlanFiles;
  steps: PlanStep[];
}

export interface PlanOptions {
  userName: string;
  /** The key the profile holds: the one being replaced. */
  currentKeyId: string;
  /** Every profile in the credentials file that holds `currentKeyId`. */
  profiles: string[];
  /** Every profile in the config file that holds `currentKeyId`. */
  configProfiles?: string[];
  /** Who holds each of the user's keys, by key id, in either file: a key the plan deletes is named with its holders. */
  holders?: Readonly<Record<string, KeyHolders>>;
  files?: PlanFiles;
  /** Delete the old key at the end instead of deactivating it. */
  deleteOld: boolean;
  /** The user's explicit permission to delete this *active* other key. */
  allowDeleteKeyId?: string;
  /** The complete command that lists the user's keys, for hints (src/core/next-command.ts). */
  listKeysCommand?: string;
}

/** IAM allows two keys per user. */
export const MAX_KEYS_PER_USER = 2;

/**
 * Decide what a rotation will do, or refuse. Pure: the caller fetched `keys` and runs the plan.
 *
 * The only destructive step before the new key exists is deleting the user's *other* key, to make room.
 * An inactive other key is fair game; an active one may be in use somewhere, so it is deleted only when
 * the user named it.
 */
export function planRotation(keys: readonly AccessKeyInfo[], options: PlanOptions): RotationPlan {
  const { userName, currentKeyId, profiles, deleteOld, allowDeleteKeyId, listKeysCommand } = options;
  const configProfiles = options.configProfiles ?? [];
  const current = keys.find((key) => key.accessKeyId === currentKeyId);
  if (!current) {
    throw new UnsafeRotationError(
      'KEY_NOT_FOUND',
      `The key ${maskKeyId(currentKeyId)} of profile ${profiles[0] ?? configProfiles[0] ?? '?'} is not one of IAM user ${userName}'s keys.`,
      'It may have been deleted or belong to another user. Put a working key of this user in the profile (aws configure) and run aws-rekey again.',
    );
  }
  if (current.status !== 'Active') {
    throw new UnsafeRotationError(
      'KEY_INACTIVE',
      `The key ${maskKeyId(currentKeyId)} of profile ${profiles[0] ?? configProfiles[0] ?? '?'} is ${current.status.toLowerCase()} in IAM, so it cannot be the key that is replaced.`,
      'Reactivate it (aws iam update-access-key --status Active) or put the user\'s active key in the profile, then run aws-rekey again.',
    );
  }
  const others = keys.filter((key) => key.accessKeyId !== currentKeyId);
  if (allowDeleteKeyId !== undefined && !others.some((key) => key.accessKeyId === allowDeleteKeyId)) {
    const why =
      allowDeleteKeyId === currentKeyId
        ? 'it is the key being rotated (use --delete to delete it after the new key works)'
        : `it is not a key of user ${userName}`;
    throw new UsageError(
      `--delete-key ${maskKeyId(allowDeleteKeyId)} cannot be used: ${why}.`,
      listKeysCommand ? `Run \`${listKeysCommand}\` to see the user's keys.` : 'List the user\'s keys with aws-rekey keys.',
    );
  }
  if (others.length >= MAX_KEYS_PER_USER) {
    throw new UnsafeRotationError(
      'TOO_MANY_KEYS',
      `User ${userName} has ${keys.length} access keys; IAM allows ${MAX_KEYS_PER_USER}.`,
      'Delete the keys that are not in use, then run aws-rekey again.',
    );
  }

  const steps: PlanStep[] = [];
  const otherKey = others[0];
  const otherKeyHolders = otherKey ? options.holders?.[otherKey.accessKeyId] : undefined;
  const held = otherKeyHolders && countOf(otherKeyHolders) > 0 ? otherKeyHolders : undefined;
  if (otherKey) {
    if (otherKey.status === 'Active' && allowDeleteKeyId !== otherKey.accessKeyId) {
      const local = held ? ` (${describeHolders(held, options.files)} ${countOf(held) > 1 ? 'hold' : 'holds'} it)` : '';
      throw new UnsafeRotationError(
        'OTHER_KEY_ACTIVE',
        `User ${userName} already has two active keys: ${maskKeyId(otherKey.accessKeyId)} ${describeLastUse(otherKey)}${local} may be in use somewhere, and a new key needs its slot.`,
        `If nothing uses it, allow its deletion with --delete-key ${otherKey.accessKeyId} (or deactivate it first, and wait to see that nothing breaks).`,
      );
    }
    steps.push({ kind: 'delete-other', key: otherKey, ...(held ? { holders: held } : {}) });
  }
  const retire: RetireAction = deleteOld ? 'delete' : 'deactivate';
  // Every profile that held a key the plan deletes or deactivates gets the new one: none is left with a dead key.
  const targets = { credentials: union(profiles, held?.credentials), config: union(configProfiles, held?.config) };
  steps.push(
    { kind: 'create' },
    { kind: 'write', profiles: targets.credentials, ...(targets.config.length > 0 ? { configProfiles: targets.config } : {}) },
    { kind: 'verify' },
    { kind: 'retire', accessKeyId: currentKeyId, action: retire, ...(options.files ? { holders: { credentials: [...profiles], config: [...configProfiles] } } : {}) },
  );
  return {
    userName,
    currentKeyId,
    profiles: targets.credentials,
    configProfiles: targets.config,
    otherKey,
    ...(held ? { otherKeyHolders: held } : {}),
    retire,
    ...(options.files ? { files: options.files } : {}),
    steps,
  };
}

function countOf(holders: KeyHolders): number {
  return holders.credentials.length + holders.config.length;
}

function union(first: readonly string[], second: readonly string[] = []): string[] {
  return [...new Set([...first, ...second])];
}

/** "(last used 2026-11-20 by s3 in eu-west-1)", "(never used)". */
export function describeLastUse(key: AccessKeyInfo): string {
  const used = key.lastUsed;
  if (!used?.date) return '(never used)';
  const parts = [`last used ${used.date.toISOString().slice(0, 10)}`];
  if (used.serviceName && used.serviceName !== 'N/A') parts.push(`by ${used.serviceName}`);
  if (used.region && used.region !== 'N/A') parts.push(`in ${used.region}`);
  return `(${parts.join(' ')})`;
}

/** The plan as lines a person reads before saying yes. */
export function describePlan(plan: RotationPlan): string[] {
  return plan.steps.map((step) => {
    switch (step.kind) {
      case 'delete-other': {
        const line = `delete ${step.key.status.toLowerCase()} key ${maskKeyId(step.key.accessKeyId)} ${describeLastUse(step.key)} to make room`;
        if (!step.holders) return line;
        const many = countOf(step.holders) > 1;
        return `${line}; ${describeHolders(step.holders, plan.files)} ${many ? 'hold' : 'holds'} it and ${many ? 'get' : 'gets'} the new key instead`;
      }
      case 'create':
        return `create a new access key for ${plan.userName}`;
      case 'write':
        if (!plan.files) return `write it to ${profileList(step.profiles)}`;
        return `write it to ${describeHolders({ credentials: step.profiles, config: step.configProfiles ?? [] }, plan.files)}`;
      case 'verify':
        return 'check that AWS accepts the new key';
      case 'retire': {
        const line = `${step.action} the old key ${maskKeyId(step.accessKeyId)}`;
        if (!step.holders || countOf(step.holders) === 0) return line;
        return `${line}, held by ${describeHolders(step.holders, plan.files)} (${countOf(step.holders) > 1 ? 'they get' : 'it gets'} the new key)`;
      }
    }
  });
}

/** "profiles work, alias in ~/.aws/credentials and profile ci in ~/.aws/config". */
export function describeHolders(holders: KeyHolders, files: PlanFiles | undefined): string {
  const parts: string[] = [];
  if (holders.credentials.length > 0) parts.push(`${profileList(holders.credentials)}${files ? ` in ${files.credentials}` : ''}`);
  if (holders.config.length > 0) parts.push(`${profileList(holders.config)}${files ? ` in ${files.config}` : ' in the config file'}`);
  return parts.join(' and ');
}

function profileList(profiles: readonly string[]): string {
  return `profile${profiles.length > 1 ? 's' : ''} ${profiles.join(', ')}`;
}
