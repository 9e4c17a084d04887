// Bundles the compiled CLI (dist/cli/main.js) into dist/bundle/: one file per lazily loaded command plus
// shared chunks. Loading one 1 MB file is much faster than resolving and reading the AWS SDK's hundreds of
// modules, and `--version`/`--help` still load no SDK code. dist/bundle/meta.json records which source
// modules went into which chunk (the benchmark checks it). scripts/package.mjs uses the same settings for
// the single executable's one-file CommonJS bundle.
//
// `--sourcemap` (npm run coverage): linked source maps that chain through tsc's own maps to src/*.ts, so
// that the V8 coverage of the CLI's child processes is counted against the TypeScript sources.
import { build } from 'esbuild';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

/** dist/version.js reads package.json at run time; a bundle carries the version instead. */
const versionPlugin = {
  name: 'aws-rekey-version',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]version\.js$/ }, () => ({ contents: `export const version = ${JSON.stringify(version)};\n`, loader: 'js' }));
  },
};

/**
 * node:http and node:https through require(), not import: an ES module import of a built-in makes Node build its
 * ES module facade, which reads every export, lazy ones included. On Node 22+ `import 'node:http'` thus loads
 * undici and compiles its WebAssembly HTTP parser (for http.WebSocket, which we never use): 3–4 MiB of peak memory
 * a rotation. The other built-ins stay imports: through require() they cost more than they save.
 */
const httpByRequire = {
  name: 'aws-rekey-http-by-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?https?$/ }, ({ path, namespace }) =>
      namespace === 'node-builtin' ? { path, external: true } : { path: path.replace(/^node:/, ''), namespace: 'node-builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, ({ path }) => ({ contents: `module.exports = require(${JSON.stringify(`node:${path}`)});\n`, loader: 'js' }));
  },
};

/** What every bundle of the CLI shares. */
export const cliBundleOptions = {
  bundle: true,
  platform: 'node',
  // The SDK's ES module builds, so that the commands and models we never call are left out.
  mainFields: ['module', 'main'],
  logLevel: 'warning',
  plugins: [versionPlugin],
};

export async function bundleCli({ sourcemap = false } = {}) {
  await rm('dist/bundle', { recursive: true, force: true });
  const result = await build({
    ...cliBundleOptions,
    entryPoints: { main: 'dist/cli/main.js' },
    outdir: 'dist/bundle',
    plugins: [...cliBundleOptions.plugins, httpByRequire],
    splitting: true,
    format: 'esm',
    target: 'node20',
    metafile: true,
    sourcemap: sourcemap ? 'linked' : false,
    // Some of the SDK's CommonJS code calls require(); an ES module has none of its own.
    banner: { js: "import { createRequire as __aws_rekey_require } from 'node:module'; const require = __aws_rekey_require(import.meta.url);" },
  });
  await writeFile('dist/bundle/meta.json', JSON.stringify(result.metafile));
  await writeHelpTexts();
}

/**
 * dist/bundle/help.json: every command's `--help`, printed by the CLI itself (commander, through main()), so
 * that bin/aws-rekey answers `--help` in about the time of `--version`, without loading the bundle.
 */
async function writeHelpTexts() {
  const { helpTexts } = await import('../dist/cli/help-texts.js');
  await writeFile('dist/bundle/help.json', `${JSON.stringify(await helpTexts(), null, 1)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleCli({ sourcemap: process.argv.includes('--sourcemap') });
