/**
 * The backend registry: (backend, kernel) -> implementation, setBackend/getBackend,
 * and the visible fallback to `ts` for kernels (or dtypes) a backend lacks. A toy
 * backend that stores float32 only and has one kernel ('Add') exercises every path.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as ck from '../../src/index.js';
import type { Backend, DataId, TensorInfo } from '../../src/index.js';
import type { DType, TypedArray } from '../../src/tensor/dtype.js';

class ToyBackend implements Backend {
  readonly name: string;
  readonly store = new Map<DataId, Float32Array>();
  constructor(name: string) {
    this.name = name;
  }
  supportsDtype(d: DType) {
    return d === 'float32';
  }
  write(values: TypedArray): DataId {
    const id = {};
    this.store.set(id, Float32Array.from(values));
    return id;
  }
  readSync(id: DataId) {
    return this.store.get(id)!;
  }
  read(id: DataId) {
    return Promise.resolve(this.store.get(id)!.slice());
  }
  disposeData(id: DataId) {
    this.store.delete(id);
  }
  memory() {
    return { storages: this.store.size, bytes: 4 * [...this.store.values()].reduce((n, a) => n + a.length, 0) };
  }
}

const toy = new ToyBackend('toy');
ck.registerBackend('toy', () => toy);
let toyAdds = 0;
ck.registerKernel({
  kernelName: 'Add',
  backendName: 'toy',
  kernelFunc: ([a, b]: TensorInfo[], _attrs, be) => {
    toyAdds++;
    const av = (be as ToyBackend).readSync(a.dataId), bv = (be as ToyBackend).readSync(b.dataId);
    if (a.shape.join() !== b.shape.join()) throw new Error('toy Add: equal shapes only');
    return { dataId: be.write(av.map((v, i) => v + bv[i]), 'float32'), shape: a.shape, dtype: 'float32' };
  },
});

// The typed form: the contract constant, attrs typed by it (no casts).
ck.registerKernel(ck.kernels.Fill, 'toy', (_in, { shape, value }, be) => {
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value);
  return { dataId: be.write(v, 'float32'), shape, dtype: 'float32' };
});

describe('backend registry', () => {
  let prev = 'ts';
  beforeEach(() => {
    prev = ck.getBackend();
    ck.clearFallbacks();
  });
  afterEach(() => {
    ck.setBackendSync(prev);
    ck.setFallbackWarnings(false);
    vi.restoreAllMocks();
  });

  it('copies of inputs from another backend are freed when a later copy (or the kernel) throws', () => {
    ck.setBackendSync('ts');
    const a = ck.tensor([1, 2]), b = ck.tensor([3, 4]);
    ck.setBackendSync('toy');
    const before = toy.store.size;
    const write = vi.spyOn(toy, 'write');
    write.mockImplementationOnce(ToyBackend.prototype.write.bind(toy)).mockImplementationOnce(() => {
      throw new RangeError('toy: out of memory');
    });
    expect(() => ck.add(a, b)).toThrow(/toy: out of memory/);
    expect(toy.store.size).toBe(before); // the first input's copy was released
    expect(ck.add(a, b).toArray()).toEqual([4, 6]);
  });

  it('lists backends and kernels per backend; setBackend/getBackend switch the current one', async () => {
    expect(ck.listBackends()).toEqual(expect.arrayContaining(['ts', 'toy']));
    expect(ck.listKernels('toy')).toEqual(['Add', 'Fill']);
    expect(ck.listKernels('ts')).toEqual(expect.arrayContaining(['Add', 'Conv2D', 'Conv2DBackpropFilter', 'MatMul', 'MaxPool2DGrad']));
    expect(ck.getKernel('toy', 'Mul')).toBeUndefined();
    await ck.setBackend('toy');
    expect(ck.getBackend()).toBe('toy');
    expect(ck.tensor([1, 2]).backend.name).toBe('toy');
  });

  it('a kernel the backend has runs there, with no fallback', async () => {
    await ck.setBackend('toy');
    const before = toyAdds;
    const y = ck.add(ck.tensor([1, 2]), ck.tensor([10, 20]));
    expect(toyAdds).toBe(before + 1);
    expect(y.backend.name).toBe('toy');
    expect(y.toArray()).toEqual([11, 22]);
    expect(ck.getFallbacks()).toEqual([]);
  });

  it('a missing kernel runs on ts and is recorded (and counted) as a fallback', async () => {
    await ck.setBackend('toy');
    const a = ck.tensor([1, 2]), b = ck.tensor([3, 4]);
    const y = ck.mul(a, b);
    ck.mul(a, b);
    expect(y.backend.name).toBe('ts');
    expect(y.toArray()).toEqual([3, 8]);
    expect(ck.getFallbacks()).toEqual([{ kernel: 'Mul', from: 'toy', reason: 'no kernel', count: 2 }]);
    // The fallback output feeds a kernel the toy backend has: inputs are copied across.
    expect(ck.add(y, a).toArray()).toEqual([4, 10]);
    ck.clearFallbacks();
    expect(ck.getFallbacks()).toEqual([]);
  });

  it('a dtype the backend cannot hold falls back with that reason, for inputs and for outputs', async () => {
    await ck.setBackend('toy');
    const d = ck.add(ck.tensor([1], [1], 'float64'), ck.tensor([2], [1], 'float64'));
    expect(d.backend.name).toBe('ts');
    expect(d.dtype).toBe('float64');
    const i = ck.full([2], 7, 'int32');
    expect(i.backend.name).toBe('ts');
    expect(ck.full([2], 7).backend.name).toBe('toy');
    const reasons = ck.getFallbacks().map((f) => `${f.kernel}: ${f.reason}`);
    expect(reasons).toEqual(expect.arrayContaining(['Add: dtype float64', 'Fill: output dtype int32']));
  });

  it('fallback warnings print once per new fallback', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    ck.setFallbackWarnings(true);
    await ck.setBackend('toy');
    ck.sub(ck.tensor([1]), ck.tensor([1]));
    ck.sub(ck.tensor([1]), ck.tensor([1]));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toBe("convkit: kernel Sub ran on 'ts' instead of 'toy' (no kernel)");
  });

  it('an unknown backend rejects and leaves the current one; a failing factory too', async () => {
    await ck.setBackend('ts');
    await expect(ck.setBackend('nope')).rejects.toThrow(/Backend 'nope' is not registered \(registered: .*ts.*\)/);
    expect(ck.getBackend()).toBe('ts');
    ck.registerBackend('broken', () => { throw new Error('no device here'); });
    await expect(ck.setBackend('broken')).rejects.toThrow('no device here');
    ck.registerBackend('brokenAsync', () => Promise.reject(new Error('no adapter')));
    await expect(ck.setBackend('brokenAsync')).rejects.toThrow('no adapter');
    expect(ck.getBackend()).toBe('ts');
    expect(() => ck.setBackendSync('nope')).toThrow(/not registered/);
  });

  it('an asynchronous backend needs await setBackend; until then it is never picked implicitly', async () => {
    const slow = new ToyBackend('slow');
    ck.registerBackend('slow', () => new Promise<Backend>((r) => setTimeout(() => r(slow), 5)), 1000);
    expect(() => ck.setBackendSync('slow')).toThrow(/Backend 'slow' initialises asynchronously: call 'await setBackend\("slow"\)' \(or 'await ready\(\)'\) first/);
    expect(ck.getBackend()).not.toBe('slow');
    await ck.setBackend('slow');
    expect(ck.backend()).toBe(slow);
    ck.setBackendSync('slow'); // initialised now
  });

  it('withBackend runs on a backend and restores the previous one, also after an exception', async () => {
    await ck.setBackend('ts');
    expect(ck.withBackend('toy', () => ck.getBackend())).toBe('toy');
    expect(ck.getBackend()).toBe('ts');
    expect(() => ck.withBackend('toy', () => { throw new Error('inside'); })).toThrow('inside');
    expect(ck.getBackend()).toBe('ts');
  });

  it('registerKernel refuses a kernel name no contract defines', () => {
    expect(() => ck.registerKernel({ kernelName: 'NoSuchKernel', backendName: 'toy', kernelFunc: ([x]) => x })).toThrow(/no kernel named 'NoSuchKernel'/);
  });

  it('registerKernel replaces an implementation; memory() reports each backend', async () => {
    const seen: string[] = [];
    ck.registerKernel({
      kernelName: 'Neg',
      backendName: 'toy',
      kernelFunc: ([x], _a, be) => {
        seen.push('first');
        return { dataId: be.write((be as ToyBackend).readSync(x.dataId).map((v) => -v), 'float32'), shape: x.shape, dtype: 'float32' };
      },
    });
    ck.registerKernel({
      kernelName: 'Neg',
      backendName: 'toy',
      kernelFunc: ([x], _a, be) => {
        seen.push('second');
        return { dataId: be.write((be as ToyBackend).readSync(x.dataId).map((v) => -v), 'float32'), shape: x.shape, dtype: 'float32' };
      },
    });
    await ck.setBackend('toy');
    const before = ck.memory().toy.storages;
    const y = ck.tidy(() => ck.neg(ck.tensor([1, -2])));
    expect(seen).toEqual(['second']);
    expect(y.toArray()).toEqual([-1, 2]);
    expect(ck.memory().toy.storages).toBe(before + 1);
    y.dispose();
    expect(ck.memory().toy.storages).toBe(before);
  });
});
