/**
 * convkit against reference vectors: the hand-computed example of VECTORS.md and the
 * PyTorch-generated test/vectors/torch.json (scripts/make_vectors.py), on `ts` in
 * float64 and float32. One test per case, so a failure names the case and its error.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { parseVectors, verifyCase } from '../../src/verify/index.js';

const here = new URL('../vectors/', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, here), 'utf8');

/** The op column of VECTORS.md's table. */
const TABLE_OPS = [
  'conv1d', 'conv2d', 'conv3d', 'conv2dTranspose', 'maxPool2d', 'minPool2d', 'avgPool2d', 'globalAvgPool2d',
  'globalMaxPool2d', 'matmul', 'relu', 'sigmoid', 'tanh', 'selu', 'softplus', 'step', 'leakyRelu', 'elu', 'gelu',
  'prelu', 'softmax', 'logSoftmax', 'batchNorm', 'lrn', 'layerNorm', 'meanSquaredError', 'binaryCrossEntropy',
  'binaryCrossEntropyWithLogits', 'softmaxCrossEntropy', 'tripletLoss', 'gram', 'iou', 'nms', 'optimize',
];

const torchFile = parseVectors(read('torch.json'), 'torch.json');
const exampleText = read('example.json');

describe('coverage', () => {
  it('the op table maps every op of VECTORS.md', () => {
    expect([...ck.VERIFY_OP_NAMES].sort()).toEqual([...TABLE_OPS].sort());
  });
  it('torch.json covers every op, with gradients for the differentiable ones', () => {
    const ops = new Set(torchFile.cases.map((c) => c.op));
    expect([...ops].sort()).toEqual([...TABLE_OPS].sort());
    const noGrad = new Set(['iou', 'nms', 'optimize']);
    for (const op of TABLE_OPS) {
      if (noGrad.has(op)) continue;
      expect(torchFile.cases.some((c) => c.op === op && c.grads), `${op} has a case with grads`).toBe(true);
    }
    const optimizers = new Set(torchFile.cases.filter((c) => c.op === 'optimize').map((c) => c.attrs.optimizer));
    expect([...optimizers].sort()).toEqual(['adadelta', 'adagrad', 'adam', 'adamw', 'rmsprop', 'sgd']);
  });
});

for (const dtype of ['float64', 'float32'] as const) {
  describe(`example.json on ts ${dtype}`, () => {
    it('passes both hand-computed cases', async () => {
      const r = await ck.verifyVectors(exampleText, { backend: 'ts', dtype });
      expect(r.cases.map((c) => [c.name, c.pass, c.error])).toEqual([
        ['conv2d 3x3 input, 2x2 kernel, padding 1', true, undefined],
        ['relu', true, undefined],
      ]);
      expect([r.passed, r.failed]).toEqual([2, 0]);
    });
  });

  describe(`torch.json on ts ${dtype}`, () => {
    for (const c of torchFile.cases) {
      it(`${c.op}: ${c.name}`, async () => {
        const r = await verifyCase(c, dtype);
        expect(r.error).toBeUndefined();
        expect(r.pass).toBe(true);
        expect(r.maxAbsErr).not.toBeNull();
      });
    }
  });
}

describe('the optimisers against torch.optim (weight decay, Nesterov, AMSGrad, centred, lr decay)', () => {
  it('every optimize case matches PyTorch to 1e-12 in float64', async () => {
    const cases = torchFile.cases.filter((c) => c.op === 'optimize');
    expect(cases.length).toBeGreaterThanOrEqual(18);
    for (const c of cases) {
      const r = await verifyCase({ ...c, tol: { atol: 1e-12, rtol: 1e-12 } }, 'float64');
      expect(r.error, c.name).toBeUndefined();
    }
  });
});
