/**
 * Training on the wasm backend stays in WASM: with class-index (int32) labels and a
 * softmax cross-entropy loss, `fit` expands the labels to one-hot rows on the host,
 * so no kernel of the training step falls back to `ts`; and the result equals the
 * same training run with the labels given as one-hot rows.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import * as zoo from '../../src/models/zoo/index.js';
import { loadDigits } from '../../src/data/digits.js';

describe('fit on wasm', () => {
  it('runs every training kernel in WASM with int32 labels, and matches one-hot labels exactly', async () => {
    const ds = (await loadDigits()).shuffle(0).take(96);
    const run = async (oneHot: boolean) => {
      const m = zoo.smallCnn8({ seed: 3 });
      m.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: { name: oneHot ? 'categoricalCrossentropy' : 'sparseCategoricalCrossentropy', fromLogits: true } });
      const { x, y } = ds.toTensors();
      const labels = oneHot ? ck.oneHot(y, 10) : y;
      await ck.setBackend('wasm');
      try {
        const xw = ck.tensor(x.dataSync(), x.shape);
        const yw = oneHot ? ck.tensor(labels.dataSync(), labels.shape) : labels;
        ck.clearFallbacks();
        const h = await m.fit(xw, yw, { epochs: 2, batchSize: 32, verbose: 0, seed: 1, shuffle: false });
        const fallbacks = ck.getFallbacks();
        return { loss: h.history.loss, weights: m.trainableWeights.map((w) => Array.from(w.dataSync())), fallbacks };
      } finally {
        await ck.setBackend('ts');
      }
    };
    const sparse = await run(false);
    expect(sparse.fallbacks).toEqual([]);
    const dense = await run(true);
    expect(sparse.loss).toEqual(dense.loss);
    expect(sparse.weights).toEqual(dense.weights);
    expect(sparse.loss[1]).toBeLessThan(sparse.loss[0]);
  });

  it('a label outside the model\'s classes is an error naming it', async () => {
    const m = zoo.smallCnn8({ seed: 3 });
    m.compile({ optimizer: 'adam', loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true } });
    const x = ck.zeros([2, 8, 8, 1]);
    const y = ck.tensor([1, 12], [2], 'int32');
    await expect(m.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 })).rejects.toThrow(/label 12 at position \d .* not a class index in \[0, 10\)/);
  });
});
