import { spawn } from 'node:child_process';
import { provisionMoto, pythonEnv } from './moto.js';

export interface AwsCliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the AWS CLI provisioned with moto (Debian's awscli, v2) under Debian's python, with `env` as its whole
 * environment, plus PYTHONPATH for the provisioned packages and AWS_PAGER='' unless `env` sets one.
 * Bounded: killed after `timeoutMs` (then code is -1).
 */
export async function awsCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<AwsCliRun> {
  const runtime = await provisionMoto();
  const [command, ...prefix] = runtime.awsCommand;
  if (!command) throw new Error('no AWS CLI command');
  const childEnv = pythonEnv(runtime, { AWS_PAGER: '', ...env });
  return await new Promise<AwsCliRun>((resolvePromise, reject) => {
    const child = spawn(command, [...prefix, ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
  });
}
