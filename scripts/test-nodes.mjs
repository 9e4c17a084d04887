// Runs the test suite (vitest: unit and integration) on every pinned Node.js of scripts/runtimes whose
// major version is not the current Node's — `npm test` has just run it on the current one. Each run is the
// same vitest, started by that node, with that node first on PATH: the CLI under test is spawned with
// process.execPath, so it runs on the same version. Needs a build (dist/); `npm run test:nodes` makes one.
//
// The versions run at the same time: on a 2-core machine vitest runs one test file at a time, and most of
// an integration test is waiting (for moto, for the CLI's child process), so two runs side by side take
// little longer than one. Each run's output goes to a log that is printed, whole, when it ends.
//
//   node scripts/test-nodes.mjs [vitest arguments, e.g. --project unit]
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ensureRuntimes } from './runtimes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const current = Number(process.versions.node.split('.')[0]);
const runtimes = ensureRuntimes().filter((r) => r.major !== current);
const logs = await mkdtemp(join(tmpdir(), 'aws-rekey-test-nodes-'));
const started = performance.now();

async function runOn(runtime) {
  const log = join(logs, `node-${runtime.version}.log`);
  const out = createWriteStream(log);
  const env = { ...process.env, PATH: `${dirname(runtime.node)}:${process.env.PATH ?? ''}` };
  const begin = performance.now();
  process.stderr.write(`Node ${runtime.version}: vitest run ${process.argv.slice(2).join(' ')} (log: ${log})\n`);
  const status = await new Promise((resolve) => {
    const child = spawn(runtime.node, [VITEST, 'run', ...process.argv.slice(2)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', (error) => resolve(error.message));
    child.on('close', (code, signal) => resolve(code ?? signal));
  });
  await new Promise((resolve) => out.end(resolve));
  const seconds = (performance.now() - begin) / 1000;
  process.stderr.write(`\n=== Node ${runtime.version} (${seconds.toFixed(0)} s)\n${await readFile(log, 'utf8')}`);
  return { version: runtime.version, ok: status === 0, status, seconds };
}

const results = await Promise.all(runtimes.map(runOn));
await rm(logs, { recursive: true, force: true });
process.stderr.write(`\nTest suite by Node version (Node ${process.versions.node}, the current one: npm test), ${((performance.now() - started) / 1000).toFixed(0)} s in all:\n`);
for (const r of results) process.stderr.write(`  Node ${r.version}: ${r.ok ? 'passed' : `FAILED (${r.status})`} in ${r.seconds.toFixed(0)} s\n`);
if (results.length === 0 || results.some((r) => !r.ok)) process.exitCode = 1;
