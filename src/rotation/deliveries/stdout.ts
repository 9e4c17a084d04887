import { maskKeyId } from '../../core/mask.js';
import { RekeyError } from '../../errors.js';
import type { Delivery, DeliveryContext, KeyPair } from '../delivery.js';

/**
 * Where `--print-secret` prints the pair (the CLI: stdout, in credentials or JSON format). Resolves once the
 * text is flushed; rejects when it cannot be (a closed pipe, a full disk), so that nothing is retired then.
 */
export interface SecretOutput {
  print(pair: KeyPair, userName: string): Promise<void>;
}

/**
 * `--print-secret`: the pair is printed once, and only once it works — printed text cannot be taken back —
 * so `write` keeps it for `confirm`, which prints it and waits for the flush before the old key is retired.
 * Without a SecretOutput (a library caller), the pair is handed back in the result instead.
 */
export function stdoutDelivery(ctx: DeliveryContext): Delivery {
  const output = ctx.secretOutput;
  return {
    destination: { kind: 'stdout' },
    label: output ? 'standard output' : 'the caller (in the result)',
    write: async (pair) => ({ detail: `${maskKeyId(pair.accessKeyId)} is printed once AWS accepts it`, destination: { kind: 'stdout' } }),
    confirm: async (pair) => {
      if (!output) return `${maskKeyId(pair.accessKeyId)} is handed back to the caller`;
      try {
        await output.print(pair, ctx.userName);
      } catch (error) {
        throw new RekeyError('PRINT_FAILED', `The new key could not be printed: ${(error as Error).message}.`, {
          hint: 'Make sure standard output goes somewhere that can take it (a file with space left, a pipe that stays open), then run the command again.',
          cause: error,
        });
      }
      return `printed ${maskKeyId(pair.accessKeyId)} on standard output`;
    },
    undo: async () => 'nothing to take back: the key was never printed, or is deleted now and no longer works',
  };
}
