// A/B of a rotation's CPU time between two builds of the CLI, interleaved so that the machine's load weighs on
// both alike: `npx tsx bench/ab.ts <package root A> <package root B>` (each a folder with bin/, dist/bundle/ and
// package.json of a build: `mkdir -p /tmp/A/dist && cp -r bin package.json /tmp/A && cp -r dist/bundle /tmp/A/dist`
// keeps the current build aside). Each round runs, for every Node version and for each
// build in turn (A then B, then B then A), one self-rotation against moto on loopback, as bench/run.ts does, with
// a warm code cache per build and Node version; CPU time (all threads, user + system) comes from `perf stat`, wall
// time from spawn to exit (it includes perf's own start, the same for both).
// AB_ROUNDS (15), AB_NODES (20,22,24), AB_ARGS (extra CLI arguments), AB_NODE_ARGS (extra node arguments).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startMoto } from '../test/support/moto.js';
import { ensureRuntimes } from '../scripts/runtimes.mjs';
import { measureRotation, stats } from './lib.js';

const [rootA, rootB] = process.argv.slice(2).map((p) => resolve(p));
if (!rootA || !rootB) throw new Error('usage: npx tsx bench/ab.ts <package root A> <package root B>');
const ROUNDS = Number(process.env.AB_ROUNDS ?? 15);
const wanted = (process.env.AB_NODES ?? '20,22,24').split(',').map(Number);
const runtimes = ensureRuntimes().filter((r) => wanted.includes(r.major));
const extraArgs = process.env.AB_ARGS?.split(' ').filter(Boolean) ?? [];
const nodeArgs = process.env.AB_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const CACHE = mkdtempSync(join(tmpdir(), 'aws-rekey-ab-cache-'));
process.on('exit', () => rmSync(CACHE, { recursive: true, force: true }));
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
if (spawnSync('perf', ['stat', '-e', 'task-clock', '--', 'true'], { stdio: 'ignore' }).status !== 0) throw new Error('perf stat is needed');

const moto = await startMoto();
const cpu = new Map<string, number[]>();
const wall = new Map<string, number[]>();
try {
  const once = async (build: 'A' | 'B', node: string, major: number, counted: boolean) => {
    const bin = join(build === 'A' ? rootA : rootB, 'bin', 'aws-rekey');
    const env = { XDG_CACHE_HOME: join(CACHE, `${build}-${major}`) };
    const run = await measureRotation({ iamEndpoint: moto.endpoint, cliEndpoint: moto.endpoint, command: node, args: [...nodeArgs, bin], after: extraArgs, env, how: { perf: true }, label: `${build} on Node ${major}` });
    if (counted) {
      cpu.set(`${build}${major}`, [...(cpu.get(`${build}${major}`) ?? []), run.cpuMs ?? NaN]);
      wall.set(`${build}${major}`, [...(wall.get(`${build}${major}`) ?? []), run.wallMs]);
    }
  };
  for (const r of runtimes) for (const build of ['A', 'B'] as const) await once(build, r.node, r.major, false);
  const loads = [loadavg()];
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of runtimes) for (const build of round % 2 ? (['B', 'A'] as const) : (['A', 'B'] as const)) await once(build, r.node, r.major, true);
    process.stderr.write(`round ${round + 1}/${ROUNDS} load ${loadavg()}\n`);
  }
  loads.push(loadavg());
  process.stdout.write(`A = ${rootA}\nB = ${rootB}\n${ROUNDS} rounds, load ${loads.join(' → ')}; ms, median (min–max)\n`);
  const f = (s: { median: number; min: number; max: number }) => `${s.median.toFixed(1)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  for (const r of runtimes) {
    for (const [what, values] of [['CPU (perf task-clock)', cpu], ['wall', wall]] as const) {
      const a = values.get(`A${r.major}`) ?? [];
      const b = values.get(`B${r.major}`) ?? [];
      const pairs = a.map((x, i) => b[i]! - x);
      process.stdout.write(`Node ${r.major} ${what}: A ${f(stats(a))}  B ${f(stats(b))}  B−A ${(stats(b).median - stats(a).median).toFixed(1)}  median of paired differences ${stats(pairs).median.toFixed(1)}\n`);
    }
  }
} finally {
  await moto.stop();
}
