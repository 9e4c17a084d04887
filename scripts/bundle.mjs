// Bundles the compiled CLI (dist/cli/main.js) into dist/bundle/: one file per lazily loaded command plus
// shared chunks. Loading one 1 MB file is much faster than resolving and reading the AWS SDK's hundreds of
// modules, and `--version`/`--help` still load no SDK code. dist/bundle/meta.json records which source
// modules went into which chunk (the benchmark checks it).
import { build } from 'esbuild';
import { rm, writeFile } from 'node:fs/promises';

await rm('dist/bundle', { recursive: true, force: true });

const result = await build({
  entryPoints: { main: 'dist/cli/main.js' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  // The SDK's ES module builds, so that the commands and models we never call are left out.
  mainFields: ['module', 'main'],
  target: 'node20',
  metafile: true,
  logLevel: 'warning',
  // Some of the SDK's CommonJS code calls require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __aws_rekey_require } from 'node:module'; const require = __aws_rekey_require(import.meta.url);" },
});
await writeFile('dist/bundle/meta.json', JSON.stringify(result.metafile));
