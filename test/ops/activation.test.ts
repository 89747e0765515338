import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { erf, erfc } from '../../src/kernels/special.js';
import { expectClose } from '../util/close.js';
import { gradcheck } from '../util/gradcheck.js';
import { torchVectorTests } from './nn_vectors.js';

const f64 = (shape: number[], seed: number, std = 1) => ck.randomNormal(shape, { seed, std, dtype: 'float64' });

/** Push every value at least 0.05 away from 0 (finite differences must not straddle a kink). */
function awayFromZero(t: Tensor): Tensor {
  const v = Float64Array.from(t.dataSync(), (x) => (x >= 0 ? x + 0.05 : x - 0.05));
  return ck.tensor(v, t.shape, 'float64');
}

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });

describe('erf and erfc (the GELU kernel depends on them)', () => {
  it('match CPython libm values to 1e-14 relative, including the far tail', () => {
    // Values printed by CPython 3 math.erf / math.erfc.
    const erfRef: [number, number][] = [
      [1e-8, 1.1283791670955126e-8], [0.3, 0.3286267594591274], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [1.5, 0.9661051464753108], [2, 0.9953222650189527], [3.5, 0.9999992569016276], [-0.7, -0.6778011938374184],
    ];
    const erfcRef: [number, number][] = [
      [0.3, 0.6713732405408726], [1.6, 0.023651616655355985], [2.5, 0.0004069520174449589],
      [5, 1.5374597944280351e-12], [10, 2.088487583762545e-45], [-3, 1.9999779095030015],
    ];
    for (const [x, e] of erfRef) expect(Math.abs(erf(x) - e) / Math.abs(e), `erf(${x})`).toBeLessThan(1e-14);
    for (const [x, e] of erfcRef) expect(Math.abs(erfc(x) - e) / Math.abs(e), `erfc(${x})`).toBeLessThan(1e-14);
    expect(erf(0)).toBe(0);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erfc(40)).toBe(0);
    expect(Number.isNaN(erf(NaN))).toBe(true);
  });
  it('is odd, and erf + erfc = 1 (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: -6, max: 6, noNaN: true }), (x) => {
        expect(erf(-x)).toBe(-erf(x));
        expect(Math.abs(erf(x) + erfc(x) - 1)).toBeLessThan(4e-16);
      }),
    );
  });
});

describe('the erf op (one kernel on every backend)', () => {
  const xs = [0, -0, 1e-30, -1e-6, 3e-4, 0.1, 0.4999, 0.5, -0.5001, 0.9, 1.5, -2, 3.5, 5, -9, 12, Infinity, -Infinity];
  for (const backend of ['ts', 'wasm'] as const) {
    it(`${backend}: float32 values within 3e-7 relative of the float64 erf (small x included), NaN stays NaN`, async () => {
      await ck.setBackend(backend);
      try {
        const y = ck.erf(ck.tensor([...xs, NaN])).dataSync();
        xs.forEach((x, i) => {
          const want = Math.fround(erf(x));
          const err = Math.abs(y[i] - want) / Math.max(Math.abs(want), 1e-38);
          expect(err, `erf(${x}) = ${y[i]}, want ${want}`).toBeLessThan(3e-7);
        });
        expect(Number.isNaN(y[xs.length])).toBe(true);
        expect(Object.is(y[1], -0) || y[1] === 0).toBe(true);
      } finally {
        await ck.setBackend('ts');
      }
    });
  }
  it('gradient 2/sqrt(pi) exp(-x^2): finite differences', () => {
    gradcheck((x) => ck.erf(x), [f64([3, 4], 71, 1.5)]);
  });
  it('an int32 input gives float32 values, as the other transcendental maps (torch.erf)', () => {
    const y = ck.erf(ck.tensor([0, 1, -2], [3], 'int32'));
    expect(y.dtype).toBe('float32');
    expectClose(y, [0, erf(1), erf(-2)], { atol: 1e-7, rtol: 1e-6 });
  });
});

describe('activations: values', () => {
  it('relu, leakyRelu, elu, selu, step, identity on known values', () => {
    const x = ck.tensor([-2, -0.5, 0, 0.5, 3], [5], 'float64');
    expect(ck.relu(x).toArray()).toEqual([0, 0, 0, 0.5, 3]);
    expect(ck.leakyRelu(x).toArray()).toEqual([-0.02, -0.005, 0, 0.5, 3]);
    expect(ck.leakyRelu(x, 0.3).toArray()).toEqual([-0.6, -0.15, 0, 0.5, 3]);
    expectClose(ck.elu(x), [Math.expm1(-2), Math.expm1(-0.5), 0, 0.5, 3], { atol: 1e-15, rtol: 1e-15 });
    expectClose(ck.selu(x).slice([4], [1]), [3 * 1.0507009873554805], { atol: 1e-14, rtol: 1e-14 });
    expectClose(ck.selu(x).slice([0], [1]), [1.0507009873554805 * 1.6732632423543772 * Math.expm1(-2)], { atol: 1e-14, rtol: 1e-14 });
    expect(ck.step(x).toArray()).toEqual([0, 0, 1, 1, 1]);
    expect(ck.identity(x).toArray()).toEqual(x.toArray());
  });
  it('gelu: gelu(1) = 0.8413447460685429 (erf form), tanh form, and the far negative tail', () => {
    const one = ck.tensor([1], [1], 'float64');
    expect(Math.abs(ck.gelu(one).item() - 0.8413447460685429)).toBeLessThan(1e-15);
    // 0.5 (1 + tanh(sqrt(2/pi) * 1.044715)), written out.
    expectClose(ck.gelu(one, { approximate: 'tanh' }), [0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * 1.044715))], { atol: 1e-15, rtol: 1e-15 });
    // x Phi(x) at x = -10: Phi(-10) = erfc(10 / sqrt 2) / 2 = 7.619853024160527e-24; 1 + erf would give 0.
    const tail = ck.gelu(ck.tensor([-10], [1], 'float64')).item();
    expect(Math.abs(tail - -10 * 7.619853024160527e-24) / 7.6e-23).toBeLessThan(1e-13);
  });
  it('sigmoid and softplus do not overflow, and keep the tails', () => {
    const x = ck.tensor([-800, -40, 0, 40, 800], [5], 'float64');
    const s = ck.sigmoid(x).toArray();
    expect(s[0]).toBe(0);
    expect(Math.abs(s[1] - Math.exp(-40)) / Math.exp(-40)).toBeLessThan(1e-14);
    expect(s[2]).toBe(0.5);
    expect(s[4]).toBe(1);
    const sp = ck.softplus(x).toArray();
    expect(sp[0]).toBe(0);
    expect(Math.abs(sp[1] - Math.exp(-40)) / Math.exp(-40)).toBeLessThan(1e-14);
    expect(sp[2]).toBe(Math.LN2);
    expect(sp[4]).toBe(800);
    // float32 on ts and wasm: the tail from log1p (log(1 + 2e-9) would round to 0)
    for (const backend of ['ts', 'wasm']) {
      const t = ck.withBackend(backend, () => ck.softplus(ck.tensor([-20, -80, 0, 20, Infinity, -Infinity], [6])).toArray());
      [Math.exp(-20), Math.exp(-80)].forEach((want, i) => expect(Math.abs(t[i] - want) / want, `${backend} softplus(${[-20, -80][i]})`).toBeLessThan(1e-6));
      expect(t.slice(2), backend).toEqual([Math.fround(Math.LN2), 20, Infinity, 0]);
    }
    expect(ck.tanh(x).toArray()).toEqual([-1, Math.tanh(-40), 0, Math.tanh(40), 1]);
  });
  it('softmax rows sum to 1, are invariant to shifts, and logSoftmax stays finite for huge values', () => {
    fc.assert(
      fc.property(shapeArb, fc.nat(), fc.double({ min: -500, max: 500, noNaN: true }), (shape, seed, shift) => {
        const x = f64(shape, seed, 3);
        const axis = seed % shape.length;
        const y = ck.softmax(x, axis);
        expectClose(ck.sum(y, { axes: axis }), ck.ones(ck.sum(x, { axes: axis }).shape, 'float64'), { atol: 1e-14, rtol: 0 });
        expectClose(ck.softmax(ck.add(x, shift), axis), y, { atol: 1e-13, rtol: 1e-10 });
        expectClose(ck.exp(ck.logSoftmax(x, axis)), y, { atol: 1e-14, rtol: 1e-12 });
      }),
      { numRuns: 30 },
    );
    const big = ck.tensor([[1000, 1001, 1002], [-1000, -1001, -1002]], [2, 3], 'float64');
    const small = ck.tensor([[0, 1, 2], [0, -1, -2]], [2, 3], 'float64');
    expect(ck.logSoftmax(big).toArray().every(Number.isFinite)).toBe(true);
    expectClose(ck.logSoftmax(big), ck.logSoftmax(small), { atol: 1e-12, rtol: 0 });
    expectClose(ck.softmax(big), ck.softmax(small), { atol: 1e-15, rtol: 0 });
  });
  it('NaN in gives NaN out (relu, leakyRelu, elu, gelu, sigmoid, tanh, softplus, step; softmax turns the row NaN)', () => {
    const x = ck.tensor([NaN, 1, -1], [3], 'float64');
    for (const f of [ck.relu, ck.leakyRelu, ck.elu, ck.selu, ck.gelu, ck.sigmoid, ck.tanh, ck.softplus, ck.step]) {
      const y = f(x).toArray();
      expect(Number.isNaN(y[0]), f.name).toBe(true);
      expect(Number.isNaN(y[1]) || Number.isNaN(y[2]), f.name).toBe(false);
    }
    const s = ck.softmax(ck.tensor([[NaN, 1], [0, 1]], [2, 2], 'float64')).toArray();
    expect(s.slice(0, 2).every(Number.isNaN)).toBe(true);
    expect(s.slice(2).some(Number.isNaN)).toBe(false);
  });
});

describe('activations: gradients', () => {
  it('conventions at the kinks: relu\'(0) = 0, leakyRelu\'(0) = alpha, prelu\'(0) = alpha, step\' = 0, softplus\'(0) = 1/2, elu\'(0) = alpha', () => {
    const g = (f: (t: Tensor) => Tensor, v: number[]) => ck.grad((t) => ck.sum(f(t)))(ck.tensor(v, [v.length], 'float64'))[0].toArray();
    expect(g(ck.relu, [0, -1, 2])).toEqual([0, 0, 1]);
    expect(g((t) => ck.leakyRelu(t, 0.2), [0, -1, 2])).toEqual([0.2, 0.2, 1]);
    expect(g((t) => ck.prelu(t, ck.tensor([0.3], [1], 'float64')), [0, -1, 2])).toEqual([0.3, 0.3, 1]);
    expect(g(ck.step, [0, -1, 2, 1e-9])).toEqual([0, 0, 0, 0]);
    // softplus' = sigmoid, 1/2 at 0 (the composite's tie conventions), no overflow in the tails
    expect(g(ck.softplus, [0, -800, 800])).toEqual([0.5, 0, 1]);
    expect(g((t) => ck.elu(t, 0.7), [0, -800, 800])).toEqual([0.7, 0, 1]);
    expect(g(ck.identity, [0, -1, 2])).toEqual([1, 1, 1]);
    expect(ck.leakyRelu(ck.tensor([0], [1], 'float64'), 0.2).item()).toBe(0);
  });
  it('finite differences agree for every activation over random shapes (float64)', () => {
    fc.assert(
      fc.property(shapeArb, fc.nat(1000), (shape, seed) => {
        const x = awayFromZero(f64(shape, seed, 2));
        const alphaShape = seed % 2 ? [shape[shape.length - 1]] : [];
        const alpha = ck.add(ck.abs(f64(alphaShape, seed + 1, 0.3)), 0.05);
        gradcheck(ck.relu, [x]);
        gradcheck((t) => ck.leakyRelu(t, 0.07), [x]);
        gradcheck(ck.prelu, [x, alpha]);
        gradcheck((t) => ck.elu(t, 0.8), [x]);
        gradcheck(ck.selu, [x]);
        gradcheck((t) => ck.gelu(t), [x]);
        gradcheck((t) => ck.gelu(t, { approximate: 'tanh' }), [x]);
        gradcheck(ck.softplus, [x]);
        gradcheck(ck.sigmoid, [x]);
        gradcheck(ck.tanh, [x]);
        gradcheck(ck.identity, [x]);
        gradcheck(ck.step, [x]);
        const axis = seed % shape.length;
        gradcheck((t) => ck.softmax(t, axis), [x]);
        gradcheck((t) => ck.logSoftmax(t, axis - shape.length), [x]);
      }),
      { numRuns: 12 },
    );
  });
  it('gelu gradient is right in the tails too', () => {
    const x = ck.tensor([-9, -6, -3.3, 3.3, 6, 9], [6], 'float64');
    gradcheck((t) => ck.gelu(t), [x]);
    gradcheck((t) => ck.gelu(t, { approximate: 'tanh' }), [x]);
  });
});

describe('activations: float32 agrees with float64', () => {
  it('every forward (property over shapes and values)', () => {
    fc.assert(
      fc.property(shapeArb, fc.nat(1000), (shape, seed) => {
        const x64 = f64(shape, seed, 3);
        const x32 = ck.cast(x64, 'float32');
        const fs: ((t: Tensor) => Tensor)[] = [
          ck.relu, (t) => ck.leakyRelu(t, 0.1), (t) => ck.elu(t), ck.selu, (t) => ck.gelu(t), (t) => ck.gelu(t, { approximate: 'tanh' }),
          ck.softplus, ck.sigmoid, ck.tanh, ck.step, (t) => ck.softmax(t, 0), (t) => ck.logSoftmax(t),
        ];
        for (const f of fs) {
          const y32 = f(x32);
          expect(y32.dtype).toBe('float32');
          // Inputs were rounded to float32 (relative 6e-8); these maps have derivatives of
          // order 1 and outputs are rounded once more.
          expectClose(y32, ck.cast(f(x64), 'float32'), { atol: 1e-6, rtol: 1e-6 });
        }
      }),
      { numRuns: 10 },
    );
  });
});

describe('activations: errors', () => {
  it('name the op, the argument and what was wrong', () => {
    const x = ck.zeros([2, 3]);
    expect(() => ck.relu(ck.zeros([2], 'int32'))).toThrow(/relu: x must be float32 or float64, received int32 \[2\]/);
    expect(() => ck.gelu(x, { approximate: 'fast' as never })).toThrow(/gelu: approximate must be 'none' or 'tanh'/);
    expect(() => ck.prelu(x, ck.zeros([2]))).toThrow(/prelu: shapes \[2, 3\] and \[2\] cannot be broadcast/);
    expect(() => ck.prelu(x, ck.zeros([4, 2, 3]))).toThrow(/prelu: alpha of shape \[4, 2, 3\] must broadcast to x's shape \[2, 3\]/);
    expect(() => ck.prelu(x, ck.zeros([3], 'float64'))).toThrow(/prelu: alpha is float64 but x is float32/);
    expect(() => ck.softmax(x, 2)).toThrow(/softmax: axis 2 is out of range for a tensor of rank 2/);
    expect(() => ck.softmax(ck.scalar(1))).toThrow(/softmax: x must have at least one axis/);
    expect(() => ck.leakyRelu(x, NaN)).toThrow(/leakyRelu: alpha must be a finite number/);
  });
});

describe('activations vs PyTorch 1.13 (test/ops/vectors/nn-torch.json)', () => {
  torchVectorTests(['relu', 'sigmoid', 'tanh', 'selu', 'softplus', 'leakyRelu', 'elu', 'gelu', 'prelu', 'softmax', 'logSoftmax']);
});

describe('relu6, hardSigmoid, hardSwish (MobileNet activations, PyTorch definitions)', () => {
  const xs = [-7, -3, -2.5, -0.5, 0, 0.25, 2.9, 3, 5.5, 6, 8, NaN];
  const relu6 = (v: number) => Math.min(Math.max(v, 0), 6);
  it('values: relu6 = min(max(x,0),6), hardsigmoid = relu6(x+3)/6, hardswish = x relu6(x+3)/6; NaN stays NaN', () => {
    const x = ck.tensor(xs, [xs.length], 'float64');
    const near = (got: number[], want: number[]) => got.forEach((g, i) => (Number.isNaN(want[i]) ? expect(g).toBeNaN() : expect(g).toBeCloseTo(want[i], 14)));
    near(ck.relu6(x).toArray() as number[], xs.map(relu6));
    near(ck.hardSigmoid(x).toArray() as number[], xs.map((v) => relu6(v + 3) / 6));
    near(ck.hardSwish(x).toArray() as number[], xs.map((v) => (v * relu6(v + 3)) / 6));
    // Keras 2 / ONNX default slope
    near(ck.hardSigmoid(x, { alpha: 0.2, beta: 0.5 }).toArray() as number[], xs.map((v) => Math.min(Math.max(0.2 * v + 0.5, 0), 1)));
    expect(() => ck.hardSigmoid(x, { alpha: NaN })).toThrow(/alpha and beta must be finite/);
  });
  it('gradients (finite differences, away from the kinks) and the activation strings', () => {
    const x = ck.tensor([-4.2, -1.3, 0.7, 2.2, 4.1, 7.5], [6], 'float64');
    gradcheck((t) => ck.relu6(t), [x]);
    gradcheck((t) => ck.hardSigmoid(t), [x]);
    gradcheck((t) => ck.hardSwish(t), [x]);
    for (const a of ['relu6', 'hardSigmoid', 'hardSwish'] as const) {
      const y = new ck.layers.Activation({ activation: a }).apply(ck.tensor([1.5, -4], [2])) as Tensor;
      expect(y.shape).toEqual([2]);
    }
  });
  it("relu6's gradient is 0 at both kinks and beyond, as PyTorch's (hardtanh backward), on ts and wasm", () => {
    for (const backend of ['ts', 'wasm']) {
      const x = ck.withBackend(backend, () => ck.tensor([-1, 0, 3, 6, 7, NaN], [6]));
      const g = ck.withBackend(backend, () => ck.grad((t: Tensor) => ck.sum(ck.relu6(t)))(x)[0].toArray());
      expect(g.slice(0, 5), backend).toEqual([0, 0, 1, 0, 0]);
    }
  });
  it("hardSigmoid's gradient is alpha strictly between the kinks and 0 at them, as PyTorch's hardsigmoid backward, on ts and wasm", () => {
    for (const backend of ['ts', 'wasm']) {
      const x = ck.withBackend(backend, () => ck.tensor([-4, -3, 0, 2.5, 3, 4], [6]));
      const g = ck.withBackend(backend, () => ck.grad((t: Tensor) => ck.sum(ck.hardSigmoid(t)))(x)[0].toArray() as number[]);
      g.forEach((v, i) => expect(v, `${backend} x=${[-4, -3, 0, 2.5, 3, 4][i]}`).toBeCloseTo([0, 0, 1 / 6, 1 / 6, 0, 0][i], 6));
    }
  });
});

describe('swish (SiLU), mish, softsign (Keras / TF.js / PyTorch definitions, composites)', () => {
  const xs = [-30, -4, -1.5, -0.25, 0, 0.5, 2, 6, 40, NaN];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
  it('values: swish = x sigmoid(x), mish = x tanh(softplus(x)), softsign = x / (1 + |x|); NaN stays NaN; on every CPU backend', () => {
    for (const backend of ['ts', 'wasm']) {
      const dtype = backend === 'ts' ? 'float64' : 'float32';
      const x = ck.withBackend(backend, () => ck.tensor(xs, [xs.length], dtype));
      const near = (got: number[], want: number[], what: string) =>
        got.forEach((g, i) => (Number.isNaN(want[i]) ? expect(g, what).toBeNaN() : expect(Math.abs(g - want[i]), `${backend} ${what}(${xs[i]})`).toBeLessThan(dtype === 'float64' ? 1e-13 : 1e-5 * Math.max(1, Math.abs(want[i])))));
      near(ck.withBackend(backend, () => ck.swish(x).toArray()) as number[], xs.map((v) => v * sig(v)), 'swish');
      near(ck.withBackend(backend, () => ck.mish(x).toArray()) as number[], xs.map((v) => v * Math.tanh(softplus(v))), 'mish');
      near(ck.withBackend(backend, () => ck.softsign(x).toArray()) as number[], xs.map((v) => v / (1 + Math.abs(v))), 'softsign');
    }
  });
  it('gradients (finite differences; softsign away from its kink at 0) and the activation strings', () => {
    const x = ck.tensor([-4.2, -1.3, -0.2, 0.7, 2.2, 7.5], [6], 'float64');
    gradcheck((t) => ck.swish(t), [x]);
    gradcheck((t) => ck.mish(t), [x]);
    gradcheck((t) => ck.softsign(t), [x]);
    for (const a of ['swish', 'mish', 'softsign'] as const) {
      const y = new ck.layers.Activation({ activation: a }).apply(ck.tensor([1.5, -4], [2], 'float64')) as Tensor;
      expect(y.toArray()).toEqual((ck[a](ck.tensor([1.5, -4], [2], 'float64')) as Tensor).toArray());
    }
  });
});
