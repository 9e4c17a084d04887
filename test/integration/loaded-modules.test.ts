import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { BIN, credentialsFile, runCli } from '../support/cli.js';
import { createUserWithKey, uniqueName } from '../support/iam.js';
import { tempHome } from '../support/integration.js';

const endpoint = inject('motoEndpoint');

/*
 * What a run that talks to IAM loads of Node itself. An ES module import of node:http makes Node 22+ build its
 * facade from every export, http.WebSocket included, which loads undici and compiles its WebAssembly parser:
 * 3–4 MiB of peak memory a run, for nothing (scripts/bundle.mjs requires http and https instead).
 */
describe("Node's own modules", () => {
  it('a run that calls IAM loads node:http, and not undici', async () => {
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
    } finally {
      await home.cleanup();
    }
  });
});
