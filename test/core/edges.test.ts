/**
 * Edges decided deliberately (issue 13, part 11), each an error that names the op and the
 * value, or a documented rule (README, "Tensors and autograd"):
 * - an int32 tensor made from JS numbers holds them exactly: 1.5, NaN or 3e9 is an error
 *   naming the value and its position (a fractional number next to an int32 tensor already was);
 * - cast to int32 truncates toward zero; NaN, +-Infinity and values outside int32 are errors;
 * - max, min, argMax, argMin over an empty axis are errors naming the axis and the shape
 *   (PyTorch); sum of nothing is 0, mean of nothing NaN, logSumExp of nothing -Infinity;
 * - a tensor too big for the ts backend fails with a RangeError naming the kernel (and the
 *   op where one is at hand), the shape, the dtype and the bytes asked for.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

const onTs = <T>(fn: () => T): T => ck.withBackend('ts', fn);

describe('int32 tensors from JS numbers', () => {
  it('a fraction, NaN, Infinity or a number outside int32 is an error naming the value and its position', () => {
    expect(() => ck.tensor([1.5], [1], 'int32')).toThrow(TypeError);
    expect(() => ck.tensor([1.5], [1], 'int32')).toThrow(/^tensor: values\[0\] = 1.5 is not an integer, but the dtype is int32; round it first \(Math.round or Math.trunc\), or make a float tensor and convert it with ck.cast\(t, 'int32'\)/);
    expect(() => ck.tensor([[1, 2], [3, 2.5]], undefined, 'int32')).toThrow(/^tensor: values\[1\]\[1\] = 2.5 is not an integer/);
    expect(() => ck.tensor([0, NaN], [2], 'int32')).toThrow(/^tensor: values\[1\] = NaN is not an integer/);
    expect(() => ck.tensor([Infinity], [1], 'int32')).toThrow(/^tensor: values\[0\] = Infinity is not an integer/);
    expect(() => ck.tensor([3e9], [1], 'int32')).toThrow(RangeError);
    expect(() => ck.tensor([-3e9], [1], 'int32')).toThrow(/^tensor: values\[0\] = -3000000000 is outside the int32 range \[-2147483648, 2147483647\]$/);
    expect(() => ck.tensor(new Float32Array([1, 2.5]), [2], 'int32')).toThrow(/^tensor: values\[1\] = 2.5 is not an integer/);
    expect(() => ck.tensor(new Uint32Array([4e9]))).toThrow(/^tensor: values\[0\] = 4000000000 is outside the int32 range/);
    expect(() => ck.scalar(0.5, 'int32')).toThrow(/^scalar: values\[0\] = 0.5 is not an integer/);
    expect(() => ck.full([2], 1.5, 'int32')).toThrow(/^full: value 1.5 is not an int32 value, but the dtype is int32/);
    expect(() => ck.add(ck.tensor([1], [1], 'int32'), 3e9)).toThrow(/^add: b = 3000000000 is outside the int32 range \[-2147483648, 2147483647\] of the other operand/);
  });

  it('integers are kept exactly; other integer typed arrays become int32 storage', () => {
    expect(ck.tensor([2147483647, -2147483648, 0], [3], 'int32').toArray()).toEqual([2147483647, -2147483648, 0]);
    expect(ck.tensor(new Float64Array([3, -4]), [2], 'int32').toArray()).toEqual([3, -4]);
    const u8 = ck.tensor(new Uint8Array([0, 200, 255]));
    expect(u8.dtype).toBe('int32');
    expect(u8.dataSync()).toBeInstanceOf(Int32Array);
    expect(u8.toArray()).toEqual([0, 200, 255]);
    expect(ck.tensor(new Uint8Array([1, 2]), [2], 'float32').toArray()).toEqual([1, 2]);
    expect(() => ck.tensor(new BigInt64Array(2) as unknown as Float32Array)).toThrow(/^tensor: values must be a number array or a Float32Array, Float64Array or integer typed array, received a BigInt64Array$/);
    // Float tensors are not affected: 1.5 stays 1.5.
    expect(ck.tensor([1.5]).toArray()).toEqual([1.5]);
  });
});

describe('cast to int32', () => {
  it('truncates toward zero, to the ends of the int32 range', () => {
    expect(ck.cast(ck.tensor([1.7, -1.7, 2147483647.9, -2147483648.9], [4], 'float64'), 'int32').toArray()).toEqual([1, -1, 2147483647, -2147483648]);
  });

  it('NaN, +-Infinity and out-of-range values are RangeErrors naming cast, the value and its index', () => {
    const bad: [number[], number[], RegExp][] = [
      [[1, NaN], [2], /^cast: x\[1\] = NaN \(x is \[2\] float32\) has no int32 value/],
      [[0, 0, 0, Infinity], [2, 2], /^cast: x\[1, 1\] = Infinity \(x is \[2, 2\] float32\) has no int32 value/],
      [[-Infinity], [1], /^cast: x\[0\] = -Infinity/],
      [[3e9, 0], [2], /^cast: x\[0\] = 3000000000 .*outside \[-2147483648, 2147483647\] cannot be cast to int32/],
      [[0, -2147483904], [2], /^cast: x\[1\] = -2147483904/],
    ];
    for (const [v, shape, re] of bad) {
      expect(() => ck.cast(ck.tensor(v, shape), 'int32'), `${v}`).toThrow(RangeError);
      expect(() => ck.cast(ck.tensor(v, shape), 'int32'), `${v}`).toThrow(re);
    }
    expect(() => ck.cast(ck.tensor([NaN], [1], 'float64'), 'int32')).toThrow(/^cast: x\[0\] = NaN \(x is \[1\] float64\)/);
  });

  it('is checked on wasm too (the input lives in linear memory there)', () => {
    const x = ck.withBackend('wasm', () => ck.tensor([1, NaN]));
    expect(x.backend.name).toBe('wasm');
    expect(() => ck.withBackend('wasm', () => ck.cast(x, 'int32'))).toThrow(/^cast: x\[1\] = NaN/);
  });

  it('float casts stay differentiable; floorDiv keeps x // 0 = 0', () => {
    const [g] = ck.grad((a) => ck.sum(ck.mul(ck.cast(a, 'float64'), 3)))(ck.tensor([1, 2]));
    expect(g.toArray()).toEqual([3, 3]);
    expect(ck.floorDiv(ck.tensor([7, -7, 5], [3], 'int32'), ck.tensor([2, 2, 0], [3], 'int32')).toArray()).toEqual([3, -4, 0]);
  });
});

describe('reductions over an empty axis', () => {
  const e = () => ck.zeros([0, 3]);
  it('max, min, argMax and argMin throw, naming the axis and the shape', () => {
    expect(() => ck.argMax(e(), 0)).toThrow(/^argMax: axis 0 of x \(shape \[0, 3\]\) has size 0; argMax of an empty axis has no value/);
    expect(() => ck.argMin(e(), 0)).toThrow(/^argMin: axis 0 of x \(shape \[0, 3\]\) has size 0/);
    expect(() => ck.max(e(), { axes: 0 })).toThrow(/^max: axis 0 of x \(shape \[0, 3\]\) has size 0/);
    expect(() => ck.min(e())).toThrow(/^min: axis 0 of x \(shape \[0, 3\]\) has size 0/);
    expect(() => ck.argMax(e(), 0)).toThrow(RangeError);
  });

  it('nothing to reduce when the output is empty too; the other axis reduces normally', () => {
    expect(ck.argMax(e(), 1).shape).toEqual([0]);
    expect(ck.max(e(), { axes: 1 }).shape).toEqual([0]);
    expect(ck.max(ck.zeros([0, 0]), { axes: 1 }).shape).toEqual([0]);
  });

  it('sum of nothing is 0, mean NaN, logSumExp -Infinity (PyTorch, NumPy)', () => {
    expect(ck.sum(e(), { axes: 0 }).toArray()).toEqual([0, 0, 0]);
    expect(ck.mean(e(), { axes: 0 }).toArray().every(Number.isNaN)).toBe(true);
    expect(ck.logSumExp(ck.zeros([0])).item()).toBe(-Infinity);
  });

  it('logSumExp of a slice of -Infinity is -Infinity, and with +Infinity in it +Infinity, never NaN', () => {
    const x = ck.tensor([[-Infinity, -Infinity], [Infinity, 1], [0, Math.log(3)]], undefined, 'float64');
    const y = ck.logSumExp(x, { axes: 1 }).toArray();
    expect(y[0]).toBe(-Infinity);
    expect(y[1]).toBe(Infinity);
    expect(y[2]).toBeCloseTo(Math.log(4), 12);
    // The shift still cancels in the gradient: softmax weights.
    const [g] = ck.grad((a) => ck.sum(ck.logSumExp(a, { axes: 1 })))(ck.tensor([[0, Math.log(3)]], undefined, 'float64'));
    expect(g.toArray().map((v) => +v.toFixed(12))).toEqual([0.25, 0.75]);
  });
});

describe('a tensor too big for the ts backend', () => {
  it('fails with a RangeError naming the kernel (and op), shape, dtype and bytes, and leaves no storage behind', () => {
    onTs(() => {
      const live = ck.memory().ts.storages;
      expect(() => ck.zeros([100000, 100000])).toThrow(RangeError);
      expect(() => ck.zeros([100000, 100000])).toThrow(
        /^zeros: Fill \(kernel on 'ts'\): out of memory: cannot allocate a float32 tensor of shape \[100000, 100000\]: 10000000000 elements, 40000000000 bytes = 37.3 GiB/,
      );
      // Sizes past the typed-array limit (2^32 elements here), so that nothing is allocated lazily and run.
      expect(() => ck.randomNormal([100000, 100000], { dtype: 'float64' })).toThrow(/^randomNormal: Fill \(kernel on 'ts'\): out of memory: cannot allocate a float64 tensor of shape \[100000, 100000\]: 10000000000 elements, 80000000000 bytes/);
      const a = ck.zeros([100000, 1]), b = ck.zeros([1, 100000]);
      expect(() => ck.add(a, b)).toThrow(/^Add \(kernel on 'ts', inputs \[100000, 1\] float32, \[1, 100000\] float32\): out of memory: cannot allocate a float32 tensor of shape \[100000, 100000\]/);
      expect(() => ck.matmul(a, b)).toThrow(/^MatMul \(kernel on 'ts', inputs \[100000, 1\] float32, \[1, 100000\] float32\): out of memory: cannot allocate a float32 tensor of shape \[100000, 100000\]/);
      a.dispose();
      b.dispose();
      expect(ck.memory().ts.storages).toBe(live);
    });
  });
});
