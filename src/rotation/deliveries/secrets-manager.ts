import type { SecretState, SecretsApi } from '../../aws/secrets.js';
import { renderKeyDocument } from '../../core/destination.js';
import { maskKeyId } from '../../core/mask.js';
import { RekeyError } from '../../errors.js';
import type { Delivery, KeyPair } from '../delivery.js';

export interface SecretDeliveryOptions {
  secrets: SecretsApi;
  /** The secret's name, e.g. `aws-rekey/alice`. */
  name: string;
  userName: string;
  /**
   * The user whose key it is: the one principal (besides `readers`) that may read the secret (the
   * organisation engine). Without it (`--to-secret`), the secret's resource policy is left as it is: the
   * admin decides who reads it (a CI role, say) with IAM or their own policy.
   */
  userArn?: string;
  /** Other principals (role ARNs) allowed to read it: an admin role, the role that writes it. */
  readers?: string[];
  /** IAM's creation date of the key, for the secret's value (looked up at write time). */
  createDateOf?: (accessKeyId: string) => Promise<string | undefined>;
}

/** The version a key is written as: the same key gives the same version, so that a resumed write is a no-op. */
export function secretVersionId(accessKeyId: string): string {
  return `aws-rekey-new-key-${accessKeyId}`;
}

/**
 * The new key as a version of a Secrets Manager secret: JSON with the key id, the secret and the creation
 * date, staged AWSCURRENT (the version it replaces becomes AWSPREVIOUS), under a resource policy that lets
 * only the user (and `readers`) read it. `undo` puts AWSCURRENT back on the previous version, or deletes a
 * secret this delivery created.
 */
export function secretsManagerDelivery(options: SecretDeliveryOptions): Delivery {
  const { secrets, name } = options;
  const label = `the Secrets Manager secret ${name}`;
  let created = false;
  const value = async (pair: KeyPair) => renderKeyDocument(options.userName, pair, await options.createDateOf?.(pair.accessKeyId));
  /**
   * CreateSecret answered that the secret exists although DescribeSecret found none: the SDK sent CreateSecret
   * again after losing the answer to a first attempt that did create it (a request timeout under load; AWS
   * documents a repeat with the same ClientRequestToken and value as ignored, moto 5.1 refuses it), someone
   * created the secret meanwhile, or a secret of that name is scheduled for deletion. Look again.
   */
  const existingSecret = async (versionId: string): Promise<SecretState> => {
    const state = await secrets.describe(name);
    if (!state) {
      throw new RekeyError('SECRET_PENDING_DELETION', `${label} is scheduled for deletion: a secret of that name cannot be created until it is gone.`, {
        hint: `Restore it (aws secretsmanager restore-secret --secret-id ${name}) or delete it for good (aws secretsmanager delete-secret --secret-id ${name} --force-delete-without-recovery); the next run delivers the key.`,
      });
    }
    // Made by the first attempt: it holds only this key's version, and undo may delete it.
    created = Object.keys(state.versions).length === 1 && state.versions[versionId] !== undefined;
    return state;
  };
  return {
    destination: { kind: 'secret', name },
    label,
    async write(pair) {
      const versionId = secretVersionId(pair.accessKeyId);
      let state = await secrets.describe(name);
      if (!state) {
        const made = await secrets.create(name, await value(pair), versionId, `Access key of the IAM user ${options.userName}, delivered by aws-rekey.`, {
          'aws-rekey:user': options.userName,
        });
        if (made) created = true;
        else state = await existingSecret(versionId);
      }
      if (state && !(state.versions[versionId] ?? []).includes('AWSCURRENT')) {
        await secrets.putValue(name, await value(pair), versionId);
      }
      if (options.userArn) await secrets.putResourcePolicy(name, JSON.stringify(readPolicy(options.userArn, options.readers ?? [])));
      return { detail: `wrote ${maskKeyId(pair.accessKeyId)} to ${label} (AWSCURRENT)`, destination: { kind: 'secret', name } };
    },
    async confirm(pair) {
      const state = await secrets.describe(name);
      const stages = state?.versions[secretVersionId(pair.accessKeyId)] ?? [];
      if (!stages.includes('AWSCURRENT')) {
        throw new RekeyError('SECRET_NOT_CURRENT', `${label} does not hold ${maskKeyId(pair.accessKeyId)} as its current version.`, {
          hint: 'Someone changed the secret meanwhile; the next run delivers the key again.',
        });
      }
      return `${label} holds ${maskKeyId(pair.accessKeyId)} as AWSCURRENT`;
    },
    async undo(newKeyId) {
      const state = await secrets.describe(name);
      const ours = secretVersionId(newKeyId);
      if (!state || !(state.versions[ours] ?? []).includes('AWSCURRENT')) return `${label} does not hold the new key`;
      const previous = Object.entries(state.versions).find(([, stages]) => stages.includes('AWSPREVIOUS'))?.[0];
      if (previous) {
        await secrets.moveCurrent(name, previous, ours);
        return `${label} is back on its previous version`;
      }
      if (created || Object.keys(state.versions).length === 1) {
        await secrets.deleteNow(name);
        return `deleted ${label}, which held only the new key`;
      }
      throw new RekeyError('SECRET_UNDO_FAILED', `${label} has no previous version to go back to.`, { hint: `Put the right value back in ${label} by hand.` });
    },
  };
}

/** Only the user (and the readers) may read the value; anyone else is denied even with an IAM policy allowing it. */
export function readPolicy(userArn: string, readers: string[]): object {
  const allowed = [userArn, ...readers];
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'TheUserReadsItsKey', Effect: 'Allow', Principal: { AWS: allowed }, Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: '*' },
      {
        Sid: 'NobodyElseReadsIt',
        Effect: 'Deny',
        Principal: '*',
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:PrincipalArn': allowed } },
      },
    ],
  };
}
