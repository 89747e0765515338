import { defineConfig } from 'vitest/config';

/** The kernel conformance suite runs both wasm builds: Node 20 validates relaxed SIMD only behind this flag. */
const CONFORMANCE = 'test/kernels/conformance_*.test.ts';

export default defineConfig({
  test: {
    // The suite's implicit backend is the ts oracle (see the file); the library's default is wasm.
    setupFiles: ['./test/util/oracle_default.ts'],
    reporters: ['default', './test/util/summary-reporter.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [CONFORMANCE] } },
      // Its workers start with the flag, so the harness's 'wasm-relaxed' instance runs beside the plain 'wasm-simd' one.
      { extends: true, test: { name: 'kernels', include: [CONFORMANCE], execArgv: ['--experimental-wasm-relaxed-simd'] } },
    ],
  },
});
