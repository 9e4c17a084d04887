import { RekeyError } from '../errors.js';

/** One SQS message: one account to process, from the planner or from a worker that ran out of time. */
export interface AccountMessage {
  schemaVersion: 1;
  runId: string;
  accountId: string;
  accountName?: string;
  /** A continuation: the users up to and including this name are done. */
  startAfter?: string;
  /** How many workers already handed this account on (a bound against a loop). */
  continuation?: number;
}

export function parseAccountMessage(body: string): AccountMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new RekeyError('ORG_MESSAGE_INVALID', 'The queue message is not JSON.', { hint: 'Only the aws-rekey planner and workers send to this queue.' });
  }
  const m = value as Partial<AccountMessage>;
  if (m?.schemaVersion !== 1 || typeof m.runId !== 'string' || typeof m.accountId !== 'string' || !/^\d{12}$/.test(m.accountId)) {
    throw new RekeyError('ORG_MESSAGE_INVALID', `The queue message is not an aws-rekey account message: ${body.slice(0, 200)}`, {
      hint: 'Only the aws-rekey planner and workers send to this queue.',
    });
  }
  return {
    schemaVersion: 1,
    runId: m.runId,
    accountId: m.accountId,
    ...(typeof m.accountName === 'string' ? { accountName: m.accountName } : {}),
    ...(typeof m.startAfter === 'string' ? { startAfter: m.startAfter } : {}),
    ...(typeof m.continuation === 'number' ? { continuation: m.continuation } : {}),
  };
}
