import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the policy tests read: the sources, the commands they send, the imports they follow. */

export const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

export function sourceFiles(dir: string = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The commands a file imports from an AWS SDK client package and constructs, e.g. `ListUsers` from client-iam. */
export function commandsImported(file: string, pkg: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const match of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
    if (match[2] !== pkg) continue;
    for (const name of (match[1] ?? '').split(',')) {
      const trimmed = name.trim();
      if (/^[A-Z]\w*Command$/.test(trimmed) && text.includes(`new ${trimmed}(`)) out.push(trimmed.replace(/Command$/, ''));
    }
  }
  return out;
}

export function actionsUsed(files: string[], pkg: string, prefix: string): string[] {
  return [...new Set(files.flatMap((file) => commandsImported(file, pkg)))].map((name) => `${prefix}:${name}`).sort();
}

/** Relative imports (static ones; dynamic ones too where asked), followed from `entry`. */
export function importGraph(
  entry: string,
  followDynamic: (file: string) => boolean,
  skip: (file: string) => boolean = () => false,
): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file) || skip(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    // `import type` is erased at compile time: it loads nothing.
    const specifiers = [...text.matchAll(/^\s*(?:import|export)\s(?!type\s)[^;]*?from\s*'([^']+)'/gm)].map((m) => m[1] ?? '');
    if (followDynamic(file)) specifiers.push(...[...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? ''));
    for (const spec of specifiers) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

/** The SDK client packages the organisation engine uses, with the IAM service prefix of their actions. */
const SERVICES: Array<[pkg: string, prefix: string]> = [
  ['@aws-sdk/client-iam', 'iam'],
  ['@aws-sdk/client-sts', 'sts'],
  ['@aws-sdk/client-organizations', 'organizations'],
  ['@aws-sdk/client-sqs', 'sqs'],
  ['@aws-sdk/client-sns', 'sns'],
  ['@aws-sdk/client-sesv2', 'ses'],
  ['@aws-sdk/client-config-service', 'config'],
  ['@aws-sdk/client-secrets-manager', 'secretsmanager'],
];

/** Calls whose permission has another name, and calls that need none. */
const PERMISSION_OF: Record<string, string | null> = {
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sts:GetCallerIdentity': null,
  // The rotation gateway can ask for an MFA session; STS needs no permission for it.
  'sts:GetSessionToken': null,
};

/**
 * The IAM permissions the code reachable from a handler (e.g. `src/lambda/worker.ts`) needs: the commands it
 * sends, static imports only (lazy paths are not the handler's). A client package not in SERVICES is an error.
 */
export function permissionsSentFrom(handler: string): string[] {
  const { files, packages } = importGraph(resolve(SRC, '..', handler), () => false);
  const unknown = [...packages].filter((pkg) => pkg.startsWith('@aws-sdk/client-') && !SERVICES.some(([p]) => p === pkg));
  if (unknown.length > 0) throw new Error(`${handler} uses ${unknown.join(', ')}: add it to SERVICES in test/support/source-scan.ts`);
  const used = SERVICES.flatMap(([pkg, prefix]) => actionsUsed([...files], pkg, prefix));
  return [...new Set(used.map((a) => (a in PERMISSION_OF ? PERMISSION_OF[a] : a)).filter((a): a is string => a !== null))].sort();
}
