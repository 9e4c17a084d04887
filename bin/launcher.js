'use strict';
// What runs the CLI, for both ways aws-rekey is installed: the npm package's bin/aws-rekey (files beside it) and the
// single executable's main script (scripts/sea-main.cjs, Node's SEA assets). `--version` and `--help` are answered
// without loading the bundle; anything else runs the bundle with V8's code cache (bin/code-cache.js) and ends the
// process once only written output is left.

/**
 * @typedef {object} LaunchSources
 * @property {() => string} version the package's version
 * @property {() => Record<string, string>} helpTexts dist/bundle/help.json: `--help` of each command line
 * @property {() => { sha256: string, commands: string[], file: string, source?: string, require?: NodeJS.Require, kind?: string }} bundle
 *   dist/bundle/cli.json (the bundle's hash and command names) with what loadBundle (bin/code-cache.js) takes
 */

/** Runs the CLI for `args` (process.argv without node and script) from `sources`. */
function launch(args, sources) {
  // The SDK warns on Node 20; the warning is noise for our users, who cannot act on it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${sources.version()}\n`);
    return;
  }
  const help = helpText(args, sources.helpTexts);
  if (help !== undefined) {
    process.stdout.write(help);
    return;
  }
  // The bundle runs with V8's code cache of an earlier run of the same command (bin/code-cache.js): most of a run's
  // start-up is compiling it. NODE_DISABLE_COMPILE_CACHE=1 runs without it, and so does a run measuring its coverage
  // (NODE_V8_COVERAGE), which needs every function compiled with its counters.
  const { loadBundle } = require('./code-cache.js');
  const { sha256, commands, file, ...loadOptions } = sources.bundle();
  const command = args.find((arg) => !arg.startsWith('-'));
  const { exports: cli, save } = loadBundle(file, {
    ...loadOptions,
    bundleHash: sha256,
    command: commands.includes(command) ? command : 'rotate',
    enabled: !process.env.NODE_DISABLE_COMPILE_CACHE && !process.env.NODE_V8_COVERAGE,
  });
  process.once('exit', save);
  cli.main(args).then(exitWhenIdle);
}

/**
 * `[COMMAND...] --help` (or -h, -help) exactly: the text the build saved from the CLI's own output
 * (dist/bundle/help.json). Anything else, or a terminal narrower than the 80 columns the text was made for
 * (helpWidth in src/cli/main.ts), is left to the CLI.
 */
function helpText(argv, helpTexts) {
  const last = argv[argv.length - 1];
  if (last !== '--help' && last !== '-h' && last !== '-help') return undefined;
  if (process.stdout.isTTY && process.stdout.columns > 0 && process.stdout.columns < 80) return undefined;
  const texts = helpTexts();
  const key = argv.slice(0, -1).join(' ');
  return Object.hasOwn(texts, key) ? texts[key] : undefined;
}

/**
 * Ends the process once the CLI is done, if nothing but its output is left: no timer, request, socket or child
 * still keeps the event loop alive, and no output waits to be written. A process left to end by itself frees its
 * whole heap and environment first, 2–3 ms of a rotation's CPU that nobody needs (bench/README.md, fifth pass).
 * Anything else pending runs on, and the process ends by itself as before. process.exit() keeps process.exitCode.
 */
function exitWhenIdle() {
  // After the callback that resolved main() has returned: its request is then no longer active.
  setImmediate(() => {
    const onlyOutput = process.getActiveResourcesInfo?.().every((type) => type === 'PipeWrap' || type === 'TTYWrap');
    if (onlyOutput && process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit();
  });
}

module.exports = { launch };
