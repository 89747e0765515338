/**
 * Convolution kernels on `webgpu` (2D and 3D, forward, input gradient, filter
 * gradient; groups and dilation included). A 2D convolution is run as a 3D one with
 * depth 1, so each kernel has one implementation.
 *
 * Two named variants per kernel, chosen per geometry by `useGemm` (tests and benchmarks
 * run each by name: runKernelVariant('webgpu', Conv2D, 'direct', ...)):
 *
 * 'gemm': implicit GEMM on the tiled GEMM of gemm.ts; the loaders compute im2col
 * addresses on the fly, so no im2col buffer is ever built. With g the group,
 * Cg = C/groups, Fg = F/groups, and taps t = (kd, kh, kw):
 *   Conv forward   M = N*OD*OH*OW (output positions), N = Fg, K = taps*Cg
 *                  A(m, k) = x at the input cell of position m and tap/channel k (0 in padding)
 *                  B(k, f) = w[k][g*Fg + f]
 *   Input grad     M = N*D*H*W (input positions), N = Cg, K = taps*Fg
 *                  A(m, k) = dy at the output position that reaches input m through tap t,
 *                  or 0 when none does (stride does not divide, or out of range)
 *                  B(k, c) = w[t][c][g*Fg + f]
 *   Filter grad    M = taps*Cg, N = Fg, K = N*OD*OH*OW (split over workgroups: split K)
 *                  A(m, k) = x at the input cell of position k through tap/channel m
 *                  B(k, f) = dy[k][g*Fg + f]
 * Groups run as GEMM batches (workgroup z).
 *
 * 'direct': one thread per output element (per weight element for the filter
 * gradient, with a workgroup reduction over positions). Used where the GEMM's output
 * width per group is too small to fill a tile (few filters, few input channels,
 * depthwise: Cg = 1; see useGemm), and kept as the readable version the GEMM path is
 * tested against.
 */
import type { TensorInfo } from '../../../tensor/backend.js';
import type { Kernel } from '../../../kernels/kernel.js';
import type { Conv2DInfo, Conv3DInfo } from '../../../kernels/conv_info.js';
import { CONV_KERNELS, FusedConv2D, FusedConv2DConcat, asConv3d, convShapes, fusedEpilogue, type ConvRole, type FusedConv2DAttrs } from '../../../kernels/conv.js';
import { EPILOGUE_MODE } from '../../../kernels/wasm_abi.js';
import { gpu, type WebGPUBackend } from '../backend.js';
import { MAIN_1D, grid1d, type ParamDecl, type ProgramDef } from '../program.js';
import { gemm, type GemmLoaders } from './gemm.js';
import { concatOnGpu } from './shape.js';
import { registerFloat } from './util.js';

/**
 * A convolution's geometry as the programs read it: the 3-D view of the contract's
 * geometry (a 2-D convolution has inD = outD = kD = 1) plus channels and filters per group.
 */
export interface ConvGeometry extends Conv3DInfo {
  /** Input channels per group (inC / groups). */
  Cg: number;
  /** Filters per group (outC / groups). */
  Fg: number;
}

export function convGeometry(conv: Conv2DInfo | Conv3DInfo): ConvGeometry {
  const c = asConv3d(conv);
  return { ...c, Cg: c.inC / c.groups, Fg: c.outC / c.groups };
}

/**
 * The WGSL uniform each geometry field is read from (u.gN is batch, ...): the one place
 * that maps the programs' short names to the geometry's.
 */
const UNIFORMS = {
  gN: 'batch', gD: 'inD', gH: 'inH', gW: 'inW', gC: 'inC', gOD: 'outD', gOH: 'outH', gOW: 'outW', gF: 'outC',
  gKD: 'kD', gKH: 'kH', gKW: 'kW', gsd: 'strideD', gsh: 'strideH', gsw: 'strideW',
  gdd: 'dilationD', gdh: 'dilationH', gdw: 'dilationW', gpf: 'padFront', gpt: 'padTop', gpl: 'padLeft', gCg: 'Cg', gFg: 'Fg',
} as const satisfies Record<string, keyof ConvGeometry>;
const GEO_PARAMS: ParamDecl[] = Object.keys(UNIFORMS).map((name) => ({ name, type: 'u32' }));
function geoValues(g: ConvGeometry): Record<string, number> {
  const v: Record<string, number> = {};
  for (const [uniform, field] of Object.entries(UNIFORMS)) v[uniform] = g[field];
  return v;
}

/** WGSL helpers: split flat position/tap indices, and the input cell a tap reads. */
const GEO_FNS = `
struct Pos { n: u32, d: u32, h: u32, w: u32 }
fn out_pos(m: u32) -> Pos {
  let w = m % u.gOW; let t1 = m / u.gOW; let h = t1 % u.gOH; let t2 = t1 / u.gOH;
  return Pos(t2 / u.gOD, t2 % u.gOD, h, w);
}
fn in_pos(m: u32) -> Pos {
  let w = m % u.gW; let t1 = m / u.gW; let h = t1 % u.gH; let t2 = t1 / u.gH;
  return Pos(t2 / u.gD, t2 % u.gD, h, w);
}
struct Tap { d: u32, h: u32, w: u32 }
fn tap_of(t: u32) -> Tap {
  let w = t % u.gKW; let t1 = t / u.gKW;
  return Tap(t1 / u.gKH, t1 % u.gKH, w);
}
// Input cell (as signed coordinates) read by output position p through tap k.
fn cell(p: Pos, k: Tap) -> vec3<i32> {
  return vec3<i32>(i32(p.d * u.gsd + k.d * u.gdd) - i32(u.gpf), i32(p.h * u.gsh + k.h * u.gdh) - i32(u.gpt), i32(p.w * u.gsw + k.w * u.gdw) - i32(u.gpl));
}
fn inside(c: vec3<i32>) -> bool {
  return c.x >= 0 && c.y >= 0 && c.z >= 0 && u32(c.x) < u.gD && u32(c.y) < u.gH && u32(c.z) < u.gW;
}
fn x_index(n: u32, c: vec3<i32>, ch: u32) -> u32 {
  return (((n * u.gD + u32(c.x)) * u.gH + u32(c.y)) * u.gW + u32(c.z)) * u.gC + ch;
}
fn dy_index(n: u32, od: u32, oh: u32, ow: u32, f: u32) -> u32 {
  return (((n * u.gOD + od) * u.gOH + oh) * u.gOW + ow) * u.gF + f;
}
// The output coordinate whose tap offset 'off' (= in + pad - k*dil) reaches an input
// coordinate, or -1 when the stride does not divide it or it is out of range.
fn src_coord(off: i32, stride: u32, size: u32) -> i32 {
  if (off < 0) { return -1; }
  let o = u32(off);
  if (o % stride != 0u) { return -1; }
  let q = o / stride;
  if (q >= size) { return -1; }
  return i32(q);
}
`;

const FORWARD: GemmLoaders = {
  key: 'conv-forward',
  inputs: [
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'Wt', type: 'f32', access: 'read' },
  ],
  params: GEO_PARAMS,
  loadA: `${GEO_FNS}
fn load_a(g: u32, m: u32, k: u32) -> f32 {
  let p = out_pos(m);
  let c = cell(p, tap_of(k / u.gCg));
  if (!inside(c)) { return 0.0; }
  return X[x_index(p.n, c, g * u.gCg + k % u.gCg)];
}`,
  loadB: `fn load_b(g: u32, k: u32, f: u32) -> f32 { return Wt[k * u.gF + g * u.gFg + f]; }`,
  aFast: 'k',
  bFast: 'n',
};

const INPUT_GRAD: GemmLoaders = {
  key: 'conv-input-grad',
  inputs: [
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'Wt', type: 'f32', access: 'read' },
  ],
  params: GEO_PARAMS,
  loadA: `${GEO_FNS}
fn load_a(g: u32, m: u32, k: u32) -> f32 {
  let f = k % u.gFg;
  let t = tap_of(k / u.gFg);
  let p = in_pos(m);
  let od = src_coord(i32(p.d + u.gpf) - i32(t.d * u.gdd), u.gsd, u.gOD);
  let oh = src_coord(i32(p.h + u.gpt) - i32(t.h * u.gdh), u.gsh, u.gOH);
  let ow = src_coord(i32(p.w + u.gpl) - i32(t.w * u.gdw), u.gsw, u.gOW);
  if (od < 0 || oh < 0 || ow < 0) { return 0.0; }
  return DY[dy_index(p.n, u32(od), u32(oh), u32(ow), g * u.gFg + f)];
}`,
  loadB: `fn load_b(g: u32, k: u32, c: u32) -> f32 {
  let f = k % u.gFg;
  let t = k / u.gFg;
  return Wt[(t * u.gCg + c) * u.gF + g * u.gFg + f];
}`,
  aFast: 'k',
  bFast: 'k',
};

const FILTER_GRAD: GemmLoaders = {
  key: 'conv-filter-grad',
  inputs: [
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'DY', type: 'f32', access: 'read' },
  ],
  params: GEO_PARAMS,
  loadA: `${GEO_FNS}
fn load_a(g: u32, m: u32, k: u32) -> f32 {
  let p = out_pos(k);
  let c = cell(p, tap_of(m / u.gCg));
  if (!inside(c)) { return 0.0; }
  return X[x_index(p.n, c, g * u.gCg + m % u.gCg)];
}`,
  loadB: `fn load_b(g: u32, k: u32, f: u32) -> f32 { return DY[k * u.gF + g * u.gFg + f]; }`,
  aFast: 'm',
  bFast: 'n',
};

// ------------------------------------------------------------------ v1: direct kernels

const DIRECT_FORWARD: ProgramDef = {
  key: 'conv-direct-forward',
  buffers: [
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'Wt', type: 'f32', access: 'read' },
    { name: 'Y', type: 'f32', access: 'read_write' },
  ],
  params: [{ name: 'total', type: 'u32' }, ...GEO_PARAMS],
  body: `${GEO_FNS}
${MAIN_1D}
  if (i >= u.total) { return; }
  let f = i % u.gF;
  let m = i / u.gF;
  let p = out_pos(m);
  let g = f / u.gFg;
  let taps = u.gKD * u.gKH * u.gKW;
  var acc = 0.0;
  for (var t = 0u; t < taps; t++) {
    let c = cell(p, tap_of(t));
    if (!inside(c)) { continue; }
    let xb = x_index(p.n, c, g * u.gCg);
    for (var ci = 0u; ci < u.gCg; ci++) {
      acc = fma(X[xb + ci], Wt[(t * u.gCg + ci) * u.gF + f], acc);
    }
  }
  Y[i] = acc;
}`,
};

const DIRECT_INPUT_GRAD: ProgramDef = {
  key: 'conv-direct-input-grad',
  buffers: [
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'Wt', type: 'f32', access: 'read' },
    { name: 'DX', type: 'f32', access: 'read_write' },
  ],
  params: [{ name: 'total', type: 'u32' }, ...GEO_PARAMS],
  body: `${GEO_FNS}
${MAIN_1D}
  if (i >= u.total) { return; }
  let ch = i % u.gC;
  let p = in_pos(i / u.gC);
  let g = ch / u.gCg;
  let ci = ch % u.gCg;
  let taps = u.gKD * u.gKH * u.gKW;
  var acc = 0.0;
  for (var t = 0u; t < taps; t++) {
    let k = tap_of(t);
    let od = src_coord(i32(p.d + u.gpf) - i32(k.d * u.gdd), u.gsd, u.gOD);
    let oh = src_coord(i32(p.h + u.gpt) - i32(k.h * u.gdh), u.gsh, u.gOH);
    let ow = src_coord(i32(p.w + u.gpl) - i32(k.w * u.gdw), u.gsw, u.gOW);
    if (od < 0 || oh < 0 || ow < 0) { continue; }
    let db = dy_index(p.n, u32(od), u32(oh), u32(ow), g * u.gFg);
    let wb = (t * u.gCg + ci) * u.gF + g * u.gFg;
    for (var f = 0u; f < u.gFg; f++) { acc = fma(DY[db + f], Wt[wb + f], acc); }
  }
  DX[i] = acc;
}`,
};

/** One workgroup per weight element; 256 threads share the N*OD*OH*OW positions. */
const DIRECT_FILTER_GRAD: ProgramDef = {
  key: 'conv-direct-filter-grad',
  buffers: [
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'DW', type: 'f32', access: 'read_write' },
  ],
  params: [{ name: 'total', type: 'u32' }, ...GEO_PARAMS],
  body: `${GEO_FNS}
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wg.y * nwg.x + wg.x;
  let e = min(i, u.total - 1u);
  let f = e % u.gF;
  let ci = (e / u.gF) % u.gCg;
  let k = tap_of(e / (u.gF * u.gCg));
  let g = f / u.gFg;
  let positions = u.gN * u.gOD * u.gOH * u.gOW;
  var acc = 0.0;
  for (var m = lid; m < positions; m += 256u) {
    let p = out_pos(m);
    let c = cell(p, k);
    if (inside(c)) {
      acc = fma(X[x_index(p.n, c, g * u.gCg + ci)], DY[m * u.gF + f], acc);
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = part[lid] + part[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u && i < u.total) { DW[i] = part[0]; }
}`,
};

// ------------------------------------------------------------------ dispatch

type Which = ConvRole;

/**
 * GEMM or direct, per kernel (the choice dispatch makes): the GEMM tile (at least 64 x 64
 * outputs, K in steps of 16) wastes most of its work when the per-group output width is
 * small (LeNet's 6 filters, a 1-channel input's gradient, depthwise convolutions), where
 * one thread per output does the same arithmetic without the padding.
 */
function useGemm(which: Which, g: ConvGeometry): boolean {
  const taps = g.kD * g.kH * g.kW;
  switch (which) {
    case 'forward': return g.Fg >= 16 && taps * g.Cg >= 8;
    case 'input': return g.Cg >= 16 && taps * g.Fg >= 8;
    case 'filter': return taps * g.Cg >= 16 && g.Fg >= 16;
  }
}

function convForward(be: WebGPUBackend, [x, w]: TensorInfo[], conv: Conv2DInfo | Conv3DInfo, onGemm: boolean): TensorInfo {
  const g = convGeometry(conv);
  const y = be.output(convShapes(conv).y, 'float32');
  const taps = g.kD * g.kH * g.kW;
  const positions = g.batch * g.outD * g.outH * g.outW;
  if (onGemm) {
    gemm(be, FORWARD, [gpu(x), gpu(w)], y.dataId, { batch: g.groups, M: positions, N: g.Fg, K: taps * g.Cg, sb: g.Fg, sm: g.outC, sn: 1 }, geoValues(g));
  } else {
    const total = positions * g.outC;
    be.run(DIRECT_FORWARD, [gpu(x), gpu(w), y.dataId], { total, ...geoValues(g) }, grid1d(total));
  }
  return y;
}

function convInputGrad(be: WebGPUBackend, [dy, w]: TensorInfo[], conv: Conv2DInfo | Conv3DInfo, onGemm: boolean): TensorInfo {
  const g = convGeometry(conv);
  const dx = be.output(convShapes(conv).x, 'float32');
  const taps = g.kD * g.kH * g.kW;
  const cells = g.batch * g.inD * g.inH * g.inW;
  if (onGemm) {
    gemm(be, INPUT_GRAD, [gpu(dy), gpu(w)], dx.dataId, { batch: g.groups, M: cells, N: g.Cg, K: taps * g.Fg, sb: g.Cg, sm: g.inC, sn: 1 }, geoValues(g));
  } else {
    const total = cells * g.inC;
    be.run(DIRECT_INPUT_GRAD, [gpu(dy), gpu(w), dx.dataId], { total, ...geoValues(g) }, grid1d(total));
  }
  return dx;
}

function convFilterGrad(be: WebGPUBackend, [x, dy]: TensorInfo[], conv: Conv2DInfo | Conv3DInfo, onGemm: boolean): TensorInfo {
  const g = convGeometry(conv);
  const dw = be.output(convShapes(conv).w, 'float32');
  const taps = g.kD * g.kH * g.kW;
  const positions = g.batch * g.outD * g.outH * g.outW;
  if (onGemm) {
    gemm(be, FILTER_GRAD, [gpu(x), gpu(dy)], dw.dataId, { batch: g.groups, M: taps * g.Cg, N: g.Fg, K: positions, sb: g.Fg, sm: g.outC, sn: 1 }, geoValues(g));
  } else {
    const total = taps * g.Cg * g.outC;
    if (total > 0) {
      const gx = Math.min(total, 65535);
      be.run(DIRECT_FILTER_GRAD, [gpu(x), gpu(dy), dw.dataId], { total, ...geoValues(g) }, [gx, Math.ceil(total / gx), 1]);
    }
  }
  return dw;
}

const RUN: Record<Which, typeof convForward> = { forward: convForward, input: convInputGrad, filter: convFilterGrad };

/** Register `kernel` with its variants 'gemm' and 'direct' (both run any geometry), chosen by useGemm. */
function registerConv<A extends { conv: Conv2DInfo | Conv3DInfo }>(kernel: Kernel<A>, which: Which): void {
  registerFloat(kernel, {
    variants: [
      { name: 'gemm', run: (inputs, { conv }, be) => RUN[which](be, inputs, conv, true) },
      { name: 'direct', run: (inputs, { conv }, be) => RUN[which](be, inputs, conv, false) },
    ],
    choose: (_inputs, { conv }) => (useGemm(which, convGeometry(conv)) ? 'gemm' : 'direct'),
  });
}

for (const [kernel, role] of CONV_KERNELS) registerConv(kernel, role);

/**
 * The fused epilogue of FusedConv2D, in place on y: z = y + bias[f], leaky slope alpha
 * below 0, then clamped to [lo, hi] where hasLo / hasHi (WGSL has no infinite
 * constants). NaN stays NaN (select, not max/min, which WGSL leaves unspecified on NaN).
 */
const EPILOGUE: ProgramDef = {
  key: 'conv-fused-epilogue',
  buffers: [
    { name: 'B', type: 'f32', access: 'read' },
    { name: 'Y', type: 'f32', access: 'read_write' },
  ],
  params: [{ name: 'total', type: 'u32' }, { name: 'F', type: 'u32' }, { name: 'alpha', type: 'f32' }, { name: 'lo', type: 'f32' }, { name: 'hi', type: 'f32' },
    { name: 'hasLo', type: 'u32' }, { name: 'hasHi', type: 'u32' }, { name: 'mode', type: 'u32' }],
  body: `${MAIN_1D}
  if (i >= u.total) { return; }
  var z = Y[i] + B[i % u.F];
  if (u.mode == ${EPILOGUE_MODE.swish}u) {
    // z sigmoid(z), the sigmoid through exp(-|z|) (no overflow)
    let e = exp(-abs(z));
    Y[i] = z * select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
    return;
  }
  if (u.mode != ${EPILOGUE_MODE.clamp}u) {
    // hard sigmoid h = min(max(z/6 + 1/2, 0), 1) (select keeps NaN), hard swish z h
    var h = z * (1.0 / 6.0) + 0.5;
    h = select(h, 0.0, h <= 0.0);
    h = select(h, 1.0, h > 1.0);
    Y[i] = select(h, z * h, u.mode == ${EPILOGUE_MODE.hardSwish}u);
    return;
  }
  z = select(z, u.alpha * z, z < 0.0);
  if (u.hasLo != 0u) { z = select(z, u.lo, z <= u.lo); } // <=: -0 becomes +0 at lo = 0, as max(-0, 0)
  if (u.hasHi != 0u) { z = select(z, u.hi, z > u.hi); }
  Y[i] = z;
}`,
};

// FusedConv2D: the forward convolution on either variant, then the epilogue over y.
/** FusedConv2D on the GEMM or the direct program, then the epilogue over y in place. */
function fusedConv(be: WebGPUBackend, [x, w, bias]: readonly TensorInfo[], attrs: FusedConv2DAttrs, onGemm: boolean): TensorInfo {
  const y = convForward(be, [x, w], attrs.conv, onGemm);
  const total = y.shape.reduce((a, b) => a * b, 1);
  if (total === 0) return y;
  const { alpha, lo, hi, mode } = fusedEpilogue(attrs);
  const finite = (v: number) => (Number.isFinite(v) ? v : 0);
  be.run(EPILOGUE, [gpu(bias), gpu(y)], {
    total, F: attrs.conv.outC, alpha, lo: finite(lo), hi: finite(hi), hasLo: Number.isFinite(lo) ? 1 : 0, hasHi: Number.isFinite(hi) ? 1 : 0, mode,
  }, grid1d(total));
  return y;
}

registerFloat(FusedConv2D, {
  variants: (['gemm', 'direct'] as const).map((name) => ({
    name,
    run: (inputs, attrs, be: WebGPUBackend) => fusedConv(be, inputs, attrs, name === 'gemm'),
  })),
  choose: (_inputs, { conv }) => (useGemm('forward', convGeometry(conv)) ? 'gemm' : 'direct'),
});

// FusedConv2DConcat: each branch as FusedConv2D, then the concatenation's strided copies
// (these programs write whole tensors; the copy is what the wasm backend saves).
registerFloat(FusedConv2DConcat, (inputs, { branches }, be) => {
  const ys = branches.map((attrs, i) => fusedConv(be, inputs.slice(3 * i, 3 * i + 3), attrs, useGemm('forward', convGeometry(attrs.conv))));
  try {
    return concatOnGpu(ys, { axis: 3 }, be);
  } finally {
    for (const y of ys) be.disposeData(y.dataId);
  }
});
