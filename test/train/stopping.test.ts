/**
 * Training that stops early says when and why: TerminateOnNaN (on by default in fit, as
 * Keras users add it) stops right after the batch whose loss is NaN or infinite, and
 * EarlyStopping names the epoch, the monitored value and any restored weights. Both
 * record the stop on the History (`history.stopped`).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as ck from '../../src/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Linear } from '../util/linear.js';
import { Dataset } from '../../src/data/dataset.js';
import { SGD } from '../../src/optim/optimizer.js';
import { fitDataset } from '../../src/models/fit.js';
import { resolveCompile, EarlyStopping, ReduceLROnPlateauCallback, TerminateOnNaN, type TrainableModel, type Callback } from '../../src/train/index.js';

/** Six samples of y = 2x + 1: three batches of 2 per epoch. */
function data(): Dataset {
  const x = [-1, 0, 1, -1, 0, 1];
  return new Dataset({ x: Float32Array.from(x), sampleShape: [1], y: Float32Array.from(x.map((v) => 2 * v + 1)), labelShape: [1] });
}

/** Mean squared error that becomes `bad` (NaN or an infinity) on the `at`-th call (counted from 1). */
function lossTurning(bad: number, at: number) {
  const state = { calls: 0 };
  const loss = (y: Tensor, p: Tensor) => {
    state.calls++;
    const l = ck.meanSquaredError(p, y);
    return state.calls === at ? ck.mul(l, bad) : l;
  };
  return { state, loss };
}

const quiet = { write: () => {}, tty: false };
afterEach(() => vi.restoreAllMocks());

describe('TerminateOnNaN', () => {
  it('is on by default: fit stops right after the NaN batch and the History says where', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { state, loss } = lossTurning(NaN, 5); // epoch 2, step 2
    const h = await fitDataset(new Linear(1, 1), resolveCompile({ optimizer: new SGD({ lr: 0.1 }), loss }), data(), { epochs: 10, batchSize: 2, shuffle: false, verbose: 2, progress: quiet });
    expect(state.calls).toBe(5); // no batch ran after the NaN one
    expect(h.stopped).toEqual({ by: 'TerminateOnNaN', epoch: 1, step: 1, reason: 'Epoch 2, step 2: loss is NaN; training stopped (TerminateOnNaN)' });
    expect(warn).toHaveBeenCalledWith('Epoch 2, step 2: loss is NaN; training stopped (TerminateOnNaN)');
    // Like Keras, the interrupted epoch still ends (its logs are recorded), then training stops.
    expect(h.epoch).toEqual([0, 1]);
    expect(Number.isNaN(h.history.loss[1])).toBe(true);
  });

  it('an infinite loss stops training too; verbose 0 records without printing', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    for (const [bad, word] of [[Infinity, 'Infinity'], [-Infinity, '-Infinity']] as const) {
      const { state, loss } = lossTurning(bad, 1);
      const h = await fitDataset(new Linear(1, 1), resolveCompile({ optimizer: new SGD({ lr: 0.1 }), loss }), data(), { epochs: 3, batchSize: 2, shuffle: false, verbose: 0 });
      expect(state.calls).toBe(1);
      expect(h.stopped?.reason).toBe(`Epoch 1, step 1: loss is ${word}; training stopped (TerminateOnNaN)`);
    }
    expect(warn).not.toHaveBeenCalled();
  });

  it('terminateOnNaN: false trains on; a TerminateOnNaN passed by the user is not added twice', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const off = lossTurning(NaN, 2);
    const h = await fitDataset(new Linear(1, 1), resolveCompile({ optimizer: new SGD({ lr: 0.1 }), loss: off.loss }), data(), { epochs: 2, batchSize: 2, verbose: 0, terminateOnNaN: false });
    expect(off.state.calls).toBe(6);
    expect(h.stopped).toBeNull();

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const mine = new TerminateOnNaN({ verbose: 0 });
    const on = lossTurning(NaN, 2);
    const h2 = await fitDataset(new Linear(1, 1), resolveCompile({ optimizer: new SGD({ lr: 0.1 }), loss: on.loss }), data(), { epochs: 2, batchSize: 2, verbose: 2, progress: quiet, callbacks: [mine] });
    expect(on.state.calls).toBe(2);
    expect(mine.stopped?.step).toBe(1);
    expect(h2.stopped).toBe(mine.stopped);
    expect(warn).not.toHaveBeenCalled(); // a default one (verbose like fit's) would have warned
  });

  it('a callback setting stopTraining in onBatchEnd ends training after that batch (Keras), not after the epoch', async () => {
    const m = new Linear(1, 1);
    let batches = 0;
    const stopper: Callback = {
      onBatchEnd: () => {
        if (++batches === 2) m.stopTraining = true;
      },
    };
    const h = await fitDataset(m, resolveCompile({ optimizer: new SGD({ lr: 0.1 }), loss: 'mse' }), data(), { epochs: 5, batchSize: 2, verbose: 0, callbacks: stopper });
    expect(batches).toBe(2);
    expect(h.epoch).toEqual([0]);
  });

  it('the epoch that TerminateOnNaN interrupts still ends cleanly for ReduceLROnPlateau (a NaN is no improvement)', async () => {
    const { state, loss } = lossTurning(NaN, 4);
    const plateau = new ReduceLROnPlateauCallback({ monitor: 'loss', patience: 1, factor: 0.5 });
    const h = await fitDataset(new Linear(1, 1), resolveCompile({ optimizer: new SGD({ lr: 0.1 }), loss }), data(), { epochs: 5, batchSize: 2, shuffle: false, verbose: 0, callbacks: plateau });
    expect(state.calls).toBe(4);
    expect(h.stopped?.reason).toBe('Epoch 2, step 1: loss is NaN; training stopped (TerminateOnNaN)');
    expect(plateau.reductions).toBe(1); // the NaN epoch counted as one without improvement
  });

  it('the progress line of an interrupted epoch counts the steps that ran', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    let out = '';
    const { loss } = lossTurning(NaN, 2);
    await fitDataset(new Linear(1, 1), resolveCompile({ optimizer: new SGD({ lr: 0.1 }), loss }), data(), { epochs: 4, batchSize: 2, verbose: 2, progress: { write: (s) => void (out += s) } });
    expect(out).toMatch(/^Epoch 1\/4  2\/3 /m);
  });
});

describe('EarlyStopping says when and why it stopped', () => {
  it('prints "Epoch N: early stopping" with the monitored value and records it on the History', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const m = new Linear(1, 1);
    const es = new EarlyStopping({ monitor: 'loss', patience: 2 });
    const h = await fitDataset(m, resolveCompile({ optimizer: new SGD({ lr: 0 }), loss: 'mse' }), data(), { epochs: 20, batchSize: 6, verbose: 2, progress: quiet, callbacks: es });
    const best = h.history.loss[0];
    const reason = `Epoch 3: early stopping: loss did not improve for 2 epoch(s) (best ${best.toFixed(4)} at epoch 1)`;
    expect(h.stopped).toEqual({ by: 'EarlyStopping', epoch: 2, reason });
    expect(es.stopped).toBe(h.stopped);
    expect(log).toHaveBeenCalledWith(reason);
  });

  it('names the epoch whose weights it restored; silent with verbose 0 or fit verbose 0', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const m = new Linear(1, 1);
    const es = new EarlyStopping({ monitor: 'loss', patience: 3, restoreBestWeights: true });
    // lr 1.5 diverges here (the loss's Hessian has largest eigenvalue 2): the first epoch is the best.
    const h = await fitDataset(m, resolveCompile({ optimizer: new SGD({ lr: 1.5 }), loss: 'mse' }), data(), { epochs: 50, batchSize: 6, verbose: 0, callbacks: es });
    expect(h.stopped).toMatchObject({ by: 'EarlyStopping', epoch: 3, restoredEpoch: 0 });
    expect(h.stopped!.reason).toMatch(/^Epoch 4: early stopping: loss did not improve for 3 epoch\(s\) \(best \S+ at epoch 1\); restored the weights from the end of the best epoch, 1$/);
    expect(log).not.toHaveBeenCalled();
  });

  it('a NaN monitored value is never an improvement (it used to reset patience forever)', () => {
    const es = new EarlyStopping({ monitor: 'val_loss', patience: 1, verbose: 0 });
    const model: TrainableModel = { apply: (x) => x, trainableWeights: [] };
    es.setModel(model);
    es.onTrainBegin();
    for (let epoch = 0; epoch < 4 && !model.stopTraining; epoch++) es.onEpochEnd(epoch, { val_loss: NaN });
    expect(model.stopTraining).toBe(true);
    expect(es.stoppedEpoch).toBe(1);
    expect(es.stopped?.reason).toBe('Epoch 2: early stopping: val_loss did not improve for 2 epoch(s) (no finite value yet)');
  });

  it('a baseline that is never beaten is named as the reason', () => {
    const es = new EarlyStopping({ monitor: 'val_loss', patience: 2, baseline: 0.5, verbose: 0 });
    const model: TrainableModel = { apply: (x) => x, trainableWeights: [] };
    es.setModel(model);
    es.onTrainBegin();
    for (let epoch = 0; epoch < 5 && !model.stopTraining; epoch++) es.onEpochEnd(epoch, { val_loss: 0.9 });
    expect(es.stopped?.reason).toBe('Epoch 2: early stopping: val_loss did not beat the baseline 0.5 in 2 epoch(s) (best 0.9000 at epoch 1)');
  });
});
