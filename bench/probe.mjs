// Preloaded into the CLI by the benchmark (`node --import ./bench/probe.mjs bin/aws-rekey …`): records the
// process's CPU time and peak memory, every module it loads, and a timeline of its start-up, file system
// calls and HTTP requests, into the files named by the environment. Nothing here changes what the CLI does.
import { writeFileSync } from 'node:fs';
import fs from 'node:fs';
import { register, syncBuiltinESMExports } from 'node:module';
import { subscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';

const usageFile = process.env.AWS_REKEY_BENCH_USAGE;
const modulesFile = process.env.AWS_REKEY_BENCH_MODULES;
const timelineFile = process.env.AWS_REKEY_BENCH_TIMELINE;

if (modulesFile) {
  // Module hooks run on their own thread; appending synchronously there loses nothing when the CLI exits.
  const hooks = `
    import { appendFileSync } from 'node:fs';
    let file;
    export function initialize(data) { file = data.file; }
    export async function resolve(specifier, context, next) {
      const result = await next(specifier, context);
      appendFileSync(file, result.url + '\\n');
      return result;
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { file: modulesFile } });
}

if (usageFile) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(usageFile, JSON.stringify({ userMs: usage.userCPUTime / 1000, systemMs: usage.systemCPUTime / 1000, maxRssKb: usage.maxRSS }));
  });
}

if (timelineFile) {
  // Times are milliseconds since the Unix epoch (performance.timeOrigin + now), comparable with the
  // benchmark's own clock and the fault proxy's request log.
  const at = () => performance.timeOrigin + performance.now();
  const events = [];
  const open = new Map();
  subscribe('http.client.request.start', ({ request }) => open.set(request, at()));
  // Connections opened (a TCP socket each; through an HTTPS proxy, one CONNECT tunnel and TLS session each).
  subscribe('net.client.socket', () => events.push({ kind: 'socket', name: 'connect', start: at(), end: at() }));
  subscribe('http.client.response.finish', ({ request }) => {
    events.push({ kind: 'request', name: `${request.method} ${request.host ?? ''}`, start: open.get(request) ?? at(), end: at() });
  });
  const pathOf = (arg) => (typeof arg === 'string' ? arg : arg instanceof URL ? arg.pathname : undefined);
  // What each FileHandle was opened on, so that its calls (sync, stat, writeFile…) are counted for that file.
  const handlePaths = new WeakMap();
  // The file system calls the CLI makes (promises API, and the callback API that proper-lockfile uses).
  const wrapPromise = (target, name, label) => {
    const original = target[name];
    if (typeof original !== 'function') return;
    target[name] = async function (...args) {
      const start = at();
      const path = target === fs.promises ? pathOf(args[0]) : handlePaths.get(this);
      try {
        const result = await original.apply(this, args);
        if (name === 'open' && target === fs.promises && path !== undefined) handlePaths.set(result, path);
        return result;
      } finally {
        events.push({ kind: 'fs', name: label, path, start, end: at() });
      }
    };
  };
  const wrapCallback = (target, name) => {
    const original = target[name];
    if (typeof original !== 'function') return;
    target[name] = function (...args) {
      const callback = args[args.length - 1];
      if (typeof callback !== 'function') return original.apply(this, args);
      const start = at();
      args[args.length - 1] = function (...results) {
        events.push({ kind: 'fs', name, path: pathOf(args[0]), start, end: at() });
        return callback.apply(this, results);
      };
      return original.apply(this, args);
    };
  };
  // FileHandle methods (write, sync, close) live on a prototype we reach through one handle.
  const handle = await fs.promises.open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(handle);
  await handle.close();
  for (const name of ['open', 'readFile', 'writeFile', 'appendFile', 'rename', 'mkdir', 'stat', 'lstat', 'realpath', 'unlink', 'rm', 'rmdir', 'copyFile', 'chmod', 'readdir', 'access', 'utimes', 'link', 'readlink']) {
    wrapPromise(fs.promises, name, name);
    wrapCallback(fs, name);
  }
  for (const name of ['sync', 'datasync', 'writeFile', 'write', 'readFile', 'close', 'chmod', 'stat']) wrapPromise(proto, name, `handle.${name}`);
  syncBuiltinESMExports();
  process.on('exit', () => {
    writeFileSync(timelineFile, JSON.stringify({ origin: performance.timeOrigin, bootstrapComplete: performance.timeOrigin + performance.nodeTiming.bootstrapComplete, exit: at(), events }));
  });
}
