import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { createAuditIamApi } from '../aws/audit-api.js';
import { createConfigEvaluationsApi } from '../aws/config-evaluations.js';
import { evaluateAccessKeysRotated, type ConfigRuleEvent, type ConfigRuleResult } from '../org/config-rule.js';
import { BULK_CLIENT_OPTIONS } from '../aws/clients.js';
import { describeError } from '../org/log.js';
import { createHandlerRuntime, lazily, type HandlerOptions } from './runtime.js';

/** The custom AWS Config rule (semantics of access-keys-rotated) for the account the function runs in. */
export function createConfigRuleHandler(options: HandlerOptions = {}): (event: ConfigRuleEvent) => Promise<ConfigRuleResult> {
  const runtime = lazily(async () => {
    const rt = await createHandlerRuntime('config-rule', options);
    return {
      ...rt,
      iam: createAuditIamApi(rt.factory.iam(rt.credentials, BULK_CLIENT_OPTIONS)),
      config: createConfigEvaluationsApi(new ConfigServiceClient(rt.factory.clientConfig('CONFIG_SERVICE', rt.credentials))),
    };
  });
  return async (event) => {
    const rt = await runtime();
    try {
      const result = await evaluateAccessKeysRotated(event, {
        iam: rt.iam,
        config: rt.config,
        now: rt.now(),
        testMode: (rt.env.AWS_REKEY_CONFIG_TEST_MODE ?? '').toLowerCase() === 'true',
      });
      rt.log.info('rule-evaluated', { ...result });
      return result;
    } catch (error) {
      rt.log.error('rule-failed', { error: describeError(error) });
      throw error;
    }
  };
}

export const handler = createConfigRuleHandler();
