/**
 * One handler per ONNX operator for the importer (./import.ts): `check` refuses attribute
 * values convkit cannot compute (before anything is built, so that every offending node
 * is listed in one error), `run` maps the node's input values to output values. A value is
 * a constant (folded at import), a shape vector that may hold the symbolic batch size, or
 * a symbolic tensor held with a permutation of the file's logical axes (see import.ts).
 */
import { erf as erfScalar } from '../../kernels/special.js';
import { attr, attrFloat, attrInt, attrInts, attrString, ONNX_DTYPE, type OnnxNode } from './proto.js';
import type { SymbolicTensor } from '../../layers/symbolic.js';
import type { Layer } from '../../layers/layer.js';
import { Activation, Dense, ELU, Flatten, LeakyReLU, PReLU, ReLU, Reshape, Softmax } from '../../layers/core.js';
import { Conv1D, Conv2D, Conv2DTranspose, Conv3D, DepthwiseConv2D } from '../../layers/conv.js';
import { AveragePooling2D, AveragePooling3D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D, MaxPooling3D } from '../../layers/pooling.js';
import { BatchNormalization, LayerNormalization, LRN } from '../../layers/normalization.js';
import { Add, Concatenate, Multiply } from '../../layers/merge.js';
import { Arithmetic, type ArithmeticOp, Where, InstanceNormalization, MathFunction, type MathFunctionName, Pad, type PadMode, Permute, Reduce, type ReduceOp, Resizing, type ResizeCoordinates, type ResizeNearest, Slice } from '../../layers/extra.js';
import { UpSampling1D, UpSampling3D } from '../../layers/reshaping.js';
import { tensor } from '../../ops/creation.js';
import { splitSizes } from './graph_values.js';

/**
 * A constant: float initializers keep the file's float32 values (no float64 copy of a model's
 * weights); everything computed at import, and integer data, is float64.
 */
export interface ConstVal { kind: 'const'; shape: number[]; data: Floats; dtype: number }
export type Floats = Float64Array | Float32Array;
/** A new array of `n` values of the same type as `like`. */
const allocLike = (like: Floats, n: number): Floats => (like instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));
/** A 1-D integer vector (or scalar) some of whose entries are the batch size 'N'. */
export interface ShapeVal { kind: 'shape'; dims: (number | 'N')[]; scalar: boolean }
/** A computed tensor: held axis k is the file's logical axis perm[k]; featPerm (rank 2 only): held feature j is logical feature featPerm[j]. */
export interface Sym { kind: 'sym'; t: SymbolicTensor; perm: number[]; featPerm?: Int32Array }
export type Val = ConstVal | ShapeVal | Sym;

export interface Ctx {
  file: string;
  opset: number;
  node: OnnxNode;
  fileBatch: number | null;
  consumers: Map<string, OnnxNode[]>;
  graphOutputs: Set<string>;
  fail(msg: string): never;
  add<L extends Layer>(make: (name: string | undefined) => L, x: SymbolicTensor | SymbolicTensor[]): { layer: L; y: SymbolicTensor };
}

interface Handler {
  check?: (n: OnnxNode, opset: number) => string | null;
  run: (ctx: Ctx, ins: (Val | undefined)[]) => (Val | undefined)[];
}

// ---------------------------------------------------------------- helpers

const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);
const ident = (r: number) => Array.from({ length: r }, (_, i) => i);
const cl = (r: number) => (r < 3 ? ident(r) : [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1]);
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const fmt = (s: readonly (number | string)[]) => `[${s.join(', ')}]`;

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

/**
 * JS transpose of a constant: out axis i = in axis p[i]. The output is written in order, the
 * source offset kept up to date as the index advances (a Gemm's transB weights: 2-D, in
 * 32 x 32 blocks so that both sides stay in cache; AlexNet's 9216 x 4096 took 2.6 s unblocked).
 */
function transposeData(data: Floats, shape: readonly number[], p: readonly number[]): { data: Floats; shape: number[] } {
  const outShape = p.map((a) => shape[a]);
  const n = data.length, out = allocLike(data, n), r = shape.length;
  if (r === 2 && p[0] === 1) {
    const [R, C] = shape, B = 32; // out [C, R]: out[c * R + r] = data[r * C + c]
    for (let r0 = 0; r0 < R; r0 += B) for (let c0 = 0; c0 < C; c0 += B) {
      const r1 = Math.min(R, r0 + B), c1 = Math.min(C, c0 + B);
      for (let c = c0; c < c1; c++) for (let q = r0, o = c * R + r0; q < r1; q++, o++) out[o] = data[q * C + c];
    }
    return { data: out, shape: outShape };
  }
  const inSt = strides(shape);
  const step = p.map((a) => inSt[a]); // source stride of each output axis
  const idx = new Array<number>(r).fill(0);
  let src = 0;
  for (let o = 0; o < n; o++) {
    out[o] = data[src];
    for (let i = r - 1; i >= 0; i--) {
      src += step[i];
      if (++idx[i] < outShape[i]) break;
      src -= step[i] * outShape[i];
      idx[i] = 0;
    }
  }
  return { data: out, shape: outShape };
}

function broadcastShape(a: readonly number[], b: readonly number[], ctx: Ctx): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) ctx.fail(`shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
    out.push(Math.max(x, y));
  }
  return out;
}

/** Index into a broadcast operand. */
function bcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = prod(outShape), r = outShape.length, res = new Int32Array(n);
  const full = [...new Array(r - shape.length).fill(1), ...shape];
  const st = strides(full);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o++) {
    let s = 0;
    for (let i = 0; i < r; i++) if (full[i] !== 1) s += idx[i] * st[i];
    res[o] = s;
    for (let i = r - 1; i >= 0; i--) { if (++idx[i] < outShape[i]) break; idx[i] = 0; }
  }
  return res;
}

function binaryConst(ctx: Ctx, a: ConstVal, b: ConstVal, f: (x: number, y: number) => number, dtype = a.dtype): ConstVal {
  const shape = broadcastShape(a.shape, b.shape, ctx);
  const ia = bcastIndex(a.shape, shape), ib = bcastIndex(b.shape, shape);
  const data = new Float64Array(ia.length);
  const isInt = dtype !== ONNX_DTYPE.FLOAT && dtype !== ONNX_DTYPE.DOUBLE && dtype !== ONNX_DTYPE.FLOAT16;
  for (let i = 0; i < data.length; i++) { const v = f(a.data[ia[i]], b.data[ib[i]]); data[i] = isInt ? Math.trunc(v) : v; }
  return { kind: 'const', shape, data, dtype };
}

const C = (shape: number[], data: ArrayLike<number>, dtype: number = ONNX_DTYPE.FLOAT): ConstVal => ({ kind: 'const', shape, data: Float64Array.from(data), dtype });

function need(ctx: Ctx, v: Val | undefined, i: number, what: string): Val {
  if (!v) ctx.fail(`input ${i} (${what}) is missing`);
  return v!;
}
function sym(ctx: Ctx, v: Val | undefined, i = 0): Sym {
  const x = need(ctx, v, i, 'X');
  if (x.kind !== 'sym') ctx.fail(`input ${i} is expected to depend on the model input here`);
  return x as Sym;
}
function constIn(ctx: Ctx, v: Val | undefined, i: number, what: string): ConstVal {
  const x = need(ctx, v, i, what);
  if (x.kind !== 'const') ctx.fail(`input ${i} (${what}) must be a constant (an initializer or a constant subgraph); a computed ${what} is not supported`);
  return x as ConstVal;
}
function optConst(ctx: Ctx, v: Val | undefined, i: number, what: string): ConstVal | null {
  return v ? constIn(ctx, v, i, what) : null;
}

/** Logical dims of a symbolic value (batch as 'N'). */
function logicalDims(v: Sym): (number | 'N')[] {
  const held: (number | 'N')[] = ['N', ...v.t.shape];
  const out = new Array<number | 'N'>(held.length);
  v.perm.forEach((a, k) => { out[a] = held[k]; });
  return out;
}

/** v held with `want` (moving data with a Permute layer when needed). */
function held(ctx: Ctx, v: Sym, want: readonly number[]): SymbolicTensor {
  if (v.featPerm) ctx.fail('internal: a row-permuted flatten reached an op other than Gemm/MatMul');
  if (same(v.perm, want)) return v.t;
  const src = want.map((a) => v.perm.indexOf(a));
  if (src[0] !== 0) ctx.fail(`this would move the batch axis`);
  const hs = [0, ...v.t.shape];
  const outShape = src.slice(1).map((k) => hs[k]);
  // When only axes of size 1 move, the data order is unchanged: a reshape suffices.
  const big = src.filter((k) => k > 0 && hs[k] !== 1);
  if (big.every((k, i) => i === 0 || k > big[i - 1])) return ctx.add((nm) => new Reshape({ name: nm, targetShape: outShape }), v.t).y;
  return ctx.add((nm) => new Permute({ dims: src.slice(1), name: nm }), v.t).y;
}

function normAxis(ctx: Ctx, a: number, r: number): number {
  const x = a < 0 ? a + r : a;
  if (!Number.isInteger(x) || x < 0 || x >= r) ctx.fail(`axis ${a} is out of range for rank ${r}`);
  return x;
}

function setWeights(layer: Layer, vals: { data: Float64Array | Float32Array; shape: number[] }[]): void {
  const ws = layer.weights;
  vals.forEach((v, i) => { ws[i].value = tensor(v.data instanceof Float32Array ? v.data : new Float32Array(v.data), v.shape, 'float32'); });
}

function unary(make: (name: string | undefined, n: OnnxNode) => Layer, check?: Handler['check']): Handler {
  return {
    check,
    run: (ctx, ins) => {
      const x = sym(ctx, ins[0]);
      if (x.featPerm) ctx.fail('internal');
      const { y } = ctx.add((nm) => make(nm, ctx.node), x.t);
      return [{ kind: 'sym', t: y, perm: x.perm }];
    },
  };
}

/** Spatial padding pairs from ONNX pads / auto_pad for input sizes `n`. */
function padPairs(ctx: Ctx, n: readonly number[], k: readonly number[], s: readonly number[], d: readonly number[]): [number, number][] {
  const node = ctx.node, sp = n.length;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return n.map(() => [0, 0]);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    return n.map((ni, i) => {
      const out = Math.ceil(ni / s[i]);
      const total = Math.max(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - ni);
      const small = Math.floor(total / 2), big = total - small;
      return autoPad === 'SAME_UPPER' ? [small, big] : [big, small];
    });
  }
  const pads = attrInts(node, 'pads', new Array(2 * sp).fill(0));
  if (pads.length !== 2 * sp) ctx.fail(`pads has ${pads.length} entries; expected ${2 * sp} (begin and end of each spatial axis)`);
  return n.map((_, i) => [pads[i], pads[i + sp]]);
}

const autoPadCheck = (n: OnnxNode): string | null => {
  const a = attrString(n, 'auto_pad', 'NOTSET');
  return ['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'].includes(a) ? null : `auto_pad '${a}' is not supported`;
};

// ---------------------------------------------------------------- conv

function conv(ctx: Ctx, ins: (Val | undefined)[]): Val[] {
  const n = ctx.node;
  const x = sym(ctx, ins[0]);
  const w = constIn(ctx, ins[1], 1, 'W (weights)');
  const b = optConst(ctx, ins[2], 2, 'B (bias)');
  const r = w.shape.length, sp = r - 2;
  const xl = logicalDims(x);
  if (xl.length !== r) ctx.fail(`input has rank ${xl.length} but the weight ${fmt(w.shape)} needs rank ${r} (N, C, spatial...)`);
  if (sp < 1 || sp > 3) ctx.fail(`${sp}D convolutions are not supported (1D, 2D and 3D are)`);
  const group = attrInt(n, 'group', 1);
  const cin = xl[1] as number, cout = w.shape[0];
  if (w.shape[1] * group !== cin) ctx.fail(`weight of shape ${fmt(w.shape)} with group ${group} expects ${w.shape[1] * group} input channels, but the input has ${cin} (shape ${fmt(xl)})`);
  if (cout % group !== 0) ctx.fail(`group ${group} does not divide the ${cout} output channels`);
  if (b && (b.shape.length !== 1 || b.shape[0] !== cout)) ctx.fail(`bias of shape ${fmt(b.shape)} does not fit ${cout} output channels (expected [${cout}])`);
  const k = w.shape.slice(2);
  const ks = attrInts(n, 'kernel_shape', k);
  if (!same(ks, k)) ctx.fail(`kernel_shape ${fmt(ks)} does not match the weight's spatial sizes ${fmt(k)}`);
  const s = attrInts(n, 'strides', new Array(sp).fill(1));
  const d = attrInts(n, 'dilations', new Array(sp).fill(1));
  const spatialIn = xl.slice(2) as number[];
  const padding = padPairs(ctx, spatialIn, k, s, d);
  const xt = held(ctx, x, cl(r));
  if (sp === 2 && group > 1 && group === cin && w.shape[1] === 1) {
    // Depthwise (MobileNets): output channel c*m + j filters input channel c; kernel [KH, KW, C, m].
    const mult = cout / cin;
    const dk = transposeData(w.data, [cin, mult, k[0], k[1]], [2, 3, 0, 1]);
    const { layer, y } = ctx.add((nm) => new DepthwiseConv2D({ name: nm, kernelSize: k, strides: s, dilationRate: d, padding, depthMultiplier: mult, useBias: !!b }), xt);
    setWeights(layer, [dk, ...(b ? [{ data: b.data, shape: [cout] }] : [])]);
    return [{ kind: 'sym', t: y, perm: cl(r) }];
  }
  const kernel = transposeData(w.data, w.shape, [...Array.from({ length: sp }, (_, i) => i + 2), 1, 0]);
  const Cls = sp === 1 ? Conv1D : sp === 2 ? Conv2D : Conv3D;
  const { layer, y } = ctx.add((nm) => new Cls({ name: nm, filters: cout, kernelSize: k, strides: s, dilationRate: d, padding, groups: group, useBias: !!b }), xt);
  setWeights(layer, [kernel, ...(b ? [{ data: b.data, shape: [cout] }] : [])]);
  return [{ kind: 'sym', t: y, perm: cl(r) }];
}

function convTranspose(ctx: Ctx, ins: (Val | undefined)[]): Val[] {
  const n = ctx.node;
  const x = sym(ctx, ins[0]);
  const w = constIn(ctx, ins[1], 1, 'W (weights)');
  const b = optConst(ctx, ins[2], 2, 'B (bias)');
  const xl = logicalDims(x);
  if (w.shape.length !== 4 || xl.length !== 4) ctx.fail(`only 2D transposed convolutions are supported (weight ${fmt(w.shape)}, input ${fmt(xl)})`);
  const cin = xl[1] as number;
  if (w.shape[0] !== cin) ctx.fail(`weight of shape ${fmt(w.shape)} expects ${w.shape[0]} input channels, but the input has ${cin}`);
  const cout = w.shape[1];
  if (b && (b.shape.length !== 1 || b.shape[0] !== cout)) ctx.fail(`bias of shape ${fmt(b.shape)} does not fit ${cout} output channels`);
  const k = w.shape.slice(2);
  const s = attrInts(n, 'strides', [1, 1]);
  const d = attrInts(n, 'dilations', [1, 1]);
  const pads = attrInts(n, 'pads', [0, 0, 0, 0]);
  const op = attrInts(n, 'output_padding', [0, 0]);
  const xt = held(ctx, x, cl(4));
  const kernel = transposeData(w.data, w.shape, [2, 3, 1, 0]);
  const { layer, y } = ctx.add((nm) => new Conv2DTranspose({
    name: nm, filters: cout, kernelSize: k, strides: s, dilationRate: d, padding: [[pads[0], pads[2]], [pads[1], pads[3]]],
    useBias: !!b, ...(op.some((v) => v) ? { outputPadding: op } : {}),
  }), xt);
  setWeights(layer, [kernel, ...(b ? [{ data: b.data, shape: [cout] }] : [])]);
  return [{ kind: 'sym', t: y, perm: cl(4) }];
}

// ---------------------------------------------------------------- pooling

function pool(kind: 'max' | 'avg'): Handler {
  return {
    check: (n) => {
      if (attrInts(n, 'dilations', [1]).some((v) => v < 1)) return `dilations ${fmt(attrInts(n, 'dilations', []))} must be positive`;
      if (attrInt(n, 'storage_order', 0) !== 0) return 'storage_order 1 is not supported';
      if (n.outputs.length > 1 && n.outputs[1]) return 'the Indices output is not supported';
      const kl = attrInts(n, 'kernel_shape', []).length;
      if (kl < 1 || kl > 3) return `kernel_shape ${fmt(attrInts(n, 'kernel_shape', []))}: only 1D, 2D and 3D pooling are supported`;
      if (kl === 3 && attrInt(n, 'ceil_mode', 0)) return 'ceil_mode is not supported in 3D pooling';
      if (kind === 'avg' && attrInt(n, 'ceil_mode', 0) && attrInt(n, 'count_include_pad', 0)) return 'ceil_mode with count_include_pad is not supported';
      return autoPadCheck(n);
    },
    run: (ctx, ins) => {
      const n = ctx.node;
      const x = sym(ctx, ins[0]);
      const xl = logicalDims(x);
      const k1 = attrInts(n, 'kernel_shape', []);
      if (xl.length !== k1.length + 2) ctx.fail(`expected an input of rank ${k1.length + 2} for kernel_shape ${fmt(k1)}, received ${fmt(xl)}`);
      const one = k1.length === 1;
      if (k1.length === 3) {
        const s3 = attrInts(n, 'strides', [1, 1, 1]), d3 = attrInts(n, 'dilations', [1, 1, 1]);
        if (s3.length !== 3 || d3.length !== 3) ctx.fail(`strides ${fmt(s3)} and dilations ${fmt(d3)} must have 3 entries for kernel_shape ${fmt(k1)}`);
        const padding = padPairs(ctx, xl.slice(2) as number[], k1, s3, d3);
        const { y } = ctx.add((nm) => (kind === 'max'
          ? new MaxPooling3D({ name: nm, poolSize: k1, strides: s3, dilations: d3, padding })
          : new AveragePooling3D({ name: nm, poolSize: k1, strides: s3, dilations: d3, padding, countIncludePad: !!attrInt(n, 'count_include_pad', 0) })), held(ctx, x, cl(5)));
        return [{ kind: 'sym', t: y, perm: cl(5) }];
      }
      const s1 = attrInts(n, 'strides', one ? [1] : [1, 1]);
      const d1 = attrInts(n, 'dilations', one ? [1] : [1, 1]);
      if (d1.length !== k1.length) ctx.fail(`dilations ${fmt(d1)} must have one entry per spatial axis (${k1.length})`);
      const pairs = padPairs(ctx, xl.slice(2) as number[], k1, s1, d1);
      // 1D pooling runs as 2D pooling over [N, 1, L, C].
      const k = one ? [1, k1[0]] : k1, s = one ? [1, s1[0]] : s1, dil = one ? [1, d1[0]] : d1;
      let padding: [number, number][] | number = one ? [[0, 0], pairs[0]] : pairs;
      const ceil = !!attrInt(n, 'ceil_mode', 0);
      if (ceil) {
        const all = pairs.flat();
        if (all.some((v) => v !== all[0]) || (one && all[0] !== 0)) ctx.fail(`ceil_mode with pads ${fmt(all)} is not supported (${one ? 'no padding in 1D' : 'equal pads'} only)`);
        padding = all[0];
      }
      let xt = held(ctx, x, cl(xl.length));
      if (one) xt = ctx.add((nm) => new Reshape({ name: nm, targetShape: [1, ...xt.shape] }), xt).y;
      const { y } = ctx.add((nm) => (kind === 'max'
        ? new MaxPooling2D({ name: nm, poolSize: k, strides: s, padding, ceilMode: ceil, dilations: dil })
        : new AveragePooling2D({ name: nm, poolSize: k, strides: s, padding, ceilMode: ceil, dilations: dil, countIncludePad: !!attrInt(n, 'count_include_pad', 0) })), xt);
      if (one) return [{ kind: 'sym', t: ctx.add((nm) => new Reshape({ name: nm, targetShape: y.shape.slice(1) }), y).y, perm: cl(3) }];
      return [{ kind: 'sym', t: y, perm: cl(4) }];
    },
  };
}

function globalPool(kind: 'avg' | 'max'): Handler {
  return {
    run: (ctx, ins) => {
      const x = sym(ctx, ins[0]);
      const r = x.perm.length;
      if (r < 3) ctx.fail(`expected an input of rank 3 or more (N, C, spatial...), received rank ${r}`);
      if (r === 4) {
        const xt = held(ctx, x, cl(4));
        const { y } = ctx.add((nm) => (kind === 'avg' ? new GlobalAveragePooling2D({ name: nm, keepDims: true }) : new GlobalMaxPooling2D({ name: nm, keepDims: true })), xt);
        return [{ kind: 'sym', t: y, perm: cl(4) }];
      }
      const axes = Array.from({ length: r - 2 }, (_, i) => x.perm.indexOf(i + 2));
      const { y } = ctx.add((nm) => new Reduce({ name: nm, op: kind === 'avg' ? 'mean' : 'max', axes, keepDims: true }), x.t);
      return [{ kind: 'sym', t: y, perm: x.perm }];
    },
  };
}

// ---------------------------------------------------------------- normalisation

function batchNorm(ctx: Ctx, ins: (Val | undefined)[]): Val[] {
  const n = ctx.node;
  const x = sym(ctx, ins[0]);
  const ps = [1, 2, 3, 4].map((i) => constIn(ctx, ins[i], i, ['scale', 'B', 'mean', 'var'][i - 1]));
  const xl = logicalDims(x);
  const c = xl[1] as number;
  ps.forEach((p, i) => {
    if (prod(p.shape) !== c || p.shape.length !== 1) ctx.fail(`${['scale', 'B', 'mean', 'var'][i]} has shape ${fmt(p.shape)}; expected [${c}] for an input of ${c} channels (shape ${fmt(xl)})`);
  });
  const r = xl.length;
  const xt = held(ctx, x, cl(r));
  const { layer, y } = ctx.add((nm) => new BatchNormalization({ name: nm, epsilon: attrFloat(n, 'epsilon', 1e-5), momentum: attrFloat(n, 'momentum', 0.9) }), xt);
  setWeights(layer, ps.map((p) => ({ data: p.data, shape: [c] })));
  return [{ kind: 'sym', t: y, perm: cl(r) }];
}

// ---------------------------------------------------------------- elementwise

const ARITH: Record<string, { op: ArithmeticOp; f: (a: number, b: number) => number }> = {
  Add: { op: 'add', f: (a, b) => a + b },
  Sub: { op: 'sub', f: (a, b) => a - b },
  Mul: { op: 'mul', f: (a, b) => a * b },
  Div: { op: 'div', f: (a, b) => a / b },
  Pow: { op: 'pow', f: (a, b) => a ** b },
  Max: { op: 'max', f: Math.max },
  Min: { op: 'min', f: Math.min },
  Greater: { op: 'greater', f: (a, b) => (a > b ? 1 : 0) },
  Less: { op: 'less', f: (a, b) => (a < b ? 1 : 0) },
  Equal: { op: 'equal', f: (a, b) => (a === b ? 1 : 0) },
  GreaterOrEqual: { op: 'greaterEqual', f: (a, b) => (a >= b ? 1 : 0) },
  LessOrEqual: { op: 'lessEqual', f: (a, b) => (a <= b ? 1 : 0) },
};
/** Comparisons: BOOL when folded; on computed tensors float 0/1 (what a Cast to float or a Where reads). */
const COMPARE = new Set(['Greater', 'Less', 'Equal', 'GreaterOrEqual', 'LessOrEqual']);

function binary(opType: string): Handler {
  const { op, f } = ARITH[opType];
  return {
    run: (ctx, ins) => {
      if (ins.length !== 2) ctx.fail(`expected 2 inputs, received ${ins.length}`);
      const a = need(ctx, ins[0], 0, 'A'), b = need(ctx, ins[1], 1, 'B');
      if (a.kind === 'const' && b.kind === 'const') {
        const isInt = a.dtype !== ONNX_DTYPE.FLOAT && a.dtype !== ONNX_DTYPE.DOUBLE && a.dtype !== ONNX_DTYPE.FLOAT16;
        if (COMPARE.has(opType)) return [binaryConst(ctx, a, b, f, ONNX_DTYPE.BOOL)];
        return [binaryConst(ctx, a, b, opType === 'Div' && isInt ? (p, q) => Math.trunc(p / q) : f)];
      }
      if (a.kind === 'shape' || b.kind === 'shape') {
        if (COMPARE.has(opType)) ctx.fail(`${opType} on a shape is not supported`);
        return [shapeArith(ctx, a, b, f)];
      }
      if (a.kind === 'sym' && b.kind === 'sym') {
        const ra = a.perm.length, rb = b.perm.length;
        if (ra !== rb) ctx.fail(`operands of ranks ${ra} and ${rb}: broadcasting two computed tensors of different ranks is not supported`);
        const bt = held(ctx, b, a.perm);
        const at = held(ctx, a, a.perm);
        const sa = at.shape, sb = bt.shape;
        const eq = same(sa, sb);
        const { y } = ctx.add((nm) => (op === 'add' && eq ? new Add({ name: nm }) : op === 'mul' ? new Multiply({ name: nm }) : new Arithmetic({ name: nm, op })), [at, bt] as never);
        return [{ kind: 'sym', t: y, perm: a.perm }];
      }
      const x = (a.kind === 'sym' ? a : b) as Sym;
      const c = (a.kind === 'sym' ? b : a) as ConstVal;
      const xt = held(ctx, x, x.perm);
      const { constantShape, data } = heldConstant(ctx, c, x);
      const { layer, y } = ctx.add((nm) => new Arithmetic({ name: nm, op, constantShape, constantFirst: a.kind === 'const' }), xt);
      setWeights(layer, [{ data, shape: [1, ...constantShape] }]);
      return [{ kind: 'sym', t: y, perm: x.perm }];
    },
  };
}

/** A constant operand of an elementwise op with `x`, laid out as x is held (batch axis dropped). */
function heldConstant(ctx: Ctx, c: ConstVal, x: Sym): { constantShape: number[]; data: Floats } {
  const r = x.perm.length;
  if (c.shape.length > r) ctx.fail(`the constant of shape ${fmt(c.shape)} has more axes than the computed operand (rank ${r})`);
  if (prod(c.shape) === 1) return { constantShape: [], data: c.data };
  const full = [...new Array(r - c.shape.length).fill(1), ...c.shape];
  if (full[0] !== 1) ctx.fail(`the constant of shape ${fmt(c.shape)} spans the batch axis; only constants broadcast over the batch are supported`);
  const t = transposeData(c.data, full, x.perm);
  return { constantShape: t.shape.slice(1), data: t.data };
}

function shapeArith(ctx: Ctx, a: Val, b: Val, f: (x: number, y: number) => number): ShapeVal {
  const dims = (v: Val): (number | 'N')[] => (v.kind === 'shape' ? v.dims : v.kind === 'const' ? [...v.data] : ctx.fail('arithmetic between a shape and a computed tensor is not supported'));
  const da = dims(a), db = dims(b);
  const n = Math.max(da.length, db.length);
  const out: (number | 'N')[] = [];
  for (let i = 0; i < n; i++) {
    const p = da.length === 1 ? da[0] : da[i], q = db.length === 1 ? db[0] : db[i];
    if (p === 'N' || q === 'N') {
      // N * 1, N / 1, N + 0 keep the batch; anything else would freeze it.
      if ((p === 'N' && (q === 1 || q === 0)) || (q === 'N' && (p === 1 || p === 0))) { out.push('N'); continue; }
      ctx.fail('arithmetic on the (dynamic) batch size is not supported');
    }
    out.push(Math.trunc(f(p as number, q as number)));
  }
  return { kind: 'shape', dims: out, scalar: (a.kind === 'shape' ? a.scalar : true) && (b.kind === 'shape' ? b.scalar : true) && out.length === 1 };
}

const UNARY_F: Record<string, { fn: MathFunctionName; f: (x: number) => number }> = {
  Sqrt: { fn: 'sqrt', f: Math.sqrt },
  Neg: { fn: 'neg', f: (x) => -x },
  Abs: { fn: 'abs', f: Math.abs },
  Exp: { fn: 'exp', f: Math.exp },
  Log: { fn: 'log', f: Math.log },
  Reciprocal: { fn: 'reciprocal', f: (x) => 1 / x },
  Erf: { fn: 'erf', f: erfScalar },
};

function mathFn(opType: string): Handler {
  const { fn, f } = UNARY_F[opType];
  return {
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'X');
      if (x.kind === 'const') return [{ ...x, data: x.data.map(f) }];
      if (x.kind === 'shape') ctx.fail(`${opType} of a shape is not supported`);
      const s = x as Sym;
      const { y } = ctx.add((nm) => new MathFunction({ name: nm, fn }), held(ctx, s, s.perm));
      return [{ kind: 'sym', t: y, perm: s.perm }];
    },
  };
}

function clipHandler(): Handler {
  return {
    run: (ctx, ins) => {
      const n = ctx.node;
      const x = sym(ctx, ins[0]);
      let lo: number, hi: number;
      if (ctx.opset < 11) {
        lo = attrFloat(n, 'min', -Infinity);
        hi = attrFloat(n, 'max', Infinity);
      } else {
        const mn = optConst(ctx, ins[1], 1, 'min'), mx = optConst(ctx, ins[2], 2, 'max');
        lo = mn ? mn.data[0] : -Infinity;
        hi = mx ? mx.data[0] : Infinity;
      }
      const xt = held(ctx, x, x.perm);
      const { y } = ctx.add((nm) => (lo === 0
        ? new ReLU({ name: nm, ...(Number.isFinite(hi) ? { maxValue: hi } : {}) })
        : new MathFunction({ name: nm, fn: 'clip', ...(Number.isFinite(lo) ? { min: lo } : {}), ...(Number.isFinite(hi) ? { max: hi } : {}) })), xt);
      return [{ kind: 'sym', t: y, perm: x.perm }];
    },
  };
}

function hardSigmoidHandler(): Handler {
  return {
    run: (ctx, ins) => {
      const x = sym(ctx, ins[0]);
      const alpha = attrFloat(ctx.node, 'alpha', 0.2), beta = attrFloat(ctx.node, 'beta', 0.5);
      const xt = held(ctx, x, x.perm);
      if (Math.abs(alpha - 1 / 6) < 1e-6 && beta === 0.5) {
        return [{ kind: 'sym', t: ctx.add((nm) => new Activation({ name: nm, activation: 'hardSigmoid' }), xt).y, perm: x.perm }];
      }
      const s1 = ctx.add((nm) => new Arithmetic({ name: nm, op: 'mul', constantShape: [] }), xt);
      setWeights(s1.layer, [{ data: Float64Array.of(alpha), shape: [1] }]);
      const s2 = ctx.add((nm) => new Arithmetic({ name: nm, op: 'add', constantShape: [] }), s1.y);
      setWeights(s2.layer, [{ data: Float64Array.of(beta), shape: [1] }]);
      const s3 = ctx.add((nm) => new ReLU({ name: nm, maxValue: 1 }), s2.y);
      return [{ kind: 'sym', t: s3.y, perm: x.perm }];
    },
  };
}

function softmaxHandler(log: boolean): Handler {
  return {
    run: (ctx, ins) => {
      const x = sym(ctx, ins[0]);
      const r = x.perm.length;
      const a = normAxis(ctx, attrInt(ctx.node, 'axis', ctx.opset < 13 ? 1 : -1), r);
      if (ctx.opset < 13 && a !== r - 1) ctx.fail(`axis ${a} before opset 13 flattens the axes from ${a} on into one; only the last axis is supported`);
      if (a === 0) ctx.fail('softmax over the batch axis is not supported');
      if (!log) {
        const { y } = ctx.add((nm) => new Softmax({ name: nm, axis: x.perm.indexOf(a) }), held(ctx, x, x.perm));
        return [{ kind: 'sym', t: y, perm: x.perm }];
      }
      // logSoftmax works on the last held axis: bring the logical axis there if needed.
      let perm = x.perm;
      if (perm[r - 1] !== a) perm = [...perm.filter((p) => p !== a), a];
      const { y } = ctx.add((nm) => new Activation({ name: nm, activation: 'logSoftmax' }), held(ctx, x, perm));
      return [{ kind: 'sym', t: y, perm }];
    },
  };
}

// ---------------------------------------------------------------- dense

/** Rows of a [K, M] matrix (logical feature order) reordered into the held order. */
function permuteRows(w: Floats, k: number, m: number, featPerm: Int32Array): Floats {
  const out = allocLike(w, k * m);
  for (let j = 0; j < k; j++) out.set(w.subarray(featPerm[j] * m, featPerm[j] * m + m), j * m);
  return out;
}

function gemm(ctx: Ctx, ins: (Val | undefined)[]): Val[] {
  const n = ctx.node;
  const a = sym(ctx, ins[0]);
  const bv = constIn(ctx, ins[1], 1, 'B (weights)');
  const cv = optConst(ctx, ins[2], 2, 'C (bias)');
  if (a.perm.length !== 2) ctx.fail(`input A must have rank 2, received rank ${a.perm.length}`);
  if (bv.shape.length !== 2) ctx.fail(`B must have rank 2, received ${fmt(bv.shape)}`);
  const alpha = attrFloat(n, 'alpha', 1), beta = attrFloat(n, 'beta', 1);
  const w = attrInt(n, 'transB', 0) ? transposeData(bv.data, bv.shape, [1, 0]) : { data: bv.data, shape: bv.shape };
  const [k, m] = w.shape;
  const kin = a.t.shape[0];
  if (kin !== k) ctx.fail(`weights of shape ${fmt(bv.shape)}${attrInt(n, 'transB', 0) ? ' (transB)' : ''} expect ${k} input features, but the input has ${kin}`);
  let data = alpha === 1 ? w.data : w.data.map((v) => v * alpha);
  if (a.featPerm) data = permuteRows(data, k, m, a.featPerm);
  let bias: Float64Array | null = null;
  if (cv && beta !== 0) {
    const sz = prod(cv.shape);
    if (!(sz === m || sz === 1) || (cv.shape.length === 2 && cv.shape[0] !== 1)) ctx.fail(`C of shape ${fmt(cv.shape)} does not broadcast to [N, ${m}] without depending on the batch (expected [${m}] or [1, ${m}])`);
    bias = new Float64Array(m).map((_, i) => beta * cv.data[sz === 1 ? 0 : i]);
  }
  const { layer, y } = ctx.add((nm) => new Dense({ name: nm, units: m, useBias: !!bias }), a.t);
  setWeights(layer, [{ data, shape: [k, m] }, ...(bias ? [{ data: bias, shape: [m] }] : [])]);
  return [{ kind: 'sym', t: y, perm: [0, 1] }];
}

function matmul(ctx: Ctx, ins: (Val | undefined)[]): Val[] {
  const a = need(ctx, ins[0], 0, 'A'), b = need(ctx, ins[1], 1, 'B');
  if (a.kind !== 'sym' || b.kind !== 'const') ctx.fail('only a computed tensor times a constant matrix is supported');
  const x = a as Sym, w = b as ConstVal;
  if (w.shape.length !== 2) ctx.fail(`the constant operand must be a matrix, received shape ${fmt(w.shape)}`);
  const r = x.perm.length;
  if (r < 2) ctx.fail('a rank-1 operand is not supported');
  const [k, m] = w.shape;
  let data = w.data, xt: SymbolicTensor, perm = x.perm;
  if (x.featPerm) {
    data = permuteRows(data, k, m, x.featPerm);
    xt = x.t;
  } else {
    if (perm[r - 1] !== r - 1) perm = [...perm.filter((p) => p !== r - 1), r - 1];
    xt = held(ctx, x, perm);
  }
  const kin = xt.shape[xt.shape.length - 1];
  if (kin !== k) ctx.fail(`the matrix of shape ${fmt(w.shape)} expects ${k} features, but the input has ${kin}`);
  const { layer, y } = ctx.add((nm) => new Dense({ name: nm, units: m, useBias: false }), xt);
  setWeights(layer, [{ data, shape: [k, m] }]);
  return [{ kind: 'sym', t: y, perm }];
}

// ---------------------------------------------------------------- shapes

/** True when every consumer of `out` (through Identity and Dropout) reads it as the A input of a Gemm or MatMul (and it is no graph output). */
function onlyDenseConsumers(ctx: Ctx, out: string): boolean {
  if (ctx.graphOutputs.has(out)) return false;
  const cs = ctx.consumers.get(out) ?? [];
  return cs.length > 0 && cs.every((c) => ((c.opType === 'Identity' || c.opType === 'Dropout') && c.inputs[0] === out && onlyDenseConsumers(ctx, c.outputs[0])) || (c.opType === 'Gemm' && c.inputs[0] === out && c.inputs[1] !== out && !attrInt(c, 'transA', 0)) || (c.opType === 'MatMul' && c.inputs[0] === out && c.inputs[1] !== out));
}

/** [N, ...] -> [N, features] in the file's (C*H*W) order. */
function flattenTo2D(ctx: Ctx, x: Sym): Sym {
  const r = x.perm.length;
  if (r === 2) return x;
  if (same(x.perm, ident(r))) return { kind: 'sym', t: ctx.add((nm) => new Flatten({ name: nm }), x.t).y, perm: [0, 1] };
  if (onlyDenseConsumers(ctx, ctx.node.outputs[0])) {
    const ld = (logicalDims(x).slice(1)) as number[];
    const hd = x.t.shape;
    const lst = strides(ld);
    const n = prod(hd);
    const featPerm = new Int32Array(n);
    const idx = new Array<number>(hd.length).fill(0);
    for (let j = 0; j < n; j++) {
      let l = 0;
      for (let k = 0; k < hd.length; k++) l += idx[k] * lst[x.perm[k + 1] - 1];
      featPerm[j] = l;
      for (let k = hd.length - 1; k >= 0; k--) { if (++idx[k] < hd[k]) break; idx[k] = 0; }
    }
    return { kind: 'sym', t: ctx.add((nm) => new Flatten({ name: nm }), x.t).y, perm: [0, 1], featPerm };
  }
  const t = held(ctx, x, ident(r));
  return { kind: 'sym', t: ctx.add((nm) => new Flatten({ name: nm }), t).y, perm: [0, 1] };
}

function reshapeSym(ctx: Ctx, x: Sym, target: (number | 'N')[]): Sym {
  const xl = logicalDims(x);
  const t = target.map((d, i) => (d === 0 && attrInt(ctx.node, 'allowzero', 0) === 0 ? xl[i] : d));
  if (t[0] !== 'N' && t[0] !== -1 && !(ctx.fileBatch !== null && t[0] === ctx.fileBatch)) {
    ctx.fail(`reshape to ${fmt(target)} changes the batch axis (convkit keeps axis 0 as the batch); expected the batch size, 0 or -1 first`);
  }
  const restIn = prod(xl.slice(1) as number[]);
  const rest = t.slice(1);
  if (rest.includes('N')) ctx.fail(`reshape to ${fmt(target)} moves the batch size to another axis`);
  let dims = rest as number[];
  if (t[0] === -1 && dims.includes(-1)) ctx.fail(`reshape to ${fmt(target)} has two -1 entries`);
  if (dims.includes(-1)) {
    const known = prod(dims.filter((d) => d !== -1));
    dims = dims.map((d) => (d === -1 ? restIn / known : d));
  }
  if (prod(dims) !== restIn || dims.some((d) => !Number.isInteger(d) || d < 1)) ctx.fail(`cannot reshape an example of shape ${fmt(xl.slice(1))} to ${fmt(rest)}`);
  if (dims.length === 1) return flattenTo2D(ctx, x);
  if (same(dims, xl.slice(1) as number[])) return x;
  const xt = held(ctx, x, ident(xl.length));
  return { kind: 'sym', t: ctx.add((nm) => new Reshape({ name: nm, targetShape: dims }), xt).y, perm: ident(dims.length + 1) };
}

/** Drop size-1 logical axes without moving data: a reshape of the held tensor. */
function squeezeHeld(ctx: Ctx, x: Sym, axes: number[]): Sym {
  const keep = x.perm.filter((a) => !axes.includes(a));
  const sorted = [...keep].sort((p, q) => p - q);
  const dims = x.t.shape.filter((_, k) => !axes.includes(x.perm[k + 1]));
  const { y } = ctx.add((nm) => new Reshape({ name: nm, targetShape: dims }), x.t);
  return { kind: 'sym', t: y, perm: keep.map((a) => sorted.indexOf(a)) };
}

/** Insert size-1 logical axes (`axes` of the output) without moving data: they go last in the held tensor. */
function unsqueezeHeld(ctx: Ctx, x: Sym, axes: number[]): Sym {
  const r = x.perm.length + axes.length;
  const others = Array.from({ length: r }, (_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...x.perm.map((a) => others[a]), ...axes];
  const { y } = ctx.add((nm) => new Reshape({ name: nm, targetShape: [...x.t.shape, ...axes.map(() => 1)] }), x.t);
  return { kind: 'sym', t: y, perm };
}

function vecOf(ctx: Ctx, v: Val | undefined, i: number, what: string): (number | 'N')[] {
  const x = need(ctx, v, i, what);
  if (x.kind === 'const') return [...x.data];
  if (x.kind === 'shape') return x.dims;
  return ctx.fail(`input ${i} (${what}) must be a constant or a shape computation, not a tensor computed from the model input`);
}

function axesFrom(ctx: Ctx, ins: (Val | undefined)[], inputIndex: number, sinceOpset: number): number[] | null {
  if (ctx.opset >= sinceOpset) {
    if (!ins[inputIndex]) return null;
    return (vecOf(ctx, ins[inputIndex], inputIndex, 'axes') as number[]);
  }
  const a = attr(ctx.node, 'axes');
  return a?.ints ?? null;
}

function unsqueezeDims<T>(dims: T[], axes: number[], one: T, ctx: Ctx): T[] {
  const r = dims.length + axes.length;
  const ax = axes.map((a) => normAxis(ctx, a, r));
  const out: T[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) out.push(ax.includes(i) ? one : dims[k++]);
  return out;
}

// ---------------------------------------------------------------- table

const activation = (name: 'relu' | 'sigmoid' | 'tanh' | 'hardSwish' | 'softplus' | 'softsign' | 'selu' | 'swish' | 'gelu' | 'mish') =>
  unary((nm) => (name === 'relu' ? new ReLU({ name: nm }) : new Activation({ name: nm, activation: name })));

const passThrough: Handler = { run: (_ctx, ins) => [ins[0]] };

/** The importer's own nodes, made from several ONNX nodes by import.ts (fuseSwishAndGelu); no file can name them. */
export const FUSED_HANDLERS: Record<string, Handler> = {
  'convkit.Swish': activation('swish'),
  'convkit.Gelu': activation('gelu'),
};

export const HANDLERS: Record<string, Handler> = {
  // The activations later opsets made operators (Gelu 20, Mish 18, Swish 24): convkit's activation layers.
  Gelu: { ...activation('gelu'), check: (n) => (attrString(n, 'approximate', 'none') === 'none' ? null : "approximate 'tanh' is read by the graph interpreter only; use mode graph or auto") },
  Mish: activation('mish'),
  Swish: { ...activation('swish'), check: (n) => (attrFloat(n, 'alpha', 1) === 1 ? null : 'alpha other than 1 is read by the graph interpreter only; use mode graph or auto') },
  Conv: { check: autoPadCheck, run: conv },
  ConvTranspose: {
    check: (n) => {
      if (attrInt(n, 'group', 1) !== 1) return `group ${attrInt(n, 'group', 1)} is not supported (only 1)`;
      if (attr(n, 'output_shape')) return 'output_shape is not supported (give pads and output_padding)';
      const a = attrString(n, 'auto_pad', 'NOTSET');
      return a === 'NOTSET' || a === 'VALID' ? null : `auto_pad '${a}' is not supported`;
    },
    run: convTranspose,
  },
  BatchNormalization: {
    check: (n) => (attrInt(n, 'training_mode', 0) ? 'training_mode 1 is not supported (export in eval mode)' : n.outputs.slice(1).some((o) => o) ? 'the running-statistics outputs (training mode) are not supported' : null),
    run: batchNorm,
  },
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
  Relu: activation('relu'),
  Sigmoid: activation('sigmoid'),
  Tanh: activation('tanh'),
  HardSwish: activation('hardSwish'),
  Softplus: activation('softplus'),
  Softsign: activation('softsign'),
  Selu: {
    check: (n) => (Math.abs(attrFloat(n, 'alpha', 1.67326319217681884765625) - 1.6732632) > 1e-6 || Math.abs(attrFloat(n, 'gamma', 1.05070102214813232421875) - 1.050701) > 1e-6 ? 'only the default alpha and gamma are supported' : null),
    run: activation('selu').run,
  },
  LeakyRelu: unary((nm, n) => new LeakyReLU({ name: nm, alpha: attrFloat(n, 'alpha', 0.01) })),
  Elu: unary((nm, n) => new ELU({ name: nm, alpha: attrFloat(n, 'alpha', 1) })),
  HardSigmoid: hardSigmoidHandler(),
  Clip: clipHandler(),
  Softmax: softmaxHandler(false),
  LogSoftmax: softmaxHandler(true),
  Add: binary('Add'), Sub: binary('Sub'), Mul: binary('Mul'), Div: binary('Div'), Pow: binary('Pow'), Max: binary('Max'), Min: binary('Min'),
  Sqrt: mathFn('Sqrt'), Neg: mathFn('Neg'), Abs: mathFn('Abs'), Exp: mathFn('Exp'), Log: mathFn('Log'), Reciprocal: mathFn('Reciprocal'), Erf: mathFn('Erf'),
  Gemm: { check: (n) => (attrInt(n, 'transA', 0) ? 'transA 1 is not supported' : null), run: gemm },
  MatMul: { run: matmul },
  Dropout: {
    check: (n) => (n.outputs.length > 1 && n.outputs[1] ? 'the mask output is not supported' : null),
    run: passThrough.run,
  },
  Identity: passThrough,
  LRN: {
    // convkit's LRN layer sums channels c - floor(size/2) .. c + floor((size-1)/2) (PyTorch's window);
    // ONNX's is c - floor((size-1)/2) .. c + ceil((size-1)/2): the same for odd sizes only.
    check: (n) => (attrInt(n, 'size', 5) % 2 === 0 ? `an even size (${attrInt(n, 'size', 5)}) puts ONNX's window one channel off convkit's LRN layer; the graph interpreter (mode 'graph' or 'auto') computes it` : null),
    run: (ctx, ins) => {
      const n = ctx.node;
      const x = sym(ctx, ins[0]);
      const r = x.perm.length;
      const xt = held(ctx, x, cl(r));
      const { y } = ctx.add((nm) => new LRN({ name: nm, size: attrInt(n, 'size', 5), alpha: attrFloat(n, 'alpha', 1e-4), beta: attrFloat(n, 'beta', 0.75), k: attrFloat(n, 'bias', 1) }), xt);
      return [{ kind: 'sym', t: y, perm: cl(r) }];
    },
  },
  LayerNormalization: {
    check: (n) => (n.outputs.slice(1).some((o) => o) ? 'the Mean and InvStdDev outputs are not supported' : null),
    run: (ctx, ins) => {
      const x = sym(ctx, ins[0]);
      const scale = constIn(ctx, ins[1], 1, 'Scale');
      const bias = optConst(ctx, ins[2], 2, 'B');
      const r = x.perm.length;
      const a = normAxis(ctx, attrInt(ctx.node, 'axis', -1), r);
      if (a === 0) ctx.fail('normalising over the batch axis is not supported');
      const axes = Array.from({ length: r - a }, (_, i) => a + i);
      // The normalised axes must be the trailing held axes, in the file's order.
      const perm = [...x.perm.filter((p) => p < a), ...axes];
      const xt = held(ctx, x, perm);
      const xl = logicalDims(x).slice(a) as number[];
      if (prod(scale.shape) !== prod(xl)) ctx.fail(`Scale of shape ${fmt(scale.shape)} does not fit the normalised axes ${fmt(xl)}`);
      const { layer, y } = ctx.add((nm) => new LayerNormalization({ name: nm, axes: axes.map((_, i) => -(axes.length - i)), epsilon: attrFloat(ctx.node, 'epsilon', 1e-5), center: !!bias }), xt);
      setWeights(layer, [{ data: scale.data, shape: xl }, ...(bias ? [{ data: bias.data, shape: xl }] : [])]);
      return [{ kind: 'sym', t: y, perm }];
    },
  },
  Flatten: {
    check: (n) => (attrInt(n, 'axis', 1) !== 1 ? `axis ${attrInt(n, 'axis', 1)} is not supported (only 1: keep the batch axis)` : null),
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input');
      if (x.kind === 'const') return [{ ...x, shape: [x.shape[0], prod(x.shape.slice(1))] }];
      return [flattenTo2D(ctx, sym(ctx, x))];
    },
  },
  Reshape: {
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data');
      const target = ctx.opset < 5 ? attrInts(ctx.node, 'shape', []) : vecOf(ctx, ins[1], 1, 'shape');
      if (x.kind === 'const') {
        if (target.includes('N')) ctx.fail('reshaping a constant with the batch size is not supported');
        const t = (target as number[]).map((d, i) => (d === 0 ? x.shape[i] : d));
        const known = prod(t.filter((d) => d !== -1));
        return [{ ...x, shape: t.map((d) => (d === -1 ? x.data.length / known : d)) }];
      }
      if (x.kind === 'shape') return [{ ...x, scalar: false }];
      return [reshapeSym(ctx, x, target)];
    },
  },
  Transpose: {
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data');
      if (x.kind === 'shape') return ctx.fail('transposing a shape is not supported');
      const r = x.kind === 'const' ? x.shape.length : x.perm.length;
      const p = attrInts(ctx.node, 'perm', ident(r).reverse());
      if (x.kind === 'const') {
        const t = transposeData(x.data, x.shape, p);
        return [{ ...x, data: t.data, shape: t.shape }];
      }
      if (p[0] !== 0) ctx.fail(`perm ${fmt(p)} moves the batch axis`);
      // No data moves: the held tensor is relabelled (new logical axis i is old axis p[i]).
      return [{ kind: 'sym', t: x.t, perm: x.perm.map((a) => p.indexOf(a)) }];
    },
  },
  Concat: {
    run: (ctx, ins) => {
      const vals = ins.map((v, i) => need(ctx, v, i, 'input'));
      if (vals.every((v) => v.kind === 'const')) {
        const cs = vals as ConstVal[];
        const r = cs[0].shape.length;
        const a = normAxis(ctx, attrInt(ctx.node, 'axis', 0), r);
        return [concatConst(cs, a)];
      }
      if (vals.every((v) => v.kind !== 'sym')) {
        const dims: (number | 'N')[] = [];
        for (const v of vals) dims.push(...(v.kind === 'shape' ? v.dims : [...(v as ConstVal).data]));
        return [{ kind: 'shape', dims, scalar: false }];
      }
      if (vals.some((v) => v.kind !== 'sym')) ctx.fail('concatenating a computed tensor with a constant is not supported');
      const xs = vals as Sym[];
      const r = xs[0].perm.length;
      const a = normAxis(ctx, attrInt(ctx.node, 'axis', 0), r);
      if (a === 0) ctx.fail('concatenation along the batch axis is not supported');
      const perm = xs[0].perm;
      const ts = xs.map((x) => held(ctx, x, perm));
      const { y } = ctx.add((nm) => new Concatenate({ name: nm, axis: perm.indexOf(a) }), ts);
      return [{ kind: 'sym', t: y, perm }];
    },
  },
  Shape: {
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data');
      let dims: (number | 'N')[] = x.kind === 'const' ? x.shape : x.kind === 'shape' ? [x.scalar ? 0 : x.dims.length].filter(() => !x.scalar) : logicalDims(x);
      if (ctx.opset >= 15) {
        const r = dims.length;
        const st = attrInt(ctx.node, 'start', 0), en = attrInt(ctx.node, 'end', r);
        const clampI = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
        dims = dims.slice(clampI(st), clampI(en));
      }
      if (dims.includes('N')) return [{ kind: 'shape', dims, scalar: false }];
      return [C([dims.length], dims as number[], ONNX_DTYPE.INT64)];
    },
  },
  Gather: {
    run: (ctx, ins) => {
      const d = need(ctx, ins[0], 0, 'data');
      const idx = constIn(ctx, ins[1], 1, 'indices');
      const axis = attrInt(ctx.node, 'axis', 0);
      if (d.kind === 'sym') {
        // x[:, i] or x[:, i:j] on a non-batch axis: a Slice (and a squeeze for a scalar index).
        const r = d.perm.length;
        const a = normAxis(ctx, axis, r);
        if (a === 0) ctx.fail('gathering along the batch axis is not supported');
        const n = logicalDims(d)[a] as number;
        const ids = [...idx.data].map((i) => (i < 0 ? i + n : i));
        if (idx.shape.length > 1 || !ids.length || ids.some((i, k) => i !== ids[0] + k) || ids[0] < 0 || ids[ids.length - 1] >= n) {
          ctx.fail(`indices ${fmt([...idx.data])} on a computed tensor: only one index or a run of consecutive indices within axis ${a} (size ${n}) is supported`);
        }
        const ha = d.perm.indexOf(a) - 1;
        const begin = d.t.shape.map((_, k) => (k === ha ? ids[0] : 0));
        const size = d.t.shape.map((dd, k) => (k === ha ? ids.length : dd));
        const { y } = ctx.add((nm) => new Slice({ name: nm, begin, size }), held(ctx, d, d.perm));
        const sliced: Sym = { kind: 'sym', t: y, perm: d.perm };
        return [idx.shape.length === 0 ? squeezeHeld(ctx, sliced, [a]) : sliced];
      }
      if (d.kind === 'shape') {
        if (axis !== 0) ctx.fail(`axis ${axis} of a 1-D shape`);
        const n = d.dims.length;
        const picked = [...idx.data].map((i) => d.dims[i < 0 ? i + n : i]);
        if (picked.some((p) => p === undefined)) ctx.fail(`indices ${fmt([...idx.data])} out of range for a shape of ${n} entries`);
        if (!picked.includes('N')) return [C(idx.shape, picked as number[], ONNX_DTYPE.INT64)];
        return [{ kind: 'shape', dims: picked, scalar: idx.shape.length === 0 }];
      }
      return [gatherConst(ctx, d, idx, axis)];
    },
  },
  Unsqueeze: {
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data');
      const axes = axesFrom(ctx, ins, 1, 13);
      if (!axes) ctx.fail('axes are required');
      if (x.kind === 'shape') {
        if (!x.scalar || axes!.length !== 1) ctx.fail('unsqueezing a shape vector is not supported');
        return [{ kind: 'shape', dims: x.dims, scalar: false }];
      }
      if (x.kind === 'const') return [{ ...x, shape: unsqueezeDims(x.shape, axes!, 1, ctx) }];
      const r = x.perm.length + axes!.length;
      const ax = axes!.map((a) => normAxis(ctx, a, r));
      if (ax.includes(0)) ctx.fail('unsqueezing before the batch axis is not supported');
      return [unsqueezeHeld(ctx, x, ax)];
    },
  },
  Squeeze: {
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data');
      const axesIn = axesFrom(ctx, ins, 1, 13);
      if (x.kind === 'shape') return [{ ...x, scalar: x.dims.length === 1 }];
      const dims = x.kind === 'const' ? x.shape : logicalDims(x);
      const r = dims.length;
      const axes = (axesIn ?? dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => normAxis(ctx, a, r));
      if (axes.some((a) => dims[a] !== 1)) ctx.fail(`cannot squeeze axes ${fmt(axes)} of shape ${fmt(dims)}: they must have size 1`);
      const out = dims.filter((_, i) => !axes.includes(i));
      if (x.kind === 'const') return [{ ...x, shape: out as number[] }];
      if (axes.includes(0)) ctx.fail('squeezing the batch axis is not supported');
      return [squeezeHeld(ctx, x, axes)];
    },
  },
  Cast: {
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input');
      const to = attrInt(ctx.node, 'to', ONNX_DTYPE.FLOAT);
      if (x.kind === 'const') {
        const isInt = ![ONNX_DTYPE.FLOAT, ONNX_DTYPE.DOUBLE, ONNX_DTYPE.FLOAT16, ONNX_DTYPE.BFLOAT16].includes(to as never);
        return [{ ...x, dtype: to, data: isInt ? x.data.map(to === ONNX_DTYPE.BOOL ? (v) => (v ? 1 : 0) : Math.trunc) : x.data }];
      }
      if (x.kind === 'shape') return [x];
      if (![ONNX_DTYPE.FLOAT, ONNX_DTYPE.DOUBLE, ONNX_DTYPE.FLOAT16].includes(to as never)) ctx.fail('casting a computed tensor to a non-float type is not supported');
      return [x];
    },
  },
  Constant: {
    check: (n) => (n.attributes.some((a) => a.name === 'sparse_value' || a.name === 'value_string' || a.name === 'value_strings') ? `attribute ${n.attributes[0].name} is not supported` : null),
    run: (ctx) => {
      const n = ctx.node;
      const a = n.attributes[0];
      if (!a) ctx.fail('no value attribute');
      if (a.t) return [{ kind: 'const', shape: [...a.t.dims], data: a.t.data instanceof Float32Array ? a.t.data : new Float64Array(a.t.data), dtype: a.t.dataType }];
      if (a.name === 'value_float') return [C([], [a.f ?? 0])];
      if (a.name === 'value_floats') return [C([a.floats!.length], a.floats!)];
      if (a.name === 'value_int') return [C([], [a.i ?? 0], ONNX_DTYPE.INT64)];
      if (a.name === 'value_ints') return [C([a.ints!.length], a.ints!, ONNX_DTYPE.INT64)];
      return ctx.fail(`attribute ${a.name} is not supported`);
    },
  },
  ConstantOfShape: {
    run: (ctx, ins) => {
      const s = vecOf(ctx, ins[0], 0, 'input');
      if (s.includes('N')) ctx.fail('a constant whose shape holds the batch size is not supported');
      const v = attr(ctx.node, 'value')?.t;
      const shape = s as number[];
      return [{ kind: 'const', shape, data: new Float64Array(prod(shape)).fill(v ? v.data[0] : 0), dtype: v?.dataType ?? ONNX_DTYPE.FLOAT }];
    },
  },
  PRelu: {
    run: (ctx, ins) => {
      const x = sym(ctx, ins[0]);
      const slope = constIn(ctx, ins[1], 1, 'slope');
      const xl = logicalDims(x), r = xl.length;
      const c = r >= 2 ? (xl[1] as number) : 1;
      const n = prod(slope.shape);
      // PyTorch: one slope ([1]) or one per channel ([C] on [N, C], [C, 1, 1] on [N, C, H, W]).
      // Before opset 7 (PRelu-1/6), and from 7 on where NumPy broadcasting fails (ONNX's reference evaluator): [C] on [N, C, ...].
      const legacy = slope.shape.length === 1 && r > 2 && (ctx.opset < 7 || xl[r - 1] !== n);
      const perChannel = n === c && slope.shape.filter((d) => d !== 1).length <= 1 && (slope.shape.length === r - 1 || slope.shape.length === 1 && r === 2 || n === 1 || legacy);
      if (!(n === 1 || perChannel)) ctx.fail(`slope of shape ${fmt(slope.shape)}: only one slope or one per channel (${c}) is supported`);
      const xt = held(ctx, x, cl(r));
      const { layer, y } = ctx.add((nm) => new PReLU({ name: nm }), xt);
      setWeights(layer, [{ data: n === 1 ? new Float64Array(c).fill(slope.data[0]) : slope.data, shape: [c] }]);
      return [{ kind: 'sym', t: y, perm: cl(r) }];
    },
  },
  Greater: binary('Greater'), Less: binary('Less'), Equal: binary('Equal'), GreaterOrEqual: binary('GreaterOrEqual'), LessOrEqual: binary('LessOrEqual'),
  Where: {
    run: (ctx, ins) => {
      const vs = [0, 1, 2].map((i) => need(ctx, ins[i], i, ['condition', 'X', 'Y'][i]));
      if (vs.every((v) => v.kind === 'const')) {
        const [c, a, b] = vs as ConstVal[];
        const shape = broadcastShape(broadcastShape(c.shape, a.shape, ctx), b.shape, ctx);
        const ic = bcastIndex(c.shape, shape), ia = bcastIndex(a.shape, shape), ib = bcastIndex(b.shape, shape);
        return [{ kind: 'const', shape, dtype: a.dtype, data: new Float64Array(ic.length).map((_, i) => (c.data[ic[i]] ? a.data[ia[i]] : b.data[ib[i]])) }];
      }
      const kinds = vs.map((v) => v.kind);
      if (kinds[0] === 'sym' && kinds.slice(1).filter((k) => k === 'sym').length === 1 && kinds.slice(1).includes('const')) {
        // One of X / Y constant: stored in the layer, laid out as the condition is held.
        const cond = vs[0] as Sym, at = kinds[1] === 'const' ? 'a' : 'b';
        const other = (at === 'a' ? vs[2] : vs[1]) as Sym, c = (at === 'a' ? vs[1] : vs[2]) as ConstVal;
        if (other.perm.length !== cond.perm.length) ctx.fail(`operands of ranks ${cond.perm.length} and ${other.perm.length}: broadcasting computed tensors of different ranks is not supported`);
        const { constantShape, data } = heldConstant(ctx, c, cond);
        const { layer, y } = ctx.add((nm) => new Where({ name: nm, constantShape, constantAt: at }), [held(ctx, cond, cond.perm), held(ctx, other, cond.perm)]);
        setWeights(layer, [{ data, shape: [1, ...constantShape] }]);
        return [{ kind: 'sym', t: y, perm: cond.perm }];
      }
      if (!vs.every((v) => v.kind === 'sym')) ctx.fail(`inputs of kinds ${vs.map((v) => (v.kind === 'sym' ? 'computed' : v.kind === 'const' ? 'constant' : 'shape')).join(', ')}: a Where on computed tensors needs a computed condition and at most one constant of X and Y`);
      const ss = vs as Sym[];
      const r = ss[0].perm.length;
      if (ss.some((v) => v.perm.length !== r)) ctx.fail(`operands of ranks ${ss.map((v) => v.perm.length).join(', ')}: broadcasting computed tensors of different ranks is not supported`);
      const ts = ss.map((v) => held(ctx, v, ss[0].perm));
      const { y } = ctx.add((nm) => new Where({ name: nm }), ts);
      return [{ kind: 'sym', t: y, perm: ss[0].perm }];
    },
  },
  Expand: {
    run: (ctx, ins) => {
      const x = constIn(ctx, ins[0], 0, 'input');
      let s = vecOf(ctx, ins[1], 1, 'shape');
      if (s.includes('N')) {
        // c.expand_as(x) feeding only elementwise ops with another operand: broadcasting over
        // the batch there does the expansion, so the constant keeps a batch axis of 1.
        const out = ctx.node.outputs[0];
        const cs = ctx.consumers.get(out) ?? [];
        const onlyElementwise = !ctx.graphOutputs.has(out) && cs.length > 0 && cs.every((c) => c.opType in ARITH && c.inputs.length === 2 && c.inputs.filter((i) => i === out).length === 1);
        if (s.indexOf('N') !== 0 || s.lastIndexOf('N') !== 0 || s.length < x.shape.length || !onlyElementwise) {
          ctx.fail(`expanding to the batch size ${fmt(s)} is supported only on the leading axis and when only elementwise ops with a computed operand (Add, Mul, ...) read the result`);
        }
        s = [1, ...s.slice(1)];
      }
      const shape = broadcastShape(x.shape, s as number[], ctx);
      const ix = bcastIndex(x.shape, shape);
      return [{ ...x, shape, data: new Float64Array(ix.length).map((_, i) => x.data[ix[i]]) }];
    },
  },
  Range: {
    run: (ctx, ins) => {
      const [s, l, d] = [0, 1, 2].map((i) => constIn(ctx, ins[i], i, ['start', 'limit', 'delta'][i]).data[0]);
      const n = Math.max(Math.ceil((l - s) / d), 0);
      return [C([n], Array.from({ length: n }, (_, i) => s + i * d), constIn(ctx, ins[0], 0, 'start').dtype)];
    },
  },
  Resize: {
    check: (n, opset) => {
      const mode = attrString(n, 'mode', 'nearest');
      if (mode !== 'nearest' && mode !== 'linear') return `mode '${mode}' is not supported (nearest and linear are)`;
      if (opset >= 11) {
        const ct = attrString(n, 'coordinate_transformation_mode', 'half_pixel');
        if (!['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'].includes(ct)) return `coordinate_transformation_mode '${ct}' is not supported`;
        const nm = attrString(n, 'nearest_mode', 'round_prefer_floor');
        if (!['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].includes(nm)) return `nearest_mode '${nm}' is not supported`;
        if (attrInt(n, 'exclude_outside', 0)) return 'exclude_outside 1 is not supported';
      }
      return null;
    },
    run: (ctx, ins) => resize(ctx, ins, ctx.opset >= 11 ? ins[2] : ins[1], ctx.opset >= 11 ? ins[3] : undefined),
  },
  Upsample: {
    check: (n) => {
      const mode = attrString(n, 'mode', 'nearest');
      return mode === 'nearest' || mode === 'linear' || mode === 'bilinear' ? null : `mode '${mode}' is not supported (nearest and linear are)`;
    },
    run: (ctx, ins) => {
      const sc = attr(ctx.node, 'scales')?.floats;
      return resize(ctx, ins, sc ? C([sc.length], sc) : ins[1], undefined);
    },
  },
  InstanceNormalization: {
    run: (ctx, ins) => {
      const x = sym(ctx, ins[0]);
      const r = x.perm.length;
      const c = logicalDims(x)[1] as number;
      const ps = [1, 2].map((i) => constIn(ctx, ins[i], i, i === 1 ? 'scale' : 'B'));
      ps.forEach((p, i) => {
        if (p.shape.length !== 1 || p.shape[0] !== c) ctx.fail(`${i ? 'B' : 'scale'} has shape ${fmt(p.shape)}; expected [${c}]`);
      });
      if (r < 3) ctx.fail(`expected an input of rank 3 or more (N, C, spatial...), received rank ${r}`);
      const { layer, y } = ctx.add((nm) => new InstanceNormalization({ name: nm, epsilon: attrFloat(ctx.node, 'epsilon', 1e-5) }), held(ctx, x, cl(r)));
      setWeights(layer, ps.map((p) => ({ data: p.data, shape: [c] })));
      return [{ kind: 'sym', t: y, perm: cl(r) }];
    },
  },
  ReduceMean: reduce('mean'),
  ReduceSum: reduce('sum'),
  ReduceMax: reduce('max'),
  Pad: {
    check: (n) => {
      const mode = attrString(n, 'mode', 'constant');
      return ['constant', 'reflect', 'edge'].includes(mode) ? null : `mode '${mode}' is not supported (constant, reflect and edge are)`;
    },
    run: (ctx, ins) => {
      const x = sym(ctx, ins[0]);
      const r = x.perm.length;
      let pads = (ctx.opset < 11 ? attrInts(ctx.node, 'pads', []) : vecOf(ctx, ins[1], 1, 'pads')) as number[];
      const value = ctx.opset < 11 ? attrFloat(ctx.node, 'value', 0) : ins[2] ? constIn(ctx, ins[2], 2, 'constant_value').data[0] : 0;
      if (ctx.opset >= 18 && ins[3]) {
        // Opset 18: pads for the listed axes only (begins, then ends), the others unpadded.
        const axes = (vecOf(ctx, ins[3], 3, 'axes') as number[]).map((a) => normAxis(ctx, a, r));
        if (pads.length !== 2 * axes.length) ctx.fail(`pads has ${pads.length} entries; expected ${2 * axes.length} for axes ${fmt(axes)}`);
        const full = new Array<number>(2 * r).fill(0);
        axes.forEach((a, i) => { full[a] = pads[i]; full[a + r] = pads[i + axes.length]; });
        pads = full;
      }
      if (pads.length !== 2 * r) ctx.fail(`pads has ${pads.length} entries; expected ${2 * r}`);
      if (pads.some((p) => p < 0)) ctx.fail(`negative pads ${fmt(pads)} are not supported`);
      if (pads[0] || pads[r]) ctx.fail('padding the batch axis is not supported');
      const paddings = x.perm.slice(1).map((a) => [pads[a], pads[a + r]] as [number, number]);
      const mode = attrString(ctx.node, 'mode', 'constant') as PadMode;
      const { y } = ctx.add((nm) => new Pad({ name: nm, paddings, value, mode }), held(ctx, x, x.perm));
      return [{ kind: 'sym', t: y, perm: x.perm }];
    },
  },
  Slice: {
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data');
      const n = ctx.node;
      let starts: number[], ends: number[], axes: number[] | null, steps: number[] | null;
      if (ctx.opset < 10) {
        starts = attrInts(n, 'starts', []); ends = attrInts(n, 'ends', []); axes = attr(n, 'axes')?.ints ?? null; steps = null;
      } else {
        starts = vecOf(ctx, ins[1], 1, 'starts') as number[]; ends = vecOf(ctx, ins[2], 2, 'ends') as number[];
        axes = ins[3] ? (vecOf(ctx, ins[3], 3, 'axes') as number[]) : null;
        steps = ins[4] ? (vecOf(ctx, ins[4], 4, 'steps') as number[]) : null;
      }
      if (x.kind === 'const') {
        // Any steps (PyTorch reverses pad vectors with step -1) on a constant.
        const r = x.shape.length;
        const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(ctx, a, r));
        const picks = x.shape.map((d) => Array.from({ length: d }, (_, i) => i));
        ax.forEach((a, i) => {
          const d = x.shape[a], st = steps ? steps[i] : 1;
          if (!st) ctx.fail('a step of 0');
          let b = starts[i] < 0 ? starts[i] + d : starts[i], e = ends[i] < 0 ? ends[i] + d : ends[i];
          if (st > 0) { b = Math.min(d, Math.max(0, b)); e = Math.min(d, Math.max(0, e)); } else { b = Math.min(d - 1, Math.max(0, b)); e = Math.min(d - 1, Math.max(-1, e)); }
          const idx: number[] = [];
          for (let k = b; st > 0 ? k < e : k > e; k += st) idx.push(k);
          picks[a] = idx;
        });
        return [gatherPicks(x, picks)];
      }
      if (x.kind === 'shape') {
        if (steps && steps.some((s) => s !== 1)) ctx.fail(`steps ${fmt(steps)} are not supported on a shape (only 1)`);
        if ((axes && axes[0] !== 0) || starts.length !== 1) ctx.fail('slicing a shape on an axis other than 0');
        const len = x.dims.length;
        const b = clampIdx(starts[0], len), e = clampIdx(ends[0], len);
        const dims = x.dims.slice(b, Math.max(b, e));
        if (!dims.includes('N')) return [C([dims.length], dims as number[], ONNX_DTYPE.INT64)];
        return [{ kind: 'shape', dims, scalar: false }];
      }
      const dims = logicalDims(x) as (number | 'N')[];
      const r = dims.length;
      const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(ctx, a, r));
      const begin = new Array(r).fill(0), size = dims.map((d) => d), stride = new Array(r).fill(1);
      ax.forEach((a, i) => {
        const st = steps ? steps[i] : 1;
        if (!st) ctx.fail(`a step of 0 on axis ${a}`);
        if (a === 0) {
          const e = ends[i];
          if (st === 1 && starts[i] === 0 && (e >= 2 ** 31 - 1 || e === -1 + 2 ** 63)) return;
          ctx.fail('slicing the batch axis is not supported');
        }
        const d = dims[a] as number;
        // ONNX Slice: negative indices count from the end; clamped to [0, d] (step > 0) or [-1, d - 1] (step < 0).
        let b = starts[i] < 0 ? starts[i] + d : starts[i], e = ends[i] < 0 ? ends[i] + d : ends[i];
        if (st > 0) { b = Math.min(d, Math.max(0, b)); e = Math.min(d, Math.max(0, e)); } else { b = Math.min(d - 1, Math.max(0, b)); e = Math.min(d - 1, Math.max(-1, e)); }
        const n = st > 0 ? Math.ceil((e - b) / st) : Math.ceil((b - e) / -st);
        begin[a] = b;
        size[a] = Math.max(0, n);
        stride[a] = st;
      });
      if ((size as number[]).some((s, i) => i > 0 && s < 1)) ctx.fail(`the slice is empty (sizes ${fmt(size)})`);
      const s = x as Sym;
      const hb = s.perm.slice(1).map((a) => begin[a]), hs = s.perm.slice(1).map((a) => size[a] as number), hst = s.perm.slice(1).map((a) => stride[a]);
      const strided = hst.some((v) => v !== 1);
      const { y } = ctx.add((nm) => new Slice({ name: nm, begin: hb, size: hs, ...(strided ? { strides: hst } : {}) }), held(ctx, s, s.perm));
      return [{ kind: 'sym', t: y, perm: s.perm }];
    },
  },
  Split: {
    run: (ctx, ins) => {
      const x = sym(ctx, ins[0]);
      const r = x.perm.length;
      const a = normAxis(ctx, attrInt(ctx.node, 'axis', 0), r);
      if (a === 0) ctx.fail('splitting the batch axis is not supported');
      const d = logicalDims(x)[a] as number;
      const nOut = ctx.node.outputs.length;
      const sizes = splitSizes(ctx, d, nOut, ctx.opset < 13 ? attr(ctx.node, 'split')?.ints ?? null : ins[1] ? (vecOf(ctx, ins[1], 1, 'split') as number[]) : null, a);
      const ha = x.perm.indexOf(a);
      const xt = held(ctx, x, x.perm);
      let off = 0;
      return sizes.map((sz) => {
        const begin = xt.shape.map((_, i) => (i === ha - 1 ? off : 0));
        const size = xt.shape.map((dd, i) => (i === ha - 1 ? sz : dd));
        off += sz;
        const { y } = ctx.add((nm) => new Slice({ name: nm, begin, size }), xt);
        return { kind: 'sym', t: y, perm: x.perm } as Sym;
      });
    },
  },
};

function resize(ctx: Ctx, ins: (Val | undefined)[], scalesIn: Val | undefined, sizesIn: Val | undefined): Val[] {
  const n = ctx.node;
  const x = sym(ctx, ins[0]);
  const xl = logicalDims(x);
  if (xl.length === 3 || xl.length === 5) return repeatResize(ctx, x, scalesIn);
  if (xl.length !== 4) ctx.fail(`only 4D (N, C, H, W) inputs are supported, received rank ${xl.length}`);
  const [h, w] = xl.slice(2) as number[];
  let oh: number, ow: number;
  const scales = scalesIn && !(scalesIn.kind === 'const' && scalesIn.data.length === 0) ? vecOf(ctx, scalesIn, 2, 'scales') : null;
  if (scales) {
    if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) ctx.fail(`scales ${fmt(scales)}: only scaling H and W is supported (batch and channel scales 1)`);
    const [sh, sw] = scales.slice(2) as number[];
    oh = Math.floor(h * sh);
    ow = Math.floor(w * sw);
    if (Math.abs(oh / h - sh) > 1e-6 || Math.abs(ow / w - sw) > 1e-6) ctx.fail(`scales ${fmt(scales)} do not give whole output sizes for ${h}x${w}; give sizes instead`);
  } else if (sizesIn) {
    const sizes = vecOf(ctx, sizesIn, 3, 'sizes');
    if (sizes.length !== 4 || typeof sizes[2] !== 'number' || typeof sizes[3] !== 'number' || (sizes[1] !== xl[1] && sizes[1] !== 'N')) ctx.fail(`sizes ${fmt(sizes)}: expected [N, ${xl[1]}, height, width]`);
    [oh, ow] = sizes.slice(2) as number[];
  } else {
    return ctx.fail('neither scales nor sizes is given');
  }
  const mode = attrString(n, 'mode', 'nearest');
  const old = ctx.opset < 11 || n.opType === 'Upsample';
  const coordinates = (old ? 'asymmetric' : attrString(n, 'coordinate_transformation_mode', 'half_pixel')) as ResizeCoordinates;
  const nearestMode = (old ? 'floor' : attrString(n, 'nearest_mode', 'round_prefer_floor')) as ResizeNearest;
  const { y } = ctx.add((nm) => new Resizing({ name: nm, height: oh, width: ow, interpolation: mode === 'nearest' ? 'nearest' : 'bilinear', coordinates, nearestMode }), held(ctx, x, cl(4)));
  return [{ kind: 'sym', t: y, perm: cl(4) }];
}

/**
 * Resize of a signal (N, C, L) or a volume (N, C, D, H, W): only what repeats every cell, i.e.
 * 'nearest' with whole scales, 'asymmetric' + 'floor' (convkit's UpSampling1D / UpSampling3D
 * export exactly this).
 */
function repeatResize(ctx: Ctx, x: Sym, scalesIn: Val | undefined): Val[] {
  const n = ctx.node;
  const r = logicalDims(x).length;
  const what = `a rank-${r} input is supported only as nearest upsampling by whole scales ('nearest', 'asymmetric', 'floor')`;
  const mode = attrString(n, 'mode', 'nearest');
  const ct = ctx.opset < 11 ? 'asymmetric' : attrString(n, 'coordinate_transformation_mode', 'half_pixel');
  const nm = ctx.opset < 11 ? 'floor' : attrString(n, 'nearest_mode', 'round_prefer_floor');
  if (mode !== 'nearest' || ct !== 'asymmetric' || nm !== 'floor') ctx.fail(`${what}; received mode '${mode}', ${ct}, ${nm}`);
  const scales = scalesIn && !(scalesIn.kind === 'const' && scalesIn.data.length === 0) ? vecOf(ctx, scalesIn, 2, 'scales') : null;
  if (!scales || scales.length !== r || scales[0] !== 1 || scales[1] !== 1 || scales.slice(2).some((v) => !Number.isInteger(v) || (v as number) < 1)) {
    ctx.fail(`${what}; received scales ${scales ? fmt(scales) : '(none: sizes)'}`);
  }
  const f = scales!.slice(2) as number[];
  const { y } = ctx.add((name) => (r === 3 ? new UpSampling1D({ name, size: f[0] }) : new UpSampling3D({ name, size: [f[0], f[1], f[2]] })), held(ctx, x, cl(r)));
  return [{ kind: 'sym', t: y, perm: cl(r) }];
}

function clampIdx(v: number, d: number): number {
  const x = v < 0 ? v + d : v;
  return Math.min(d, Math.max(0, x));
}

function reduce(op: ReduceOp): Handler {
  return {
    run: (ctx, ins) => {
      const x = sym(ctx, ins[0]);
      const r = x.perm.length;
      const sumInputs = op === 'sum' ? 13 : 18;
      const axesIn = axesFrom(ctx, ins, 1, sumInputs);
      const axes = (axesIn ?? ident(r)).map((a) => normAxis(ctx, a, r));
      if (axes.includes(0)) ctx.fail('reducing over the batch axis is not supported');
      const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
      const heldAxes = axes.map((a) => x.perm.indexOf(a));
      const { y } = ctx.add((nm) => new Reduce({ name: nm, op, axes: heldAxes, keepDims: keep }), held(ctx, x, x.perm));
      if (keep) return [{ kind: 'sym', t: y, perm: x.perm }];
      const remaining = x.perm.filter((a) => !axes.includes(a));
      const sorted = [...remaining].sort((p, q) => p - q);
      return [{ kind: 'sym', t: y, perm: remaining.map((a) => sorted.indexOf(a)) }];
    },
  };
}

function concatConst(cs: ConstVal[], a: number): ConstVal {
  const shape = [...cs[0].shape];
  shape[a] = cs.reduce((s, c) => s + c.shape[a], 0);
  const outer = prod(shape.slice(0, a)), inner = prod(shape.slice(a + 1));
  const data = new Float64Array(prod(shape));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const c of cs) {
      const n = c.shape[a] * inner;
      data.set(c.data.subarray(i * n, i * n + n), o);
      o += n;
    }
  }
  return { kind: 'const', shape, data, dtype: cs[0].dtype };
}

function gatherConst(ctx: Ctx, d: ConstVal, idx: ConstVal, axis: number): ConstVal {
  const r = d.shape.length;
  const a = normAxis(ctx, axis, r);
  const outer = prod(d.shape.slice(0, a)), inner = prod(d.shape.slice(a + 1)), n = d.shape[a];
  const ids = [...idx.data].map((i) => (i < 0 ? i + n : i));
  if (ids.some((i) => i < 0 || i >= n)) ctx.fail(`indices ${fmt([...idx.data])} out of range for axis ${a} of size ${n}`);
  const data = new Float64Array(outer * ids.length * inner);
  let o = 0;
  for (let i = 0; i < outer; i++) for (const j of ids) { data.set(d.data.subarray((i * n + j) * inner, (i * n + j + 1) * inner), o); o += inner; }
  return { kind: 'const', shape: [...d.shape.slice(0, a), ...idx.shape, ...d.shape.slice(a + 1)], data, dtype: d.dtype };
}

/** The sub-array of `x` at the index lists `picks` (one per axis). */
function gatherPicks(x: ConstVal, picks: number[][]): ConstVal {
  const st = strides(x.shape), shape = picks.map((p) => p.length), n = prod(shape), r = shape.length;
  const data = new Float64Array(n);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o++) {
    let s = 0;
    for (let i = 0; i < r; i++) s += picks[i][idx[i]] * st[i];
    data[o] = x.data[s];
    for (let i = r - 1; i >= 0; i--) { if (++idx[i] < shape[i]) break; idx[i] = 0; }
  }
  return { ...x, shape, data };
}

