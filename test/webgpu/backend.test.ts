/**
 * The webgpu backend as a whole: registration and initialisation, reads, storage
 * ownership, kernel coverage, and a full training step (conv, batch norm, relu, pool,
 * dense, softmax cross-entropy with int32 labels, backward, SGD and Adam) that must run
 * entirely on the GPU and agree with the ts oracle.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { createWebGPUBackend } from '../../src/backends/webgpu/start.js';
import type { Gpu } from '../../src/backends/webgpu/gpu_api.js';
import { mismatch } from '../util/close.js';
import { openWebGPU, webgpuFallbacks } from './gpu.js';
import { rand } from '../util/rand.mjs';

const gpu = await openWebGPU();
const run = describe.skipIf(!gpu.ok);

describe('webgpu registration (no GPU needed)', () => {
  it('is registered without touching a GPU API at import', () => {
    expect(ck.listBackends()).toContain('webgpu');
  });
  it('a missing adapter rejects with a clear message', async () => {
    const noAdapter: Gpu = { requestAdapter: async () => null };
    await expect(createWebGPUBackend(noAdapter)).rejects.toThrow(/no GPU adapter is available.*VK_ICD_FILENAMES/s);
  });
  it('a failing backend leaves the current one in place and the others working', async () => {
    ck.registerBackend('webgpu-without-adapter', () => createWebGPUBackend({ requestAdapter: async () => null }), -1);
    await ck.setBackend('ts');
    await expect(ck.setBackend('webgpu-without-adapter')).rejects.toThrow(/no GPU adapter/);
    expect(ck.getBackend()).toBe('ts');
    expect(ck.add(ck.tensor([1, 2]), ck.tensor([3, 4])).toArray()).toEqual([4, 6]);
  });
});

run('webgpu storage and reads', () => {
  it('tensors stay on the GPU; dataSync refuses with the async alternative; data() reads', async () => {
    const y = ck.withBackend('webgpu', () => ck.mul(ck.add(ck.tensor([1, 2, 3]), 1), 2));
    expect(y.backend.name).toBe('webgpu');
    expect(() => y.dataSync()).toThrow(/await tensor.data\(\)/);
    expect(Array.from(await y.data())).toEqual([4, 6, 8]);
    expect(ck.getBackend()).toBe('ts');
    y.dispose();
  });
  it('int32 tensors live on the GPU too (labels, argMax, accuracy counts)', async () => {
    const acc = ck.withBackend('webgpu', () => {
      const logits = ck.tensor([[0.1, 2, 0.3], [5, 1, 0], [0, 0, 3]]);
      const labels = ck.tensor([1, 0, 1], [3], 'int32');
      return ck.sum(ck.equal(ck.argMax(logits, 1), labels));
    });
    expect(acc.backend.name).toBe('webgpu');
    expect(acc.dtype).toBe('int32');
    expect(Array.from(await acc.data())).toEqual([2]);
    acc.dispose();
  });
  it('GPU buffers follow the engine ownership rule: tidy frees, keep keeps, views share', async () => {
    const be = ck.withBackend('webgpu', () => ck.backend());
    const before = be.memory().storages;
    const kept = ck.withBackend('webgpu', () =>
      ck.tidy(() => {
        const a = ck.randomNormal([64, 64], { seed: 1 });
        const b = ck.matmul(a, a);
        const c = ck.relu(ck.sub(b, 1));
        return ck.reshape(c, [4096]);
      }),
    );
    expect(be.memory().storages).toBe(before + 1);
    const view = ck.withBackend('webgpu', () => ck.reshape(kept, [64, 64]));
    kept.dispose();
    expect(be.memory().storages).toBe(before + 1);
    expect((await view.data()).length).toBe(4096);
    view.dispose();
    expect(be.memory().storages).toBe(before);
  });
  it('reads see every recorded dispatch, across automatic flushes', async () => {
    const x = ck.withBackend('webgpu', () => {
      let t = ck.zeros([1000]);
      for (let i = 0; i < 150; i++) {
        const n = ck.add(t, 1);
        t.dispose();
        t = n;
      }
      return t;
    });
    const v = await x.data();
    expect(v[0]).toBe(150);
    expect(v[999]).toBe(150);
    x.dispose();
  });
});

run('kernel coverage', () => {
  it('every kernel registered on ts has a webgpu version (no GPU tensor can be stranded)', () => {
    const missing = ck.listKernels('ts').filter((k) => !ck.listKernels('webgpu').includes(k));
    expect(missing).toEqual([]);
  });
});

/**
 * A small convnet: conv 3x3 -> batch norm -> relu -> max pool -> dense (+bias). The conv
 * has no bias: batch norm cancels it, so its gradient is rounding noise that Adam would
 * amplify differently on each backend.
 */
function makeParams(): Tensor[] {
  const t = (shape: number[], seed: number, scale: number) => ck.tensor(Array.from(rand(shape.reduce((a, b) => a * b, 1), seed), (v) => v * scale), shape);
  return [t([3, 3, 2, 4], 1, 0.5), ck.add(t([4], 3, 0.2), 1), t([4], 4, 0.1), t([3 * 3 * 4, 5], 5, 0.3), t([5], 6, 0.1)];
}

function loss(params: Tensor[], x: Tensor, labels: Tensor): Tensor {
  const [w, gamma, beta, wd, bd] = params;
  let h = ck.conv2d(x, w, { padding: 'same' });
  h = ck.batchNorm(h, gamma, beta, { training: true });
  h = ck.relu(h);
  h = ck.maxPool2d(h, { size: 2 });
  h = ck.reshape(h, [h.shape[0], -1]);
  const logits = ck.add(ck.matmul(h, wd), bd);
  return ck.softmaxCrossEntropy(logits, labels);
}

/** Train on `backend` (made current for the whole async run, then ts again). */
async function train(backend: string, optimizer: 'sgd' | 'adam', steps: number): Promise<{ losses: number[]; params: Float32Array[]; storages: number[] }> {
  await ck.setBackend(backend);
  try {
    const params = makeParams().map((p) => p.requireGrad());
    const x = ck.tensor(rand(6 * 6 * 6 * 2, 7), [6, 6, 6, 2]);
    const labels = ck.tensor([0, 3, 1, 4, 2, 0], [6], 'int32');
    const opt = optimizer === 'sgd' ? new ck.SGD({ lr: 0.1, momentum: 0.9 }) : new ck.Adam({ lr: 0.01 });
    const losses: number[] = [];
    const storages: number[] = [];
    for (let s = 0; s < steps; s++) {
      const l = ck.tidy(() => {
        const v = loss(params, x, labels);
        v.backward();
        return v;
      });
      opt.step(params);
      opt.zeroGrad(params);
      losses.push((await l.data())[0]);
      l.dispose();
      storages.push(ck.backend().memory().storages);
    }
    for (const p of params) expect(p.backend.name).toBe(backend);
    const out = await Promise.all(params.map(async (p) => Float32Array.from(await p.data())));
    opt.dispose();
    for (const p of [...params, x, labels]) p.dispose();
    return { losses, params: out, storages };
  } finally {
    await ck.setBackend('ts');
  }
}

run('a training step on the GPU', () => {
  for (const optimizer of ['sgd', 'adam'] as const) {
    it(`conv/batchnorm/relu/pool/dense/cross-entropy with ${optimizer}: same losses and parameters as ts, no fallback, no leak`, async () => {
      ck.clearFallbacks();
      const gpuRun = await train('webgpu', optimizer, 3);
      expect(webgpuFallbacks()).toEqual([]);
      const tsRun = await train('ts', optimizer, 3);
      const m = mismatch(gpuRun.losses, tsRun.losses, { atol: 1e-4, rtol: 1e-4 });
      expect(m, `losses ${gpuRun.losses} vs ${tsRun.losses}`).toBeNull();
      expect(gpuRun.losses[2]).toBeLessThan(gpuRun.losses[0]);
      gpuRun.params.forEach((p, i) => expect(mismatch(p, tsRun.params[i], { atol: 2e-4, rtol: 1e-3 }), `parameter ${i}`).toBeNull());
      // After the first step (which creates optimiser state) the live storage count is flat.
      expect(gpuRun.storages[2]).toBe(gpuRun.storages[1]);
    });
  }
});
