/**
 * int32 tensors: integer arithmetic stays int32 (division truncates toward zero, floorDiv
 * floors), argMax/argMin give int32, casts work both ways, float-only maths promotes to
 * float32 instead of truncating, and a fractional scalar never truncates silently.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

const i32 = (v: number[]) => ck.tensor(v, [v.length], 'int32');

describe('int32 arithmetic', () => {
  it('add, sub, mul, neg, abs, pow, sum, max and matmul keep int32', () => {
    const a = i32([7, -7, 5]), b = i32([2, 2, -2]);
    const cases: [ck.Tensor, number[]][] = [
      [ck.add(a, b), [9, -5, 3]],
      [ck.sub(a, b), [5, -9, 7]],
      [ck.mul(a, b), [14, -14, -10]],
      [ck.mul(a, 3), [21, -21, 15]],
      [ck.neg(a), [-7, 7, -5]],
      [ck.abs(a), [7, 7, 5]],
      [ck.pow(a, 2), [49, 49, 25]],
      [ck.sum(a), [5]],
      [ck.max(a), [7]],
      [ck.matmul(ck.tensor([[1, 2], [3, 4]], undefined, 'int32'), ck.tensor([[5], [6]], undefined, 'int32')), [17, 39]],
    ];
    for (const [y, want] of cases) {
      expect(y.dtype).toBe('int32');
      expect(y.toArray()).toEqual(want);
    }
  });

  it('division truncates toward zero and x / 0 is 0; floorDiv floors (Python //)', () => {
    const a = i32([7, -7, 7, -7, 6, 5]), b = i32([2, 2, -2, -2, 3, 0]);
    const q = ck.div(a, b);
    expect(q.dtype).toBe('int32');
    expect(q.toArray()).toEqual([3, -3, -3, 3, 2, 0]);
    const f = ck.floorDiv(a, b);
    expect(f.dtype).toBe('int32');
    expect(f.toArray()).toEqual([3, -4, -4, 3, 2, 0]);
    expect(ck.floorDiv(ck.tensor([7, -7, 7.5]), 2).toArray()).toEqual([3, -4, 3]);
    // Extremes are exact (the quotient is formed in float64).
    expect(ck.floorDiv(i32([2147483647, -2147483648]), i32([2, 3])).toArray()).toEqual([1073741823, -715827883]);
  });

  it('a fractional scalar next to an int32 tensor is an error, not a truncation', () => {
    const a = i32([1, 2]);
    expect(() => ck.mul(a, 2.5)).toThrow(/mul: b = 2.5 is not an integer but the other operand is int32; cast it to float32 or float64 first/);
    expect(() => ck.add(0.5, a)).toThrow(/add: a = 0.5 is not an integer/);
    expect(ck.mul(ck.cast(a, 'float32'), 2.5).toArray()).toEqual([2.5, 5]);
  });

  it('float-only maths (exp, log, sqrt, reciprocal, sin, cos) promotes int32 to float32', () => {
    const a = i32([4, 1]);
    const checks: [ck.Tensor, number[]][] = [
      [ck.sqrt(a), [2, 1]],
      [ck.reciprocal(a), [0.25, 1]],
      [ck.exp(i32([0, 1])), [1, Math.fround(Math.E)]],
      [ck.log(i32([1, 1])), [0, 0]],
      [ck.sin(i32([0])), [0]],
      [ck.cos(i32([0])), [1]],
    ];
    for (const [y, want] of checks) {
      expect(y.dtype).toBe('float32');
      expect(y.toArray()).toEqual(want);
    }
    expect(ck.sqrt(i32([2])).toArray()[0]).toBeCloseTo(Math.SQRT2, 6);
  });

  it('mean and variance of int32 are float32, not truncated', () => {
    const a = i32([1, 2, 4]);
    const m = ck.mean(a);
    expect(m.dtype).toBe('float32');
    expect(m.item()).toBeCloseTo(7 / 3, 6);
    const v = ck.variance(a);
    expect(v.dtype).toBe('float32');
    expect(v.item()).toBeCloseTo(14 / 9, 6);
    // e.g. accuracy = mean(equal(argMax(logits), labels))
    expect(ck.mean(ck.equal(i32([1, 2, 3]), i32([1, 0, 3]))).item()).toBeCloseTo(2 / 3, 6);
  });
});

describe('int32 indices and casts', () => {
  it('argMax and argMin return int32, first index at ties', () => {
    const x = ck.tensor([[1, 9, 9], [4, 2, 2]]);
    const am = ck.argMax(x, 1);
    expect(am.dtype).toBe('int32');
    expect(am.toArray()).toEqual([1, 0]);
    const an = ck.argMin(x, -1);
    expect(an.dtype).toBe('int32');
    expect(an.toArray()).toEqual([0, 1]);
    expect(ck.argMax(ck.tensor([[1, 2], [4, 3]], undefined, 'float64'), 0, true).shape).toEqual([1, 2]);
    expect(ck.argMax(i32([3, -1, 3])).toArray()).toEqual([0]);
  });

  it('cast float -> int32 truncates toward zero; int32 -> float is exact; both keep the shape', () => {
    const f = ck.tensor([[1.7, -1.7], [2.5, -0.5]], undefined, 'float64');
    const i = ck.cast(f, 'int32');
    expect(i.dtype).toBe('int32');
    expect(i.shape).toEqual([2, 2]);
    expect(i.toArray()).toEqual([1, -1, 2, 0]);
    for (const dt of ['float32', 'float64'] as const) {
      const back = ck.cast(i32([2147483647, -5]), dt);
      expect(back.dtype).toBe(dt);
      expect(back.toArray()).toEqual(dt === 'float64' ? [2147483647, -5] : [2147483648, -5]);
    }
    expect(ck.cast(i32([1]), 'int32').dtype).toBe('int32');
    // Casting to int32 ends the graph: integers carry no gradient.
    const w = ck.tensor([1.5], [1], 'float64').requireGrad();
    expect(ck.cast(w, 'int32').requiresGrad).toBe(false);
  });

  it('creation in int32: tensor, full, arange, typed arrays', () => {
    expect(ck.tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(ck.full([2], 3, 'int32').toArray()).toEqual([3, 3]);
    expect(ck.arange(0, 5, 2, 'int32').toArray()).toEqual([0, 2, 4]);
    expect(ck.arange(0, 5, 2, 'int32').dtype).toBe('int32');
    expect(ck.zeros([2, 2], 'int32').dtype).toBe('int32');
  });

  it('int32 and float tensors do not mix silently', () => {
    expect(() => ck.add(i32([1]), ck.tensor([1]))).toThrow(/add: dtypes differ \(a is int32, b is float32\); cast one of them first/);
    expect(() => ck.relu(i32([1]))).toThrow(/relu: x must be float32 or float64, received int32/);
    expect(() => ck.conv2d(ck.zeros([1, 3, 3, 1], 'int32'), ck.zeros([1, 1, 1, 1], 'int32'))).toThrow(/conv2d: x must be float32 or float64, received int32/);
  });
});
