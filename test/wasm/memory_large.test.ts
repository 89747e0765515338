/**
 * wasm linear memory past 2 GiB (issue 13). Pointers are unsigned byte offsets into a
 * memory of up to 4 GiB: a tensor at an address >= 2^31 must compute exactly as one at
 * a low address, as must one that straddles 2^31 and one in the last megabytes below
 * 4 GiB; a request that cannot fit must throw an error naming the bytes, the shape and
 * the kernel, and leave the backend as it was (no grow, no live storage left behind).
 *
 * Each case runs on a fresh wasm backend (same build as the default one) whose low
 * memory is taken by a pad block from the allocator: the pad is never written, so the
 * operating system commits none of its pages and the test stays fast. The same
 * workload runs on an unpadded backend; the two must agree bit for bit, since the
 * same code runs on the same values and only the addresses differ.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { registerWasmVariant, type WasmBackend } from '../../src/backends/wasm/index.js';
import { sizeClass } from '../../src/backends/wasm/allocator.js';
import { convInputScratchBytes } from '../../src/backends/wasm/kernels/conv.js';
import { Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput } from '../../src/kernels/conv.js';
import { computeConv2DInfo } from '../../src/kernels/conv_info.js';
import { getKernel } from '../../src/registry/kernels.js';
import type { TensorInfo } from '../../src/tensor/backend.js';
import { rand } from '../util/rand.mjs';

const GiB2 = 2 ** 31;
const LIMIT = 2 ** 32;
const variant = ck.withBackend('wasm', () => (ck.backend() as unknown as WasmBackend).variant);
for (const name of ['wasm-low', 'wasm-high', 'wasm-straddle', 'wasm-top', 'wasm-huge']) registerWasmVariant(name, variant);
const backend = (name: string) => ck.withBackend(name, () => ck.backend() as unknown as WasmBackend);
const ptrOf = (t: Tensor) => (t.dataId as { ptr: number }).ptr;

interface Result {
  values: Map<string, Float32Array>;
  /** [first byte, end) of every tensor the workload made, by name. */
  spans: Map<string, [number, number]>;
}

/**
 * Small tensors through most wasm kernels: broadcasting binary ops, unary maps, GEMM
 * (plain and transposed), convolutions on every path (GEMM, direct, depthwise,
 * pointwise) with both gradients, pooling, softmax family and the fused loss, batch
 * norm, reductions, data movement, one-hot and an Adam step.
 */
function workload(name: string): Result {
  const values = new Map<string, Float32Array>();
  const spans = new Map<string, [number, number]>();
  ck.withBackend(name, () =>
    ck.tidy(() => {
      const keep = (label: string, t: Tensor) => {
        spans.set(label, [ptrOf(t), ptrOf(t) + 4 * t.size]);
        values.set(label, Float32Array.from(t.dataSync() as Float32Array));
        return t;
      };
      // the first tensor is 128 KiB, so that it straddles 2^31 on the straddle backend
      const big = keep('big', ck.tensor(rand(32 * 1024, 1), [32, 1024]));
      const x = keep('x', ck.tensor(rand(2 * 9 * 9 * 6, 2), [2, 9, 9, 6]));
      const w = keep('w', ck.tensor(rand(3 * 3 * 6 * 10, 3, -0.5, 0.5), [3, 3, 6, 10]));
      const w1 = keep('w1', ck.tensor(rand(3 * 3 * 1 * 8, 4, -0.5, 0.5), [3, 3, 1, 8]));
      const wd = keep('wd', ck.tensor(rand(3 * 3 * 6 * 1, 5, -0.5, 0.5), [3, 3, 6, 1]));
      const wp = keep('wp', ck.tensor(rand(6 * 7, 6, -0.5, 0.5), [1, 1, 6, 7]));
      const a = keep('a', ck.tensor(rand(13 * 37, 7), [13, 37]));
      const b = keep('b', ck.tensor(rand(37 * 11, 8), [37, 11]));
      const row = keep('row', ck.tensor(rand(1024, 9), [1024]));
      const labels = keep('labels', ck.oneHot(ck.tensor(Float32Array.from([1, 0, 3, 2, 9, 5, 7, 8, 6, 4, 1, 0, 2]), [13]), 11));
      const gamma = keep('gamma', ck.tensor(rand(6, 10, 0.5, 1.5), [6]));
      const beta = keep('beta', ck.tensor(rand(6, 11), [6]));

      keep('add', ck.add(big, row));
      keep('sub-mul', ck.mul(ck.sub(big, 0.25), row));
      keep('exp', ck.exp(big));
      keep('relu', ck.relu(big));
      keep('sum-rows', ck.sum(big, { axes: 1 }));
      keep('max-cols', ck.max(big, { axes: 0 }));
      keep('sum-all', ck.sum(big));
      keep('transpose', ck.transpose(big));
      keep('concat', ck.concat([big, big], 1));
      keep('slice', ck.slice(big, [3, 100], [5, 300]));
      keep('pad', ck.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]]));
      keep('matmul', ck.matmul(a, b));
      keep('matmul-tt', ck.matmul(b, a, { transposeA: true, transposeB: true }));
      keep('matmul-big', ck.matmul(big, ck.transpose(big)));
      keep('softmax', ck.softmax(big));
      keep('log-softmax', ck.logSoftmax(big));
      keep('log-softmax-axis0', ck.logSoftmax(x, 1));

      for (const p of [x, w, w1, wd, wp, a, b, gamma, beta]) p.requiresGrad = true;
      const conv = keep('conv-gemm', ck.conv2d(x, w, { padding: 'same', strides: 2 }));
      const direct = keep('conv-direct', ck.conv2d(ck.slice(x, [0, 0, 0, 0], [2, 9, 9, 1]), w1, { padding: 'same' }));
      const depthwise = keep('conv-depthwise', ck.depthwiseConv2d(x, wd, { padding: 'valid' }));
      const pointwise = keep('conv-pointwise', ck.conv2d(x, wp));
      const flipped = keep('conv-same', ck.conv2d(x, w, { padding: 'same' }));
      const pooled = keep('max-pool', ck.maxPool2d(ck.relu(flipped), { size: 2 }));
      const avg = keep('avg-pool', ck.avgPool2d(pointwise, { size: 3, strides: 2 }));
      const bn = keep('batch-norm', ck.batchNorm(x, gamma, beta, { training: true }));
      const logits = keep('logits', ck.matmul(a, b));
      const loss = keep('xent', ck.softmaxCrossEntropy(logits, labels));
      const total = ck.add(
        ck.add(ck.add(ck.sum(ck.mul(conv, conv)), ck.sum(direct)), ck.add(ck.sum(ck.mul(depthwise, depthwise)), ck.sum(pooled))),
        ck.add(ck.add(ck.sum(avg), ck.sum(ck.mul(bn, bn))), ck.add(loss, ck.sum(ck.softmax(flipped)))),
      );
      keep('total', total);
      ck.backward(total);
      for (const [label, p] of Object.entries({ x, w, w1, wd, wp, a, b, gamma, beta })) keep(`grad-${label}`, p.grad!);

      const opt = new ck.Adam({ lr: 1e-2 });
      opt.step([w, b]);
      keep('adam-w', w);
      keep('adam-b', b);
      opt.dispose();
      for (const p of [x, w, w1, wd, wp, a, b, gamma, beta]) p.zeroGrad(); // gradients outlive tidy
    }),
  );
  return { values, spans };
}

let reference: Result | undefined;
const lowReference = () => (reference ??= workload('wasm-low'));

function expectSameAsLow(res: Result): void {
  const ref = lowReference();
  expect([...res.values.keys()]).toEqual([...ref.values.keys()]);
  for (const [label, v] of res.values) {
    const r = ref.values.get(label)!;
    expect(v.length, label).toBe(r.length);
    // bit for bit: NaN compared by class, values exactly
    let bad = -1;
    for (let i = 0; i < v.length && bad < 0; i++) if (!(Object.is(v[i], r[i]) || (Number.isNaN(v[i]) && Number.isNaN(r[i])))) bad = i;
    expect(bad, `${label}: element ${bad} is ${v[bad]} at high addresses, ${r[bad]} at low ones`).toBe(-1);
  }
}

describe('wasm memory past 2 GiB', () => {
  it('size classes of big blocks: slack at most one 64 KiB page (1.92 GB takes 1.92 GB, not 2 GiB); recurring sizes share a class', () => {
    expect(sizeClass(1.92e9) - 1.92e9).toBeLessThan(65536);
    expect(sizeClass(1.92e9)).toBeLessThan(GiB2);
    for (const bytes of [262_145, 1e6, 5e6 + 3, 123_456_789, 1.5e9, 3.9e9]) {
      const c = sizeClass(bytes);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c - bytes).toBeLessThan(65536);
      expect(c % 64).toBe(0);
      expect(sizeClass(c)).toBe(c); // a class is its own class
    }
    // from 1 MiB on the relative slack is at most 1/16
    for (let b = 2 ** 20; b < 2 ** 32; b = Math.ceil(b * 1.37) + 1) expect((sizeClass(b) - b) / b).toBeLessThanOrEqual(1 / 16);
  });

  it('every tensor above 2^31: the workload matches the low-address run bit for bit; the backend survives dispose', () => {
    const be = backend('wasm-high');
    const start = be.linearMemory();
    const pad = be.scratch(GiB2); // nothing after it can start below 2^31
    const res = workload('wasm-high');
    for (const [label, [p]] of res.spans) expect(p, label).toBeGreaterThanOrEqual(GiB2);
    expectSameAsLow(res);
    expect(be.memory()).toEqual({ storages: 0, bytes: 0 });
    // a 1.92 GB block next to the 2 GiB pad: its class wastes at most a page (a 2 GiB class would not fit)
    const inUse = be.linearMemory().inUse;
    const big = be.scratch(1.92e9);
    expect(be.linearMemory().inUse - inUse - 1.92e9).toBeLessThan(65536);
    expect(big + 1.92e9).toBeLessThanOrEqual(LIMIT);
    be.freeScratch(big);
    be.freeScratch(pad);
    // what stays is the workspace and parameter block the kernels keep for the backend's life
    expect(be.linearMemory().inUse - start.inUse).toBe(sizeClass(be.wasm.gemm_f32_workspace_bytes()) + 256);
    // the pad's 2 GiB is free again: the workload runs once more, bit for bit
    expectSameAsLow(workload('wasm-high'));
    expect(ck.withBackend('wasm-high', () => Array.from(ck.add(ck.tensor([1, 2, 3]), ck.tensor([1, 1, 1])).dataSync()))).toEqual([2, 3, 4]);
  });

  it('tensors straddling 2^31 compute like low ones', () => {
    const be = backend('wasm-straddle');
    const top = be.linearMemory().highWater;
    // leave the heap top 32-96 KiB below 2^31 (the pad's class is a page multiple)
    const pad = be.scratch(Math.floor((GiB2 - 32768 - top) / 65536) * 65536 - 65536);
    const res = workload('wasm-straddle');
    const [p, end] = res.spans.get('big')!;
    expect(p).toBeLessThan(GiB2);
    expect(end).toBeGreaterThan(GiB2);
    expectSameAsLow(res);
    be.freeScratch(pad);
  });

  it('the last megabytes below 4 GiB work; a request that cannot fit throws a clear error and changes nothing', () => {
    const be = backend('wasm-top');
    const top = be.linearMemory().highWater;
    const pad = be.scratch(Math.floor((LIMIT - 24 * 2 ** 20 - top) / 65536) * 65536);
    const res = workload('wasm-top');
    for (const [label, [p, end]] of res.spans) {
      expect(p, label).toBeGreaterThanOrEqual(LIMIT - 25 * 2 ** 20);
      expect(end, label).toBeLessThanOrEqual(LIMIT);
    }
    expectSameAsLow(res);
    expect(be.linearMemory().size).toBe(LIMIT); // the whole 4 GiB is in use

    const before = { ...be.linearMemory(), storages: be.memory().storages };
    const state = () => ({ ...be.linearMemory(), storages: be.memory().storages });
    // larger than 4 GiB: nothing can hold it
    expect(() => ck.withBackend('wasm-top', () => ck.zeros([1.2e9]))).toThrow(
      /out of memory in kernel 'Fill': 4800000000 bytes \(4\.47 GiB\) requested for a float32 tensor of shape \[1200000000\]/,
    );
    expect(state()).toEqual(before);
    // 64 MiB: fits in 4 GiB, but not next to the pad
    expect(() => ck.withBackend('wasm-top', () => ck.ones([16, 1024, 1024]))).toThrow(/67108864 bytes .* shape \[16, 1024, 1024\]/);
    expect(state()).toEqual(before);
    // from the host (tensor()): the element count is named
    expect(() => ck.withBackend('wasm-top', () => ck.tensor(new Float32Array(8 * 2 ** 20)))).toThrow(/33554432 bytes .* 8388608 float32 values/);
    expect(state()).toEqual(before);

    // a kernel that fails after allocating its output releases it: the transposed
    // convolution (the input-gradient kernel) allocates its output, then the flipped
    // filter copy as scratch, which does not fit
    ck.withBackend('wasm-top', () => {
      const w = ck.tensor(rand(3 * 3 * 64 * 512, 12, -0.1, 0.1), [3, 3, 64, 512]); // 1.2 MiB, its flipped copy too
      const xt = ck.tensor(rand(4 * 4 * 512, 13), [1, 4, 4, 512]);
      const room = LIMIT - 64 - be.linearMemory().highWater;
      const filler = be.scratch(room - 512 * 1024 - 65536 - 4096); // 0.5 MiB left: the output (16 KiB) fits, the copy not
      const held = state();
      expect(() => ck.conv2dTranspose(xt, w, { padding: 'same' })).toThrow(/out of memory in kernel 'Conv2DBackpropInput': 1179648 bytes .* kernel scratch/);
      expect(state()).toEqual(held);
      be.freeScratch(filler);
      // with the room back, the same op runs and matches the low-address backend
      const y = ck.conv2dTranspose(xt, w, { padding: 'same' });
      const yLow = ck.withBackend('wasm-low', () => ck.tidy(() => ck.conv2dTranspose(ck.tensor(rand(4 * 4 * 512, 13), [1, 4, 4, 512]), ck.tensor(rand(3 * 3 * 64 * 512, 12, -0.1, 0.1), [3, 3, 64, 512]), { padding: 'same' }).dataSync()));
      expect(Array.from(y.dataSync())).toEqual(Array.from(yLow));
      for (const t of [w, xt, y]) t.dispose();
    });

    // after the failures the backend works and gives its memory back
    expectSameAsLow(workload('wasm-top'));
    be.freeScratch(pad);
    expect(be.memory()).toEqual({ storages: 0, bytes: 0 });
    // with the pad gone, a 3.5 GiB block fits again in the same memory
    const huge = be.scratch(3.5 * 2 ** 30);
    expect(huge + 3.5 * 2 ** 30).toBeLessThanOrEqual(LIMIT);
    be.freeScratch(huge);
  });

  it('byte offsets inside one image past 2^31: a 2.15 GB image convolved with taps 1 GB apart (forward, filter gradient)', () => {
    // x [1, 32769, 16400, 1]: the three taps of a 3x1 kernel dilated by 16384 rows are
    // 0, 1.07e9 and 2.15e9 bytes from the window origin; the last offset, held as an i32,
    // was negative (the transposed im2col packer then read it as padding: zeros).
    const be = backend('wasm-huge');
    const H = 32769, W = 16400, F = 8, D = 16384;
    const xShape = [1, H, W, 1], wShape = [3, 1, 1, F];
    const conv = computeConv2DInfo('test', xShape, wShape, { dilations: [D, 1] });
    expect([conv.outH, conv.outW]).toEqual([1, W]);
    // contents undefined in general, zeros here (fresh memory, never written): only the three rows the taps read are set
    const x = be.alloc(xShape);
    const rows = [0, D, 2 * D].map((r, i) => ({ r, v: rand(W, 20 + i) }));
    for (const { r, v } of rows) be.f32().set(v, be.ptr(x) / 4 + r * W);
    expect(be.ptr(x) + 4 * H * W).toBeGreaterThan(2 ** 31);
    const wv = rand(3 * F, 23), dyv = rand(W * F, 24);
    const w = be.alloc(wShape), dy = be.alloc([1, 1, W, F]);
    be.f32().set(wv, be.ptr(w) / 4);
    be.f32().set(dyv, be.ptr(dy) / 4);
    const run = (kernel: string, variant: string, inputs: TensorInfo[]) => {
      const impl = getKernel('wasm-huge', kernel)!.variants!.variants.find((x) => x.name === variant)!;
      const out = impl.run(inputs, { conv }, be) as TensorInfo;
      const v = be.readSync(out.dataId);
      be.disposeData(out.dataId);
      return v;
    };
    // float64 references: y[w, f] = sum_k x[kD, w] w[k, f], dw[k, f] = sum_w x[kD, w] dy[w, f]
    const y64 = new Float64Array(W * F), dw64 = new Float64Array(3 * F);
    rows.forEach(({ v }, k) => {
      for (let j = 0; j < W; j++) for (let f = 0; f < F; f++) {
        y64[j * F + f] += v[j] * wv[k * F + f];
        dw64[k * F + f] += v[j] * dyv[j * F + f];
      }
    });
    const close = (got: Float32Array, want: Float64Array, K: number, what: string) => {
      for (let i = 0; i < want.length; i++) {
        expect(Math.abs(got[i] - want[i]), `${what} [${i}]: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(1e-5 * Math.sqrt(K) * Math.max(1, Math.abs(want[i])));
      }
    };
    // the chosen paths (the direct forward kernel), then the forward on im2col + GEMM
    const chosen = [Conv2D, Conv2DBackpropFilter].map((k) => ck.chooseKernelVariant('wasm-huge', k, [], { conv }));
    expect(chosen).toEqual(['direct', 'gemm']);
    for (const forward of ['direct', 'gemm']) {
      close(run('Conv2D', forward, [{ dataId: x.dataId, shape: xShape, dtype: 'float32' }, w]), y64, 3, `forward (${forward})`);
      // (the K of the filter gradient is the 16400 output pixels: float32 sums, scaled tolerance)
      close(run('Conv2DBackpropFilter', 'gemm', [x, dy]), dw64, W, 'filter gradient');
    }
    for (const t of [x, w, dy]) be.disposeData(t.dataId);
  });

  it('the input-gradient scratch size passes 2^31 unsigned (a 2.4 GB filter needs a 2.4 GB flipped copy)', () => {
    // only the geometry is queried: no tensor of that size is made
    const conv = computeConv2DInfo('test', [1, 4, 4, 8192], [3, 3, 8192, 8192], { padding: 'same' });
    const be = backend('wasm-low');
    expect(ck.chooseKernelVariant('wasm-low', Conv2DBackpropInput, [], { conv })).toBe('flipped-gemm');
    expect(convInputScratchBytes(be, conv)).toBe(3 * 3 * 8192 * 8192 * 4);
    expect(convInputScratchBytes(be, conv, 'gemm')).toBe(0);
  });
});
