import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { epochSeed } from '../../src/train/fit.js';

const L = ck.layers;

/** A small convnet with every source of training state: dropout masks, batch-norm statistics, Adam moments, a step schedule. */
function makeModel(): ck.Model {
  const m = ck.sequential(
    [
      L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [8, 8, 1] }),
      L.batchNormalization(),
      L.relu(),
      L.maxPooling2d({ poolSize: 2 }),
      L.flatten(),
      L.dropout(0.3),
      L.dense({ units: 10 }),
    ],
    { seed: 5 },
  );
  m.compile({
    optimizer: { name: 'adam', lr: ck.stepDecay({ initial: 0.01, stepSize: 7, gamma: 0.5 }) },
    loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true },
    metrics: ['accuracy'],
  });
  return m;
}

async function weightsAfter(backend: string, plan: ck.FitOptions[]): Promise<Float32Array[]> {
  await ck.setBackend(backend);
  const data = (await ck.loadDigits()).slice(0, 96);
  const m = makeModel();
  for (const opts of plan) await m.fit(data, { batchSize: 16, verbose: 0, seed: 11, validationSplit: 0.25, augment: { flipHorizontal: true, cropPadding: 1 }, ...opts });
  return m.weights.map((w) => Float32Array.from(w.value.dataSync()));
}

describe('resuming fit with initialEpoch', () => {
  for (const backend of ['ts', 'wasm']) {
    it(`fit(1 epoch) then fit({ initialEpoch: 1, epochs: 3 }) equals fit(3 epochs) bit for bit on ${backend}`, async () => {
      const whole = await weightsAfter(backend, [{ epochs: 3 }]);
      const resumed = await weightsAfter(backend, [{ epochs: 1 }, { initialEpoch: 1, epochs: 3 }]);
      const twice = await weightsAfter(backend, [{ epochs: 1 }, { initialEpoch: 1, epochs: 2 }, { initialEpoch: 2, epochs: 3 }]);
      expect(resumed.length).toBe(whole.length);
      for (let i = 0; i < whole.length; i++) {
        expect(Array.from(resumed[i])).toEqual(Array.from(whole[i]));
        expect(Array.from(twice[i])).toEqual(Array.from(whole[i]));
      }
      // and training did move the weights: the comparison is not of two initial states
      const untrained = await weightsAfter(backend, []);
      expect(Array.from(untrained[untrained.length - 2])).not.toEqual(Array.from(whole[whole.length - 2]));
    });
  }

  it('each epoch gets its own shuffle stream, a function of (seed, epoch) only', () => {
    expect(epochSeed(11, 1, 0)).toBe(epochSeed(11, 1, 0));
    const seen = new Set([epochSeed(11, 0, 0), epochSeed(11, 1, 0), epochSeed(11, 2, 0), epochSeed(12, 0, 0), epochSeed(11, 0, 1)]);
    expect(seen.size).toBe(5);
  });

  it('rejects an initialEpoch that is not a non-negative integer', async () => {
    await ck.setBackend('ts');
    const data = (await ck.loadDigits()).slice(0, 16);
    const m = makeModel();
    await expect(m.fit(data, { epochs: 2, initialEpoch: -1, verbose: 0 })).rejects.toThrow(/initialEpoch must be a non-negative integer, received -1/);
    await expect(m.fit(data, { epochs: 2, initialEpoch: 0.5, verbose: 0 })).rejects.toThrow(/initialEpoch/);
  });
});
