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

function redact(key: string, value: unknown): unknown {
  if (key && SECRET_FIELD.test(key) && typeof value === 'string') return '[redacted]';
  return value;
}

export const silentLogger: OrgLogger = { info: () => {}, warn: () => {}, error: () => {} };
