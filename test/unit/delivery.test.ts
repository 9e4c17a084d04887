import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
