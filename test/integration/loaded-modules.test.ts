import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { BIN, ROOT, credentialsFile, runCli } from '../support/cli.js';
import { createUserWithKey, uniqueName } from '../support/iam.js';
import { tempHome } from '../support/integration.js';

const endpoint = inject('motoEndpoint');

/*
 * What a run that talks to IAM loads of Node itself. An ES module import of node:http makes Node 22+ build its
 * facade from every export, http.WebSocket included, which loads undici and compiles its WebAssembly parser:
 * 3–4 MiB of peak memory a run, for nothing (scripts/bundle.mjs requires http and https instead).
 */
describe("Node's own modules", () => {
  it('a run that calls IAM loads node:http, and not undici or child_process', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('mods'));
    const home = await tempHome({ endpoint, credentials: credentialsFile({ work: user }) });
    try {
      const list = join(home.home, 'modules.txt');
      const preload = join(home.home, 'record-modules.cjs');
      await writeFile(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
      const run = await runCli(['-r', preload, BIN, 'keys', '--profile', 'work'], home.env, '', { executable: process.execPath });
      expect(run.code, run.stderr).toBe(0);
      const loaded = (await readFile(list, 'utf8')).split('\n');
      expect(loaded).toContain('NativeModule http');
      expect(loaded.filter((name) => /undici/.test(name))).toEqual([]);
      // commander requires child_process for executable subcommands; the bundle loads it on first use (scripts/bundle.mjs).
      expect(loaded).not.toContain('NativeModule child_process');
    } finally {
      await home.cleanup();
    }
  });
});

/*
 * A rotation's own file calls are synchronous (src/credentials/local-fs.ts): through node:fs/promises each one
 * costs a trip through the thread pool, ~40 µs against 2 µs, and a rotation makes about 150. And a run that asks
 * nothing never makes process.stdin, which Node builds on first use.
 */
describe("a rotation's file calls and stdin", () => {
  const recorder = (file: string): string => `const fs = require('node:fs');
const calls = [];
for (const [name, real] of Object.entries(fs.promises)) {
  if (typeof real === 'function') fs.promises[name] = function (...args) { calls.push(name + ' ' + args[0]); return real.apply(this, args); };
}
let stdin = false;
const made = Object.getOwnPropertyDescriptor(process, 'stdin');
Object.defineProperty(process, 'stdin', { ...made, get() { stdin = true; return made.get.call(process); } });
process.on('exit', () => fs.writeFileSync(${JSON.stringify(file)}, JSON.stringify({ calls, stdin })));
`;

  it('makes no call through node:fs/promises but the SDK reading the shared files, and never makes stdin', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('fscalls'));
    const home = await tempHome({ endpoint, credentials: credentialsFile({ work: user }) });
    try {
      const record = join(home.home, 'calls.json');
      const preload = join(home.home, 'record-calls.cjs');
      await writeFile(preload, recorder(record));
      const run = await runCli(['-r', preload, BIN, '--profile', 'work', '--yes'], home.env, '', { executable: process.execPath });
      expect(run.code, run.stderr).toBe(0);
      const { calls, stdin } = JSON.parse(await readFile(record, 'utf8')) as { calls: string[]; stdin: boolean };
      // The SDK reads the config and credentials files for its own settings (region, retries…).
      expect(new Set(calls)).toEqual(new Set([`readFile ${home.env.AWS_CONFIG_FILE}`, `readFile ${home.env.AWS_SHARED_CREDENTIALS_FILE}`]));
      expect(stdin).toBe(false);
      // The recorder sees both: a script that uses them.
      const control = await runCli(['-r', preload, '-e', "process.stdin; require('node:fs/promises').stat('.')"], home.env, '', { executable: process.execPath });
      expect(control.code, control.stderr).toBe(0);
      expect(JSON.parse(await readFile(record, 'utf8'))).toEqual({ calls: ['stat .'], stdin: true });
    } finally {
      await home.cleanup();
    }
  });
});

/*
 * An SDK client's index re-exports every command of its service (IAM: 181), and esbuild keeps every module that a
 * lazily imported module's `export *` reaches: a rotation used to run them all. scripts/bundle.mjs gives each of
 * our imports of a client only the names it imports.
 */
describe('the SDK clients in the CLI bundle', () => {
  it('hold only the commands our code imports, and no client index', async () => {
    const imported = new Set<string>();
    for (const file of await readdir(join(ROOT, 'src'), { recursive: true })) {
      if (!file.endsWith('.ts')) continue;
      const source = await readFile(join(ROOT, 'src', file), 'utf8');
      for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-[a-z0-9-]+'/g)) {
        for (const name of (m[1] ?? '').split(',')) imported.add(name.trim());
      }
    }
    const meta = JSON.parse(await readFile(join(ROOT, 'dist', 'bundle', 'meta.json'), 'utf8')) as { inputs: Record<string, unknown> };
    const inputs = Object.keys(meta.inputs);
    const commands = inputs.flatMap((path) => /@aws-sdk\/client-[a-z0-9-]+\/dist-es\/commands\/(\w+)\.js$/.exec(path)?.[1] ?? []);
    expect(commands).toContain('CreateAccessKeyCommand');
    expect(commands.filter((name) => !imported.has(name))).toEqual([]);
    expect(inputs.filter((path) => /@aws-sdk\/client-[a-z0-9-]+\/dist-es\/(index|IAM|STS)\.js$/.test(path))).toEqual([]);
  });

  // A bundled wrapper of a Node module has its exports copied, getter by getter, into each module that imports it
  // (100 copies a run); an external one is a plain require.
  it("require Node's own modules directly, except for import() and child_process", async () => {
    const meta = JSON.parse(await readFile(join(ROOT, 'dist', 'bundle', 'meta.json'), 'utf8')) as { inputs: Record<string, { imports: Array<{ path: string; kind: string }> }> };
    const wrapped = Object.entries(meta.inputs).flatMap(([from, { imports }]) =>
      imports.filter(({ path, kind }) => path.startsWith('node-builtin:') && kind !== 'dynamic-import' && path !== 'node-builtin:child_process').map(({ path }) => `${from} → ${path}`),
    );
    expect(wrapped).toEqual([]);
    expect(Object.values(meta.inputs).some(({ imports }) => imports.some(({ path }) => path === 'node:fs/promises'))).toBe(true);
  });
});
