/** The parts of an ARN that matter to us: who the principal is and in which partition. */
export interface ParsedPrincipal {
  partition: string;
  account: string;
  kind: 'user' | 'root' | 'assumed-role' | 'federated-user' | 'other';
  /** For IAM users: the last path segment (`user/team/alice` → `alice`); IAM calls need this, not the path. */
  userName?: string;
  /** For IAM users: the path, `/team/` (always starts and ends with `/`). */
  path?: string;
}

export function parsePrincipalArn(arn: string): ParsedPrincipal | undefined {
  const match = /^arn:([^:]+):(iam|sts)::(\d{12}):(.+)$/.exec(arn);
  if (!match) return undefined;
  // Stryker disable next-line StringLiteral: equivalent, every group matched once the regex did; the defaults only satisfy the types.
  const [, partition = '', , account = '', resource = ''] = match;
  if (resource === 'root') return { partition, account, kind: 'root' };
  const segments = resource.split('/');
  const type = segments[0];
  if (type === 'user' && segments.length >= 2) {
    // Stryker disable next-line StringLiteral: equivalent, a user ARN has at least two segments here.
    const userName = segments[segments.length - 1] ?? '';
    const path = segments.length > 2 ? `/${segments.slice(1, -1).join('/')}/` : '/';
    return { partition, account, kind: 'user', userName, path };
  }
  if (type === 'assumed-role') return { partition, account, kind: 'assumed-role' };
  if (type === 'federated-user') return { partition, account, kind: 'federated-user' };
  return { partition, account, kind: 'other' };
}

/** The partition a region belongs to, for building ARNs and picking endpoints. */
export function partitionOfRegion(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}
