import { defineConfig } from 'vitest/config';

// The unit tests only, for `npm run mutate` (stryker.config.mjs): they are pure or use temp dirs, so each
// mutant runs them in milliseconds. The integration tests run the built CLI, which holds no mutants.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    setupFiles: ['test/support/assertions.ts'],
  },
});
