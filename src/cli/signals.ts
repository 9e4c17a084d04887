/**
 * Ctrl-C or SIGTERM during a rotation: let the current step finish, so that the journal describes a state the
 * next run can resume, instead of dying between a call to IAM and the write that records it.
 */
export async function withInterrupts<T>(stderr: NodeJS.WriteStream, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    stderr.write(`\n${name}: stopping after the current step…\n`);
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
