/**
 * Convolution kernels on `wasm`: Conv2D / Conv3D and their input and filter gradients
 * (assembly/conv_f32.ts), each as named variants, one per path of the module:
 *
 *   'gemm'          the packed GEMM with implicit im2col (any geometry; the input
 *                   gradient multiplies by the filter's transpose and scatters, col2im)
 *   'pointwise'     a plain GEMM on x (1x1 kernel, unit strides, no padding)
 *   'depthwise'     the direct depthwise kernels (one input channel per group)
 *   'direct'        the direct kernels for few taps per group (assembly/conv_direct_f32.ts);
 *                   for the input gradient, the flipped-filter forward convolution on the
 *                   direct kernel (unit strides)
 *   'flipped-gemm'  input gradient only: the flipped-filter forward convolution on the GEMM
 *                   (unit strides)
 *   'winograd'      3x3, unit strides and dilations, one group, channels and filters multiples
 *                   of 4: Winograd F(2x2, 3x3) (assembly/conv_winograd_f32.ts), the filter
 *                   transformed first, then 16 GEMMs over blocks of 2x2 output tiles; for the
 *                   input gradient, on the flipped filter; for the filter gradient, F(3x3, 2x2):
 *                   x and dy transformed, 16 GEMMs that sum over the tiles
 *
 * The module's path functions (conv_*_path_f32) are the choice dispatch makes, and its
 * applies functions (conv_*_applies_f32) each variant's precondition, so tests and
 * benchmarks run and time every path by name (runKernelVariant). 2-D geometry is passed
 * as 3-D with a depth of 1 (conv2dAs3d), so both ranks share every code path.
 */
import type { TensorInfo } from '../../../tensor/backend.js';
import type { KernelVariant } from '../../../registry/kernels.js';
import type { Kernel } from '../../../kernels/kernel.js';
import type { Conv2DInfo, Conv3DInfo } from '../../../kernels/conv_info.js';
import { CONV_KERNELS, FusedConv2D, FusedConv2DConcat, asConv3d, convShapes, fusedEpilogue, type ConvRole, type FusedConv2DAttrs } from '../../../kernels/conv.js';
import { CONV_GEOMETRY, CONV_PATH } from '../../../kernels/wasm_abi.js';
import { stridesOf } from '../../../tensor/shape.js';
import { FLOPS_PER_FLOAT_MOVED, wasmKernel, type WasmBackend } from '../backend.js';
import { copyWalk } from './shape.js';

/** The geometry block of assembly/conv_geometry.ts: the fields of CONV_GEOMETRY, in its order. */
function geometryBlock(conv: Conv2DInfo | Conv3DInfo): number[] {
  const c = asConv3d(conv);
  return CONV_GEOMETRY.map((field) => c[field]);
}

type PathName = keyof typeof CONV_PATH;
const PATHS = Object.keys(CONV_PATH) as PathName[];
/** Each path's variant name: its CONV_PATH key in kebab case ('flippedGemm' -> 'flipped-gemm'), made once (dispatch asks on every call). */
const VARIANT_NAMES = new Map(PATHS.map((p) => [p, p.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)]));
const variantName = (path: PathName): string => VARIANT_NAMES.get(path)!;
const PATH_OF_CODE = new Map(PATHS.map((p) => [CONV_PATH[p], p]));
const pathOfCode = (code: number): PathName => {
  const p = PATH_OF_CODE.get(code);
  if (p === undefined) throw new Error(`wasm conv: unknown path code ${code}`);
  return p;
};

function pathNamed(variant: string): PathName {
  const p = PATHS.find((k) => variantName(k) === variant);
  if (p === undefined) throw new Error(`wasm conv: no path named '${variant}'`);
  return p;
}

/**
 * Bytes of scratch the wasm input gradient needs for this geometry on `variant` (the one
 * dispatch chooses by default): the flipped filter copy, or 0. The export returns a usize,
 * which JS receives as a signed i32: `>>> 0` reads it unsigned (a filter over 2^29 floats
 * needs over 2^31 bytes).
 */
export function convInputScratchBytes(be: WasmBackend, conv: Conv2DInfo | Conv3DInfo, variant?: string): number {
  const path = variant === undefined ? be.wasm.conv_backprop_input_path_f32(be.params(geometryBlock(conv)), be.workspace()) : CONV_PATH[pathNamed(variant)];
  return be.wasm.conv_backprop_input_scratch_bytes(be.params(geometryBlock(conv)), be.workspace(), path) >>> 0;
}

type Which = ConvRole;

/** What each kernel family calls in the module. */
const MODULE: Record<Which, { choose: string; applies: string; paths: readonly PathName[] }> = {
  forward: { choose: 'conv_forward_path_f32', applies: 'conv_forward_applies_f32', paths: ['gemm', 'pointwise', 'depthwise', 'direct', 'winograd'] },
  input: { choose: 'conv_backprop_input_path_f32', applies: 'conv_backprop_input_applies_f32', paths: ['gemm', 'pointwise', 'depthwise', 'direct', 'flippedGemm', 'winograd'] },
  filter: { choose: 'conv_backprop_filter_path_f32', applies: 'conv_backprop_filter_applies_f32', paths: ['gemm', 'pointwise', 'depthwise', 'direct', 'winograd'] },
};

/** Multiply-adds x 2 of a convolution (the same for its two gradients). */
function convFlops(conv: Conv2DInfo | Conv3DInfo): number {
  const c = asConv3d(conv);
  return 2 * c.batch * c.outD * c.outH * c.outW * c.outC * c.kD * c.kH * c.kW * (c.inC / c.groups);
}

/**
 * Floats the Winograd filter transform moves per (channel, filter) pair: it reads the 9 taps
 * and writes 16 cells, with a few adds (a memory-bound pass, for the threads' cut-over).
 */
const WINOGRAD_FILTER_FLOATS = 25;

/**
 * The forward convolution on `path` into the output at byte offset `y`, with `ys` floats
 * from one output pixel to the next (0: the filter count; more: y is a slice of a wider
 * tensor, FusedConv2DConcat), fused with bias and activation when `fused` is given.
 * The filter is the operand every part shares (cheap to re-pack), so 4 parts per thread
 * balance the load, fewer where a part would pack too much (conv_forward_parts_f32).
 */
function forwardInto(path: PathName, [x, w, bias]: TensorInfo[], conv: Conv2DInfo | Conv3DInfo, be: WasmBackend, y: number, ys: number, fused?: FusedConv2DAttrs): void {
  const ws = be.workspace();
  const code = CONV_PATH[path];
  const flops = convFlops(conv);
  const geom = be.params(geometryBlock(conv));
  const parts = be.threads > 1 ? be.wasm.conv_forward_parts_f32(geom, ws, code, be.threads) : 1;
  // Winograd runs on the transformed filter U [C, 16, F] (conv_winograd_filter_f32), made first,
  // channels split over the threads (a 13x13 layer at batch 1 spent a fifth of its time on it)
  const c = asConv3d(conv);
  const u = path === 'winograd' ? be.scratch(be.wasm.conv_winograd_filter_bytes(c.inC, c.outC) >>> 0) : 0;
  try {
    if (u) {
      const F = c.outC;
      be.parallelSplit('conv_winograd_filter_f32', [be.ptr(w), u, c.inC, F, c.inC], { nArg: 2, strides: [[0, 4 * F], [1, 64 * F]], align: 1 }, WINOGRAD_FILTER_FLOATS * FLOPS_PER_FLOAT_MOVED * c.inC * F);
    }
    const wp = u || be.ptr(w);
    if (fused) {
      const { alpha, lo, hi, mode } = fusedEpilogue(fused);
      be.parallel('conv_forward_fused_f32', [be.ptr(x), wp, y, geom, ws, code, be.ptr(bias), alpha, lo, hi, mode, ys], 4, flops, 4, parts);
    } else be.parallel('conv_forward_f32', [be.ptr(x), wp, y, geom, ws, code], 4, flops, 4, parts);
  } finally {
    if (u) be.freeScratch(u);
  }
}

/**
 * Run path `path` of kernel family `which` on inputs [a, b], on the backend's threads
 * when it is big enough (each module kernel computes disjoint parts of its output, with
 * bitwise the same result on any number of threads: see assembly/conv_f32.ts).
 */
function run(which: Which, path: PathName, [a, b, bias]: TensorInfo[], conv: Conv2DInfo | Conv3DInfo, be: WasmBackend, fused?: FusedConv2DAttrs): TensorInfo {
  const s = convShapes(conv);
  const out = be.alloc(which === 'forward' ? s.y : which === 'input' ? s.x : s.w);
  if (be.size(out) === 0) return out;
  if (which === 'forward') {
    forwardInto(path, [a, b, bias], conv, be, be.ptr(out), 0, fused);
    return out;
  }
  const ws = be.workspace();
  const code = CONV_PATH[path];
  const flops = convFlops(conv);
  const geom = be.params(geometryBlock(conv));
  // input gradient: the shared operand is the filter (cheap to re-pack), so 4 parts per
  // thread balance the load; filter gradient: dy is shared, one part each
  if (which === 'filter') {
    // Winograd with few chunks of channels and filters sums groups of tiles apart (partials), then
    // adds them in a fixed order and makes dw (winograd_dw_reduce_f32): bitwise the same on any
    // number of threads, and no thread transforms what another one also does
    const partialBytes = path === 'winograd' ? be.wasm.conv_winograd_dw_partial_bytes(geom, ws) >>> 0 : 0;
    const partials = partialBytes ? be.scratch(partialBytes) : 0;
    try {
      be.parallel('conv_backprop_filter_f32', [be.ptr(a), be.ptr(b), be.ptr(out), geom, ws, code, partials], 4, flops);
      if (partials) be.parallel('winograd_dw_reduce_f32', [geom, ws, partials, be.ptr(out)], 1, FLOPS_PER_FLOAT_MOVED * partialBytes / 4);
    } finally {
      if (partials) be.freeScratch(partials);
    }
  }
  else {
    // the flipped-filter paths run a forward convolution with a flipped filter copy
    const bytes = convInputScratchBytes(be, conv, variantName(path));
    const wt = bytes > 0 ? be.scratch(bytes) : 0;
    try {
      const g = be.params(geometryBlock(conv));
      be.wasm.conv_backprop_input_prepare_f32(be.ptr(b), g, ws, wt, code);
      be.parallel('conv_backprop_input_f32', [be.ptr(a), be.ptr(b), be.ptr(out), g, ws, wt, code], 4, flops, 4);
    } finally {
      if (wt) be.freeScratch(wt);
    }
  }
  return out;
}

/** Register kernel `kernel` (family `which`) with one variant per module path. */
function registerConv<A extends { conv: Conv2DInfo | Conv3DInfo }>(kernel: Kernel<A>, which: Which): void {
  const m = MODULE[which];
  const variants: KernelVariant<A, WasmBackend>[] = m.paths.map((path) => ({
    name: variantName(path),
    applies: (_inputs, { conv }, be) => be.wasm[m.applies](CONV_PATH[path], be.params(geometryBlock(conv)), be.workspace()) !== 0,
    run: (inputs, { conv }, be) => run(which, path, inputs, conv, be),
  }));
  wasmKernel(kernel, {
    variants,
    choose: (_inputs, { conv }, be) => variantName(pathOfCode(be.wasm[m.choose](be.params(geometryBlock(conv)), be.workspace()))),
  });
}

for (const [kernel, role] of CONV_KERNELS) registerConv(kernel, role);

// FusedConv2D: the forward paths, with the bias and activation applied by each path as it
// writes the output (assembly/epilogue_f32.ts).
wasmKernel(FusedConv2D, {
  variants: MODULE.forward.paths.map((path) => ({
    name: variantName(path),
    applies: (_inputs, { conv }, be) => be.wasm[MODULE.forward.applies](CONV_PATH[path], be.params(geometryBlock(conv)), be.workspace()) !== 0,
    run: (inputs, attrs, be) => run('forward', path, inputs, attrs.conv, be, attrs),
  })),
  choose: (_inputs, { conv }, be) => variantName(pathOfCode(be.wasm[MODULE.forward.choose](be.params(geometryBlock(conv)), be.workspace()))),
});

// FusedConv2DConcat: each branch's forward path writes its channels straight into its slice
// of y (the output pixel stride of conv_forward_fused_f32), so the concatenation is no
// copy; a branch on the depthwise path (which takes no stride) runs alone and is copied in.
wasmKernel(FusedConv2DConcat, (inputs, { branches }, be) => {
  const [n, oh, ow] = convShapes(branches[0].conv).y;
  const F = branches.reduce((acc, b) => acc + b.conv.outC, 0);
  const out = be.alloc([n, oh, ow, F]);
  if (be.size(out) === 0) return out;
  let at = 0;
  branches.forEach((attrs, i) => {
    const branch = inputs.slice(3 * i, 3 * i + 3);
    const path = pathOfCode(be.wasm[MODULE.forward.choose](be.params(geometryBlock(attrs.conv)), be.workspace()));
    if (path !== 'depthwise') forwardInto(path, branch, attrs.conv, be, be.ptr(out) + 4 * at, F, attrs);
    else {
      const y = run('forward', path, branch, attrs.conv, be, attrs);
      try {
        copyWalk(be, be.ptr(y), 0, stridesOf(y.shape), be.ptr(out), at, stridesOf(out.shape), y.shape);
      } finally {
        be.disposeData(y.dataId);
      }
    }
    at += attrs.conv.outC;
  });
  return out;
});
