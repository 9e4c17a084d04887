// Builds the single executable for linux-x64 (Node's single executable applications): a small main script
// (scripts/sea-main.cjs with bin/launcher.js and bin/code-cache.js, one CommonJS file: a SEA's main script cannot
// load other files) and, as assets, the CLI bundle and help texts of `npm run build`, turned into a blob by the
// pinned Node 24 of scripts/runtimes and injected with postject into a copy of that same Node binary.
// Needs a build (dist/); `npm run package` makes one.
//
//   node scripts/package.mjs [--out-dir DIR]     → dist/sea/aws-rekey-linux-x64 (or DIR/…)
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureRuntimes, POSTJECT } from './runtimes.mjs';

const SEA_MAJOR = 24;
const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
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

// The CLI bundle and its help texts, as `npm run build` made them for the package, are assets: the main script
// (scripts/sea-main.cjs) answers --version and --help from them and compiles the bundle with the code cache of the
// previous run, as bin/aws-rekey does.
await build({
  bundle: true,
  platform: 'node',
  logLevel: 'warning',
  entryPoints: ['scripts/sea-main.cjs'],
  outfile: MAIN,
  format: 'cjs',
  target: `node${SEA_MAJOR}`,
});
const VERSION = join(OUT_DIR, 'version');
await writeFile(VERSION, version);
const assets = {
  version: VERSION,
  'help.json': 'dist/bundle/help.json',
  'cli.json': 'dist/bundle/cli.json',
  'cli.cjs': 'dist/bundle/cli.cjs',
};
await writeFile(
  CONFIG,
  JSON.stringify(
    {
      main: resolve(MAIN),
      output: resolve(BLOB),
      disableExperimentalSEAWarning: true,
      // What V8 compiles before the main script runs: the launcher. The bundle has its own cache (bin/code-cache.js).
      useCodeCache: true,
      useSnapshot: false,
      assets: Object.fromEntries(Object.entries(assets).map(([key, path]) => [key, resolve(path)])),
    },
    null,
    2,
  ),
);
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
