'use strict';
// Runs the CLI bundle (dist/bundle/cli.cjs, or the single executable's copy of it) with V8's code cache of an earlier
// run. Compiling the bundle's ~1 MB of JavaScript that a run uses is most of its start-up. Node's own compile cache
// (Node 22+) saves only what V8 compiles before the code runs, a small part; a cache made at the end of a run
// (script.createCachedData()) also holds every function the run compiled lazily, and works on Node 20 too. One cache
// per command, since each runs other code.
//
// The cache lives in the user's own cache folder, never in a shared one, since a process that handles secrets would
// run whatever bytecode it finds there: the folders are made 0700 and checked without following links (owner, type,
// mode), a cache file is read only through a handle that is a regular file of ours, mode 0600, and written to a new
// temp file (O_EXCL|O_NOFOLLOW) renamed over it. V8 itself rejects a cache made by another V8, other flags or a
// source of another length; it does not check the bytes it deserialises (a corrupt payload aborts the process), so
// each file starts with the SHA-256 of the rest, and one that does not match is ignored. Whatever goes wrong with the
// cache, the run goes on without it.
const { createHash, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const DIGEST_BYTES = 32;
const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
// O_NONBLOCK: a named pipe planted there would otherwise hang the run until someone writes to it.
const READ_FLAGS = fs.constants.O_RDONLY | NOFOLLOW | (fs.constants.O_NONBLOCK ?? 0);
const NEW_FILE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NOFOLLOW;
/** Far above any real cache (about 2 MB): a bigger file is not ours to read into memory. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;

/** `${XDG_CACHE_HOME:-~/.cache}/aws-rekey/code-cache`, the folder the caches go to. */
function defaultCacheDir(env = process.env) {
  const home = env.XDG_CACHE_HOME || join(require('node:os').homedir(), '.cache');
  return join(home, 'aws-rekey', 'code-cache');
}

/**
 * What starts a cache file's name: `sea-` for the single executable's caches, nothing for the npm package's. Each
 * removes only the stale caches of its own kind: were they one kind, a single executable and an npm install of
 * another version, sharing the folder, would each remove the other's cache on every run.
 */
function kindPrefix(kind) {
  return kind ? `${kind}-` : '';
}

/**
 * The cache file's name: the kind of aws-rekey (`sea` or the package's ''), the bundle's content hash (written by
 * the build), the Node version and platform, the flags V8 runs with, and the command. A cache of another bundle,
 * Node or flag set is another file, never a rejected one.
 */
function cacheFileName(bundleHash, command, kind = '') {
  const flags = createHash('sha256').update(`${process.execArgv.join(' ')}\n${process.env.NODE_OPTIONS ?? ''}`).digest('hex').slice(0, 8);
  const safeCommand = /^[a-z][a-z-]{0,31}$/.test(command) ? command : 'other';
  return `${kindPrefix(kind)}${bundleHash.slice(0, 16)}-${process.version}-${process.platform}-${process.arch}-${flags}-${safeCommand}.bin`;
}

/**
 * A folder of ours, made (0700) if there is none: a real folder (not a link), owned by the running user, and for
 * the cache folder itself open to nobody else. mkdir without `recursive` never goes through a link planted there.
 */
function ownFolder(path, { exact }) {
  let info;
  try {
    info = fs.lstatSync(path);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
    fs.mkdirSync(path, { mode: 0o700 });
    info = fs.lstatSync(path);
  }
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) return false;
  return !exact || (info.mode & 0o077) === 0;
}

/**
 * Makes `<cache home>/aws-rekey/code-cache` if needed; false when either of our two folders is not fit. The cache
 * home itself (XDG_CACHE_HOME, ~/.cache) is the user's: made if missing, taken as it is.
 */
function prepareFolder(dir) {
  const ours = dirname(dir);
  fs.mkdirSync(dirname(ours), { recursive: true, mode: 0o700 });
  return ownFolder(ours, { exact: false }) && ownFolder(dir, { exact: true });
}

/**
 * After a cache is written: the caches of other bundles of the same kind (an earlier install) and temp files a killed
 * run left, so that the folder holds one cache per command and Node version of the installed aws-rekey.
 */
function removeStale(dir, bundleHash, kind) {
  const ownKind = kindPrefix(kind);
  const current = `${ownKind}${bundleHash.slice(0, 16)}-`;
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(ownKind)) continue;
    const rest = name.slice(ownKind.length);
    const cache = /^[0-9a-f]{16}-.+\.bin$/.test(rest) && !name.startsWith(current);
    const temp = /^[0-9a-f]{16}-.+\.bin\.\d+\.[0-9a-f]{12}\.tmp$/.test(rest) && Date.now() - fs.lstatSync(join(dir, name)).mtimeMs > 60 * 60 * 1000;
    // unlink removes a link itself, never what it points to.
    if (cache || temp) fs.unlinkSync(join(dir, name));
  }
}

/** The payload of a cache file, if it is a regular file of ours, mode 0600, whose digest matches. */
function readCache(path) {
  let fd;
  try {
    fd = fs.openSync(path, READ_FLAGS);
  } catch {
    return undefined;
  }
  try {
    const info = fs.fstatSync(fd);
    const uid = process.getuid?.();
    if (!info.isFile() || (uid !== undefined && info.uid !== uid) || (info.mode & 0o077) !== 0) return undefined;
    if (info.size <= DIGEST_BYTES || info.size > MAX_CACHE_BYTES) return undefined;
    const bytes = Buffer.allocUnsafe(info.size);
    let read = 0;
    while (read < info.size) {
      const n = fs.readSync(fd, bytes, read, info.size - read, read);
      if (n === 0) return undefined;
      read += n;
    }
    const payload = bytes.subarray(DIGEST_BYTES);
    const digest = createHash('sha256').update(payload).digest();
    return digest.equals(bytes.subarray(0, DIGEST_BYTES)) ? payload : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes the cache: digest + payload to a new temp file (0600, synced), renamed over the old one; true when done. */
function writeCache(path, payload) {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let fd;
  try {
    fd = fs.openSync(temp, NEW_FILE_FLAGS, 0o600);
    fs.writeSync(fd, createHash('sha256').update(payload).digest());
    fs.writeSync(fd, payload);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, path);
    return true;
  } catch {
    if (fd !== undefined) fs.closeSync(fd);
    try {
      fs.unlinkSync(temp);
    } catch {
      // Never created, or already renamed.
    }
    return false;
  }
}

/**
 * Loads the bundle (a CommonJS module wrapped in a function expression by the build, ASCII only) and returns its
 * exports, with `cache`: 'hit' (V8 took the cache), 'miss' (none, or ignored), 'rejected' (V8 refused it), 'off'; and
 * `save()`, which writes the cache after a miss or a rejection (call it when the run is over: it then holds every
 * function the run compiled). Neither throws because of the cache.
 *
 * `file` is the bundle's path, read unless `source` gives its text (the single executable's asset: `file` then only
 * names it, as `__filename` and in stack traces); `require` is the bundle's, by default one that resolves from `file`.
 * `kind` names the caches of another kind of aws-rekey (cacheFileName).
 */
function loadBundle(file, { source, require: bundleRequire, bundleHash, command, kind = '', cacheDir = defaultCacheDir(), enabled = true }) {
  let cachePath;
  let cachedData;
  if (enabled && bundleHash) {
    try {
      if (prepareFolder(cacheDir)) {
        cachePath = join(cacheDir, cacheFileName(bundleHash, command, kind));
        cachedData = readCache(cachePath);
      }
    } catch {
      cachePath = undefined;
    }
  }
  // latin1: the build keeps the bundle ASCII, and Node reads a large latin1 file into a string outside V8's heap.
  const script = new vm.Script(source ?? fs.readFileSync(file, 'latin1'), {
    filename: file,
    cachedData,
    // The bundle's import() of Node's own modules (Node 20.12+ has the constant; older Node takes the function).
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((specifier) => import(specifier)),
  });
  const cache = !cachePath ? 'off' : !cachedData ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
  const module = { exports: {} };
  script.runInThisContext()(module.exports, bundleRequire ?? createRequire(file), module, file, dirname(file));
  const save = () => {
    if (cache !== 'miss' && cache !== 'rejected') return;
    try {
      if (writeCache(cachePath, script.createCachedData())) removeStale(cacheDir, bundleHash, kind);
    } catch {
      // A run never fails because of its cache.
    }
  };
  return { exports: module.exports, cache, save };
}

module.exports = { loadBundle, defaultCacheDir, cacheFileName };
