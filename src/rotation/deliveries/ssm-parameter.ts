import type { ParametersApi } from '../../aws/parameters.js';
import { pairInKeyDocument, renderKeyDocument } from '../../core/destination.js';
import { maskKeyId } from '../../core/mask.js';
import type { Destination } from '../../credentials/staged-store.js';
import { RekeyError } from '../../errors.js';
import type { Delivery, KeyPair } from '../delivery.js';

type ParameterDestination = Extract<Destination, { kind: 'parameter' }>;

export interface ParameterDeliveryOptions {
  parameters: ParametersApi;
  userName: string;
  /** IAM's creation date of the key, for the value. */
  createDateOf?: (accessKeyId: string) => Promise<string | undefined>;
}

/**
 * `--to-parameter NAME`: the new key as a new version of an SSM SecureString parameter, JSON as in a
 * Secrets Manager secret (core/admin.ts renderKeyDocument), encrypted with `kmsKeyId` or the account's
 * default key. `undo` writes back the value of the version before the new key (a new version holding the
 * old value: SSM has no "current version" to move), or deletes the parameter when it never held anything else.
 */
export function ssmParameterDelivery(destination: ParameterDestination, options: ParameterDeliveryOptions): Delivery {
  const { parameters, userName } = options;
  const { name, kmsKeyId } = destination;
  const label = `the SSM parameter ${name}`;
  return {
    destination,
    label,

    async write(pair) {
      const current = await parameters.get(name);
      if (current && holds(current.value, pair)) return { detail: `${label} already holds ${maskKeyId(pair.accessKeyId)}`, destination };
      if (current && current.type !== 'SecureString') throw notSecure(name, current.type);
      const value = renderKeyDocument(userName, pair, await options.createDateOf?.(pair.accessKeyId));
      const version = await parameters.put(name, value, {
        overwrite: current !== undefined,
        ...(kmsKeyId ? { keyId: kmsKeyId } : {}),
        description: `Access key of the IAM user ${userName}, delivered by aws-rekey.`,
        tags: { 'aws-rekey:user': userName },
      });
      return { detail: `wrote ${maskKeyId(pair.accessKeyId)} to ${label} (SecureString, version ${version})`, destination };
    },

    async confirm(pair) {
      const current = await parameters.get(name);
      if (!current || !holds(current.value, pair)) {
        throw new RekeyError('PARAMETER_NOT_CURRENT', `${label} does not hold ${maskKeyId(pair.accessKeyId)} any more.`, {
          hint: 'Someone changed the parameter meanwhile; the next run delivers the key again.',
        });
      }
      return `${label} holds ${maskKeyId(pair.accessKeyId)} (version ${current.version})`;
    },

    async undo(newKeyId) {
      const current = await parameters.get(name);
      if (!current || pairInKeyDocument(current.value)?.accessKeyId !== newKeyId) return `${label} does not hold the new key`;
      const previous = (await parameters.history(name)).filter((v) => v.version < current.version && pairInKeyDocument(v.value)?.accessKeyId !== newKeyId).pop();
      if (!previous) {
        await parameters.delete(name);
        return `deleted ${label}, which held only the new key`;
      }
      const version = await parameters.put(name, previous.value, { overwrite: true, ...(previous.keyId ? { keyId: previous.keyId } : {}) });
      return `${label} holds its previous value again (version ${version}, as version ${previous.version})`;
    },
  };
}

function holds(value: string, pair: KeyPair): boolean {
  const held = pairInKeyDocument(value);
  return held?.accessKeyId === pair.accessKeyId && held.secretAccessKey === pair.secretAccessKey;
}

export function notSecure(name: string, type: string): RekeyError {
  return new RekeyError('PARAMETER_NOT_SECURE', `The SSM parameter ${name} is a ${type} parameter; aws-rekey writes a secret only to a SecureString.`, {
    hint: `Name another parameter, or delete this one first (aws ssm delete-parameter --name ${name}).`,
    exitCode: 2,
  });
}
