import { UnsafeRotationError, UsageError } from '../errors.js';
import { maskKeyId } from './mask.js';
import { describeLastUse, describePlan, type RotationPlan } from './plan.js';
import type { AccessKeyInfo, StaticCredentials } from './types.js';

/** Decisions of `rotate --user NAME` (an admin rotating another user's key). Pure. */

/**
 * Which key `--user` rotates: there is no profile to say so. One key: that one. Two keys of which one is
 * active: the active one (an inactive key is never "rotated"). Two active keys: the admin names one with
 * `--key`, since guessing could retire the key an application depends on.
 */
export function selectKeyToRotate(keys: readonly AccessKeyInfo[], userName: string, keyId?: string): string {
  if (keys.length === 0) {
    throw new UnsafeRotationError(
      'NO_KEYS',
      `IAM user ${userName} has no access key to rotate.`,
      `aws-rekey replaces existing keys. To give ${userName} a first key, use aws iam create-access-key --user-name ${userName}.`,
    );
  }
  const listing = keys.map((k) => `${k.accessKeyId} (${k.status.toLowerCase()}, ${describeLastUse(k).slice(1, -1)})`).join(', ');
  let chosen: AccessKeyInfo | undefined;
  if (keyId !== undefined) {
    chosen = keys.find((k) => k.accessKeyId === keyId);
    if (!chosen) {
      throw new UsageError(`--key ${maskKeyId(keyId)} is not an access key of user ${userName}. Its keys: ${listing}.`, 'Name one of them with --key.', 'KEY_NOT_FOUND');
    }
  } else if (keys.length === 1) {
    chosen = keys[0]!;
  } else {
    // An inactive key cannot be the one replaced, so with one active key the choice is made; the
    // inactive one is deleted to make room, as the plan shows.
    const active = keys.filter((k) => k.status === 'Active');
    if (active.length === 0) {
      // Naming one with --key would only be refused as inactive: say so now.
      throw new UnsafeRotationError(
        'KEY_INACTIVE',
        `User ${userName} has ${keys.length} access keys, all inactive: ${listing}. Nothing can be using them, so there is nothing to rotate safely.`,
        `Delete them (aws iam delete-access-key --user-name ${userName} --access-key-id ID) and create a fresh key, or reactivate the one to rotate first.`,
      );
    }
    if (active.length > 1) {
      throw new UsageError(
        `User ${userName} has ${keys.length} access keys: ${listing}. Which one should be replaced?`,
        `Name it with --key, e.g. --key ${active[0]!.accessKeyId}. The other key is then deleted to make room if it is inactive; if it is active, that also needs --delete-key.`,
        'KEY_AMBIGUOUS',
      );
    }
    chosen = active[0]!;
  }
  if (chosen.status !== 'Active') {
    throw new UnsafeRotationError(
      'KEY_INACTIVE',
      `The key ${maskKeyId(chosen.accessKeyId)} of user ${userName} is ${chosen.status.toLowerCase()}: nothing can be using it, so there is nothing to rotate safely.`,
      `Delete it (aws iam delete-access-key --user-name ${userName} --access-key-id ${chosen.accessKeyId}) and create a fresh key, or reactivate it first.`,
    );
  }
  return chosen.accessKeyId;
}

/** The plan of an admin rotation, as lines a person reads before saying yes. */
export function describeUserPlan(plan: RotationPlan, destination: string, options: { keepOld: boolean }): string[] {
  return describePlan(plan).map((line, index) => {
    const step = plan.steps[index];
    if (step?.kind === 'write') return `write it to ${destination}`;
    if (step?.kind === 'verify') return `check that AWS accepts the new key as ${plan.userName}`;
    if (step?.kind === 'retire' && options.keepOld) return `keep the old key ${maskKeyId(step.accessKeyId)} active (retire it later with --stage retire)`;
    return line;
  });
}

/**
 * The content of an `--out` file. Credentials format: one `[section]` the AWS CLI and SDKs read as a
 * profile. JSON: the `credential_process` shape (Version 1), so `credential_process = cat FILE` works.
 */
export function renderKeyFile(format: 'ini' | 'json', section: string, pair: Pick<StaticCredentials, 'accessKeyId' | 'secretAccessKey'>, userName: string): string {
  if (format === 'json') {
    return `${JSON.stringify({ Version: 1, AccessKeyId: pair.accessKeyId, SecretAccessKey: pair.secretAccessKey, UserName: userName }, null, 2)}\n`;
  }
  return `[${section}]\naws_access_key_id = ${pair.accessKeyId}\naws_secret_access_key = ${pair.secretAccessKey}\n`;
}

/** Reads back the key id an `--out` file holds (to undo only what aws-rekey wrote). */
export function keyIdInKeyFile(text: string): string | undefined {
  const json = /"AccessKeyId"\s*:\s*"([A-Z0-9]+)"/.exec(text)?.[1];
  if (json) return json;
  return /^\s*aws_access_key_id\s*=\s*([A-Z0-9]+)\s*$/im.exec(text)?.[1];
}
