import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ORG_PERMISSIONS } from '../src/org/permissions.js';
import { synthesize, writeSynthOutput } from './synth.js';

/**
 * `npm run synth [-- --out DIR]`: bundles the handlers and writes the hub template, the member role template
 * and the handlers zip to deploy/out/ (or DIR). Then: upload the zip, deploy the template (docs/deploy.md).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: resolve(ROOT, 'deploy', 'out') } } });
  const outDir = resolve(values.out as string);
  const result = await synthesize(ROOT, ORG_PERMISSIONS);
  const written = await writeSynthOutput(outDir, result);
  const size = Buffer.byteLength(result.body);
  // Relative when inside the current folder, absolute otherwise.
  const shown = (file: string) => (relative(process.cwd(), file).startsWith('..') ? file : relative(process.cwd(), file));
  process.stderr.write(
    `${written.map((file) => `wrote ${shown(file)}`).join('\n')}\n` +
      `template: ${size} bytes, ${Object.keys(result.template.Resources).length} resources; handlers zip: ${result.zip.bytes.length} bytes\n` +
      `next: upload ${result.zip.name} to your code bucket, then deploy ${shown(written[0] ?? '')} (docs/deploy.md)\n`,
  );
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`npm run synth: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
