import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, inject, it, vi } from 'vitest';
import * as library from '../../src/index.js';
import { ROOT, credentialsFile } from '../support/cli.js';
import { createUserWithKey, listKeys, uniqueName } from '../support/iam.js';
import { tempHome } from '../support/integration.js';
import { profilesOf } from '../support/invariants.js';

/**
 * aws-rekey as a library: the package entry point (src/index.ts) imported in-process, a rotation run through
 * its API against moto, and the built package's own entry point (package.json "exports") checked to offer
 * the same names.
 */

const endpoint = inject('motoEndpoint');

describe('the library API (src/index.ts) against moto', () => {
  it('rotateProfile rotates the key of a profile; the reporter hears every step, never a secret; nothing goes to the console', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('lib'));
    const home = await tempHome({ endpoint, credentials: credentialsFile({ work: { ...user, extra: 'region = eu-west-1\n' } }) });
    const heard: string[] = [];
    const steps: library.StepRecord[] = [];
    const reporter: library.Reporter = { info: (m) => heard.push(m), warn: (m) => heard.push(m), step: (r) => steps.push(r) };
    const consoleSpies = (['log', 'info', 'warn', 'error'] as const).map((method) => vi.spyOn(console, method));

    const result = await library.rotateProfile({ profile: 'work', yes: true, verify: { successes: 1 }, env: home.env }, { reporter });

    for (const spy of consoleSpies) {
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
    }
    expect(result).toMatchObject({ schemaVersion: 1, status: 'rotated', profile: 'work', profiles: ['work'], oldKeyId: user.accessKeyId, retired: 'deactivate' });
    expect(result.user).toEqual({ arn: expect.stringMatching(new RegExp(`:user/${user.userName}$`)), name: user.userName, account: expect.stringMatching(/^\d{12}$/) });
    const keys = await listKeys(endpoint, user.userName);
    expect(keys.map((k) => [k.accessKeyId, k.status]).sort()).toEqual(
      [
        [user.accessKeyId, 'Inactive'],
        [result.newKeyId, 'Active'],
      ].sort(),
    );
    const stored = profilesOf(await home.readCredentials()).get('work');
    expect(stored?.accessKeyId).toBe(result.newKeyId);
    expect(await home.readCredentials()).toContain('region = eu-west-1');
    expect(await home.credentialsMode()).toBe(0o600);

    expect(steps.map((r) => [r.step, r.status])).toEqual(result.steps.map((r) => [r.step, r.status]));
    expect(steps.map((r) => r.step)).toEqual(expect.arrayContaining(['create', 'write', 'verify', 'retire']));
    expect(steps.every((r) => r.status === 'done')).toBe(true);
    const said = JSON.stringify([heard, steps, result]);
    expect(said).not.toContain(user.secretAccessKey);
    expect(said).not.toContain(stored?.secretAccessKey);

    // Nothing unfinished is left for recovery, and the key list shows the new key as the one in use.
    expect(await library.recoverProfile({ profile: 'work', env: home.env })).toMatchObject({ outcome: 'clean' });
    const listed = await library.listKeys({ profile: 'work', env: home.env });
    expect(listed.keys.map((k) => k.accessKeyId).sort()).toEqual([user.accessKeyId, result.newKeyId].sort());
  });

  it('bad input is a typed error with a code, an exit code and a hint, and changes nothing', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('lib'));
    const home = await tempHome({ endpoint, credentials: credentialsFile({ work: user }) });
    const before = await home.readCredentials();
    const failure = library.rotateProfile({ profile: 'nope', yes: true, env: home.env });
    await expect(failure).rejects.toBeInstanceOf(library.RekeyError);
    await expect(failure).rejects.toMatchObject({ code: expect.any(String), exitCode: library.ExitCode.usage, hint: expect.stringContaining('work') });
    expect(await home.readCredentials()).toBe(before);
    expect((await listKeys(endpoint, user.userName)).map((k) => k.accessKeyId)).toEqual([user.accessKeyId]);
  });

  it('the built package entry point (package.json "exports") offers the same names as src/index.ts', async () => {
    // Node's own resolution of the package by its name, from inside it, as a dependent project would import it.
    const script = "const m = await import('aws-rekey'); process.stdout.write(JSON.stringify(Object.keys(m).sort()));";
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual(Object.keys(library).sort());
    expect(Object.keys(library)).toEqual(expect.arrayContaining(['rotateProfile', 'recoverProfile', 'rotateUser', 'RekeyError']));
  });
});
