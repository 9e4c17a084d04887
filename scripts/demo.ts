// `npm run demo`: a real rotation against a local IAM (moto on loopback), never against an AWS account.
// It starts moto the way the integration tests do (test/support/moto.ts, provisioned by
// scripts/provision-moto.sh), creates an IAM user with a key, writes a credentials file in a throwaway HOME,
// runs the built CLI, and shows the file before and after (secrets masked).
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { BIN, credentialsFile, makeHome, pairOf } from '../test/support/cli.js';
import { createUserWithKey } from '../test/support/iam.js';
import { startMoto } from '../test/support/moto.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const bold = (text: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${text}\x1b[0m` : text);

function say(text: string): void {
  process.stdout.write(`\n${bold(`== ${text}`)}\n`);
}

/** The secret's first four characters, so that the reader sees it changed without seeing it. */
function maskSecrets(text: string): string {
  return text.replace(/^(\s*aws_secret_access_key\s*=\s*)(\S{4})\S*/gm, '$1$2…(secret, masked by the demo)');
}

/** Runs the CLI with its output on this terminal, and fails the demo if it fails. */
async function runRekey(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  process.stdout.write(`\n$ aws-rekey ${args.join(' ')}\n`);
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (status) => resolve(status ?? 1));
  });
  if (code !== 0) throw new Error(`aws-rekey ${args.join(' ')} failed (exit ${code})`);
}

async function main(): Promise<void> {
  say('Starting a local IAM (moto on loopback); the first run downloads it from the Debian archive');
  const moto = await startMoto({ mode: 'server' });
  try {
    const user = await createUserWithKey(moto.endpoint, 'demo-alice', { path: '/engineering/' });
    const home = await makeHome({
      endpoint: moto.endpoint,
      credentials: credentialsFile({
        work: { ...pairOf(user), extra: 'region = eu-west-1\n', comment: "# Alice's keys. aws-rekey keeps this comment, the order and the other settings." },
        'work-alias': { ...pairOf(user), comment: '; the same key under a second name: it is rotated too' },
        personal: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      }),
    });
    // The tests switch colours off; the demo keeps the terminal's choice.
    delete home.env.NO_COLOR;
    if (process.env.NO_COLOR) home.env.NO_COLOR = process.env.NO_COLOR;
    try {
      process.stdout.write(`IAM endpoint: ${moto.endpoint}\nTemporary HOME: ${home.home}\n`);
      say(`The credentials file before (${home.credentialsPath})`);
      process.stdout.write(maskSecrets(await home.readCredentials()));

      say("The user's keys, as IAM sees them");
      await runRekey(['keys', '--profile', 'work'], home.env);
      say('The plan, without changing anything');
      await runRekey(['--profile', 'work', '--dry-run'], home.env);
      say('The rotation');
      await runRekey(['--profile', 'work', '--yes'], home.env);

      say('The credentials file after');
      process.stdout.write(maskSecrets(await home.readCredentials()));
      const backup = `${home.credentialsPath}.aws-rekey.bak`;
      const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);
      process.stdout.write(`(mode ${await mode(home.credentialsPath)}; the previous content is in ${backup}, mode ${await mode(backup)})\n`);

      say("The user's keys now: the new one active and in the file, the old one inactive");
      await runRekey(['keys', '--profile', 'work'], home.env);
      say('Done. Nothing outside the temporary HOME and the local IAM was touched.');
    } finally {
      await home.cleanup();
    }
  } finally {
    await moto.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
