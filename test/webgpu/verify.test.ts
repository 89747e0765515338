/**
 * `convkit verify --backend webgpu` on the repository's PyTorch reference vectors, in
 * float32 (the GPU's type; float64 tensors stay on ts). Every case must pass and no
 * kernel may fall back to ts. The CLI runs in-process; it reads results with
 * `await tensor.data()`, and host-side ops (nms) get their inputs on ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { cli } from '../util/cli.js';
import { openWebGPU } from './gpu.js';

const gpu = await openWebGPU();


describe.skipIf(!gpu.ok)('convkit verify --backend webgpu', () => {
  it('passes every PyTorch reference case in float32 with no fallback to ts', async () => {
    const r = await cli('verify', 'test/vectors/torch.json', 'test/ops/vectors/nn-torch.json', '--backend', 'webgpu', '--dtype', 'float32', '--json');
    const report = JSON.parse(r.out) as { backend: string; passed: number; failed: number; cases: { name: string; pass: boolean; error?: string }[] };
    const failures = report.cases.filter((c) => !c.pass).map((c) => `${c.name}: ${c.error}`);
    expect(failures).toEqual([]);
    expect(report.backend).toBe('webgpu');
    expect(report.passed).toBeGreaterThan(100);
    expect(r.err).not.toMatch(/ran on 'ts'/);
    expect(r.code).toBe(0);
  });
});
