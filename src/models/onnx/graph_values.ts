/**
 * Values of the graph interpreter and the helpers its evaluators share (graph_ops.ts, the
 * operators of the issue; graph_ops_more.ts, further ones). A value is a tensor plus its
 * ONNX element type: float/float16/bfloat16 are held as float32, double as float64, integers
 * and bool as int32 (on 'ts', where they can be read synchronously on every backend), or as
 * float64 when an int64 value does not fit in int32 (exact up to 2^53). Float values are
 * computed with convkit ops (so they carry gradients); integer and bool values, which carry
 * none, may be computed with plain loops.
 */
import { attr, attrInt, floatToHalf, halfToFloat, ONNX_DTYPE, onnxDtypeName, type OnnxNode, type OnnxTensor } from './proto.js';
import { tensor } from '../../ops/creation.js';
import { withBackend } from '../../registry/backends.js';
import { abs, cast, log, mul, sqrt } from '../../ops/elementwise.js';
import { logSumExp, max, mean, min, sum } from '../../ops/reduce.js';
import { gather, reshape, slice } from '../../ops/shape.js';
import { shapesEqual } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';

export const T = ONNX_DTYPE;

/**
 * A value of the graph: a tensor, its ONNX element type, and its values when they were made on
 * the host (constants). A sequence (SequenceConstruct, SplitToSequence, ...) is `seq`, its
 * tensors of element type `dt`, with an empty placeholder `t`: only the sequence operators
 * (graph_ops_seq.ts) and Identity take it, every other reads its inputs through `need`, which
 * refuses a sequence.
 */
export interface GVal { t: Tensor; dt: number; host?: ArrayLike<number>; seq?: GVal[] }

export interface GCtx {
  node: OnnxNode;
  opset: number;
  fail(msg: string): never;
  /**
   * `make()`, a tensor computed from `src` alone (a filter in convkit's layout), kept by the
   * model and reused while `src` is the same weight or constant with the same storage and no
   * gradient is recorded; otherwise `make()` afresh. `tag` tells a node's derived tensors apart.
   */
  derive?(tag: string, src: Tensor, make: () => Tensor): Tensor;
}

export interface GraphOp {
  /** Attributes the evaluator implements (others are refused by name). */
  attrs: string[];
  /** A reason to refuse the node before running (an attribute value convkit does not support), or null. */
  check?: (n: OnnxNode, opset: number) => string | null;
  run: (ctx: GCtx, ins: (GVal | undefined)[]) => (GVal | undefined)[];
}

// ---------------------------------------------------------------- values

export const FLOATS = new Set<number>([T.FLOAT, T.DOUBLE, T.FLOAT16, T.BFLOAT16]);
export const isFloatDt = (dt: number): boolean => FLOATS.has(dt);
export const SUPPORTED_DT = new Set<number>([T.FLOAT, T.DOUBLE, T.FLOAT16, T.BFLOAT16, T.INT64, T.INT32, T.INT16, T.INT8, T.UINT8, T.UINT16, T.UINT32, T.UINT64, T.BOOL]);
export const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);
export const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Wrap an integer, bool or float value to its ONNX type's range and precision. */
export function fitTo(v: number, dt: number): number {
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
 * opsets up to 17 (onnx 1.12's Cast test data); Cast-19 later specified rounding to nearest
 * even, which bf16Nearest does (Cast and CastLike use it from opset 19 on).
 */
export function bf16Nearest(v: number): number {
  if (!Number.isFinite(v)) return Math.fround(v);
  const f = new Float32Array([v]), u = new Uint32Array(f.buffer);
  u[0] = (u[0] + 0x7fff + ((u[0] >>> 16) & 1)) & 0xffff0000;
  return f[0];
}

export function bf16(v: number): number {
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
export const holdFloat = (x: Tensor, dt: number): Tensor => (x.dtype === (dt === T.DOUBLE ? 'float64' : 'float32') ? x : cast(x, dt === T.DOUBLE ? 'float64' : 'float32'));
export const fl = (t: Tensor, dt: number): GVal => ({ t, dt });

export function need(ctx: GCtx, v: GVal | undefined, i: number, what: string): GVal {
  if (!v) ctx.fail(`input ${i} (${what}) is missing`);
  if (v!.seq) ctx.fail(`input ${i} (${what}) is a sequence of ${v!.seq.length} tensors; this operator takes a tensor`);
  return v!;
}
export function floatIn(ctx: GCtx, v: GVal | undefined, i: number, what = 'X'): GVal {
  const x = need(ctx, v, i, what);
  if (!isFloatDt(x.dt)) ctx.fail(`input ${i} (${what}) has element type ${onnxDtypeName(x.dt)}; this operator takes float tensors`);
  return x;
}
/** Integer values of an optional input (shapes, axes, indices); null when absent. */
export function intsIn(ctx: GCtx, v: GVal | undefined, i: number, what: string): number[] | null {
  if (!v) return null;
  if (isFloatDt(v.dt)) ctx.fail(`input ${i} (${what}) has element type ${onnxDtypeName(v.dt)}; expected an integer tensor`);
  return nums(v);
}
export function scalarIn(ctx: GCtx, v: GVal | undefined, i: number, what: string): number | null {
  if (!v) return null;
  if (v.t.size !== 1) ctx.fail(`input ${i} (${what}) has shape ${fmt(v.t.shape)}; expected a single value`);
  return nums(v)[0];
}
export function normAxis(ctx: GCtx, a: number, r: number, what = 'axis'): number {
  const x = a < 0 ? a + r : a;
  if (!Number.isInteger(x) || x < 0 || x >= r) ctx.fail(`${what} ${a} is out of range for rank ${r}`);
  return x;
}

export function broadcastShape(ctx: GCtx, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length), out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) ctx.fail(`shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}
/** For each element of a broadcast result of `outShape`, the flat index into an operand of `shape`. */
export function bcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
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
export function jsMap(ctx: GCtx, vs: GVal[], outDt: number, f: (...x: number[]) => number): GVal {
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
export function sameFloat(a: GVal, b: GVal): [Tensor, Tensor] {
  const want = a.t.dtype === 'float64' || b.t.dtype === 'float64' ? 'float64' : 'float32';
  return [a.t.dtype === want ? a.t : cast(a.t, want), b.t.dtype === want ? b.t : cast(b.t, want)];
}

// ---------------------------------------------------------------- elementwise

/** A binary op with NumPy broadcasting: convkit op on floats, JS on integers (division truncates, as C). */
export function binary(opF: (a: Tensor, b: Tensor) => Tensor, opI: (a: number, b: number) => number): GraphOp {
  return {
    attrs: ['broadcast', 'axis', 'consumed_inputs'],
    run: (ctx, ins) => {
      const a = need(ctx, ins[0], 0, 'A'), b = need(ctx, ins[1], 1, 'B');
      if (isFloatDt(a.dt) !== isFloatDt(b.dt)) ctx.fail(`inputs have element types ${onnxDtypeName(a.dt)} and ${onnxDtypeName(b.dt)}; ONNX requires one type`);
      const bb = operandB(ctx, a, b);
      if (!isFloatDt(a.dt)) return [jsMap(ctx, [a, bb], a.dt, opI)];
      broadcastShape(ctx, a.t.shape, bb.t.shape);
      return [fl(opF(...sameFloat(a, bb)), a.dt)];
    },
  };
}
/**
 * Opset < 7 broadcasting ('broadcast' = 1): B's shape is a run of A's axes starting at 'axis'
 * (default: A's last axes), where a dimension of B may also be 1. B is reshaped to A's rank
 * with ones around that run, so that NumPy broadcasting then computes the same thing.
 * Without 'broadcast' the shapes must be equal. From opset 7 on, B as it is (NumPy broadcasting).
 */
export function operandB(ctx: GCtx, a: GVal, b: GVal): GVal {
  if (ctx.opset >= 7) return b;
  const sa = a.t.shape, sb = b.t.shape;
  if (attrInt(ctx.node, 'broadcast', 0) !== 1) {
    if (!shapesEqual(sa, sb)) ctx.fail(`shapes ${fmt(sa)} and ${fmt(sb)} differ and 'broadcast' is not set (before opset 7 only equal shapes combine without it)`);
    return b;
  }
  const scalar = sb.length === 0 || (sb.length === 1 && sb[0] === 1);
  if (scalar) return b;
  const axis = attr(ctx.node, 'axis') !== undefined ? normAxis(ctx, attrInt(ctx.node, 'axis', 0), sa.length) : sa.length - sb.length;
  if (axis < 0 || axis + sb.length > sa.length || sb.some((d, i) => d !== 1 && d !== sa[axis + i])) {
    ctx.fail(`B of shape ${fmt(sb)} does not match A's axes from ${axis} (A has shape ${fmt(sa)}; opset < 7 broadcasting)`);
  }
  return { t: reshape(b.t, [...new Array(axis).fill(1), ...sb, ...new Array(sa.length - axis - sb.length).fill(1)]), dt: b.dt };
}

export function unaryF(f: (x: Tensor, n: OnnxNode) => Tensor, attrs: string[] = [], intF?: (x: number) => number): GraphOp {
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

/** Softmax-like ops: opset >= 13 along `axis` (default -1); before, on the input coerced to 2-D at `axis` (default 1). */
export function softmaxLike(f: (x: Tensor, axis: number) => Tensor): GraphOp {
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

export type ReduceKind = 'mean' | 'sum' | 'max' | 'min' | 'l1' | 'l2' | 'sumSquare' | 'logSum' | 'logSumExp' | 'prod';
/** The smallest and largest value of an integer element type (int64's as the nearest doubles). */
export const INT_RANGE: Record<number, [number, number]> = {
  [T.INT8]: [-128, 127], [T.UINT8]: [0, 255], [T.INT16]: [-32768, 32767], [T.UINT16]: [0, 65535],
  [T.INT32]: [-(2 ** 31), 2 ** 31 - 1], [T.UINT32]: [0, 2 ** 32 - 1], [T.INT64]: [-(2 ** 63), 2 ** 63], [T.UINT64]: [0, 2 ** 64],
};

/** Round half to even (numpy's rint; ONNX's Round, QuantizeLinear and GridSample's nearest). */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v), d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

/** Row-major strides of a shape. */
export const stridesOf = (shape: readonly number[]): number[] => shape.map((_, i) => prod(shape.slice(i + 1)));

/** ReduceProd on the host, in float64 (1 over an empty set), rounded to x's type: products are mostly of shapes. */
function hostProduct(x: GVal, axes: number[], keepDims: boolean): GVal {
  const shape = x.t.shape, v = nums(x);
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float64Array(prod(outShape)).fill(1);
  const inStrides = stridesOf(shape), outStrides = stridesOf(outShape);
  for (let f = 0; f < v.length; f++) {
    let o = 0;
    for (let i = 0; i < shape.length; i++) if (!axes.includes(i)) o += Math.floor(f / inStrides[i]) % shape[i] * outStrides[i];
    out[o] *= v[f];
  }
  return mk(out.map((q) => fitTo(q, x.dt)), keepDims ? outShape : shape.filter((_, i) => !axes.includes(i)), x.dt);
}

export function reduceOp(kind: ReduceKind): GraphOp {
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
      if ((kind === 'max' || kind === 'min') && ax.some((a) => x.t.shape[a] === 0)) {
        // Over an empty set (opset 18 defines it): the identity of the reduction, -inf for max and
        // +inf for min (for bool: false and true; for integers: the type's extremes).
        const shape = keepDims ? x.t.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.t.shape.filter((_, i) => !ax.includes(i));
        const [lo, hi] = x.dt === T.BOOL ? [0, 1] : isFloatDt(x.dt) ? [-Infinity, Infinity] : INT_RANGE[x.dt] ?? ctx.fail(`max/min over an empty set of ${onnxDtypeName(x.dt)} values is not supported`);
        const fill = kind === 'max' ? lo : hi;
        return [mk(new Float64Array(shape.reduce((p, q) => p * q, 1)).fill(fill), shape, x.dt)];
      }
      if (kind === 'prod') return [hostProduct(x, ax, keepDims)];
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

/**
 * Indices for gather, made on 'ts': readable whichever backend the gather runs on (one where the
 * data lives, or the current one; a tensor on 'ts' is copied to a device where needed, while a
 * device tensor cannot be read back synchronously by a gather that runs on 'ts').
 */
export const indexTensor = (idx: ArrayLike<number>): Tensor => withBackend('ts', () => tensor(Int32Array.from(idx), [idx.length], 'int32'));

/** x restricted to `idx` along `axis` (a slice when contiguous, a gather otherwise). */
export function take(x: Tensor, idx: number[], axis: number): Tensor {
  const contiguous = idx.every((v, i) => i === 0 || v === idx[i - 1] + 1);
  if (contiguous && idx.length > 0) return slice(x, x.shape.map((_, i) => (i === axis ? idx[0] : 0)), x.shape.map((v, i) => (i === axis ? idx.length : v)));
  if (idx.length === 0) return slice(x, x.shape.map(() => 0), x.shape.map((v, i) => (i === axis ? 0 : v)));
  return gather(x, indexTensor(idx), axis);
}

/**
 * Split's part sizes along an axis of length L into k outputs: the 'split' sizes when given, else
 * opset 18's num_outputs (parts of ceil(L / num_outputs), the last one smaller), else k equal parts.
 */
export function splitSizes(ctx: { node: OnnxNode; fail(msg: string): never }, L: number, k: number, given: number[] | null, axis: number): number[] {
  let sizes = given;
  const parts = attr(ctx.node, 'num_outputs')?.i;
  if (!sizes && parts !== undefined) {
    if (parts !== k) ctx.fail(`num_outputs is ${parts} but the node has ${k} outputs`);
    const c = Math.ceil(L / parts);
    if (c * (parts - 1) >= L && parts > 1) ctx.fail(`axis ${axis} of size ${L} does not split into ${parts} parts of ${c} with a smaller last one`);
    sizes = Array.from({ length: parts }, (_, i) => (i < parts - 1 ? c : L - c * (parts - 1)));
  }
  if (!sizes) {
    if (L % k) ctx.fail(`axis ${axis} of size ${L} does not split into ${k} equal parts`);
    sizes = new Array(k).fill(L / k);
  }
  if (sizes.length !== k || sizes.reduce((p, q) => p + q, 0) !== L) ctx.fail(`split ${fmt(sizes)} does not cut axis ${axis} of size ${L} into ${k} parts`);
  return sizes;
}
