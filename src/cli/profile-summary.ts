import { maskKeyId } from '../core/mask.js';
import type { RotateResult } from '../flows/rotate-profile.js';

/** "  new key   AKIA…WXYZ  in profiles work, alias (~/.aws/credentials) and profile ci (~/.aws/config)". */
export function newKeyLine(result: RotateResult): string {
  const where = result.files
    .filter((file) => file.profiles.length > 0)
    .map((file) => `${file.profiles.length > 1 ? 'profiles' : 'profile'} ${file.profiles.join(', ')} (${file.path})`)
    .join(' and ');
  return `  new key   ${maskKeyId(result.newKeyId ?? '')}  in ${where}`;
}

/** One line per file written: each has its own backup. */
export function backupLines(result: RotateResult): string[] {
  const paths = result.backupPaths ?? (result.backupPath ? [result.backupPath] : []);
  return paths.map((path) => `  backup    ${path} (the file as it was; holds the old key)`);
}
