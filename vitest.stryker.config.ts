import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The unit tests only, for `npm run mutate` (stryker.config.mjs): they are pure or use temp dirs, so each
// mutant runs them in milliseconds. The integration tests run the built CLI, which holds no mutants.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    setupFiles: ['test/support/assertions.ts'],
    // Stryker's vitest runner asks for worker threads, but the permission tests of store.test.ts and
    // own-files-access.test.ts switch root's effective ids (seteuid, test/support/users.ts's asOwner), which
    // Node allows only in a main thread: those files get a process.
    // Absolute paths: Stryker's sandbox is under .stryker-tmp/, which a `**` glob does not enter.
    poolMatchGlobs: ['store.test.ts', 'own-files-access.test.ts'].map((name) => [fileURLToPath(new URL(`test/unit/${name}`, import.meta.url)), 'forks']),
  },
});
