/**
 * Convolution kernels on `wasm`: Conv2D / Conv3D and their input and filter gradients,
 * all on the packed GEMM with implicit im2col (assembly/conv_f32.ts), a plain GEMM
 * for pointwise convolutions, direct kernels for depthwise ones and direct forward and
 * filter-gradient kernels for few taps per group (first layers, assembly/conv_direct_f32.ts). 2-D geometry is
 * passed as 3-D with a depth of 1, so both ranks share every code path.
 */
import type { TensorInfo } from '../../../tensor/backend.js';
import { registerKernel } from '../../../registry/kernels.js';
import type { Conv2DInfo, Conv3DInfo } from '../../../kernels/conv_info.js';
import { fmtShape, shapesEqual } from '../../../tensor/shape.js';
import type { WasmBackend } from '../backend.js';

/** The 22-int geometry block of assembly/conv_geometry.ts. */
function geometry3d(c: Conv3DInfo): number[] {
  return [
    c.batch, c.inD, c.inH, c.inW, c.inC, c.outD, c.outH, c.outW, c.outC,
    c.kD, c.kH, c.kW, c.strideD, c.strideH, c.strideW, c.dilationD, c.dilationH, c.dilationW,
    c.padFront, c.padTop, c.padLeft, c.groups,
  ];
}

/** A Conv2DInfo as the Conv3DInfo of depth 1. */
export function conv2dAs3d(c: Conv2DInfo): Conv3DInfo {
  return {
    batch: c.batch, inD: 1, inH: c.inH, inW: c.inW, inC: c.inC,
    outD: 1, outH: c.outH, outW: c.outW, outC: c.outC,
    kD: 1, kH: c.kH, kW: c.kW, strideD: 1, strideH: c.strideH, strideW: c.strideW,
    dilationD: 1, dilationH: c.dilationH, dilationW: c.dilationW,
    padFront: 0, padBack: 0, padTop: c.padTop, padBottom: c.padBottom, padLeft: c.padLeft, padRight: c.padRight,
    groups: c.groups,
  };
}

function expectShape(kernel: string, arg: string, t: TensorInfo, expected: readonly number[]): void {
  if (!shapesEqual(t.shape, expected)) {
    throw new RangeError(`${kernel}: ${arg} has shape ${fmtShape(t.shape)}, but the geometry in attrs expects ${fmtShape(expected)}`);
  }
}

type Which = 'forward' | 'input' | 'filter';

/**
 * Shapes of x, w and y in the rank of the op (2-D drops the depth axes), so inputs
 * can be checked and outputs allocated with the caller's rank.
 */
function shapes(c: Conv3DInfo, rank2: boolean) {
  const sp = (d: number, h: number, w: number) => (rank2 ? [h, w] : [d, h, w]);
  const Cg = c.inC / c.groups;
  return {
    x: [c.batch, ...sp(c.inD, c.inH, c.inW), c.inC],
    w: [...sp(c.kD, c.kH, c.kW), Cg, c.outC],
    y: [c.batch, ...sp(c.outD, c.outH, c.outW), c.outC],
  };
}

function run(which: Which, kernel: string, [a, b]: TensorInfo[], c: Conv3DInfo, rank2: boolean, be: WasmBackend): TensorInfo {
  const s = shapes(c, rank2);
  let out: TensorInfo;
  if (which === 'forward') {
    expectShape(kernel, 'x', a, s.x);
    expectShape(kernel, 'w', b, s.w);
    out = be.alloc(s.y);
  } else if (which === 'input') {
    expectShape(kernel, 'dy', a, s.y);
    expectShape(kernel, 'w', b, s.w);
    out = be.alloc(s.x);
  } else {
    expectShape(kernel, 'x', a, s.x);
    expectShape(kernel, 'dy', b, s.y);
    out = be.alloc(s.w);
  }
  if (be.size(out) === 0) return out;
  const ws = be.workspace();
  if (which === 'forward') be.wasm.conv_forward_f32(be.ptr(a), be.ptr(b), be.ptr(out), be.params(geometry3d(c)), ws);
  else if (which === 'filter') be.wasm.conv_backprop_filter_f32(be.ptr(a), be.ptr(b), be.ptr(out), be.params(geometry3d(c)), ws);
  else {
    // unit-stride input gradients run as a forward convolution with a flipped filter copy
    const bytes = convInputScratchBytes(be, c);
    const wt = bytes > 0 ? be.scratch(bytes) : 0;
    try {
      be.wasm.conv_backprop_input_f32(be.ptr(a), be.ptr(b), be.ptr(out), be.params(geometry3d(c)), ws, wt);
    } finally {
      if (wt) be.freeScratch(wt);
    }
  }
  return out;
}

/** The forward paths of assembly/conv_f32.ts, by their codes there. */
export const CONV_FORWARD_PATHS = ['gemm', 'pointwise', 'depthwise', 'direct'] as const;
/** The input-gradient paths: the forward codes, then the flipped-filter GEMM. */
export const CONV_INPUT_PATHS = [...CONV_FORWARD_PATHS, 'flipped-gemm'] as const;

/** The path code a module path function (conv_*_path_f32) gives for this geometry. */
function pathCode(be: WasmBackend, conv: Conv2DInfo | Conv3DInfo, query: (geom: number, ws: number) => number): number {
  const c = 'inD' in conv ? conv : conv2dAs3d(conv);
  return query(be.params(geometry3d(c)), be.workspace());
}

/** Which path the wasm forward convolution takes for this geometry (tests use it to cover each path). */
export function convForwardPath(be: WasmBackend, conv: Conv2DInfo | Conv3DInfo): (typeof CONV_FORWARD_PATHS)[number] {
  return CONV_FORWARD_PATHS[pathCode(be, conv, be.wasm.conv_forward_path_f32)];
}

/** Which path the wasm input gradient takes ('direct': the flipped-filter forward convolution on the direct kernel). */
export function convInputPath(be: WasmBackend, conv: Conv2DInfo | Conv3DInfo): (typeof CONV_INPUT_PATHS)[number] {
  return CONV_INPUT_PATHS[pathCode(be, conv, be.wasm.conv_backprop_input_path_f32)];
}

/**
 * Bytes of scratch the wasm input gradient needs for this geometry (the flipped filter
 * copy, or 0). The export returns a usize, which JS receives as a signed i32: `>>> 0`
 * reads it unsigned (a filter over 2^29 floats needs over 2^31 bytes).
 */
export function convInputScratchBytes(be: WasmBackend, conv: Conv2DInfo | Conv3DInfo): number {
  return pathCode(be, conv, be.wasm.conv_backprop_input_scratch_bytes) >>> 0;
}

/** Which path the wasm filter gradient takes for this geometry (same codes as the forward paths). */
export function convFilterPath(be: WasmBackend, conv: Conv2DInfo | Conv3DInfo): (typeof CONV_FORWARD_PATHS)[number] {
  return CONV_FORWARD_PATHS[pathCode(be, conv, be.wasm.conv_backprop_filter_path_f32)];
}

/**
 * Run `fn` with the direct convolution kernels of `be` switched off, so that every
 * non-depthwise, non-pointwise convolution takes im2col + GEMM (tests use it to probe
 * the GEMM's tile and block boundaries with small geometries).
 */
export function withoutDirectConv<T>(be: WasmBackend, fn: () => T): T {
  const old = be.wasm.conv_set_direct_paths_f32(0);
  try {
    return fn();
  } finally {
    be.wasm.conv_set_direct_paths_f32(old);
  }
}

const kernels: [string, Which, boolean][] = [
  ['Conv2D', 'forward', true],
  ['Conv2DBackpropInput', 'input', true],
  ['Conv2DBackpropFilter', 'filter', true],
  ['Conv3D', 'forward', false],
  ['Conv3DBackpropInput', 'input', false],
  ['Conv3DBackpropFilter', 'filter', false],
];
for (const [kernelName, which, rank2] of kernels) {
  registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: (inputs, attrs, backend) => {
      const info = rank2 ? conv2dAs3d(attrs.conv as Conv2DInfo) : (attrs.conv as Conv3DInfo);
      return run(which, kernelName, inputs, info, rank2, backend as WasmBackend);
    },
  });
}
