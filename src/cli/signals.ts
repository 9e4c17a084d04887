/**
 * Ctrl-C or SIGTERM during a rotation: let the current step finish, so that the journal describes a state the
 * next run can resume, instead of dying between a call to IAM and the write that records it. A second one
 * stops at once: the journal is written before every step that cannot be undone, so that is as safe as a
 * crash, which the next run (or `aws-rekey recover`) finishes.
 */
export async function withInterrupts<T>(stderr: NodeJS.WriteStream, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      stderr.write(`\n${name} again: stopping now. The next aws-rekey run on this profile (or aws-rekey recover) finishes or undoes the rotation.\n`);
      process.exit(130);
    }
    stderr.write(`\n${name}: stopping after the current step… (again to stop at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
