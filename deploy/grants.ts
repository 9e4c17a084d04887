import { Fn } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';

/**
 * One statement of a role's policy, as src/org/permissions.ts declares them: the actions, the resources they
 * are limited to, and why. Resources use placeholders: ${Partition}, ${Region}, ${Account} (the account the
 * role is in) and the stack's own values (${QueueArn}, ${TopicArn}, …), given to statementsOf.
 */
export interface Grant {
  actions: readonly string[];
  resources: readonly string[];
  why: string;
}

/** A placeholder's value: a CloudFormation value, or several (a resource that is only that placeholder becomes several). */
export type PlaceholderValue = string | readonly string[];

const PSEUDO: Record<string, string> = { Partition: 'AWS::Partition', Region: 'AWS::Region', Account: 'AWS::AccountId' };

function resolveResource(resource: string, values: Record<string, PlaceholderValue>): string[] {
  const whole = /^\$\{(\w+)\}$/.exec(resource)?.[1];
  const value = whole ? values[whole] : undefined;
  if (value !== undefined) return typeof value === 'string' ? [value] : [...value];
  const names = [...resource.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1] as string);
  if (names.length === 0) return [resource];
  const unknown = names.filter((name) => !(name in PSEUDO) && typeof values[name] !== 'string');
  if (unknown.length > 0) throw new Error(`The resource ${resource} names ${unknown.map((n) => `\${${n}}`).join(', ')}, which the stack does not provide.`);
  const text = resource.replace(/\$\{(\w+)\}/g, (match, name: string) => (name in PSEUDO ? `\${${PSEUDO[name]}}` : match));
  const used = Object.fromEntries(names.filter((name) => !(name in PSEUDO)).map((name) => [name, values[name] as string]));
  return [Object.keys(used).length > 0 ? Fn.sub(text, used) : Fn.sub(text)];
}

/** IAM statements for the grants; a placeholder the stack does not provide is an error, not an empty string. */
export function statementsOf(grants: readonly Grant[], values: Record<string, PlaceholderValue> = {}): PolicyStatement[] {
  return grants.map(
    (grant) =>
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [...grant.actions].sort(),
        resources: grant.resources.flatMap((resource) => resolveResource(resource, values)),
      }),
  );
}
