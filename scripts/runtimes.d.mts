// Types of scripts/runtimes.mjs, for the TypeScript that imports it (the benchmark).
export interface Runtime {
  major: number;
  version: string;
  node: string;
}
export const RUNTIMES_DIR: string;
export const POSTJECT: string;
export function pinnedRuntimes(): Runtime[];
export function ensureRuntimes(): Runtime[];
