import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Linear } from '../util/linear.js';
import { Dataset } from '../../src/data/dataset.js';
import { SGD } from '../../src/optim/optimizer.js';
import {
  resolveCompile, evaluateDataset, EarlyStopping, LearningRateScheduler, ReduceLROnPlateauCallback, ProgressBar,
  type TrainableModel, type Callback,
} from '../../src/train/index.js';
import { fitDataset } from '../../src/models/fit.js';

/**
 * y = 2x + 1 + e with e orthogonal to both the ones vector and x: the least-squares fit is
 * exactly w = 2, b = 1 and the minimum mean squared error is mean(e^2) = 0.02.
 */
function regression(): Dataset {
  const x = [-1, 0, 1, -1, 0, 1];
  const e = [0.1, -0.2, 0.1, 0.1, -0.2, 0.1];
  return new Dataset({ x: Float32Array.from(x), sampleShape: [1], y: Float32Array.from(x.map((v, i) => 2 * v + 1 + e[i])), labelShape: [1] });
}

describe('fit on a tiny synthetic problem', () => {
  it('full-batch gradient descent reaches the known minimum loss 0.02 and the exact solution', async () => {
    const m = new Linear(1, 1);
    const c = resolveCompile({ optimizer: new SGD({ lr: 0.2 }), loss: 'meanSquaredError', metrics: ['mae'] });
    const h = await fitDataset(m, c, regression(), { epochs: 120, batchSize: 6, verbose: 0, seed: 1 });
    const losses = h.history.loss;
    expect(losses.length).toBe(120);
    expect(losses[0]).toBeGreaterThan(1);
    // Initial loss with w = b = 0 is mean(y^2) exactly.
    const y = regression().y;
    expect(losses[0]).toBeCloseTo(Array.from(y).reduce((a, v) => a + v * v, 0) / 6, 5);
    expect(losses[119]).toBeCloseTo(0.02, 6);
    expect(m.w.item()).toBeCloseTo(2, 4);
    expect(m.b.item()).toBeCloseTo(1, 4);
    const ev = evaluateDataset(m, c, regression());
    expect(Object.keys(ev)).toEqual(['loss', 'mae']);
    expect(ev.loss).toBeCloseTo(0.02, 6);
    expect(ev.mae).toBeCloseTo(0.4 / 3, 5);
  });

  it('mini-batches with shuffling are reproducible by seed, and differ by seed', async () => {
    const run = async (seed: number) => {
      const m = new Linear(1, 1);
      await fitDataset(m, resolveCompile({ optimizer: { name: 'sgd', lr: 0.1 }, loss: 'mse' }), regression(), { epochs: 3, batchSize: 2, verbose: 0, seed });
      return [m.w.item(), m.b.item()];
    };
    expect(await run(5)).toEqual(await run(5));
    expect(await run(5)).not.toEqual(await run(6));
  });

  it('learns a separable 3-class problem to 100% accuracy with softmax cross-entropy and Adam', async () => {
    // Class k sits around the k-th corner of a triangle.
    const centres = [[0, 2], [2, -1], [-2, -1]];
    const rng = new ck.Rng(3);
    const x: number[] = [], y: number[] = [];
    for (let i = 0; i < 90; i++) {
      const k = i % 3;
      x.push(centres[k][0] + rng.uniform(-0.5, 0.5), centres[k][1] + rng.uniform(-0.5, 0.5));
      y.push(k);
    }
    const ds = new Dataset({ x: Float32Array.from(x), sampleShape: [2], y: Int32Array.from(y) });
    const m = new Linear(2, 3);
    const c = resolveCompile({ optimizer: { name: 'adam', lr: 0.05 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy', 'top2'] });
    const h = await fitDataset(m, c, ds, { epochs: 30, batchSize: 16, verbose: 0, seed: 0, validationSplit: 0.2 });
    expect(h.last('accuracy')).toBe(1);
    expect(h.last('val_accuracy')).toBe(1);
    expect(h.last('top2')).toBe(1);
    expect(h.last('loss')!).toBeLessThan(0.1);
    expect(Object.keys(h.history).sort()).toEqual(['accuracy', 'images_per_sec', 'loss', 'lr', 'seconds', 'top2', 'val_accuracy', 'val_loss', 'val_top2'].sort());
    expect(h.last('images_per_sec')!).toBeGreaterThan(0);
  });

  it('validationSplit holds out the last samples (before shuffling), like Keras', async () => {
    const ds = regression();
    const seen = new Set<number>();
    const probe: TrainableModel = {
      trainableWeights: [ck.zeros([1]).requireGrad()],
      apply(x: Tensor) {
        for (const v of x.toArray()) seen.add(v);
        return ck.add(ck.mul(x, 0), this.trainableWeights[0]);
      },
    };
    const c = resolveCompile({ optimizer: { name: 'sgd' }, loss: 'mse' });
    // Samples 0..3 train (x = -1, 0, 1, -1), samples 4..5 (x = 0, 1) validate; only train batches shuffle.
    const calls: number[][] = [];
    const cb: Callback = { onBatchBegin: () => void calls.push([]) };
    await fitDataset(probe, c, ds, { epochs: 1, batchSize: 4, validationSplit: 1 / 3, verbose: 0, callbacks: [cb] });
    expect(calls.length).toBe(1);
    expect([...seen].sort()).toEqual([-1, 0, 1]);
  });
});

describe('callbacks', () => {
  it('EarlyStopping stops after `patience` epochs without improvement (Keras semantics)', async () => {
    // lr 0: the loss never changes, so epoch 0 is the best and training stops at epoch 2.
    const m = new Linear(1, 1);
    const es = new EarlyStopping({ monitor: 'loss', patience: 2 });
    const h = await fitDataset(m, resolveCompile({ optimizer: new SGD({ lr: 0 }), loss: 'mse' }), regression(), { epochs: 20, batchSize: 6, verbose: 0, callbacks: es });
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(es.stoppedEpoch).toBe(2);
    expect(es.bestEpoch).toBe(0);
  });

  it('EarlyStopping with restoreBestWeights puts back the best epoch\'s weights', async () => {
    // lr 0.9 diverges on this problem (2 * lr * mean(x^2 + 1) > 2): the best epoch is the first.
    const m = new Linear(1, 1);
    const weightsAt: number[][] = [];
    const record: Callback = { onEpochEnd: () => void weightsAt.push([m.w.item(), m.b.item()]) };
    const es = new EarlyStopping({ monitor: 'loss', patience: 3, restoreBestWeights: true });
    const h = await fitDataset(m, resolveCompile({ optimizer: new SGD({ lr: 0.9 }), loss: 'mse' }), regression(), { epochs: 50, batchSize: 6, verbose: 0, callbacks: [record, es] });
    const losses = h.history.loss;
    expect(losses[3]).toBeGreaterThan(losses[es.bestEpoch]);
    expect(h.epoch.length).toBe(es.bestEpoch + 4);
    expect([m.w.item(), m.b.item()]).toEqual(weightsAt[es.bestEpoch]);
  });

  it('LearningRateScheduler sets the rate each epoch and the optimiser uses it', async () => {
    const m = new Linear(1, 1);
    const opt = new SGD({ lr: 1 });
    const sched = new LearningRateScheduler((epoch) => (epoch < 2 ? 0.1 * 0.5 ** epoch : 0));
    const wAt: number[] = [];
    const h = await fitDataset(m, resolveCompile({ optimizer: opt, loss: 'mse' }), regression(), {
      epochs: 4, batchSize: 6, verbose: 0, callbacks: [sched, { onEpochEnd: () => void wAt.push(m.w.item()) }],
    });
    expect(h.history.lr).toEqual([0.1, 0.05, 0, 0]);
    expect(wAt[1]).not.toBe(wAt[0]);
    expect(wAt[3]).toBe(wAt[1]); // rate 0: no change
  });

  it('ReduceLROnPlateau halves the rate after `patience` flat epochs', async () => {
    // Start at the exact solution of noise-free data: the loss stays 0, never improving.
    const x = [-1, 0, 1, 2];
    const ds = new Dataset({ x: Float32Array.from(x), sampleShape: [1], y: Float32Array.from(x.map((v) => 2 * v + 1)), labelShape: [1] });
    const m = new Linear(1, 1, 2, 1);
    const rl = new ReduceLROnPlateauCallback({ monitor: 'loss', factor: 0.5, patience: 2 });
    const h = await fitDataset(m, resolveCompile({ optimizer: new SGD({ lr: 0.1 }), loss: 'mse' }), ds, { epochs: 6, batchSize: 4, verbose: 0, callbacks: rl });
    expect(h.history.loss.every((v) => v === 0)).toBe(true);
    const lr = h.history.lr.map((v) => Number(v.toPrecision(6)));
    expect(lr).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.025]);
    expect(rl.reductions).toBe(2);
  });

  it('hooks run in order and may be async; a callback can stop training', async () => {
    const events: string[] = [];
    const cb: Callback = {
      onTrainBegin: async () => void events.push('trainBegin'),
      onEpochBegin: (e) => void events.push(`epochBegin ${e}`),
      onBatchEnd: async (b, logs) => {
        await new Promise((r) => setTimeout(r, 1));
        events.push(`batchEnd ${b} size ${logs.size}`);
      },
      onEpochEnd: (e) => {
        events.push(`epochEnd ${e}`);
        if (e === 1) m.stopTraining = true;
      },
      onTrainEnd: () => void events.push('trainEnd'),
    };
    const m = new Linear(1, 1);
    await fitDataset(m, resolveCompile({ optimizer: new SGD({ lr: 0.1 }), loss: 'mse' }), regression(), { epochs: 5, batchSize: 4, verbose: 0, shuffle: false, callbacks: cb });
    expect(events).toEqual([
      'trainBegin', 'epochBegin 0', 'batchEnd 0 size 4', 'batchEnd 1 size 2', 'epochEnd 0',
      'epochBegin 1', 'batchEnd 0 size 4', 'batchEnd 1 size 2', 'epochEnd 1', 'trainEnd',
    ]);
  });

  it('the progress bar draws in place on a terminal and prints plain lines otherwise', async () => {
    const run = async (tty: boolean) => {
      let out = '';
      const bar = new ProgressBar({ tty, intervalMs: 0, write: (s) => void (out += s) });
      await fitDataset(new Linear(1, 1), resolveCompile({ optimizer: new SGD({ lr: 0.1 }), loss: 'mse', metrics: ['mae'] }), regression(), { epochs: 2, batchSize: 2, verbose: 0, callbacks: bar });
      return out;
    };
    const plain = await run(false);
    const lines = plain.trimEnd().split('\n');
    expect(lines.length).toBe(2);
    expect(lines[0]).toMatch(/^Epoch 1\/2  3\/3  \S+  loss \d+\.\d{4}  mae \d+\.\d{4}  lr 0\.1000  \d+ img\/s$/);
    expect(plain).not.toContain('\r');
    const tty = await run(true);
    expect(tty).toMatch(/\rEpoch 1\/2 \[=+>?\.*\] 1\/3  ETA \S+  loss \d/);
    expect(tty).toContain('[==============================] 3/3');
    expect(tty.split('\n').length).toBe(3); // one finished line per epoch, then the end
  });
});

describe('fit options and errors', () => {
  it('augments each training batch on the fly (not validation batches)', async () => {
    const imgs = new Dataset({ x: new Float32Array(6 * 4 * 4), sampleShape: [4, 4, 1], y: Float32Array.from([0, 0, 0, 0, 0, 0]), labelShape: [] as number[] });
    let calls = 0;
    const m: TrainableModel = {
      trainableWeights: [ck.zeros([1]).requireGrad()],
      apply(x: Tensor) {
        return ck.add(ck.mean(x.reshape([x.shape[0], 16]), { axes: [1] }), this.trainableWeights[0]);
      },
    };
    const seenMeans: number[] = [];
    const h = await fitDataset(m, resolveCompile({ optimizer: new SGD({ lr: 0 }), loss: 'mse' }), imgs, {
      epochs: 2, batchSize: 3, verbose: 0, validationSplit: 0.5,
      augment: (b) => {
        calls++;
        expect(b.shape).toEqual([b.shape[0], 4, 4, 1]);
        const data = new Float32Array(b.data.length).fill(1);
        return { data, shape: b.shape };
      },
      callbacks: { onEpochEnd: (_e, logs) => void seenMeans.push(logs.loss, logs.val_loss) },
    });
    expect(calls).toBe(2); // 3 training samples = one batch per epoch
    expect(h.history.loss).toEqual([1, 1]); // trained on the augmented (all-ones) images
    expect(h.history.val_loss).toEqual([0, 0]); // validated on the originals (zeros)
  });

  it('batchTransform rewrites training batches (after augment) and sees the epoch and the seed', async () => {
    const imgs = new Dataset({ x: new Float32Array(6 * 2 * 2), sampleShape: [2, 2, 1], y: Float32Array.from([0, 0, 0, 0, 0, 0]), labelShape: [] as number[] });
    const m: TrainableModel = {
      trainableWeights: [ck.zeros([1]).requireGrad()],
      apply(x: Tensor) {
        return ck.add(ck.mean(x.reshape([x.shape[0], 4]), { axes: [1] }), this.trainableWeights[0]);
      },
    };
    const seen: [number, number][] = [];
    const h = await fitDataset(m, resolveCompile({ optimizer: new SGD({ lr: 0 }), loss: 'mse' }), imgs, {
      epochs: 2, batchSize: 3, verbose: 0, seed: 7, validationSplit: 0.5,
      augment: (b) => ({ data: new Float32Array(b.data.length).fill(1), shape: b.shape }),
      batchTransform: (b, { epoch, seed }) => {
        seen.push([epoch, seed]);
        expect(b.sampleShape).toEqual([2, 2, 1]);
        expect(Array.from(b.x)).toEqual(new Array(12).fill(1)); // augment ran first
        return { x: b.x, y: new Float32Array(b.size).fill(3) };
      },
    });
    expect(seen).toEqual([[0, 7], [1, 7]]);
    expect(h.history.loss).toEqual([4, 4]); // prediction 1, target 3
    expect(h.history.val_loss).toEqual([0, 0]); // validation batches untransformed
    const refuse = Object.assign((b: { x: Float32Array; y: Float32Array | Int32Array }) => b, { checkSamples: () => { throw new RangeError('not for these samples'); } });
    await expect(fitDataset(m, resolveCompile({ optimizer: new SGD({ lr: 0 }), loss: 'mse' }), imgs, { verbose: 0, batchTransform: refuse })).rejects.toThrow(/not for these samples/);
    await expect(fitDataset(m, resolveCompile({ optimizer: new SGD({ lr: 0 }), loss: 'mse' }), regression(), { verbose: 0, augment: { flipHorizontal: true } })).rejects.toThrow(/augment needs images \[H, W, C\]/);
  });

  it('rejects unknown losses, metrics and bad options with clear messages', async () => {
    expect(() => resolveCompile({ optimizer: 'adam', loss: 'hinge' as never })).toThrow(/unknown loss 'hinge' \(known: .*softmaxCrossEntropy/);
    expect(() => resolveCompile({ optimizer: 'adam', loss: 'mse', metrics: ['f1'] })).toThrow(/unknown metric 'f1'/);
    expect(() => resolveCompile({ optimizer: 'nadam' as never, loss: 'mse' })).toThrow(/unknown optimizer 'nadam'/);
    const c = resolveCompile({ optimizer: 'sgd', loss: 'mse' });
    expect(c.optimizer.currentLr()).toBe(0.01);
    await expect(fitDataset(new Linear(1, 1), c, regression(), { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
    await expect(fitDataset(new Linear(1, 1), c, regression(), { validationSplit: 1.5 })).rejects.toThrow(/validationSplit must be in \(0, 1\)/);
  });
});
