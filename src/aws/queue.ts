import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { AwsError } from '../errors.js';
import { mapAwsError } from './errors.js';

export interface QueueApi {
  /** Sends the bodies, ten a request (SQS's batch limit); fails when any entry is refused. */
  sendAll(queueUrl: string, bodies: string[]): Promise<void>;
  send(queueUrl: string, body: string, delaySeconds?: number): Promise<void>;
}

export function createQueueApi(client: SQSClient): QueueApi {
  return {
    async sendAll(queueUrl, bodies) {
      for (let at = 0; at < bodies.length; at += 10) {
        const entries = bodies.slice(at, at + 10).map((MessageBody, i) => ({ Id: String(at + i), MessageBody }));
        let failed;
        try {
          failed = (await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }))).Failed ?? [];
        } catch (error) {
          throw mapAwsError(error, 'sqs:SendMessage', queueUrl);
        }
        if (failed.length > 0) {
          const first = failed[0];
          const code = first?.Code ?? 'BatchEntryFailed';
          throw new AwsError('AWS_ERROR', 'sqs:SendMessage', code, `SQS refused ${failed.length} of ${entries.length} messages: ${first?.Message ?? code}.`, {
            hint: 'The planner can be run again: accounts already queued are processed idempotently.',
          });
        }
      }
    },
    async send(queueUrl, body, delaySeconds) {
      try {
        await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, ...(delaySeconds ? { DelaySeconds: delaySeconds } : {}) }));
      } catch (error) {
        throw mapAwsError(error, 'sqs:SendMessage', queueUrl);
      }
    },
  };
}
