// npm run mutate: mutation testing of the safety core with StrykerJS (docs/testing.md has the score, the
// time it takes and every surviving mutant with the reason it is acceptable). Too slow for .ci/run.
// One group at a time: npm run mutate -- --mutate 'src/core/**/*.ts'
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts' },
  checkers: ['typescript'],
  // Whether a mutant compiles is a question about the mutated file and what it imports (tsconfig.stryker.json):
  // checking every importer of lifecycle.ts again for each of its mutants took ~20 s a mutant on a shared machine.
  tsconfigFile: 'tsconfig.stryker.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // The safety core: pure decisions, the credentials editor and store, verification, the lifecycle.
  mutate: [
    'src/core/**/*.ts',
    '!src/core/types.ts',
    'src/credentials/ini.ts',
    'src/credentials/ini-edit.ts',
    'src/credentials/ini-validate.ts',
    'src/credentials/ini-names.ts',
    'src/credentials/store.ts',
    'src/credentials/atomic-replace.ts',
    'src/credentials/own-files.ts',
    'src/credentials/journal.ts',
    'src/credentials/records.ts',
    'src/credentials/local-fs.ts',
    'src/rotation/verify.ts',
    'src/rotation/lifecycle.ts',
    'src/rotation/key-steps.ts',
    'src/flows/recover.ts',
  ],
  coverageAnalysis: 'perTest',
  // The machine is shared: one test process, and no more.
  concurrency: 1,
  ignoreStatic: true,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: 85 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
