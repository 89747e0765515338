import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as ck from '../../src/index.js';
import { gradcheck } from '../util/gradcheck.js';

const L = ck.layers;
const t32 = (v: number[][] | number[]) => ck.tensor(v);

beforeEach(() => ck.setBackend('ts'));

describe('ck.losses: Keras conventions (probabilities unless fromLogits)', () => {
  // The values in Keras's own documentation of each loss.
  it('categoricalCrossentropy of probabilities matches Keras (1.177)', () => {
    const yTrue = t32([[0, 1, 0], [0, 0, 1]]);
    const yPred = t32([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]);
    expect(ck.losses.categoricalCrossentropy(yTrue, yPred).item()).toBeCloseTo(1.1769392, 5);
    const perSample = ck.losses.categoricalCrossentropy(yTrue, yPred, { reduction: 'none' }).toArray();
    expect(perSample[0]).toBeCloseTo(-Math.log(0.95), 5);
    expect(perSample[1]).toBeCloseTo(-Math.log(0.1), 5);
  });

  it('sparseCategoricalCrossentropy takes class indices [N] or [N, 1] (1.177)', () => {
    const yPred = t32([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]);
    expect(ck.losses.sparseCategoricalCrossentropy(ck.tensor([1, 2], [2], 'int32'), yPred).item()).toBeCloseTo(1.1769392, 5);
    expect(ck.losses.sparseCategoricalCrossentropy(ck.tensor([[1], [2]]), yPred).item()).toBeCloseTo(1.1769392, 5);
    expect(() => ck.losses.sparseCategoricalCrossentropy(ck.tensor([1, 3], [2], 'int32'), yPred)).toThrow(/label 3 at index 1 is not a class index in \[0, 3\)/);
    expect(() => ck.losses.sparseCategoricalCrossentropy(ck.tensor([1, 2, 0], [3], 'int32'), yPred)).toThrow(/one class index per sample, shape \[2\] for yPred \[2, ?3\], received \[3\]/);
  });

  it('binaryCrossentropy of probabilities (0.815) and of logits (0.865) match Keras', () => {
    // per sample: mean(-log 0.4, -log 0.4) = 0.916 and mean(-log 0.6, -log 0.4) = 0.714
    const expected = (3 * -Math.log(0.4) - Math.log(0.6)) / 4;
    expect(ck.losses.binaryCrossentropy(t32([[0, 1], [0, 0]]), t32([[0.6, 0.4], [0.4, 0.6]])).item()).toBeCloseTo(expected, 5);
    expect(ck.losses.binaryCrossentropy(t32([[0, 1], [0, 0]]), t32([[0.6, 0.4], [0.4, 0.6]]), { reduction: 'none' }).toArray().map((v) => +v.toFixed(3))).toEqual([0.916, 0.714]);
    const logits = ck.tensor([-18.6, 0.51, 2.94, -12.8]);
    expect(ck.losses.binaryCrossentropy(ck.tensor([0, 1, 0, 0]), logits, { fromLogits: true }).item()).toBeCloseTo(0.8654, 3);
  });

  it('labelSmoothing matches PyTorch 1.13 cross_entropy(label_smoothing=0.1) and Keras binary smoothing', () => {
    // torch.nn.functional.cross_entropy(z, t, label_smoothing=0.1): 1.1244586, per sample [0.5076059, 1.7413113]
    const z = t32([[1, 2, 3], [0.5, -1, 2]]);
    const labels = ck.tensor([2, 0], [2], 'int32');
    expect(ck.losses.sparseCategoricalCrossentropy(labels, z, { fromLogits: true, labelSmoothing: 0.1 }).item()).toBeCloseTo(1.1244586, 5);
    const per = ck.losses.categoricalCrossentropy(t32([[0, 0, 1], [1, 0, 0]]), z, { fromLogits: true, labelSmoothing: 0.1, reduction: 'none' }).toArray();
    expect(per[0]).toBeCloseTo(0.5076059, 5);
    expect(per[1]).toBeCloseTo(1.7413113, 5);
    // probabilities take the same targets: softmax(z) scored with smoothing gives the same loss
    expect(ck.losses.sparseCategoricalCrossentropy(labels, ck.softmax(z, -1), { labelSmoothing: 0.1 }).item()).toBeCloseTo(1.1244586, 5);
    // binary: targets y (1 - s) + s / 2 (Keras), with s = 0.2: torch BCE-with-logits of those targets 0.5044230
    expect(ck.losses.binaryCrossentropy(t32([[0, 1], [1, 0]]), t32([[-1, 2], [0.3, 0]]), { fromLogits: true, labelSmoothing: 0.2 }).item()).toBeCloseTo(0.504423, 5);
    // 0 is the plain loss; out-of-range values are errors naming the value
    expect(ck.losses.sparseCategoricalCrossentropy(labels, z, { fromLogits: true, labelSmoothing: 0 }).item()).toBeCloseTo(ck.losses.sparseCategoricalCrossentropy(labels, z, { fromLogits: true }).item(), 6);
    for (const bad of [-0.1, 1, Number.NaN]) {
      expect(() => ck.losses.sparseCategoricalCrossentropy(labels, z, { fromLogits: true, labelSmoothing: bad })).toThrow(/labelSmoothing must be a number in \[0, 1\), received/);
    }
  });

  it('labelSmoothing: gradient of the smoothed loss matches finite differences (float64)', () => {
    const z = ck.tensor(new Float64Array([0.3, -1.2, 2.0, 0.1, 1.5, 0.2, -0.4, 0.9]), [2, 4]);
    const labels = ck.tensor([2, 0], [2], 'int32');
    gradcheck((x) => ck.losses.sparseCategoricalCrossentropy(labels, x, { fromLogits: true, labelSmoothing: 0.15, reduction: 'none' }), [z]);
  });

  it('probabilities are clipped to [1e-7, 1 - 1e-7] before the log', () => {
    const loss = ck.losses.categoricalCrossentropy(t32([[1, 0]]), t32([[0, 1]])).item();
    expect(loss).toBeCloseTo(-Math.log(1e-7), 3);
  });

  it('a softmax output is scored from its logits: saturated probabilities keep the exact loss', () => {
    const logits = ck.tensor([[0, 100], [3, -40]]);
    const yTrue = t32([[1, 0], [0, 1]]);
    const exact = ck.softmaxCrossEntropy(logits, yTrue).item(); // (100 + 43) / 2
    expect(exact).toBeCloseTo(71.5, 3);
    expect(ck.losses.categoricalCrossentropy(yTrue, ck.softmax(logits)).item()).toBeCloseTo(exact, 3);
    expect(ck.losses.categoricalCrossentropy(yTrue, logits, { fromLogits: true }).item()).toBeCloseTo(exact, 3);
    // The same probabilities not coming from a softmax op can only be clipped.
    const copied = ck.tensor(ck.softmax(logits).dataSync() as Float32Array, [2, 2]);
    expect(ck.losses.categoricalCrossentropy(yTrue, copied).item()).toBeCloseTo(-Math.log(1e-7), 3);
    // Likewise a sigmoid output for the binary loss.
    const z = ck.tensor([[60], [-60]]);
    const t = ck.tensor([[0], [1]]);
    expect(ck.losses.binaryCrossentropy(t, ck.sigmoid(z)).item()).toBeCloseTo(60, 3);
  });

  it('gradients of the probability forms match finite differences (float64)', () => {
    const p = ck.tensor(new Float64Array([0.2, 0.3, 0.5, 0.6, 0.1, 0.3]), [2, 3]);
    const y = ck.tensor(new Float64Array([0, 1, 0, 0.5, 0.25, 0.25]), [2, 3]);
    gradcheck((a) => ck.losses.categoricalCrossentropy(y, a, { reduction: 'none' }), [p]);
    const q = ck.tensor(new Float64Array([0.2, 0.7, 0.9, 0.4]), [2, 2]);
    const b = ck.tensor(new Float64Array([0, 1, 1, 0]), [2, 2]);
    gradcheck((a) => ck.losses.binaryCrossentropy(b, a, { reduction: 'none' }), [q]);
    const z = ck.tensor(new Float64Array([0.4, -1.2, 2.5, 0.1, 0.3, -0.7]), [2, 3]);
    gradcheck((a) => ck.losses.categoricalCrossentropy(y, ck.softmax(a), { reduction: 'none' }), [z]);
  });
});

describe('compile with Keras loss names', () => {
  let warn: ReturnType<typeof vi.spyOn>;
  beforeEach(() => {
    warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  });
  afterEach(() => warn.mockRestore());

  const net = (softmaxHead: boolean) =>
    ck.sequential(
      [
        L.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 1] }),
        L.flatten(),
        L.dense({ units: 10, activation: softmaxHead ? 'softmax' : 'linear' }),
      ],
      { seed: 3 },
    );

  it('a model ending in softmax trains with sparseCategoricalCrossentropy exactly as a logits model with fromLogits: true', async () => {
    await ck.setBackend('wasm');
    const data = (await ck.loadDigits()).slice(0, 400);
    const a = net(true).compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const b = net(false).compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
    const ha = await a.fit(data, { epochs: 3, batchSize: 32, verbose: 0, seed: 1 });
    const hb = await b.fit(data, { epochs: 3, batchSize: 32, verbose: 0, seed: 1 });
    for (let e = 0; e < 3; e++) {
      expect(ha.history.loss[e]).toBeCloseTo(hb.history.loss[e], 5);
      expect(ha.history.accuracy[e]).toBeCloseTo(hb.history.accuracy[e], 6);
    }
    expect(ha.history.accuracy[2]).toBeGreaterThan(0.8);
    expect(warn).not.toHaveBeenCalled();
    // The softmax model outputs probabilities
    const p = a.predict(ck.tensor(data.x.subarray(0, 64), [1, 8, 8, 1]));
    expect(ck.sum(p).item()).toBeCloseTo(1, 5);
  });

  it('categoricalCrossentropy with one-hot labels takes the same path', async () => {
    const oneHot = new Float32Array(20 * 10);
    const x = new Float32Array(20 * 64).map((_, i) => ((i * 37) % 17) / 16);
    for (let i = 0; i < 20; i++) oneHot[i * 10 + (i % 10)] = 1;
    const data = new ck.Dataset({ x, sampleShape: [8, 8, 1], y: oneHot, labelShape: [10] });
    const a = net(true).compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const b = net(false).compile({ optimizer: 'sgd', loss: { name: 'categorical_crossentropy', fromLogits: true } });
    const ha = await a.fit(data, { epochs: 2, batchSize: 8, verbose: 0, seed: 2 });
    const hb = await b.fit(data, { epochs: 2, batchSize: 8, verbose: 0, seed: 2 });
    expect(ha.history.loss[1]).toBeCloseTo(hb.history.loss[1], 5);
  });

  it('warns once when a probability loss meets a model that outputs logits, naming the fix', async () => {
    const data = (await ck.loadDigits()).slice(0, 64);
    const m = net(false).compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    await m.fit(data, { epochs: 2, batchSize: 32, verbose: 0, seed: 1 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/takes probabilities.*fromLogits: true/);
  });

  it('rejects options a loss does not have', () => {
    const m = net(false);
    expect(() => m.compile({ optimizer: 'sgd', loss: { name: 'meanSquaredError', fromLogits: true } })).toThrow(/'meanSquaredError' has no fromLogits option/);
    expect(() => m.compile({ optimizer: 'sgd', loss: { name: 'binaryCrossEntropy', fromLogits: true } })).toThrow(/binaryCrossEntropyWithLogits/);
    expect(() => m.compile({ optimizer: 'sgd', loss: { name: 'sparseCategoricalCrossentropy', from_logits: true } as never })).toThrow(/loss option 'from_logits' is not known/);
    expect(() => m.compile({ optimizer: 'sgd', loss: 'crossentropy' as never })).toThrow(/unknown loss 'crossentropy'/);
    expect(() => m.compile({ optimizer: 'sgd', loss: { name: 'meanSquaredError', labelSmoothing: 0.1 } })).toThrow(/'meanSquaredError' has no labelSmoothing option/);
    expect(() => m.compile({ optimizer: 'sgd', loss: { name: 'sparseCategoricalCrossentropy', labelSmoothing: 1.5 } })).toThrow(/labelSmoothing must be a number in \[0, 1\), received 1.5/);
  });
});
