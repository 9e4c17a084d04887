import type { ParametersApi } from '../aws/parameters.js';
import type { StaticCredentials } from '../core/types.js';
import type { Destination } from '../credentials/staged-store.js';
import { credentialsProfilesDelivery } from './deliveries/credentials-profiles.js';
import { RekeyError } from '../errors.js';
import { envFileDelivery } from './deliveries/env-file.js';
import { execDelivery, type ExecOptions } from './deliveries/exec-command.js';
import { keyFileDelivery } from './deliveries/key-file.js';
import { secretsManagerDelivery, type SecretDeliveryOptions } from './deliveries/secrets-manager.js';
import { ssmParameterDelivery } from './deliveries/ssm-parameter.js';
import { stdoutDelivery, type SecretOutput } from './deliveries/stdout.js';

/**
 * Where a new key goes. The lifecycle (rotation/lifecycle.ts) calls `write` right after the key is created
 * and saved in the journal, `confirm` before anything is retired, and `undo` when the rotation is rolled
 * back. A destination is added by writing one of these and a `Destination` variant that records it.
 */
export interface Delivery {
  /** What the journal records, so that a later run can rebuild this delivery to resume or undo it. */
  readonly destination: Destination;
  /** Where the key goes, for plans and messages (never the secret). */
  readonly label: string;
  /**
   * Puts the pair in place, durably (synced), and says where. Must be safe to call again with the same
   * pair: a resumed rotation delivers again from the journal.
   */
  write(pair: KeyPair): Promise<DeliveryReceipt>;
  /** Proves that the pair is where `write` put it (read back, flushed); throws if not. Runs before retiring. */
  confirm(pair: KeyPair): Promise<string>;
  /** Takes the new key back out (`oldPair`, when known, goes back where it went) and says what it did. */
  undo(newKeyId: string, oldPair?: KeyPair): Promise<string>;
}

export type KeyPair = Pick<StaticCredentials, 'accessKeyId' | 'secretAccessKey'>;

export interface DeliveryReceipt {
  /** For the step log: where the key went, key id masked. */
  detail: string;
  /** The destination as written (a profile delivery may have reached more profiles than planned). */
  destination: Destination;
  /** The file as it was before the write, when a backup was made (the first file's, when it wrote two). */
  backupPath?: string;
  /** Every backup the write made: the credentials file's and the config file's. */
  backupPaths?: string[];
}

export interface DeliveryContext {
  /** The IAM user whose key it is (a key file names it). */
  userName: string;
  /** The key being replaced: profiles that hold it get the new one. */
  oldKeyId: string;
  /** An existing --out file may be replaced. */
  force?: boolean;
  /** Where `stdout` deliveries write; without one, the pair is handed back to the caller in the result. */
  secretOutput?: SecretOutput;
  /** Runs each read-modify-write of the credentials file; rotations sharing a file in one process pass a mutex. */
  serializeFileEdit?: <T>(edit: () => Promise<T>) => Promise<T>;
  /** `secret` deliveries: the Secrets Manager calls and who may read the secret. */
  secret?: Omit<SecretDeliveryOptions, 'name' | 'userName'>;
  /** `parameter` deliveries: the SSM Parameter Store calls. */
  parameters?: ParametersApi;
  /** IAM's creation date of the new key, for the value of a secret or a parameter. */
  createDateOf?: (accessKeyId: string) => Promise<string | undefined>;
  /** `exec` deliveries: the command's environment and where its output goes. */
  exec?: Omit<ExecOptions, 'userName'>;
}

/** The delivery a recorded destination stands for. */
export function openDelivery(destination: Destination, ctx: DeliveryContext): Delivery {
  switch (destination.kind) {
    case 'profiles':
      return credentialsProfilesDelivery(destination, ctx);
    case 'file':
      return keyFileDelivery(destination, ctx);
    case 'stdout':
      return stdoutDelivery(ctx);
    case 'secret':
      if (!ctx.secret) throw new RekeyError('SECRET_DELIVERY_UNAVAILABLE', `The key goes to the Secrets Manager secret ${destination.name}, but no Secrets Manager client was given.`);
      return secretsManagerDelivery({ ...(ctx.createDateOf ? { createDateOf: ctx.createDateOf } : {}), ...ctx.secret, name: destination.name, userName: ctx.userName });
    case 'parameter':
      if (!ctx.parameters) throw new RekeyError('PARAMETER_DELIVERY_UNAVAILABLE', `The key goes to the SSM parameter ${destination.name}, but no SSM client was given.`);
      return ssmParameterDelivery(destination, { parameters: ctx.parameters, userName: ctx.userName, ...(ctx.createDateOf ? { createDateOf: ctx.createDateOf } : {}) });
    case 'env':
      return envFileDelivery(destination);
    case 'exec':
      return execDelivery(destination, { ...ctx.exec, userName: ctx.userName });
  }
}

export type { SecretOutput };
