import { PutEvaluationsCommand, type ConfigServiceClient, type Evaluation } from '@aws-sdk/client-config-service';
import { AwsError } from '../errors.js';
import { mapAwsError } from './errors.js';

/** PutEvaluations takes at most 100 evaluations a call. */
export const EVALUATIONS_PER_CALL = 100;

export interface ConfigEvaluationsApi {
  /** Reports every evaluation, in calls of 100; `testMode` checks them without recording (and is what moto accepts). */
  putEvaluations(resultToken: string, evaluations: Evaluation[], testMode?: boolean): Promise<{ calls: number }>;
}

export function createConfigEvaluationsApi(client: ConfigServiceClient): ConfigEvaluationsApi {
  return {
    async putEvaluations(resultToken, evaluations, testMode = false) {
      let calls = 0;
      for (let at = 0; at < evaluations.length; at += EVALUATIONS_PER_CALL) {
        const chunk = evaluations.slice(at, at + EVALUATIONS_PER_CALL);
        let failed;
        try {
          failed = (await client.send(new PutEvaluationsCommand({ ResultToken: resultToken, Evaluations: chunk, TestMode: testMode }))).FailedEvaluations ?? [];
        } catch (error) {
          throw mapAwsError(error, 'config:PutEvaluations');
        }
        calls += 1;
        if (failed.length > 0) {
          throw new AwsError('AWS_ERROR', 'config:PutEvaluations', 'FailedEvaluations', `AWS Config refused ${failed.length} evaluations (first: ${failed[0]?.ComplianceResourceId}).`, {
            hint: 'The next invocation of the rule reports them again.',
          });
        }
      }
      return { calls };
    },
  };
}
