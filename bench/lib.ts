import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RequestLogEntry } from '../test/support/fault-proxy.js';

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
  /** CPU time (user + system) and peak RSS of the measured process, when it ran under bench/probe.mjs. */
  cpuMs?: number;
  maxRssKb?: number;
}

const PROBE = new URL('./probe.mjs', import.meta.url).href;

/** Runs a command and measures its wall time; with `probe`, a node process also reports CPU time and peak memory. */
export async function measure(command: string, args: string[], env: NodeJS.ProcessEnv, options: { probe?: boolean } = {}): Promise<Measured> {
  const dir = options.probe ? await mkdtemp(join(tmpdir(), 'aws-rekey-bench-')) : undefined;
  const usageFile = dir ? join(dir, 'usage.json') : undefined;
  const argv = options.probe ? ['--import', PROBE, ...args] : args;
  const childEnv = usageFile ? { ...env, AWS_REKEY_BENCH_USAGE: usageFile } : env;
  const start = performance.now();
  const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, argv, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  const wallMs = performance.now() - start;
  if (!dir || !usageFile) return { ...run, wallMs };
  try {
    const usage = JSON.parse(await readFile(usageFile, 'utf8')) as { userMs: number; systemMs: number; maxRssKb: number };
    return { ...run, wallMs, cpuMs: usage.userMs + usage.systemMs, maxRssKb: usage.maxRssKb };
  } finally {
    await rm(dir, { recursive: true, force: true });
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
