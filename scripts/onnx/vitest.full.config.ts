import { defineConfig } from 'vitest/config';

/**
 * The full-size comparison (not part of the test suite: its files are ~100 MB and not committed):
 *   /usr/bin/python3 scripts/onnx/export_torch.py --full /tmp/onnx_full
 *   CONVKIT_ONNX_FULL_DIR=/tmp/onnx_full npx vitest run --config scripts/onnx/vitest.full.config.ts
 */
export default defineConfig({
  test: {
    include: ['scripts/onnx/compare_full.check.ts'],
    testTimeout: 600_000,
    pool: 'forks',
  },
});
