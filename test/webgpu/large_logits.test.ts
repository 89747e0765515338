/**
 * Log-softmax and softmax cross-entropy of large logits on webgpu (issue 13): the rows
 * of test/ops/large_logits.ts ([10000..10003], [1e7, 1e7, 1e7 - 1], [3e38, 3e38],
 * [1e17, 1e17]), forward values and gradients, in float32 with no fallback to ts.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { misses, runLargeLogits } from '../ops/large_logits.js';
import { openWebGPU } from './gpu.js';

const gpu = await openWebGPU();

describe.skipIf(!gpu.ok)('webgpu: log-softmax and softmax cross-entropy of large logits', () => {
  it('every row, forward and gradients, within a few ulps of log and exp', async () => {
    ck.clearFallbacks();
    // WGSL's exp and log: a few ulps (SwiftShader), so 2e-6 here; the bug this guards was 2.4e-4 and up
    expect(misses(await runLargeLogits('webgpu', 'float32'), 2e-6)).toEqual([]);
    expect(ck.getFallbacks().filter((f) => f.from === 'webgpu' && /Softmax|SoftmaxCrossEntropy/.test(f.kernel))).toEqual([]);
  });
});
