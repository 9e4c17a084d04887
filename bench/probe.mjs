// Preloaded into the CLI by the benchmark (`node --import ./bench/probe.mjs bin/aws-rekey …`): records the
// process's CPU time and peak memory, and every module it loads, into the files named by the environment.
import { writeFileSync } from 'node:fs';
import { register } from 'node:module';

const usageFile = process.env.AWS_REKEY_BENCH_USAGE;
const modulesFile = process.env.AWS_REKEY_BENCH_MODULES;

if (modulesFile) {
  // Module hooks run on their own thread; appending synchronously there loses nothing when the CLI exits.
  const hooks = `
    import { appendFileSync } from 'node:fs';
    let file;
    export function initialize(data) { file = data.file; }
    export async function resolve(specifier, context, next) {
      const result = await next(specifier, context);
      appendFileSync(file, result.url + '\\n');
      return result;
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { file: modulesFile } });
}

if (usageFile) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(usageFile, JSON.stringify({ userMs: usage.userCPUTime / 1000, systemMs: usage.systemCPUTime / 1000, maxRssKb: usage.maxRSS }));
  });
}
