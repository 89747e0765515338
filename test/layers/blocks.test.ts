import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { layers as L } from '../../src/index.js';
import { expectClose } from '../util/close.js';
import { directionalCheck } from '../util/gradcheck.js';

const conv = (cin: number, k: number, cout: number, bias = false) => (cin * k * k + (bias ? 1 : 0)) * cout;
const bn = (c: number) => 2 * c; // trainable gamma + beta (running mean/var are non-trainable)

function gradsReachEveryWeight(layer: ck.layers.Layer, shape: number[]): void {
  const x = ck.randomNormal(shape, { seed: 3 });
  const y = layer.apply(x, { training: true });
  ck.sum(ck.mul(y, ck.randomNormal(y.shape, { seed: 4 }))).backward();
  for (const w of layer.weights) {
    if (!w.trainable) continue;
    expect(w.value.grad, w.name).not.toBeNull();
    expect(ck.sum(ck.abs(w.value.grad!)).item(), w.name).toBeGreaterThan(0);
  }
}

describe('ResidualBlock', () => {
  it('basic block with identity shortcut: parameters and shapes', () => {
    const b = L.residualBlock({ filters: 16 });
    const y = b.apply(ck.input([8, 8, 16]));
    expect(y.shape).toEqual([8, 8, 16]);
    expect(b.countParams('trainable')).toBe(2 * conv(16, 3, 16) + 2 * bn(16));
    expect(b.countParams('nonTrainable')).toBe(2 * 2 * 16);
    expect(b.layers.map((l) => l.name)).toEqual(['conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'add', 'out_relu']);
    expect(b.macs([8, 8, 16])).toBe(2 * 8 * 8 * 16 * 9 * 16);
    expect(b.weights.map((w) => w.name)).toContain('conv1/kernel');
  });

  it('basic block with projection shortcut (stride 2, more channels)', () => {
    const b = L.residualBlock({ filters: 32, strides: 2 });
    expect(b.apply(ck.input([8, 8, 16])).shape).toEqual([4, 4, 32]);
    expect(b.countParams('trainable')).toBe(conv(16, 3, 32) + conv(32, 3, 32) + conv(16, 1, 32) + 3 * bn(32));
    expect(b.macs([8, 8, 16])).toBe(4 * 4 * 32 * (9 * 16 + 9 * 32 + 16));
  });

  it('bottleneck block: 1x1 reduce, 3x3, 1x1 expand by 4', () => {
    const b = L.residualBlock({ filters: 8, kind: 'bottleneck', strides: 2 });
    expect(b.apply(ck.input([6, 6, 16])).shape).toEqual([3, 3, 32]);
    expect(b.countParams('trainable')).toBe(conv(16, 1, 8) + conv(8, 3, 8) + conv(8, 1, 32) + conv(16, 1, 32) + bn(8) + bn(8) + bn(32) + bn(32));
  });

  it('pre-activation blocks (ResNet v2) have no BN on the shortcut and nothing after the sum', () => {
    const b = L.residualBlock({ filters: 8, preActivation: true, strides: 2 });
    expect(b.apply(ck.input([6, 6, 4])).shape).toEqual([3, 3, 8]);
    expect(b.countParams('trainable')).toBe(bn(4) + conv(4, 3, 8) + bn(8) + conv(8, 3, 8) + conv(4, 1, 8));
    expect(b.layers[b.layers.length - 1].className).toBe('Add');
    const p = L.residualBlock({ filters: 4, kind: 'bottleneck', preActivation: true });
    expect(p.apply(ck.input([5, 5, 16])).shape).toEqual([5, 5, 16]);
    expect(p.countParams('trainable')).toBe(bn(16) + conv(16, 1, 4) + bn(4) + conv(4, 3, 4) + bn(4) + conv(4, 1, 16));
  });

  it('an identity shortcut that cannot fit is an error naming the block', () => {
    const b = L.residualBlock({ name: 'res', filters: 8, strides: 2, shortcut: 'identity' });
    expect(() => b.apply(ck.input([6, 6, 8]))).toThrow(/^res \(ResidualBlock\): an identity shortcut needs/);
    const c = L.residualBlock({ name: 'res2', filters: 8 });
    c.build([6, 6, 8]);
    expect(() => c.apply(ck.zeros([1, 6, 6, 3]))).toThrow('res2 (ResidualBlock): expected input with 8 channels (shape [N, H, W, 8]), received [1, 6, 6, 3]');
  });

  it('wiring: with zero convolutions the block is relu(x) (the identity path)', () => {
    const b = L.residualBlock({ filters: 4 });
    const x = ck.randomNormal([2, 5, 5, 4], { seed: 1 });
    b.build([5, 5, 4]);
    for (const w of b.weights) if (w.name.endsWith('kernel')) w.value = ck.zerosLike(w.value);
    expectClose(b.apply(x, { training: false }), ck.relu(x), { atol: 0 });
  });

  it('forward/backward: gradients reach every weight and the input (finite differences, float64)', () => {
    gradsReachEveryWeight(L.residualBlock({ filters: 4, strides: 2, seed: 2 }), [2, 6, 6, 3]);
    gradsReachEveryWeight(L.residualBlock({ filters: 2, kind: 'bottleneck', preActivation: true, seed: 5 }), [2, 4, 4, 3]);
    const blk = L.residualBlock({ filters: 3, strides: 2, dtype: 'float64', seed: 7 });
    blk.build([5, 5, 2], 'float64');
    directionalCheck((x) => blk.apply(x, { training: true }), [ck.randomNormal([2, 5, 5, 2], { seed: 8, dtype: 'float64' })]);
  });
});

describe('SqueezeExcitation', () => {
  it('scales each channel by sigmoid(W2 relu(W1 GAP(x)))', () => {
    const se = L.squeezeExcitation({ ratio: 4, seed: 1 });
    const x = ck.randomNormal([2, 3, 3, 8], { seed: 2 });
    const y = se.apply(x);
    expect(se.countParams()).toBe(8 * 2 + 2 + 2 * 8 + 8);
    const [w1, b1, w2, b2] = se.weights.map((w) => w.value);
    const s = ck.sigmoid(ck.add(ck.matmul(ck.relu(ck.add(ck.matmul(ck.mean(x, { axes: [1, 2] }), w1), b1)), w2), b2));
    expectClose(y, ck.mul(x, ck.reshape(s, [2, 1, 1, 8])), { atol: 1e-6 });
    expect(se.macs([3, 3, 8])).toBe(8 * 2 + 2 * 8);
    gradsReachEveryWeight(L.squeezeExcitation({ ratio: 2, seed: 3 }), [2, 3, 3, 4]);
  });
});

describe('InceptionModule', () => {
  const args = { filters1x1: 4, reduce3x3: 3, filters3x3: 5, reduce5x5: 2, filters5x5: 3, poolProj: 2 };
  it('concatenates the four branches; parameters follow (cin*k*k + 1)*cout', () => {
    const m = L.inceptionModule(args);
    expect(m.apply(ck.input([7, 7, 6])).shape).toEqual([7, 7, 4 + 5 + 3 + 2]);
    expect(m.countParams()).toBe(conv(6, 1, 4, true) + conv(6, 1, 3, true) + conv(3, 3, 5, true) + conv(6, 1, 2, true) + conv(2, 5, 3, true) + conv(6, 1, 2, true));
    expect(m.macs([7, 7, 6])).toBe(49 * (6 * 4 + 6 * 3 + 9 * 3 * 5 + 6 * 2 + 25 * 2 * 3 + 6 * 2));
  });

  it("torchvision's form: bias-free convolutions + BN, 3x3 in the '5x5' branch", () => {
    const m = L.inceptionModule({ ...args, kernel5: 3, batchNorm: true });
    m.build([7, 7, 6]);
    expect(m.countParams('trainable')).toBe(conv(6, 1, 4) + conv(6, 1, 3) + conv(3, 3, 5) + conv(6, 1, 2) + conv(2, 3, 3) + conv(6, 1, 2) + 2 * (4 + 3 + 5 + 2 + 3 + 2));
  });

  it('forward/backward through every branch', () => {
    gradsReachEveryWeight(L.inceptionModule({ ...args, seed: 4 }), [2, 5, 5, 3]);
    gradsReachEveryWeight(L.inceptionModule({ ...args, kernel5: 3, batchNorm: true, seed: 5 }), [2, 4, 4, 3]);
    const m = L.inceptionModule({ ...args, dtype: 'float64', seed: 6 });
    m.build([4, 4, 2], 'float64');
    directionalCheck((x) => m.apply(x), [ck.randomNormal([1, 4, 4, 2], { seed: 9, dtype: 'float64' })]);
  });
});

describe('blocks in models', () => {
  it('freezing a block freezes every child; weights are named block/child/weight', () => {
    const m = ck.sequential([L.residualBlock({ name: 'res', filters: 4 }), L.globalAveragePooling2d(), L.dense({ name: 'out', units: 2 })], { inputShape: [5, 5, 4] });
    expect(m.weights.map((w) => w.name).slice(0, 2)).toEqual(['res/conv1/kernel', 'res/bn1/gamma']);
    m.freeze('res');
    expect(m.getLayer('res/conv1').trainable).toBe(false);
    expect(m.trainableWeights.length).toBe(2);
    expect(m.getLayer('res').weights.every((w) => !w.value.requiresGrad)).toBe(true);
    m.unfreeze('res');
    expect(m.trainableWeights.length).toBe(2 + 4 + 2);
  });
});
