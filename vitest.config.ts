import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // `npm run coverage` (scripts/coverage.mjs) turns it on and merges it with the CLI child processes' coverage.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.d.ts'],
      reporter: [['json', { file: 'coverage-final.json' }]],
      reportsDirectory: 'coverage/vitest',
      // A failing test must not lose the figures of the whole run (scripts/coverage.mjs reports them, then fails).
      reportOnFailure: true,
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/support/assertions.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/assertions.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
