import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ParametersApi } from '../../src/aws/parameters.js';
import type { Destination } from '../../src/credentials/staged-store.js';
import { prepareDestination, type DestinationContext } from '../../src/rotation/deliveries/prepare.js';
import { openDelivery, type Delivery, type SecretOutput } from '../../src/rotation/delivery.js';

const OLD = { accessKeyId: 'AKIAOLDOLDOLDOLDOLD1', secretAccessKey: 'old/secret' };
const NEW = { accessKeyId: 'AKIANEWNEWNEWNEWNEW2', secretAccessKey: 'new+secret' };
const OTHER = { accessKeyId: 'AKIAOTHEROTHEROTHER3', secretAccessKey: 'other' };

let dir: string;
let credentialsPath: string;
let ctx: DestinationContext;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aws-rekey-dest-'));
  await mkdir(join(dir, '.aws'));
  credentialsPath = join(dir, '.aws', 'credentials');
  ctx = { credentialsPath, userName: 'bob', oldKeyId: OLD.accessKeyId, force: false, adminProfile: 'admin' };
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const mode = async (path: string) => (await stat(path)).mode & 0o777;
const deliver = (destination: Destination, c: DestinationContext = ctx, secretOutput?: SecretOutput): Delivery =>
  openDelivery(destination, { userName: c.userName, oldKeyId: c.oldKeyId, force: c.force, ...(secretOutput ? { secretOutput } : {}) });

describe('--out FILE', () => {
  it('writes a new 0600 file in credentials format, and undo removes it', async () => {
    const out = join(dir, 'bob.credentials');
    const prepared = await prepareDestination({ kind: 'file', path: out, format: 'ini' }, ctx);
    const delivery = deliver(prepared.destination);
    await delivery.write(NEW);
    expect(await readFile(out, 'utf8')).toBe(`[bob]\naws_access_key_id = ${NEW.accessKeyId}\naws_secret_access_key = ${NEW.secretAccessKey}\n`);
    expect(await mode(out)).toBe(0o600);
    expect(await delivery.confirm(NEW)).toMatch(/holds AKIA…NEW2/);
    expect(await delivery.undo(NEW.accessKeyId)).toMatch(/removed/);
    await expect(delivery.confirm(NEW)).rejects.toMatchObject({ code: 'DELIVERY_NOT_CONFIRMED' });
    await expect(stat(out)).rejects.toThrow();
  });

  it('refuses an existing file before anything happens, unless --force', async () => {
    const out = join(dir, 'bob.json');
    await writeFile(out, 'precious\n');
    await expect(prepareDestination({ kind: 'file', path: out, format: 'json' }, ctx)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS', exitCode: 2 });
    const forced = { ...ctx, force: true };
    const prepared = await prepareDestination({ kind: 'file', path: out, format: 'json' }, forced);
    const delivery = deliver(prepared.destination, forced);
    await delivery.write(NEW);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ Version: 1, AccessKeyId: NEW.accessKeyId });
    expect(await mode(out)).toBe(0o600);
    await delivery.undo(NEW.accessKeyId);
    expect(await readFile(out, 'utf8')).toBe('precious\n');
  });

  it('a file that appears between the check and the write is not overwritten', async () => {
    const out = join(dir, 'race.json');
    const prepared = await prepareDestination({ kind: 'file', path: out, format: 'json' }, ctx);
    await writeFile(out, 'someone else\n');
    await expect(deliver(prepared.destination).write(NEW)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(await readFile(out, 'utf8')).toBe('someone else\n');
  });

  it('refuses a directory', async () => {
    await expect(prepareDestination({ kind: 'file', path: dir, format: 'ini' }, ctx)).rejects.toMatchObject({ code: 'OUTPUT_IS_DIRECTORY' });
  });

  it('later undo leaves a file that no longer holds the key', async () => {
    const out = join(dir, 'changed.credentials');
    await writeFile(out, '[bob]\naws_access_key_id = AKIASOMETHINGELSE001\n');
    expect(await deliver({ kind: 'file', path: out, format: 'ini', section: 'bob' }).undo(NEW.accessKeyId)).toMatch(/left as it is/);
    expect(await readFile(out, 'utf8')).toContain('AKIASOMETHINGELSE001');
  });
});

describe('--to-profile NAME', () => {
  const file = `# mine\n[admin]\naws_access_key_id = ${OTHER.accessKeyId}\naws_secret_access_key = ${OTHER.secretAccessKey}\n\n[bob] ; bob's key\naws_access_key_id = ${OLD.accessKeyId}\naws_secret_access_key = ${OLD.secretAccessKey}\nregion = eu-west-1\n\n[bob-alias]\naws_access_key_id=${OLD.accessKeyId}\naws_secret_access_key=${OLD.secretAccessKey}\n`;

  it('a profile holding the old key gets the new one, with every other holder; the old secret is kept for a rollback', async () => {
    await writeFile(credentialsPath, file, { mode: 0o600 });
    const prepared = await prepareDestination({ kind: 'profile', profile: 'bob' }, ctx);
    expect(prepared.oldSecretAccessKey).toBe(OLD.secretAccessKey);
    const delivery = deliver(prepared.destination);
    const written = await delivery.write(NEW);
    expect(written.destination).toMatchObject({ kind: 'profiles', profiles: ['bob', 'bob-alias'] });
    const after = await readFile(credentialsPath, 'utf8');
    expect(after).toBe(file.replaceAll(OLD.accessKeyId, NEW.accessKeyId).replaceAll(OLD.secretAccessKey, NEW.secretAccessKey));
    expect(await delivery.confirm(NEW)).toMatch(/profiles bob, bob-alias hold AKIA…NEW2/);
    // Delivering again (a resumed rotation) changes nothing.
    expect((await delivery.write(NEW)).detail).toMatch(/already hold/);
    expect(await readFile(credentialsPath, 'utf8')).toBe(after);
    await delivery.undo(NEW.accessKeyId, OLD);
    expect(await readFile(credentialsPath, 'utf8')).toBe(file);
  });

  it('a new profile is added at the end; a later undo takes the key lines out again', async () => {
    await writeFile(credentialsPath, file, { mode: 0o600 });
    const prepared = await prepareDestination({ kind: 'profile', profile: 'bob-new' }, { ...ctx, oldKeyId: 'AKIANOTHELDANYWHERE9' });
    const written = await deliver(prepared.destination, { ...ctx, oldKeyId: 'AKIANOTHELDANYWHERE9' }).write(NEW);
    const after = await readFile(credentialsPath, 'utf8');
    expect(after.startsWith(file)).toBe(true);
    expect(after).toContain(`[bob-new]\naws_access_key_id = ${NEW.accessKeyId}\naws_secret_access_key = ${NEW.secretAccessKey}\n`);
    expect(await deliver(written.destination).undo(NEW.accessKeyId)).toMatch(/removed/);
    expect(await readFile(credentialsPath, 'utf8')).not.toContain(NEW.accessKeyId);
  });

  it('refuses a profile holding another key unless --force, and never the admin profile', async () => {
    await writeFile(credentialsPath, file, { mode: 0o600 });
    await expect(prepareDestination({ kind: 'profile', profile: 'bob' }, { ...ctx, oldKeyId: 'AKIADIFFERENTKEY0007' })).rejects.toMatchObject({ code: 'PROFILE_HAS_KEY' });
    await expect(prepareDestination({ kind: 'profile', profile: 'bob' }, { ...ctx, oldKeyId: 'AKIADIFFERENTKEY0007', force: true })).resolves.toMatchObject({
      destination: { kind: 'profiles' },
    });
    await expect(prepareDestination({ kind: 'profile', profile: 'admin' }, { ...ctx, force: true })).rejects.toMatchObject({ code: 'TO_PROFILE_IS_ADMIN' });
    // Nor any profile the admin's credentials come from (source_profile), --force or not.
    const chained = { ...ctx, adminProfile: 'admin-role', ownChain: ['admin-role', 'bob'], force: true };
    await expect(prepareDestination({ kind: 'profile', profile: 'bob' }, chained)).rejects.toMatchObject({ code: 'TO_PROFILE_IS_ADMIN', message: expect.stringContaining('admin-role → bob') });
  });

  it('later undo with the old pair puts it back in every profile that holds the new key', async () => {
    await writeFile(credentialsPath, file.replaceAll(OLD.accessKeyId, NEW.accessKeyId).replaceAll(OLD.secretAccessKey, NEW.secretAccessKey), { mode: 0o600 });
    const message = await deliver({ kind: 'profiles', credentialsPath, profiles: ['bob'] }).undo(NEW.accessKeyId, OLD);
    expect(message).toMatch(/profiles bob, bob-alias hold AKIA…OLD1 again/);
    expect(await readFile(credentialsPath, 'utf8')).toBe(file);
  });
});

describe('--print-secret', () => {
  it('prints nothing until confirm, then the pair once, and the lifecycle waits for the flush', async () => {
    const printed: string[] = [];
    const delivery = deliver({ kind: 'stdout' }, ctx, { print: async (pair, user) => void printed.push(`${user}:${pair.accessKeyId}`) });
    await delivery.write(NEW);
    expect(printed).toEqual([]);
    expect(await delivery.confirm(NEW)).toMatch(/printed AKIA…NEW2/);
    expect(printed).toEqual([`bob:${NEW.accessKeyId}`]);
  });

  it('a closed pipe or a full disk is a PRINT_FAILED error, never an unhandled EPIPE', async () => {
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    const delivery = deliver({ kind: 'stdout' }, ctx, { print: () => Promise.reject(epipe) });
    await expect(delivery.confirm(NEW)).rejects.toMatchObject({ code: 'PRINT_FAILED', message: expect.stringContaining('EPIPE') });
  });

  it('without an output (a library caller) the pair is handed back, not printed', async () => {
    expect(await deliver({ kind: 'stdout' }).confirm(NEW)).toMatch(/handed back/);
  });
});

describe('--to-env FILE', () => {
  const env = (pair: { accessKeyId: string; secretAccessKey: string }) => `# app\nexport AWS_ACCESS_KEY_ID=${pair.accessKeyId} # ci\nAWS_SECRET_ACCESS_KEY="${pair.secretAccessKey}"\nAWS_SESSION_TOKEN=tok\nAPP=1\n`;

  it('replaces the pair in place (a 0600 file with a backup), is idempotent, keeps the old secret for a rollback; undo puts the file back', async () => {
    const file = join(dir, 'ci.env');
    await writeFile(file, env(OLD), { mode: 0o644 });
    const prepared = await prepareDestination({ kind: 'env', path: file }, ctx);
    expect(prepared).toMatchObject({ destination: { kind: 'env', path: file }, oldSecretAccessKey: OLD.secretAccessKey });
    const delivery = deliver(prepared.destination);
    const written = await delivery.write(NEW);
    expect(written.backupPath).toBe(`${file}.aws-rekey.bak`);
    const after = await readFile(file, 'utf8');
    expect(after).toBe(env(NEW).replace('AWS_SESSION_TOKEN=tok\n', ''));
    expect(await mode(file)).toBe(0o600);
    expect(await delivery.confirm(NEW)).toMatch(/holds AKIA…NEW2/);
    expect((await delivery.write(NEW)).detail).toMatch(/already holds/);
    expect(await delivery.undo(NEW.accessKeyId, OLD)).toMatch(/as it was/);
    expect(await readFile(file, 'utf8')).toBe(env(OLD));
  });

  it('a later undo (another run) puts the old pair back, or takes the pair out; a file it created goes', async () => {
    const file = join(dir, 'ci.env');
    await writeFile(file, env(NEW).replace('AWS_SESSION_TOKEN=tok\n', ''), { mode: 0o600 });
    await deliver({ kind: 'env', path: file }).undo(NEW.accessKeyId, OLD);
    expect(await readFile(file, 'utf8')).toBe(env(OLD).replace('AWS_SESSION_TOKEN=tok\n', ''));
    await writeFile(file, env(NEW), { mode: 0o600 });
    await deliver({ kind: 'env', path: file }).undo(NEW.accessKeyId);
    expect(await readFile(file, 'utf8')).toBe('# app\nAWS_SESSION_TOKEN=tok\nAPP=1\n');

    const created = join(dir, 'new.env');
    const delivery = deliver({ kind: 'env', path: created });
    await delivery.write(NEW);
    await delivery.undo(NEW.accessKeyId);
    await expect(stat(created)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a file holding another key (unless --force), a directory, and a file that is not UTF-8', async () => {
    const file = join(dir, 'ci.env');
    await writeFile(file, env(OTHER));
    await expect(prepareDestination({ kind: 'env', path: file }, ctx)).rejects.toMatchObject({ code: 'ENV_HAS_KEY', exitCode: 2 });
    await expect(prepareDestination({ kind: 'env', path: file }, { ...ctx, force: true })).resolves.toMatchObject({ destination: { kind: 'env' } });
    await expect(prepareDestination({ kind: 'env', path: dir }, ctx)).rejects.toMatchObject({ code: 'ENV_IS_DIRECTORY', exitCode: 2 });
    await writeFile(file, Buffer.from([0x41, 0x3d, 0xff, 0x0a]));
    await expect(prepareDestination({ kind: 'env', path: file }, ctx)).rejects.toMatchObject({ code: 'ENV_FILE_MALFORMED', exitCode: 2 });
    // The AWS files themselves are ini files, not dotenv ones: appended lines would become a profile's settings.
    const awsFiles = { AWS_SHARED_CREDENTIALS_FILE: credentialsPath, AWS_CONFIG_FILE: join(dir, '.aws', 'config') };
    await expect(prepareDestination({ kind: 'env', path: credentialsPath }, { ...ctx, env: awsFiles })).rejects.toMatchObject({ code: 'ENV_IS_AWS_FILE', exitCode: 2, hint: expect.stringContaining('--to-profile') });
    await expect(prepareDestination({ kind: 'env', path: join(dir, '.aws', 'config') }, { ...ctx, env: awsFiles })).rejects.toMatchObject({ code: 'ENV_IS_AWS_FILE' });
  });
});

/** SSM Parameter Store in memory: versions with their values, as GetParameter/PutParameter/GetParameterHistory see them. */
function memoryParameters(): ParametersApi & { versions: Map<string, Array<{ value: string; keyId?: string }>> } {
  const versions = new Map<string, Array<{ value: string; keyId?: string }>>();
  return {
    versions,
    get: async (name) => {
      const list = versions.get(name);
      return list ? { value: list.at(-1)!.value, version: list.length, type: 'SecureString' } : undefined;
    },
    put: async (name, value, options) => {
      const list = versions.get(name);
      if (list && !options.overwrite) throw new Error('ParameterAlreadyExists');
      versions.set(name, [...(list ?? []), { value, ...(options.keyId ? { keyId: options.keyId } : {}) }]);
      return versions.get(name)!.length;
    },
    history: async (name) => (versions.get(name) ?? []).map((v, i) => ({ version: i + 1, value: v.value, type: 'SecureString', ...(v.keyId ? { keyId: v.keyId } : {}) })),
    delete: async (name) => versions.delete(name),
  };
}

describe('--to-parameter NAME', () => {
  it('a new version holding the pair as JSON (idempotent); undo writes the previous value back as a new version, with its KMS key', async () => {
    const parameters = memoryParameters();
    parameters.versions.set('/ci/bob', [{ value: 'before', keyId: 'alias/old' }]);
    const delivery = openDelivery({ kind: 'parameter', name: '/ci/bob', kmsKeyId: 'alias/ci' }, { userName: 'bob', oldKeyId: OLD.accessKeyId, parameters, createDateOf: async () => '2026-11-30T08:00:00.000Z' });
    expect((await delivery.write(NEW)).detail).toMatch(/version 2/);
    expect(JSON.parse(parameters.versions.get('/ci/bob')![1]!.value)).toEqual({ schemaVersion: 1, userName: 'bob', ...NEW, createDate: '2026-11-30T08:00:00.000Z' });
    expect(parameters.versions.get('/ci/bob')![1]!.keyId).toBe('alias/ci');
    expect((await delivery.write(NEW)).detail).toMatch(/already holds/);
    expect(await delivery.confirm(NEW)).toMatch(/holds AKIA…NEW2 \(version 2\)/);
    expect(await delivery.undo(NEW.accessKeyId)).toMatch(/previous value again \(version 3, as version 1\)/);
    expect(parameters.versions.get('/ci/bob')![2]).toEqual({ value: 'before', keyId: 'alias/old' });
    expect(await delivery.undo(NEW.accessKeyId)).toMatch(/does not hold the new key/);
  });

  it('a parameter that held only the new key is deleted by undo; confirm fails once someone changed it', async () => {
    const parameters = memoryParameters();
    const delivery = openDelivery({ kind: 'parameter', name: '/ci/bob' }, { userName: 'bob', oldKeyId: OLD.accessKeyId, parameters });
    await delivery.write(NEW);
    await parameters.put('/ci/bob', 'changed', { overwrite: true });
    await expect(delivery.confirm(NEW)).rejects.toMatchObject({ code: 'PARAMETER_NOT_CURRENT' });
    await parameters.delete('/ci/bob');
    await delivery.write(NEW);
    expect(await delivery.undo(NEW.accessKeyId)).toMatch(/deleted the SSM parameter \/ci\/bob/);
    expect(parameters.versions.has('/ci/bob')).toBe(false);
  });
});

describe('--exec CMD', () => {
  it('runs nothing on write; confirm runs the command with the JSON pair on stdin and its output relayed, the secret blanked', async () => {
    const got = join(dir, 'got.json');
    const lines: string[] = [];
    const delivery = openDelivery(
      { kind: 'exec', command: `sh -c 'cat > ${got}; echo "took $(wc -c < ${got}) bytes"; cat ${got} >&2'`, timeoutMs: 10_000 },
      { userName: 'bob', oldKeyId: OLD.accessKeyId, exec: { output: (line) => lines.push(line) } },
    );
    await delivery.write(NEW);
    await expect(stat(got)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await delivery.confirm(NEW)).toMatch(/took AKIA…NEW2 \(exit code 0/);
    expect(JSON.parse(await readFile(got, 'utf8'))).toEqual({ Version: 1, AccessKeyId: NEW.accessKeyId, SecretAccessKey: NEW.secretAccessKey, UserName: 'bob' });
    expect(lines[0]).toMatch(/^took \d+ bytes$/);
    expect(lines.join('\n')).toContain('"SecretAccessKey": "****"');
    expect(lines.join('\n')).not.toContain(NEW.secretAccessKey);
  });

  it('a non-zero exit fails confirm (EXEC_FAILED), quoting the end of its output when nobody saw it', async () => {
    const delivery = openDelivery({ kind: 'exec', command: `sh -c 'echo vault sealed >&2; exit 4'`, timeoutMs: 10_000 }, { userName: 'bob', oldKeyId: OLD.accessKeyId });
    await expect(delivery.confirm(NEW)).rejects.toMatchObject({ code: 'EXEC_FAILED', message: expect.stringMatching(/failed with exit code 4\. Its output ended with: vault sealed/) });
    expect(await delivery.undo(NEW.accessKeyId)).toMatch(/nothing to take back/);
  });
});
