/**
 * Keras-style training on webgpu: fit, evaluate and predictDatasetAsync read the
 * GPU asynchronously, so the same training loop runs on every backend; the losses
 * match the ts oracle's run of the same model, data and seed.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import * as zoo from '../../src/models/zoo/index.js';
import { loadDigits } from '../../src/data/digits.js';
import { openWebGPU } from './gpu.js';

const gpu = await openWebGPU();

describe.skipIf(!gpu.ok)('fit on webgpu', () => {
  it('trains with fit (validation split, accuracy), evaluates and predicts, matching ts', async () => {
    const ds = (await loadDigits()).shuffle(0).take(64);
    const run = async (backend: string) => {
      await ck.setBackend(backend);
      try {
        const m = zoo.smallCnn8({ seed: 3 });
        m.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
        ck.clearFallbacks();
        const h = await m.fit(ds, { epochs: 2, batchSize: 16, verbose: 0, seed: 1, validationSplit: 0.25 });
        const ev = await m.evaluate(ds);
        const { x, y } = ds.take(32).toTensors(); // tensors on the backend under test
        const evTensors = await m.evaluate(x, y);
        x.dispose();
        y.dispose();
        const p = await m.predictDatasetAsync(ds.take(5));
        return { h: h.history, ev, evTensors, p, fallbacks: ck.getFallbacks() };
      } finally {
        await ck.setBackend('ts');
      }
    };
    const g = await run('webgpu');
    const t = await run('ts');
    expect(g.fallbacks).toEqual([]);
    expect(g.p.shape).toEqual([5, 10]);
    for (const k of ['loss', 'accuracy', 'val_loss']) {
      g.h[k].forEach((v: number, i: number) => expect(v).toBeCloseTo(t.h[k][i], 3));
    }
    expect(g.ev.loss).toBeCloseTo(t.ev.loss, 3);
    expect(g.evTensors.loss).toBeCloseTo(t.evTensors.loss, 3);
    expect(g.evTensors.accuracy).toBeCloseTo(t.evTensors.accuracy, 5);
    expect(g.h.loss[1]).toBeLessThan(g.h.loss[0]);
  });
});
