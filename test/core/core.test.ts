import { expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { expectClose, tolForK } from '../util/close.js';
import { gradcheck } from '../util/gradcheck.js';
import { describeOnBackends, read, readNested } from '../util/backends.js';

const f64 = (shape: number[], seed: number) => ck.randomNormal(shape, { seed, dtype: 'float64' });

describeOnBackends('tensor creation', (backend) => {
  it('builds from nested arrays with inferred shape and float32 default', async () => {
    const t = ck.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(await readNested(t)).toEqual([[1, 2, 3], [4, 5, 6]]);
  });
  it('rejects ragged arrays and size mismatches with the shapes in the message', () => {
    expect(() => ck.tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => ck.tensor([1, 2, 3], [2, 2])).toThrow(/shape \[2, 2\] needs 4 values, received 3/);
    expect(() => ck.zeros([2, 1.5])).toThrow(/non-negative integer/);
  });
  it('creates constants, ranges and seeded random tensors', async () => {
    expect(await read(ck.zeros([2, 2]))).toEqual([0, 0, 0, 0]);
    expect(await read(ck.full([3], 7, 'int32'))).toEqual([7, 7, 7]);
    expect(await read(ck.arange(0, 5, 2))).toEqual([0, 2, 4]);
    expect(await read(ck.randomNormal([5], { seed: 3 }))).toEqual(await read(ck.randomNormal([5], { seed: 3 })));
    const u = await read(ck.randomUniform([1000], { seed: 1, min: -1, max: 1 }));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(1);
  });
  it("random ops refuse TF.js's positional arguments instead of ignoring them (unseeded draws in [0, 1))", () => {
    const call = (f: () => unknown) => f;
    expect(call(() => (ck.randomUniform as (...a: unknown[]) => unknown)([2, 2], 0, 255, { seed: 4 }))).toThrow(
      /randomUniform: the second argument is an options object \{ min, max, seed, dtype \}, received 0 \(TF.js's positional form randomUniform\(shape, a, b\) is written randomUniform\(shape, \{ min: a, max: b \}\) here\)/,
    );
    expect(call(() => (ck.randomNormal as (...a: unknown[]) => unknown)([2], 0, 1))).toThrow(/randomNormal: the second argument is an options object \{ mean, std, seed, dtype \}, received 0/);
    expect(call(() => (ck.truncatedNormal as (...a: unknown[]) => unknown)([2], null))).toThrow(/truncatedNormal: the second argument is an options object/);
    expect(() => ck.randomUniform([2], { minval: -1 } as never)).toThrow(/randomUniform: unknown option 'minval' \(did you mean 'min'\?\); known options: min, max, seed, dtype/);
    expect(() => ck.randomNormal([2], { stddev: 0.1 } as never)).toThrow(/randomNormal: unknown option 'stddev' \(did you mean 'std'\?\)/);
    expect(ck.randomUniform([2]).shape).toEqual([2]);
  });
});

describeOnBackends('elementwise and broadcasting', (backend) => {
  it('broadcasts like NumPy', async () => {
    const a = ck.tensor([[1], [2]]);
    const b = ck.tensor([10, 20, 30]);
    expect(await readNested(ck.add(a, b))).toEqual([[11, 21, 31], [12, 22, 32]]);
    expect(() => ck.add(ck.zeros([2, 3]), ck.zeros([4]))).toThrow(/\[2, 3\] and \[4\] cannot be broadcast/);
  });
  it('refuses to mix dtypes silently', () => {
    expect(() => ck.add(ck.zeros([2]), ck.zeros([2], 'float64'))).toThrow(/dtypes differ/);
  });
  it('NaN in gives NaN out', async () => {
    const x = ck.tensor([NaN, 1]);
    expect(Number.isNaN((await read(ck.exp(x)))[0])).toBe(true);
    expect(Number.isNaN((await read(ck.max(x)))[0])).toBe(true);
    expect(Number.isNaN((await read(ck.maximum(x, ck.tensor([0, 0]))))[0])).toBe(true);
  });
  it('expm1 and log1p keep their relative accuracy near 0 (torch.expm1, torch.log1p), special values', async () => {
    const xs = [1e-10, -1e-10, 1e-5, -1e-5, 0.3, -0.7, 5, 80, 0, -1, -1.5, NaN, Infinity, -Infinity];
    // float64 where the backend stores it (ts); float32 everywhere
    for (const dtype of backend === 'ts' ? (['float64', 'float32'] as const) : (['float32'] as const)) {
      const x = ck.tensor(xs, [xs.length], dtype);
      const round = dtype === 'float32' ? Math.fround : (v: number) => v;
      // webgpu: SwiftShader's exp and log are a few ulp off beyond the series ranges (2e-6, as for Exp)
      const tol = dtype === 'float64' ? 1e-15 : backend === 'webgpu' ? 2e-6 : 4 * 2 ** -23;
      const close = (got: number[], want: number[]) =>
        got.forEach((g, i) => (Number.isFinite(want[i]) ? expect(Math.abs(g - want[i]), `x = ${xs[i]}`).toBeLessThanOrEqual(tol * Math.abs(want[i])) : expect(g).toBe(want[i])));
      close(await read(ck.expm1(x)), xs.map((v) => Math.expm1(round(v))));
      close(await read(x.log1p()), xs.map((v) => Math.log1p(round(v))));
    }
    // where the plain forms lose everything
    expect((await read(ck.expm1(ck.tensor([1e-10]))))[0]).toBeCloseTo(1e-10, 16); // exp(x) - 1 and log(1 + x) give 0
    expect((await read(ck.log1p(ck.tensor([1e-10]))))[0]).toBeCloseTo(1e-10, 16); // exp(x) - 1 and log(1 + x) give 0
    expect(ck.expm1(ck.tensor([0, 1], [2], 'int32')).dtype).toBe('float32');
  });
  it('gradients of binary ops with broadcasting (finite differences, float64)', () => {
    const a = f64([2, 3], 1), b = f64([3], 2);
    const pos = ck.add(ck.abs(f64([2, 3], 3)), 0.5);
    gradcheck((x, y) => ck.add(x, y), [a, b]);
    gradcheck((x, y) => ck.sub(x, y), [a, b]);
    gradcheck((x, y) => ck.mul(x, y), [a, b]);
    gradcheck((x, y) => ck.div(x, y), [a, ck.add(ck.abs(b), 1)]);
    gradcheck((x, y) => ck.pow(x, y), [pos, b]);
    gradcheck((x) => ck.log(x), [pos]);
    gradcheck((x) => ck.sqrt(x), [pos]);
    gradcheck((x) => ck.exp(x), [a]);
    gradcheck((x) => ck.reciprocal(x), [pos]);
    gradcheck((x) => ck.square(x), [a]);
    gradcheck((x) => ck.sin(x), [a]);
  });
});

describeOnBackends('reductions', (backend) => {
  it('sum, mean, max, min, argmax and variance over axes', async () => {
    const x = ck.tensor([[1, 5, 3], [4, 2, 6]]);
    expect(await read(ck.sum(x, { axes: 0 }))).toEqual([5, 7, 9]);
    expect(ck.mean(x, { axes: 1, keepDims: true }).shape).toEqual([2, 1]);
    expect(await read(ck.max(x, { axes: -1 }))).toEqual([5, 6]);
    expect(await read(ck.min(x))).toEqual([1]);
    expect(await read(ck.argMax(x, 1))).toEqual([1, 2]);
    expect(await read(ck.argMax(ck.tensor([3, 7, 7])))).toEqual([1]);
    expectClose(await read(ck.variance(x, { axes: 1 })), [8 / 3, 8 / 3]);
    expect(() => ck.sum(x, { axes: 2 })).toThrow(/axis 2 is out of range/);
  });
  it('gradients over random axes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), fc.nat(), (shape, seed) => {
        const x = f64(shape, seed);
        const axes = shape.map((_, i) => i).filter((i) => (seed >> i) & 1);
        gradcheck((t) => ck.sum(t, { axes }), [x]);
        gradcheck((t) => ck.mean(t, { axes, keepDims: true }), [x]);
        gradcheck((t) => ck.variance(t, { axes }), [x]);
        gradcheck((t) => ck.logSumExp(t, { axes }), [x]);
        gradcheck((t) => ck.max(t, { axes }), [x]);
      }),
      { numRuns: 15 },
    );
  });
});

describeOnBackends('shape ops', (backend) => {
  it('reshape, transpose, slice, concat, stack, pad', async () => {
    const x = ck.arange(6).reshape([2, 3]);
    expect(ck.reshape(x, [3, -1]).shape).toEqual([3, 2]);
    expect(() => ck.reshape(x, [4, 2])).toThrow(/cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
    expect(await readNested(ck.transpose(x))).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(await readNested(ck.slice(x, [0, 1], [2, 2]))).toEqual([[1, 2], [4, 5]]);
    expect(ck.concat([x, x], 1).shape).toEqual([2, 6]);
    expect(ck.stack([x, x], 0).shape).toEqual([2, 2, 3]);
    expect(await read(ck.pad(ck.tensor([1, 2]), [[1, 2]]))).toEqual([0, 1, 2, 0, 0]);
    expect(await readNested(ck.reverse(x, 1))).toEqual([[2, 1, 0], [5, 4, 3]]);
  });
  it('gradients of shape ops', () => {
    const x = f64([2, 3, 4], 5);
    gradcheck((t) => ck.transpose(t, [2, 0, 1]), [x]);
    gradcheck((t) => ck.slice(t, [1, 0, 1], [1, 2, 3]), [x]);
    gradcheck((t) => ck.pad(t, [[0, 1], [2, 0], [1, 1]]), [x]);
    gradcheck((t, u) => ck.concat([t, u], 1), [x, f64([2, 1, 4], 6)]);
    gradcheck((t) => ck.reshape(t, [4, 6]), [x]);
    gradcheck((t) => ck.broadcastTo(ck.slice(t, [0, 0, 0], [1, 3, 4]), [5, 3, 4]), [x]);
    // float64 runs on ts: its int32 indices are made there too (a webgpu tensor cannot be read synchronously)
    const idx = ck.withBackend('ts', () => ck.tensor([2, 0, 2], [3], 'int32'));
    gradcheck((t) => ck.gather(t, idx, 2), [x]);
    gradcheck((t) => ck.reverse(t, [0, 2]), [x]);
  });
});

describeOnBackends('matmul', (backend) => {
  it('multiplies with every transpose combination (property vs. explicit transpose)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), fc.boolean(), (M, K, N, ta, tb) => {
        const a = f64(ta ? [K, M] : [M, K], M * 7 + K);
        const b = f64(tb ? [N, K] : [K, N], N * 3 + K);
        const y = ck.matmul(a, b, { transposeA: ta, transposeB: tb });
        const ref = ck.matmul(ta ? ck.transpose(a) : a, tb ? ck.transpose(b) : b);
        expectClose(y, ref, { atol: 1e-12, rtol: 1e-12 });
        gradcheck((p, q) => ck.matmul(p, q, { transposeA: ta, transposeB: tb }), [a, b]);
      }),
      { numRuns: 20 },
    );
  });
  it('float32 on the current backend matches the float64 product (every transpose)', async () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      const a = f64(ta ? [37, 19] : [19, 37], 11), b = f64(tb ? [23, 37] : [37, 23], 12);
      const want = ck.matmul(a, b, { transposeA: ta, transposeB: tb });
      const got = ck.matmul(ck.cast(a, 'float32'), ck.cast(b, 'float32'), { transposeA: ta, transposeB: tb });
      expect(got.backend.name).toBe(backend);
      expectClose(await read(got), ck.cast(want, 'float32'), tolForK(37));
    }
  });
  it('names both shapes when inner dimensions differ', () => {
    expect(() => ck.matmul(ck.zeros([2, 3]), ck.zeros([4, 5]))).toThrow(/a \[2, 3\] has K=3, b \[4, 5\] has K=4/);
  });
  it('batched with broadcast side', () => {
    const a = f64([3, 2, 4], 1), b = f64([4, 5], 2);
    gradcheck((p, q) => ck.matmul(p, q), [a, b]);
  });
});

describeOnBackends('autograd', (backend) => {
  it('accumulates gradients, releases the graph, and honours noGrad and detach', () => {
    const w = ck.tensor([1, 2, 3], [3], 'float64').requireGrad();
    const loss = () => ck.sum(ck.mul(w, w));
    loss().backward();
    loss().backward();
    expect(w.grad!.toArray()).toEqual([4, 8, 12]); // accumulated twice: 2 * 2w
    const y = loss();
    y.backward();
    expect(y.node).toBeNull();
    w.zeroGrad();
    expect(w.grad).toBeNull();
    expect(ck.noGrad(() => loss()).requiresGrad).toBe(false);
    expect(ck.mul(w.detach(), 2).requiresGrad).toBe(false);
  });
  it('valueAndGrad returns the value and gradients without touching .grad', () => {
    const x = ck.tensor([3], [1], 'float64');
    const { value, grads } = ck.valueAndGrad((t) => ck.sum(ck.mul(ck.mul(t, t), t)))(x);
    expect(value.item()).toBe(27);
    expect(grads[0].toArray()).toEqual([27]);
    expect(x.grad).toBeNull();
  });
  it('shared subexpressions get the sum of their paths', () => {
    const x = ck.tensor([2], [1], 'float64').requireGrad();
    const y = ck.mul(x, x);
    ck.sum(ck.add(y, ck.mul(y, 3))).backward(); // 4 x^2 -> 8x
    expect(x.grad!.toArray()).toEqual([16]);
  });
  it('tidy frees intermediates and keeps what it returns', async () => {
    const live = () => ck.memory()[backend]?.storages ?? 0;
    const before = live();
    const kept = ck.tidy(() => {
      const a = ck.ones([100]);
      const b = ck.add(a, 1);
      return ck.mul(b, 2);
    });
    expect(kept.backend.name).toBe(backend);
    expect(live()).toBe(before + 1);
    expect((await read(kept))[0]).toBe(4);
    kept.dispose();
    expect(live()).toBe(before);
    expect(() => kept.dataSync()).toThrow(/disposed/);
  });
});
