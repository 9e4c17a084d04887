import { describe, expect, inject, it } from 'vitest';
import { credentialsFile, runCli, type CliRun } from '../support/cli.js';
import { createUserWithKey, listKeys, uniqueName } from '../support/iam.js';
import { sharedFaultProxy, tempHome } from '../support/integration.js';

/*
 * Messages that tell the truth: wrong input is named (and a near command suggested) before any AWS call, a
 * secret is never echoed back, and the hint fits the cause.
 */

const endpoint = inject('motoEndpoint');
const proxy = sharedFaultProxy(endpoint);
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLE12';

async function scene(config?: string) {
  const user = await createUserWithKey(endpoint, uniqueName('msg'));
  const home = await tempHome({
    endpoint: proxy.endpoint,
    credentials: credentialsFile({ work: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey } }),
    ...(config ? { config } : {}),
  });
  return { user, home };
}

function errorOf(run: CliRun): { code: string; message: string; hint?: string; exitCode: number } {
  return (JSON.parse(run.stdout) as { error: { code: string; message: string; hint?: string; exitCode: number } }).error;
}

describe('messages and options that tell the truth', () => {
  it('a mistyped command: says so and suggests the nearest one (audti → audit), exit 2, no AWS call', async () => {
    const { home } = await scene();
    for (const [typed, meant] of [['audti', 'audit'], ['prnue', 'prune'], ['stauts', 'status']]) {
      const run = await runCli([typed!, '--json'], home.env);
      expect(run.code, run.stderr).toBe(2);
      expect(errorOf(run).message).toBe(`unknown command '${typed}': did you mean '${meant}'?`);
      expect(errorOf(run).hint).toContain(`aws-rekey ${meant} --help`);
    }
    expect(proxy.log).toEqual([]);
  });

  it('--verify-timeout shorter than --verify-successes needs: refused before any AWS call', async () => {
    const { user, home } = await scene();
    const run = await runCli(['--profile', 'work', '--yes', '--json', '--verify-timeout', '2', '--verify-successes', '5'], home.env);
    expect(run.code).toBe(2);
    expect(errorOf(run)).toMatchObject({ code: 'USAGE', message: expect.stringContaining('--verify-timeout 2 is too short for --verify-successes 5'), hint: expect.stringContaining('more than 4 seconds') });
    expect(proxy.log).toEqual([]);
    expect(await listKeys(endpoint, user.userName)).toHaveLength(1);
  });

  it('a secret pasted into any flag or word is never echoed back, in text or JSON', async () => {
    const { home } = await scene();
    const runs = await Promise.all([
      runCli(['--profile', SECRET, '--json'], home.env),
      runCli(['keys', '--auth-profile', SECRET, '--json'], home.env),
      runCli([SECRET, '--json'], home.env),
      runCli(['prune', '--profile', 'work', '--user', 'x', '--key', SECRET, '--json', '--yes'], home.env),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).not.toBe(0);
      expect(run.stdout + run.stderr).not.toContain(SECRET);
      expect(run.stdout + run.stderr).not.toContain(SECRET.slice(0, 20));
    }
    expect(errorOf(runs[0]!).message).toContain("Profile '****'");
  });

  it('hints that fit the cause: credential_process, and a role that takes its key from a source_profile', async () => {
    const { home } = await scene(
      ['[profile proc]', 'credential_process = /usr/local/bin/vault-creds --account 1', '', '[profile deploy]', 'role_arn = arn:aws:iam::123456789012:role/deploy', 'source_profile = work', ''].join('\n'),
    );
    const proc = errorOf(await runCli(['--profile', 'proc', '--json', '--yes'], home.env));
    expect(proc).toMatchObject({ code: 'NO_STATIC_KEYS', hint: expect.stringContaining('/usr/local/bin/vault-creds') });
    expect(proc.hint).not.toMatch(/rotated by AWS/);
    const role = errorOf(await runCli(['--profile', 'deploy', '--json', '--yes'], home.env));
    expect(role).toMatchObject({ code: 'NO_STATIC_KEYS', hint: expect.stringMatching(/rotate that one \(`(AWS_\S+ )*aws-rekey rotate --profile work`\)/) });
    expect(proxy.log).toEqual([]);
  });
});
