// Preloaded into the CLI by the benchmark (`node --import ./bench/probe.mjs bin/aws-rekey …`): records the
// process's CPU time and peak memory, every module it loads, and a timeline of its start-up, file system
// calls and HTTP requests, into the files named by the environment. Nothing here changes what the CLI does.
import fs from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { register, syncBuiltinESMExports } from 'node:module';
import { subscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';

// The probe's own writes, made with the call as it was before the wrapping below.
const writeFileSync = fs.writeFileSync;
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
  // The synchronous calls (src/credentials/local-fs.ts makes the CLI's own file calls with them), counted under the
  // names of their promise counterparts; a call on a descriptor counts for the file it was opened on. Node's loader
  // and the code cache (bin/code-cache.js) use them too: their files (the package's own, the cache) are not counted.
  const packageRoot = dirname(dirname(fs.realpathSync(process.argv[1] ?? '.')));
  const cacheFolder = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'aws-rekey');
  const notTheCli = (path) => path !== undefined && !path.startsWith(packageRoot + sep) && path !== dirname(cacheFolder) && !(path + sep).startsWith(cacheFolder + sep);
  const fdPaths = new Map();
  const wrapSync = (target, name, label) => {
    const original = target[name];
    if (typeof original !== 'function') return;
    const wrapped = function (...args) {
      const fd = typeof args[0] === 'number' ? args[0] : undefined;
      const path = fd === undefined ? pathOf(args[0]) : fdPaths.get(fd);
      if (!notTheCli(path)) return original.apply(this, args);
      const start = at();
      try {
        const result = original.apply(this, args);
        if (name === 'openSync') fdPaths.set(result, path);
        return result;
      } finally {
        if (name === 'closeSync') fdPaths.delete(fd);
        events.push({ kind: 'fs', name: fd === undefined ? label : `handle.${label}`, path, start, end: at() });
      }
    };
    Object.assign(wrapped, original);
    target[name] = wrapped;
  };
  for (const name of ['open', 'readFile', 'writeFile', 'rename', 'mkdir', 'stat', 'lstat', 'unlink', 'rm', 'rmdir', 'copyFile', 'chmod', 'readdir', 'access', 'utimes', 'link', 'readlink', 'lchown', 'close']) {
    wrapSync(fs, `${name}Sync`, name);
  }
  for (const [name, label] of [['fstatSync', 'stat'], ['fsyncSync', 'sync'], ['fchmodSync', 'chmod'], ['fchownSync', 'chown']]) wrapSync(fs, name, label);
  wrapSync(fs.realpathSync, 'native', 'realpath');
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
