import {
  accessSync,
  closeSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type MakeDirectoryOptions,
  type Stats,
} from 'node:fs';

/*
 * The file calls of the credentials file and of aws-rekey's own files beside it, with the promise API of
 * node:fs/promises but made with the synchronous calls. An asynchronous call goes through libuv's thread
 * pool: about 40 µs of handing over and waking up around a call that itself takes 2 µs, and a rotation makes
 * about 150 of them, one after the other (bench/README.md, "fifth pass": 6–8 ms of CPU and 9–10 ms of wall
 * time of a rotation's ~100). The files are small and local, and the run waits for each call anyway; what a
 * synchronous call costs is that nothing else runs meanwhile, which for rotations side by side is a few
 * microseconds (an fsync: a disk write). The callers keep their `await`s, and a race test mocks this module
 * as it would node:fs/promises (test/support/races.ts).
 */

/** Runs the call now; its result or error comes back as a settled promise, as node:fs/promises gives it. */
function settled<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/** The calls of node:fs/promises' FileHandle that aws-rekey makes, on a file descriptor. */
export class LocalFileHandle {
  private constructor(readonly fd: number) {}

  static open(path: string, flags: string | number, mode?: number): LocalFileHandle {
    return new LocalFileHandle(openSync(path, flags, mode));
  }

  stat(): Promise<Stats> {
    return settled(() => fstatSync(this.fd));
  }

  chmod(mode: number): Promise<void> {
    return settled(() => fchmodSync(this.fd, mode));
  }

  chown(uid: number, gid: number): Promise<void> {
    return settled(() => fchownSync(this.fd, uid, gid));
  }

  readFile(): Promise<Buffer> {
    return settled(() => readFileSync(this.fd));
  }

  writeFile(data: string | Uint8Array): Promise<void> {
    return settled(() => writeFileSync(this.fd, data));
  }

  sync(): Promise<void> {
    return settled(() => fsyncSync(this.fd));
  }

  close(): Promise<void> {
    return settled(() => closeSync(this.fd));
  }
}

export const open = (path: string, flags: string | number, mode?: number): Promise<LocalFileHandle> => settled(() => LocalFileHandle.open(path, flags, mode));
export const lstat = (path: string): Promise<Stats> => settled(() => lstatSync(path));
export const stat = (path: string): Promise<Stats> => settled(() => statSync(path));
// The native realpath(3), as node:fs/promises has it (realpathSync without .native walks the path in JavaScript).
export const realpath = (path: string): Promise<string> => settled(() => realpathSync.native(path));
export const readlink = (path: string): Promise<string> => settled(() => readlinkSync(path));
export const readdir = (path: string): Promise<string[]> => settled(() => readdirSync(path));
export const readFile = (path: string): Promise<Buffer> => settled(() => readFileSync(path));
export const mkdir = (path: string, options: MakeDirectoryOptions): Promise<string | undefined> => settled(() => mkdirSync(path, options));
export const rename = (from: string, to: string): Promise<void> => settled(() => renameSync(from, to));
export const rmdir = (path: string): Promise<void> => settled(() => rmdirSync(path));
export const unlink = (path: string): Promise<void> => settled(() => unlinkSync(path));
export const lchown = (path: string, uid: number, gid: number): Promise<void> => settled(() => lchownSync(path, uid, gid));
export const access = (path: string, mode: number): Promise<void> => settled(() => accessSync(path, mode));
