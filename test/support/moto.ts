import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * moto, a real IAM/STS implementation, run on loopback for the integration tests
 * (see DESIGN.md "Testing against a real IAM"). scripts/provision-moto.sh makes it available to Debian's
 * own python without PyPI; this file starts and stops it.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PROVISION_SCRIPT = join(ROOT, 'scripts', 'provision-moto.sh');
/** Debian's interpreter: the `python3` first on PATH may be another one without the packages. */
export const PYTHON = '/usr/bin/python3';
const START_TIMEOUT_MS = 30_000;
const STDERR_KEEP = 16_384;

export interface MotoRuntime {
  /** PYTHONPATH for PYTHON (the provisioned packages, and test/support/python when needed); '' when the system python has it all. */
  pythonPath: string;
  /** argv that runs the AWS CLI (append its arguments). */
  awsCommand: string[];
}

let provisioning: Promise<MotoRuntime> | undefined;

/** Runs scripts/provision-moto.sh once per process (instant when already provisioned). */
export function provisionMoto(): Promise<MotoRuntime> {
  provisioning ??= new Promise<MotoRuntime>((resolvePromise, reject) => {
    execFile('bash', [PROVISION_SCRIPT], { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${PROVISION_SCRIPT} failed (${error.message.split('\n')[0]}):\n${stderr}`));
        return;
      }
      const sitePath = stdout.trim().split('\n').pop() ?? '';
      const awsCommand = sitePath ? [PYTHON, join(sitePath, '..', '..', '..', 'bin', 'aws')] : ['/usr/bin/aws'];
      resolvePromise({ pythonPath: withStandIns(sitePath), awsCommand });
    });
  });
  // A failure is not cached: a later call tries again (and says why again).
  provisioning.catch(() => {
    provisioning = undefined;
  });
  return provisioning;
}

/** Python modules that moto imports but no test uses, for when Debian cannot provide them (see its README.md). */
const PYTHON_STAND_INS = join(ROOT, 'test', 'support', 'python');

/** `sitePath`, plus the stand-ins when the real openapi_spec_validator is not importable (moto's CloudFormation needs it). */
function withStandIns(sitePath: string): string {
  const check = spawnSync(PYTHON, ['-c', 'import openapi_spec_validator'], {
    env: pythonEnv({ pythonPath: sitePath, awsCommand: [] }, process.env),
    stdio: 'ignore',
  });
  return check.status === 0 ? sitePath : [sitePath, PYTHON_STAND_INS].filter(Boolean).join(':');
}

/** `env` plus what Debian's python needs to find the provisioned packages (and nothing of a pyenv/virtualenv). */
export function pythonEnv(runtime: MotoRuntime, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, PYTHONNOUSERSITE: '1' };
  delete out.PYTHONHOME;
  delete out.VIRTUAL_ENV;
  if (runtime.pythonPath) out.PYTHONPATH = runtime.pythonPath;
  else delete out.PYTHONPATH;
  return out;
}

export interface MotoHandle {
  /** server mode: http://127.0.0.1:PORT, the endpoint to give clients. proxy mode: same as proxyUrl. */
  endpoint: string;
  port: number;
  /** proxy mode: moto's CA certificate (moto/moto_proxy/ca.crt), for AWS_CA_BUNDLE / the agent's `ca`. */
  caBundle?: string;
  /** proxy mode: http://127.0.0.1:PORT, for HTTPS_PROXY. */
  proxyUrl?: string;
  /** Everything moto wrote to stderr so far (bounded: the last 16 KiB). */
  stderr(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolvePromise(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * Runs the module as `python3 -m MODULE ARGS`, and makes the process exit when its stdin closes, i.e. when
 * this (node) process dies, however it dies: no moto is left behind by a killed test run.
 */
const LAUNCHER = `
import os, runpy, sys, threading
def _watch():
    try:
        while sys.stdin.buffer.read(65536):
            pass
    finally:
        os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
if os.environ.get("AWS_REKEY_MOTO_SEED"):
    runpy.run_path(os.environ["AWS_REKEY_MOTO_SEED"], run_name="__seed__")
module = sys.argv[1]
sys.argv = [module] + sys.argv[2:]
runpy.run_module(module, run_name="__main__", alter_sys=True)
`;

/** Any HTTP answer at all on PORT (Host localhost:PORT, which the proxy routes to its own moto-api); /moto-api/config is cheap, unlike data.json, which serialises every backend (seconds with thousands of users). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'GET', path: '/moto-api/config', headers: { host: `localhost:${port}` }, timeout: 2_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolvePromise(true));
        res.on('error', () => resolvePromise(true));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolvePromise(false));
    req.end();
  });
}

function caBundlePath(runtime: MotoRuntime): string {
  const run = spawnSync(PYTHON, ['-c', 'import os, moto.moto_proxy as p; print(os.path.join(os.path.dirname(p.__file__), "ca.crt"))'], {
    env: pythonEnv(runtime, process.env),
    encoding: 'utf8',
  });
  const path = run.stdout?.trim();
  if (run.status !== 0 || !path) throw new Error(`cannot locate moto's proxy CA certificate:\n${run.stderr}`);
  return path;
}

export interface StartMotoOptions {
  mode?: 'server' | 'proxy';
  /**
   * A Python script run inside moto's process before it serves, to seed its backends directly (bench/moto-seed.py:
   * thousands of users in seconds instead of minutes of requests), and its arguments (JSON, AWS_REKEY_MOTO_SEED_ARGS).
   */
  seed?: { script: string; args: unknown };
  /** How long moto may take to answer (default 30 s; a big seed needs more). */
  startTimeoutMs?: number;
}

async function startOnce(runtime: MotoRuntime, options: StartMotoOptions, port: number): Promise<MotoHandle> {
  const mode = options.mode ?? 'server';
  const module = mode === 'server' ? 'moto.server' : 'moto.proxy';
  const seedEnv = options.seed ? { AWS_REKEY_MOTO_SEED: options.seed.script, AWS_REKEY_MOTO_SEED_ARGS: JSON.stringify(options.seed.args) } : {};
  const startTimeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  const child: ChildProcess = spawn(PYTHON, ['-c', LAUNCHER, module, '-H', '127.0.0.1', '-p', String(port)], {
    env: pythonEnv(runtime, { ...process.env, PYTHONUNBUFFERED: '1', NO_COLOR: '1', ...seedEnv }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-STDERR_KEEP);
  };
  // Always drained: moto logs every request, and a full pipe would block it.
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.stdin?.on('error', () => {});
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exitPromise = new Promise<void>((resolveExit) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolveExit();
    });
    child.on('error', (error) => {
      spawnError = error;
      exited ??= { code: null, signal: null };
      resolveExit();
    });
  });

  const stop = async () => {
    if (exited) return;
    child.stdin?.end();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exitPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (exited) {
      const how = spawnError ? spawnError.message : `exit code ${exited.code}${exited.signal ? `, signal ${exited.signal}` : ''}`;
      throw new Error(`moto (${module} on 127.0.0.1:${port}) did not start (${how}). Its output:\n${output}`);
    }
    if (await answers(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto (${module} on 127.0.0.1:${port}) did not answer within ${startTimeoutMs / 1000} s. Its output:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const url = `http://127.0.0.1:${port}`;
  const handle: MotoHandle = { endpoint: url, port, stderr: () => output, stop };
  if (mode === 'proxy') {
    handle.proxyUrl = url;
    try {
      handle.caBundle = caBundlePath(runtime);
    } catch (error) {
      await stop();
      throw error;
    }
  }
  return handle;
}

/**
 * Starts moto on a free loopback port: `server` (default) answers every service at http://127.0.0.1:PORT;
 * `proxy` is an HTTPS proxy that answers for the real AWS host names with certificates signed by `caBundle`.
 * The two are separate processes with separate state.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoHandle> {
  const mode = options.mode ?? 'server';
  const runtime = await provisionMoto();
  if (mode === 'proxy' && spawnSync('openssl', ['version']).status !== 0) {
    throw new Error('moto.proxy needs the `openssl` command (it creates its per-host certificates with it): apt-get install openssl');
  }
  let lastError: unknown;
  // A port picked as free can be taken before moto binds it: try another one then.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await startOnce(runtime, options, port);
    } catch (error) {
      lastError = error;
      if (!/address already in use/i.test(String(error))) break;
    }
  }
  throw lastError;
}

/** Forgets everything moto holds (users, keys, MFA devices…). Works for both modes: pass endpoint or proxyUrl. */
export async function resetMoto(endpoint: string): Promise<void> {
  const { hostname, port } = new URL(endpoint);
  await new Promise<void>((resolvePromise, reject) => {
    const req = http.request(
      // The proxy routes Host localhost:PORT to its moto-api; the server ignores the host for /moto-api.
      { host: hostname, port, method: 'POST', path: '/moto-api/reset', headers: { host: `localhost:${port}`, 'content-length': 0 }, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolvePromise() : reject(new Error(`moto reset: HTTP ${res.statusCode} ${body}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('moto reset: timeout')));
    req.on('error', reject);
    req.end();
  });
}
