/**
 * Log-softmax and softmax cross-entropy of large logits (issue 13): ts in float64 and
 * float32, wasm (the plain build in process, the relaxed one in a child process with
 * --experimental-wasm-relaxed-simd), forward values and gradients; rows and expected
 * values in test/ops/large_logits.ts. webgpu runs the same checks in
 * test/webgpu/large_logits.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { registerWasmVariant, wasmVariantSupported } from '../../src/backends/wasm/index.js';
import { misses, runLargeLogits, type Check } from './large_logits.js';
import { wasmFilesEnv } from '../util/wasm_files.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
registerWasmVariant('wasm-plain', 'simd');

describe('log-softmax and softmax cross-entropy of large logits', () => {
  it('ts float64: every row, forward and gradients, to float64 rounding', async () => {
    expect(misses(await runLargeLogits('ts', 'float64'), 1e-12)).toEqual([]);
  });

  it('ts float32: computed in double and rounded once', async () => {
    // (1e17 and 3e38 round to float32 values that stay equal: the answers do not change)
    expect(misses(await runLargeLogits('ts', 'float32'), 2e-7)).toEqual([]);
  });

  it('wasm float32, the plain SIMD build and the default one: within a few ulps of log and exp', async () => {
    expect(misses(await runLargeLogits('wasm-plain', 'float32'), 2e-6)).toEqual([]);
    expect(misses(await runLargeLogits('wasm', 'float32'), 2e-6)).toEqual([]);
  });

  it('wasm, both committed builds on the kernels directly (relaxed SIMD in a child process)', () => {
    for (const variant of ['simd', 'relaxed']) {
      const flags = variant === 'relaxed' && !wasmVariantSupported('relaxed') ? ['--experimental-wasm-relaxed-simd'] : [];
      const r = spawnSync(process.execPath, [...flags, 'test/wasm/large-logits-check.mjs', variant], { cwd: root, encoding: 'utf8', timeout: 60_000, env: wasmFilesEnv() });
      expect(r.status, r.stderr).toBe(0);
      const checks = JSON.parse(r.stdout.trim().split('\n').pop()!) as Check[];
      expect(checks.length).toBe(4 * 6);
      expect(misses(checks, 2e-6), variant).toEqual([]);
    }
  });
});
