import type { CloudFormationTemplate } from './synth-template.js';

/**
 * CloudFormation's quotas that a template can break (docs: "CloudFormation quotas"). The body limit is the
 * one for a template passed inline (console upload, `aws cloudformation deploy` without --s3-bucket, a
 * StackSet's TemplateBody): staying under it means the template deploys without an S3 bucket.
 */
export const CLOUDFORMATION_LIMITS = {
  templateBodyBytes: 51_200,
  resources: 500,
  parameters: 200,
  outputs: 200,
  mappings: 200,
  descriptionBytes: 1_024,
} as const;

/** Every limit the template breaks, as sentences; empty when it fits. */
export function templateLimitProblems(name: string, body: string, template: CloudFormationTemplate): string[] {
  const problems: string[] = [];
  const count = (section: string) => Object.keys((template[section] as Record<string, unknown> | undefined) ?? {}).length;
  const check = (what: string, value: number, limit: number) => {
    if (value > limit) problems.push(`${name}: ${what} is ${value}, over CloudFormation's limit of ${limit}`);
  };
  check('the template body (bytes)', Buffer.byteLength(body, 'utf8'), CLOUDFORMATION_LIMITS.templateBodyBytes);
  check('the number of resources', count('Resources'), CLOUDFORMATION_LIMITS.resources);
  check('the number of parameters', count('Parameters'), CLOUDFORMATION_LIMITS.parameters);
  check('the number of outputs', count('Outputs'), CLOUDFORMATION_LIMITS.outputs);
  check('the number of mappings', count('Mappings'), CLOUDFORMATION_LIMITS.mappings);
  check('the description (bytes)', Buffer.byteLength(String(template.Description ?? ''), 'utf8'), CLOUDFORMATION_LIMITS.descriptionBytes);
  for (const [id, resource] of Object.entries(template.Resources)) {
    const body = resource.Type === 'AWS::CloudFormation::StackSet' ? resource.Properties?.TemplateBody : undefined;
    if (typeof body === 'string') check(`the TemplateBody of ${id} (bytes)`, Buffer.byteLength(body, 'utf8'), CLOUDFORMATION_LIMITS.templateBodyBytes);
  }
  return problems;
}
