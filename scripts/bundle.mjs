// Bundles the compiled CLI (dist/cli/main.js) into dist/bundle/cli.cjs, one CommonJS file run with V8's code cache
// (bin/code-cache.js). Loading one file is much faster than resolving and reading the AWS SDK's hundreds of
// modules; `--version`/`--help` are answered by bin/aws-rekey without loading it. dist/bundle/meta.json records
// which source modules went into the bundle (the benchmark reads it). scripts/package.mjs uses the same settings
// for the single executable's one-file CommonJS bundle.
//
// `--sourcemap` (npm run coverage): linked source maps that chain through tsc's own maps to src/*.ts, so
// that the V8 coverage of the CLI's child processes is counted against the TypeScript sources.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

/** dist/version.js reads package.json at run time; a bundle carries the version instead. */
const versionPlugin = {
  name: 'aws-rekey-version',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]version\.js$/ }, () => ({ contents: `export const version = ${JSON.stringify(version)};\n`, loader: 'js' }));
  },
};

/**
 * Node modules that a library of every run requires when it loads but calls only on a path a rotation does not take:
 * `child_process`, which commander requires for executable subcommands (we have none). Loading it, and what it
 * loads (dgram, net's socket list), cost every run CPU time; it is loaded on first use instead, through a proxy that
 * forwards every operation to the module. (`assert`, required the same way by signal-exit, is not in the list:
 * signal-exit calls it whenever a lock is taken.)
 */
const LAZY_BUILTINS = new Set(['child_process']);

/**
 * The proxy of a lazily loaded module. Its target is an arrow function (callable, with no non-configurable property
 * of its own), so that the module's keys and properties can be reported as they are.
 */
function lazyBuiltin(name) {
  return `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(`node:${name}`)}));
module.exports = new Proxy(() => {}, {
  apply: (_, self, args) => Reflect.apply(load(), self, args),
  get: (_, key) => (key === '__esModule' ? undefined : Reflect.get(load(), key)),
  set: (_, key, value) => Reflect.set(load(), key, value),
  has: (_, key) => Reflect.has(load(), key),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
    return descriptor && { ...descriptor, configurable: true };
  },
});
`;
}

/**
 * Node's own modules through require(), for the CommonJS bundle: esbuild keeps `import('node:x')` as it is, and the
 * bundle, compiled with vm.Script, has no ES module loader of its own (Node 20 warns that the one it can borrow is
 * experimental). As a bundled module that requires the built-in, the import becomes a lazy require. A static import
 * stays external: esbuild makes `import { readFile } from 'node:fs/promises'` a plain require, where a bundled
 * module's exports would be copied, getter by getter, for each module that imports it (100 copies a run).
 */
const builtinsByRequire = {
  name: 'aws-rekey-builtins-by-require',
  setup(build) {
    const bare = new RegExp(`^(node:.*|${builtinModules.map((name) => name.replace(/[/]/g, '\\/')).join('|')})$`);
    build.onResolve({ filter: bare }, ({ path, namespace, kind }) => {
      const name = path.replace(/^node:/, '');
      if (namespace === 'node-builtin' || (kind !== 'dynamic-import' && !LAZY_BUILTINS.has(name))) return { path, external: true };
      return { path: name, namespace: 'node-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, ({ path }) => ({ contents: LAZY_BUILTINS.has(path) ? lazyBuiltin(path) : `module.exports = require(${JSON.stringify(`node:${path}`)});\n`, loader: 'js' }));
  },
};

/** The names a compiled module imports from `specifier` (`import { A, B as C } from '…'`), or undefined for any other form. */
function importedNames(source, specifier) {
  const quoted = specifier.replace(/[/]/g, '\\/');
  if (new RegExp(`import\\s*(\\*|[\\w$]+)[^;]*from\\s*['"]${quoted}['"]|import\\(\\s*['"]${quoted}['"]`).test(source)) return undefined;
  const names = [...source.matchAll(new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*['"]${quoted}['"]`, 'g'))].flatMap((m) =>
    m[1].split(',').map((name) => name.trim().split(/\s+as\s+/)[0]).filter(Boolean),
  );
  return names.length ? names : undefined;
}

/** Every `export class|const|function NAME` of the .js files under `dir`, by name; a name defined twice maps to undefined. */
async function definitions(dir) {
  const files = new Map();
  for (const entry of await readdir(dir, { recursive: true })) {
    if (!entry.endsWith('.js')) continue;
    const source = await readFile(join(dir, entry), 'utf8');
    for (const [, name] of source.matchAll(/^export (?:class|const|let|var|function|async function) ([\w$]+)/gm)) {
      files.set(name, files.has(name) ? undefined : join(dir, entry));
    }
  }
  return files;
}

/**
 * An AWS SDK client's index re-exports every command, paginator and waiter of its service (IAM: 181 commands and 36
 * paginators). Our code reaches the clients through lazily imported modules, and esbuild keeps and runs every module
 * such an index re-exports, so a rotation ran ~230 modules' code for nothing. Each of our imports of a client package
 * instead gets a module that re-exports only the names it imports, from the files of the client that define them.
 * Anything else (a namespace import, a name not found) keeps the client's index.
 */
const sdkClientNarrowing = {
  name: 'aws-rekey-sdk-client-narrowing',
  setup(build) {
    const byPackage = new Map();
    build.onResolve({ filter: /^@aws-sdk\/client-[a-z0-9-]+$/ }, async ({ path, importer, resolveDir, kind, pluginData }) => {
      if (pluginData === 'index' || kind !== 'import-statement' || !importer.includes(`${sep}dist${sep}`)) return undefined;
      const names = importedNames(await readFile(importer, 'utf8'), path);
      const index = await build.resolve(path, { resolveDir, kind, pluginData: 'index' });
      if (!names || index.errors.length || !index.path.endsWith(`${sep}dist-es${sep}index.js`)) return undefined;
      if (!byPackage.has(index.path)) byPackage.set(index.path, definitions(dirname(index.path)));
      const files = await byPackage.get(index.path);
      const lines = names.map((name) => files.get(name) && `export { ${name} } from ${JSON.stringify(files.get(name))};`);
      if (lines.some((line) => !line)) return { path: index.path };
      return { path: `${path}:${names.join(',')}`, namespace: 'aws-sdk-client', pluginData: { contents: lines.join('\n'), resolveDir: dirname(index.path) } };
    });
    build.onLoad({ filter: /.*/, namespace: 'aws-sdk-client' }, ({ pluginData }) => ({ contents: pluginData.contents, resolveDir: pluginData.resolveDir, loader: 'js' }));
  },
};

/** What every bundle of the CLI shares. */
export const cliBundleOptions = {
  bundle: true,
  platform: 'node',
  // The SDK's ES module builds, so that the commands and models we never call are left out.
  mainFields: ['module', 'main'],
  logLevel: 'warning',
  plugins: [versionPlugin, sdkClientNarrowing],
};

/**
 * dist/bundle/cli.cjs: the whole CLI as one CommonJS file, wrapped in a function expression that bin/code-cache.js
 * compiles with vm.Script and V8's code cache of an earlier run (a cache made after a run holds the functions it
 * compiled lazily; Node's compile cache of ES modules holds only what was compiled before the code ran). ASCII only,
 * so that it is read as latin1 into a string outside V8's heap. dist/bundle/cli.json holds its SHA-256 (the code
 * cache's key) and the command names (a cache per command).
 */
export async function bundleCli({ sourcemap = false } = {}) {
  await rm('dist/bundle', { recursive: true, force: true });
  await mkdir('dist/bundle', { recursive: true });
  const result = await build({
    ...cliBundleOptions,
    entryPoints: { cli: 'dist/cli/main.js' },
    outfile: 'dist/bundle/cli.cjs',
    plugins: [...cliBundleOptions.plugins, builtinsByRequire],
    format: 'cjs',
    target: 'node20',
    metafile: true,
    sourcemap: sourcemap ? 'linked' : false,
    banner: { js: '(function (exports, require, module, __filename, __dirname) {' },
    footer: { js: '})' },
    write: false,
  });
  let sha256 = '';
  for (const file of result.outputFiles) {
    // esbuild escapes every non-ASCII character of the code (charset: ascii); some comments keep theirs.
    const text = file.path.endsWith('.cjs') ? file.text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : file.text;
    await writeFile(file.path, text);
    if (file.path.endsWith('.cjs')) sha256 = createHash('sha256').update(text).digest('hex');
  }
  await writeFile('dist/bundle/meta.json', JSON.stringify(result.metafile));
  const texts = await writeHelpTexts();
  const commands = [...new Set(Object.keys(texts).map((key) => key.split(' ')[0]).filter(Boolean))].sort();
  await writeFile('dist/bundle/cli.json', `${JSON.stringify({ sha256, commands })}\n`);
}

/**
 * dist/bundle/help.json: every command's `--help`, printed by the CLI itself (commander, through main()), so
 * that bin/aws-rekey (and the single executable, from its copy) answers `--help` in about the time of `--version`,
 * without loading the bundle.
 */
async function writeHelpTexts() {
  const { helpTexts } = await import('../dist/cli/help-texts.js');
  const texts = await helpTexts();
  await writeFile('dist/bundle/help.json', `${JSON.stringify(texts, null, 1)}\n`);
  return texts;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleCli({ sourcemap: process.argv.includes('--sourcemap') });
