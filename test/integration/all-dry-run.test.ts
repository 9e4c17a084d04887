import { describe, expect, inject, it } from 'vitest';
import { credentialsFile, runCli } from '../support/cli.js';
import { createAccessKey, createUserWithKey, listKeys, uniqueName } from '../support/iam.js';
import { FAST, tempHome } from '../support/integration.js';

/* `rotate --all --dry-run` reports what the real run would refuse, with the same exit code and reason. */

const endpoint = inject('motoEndpoint');

interface ManyDoc {
  exitCode: number;
  results: Array<{ profiles: string[]; status: string; error?: { code: string; message: string } }>;
}

describe('rotate --all --dry-run against a refused plan', () => {
  it('exits as the real run does, for the same reason, and changes nothing', async () => {
    const fine = await createUserWithKey(endpoint, uniqueName('dry-ok'));
    const busy = await createUserWithKey(endpoint, uniqueName('dry-busy'));
    await createAccessKey(endpoint, busy.userName); // a second active key: the plan is refused (OTHER_KEY_ACTIVE)
    const home = await tempHome({
      endpoint,
      credentials: credentialsFile({ ok: { accessKeyId: fine.accessKeyId, secretAccessKey: fine.secretAccessKey }, busy: { accessKeyId: busy.accessKeyId, secretAccessKey: busy.secretAccessKey } }),
    });
    const before = await home.readCredentials();
    const dry = await runCli(['rotate', '--all', '--dry-run', '--json'], home.env);
    const dryDoc = JSON.parse(dry.stdout) as ManyDoc;
    expect(await home.readCredentials()).toBe(before);
    expect(await listKeys(endpoint, fine.userName)).toHaveLength(1);

    const real = await runCli(['rotate', '--all', '--yes', '--json', ...FAST], home.env);
    const realDoc = JSON.parse(real.stdout) as ManyDoc;
    expect(real.code, real.stderr).toBe(1);
    expect(dry.code, dry.stderr).toBe(real.code);
    expect(dryDoc.exitCode).toBe(realDoc.exitCode);
    const refusal = (doc: ManyDoc) => doc.results.find((r) => r.profiles.includes('busy'))?.error;
    expect(refusal(dryDoc)?.code).toBe('OTHER_KEY_ACTIVE');
    expect(refusal(realDoc)?.code).toBe(refusal(dryDoc)?.code);
    expect(dryDoc.results.find((r) => r.profiles.includes('ok'))?.status).toBe('planned');
    expect(realDoc.results.find((r) => r.profiles.includes('ok'))?.status).toBe('rotated');

    // In text too: the refusal is named, and the exit code is the same.
    const text = await runCli(['rotate', '--all', '--dry-run'], home.env);
    expect(text.code).toBe(real.code);
    expect(text.stderr).toMatch(/OTHER_KEY_ACTIVE/);
    expect(text.stderr).toMatch(/1 refused/);
  });
});
