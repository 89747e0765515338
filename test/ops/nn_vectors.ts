/**
 * Runs the PyTorch reference vectors in test/ops/vectors/nn-torch.json (written by
 * scripts/gen-nn-vectors.py, format of VECTORS.md) for the activation, normalisation,
 * loss and box ops: forward values and vector-Jacobian products in float64, and the
 * forward again in float32.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { DType, Tensor } from '../../src/index.js';
import { mismatch } from '../util/close.js';

interface T {
  shape: number[];
  data: number[];
}
interface Case {
  name: string;
  op: string;
  attrs: Record<string, unknown>;
  inputs: Record<string, T>;
  outputs: Record<string, T>;
  cotangents?: Record<string, T>;
  grads?: Record<string, T>;
}

const file = fileURLToPath(new URL('./vectors/nn-torch.json', import.meta.url));
const CASES: Case[] = JSON.parse(readFileSync(file, 'utf8')).cases;

type Fn = (x: Record<string, Tensor>, a: Record<string, unknown>) => Record<string, Tensor>;
const a = (attrs: Record<string, unknown>, k: string) => attrs[k] as never;

/** The convkit call for each vector op; the output names are the file's. */
const OPS: Record<string, Fn> = {
  relu: (x) => ({ y: ck.relu(x.x) }),
  sigmoid: (x) => ({ y: ck.sigmoid(x.x) }),
  tanh: (x) => ({ y: ck.tanh(x.x) }),
  selu: (x) => ({ y: ck.selu(x.x) }),
  softplus: (x) => ({ y: ck.softplus(x.x) }),
  leakyRelu: (x, at) => ({ y: ck.leakyRelu(x.x, a(at, 'alpha')) }),
  elu: (x, at) => ({ y: ck.elu(x.x, a(at, 'alpha')) }),
  gelu: (x, at) => ({ y: ck.gelu(x.x, { approximate: a(at, 'approximate') }) }),
  prelu: (x) => ({ y: ck.prelu(x.x, x.alpha) }),
  softmax: (x, at) => ({ y: ck.softmax(x.x, a(at, 'axis')) }),
  logSoftmax: (x, at) => ({ y: ck.logSoftmax(x.x, a(at, 'axis')) }),
  batchNorm: (x, at) => ({
    y: ck.batchNorm(x.x, x.gamma, x.beta, { mean: x.mean, variance: x.variance, epsilon: a(at, 'epsilon'), training: a(at, 'training') }),
  }),
  lrn: (x, at) => ({ y: ck.lrn(x.x, at as ck.LrnOpts) }),
  layerNorm: (x, at) => ({ y: ck.layerNorm(x.x, x.gamma, x.beta, { axes: a(at, 'axes'), epsilon: a(at, 'epsilon') }) }),
  meanSquaredError: (x, at) => ({ loss: ck.meanSquaredError(x.y, x.target, { reduction: a(at, 'reduction') }) }),
  binaryCrossEntropy: (x, at) => ({ loss: ck.binaryCrossEntropy(x.p, x.target, { reduction: a(at, 'reduction') }) }),
  binaryCrossEntropyWithLogits: (x, at) => ({ loss: ck.binaryCrossEntropyWithLogits(x.logits, x.target, { reduction: a(at, 'reduction') }) }),
  softmaxCrossEntropy: (x, at) => ({ loss: ck.softmaxCrossEntropy(x.logits, x.labels, { reduction: a(at, 'reduction') }) }),
  tripletLoss: (x, at) => ({ loss: ck.tripletLoss(x.anchor, x.positive, x.negative, { margin: a(at, 'margin'), reduction: a(at, 'reduction') }) }),
  gram: (x, at) => ({ y: ck.gram(x.x, { normalize: a(at, 'normalize') }) }),
  iou: (x) => ({ y: ck.iou(x.a, x.b) }),
  nms: (x, at) => ({ keep: ck.nms(x.boxes, x.scores, at as ck.NmsOpts) }),
};

function inputsOf(c: Case, dtype: DType): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.inputs)) {
    // Class indices (a 1-D labels input) are int32; everything else is float.
    const dt: DType = c.op === 'softmaxCrossEntropy' && k === 'labels' && v.shape.length === 1 ? 'int32' : dtype;
    out[k] = ck.tensor(v.data, v.shape, dt);
  }
  return out;
}

function check(what: string, actual: Tensor, expected: T, tol: { atol: number; rtol: number }): void {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  const m = mismatch(actual.dataSync(), expected.data, tol);
  if (m) expect.fail(`${what}: ${m}`);
}

/** One `it` per case whose op is in `ops`, checking float64 values and gradients, and float32 values. */
export function torchVectorTests(ops: string[]): void {
  const selected = CASES.filter((c) => ops.includes(c.op));
  it('has reference vectors for every op it is asked about', () => {
    for (const op of ops) expect(selected.some((c) => c.op === op), `no vector for ${op}`).toBe(true);
  });
  for (const c of selected) {
    it(`matches PyTorch: ${c.name}`, () => {
      const fn = OPS[c.op];
      ck.tidy(() => {
        // float64: the file's default tolerance.
        const tol64 = { atol: 1e-9, rtol: 1e-7 };
        const x64 = inputsOf(c, 'float64');
        const y64 = fn(x64, c.attrs);
        for (const [k, v] of Object.entries(c.outputs)) check(`${c.name} ${k} (float64)`, y64[k], v, tol64);
        if (c.grads && c.cotangents) {
          const names = Object.keys(c.grads);
          const cot = c.cotangents;
          const { grads } = ck.valueAndGrad((...xs: Tensor[]) => {
            const inputs = { ...x64 };
            names.forEach((n, i) => (inputs[n] = xs[i]));
            const ys = fn(inputs, c.attrs);
            return Object.entries(cot)
              .map(([k, t]) => ck.sum(ck.mul(ys[k], ck.tensor(t.data, t.shape, 'float64'))))
              .reduce((p, q) => ck.add(p, q));
          })(...names.map((n) => x64[n]));
          names.forEach((n, i) => check(`${c.name} d/d${n} (float64)`, grads[i], c.grads![n], tol64));
        }
        // float32: every value is computed in double and rounded once, so the
        // differences are float32 rounding of inputs and outputs (~1e-7 relative),
        // amplified at most by the ops' condition numbers here.
        const x32 = inputsOf(c, 'float32');
        const y32 = fn(x32, c.attrs);
        for (const [k, v] of Object.entries(c.outputs)) {
          expect(y32[k].dtype, `${c.name} ${k} keeps float32`).toBe(c.op === 'nms' ? 'int32' : 'float32');
          check(`${c.name} ${k} (float32)`, y32[k], v, { atol: 1e-5, rtol: 1e-4 });
        }
      });
    });
  }
}
