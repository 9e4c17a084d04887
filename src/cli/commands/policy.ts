import { buildPolicy, describePolicy } from '../../core/policy.js';
import { ExitCode } from '../../errors.js';
import { painter, useColor, type CliStreams } from '../io.js';

/** Loads no AWS SDK: printing a policy needs neither credentials nor the network. */
export interface PolicyFlags {
  mfa?: boolean;
  admin?: boolean;
  partition?: string;
}

export async function runPolicy(flags: PolicyFlags, streams: CliStreams): Promise<number> {
  const options = { mfa: flags.mfa ?? false, admin: flags.admin ?? false, partition: flags.partition ?? 'aws' };
  // The document alone on stdout, so that it can go straight to `aws iam create-policy --policy-document file:///dev/stdin`.
  streams.stdout.write(`${JSON.stringify(buildPolicy(options), null, 2)}\n`);
  if (streams.stderr.isTTY) {
    const paint = painter(useColor(streams.stderr, streams.env));
    streams.stderr.write(`${paint('dim', describePolicy(options))}\n`);
  }
  return ExitCode.ok;
}
