// Builds the single executable for linux-x64 (Node's single executable applications): the CLI bundled into
// one CommonJS file (a SEA's main script cannot load other files), turned into a blob with V8's code cache by
// the pinned Node 24 of scripts/runtimes, and injected with postject into a copy of that same Node binary.
// Needs a build (dist/); `npm run package` makes one.
//
//   node scripts/package.mjs [--out-dir DIR]     → dist/sea/aws-rekey-linux-x64 (or DIR/…)
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliBundleOptions } from './bundle.mjs';
import { ensureRuntimes, POSTJECT } from './runtimes.mjs';

const SEA_MAJOR = 24;
const outDirFlag = process.argv.indexOf('--out-dir');
const OUT_DIR = outDirFlag > 0 && process.argv[outDirFlag + 1] ? process.argv[outDirFlag + 1] : 'dist/sea';
const MAIN = join(OUT_DIR, 'main.cjs');
const BLOB = join(OUT_DIR, 'main.blob');
const CONFIG = join(OUT_DIR, 'sea-config.json');
const EXECUTABLE = join(OUT_DIR, 'aws-rekey-linux-x64');
// The fuse postject flips so that the Node binary runs the injected blob (Node's documented value).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const runtime = ensureRuntimes().find((r) => r.major === SEA_MAJOR);
if (!runtime) throw new Error(`scripts/runtimes pins no Node ${SEA_MAJOR}, which the single executable is built from.`);

await rm(OUT_DIR, { recursive: true, force: true });
await mkdir(OUT_DIR, { recursive: true });

await build({
  ...cliBundleOptions,
  stdin: {
    // What bin/aws-rekey does. The dynamic import stays lazy in the one-file bundle (esbuild defers the
    // module's evaluation), so --version does not set up the CLI and the SDK.
    contents: [
      "import { version } from './dist/version.js';",
      'const args = process.argv.slice(2);',
      "if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) process.stdout.write(`${version}\\n`);",
      "else import('./dist/cli/main.js').then(({ main }) => main(args));",
    ].join('\n'),
    resolveDir: process.cwd(),
    sourcefile: 'aws-rekey-sea.js',
  },
  outfile: MAIN,
  format: 'cjs',
  target: `node${SEA_MAJOR}`,
});

await writeFile(CONFIG, JSON.stringify({ main: MAIN, output: BLOB, disableExperimentalSEAWarning: true, useCodeCache: true, useSnapshot: false }, null, 2));
execFileSync(runtime.node, ['--experimental-sea-config', CONFIG], { stdio: 'inherit' });

await copyFile(runtime.node, EXECUTABLE);
await chmod(EXECUTABLE, 0o755);
const injected = spawnSync(process.execPath, [POSTJECT, EXECUTABLE, 'NODE_SEA_BLOB', BLOB, '--sentinel-fuse', SEA_FUSE], { encoding: 'utf8' });
// LIEF, inside postject, warns about the official binary's .note sections on every injection; harmless
// (Node's documentation shows the same), and noise in a test log.
process.stderr.write(injected.stderr.split('\n').filter((line) => line && !/^warning: Can't find string offset for section name '\.note/.test(line)).map((line) => `${line}\n`).join(''));
if (injected.status !== 0) throw new Error(`postject failed (exit ${injected.status ?? injected.signal}); its output is above.`);

const { size } = await stat(EXECUTABLE);
process.stderr.write(`${EXECUTABLE}: Node ${runtime.version} with the CLI injected, ${(size / 1024 / 1024).toFixed(1)} MiB\n`);
