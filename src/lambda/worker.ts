import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createMailApi } from '../aws/mail.js';
import { createQueueApi } from '../aws/queue.js';
import { createTopicApi } from '../aws/topic.js';
import type { VerifyOptions } from '../rotation/verify.js';
import { parseAccountMessage } from '../org/messages.js';
import { openAccount } from '../org/runtime.js';
import { processAccount, type AccountOutcome } from '../org/worker.js';
import { describeError } from '../org/log.js';
import { createHandlerRuntime, lazily, type HandlerOptions } from './runtime.js';

export interface SqsEvent {
  Records: Array<{ messageId: string; body: string }>;
}

export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/** SQS partial batch response: only the failed messages come back (after the visibility timeout), then the DLQ. */
export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/** Stop taking new users when less than this is left, and hand the rest of the account on. */
export const TIME_RESERVE_MS = 90_000;

/** The worker: one account per message, in the account's member role. */
export function createWorkerHandler(options: HandlerOptions & { onOutcome?: (outcome: AccountOutcome) => void; verify?: VerifyOptions } = {}) {
  const runtime = lazily(async () => {
    const rt = await createHandlerRuntime('worker', options);
    return {
      ...rt,
      queue: createQueueApi(new SQSClient(rt.factory.clientConfig('SQS', rt.credentials))),
      topic: createTopicApi(new SNSClient(rt.factory.clientConfig('SNS', rt.credentials))),
      mail: createMailApi(new SESv2Client(rt.factory.clientConfig('SESV2', rt.credentials))),
    };
  });
  return async (event: SqsEvent, context?: LambdaContext): Promise<SqsBatchResponse> => {
    const rt = await runtime();
    const failures: SqsBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const message = parseAccountMessage(record.body);
        const outcome = await processAccount(message, {
          settings: rt.settings,
          openAccount: (accountId) => openAccount(rt.factory, rt.credentials, rt.settings, accountId),
          queue: rt.queue,
          topic: rt.topic,
          mail: rt.mail,
          log: rt.log,
          now: rt.now,
          ...(options.verify ? { verify: options.verify } : {}),
          ...(context ? { outOfTime: () => context.getRemainingTimeInMillis() < TIME_RESERVE_MS } : {}),
        });
        options.onOutcome?.(outcome);
      } catch (error) {
        rt.log.error('account-failed', { messageId: record.messageId, error: describeError(error) });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}

export const handler = createWorkerHandler();
