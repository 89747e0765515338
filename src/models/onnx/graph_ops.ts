/**
 * One evaluator per ONNX operator for the graph interpreter (./graph_model.ts). Each runs
 * on whole convkit tensors in the file's own layout (NCHW: activations are transposed to
 * NHWC around conv and pool ops, OIHW filters to HWIO, and back), so every value is known
 * at run time: shapes, integer inputs, batch-axis ops and computed weights all work.
 *
 * Float values are computed with convkit ops, so a graph model is differentiable with
 * respect to its float inputs. Integer and bool values (shapes, indices, masks) carry no
 * gradient and are computed with plain loops. A value is a tensor plus its ONNX element
 * type: float/float16/bfloat16 are held as float32, double as float64, integers and bool
 * as int32, or as float64 when an int64 value does not fit in int32 (exact up to 2^53).
 *
 * `attrs` lists the attributes an evaluator implements; any other attribute is refused by
 * name before the graph runs, and `check` refuses attribute values it does not implement.
 */
import { attr, attrFloat, attrInt, attrInts, attrString, floatToHalf, halfToFloat, ONNX_DTYPE, onnxDtypeName, type OnnxModel, type OnnxNode, type OnnxTensor } from './proto.js';
import { record } from '../../autograd/reverse_mode.js';
import { erf as erfScalar } from '../../kernels/special.js';
import { tensor } from '../../ops/creation.js';
import { withBackend } from '../../registry/backends.js';
import {
  abs, add, affine, cast, cos, div, equal, exp, expm1, floor, greater, greaterEqual, less, lessEqual, log, maximum, minimum, mul, neg, pow,
  reciprocal, sign, sin, sqrt, sub, where,
} from '../../ops/elementwise.js';
import { argMax, argMin, logSumExp, max, mean, min, sum } from '../../ops/reduce.js';
import { broadcastTo, concat, gather, pad, reshape, reverse, slice, transpose } from '../../ops/shape.js';
import { matmul } from '../../ops/matmul.js';
import { conv1d, conv2d, conv3d } from '../../ops/conv.js';
import { avgPool1d, avgPool2d, avgPool3d, maxPool1d, maxPool2d, maxPool3d } from '../../ops/pool.js';
import { elu, gelu, relu, sigmoid, softplus, tanh, logSoftmax, softmax } from '../../ops/activation.js';
import type { Tensor } from '../../tensor/tensor.js';

const T = ONNX_DTYPE;

/** A value of the graph: a tensor, its ONNX element type, and its values when they were made on the host (constants). */
export interface GVal { t: Tensor; dt: number; host?: ArrayLike<number> }

export interface GCtx {
  node: OnnxNode;
  opset: number;
  fail(msg: string): never;
}

export interface GraphOp {
  /** Attributes the evaluator implements (others are refused by name). */
  attrs: string[];
  /** A reason to refuse the node before running (attribute values not implemented), or null. */
  check?: (n: OnnxNode, opset: number) => string | null;
  run: (ctx: GCtx, ins: (GVal | undefined)[]) => (GVal | undefined)[];
}

// ---------------------------------------------------------------- values

const FLOATS = new Set<number>([T.FLOAT, T.DOUBLE, T.FLOAT16, T.BFLOAT16]);
export const isFloatDt = (dt: number): boolean => FLOATS.has(dt);
export const SUPPORTED_DT = new Set<number>([T.FLOAT, T.DOUBLE, T.FLOAT16, T.BFLOAT16, T.INT64, T.INT32, T.INT16, T.INT8, T.UINT8, T.UINT16, T.UINT32, T.UINT64, T.BOOL]);
const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);
const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Wrap an integer, bool or float value to its ONNX type's range and precision. */
function fitTo(v: number, dt: number): number {
  switch (dt) {
    case T.FLOAT: return Math.fround(v);
    case T.BFLOAT16: return bf16(v);
    case T.FLOAT16: return halfToFloat(floatToHalf(v));
    case T.DOUBLE: return v;
    case T.BOOL: return v ? 1 : 0;
    case T.UINT8: return ((Math.trunc(v) % 256) + 256) % 256;
    case T.INT8: return (Math.trunc(v) << 24) >> 24;
    case T.UINT16: return ((Math.trunc(v) % 65536) + 65536) % 65536;
    case T.INT16: return (Math.trunc(v) << 16) >> 16;
    case T.INT32: return Math.trunc(v) | 0;
    case T.UINT32: return Math.trunc(v) >>> 0;
    default: return Math.trunc(v); // int64, uint64: exact below 2^53
  }
}
/**
 * float32 -> bfloat16 keeps the upper 16 bits (truncation), as ONNX's reference does for
 * opsets up to 17 (onnx 1.12's Cast test data); Cast-19 later specified rounding to nearest even.
 */
function bf16(v: number): number {
  const f = new Float32Array([v]), u = new Uint32Array(f.buffer);
  if (Number.isNaN(v)) return NaN;
  u[0] &= 0xffff0000;
  return f[0];
}

/** A value of type `dt` from JS numbers (already in range). */
export function mk(data: ArrayLike<number>, shape: readonly number[], dt: number): GVal {
  if (dt === T.DOUBLE) return { t: tensor(Float64Array.from(data), [...shape], 'float64'), dt, host: data };
  if (isFloatDt(dt)) return { t: tensor(Float32Array.from(data), [...shape], 'float32'), dt, host: data };
  let fits = true;
  for (let i = 0; i < data.length && fits; i++) fits = data[i] >= -2147483648 && data[i] <= 2147483647;
  // Integer values (shapes, indices, masks) live on 'ts', where they can be read synchronously
  // whatever the current backend (webgpu reads asynchronously); ops copy them where needed.
  return withBackend('ts', () => ({ t: fits ? tensor(Int32Array.from(data), [...shape], 'int32') : tensor(Float64Array.from(data), [...shape], 'float64'), dt, host: data }));
}
export const fromOnnxTensor = (t: OnnxTensor): GVal => mk(t.data, t.dims, t.dataType);
/** The tensor as JS numbers. */
export const nums = (v: GVal): number[] => Array.from(v.host ?? (v.t.dataSync() as ArrayLike<number>));
/** A float tensor of the held dtype of `dt` holding `x` (for ops that need float). */
const holdFloat = (x: Tensor, dt: number): Tensor => (x.dtype === (dt === T.DOUBLE ? 'float64' : 'float32') ? x : cast(x, dt === T.DOUBLE ? 'float64' : 'float32'));
const fl = (t: Tensor, dt: number): GVal => ({ t, dt });

function need(ctx: GCtx, v: GVal | undefined, i: number, what: string): GVal {
  if (!v) ctx.fail(`input ${i} (${what}) is missing`);
  return v!;
}
function floatIn(ctx: GCtx, v: GVal | undefined, i: number, what = 'X'): GVal {
  const x = need(ctx, v, i, what);
  if (!isFloatDt(x.dt)) ctx.fail(`input ${i} (${what}) has element type ${onnxDtypeName(x.dt)}; this operator takes float tensors`);
  return x;
}
/** Integer values of an optional input (shapes, axes, indices); null when absent. */
function intsIn(ctx: GCtx, v: GVal | undefined, i: number, what: string): number[] | null {
  if (!v) return null;
  if (isFloatDt(v.dt)) ctx.fail(`input ${i} (${what}) has element type ${onnxDtypeName(v.dt)}; expected an integer tensor`);
  return nums(v);
}
function scalarIn(ctx: GCtx, v: GVal | undefined, i: number, what: string): number | null {
  if (!v) return null;
  if (v.t.size !== 1) ctx.fail(`input ${i} (${what}) has shape ${fmt(v.t.shape)}; expected a single value`);
  return nums(v)[0];
}
function normAxis(ctx: GCtx, a: number, r: number, what = 'axis'): number {
  const x = a < 0 ? a + r : a;
  if (!Number.isInteger(x) || x < 0 || x >= r) ctx.fail(`${what} ${a} is out of range for rank ${r}`);
  return x;
}

function broadcastShape(ctx: GCtx, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length), out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) ctx.fail(`shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}
/** For each element of a broadcast result of `outShape`, the flat index into an operand of `shape`. */
function bcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = prod(outShape), r = outShape.length, res = new Int32Array(n);
  const full = [...new Array(r - shape.length).fill(1), ...shape];
  const st = new Array<number>(r);
  for (let i = r - 1, acc = 1; i >= 0; i--) { st[i] = full[i] === 1 ? 0 : acc; acc *= full[i]; }
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o++) {
    let s = 0;
    for (let i = 0; i < r; i++) s += idx[i] * st[i];
    res[o] = s;
    for (let i = r - 1; i >= 0; i--) { if (++idx[i] < outShape[i]) break; idx[i] = 0; }
  }
  return res;
}
/** Elementwise f over broadcast operands, in JS (integer and bool values, which have no gradient). */
function jsMap(ctx: GCtx, vs: GVal[], outDt: number, f: (...x: number[]) => number): GVal {
  let shape: number[] = [];
  for (const v of vs) shape = broadcastShape(ctx, shape, v.t.shape);
  const data = vs.map(nums), idx = vs.map((v) => bcastIndex(v.t.shape, shape));
  const out = new Float64Array(prod(shape)), args = new Array<number>(vs.length);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < vs.length; k++) args[k] = data[k][idx[k][i]];
    out[i] = fitTo(f(...args), outDt);
  }
  return mk(out, shape, outDt);
}
/** Two float operands of one held dtype. */
function sameFloat(a: GVal, b: GVal): [Tensor, Tensor] {
  const want = a.t.dtype === 'float64' || b.t.dtype === 'float64' ? 'float64' : 'float32';
  return [a.t.dtype === want ? a.t : cast(a.t, want), b.t.dtype === want ? b.t : cast(b.t, want)];
}

// ---------------------------------------------------------------- elementwise

/** A binary op with NumPy broadcasting: convkit op on floats, JS on integers (division truncates, as C). */
function binary(opF: (a: Tensor, b: Tensor) => Tensor, opI: (a: number, b: number) => number): GraphOp {
  return {
    attrs: ['broadcast', 'axis', 'consumed_inputs'],
    check: legacyBroadcast,
    run: (ctx, ins) => {
      const a = need(ctx, ins[0], 0, 'A'), b = need(ctx, ins[1], 1, 'B');
      if (isFloatDt(a.dt) !== isFloatDt(b.dt)) ctx.fail(`inputs have element types ${onnxDtypeName(a.dt)} and ${onnxDtypeName(b.dt)}; ONNX requires one type`);
      if (!isFloatDt(a.dt)) return [jsMap(ctx, [a, b], a.dt, opI)];
      broadcastShape(ctx, a.t.shape, b.t.shape);
      return [fl(opF(...sameFloat(a, b)), a.dt)];
    },
  };
}
/** Opset < 7 arithmetic: 'broadcast' with an 'axis' aligns B at that axis, which NumPy broadcasting does not do. */
function legacyBroadcast(n: OnnxNode): string | null {
  if (attr(n, 'axis') !== undefined) return "attribute 'axis' (opset < 7 broadcasting aligned at an axis) is not supported; re-export with opset >= 7";
  return null;
}

function unaryF(f: (x: Tensor, n: OnnxNode) => Tensor, attrs: string[] = [], intF?: (x: number) => number): GraphOp {
  return {
    attrs: [...attrs, 'consumed_inputs'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'X');
      if (!isFloatDt(x.dt)) {
        if (!intF) ctx.fail(`input 0 has element type ${onnxDtypeName(x.dt)}; this operator takes float tensors`);
        return [jsMap(ctx, [x], x.dt, intF!)];
      }
      return [fl(f(x.t, ctx.node), x.dt)];
    },
  };
}

/**
 * erf with its gradient 2/sqrt(pi) exp(-x^2). convkit has no erf op: where the values can be read
 * synchronously (ts, wasm) they come from the kernels' erf (~1e-15); elsewhere (webgpu) from the
 * Gelu op, erf(z) = 2 Phi(sqrt(2) z) - 1 with Phi(u) = gelu(u) / u (1/2 at u = 0).
 */
function erfOp(x: Tensor): Tensor {
  const v = x.backend.readSync(x.dataId, x.dtype) as ArrayLike<number> | null;
  if (v === null) {
    const u = mul(x, Math.SQRT2), zero = equal(u, 0);
    const phi = where(zero, 0.5, div(gelu(u), where(zero, 1, u)));
    return affine(phi, 2, -1);
  }
  const y = tensor(x.dtype === 'float64' ? Float64Array.from(v, erfScalar) : Float32Array.from(v, erfScalar), [...x.shape], x.dtype);
  return record('erf', [x], y, (dy) => [mul(dy, affine(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI)))]);
}

/** Softmax-like ops: opset >= 13 along `axis` (default -1); before, on the input coerced to 2-D at `axis` (default 1). */
function softmaxLike(f: (x: Tensor, axis: number) => Tensor): GraphOp {
  return {
    attrs: ['axis'],
    run: (ctx, ins) => {
      const x = floatIn(ctx, ins[0], 0, 'input');
      const r = x.t.rank;
      if (ctx.opset >= 13) return [fl(f(x.t, normAxis(ctx, attrInt(ctx.node, 'axis', -1), r)), x.dt)];
      const a = r === 0 ? 0 : normAxis(ctx, attrInt(ctx.node, 'axis', 1), r);
      const s = x.t.shape;
      return [fl(reshape(f(reshape(x.t, [prod(s.slice(0, a)), prod(s.slice(a))]), 1), s), x.dt)];
    },
  };
}

// ---------------------------------------------------------------- layout helpers

/** NC... -> N...C and back. */
const toLast = (r: number): number[] => [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
const toFirst = (r: number): number[] => [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
/** [O, I, ...k] -> [...k, I, O]. */
const oihwToHwio = (r: number): number[] => [...Array.from({ length: r - 2 }, (_, i) => i + 2), 1, 0];

const AUTO_PADS = ['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'];
function autoPadCheck(n: OnnxNode): string | null {
  const a = attrString(n, 'auto_pad', 'NOTSET');
  return AUTO_PADS.includes(a) ? null : `auto_pad '${a}' is not supported (expected ${AUTO_PADS.join(', ')})`;
}

/** [begin, end] padding per spatial axis from pads / auto_pad (SAME: output ceil(n / s), the odd cell at the end for SAME_UPPER). */
function convPads(ctx: GCtx, n: readonly number[], k: readonly number[], s: readonly number[], d: readonly number[]): [number, number][] {
  const node = ctx.node, sp = n.length;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return n.map(() => [0, 0]);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    return n.map((ni, i) => {
      const total = Math.max(0, (Math.ceil(ni / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - ni);
      const small = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    });
  }
  const pads = attrInts(node, 'pads', new Array(2 * sp).fill(0));
  if (pads.length !== 2 * sp) ctx.fail(`pads has ${pads.length} entries; expected ${2 * sp} (begin and end of each spatial axis)`);
  return n.map((_, i) => [pads[i], pads[i + sp]]);
}
function spatialAttr(ctx: GCtx, name: string, sp: number, dflt: number): number[] {
  const v = attrInts(ctx.node, name, new Array(sp).fill(dflt));
  if (v.length !== sp) ctx.fail(`${name} has ${v.length} entries; expected ${sp} (one per spatial axis)`);
  return v;
}
function spatialRank(ctx: GCtx, x: Tensor): number {
  const sp = x.rank - 2;
  if (sp < 1 || sp > 3) ctx.fail(`input of shape ${fmt(x.shape)} has ${sp} spatial axes; convkit convolves and pools 1-D, 2-D and 3-D data (N, C, ...)`);
  return sp;
}

// ---------------------------------------------------------------- conv

/** Conv: Y = X * W + B; X [N, C, ...], W [M, C/group, ...k] (OIHW), B [M]. */
function convRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'X'), w = floatIn(ctx, ins[1], 1, 'W');
  const sp = spatialRank(ctx, x.t);
  if (w.t.rank !== sp + 2) ctx.fail(`W has shape ${fmt(w.t.shape)}; expected rank ${sp + 2} (M, C/group, kernel...)`);
  const k = w.t.shape.slice(2);
  const ks = attrInts(ctx.node, 'kernel_shape', k);
  if (ks.some((v, i) => v !== k[i])) ctx.fail(`kernel_shape ${fmt(ks)} disagrees with W of shape ${fmt(w.t.shape)}`);
  const strides = spatialAttr(ctx, 'strides', sp, 1), dilations = spatialAttr(ctx, 'dilations', sp, 1);
  const padding = convPads(ctx, x.t.shape.slice(2), k, strides, dilations);
  const groups = attrInt(ctx.node, 'group', 1);
  const [xt, wt] = sameFloat(x, w);
  const bias = ins[2] ? sameFloat(x, floatIn(ctx, ins[2], 2, 'B'))[1] : undefined;
  const conv = sp === 1 ? conv1d : sp === 2 ? conv2d : conv3d;
  const y = conv(transpose(xt, toLast(sp + 2)), transpose(wt, oihwToHwio(sp + 2)), { strides, dilations, padding, groups, bias });
  return [fl(transpose(y, toFirst(sp + 2)), x.dt)];
}

/**
 * ConvTranspose, the adjoint of Conv: X [N, C, ...], W [C, M/group, ...k], B [M]. Written as a
 * stride-1 convolution of X with zeros inserted between its cells (stride - 1 per gap) and
 * the flipped, group-transposed kernel; padding k-1-pads (negative: cropped). Output size
 * per axis: s * (in - 1) + output_padding + (k - 1) * d + 1 - begin - end, where output_shape
 * (or auto_pad SAME_*, output in * s) fixes begin + end (odd cell: SAME_UPPER at the end).
 */
function convTransposeRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const n = ctx.node;
  const x = floatIn(ctx, ins[0], 0, 'X'), w = floatIn(ctx, ins[1], 1, 'W');
  const sp = spatialRank(ctx, x.t), r = sp + 2;
  if (w.t.rank !== r) ctx.fail(`W has shape ${fmt(w.t.shape)}; expected rank ${r} (C, M/group, kernel...)`);
  const groups = attrInt(n, 'group', 1);
  const [C, Mg] = w.t.shape, k = w.t.shape.slice(2);
  if (x.t.shape[1] !== C || C % groups) ctx.fail(`X has ${x.t.shape[1]} channels and W shape ${fmt(w.t.shape)} with group ${groups}: expected W[0] = C divisible by group`);
  const ks = attrInts(n, 'kernel_shape', k);
  if (ks.some((v, i) => v !== k[i])) ctx.fail(`kernel_shape ${fmt(ks)} disagrees with W of shape ${fmt(w.t.shape)}`);
  const s = spatialAttr(ctx, 'strides', sp, 1), d = spatialAttr(ctx, 'dilations', sp, 1), op = spatialAttr(ctx, 'output_padding', sp, 0);
  const inSz = x.t.shape.slice(2);
  const full = inSz.map((v, i) => s[i] * (v - 1) + op[i] + (k[i] - 1) * d[i] + 1);
  const autoPad = attrString(n, 'auto_pad', 'NOTSET');
  let pads: [number, number][];
  const outShape = attr(n, 'output_shape')?.ints;
  if (outShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const want = outShape ? outShape.slice(-sp) : inSz.map((v, i) => v * s[i]);
    if (want.length !== sp) ctx.fail(`output_shape ${fmt(outShape!)} names ${want.length} spatial sizes; expected ${sp}`);
    pads = full.map((f, i) => {
      const total = f - want[i], half = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [half, total - half] : [total - half, half];
    });
  } else if (autoPad === 'VALID') pads = inSz.map(() => [0, 0]);
  else {
    const p = attrInts(n, 'pads', new Array(2 * sp).fill(0));
    if (p.length !== 2 * sp) ctx.fail(`pads has ${p.length} entries; expected ${2 * sp}`);
    pads = inSz.map((_, i) => [p[i], p[i + sp]]);
  }
  const [xt, wt] = sameFloat(x, w);
  let u = transpose(xt, toLast(r)); // [N, ...sp, C]
  // Zeros between cells: axis a of size L becomes L + (L-1)(s-1).
  for (let i = 0; i < sp; i++) {
    if (s[i] === 1) continue;
    const a = i + 1, L = u.shape[a];
    const e = reshape(u, [...u.shape.slice(0, a + 1), 1, ...u.shape.slice(a + 1)]);
    const padded = pad(e, e.shape.map((_, j): [number, number] => (j === a + 1 ? [0, s[i] - 1] : [0, 0])));
    const merged = reshape(padded, [...u.shape.slice(0, a), L * s[i], ...u.shape.slice(a + 1)]);
    u = slice(merged, merged.shape.map(() => 0), merged.shape.map((v, j) => (j === a ? v - (s[i] - 1) : v)));
  }
  // Border: (k-1)*d - begin before, (k-1)*d - end + output_padding after; negative amounts crop.
  const border = pads.map(([b, e], i): [number, number] => [(k[i] - 1) * d[i] - b, (k[i] - 1) * d[i] - e + op[i]]);
  u = pad(u, [[0, 0], ...border.map(([b, e]): [number, number] => [Math.max(0, b), Math.max(0, e)]), [0, 0]]);
  if (border.some(([b, e]) => b < 0 || e < 0)) {
    const begin = [0, ...border.map(([b]) => Math.max(0, -b)), 0];
    const size = u.shape.map((v, j) => (j === 0 || j === r - 1 ? v : v - begin[j] - Math.max(0, -border[j - 1][1])));
    if (size.some((v) => v < 1)) ctx.fail(`pads ${JSON.stringify(pads)} leave no output`);
    u = slice(u, begin, size);
  }
  // Kernel: W [C, M/g, ...k] -> [g, C/g, M/g, ...k] -> [...k, C/g, g, M/g] -> [...k, C/g, M], flipped in space.
  const g5 = reshape(wt, [groups, C / groups, Mg, ...k]);
  const kern = reverse(reshape(transpose(g5, [...k.map((_, i) => i + 3), 1, 0, 2]), [...k, C / groups, Mg * groups]), k.map((_, i) => i));
  const bias = ins[2] ? sameFloat(x, floatIn(ctx, ins[2], 2, 'B'))[1] : undefined;
  const conv = sp === 1 ? conv1d : sp === 2 ? conv2d : conv3d;
  const y = conv(u, kern, { dilations: d, groups, bias });
  return [fl(transpose(y, toFirst(r)), x.dt)];
}

// ---------------------------------------------------------------- pooling

/** MaxPool / AveragePool on X [N, C, ...]: padded cells never win a max; ceil_mode adds end padding that no window counts. */
function poolRun(kind: 'max' | 'avg') {
  return (ctx: GCtx, ins: (GVal | undefined)[]): (GVal | undefined)[] => {
    const n = ctx.node;
    const x0 = need(ctx, ins[0], 0, 'X');
    const sp = spatialRank(ctx, x0.t), r = sp + 2;
    const k = attrInts(n, 'kernel_shape', []);
    if (k.length !== sp) ctx.fail(`kernel_shape ${fmt(k)} has ${k.length} entries; expected ${sp}`);
    const s = spatialAttr(ctx, 'strides', sp, 1), d = spatialAttr(ctx, 'dilations', sp, 1);
    const inSz = x0.t.shape.slice(2);
    const pads = convPads(ctx, inSz, k, s, d);
    if (attrInt(n, 'ceil_mode', 0)) {
      pads.forEach((p, i) => {
        const span = inSz[i] + p[0] + p[1] - ((k[i] - 1) * d[i] + 1);
        let out = Math.ceil(span / s[i]) + 1;
        if ((out - 1) * s[i] >= inSz[i] + p[0]) out--; // a last window starting in the end padding is dropped
        const extra = (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - (inSz[i] + p[0] + p[1]);
        if (extra > 0) {
          if (kind === 'avg' && attrInt(n, 'count_include_pad', 0)) ctx.fail('ceil_mode with count_include_pad = 1 is not supported');
          p[1] += extra;
        }
      });
    }
    const isInt = !isFloatDt(x0.dt);
    if (isInt && kind === 'avg') ctx.fail(`input has element type ${onnxDtypeName(x0.dt)}; AveragePool takes float tensors`);
    const xt = isInt ? cast(x0.t, 'float64') : x0.t;
    const opts = { size: k, strides: s, dilations: d, padding: pads, countIncludePad: !!attrInt(n, 'count_include_pad', 0) };
    const f = kind === 'max' ? [maxPool1d, maxPool2d, maxPool3d][sp - 1] : [avgPool1d, avgPool2d, avgPool3d][sp - 1];
    let y = transpose(f(transpose(xt, toLast(r)), opts), toFirst(r));
    if (isInt) y = cast(y, 'int32');
    const out: (GVal | undefined)[] = [{ t: y, dt: x0.dt }];
    if (kind === 'max' && n.outputs[1]) out.push(maxPoolIndices(ctx, x0, k, s, d, pads, y.shape));
    return out;
  };
}

/** MaxPool's Indices output: the flat index of each maximum in X (row-major, or H and W swapped when storage_order = 1); ties: the first in window order. */
function maxPoolIndices(ctx: GCtx, x: GVal, k: number[], s: number[], d: number[], pads: [number, number][], yShape: readonly number[]): GVal {
  if (k.length !== 2) ctx.fail('the Indices output is computed for 2-D pooling only');
  const [N, C, H, W] = x.t.shape, [OH, OW] = yShape.slice(2);
  const colMajor = attrInt(ctx.node, 'storage_order', 0) === 1;
  const v = nums(x), out = new Float64Array(N * C * OH * OW);
  let o = 0;
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let best = -Infinity, at = -1;
        for (let i = 0; i < k[0]; i++) {
          const h = oh * s[0] - pads[0][0] + i * d[0];
          if (h < 0 || h >= H) continue;
          for (let j = 0; j < k[1]; j++) {
            const w = ow * s[1] - pads[1][0] + j * d[1];
            if (w < 0 || w >= W) continue;
            const val = v[(nc * H + h) * W + w];
            if (val > best || at < 0) { best = val; at = colMajor ? nc * H * W + w * H + h : (nc * H + h) * W + w; }
          }
        }
        out[o++] = at;
      }
    }
  }
  return mk(out, [N, C, OH, OW], T.INT64);
}

// ---------------------------------------------------------------- normalisation

/** Per-channel vector [C] viewed as [1, C, 1, ...] against X of rank r. */
const chan = (v: Tensor, r: number): Tensor => reshape(v, [1, v.size, ...new Array(Math.max(0, r - 2)).fill(1)]);

/** BatchNormalization: Y = (X - mean) / sqrt(var + epsilon) * scale + B per channel (axis 1); training_mode uses batch statistics. */
function batchNormRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const n = ctx.node;
  const x = floatIn(ctx, ins[0], 0, 'X');
  const [scale, b, m, v] = [1, 2, 3, 4].map((i) => sameFloat(x, floatIn(ctx, ins[i], i, ['', 'scale', 'B', 'input_mean', 'input_var'][i]))[1]);
  const r = x.t.rank, eps = attrFloat(n, 'epsilon', 1e-5);
  const training = attrInt(n, 'training_mode', 0) === 1;
  const usesStats = n.outputs.slice(1).some((o) => o);
  if (!training) {
    if (usesStats && ctx.opset >= 14) ctx.fail('outputs running_mean/running_var exist only with training_mode = 1');
    if (usesStats) ctx.fail('the training outputs (mean, var, saved_mean, saved_var) of BatchNormalization before opset 14 are not supported');
    const y = add(mul(div(sub(x.t, chan(m, r)), sqrt(add(chan(v, r), eps))), chan(scale, r)), chan(b, r));
    return [fl(y, x.dt)];
  }
  const axes = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2)];
  const bm = mean(x.t, { axes, keepDims: true });
  const dx = sub(x.t, bm);
  const bv = mean(mul(dx, dx), { axes, keepDims: true });
  const y = add(mul(div(dx, sqrt(add(bv, eps))), chan(scale, r)), chan(b, r));
  const mom = attrFloat(n, 'momentum', 0.9);
  const run = (old: Tensor, cur: Tensor) => add(mul(old, mom), mul(reshape(cur, [cur.size]), 1 - mom));
  return [fl(y, x.dt), fl(run(m, bm), x.dt), fl(run(v, bv), x.dt)];
}

/** InstanceNormalization: per (n, c), Y = (X - mean) / sqrt(var + epsilon) * scale[c] + B[c] over the spatial axes. */
function instanceNormRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'input');
  const scale = sameFloat(x, floatIn(ctx, ins[1], 1, 'scale'))[1], b = sameFloat(x, floatIn(ctx, ins[2], 2, 'B'))[1];
  const r = x.t.rank, axes = Array.from({ length: r - 2 }, (_, i) => i + 2);
  const m = mean(x.t, { axes, keepDims: true }), dx = sub(x.t, m);
  const v = mean(mul(dx, dx), { axes, keepDims: true });
  return [fl(add(mul(div(dx, sqrt(add(v, attrFloat(ctx.node, 'epsilon', 1e-5)))), chan(scale, r)), chan(b, r)), x.dt)];
}

/** LayerNormalization: over axes [axis, rank), Y = (X - Mean) * InvStdDev * Scale + B; Mean and InvStdDev keep the reduced axes as 1. */
function layerNormRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'X');
  const r = x.t.rank, a = normAxis(ctx, attrInt(ctx.node, 'axis', -1), r);
  const axes = Array.from({ length: r - a }, (_, i) => i + a);
  const m = mean(x.t, { axes, keepDims: true }), dx = sub(x.t, m);
  const inv = reciprocal(sqrt(add(mean(mul(dx, dx), { axes, keepDims: true }), attrFloat(ctx.node, 'epsilon', 1e-5))));
  let y = mul(mul(dx, inv), sameFloat(x, floatIn(ctx, ins[1], 1, 'Scale'))[1]);
  if (ins[2]) y = add(y, sameFloat(x, floatIn(ctx, ins[2], 2, 'B'))[1]);
  return [fl(y, x.dt), fl(m, x.dt), fl(inv, x.dt)];
}

/** LRN across channels (axis 1): Y = X / (bias + alpha / size * sum of X^2 over channels c - floor((size-1)/2) .. c + ceil((size-1)/2))^beta. */
function lrnRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const n = ctx.node;
  const x = floatIn(ctx, ins[0], 0, 'X');
  const size = attrInt(n, 'size', 0);
  if (size < 1) ctx.fail(`size must be a positive integer, received ${size}`);
  const lo = Math.floor((size - 1) / 2), hi = Math.ceil((size - 1) / 2), C = x.t.shape[1];
  const sq = pad(mul(x.t, x.t), x.t.shape.map((_, i): [number, number] => (i === 1 ? [lo, hi] : [0, 0])));
  let ss: Tensor | null = null;
  for (let o = 0; o < size; o++) {
    const part = slice(sq, sq.shape.map((_, i) => (i === 1 ? o : 0)), sq.shape.map((v, i) => (i === 1 ? C : v)));
    ss = ss ? add(ss, part) : part;
  }
  const den = pow(affine(ss!, attrFloat(n, 'alpha', 1e-4) / size, attrFloat(n, 'bias', 1)), attrFloat(n, 'beta', 0.75));
  return [fl(div(x.t, den), x.dt)];
}

// ---------------------------------------------------------------- shape ops

function reshapeTo(ctx: GCtx, x: GVal, spec: number[], allowZero: boolean): GVal {
  const src = x.t.shape;
  const out = spec.map((v, i) => (v === 0 && !allowZero ? src[i] : v));
  if (out.some((v) => v === undefined)) ctx.fail(`shape ${fmt(spec)} copies (0) an axis that ${fmt(src)} lacks`);
  const unknown = out.filter((v) => v === -1).length;
  if (unknown > 1) ctx.fail(`shape ${fmt(spec)} has more than one -1`);
  if (unknown) {
    const known = prod(out.filter((v) => v !== -1));
    if (known === 0 || x.t.size % known) ctx.fail(`cannot reshape ${fmt(src)} to ${fmt(spec)}`);
    out[out.indexOf(-1)] = x.t.size / known;
  }
  if (prod(out) !== x.t.size || out.some((v) => v < 0)) ctx.fail(`cannot reshape ${fmt(src)} (${x.t.size} values) to ${fmt(spec)}`);
  return { t: reshape(x.t, out), dt: x.dt };
}

/** Reductions: axes from the attribute (or input 1 for ReduceSum >= 13), keepdims (default 1), noop_with_empty_axes. */
type ReduceKind = 'mean' | 'sum' | 'max' | 'min' | 'l1' | 'l2' | 'sumSquare' | 'logSum' | 'logSumExp';
function reduceOp(kind: ReduceKind): GraphOp {
  return {
    attrs: ['axes', 'keepdims', 'noop_with_empty_axes'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data');
      const r = x.t.rank;
      let axes = attr(ctx.node, 'axes')?.ints ?? intsIn(ctx, ins[1], 1, 'axes');
      if (!axes || axes.length === 0) {
        if (attrInt(ctx.node, 'noop_with_empty_axes', 0)) return [x];
        axes = Array.from({ length: r }, (_, i) => i);
      }
      const ax = axes.map((a) => normAxis(ctx, a, r));
      const keepDims = attrInt(ctx.node, 'keepdims', 1) === 1;
      const isInt = !isFloatDt(x.dt);
      const xt = isInt ? cast(x.t, 'float64') : x.t;
      const o = { axes: ax, keepDims };
      const y = {
        mean: () => mean(xt, o), sum: () => sum(xt, o), max: () => max(xt, o), min: () => min(xt, o),
        l1: () => sum(abs(xt), o), l2: () => sqrt(sum(mul(xt, xt), o)), sumSquare: () => sum(mul(xt, xt), o),
        logSum: () => log(sum(xt, o)), logSumExp: () => logSumExp(xt, o),
      }[kind]();
      if (isInt) return [mk(nums({ t: y, dt: T.DOUBLE }).map((v) => fitTo(v, x.dt)), y.shape, x.dt)];
      return [fl(y, x.dt)];
    },
  };
}

/** Per-axis start / end / step (Slice semantics): the indices taken along an axis of length `dim`. */
function sliceIndices(start: number, end: number, step: number, dim: number): number[] {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) { start = Math.min(Math.max(start, 0), dim); end = Math.min(Math.max(end, 0), dim); }
  else { start = Math.min(Math.max(start, -1), dim - 1); end = Math.min(Math.max(end, -1), dim - 1); }
  const out: number[] = [];
  for (let i = start; step > 0 ? i < end : i > end; i += step) out.push(i);
  return out;
}
/** x restricted to `idx` along `axis` (a slice when contiguous, a gather otherwise). */
function take(x: Tensor, idx: number[], axis: number): Tensor {
  const contiguous = idx.every((v, i) => i === 0 || v === idx[i - 1] + 1);
  if (contiguous && idx.length > 0) return slice(x, x.shape.map((_, i) => (i === axis ? idx[0] : 0)), x.shape.map((v, i) => (i === axis ? idx.length : v)));
  if (idx.length === 0) return slice(x, x.shape.map(() => 0), x.shape.map((v, i) => (i === axis ? 0 : v)));
  return gather(x, tensor(Int32Array.from(idx), [idx.length], 'int32'), axis);
}

/** Pad (constant, reflect, edge); negative pads crop. */
function padRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const n = ctx.node;
  const x = need(ctx, ins[0], 0, 'data');
  const r = x.t.rank;
  const pads = attr(n, 'pads')?.ints ?? attr(n, 'paddings')?.ints ?? intsIn(ctx, ins[1], 1, 'pads');
  if (!pads || pads.length !== 2 * r) ctx.fail(`pads has ${pads?.length ?? 0} entries; expected ${2 * r} (begin and end of each axis)`);
  const mode = attrString(n, 'mode', 'constant');
  const value = attr(n, 'value')?.f ?? scalarIn(ctx, ins[2], 2, 'constant_value') ?? 0;
  let y = x.t;
  for (let a = 0; a < r; a++) {
    let b = pads![a], e = pads![a + r];
    if (b < 0 || e < 0) {
      y = take(y, Array.from({ length: y.shape[a] - Math.max(0, -b) - Math.max(0, -e) }, (_, i) => i + Math.max(0, -b)), a);
      b = Math.max(0, b); e = Math.max(0, e);
    }
    if (!b && !e) continue;
    const L = y.shape[a];
    if (mode === 'constant') y = pad(y, y.shape.map((_, i): [number, number] => (i === a ? [b, e] : [0, 0])), isFloatDt(x.dt) ? value : fitTo(value, x.dt));
    else {
      if (mode === 'reflect' && (b >= L || e >= L)) ctx.fail(`reflect padding of ${Math.max(b, e)} needs an axis longer than that; axis ${a} has ${L}`);
      const idx = Array.from({ length: L + b + e }, (_, i) => {
        const j = i - b;
        if (mode === 'edge') return Math.min(Math.max(j, 0), L - 1);
        return j < 0 ? -j : j >= L ? 2 * (L - 1) - j : j;
      });
      y = take(y, idx, a);
    }
  }
  return [{ t: y, dt: x.dt }];
}

// ---------------------------------------------------------------- resize

const COORD_MODES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/**
 * Resize / Upsample, separable: along each axis (the last first) each output cell is a
 * weighted sum of input cells at taps found as ONNX's reference does: the source coordinate
 * x from the coordinate mode, then for nearest and linear the two cells floor(x), floor(x)+1
 * (x-1, x when x is whole), for cubic four; indices beyond the edge repeat the edge cell.
 * Upsample and Resize-10 are 'asymmetric' with nearest 'floor'.
 */
function resizeRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const n = ctx.node;
  const x = need(ctx, ins[0], 0, 'X');
  const r = x.t.rank, inSz = x.t.shape;
  const legacy = n.opType === 'Upsample' || ctx.opset < 11;
  let mode = attrString(n, 'mode', 'nearest');
  if (mode === 'bilinear' || mode === 'trilinear') mode = 'linear';
  const coord = legacy ? 'asymmetric' : attrString(n, 'coordinate_transformation_mode', 'half_pixel');
  const nearestMode = legacy ? 'floor' : attrString(n, 'nearest_mode', 'round_prefer_floor');
  const A = attrFloat(n, 'cubic_coeff_a', -0.75), exclude = attrInt(n, 'exclude_outside', 0) === 1;
  const extrap = attrFloat(n, 'extrapolation_value', 0);
  let scales: number[] | null = attr(n, 'scales')?.floats ?? null;
  let sizes: number[] | null = null;
  let roi: number[] | null = null;
  if (!scales) {
    const si = legacy ? 1 : 2;
    const sv = ins[si];
    if (sv && sv.t.size > 0) scales = nums(sv);
    if (!legacy) {
      if (ins[3] && ins[3].t.size > 0) sizes = intsIn(ctx, ins[3], 3, 'sizes');
      if (ins[1] && ins[1].t.size > 0) roi = nums(ins[1]);
    }
  }
  if (!!scales === !!sizes) ctx.fail('exactly one of scales and sizes must be given');
  if (scales && scales.length !== r) ctx.fail(`scales has ${scales.length} entries; expected ${r}`);
  if (sizes && sizes.length !== r) ctx.fail(`sizes has ${sizes.length} entries; expected ${r}`);
  if (coord === 'tf_crop_and_resize' && (!roi || roi.length !== 2 * r)) ctx.fail(`tf_crop_and_resize needs roi with ${2 * r} entries`);
  const isInt = !isFloatDt(x.dt);
  if (isInt && mode !== 'nearest') ctx.fail(`${mode} resizing of ${onnxDtypeName(x.dt)} data is not supported`);
  let y = isInt ? cast(x.t, 'float64') : x.t;
  for (let a = r - 1; a >= 0; a--) {
    const L = inSz[a];
    const scale = scales ? scales[a] : sizes![a] / L;
    const outLen = sizes ? sizes[a] : Math.floor(L * scale);
    const outW = scale * L; // the reference's (possibly fractional) output length
    if (outLen === L && scale === 1 && coord !== 'tf_crop_and_resize') continue;
    const taps = mode === 'cubic' ? 4 : 2;
    const idx: number[][] = Array.from({ length: taps }, () => []), wts: number[][] = Array.from({ length: taps }, () => []);
    const extra: number[] = [];
    for (let o = 0; o < outLen; o++) {
      let xo: number;
      switch (coord) {
        case 'align_corners': xo = outW === 1 ? 0 : (o * (L - 1)) / (outW - 1); break;
        case 'asymmetric': xo = o / scale; break;
        case 'tf_half_pixel_for_nn': xo = (o + 0.5) / scale; break;
        case 'pytorch_half_pixel': xo = outW === 1 ? -0.5 : (o + 0.5) / scale - 0.5; break;
        case 'tf_crop_and_resize': {
          const s0 = roi![a], e0 = roi![a + r];
          xo = (outW === 1 ? ((e0 - s0) * (L - 1)) / 2 : (o * (e0 - s0) * (L - 1)) / (outW - 1)) + s0 * (L - 1);
          break;
        }
        default: xo = (o + 0.5) / scale - 0.5;
      }
      if (coord === 'tf_crop_and_resize' && (xo < 0 || xo > L - 1)) {
        for (let k = 0; k < taps; k++) { idx[k].push(0); wts[k].push(0); }
        extra.push(extrap);
        continue;
      }
      extra.push(0);
      const whole = Number.isInteger(xo);
      const f = whole ? xo - 1 : Math.floor(xo), t = whole ? 1 : xo - f;
      let c: number[];
      if (mode === 'nearest') {
        const up = whole ? true : nearestMode === 'round_prefer_floor' ? t > 0.5 : nearestMode === 'round_prefer_ceil' ? t >= 0.5 : nearestMode === 'ceil';
        c = up ? [0, 1] : [1, 0];
      } else if (mode === 'linear') c = [1 - t, t];
      else {
        const u = 1 - t;
        c = [((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A, ((A + 2) * t - (A + 3)) * t * t + 1,
          ((A + 2) * u - (A + 3)) * u * u + 1, ((A * (u + 1) - 5 * A) * (u + 1) + 8 * A) * (u + 1) - 4 * A];
      }
      const first = mode === 'cubic' ? f - 1 : f;
      if (exclude) {
        for (let k = 0; k < taps; k++) if (first + k < 0 || first + k >= L) c[k] = 0;
        const tot = c.reduce((p, q) => p + q, 0);
        c = c.map((v) => v / tot);
      }
      for (let k = 0; k < taps; k++) { idx[k].push(Math.min(Math.max(first + k, 0), L - 1)); wts[k].push(c[k]); }
    }
    const bshape = y.shape.map((_, i) => (i === a ? outLen : 1));
    let acc: Tensor | null = null;
    for (let k = 0; k < taps; k++) {
      if (wts[k].every((v) => v === 0)) continue;
      const g = gather(y, tensor(Int32Array.from(idx[k]), [outLen], 'int32'), a);
      const term = wts[k].every((v) => v === 1) ? g : mul(g, tensor(y.dtype === 'float64' ? Float64Array.from(wts[k]) : Float32Array.from(wts[k]), bshape, y.dtype));
      acc = acc ? add(acc, term) : term;
    }
    if (!acc) acc = mul(gather(y, tensor(Int32Array.from(idx[0]), [outLen], 'int32'), a), 0);
    if (extra.some((v) => v !== 0)) acc = add(acc, tensor(y.dtype === 'float64' ? Float64Array.from(extra) : Float32Array.from(extra), bshape, y.dtype));
    y = acc;
  }
  if (isInt) return [mk(nums({ t: y, dt: T.DOUBLE }).map(Math.round), y.shape, x.dt)];
  return [fl(y === x.t ? reshape(y, y.shape) : y, x.dt)];
}
function resizeCheck(n: OnnxNode): string | null {
  const mode = attrString(n, 'mode', 'nearest');
  if (!['nearest', 'linear', 'cubic', 'bilinear', 'trilinear'].includes(mode)) return `mode '${mode}' is not supported (nearest, linear, cubic are)`;
  if (n.opType === 'Upsample' && mode === 'cubic') return "mode 'cubic' is not an Upsample mode";
  const cm = attrString(n, 'coordinate_transformation_mode', 'half_pixel');
  if (!COORD_MODES.includes(cm)) return `coordinate_transformation_mode '${cm}' is not supported (${COORD_MODES.join(', ')} are)`;
  const nm = attrString(n, 'nearest_mode', 'round_prefer_floor');
  if (!NEAREST_MODES.includes(nm)) return `nearest_mode '${nm}' is not supported (${NEAREST_MODES.join(', ')} are)`;
  return null;
}

// ---------------------------------------------------------------- the table

const castTo = (ctx: GCtx, x: GVal, to: number): GVal => {
  if (!SUPPORTED_DT.has(to)) ctx.fail(`casting to ${onnxDtypeName(to)} is not supported`);
  if (isFloatDt(to) && isFloatDt(x.dt)) {
    const t = holdFloat(x.t, to);
    if (to === T.FLOAT16 || to === T.BFLOAT16 || (to === T.FLOAT && x.dt === T.DOUBLE)) {
      // Rounding to the narrower type: the values are rounded, the gradient passes unchanged.
      const r = mk(nums({ t, dt: to }).map((v) => fitTo(v, to)), t.shape, to).t;
      return fl(record('cast', [t], r, (dy) => [dy]), to);
    }
    return fl(t, to);
  }
  return mk(nums(x).map((v) => fitTo(isFloatDt(x.dt) && !isFloatDt(to) && to !== T.BOOL ? Math.trunc(v) : v, to)), x.t.shape, to);
};

export const GRAPH_OPS: Record<string, GraphOp> = {
  // Elementwise arithmetic, NumPy broadcasting.
  Add: binary(add, (a, b) => a + b),
  Sub: binary(sub, (a, b) => a - b),
  Mul: binary(mul, (a, b) => a * b),
  Div: binary(div, (a, b) => (b === 0 ? 0 : Math.trunc(a / b))),
  /** Pow: Y = X ^ B; Y has X's type (B may be another numeric type). */
  Pow: {
    attrs: ['broadcast', 'axis'],
    check: legacyBroadcast,
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'X'), b = need(ctx, ins[1], 1, 'Y');
      if (!isFloatDt(x.dt)) return [jsMap(ctx, [x, b], x.dt, (p, q) => Math.pow(p, q))];
      const e = isFloatDt(b.dt) ? b.t : cast(b.t, x.t.dtype);
      broadcastShape(ctx, x.t.shape, e.shape);
      return [fl(pow(x.t, e.dtype === x.t.dtype ? e : cast(e, x.t.dtype)), x.dt)];
    },
  },
  Sqrt: unaryF((x) => sqrt(x)),
  Neg: unaryF((x) => neg(x), [], (v) => -v),
  Abs: unaryF((x) => abs(x), [], Math.abs),
  Exp: unaryF((x) => exp(x)),
  Log: unaryF((x) => log(x)),
  Reciprocal: unaryF((x) => reciprocal(x)),
  Erf: unaryF(erfOp),
  // Activations.
  Relu: unaryF((x) => relu(x)),
  /** LeakyRelu: x >= 0 ? x : alpha x (alpha default 0.01). */
  LeakyRelu: unaryF((x, n) => add(relu(x), mul(minimum(x, 0), attrFloat(n, 'alpha', 0.01))), ['alpha']),
  /** Elu: x > 0 ? x : alpha (e^x - 1). */
  Elu: unaryF((x, n) => elu(x, attrFloat(n, 'alpha', 1)), ['alpha']),
  /** Selu: gamma (x > 0 ? x : alpha (e^x - 1)). */
  Selu: unaryF((x, n) => mul(add(relu(x), mul(expm1(minimum(x, 0)), attrFloat(n, 'alpha', 1.67326319217681884765625))), attrFloat(n, 'gamma', 1.05070102214813232421875)), ['alpha', 'gamma']),
  Sigmoid: unaryF((x) => sigmoid(x)),
  /** HardSigmoid: max(0, min(1, alpha x + beta)), alpha 0.2, beta 0.5. */
  HardSigmoid: unaryF((x, n) => minimum(maximum(affine(x, attrFloat(n, 'alpha', 0.2), attrFloat(n, 'beta', 0.5)), 0), 1), ['alpha', 'beta']),
  /** HardSwish: x max(0, min(1, x / 6 + 1/2)). */
  HardSwish: unaryF((x) => mul(x, minimum(maximum(affine(x, 1 / 6, 0.5), 0), 1))),
  Tanh: unaryF((x) => tanh(x)),
  Softplus: unaryF((x) => softplus(x)),
  /** PRelu: x >= 0 ? x : slope x, slope broadcast to X. */
  PRelu: {
    attrs: ['consumed_inputs'],
    run: (ctx, ins) => {
      const x = floatIn(ctx, ins[0], 0, 'X'), s = floatIn(ctx, ins[1], 1, 'slope');
      const [xt, st] = sameFloat(x, s);
      broadcastShape(ctx, xt.shape, st.shape);
      return [fl(add(relu(xt), mul(minimum(xt, 0), st)), x.dt)];
    },
  },
  /** Clip: min(max(x, min), max); bounds from attributes (opset < 11) or inputs 1 and 2, absent = unbounded. */
  Clip: {
    attrs: ['min', 'max', 'consumed_inputs'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input');
      if (!isFloatDt(x.dt)) {
        const lo = attr(ctx.node, 'min')?.f ?? scalarIn(ctx, ins[1], 1, 'min');
        const hi = attr(ctx.node, 'max')?.f ?? scalarIn(ctx, ins[2], 2, 'max');
        return [jsMap(ctx, [x], x.dt, (v) => Math.min(Math.max(v, lo ?? -Infinity), hi ?? Infinity))];
      }
      // Bounds given as inputs stay tensors (no read back; gradients reach computed bounds).
      const bound = (i: number, name: string): Tensor | number | null => {
        const a = attr(ctx.node, name)?.f;
        if (a !== undefined) return a;
        const v = ins[i];
        if (!v) return null;
        if (v.t.size !== 1) ctx.fail(`input ${i} (${name}) has shape ${fmt(v.t.shape)}; expected a single value`);
        return reshape(sameFloat(x, v)[1], []);
      };
      const lo = bound(1, 'min'), hi = bound(2, 'max');
      let y = x.t;
      if (lo !== null) y = maximum(y, lo);
      if (hi !== null) y = minimum(y, hi);
      return [fl(y === x.t ? reshape(y, y.shape) : y, x.dt)];
    },
  },
  Softmax: softmaxLike(softmax),
  LogSoftmax: softmaxLike(logSoftmax),
  // Convolution, pooling, matrix products.
  Conv: { attrs: ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'], check: autoPadCheck, run: convRun },
  ConvTranspose: { attrs: ['auto_pad', 'dilations', 'group', 'kernel_shape', 'output_padding', 'output_shape', 'pads', 'strides'], check: autoPadCheck, run: convTransposeRun },
  MaxPool: {
    attrs: ['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'storage_order', 'strides'],
    check: autoPadCheck,
    run: poolRun('max'),
  },
  AveragePool: { attrs: ['auto_pad', 'ceil_mode', 'count_include_pad', 'kernel_shape', 'pads', 'strides', 'dilations'], check: autoPadCheck, run: poolRun('avg') },
  /** GlobalAveragePool / GlobalMaxPool: mean / max over every axis after N and C, kept as size 1. */
  GlobalAveragePool: { attrs: [], run: (ctx, ins) => { const x = floatIn(ctx, ins[0], 0); return [fl(mean(x.t, { axes: x.t.shape.map((_, i) => i).slice(2), keepDims: true }), x.dt)]; } },
  GlobalMaxPool: { attrs: [], run: (ctx, ins) => { const x = floatIn(ctx, ins[0], 0); return [fl(max(x.t, { axes: x.t.shape.map((_, i) => i).slice(2), keepDims: true }), x.dt)]; } },
  /** Gemm: Y = alpha op(A) op(B) + beta C, op = transpose when transA / transB, C broadcast to [M, N]. */
  Gemm: {
    attrs: ['alpha', 'beta', 'transA', 'transB', 'broadcast'],
    run: (ctx, ins) => {
      const n = ctx.node;
      const a = floatIn(ctx, ins[0], 0, 'A'), b = floatIn(ctx, ins[1], 1, 'B');
      const [at, bt] = sameFloat(a, b);
      if (at.rank !== 2 || bt.rank !== 2) ctx.fail(`A ${fmt(at.shape)} and B ${fmt(bt.shape)} must be matrices`);
      let y = matmul(at, bt, { transposeA: !!attrInt(n, 'transA', 0), transposeB: !!attrInt(n, 'transB', 0) });
      const alpha = attrFloat(n, 'alpha', 1), beta = attrFloat(n, 'beta', 1);
      if (alpha !== 1) y = mul(y, alpha);
      if (ins[2] && beta !== 0) {
        const c = sameFloat(a, floatIn(ctx, ins[2], 2, 'C'))[1];
        broadcastShape(ctx, y.shape, c.shape);
        y = add(y, beta === 1 ? c : mul(c, beta));
      }
      return [fl(y, a.dt)];
    },
  },
  /** MatMul: NumPy matmul (rank-1 operands promoted and the added axis dropped; batch axes broadcast). */
  MatMul: {
    attrs: [],
    run: (ctx, ins) => {
      const a = floatIn(ctx, ins[0], 0, 'A'), b = floatIn(ctx, ins[1], 1, 'B');
      let [at, bt] = sameFloat(a, b);
      const va = at.rank === 1, vb = bt.rank === 1;
      if (va) at = reshape(at, [1, at.shape[0]]);
      if (vb) bt = reshape(bt, [bt.shape[0], 1]);
      const [M, K] = at.shape.slice(-2), [K2, N] = bt.shape.slice(-2);
      if (K !== K2) ctx.fail(`inner sizes differ: A ${fmt(a.t.shape)}, B ${fmt(b.t.shape)}`);
      const batch = broadcastShape(ctx, at.shape.slice(0, -2), bt.shape.slice(0, -2));
      const B = prod(batch);
      const a3 = reshape(broadcastTo(at, [...batch, M, K]), [B, M, K]), b3 = reshape(broadcastTo(bt, [...batch, K, N]), [B, K, N]);
      let y = reshape(matmul(a3, b3), [...batch, M, N]);
      if (va) y = reshape(y, [...batch, N]);
      if (vb) y = reshape(y, y.shape.slice(0, -1));
      return [fl(y, a.dt)];
    },
  },
  // Normalisation.
  BatchNormalization: {
    attrs: ['epsilon', 'momentum', 'training_mode', 'spatial', 'is_test', 'consumed_inputs'],
    check: (n, opset) => {
      if (attrInt(n, 'spatial', 1) !== 1) return 'spatial = 0 (per-activation statistics) is not supported';
      if (opset < 7 && attrInt(n, 'is_test', 0) !== 1) return 'is_test = 0 (training statistics, the default before opset 7) is not supported';
      return null;
    },
    run: batchNormRun,
  },
  InstanceNormalization: { attrs: ['epsilon'], run: instanceNormRun },
  LayerNormalization: {
    attrs: ['axis', 'epsilon', 'stash_type'],
    check: (n) => (attrInt(n, 'stash_type', 1) !== 1 ? `stash_type ${attrInt(n, 'stash_type', 1)} is not supported (1, float32 statistics, is)` : null),
    run: layerNormRun,
  },
  LRN: { attrs: ['alpha', 'beta', 'bias', 'size'], run: lrnRun },
  /** Dropout at inference: identity, mask all true; training_mode with ratio > 0 (random) is refused. */
  Dropout: {
    attrs: ['ratio', 'seed', 'is_test'],
    run: (ctx, ins) => {
      const x = floatIn(ctx, ins[0], 0, 'data');
      const training = scalarIn(ctx, ins[2], 2, 'training_mode') ?? (ctx.opset < 7 && attrInt(ctx.node, 'is_test', 0) === 0 ? 1 : 0);
      const ratio = scalarIn(ctx, ins[1], 1, 'ratio') ?? attrFloat(ctx.node, 'ratio', 0.5);
      if (training && ratio > 0) {
        ctx.fail(`training_mode is true with ratio ${ratio}: the result is random (a drawn mask), which convkit does not reproduce; run the model in inference (training_mode false)`);
      }
      const out: GVal[] = [{ t: reshape(x.t, x.t.shape), dt: x.dt }];
      if (ctx.node.outputs[1]) out.push(mk(new Float64Array(x.t.size).fill(1), x.t.shape, T.BOOL));
      return out;
    },
  },
  // Shapes and data movement.
  Identity: { attrs: [], run: (ctx, ins) => [need(ctx, ins[0], 0, 'input')] },
  /** Flatten: [prod(shape[:axis]), prod(shape[axis:])], axis default 1. */
  Flatten: {
    attrs: ['axis'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input');
      const s = x.t.shape;
      let a = attrInt(ctx.node, 'axis', 1);
      if (a < 0) a += s.length;
      if (a < 0 || a > s.length) ctx.fail(`axis ${attrInt(ctx.node, 'axis', 1)} is out of range for rank ${s.length}`);
      return [{ t: reshape(x.t, [prod(s.slice(0, a)), prod(s.slice(a))]), dt: x.dt }];
    },
  },
  /** Reshape: 0 copies the input's size (unless allowzero), -1 is inferred. */
  Reshape: {
    attrs: ['allowzero', 'shape'],
    run: (ctx, ins) => {
      const spec = attr(ctx.node, 'shape')?.ints ?? intsIn(ctx, ins[1], 1, 'shape');
      if (!spec) ctx.fail('input 1 (shape) is missing');
      return [reshapeTo(ctx, need(ctx, ins[0], 0, 'data'), spec!, attrInt(ctx.node, 'allowzero', 0) === 1)];
    },
  },
  /** Transpose: perm, default reversed axes. */
  Transpose: {
    attrs: ['perm'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data');
      const p = attrInts(ctx.node, 'perm', x.t.shape.map((_, i) => x.t.rank - 1 - i));
      return [{ t: transpose(x.t, p), dt: x.dt }];
    },
  },
  /** Concat along axis (opset 1: default 1). */
  Concat: {
    attrs: ['axis'],
    run: (ctx, ins) => {
      const xs = ins.filter((v): v is GVal => !!v);
      if (!xs.length) ctx.fail('no inputs');
      const a = normAxis(ctx, attrInt(ctx.node, 'axis', ctx.opset < 4 ? 1 : NaN), xs[0].t.rank);
      const dts = new Set(xs.map((v) => v.t.dtype));
      const ts = dts.size > 1 ? xs.map((v) => (v.t.dtype === 'float64' ? v.t : cast(v.t, 'float64'))) : xs.map((v) => v.t);
      const nonEmpty = ts.filter((t) => t.shape[a] > 0);
      return [{ t: nonEmpty.length ? concat(nonEmpty, a) : ts[0], dt: xs[0].dt }];
    },
  },
  /** Split along axis: sizes from the 'split' attribute (< 13) or input 1, else equal parts, one per output. */
  Split: {
    attrs: ['axis', 'split'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input');
      const a = normAxis(ctx, attrInt(ctx.node, 'axis', 0), x.t.rank);
      const L = x.t.shape[a], k = ctx.node.outputs.length;
      const sizes = attr(ctx.node, 'split')?.ints ?? intsIn(ctx, ins[1], 1, 'split') ?? (L % k ? ctx.fail(`axis ${a} of size ${L} does not split into ${k} equal parts`) : new Array(k).fill(L / k));
      if (sizes.length !== k || sizes.reduce((p, q) => p + q, 0) !== L) ctx.fail(`split ${fmt(sizes)} does not cut axis ${a} of size ${L} into ${k} parts`);
      let at = 0;
      return sizes.map((sz) => {
        const t = take(x.t, Array.from({ length: sz }, (_, i) => i + at), a);
        at += sz;
        return { t, dt: x.dt };
      });
    },
  },
  /** Slice: starts, ends, axes, steps (attributes before opset 10, inputs after); out-of-range bounds are clamped. */
  Slice: {
    attrs: ['starts', 'ends', 'axes'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data');
      const n = ctx.node, r = x.t.rank;
      const starts = attr(n, 'starts')?.ints ?? intsIn(ctx, ins[1], 1, 'starts');
      const ends = attr(n, 'ends')?.ints ?? intsIn(ctx, ins[2], 2, 'ends');
      if (!starts || !ends || starts.length !== ends.length) ctx.fail('starts and ends are required, of one length');
      const axes = attr(n, 'axes')?.ints ?? intsIn(ctx, ins[3], 3, 'axes') ?? starts!.map((_, i) => i);
      const steps = intsIn(ctx, ins[4], 4, 'steps') ?? starts!.map(() => 1);
      let y = x.t;
      axes.forEach((a0, i) => {
        const a = normAxis(ctx, a0, r);
        if (steps[i] === 0) ctx.fail('a step of 0 is not allowed');
        y = take(y, sliceIndices(starts![i], ends![i], steps[i], y.shape[a]), a);
      });
      return [{ t: y === x.t ? reshape(y, y.shape) : y, dt: x.dt }];
    },
  },
  Pad: { attrs: ['mode', 'pads', 'value', 'paddings'], check: (n) => (['constant', 'reflect', 'edge'].includes(attrString(n, 'mode', 'constant')) ? null : `mode '${attrString(n, 'mode', '')}' is not supported (constant, reflect, edge are)`), run: padRun },
  Resize: { attrs: ['coordinate_transformation_mode', 'cubic_coeff_a', 'exclude_outside', 'extrapolation_value', 'mode', 'nearest_mode'], check: resizeCheck, run: resizeRun },
  Upsample: { attrs: ['mode', 'scales', 'height_scale', 'width_scale'], check: (n) => (attr(n, 'height_scale') || attr(n, 'width_scale') ? 'height_scale / width_scale (Upsample-1) are not supported' : resizeCheck(n)), run: resizeRun },
  /** Squeeze: drop the given axes (all size-1 axes when none), axes attribute (< 13) or input 1. */
  Squeeze: {
    attrs: ['axes'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data');
      const s = x.t.shape;
      const axes = (attr(ctx.node, 'axes')?.ints ?? intsIn(ctx, ins[1], 1, 'axes'))?.map((a) => normAxis(ctx, a, s.length)) ?? s.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
      for (const a of axes) if (s[a] !== 1) ctx.fail(`axis ${a} of ${fmt(s)} has size ${s[a]}, not 1`);
      return [{ t: reshape(x.t, s.filter((_, i) => !axes.includes(i))), dt: x.dt }];
    },
  },
  /** Unsqueeze: insert size-1 axes at the given positions of the output. */
  Unsqueeze: {
    attrs: ['axes'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data');
      const axes0 = attr(ctx.node, 'axes')?.ints ?? intsIn(ctx, ins[1], 1, 'axes');
      if (!axes0) ctx.fail('axes are required');
      const r = x.t.rank + axes0!.length;
      const axes = axes0!.map((a) => normAxis(ctx, a, r));
      const out: number[] = [];
      let k = 0;
      for (let i = 0; i < r; i++) out.push(axes.includes(i) ? 1 : x.t.shape[k++]);
      return [{ t: reshape(x.t, out), dt: x.dt }];
    },
  },
  /** Constant: the value of its one value* attribute. */
  Constant: {
    attrs: ['value', 'value_float', 'value_floats', 'value_int', 'value_ints'],
    check: (n) => (n.attributes.length !== 1 ? `expected exactly one value attribute, found ${n.attributes.map((a) => a.name).join(', ') || 'none'}` : null),
    run: (ctx) => {
      const a = ctx.node.attributes[0];
      switch (a.name) {
        case 'value': if (!SUPPORTED_DT.has(a.t!.dataType)) ctx.fail(`value of type ${onnxDtypeName(a.t!.dataType)} is not supported`); return [fromOnnxTensor(a.t!)];
        case 'value_float': return [mk([a.f ?? 0], [], T.FLOAT)];
        case 'value_floats': return [mk(a.floats ?? [], [(a.floats ?? []).length], T.FLOAT)];
        case 'value_int': return [mk([a.i ?? 0], [], T.INT64)];
        default: return [mk(a.ints ?? [], [(a.ints ?? []).length], T.INT64)];
      }
    },
  },
  ReduceMean: reduceOp('mean'),
  ReduceSum: reduceOp('sum'),
  ReduceMax: reduceOp('max'),
  ReduceMin: reduceOp('min'),
  ReduceL1: reduceOp('l1'),
  ReduceL2: reduceOp('l2'),
  ReduceSumSquare: reduceOp('sumSquare'),
  ReduceLogSum: reduceOp('logSum'),
  ReduceLogSumExp: reduceOp('logSumExp'),
  /** Shape: the input's shape as int64, optionally shape[start:end] (clamped). */
  Shape: {
    attrs: ['start', 'end'],
    run: (ctx, ins) => {
      const s = need(ctx, ins[0], 0, 'data').t.shape, r = s.length;
      const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
      const part = s.slice(clampIdx(attrInt(ctx.node, 'start', 0)), clampIdx(attrInt(ctx.node, 'end', r)));
      return [mk(part, [part.length], T.INT64)];
    },
  },
  /** Gather: data indexed along axis by integer indices (negative counts from the end); output data.shape[:axis] + indices.shape + data.shape[axis+1:]. */
  Gather: {
    attrs: ['axis'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data'), iv = need(ctx, ins[1], 1, 'indices');
      const a = normAxis(ctx, attrInt(ctx.node, 'axis', 0), x.t.rank), L = x.t.shape[a];
      const idx = intsIn(ctx, iv, 1, 'indices')!.map((v) => {
        if (v < -L || v >= L) ctx.fail(`index ${v} is out of range for axis ${a} of size ${L}`);
        return v < 0 ? v + L : v;
      });
      const g = gather(x.t, tensor(Int32Array.from(idx), [idx.length], 'int32'), a);
      const s = x.t.shape;
      return [{ t: reshape(g, [...s.slice(0, a), ...iv.t.shape, ...s.slice(a + 1)]), dt: x.dt }];
    },
  },
  /** Cast to `to`: float narrowing rounds, float to integer truncates, integers wrap to the target's width. */
  Cast: {
    attrs: ['to'],
    check: (n) => {
      const to = attr(n, 'to');
      if (to?.s !== undefined) return "a string 'to' (Cast-1) is not supported";
      return SUPPORTED_DT.has(to?.i ?? 0) ? null : `casting to ${onnxDtypeName(to?.i ?? 0)} is not supported (convkit holds numbers and bools)`;
    },
    run: (ctx, ins) => [castTo(ctx, need(ctx, ins[0], 0, 'input'), attrInt(ctx.node, 'to', 0))] },
  CastLike: { attrs: [], run: (ctx, ins) => [castTo(ctx, need(ctx, ins[0], 0, 'input'), need(ctx, ins[1], 1, 'target_type').dt)] },
  /** ConstantOfShape: a tensor of the given shape filled with `value` (default float 0). */
  ConstantOfShape: {
    attrs: ['value'],
    run: (ctx, ins) => {
      const shape = intsIn(ctx, need(ctx, ins[0], 0, 'input'), 0, 'input')!;
      const v = attr(ctx.node, 'value')?.t;
      if (v && !SUPPORTED_DT.has(v.dataType)) ctx.fail(`value of type ${onnxDtypeName(v.dataType)} is not supported`);
      return [mk(new Float64Array(prod(shape)).fill(v ? v.data[0] : 0), shape, v ? v.dataType : T.FLOAT)];
    },
  },
  /** Expand: broadcast input and shape together (NumPy rules; either may be larger). */
  Expand: {
    attrs: [],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input');
      const shape = broadcastShape(ctx, x.t.shape, intsIn(ctx, need(ctx, ins[1], 1, 'shape'), 1, 'shape')!);
      return [{ t: broadcastTo(x.t, shape), dt: x.dt }];
    },
  },
  /** Equal: elementwise A == B as bool. */
  Equal: {
    attrs: ['broadcast', 'axis'],
    check: legacyBroadcast,
    run: (ctx, ins) => {
      const a = need(ctx, ins[0], 0, 'A'), b = need(ctx, ins[1], 1, 'B');
      if (!isFloatDt(a.dt) || !isFloatDt(b.dt)) return [jsMap(ctx, [a, b], T.BOOL, (p, q) => (p === q ? 1 : 0))];
      const y = equal(...sameFloat(a, b));
      return [{ t: cast(y, 'int32'), dt: T.BOOL }];
    },
  },
  /** Where: condition ? X : Y, all three broadcast. */
  Where: {
    attrs: [],
    run: (ctx, ins) => {
      const c = need(ctx, ins[0], 0, 'condition'), x = need(ctx, ins[1], 1, 'X'), y = need(ctx, ins[2], 2, 'Y');
      if (!isFloatDt(x.dt)) return [jsMap(ctx, [c, x, y], x.dt, (p, q, r) => (p ? q : r))];
      const [xt, yt] = sameFloat(x, y);
      const shape = broadcastShape(ctx, broadcastShape(ctx, c.t.shape, xt.shape), yt.shape);
      return [fl(where(broadcastTo(c.t, shape), xt, yt), x.dt)];
    },
  },
  /** Range: start, start + delta, ... while < limit (> for negative delta); max(ceil((limit - start) / delta), 0) values. */
  Range: {
    attrs: [],
    run: (ctx, ins) => {
      const s = need(ctx, ins[0], 0, 'start');
      const [start, limit, delta] = [0, 1, 2].map((i) => scalarIn(ctx, ins[i], i, ['start', 'limit', 'delta'][i])!);
      const n = Math.max(Math.ceil((limit - start) / delta), 0);
      return [mk(Array.from({ length: n }, (_, i) => fitTo(start + i * delta, s.dt)), [n], s.dt)];
    },
  },
  // Comparisons and logic (bool out).
  Greater: compare(greater, (p, q) => p > q),
  Less: compare(less, (p, q) => p < q),
  GreaterOrEqual: compare(greaterEqual, (p, q) => p >= q),
  LessOrEqual: compare(lessEqual, (p, q) => p <= q),
  /** Not, And, Or, Xor on bool (int32 0/1) tensors, with ops (so that they run where the values were computed). */
  Not: { attrs: [], run: (ctx, ins) => [{ t: sub(1, boolIn(ctx, ins[0], 0)), dt: T.BOOL }] },
  And: logic((a, b) => mul(a, b)),
  Or: logic((a, b) => maximum(a, b)),
  Xor: logic((a, b) => abs(sub(a, b))),
  IsNaN: { attrs: [], run: (ctx, ins) => [jsMap(ctx, [floatIn(ctx, ins[0], 0)], T.BOOL, (p) => (Number.isNaN(p) ? 1 : 0))] },
  /** IsInf: +-Infinity, each sign unless detect_positive / detect_negative is 0. */
  IsInf: {
    attrs: ['detect_negative', 'detect_positive'],
    run: (ctx, ins) => {
      const neg = attrInt(ctx.node, 'detect_negative', 1), pos = attrInt(ctx.node, 'detect_positive', 1);
      return [jsMap(ctx, [floatIn(ctx, ins[0], 0)], T.BOOL, (p) => ((p === Infinity && pos) || (p === -Infinity && neg) ? 1 : 0))];
    },
  },
  // Variadic elementwise (NumPy broadcasting over every input).
  Max: variadic((a, b) => maximum(a, b), Math.max),
  Min: variadic((a, b) => minimum(a, b), Math.min),
  Sum: variadic((a, b) => add(a, b), (a, b) => a + b),
  /** Mean: the sum of the inputs over their count. */
  Mean: {
    attrs: [],
    run: (ctx, ins) => {
      const [y] = GRAPH_OPS.Sum.run(ctx, ins);
      return [fl(div(y!.t, ins.filter((v) => v).length), y!.dt)];
    },
  },
  /** Mod: fmod = 0 takes the divisor's sign (integers only, Python's %), fmod = 1 the dividend's (C fmod). */
  Mod: {
    attrs: ['fmod'],
    run: (ctx, ins) => {
      const a = need(ctx, ins[0], 0, 'A'), b = need(ctx, ins[1], 1, 'B');
      const f = attrInt(ctx.node, 'fmod', 0);
      if (isFloatDt(a.dt) && !f) ctx.fail('fmod = 0 on floating-point inputs is invalid (ONNX requires fmod = 1)');
      if (isFloatDt(a.dt)) {
        // a - b trunc(a / b) with ops, so that gradients flow (d/da = 1, d/db = -trunc(a / b)).
        const [x, y] = sameFloat(a, b);
        const q = div(x, y);
        return [fl(sub(x, mul(y, mul(sign(q), floor(abs(q))))), a.dt)];
      }
      return [jsMap(ctx, [a, b], a.dt, (p, q) => {
        if (q === 0) return isFloatDt(a.dt) ? NaN : 0;
        const r = p % q;
        return f || r === 0 || (r < 0) === (q < 0) ? r : r + q;
      })];
    },
  },
  Floor: unaryF((x) => floor(x)),
  Ceil: unaryF((x) => neg(floor(neg(x)))),
  Sign: unaryF((x) => sign(x), [], Math.sign),
  Sin: unaryF((x) => sin(x)),
  Cos: unaryF((x) => cos(x)),
  Tan: unaryF((x) => div(sin(x), cos(x))),
  /** Softsign: x / (1 + |x|). */
  Softsign: unaryF((x) => div(x, affine(abs(x), 1, 1))),
  /** ThresholdedRelu: x > alpha ? x : 0 (alpha 1). */
  ThresholdedRelu: unaryF((x, n) => mul(x, greater(x, attrFloat(n, 'alpha', 1))), ['alpha']),
  /** Celu: max(0, x) + min(0, alpha (exp(x / alpha) - 1)) (alpha 1). */
  Celu: unaryF((x, n) => { const a = attrFloat(n, 'alpha', 1); return add(relu(x), mul(expm1(div(minimum(x, 0), a)), a)); }, ['alpha']),
  /** Shrink: x < -lambd ? x + bias : x > lambd ? x - bias : 0 (lambd 0.5, bias 0). */
  Shrink: unaryF((x, n) => {
    const l = attrFloat(n, 'lambd', 0.5), b = attrFloat(n, 'bias', 0);
    return add(mul(affine(x, 1, b), less(x, -l)), mul(affine(x, 1, -b), greater(x, l)));
  }, ['lambd', 'bias']),
  /** ArgMax / ArgMin along axis (keepdims 1); ties: the first index, or the last with select_last_index. */
  ArgMax: argExtreme(1),
  ArgMin: argExtreme(-1),
  /** Size: the element count, an int64 scalar. */
  Size: { attrs: [], run: (ctx, ins) => [mk([need(ctx, ins[0], 0, 'data').t.size], [], T.INT64)] },
  /** Tile: each axis repeated repeats[i] times. */
  Tile: {
    attrs: [],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input');
      const reps = intsIn(ctx, need(ctx, ins[1], 1, 'repeats'), 1, 'repeats')!;
      if (reps.length !== x.t.rank || reps.some((r) => r < 0)) ctx.fail(`repeats ${fmt(reps)} must hold ${x.t.rank} non-negative counts`);
      let y = x.t;
      reps.forEach((r, a) => { y = take(y, Array.from({ length: r * y.shape[a] }, (_, i) => i % y.shape[a]), a); });
      return [{ t: y === x.t ? reshape(y, y.shape) : y, dt: x.dt }];
    },
  },
  /** DepthToSpace: [N, C, H, W] -> [N, C / b^2, H b, W b]; DCR (default) or CRD channel order. */
  DepthToSpace: {
    attrs: ['blocksize', 'mode'],
    check: (n) => (['DCR', 'CRD'].includes(attrString(n, 'mode', 'DCR')) ? null : `mode '${attrString(n, 'mode', '')}' is not supported (DCR, CRD are)`),
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input'), b = attrInt(ctx.node, 'blocksize', 0);
      if (x.t.rank !== 4 || b < 1 || x.t.shape[1] % (b * b)) ctx.fail(`input ${fmt(x.t.shape)} and blocksize ${b}: expected [N, C, H, W] with C divisible by blocksize^2`);
      const [N, C, H, W] = x.t.shape, c = C / (b * b);
      const dcr = attrString(ctx.node, 'mode', 'DCR') === 'DCR';
      const t = dcr ? transpose(reshape(x.t, [N, b, b, c, H, W]), [0, 3, 4, 1, 5, 2]) : transpose(reshape(x.t, [N, c, b, b, H, W]), [0, 1, 4, 2, 5, 3]);
      return [{ t: reshape(t, [N, c, H * b, W * b]), dt: x.dt }];
    },
  },
  /** SpaceToDepth: [N, C, H, W] -> [N, C b^2, H / b, W / b] (the inverse of DCR DepthToSpace). */
  SpaceToDepth: {
    attrs: ['blocksize'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input'), b = attrInt(ctx.node, 'blocksize', 0);
      if (x.t.rank !== 4 || b < 1 || x.t.shape[2] % b || x.t.shape[3] % b) ctx.fail(`input ${fmt(x.t.shape)} and blocksize ${b}: expected [N, C, H, W] with H and W divisible by blocksize`);
      const [N, C, H, W] = x.t.shape;
      const t = transpose(reshape(x.t, [N, C, H / b, b, W / b, b]), [0, 3, 5, 1, 2, 4]);
      return [{ t: reshape(t, [N, C * b * b, H / b, W / b]), dt: x.dt }];
    },
  },
  /** GatherElements: out[i][j]... = data[...index...] with the index replacing the coordinate on axis. */
  GatherElements: {
    attrs: ['axis'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data'), iv = need(ctx, ins[1], 1, 'indices');
      const r = x.t.rank, a = normAxis(ctx, attrInt(ctx.node, 'axis', 0), r);
      const idx = intsIn(ctx, iv, 1, 'indices')!, is = iv.t.shape, xs = x.t.shape;
      if (is.length !== r) ctx.fail(`indices of shape ${fmt(is)} must have data's rank ${r}`);
      const xst = xs.map((_, i) => prod(xs.slice(i + 1)));
      const flat = new Int32Array(idx.length), pos = new Array<number>(r).fill(0);
      for (let k = 0; k < idx.length; k++) {
        let v = idx[k];
        if (v < -xs[a] || v >= xs[a]) ctx.fail(`index ${v} is out of range for axis ${a} of size ${xs[a]}`);
        if (v < 0) v += xs[a];
        let f = 0;
        for (let i = 0; i < r; i++) f += (i === a ? v : pos[i]) * xst[i];
        flat[k] = f;
        for (let i = r - 1; i >= 0; i--) { if (++pos[i] < is[i]) break; pos[i] = 0; }
      }
      return [{ t: reshape(gather(reshape(x.t, [x.t.size]), tensor(flat, [flat.length], 'int32'), 0), is), dt: x.dt }];
    },
  },
  /** Trilu: keep the upper (upper = 1, default) or lower triangle of the last two axes, shifted by diagonal k (input 1). */
  Trilu: {
    attrs: ['upper'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input');
      const k = scalarIn(ctx, ins[1], 1, 'k') ?? 0, upper = attrInt(ctx.node, 'upper', 1) === 1;
      const [R, Cn] = x.t.shape.slice(-2);
      const mask = Array.from({ length: R * Cn }, (_, i) => { const d = (i % Cn) - Math.floor(i / Cn); return (upper ? d >= k : d <= k) ? 1 : 0; });
      if (!isFloatDt(x.dt)) return [jsMap(ctx, [x, mk(mask, [R, Cn], T.INT32)], x.dt, (p, m) => (m ? p : 0))];
      return [fl(mul(x.t, tensor(x.t.dtype === 'float64' ? Float64Array.from(mask) : Float32Array.from(mask), [R, Cn], x.t.dtype)), x.dt)];
    },
  },
  /** Round: to the nearest integer, halves to even (no gradient: the derivative is 0 almost everywhere). */
  Round: unaryF((x) => mapValues(x, (v) => { const r = Math.round(v); return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r; })),
  Asin: unaryF((x) => mapGrad(x, Math.asin, (t) => reciprocal(sqrt(affine(mul(t, t), -1, 1))))),
  Acos: unaryF((x) => mapGrad(x, Math.acos, (t) => neg(reciprocal(sqrt(affine(mul(t, t), -1, 1)))))),
  Atan: unaryF((x) => mapGrad(x, Math.atan, (t) => reciprocal(affine(mul(t, t), 1, 1)))),
  Sinh: unaryF((x) => mul(sub(exp(x), exp(neg(x))), 0.5)),
  Cosh: unaryF((x) => mul(add(exp(x), exp(neg(x))), 0.5)),
  Asinh: unaryF((x) => mapGrad(x, Math.asinh, (t) => reciprocal(sqrt(affine(mul(t, t), 1, 1))))),
  Acosh: unaryF((x) => mapGrad(x, Math.acosh, (t) => reciprocal(sqrt(affine(mul(t, t), 1, -1))))),
  Atanh: unaryF((x) => mapGrad(x, Math.atanh, (t) => reciprocal(affine(mul(t, t), -1, 1)))),
  /** Hardmax: 1 at the first maximum along axis (opset < 13: of the input coerced to 2-D at axis), 0 elsewhere. */
  Hardmax: softmaxLike((x, axis) => {
    const s = x.shape, v = x.dataSync(), L = s[axis], st = prod(s.slice(axis + 1)), outer = prod(s.slice(0, axis));
    const out = new Float64Array(v.length);
    for (let o = 0; o < outer; o++) for (let j = 0; j < st; j++) {
      let best = 0;
      for (let i = 1; i < L; i++) if (v[(o * L + i) * st + j] > v[(o * L + best) * st + j]) best = i;
      out[(o * L + best) * st + j] = 1;
    }
    return tensor(x.dtype === 'float64' ? out : Float32Array.from(out), [...s], x.dtype);
  }),
  /** OneHot(indices, depth, values [off, on]): on at index (negative counts from depth) along axis (default -1, a new axis), off elsewhere. */
  OneHot: {
    attrs: ['axis'],
    run: (ctx, ins) => {
      const idx = nums(need(ctx, ins[0], 0, 'indices')).map(Math.trunc); // any numeric type, cast to int
      const depth = Math.trunc(scalarIn(ctx, need(ctx, ins[1], 1, 'depth'), 1, 'depth')!);
      const vals = need(ctx, ins[2], 2, 'values');
      if (vals.t.size !== 2) ctx.fail(`values has ${vals.t.size} entries; expected 2 (off, on)`);
      const ishape = ins[0]!.t.shape, r = ishape.length + 1, a = normAxis(ctx, attrInt(ctx.node, 'axis', -1), r);
      const shape = [...ishape.slice(0, a), depth, ...ishape.slice(a)];
      const st = prod(ishape.slice(a)), mask = new Float64Array(prod(shape));
      idx.forEach((v, i) => {
        const k = v < 0 ? v + depth : v;
        if (k >= 0 && k < depth) mask[(Math.floor(i / st) * depth + k) * st + (i % st)] = 1;
      });
      const m = mk(mask, shape, T.BOOL);
      if (!isFloatDt(vals.dt)) { const [off, on] = nums(vals); return [jsMap(ctx, [m], vals.dt, (p) => (p ? on : off))]; }
      const flat = reshape(vals.t, [2]);
      return [fl(where(m.t, reshape(slice(flat, [1], [1]), []), reshape(slice(flat, [0], [1]), [])), vals.dt)];
    },
  },
  /** EyeLike: ones on diagonal k of a 2-D tensor shaped like the input (dtype: the attribute, else the input's). */
  EyeLike: {
    attrs: ['dtype', 'k'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input');
      if (x.t.rank !== 2) ctx.fail(`input of shape ${fmt(x.t.shape)}: expected a 2-D tensor`);
      const [R, Cn] = x.t.shape, k = attrInt(ctx.node, 'k', 0), dt = attrInt(ctx.node, 'dtype', x.dt);
      if (!SUPPORTED_DT.has(dt)) ctx.fail(`dtype ${onnxDtypeName(dt)} is not supported`);
      return [mk(Array.from({ length: R * Cn }, (_, i) => ((i % Cn) - Math.floor(i / Cn) === k ? 1 : 0)), [R, Cn], dt)];
    },
  },
  /** NonZero: the indices of the non-zero elements, [rank, count] int64 (row-major order). */
  NonZero: {
    attrs: [],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'X'), v = nums(x), s = x.t.shape;
      const at: number[] = [];
      v.forEach((e, i) => { if (e) at.push(i); });
      const out = new Float64Array(s.length * at.length);
      at.forEach((f, j) => { for (let d = s.length - 1; d >= 0; d--) { out[d * at.length + j] = f % s[d]; f = Math.floor(f / s[d]); } });
      return [mk(out, [s.length, at.length], T.INT64)];
    },
  },
  /** TopK(X, K): the K largest (or smallest) values along axis and their indices, sorted (ties: the lower index first). */
  TopK: {
    attrs: ['axis', 'largest', 'sorted'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'X'), s = x.t.shape;
      const a = normAxis(ctx, attrInt(ctx.node, 'axis', -1), s.length), K = intsIn(ctx, need(ctx, ins[1], 1, 'K'), 1, 'K')![0];
      const largest = attrInt(ctx.node, 'largest', 1) === 1, L = s[a];
      if (K < 0 || K > L) ctx.fail(`K = ${K} is out of range for axis ${a} of size ${L}`);
      const v = nums(x), st = prod(s.slice(a + 1)), outer = prod(s.slice(0, a));
      const flat = new Int32Array(outer * K * st), ind = new Float64Array(outer * K * st);
      for (let o = 0; o < outer; o++) for (let j = 0; j < st; j++) {
        const order = Array.from({ length: L }, (_, i) => i).sort((p, q) => {
          const d = v[(o * L + q) * st + j] - v[(o * L + p) * st + j];
          return (largest ? d : -d) || p - q;
        });
        for (let k = 0; k < K; k++) { const at = (o * K + k) * st + j; ind[at] = order[k]; flat[at] = (o * L + order[k]) * st + j; }
      }
      const oshape = s.map((d, i) => (i === a ? K : d));
      const vals = reshape(gather(reshape(x.t, [x.t.size]), tensor(flat, [flat.length], 'int32'), 0), oshape);
      return [{ t: vals, dt: x.dt }, mk(ind, oshape, T.INT64)];
    },
  },
  /** GatherND(data, indices, batch_dims): indices' last axis indexes the leading axes of data (after batch_dims). */
  GatherND: {
    attrs: ['batch_dims'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data'), iv = need(ctx, ins[1], 1, 'indices');
      const b = attrInt(ctx.node, 'batch_dims', 0), ds = x.t.shape, is = iv.t.shape, q = is[is.length - 1];
      if (b + q > ds.length) ctx.fail(`indices tuples of length ${q} after ${b} batch axes exceed data's rank ${ds.length}`);
      const idx = intsIn(ctx, iv, 1, 'indices')!, inner = prod(ds.slice(b + q)), B = prod(ds.slice(0, b));
      const tuples = idx.length / q, perBatch = tuples / B, bStride = prod(ds.slice(b));
      const flat: number[] = [];
      for (let t = 0; t < tuples; t++) {
        let f = Math.floor(t / perBatch) * bStride;
        for (let k = 0; k < q; k++) {
          const dim = ds[b + k]; let e = idx[t * q + k];
          if (e < -dim || e >= dim) ctx.fail(`index ${e} is out of range for axis ${b + k} of size ${dim}`);
          if (e < 0) e += dim;
          f += e * prod(ds.slice(b + k + 1));
        }
        for (let i = 0; i < inner; i++) flat.push(f + i);
      }
      const g = gather(reshape(x.t, [x.t.size]), tensor(Int32Array.from(flat), [flat.length], 'int32'), 0);
      return [{ t: reshape(g, [...is.slice(0, -1), ...ds.slice(b + q)]), dt: x.dt }];
    },
  },
  ScatterElements: scatterElements(),
  Scatter: scatterElements(),
  /** ScatterND(data, indices, updates): data with the slices indices' tuples name replaced by updates (reduction 'none'). */
  ScatterND: {
    attrs: ['reduction'],
    check: (n) => (attrString(n, 'reduction', 'none') !== 'none' ? `reduction '${attrString(n, 'reduction', '')}' is not supported (none is)` : null),
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data'), iv = need(ctx, ins[1], 1, 'indices'), u = need(ctx, ins[2], 2, 'updates');
      const ds = x.t.shape, is = iv.t.shape, q = is[is.length - 1], idx = intsIn(ctx, iv, 1, 'indices')!, inner = prod(ds.slice(q));
      const writer = new Int32Array(x.t.size).fill(-1);
      for (let t = 0; t < idx.length / q; t++) {
        let f = 0;
        for (let k = 0; k < q; k++) { let e = idx[t * q + k]; if (e < 0) e += ds[k]; if (e < 0 || e >= ds[k]) ctx.fail(`index ${idx[t * q + k]} is out of range for axis ${k} of size ${ds[k]}`); f += e * prod(ds.slice(k + 1)); }
        for (let i = 0; i < inner; i++) writer[f + i] = t * inner + i;
      }
      return [scatterBy(x, u, writer)];
    },
  },
  /** Compress: the slices along axis (the flattened input when no axis) where condition is true. */
  Compress: {
    attrs: ['axis'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input'), cond = intsIn(ctx, need(ctx, ins[1], 1, 'condition'), 1, 'condition')!;
      const ax = attr(ctx.node, 'axis')?.i;
      const t = ax === undefined ? reshape(x.t, [x.t.size]) : x.t;
      const a = ax === undefined ? 0 : normAxis(ctx, ax, x.t.rank);
      if (cond.length > t.shape[a]) ctx.fail(`condition has ${cond.length} entries; axis ${a} has ${t.shape[a]}`);
      return [{ t: take(t, cond.map((c, i) => (c ? i : -1)).filter((i) => i >= 0), a), dt: x.dt }];
    },
  },
  /** NegativeLogLikelihoodLoss(input [N, C, d...], target [N, d...], weight [C]?); see nll. */
  NegativeLogLikelihoodLoss: {
    attrs: ['reduction', 'ignore_index'],
    run: (ctx, ins) => {
      const x = floatIn(ctx, ins[0], 0, 'input');
      const w = ins[2] ? sameFloat(x, floatIn(ctx, ins[2], 2, 'weight'))[1] : null;
      return [fl(nll(ctx, x.t, need(ctx, ins[1], 1, 'target'), w), x.dt)];
    },
  },
  /** SoftmaxCrossEntropyLoss: log_prob = LogSoftmax over axis 1, loss = NegativeLogLikelihoodLoss(log_prob, labels, weights). */
  SoftmaxCrossEntropyLoss: {
    attrs: ['reduction', 'ignore_index'],
    run: (ctx, ins) => {
      const x = floatIn(ctx, ins[0], 0, 'scores');
      if (x.t.rank < 2) ctx.fail(`scores of shape ${fmt(x.t.shape)}: expected [N, C, d...]`);
      const lp = logSoftmax(x.t, 1);
      const w = ins[2] ? sameFloat(x, floatIn(ctx, ins[2], 2, 'weights'))[1] : null;
      return [fl(nll(ctx, lp, need(ctx, ins[1], 1, 'labels'), w), x.dt), fl(lp, x.dt)];
    },
  },
  /** CumSum along axis (input 1): a product with a triangular matrix of ones; exclusive and reverse move its diagonal and direction. */
  CumSum: {
    attrs: ['exclusive', 'reverse'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'x');
      const a = normAxis(ctx, scalarIn(ctx, need(ctx, ins[1], 1, 'axis'), 1, 'axis')!, x.t.rank);
      const ex = attrInt(ctx.node, 'exclusive', 0) === 1, rev = attrInt(ctx.node, 'reverse', 0) === 1;
      const L = x.t.shape[a];
      // out[j] = sum over i of x[i] m[i][j]; m[i][j] = 1 when i <= j (forward) or i >= j (reverse), strictly when exclusive.
      const m = Array.from({ length: L * L }, (_, q) => { const i = Math.floor(q / L), j = q % L; return (rev ? (ex ? i > j : i >= j) : ex ? i < j : i <= j) ? 1 : 0; });
      if (!isFloatDt(x.dt)) {
        const v = nums(x), st = prod(x.t.shape.slice(a + 1)), out = new Float64Array(v.length);
        for (let o = 0; o < v.length; o++) {
          const j = Math.floor(o / st) % L, base = o - j * st;
          for (let i = 0; i < L; i++) if (m[i * L + j]) out[o] += v[base + i * st];
        }
        return [mk(out, x.t.shape, x.dt)];
      }
      const perm = [...x.t.shape.keys()].filter((i) => i !== a).concat(a);
      const xt = transpose(x.t, perm), lead = xt.shape.slice(0, -1);
      const y = matmul(reshape(xt, [prod(lead), L]), tensor(x.t.dtype === 'float64' ? Float64Array.from(m) : Float32Array.from(m), [L, L], x.t.dtype));
      return [fl(transpose(reshape(y, [...lead, L]), perm.map((_, i) => perm.indexOf(i))), x.dt)];
    },
  },
};

/**
 * Negative log likelihood of log-probabilities x [N, C, d...] at integer targets [N, d...]:
 * loss = -x[n, t, d] w[t] (w = weight, or 1), 0 where t = ignore_index; reduction 'none', 'sum',
 * or 'mean' (the sum over the sum of the weights taken, ignored entries excluded).
 */
function nll(ctx: GCtx, x: Tensor, target: GVal, weight: Tensor | null): Tensor {
  const n = ctx.node;
  const reduction = attrString(n, 'reduction', 'mean');
  if (!['none', 'sum', 'mean'].includes(reduction)) ctx.fail(`reduction '${reduction}' is not supported (none, sum, mean are)`);
  const ignore = attr(n, 'ignore_index')?.i;
  const [N, C] = x.shape, D = prod(x.shape.slice(2));
  const t = intsIn(ctx, target, 1, 'target')!;
  if (t.length !== N * D) ctx.fail(`target has ${t.length} values; expected ${N * D} (shape [N, d...] of input [N, C, d...])`);
  const flat = new Int32Array(t.length), cls = new Int32Array(t.length), keep = new Float64Array(t.length);
  t.forEach((c, i) => {
    const skip = ignore !== undefined && c === ignore;
    if (!skip && (c < 0 || c >= C)) ctx.fail(`target value ${c} is out of range [0, ${C})`);
    const cc = skip ? 0 : c, nn = Math.floor(i / D), d = i % D;
    flat[i] = (nn * C + cc) * D + d;
    cls[i] = cc;
    keep[i] = skip ? 0 : 1;
  });
  const f = (a: ArrayLike<number>) => tensor(x.dtype === 'float64' ? Float64Array.from(a) : Float32Array.from(a), [t.length], x.dtype);
  const picked = gather(reshape(x, [x.size]), tensor(flat, [flat.length], 'int32'), 0);
  let w = f(keep);
  if (weight) w = mul(w, gather(weight, tensor(cls, [cls.length], 'int32'), 0));
  const loss = neg(mul(picked, w));
  if (reduction === 'none') return reshape(loss, target.t.shape);
  if (reduction === 'sum') return sum(loss);
  return div(sum(loss), sum(w));
}

/** A float map computed on the host with no gradient (for functions whose derivative is 0 almost everywhere). */
function mapValues(x: Tensor, f: (v: number) => number): Tensor {
  const v = x.dataSync() as ArrayLike<number>;
  return tensor(x.dtype === 'float64' ? Float64Array.from(v, f) : Float32Array.from(v, f), [...x.shape], x.dtype);
}
/** A float map computed on the host, with its derivative df(x) (written with ops) recorded for the gradient. */
function mapGrad(x: Tensor, f: (v: number) => number, df: (x: Tensor) => Tensor): Tensor {
  return record('map', [x], mapValues(x, f), (dy) => [mul(dy, df(x))]);
}
/** data with the elements that `writer` names (>= 0: a flat index into updates) replaced; gradients reach both. */
function scatterBy(x: GVal, u: GVal, writer: Int32Array): GVal {
  const hit = Array.from(writer, (w) => (w >= 0 ? 1 : 0));
  const from = Int32Array.from(writer, (w) => Math.max(w, 0));
  if (!isFloatDt(x.dt)) {
    const dv = nums(x), uv = nums(u);
    return mk(dv.map((v, i) => (hit[i] ? uv[from[i]] : v)), x.t.shape, x.dt);
  }
  const [dt, ut] = sameFloat(x, u);
  const g = reshape(gather(reshape(ut, [ut.size]), tensor(from, [from.length], 'int32'), 0), dt.shape);
  return fl(where(mk(hit, dt.shape, T.BOOL).t, g, dt), x.dt);
}
/** ScatterElements / Scatter(data, indices, updates, axis): data[..., indices[i...], ...] = updates[i...] (reduction 'none'). */
function scatterElements(): GraphOp {
  return {
    attrs: ['axis', 'reduction'],
    check: (n) => (attrString(n, 'reduction', 'none') !== 'none' ? `reduction '${attrString(n, 'reduction', '')}' is not supported (none is)` : null),
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data'), iv = need(ctx, ins[1], 1, 'indices'), u = need(ctx, ins[2], 2, 'updates');
      const ds = x.t.shape, is = iv.t.shape, r = ds.length, a = normAxis(ctx, attrInt(ctx.node, 'axis', 0), r);
      const idx = intsIn(ctx, iv, 1, 'indices')!, dst = ds.map((_, i) => prod(ds.slice(i + 1)));
      const writer = new Int32Array(x.t.size).fill(-1), pos = new Array<number>(r).fill(0);
      for (let k = 0; k < idx.length; k++) {
        let e = idx[k];
        if (e < -ds[a] || e >= ds[a]) ctx.fail(`index ${e} is out of range for axis ${a} of size ${ds[a]}`);
        if (e < 0) e += ds[a];
        let f = 0;
        for (let i = 0; i < r; i++) f += (i === a ? e : pos[i]) * dst[i];
        writer[f] = k;
        for (let i = r - 1; i >= 0; i--) { if (++pos[i] < is[i]) break; pos[i] = 0; }
      }
      return [scatterBy(x, u, writer)];
    },
  };
}

function compare(opF: (a: Tensor, b: Tensor) => Tensor, opI: (a: number, b: number) => boolean): GraphOp {
  return {
    attrs: ['broadcast', 'axis'],
    check: legacyBroadcast,
    run: (ctx, ins) => {
      const a = need(ctx, ins[0], 0, 'A'), b = need(ctx, ins[1], 1, 'B');
      if (!isFloatDt(a.dt) || !isFloatDt(b.dt)) return [jsMap(ctx, [a, b], T.BOOL, (p, q) => (opI(p, q) ? 1 : 0))];
      return [{ t: cast(opF(...sameFloat(a, b)), 'int32'), dt: T.BOOL }];
    },
  };
}
function boolIn(ctx: GCtx, v: GVal | undefined, i: number): Tensor {
  const x = need(ctx, v, i, i ? 'B' : 'A');
  if (x.dt !== T.BOOL) ctx.fail(`input ${i} has element type ${onnxDtypeName(x.dt)}; expected bool`);
  return x.t.dtype === 'int32' ? x.t : cast(x.t, 'int32');
}
function logic(f: (a: Tensor, b: Tensor) => Tensor): GraphOp {
  return {
    attrs: ['broadcast', 'axis'],
    check: legacyBroadcast,
    run: (ctx, ins) => {
      const a = boolIn(ctx, ins[0], 0), b = boolIn(ctx, ins[1], 1);
      broadcastShape(ctx, a.shape, b.shape);
      return [{ t: f(a, b), dt: T.BOOL }];
    },
  };
}
function variadic(opF: (a: Tensor, b: Tensor) => Tensor, opI: (a: number, b: number) => number): GraphOp {
  return {
    attrs: ['consumed_inputs'],
    run: (ctx, ins) => {
      const xs = ins.filter((v): v is GVal => !!v);
      if (!xs.length) ctx.fail('no inputs');
      if (!isFloatDt(xs[0].dt)) return [xs.slice(1).reduce((acc, v) => jsMap(ctx, [acc, v], xs[0].dt, opI), xs[0])];
      let y = xs[0].t;
      for (const v of xs.slice(1)) {
        broadcastShape(ctx, y.shape, v.t.shape);
        y = opF(...sameFloat({ t: y, dt: xs[0].dt }, v));
      }
      return [fl(xs.length === 1 ? reshape(y, y.shape) : y, xs[0].dt)];
    },
  };
}
/** ArgMax (dir 1) / ArgMin (dir -1) as int64. */
function argExtreme(dir: 1 | -1): GraphOp {
  return {
    attrs: ['axis', 'keepdims', 'select_last_index'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data');
      const s = x.t.shape, a = normAxis(ctx, attrInt(ctx.node, 'axis', 0), s.length);
      const last = attrInt(ctx.node, 'select_last_index', 0) === 1;
      const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
      if (isFloatDt(x.dt) && x.host === undefined) {
        // Computed floats: the reduction op (first index at ties; the last: reversed, then counted back).
        const f = dir === 1 ? argMax : argMin;
        const i = last ? sub(s[a] - 1, f(reverse(x.t, [a]), a, keep)) : f(x.t, a, keep);
        return [{ t: i, dt: T.INT64 }];
      }
      const v = nums(x), L = s[a], st = prod(s.slice(a + 1)), outer = prod(s.slice(0, a));
      const out = new Float64Array(outer * st);
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < st; j++) {
          let best = 0;
          for (let i = 1; i < L; i++) {
            const c = v[(o * L + i) * st + j] * dir, b = v[(o * L + best) * st + j] * dir;
            if (c > b || (last && c === b)) best = i;
          }
          out[o * st + j] = best;
        }
      }
      const shape = attrInt(ctx.node, 'keepdims', 1) ? s.map((d, i) => (i === a ? 1 : d)) : s.filter((_, i) => i !== a);
      return [mk(out, shape, T.INT64)];
    },
  };
}

/**
 * Ops whose semantics at opset 1-6 are those implemented here (legacy attributes handled:
 * consumed_inputs is an optimisation hint, is_test, attribute forms of Slice/Pad/Split/
 * Squeeze/Unsqueeze/Reduce/Clip). An op missing here is refused in a file of opset < 7.
 */
export const OLD_OPSET_OK = new Set([
  'Abs', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Neg', 'Exp', 'Log', 'Reciprocal', 'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Sigmoid',
  'HardSigmoid', 'Tanh', 'Softplus', 'Softmax', 'LogSoftmax', 'Clip', 'Conv', 'ConvTranspose', 'AveragePool', 'MaxPool', 'GlobalAveragePool',
  'GlobalMaxPool', 'InstanceNormalization', 'LRN', 'Identity', 'Flatten', 'Reshape', 'Transpose', 'Concat', 'Split', 'Slice', 'Pad',
  'Squeeze', 'Unsqueeze', 'Constant', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'Shape', 'Gather', 'Cast', 'MatMul', 'Gemm', 'Dropout', 'BatchNormalization',
  'Not', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less', 'Softsign', 'Floor', 'Ceil', 'Max', 'Min', 'Sum', 'Mean', 'ArgMax', 'ArgMin', 'ReduceMin',
  'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp', 'Size', 'DepthToSpace', 'SpaceToDepth', 'Hardmax',
]);

// ---------------------------------------------------------------- what the interpreter refuses

export const nodeLabel = (n: OnnxNode): string => `node '${n.name}' (${n.opType})`;

/**
 * Why the interpreter cannot run a node of a file of `opset` (null when it can). Also used by
 * the layer import for files of opset 1 to 6: an operator is accepted there only when its
 * semantics have not changed since (legacy attributes aside).
 */
export function graphNodeProblem(n: OnnxNode, opset: number): string | null {
  if (n.domain !== '' && n.domain !== 'ai.onnx') return `operator domain '${n.domain}' is not supported (only the default ONNX domain is)`;
  if (n.opType === 'If') {
    // If: the branch the condition picks runs when the node runs; both are checked here.
    const bad = n.attributes.filter((a) => a.name !== 'then_branch' && a.name !== 'else_branch').map((a) => `attribute '${a.name}' is not supported`);
    for (const b of ['then_branch', 'else_branch']) {
      const g = attr(n, b)?.g;
      if (!g) { bad.push(`${b} (a graph) is required`); continue; }
      if (g.outputs.length !== n.outputs.length) bad.push(`${b} has ${g.outputs.length} outputs; the If has ${n.outputs.length}`);
      for (const m of g.nodes) {
        const why = graphNodeProblem(m, opset);
        if (why) bad.push(`${b}: ${nodeLabel(m)}: ${why}`);
      }
      for (const t of g.initializers) if (!SUPPORTED_DT.has(t.dataType)) bad.push(`${b}: initializer '${t.name}' has element type ${onnxDtypeName(t.dataType)}`);
    }
    return bad.length ? bad.join('; ') : null;
  }
  const op = GRAPH_OPS[n.opType];
  if (!op) return `operator ${n.opType} is not supported by the graph interpreter`;
  if (n.attributes.some((a) => a.hasGraph)) return 'subgraph attributes are not supported';
  if (opset < 7) {
    const old = legacyProblem(n, opset);
    if (old) return old;
  }
  const unknown = n.attributes.filter((a) => !op.attrs.includes(a.name)).map((a) => `'${a.name}'`);
  if (unknown.length) return `attribute${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not supported`;
  return op.check?.(n, opset) ?? null;
}

/** Files of opset < 7: operators whose semantics changed since are refused by name. */
export function legacyProblem(n: OnnxNode, opset: number, layers = false): string | null {
  if (!OLD_OPSET_OK.has(n.opType)) return `${n.opType} at opset ${opset} has semantics convkit does not implement (it changed at opset 7 or later); re-export with opset >= 7`;
  const a = (name: string) => n.attributes.find((x) => x.name === name);
  if (a('broadcast')?.i === 1 && a('axis')) return "attribute 'axis' (opset < 7 broadcasting aligned at an axis) is not supported; re-export with opset >= 7";
  if ((n.opType === 'BatchNormalization' || n.opType === 'Dropout') && (a('is_test')?.i ?? 0) !== 1) {
    return `is_test = 0 (training behaviour, the default before opset 7) is not supported; re-export with opset >= 7 or set is_test = 1`;
  }
  if (n.opType === 'Cast' && a('to')?.s !== undefined) return "a string 'to' (Cast-1) is not supported";
  // Forms only the interpreter reads (the layer mapping reads the opset >= 7 forms).
  if (layers && n.opType === 'Concat' && !a('axis')) return 'Concat without axis (opset < 4: axis 1) is read by the graph interpreter only; use mode graph or auto';
  if (layers && n.opType === 'Pad' && a('paddings')) return "Pad-1's 'paddings' is read by the graph interpreter only; use mode graph or auto";
  return null;
}

/** Every node the interpreter cannot run, or a bad input, as messages (empty: it can run the graph). */
export function graphProblems(m: OnnxModel, opset: number): string[] {
  const problems: string[] = [];
  for (const n of m.graph.nodes) {
    const why = graphNodeProblem(n, opset);
    if (why) problems.push(`${nodeLabel(n)}: ${why}`);
  }
  const inits = new Set(m.graph.initializers.map((t) => t.name));
  for (const v of m.graph.inputs) {
    if (inits.has(v.name)) continue;
    if (!v.elemType) problems.push(`graph input '${v.name}' is not a tensor with an element type (a sequence, map or optional value, or no type), which convkit does not hold`);
    else if (!SUPPORTED_DT.has(v.elemType)) problems.push(`graph input '${v.name}' has element type ${onnxDtypeName(v.elemType)}, which convkit does not hold`);
  }
  for (const t of m.graph.initializers) {
    if (!SUPPORTED_DT.has(t.dataType)) problems.push(`initializer '${t.name}' has element type ${onnxDtypeName(t.dataType)}, which convkit does not hold`);
  }
  return problems;
}
