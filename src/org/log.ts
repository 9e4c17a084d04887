import { redactSecrets } from '../core/mask.js';

/**
 * Structured logs of the handlers: one JSON object a line. Only what is passed is written, and nothing that
 * looks like a secret access key gets through (a test checks the whole log of a rotation).
 */
export type LogFields = Record<string, unknown>;

export interface OrgLogger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const SECRET_FIELD = /secret|password|token|credential/i;

export function createJsonLogger(write: (line: string) => void, base: LogFields = {}): OrgLogger {
  const emit = (level: string, event: string, fields: LogFields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...base, ...fields }, redact)}\n`);
  };
  return {
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
  };
}

/**
 * A field named like a secret is dropped whole; any other string, at any depth, loses what is shaped like a
 * secret access key, since an error message or an AWS answer can carry one under an innocent name.
 */
function redact(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (key && SECRET_FIELD.test(key)) return '[redacted]';
  return redactSecrets(value);
}

export interface LoggedError {
  code?: string;
  message: string;
  /** What to do about it (a RekeyError's hint). */
  hint?: string;
  /** The code of the error under it (a rolled-back rotation's reason: VERIFY_TIMEOUT, AWS_ERROR…). */
  causeCode?: string;
  /** The AWS call that failed and AWS's error name, from the error or the error under it. */
  awsAction?: string;
  awsCode?: string;
}

/**
 * An error as a log field: its code (an SDK error's name when it has no code), message and hint; never its cause,
 * which can hold a request, only the cause's code and the AWS call and error name it names.
 */
export function describeError(error: unknown): LoggedError {
  const e = error as { message?: unknown; hint?: unknown; cause?: unknown };
  const code = codeOf(error);
  const causeCode = codeOf(e?.cause);
  const aws = awsCallOf(error) ?? awsCallOf(e?.cause);
  return {
    ...(code ? { code } : {}),
    message: typeof e?.message === 'string' ? e.message : String(error),
    ...(typeof e?.hint === 'string' ? { hint: e.hint } : {}),
    ...(causeCode ? { causeCode } : {}),
    ...(aws ? { awsAction: aws.action, awsCode: aws.awsCode } : {}),
  };
}

function awsCallOf(error: unknown): { action: string; awsCode: string } | undefined {
  const e = error as { action?: unknown; awsCode?: unknown } | undefined;
  return typeof e?.action === 'string' && typeof e.awsCode === 'string' ? { action: e.action, awsCode: e.awsCode } : undefined;
}

function codeOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; name?: unknown } | undefined;
  if (typeof e?.code === 'string') return e.code;
  return typeof e?.name === 'string' && e.name !== 'Error' ? e.name : undefined;
}

export const silentLogger: OrgLogger = { info: () => {}, warn: () => {}, error: () => {} };
