import type { CliStreams } from './io.js';
import { commandPaths, main } from './main.js';

/**
 * What `aws-rekey [COMMAND...] --help` prints on a stream that is not a terminal, for every command, keyed by the
 * command's words joined with a space ('' for the program itself). The build writes it to dist/bundle/help.json
 * so that bin/aws-rekey can answer `--help` without loading the CLI; it is commander's own output, through main().
 */
export async function helpTexts(): Promise<Record<string, string>> {
  const texts: Record<string, string> = {};
  for (const path of commandPaths()) texts[path.join(' ')] = await printedBy([...path, '--help']);
  return texts;
}

/** stdout of one in-process run of the CLI: on streams that are not terminals, or on terminals this wide. */
export async function printedBy(argv: string[], columns?: number): Promise<string> {
  let stdout = '';
  const sink = (write: (text: string) => void) =>
    ({
      isTTY: columns !== undefined,
      columns,
      write: (text: string) => {
        write(text);
        return true;
      },
    }) as unknown as NodeJS.WriteStream;
  const streams: CliStreams = {
    stdin: process.stdin,
    stdout: sink((text) => (stdout += text)),
    stderr: sink(() => undefined),
    env: {},
  };
  await main(argv, streams);
  return stdout;
}
