import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareDestination, undoDestination, writeDestination, type DestinationContext } from '../../src/rotation/destination.js';

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

describe('--out FILE', () => {
  it('writes a new 0600 file in credentials format, and undo removes it', async () => {
    const out = join(dir, 'bob.credentials');
    const prepared = await prepareDestination({ kind: 'file', path: out, format: 'ini' }, ctx);
    const written = await writeDestination(prepared.destination, NEW, ctx);
    expect(await readFile(out, 'utf8')).toBe(`[bob]\naws_access_key_id = ${NEW.accessKeyId}\naws_secret_access_key = ${NEW.secretAccessKey}\n`);
    expect(await mode(out)).toBe(0o600);
    expect(await written.undo()).toMatch(/removed/);
    await expect(stat(out)).rejects.toThrow();
  });

  it('refuses an existing file before anything happens, unless --force', async () => {
    const out = join(dir, 'bob.json');
    await writeFile(out, 'precious\n');
    await expect(prepareDestination({ kind: 'file', path: out, format: 'json' }, ctx)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS', exitCode: 2 });
    const forced = { ...ctx, force: true };
    const prepared = await prepareDestination({ kind: 'file', path: out, format: 'json' }, forced);
    const written = await writeDestination(prepared.destination, NEW, forced);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ Version: 1, AccessKeyId: NEW.accessKeyId });
    expect(await mode(out)).toBe(0o600);
    await written.undo();
    expect(await readFile(out, 'utf8')).toBe('precious\n');
  });

  it('a file that appears between the check and the write is not overwritten', async () => {
    const out = join(dir, 'race.json');
    const prepared = await prepareDestination({ kind: 'file', path: out, format: 'json' }, ctx);
    await writeFile(out, 'someone else\n');
    await expect(writeDestination(prepared.destination, NEW, ctx)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(await readFile(out, 'utf8')).toBe('someone else\n');
  });

  it('refuses a directory', async () => {
    await expect(prepareDestination({ kind: 'file', path: dir, format: 'ini' }, ctx)).rejects.toMatchObject({ code: 'OUTPUT_IS_DIRECTORY' });
  });

  it('later undo leaves a file that no longer holds the key', async () => {
    const out = join(dir, 'changed.credentials');
    await writeFile(out, '[bob]\naws_access_key_id = AKIASOMETHINGELSE001\n');
    expect(await undoDestination({ kind: 'file', path: out, format: 'ini', section: 'bob' }, NEW.accessKeyId)).toMatch(/left as it is/);
    expect(await readFile(out, 'utf8')).toContain('AKIASOMETHINGELSE001');
  });
});

describe('--to-profile NAME', () => {
  const file = `# mine\n[admin]\naws_access_key_id = ${OTHER.accessKeyId}\naws_secret_access_key = ${OTHER.secretAccessKey}\n\n[bob] ; bob's key\naws_access_key_id = ${OLD.accessKeyId}\naws_secret_access_key = ${OLD.secretAccessKey}\nregion = eu-west-1\n\n[bob-alias]\naws_access_key_id=${OLD.accessKeyId}\naws_secret_access_key=${OLD.secretAccessKey}\n`;

  it('a profile holding the old key gets the new one, with every other holder; the old secret is kept for a rollback', async () => {
    await writeFile(credentialsPath, file, { mode: 0o600 });
    const prepared = await prepareDestination({ kind: 'profile', profile: 'bob' }, ctx);
    expect(prepared.oldSecretAccessKey).toBe(OLD.secretAccessKey);
    const written = await writeDestination(prepared.destination, NEW, ctx);
    expect(written.destination).toMatchObject({ kind: 'profiles', profiles: ['bob', 'bob-alias'] });
    const after = await readFile(credentialsPath, 'utf8');
    expect(after).toBe(file.replaceAll(OLD.accessKeyId, NEW.accessKeyId).replaceAll(OLD.secretAccessKey, NEW.secretAccessKey));
    await written.undo();
    expect(await readFile(credentialsPath, 'utf8')).toBe(file);
  });

  it('a new profile is added at the end; a later undo takes the key lines out again', async () => {
    await writeFile(credentialsPath, file, { mode: 0o600 });
    const prepared = await prepareDestination({ kind: 'profile', profile: 'bob-new' }, { ...ctx, oldKeyId: 'AKIANOTHELDANYWHERE9' });
    const written = await writeDestination(prepared.destination, NEW, { ...ctx, oldKeyId: 'AKIANOTHELDANYWHERE9' });
    const after = await readFile(credentialsPath, 'utf8');
    expect(after.startsWith(file)).toBe(true);
    expect(after).toContain(`[bob-new]\naws_access_key_id = ${NEW.accessKeyId}\naws_secret_access_key = ${NEW.secretAccessKey}\n`);
    expect(await undoDestination(written.destination, NEW.accessKeyId)).toMatch(/removed/);
    expect(await readFile(credentialsPath, 'utf8')).not.toContain(NEW.accessKeyId);
  });

  it('refuses a profile holding another key unless --force, and never the admin profile', async () => {
    await writeFile(credentialsPath, file, { mode: 0o600 });
    await expect(prepareDestination({ kind: 'profile', profile: 'bob' }, { ...ctx, oldKeyId: 'AKIADIFFERENTKEY0007' })).rejects.toMatchObject({ code: 'PROFILE_HAS_KEY' });
    await expect(prepareDestination({ kind: 'profile', profile: 'bob' }, { ...ctx, oldKeyId: 'AKIADIFFERENTKEY0007', force: true })).resolves.toMatchObject({
      destination: { kind: 'profiles' },
    });
    await expect(prepareDestination({ kind: 'profile', profile: 'admin' }, { ...ctx, force: true })).rejects.toMatchObject({ code: 'TO_PROFILE_IS_ADMIN' });
  });

  it('later undo with the old pair puts it back in every profile that holds the new key', async () => {
    await writeFile(credentialsPath, file.replaceAll(OLD.accessKeyId, NEW.accessKeyId).replaceAll(OLD.secretAccessKey, NEW.secretAccessKey), { mode: 0o600 });
    const message = await undoDestination({ kind: 'profiles', credentialsPath, profiles: ['bob'] }, NEW.accessKeyId, OLD);
    expect(message).toMatch(/profiles bob, bob-alias hold AKIA…OLD1 again/);
    expect(await readFile(credentialsPath, 'utf8')).toBe(file);
  });
});
