// Runs the test suite (vitest: unit and integration) on every pinned Node.js of scripts/runtimes whose
// major version is not the current Node's — `npm test` has just run it on the current one. Each run is the
// same vitest, started by that node, with that node first on PATH: the CLI under test is spawned with
// process.execPath, so it runs on the same version. Needs a build (dist/); `npm run test:nodes` makes one.
//
// One version after the other. Side by side (tried: on 2 cores vitest runs one file at a time, and much of
// an integration test waits) the fault tests that bound a wait in wall time failed on a busy machine.
//
//   node scripts/test-nodes.mjs [vitest arguments, e.g. --project unit]
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ensureRuntimes } from './runtimes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const current = Number(process.versions.node.split('.')[0]);
const runtimes = ensureRuntimes().filter((r) => r.major !== current);
const results = [];

for (const runtime of runtimes) {
  process.stderr.write(`\n=== Node ${runtime.version}: vitest run ${process.argv.slice(2).join(' ')}\n`);
  const env = { ...process.env, PATH: `${dirname(runtime.node)}:${process.env.PATH ?? ''}` };
  const started = performance.now();
  const run = spawnSync(runtime.node, [VITEST, 'run', ...process.argv.slice(2)], { cwd: ROOT, env, stdio: 'inherit' });
  results.push({ version: runtime.version, ok: run.status === 0, status: run.status ?? run.signal, seconds: (performance.now() - started) / 1000 });
}

process.stderr.write(`\nTest suite by Node version (Node ${process.versions.node}, the current one: npm test):\n`);
for (const r of results) process.stderr.write(`  Node ${r.version}: ${r.ok ? 'passed' : `FAILED (${r.status})`} in ${r.seconds.toFixed(0)} s\n`);
if (results.length === 0 || results.some((r) => !r.ok)) process.exitCode = 1;
