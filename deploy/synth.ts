import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleHandlers } from './handlers.js';
import { buildHubStack, type RolePermissions } from './hub-stack.js';
import { templateLimitProblems } from './limits.js';
import { memberTemplate } from './member-template.js';
import { synthesizeStack, type CloudFormationTemplate } from './synth-template.js';

export const TEMPLATE_FILE = 'aws-rekey.template.json';
export const MEMBER_TEMPLATE_FILE = 'aws-rekey-member-role.template.json';

export interface SynthResult {
  /** The hub template (it carries the member template inside its StackSet). */
  template: CloudFormationTemplate;
  body: string;
  /** The member role template alone, for teams that create the member roles by other means. */
  memberBody: string;
  zip: { name: string; bytes: Uint8Array };
}

/** One rendering for every template we write: stable key order (the CDK's), one-space indent, final newline. */
export function renderTemplate(template: CloudFormationTemplate): string {
  return `${JSON.stringify(template, null, 1)}\n`;
}

/** Bundles the handlers and synthesizes the templates; refuses a template over CloudFormation's limits. */
export async function synthesize(root: string, permissions: RolePermissions): Promise<SynthResult> {
  const zip = await bundleHandlers(root);
  const template = synthesizeStack((app) => buildHubStack(app, { permissions, codeKey: zip.name }));
  const member = memberTemplate(permissions.member);
  const body = renderTemplate(template);
  const memberBody = renderTemplate(member);
  const problems = [...templateLimitProblems(TEMPLATE_FILE, body, template), ...templateLimitProblems(MEMBER_TEMPLATE_FILE, memberBody, member)];
  if (problems.length > 0) throw new Error(`The synthesized template would not deploy:\n${problems.join('\n')}`);
  return { template, body, memberBody, zip };
}

/** Writes the templates and the handlers zip to `outDir` (emptied first, so that it holds one zip only). */
export async function writeSynthOutput(outDir: string, result: SynthResult): Promise<string[]> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const files: Array<[string, string | Uint8Array]> = [
    [TEMPLATE_FILE, result.body],
    [MEMBER_TEMPLATE_FILE, result.memberBody],
    [result.zip.name, result.zip.bytes],
  ];
  for (const [name, content] of files) await writeFile(join(outDir, name), content);
  return files.map(([name]) => join(outDir, name));
}
