import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, DefaultStackSynthesizer, type Stack } from 'aws-cdk-lib';
import { PATH_METADATA_ENABLE_CONTEXT } from 'aws-cdk-lib/cx-api';

export type CloudFormationTemplate = Record<string, unknown> & { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

/**
 * Builds a stack in a fresh app and returns its CloudFormation template. What makes the same commit give
 * the same bytes: no CDK version report (AWS::CDK::Metadata), no construct paths or stack traces in the
 * metadata, no assets (the handlers' code is a parameter). The cloud assembly goes to a temporary folder,
 * removed after.
 */
export function synthesizeStack(build: (app: App) => Stack): CloudFormationTemplate {
  const outdir = mkdtempSync(join(tmpdir(), 'aws-rekey-synth-'));
  try {
    const app = new App({
      outdir,
      analyticsReporting: false,
      stackTraces: false,
      treeMetadata: false,
      // cfn-lint checks the template in the tests; the built-in check would double the synthesis time.
      builtinCloudFormationValidation: false,
      context: { [PATH_METADATA_ENABLE_CONTEXT]: false },
    });
    const stack = build(app);
    return app.synth().getStackArtifact(stack.artifactId).template as CloudFormationTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Plain templates: no CDK bootstrap version parameter and rule, so they deploy without `cdk bootstrap`. */
export function templateSynthesizer(): DefaultStackSynthesizer {
  return new DefaultStackSynthesizer({ generateBootstrapVersionRule: false });
}
