import { chown } from 'node:fs/promises';
import { vi } from 'vitest';
import type { FileOwner } from '../../src/credentials/own-files.js';

/*
 * Who the tests run as, and the other users they hand files to. CI runs as root: a test that needs
 * permission bits in force runs its body as nobody (asOwner); one that needs a stranger's file chowns it
 * to OTHER_UID.
 */

export const isRoot = process.getuid?.() === 0;
export const NOBODY = 65534;
/** Someone else: neither the runner, nor the file's owner, nor root. */
export const OTHER_UID = 4321;
/** The running user, as the owner of the files under test. */
export const me: FileOwner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

/**
 * Run `body` as the owner of `dir`, with permission bits in force: as root, the effective user and group
 * become nobody (who then owns `dir`) until `body` settles; as anyone else, nothing changes. Node switches
 * effective ids only in a main thread: a test file that uses this needs a process of its own under Stryker
 * (vitest.stryker.config.ts, poolMatchGlobs).
 */
export async function asOwner(dir: string, body: () => Promise<void>): Promise<void> {
  const { seteuid, setegid } = process;
  if (!isRoot) return body();
  if (!seteuid || !setegid) throw new Error('root without seteuid: not a POSIX system');
  await chown(dir, NOBODY, NOBODY);
  setegid(NOBODY);
  seteuid(NOBODY);
  try {
    await body();
  } finally {
    seteuid(0);
    setegid(0);
  }
}

/**
 * Makes process.getuid() answer `uid` until vi.restoreAllMocks(): what aws-rekey believes about who runs it
 * (root or not, whose files it may keep), not what the system then allows.
 */
export function pretendUid(uid: number): void {
  vi.spyOn(process as { getuid(): number }, 'getuid').mockReturnValue(uid);
}
