import { AbortedError, ExitCode, InterruptedError } from '../errors.js';
import { noPrompter, silentReporter, type Prompter, type Reporter, type StepRecord } from './ports.js';
import { abortableTiming, realTiming, type Timing } from './timing.js';

/** What a caller may pass to any flow: the ports, a clock, Ctrl-C, and a mutex for shared file edits. */
export interface RunDeps {
  prompter?: Prompter;
  reporter?: Reporter;
  timing?: Timing;
  /** Ctrl-C: the current step finishes, a journal is left for the next run, and an INTERRUPTED error is thrown. */
  signal?: AbortSignal;
  /** Serializes edits of the credentials file between rotations running in one process (`rotate --all`). */
  serializeFileEdit?: <T>(edit: () => Promise<T>) => Promise<T>;
}

/**
 * Everything a flow sets up before its first step, made once: the ports, a clock whose sleeps end on
 * Ctrl-C, the step log, and the plan printout, confirmation and MFA prompt every flow words alike.
 */
export interface Runtime {
  prompter: Prompter;
  reporter: Reporter;
  timing: Timing;
  steps: StepLog;
  signal?: AbortSignal;
  serializeFileEdit?: <T>(edit: () => Promise<T>) => Promise<T>;
}

export function createRuntime(deps: RunDeps = {}): Runtime {
  const reporter = deps.reporter ?? silentReporter;
  const timing = abortableTiming(deps.timing ?? realTiming, deps.signal);
  return {
    prompter: deps.prompter ?? noPrompter,
    reporter,
    timing,
    steps: new StepLog(reporter, timing),
    signal: deps.signal,
    serializeFileEdit: deps.serializeFileEdit,
  };
}

/** "Plan for WHO:" and the numbered lines a person reads before anything happens. */
export function printPlan(rt: Pick<Runtime, 'reporter'>, title: string, lines: readonly string[]): void {
  rt.reporter.info(title);
  lines.forEach((line, i) => rt.reporter.info(`  ${i + 1}. ${line}`));
}

/** Ask before acting, unless --yes; with nobody to ask, refuse (exit 2) rather than guess. */
export async function confirmAction(yes: boolean | undefined, prompter: Prompter, question: string, verb: string): Promise<void> {
  if (yes) return;
  if (!prompter.interactive) {
    throw new AbortedError(`Not ${verb}: confirmation is needed and there is no terminal to ask.`, 'Pass --yes to go ahead without asking (or --dry-run to only see the plan).', ExitCode.usage);
  }
  if (!(await prompter.confirm(question))) throw new AbortedError(`Not ${verb}: you said no. Nothing was changed.`);
}

/** The MFA code prompt, worded as the AWS CLI words it; undefined when nobody is there to type a code. */
export function mfaPrompt(prompter: Prompter): ((serial: string) => Promise<string>) | undefined {
  return prompter.interactive ? (serial) => prompter.input(`Enter MFA code for ${serial}:`, { secret: true }) : undefined;
}

/** One at a time, in call order: for edits of one file by rotations running side by side in one process. */
export function createMutex(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** Stop before the first change when the user pressed Ctrl-C. */
export function stopIfInterrupted(rt: Pick<Runtime, 'signal'>): void {
  if (rt.signal?.aborted) throw new InterruptedError('Interrupted. Nothing was changed.');
}

/** Records each step with its duration and passes it on to the reporter. */
export class StepLog {
  readonly records: StepRecord[] = [];
  constructor(
    private readonly reporter: Reporter,
    private readonly timing: Timing,
  ) {}

  async run<T>(step: string, action: () => Promise<T>, describe: (value: T) => string, options: { quietFailure?: boolean } = {}): Promise<T> {
    const start = this.timing.now();
    try {
      const value = await action();
      this.record({ step, status: 'done', detail: describe(value), durationMs: this.timing.now() - start });
      return value;
    } catch (error) {
      if (!options.quietFailure) {
        this.record({ step, status: 'failed', detail: error instanceof Error ? error.message : String(error), durationMs: this.timing.now() - start });
      }
      throw error;
    }
  }

  record(record: StepRecord): void {
    this.records.push(record);
    this.reporter.step(record);
  }
}
