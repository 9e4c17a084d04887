import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ensureOwnFolder, inspectOwnPath, listOwnFolder, writeOwnFile } from '../../src/credentials/own-files.js';
import { isRoot, me, OTHER_UID } from '../support/users.js';

/*
 * What someone who can write to the folder could do between aws-rekey's look at one of its paths and its
 * use of it: swap in a link, a file, another user's folder; make or remove the thing meanwhile. Each race is
 * made here by doing that just before the call that follows the check (a wrapped node:fs/promises).
 */

type Swap = () => Promise<void>;
const before: { open?: [string, Swap]; mkdir?: [string, Swap]; readdir?: [string, Swap]; readlink?: [string, Swap]; rename?: [string, Swap] } = {};

/** Called as soon as mkdir has made a folder: what anyone could see of it at that moment. */
let afterMkdir: ((path: string) => Promise<void>) | undefined;

/** Runs the swap planted for this call on `path`, once. */
async function swapFor(call: keyof typeof before, path: unknown): Promise<void> {
  const planted = before[call];
  if (planted && planted[0] === path) {
    delete before[call];
    await planted[1]();
  }
}

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: async (...args: Parameters<typeof real.open>) => (await swapFor('open', args[0]), real.open(...args)),
    mkdir: async (...args: Parameters<typeof real.mkdir>) => {
      await swapFor('mkdir', args[0]);
      const made = await real.mkdir(...args);
      await afterMkdir?.(String(args[0]));
      return made;
    },
    readdir: async (...args: Parameters<typeof real.readdir>) => (await swapFor('readdir', args[0]), real.readdir(...args)),
    readlink: async (...args: Parameters<typeof real.readlink>) => (await swapFor('readlink', args[0]), real.readlink(...args)),
    rename: async (...args: Parameters<typeof real.rename>) => (await swapFor('rename', args[1]), real.rename(...args)),
  };
});

let dir: string;
let outside: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aws-rekey-own-races-'));
  outside = await mkdtemp(join(tmpdir(), 'aws-rekey-own-races-outside-'));
  await chmod(outside, 0o755);
  await writeFile(join(outside, 'system-file'), 'do not touch\n', { mode: 0o644 });
});
afterEach(async () => {
  for (const call of Object.keys(before)) delete before[call as keyof typeof before];
  afterMkdir = undefined;
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

const outsideUntouched = async (): Promise<void> => {
  expect((await stat(outside)).mode & 0o777).toBe(0o755);
  expect(await readdir(outside)).toEqual(['system-file']);
  expect(await readFile(join(outside, 'system-file'), 'utf8')).toBe('do not touch\n');
  expect((await stat(join(outside, 'system-file'))).mode & 0o777).toBe(0o644);
};

describe('ensureOwnFolder: the folder swapped after the check', () => {
  it('for a link to a folder outside: refused as a link; the folder outside keeps its mode', async () => {
    const path = join(dir, 'aws-rekey');
    await mkdir(path, { mode: 0o755 });
    before.open = [path, async () => {
      await rm(path, { recursive: true });
      await symlink(outside, path);
    }];
    await expect(ensureOwnFolder(path, me)).rejects.toMatchObject({ code: 'OWN_FILE_IS_LINK', message: `${path} is a symbolic link (to ${outside}). aws-rekey makes this folder itself and never follows a link there.` });
    expect(before.open).toBeUndefined();
    await outsideUntouched();
  });

  it('for a file: refused as the wrong type', async () => {
    const path = join(dir, 'aws-rekey');
    before.open = [path, async () => {
      await rm(path, { recursive: true });
      await writeFile(path, 'x');
    }];
    await expect(ensureOwnFolder(path, me)).rejects.toMatchObject({ code: 'OWN_FILE_WRONG_TYPE', message: `${path} should be a folder of aws-rekey's, but it is a file.` });
    expect(await readFile(path, 'utf8')).toBe('x');
  });

  // Only root can make a folder of another user's; as anyone else, a folder they may own is all there is.
  it.runIf(isRoot)('for a folder of another user: refused as theirs (seen through the handle), its mode and owner as they were', async () => {
    const path = join(dir, 'aws-rekey');
    before.open = [path, async () => {
      await rm(path, { recursive: true });
      await mkdir(path, { mode: 0o755 });
      await chmod(path, 0o755);
      await chown(path, OTHER_UID, OTHER_UID);
    }];
    await expect(ensureOwnFolder(path, { uid: 1000, gid: 1000 })).rejects.toMatchObject({
      code: 'OWN_FILE_WRONG_OWNER',
      message: `${path} belongs to uid ${OTHER_UID}, not to uid 1000 (the owner of the credentials file) or root.`,
    });
    expect(await stat(path)).toMatchObject({ uid: OTHER_UID, gid: OTHER_UID });
    expect((await stat(path)).mode & 0o777).toBe(0o755);
  });

  it('a new folder is private from the moment it exists: no moment where others may list it', async () => {
    const path = join(dir, 'aws-rekey');
    const modes: number[] = [];
    afterMkdir = async (made) => void modes.push((await stat(made)).mode & 0o777);
    await ensureOwnFolder(path, me);
    expect(modes).toEqual([0o700]);
  });

  it('made meanwhile by a rotation beside this one: taken as it is, made private', async () => {
    const path = join(dir, 'aws-rekey');
    before.mkdir = [path, async () => mkdir(path, { mode: 0o755 })];
    await ensureOwnFolder(path, me);
    expect(before.mkdir).toBeUndefined();
    expect((await stat(path)).mode & 0o777).toBe(0o700);
  });

  it('made meanwhile as a link: refused as a link', async () => {
    const path = join(dir, 'aws-rekey');
    before.mkdir = [path, async () => symlink(outside, path)];
    await expect(ensureOwnFolder(path, me)).rejects.toMatchObject({ code: 'OWN_FILE_IS_LINK' });
    await outsideUntouched();
  });
});

describe('listOwnFolder / inspectOwnPath / writeOwnFile: the thing gone or swapped after the check', () => {
  it('a folder removed between the check and the listing (another run finished): no names', async () => {
    const path = join(dir, 'aws-rekey');
    await mkdir(path);
    await writeFile(join(path, 'a.json'), '{}');
    before.readdir = [path, async () => rm(path, { recursive: true })];
    expect(await listOwnFolder(path, me)).toEqual([]);
    expect(before.readdir).toBeUndefined();
  });

  it('a link removed before its target could be read: refused all the same, the target shown as "?"', async () => {
    const path = join(dir, 'record.json');
    await symlink(join(outside, 'system-file'), path);
    before.readlink = [path, async () => rm(path)];
    await expect(inspectOwnPath(path, 'file', me)).rejects.toMatchObject({
      code: 'OWN_FILE_IS_LINK',
      message: `${path} is a symbolic link (to ?). aws-rekey makes this file itself and never follows a link there.`,
    });
  });

  it('a link planted after the check is replaced by the rename, never written through', async () => {
    const path = join(dir, 'record.json');
    before.rename = [path, async () => symlink(join(outside, 'system-file'), path)];
    await writeOwnFile(path, 'secret', me);
    expect(before.rename).toBeUndefined();
    expect((await lstat(path)).isFile()).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('secret');
    await outsideUntouched();
  });

  it('a folder planted after the check: the rename fails, the reason is given, no temp file stays', async () => {
    const path = join(dir, 'record.json');
    before.rename = [path, async () => {
      await mkdir(path);
      await writeFile(join(path, 'inside'), 'x');
    }];
    await expect(writeOwnFile(path, 'secret', me)).rejects.toMatchObject({
      code: 'CREDENTIALS_WRITE_FAILED',
      message: `Cannot write ${path}: it is a directory.`,
      hint: `Check ${dir} (ls -la '${dir}'), then run aws-rekey again.`,
    });
    expect(await readdir(dir)).toEqual(['record.json']);
    expect(await readdir(path)).toEqual(['inside']);
  });
});
