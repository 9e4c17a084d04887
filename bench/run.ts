// `npm run bench`: how fast aws-rekey is, against moto on loopback. Prints a markdown report and writes
// bench/results.json. Each figure is the median of several runs, with min–max. See bench/README.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFaultProxy, type FaultProxy, type RequestLogEntry } from '../test/support/fault-proxy.js';
import { BIN, credentialsFile, makeHome } from '../test/support/cli.js';
import { CreateAccessKeyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { createUserWithKey, iamClient, uniqueName } from '../test/support/iam.js';
import { provisionMoto, pythonEnv, startMoto, type MotoHandle } from '../test/support/moto.js';
import { ensureRuntimes } from '../scripts/runtimes.mjs';
import { countByAction, criticalPath, formatStats, markdownTable, measure, measureRotation, phaseBreakdown, stats, type CriticalPath, type MeasureOptions, type Measured, type Stats } from './lib.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const NODE = process.execPath;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const LATENCY_MS = 100;

interface RotationFigures {
  target: string;
  wallMs: Stats;
  cpuMs: Stats;
  maxRssMb: Stats;
  requests: Record<string, number>;
  requestTotal: number;
  critical: CriticalPath;
  /** Wall time minus the time the critical path spent in the network and in moto. */
  localOverheadMs: Stats;
  /** TCP connections the CLI opened (median): one per endpoint when the server keeps connections alive. */
  connections?: number;
  /** Medians per phase (bench/lib.ts phaseBreakdown), per step (the CLI's own step log) and per file call. */
  phases?: Record<string, Stats>;
  steps?: Record<string, Stats>;
  fsCalls?: Record<string, { calls: number; ms: Stats }>;
  /** Each request (in the order they started) and the file calls by the file they work on. */
  requestMs?: Record<string, Stats>;
  fsFiles?: Record<string, { calls: number; ms: Stats }>;
}

const report: string[] = [];
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, runs: RUNS };

function section(title: string, body: string): void {
  report.push(`## ${title}\n\n${body}\n`);
  process.stderr.write(`bench: ${title} done\n`);
}

/** A way to run the CLI: one of the pinned Node.js versions with bin/aws-rekey, or the single executable. */
interface Target {
  name: string;
  /** The node that runs `-e 0` as this target's baseline. */
  node: string;
  /** argv that runs the CLI (append its arguments). */
  cli: string[];
}

/**
 * The pinned Node.js versions of scripts/runtimes (installed on first use) and the single executable (built
 * here), on linux-x64; elsewhere only the current Node. BENCH_TARGETS=node20,sea narrows the list.
 */
function targets(): Target[] {
  const wanted = process.env.BENCH_TARGETS?.split(',');
  const pick = (list: Target[]) => list.filter((t) => !wanted || wanted.includes(t.name));
  if (process.platform !== 'linux' || process.arch !== 'x64') return pick([{ name: `node${process.versions.node.split('.')[0]}`, node: NODE, cli: [NODE, BIN] }]);
  const runtimes = ensureRuntimes();
  const list: Target[] = runtimes.map((r) => ({ name: `node${r.major}`, node: r.node, cli: [r.node, BIN] }));
  const node24 = runtimes.find((r) => r.major === 24);
  if (node24 && (!wanted || wanted.includes('sea'))) {
    execFileSync(NODE, [join(HERE, '..', 'scripts', 'package.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
    list.push({ name: 'sea', node: node24.node, cli: [join(HERE, '..', 'dist', 'sea', 'aws-rekey-linux-x64')] });
  }
  return pick(list);
}

/** `uptime`'s load averages, recorded beside the figures: 8 sessions share this machine's 2 cores. */
function load(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** The CLI's code cache (bin/code-cache.js), kept across the runs of a target as a user's ~/.cache keeps it. */
const CODE_CACHE = mkdtempSync(join(tmpdir(), 'aws-rekey-bench-cache-'));
process.on('exit', () => rmSync(CODE_CACHE, { recursive: true, force: true }));

const PERF = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', '--', 'true'], { stdio: 'ignore' }).status === 0;

async function startup(list: Target[]): Promise<void> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, XDG_CACHE_HOME: CODE_CACHE, ...noCompileCache() };
  const commands = list.flatMap((t): Array<[string, string, string[], string]> => [
    ...(t.name === 'sea' ? [] : [[`${t.name}`, 'node -e 0', [t.node, '-e', '0'], t.name] as [string, string, string[], string]]),
    [t.name, 'aws-rekey --version', [...t.cli, '--version'], t.name === 'sea' ? 'node24' : t.name],
    [t.name, 'aws-rekey --help', [...t.cli, '--help'], t.name === 'sea' ? 'node24' : t.name],
  ]);
  const key = (target: string, command: string) => `${target} ${command}`;
  const times = new Map<string, number[]>(commands.map(([t, c]) => [key(t, c), []]));
  // CPU time (all threads, through perf stat when it is there) as well: on a machine shared with other
  // work, wall time mostly measures the wait for a core, CPU time what the command itself costs.
  const cpu = new Map<string, number[]>(commands.map(([t, c]) => [key(t, c), []]));
  const before = load();
  // Interleaved, after one warm-up round, so that a busy machine
  // weighs on all alike.
  for (let round = 0; round <= RUNS * 2; round++) {
    for (const [target, command, argv] of commands) {
      const run = await measure(argv[0] as string, argv.slice(1), env, PERF ? { perf: true } : { rusage: true });
      if (run.code !== 0) throw new Error(`${target} ${command} failed: ${run.stderr}`);
      if (round > 0) times.get(key(target, command))?.push(run.wallMs);
      if (round > 0) cpu.get(key(target, command))?.push(run.cpuMs ?? 0);
    }
  }
  const rows = commands.map(([target, command, , baseline]) => {
    const s = stats(times.get(key(target, command)) ?? []);
    const base = stats(times.get(key(baseline, 'node -e 0')) ?? []);
    const c = stats(cpu.get(key(target, command)) ?? []);
    const cbase = stats(cpu.get(key(baseline, 'node -e 0')) ?? []);
    return [target, command, formatStats(s, 'ms'), `${(s.median / base.median).toFixed(2)}×`, formatStats(c, 'ms'), `${(c.median / cbase.median).toFixed(2)}×`, `${baseline} -e 0`];
  });
  const sdkLoaded = await modulesLoaded(['--version']).then(async (v) => [v, await modulesLoaded(['--help'])]);
  results.startup = {
    load: [before, load()],
    wallMs: Object.fromEntries([...times].map(([name, values]) => [name, stats(values)])),
    cpuMs: Object.fromEntries([...cpu].map(([name, values]) => [name, stats(values)])),
  };
  results.startupSdkModules = { version: sdkLoaded[0], help: sdkLoaded[1] };
  section(
    'Start-up',
    `Load average ${before} before, ${load()} after.\n\n${markdownTable(['target', 'command', 'wall time', 'ratio', 'CPU time', 'ratio', 'against'], rows)}\n\nAWS SDK modules loaded (${process.version}): --version ${sdkLoaded[0]}, --help ${sdkLoaded[1]}. Target: --version and --help within 1.3× of \`node -e 0\`, no SDK. Rotations run with a warm code cache (\`${'${XDG_CACHE_HOME}'}/aws-rekey/code-cache\`, filled by an uncounted first run); "sea" is the single executable (Node 24), against Node 24's \`node -e 0\`.`,
  );
}

/**
 * How many AWS SDK modules the CLI loads for these arguments: the bundle's chunks that hold SDK code
 * (from dist/bundle/meta.json), or SDK files when running unbundled.
 */
async function modulesLoaded(args: string[]): Promise<number> {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const meta = JSON.parse(await readFile(join(HERE, '..', 'dist', 'bundle', 'meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const sdkChunks = new Set(
    Object.entries(meta.outputs)
      .filter(([, output]) => Object.keys(output.inputs).some((input) => /node_modules\/@(aws-sdk|smithy)\//.test(input)))
      .map(([file]) => file.split('/').pop()),
  );
  const dir = await mkdtemp(join(tmpdir(), 'aws-rekey-bench-'));
  try {
    const file = join(dir, 'modules');
    await writeFile(file, '');
    await measure(NODE, ['--import', new URL('./probe.mjs', import.meta.url).href, BIN, ...args], { PATH: process.env.PATH, AWS_REKEY_BENCH_MODULES: file });
    const urls = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    return urls.filter((url) => /@aws-sdk|@smithy/.test(url) || sdkChunks.has(url.split('/').pop())).length;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rotation(moto: MotoHandle, proxy: FaultProxy, latencyMs: number, runs: number, target: Target): Promise<RotationFigures> {
  proxy.setLatency(latencyMs);
  const walls: number[] = [];
  const cpus: number[] = [];
  const rss: number[] = [];
  const overheads: number[] = [];
  const phases = new Map<string, number[]>();
  const steps = new Map<string, number[]>();
  const fsCalls = new Map<string, { calls: number; ms: number[] }>();
  const fsFiles = new Map<string, { calls: number; ms: number[] }>();
  const requestMs = new Map<string, number[]>();
  const connections: number[] = [];
  const push = <K>(map: Map<K, number[]>, key: K, value: number) => map.set(key, [...(map.get(key) ?? []), value]);
  let requests: Record<string, number> = {};
  let critical: CriticalPath = { roundTrips: 0, networkMs: 0, actions: [] };
  const sea = target.name === 'sea';
  /** One rotation of a new user's key, measured as `how` says; the proxy's log of its requests beside it. */
  const once = async (how: MeasureOptions): Promise<{ run: Measured; log: RequestLogEntry[] }> => {
    const [command, ...args] = target.cli as [string, ...string[]];
    const env = { XDG_CACHE_HOME: CODE_CACHE, ...noCompileCache() };
    const run = await measureRotation({ iamEndpoint: moto.endpoint, cliEndpoint: proxy.endpoint, command, args, env, how, label: 'rotation', before: () => (proxy.log.length = 0) });
    return { run, log: [...proxy.log] };
  };
  // A warm-up run (not counted) fills the code cache, as any earlier run of the command does for a user.
  await once({ rusage: true });
  for (let i = 0; i < runs; i++) {
    // The figures of the targets come from runs as users make them: under /usr/bin/time (wall time, peak memory),
    // and, where perf is installed, under perf stat (CPU time of every thread; perf's own start-up would add ~7 ms
    // to a wall time). The probe (phases, file calls) costs the CLI 7–9 ms of CPU and wall time itself: its runs
    // give only the breakdown.
    const { run, log } = await once({ rusage: true });
    walls.push(run.wallMs);
    rss.push((run.maxRssKb ?? 0) / 1024);
    requests = countByAction(log);
    critical = criticalPath(log);
    overheads.push(run.wallMs - critical.networkMs);
    for (const step of (JSON.parse(run.stdout) as { steps?: Array<{ step: string; durationMs?: number }> }).steps ?? []) push(steps, step.step, step.durationMs ?? 0);
    cpus.push((PERF ? (await once({ perf: true })).run.cpuMs : run.cpuMs) ?? 0);
    if (sea) continue;
    const probed = await once({ probe: true });
    const timeline = probed.run.timeline;
    if (!timeline) continue;
    connections.push(timeline.events.filter((e) => e.kind === 'socket').length);
    const breakdown = phaseBreakdown(probed.run.spawnedAt, probed.run.endedAt, timeline, probed.log);
    for (const [phase, ms] of Object.entries(breakdown.phases)) push(phases, phase, ms);
    for (const [call, { calls, ms }] of Object.entries(breakdown.fsByCall)) fsCalls.set(call, { calls, ms: [...(fsCalls.get(call)?.ms ?? []), ms] });
    for (const [file, { calls, ms }] of Object.entries(breakdown.fsByFile)) fsFiles.set(file, { calls, ms: [...(fsFiles.get(file)?.ms ?? []), ms] });
    for (const [request, ms] of Object.entries(breakdown.requests)) push(requestMs, request, ms);
  }
  proxy.setLatency(0);
  const medians = (map: Map<string, number[]>) => Object.fromEntries([...map].map(([k, v]) => [k, stats(v)]));
  return {
    target: target.name,
    wallMs: stats(walls),
    cpuMs: stats(cpus),
    maxRssMb: stats(rss),
    requests,
    requestTotal: Object.values(requests).reduce((a, b) => a + b, 0),
    critical,
    localOverheadMs: stats(overheads),
    ...(connections.length ? { connections: stats(connections).median } : {}),
    ...(phases.size ? { phases: medians(phases) } : {}),
    steps: medians(steps),
    ...(fsCalls.size ? { fsCalls: callStats(fsCalls) } : {}),
    ...(requestMs.size ? { requestMs: medians(requestMs) } : {}),
    ...(fsFiles.size ? { fsFiles: callStats(fsFiles) } : {}),
  };
}

function callStats(map: Map<string, { calls: number; ms: number[] }>): Record<string, { calls: number; ms: Stats }> {
  return Object.fromEntries([...map].map(([k, v]) => [k, { calls: v.calls, ms: stats(v.ms) }]));
}

/** BENCH_NO_CODE_CACHE=1: every run without the code cache (bin/aws-rekey honours NODE_DISABLE_COMPILE_CACHE). */
function noCompileCache(): NodeJS.ProcessEnv {
  return process.env.BENCH_NO_CODE_CACHE ? { NODE_DISABLE_COMPILE_CACHE: '1' } : {};
}

async function rotationSections(moto: MotoHandle, proxy: FaultProxy, list: Target[]): Promise<void> {
  const before = load();
  const figures: RotationFigures[] = [];
  for (const target of list) figures.push(await rotation(moto, proxy, 0, RUNS, target));
  const after = load();
  const plain = figures.find((f) => f.target === `node${process.versions.node.split('.')[0]}`) ?? figures[0];
  results.rotation = plain;
  results.rotationByTarget = { load: [before, after], figures };
  const fmt = (s: Stats | undefined) => (s ? `${s.median.toFixed(0)}` : '–');
  const phaseNames = [...new Set(figures.flatMap((f) => Object.keys(f.phases ?? {})))];
  const stepNames = [...new Set(figures.flatMap((f) => Object.keys(f.steps ?? {})))];
  const callNames = [...new Set(figures.flatMap((f) => Object.keys(f.fsCalls ?? {})))].sort();
  const requestNames = [...new Set(figures.flatMap((f) => Object.keys(f.requestMs ?? {})))];
  const fileNames = [...new Set(figures.flatMap((f) => Object.keys(f.fsFiles ?? {})))].sort();
  const calls = (entry: { calls: number; ms: Stats } | undefined) => (entry ? `${entry.calls} × → ${entry.ms.median.toFixed(1)}` : '–');
  const perTarget = (label: string, names: string[], cell: (f: RotationFigures, name: string) => string) =>
    markdownTable([label, ...figures.map((f) => f.target)], names.map((name) => [name, ...figures.map((f) => cell(f, name))]));
  section(
    'One self-rotation (loopback, `--verify-successes 1`)',
    [
      `Load average ${before} before, ${after} after.`,
      '',
      markdownTable(
        ['target', 'wall time', 'CPU time', 'peak memory', 'requests', 'connections', 'sequential round trips', 'local overhead (wall − network)'],
        figures.map((f) => [f.target, formatStats(f.wallMs, 'ms'), formatStats(f.cpuMs, 'ms'), formatStats(f.maxRssMb, 'MiB'), String(f.requestTotal), f.connections === undefined ? '–' : String(f.connections), String(f.critical.roundTrips), formatStats(f.localOverheadMs, 'ms')]),
      ),
      '',
      'Targets of issue 14 (medians): local overhead under 100 ms on Node 22+ and under 150 ms on Node 20; peak memory under 50 MiB.',
      'On a busy machine the local overhead (a wall time) mostly measures the wait for a core: the CPU time beside it is the work itself.',
      '',
      markdownTable(
        ['target', 'local overhead', 'CPU time', 'limit', 'held', 'peak memory', 'under 50 MiB'],
        figures.map((f) => {
          const limit = f.target === 'node20' ? 150 : 100;
          const held = f.localOverheadMs.median < limit ? 'yes' : f.cpuMs.median < limit ? 'no (CPU time: yes)' : 'no';
          return [f.target, `${f.localOverheadMs.median.toFixed(0)} ms`, `${f.cpuMs.median.toFixed(0)} ms`, `${limit} ms`, held, `${f.maxRssMb.median.toFixed(1)} MiB`, f.maxRssMb.median < 50 ? 'yes' : 'no'];
        }),
      ),
      '',
      plain ? `Requests by action: ${Object.entries(plain.requests).map(([a, n]) => `${a} ${n}`).join(', ')}.` : '',
      plain ? `Critical path: ${plain.critical.actions.join(' → ')}.` : '',
      '',
      'Where the time goes (medians, ms; the phases add up to the wall time; the single executable takes no probe):',
      '',
      perTarget('phase', phaseNames, (f, p) => fmt(f.phases?.[p])),
      '',
      'Steps as the CLI times them (its --json step log; each includes its requests):',
      '',
      perTarget('step', stepNames, (f, p) => fmt(f.steps?.[p])),
      '',
      'File system calls outside module loading (calls, median total ms):',
      '',
      perTarget('call', callNames, (f, c) => calls(f.fsCalls?.[c])),
      '',
      'The same calls by the file they work on (temp files count for the file they replace; calls, median total ms):',
      '',
      perTarget('file', fileNames, (f, c) => calls(f.fsFiles?.[c])),
      '',
      'Each request, in the order they started (medians, ms, network + moto as the proxy saw them):',
      '',
      perTarget('request', requestNames, (f, r) => fmt(f.requestMs?.[r])),
    ].join('\n'),
  );

  const current = list.find((t) => t.name === plain?.target) ?? list[0];
  if (!current) return;
  const slow = await rotation(moto, proxy, LATENCY_MS, Math.max(3, Math.ceil(RUNS / 2)), current);
  const floor = slow.critical.roundTrips * LATENCY_MS;
  results.rotationWithLatency = { latencyMs: LATENCY_MS, floorMs: floor, ...slow };
  section(
    `The same rotation with ${LATENCY_MS} ms added to every request (${current.name})`,
    [
      markdownTable(
        ['wall time', 'sequential round trips', `floor (round trips × ${LATENCY_MS} ms)`, 'wall − floor'],
        [[formatStats(slow.wallMs, 'ms'), String(slow.critical.roundTrips), `${floor} ms`, `${(slow.wallMs.median - floor).toFixed(0)} ms`]],
      ),
      '',
      `Critical path: ${slow.critical.actions.join(' → ')}.`,
    ].join('\n'),
  );
}

async function awsCliComparison(moto: MotoHandle, plainRotation: RotationFigures | undefined): Promise<void> {
  const runtime = await provisionMoto();
  const aws = runtime.awsCommand.join(' ');
  const walls: number[] = [];
  const runs = Math.max(3, Math.ceil(RUNS / 2));
  for (let i = 0; i < runs; i++) {
    const user = await createUserWithKey(moto.endpoint, uniqueName('benchcli'));
    const home = await makeHome({ credentials: credentialsFile({ work: user }) });
    try {
      const env = pythonEnv(runtime, { ...home.env, AWS: aws, PROFILE: 'work', ENDPOINT: moto.endpoint, AWS_PAGER: '' });
      const run = await measure('bash', [join(HERE, 'aws-cli-rotate.sh')], env);
      if (run.code !== 0) throw new Error(`the aws CLI script failed (exit ${run.code}):\n${run.stderr}`);
      walls.push(run.wallMs);
    } finally {
      await home.cleanup();
    }
  }
  const script = stats(walls);
  results.awsCliRotation = script;
  const ours = plainRotation?.wallMs;
  section(
    'For comparison: the same rotation as a bash script of `aws` CLI calls',
    [
      markdownTable(
        ['tool', 'wall time', 'processes started'],
        [
          ['bench/aws-cli-rotate.sh (Debian awscli v2, 8 calls)', formatStats(script, 'ms'), '8'],
          ...(ours ? [['aws-rekey (verifies, journals, edits losslessly)', formatStats(ours, 'ms'), '1']] : []),
        ],
      ),
      ours ? `\naws-rekey is ${(script.median / ours.median).toFixed(1)}× faster than the script.` : '',
    ].join('\n'),
  );
}

/** Creates users u00000… (one key each) until the account has `total`, 32 requests in flight. */
async function seedUsers(endpoint: string, from: number, total: number): Promise<void> {
  const iam = iamClient(endpoint);
  let next = from;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < total) {
        const userName = `u${String(next++).padStart(5, '0')}`;
        await iam.send(new CreateUserCommand({ UserName: userName }));
        await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
      }
    }),
  );
  iam.destroy();
}

interface AuditFigures {
  users: number;
  source: string;
  wallMs: Stats;
  requests: Record<string, number>;
  requestTotal: number;
  keys: number;
}

async function auditRun(proxy: FaultProxy, users: number, source: 'report' | 'api', runs: number): Promise<AuditFigures> {
  const home = await makeHome({ endpoint: proxy.endpoint, credentials: credentialsFile({ admin: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'testing' } }) });
  try {
    const walls: number[] = [];
    let requests: Record<string, number> = {};
    let keys = 0;
    for (let i = 0; i < runs; i++) {
      proxy.log.length = 0;
      const run = await measure(NODE, [BIN, 'audit', '--profile', 'admin', '--source', source, '--json'], home.env);
      if (run.code !== 0) throw new Error(`audit --source ${source} failed (exit ${run.code}):\n${run.stderr}`);
      const doc = JSON.parse(run.stdout) as { summary: { keys: number; users: number }; source: string };
      if (doc.summary.users < users) throw new Error(`audit saw ${doc.summary.users} users, expected ${users}`);
      keys = doc.summary.keys;
      walls.push(run.wallMs);
      requests = countByAction(proxy.log);
    }
    return { users, source, wallMs: stats(walls), requests, requestTotal: Object.values(requests).reduce((a, b) => a + b, 0), keys };
  } finally {
    await home.cleanup();
  }
}

async function awsCliAudit(endpoint: string, sample: number): Promise<{ perUserMs: Stats; reportMs: Stats }> {
  const runtime = await provisionMoto();
  const home = await makeHome({ credentials: credentialsFile({ admin: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'testing' } }) });
  try {
    const env = pythonEnv(runtime, { ...home.env, AWS: runtime.awsCommand.join(' '), PROFILE: 'admin', ENDPOINT: endpoint, AWS_PAGER: '', SAMPLE: String(sample) });
    const perUser: number[] = [];
    const report: number[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await measure('bash', [join(HERE, 'aws-cli-audit.sh'), 'per-user'], env);
      if (a.code !== 0) throw new Error(`aws-cli-audit.sh per-user failed:\n${a.stderr}`);
      perUser.push(a.wallMs / sample);
      const b = await measure('bash', [join(HERE, 'aws-cli-audit.sh'), 'report'], env);
      if (b.code !== 0) throw new Error(`aws-cli-audit.sh report failed:\n${b.stderr}`);
      report.push(b.wallMs);
    }
    return { perUserMs: stats(perUser), reportMs: stats(report) };
  } finally {
    await home.cleanup();
  }
}

async function auditSections(): Promise<void> {
  const sizes = (process.env.BENCH_AUDIT_USERS ?? '1000,10000').split(',').map(Number);
  const moto = await startMoto({ mode: 'server' });
  const proxy = await startFaultProxy(moto.endpoint);
  const rows: string[][] = [];
  const figures: AuditFigures[] = [];
  let seeded = 0;
  let cli: { perUserMs: Stats; reportMs: Stats } | undefined;
  try {
    for (const size of sizes) {
      const seedStart = Date.now();
      await seedUsers(moto.endpoint, seeded, size);
      seeded = size;
      process.stderr.write(`bench: seeded ${size} users in ${((Date.now() - seedStart) / 1000).toFixed(0)} s\n`);
      const runs = size > 2000 ? 1 : 3;
      for (const source of ['report', 'api'] as const) {
        const f = await auditRun(proxy, size, source, source === 'api' ? 1 : runs);
        figures.push(f);
        const perUser = (f.requestTotal / size).toFixed(2);
        rows.push([String(size), source === 'report' ? 'credential report' : 'per-user calls', formatStats(f.wallMs, 'ms'), `${f.wallMs.runs}`, `${f.requestTotal} (${perUser}/user)`, Object.entries(f.requests).map(([a, n]) => `${a} ${n}`).join(', ')]);
      }
      cli ??= await awsCliAudit(moto.endpoint, 20);
    }
  } finally {
    await proxy.stop();
    await moto.stop();
  }
  results.audit = figures;
  results.awsCliAudit = cli;
  section(
    'Audit of a whole account',
    [
      markdownTable(['users', 'source', 'wall time', 'runs', 'requests', 'by action'], rows),
      '',
      cli
        ? `For comparison, bench/aws-cli-audit.sh (Debian awscli v2): per user (\`aws iam list-access-keys\` and one \`get-access-key-last-used\`), ${formatStats(cli.perUserMs, 'ms')} per user, measured on 20 users — for 1,000 users about ${((cli.perUserMs.median * 1000) / 60000).toFixed(0)} min; the credential report (generate, get) ${formatStats(cli.reportMs, 'ms')}.`
        : '',
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  const only = new Set(process.argv.slice(2));
  const wants = (name: string) => only.size === 0 || only.has(name);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const list = wants('startup') || wants('rotation') ? targets() : [];
  if (wants('startup')) await startup(list);
  const moto = await startMoto({ mode: 'server' });
  const proxy = await startFaultProxy(moto.endpoint);
  try {
    if (wants('rotation')) await rotationSections(moto, proxy, list);
    if (wants('aws-cli')) await awsCliComparison(moto, results.rotation as RotationFigures | undefined);
  } finally {
    await proxy.stop();
    await moto.stop();
  }
  if (wants('audit')) await auditSections();
  const markdown = `# aws-rekey benchmark\n\n${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${RUNS} runs per figure unless stated; median (min–max).\n\n${report.join('\n')}`;
  process.stdout.write(markdown);
  await mkdir(HERE, { recursive: true });
  await writeFile(join(HERE, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(HERE, 'results.md'), markdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
