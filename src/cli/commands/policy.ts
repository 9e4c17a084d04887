import { buildPolicy, describePolicy } from '../../core/policy.js';
import { ExitCode, UsageError } from '../../errors.js';
import { ORG_ROLE_OPTIONS, orgPermissionsPolicy, orgTrustPolicy, placeholdersIn, type IamDocument } from '../../org/role-policies.js';
import { painter, useColor, type CliStreams } from '../io.js';

/** Loads no AWS SDK: printing a policy needs neither credentials nor the network. */
export interface PolicyFlags {
  mfa?: boolean;
  admin?: boolean;
  partition?: string;
  org?: string;
  trust?: boolean;
  memberRoleName?: string;
  workerRoleArn?: string;
  queueArn?: string;
  topicArn?: string;
  mailIdentityArn?: string;
}

/** The flag that fills each placeholder of an organisation role's policy. */
const PLACEHOLDER_FLAGS: Record<string, string> = { '${QueueArn}': '--queue-arn', '${TopicArn}': '--topic-arn', '${MailIdentityArn}': '--mail-identity-arn' };

export async function runPolicy(flags: PolicyFlags, streams: CliStreams): Promise<number> {
  const partition = flags.partition ?? 'aws';
  const [document, description] = flags.org !== undefined ? orgDocument(flags, partition) : cliDocument(flags, partition);
  // The document alone on stdout, so that it can go straight to `aws iam create-policy --policy-document file:///dev/stdin`.
  streams.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  if (streams.stderr.isTTY) {
    const paint = painter(useColor(streams.stderr, streams.env));
    streams.stderr.write(`${paint('dim', description)}\n`);
  }
  return ExitCode.ok;
}

function cliDocument(flags: PolicyFlags, partition: string): [IamDocument | ReturnType<typeof buildPolicy>, string] {
  const orgOnly = (['trust', 'memberRoleName', 'workerRoleArn', 'queueArn', 'topicArn', 'mailIdentityArn'] as const).filter((name) => flags[name] !== undefined);
  if (orgOnly.length > 0) {
    throw new UsageError(`--${kebab(orgOnly[0] as string)} is for the organisation roles' policies.`, 'Add --org planner|worker|member|config-rule.');
  }
  const options = { mfa: flags.mfa ?? false, admin: flags.admin ?? false, partition };
  return [buildPolicy(options), describePolicy(options)];
}

function orgDocument(flags: PolicyFlags, partition: string): [IamDocument, string] {
  const role = ORG_ROLE_OPTIONS[flags.org as string];
  if (!role) throw new UsageError(`--org ${flags.org}: no such role.`, `Give one of ${Object.keys(ORG_ROLE_OPTIONS).join(', ')}.`);
  if (flags.admin || flags.mfa) throw new UsageError('--admin and --mfa are for the CLI\'s own policy, not with --org.', 'Leave them out.');
  if (flags.trust) {
    if (role === 'member' && !/^arn:[\w-]+:iam::\d{12}:role\/.+$/.test(flags.workerRoleArn ?? '')) {
      throw new UsageError(
        flags.workerRoleArn ? `--worker-role-arn ${flags.workerRoleArn} is not a role ARN.` : "The member role's trust policy names the worker role.",
        'Add --worker-role-arn arn:aws:iam::HUB-ACCOUNT:role/NAME (the WorkerRoleArn output of the stack).',
      );
    }
    return [orgTrustPolicy(role, flags.workerRoleArn), `Trust policy of the organisation's ${flags.org} role.`];
  }
  const document = orgPermissionsPolicy(role, {
    partition,
    memberRoleName: flags.memberRoleName ?? 'aws-rekey-member',
    ...(flags.queueArn ? { queueArn: flags.queueArn } : {}),
    ...(flags.topicArn ? { topicArn: flags.topicArn } : {}),
    ...(flags.mailIdentityArn ? { mailIdentityArn: flags.mailIdentityArn } : {}),
  });
  const left = placeholdersIn(document);
  const fill = left.length > 0 ? ` Still to fill in: ${left.map((p) => `${p} (${PLACEHOLDER_FLAGS[p] ?? 'by hand'})`).join(', ')}.` : '';
  return [document, `Least-privilege policy of the organisation's ${flags.org} role.${fill}`];
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
