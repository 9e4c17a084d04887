import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentialsFile, makeHome } from '../test/support/cli.js';
import type { RequestLogEntry } from '../test/support/fault-proxy.js';
import { createUserWithKey, listKeys, uniqueName } from '../test/support/iam.js';

export interface Stats {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function stats(values: number[]): Stats {
  if (values.length === 0) throw new Error('no measurements');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, runs: values.length };
}

export function formatStats(s: Stats, unit: string, digits = 0): string {
  return `${s.median.toFixed(digits)} ${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

export interface Measured {
  code: number;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** When the process was spawned and when it was seen to end, in ms since the Unix epoch. */
  spawnedAt: number;
  endedAt: number;
  /** CPU time (user + system) and peak RSS of the measured process, with `probe` or `rusage`. */
  cpuMs?: number;
  maxRssKb?: number;
  /** What the process did when, with `probe`. */
  timeline?: Timeline;
}

const PROBE = new URL('./probe.mjs', import.meta.url).href;
const now = () => performance.timeOrigin + performance.now();

/**
 * Runs a command and measures its wall time. With `probe`, a node process (given its script and arguments)
 * also reports CPU time, peak memory and a timeline (bench/probe.mjs); with `rusage`, any process reports
 * CPU time and peak memory through /usr/bin/time (the single executable, which takes no --import), in
 * 10 ms steps; with `perf`, CPU time to the microsecond through `perf stat` (Debian's linux-perf).
 */
export type MeasureOptions = { probe?: boolean; rusage?: boolean; perf?: boolean };

export async function measure(command: string, args: string[], env: NodeJS.ProcessEnv, options: MeasureOptions = {}): Promise<Measured> {
  const dir = options.probe || options.rusage || options.perf ? await mkdtemp(join(tmpdir(), 'aws-rekey-bench-')) : undefined;
  const file = (name: string) => (dir ? join(dir, name) : '');
  let [program, argv, childEnv] = [command, args, env];
  if (options.probe) {
    argv = ['--import', PROBE, ...args];
    childEnv = { ...env, AWS_REKEY_BENCH_USAGE: file('usage.json'), AWS_REKEY_BENCH_TIMELINE: file('timeline.json') };
  } else if (options.perf) {
    [program, argv] = ['perf', ['stat', '-x,', '-e', 'task-clock', '-o', file('perf.txt'), '--', command, ...args]];
  } else if (options.rusage) {
    [program, argv] = ['/usr/bin/time', ['-f', '%U %S %M', '-o', file('time.txt'), command, ...args]];
  }
  const spawnedAt = now();
  const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(program, argv, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  const endedAt = now();
  const measured: Measured = { ...run, wallMs: endedAt - spawnedAt, spawnedAt, endedAt };
  if (!dir) return measured;
  try {
    if (options.probe) {
      const usage = JSON.parse(await readFile(file('usage.json'), 'utf8')) as { userMs: number; systemMs: number; maxRssKb: number };
      const timeline = JSON.parse(await readFile(file('timeline.json'), 'utf8')) as Timeline;
      return { ...measured, cpuMs: usage.userMs + usage.systemMs, maxRssKb: usage.maxRssKb, timeline };
    }
    if (options.perf) {
      const line = (await readFile(file('perf.txt'), 'utf8')).split('\n').find((l) => l.includes(',task-clock,'));
      return { ...measured, cpuMs: Number(line?.split(',')[0]) };
    }
    const [user, system, rss] = (await readFile(file('time.txt'), 'utf8')).trim().split('\n').pop()?.split(' ').map(Number) ?? [];
    return { ...measured, cpuMs: ((user ?? 0) + (system ?? 0)) * 1000, maxRssKb: rss ?? 0 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface RotationRun {
  /** Where the test user and its key are made and checked: moto itself. */
  iamEndpoint: string;
  /** Where the CLI sends its requests: moto, or the fault proxy in front of it. */
  cliEndpoint: string;
  /** The CLI to run, the arguments before the rotation's own (`--profile work --yes …`) and those after them. */
  command: string;
  args: string[];
  after?: string[];
  /** Beside the home's own variables (XDG_CACHE_HOME: the code cache's folder). */
  env?: NodeJS.ProcessEnv;
  how: MeasureOptions;
  /** What the run is called in an error. */
  label: string;
  /** Right before the CLI starts (the fault proxy's log emptied). */
  before?: () => void;
}

/**
 * One self-rotation of a new user's key (profile `work`, `--verify-successes 1 --json`: the document carries the CLI's
 * step log, with each step's duration), measured as `how` says;
 * refused unless the CLI exited 0 and left the user exactly one active key.
 */
export async function measureRotation(r: RotationRun): Promise<Measured> {
  const user = await createUserWithKey(r.iamEndpoint, uniqueName('bench'));
  const home = await makeHome({ endpoint: r.cliEndpoint, credentials: credentialsFile({ work: user }), env: r.env ?? {} });
  try {
    r.before?.();
    const run = await measure(r.command, [...r.args, '--profile', 'work', '--yes', '--verify-successes', '1', '--json', ...(r.after ?? [])], home.env, r.how);
    if (run.code !== 0) throw new Error(`${r.label} failed (exit ${run.code}):\n${run.stderr}`);
    const keys = await listKeys(r.iamEndpoint, user.userName);
    if (keys.filter((k) => k.status === 'Active').length !== 1) throw new Error(`${r.label} did not leave exactly one active key`);
    return run;
  } finally {
    await home.cleanup();
  }
}

/** Requests of one run, counted per action. */
export function countByAction(log: RequestLogEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of log) counts[entry.action] = (counts[entry.action] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

export interface CriticalPath {
  /** The most requests that had to happen one after the other (each started after the previous one ended). */
  roundTrips: number;
  /** The time those requests spent in the network and the server. */
  networkMs: number;
  actions: string[];
}

/**
 * The sequential round trips of a run: the longest chain of requests in which each one started after the
 * previous one had ended. Requests that overlap in time were made in parallel and count once.
 */
export function criticalPath(log: RequestLogEntry[]): CriticalPath {
  const requests = [...log].filter((e) => e.endedAt > 0).sort((a, b) => a.startedAt - b.startedAt);
  const best: CriticalPath[] = [];
  requests.forEach((request, i) => {
    let previous: CriticalPath = { roundTrips: 0, networkMs: 0, actions: [] };
    for (let j = 0; j < i; j++) {
      const candidate = best[j] as CriticalPath;
      const earlier = requests[j] as RequestLogEntry;
      if (earlier.endedAt > request.startedAt) continue;
      if (candidate.roundTrips > previous.roundTrips || (candidate.roundTrips === previous.roundTrips && candidate.networkMs > previous.networkMs)) {
        previous = candidate;
      }
    }
    best.push({
      roundTrips: previous.roundTrips + 1,
      networkMs: previous.networkMs + (request.endedAt - request.startedAt),
      actions: [...previous.actions, request.action],
    });
  });
  return best.reduce<CriticalPath>((a, b) => (b.roundTrips > a.roundTrips || (b.roundTrips === a.roundTrips && b.networkMs > a.networkMs) ? b : a), {
    roundTrips: 0,
    networkMs: 0,
    actions: [],
  });
}

export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** What bench/probe.mjs records with AWS_REKEY_BENCH_TIMELINE; times in ms since the Unix epoch. */
export interface Timeline {
  origin: number;
  bootstrapComplete: number;
  exit: number;
  events: Array<{ kind: 'fs' | 'request' | 'socket'; name: string; path?: string; start: number; end: number }>;
}

/** Reads of the CLI's own code (bundle chunks, package.json) by Node's module loader: part of loading. */
const MODULE_FILE = /\.(c|m)?js$|[\\/]package\.json$/;

type Interval = [number, number];

/** Total length of the union of intervals (overlaps count once). */
export function unionMs(intervals: Interval[]): number {
  const sorted = [...intervals].filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let [from, to] = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const [a, b] of sorted) {
    if (a > to) {
      if (to > from) total += to - from;
      [from, to] = [a, b];
    } else if (b > to) {
      to = b;
    }
  }
  if (to > from) total += to - from;
  return total;
}

/** One run, cut into phases that add up to its wall time (ms), and the file system calls by kind. */
export interface PhaseBreakdown {
  phases: Record<string, number>;
  fsByCall: Record<string, { calls: number; ms: number }>;
  /** Each request in the order it started, as the proxy saw it: `1. GetCallerIdentity` → ms. */
  requests: Record<string, number>;
  /** The file system calls by the file they work on (fileStep): calls and the sum of their times. */
  fsByFile: Record<string, { calls: number; ms: number }>;
}

/**
 * Which of the CLI's files a call works on: the journal (and its records folder), the credentials file, its
 * backup, the lock; temp files count for the file they replace. Anything else is 'other'.
 */
export function fileStep(path: string | undefined): string {
  if (path === undefined) return 'other (by handle)';
  const name = path.replace(/\\/g, '/').split('/').pop() ?? '';
  const target = name.replace(/^\.(.*)\.aws-rekey-\d+-[0-9a-f]+\.tmp$/, '$1');
  if (target.endsWith('.aws-rekey.lock') || /\.aws-rekey\.lock\//.test(path)) return 'lock';
  if (target.endsWith('.aws-rekey.bak')) return 'backup';
  if (/[\\/]aws-rekey([\\/]|$)/.test(path)) return 'journal (records folder)';
  if (target === 'credentials' || target === 'config') return `${target} file`;
  return 'other';
}

/**
 * Cuts a run into: process start (spawn → Node bootstrapped), load (→ the CLI's first file or network call:
 * modules, compilation, arguments), then, up to its last call, the time in requests (as the proxy saw them:
 * network and server), in file system calls (outside requests), and in computation (the rest: SDK set-up,
 * signing, parsing, GC), and finally exit (→ the process ended: output, teardown).
 */
export function phaseBreakdown(spawnedAt: number, endedAt: number, timeline: Timeline, requests: RequestLogEntry[]): PhaseBreakdown {
  const fsEvents = timeline.events.filter((e) => e.kind === 'fs' && !(e.path && MODULE_FILE.test(e.path)));
  const served: Interval[] = requests.filter((r) => r.endedAt > 0).map((r) => [r.startedAt, r.endedAt]);
  const active = [...fsEvents, ...timeline.events.filter((e) => e.kind === 'request')].map((e) => [e.start, e.end] as Interval).concat(served);
  const first = active.length ? Math.min(...active.map(([a]) => a)) : timeline.exit;
  const last = active.length ? Math.max(...active.map(([, b]) => b)) : timeline.exit;
  const requestMs = unionMs(served);
  const busyMs = unionMs([...served, ...fsEvents.map((e) => [e.start, e.end] as Interval)]);
  const fsByCall: PhaseBreakdown['fsByCall'] = {};
  const fsByFile: PhaseBreakdown['fsByFile'] = {};
  for (const e of fsEvents) {
    for (const entry of [(fsByCall[e.name] ??= { calls: 0, ms: 0 }), (fsByFile[fileStep(e.path)] ??= { calls: 0, ms: 0 })]) {
      entry.calls += 1;
      entry.ms += e.end - e.start;
    }
  }
  const answered = requests.filter((r) => r.endedAt > 0).sort((a, b) => a.startedAt - b.startedAt);
  const perRequest = Object.fromEntries(answered.map((r, i) => [`${i + 1}. ${r.action}`, r.endedAt - r.startedAt]));
  return {
    phases: {
      'process start': timeline.bootstrapComplete - spawnedAt,
      'load (modules, compile, arguments)': first - timeline.bootstrapComplete,
      'requests (network + moto)': requestMs,
      'file system calls': busyMs - requestMs,
      computation: last - first - busyMs,
      exit: endedAt - last,
    },
    fsByCall,
    requests: perRequest,
    fsByFile,
  };
}
