/**
 * Memory ownership on `wasm`: 1,000 training steps (forward and backward inside tidy,
 * optimiser update, zeroGrad) must leave the number of live storages, their bytes and
 * the allocator's linear-memory high-water mark exactly where they were after a short
 * warm-up; disposing the model and optimiser must bring the storages back to zero
 * growth. Kernel temporaries (scratch, multi-pass reductions) must be released too.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { WasmBackend } from '../../src/backends/wasm/index.js';
import { rand } from '../util/rand.mjs';

const wasm = (): WasmBackend => ck.withBackend('wasm', () => ck.backend() as WasmBackend);
const live = () => wasm().memory();

describe('wasm memory does not grow over a training loop', () => {
  it('1,000 steps of a small CNN with Adam: storages, bytes and linear memory stay flat; disposing frees', () => {
    const before = live();
    ck.withBackend('wasm', () => {
      const w1 = ck.tensor(rand(3 * 3 * 2 * 3, 1, -0.5, 0.5), [3, 3, 2, 3]);
      const b1 = ck.tensor(rand(3, 2, -0.1, 0.1), [3]);
      const gamma = ck.tensor(rand(3, 3, 0.8, 1.2), [3]);
      const beta = ck.tensor(rand(3, 4, -0.1, 0.1), [3]);
      const w2 = ck.tensor(rand(27 * 4, 5, -0.3, 0.3), [27, 4]);
      const b2 = ck.tensor(rand(4, 6, -0.1, 0.1), [4]);
      const params: Tensor[] = [w1, b1, gamma, beta, w2, b2];
      for (const p of params) p.requiresGrad = true;
      const x = ck.tensor(rand(2 * 6 * 6 * 2, 7), [2, 6, 6, 2]);
      const labels = ck.tensor(Float32Array.from([1, 0, 0, 0, 0, 0, 1, 0]), [2, 4]);
      const opt = new ck.Adam({ lr: 1e-2 });

      const stepOnce = (): number => {
        const loss = ck.tidy(() => {
          let h = ck.relu(ck.conv2d(x, w1, { padding: 'same', bias: b1 }));
          h = ck.batchNorm(h, gamma, beta, { training: true });
          h = ck.flatten(ck.maxPool2d(h, { size: 2 }));
          const l = ck.softmaxCrossEntropy(ck.add(ck.matmul(h, w2), b2), labels);
          ck.backward(l);
          return l.item();
        });
        opt.step(params);
        opt.zeroGrad(params);
        return loss;
      };

      ck.clearFallbacks();
      const first = stepOnce();
      for (let i = 1; i < 10; i++) stepOnce();
      const warm = live();
      const hw = wasm().linearMemory().highWater;
      let last = first;
      for (let i = 10; i < 1000; i++) {
        last = stepOnce();
        if (i % 100 === 0) expect(live(), `after step ${i}`).toEqual(warm);
      }
      expect(live()).toEqual(warm);
      expect(wasm().linearMemory().highWater).toBe(hw);
      // the loop trained (and stayed in WASM), so the flat memory is not an idle loop's
      expect(ck.getFallbacks()).toEqual([]);
      expect(last).toBeLessThan(first);

      opt.dispose();
      for (const t of [...params, x, labels]) t.dispose();
    });
    expect(live()).toEqual(before);
  });

  it('kernels with temporaries (multi-pass reductions, batch-norm scratch, concat) release them', () => {
    ck.withBackend('wasm', () => {
      const x = ck.tensor(rand(3 * 4 * 5 * 6, 1), [3, 4, 5, 6]);
      const g = ck.ones([6]), b = ck.zeros([6]);
      const once = () =>
        ck.tidy(() => {
          ck.sum(x, { axes: [0, 2] }); // two reduced groups: two passes, one temporary
          ck.max(x, { axes: [1, 3] });
          ck.batchNorm(x, g, b, { training: true });
          ck.concat([x, x], 3);
          ck.transpose(x, [0, 3, 1, 2]);
        });
      once();
      const warm = live();
      const lm = wasm().linearMemory();
      for (let i = 0; i < 50; i++) once();
      expect(live()).toEqual(warm);
      expect(wasm().linearMemory().inUse).toBe(lm.inUse);
      expect(wasm().linearMemory().highWater).toBe(lm.highWater);
      for (const t of [x, g, b]) t.dispose();
    });
  });
});
