/**
 * Every backend against PyTorch's numbers: the reference vectors (test/vectors/torch.json,
 * written by scripts/make_vectors.py from PyTorch 1.13) cover every op of VECTORS.md with
 * values and vector-Jacobian products. `convkit verify` runs them; here the test suite does
 * the same for each synchronously available backend, in float32, and reports the kernels
 * that fell back to `ts` on the way (visible, never silent). The activation, normalisation,
 * loss and box vectors (test/ops/vectors/nn-torch.json, scripts/gen-nn-vectors.py; large
 * logits included) run the same way; webgpu runs both files in test/webgpu/verify.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

const torchText = readFileSync(new URL('../vectors/torch.json', import.meta.url), 'utf8');
const nnText = readFileSync(new URL('../ops/vectors/nn-torch.json', import.meta.url), 'utf8');

describe.each(['ts', 'wasm'])('PyTorch reference vectors on %s (float32)', (backend) => {
  it('every case passes', async () => {
    const report = await ck.verifyVectors(torchText, { backend, dtype: 'float32' });
    const failed = report.cases.filter((c) => !c.pass).map((c) => `${c.name}: ${c.error ?? `abs ${c.maxAbsErr} rel ${c.maxRelErr}`}`);
    expect(failed).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(100);
  });

  it('every case of the activation, normalisation, loss and box vectors passes', async () => {
    const report = await ck.verifyVectors(nnText, { backend, dtype: 'float32' });
    const failed = report.cases.filter((c) => !c.pass).map((c) => `${c.name}: ${c.error ?? `abs ${c.maxAbsErr} rel ${c.maxRelErr}`}`);
    expect(failed).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(38);
  });
});
