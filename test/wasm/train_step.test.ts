/**
 * One training step of a small CNN on `wasm` must stay in WASM: conv2d + bias, relu,
 * maxPool2d, flatten, dense matmul + bias, softmax cross-entropy, backward (conv and
 * matmul gradients, pooling and relu gradients, bias gradients through Sum, gradient
 * accumulation through Add, the Fill seeds), and the optimiser update. The test clears
 * the fallback log, runs the step, and requires the log to be empty; loss, gradients and
 * updated parameters must equal the ts backend's within float32 tolerance.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { mismatch } from '../util/close.js';
import { rand } from '../util/rand.mjs';

const N = 3, H = 9, W = 9, C = 3, F = 5, CLASSES = 7;

interface Params {
  w1: Tensor; b1: Tensor; gamma: Tensor; beta: Tensor; w2: Tensor; b2: Tensor;
}

function makeParams(): Params {
  const p = {
    w1: ck.tensor(rand(3 * 3 * C * F, 1, -0.5, 0.5), [3, 3, C, F]),
    b1: ck.tensor(rand(F, 2, -0.1, 0.1), [F]),
    gamma: ck.tensor(rand(F, 3, 0.8, 1.2), [F]),
    beta: ck.tensor(rand(F, 4, -0.1, 0.1), [F]),
    w2: ck.tensor(rand(5 * 5 * F * CLASSES, 5, -0.3, 0.3), [5 * 5 * F, CLASSES]),
    b2: ck.tensor(rand(CLASSES, 6, -0.1, 0.1), [CLASSES]),
  };
  for (const t of Object.values(p)) t.requiresGrad = true;
  return p;
}

function oneHotLabels(): Float32Array {
  const y = new Float32Array(N * CLASSES);
  for (let n = 0; n < N; n++) y[n * CLASSES + ((n * 3) % CLASSES)] = 1;
  return y;
}

/** conv(+bias) or conv -> batch norm, then relu -> maxpool 2x2 'same' -> flatten -> dense(+bias) -> softmax CE. */
function loss(p: Params, x: Tensor, labels: Tensor, withBatchNorm: boolean): Tensor {
  // before batch norm a conv bias has no effect (its gradient is rounding noise): leave it out
  let h = ck.conv2d(x, p.w1, { padding: 'same', bias: withBatchNorm ? undefined : p.b1 });
  if (withBatchNorm) h = ck.batchNorm(h, p.gamma, p.beta, { training: true });
  h = ck.relu(h);
  h = ck.maxPool2d(h, { size: 2, padding: 'same' });
  h = ck.flatten(h);
  const logits = ck.add(ck.matmul(h, p.w2), p.b2);
  return ck.softmaxCrossEntropy(logits, labels);
}

interface StepResult {
  loss: number;
  grads: Record<string, Float32Array>;
  after: Record<string, Float32Array>;
}

/** One step (forward, backward, optimiser update) on `backend`. */
function step(backend: string, opt: () => ck.Optimizer, withBatchNorm: boolean, sparse = false): StepResult {
  return ck.withBackend(backend, () => {
    const p = makeParams();
    const names = (withBatchNorm ? ['w1', 'gamma', 'beta', 'w2', 'b2'] : ['w1', 'b1', 'w2', 'b2']) as (keyof Params)[];
    const params = names.map((k) => p[k]);
    const x = ck.tensor(rand(N * H * W * C, 7), [N, H, W, C]);
    const labels = sparse ? ck.tensor(Int32Array.from({ length: N }, (_, n) => (n * 3) % CLASSES), [N], 'int32') : ck.tensor(oneHotLabels(), [N, CLASSES]);
    const o = opt();
    const value = ck.tidy(() => {
      const l = loss(p, x, labels, withBatchNorm);
      ck.backward(l);
      return l.item();
    });
    const grads = Object.fromEntries(names.map((k) => [k, p[k].grad!.dataSync().slice() as Float32Array]));
    o.step(params);
    o.zeroGrad(params);
    const after = Object.fromEntries(names.map((k) => [k, p[k].dataSync().slice() as Float32Array]));
    o.dispose();
    for (const t of [...Object.values(p), x, labels]) t.dispose();
    return { loss: value, grads, after };
  });
}

function compare(got: StepResult, want: StepResult): void {
  expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want.loss)));
  for (const k of Object.keys(want.grads)) {
    // gradients are sums over up to N*H*W = 243 terms (conv filter, biases)
    const m = mismatch(got.grads[k], want.grads[k], { atol: 2e-5, rtol: 2e-4 });
    if (m) expect.fail(`gradient of ${k}: ${m}`);
    const a = mismatch(got.after[k], want.after[k], { atol: 2e-5, rtol: 2e-4 });
    if (a) expect.fail(`updated ${k}: ${a}`);
  }
}

describe('a CNN training step on wasm stays in WASM and matches ts', () => {
  const optimisers: [string, () => ck.Optimizer][] = [
    ['SGD momentum', () => new ck.SGD({ lr: 0.1, momentum: 0.9 })],
    ['Adam', () => new ck.Adam({ lr: 1e-2 })],
  ];
  for (const [label, opt] of optimisers) {
    for (const bn of [false, true]) {
      it(`${label}${bn ? ' with batch norm' : ''}: no fallback, same loss, gradients and update`, () => {
        const want = step('ts', opt, bn);
        ck.clearFallbacks();
        const got = step('wasm', opt, bn);
        expect(ck.getFallbacks()).toEqual([]);
        compare(got, want);
      });
    }
  }
  it('int32 class labels: only the label one-hot encoding leaves WASM (the backend stores float32 only)', () => {
    const want = step('ts', optimisers[0][1], false, true);
    ck.clearFallbacks();
    const got = step('wasm', optimisers[0][1], false, true);
    for (const f of ck.getFallbacks()) expect([f.kernel, f.reason]).toEqual(['OneHot', 'dtype int32']);
    compare(got, want);
  });
});
