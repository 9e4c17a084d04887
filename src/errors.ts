/**
 * One error hierarchy for every expected failure. Each error carries a stable `code` (for --json and
 * scripts), the process exit code the CLI uses, and a `hint` that tells the user what to do next.
 */

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  incomplete: 3,
  findings: 4,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface RekeyErrorOptions {
  hint?: string;
  cause?: unknown;
  exitCode?: ExitCodeValue;
}

export class RekeyError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: RekeyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.hint = options.hint;
  }
}

/** The command line or the options do not make sense. Nothing was attempted. */
export class UsageError extends RekeyError {
  constructor(message: string, hint?: string, code = 'USAGE') {
    super(code, message, { hint, exitCode: ExitCode.usage });
  }
}

/** The credentials or config file cannot be read, parsed or written. */
export class CredentialsFileError extends RekeyError {
  constructor(code: string, message: string, options: RekeyErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The profile cannot be used for what was asked (missing, temporary credentials, no static keys). */
export class ProfileError extends RekeyError {
  constructor(code: string, message: string, options: RekeyErrorOptions = {}) {
    super(code, message, { exitCode: ExitCode.usage, ...options });
  }
}

/** IAM or STS refused or failed a call; SDK exceptions are mapped to this inside src/aws/. */
export class AwsError extends RekeyError {
  /** The IAM/STS action that failed, e.g. `iam:CreateAccessKey`. */
  readonly action: string;
  /** The service's error name (`AccessDenied`, `LimitExceeded`, …) or a network error code. */
  readonly awsCode: string;

  constructor(code: string, action: string, awsCode: string, message: string, options: RekeyErrorOptions = {}) {
    super(code, message, options);
    this.action = action;
    this.awsCode = awsCode;
  }
}

/** The plan refuses to go on: doing so could leave someone without a working key. */
export class UnsafeRotationError extends RekeyError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, { hint, exitCode: ExitCode.failure });
  }
}

/** The rotation stopped part-way; the message says what state things are in and how to finish. */
export class RotationIncompleteError extends RekeyError {
  constructor(code: string, message: string, options: RekeyErrorOptions = {}) {
    super(code, message, { exitCode: ExitCode.incomplete, ...options });
  }
}

/** The user declined at the prompt, or stdin is not a TTY and --yes was not given. */
export class AbortedError extends RekeyError {
  constructor(message: string, hint?: string, exitCode: ExitCodeValue = ExitCode.failure) {
    super('ABORTED', message, { hint, exitCode });
  }
}

/** Ctrl-C (or a signal) stopped the run between two steps; the message says what state things are in. */
export class InterruptedError extends RekeyError {
  constructor(message: string, hint?: string) {
    super('INTERRUPTED', message, { hint, exitCode: ExitCode.interrupted });
  }
}

export function isRekeyError(error: unknown): error is RekeyError {
  return error instanceof RekeyError;
}
