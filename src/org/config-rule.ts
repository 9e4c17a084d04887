import type { Evaluation } from '@aws-sdk/client-config-service';
import { auditAccount } from '../flows/audit.js';
import type { AuditIamApi, IamUser } from '../aws/audit-api.js';
import { plural } from '../core/plural.js';
import type { ConfigEvaluationsApi } from '../aws/config-evaluations.js';
import { RekeyError } from '../errors.js';

/** What AWS Config passes to a custom rule's function. */
export interface ConfigRuleEvent {
  invokingEvent: string;
  ruleParameters?: string;
  resultToken: string;
  accountId?: string;
}

export interface ConfigRuleDeps {
  iam: AuditIamApi;
  config: ConfigEvaluationsApi;
  now: Date;
  /** PutEvaluations with TestMode (nothing is recorded): for tests, and moto, which accepts only that. */
  testMode?: boolean;
}

export interface ConfigRuleResult {
  maxAccessKeyAge: number;
  compliant: number;
  nonCompliant: number;
  calls: number;
}

const DAY_MS = 86_400_000;

/**
 * The semantics of the managed rule access-keys-rotated: each IAM user is NON_COMPLIANT when one of its
 * *active* keys is older than maxAccessKeyAge days (default 90), else COMPLIANT. Keys come from the
 * credential report first; the users (and their ids, Config's resource ids) from ListUsers.
 */
export async function evaluateAccessKeysRotated(event: ConfigRuleEvent, deps: ConfigRuleDeps): Promise<ConfigRuleResult> {
  const maxAccessKeyAge = parseMaxAge(event.ruleParameters);
  let ordering = deps.now;
  try {
    const invoking = JSON.parse(event.invokingEvent) as { notificationCreationTime?: string };
    if (invoking.notificationCreationTime) ordering = new Date(invoking.notificationCreationTime);
  } catch {
    throw new RekeyError('CONFIG_EVENT_INVALID', 'The invokingEvent of the AWS Config event is not JSON.', { hint: 'Only AWS Config invokes this function.' });
  }
  const users: IamUser[] = [];
  let marker: string | undefined;
  do {
    const page = await deps.iam.listUsers({ ...(marker ? { marker } : {}) });
    users.push(...page.users);
    marker = page.marker;
  } while (marker);
  const audit = await auditAccount({ source: 'auto', now: deps.now }, { api: deps.iam });
  const oldest = new Map<string, number>();
  for (const key of audit.keys) {
    if (key.root || !key.active || !key.createDate) continue;
    const age = deps.now.getTime() - key.createDate.getTime();
    oldest.set(key.userName, Math.max(oldest.get(key.userName) ?? 0, age));
  }
  const evaluations: Evaluation[] = users.map((user) => {
    const age = oldest.get(user.userName);
    const compliant = age === undefined || age <= maxAccessKeyAge * DAY_MS;
    return {
      ComplianceResourceType: 'AWS::IAM::User',
      ComplianceResourceId: user.userId ?? user.userName,
      ComplianceType: compliant ? 'COMPLIANT' : 'NON_COMPLIANT',
      Annotation: annotationFor(age, maxAccessKeyAge),
      OrderingTimestamp: ordering,
    };
  });
  const { calls } = await deps.config.putEvaluations(event.resultToken, evaluations, deps.testMode ?? false);
  const nonCompliant = evaluations.filter((e) => e.ComplianceType === 'NON_COMPLIANT').length;
  return { maxAccessKeyAge, compliant: evaluations.length - nonCompliant, nonCompliant, calls };
}

/** What Config shows beside a user's result: the age of its oldest active key, in whole days. */
export function annotationFor(ageMs: number | undefined, maxAccessKeyAge: number): string {
  if (ageMs === undefined) return 'No active access key.';
  return `Oldest active access key: ${plural(Math.floor(ageMs / DAY_MS), 'day')} (maximum ${maxAccessKeyAge}).`;
}

function parseMaxAge(ruleParameters: string | undefined): number {
  if (!ruleParameters) return 90;
  let params: { maxAccessKeyAge?: unknown };
  try {
    params = JSON.parse(ruleParameters) as typeof params;
  } catch {
    throw new RekeyError('CONFIG_EVENT_INVALID', 'The ruleParameters of the AWS Config event are not JSON.', { hint: 'Give {"maxAccessKeyAge":"90"}.' });
  }
  if (params.maxAccessKeyAge === undefined) return 90;
  const n = Number(params.maxAccessKeyAge);
  if (!Number.isInteger(n) || n < 1 || n > 3650) {
    throw new RekeyError('CONFIG_EVENT_INVALID', `maxAccessKeyAge must be a whole number of days from 1 to 3650, not '${String(params.maxAccessKeyAge)}'.`, {
      hint: 'Fix the rule parameter maxAccessKeyAge.',
    });
  }
  return n;
}
