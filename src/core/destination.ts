import { UsageError } from '../errors.js';
import type { StaticCredentials } from './types.js';

/** Where the new key of `rotate --user` goes, decided from the flags alone (pure), and how it is described. */

/** Where the admin wants the new pair. Exactly one is required. */
export type DestinationSpec =
  | { kind: 'file'; path: string; format: 'ini' | 'json' }
  | { kind: 'profile'; profile: string }
  | { kind: 'stdout' }
  /** `--to-secret NAME`: a version of a Secrets Manager secret. */
  | { kind: 'secret'; name: string }
  /** `--to-parameter NAME`: a SecureString parameter of SSM Parameter Store. */
  | { kind: 'parameter'; name: string; kmsKeyId?: string }
  /** `--to-env FILE`: the AWS_* variables of a dotenv file. */
  | { kind: 'env'; path: string }
  /** `--exec CMD`: a command that reads the pair as JSON on its standard input. */
  | { kind: 'exec'; command: string; timeoutMs: number };

export interface DestinationFlags {
  out?: string;
  toProfile?: string;
  printSecret?: boolean;
  toSecret?: string;
  toParameter?: string;
  kmsKeyId?: string;
  toEnv?: string;
  exec?: string;
  /** --exec-timeout, in seconds. */
  execTimeout?: number;
}

/** How long `--exec CMD` may run before it counts as a failed delivery. */
export const DEFAULT_EXEC_TIMEOUT_SECONDS = 60;

// Secrets Manager names: letters, digits and /_+=.@- (up to 512). SSM parameter names: letters, digits and _.-/ (up to 1011).
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const PARAMETER_NAME = /^[A-Za-z0-9_.\-/]{1,1011}$/;

export function destinationFlagsGiven(flags: DestinationFlags): string[] {
  const given: Array<[boolean, string]> = [
    [flags.out !== undefined, '--out'],
    [flags.toProfile !== undefined, '--to-profile'],
    [flags.printSecret === true, '--print-secret'],
    [flags.toSecret !== undefined, '--to-secret'],
    [flags.toParameter !== undefined, '--to-parameter'],
    [flags.toEnv !== undefined, '--to-env'],
    [flags.exec !== undefined, '--exec'],
  ];
  return given.filter(([on]) => on).map(([, name]) => name);
}

export function resolveDestination(flags: DestinationFlags): DestinationSpec {
  const given = destinationFlagsGiven(flags);
  if (flags.kmsKeyId !== undefined && flags.toParameter === undefined) throw new UsageError('--kms-key-id goes with --to-parameter.', 'It names the KMS key that encrypts the SecureString parameter.');
  if (flags.execTimeout !== undefined && flags.exec === undefined) throw new UsageError('--exec-timeout goes with --exec.');
  if (given.length === 0) {
    throw new UsageError(
      'rotate --user needs to know where the new key goes: the secret is shown only once.',
      'Add one of --out FILE (a new 0600 file; .json for JSON), --to-profile NAME (a profile in your credentials file), --print-secret (stdout), --to-secret NAME (Secrets Manager), --to-parameter NAME (SSM Parameter Store), --to-env FILE (a dotenv file) or --exec CMD (a command that reads it on stdin).',
    );
  }
  if (given.length > 1) {
    throw new UsageError(
      `Give only one of ${given.join(', ')}: the new key goes to one place in a run, so that undoing a failed rotation has one place to undo.`,
      'Pick one; to hand the key to several places, use --exec with a script that writes them all (and fails if one fails).',
    );
  }
  if (flags.out !== undefined) {
    const path = flags.out.trim();
    if (path === '' || path === '-') throw new UsageError(`--out needs a file name, not '${flags.out}'.`, 'To print the key, use --print-secret.');
    return { kind: 'file', path, format: /\.json$/i.test(path) ? 'json' : 'ini' };
  }
  if (flags.toProfile !== undefined) {
    const profile = flags.toProfile.trim();
    if (profile === '' || /[[\]\r\n]/.test(profile)) throw new UsageError(`--to-profile needs a profile name, not '${flags.toProfile}'.`);
    return { kind: 'profile', profile };
  }
  if (flags.toSecret !== undefined) {
    const name = flags.toSecret.trim();
    if (!SECRET_NAME.test(name)) {
      throw new UsageError(`--to-secret needs a Secrets Manager secret name, not '${flags.toSecret}'.`, 'Names have up to 512 letters, digits and /_+=.@- characters, e.g. --to-secret ci/deploy-user.', 'BAD_SECRET_NAME');
    }
    return { kind: 'secret', name };
  }
  if (flags.toParameter !== undefined) {
    const name = flags.toParameter.trim();
    if (!PARAMETER_NAME.test(name) || (name.includes('/') && !name.startsWith('/')) || /^\/?(aws|ssm)/i.test(name)) {
      throw new UsageError(
        `--to-parameter needs an SSM parameter name, not '${flags.toParameter}'.`,
        'Names have letters, digits and _.-/ characters; a hierarchy starts with /, e.g. --to-parameter /ci/deploy-user/access-key; names cannot start with aws or ssm.',
        'BAD_PARAMETER_NAME',
      );
    }
    const kmsKeyId = flags.kmsKeyId?.trim();
    if (kmsKeyId === '') throw new UsageError('--kms-key-id needs a KMS key id, ARN or alias (alias/NAME).');
    return { kind: 'parameter', name, ...(kmsKeyId ? { kmsKeyId } : {}) };
  }
  if (flags.toEnv !== undefined) {
    const path = flags.toEnv.trim();
    if (path === '' || path === '-') throw new UsageError(`--to-env needs a file name, not '${flags.toEnv}'.`, 'e.g. --to-env .env');
    return { kind: 'env', path };
  }
  if (flags.exec !== undefined) {
    const command = flags.exec.trim();
    if (command === '') throw new UsageError('--exec needs a command, e.g. --exec "./store-key.sh ci-user".');
    return { kind: 'exec', command, timeoutMs: Math.round((flags.execTimeout ?? DEFAULT_EXEC_TIMEOUT_SECONDS) * 1000) };
  }
  return { kind: 'stdout' };
}

export function describeDestination(destination: DestinationSpec, credentialsPath?: string): string {
  switch (destination.kind) {
    case 'file':
      return `the new file ${destination.path} (${destination.format === 'json' ? 'JSON' : 'credentials format'}, mode 0600)`;
    case 'profile':
      return `profile ${destination.profile}${credentialsPath ? ` in ${credentialsPath}` : ''}`;
    case 'stdout':
      return 'standard output (--print-secret), once';
    case 'secret':
      return `the Secrets Manager secret ${destination.name} (a new version, AWSCURRENT)`;
    case 'parameter':
      return `the SSM parameter ${destination.name} (SecureString, a new version)`;
    case 'env':
      return `the variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY of ${destination.path} (dotenv, mode 0600)`;
    case 'exec':
      return `the standard input of "${destination.command}", as JSON, once AWS accepts the key`;
  }
}

/**
 * The value a Secrets Manager secret or an SSM parameter holds (`--to-secret`, `--to-parameter`, and the
 * organisation engine's secret): JSON with the key id, its secret and IAM's creation date of the key.
 */
export function renderKeyDocument(userName: string, pair: Pick<StaticCredentials, 'accessKeyId' | 'secretAccessKey'>, createDate?: string): string {
  return JSON.stringify({
    schemaVersion: 1,
    userName,
    accessKeyId: pair.accessKeyId,
    secretAccessKey: pair.secretAccessKey,
    ...(createDate ? { createDate } : {}),
  });
}

/** The pair a key document holds; `undefined` for any other value (what a secret or parameter held before). */
export function pairInKeyDocument(text: string | undefined): Pick<StaticCredentials, 'accessKeyId' | 'secretAccessKey'> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as { accessKeyId?: unknown; secretAccessKey?: unknown };
    return typeof value.accessKeyId === 'string' && typeof value.secretAccessKey === 'string' ? { accessKeyId: value.accessKeyId, secretAccessKey: value.secretAccessKey } : undefined;
  } catch {
    return undefined;
  }
}
