import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import * as layers from '../../src/layers/index.js';
import { sequential, type Model } from '../../src/models/model.js';
import * as zoo from '../../src/models/zoo/index.js';
import { SGD } from '../../src/optim/optimizer.js';
import { Dataset } from '../../src/data/dataset.js';
import { loadDigits } from '../../src/data/digits.js';
import { Ensemble, EarlyStopping, accuracy } from '../../src/train/index.js';
import { multiCrops, multiCropPredict } from '../../src/vision/tta.js';

const snapshot = (ts: readonly ck.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

async function digitsSlice(n: number, seed = 0): Promise<Dataset> {
  return (await loadDigits()).shuffle(seed).take(n);
}

describe('Model.compile / fit / evaluate', () => {
  it('fits tensors x, y and evaluates them; the untrained loss of 10 classes starts near ln 10', async () => {
    const ds = await digitsSlice(200);
    const { x, y } = ds.toTensors();
    const m = zoo.smallCnn8({ seed: 3 });
    m.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
    const before = await m.evaluate(x, y);
    expect(Object.keys(before)).toEqual(['loss', 'accuracy']);
    expect(before.loss).toBeGreaterThan(1.5);
    expect(before.loss).toBeLessThan(4);
    const h = await m.fit(x, y, { epochs: 8, batchSize: 20, verbose: 0, seed: 1 });
    expect(h.history.loss[7]).toBeLessThan(h.history.loss[0]);
    const after = m.evaluateSync(x, y);
    expect(after.accuracy).toBeGreaterThan(0.9);
    expect(m.optimizer?.name).toBe('adam');
  });

  it('leaks no tensor storage across epochs of fit, evaluate and predictDataset', async () => {
    const ds = await digitsSlice(96);
    const m = zoo.smallCnn8({ seed: 4 });
    m.compile({ optimizer: 'adam', loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
    await m.fit(ds, { epochs: 1, batchSize: 32, verbose: 0, validationSplit: 0.25 }); // creates the optimiser state
    const before = ck.memory();
    await m.fit(ds, { epochs: 2, batchSize: 32, verbose: 0, validationSplit: 0.25, augment: { cropPadding: 1 } });
    await m.evaluate(ds);
    m.predictDataset(ds);
    expect(ck.memory()).toEqual(before);
  });

  it('requires compile before fit', async () => {
    const m = zoo.smallCnn8({ seed: 1 });
    await expect(m.fit(await digitsSlice(10))).rejects.toThrow(/call compile\(\{ optimizer, loss, metrics \}\) before fit\(\)/);
  });

  it('is reproducible: same seeds, same weights after training (with augmentation)', async () => {
    const ds = await digitsSlice(64);
    const train = async () => {
      const m = zoo.smallCnn8({ seed: 5 });
      m.compile({ optimizer: 'adam', loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true } });
      await m.fit(ds, { epochs: 2, batchSize: 16, verbose: 0, seed: 9, augment: { cropPadding: 1, rotation: 10, flipHorizontal: 0.2 } });
      return snapshot(m.trainableWeights);
    };
    expect(await train()).toEqual(await train());
  });

  it('adds each layer\'s regulariser penalty to the loss (L2, L1, weight elimination)', async () => {
    const ds = await digitsSlice(32);
    const build = (reg?: layers.RegularizerSpec) =>
      sequential([layers.flatten(), layers.dense({ units: 10, kernelRegularizer: reg, seed: 4 })], { inputShape: [8, 8, 1] });
    const lossOf = async (m: Model) => {
      m.compile({ optimizer: new SGD({ lr: 0 }), loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true } });
      return (await m.fit(ds, { epochs: 1, batchSize: 32, verbose: 0 })).history.loss[0];
    };
    const plain = await lossOf(build());
    const spec = { l2: 0.01, l1: 0.002, weightElimination: { lambda: 0.1, w0: 0.5 } };
    const reg = build(spec);
    const withReg = await lossOf(reg);
    const w = Array.from(reg.trainableWeights[0].dataSync());
    const expected = w.reduce((a, v) => a + 0.01 * v * v + 0.002 * Math.abs(v) + ((0.1 / 2) * v * v) / (1 + (v * v) / 0.25), 0);
    expect(withReg - plain).toBeCloseTo(expected, 4);
  });
});

describe('freezing and fine-tuning', () => {
  it('frozen layers keep their weights during fit; the others change', async () => {
    const ds = await digitsSlice(96);
    const m = zoo.smallCnn8({ seed: 2 });
    m.freeze(['conv1', 'conv2']);
    const frozen = [...m.getLayer('conv1').weights, ...m.getLayer('conv2').weights].map((w) => w.value);
    const head = m.getLayer('output').weights.map((w) => w.value);
    const f0 = snapshot(frozen), h0 = snapshot(head);
    m.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
    await m.fit(ds, { epochs: 2, batchSize: 16, verbose: 0, seed: 1 });
    expect(snapshot(frozen)).toEqual(f0);
    expect(snapshot(head)).not.toEqual(h0);
    for (const t of frozen) expect(t.grad).toBeNull();
  });

  it('replacing the classifier head and fine-tuning: a pretrained base, frozen, then unfrozen', async () => {
    // Pretrain on digits 0-9, then reuse the convolutional base for a 2-class task (even / odd).
    const all = await digitsSlice(400, 1);
    const base = zoo.smallCnn8({ seed: 7 });
    base.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true } });
    await base.fit(all, { epochs: 4, batchSize: 32, verbose: 0, seed: 1 });
    const conv = base.getLayer('conv2').weights.map((w) => w.value);
    const conv0 = snapshot(conv);

    base.replaceHead(layers.dense({ name: 'parity', units: 2, seed: 11 }));
    base.freeze(['conv1', 'conv2']);
    const parity = new Dataset({ x: all.x, sampleShape: all.sampleShape, y: Int32Array.from(all.y, (v) => v % 2) });
    base.compile({ optimizer: { name: 'adam', lr: 0.02 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
    const h = await base.fit(parity, { epochs: 6, batchSize: 32, verbose: 0, seed: 2 });
    expect(snapshot(conv)).toEqual(conv0);
    expect(h.last('accuracy')!).toBeGreaterThan(0.85);

    base.unfreeze();
    base.compile({ optimizer: { name: 'adam', lr: 1e-4 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
    const h2 = await base.fit(parity, { epochs: 1, batchSize: 32, verbose: 0, seed: 3 });
    expect(snapshot(conv)).not.toEqual(conv0);
    expect(h2.last('accuracy')!).toBeGreaterThan(0.85);
  });

  it('EarlyStopping with restoreBestWeights restores the model\'s weights, batch-norm statistics included', async () => {
    const ds = await digitsSlice(64);
    const m = sequential([layers.flatten(), layers.batchNormalization(), layers.dense({ units: 10, seed: 1 })], { inputShape: [8, 8, 1], seed: 1 });
    const saved: number[][][] = [];
    const all = () => [...m.trainableWeights, ...m.nonTrainableWeights];
    // Rate 0 and one full batch: the loss repeats, so training stops after epoch 1 and epoch 0 is
    // the best; the running batch-norm statistics still moved in epoch 1 and must be put back.
    m.compile({ optimizer: new SGD({ lr: 0 }), loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true } });
    const es = new EarlyStopping({ monitor: 'loss', patience: 1, restoreBestWeights: true });
    await m.fit(ds, { epochs: 30, batchSize: 64, verbose: 0, callbacks: [{ onEpochEnd: () => void saved.push(snapshot(all())) }, es] });
    expect(es.stoppedEpoch).toBe(1);
    expect(es.bestEpoch).toBe(0);
    expect(saved[1]).not.toEqual(saved[0]);
    expect(snapshot(all())).toEqual(saved[0]);
  });
});

describe('ensembles and multi-crop test-time augmentation', () => {
  const fixed = (logits: number[][]) => ({ apply: (x: ck.Tensor) => ck.broadcastTo(ck.tensor([logits[0]]), [x.shape[0], logits[0].length]) });

  it('averages the members\' softmax probabilities, with weights', () => {
    const a = fixed([[0, 0, Math.log(2)]]), b = fixed([[Math.log(3), 0, 0]]);
    const x = ck.zeros([2, 4, 4, 1]);
    const p = new Ensemble([a, b]).apply(x).arraySync() as number[][];
    // softmax a = [1/4, 1/4, 1/2], softmax b = [3/5, 1/5, 1/5]
    const want = [(0.25 + 0.6) / 2, (0.25 + 0.2) / 2, (0.5 + 0.2) / 2];
    p.forEach((row) => row.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6)));
    const w = new Ensemble([a, b], { weights: [3, 1] }).apply(x).arraySync() as number[][];
    expect(w[0][0]).toBeCloseTo(0.75 * 0.25 + 0.25 * 0.6, 6);
    const lp = new Ensemble([a, b], { output: 'logProbabilities' }).apply(x).arraySync() as number[][];
    expect(lp[0][2]).toBeCloseTo(Math.log(0.35), 6);
    expect(() => new Ensemble([a], { weights: [1, 2] })).toThrow(/2 weights for 1 members/);
  });

  it('an ensemble of trained models is at least as good as its average member here', async () => {
    const all = await loadDigits();
    const { train, test } = all.trainValTest({ test: 0.3, seed: 4 });
    const members: Model[] = [];
    for (const s of [1, 2, 3]) {
      const m = zoo.smallCnn8({ seed: s });
      m.compile({ optimizer: { name: 'adam', lr: 0.003 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
      await m.fit(train.take(300), { epochs: 4, batchSize: 32, verbose: 0, seed: s });
      members.push(m);
    }
    const { x, y } = test.toTensors();
    const accOf = (p: ck.Tensor) => accuracy(p, y);
    const single = members.map((m) => accOf(m.predict(x)));
    const ens = accOf(new Ensemble(members).predict(x));
    expect(ens).toBeGreaterThanOrEqual(single.reduce((a, b) => a + b, 0) / single.length - 1e-9);
  });

  it('multi-crop views: 4 corners + centre (+ mirrors), and the prediction is their mean probability', () => {
    const x = ck.tensor(Array.from({ length: 2 * 5 * 5 }, (_, i) => i), [2, 5, 5, 1]);
    const views = multiCrops(x, { cropSize: 3 });
    expect(views.length).toBe(10);
    expect(views[0].shape).toEqual([2, 3, 3, 1]);
    expect((views[0].arraySync() as number[][][][])[0].map((r) => r.map((c) => c[0]))).toEqual([[0, 1, 2], [5, 6, 7], [10, 11, 12]]);
    expect((views[3].arraySync() as number[][][][])[0][0][0][0]).toBe(12); // bottom-right crop starts at (2, 2)
    expect((views[4].arraySync() as number[][][][])[0][0][0][0]).toBe(6); // centre crop starts at (1, 1)
    expect((views[5].arraySync() as number[][][][])[0][0].map((c) => c[0])).toEqual([2, 1, 0]); // mirrored
    const padded = multiCrops(x, { padding: 1, mirror: false });
    expect(padded.length).toBe(5);
    expect(padded[0].shape).toEqual([2, 5, 5, 1]);
    expect((padded[0].arraySync() as number[][][][])[0][0][0][0]).toBe(0); // shifted: zero padding enters
    expect((padded[4].toArray())).toEqual(x.toArray()); // centre of the padded image is the image

    // A "model" scoring class 0 by the view's mean and class 1 by minus it.
    const model = {
      apply: (v: ck.Tensor) => {
        const mu = ck.mean(v.reshape([v.shape[0], v.size / v.shape[0]]), { axes: [1], keepDims: true });
        return ck.concat([mu, ck.neg(mu)], 1);
      },
    };
    const p = multiCropPredict(model, x, { cropSize: 3 }).arraySync() as number[][];
    const manual = views.map((v) => ck.softmax(model.apply(v), -1).arraySync() as number[][]);
    for (let i = 0; i < 2; i++) for (let c = 0; c < 2; c++) expect(p[i][c]).toBeCloseTo(manual.reduce((a, m) => a + m[i][c], 0) / 10, 6);
  });
});
