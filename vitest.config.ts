import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The suite's implicit backend is the ts oracle (see the file); the library's default is wasm.
    setupFiles: ['./test/util/oracle_default.ts'],
    reporters: ['default', './test/util/summary-reporter.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
