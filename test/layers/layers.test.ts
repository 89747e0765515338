import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { layers as L } from '../../src/index.js';
import { expectClose } from '../util/close.js';

const rnd = (shape: number[], seed = 1, dtype: ck.DType = 'float32') => ck.randomNormal(shape, { seed, dtype });

describe('Dense', () => {
  it('computes x W + b with (nIn + 1) * units parameters and nIn * units MACs', () => {
    const d = L.dense({ units: 3, seed: 4 });
    const x = rnd([5, 4]);
    const y = d.apply(x);
    expect(y.shape).toEqual([5, 3]);
    expect(d.countParams()).toBe((4 + 1) * 3);
    expect(d.macs([4])).toBe(12);
    const [k, b] = d.weights;
    expect(k.name).toBe(`${d.name}/kernel`);
    expectClose(y, ck.add(ck.matmul(x, k.value), b.value), { atol: 1e-6 });
  });

  it('applies the kernel to the last axis of rank-3 inputs', () => {
    const d = L.dense({ units: 2, activation: 'tanh', seed: 1 });
    const x = rnd([2, 3, 4]);
    const y = d.apply(x);
    expect(y.shape).toEqual([2, 3, 2]);
    const flat = ck.tanh(ck.add(ck.matmul(ck.reshape(x, [6, 4]), d.weights[0].value), d.weights[1].value));
    expectClose(y, ck.reshape(flat, [2, 3, 2]), { atol: 1e-6 });
    expect(d.macs([3, 4])).toBe(3 * 4 * 2);
  });

  it('equal seeds give equal weights; different seeds differ', () => {
    const a = L.dense({ units: 4, seed: 9 }), b = L.dense({ units: 4, seed: 9 }), c = L.dense({ units: 4, seed: 10 });
    for (const l of [a, b, c]) l.build([6]);
    expect(a.weights[0].value.toArray()).toEqual(b.weights[0].value.toArray());
    expect(a.weights[0].value.toArray()).not.toEqual(c.weights[0].value.toArray());
  });

  it('creates weights lazily: counting parameters allocates nothing', () => {
    const d = L.dense({ units: 4096 });
    d.build([25088]);
    expect(d.countParams()).toBe(25088 * 4096 + 4096);
    expect((d.weights[0] as L.LayerWeight).materialized).toBe(false);
  });
});

describe('convolution layers', () => {
  it('Conv2D parameters are (cin*kh*kw + 1)*cout; output shape and MACs follow the formulas', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 5, max: 40 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }), fc.boolean(),
        (cin, kh, kw, cout, n, s, p, bias) => {
          const conv = L.conv2d({ filters: cout, kernelSize: [kh, kw], strides: s, padding: p, useBias: bias });
          const out = conv.computeOutputShape([n, n + 1, cin]);
          conv.build([n, n + 1, cin]);
          const oh = Math.floor((n + 2 * p - kh) / s) + 1, ow = Math.floor((n + 1 + 2 * p - kw) / s) + 1;
          expect(out).toEqual([oh, ow, cout]);
          expect(conv.countParams()).toBe((cin * kh * kw + (bias ? 1 : 0)) * cout);
          expect(conv.macs([n, n + 1, cin])).toBe(oh * ow * cout * kh * kw * cin);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('symbolic output shapes equal the shapes a forward pass produces', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 6, max: 9 }), fc.integer({ min: 1, max: 2 }),
        fc.constantFrom<ck.layers.ConvLayerArgs['padding']>('valid', 'same', 1), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }),
        (c, k, n, s, padding, d, g) => {
          const filters = 2 * g;
          const cin = c * g;
          const cases: [ck.layers.Layer, number[]][] = [
            [L.conv2d({ filters, kernelSize: k, strides: s, padding, dilationRate: d, groups: g }), [n, n, cin]],
            [L.conv1d({ filters, kernelSize: k, strides: s, padding, dilationRate: d, groups: g }), [n, cin]],
            [L.conv3d({ filters, kernelSize: k, strides: s, padding: padding === 1 ? 0 : padding }), [3, n, n, cin]],
            [L.depthwiseConv2d({ kernelSize: k, strides: s, padding, depthMultiplier: g }), [n, n, cin]],
            [L.conv2dTranspose({ filters, kernelSize: k, strides: s, padding: padding === 1 ? 'valid' : padding }), [n, n, cin]],
          ];
          for (const [layer, shape] of cases) {
            if (layer instanceof L.Conv3D && k > 3) continue;
            const sym = layer.apply(ck.input(shape));
            const y = ck.tidy(() => layer.apply(rnd([2, ...shape])).shape);
            expect(y).toEqual([2, ...sym.shape]);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('Conv2D matches the conv2d op with bias and activation', () => {
    const conv = L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', biasInitializer: 'ones', seed: 3 });
    const x = rnd([2, 5, 5, 2]);
    const y = conv.apply(x);
    const want = ck.relu(ck.conv2d(x, conv.weights[0].value, { padding: 'same', bias: conv.weights[1].value }));
    expectClose(y, want, { atol: 0 });
  });

  it('DepthwiseConv2D has KH*KW*C*M + C*M parameters and OH*OW*C*M*KH*KW MACs', () => {
    const l = L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' });
    l.build([8, 8, 5]);
    expect(l.countParams()).toBe(3 * 3 * 5 * 2 + 10);
    expect(l.computeOutputShape([8, 8, 5])).toEqual([8, 8, 10]);
    expect(l.macs([8, 8, 5])).toBe(8 * 8 * 10 * 9);
  });

  it('Conv2DTranspose doubles the size with stride 2 and counts input-side MACs', () => {
    const l = L.conv2dTranspose({ filters: 4, kernelSize: 2, strides: 2 });
    expect(l.apply(ck.input([5, 5, 3])).shape).toEqual([10, 10, 4]);
    expect(l.countParams()).toBe(2 * 2 * 4 * 3 + 4);
    expect(l.macs([5, 5, 3])).toBe(5 * 5 * 3 * 4 * 4);
    const out = L.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 1, outputPadding: 1 });
    expect(out.apply(ck.input([4, 4, 1])).shape).toEqual([8, 8, 2]);
  });
});

describe('pooling layers', () => {
  it('output shapes match forward passes; no parameters, 0 MACs', () => {
    const x = rnd([1, 9, 7, 3]);
    for (const l of [L.maxPooling2d(), L.averagePooling2d({ poolSize: 3, strides: 2, padding: 1 }), L.minPooling2d({ poolSize: [2, 3] }), L.globalAveragePooling2d(), L.globalMaxPooling2d({ keepDims: true })]) {
      const sym = l.computeOutputShape([9, 7, 3]);
      expect(l.apply(x).shape).toEqual([1, ...sym]);
      expect(l.countParams()).toBe(0);
      expect(l.macs([9, 7, 3])).toBe(0);
    }
  });

  it("ceilMode gives PyTorch's ceil_mode sizes and never lets the extra padding win", () => {
    // PyTorch: out = ceil((n + 2p - k) / s) + 1, minus 1 if the last window starts past n + p.
    const torchOut = (n: number, k: number, s: number, p: number) => {
      let o = Math.ceil((n + 2 * p - k) / s) + 1;
      if ((o - 1) * s >= n + p) o--;
      return o;
    };
    for (const [n, k, s, p] of [[112, 3, 2, 0], [56, 3, 2, 0], [14, 2, 2, 0], [7, 3, 2, 1], [10, 3, 3, 1], [5, 2, 2, 0]]) {
      const l = L.maxPooling2d({ poolSize: k, strides: s, padding: p, ceilMode: true });
      expect(l.computeOutputShape([n, n, 1])).toEqual([torchOut(n, k, s, p), torchOut(n, k, s, p), 1]);
    }
    const x = ck.neg(ck.add(ck.arange(25).reshape([1, 5, 5, 1]), 1)); // all negative: padding zeros would win if counted
    const y = L.maxPooling2d({ poolSize: 2, ceilMode: true }).apply(x);
    expect(y.shape).toEqual([1, 3, 3, 1]);
    expect(y.toArray()).toEqual([-1, -3, -5, -11, -13, -15, -21, -23, -25]);
  });
});

describe('normalisation layers', () => {
  it('BatchNormalization: batch statistics in training, running statistics updated with momentum, used at inference', () => {
    const bn = L.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
    const x = ck.tensor([[1, 10], [3, 20], [5, 60]]);
    const y = bn.apply(x, { training: true });
    const mean = [3, 30], biased = [8 / 3, 1400 / 3];
    expectClose(y, [[-2, -20], [0, -10], [2, 30]].map((r) => r.map((v, j) => v / Math.sqrt(biased[j] + 1e-3))).flat(), { atol: 1e-5 });
    const [gamma, beta, mm, mv] = bn.weights;
    expect([gamma.trainable, beta.trainable, mm.trainable, mv.trainable]).toEqual([true, true, false, false]);
    expectClose(mm.value, mean.map((m) => 0.1 * m), { atol: 1e-6 });
    expectClose(mv.value, biased.map((v) => 0.9 + 0.1 * v * 1.5), { atol: 1e-4 }); // unbiased: n/(n-1) = 1.5
    const z = bn.apply(x, { training: false });
    expectClose(z, x.toArray().map((v, i) => (v - mm.value.toArray()[i % 2]) / Math.sqrt(mv.value.toArray()[i % 2] + 1e-3)), { atol: 1e-5 });
    expect(bn.countParams('trainable')).toBe(4);
    expect(bn.countParams('nonTrainable')).toBe(4);
  });

  it('a frozen BatchNormalization runs in inference mode and keeps its statistics', () => {
    const bn = L.batchNormalization();
    const x = rnd([4, 3, 3, 2]);
    bn.apply(x, { training: true });
    const before = bn.weights[2].value.toArray();
    bn.trainable = false;
    const y = bn.apply(x, { training: true });
    expect(bn.weights[2].value.toArray()).toEqual(before);
    expectClose(y, bn.apply(x, { training: false }), { atol: 0 });
    expect(bn.weights.every((w) => !w.trainable)).toBe(true);
  });

  it('LayerNormalization normalises each example over the trailing axes', () => {
    const ln = L.layerNormalization({ axes: [-2, -1], epsilon: 1e-5 });
    const x = rnd([2, 3, 4], 5, 'float64');
    const y = ln.apply(x);
    expect(ln.weights.map((w) => w.shape)).toEqual([[3, 4], [3, 4]]);
    expect(y.dtype).toBe('float64');
    const m = ck.mean(y, { axes: [1, 2] }).toArray();
    const v = ck.variance(y, { axes: [1, 2] }).toArray();
    expectClose(m, [0, 0], { atol: 1e-12 });
    expectClose(v, [1, 1], { atol: 1e-4 });
    expect(() => L.layerNormalization({ axes: [1] }).apply(ck.input([3, 4]))).toThrow(/trailing axes/);
  });

  it('LRN has no parameters and matches the op', () => {
    const l = L.lrn({ size: 3, alpha: 1e-2, beta: 0.75, k: 2 });
    const x = rnd([1, 2, 2, 6]);
    expectClose(l.apply(x), ck.lrn(x, { size: 3, alpha: 1e-2, beta: 0.75, k: 2 }), { atol: 0 });
    expect(l.countParams()).toBe(0);
  });
});

describe('dropout and activations', () => {
  it('Dropout is the identity at inference and seeded in training', () => {
    const x = ck.ones([4, 50]);
    const a = L.dropout({ rate: 0.5, seed: 3 }), b = L.dropout({ rate: 0.5, seed: 3 });
    expect(a.apply(x, { training: false }).toArray()).toEqual(x.toArray());
    const ya = a.apply(x, { training: true }).toArray(), yb = b.apply(x, { training: true }).toArray();
    expect(ya).toEqual(yb);
    expect(new Set(ya)).toEqual(new Set([0, 2]));
    const kept = ya.filter((v) => v === 2).length;
    expect(kept).toBeGreaterThan(60);
    expect(kept).toBeLessThan(140);
    expect(a.apply(x, { training: true }).toArray()).not.toEqual(ya); // the mask sequence advances
  });

  it('every activation name runs and matches its op', () => {
    const x = ck.tensor([[-2, -0.5, 0, 0.5, 2]]);
    const ops: Record<ck.layers.ActivationName, (t: ck.Tensor) => ck.Tensor> = {
      relu: ck.relu, relu6: ck.relu6, hardSigmoid: (t) => ck.hardSigmoid(t), hardSwish: ck.hardSwish, sigmoid: ck.sigmoid, tanh: ck.tanh, softmax: (t) => ck.softmax(t), logSoftmax: (t) => ck.logSoftmax(t),
      leakyRelu: (t) => ck.leakyRelu(t), elu: (t) => ck.elu(t), selu: ck.selu, gelu: (t) => ck.gelu(t), softplus: ck.softplus,
      swish: ck.swish, mish: ck.mish, softsign: ck.softsign, step: ck.step, linear: ck.identity,
    };
    for (const name of ck.layers.ACTIVATION_NAMES) expectClose(L.activation(name).apply(x), ops[name](x), { atol: 0 });
    expect(() => L.activation('exponential' as never)).toThrow(/unknown activation "exponential"/);
    expectClose(L.relu({ maxValue: 1 }).apply(x), [0, 0, 0, 0.5, 1]);
    expectClose(L.leakyRelu({ alpha: 0.1 }).apply(x), [-0.2, -0.05, 0, 0.5, 2]);
    // The layer's default slope is Keras's and TF.js's LeakyReLU alpha, 0.3 (the op keeps PyTorch's 0.01)
    expect(L.leakyRelu().alpha).toBe(0.3);
    expectClose(L.leakyRelu().apply(x), ck.leakyRelu(x, 0.3));
    expectClose(L.elu().apply(x), ck.elu(x));
    expectClose(L.softmax().apply(x), ck.softmax(x));
  });

  it('PReLU learns one slope per channel (initially 0.25)', () => {
    const p = L.prelu();
    const x = ck.tensor([[[[-1, -2, 3]]]]).requireGrad();
    const y = p.apply(x);
    expectClose(y, [-0.25, -0.5, 3]);
    expect(p.weights[0].shape).toEqual([3]);
    ck.sum(y).backward();
    expectClose(p.weights[0].value.grad!, [-1, -2, 0]);
  });
});

describe('shape and merge layers', () => {
  it('Flatten, Reshape, ZeroPadding2D', () => {
    const x = rnd([2, 3, 4, 5]);
    expect(L.flatten().apply(x).shape).toEqual([2, 60]);
    expect(L.reshape({ targetShape: [-1, 5] }).apply(x).shape).toEqual([2, 12, 5]);
    expect(() => L.reshape({ targetShape: [7, -1] }).apply(ck.input([3, 4, 5]))).toThrow(/reshape \(Reshape\)|Reshape\): cannot reshape/);
    const z = L.zeroPadding2d({ padding: [[1, 0], [2, 3]] }).apply(x);
    expect(z.shape).toEqual([2, 4, 9, 5]);
    expectClose(ck.sum(z), ck.sum(x), { atol: 1e-4 });
  });

  it('Add, Multiply (broadcasting) and Concatenate', () => {
    const a = rnd([2, 3, 3, 4], 1), b = rnd([2, 3, 3, 4], 2), s = rnd([2, 1, 1, 4], 3);
    expectClose(L.add().apply([a, b]), ck.add(a, b), { atol: 0 });
    expectClose(L.multiply().apply([a, s]), ck.mul(a, s), { atol: 0 });
    const c = L.concatenate().apply([a, b, s.reshape([2, 1, 1, 4]).mul(ck.ones([1, 3, 3, 1]))]);
    expect(c.shape).toEqual([2, 3, 3, 12]);
    const sym = L.concatenate({ axis: 1 }).apply([ck.input([3, 5]), ck.input([4, 5])]);
    expect(sym.shape).toEqual([7, 5]);
  });
});

describe('initialisers', () => {
  const { initializers: I } = ck.layers;
  it('fans follow Keras: receptive field times channels', () => {
    expect(I.computeFans([3, 3, 16, 32])).toEqual([144, 288]);
    expect(I.computeFans([100, 10])).toEqual([100, 10]);
  });

  it('glorot/he distributions have the intended bounds and spread, and are seeded', () => {
    const gu = I.glorotUniform({ seed: 1 }).apply([200, 300], 'float64');
    const lim = Math.sqrt(6 / 500);
    const v = gu.toArray();
    expect(Math.max(...v)).toBeLessThanOrEqual(lim);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-lim);
    expect(Math.abs(ck.variance(gu).item() - lim * lim / 3)).toBeLessThan(0.05 * lim * lim / 3);
    const hn = I.heNormal({ seed: 2 }).apply([3, 3, 64, 64], 'float64');
    expect(Math.abs(Math.sqrt(ck.variance(hn).item()) / Math.sqrt(2 / 576) - 1)).toBeLessThan(0.03);
    expect(I.heUniform({ seed: 5 }).apply([10, 10], 'float32').toArray()).toEqual(I.heUniform({ seed: 5 }).apply([10, 10], 'float32').toArray());
    expect(I.constant(0.5).apply([2], 'float32').toArray()).toEqual([0.5, 0.5]);
    expect(I.getInitializer({ className: 'HeNormal', config: { seed: 3 } }).apply([4], 'float32').toArray())
      .toEqual(I.heNormal({ seed: 3 }).apply([4], 'float32').toArray());
  });
});

describe('regularisers', () => {
  it('kernel, bias and activity penalties: l1 sum|w| + l2 sum w^2 + lambda/2 weight elimination', () => {
    const d = L.dense({
      units: 2, kernelInitializer: ck.layers.initializers.constant(0.5), biasInitializer: 'ones',
      kernelRegularizer: { l1: 0.1, l2: 0.01, weightElimination: { lambda: 2, w0: 1 } },
      biasRegularizer: { l2: 1 }, activityRegularizer: { l1: 0.5 },
    });
    const y = d.apply(ck.ones([1, 3]), { training: true }); // each output 0.5*3 + 1 = 2.5
    expectClose(y, [2.5, 2.5]);
    const kernel = 0.1 * 6 * 0.5 + 0.01 * 6 * 0.25 + (2 / 2) * 6 * (0.25 / (1 + 0.25));
    expectClose([d.regularizationLoss()!.item()], [kernel + 2 + 0.5 * 5], { atol: 1e-5 });
    expect(() => L.dense({ units: 1, kernelRegularizer: { l3: 1 } as never })).toThrow(/unknown key 'l3'/);
  });
});

describe('errors name the layer', () => {
  it('channel mismatch and wrong rank', () => {
    const conv = L.conv2d({ name: 'conv2d_1', filters: 4, kernelSize: 3 });
    conv.build([28, 28, 3]);
    expect(() => conv.apply(ck.zeros([8, 28, 28, 1]))).toThrow('conv2d_1 (Conv2D): expected input with 3 channels (shape [N, H, W, 3]), received [8, 28, 28, 1]');
    expect(() => conv.apply(ck.zeros([8, 784]))).toThrow('conv2d_1 (Conv2D): expected input of rank 4 (N, H, W, C), received shape [8, 784]');
    expect(() => conv.apply(ck.input([784]))).toThrow('conv2d_1 (Conv2D): expected input of rank 4 (N, H, W, C), received shape [N, 784]');
  });

  it('dense features, kernels larger than the input, merge shapes', () => {
    const d = L.dense({ name: 'fc', units: 2 });
    d.build([400]);
    expect(() => d.apply(ck.zeros([2, 300]))).toThrow('fc (Dense): expected input with 400 features (shape [N, 400]), received [2, 300]');
    expect(() => L.conv2d({ name: 'big', filters: 1, kernelSize: 5 }).apply(ck.input([3, 3, 1]))).toThrow(/^big \(Conv2D\): conv2d: kernel of size \[5, 5\]/);
    expect(() => L.add({ name: 'sum' }).apply([ck.input([4, 4, 2]), ck.input([4, 4, 3])])).toThrow('sum (Add): inputs must have the same shape, but input 0 is [N, 4, 4, 2] and input 1 is [N, 4, 4, 3]');
    expect(() => L.add({ name: 'one' }).apply(ck.input([4]))).toThrow(/^one \(Add\): expects a list of inputs/);
    expect(() => L.concatenate({ name: 'cat' }).apply([ck.input([4, 4, 2]), ck.input([5, 4, 3])])).toThrow(/^cat \(Concatenate\): inputs must agree/);
    expect(() => L.conv2d({ filters: 0, kernelSize: 3 })).toThrow(/\(Conv2D\): filters must be a positive integer/);
    expect(() => L.maxPooling2d({ name: 'mp' }).apply(ck.zeros([2, 4]))).toThrow('mp (MaxPooling2D): expected input of rank 4 (N, H, W, C), received shape [2, 4]');
  });

  it('apply and call name the layer and what they received instead of a tensor (issue 13, part 11)', () => {
    const d = L.dense({ name: 'fc', units: 2 });
    const expected = 'expected a Tensor or a SymbolicTensor (or an array of them)';
    expect(() => d.apply(null as unknown as ck.Tensor)).toThrow(TypeError);
    expect(() => d.apply(null as unknown as ck.Tensor)).toThrow(`fc (Dense): apply() ${expected}, received null`);
    expect(() => d.apply(undefined as unknown as ck.Tensor)).toThrow(`fc (Dense): apply() ${expected}, received undefined`);
    expect(() => d.apply([1, 2] as unknown as ck.Tensor)).toThrow(`fc (Dense): apply() ${expected}, received the number 1 as input 0`);
    expect(() => d.apply([] as ck.Tensor[])).toThrow(`fc (Dense): apply() ${expected}, received an empty array`);
    expect(() => d.call('x' as unknown as ck.Tensor)).toThrow('fc (Dense): call() expected a Tensor (or an array of Tensors), received the string "x"');
    expect(() => L.add({ name: 'sum' }).apply([ck.zeros([1, 2]), null as unknown as ck.Tensor])).toThrow(`sum (Add): apply() ${expected}, received null as input 1`);
    const gone = ck.zeros([1, 3]);
    gone.dispose();
    expect(() => d.apply(gone)).toThrow('fc (Dense): apply() its input ([1, 3] float32) was disposed and cannot be used');
    expect(d.built).toBe(false); // nothing was built from a bad input
  });
});
