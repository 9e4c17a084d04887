import { randomUUID } from 'node:crypto';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createOrganizationsApi } from '../aws/organizations.js';
import { createQueueApi } from '../aws/queue.js';
import { planRun, type PlanRunResult } from '../org/planner.js';
import { BULK_CLIENT_OPTIONS } from '../aws/clients.js';
import { describeError } from '../org/log.js';
import { createHandlerRuntime, lazily, type HandlerOptions } from './runtime.js';

/** EventBridge's scheduled event (only its id is used: it names the run). */
export interface ScheduledEvent {
  id?: string;
  time?: string;
}

/** The planner: lists the organisation's accounts and queues one message per selected account. */
export function createPlannerHandler(options: HandlerOptions = {}): (event: ScheduledEvent) => Promise<PlanRunResult> {
  const runtime = lazily(async () => {
    const rt = await createHandlerRuntime('planner', options);
    return {
      ...rt,
      organizations: createOrganizationsApi(new OrganizationsClient(rt.factory.clientConfig('ORGANIZATIONS', rt.credentials, BULK_CLIENT_OPTIONS))),
      queue: createQueueApi(new SQSClient(rt.factory.clientConfig('SQS', rt.credentials))),
    };
  });
  return async (event) => {
    const rt = await runtime();
    const runId = event?.id ?? randomUUID();
    try {
      return await planRun({
        organizations: rt.organizations,
        queue: rt.queue,
        settings: rt.settings,
        log: rt.log,
        runId,
      });
    } catch (error) {
      rt.log.error('run-failed', { runId, error: describeError(error) });
      throw error;
    }
  };
}

export const handler = createPlannerHandler();
