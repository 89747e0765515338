/**
 * WASM convolution kernels against the ts oracle: forward, input gradient and filter
 * gradient, 2-D and 3-D, over random geometries (fast-check) and over sizes placed
 * around the GEMM's register tile (MR x 8) and cache blocks (MC rows, KC
 * depth), plus the pointwise, depthwise and direct (few taps per group) fast paths;
 * each fixed case asserts which forward path it exercises. Tolerances scale with the
 * reduction length of each output (tolForK): float32 rounding of a K-term sum grows
 * like sqrt(K).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ck from '../../src/index.js';
import { computeConv2DInfo, computeConv3DInfo, type ConvOpts, type Conv2DInfo, type Conv3DInfo } from '../../src/kernels/conv_info.js';
import { mismatch, tolForK } from '../util/close.js';
import { Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput, Conv3D, Conv3DBackpropFilter, Conv3DBackpropInput, asConv3d } from '../../src/kernels/conv.js';
import { CONV_GEOMETRY, CONV_PATH } from '../../src/kernels/wasm_abi.js';
import { rand } from '../util/rand.mjs';
import type { WasmBackend } from '../../src/backends/wasm/backend.js';

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Run `kernel` on ts and on wasm with the same inputs (on wasm, variant `variant` when
 * given, else the one dispatch chooses); fail with context on mismatch or fallback.
 */
function compare(kernel: string, shapes: number[][], attrs: Record<string, unknown>, K: number, seed: number, ctx: string, variant?: string): void {
  const data = shapes.map((s, i) => rand(size(s), seed * 7 + i));
  const want = ck.withBackend('ts', () => ck.runKernel(kernel, data.map((d, i) => ck.tensor(d, shapes[i])), attrs)[0]);
  ck.clearFallbacks();
  const got = ck.withBackend('wasm', () => {
    const ins = data.map((d, i) => ck.tensor(d, shapes[i]));
    const y = variant === undefined ? ck.runKernel(kernel, ins, attrs)[0] : ck.runKernelVariant('wasm', kernel, variant, ins, attrs)[0];
    for (const t of ins) t.dispose();
    return y;
  });
  expect(ck.getFallbacks().filter((f) => f.from === 'wasm'), `${kernel} fell back`).toEqual([]);
  expect(got.backend.name).toBe('wasm');
  expect(got.shape, ctx).toEqual(want.shape);
  const m = mismatch(got.dataSync(), want.dataSync(), tolForK(K));
  got.dispose();
  want.dispose();
  if (m) expect.fail(`${kernel}${variant ? ` (${variant})` : ''} ${ctx}: ${m}`);
}

/** The wasm variants to run each of the three kernels on (undefined: the chosen one). */
interface Variants { forward?: string; input?: string; filter?: string }

function check2d(xShape: number[], wShape: number[], opts: ConvOpts, seed = 1, v: Variants = {}): void {
  const conv: Conv2DInfo = computeConv2DInfo('test', xShape, wShape, opts);
  const yShape = [conv.batch, conv.outH, conv.outW, conv.outC];
  const Cg = conv.inC / conv.groups, Fg = conv.outC / conv.groups;
  const ctx = `x ${JSON.stringify(xShape)} w ${JSON.stringify(wShape)} ${JSON.stringify(opts)}`;
  compare('Conv2D', [xShape, wShape], { conv }, conv.kH * conv.kW * Cg, seed, ctx, v.forward);
  compare('Conv2DBackpropInput', [yShape, wShape], { conv }, conv.kH * conv.kW * Fg, seed + 1, ctx, v.input);
  compare('Conv2DBackpropFilter', [xShape, yShape], { conv }, conv.batch * conv.outH * conv.outW, seed + 2, ctx, v.filter);
}

function check3d(xShape: number[], wShape: number[], opts: ConvOpts, seed = 1, v: Variants = {}): void {
  const conv: Conv3DInfo = computeConv3DInfo('test', xShape, wShape, opts);
  const yShape = [conv.batch, conv.outD, conv.outH, conv.outW, conv.outC];
  const Cg = conv.inC / conv.groups, Fg = conv.outC / conv.groups;
  const ctx = `x ${JSON.stringify(xShape)} w ${JSON.stringify(wShape)} ${JSON.stringify(opts)}`;
  const taps = conv.kD * conv.kH * conv.kW;
  compare('Conv3D', [xShape, wShape], { conv }, taps * Cg, seed, ctx, v.forward);
  compare('Conv3DBackpropInput', [yShape, wShape], { conv }, taps * Fg, seed + 1, ctx, v.input);
  compare('Conv3DBackpropFilter', [xShape, yShape], { conv }, conv.batch * conv.outD * conv.outH * conv.outW, seed + 2, ctx, v.filter);
}

type Which = 'forward' | 'input' | 'filter';
const KERNELS = {
  2: { forward: Conv2D, input: Conv2DBackpropInput, filter: Conv2DBackpropFilter },
  3: { forward: Conv3D, input: Conv3DBackpropInput, filter: Conv3DBackpropFilter },
} as const;

/** The wasm variant dispatch chooses for kernel `which` of a 2-D or 3-D geometry (the choice reads only the geometry). */
function chosen(which: Which, xShape: number[], wShape: number[], opts: ConvOpts): string {
  if (xShape.length === 5) return ck.chooseKernelVariant('wasm', KERNELS[3][which], [], { conv: computeConv3DInfo('test', xShape, wShape, opts) });
  return ck.chooseKernelVariant('wasm', KERNELS[2][which], [], { conv: computeConv2DInfo('test', xShape, wShape, opts) });
}
const pathOf = (xShape: number[], wShape: number[], opts: ConvOpts) => chosen('forward', xShape, wShape, opts);
const filterPathOf = (xShape: number[], wShape: number[], opts: ConvOpts) => chosen('filter', xShape, wShape, opts);
const inputPathOf = (xShape: number[], wShape: number[], opts: ConvOpts) => chosen('input', xShape, wShape, opts);

/** Whether wasm variant `variant` of kernel `which` applies to a 2-D or 3-D geometry. */
function applies(which: Which, variant: string, xShape: number[], wShape: number[], opts: ConvOpts): boolean {
  if (xShape.length === 5) return ck.kernelVariantApplies('wasm', KERNELS[3][which], variant, [], { conv: computeConv3DInfo('test', xShape, wShape, opts) });
  return ck.kernelVariantApplies('wasm', KERNELS[2][which], variant, [], { conv: computeConv2DInfo('test', xShape, wShape, opts) });
}

/** check2d / check3d after asserting the input-gradient path the case is meant to cover. */
function checkInputPath(path: string, xShape: number[], wShape: number[], opts: ConvOpts, seed = 1): void {
  expect(inputPathOf(xShape, wShape, opts), `input-gradient path of x ${JSON.stringify(xShape)} w ${JSON.stringify(wShape)} ${JSON.stringify(opts)}`).toBe(path);
  if (xShape.length === 5) check3d(xShape, wShape, opts, seed);
  else check2d(xShape, wShape, opts, seed);
}

/**
 * check2d on the im2col + GEMM variants of all three kernels (the input gradient as
 * col2im, and also as the flipped-filter GEMM where strides allow), after asserting that
 * the geometry is neither pointwise nor depthwise: the tests that probe the GEMM's tile
 * and block boundaries use small geometries, which dispatch would send to the direct
 * kernels.
 */
function checkGemm(xShape: number[], wShape: number[], opts: ConvOpts, seed = 1): void {
  const where = `x ${JSON.stringify(xShape)} w ${JSON.stringify(wShape)} ${JSON.stringify(opts)}`;
  expect(['gemm', 'direct'], `forward path of ${where}`).toContain(pathOf(xShape, wShape, opts));
  expect(['gemm', 'direct'], `filter-gradient path of ${where}`).toContain(filterPathOf(xShape, wShape, opts));
  check2d(xShape, wShape, opts, seed, { forward: 'gemm', input: 'gemm', filter: 'gemm' });
  if (applies('input', 'flipped-gemm', xShape, wShape, opts)) {
    const conv = computeConv2DInfo('test', xShape, wShape, opts);
    const yShape = [conv.batch, conv.outH, conv.outW, conv.outC];
    compare('Conv2DBackpropInput', [yShape, wShape], { conv }, conv.kH * conv.kW * (conv.outC / conv.groups), seed + 1, where, 'flipped-gemm');
  }
}

/** check2d / check3d after asserting the filter-gradient path the case is meant to cover. */
function checkFilterPath(path: string, xShape: number[], wShape: number[], opts: ConvOpts, seed = 1): void {
  expect(filterPathOf(xShape, wShape, opts), `filter-gradient path of x ${JSON.stringify(xShape)} w ${JSON.stringify(wShape)} ${JSON.stringify(opts)}`).toBe(path);
  if (xShape.length === 5) check3d(xShape, wShape, opts, seed);
  else check2d(xShape, wShape, opts, seed);
}

/** check2d / check3d after asserting the forward path the case is meant to cover. */
function checkPath(path: string, xShape: number[], wShape: number[], opts: ConvOpts, seed = 1): void {
  expect(pathOf(xShape, wShape, opts), `forward path of x ${JSON.stringify(xShape)} w ${JSON.stringify(wShape)} ${JSON.stringify(opts)}`).toBe(path);
  if (xShape.length === 5) check3d(xShape, wShape, opts, seed);
  else check2d(xShape, wShape, opts, seed);
}

const tile = () => ck.withBackend('wasm', () => {
  const { gemmMR: MR, gemmNR: NR, gemmMC: MC, gemmKC: KC } = (ck.backend() as unknown as WasmBackend).tileSizes();
  return { MR, NR, MC, KC };
});

describe('wasm conv2d vs ts oracle', () => {
  it('random geometries: strides, paddings, dilations, groups (property)', () => {
    const padding = fc.oneof(
      fc.constant<ConvOpts['padding']>('valid'),
      fc.constant<ConvOpts['padding']>('same'),
      fc.integer({ min: 0, max: 2 }),
      fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))
        .map(([a, b, c, d]) => [[a, b], [c, d]] as [number, number][]),
    );
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 1, max: 9 }), w: fc.integer({ min: 1, max: 9 }),
          cg: fc.integer({ min: 1, max: 6 }), fg: fc.integer({ min: 1, max: 10 }), groups: fc.integer({ min: 1, max: 3 }),
          kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }),
          sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }),
          dh: fc.integer({ min: 1, max: 2 }), dw: fc.integer({ min: 1, max: 2 }),
          padding, seed: fc.nat(1000),
        }),
        (p) => {
          const xShape = [p.n, p.h, p.w, p.cg * p.groups], wShape = [p.kh, p.kw, p.cg, p.fg * p.groups];
          const opts: ConvOpts = { strides: [p.sh, p.sw], dilations: [p.dh, p.dw], padding: p.padding, groups: p.groups };
          try {
            computeConv2DInfo('test', xShape, wShape, opts);
          } catch {
            return; // kernel larger than the padded input: the op rejects it (tested in the op suite)
          }
          check2d(xShape, wShape, opts, p.seed);
        },
      ),
      { numRuns: 60, seed: 20240611 },
    );
  });

  it('random geometries with 80+ taps per group: implicit im2col + GEMM (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 2, max: 7 }), w: fc.integer({ min: 2, max: 7 }),
          cg: fc.integer({ min: 20, max: 26 }), fg: fc.integer({ min: 1, max: 10 }), groups: fc.integer({ min: 1, max: 2 }),
          kh: fc.integer({ min: 2, max: 3 }), kw: fc.integer({ min: 2, max: 3 }),
          s: fc.integer({ min: 1, max: 2 }), d: fc.integer({ min: 1, max: 2 }),
          padding: fc.oneof(fc.constant<ConvOpts['padding']>('valid'), fc.constant<ConvOpts['padding']>('same'), fc.integer({ min: 0, max: 2 })),
          seed: fc.nat(1000),
        }),
        (p) => {
          const xShape = [p.n, p.h, p.w, p.cg * p.groups], wShape = [p.kh, p.kw, p.cg, p.fg * p.groups];
          const opts: ConvOpts = { strides: p.s, dilations: p.d, padding: p.padding, groups: p.groups };
          try {
            computeConv2DInfo('test', xShape, wShape, opts);
          } catch {
            return;
          }
          checkPath('gemm', xShape, wShape, opts, p.seed); // forward on the GEMM, gradients on their chosen paths
          checkGemm(xShape, wShape, opts, p.seed); // all three on the GEMM
        },
      ),
      { numRuns: 25, seed: 99 },
    );
  });

  it('filter counts around the register tile width (N of the GEMM)', () => {
    // 3x3x9 = 81 taps: past the direct kernel's limit, so im2col + GEMM
    for (const F of [1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23]) checkGemm([1, 5, 6, 9], [3, 3, 9, F], { padding: 'same' }, F);
  });

  it('output pixel counts around MR strips and the MC row block (M of the GEMM)', () => {
    const { MR, MC } = tile();
    // 1 x W outputs with W = multiples of MR +-1, and around MC and 2 MC
    for (const W of [1, MR - 1, MR, MR + 1, 2 * MR + 1, MC - 1, MC, MC + 1, 2 * MC + 1]) checkGemm([1, 3, W + 2, 9], [3, 3, 9, 9], { padding: 'valid' }, W);
  });

  it('reduction lengths around the KC depth block (K of the GEMM)', () => {
    const { KC } = tile();
    // forward K = 3*3*C just below and above KC and 2 KC
    for (const C of [Math.floor(KC / 9), Math.ceil(KC / 9) + (KC % 9 ? 0 : 1), Math.floor((2 * KC) / 9), Math.ceil((2 * KC) / 9) + 1]) {
      checkGemm([1, 7, 9, C], [3, 3, C, 8], { padding: 'same' }, C);
    }
    // filter gradient K = N*OH*OW = KC - 1, KC, KC + 1, 2 KC
    for (const [N, W] of [[1, KC - 1], [1, KC], [1, KC + 1], [2, KC]]) checkGemm([N, 1, W, 3], [1, 3, 3, 5], { padding: 'same' }, W);
  });

  it('unit-stride input gradients with > 32 channels per group, or padding past the kernel: flipped-filter convolution on the GEMM', () => {
    checkInputPath('flipped-gemm', [2, 6, 7, 33], [3, 3, 33, 5], { padding: 'same' });
    checkInputPath('flipped-gemm', [1, 7, 6, 40], [2, 4, 40, 3], { padding: 'valid', dilations: [2, 1] });
    checkInputPath('flipped-gemm', [1, 5, 5, 32], [3, 3, 16, 4], { groups: 2, padding: [[3, 0], [1, 4]] }); // pads beyond the kernel extent
    checkInputPath('flipped-gemm', [2, 9, 4, 48], [1, 3, 48, 9], { padding: [[2, 2], [0, 1]] });
    checkInputPath('flipped-gemm', [1, 3, 4, 5, 36], [2, 2, 3, 36, 3], { padding: 'same' });
  });

  it('unit-stride input gradients with 16-32 channels per group: flipped filter on the direct kernel', () => {
    checkInputPath('direct', [2, 6, 7, 16], [3, 3, 16, 5], { padding: 'same' });
    checkInputPath('direct', [1, 7, 6, 17], [2, 4, 17, 3], { padding: 'valid', dilations: [2, 1] }); // 17 of 24 lanes, short reduction
    checkInputPath('direct', [2, 9, 4, 20], [1, 3, 20, 9], { padding: [[0, 0], [2, 1]] });
    checkInputPath('direct', [1, 5, 6, 32], [3, 3, 32, 10], { padding: 'same' });
    checkInputPath('flipped-gemm', [1, 5, 6, 17], [3, 3, 17, 80], { padding: 'same' }); // 17 of 24 lanes, long reduction
    checkInputPath('direct', [1, 3, 4, 5, 16], [2, 2, 3, 16, 3], { padding: 'same' });
  });

  it('unit-stride input gradients with few channels: flipped filter on the direct kernel where its lanes are used', () => {
    // LeNet's C3 (6 channels from 16, 5x5), lane use 3/4 and more: Cg 6, 7, 8, 12, 15
    checkInputPath('direct', [3, 9, 9, 6], [5, 5, 6, 16], { padding: 'valid' });
    for (const C of [7, 8, 12, 15]) checkInputPath('direct', [2, 6, 7, C], [3, 3, C, 5], { padding: 'same' }, C);
    // half the lanes (Cg 4) with a short reduction (taps * F <= 600) is direct, a long one col2im
    checkInputPath('direct', [2, 6, 6, 4], [3, 3, 4, 16], { padding: 'same' });
    checkInputPath('gemm', [1, 5, 5, 4], [3, 3, 4, 80], { padding: 'same' });
    // few lanes used: col2im
    checkInputPath('gemm', [2, 6, 6, 1], [3, 3, 1, 8], { padding: 'same' });
    checkInputPath('gemm', [2, 6, 6, 3], [3, 3, 3, 8], { padding: 'same' });
    // dilations, asymmetric padding, groups, 3-D
    checkInputPath('direct', [1, 8, 9, 6], [3, 2, 6, 7], { dilations: [2, 3], padding: [[1, 2], [0, 3]] });
    checkInputPath('direct', [1, 6, 6, 12], [3, 3, 6, 10], { groups: 2, padding: 'same' });
    checkInputPath('direct', [1, 4, 5, 6, 8], [2, 3, 3, 8, 4], { padding: 'same' });
    // padding beyond the kernel's extent (negative flipped padding) and strides: col2im
    checkInputPath('gemm', [1, 5, 5, 6], [3, 3, 6, 4], { padding: [[3, 0], [1, 4]] });
    checkInputPath('gemm', [1, 9, 9, 6], [3, 3, 6, 4], { strides: 2, padding: 'same' });
  });

  it('pointwise (1x1) fast path, with groups, and strided 1x1 through im2col or the direct kernel', () => {
    checkPath('pointwise', [2, 7, 5, 13], [1, 1, 13, 17], {});
    checkPath('pointwise', [2, 7, 5, 12], [1, 1, 4, 9], { groups: 3 });
    checkPath('direct', [2, 7, 5, 13], [1, 1, 13, 6], { strides: 2 });
    checkPath('gemm', [2, 7, 5, 80], [1, 1, 80, 6], { strides: 2 });
    checkPath('direct', [1, 4, 4, 8], [1, 1, 8, 8], { padding: 1 });
    checkPath('pointwise', [1, 17, 15, 31], [1, 1, 31, 19], {});
  });

  it('direct kernel (few taps per group): output widths around its 4-pixel tile, filters around 8 lanes', () => {
    for (const W of [1, 2, 3, 4, 5, 7, 8, 9, 13]) checkPath('direct', [2, 4, W, 1], [3, 3, 1, 6], { padding: 'same' }, W);
    for (const F of [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17]) checkPath('direct', [1, 6, 7, 3], [3, 3, 3, F], { padding: 'same' }, 40 + F);
    // LeNet's first layer and the limit of 75 taps per group (5x5x3), one past it (5x5x4)
    checkPath('direct', [3, 12, 12, 1], [5, 5, 1, 6], { padding: 'valid' });
    checkPath('direct', [1, 9, 10, 3], [5, 5, 3, 4], { padding: 'same' });
    checkPath('gemm', [1, 9, 10, 4], [5, 5, 4, 4], { padding: 'same' });
  });

  it('direct kernel: strides, dilations, groups, padding wider than the kernel, 3-D', () => {
    checkPath('direct', [2, 9, 11, 3], [3, 3, 3, 8], { strides: 2, padding: 'same' });
    checkPath('direct', [1, 9, 11, 2], [3, 2, 2, 5], { strides: [1, 3], dilations: [2, 3], padding: 'valid' });
    checkPath('direct', [1, 7, 8, 6], [3, 3, 2, 9], { groups: 3, padding: [[2, 1], [0, 3]] });
    checkPath('direct', [1, 3, 3, 2], [2, 2, 2, 3], { padding: [[4, 4], [5, 3]] }); // rows and columns made only of padding
    checkPath('direct', [2, 6, 9, 4], [1, 3, 2, 10], { groups: 2, dilations: [1, 2], strides: [2, 1], padding: 'same' });
    checkPath('direct', [1, 4, 5, 6, 2], [2, 3, 3, 2, 5], { padding: 'same', strides: [1, 2, 1] });
  });

  it('direct kernel: rows too wide for its row buffer go to im2col + GEMM', () => {
    // 3 kernel rows x 7000 columns x 3 channels x 4 bytes (252 KB) exceed the 240 KB buffer
    checkPath('gemm', [1, 3, 7000, 3], [3, 3, 3, 4], { padding: 'same' });
    checkPath('direct', [1, 3, 5000, 3], [3, 3, 3, 4], { padding: 'same' });
  });

  it('direct filter gradient: taps around its 4-tap tile, filters around 8 lanes (dy in place or packed)', () => {
    // Kg = KH*KW*Cg from 1 to 9: whole and partial tiles
    checkFilterPath('direct', [2, 6, 8, 1], [1, 1, 1, 6], { strides: 2 }); // Kg = 1 (a strided 1x1 is not pointwise)
    for (const [kh, kw, c] of [[1, 2, 1], [1, 3, 1], [2, 2, 1], [1, 5, 1], [1, 7, 1], [3, 3, 1], [5, 5, 1]]) {
      checkFilterPath('direct', [2, 6, 8, c], [kh, kw, c, 6], { padding: 'same' }, 10 * kh + kw);
    }
    // F multiple of 8 reads dy in place; other F are packed, and the last pixels of dy
    // (where 8 floats would run past its end) are copied lane by lane
    for (const F of [1, 3, 7, 8, 9, 15, 16, 17, 24]) checkFilterPath('direct', [2, 5, 6, 3], [3, 3, 3, F], { padding: 'valid' }, 60 + F);
    checkFilterPath('direct', [1, 4, 4, 4], [3, 3, 2, 16], { groups: 2, padding: 'same' }); // in place, 2 groups
  });

  it('direct filter gradient: row blocks, long reductions, strides, dilations, padding wider than the kernel, 3-D', () => {
    // 300 output columns: one output row per block; 7 columns: 36 rows per block, the last one partial
    checkFilterPath('direct', [1, 4, 300, 2], [3, 3, 2, 5], { padding: 'same' });
    checkFilterPath('direct', [2, 40, 7, 1], [3, 3, 1, 8], { padding: 'same' });
    // Kg > 300 with unit strides and Kg * Fg <= 2^17 stays direct; strided it goes to the GEMM
    checkFilterPath('direct', [1, 6, 6, 40], [3, 3, 40, 9], { padding: 'same' });
    checkFilterPath('gemm', [1, 6, 6, 40], [3, 3, 40, 9], { padding: 'same', strides: 2 });
    checkFilterPath('direct', [2, 9, 11, 3], [3, 3, 3, 8], { strides: 2, padding: 'same' });
    checkFilterPath('direct', [1, 9, 11, 2], [3, 2, 2, 5], { strides: [1, 3], dilations: [2, 3], padding: 'valid' });
    checkFilterPath('direct', [1, 7, 8, 6], [3, 3, 2, 9], { groups: 3, padding: [[2, 1], [0, 3]] });
    checkFilterPath('direct', [1, 3, 3, 2], [2, 2, 2, 3], { padding: [[4, 4], [5, 3]] });
    checkFilterPath('direct', [1, 4, 5, 6, 2], [2, 3, 3, 2, 5], { padding: 'same', strides: [1, 2, 1] });
    // depthwise and pointwise keep their own paths
    expect(filterPathOf([1, 5, 5, 4], [3, 3, 1, 4], { groups: 4 })).toBe('depthwise');
    expect(filterPathOf([1, 5, 5, 4], [1, 1, 4, 4], {})).toBe('pointwise');
  });

  it('direct filter gradient: an image too large for the workspace goes to im2col + GEMM', () => {
    // a padded image of 1102 x 1102 x 1 floats (4.9 MB) exceeds the 4.3 MB workspace; 1002 x 1002 (4 MB) fits
    checkFilterPath('gemm', [1, 1100, 1100, 1], [3, 3, 1, 1], { padding: 'same' });
    checkFilterPath('direct', [1, 1000, 1000, 1], [3, 3, 1, 1], { padding: 'same' });
  });

  it('Winograd filter gradient: channel and filter chunks, several blocks of tiles, odd outputs, uneven padding', () => {
    // 72 channels: chunks of 64 and 8 (columns of the in-place GEMM: 8 wide, then a 4-wide remainder with 12)
    checkFilterPath('winograd', [2, 12, 12, 72], [3, 3, 72, 24], { padding: 'same' });
    checkFilterPath('winograd', [2, 9, 9, 12], [3, 3, 12, 20], { padding: 'same' });
    // 136 filters with 64 channels: filter chunks of 64, 64 and 8
    checkFilterPath('winograd', [2, 9, 9, 64], [3, 3, 64, 136], { padding: 'same' });
    // 396 tiles: two blocks of at most 256, odd output (21 x 23)
    checkFilterPath('winograd', [3, 21, 23, 16], [3, 3, 16, 8], { padding: 'same' });
    // no padding (8 x 7 output) and padding on one side only
    checkFilterPath('winograd', [2, 10, 9, 8], [3, 3, 8, 12], { padding: 'valid' });
    checkFilterPath('winograd', [2, 11, 10, 8], [3, 3, 8, 8], { padding: [[2, 0], [0, 1]] });
  });

  it('depthwise (groups = C) direct kernels, channel multiplier 1 and 3', () => {
    for (const C of [1, 3, 4, 5, 8, 9]) {
      if (C > 1) check2d([2, 7, 6, C], [3, 3, 1, C], { groups: C, padding: 'same' }, C);
      check2d([1, 8, 7, C], [3, 2, 1, 3 * C], { groups: C, strides: [2, 1], dilations: [1, 2], padding: [[1, 0], [2, 1]] }, C + 20);
    }
    // more taps than one tap list holds is impossible in tests; a large kernel checks the list logic
    check2d([1, 9, 9, 4], [9, 9, 1, 4], { groups: 4, padding: 'same' });
  });

  it('the op-level conv2d, conv1d, depthwiseConv2d and conv2dTranspose run on wasm and agree with ts', () => {
    const x = rand(2 * 9 * 8 * 6, 3), w = rand(3 * 3 * 6 * 5, 4);
    const both = (f: () => ck.Tensor) => {
      const a = ck.withBackend('ts', f), b = ck.withBackend('wasm', f);
      expect(b.backend.name).toBe('wasm');
      const m = mismatch(b.dataSync(), a.dataSync(), tolForK(54));
      if (m) expect.fail(m);
    };
    both(() => ck.conv2d(ck.tensor(x, [2, 9, 8, 6]), ck.tensor(w, [3, 3, 6, 5]), { strides: 2, padding: 'same' }));
    both(() => ck.conv1d(ck.tensor(x, [2, 72, 6]), ck.tensor(w.slice(0, 3 * 6 * 5), [3, 6, 5]), { dilations: 2 }));
    both(() => ck.depthwiseConv2d(ck.tensor(x, [2, 9, 8, 6]), ck.tensor(w.slice(0, 3 * 3 * 6 * 2), [3, 3, 6, 2]), { padding: 'same' }));
    both(() => ck.conv2dTranspose(ck.tensor(x, [2, 9, 8, 6]), ck.tensor(w.slice(0, 3 * 3 * 4 * 6), [3, 3, 4, 6]), { strides: 2, padding: 'same' }));
  });
});

describe('wasm conv variants by name', () => {
  it('every variant of every conv kernel, on each geometry it applies to, agrees with ts', () => {
    const geoms: [number[], number[], ConvOpts][] = [
      [[2, 5, 6, 8], [1, 1, 8, 9], {}], // pointwise
      [[1, 6, 5, 4], [3, 3, 1, 8], { groups: 4, padding: 'same' }], // depthwise, multiplier 2
      [[2, 6, 7, 3], [3, 3, 3, 10], { padding: 'same' }], // few taps: direct
      [[1, 6, 5, 20], [3, 3, 20, 6], { padding: 'same' }], // unit strides, 20 channels: flipped filter
      [[1, 7, 6, 36], [2, 3, 18, 6], { groups: 2, padding: [[1, 0], [2, 1]], dilations: [2, 1] }],
      [[2, 9, 8, 5], [3, 3, 5, 7], { strides: 2, padding: 'same' }], // strided
      [[1, 3, 4, 5, 6], [2, 2, 3, 6, 4], { padding: 'same' }], // 3-D
      [[1, 3, 4, 5, 4], [1, 1, 1, 4, 5], {}], // 3-D pointwise
      [[1, 3, 4, 5, 3], [2, 3, 3, 1, 6], { groups: 3, padding: 'same' }], // 3-D depthwise
      [[2, 7, 9, 8], [3, 3, 8, 12], { padding: 'same' }], // 3x3, unit strides, channels by 4: Winograd
      [[1, 5, 4, 12], [3, 3, 12, 4], { padding: [[2, 0], [0, 2]] }], // Winograd, uneven padding, odd output
      [[1, 1, 5, 6, 4], [1, 3, 3, 4, 8], { padding: 'same' }], // 3-D of depth 1: Winograd
    ];
    const covered = new Set<string>();
    geoms.forEach(([xShape, wShape, opts], i) => {
      const rank = xShape.length === 5 ? 3 : 2;
      for (const which of ['forward', 'input', 'filter'] as const) {
        for (const variant of ck.kernelVariants('wasm', KERNELS[rank][which])) {
          if (!applies(which, variant, xShape, wShape, opts)) continue;
          covered.add(`${KERNELS[rank][which].name}:${variant}`);
          const v: Variants = { forward: 'gemm', input: 'gemm', filter: 'gemm', [which]: variant };
          if (rank === 3) check3d(xShape, wShape, opts, 100 + i, v);
          else check2d(xShape, wShape, opts, 100 + i, v);
        }
      }
    });
    const all = ([2, 3] as const).flatMap((r) => (['forward', 'input', 'filter'] as const).flatMap((w) => ck.kernelVariants('wasm', KERNELS[r][w]).map((v) => `${KERNELS[r][w].name}:${v}`)));
    // forward 5 paths, input gradient 6, filter gradient 5 (Winograd in all three); 2-D and 3-D
    expect(all.length).toBe(2 * (5 + 6 + 5));
    expect([...covered].sort()).toEqual([...all].sort());
  });

  it('the choice is one of the variants that apply, and a variant that does not apply is refused', () => {
    const conv = computeConv2DInfo('test', [1, 5, 5, 4], [3, 3, 4, 6], { strides: 2 });
    for (const k of [Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter]) {
      const name = ck.chooseKernelVariant('wasm', k, [], { conv });
      expect(ck.kernelVariantApplies('wasm', k, name, [], { conv }), `${k.name}: ${name}`).toBe(true);
    }
    expect(ck.kernelVariantApplies('wasm', Conv2D, 'pointwise', [], { conv })).toBe(false);
    expect(ck.kernelVariantApplies('wasm', Conv2DBackpropInput, 'flipped-gemm', [], { conv })).toBe(false);
    const x = ck.tensor(rand(100, 1), [1, 5, 5, 4]), w = ck.tensor(rand(216, 2), [3, 3, 4, 6]);
    expect(() => ck.withBackend('wasm', () => ck.runKernelVariant('wasm', Conv2D, 'depthwise', [x, w], { conv }))).toThrow(RangeError);
  });
});

/**
 * The depthwise forward kernel's row path (2-D, channel multiplier 1, 3x3 and 5x5:
 * interior pixels with the filter in locals, border pixels with their kw range cut to the
 * image) keeps the summation order of the generic per-pixel path: acc = 0, then + x*w
 * over the in-image taps in (kh, kw) order, each product and sum rounded to float32.
 * depthwiseOrdered computes exactly that in JavaScript (Math.fround after each operation
 * is float32 arithmetic: a float32 product is exact in float64, and float64 then float32
 * rounding of a sum of two float32 is the float32 sum), so the plain SIMD build must
 * match it bit for bit; the relaxed build fuses each multiply-add and is checked within
 * tolerance. The kernel runs over the output pixels split into `parts` ranges (as threads
 * split them), so ranges start and end mid-row.
 */
function depthwiseOrdered(x: Float32Array, w: Float32Array, c: Conv2DInfo): Float32Array {
  const C = c.inC, Mu = c.outC / C;
  const y = new Float32Array(c.batch * c.outH * c.outW * c.outC);
  let o = 0;
  for (let n = 0; n < c.batch; n++) for (let oh = 0; oh < c.outH; oh++) for (let ow = 0; ow < c.outW; ow++) for (let f = 0; f < c.outC; f++) {
    const ch = Math.floor(f / Mu);
    let acc = 0;
    for (let kh = 0; kh < c.kH; kh++) {
      const ih = oh * c.strideH - c.padTop + kh * c.dilationH;
      if (ih < 0 || ih >= c.inH) continue;
      for (let kw = 0; kw < c.kW; kw++) {
        const iw = ow * c.strideW - c.padLeft + kw * c.dilationW;
        if (iw < 0 || iw >= c.inW) continue;
        acc = Math.fround(acc + Math.fround(x[((n * c.inH + ih) * c.inW + iw) * C + ch] * w[(kh * c.kW + kw) * c.outC + f]));
      }
    }
    y[o++] = acc;
  }
  return y;
}

/** Inputs with exact zeros of both signs among the values: a sum of only -0 products is +0 (it starts at +0). */
function withSignedZeros(n: number, seed: number): Float32Array {
  const a = rand(n, seed);
  for (let i = 0; i < n; i += 5) a[i] = i % 10 === 0 ? -0 : 0;
  return a;
}

/** The depthwise forward kernel of the module on output pixels split into `parts` ranges, run one after another. */
function depthwiseInParts(xShape: number[], wShape: number[], opts: ConvOpts, parts: number, seed: number): { got: Float32Array; want: Float32Array; conv: Conv2DInfo } {
  const C = xShape[3];
  const conv = computeConv2DInfo('test', xShape, wShape, { ...opts, groups: C });
  const xd = withSignedZeros(size(xShape), seed), wd = withSignedZeros(size(wShape), seed + 1);
  const got = ck.withBackend('wasm', () => {
    const be = ck.backend() as unknown as WasmBackend;
    const x = ck.tensor(xd, xShape), w = ck.tensor(wd, wShape);
    const yShape = [conv.batch, conv.outH, conv.outW, conv.outC];
    const y = ck.tensor(new Float32Array(size(yShape)).fill(Number.NaN), yShape); // a pixel left unwritten stays NaN
    const g = asConv3d(conv);
    for (let part = 0; part < parts; part++) {
      const geom = be.params(CONV_GEOMETRY.map((field) => g[field]));
      be.wasm.conv_forward_f32(be.ptr(x), be.ptr(w), be.ptr(y), geom, be.workspace(), CONV_PATH.depthwise, part, parts);
    }
    const out = y.dataSync() as Float32Array;
    for (const t of [x, w, y]) t.dispose();
    return out;
  });
  return { got, want: depthwiseOrdered(xd, wd, conv), conv };
}

function checkDepthwiseParts(xShape: number[], wShape: number[], opts: ConvOpts, parts: number, seed: number): void {
  const { got, want, conv } = depthwiseInParts(xShape, wShape, opts, parts, seed);
  const ctx = `x ${JSON.stringify(xShape)} w ${JSON.stringify(wShape)} ${JSON.stringify(opts)} in ${parts} parts`;
  expect(got.length, ctx).toBe(want.length);
  if (ck.withBackend('wasm', () => (ck.backend() as unknown as WasmBackend).variant) === 'simd') {
    const a = new Uint32Array(got.buffer, got.byteOffset, got.length), b = new Uint32Array(want.buffer, want.byteOffset, want.length);
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) expect.fail(`${ctx}: index ${i} (pixel ${Math.floor(i / conv.outC)}, channel ${i % conv.outC}): got ${got[i]} (0x${a[i].toString(16)}), want ${want[i]} (0x${b[i].toString(16)})`);
    }
  } else {
    const m = mismatch(got, want, tolForK(conv.kH * conv.kW));
    if (m) expect.fail(`${ctx}: ${m}`);
  }
}

describe('wasm FusedConv2DConcat: each convolution writes into its slice of the output', () => {
  // one branch per forward path (the dispatcher's choice is asserted), filter counts off the
  // 8-wide register tile, so each path's column tails and output pixel stride are exercised
  const N = 2, H = 12, W = 11;
  const BRANCHES: { path: keyof typeof CONV_PATH; x: number[]; w: number[]; groups: number; activation: string }[] = [
    { path: 'winograd', x: [N, H, W, 32], w: [3, 3, 32, 36], groups: 1, activation: 'swish' },
    { path: 'pointwise', x: [N, H, W, 32], w: [1, 1, 32, 20], groups: 1, activation: 'relu6' },
    { path: 'direct', x: [N, H, W, 3], w: [3, 3, 3, 13], groups: 1, activation: 'leakyRelu' },
    { path: 'gemm', x: [N, H, W, 48], w: [5, 5, 48, 12], groups: 1, activation: 'hardSwish' },
    { path: 'depthwise', x: [N, H, W, 16], w: [3, 3, 1, 16], groups: 16, activation: 'linear' },
    { path: 'gemm', x: [N, H, W, 32], w: [3, 3, 16, 24], groups: 2, activation: 'hardSigmoid' },
  ];

  it('bitwise the FusedConv2D outputs concatenated, on every forward path and in any order', () => {
    const be = ck.withBackend('wasm', () => ck.backend() as unknown as WasmBackend);
    ck.withBackend('wasm', () => {
      const made = BRANCHES.map((b, i) => {
        const conv = computeConv2DInfo('test', b.x, b.w, { padding: 'same', groups: b.groups });
        const path = be.wasm.conv_forward_path_f32(be.params(CONV_GEOMETRY.map((f) => asConv3d(conv)[f])), be.workspace());
        expect(path, `branch ${i} (${b.path})`).toBe(CONV_PATH[b.path]);
        const ins = [ck.tensor(rand(size(b.x), 40 + i), b.x), ck.tensor(rand(size(b.w), 50 + i), b.w), ck.tensor(rand(conv.outC, 60 + i, -1, 2), [conv.outC])];
        return { ins, attrs: { conv, activation: b.activation, leakyReluAlpha: 0.2 } };
      });
      for (const order of [[0, 1, 2, 3, 4, 5], [4, 2, 0], [3], [1, 5, 2, 0, 4, 3]]) {
        const picked = order.map((i) => made[i]);
        ck.clearFallbacks();
        const y = ck.runKernel('FusedConv2DConcat', picked.flatMap((m) => m.ins), { branches: picked.map((m) => m.attrs) })[0];
        expect(ck.getFallbacks().filter((f) => f.from === 'wasm')).toEqual([]);
        const parts = picked.map((m) => ck.runKernel('FusedConv2D', m.ins, m.attrs)[0]);
        const want = ck.concat(parts, 3);
        expect(y.shape).toEqual(want.shape);
        expect(Array.from(y.dataSync()), `order ${order}`).toEqual(Array.from(want.dataSync()));
        for (const t of [y, want, ...parts]) t.dispose();
      }
      for (const m of made) for (const t of m.ins) t.dispose();
    });
  });

  it('branches that disagree on the output size, or inputs that do not come in threes, are errors naming them', () => {
    const conv = (x: number[], w: number[]) => ({ conv: computeConv2DInfo('test', x, w, { padding: 'same' }), activation: 'relu' });
    const a = conv([1, 6, 6, 4], [3, 3, 4, 8]), b = conv([1, 5, 6, 4], [1, 1, 4, 8]);
    const ins = (x: number[], w: number[]) => [ck.zeros(x), ck.zeros(w), ck.zeros([w[3]])];
    ck.withBackend('wasm', () => {
      expect(() => ck.runKernel('FusedConv2DConcat', [...ins([1, 6, 6, 4], [3, 3, 4, 8]), ...ins([1, 5, 6, 4], [1, 1, 4, 8])], { branches: [a, b] })).toThrow(/branch 1 gives an output of shape \[1, 5, 6, 8\], but branch 0 gives batch 1, height 6 and width 6/);
      expect(() => ck.runKernel('FusedConv2DConcat', ins([1, 6, 6, 4], [3, 3, 4, 8]).slice(0, 2), { branches: [a] })).toThrow(/expected 3 inputs .* received 2/);
      expect(() => ck.runKernel('FusedConv2DConcat', ins([1, 6, 6, 4], [3, 3, 4, 9]), { branches: [a] })).toThrow(/branch 0: w has shape/);
    });
  });
});

describe('wasm depthwise forward: row kernels against the generic summation order', () => {
  const channels = [1, 3, 4, 5, 13, 32];
  it('3x3 and 5x5, every padding, stride and dilation around the borders, channel counts off the vector width', () => {
    const geoms: [number[], number, ConvOpts][] = [
      [[1, 7, 9], 3, { padding: 'same' }],
      [[2, 6, 8], 3, { padding: 1, strides: 2 }],
      [[1, 9, 11], 3, { padding: 'valid' }],
      [[1, 8, 10], 3, { padding: 2 }],
      [[1, 9, 12], 3, { padding: 2, dilations: 2 }],
      [[1, 10, 9], 3, { padding: [[0, 2], [2, 0]], strides: [1, 2] }],
      [[1, 11, 13], 3, { padding: 'same', strides: 2, dilations: [2, 1] }],
      [[1, 4, 2], 3, { padding: 1 }], // narrower than the kernel: no interior pixel
      [[1, 3, 1], 3, { padding: 1, strides: 2 }],
      [[1, 2, 3], 3, { padding: [[2, 2], [1, 1]] }], // rows with only one kernel row in the image
      [[1, 9, 10], 5, { padding: 'same' }],
      [[2, 11, 12], 5, { padding: 2, strides: 2 }],
      [[1, 12, 14], 5, { padding: 1, dilations: 2 }],
      [[1, 8, 9], 5, { padding: 0 }],
      [[1, 5, 3], 5, { padding: 2 }], // narrower than the kernel
      [[1, 7, 8], 3, { padding: [[4, 0], [3, 1]] }], // padding beyond the kernel reach: rows and columns with no tap
    ];
    let i = 0;
    for (const [[n, h, wd], k, opts] of geoms) {
      for (const C of channels) {
        i++;
        checkDepthwiseParts([n, h, wd, C], [k, k, 1, C], opts, 1, i);
        checkDepthwiseParts([n, h, wd, C], [k, k, 1, C], opts, 7, i);
      }
    }
  });

  it('thread parts that start and end mid-row, down to one pixel per part', () => {
    for (const parts of [2, 3, 5, 13, 63]) {
      checkDepthwiseParts([1, 7, 9, 13], [3, 3, 1, 13], { padding: 'same' }, parts, parts);
      checkDepthwiseParts([1, 13, 14, 5], [5, 5, 1, 5], { padding: 'same', strides: 2 }, parts, parts + 1);
    }
    checkDepthwiseParts([2, 5, 6, 4], [3, 3, 1, 4], { padding: 1 }, 60, 3); // a part per output pixel
  });

  it('the geometries the row kernels leave to the generic path (multiplier 2, 3x5, 1x1, 7x7) give the same order', () => {
    checkDepthwiseParts([1, 7, 9, 3], [3, 3, 1, 6], { padding: 'same' }, 3, 1);
    checkDepthwiseParts([1, 7, 9, 5], [3, 5, 1, 5], { padding: 'same' }, 3, 2);
    checkDepthwiseParts([1, 7, 9, 5], [1, 1, 1, 5], {}, 3, 3);
    checkDepthwiseParts([1, 9, 9, 6], [7, 7, 1, 6], { padding: 'same' }, 3, 4);
  });

  it('MobileNet-sized layers at batch 1 agree with the ts oracle (Conv2D, depthwise variant)', () => {
    check2d([1, 28, 28, 32], [3, 3, 1, 32], { groups: 32, padding: 'same' }, 5, { forward: 'depthwise' });
    check2d([1, 29, 29, 24], [3, 3, 1, 24], { groups: 24, padding: 'same', strides: 2 }, 6, { forward: 'depthwise' });
    check2d([1, 14, 14, 40], [5, 5, 1, 40], { groups: 40, padding: 'same' }, 7, { forward: 'depthwise' });
  });
});

describe('wasm conv3d vs ts oracle', () => {
  it('random geometries (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }), d: fc.integer({ min: 1, max: 5 }), h: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 1, max: 5 }),
          cg: fc.integer({ min: 1, max: 4 }), fg: fc.integer({ min: 1, max: 9 }), groups: fc.integer({ min: 1, max: 2 }),
          k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          s: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
          dil: fc.integer({ min: 1, max: 2 }),
          padding: fc.oneof(fc.constant<ConvOpts['padding']>('valid'), fc.constant<ConvOpts['padding']>('same'), fc.integer({ min: 0, max: 1 })),
          seed: fc.nat(1000),
        }),
        (p) => {
          const xShape = [p.n, p.d, p.h, p.w, p.cg * p.groups], wShape = [...p.k, p.cg, p.fg * p.groups];
          const opts: ConvOpts = { strides: p.s, dilations: p.dil, padding: p.padding, groups: p.groups };
          try {
            computeConv3DInfo('test', xShape, wShape, opts);
          } catch {
            return;
          }
          check3d(xShape, wShape, opts, p.seed);
        },
      ),
      { numRuns: 30, seed: 7 },
    );
  });
  it('pointwise and depthwise 3-D', () => {
    check3d([1, 3, 4, 5, 6], [1, 1, 1, 6, 7], {});
    check3d([1, 4, 4, 5, 3], [2, 3, 3, 1, 6], { groups: 3, padding: 'same' });
  });
});

describe('wasm conv memory', () => {
  it('frees its temporaries: only the outputs stay alive', () => {
    const before = ck.memory().wasm?.storages ?? 0;
    const conv = computeConv2DInfo('test', [2, 6, 6, 4], [3, 3, 4, 5], { padding: 'same' });
    ck.withBackend('wasm', () => {
      ck.tidy(() => {
        const x = ck.tensor(rand(2 * 6 * 6 * 4, 1), [2, 6, 6, 4]), w = ck.tensor(rand(3 * 3 * 4 * 5, 2), [3, 3, 4, 5]);
        const y = ck.runKernel('Conv2D', [x, w], { conv })[0];
        ck.runKernel('Conv2DBackpropFilter', [x, y], { conv });
        ck.runKernel('Conv2DBackpropInput', [y, w], { conv });
      });
    });
    expect(ck.memory().wasm.storages).toBe(before);
  });
});
