import { AbortedError, ExitCode } from '../errors.js';
import type { Prompter } from './ports.js';

/** Ask before acting, unless --yes; with nobody to ask, refuse (exit 2) rather than guess. */
export async function confirmAction(yes: boolean | undefined, prompter: Prompter, question: string, verb: string): Promise<void> {
  if (yes) return;
  if (!prompter.interactive) {
    throw new AbortedError(`Not ${verb}: confirmation is needed and there is no terminal to ask.`, 'Pass --yes to go ahead without asking (or --dry-run to only see the plan).', ExitCode.usage);
  }
  if (!(await prompter.confirm(question))) throw new AbortedError(`Not ${verb}: you said no. Nothing was changed.`);
}
