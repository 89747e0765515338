/**
 * `convkit verify` on vector files this test writes itself: every op of VECTORS.md's table
 * (the optimize op included) is computed on the `ts` oracle in float64, outputs and
 * vector-Jacobian products written in the public format, and the CLI then checks the
 * `wasm` backend in float32 (and `ts` in float64) against the file: the public way to
 * check one backend against another. A deliberately wrong copy must fail, naming the
 * case, the tensor and the element.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { main } from '../../src/cli/main.js';
import { VERIFY_OPS } from '../../src/verify/index.js';

type Attrs = Record<string, unknown>;
interface Spec {
  name: string;
  op: string;
  attrs: Attrs;
  inputs: Record<string, Tensor>;
  /** Inputs to differentiate (none for iou, nms, optimize). */
  grads: string[];
  outputs?: string[];
}

const f64 = (shape: number[], seed: number, std = 1) => ck.randomNormal(shape, { seed, std, dtype: 'float64' });
const u64 = (shape: number[], seed: number, min: number, max: number) => ck.randomUniform(shape, { seed, min, max, dtype: 'float64' });
const boxes = (n: number, seed: number) => {
  const c = u64([n, 2], seed, 0, 1).toArray(), s = u64([n, 2], seed + 1, 0.1, 0.5).toArray();
  return ck.tensor(Array.from({ length: n }, (_, i) => [c[2 * i], c[2 * i + 1], c[2 * i] + s[2 * i], c[2 * i + 1] + s[2 * i + 1]]).flat(), [n, 4], 'float64');
};

function specs(): Spec[] {
  const x4 = (s: number) => f64([2, 5, 6, 3], s);
  return [
    { name: 'conv1d stride 2, causal padding, groups 2, bias', op: 'conv1d', attrs: { strides: [2], padding: [[2, 0]], dilations: [1], groups: 2 }, inputs: { x: f64([2, 9, 4], 1), w: f64([3, 2, 6], 2), b: f64([6], 3) }, grads: ['x', 'w', 'b'] },
    { name: 'conv2d same, dilation, groups 2', op: 'conv2d', attrs: { strides: [2, 1], padding: 'same', dilations: [1, 2], groups: 2 }, inputs: { x: f64([1, 6, 7, 4], 4), w: f64([3, 2, 2, 6], 5), b: f64([6], 6) }, grads: ['x', 'w', 'b'] },
    { name: 'conv2d depthwise 1x1 valid', op: 'conv2d', attrs: { groups: 3 }, inputs: { x: x4(7), w: f64([1, 1, 1, 3], 8) }, grads: ['x', 'w'] },
    { name: 'conv3d asymmetric padding', op: 'conv3d', attrs: { strides: [1, 2, 1], padding: [[1, 0], [0, 1], [1, 1]], dilations: [1, 1, 1] }, inputs: { x: f64([1, 4, 4, 3, 2], 9), w: f64([2, 2, 2, 2, 3], 10), b: f64([3], 11) }, grads: ['x', 'w', 'b'] },
    { name: 'conv2dTranspose stride 2, outputPadding', op: 'conv2dTranspose', attrs: { strides: [2, 2], padding: [[1, 0], [0, 1]], outputPadding: [1, 0], dilations: [1, 1] }, inputs: { x: f64([1, 3, 4, 2], 12), w: f64([3, 3, 3, 2], 13), b: f64([3], 14) }, grads: ['x', 'w', 'b'] },
    { name: 'maxPool2d 3x3 stride 2 pad 1', op: 'maxPool2d', attrs: { size: [3, 3], strides: [2, 2], padding: [[1, 1], [1, 1]] }, inputs: { x: x4(15) }, grads: ['x'] },
    { name: 'minPool2d 2x2', op: 'minPool2d', attrs: { size: [2, 2], strides: [2, 2], padding: 'valid' }, inputs: { x: x4(16) }, grads: ['x'] },
    { name: 'avgPool2d same, counting padding', op: 'avgPool2d', attrs: { size: [3, 3], strides: [2, 2], padding: 'same', countIncludePad: true }, inputs: { x: x4(17) }, grads: ['x'] },
    { name: 'avgPool2d same, real cells only', op: 'avgPool2d', attrs: { size: [3, 3], strides: [2, 2], padding: 'same', countIncludePad: false }, inputs: { x: x4(18) }, grads: ['x'] },
    { name: 'globalAvgPool2d', op: 'globalAvgPool2d', attrs: {}, inputs: { x: x4(19) }, grads: ['x'] },
    { name: 'globalMaxPool2d', op: 'globalMaxPool2d', attrs: {}, inputs: { x: x4(20) }, grads: ['x'] },
    { name: 'matmul transposeB', op: 'matmul', attrs: { transposeA: false, transposeB: true }, inputs: { a: f64([3, 4], 21), b: f64([5, 4], 22) }, grads: ['a', 'b'] },
    ...['relu', 'sigmoid', 'tanh', 'selu', 'softplus', 'step'].map((op, i) => ({ name: op, op, attrs: {}, inputs: { x: f64([3, 4], 23 + i, 2) }, grads: ['x'] })),
    { name: 'leakyRelu 0.2', op: 'leakyRelu', attrs: { alpha: 0.2 }, inputs: { x: f64([3, 4], 30) }, grads: ['x'] },
    { name: 'elu 0.7', op: 'elu', attrs: { alpha: 0.7 }, inputs: { x: f64([3, 4], 31) }, grads: ['x'] },
    { name: 'gelu tanh', op: 'gelu', attrs: { approximate: 'tanh' }, inputs: { x: f64([3, 4], 32, 2) }, grads: ['x'] },
    { name: 'gelu erf', op: 'gelu', attrs: { approximate: 'none' }, inputs: { x: f64([3, 4], 33, 2) }, grads: ['x'] },
    { name: 'prelu per channel', op: 'prelu', attrs: {}, inputs: { x: f64([2, 3, 4], 34), alpha: u64([4], 35, 0.1, 0.5) }, grads: ['x', 'alpha'] },
    { name: 'softmax axis 1', op: 'softmax', attrs: { axis: 1 }, inputs: { x: f64([2, 5, 3], 36, 3) }, grads: ['x'] },
    { name: 'logSoftmax last axis', op: 'logSoftmax', attrs: { axis: -1 }, inputs: { x: f64([4, 6], 37, 3) }, grads: ['x'] },
    { name: 'batchNorm training', op: 'batchNorm', attrs: { epsilon: 1e-5, training: true }, inputs: { x: x4(38), gamma: f64([3], 39), beta: f64([3], 40) }, grads: ['x', 'gamma', 'beta'] },
    { name: 'batchNorm inference', op: 'batchNorm', attrs: { epsilon: 1e-3, training: false }, inputs: { x: f64([4, 3], 41), gamma: f64([3], 42), beta: f64([3], 43), mean: f64([3], 44), variance: u64([3], 45, 0.5, 2) }, grads: ['x', 'gamma', 'beta'] },
    { name: 'lrn size 3', op: 'lrn', attrs: { size: 3, alpha: 0.1, beta: 0.75, k: 1 }, inputs: { x: f64([1, 2, 3, 5], 46) }, grads: ['x'] },
    { name: 'layerNorm last axis', op: 'layerNorm', attrs: { axes: [-1], epsilon: 1e-5 }, inputs: { x: f64([3, 6], 47), gamma: f64([6], 48), beta: f64([6], 49) }, grads: ['x', 'gamma', 'beta'] },
    { name: 'meanSquaredError sum', op: 'meanSquaredError', attrs: { reduction: 'sum' }, inputs: { y: f64([3, 4], 50), target: f64([3, 4], 51) }, grads: ['y', 'target'] },
    { name: 'binaryCrossEntropy', op: 'binaryCrossEntropy', attrs: { reduction: 'mean' }, inputs: { p: u64([3, 4], 52, 0.05, 0.95), target: u64([3, 4], 53, 0, 1) }, grads: ['p'] },
    { name: 'binaryCrossEntropyWithLogits', op: 'binaryCrossEntropyWithLogits', attrs: { reduction: 'sum' }, inputs: { logits: f64([3, 4], 54, 3), target: u64([3, 4], 55, 0, 1) }, grads: ['logits', 'target'] },
    { name: 'softmaxCrossEntropy sparse', op: 'softmaxCrossEntropy', attrs: { reduction: 'mean' }, inputs: { logits: f64([4, 5], 56, 2), labels: ck.tensor([4, 0, 2, 2], [4], 'float64') }, grads: ['logits'] },
    { name: 'softmaxCrossEntropy one-hot', op: 'softmaxCrossEntropy', attrs: { reduction: 'sum' }, inputs: { logits: f64([3, 4], 57, 2), labels: ck.oneHot(ck.tensor([1, 3, 0], [3], 'int32'), 4, 'float64') }, grads: ['logits'] },
    { name: 'tripletLoss margin 0.3', op: 'tripletLoss', attrs: { margin: 0.3, reduction: 'mean' }, inputs: { anchor: f64([4, 3], 58), positive: f64([4, 3], 59), negative: f64([4, 3], 60) }, grads: ['anchor', 'positive', 'negative'] },
    { name: 'gram normalised', op: 'gram', attrs: { normalize: true }, inputs: { x: f64([2, 3, 4, 3], 61) }, grads: ['x'] },
    { name: 'iou', op: 'iou', attrs: {}, inputs: { a: boxes(3, 62), b: boxes(4, 64) }, grads: [] },
    { name: 'nms 0.3', op: 'nms', attrs: { iouThreshold: 0.3, scoreThreshold: 0.2 }, inputs: { boxes: boxes(8, 66), scores: u64([8], 68, 0, 1) }, grads: [] },
    { name: 'optimize adam', op: 'optimize', attrs: { optimizer: 'adam', steps: 3, lr: 0.1, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.01 }, inputs: { w0: f64([5], 69), c: f64([5], 70) }, grads: [], outputs: ['w1', 'w2', 'w3'] },
    { name: 'optimize sgd nesterov', op: 'optimize', attrs: { optimizer: 'sgd', steps: 2, lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1 }, inputs: { w0: f64([4], 71), c: f64([4], 72) }, grads: [], outputs: ['w1', 'w2'] },
  ];
}

const T = (t: Tensor) => ({ shape: [...t.shape], data: Array.from(t.dataSync()) });

/** One case in the public format, computed on the current backend in float64. */
function makeCase(s: Spec) {
  const spec = VERIFY_OPS[s.op];
  const ins: Record<string, Tensor> = { ...s.inputs };
  if (s.op === 'softmaxCrossEntropy' && ins.labels.rank === 1) ins.labels = ck.cast(ins.labels, 'int32');
  const outNames = s.outputs ?? ['y'];
  const outs = spec.run(ins, s.attrs, outNames.length);
  const c: Record<string, unknown> = {
    name: s.name, op: s.op, attrs: s.attrs,
    inputs: Object.fromEntries(Object.entries(s.inputs).map(([k, t]) => [k, T(t)])),
    outputs: Object.fromEntries(outs.map((o, i) => [outNames[i], T(o)])),
  };
  if (s.grads.length) {
    const cots = outs.map((o, i) => f64([...o.shape], 500 + i));
    const f = (...xs: Tensor[]) => {
      const all = { ...ins };
      s.grads.forEach((n, i) => (all[n] = xs[i]));
      return spec.run(all, s.attrs, 1).map((y, i) => ck.sum(ck.mul(y, cots[i]))).reduce((a, b) => ck.add(a, b));
    };
    const { grads } = ck.valueAndGrad(f)(...s.grads.map((n) => ins[n]));
    c.cotangents = Object.fromEntries(outNames.map((n, i) => [n, T(cots[i])]));
    c.grads = Object.fromEntries(s.grads.map((n, i) => [n, T(grads[i])]));
  }
  return c;
}

const dir = mkdtempSync(join(tmpdir(), 'convkit-generated-'));
let good = '';
let cases: Record<string, unknown>[] = [];

let out: string[] = [];
let err: string[] = [];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});
afterEach(() => vi.restoreAllMocks());

beforeAll(() => {
  cases = ck.withBackend('ts', () => ck.tidy(() => specs().map(makeCase)));
  good = join(dir, 'generated.json');
  writeFileSync(good, JSON.stringify({ format: 'convkit-vectors/1', generator: 'convkit ts backend, float64 (test/verify/generated.test.ts)', cases }));
});

describe('convkit verify on vectors generated by the ts oracle', () => {
  it('covers every op of the table, with gradients for every differentiable one', () => {
    expect(new Set(cases.map((c) => c.op))).toEqual(new Set(Object.keys(VERIFY_OPS)));
    for (const op of Object.keys(VERIFY_OPS)) {
      if (op === 'iou' || op === 'nms' || op === 'optimize') continue;
      expect(cases.some((c) => c.op === op && c.grads), `${op} has a case with grads`).toBe(true);
    }
  });

  it('ts in float64 reproduces them exactly enough (exit 0)', async () => {
    expect(await main(['verify', good, '--backend', 'ts', '--dtype', 'float64'])).toBe(0);
    expect(out[out.length - 1]).toBe(`${cases.length} passed, 0 failed`);
  });

  it('wasm in float32 matches the float64 oracle within the float32 tolerances (exit 0)', async () => {
    expect(await main(['verify', good, '--backend', 'wasm', '--dtype', 'float32'])).toBe(0);
    expect(out.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(out[out.length - 1]).toBe(`${cases.length} passed, 0 failed`);
  });

  it('a deliberately wrong file fails and says where: the case, the tensor and the element (exit 1)', async () => {
    const wrong = JSON.parse(JSON.stringify(cases)) as { name: string; op: string; grads?: Record<string, { data: number[] }>; outputs: Record<string, { data: number[]; shape: number[] }> }[];
    const conv = wrong.find((c) => c.op === 'conv2d')!;
    conv.grads!.w.data[5] += 0.5;
    const box = wrong.find((c) => c.op === 'iou')!;
    box.outputs.y.shape = [4, 3]; // same element count, so the file stays well-formed
    const opt = wrong.find((c) => c.op === 'optimize')!;
    opt.outputs.w2.data[1] -= 1e-3;
    const path = join(dir, 'wrong.json');
    writeFileSync(path, JSON.stringify({ format: 'convkit-vectors/1', generator: 'deliberately wrong', cases: wrong }));
    expect(await main(['verify', path, '--backend', 'wasm', '--dtype', 'float32']), err.join('\n')).toBe(1);
    const fails = out.filter((l) => l.startsWith('FAIL'));
    expect(fails).toHaveLength(3);
    expect(fails[0]).toMatch(new RegExp(`^FAIL  ${conv.name}  \\[conv2d\\] .* -- grad w\\[5\\]: got \\S+, expected \\S+`));
    expect(fails[1]).toMatch(/^FAIL {2}iou {2}\[iou\] .* -- output y: shape \[3, 4\], expected \[4, 3\]/);
    expect(fails[2]).toMatch(/^FAIL {2}optimize adam {2}\[optimize\] .* -- output w2\[1\]: got \S+, expected \S+/);
    expect(out[out.length - 1]).toBe(`${cases.length - 3} passed, 3 failed`);
  });
});
