// `npm run bench`: how fast aws-rekey is, against moto on loopback. Prints a markdown report and writes
// bench/results.json. Each figure is the median of several runs, with min–max. See bench/README.md.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFaultProxy, type FaultProxy } from '../test/support/fault-proxy.js';
import { BIN, credentialsFile, makeHome } from '../test/support/cli.js';
import { CreateAccessKeyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { createUserWithKey, iamClient, listKeys, uniqueName } from '../test/support/iam.js';
import { provisionMoto, pythonEnv, startMoto, type MotoHandle } from '../test/support/moto.js';
import { countByAction, criticalPath, formatStats, markdownTable, measure, stats, type CriticalPath, type Stats } from './lib.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const NODE = process.execPath;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const LATENCY_MS = 100;

interface RotationFigures {
  wallMs: Stats;
  cpuMs: Stats;
  maxRssMb: Stats;
  requests: Record<string, number>;
  requestTotal: number;
  critical: CriticalPath;
  /** Wall time minus the time the critical path spent in the network and in moto. */
  localOverheadMs: Stats;
}

const report: string[] = [];
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, runs: RUNS };

function section(title: string, body: string): void {
  report.push(`## ${title}\n\n${body}\n`);
  process.stderr.write(`bench: ${title} done\n`);
}

async function startup(): Promise<void> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  const commands: Array<[string, string[]]> = [
    ['node -e 0', ['-e', '0']],
    ['aws-rekey --version', [BIN, '--version']],
    ['aws-rekey --help', [BIN, '--help']],
  ];
  const times = new Map<string, number[]>(commands.map(([name]) => [name, []]));
  // Interleaved, after one warm-up round, so that a busy machine weighs on all three alike.
  for (let round = 0; round <= RUNS * 2; round++) {
    for (const [name, args] of commands) {
      const run = await measure(NODE, args, env);
      if (run.code !== 0) throw new Error(`${name} failed: ${run.stderr}`);
      if (round > 0) times.get(name)?.push(run.wallMs);
    }
  }
  const base = stats(times.get('node -e 0') ?? []);
  const rows = commands.map(([name]) => {
    const s = stats(times.get(name) ?? []);
    return [name, formatStats(s, 'ms'), `${(s.median / base.median).toFixed(2)}×`];
  });
  const sdkLoaded = await modulesLoaded(['--version']).then(async (v) => [v, await modulesLoaded(['--help'])]);
  results.startup = Object.fromEntries(commands.map(([name]) => [name, stats(times.get(name) ?? [])]));
  results.startupSdkModules = { version: sdkLoaded[0], help: sdkLoaded[1] };
  section(
    'Start-up',
    `${markdownTable(['command', 'wall time', 'vs node -e 0'], rows)}\n\nAWS SDK modules loaded: --version ${sdkLoaded[0]}, --help ${sdkLoaded[1]}. Target: --version within 1.3× of \`node -e 0\`, no SDK.`,
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

async function rotation(moto: MotoHandle, proxy: FaultProxy, latencyMs: number, runs: number): Promise<RotationFigures> {
  proxy.setLatency(latencyMs);
  const walls: number[] = [];
  const cpus: number[] = [];
  const rss: number[] = [];
  const overheads: number[] = [];
  let requests: Record<string, number> = {};
  let critical: CriticalPath = { roundTrips: 0, networkMs: 0, actions: [] };
  for (let i = 0; i < runs; i++) {
    const user = await createUserWithKey(moto.endpoint, uniqueName('bench'));
    const home = await makeHome({ endpoint: proxy.endpoint, credentials: credentialsFile({ work: user }) });
    try {
      proxy.log.length = 0;
      const run = await measure(NODE, [BIN, '--profile', 'work', '--yes', '--verify-successes', '1'], home.env, { probe: true });
      if (run.code !== 0) throw new Error(`rotation failed (exit ${run.code}):\n${run.stderr}`);
      const keys = await listKeys(moto.endpoint, user.userName);
      if (keys.filter((k) => k.status === 'Active').length !== 1) throw new Error('rotation did not leave exactly one active key');
      walls.push(run.wallMs);
      cpus.push(run.cpuMs ?? 0);
      rss.push((run.maxRssKb ?? 0) / 1024);
      requests = countByAction(proxy.log);
      critical = criticalPath(proxy.log);
      overheads.push(run.wallMs - critical.networkMs);
    } finally {
      await home.cleanup();
    }
  }
  proxy.setLatency(0);
  return {
    wallMs: stats(walls),
    cpuMs: stats(cpus),
    maxRssMb: stats(rss),
    requests,
    requestTotal: Object.values(requests).reduce((a, b) => a + b, 0),
    critical,
    localOverheadMs: stats(overheads),
  };
}

async function rotationSections(moto: MotoHandle, proxy: FaultProxy): Promise<void> {
  const plain = await rotation(moto, proxy, 0, RUNS);
  results.rotation = plain;
  section(
    'One self-rotation (loopback, `--verify-successes 1`)',
    [
      markdownTable(
        ['wall time', 'CPU time', 'peak memory', 'requests', 'sequential round trips', 'local overhead (wall − network)'],
        [[formatStats(plain.wallMs, 'ms'), formatStats(plain.cpuMs, 'ms'), formatStats(plain.maxRssMb, 'MiB'), String(plain.requestTotal), String(plain.critical.roundTrips), formatStats(plain.localOverheadMs, 'ms')]],
      ),
      '',
      `Requests by action: ${Object.entries(plain.requests).map(([a, n]) => `${a} ${n}`).join(', ')}.`,
      `Critical path: ${plain.critical.actions.join(' → ')}.`,
    ].join('\n'),
  );

  const slow = await rotation(moto, proxy, LATENCY_MS, Math.max(3, Math.ceil(RUNS / 2)));
  const floor = slow.critical.roundTrips * LATENCY_MS;
  results.rotationWithLatency = { latencyMs: LATENCY_MS, floorMs: floor, ...slow };
  section(
    `The same rotation with ${LATENCY_MS} ms added to every request`,
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
  if (wants('startup')) await startup();
  const moto = await startMoto({ mode: 'server' });
  const proxy = await startFaultProxy(moto.endpoint);
  try {
    if (wants('rotation')) await rotationSections(moto, proxy);
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
