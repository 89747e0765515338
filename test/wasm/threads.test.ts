/**
 * The wasm backend on worker threads (src/backends/wasm/threads.ts): every threaded
 * kernel gives bitwise the same result on 1, 2 and 3 threads (each output element is
 * computed by one thread, with the same sums in the same order: see assembly/conv_f32.ts),
 * at sizes above the cut-over (MIN_PARALLEL_FLOPS) so the workers really run; bad
 * `threads` values are errors naming the value; workers that cannot start leave the
 * backend on one thread with a message, never a hang.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as ck from '../../src/index.js';
import type { WasmBackend } from '../../src/backends/wasm/index.js';
import { MIN_PARALLEL_FLOPS } from '../../src/backends/wasm/backend.js';
import { setWorkerStarterForTests } from '../../src/backends/wasm/threads.js';
import { computeConv2DInfo, type ConvOpts } from '../../src/kernels/conv_info.js';
import { Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput, FusedConv2D, FusedConv2DConcat, asConv3d } from '../../src/kernels/conv.js';
import { CONV_GEOMETRY, CONV_PATH } from '../../src/kernels/wasm_abi.js';
import { rand } from '../util/rand.mjs';
import { cli } from '../util/cli.js';

const wasm = (): WasmBackend => ck.withBackend('wasm', () => ck.backend() as unknown as WasmBackend);
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

async function useThreads(n: number): Promise<WasmBackend> {
  await ck.setBackend('wasm', { threads: n });
  await ck.setBackend('ts');
  const be = wasm();
  expect(be.threads).toBe(n);
  return be;
}

interface ConvCase { name: string; x: number[]; w: number[]; opts: ConvOpts }
const CONV_CASES: ConvCase[] = [
  { name: 'gemm 3x3 same', x: [2, 20, 20, 16], w: [3, 3, 16, 24], opts: { padding: 'same' } },
  // Winograd: 900 tiles in blocks of 128, odd output (29 x 29): parts take whole blocks
  { name: 'winograd 3x3, 8 blocks', x: [4, 29, 29, 64], w: [3, 3, 64, 64], opts: { padding: 'same' } },
  // fewer blocks than parts (batch 1): the parts also take slices of the filters, at multiples of 8
  // (200 filters: 25 groups of 8 do not split evenly; the input gradient splits 64)
  { name: 'winograd 13x13 batch 1, one block (filter slices)', x: [1, 13, 13, 64], w: [3, 3, 64, 200], opts: { padding: 'same' } },
  { name: 'winograd 20x20 batch 1, two blocks (filter slices)', x: [1, 20, 20, 32], w: [3, 3, 32, 48], opts: { padding: 'same' } },
  // the filter gradient's units: 2 channel chunks (64 + 16) x 3 filter chunks (64, 64, 8), at least
  // one per thread; the cases above have one chunk, whose tiles are summed in groups (partials)
  { name: 'winograd filter gradient, channel and filter chunks', x: [2, 10, 10, 80], w: [3, 3, 80, 136], opts: { padding: 'same' } },
  { name: 'strided 3x3 s2 (col2im)', x: [4, 33, 33, 16], w: [3, 3, 16, 32], opts: { strides: 2 } },
  { name: 'odd sizes 5x5 pad 1', x: [3, 19, 23, 7], w: [5, 5, 7, 13], opts: { padding: [[1, 1], [1, 1]] } },
  { name: 'pointwise', x: [2, 24, 24, 32], w: [1, 1, 32, 40], opts: {} },
  { name: 'depthwise x2', x: [4, 32, 32, 16], w: [3, 3, 1, 32], opts: { padding: 'same', groups: 16 } },
  { name: 'depthwise odd channels', x: [6, 40, 40, 13], w: [3, 3, 1, 13], opts: { padding: 'same', groups: 13 } },
  { name: 'depthwise 5x5 stride 2 (row kernels, parts mid-row)', x: [4, 45, 43, 24], w: [5, 5, 1, 24], opts: { padding: 'same', strides: 2, groups: 24 } },
  { name: 'LeNet C1 (direct)', x: [16, 28, 28, 1], w: [5, 5, 1, 6], opts: {} },
  { name: 'LeNet C3', x: [16, 14, 14, 6], w: [5, 5, 6, 16], opts: {} },
  { name: 'grouped', x: [4, 18, 18, 16], w: [3, 3, 4, 32], opts: { padding: 'same', groups: 4 } },
  // more filters than output pixels (a deep layer at batch 1): the parts take bands of filters
  { name: 'deep, batch 1 (bands of filters)', x: [1, 4, 4, 32], w: [3, 3, 32, 264], opts: { padding: 'same' } },
  { name: 'deep pointwise, batch 1', x: [1, 6, 6, 256], w: [1, 1, 256, 520], opts: {} },
  // MobileNet's batch-1 shapes, where conv_forward_parts_f32 gives fewer parts than 4 per thread
  { name: 'pointwise 7x7, few parts (bands of filters)', x: [1, 7, 7, 160], w: [1, 1, 160, 960], opts: {} },
  { name: 'pointwise 14x14 to 64, few parts (bands of rows)', x: [1, 14, 14, 384], w: [1, 1, 384, 64], opts: {} },
  { name: 'depthwise 14x14 (4-row parts)', x: [2, 14, 14, 384], w: [3, 3, 1, 384], opts: { padding: 'same', groups: 384 } },
];

interface Run { key: string; values: Float32Array }

/** Every variant of the three conv kernels that applies, and GEMMs with every transpose, on the current thread count. */
function runAll(): Run[] {
  const out: Run[] = [];
  ck.withBackend('wasm', () => {
    for (const c of CONV_CASES) {
      const conv = computeConv2DInfo('threads test', c.x, c.w, c.opts);
      const flops = 2 * conv.batch * conv.outH * conv.outW * conv.outC * conv.kH * conv.kW * (conv.inC / conv.groups);
      expect(flops, c.name).toBeGreaterThanOrEqual(MIN_PARALLEL_FLOPS);
      const dyShape = [conv.batch, conv.outH, conv.outW, conv.outC];
      const x = ck.tensor(rand(size(c.x), 11), c.x), w = ck.tensor(rand(size(c.w), 12), c.w), dy = ck.tensor(rand(size(dyShape), 13), dyShape);
      const bias = ck.tensor(rand(conv.outC, 14), [conv.outC]);
      const kernels: [string, ck.Tensor[], object][] = [
        [Conv2D.name, [x, w], { conv }], [Conv2DBackpropInput.name, [dy, w], { conv }], [Conv2DBackpropFilter.name, [x, dy], { conv }],
        [FusedConv2D.name, [x, w, bias], { conv, activation: 'relu6' }],
      ];
      for (const [k, ins, attrs] of kernels) {
        for (const v of ck.kernelVariants('wasm', k)) {
          if (!ck.kernelVariantApplies('wasm', k, v, ins, attrs)) continue;
          const y = ck.runKernelVariant('wasm', k, v, ins, attrs)[0];
          out.push({ key: `${c.name} ${k} ${v}`, values: y.dataSync() as Float32Array });
          y.dispose();
        }
      }
      for (const t of [x, w, dy, bias]) t.dispose();
    }
    // FusedConv2DConcat: Winograd (one block split into filter slices), pointwise and direct
    // branches writing into their slices of one output, and a depthwise one copied in
    {
      const x = ck.tensor(rand(13 * 13 * 64, 21), [1, 13, 13, 64]), x3 = ck.tensor(rand(13 * 13 * 3, 22), [1, 13, 13, 3]);
      const geoms: [ck.Tensor, number[], number][] = [[x, [3, 3, 64, 200], 1], [x, [1, 1, 64, 36], 1], [x3, [3, 3, 3, 20], 1], [x, [3, 3, 1, 64], 64]];
      const ins: ck.Tensor[] = [];
      const branches = geoms.map(([xt, ws, groups], i) => {
        const conv = computeConv2DInfo('threads test', xt.shape, ws, { padding: 'same', groups });
        ins.push(xt, ck.tensor(rand(size(ws), 23 + i), ws), ck.tensor(rand(conv.outC, 27 + i), [conv.outC]));
        return { conv, activation: 'relu', leakyReluAlpha: 0 };
      });
      const y = ck.runKernel(FusedConv2DConcat.name, ins, { branches })[0];
      out.push({ key: 'FusedConv2DConcat', values: y.dataSync() as Float32Array });
      y.dispose();
      for (const t of new Set(ins)) t.dispose();
    }
    // pooling and its gradients (max: the 2x2 fast path and a padded 3x3 stride 2; average, padded 3x3),
    // at batch 8 and at batch 1 (the forward kernels split output rows, so one image runs on every thread)
    for (const px of [ck.tensor(rand(8 * 32 * 32 * 16, 31), [8, 32, 32, 16]), ck.tensor(rand(57 * 57 * 24, 32), [1, 57, 57, 24])]) {
      const pools: [string, (t: ck.Tensor) => ck.Tensor][] = [
        ['maxPool 2x2', (t) => ck.maxPool2d(t, 2)],
        ['maxPool 3x3 s2 same', (t) => ck.maxPool2d(t, { size: 3, strides: 2, padding: 'same' })],
        ['avgPool 3x3 same', (t) => ck.avgPool2d(t, { size: 3, strides: 1, padding: 'same' })],
      ];
      for (const [name, f] of pools) {
        const { value, grads } = ck.valueAndGrad((t: ck.Tensor) => ck.sum(ck.square(f(t))))(px);
        out.push({ key: `${name} forward, batch ${px.shape[0]}`, values: f(px).dataSync() as Float32Array });
        out.push({ key: `${name} gradient, batch ${px.shape[0]}`, values: grads[0].dataSync() as Float32Array });
        value.dispose();
        grads[0].dispose();
      }
      px.dispose();
    }
    // element-wise ops on element ranges: unary, activations and their gradients, optimiser updates
    const ex = ck.tensor(rand(70001, 41), [70001]); // odd length: the SIMD tail lands in the last range
    out.push({ key: 'exp', values: ck.exp(ex).dataSync() as Float32Array });
    out.push({ key: 'gelu', values: ck.gelu(ex).dataSync() as Float32Array });
    for (const [name, f] of [['relu', ck.relu], ['tanh', ck.tanh], ['sigmoid', ck.sigmoid]] as const) {
      const { grads } = ck.valueAndGrad((t: ck.Tensor) => ck.sum(ck.square(f(t))))(ex);
      out.push({ key: `${name} gradient`, values: grads[0].dataSync() as Float32Array });
    }
    const makers: [string, () => ck.Optimizer][] = [
      ['sgd momentum', () => new ck.SGD({ lr: 0.1, momentum: 0.9 })],
      ['sgd', () => new ck.SGD({ lr: 0.1 })],
      ['adam', () => new ck.Adam({ lr: 1e-2 })],
      ['adamw amsgrad', () => new ck.AdamW({ lr: 1e-2, amsgrad: true })],
      ['rmsprop centered', () => new ck.RMSprop({ lr: 1e-2, centered: true, momentum: 0.5 })],
      ['adagrad', () => new ck.AdaGrad({ lr: 0.1 })],
      ['adadelta', () => new ck.AdaDelta({ lr: 1 })],
    ];
    for (const [name, make] of makers) {
      const w = ck.tensor(rand(50003, 42), [50003]);
      w.requiresGrad = true;
      const opt = make();
      for (let s = 0; s < 3; s++) {
        ck.tidy(() => ck.backward(ck.sum(ck.mul(ck.square(ck.sub(w, 0.3)), ck.slice(ex, [s], [50003])))));
        opt.step([w]);
        opt.zeroGrad([w]);
      }
      out.push({ key: `optimiser ${name}`, values: w.dataSync() as Float32Array });
      opt.dispose();
      w.dispose();
    }
    ex.dispose();
    // batch norm (statistics and gradient sums over blocks of rows, added in block order;
    // outputs on bands of rows): 13 channels (an odd SIMD tail, 30 blocks) and 40 (91 blocks,
    // the last one short), plain and fused with a ReLU
    for (const C of [13, 40]) for (const activation of ['linear', 'relu'] as const) {
      const bx = ck.tensor(rand(16 * 24 * 24 * C + 5 * C, 51), [16 * 24 * 24 + 5, C]), bg = ck.tensor(rand(C, 52), [C]), bb = ck.tensor(rand(C, 53), [C]);
      const bn = (t: ck.Tensor, g: ck.Tensor, b: ck.Tensor) => ck.batchNorm(t, g, b, { training: true, activation });
      const { value, grads: bnGrads } = ck.valueAndGrad((t: ck.Tensor, g: ck.Tensor, b: ck.Tensor) => ck.sum(ck.square(ck.sub(bn(t, g, b), 0.5))))(bx, bg, bb);
      out.push({ key: `batch norm forward, ${C} channels, ${activation}`, values: bn(bx, bg, bb).dataSync() as Float32Array });
      bnGrads.forEach((g, i) => out.push({ key: `batch norm gradient ${i}, ${C} channels, ${activation}`, values: g.dataSync() as Float32Array }));
      for (const t of [bx, bg, bb, value, ...bnGrads]) t.dispose();
    }
    for (const r of rowKernels()) out.push(r);
    for (const [M, N, K] of [[160, 130, 170], [7, 600, 300], [300, 9, 500], [1, 1000, 1000]]) {
      for (const transposeA of [false, true]) for (const transposeB of [false, true]) {
        const a = ck.tensor(rand(M * K, 21), transposeA ? [K, M] : [M, K]);
        const b = ck.tensor(rand(K * N, 22), transposeB ? [N, K] : [K, N]);
        const y = ck.matmul(a, b, { transposeA, transposeB });
        out.push({ key: `gemm ${M}x${N}x${K} ${transposeA} ${transposeB}`, values: y.dataSync() as Float32Array });
        for (const t of [a, b, y]) t.dispose();
      }
    }
  });
  return out;
}

/**
 * Kernels split into ranges of rows or outer blocks (parallelSplit): broadcasting binary ops
 * and select (split on the outermost axis longer than 1, or along the one row), softmax and
 * log-softmax (last and middle axis) with their gradients, softmax cross-entropy and its
 * gradient, reductions (blocks of kept outer elements), LRN with its gradient, strided
 * copies and batched transposes.
 */
function rowKernels(): Run[] {
  const out: Run[] = [];
  const t = (shape: number[], seed: number) => ck.tensor(rand(size(shape), seed), shape);
  const add = (key: string, y: ck.Tensor) => {
    out.push({ key, values: y.dataSync() as Float32Array });
    y.dispose();
  };
  const a = t([16, 40, 40, 24], 61);
  for (const [name, b] of [['same shape', t([16, 40, 40, 24], 62)], ['channel vector', t([24], 63)], ['per-example scalar', t([16, 1, 1, 1], 64)], ['row [40, 1, 24]', t([40, 1, 24], 65)]] as const) {
    add(`add ${name}`, ck.add(a, b));
    add(`mul ${name}`, ck.mul(b, a));
    add(`pow ${name}`, ck.pow(ck.abs(a), b));
    add(`where ${name}`, ck.where(ck.greater(a, 0.1), a, b));
    b.dispose();
  }
  const long = t([1, 1, 200003], 66); // one row: split along it
  add('sub one long row', ck.sub(long, t([200003], 67)));
  const logits = t([3000, 130], 68), mid = t([40, 37, 60], 69);
  for (const [name, f] of [['softmax', ck.softmax], ['logSoftmax', ck.logSoftmax]] as const) {
    add(`${name} last axis`, f(logits));
    add(`${name} middle axis`, f(mid, 1));
    const { grads } = ck.valueAndGrad((x: ck.Tensor) => ck.sum(ck.mul(f(x, 1), mid)))(mid);
    add(`${name} gradient`, grads[0]);
  }
  const labels = ck.oneHot(ck.tensor(Array.from({ length: 3000 }, (_, i) => (i * 7) % 130), [3000], 'int32'), 130);
  const { value: xent, grads: xg } = ck.valueAndGrad((z: ck.Tensor) => ck.sum(ck.softmaxCrossEntropy(z, labels)))(logits);
  add('softmax cross-entropy', ck.softmaxCrossEntropy(logits, labels, { reduction: 'none' }));
  add('softmax cross-entropy gradient', xg[0]);
  xent.dispose();
  add('sum over the last axis', ck.sum(a, { axes: [3] }));
  add('max over H, W', ck.max(a, { axes: [1, 2] }));
  add('mean over the middle axis', ck.mean(mid, { axes: [1] }));
  const lx = t([8, 30, 30, 64], 70);
  add('lrn', ck.lrn(lx, { size: 5, alpha: 1e-3, beta: 0.75, k: 2 }));
  const { grads: lg } = ck.valueAndGrad((x: ck.Tensor) => ck.sum(ck.square(ck.lrn(x, { size: 5, alpha: 1e-3, beta: 0.75, k: 2 }))))(lx);
  add('lrn gradient', lg[0]);
  add('transpose NHWC -> NCHW', ck.transpose(a, [0, 3, 1, 2]));
  add('transpose (strided copy)', ck.transpose(a, [2, 0, 3, 1]));
  add('concat channels', ck.concat([a, a], 3));
  add('pad', ck.pad(a, [[0, 0], [1, 2], [2, 1], [0, 0]]));
  add('broadcastTo', ck.broadcastTo(ck.slice(a, [0, 0, 0, 0], [1, 40, 40, 24]), [16, 40, 40, 24]));
  for (const x of [a, long, logits, mid, labels, lx]) x.dispose();
  return out;
}

describe('wasm threads', () => {
  afterAll(async () => {
    setWorkerStarterForTests(null);
    await ck.setBackend('wasm', { threads: 1 });
    await ck.setBackend('ts');
  });

  it('bitwise the same results on 1, 2 and 3 threads (GEMM all transposes, every conv path, forward and both gradients)', async () => {
    await useThreads(1);
    const one = runAll();
    expect(one.length).toBeGreaterThan(40);
    for (const n of [2, 3]) {
      const be = await useThreads(n);
      const before = be.threadedCalls;
      const many = runAll();
      expect(be.threadedCalls - before, 'kernels that ran on the workers').toBeGreaterThanOrEqual(one.length);
      // the workers ran parts themselves (on a loaded machine the caller may take most of them)
      expect(be.workerParts, 'parts run by the workers').toBeGreaterThan(0);
      expect(many.map((r) => r.key)).toEqual(one.map((r) => r.key));
      for (let i = 0; i < one.length; i++) {
        const a = one[i].values, b = many[i].values;
        let diff = -1;
        for (let j = 0; j < a.length && diff < 0; j++) if (!Object.is(a[j], b[j])) diff = j;
        expect(diff, `${one[i].key} on ${n} threads differs at ${diff}`).toBe(-1);
      }
    }
  });

  it('Winograd with fewer blocks than threads splits each block into slices of filters: one part per thread', async () => {
    const be = await useThreads(3);
    const parts = (x: number[], w: number[], threads: number) => {
      const c = asConv3d(computeConv2DInfo('threads test', x, w, { padding: 'same' }));
      return be.wasm.conv_forward_parts_f32(be.params(CONV_GEOMETRY.map((f) => c[f])), be.workspace(), CONV_PATH.winograd, threads);
    };
    // 13x13 at batch 1: 49 tiles, one block; 20x20: 100 tiles, two blocks
    expect([1, 2, 3].map((t) => parts([1, 13, 13, 64], [3, 3, 64, 200], t))).toEqual([1, 2, 3]);
    expect([1, 2, 3].map((t) => parts([1, 20, 20, 32], [3, 3, 32, 48], t))).toEqual([2, 2, 4]);
    // blocks enough for the threads: whole blocks, up to 4 parts per thread (900 tiles in blocks of 128)
    expect(parts([4, 29, 29, 64], [3, 3, 64, 64], 2)).toBe(8);
  });

  it('the Winograd filter gradient with few chunks sums groups of tiles apart, set by the geometry (not the threads), then adds them in order', async () => {
    const be = await useThreads(2);
    const bytes = (x: number[], w: number[]) => {
      const c = asConv3d(computeConv2DInfo('threads test', x, w, { padding: 'same' }));
      return be.wasm.conv_winograd_dw_partial_bytes(be.params(CONV_GEOMETRY.map((f) => c[f])), be.workspace()) >>> 0;
    };
    // one chunk (64 channels, 64 filters), 900 tiles in 10 blocks: 4 groups of 16 x 64 x 64 floats
    expect(bytes([4, 29, 29, 64], [3, 3, 64, 64])).toBe(4 * 16 * 64 * 64 * 4);
    // 6 chunks: one pass, no partials (each thread takes whole chunks)
    expect(bytes([2, 10, 10, 80], [3, 3, 80, 136])).toBe(0);
    // fewer blocks than 4: a group per block (36x36 at batch 1: 324 tiles, 2 blocks of up to 194); one block: no partials
    expect(bytes([1, 36, 36, 32], [3, 3, 32, 48])).toBe(2 * 16 * 32 * 48 * 4);
    expect(bytes([1, 20, 20, 32], [3, 3, 32, 48])).toBe(0);
  });

  it('row- and block-split kernels (broadcasting binary ops, where, softmax, cross-entropy, reductions, LRN) run on the workers', async () => {
    const be = await useThreads(2);
    const before = be.threadedCalls;
    const rows = ck.withBackend('wasm', rowKernels);
    // every result above is at least one threaded call (a gradient: several)
    expect(be.threadedCalls - before).toBeGreaterThanOrEqual(rows.length);
  });

  it('the threaded results match the ts oracle (a training step of a small convnet)', async () => {
    await useThreads(2);
    const x = rand(8 * 20 * 20 * 3, 5), w = rand(3 * 3 * 3 * 32, 6);
    const f = (xt: ck.Tensor, wt: ck.Tensor) => ck.sum(ck.relu(ck.conv2d(xt, wt, { padding: 'same' })));
    const run = (b: string) => ck.withBackend(b, () => ck.grad(f)(ck.tensor(x, [8, 20, 20, 3]), ck.tensor(w, [3, 3, 3, 32])).map((g) => g.dataSync()));
    const [gx, gw] = run('wasm');
    const [rx, rw] = run('ts');
    for (const [got, want] of [[gx, rx], [gw, rw]]) {
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(want[i])));
    }
  });

  it('reports its threads (backendInfo)', async () => {
    await ck.setBackend('wasm', { threads: 2 });
    const info = ck.backendInfo();
    expect(info).toMatchObject({ name: 'wasm', threads: 2, threadsRequested: 2 });
    expect(['simd', 'relaxed']).toContain(info.variant);
    await ck.setBackend('ts');
  });

  it.each([0, -1, 1.5, 257, Number.NaN, 1e9])('threads %s is an error naming the value', async (t) => {
    await expect(ck.setBackend('wasm', { threads: t })).rejects.toThrow(new RegExp(`threads must be a whole number from 1 to 256, received ${String(t).replace('.', '\\.')}`));
  });

  it('changing the thread count while workers start: every promise settles, the last count wins', async () => {
    const first = ck.setBackend('wasm', { threads: 2 });
    const second = ck.setBackend('wasm', { threads: 3 });
    await Promise.all([first, second]);
    expect(ck.backendInfo()).toMatchObject({ threads: 3, threadsRequested: 3 });
    await ck.setBackend('ts');
  });

  it('an unknown option is an error', async () => {
    await expect(ck.setBackend('wasm', { thread: 2 } as never)).rejects.toThrow(/unknown backend option 'thread'/);
  });

  it('workers that cannot start: one thread, a message, results still right', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await ck.setBackend('wasm', { threads: 1 }); // (the same count as the running pool would keep it)
    setWorkerStarterForTests(() => Promise.reject(new Error('simulated start failure')));
    try {
      await ck.setBackend('wasm', { threads: 3 });
      expect(ck.backendInfo()).toMatchObject({ threads: 1, threadsRequested: 3 });
      expect(warn.mock.calls.flat().join('\n')).toMatch(/running on 1 thread instead of 3: .*simulated start failure/);
      const a = ck.tensor(rand(200 * 200, 1), [200, 200]);
      const y = ck.matmul(a, a);
      expect(y.dataSync().every(Number.isFinite)).toBe(true);
      // a worker that starts but fails in it (its instantiation throws)
      setWorkerStarterForTests(async () => {
        let message: ((m: { error?: string }) => void) | undefined;
        return {
          post: () => setTimeout(() => message?.({ error: 'simulated instantiation failure' }), 5),
          onMessage: (f) => (message = f),
          onFailure: () => {},
          terminate: () => {},
        };
      });
      await ck.setBackend('wasm', { threads: 2 });
      expect(ck.backendInfo()).toMatchObject({ threads: 1, threadsRequested: 2 });
      expect(warn.mock.calls.flat().join('\n')).toMatch(/simulated instantiation failure/);
    } finally {
      setWorkerStarterForTests(null);
      warn.mockRestore();
      await ck.setBackend('ts');
    }
  });

  it('spinMs: the threads spin that long after a job, 0 sleeps at once; results stay the same; a bad value is an error naming it', async () => {
    const be = await useThreads(2);
    expect(be.spinMs).toBe(1);
    const mm = () => ck.withBackend('wasm', () => ck.tidy(() => ck.matmul(ck.tensor(rand(128 * 96, 8), [128, 96]), ck.tensor(rand(96 * 80, 9), [96, 80])).dataSync()));
    const want = mm();
    for (const ms of [0, 0.05, 5]) {
      be.spinMs = ms;
      expect(be.spinMs).toBe(ms);
      const before = be.threadedCalls;
      // pauses longer than the spin: the workers sleep between calls and must wake for each
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 10));
        expect(mm()).toEqual(want);
      }
      expect(be.threadedCalls - before).toBe(3);
    }
    for (const bad of [-1, Number.NaN, 1001, '1' as unknown as number]) expect(() => (be.spinMs = bad)).toThrow(new RegExp(`spinMs must be a number of milliseconds in \\[0, 1000\\], received ${String(bad).replace('.', '\\.')}`));
    be.spinMs = 1;
    // a new pool (another thread count) keeps the setting
    be.spinMs = 2;
    await useThreads(3);
    expect((be as unknown as { pool: { spinMs: number } }).pool.spinMs).toBe(2);
    be.spinMs = 1;
    await ck.setBackend('ts');
  });

  it('disposing inputs right after an op is safe (the call returns only when every thread is done)', async () => {
    await useThreads(2);
    ck.withBackend('wasm', () => {
      const ref = ck.matmul(ck.tensor(rand(256 * 256, 3), [256, 256]), ck.tensor(rand(256 * 256, 4), [256, 256])).dataSync();
      for (let i = 0; i < 5; i++) {
        const a = ck.tensor(rand(256 * 256, 3), [256, 256]), b = ck.tensor(rand(256 * 256, 4), [256, 256]);
        const y = ck.matmul(a, b);
        a.dispose();
        b.dispose();
        // the freed blocks are reused at once by new tensors
        const c = ck.tensor(new Float32Array(256 * 256).fill(7), [256, 256]);
        expect(y.dataSync()).toEqual(ref);
        for (const t of [y, c]) t.dispose();
      }
    });
    await ck.setBackend('ts');
  });

  it('CLI --threads: bad values exit 2 naming the value; --threads 2 trains on 2 threads', async () => {
    for (const v of ['0', '-2', '1.5', '257', 'many']) {
      const r = await cli('train', '--threads', v, '--limit', '64', '--epochs', '1', '--quiet');
      expect(r.code, v).toBe(2);
      expect(r.err).toContain(`--threads must be a whole number from 1 to 256, received '${v}'`);
    }
    const ts = await cli('train', '--threads', '2', '--backend', 'ts', '--limit', '64', '--epochs', '1', '--quiet');
    expect(ts.code).toBe(2);
    expect(ts.err).toContain("--threads applies to the wasm backend only");
    const r = await cli('train', '--threads', '2', '--limit', '128', '--test-limit', '32', '--epochs', '1', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(ck.backendInfo()).toMatchObject({ name: 'wasm', threads: 2 });
    await ck.setBackend('ts');
  });
});
