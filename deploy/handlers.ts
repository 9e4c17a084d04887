import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { zipSync, type Zippable } from 'fflate';
import { HANDLERS } from './hub-stack.js';

export interface HandlersZip {
  /** The zip's bytes: the same sources give the same bytes. */
  bytes: Uint8Array;
  /** Its name, with a hash of the content: `aws-rekey-lambda-<sha256/16>.zip` (also the default CodeKey). */
  name: string;
}

/** The time stamp of every file in the zip, so that the bytes depend on the sources only (1980: zip's epoch). */
const ZIP_MTIME = new Date('1980-01-01T00:00:00Z');

/** src/lambda/<file>.ts for each handler; says which are missing, and why that can be. */
export function handlerEntries(root: string): Record<string, string> {
  const entries = Object.fromEntries(Object.values(HANDLERS).map((spec) => [spec.file, join(root, 'src', 'lambda', `${spec.file}.ts`)]));
  const missing = Object.values(entries).filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(`The Lambda handlers ${missing.map((p) => relative(root, p)).join(', ')} do not exist: the template needs src/lambda/{planner,worker,config-rule}.ts, each exporting \`handler\`.`);
  }
  return entries;
}

/**
 * Bundles the handlers with esbuild into one zip: planner.mjs, worker.mjs, config-rule.mjs (Lambda handler
 * `<file>.handler`) and the chunks they share. The AWS SDK is bundled: the handlers run with the SDK
 * version they were tested with, not the one the Lambda runtime happens to carry.
 */
export async function bundleHandlers(root: string): Promise<HandlersZip> {
  const result = await build({
    entryPoints: handlerEntries(root),
    outdir: 'out',
    write: false,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    mainFields: ['module', 'main'],
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    legalComments: 'none',
    logLevel: 'warning',
    absWorkingDir: root,
    banner: { js: "import { createRequire as __aws_rekey_require } from 'node:module'; const require = __aws_rekey_require(import.meta.url);" },
  });
  const files: Zippable = {};
  for (const file of [...result.outputFiles].sort((a, b) => a.path.localeCompare(b.path))) {
    files[relative(join(root, 'out'), file.path)] = [file.contents, { mtime: ZIP_MTIME }];
  }
  const bytes = zipSync(files, { level: 9, mtime: ZIP_MTIME });
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  return { bytes, name: `aws-rekey-lambda-${hash}.zip` };
}
