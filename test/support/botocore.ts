import { spawn } from 'node:child_process';
import { provisionMoto, pythonEnv, PYTHON } from './moto.js';

/** What botocore (the AWS CLI's copy, awscli.botocore) makes of a file: its sections, or why it refuses it. */
export type BotocoreReading = { sections: Record<string, Record<string, string | Record<string, string>>> } | { error: string };

const SCRIPT = `
import json, sys
from awscli.botocore.configloader import raw_config_parse
out = []
for path in json.load(sys.stdin):
    try:
        out.append({'sections': raw_config_parse(path)})
    except Exception as e:
        out.append({'error': '%s: %s' % (type(e).__name__, e)})
json.dump(out, sys.stdout)
`;

/** Reads every file with the AWS CLI's own parser, in one Python process. */
export async function readWithBotocore(paths: string[]): Promise<BotocoreReading[]> {
  const runtime = await provisionMoto();
  // PYTHONUTF8: read the files as UTF-8 whatever the locale, as on a developer's machine.
  const env = pythonEnv(runtime, { PATH: process.env.PATH, PYTHONUTF8: '1' });
  return await new Promise((resolvePromise, reject) => {
    const child = spawn(PYTHON, ['-c', SCRIPT], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`botocore reader failed (${code}): ${stderr}`));
      else resolvePromise(JSON.parse(stdout) as BotocoreReading[]);
    });
    child.stdin.end(JSON.stringify(paths));
  });
}
