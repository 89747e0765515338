/** Audit additions: fit's validationData (tensors or a Dataset) and LayerNormalization's input check. */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

function data(n: number, seed: number): [ck.Tensor, ck.Tensor] {
  const x = ck.randomUniform([n, 6], { min: -1, max: 1, seed });
  const xs = x.dataSync();
  const y = ck.tensor(Array.from({ length: n }, (_, i) => (xs[i * 6] + xs[i * 6 + 1] > 0 ? 1 : 0)), [n], 'int32');
  return [x, y];
}

describe('fit with validationData', () => {
  it('reports val_ metrics on the given tensors, equal to evaluate on them after the last epoch', async () => {
    const [x, y] = data(40, 1);
    const [xv, yv] = data(12, 2);
    const m = ck.sequential([ck.layers.dense({ units: 8, activation: 'tanh' }), ck.layers.dense({ units: 2 })], { inputShape: [6], seed: 3 });
    m.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
    const h = await m.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, seed: 1, validationData: [xv, yv] });
    expect(h.history.val_loss).toHaveLength(3);
    expect(h.history.val_accuracy).toHaveLength(3);
    const ev = await m.evaluate(xv, yv);
    expect(h.history.val_loss[2]).toBeCloseTo(ev.loss, 5);
    expect(h.history.val_accuracy[2]).toBeCloseTo(ev.accuracy, 10);
    // Training used every one of the 40 samples: 5 batches of 8 per epoch.
    let batches = 0;
    await m.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0, validationData: ck.Dataset.fromTensors(xv, yv), callbacks: [{ onBatchEnd: () => void batches++ }] });
    expect(batches).toBe(5);
  });
});

describe('LayerNormalization input check', () => {
  it('a different size on the normalised axis names the layer and the expected and received shapes', () => {
    const ln = ck.layers.layerNormalization({ name: 'ln' });
    ln.apply(ck.zeros([2, 4]));
    expect(() => ln.apply(ck.zeros([2, 5]))).toThrow(/^ln \(LayerNormalization\): expected input whose normalised axes have sizes \[4\] \(shape \[N, 4\]\), received \[2, 5\]$/);
    const ln2 = ck.layers.layerNormalization({ name: 'ln2', axes: [-2, -1] });
    ln2.apply(ck.zeros([1, 3, 4, 5]));
    expect(() => ln2.apply(ck.zeros([1, 3, 4, 6]))).toThrow(/ln2 \(LayerNormalization\): expected input whose normalised axes have sizes \[4, 5\] \(shape \[N, 3, 4, 5\]\), received \[1, 3, 4, 6\]/);
    expect(ln2.apply(ck.zeros([2, 7, 4, 5])).shape).toEqual([2, 7, 4, 5]); // other leading sizes are fine
  });
});
