/** How the orchestrator talks to a person. The CLI implements these; tests pass their own. */

export interface Prompter {
  /** False when there is nobody to ask (no TTY, --json): every question then has no answer. */
  readonly interactive: boolean;
  confirm(message: string): Promise<boolean>;
  /** A line of text; `secret` hides what is typed (MFA codes). */
  input(message: string, options?: { secret?: boolean }): Promise<string>;
}

export type StepStatus = 'done' | 'skipped' | 'failed';

export interface StepRecord {
  step: string;
  status: StepStatus;
  /** What happened, for a person: key ids masked, never a secret. */
  detail?: string;
  durationMs?: number;
}

export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  step(record: StepRecord): void;
}

export const silentReporter: Reporter = {
  info: () => undefined,
  warn: () => undefined,
  step: () => undefined,
};

export const noPrompter: Prompter = {
  interactive: false,
  confirm: async () => false,
  input: async () => '',
};
