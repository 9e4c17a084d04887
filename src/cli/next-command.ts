import { homedir } from 'node:os';
import { shellQuote } from '../core/shell.js';
import { resolveCredentialsPath } from '../credentials/store.js';

/*
 * The commands the tool tells a user to run next, complete and shell-quoted so that copying one works: the
 * credentials file is named when it is not the default one (another shell may not have it set).
 */

export function nextCommand(args: string[], env: NodeJS.ProcessEnv): string {
  const home = env.HOME || homedir();
  const file = env.AWS_SHARED_CREDENTIALS_FILE?.trim();
  const prefix = file && resolveCredentialsPath(env, home) !== resolveCredentialsPath({}, home) ? [`AWS_SHARED_CREDENTIALS_FILE=${shellQuote(file)}`] : [];
  return [...prefix, 'aws-rekey', ...args.map(shellQuote)].join(' ');
}
