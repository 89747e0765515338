/**
 * One evaluator per ONNX operator for the graph interpreter (./graph_model.ts). Each runs
 * on whole convkit tensors in the file's own layout (NCHW: activations are transposed to
 * NHWC around conv and pool ops, OIHW filters to HWIO, and back), so every value is known
 * at run time: shapes, integer inputs, batch-axis ops and computed weights all work.
 *
 * This file holds the operators of issue 15 (the CNN set), the table GRAPH_OPS and what the
 * interpreter refuses; graph_ops_more.ts further operators; graph_values.ts the values (a
 * tensor plus its ONNX element type) and the helpers they share. Float values are computed
 * with convkit ops, so a graph model is differentiable with respect to its float inputs and
 * weights; integer and bool values (shapes, indices, masks) carry no gradient.
 *
 * `attrs` lists the attributes an evaluator implements; any other attribute is refused by
 * name before the graph runs, and `check` refuses attribute values it does not implement.
 */
import { attr, attrFloat, attrInt, attrInts, attrString, onnxDtypeName, type OnnxModel, type OnnxNode } from './proto.js';
import { record } from '../../autograd/reverse_mode.js';
import { tensor } from '../../ops/creation.js';
import {
  abs, add, affine, cast, div, equal, erf, exp, expm1, log, maximum, minimum, mul,
  neg, pow, reciprocal, sqrt, sub, where,
} from '../../ops/elementwise.js';
import { max, mean, sum } from '../../ops/reduce.js';
import { broadcastTo, concat, gather, pad, reshape, reverse, slice, transpose } from '../../ops/shape.js';
import { matmul } from '../../ops/matmul.js';
import { conv1d, conv2d, conv3d } from '../../ops/conv.js';
import { avgPool1d, avgPool2d, avgPool3d, maxPool1d, maxPool2d, maxPool3d } from '../../ops/pool.js';
import { elu, relu, sigmoid, softplus, tanh, logSoftmax, softmax } from '../../ops/activation.js';
import { shapesEqual } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import {
  type GCtx, type GVal, type GraphOp, SUPPORTED_DT, T, binary, broadcastShape, fitTo, fl, floatIn, fmt, fromOnnxTensor,
  holdFloat, intsIn, isFloatDt, jsMap, mk, operandB, splitSizes, indexTensor, bf16Nearest, need, normAxis, nums, prod, reduceOp, sameFloat,
  scalarIn, softmaxLike, take, unaryF,
} from './graph_values.js';
import { MORE_OPS } from './graph_ops_more.js';
import { VISION_OPS } from './graph_ops_vision.js';
import { QUANT_OPS, integerOps } from './graph_ops_quant.js';
import { SEQUENCE_OPS } from './graph_ops_seq.js';
import { MISC_OPS } from './graph_ops_misc.js';
import { RNN_OPS } from './graph_ops_rnn.js';

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
  const xt = sameFloat(x, w)[0];
  const hwio = () => transpose(sameFloat(x, w)[1], oihwToHwio(sp + 2));
  const bias = ins[2] ? sameFloat(x, floatIn(ctx, ins[2], 2, 'B'))[1] : undefined;
  const conv = sp === 1 ? conv1d : sp === 2 ? conv2d : conv3d;
  const y = conv(transpose(xt, toLast(sp + 2)), ctx.derive ? ctx.derive(`hwio ${xt.dtype}`, w.t, hwio) : hwio(), { strides, dilations, padding, groups, bias });
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
  const xt = sameFloat(x, w)[0];
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
  const flipped = () => {
    const g5 = reshape(sameFloat(x, w)[1], [groups, C / groups, Mg, ...k]);
    return reverse(reshape(transpose(g5, [...k.map((_, i) => i + 3), 1, 0, 2]), [...k, C / groups, Mg * groups]), k.map((_, i) => i));
  };
  const kern = ctx.derive ? ctx.derive(`flipped ${xt.dtype}`, w.t, flipped) : flipped();
  const bias = ins[2] ? sameFloat(x, floatIn(ctx, ins[2], 2, 'B'))[1] : undefined;
  const conv = sp === 1 ? conv1d : sp === 2 ? conv2d : conv3d;
  const y = conv(u, kern, { dilations: d, groups, bias });
  return [fl(transpose(y, toFirst(r)), x.dt)];
}

// ---------------------------------------------------------------- pooling

/** MaxPool / AveragePool on X [N, C, ...]: padded cells never win a max; ceil_mode adds end padding that no window counts. */
/**
 * A pooling node's windows on x: kernel, strides, dilations, and the pads, the end pads grown
 * for ceil_mode (a last window starting in the end padding is dropped); `grown` says whether
 * ceil_mode added any.
 */
function poolWindows(ctx: GCtx, x: Tensor): { sp: number; k: number[]; s: number[]; d: number[]; pads: [number, number][]; grown: boolean; extra: number[] } {
  const n = ctx.node;
  const sp = spatialRank(ctx, x);
  const k = attrInts(n, 'kernel_shape', []);
  if (k.length !== sp) ctx.fail(`kernel_shape ${fmt(k)} has ${k.length} entries; expected ${sp}`);
  const s = spatialAttr(ctx, 'strides', sp, 1), d = spatialAttr(ctx, 'dilations', sp, 1);
  const inSz = x.shape.slice(2);
  const pads = convPads(ctx, inSz, k, s, d);
  let grown = false;
  const extra = pads.map(() => 0);
  if (attrInt(n, 'ceil_mode', 0)) {
    pads.forEach((p, i) => {
      const span = inSz[i] + p[0] + p[1] - ((k[i] - 1) * d[i] + 1);
      let out = Math.ceil(span / s[i]) + 1;
      if ((out - 1) * s[i] >= inSz[i] + p[0]) out--;
      const more = (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - (inSz[i] + p[0] + p[1]);
      if (more > 0) {
        p[1] += more;
        extra[i] = more;
        grown = true;
      }
    });
  }
  return { sp, k, s, d, pads, grown, extra };
}

const AVG_POOLS = [avgPool1d, avgPool2d, avgPool3d];

/** LpPool: (sum over each window of |x|^p)^(1/p), p 2 by default; padding adds nothing to the sum. */
function lpPoolRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'X');
  const { sp, k, s, d, pads } = poolWindows(ctx, x.t);
  const p = attrInt(ctx.node, 'p', 2), r = sp + 2;
  // The window sums, as averages over the whole (padded) window times its size.
  const powered = p === 2 ? mul(x.t, x.t) : pow(abs(x.t), p);
  const avg = AVG_POOLS[sp - 1](transpose(powered, toLast(r)), { size: k, strides: s, dilations: d, padding: pads, countIncludePad: true });
  const total = mul(transpose(avg, toFirst(r)), k.reduce((a, b) => a * b, 1));
  return [fl(p === 2 ? sqrt(total) : pow(total, 1 / p), x.dt)];
}

function poolRun(kind: 'max' | 'avg') {
  return (ctx: GCtx, ins: (GVal | undefined)[]): (GVal | undefined)[] => {
    const n = ctx.node;
    const x0 = need(ctx, ins[0], 0, 'X');
    const { sp, k, s, d, pads, grown, extra } = poolWindows(ctx, x0.t);
    const r = sp + 2;
    const isInt = !isFloatDt(x0.dt);
    if (grown && kind === 'avg' && attrInt(n, 'count_include_pad', 0)) {
      // count_include_pad counts the given pads but not what ceil_mode adds after them (as
      // PyTorch and ONNX's reference): the given pads become zeros of the input, the rest is not counted.
      if (isInt) ctx.fail(`input has element type ${onnxDtypeName(x0.dt)}; AveragePool takes float tensors`);
      const given = pad(x0.t, [[0, 0], [0, 0], ...pads.map((p, i): [number, number] => [p[0], p[1] - extra[i]])]);
      const y = transpose(AVG_POOLS[sp - 1](transpose(given, toLast(r)), { size: k, strides: s, dilations: d, padding: extra.map((e): [number, number] => [0, e]), countIncludePad: false }), toFirst(r));
      return [{ t: y, dt: x0.dt }];
    }
    if (isInt && kind === 'avg') ctx.fail(`input has element type ${onnxDtypeName(x0.dt)}; AveragePool takes float tensors`);
    const xt = isInt ? cast(x0.t, 'float64') : x0.t;
    const opts = { size: k, strides: s, dilations: d, padding: pads, countIncludePad: !!attrInt(n, 'count_include_pad', 0) };
    const f = kind === 'max' ? [maxPool1d, maxPool2d, maxPool3d][sp - 1] : AVG_POOLS[sp - 1];
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
/** Pad (constant, reflect, edge; wrap from opset 19); negative pads crop; opset 18's axes input pads only those axes. */
function padRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const n = ctx.node;
  const x = need(ctx, ins[0], 0, 'data');
  const r = x.t.rank;
  let pads = attr(n, 'pads')?.ints ?? attr(n, 'paddings')?.ints ?? intsIn(ctx, ins[1], 1, 'pads');
  const axes = ctx.opset >= 18 && ins[3] ? intsIn(ctx, ins[3], 3, 'axes')! : null;
  if (axes && pads) {
    if (pads.length !== 2 * axes.length) ctx.fail(`pads has ${pads.length} entries; expected ${2 * axes.length} (begin and end of each of the ${axes.length} axes ${fmt(axes)})`);
    const full = new Array<number>(2 * r).fill(0), seen = new Set<number>();
    axes.forEach((a, i) => {
      const ax = normAxis(ctx, a, r, 'axes');
      if (seen.has(ax)) ctx.fail(`axes ${fmt(axes)} repeats axis ${ax}`);
      seen.add(ax);
      full[ax] = pads![i];
      full[ax + r] = pads![i + axes.length];
    });
    pads = full;
  }
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
        if (mode === 'wrap') return ((j % L) + L) % L;
        return j < 0 ? -j : j >= L ? 2 * (L - 1) - j : j;
      });
      y = take(y, idx, a);
    }
  }
  return [{ t: y, dt: x.dt }];
}

// ---------------------------------------------------------------- resize

const COORD_MODES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize', 'half_pixel_symmetric'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/**
 * Resize / Upsample, separable: along each axis (the last first) each output cell is a
 * weighted sum of input cells at taps found as ONNX's reference does: the source coordinate
 * x from the coordinate mode, then for nearest and linear the two cells floor(x), floor(x)+1
 * (x-1, x when x is whole), for cubic four; indices beyond the edge repeat the edge cell.
 * With antialias (opset 18) a downscaling linear or cubic filter is stretched by 1 / scale:
 * more taps, each weight the kernel at scale * (tap - x), normalised to sum 1. Opset 18's
 * axes name the axes that scales / sizes / roi describe (the others keep their size), and
 * keep_aspect_ratio_policy 'not_larger' / 'not_smaller' turns sizes into one scale for all of
 * them (the smallest / largest ratio), each size then round(scale * length), halves up.
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
  const antialias = attrInt(n, 'antialias', 0) === 1 && mode !== 'nearest';
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
  const axesAttr = attr(n, 'axes')?.ints;
  const axes = axesAttr ? axesAttr.map((a) => normAxis(ctx, a, r, 'axes')) : inSz.map((_, i) => i);
  if (new Set(axes).size !== axes.length) ctx.fail(`axes ${fmt(axesAttr!)} repeats an axis`);
  const k = axes.length;
  if (scales && scales.length !== k) ctx.fail(`scales has ${scales.length} entries; expected ${k}`);
  if (sizes && sizes.length !== k) ctx.fail(`sizes has ${sizes.length} entries; expected ${k}`);
  if (roi && roi.length !== 2 * k) ctx.fail(`roi has ${roi.length} entries; expected ${2 * k}`);
  if (axesAttr) {
    // Spread what the axes describe over every axis: scale 1, the same size, roi [0, 1] elsewhere.
    const spread = (v: number[], fill: (i: number) => number): number[] => { const f = inSz.map((_, i) => fill(i)); axes.forEach((a, i) => (f[a] = v[i])); return f; };
    if (scales) scales = spread(scales, () => 1);
    if (sizes) sizes = spread(sizes, (i) => inSz[i]);
    if (roi) roi = [...spread(roi.slice(0, k), () => 0), ...spread(roi.slice(k), () => 1)];
  }
  const policy = attrString(n, 'keep_aspect_ratio_policy', 'stretch');
  if (sizes && policy !== 'stretch') {
    const ratios = axes.map((a) => sizes![a] / inSz[a]);
    const one = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    scales = inSz.map((_, i) => (axes.includes(i) ? one : 1));
    sizes = inSz.map((L, i) => (axes.includes(i) ? Math.floor(one * L + 0.5) : L));
  }
  if (coord === 'tf_crop_and_resize' && (!roi || roi.length !== 2 * r)) ctx.fail(`tf_crop_and_resize needs roi with ${2 * k} entries`);
  const isInt = !isFloatDt(x.dt);
  if (isInt && mode !== 'nearest') ctx.fail(`${mode} resizing of ${onnxDtypeName(x.dt)} data is not supported`);
  let y = isInt ? cast(x.t, 'float64') : x.t;
  for (let a = r - 1; a >= 0; a--) {
    const L = inSz[a];
    const scale = scales ? scales[a] : sizes![a] / L;
    const outLen = sizes ? sizes[a] : Math.floor(L * scale);
    const outW = scale * L; // the reference's (possibly fractional) output length
    if (outLen === L && scale === 1 && coord !== 'tf_crop_and_resize') continue;
    // Taps per output cell, and their weights for the fraction t in (0, 1] past the cell before x.
    const s = Math.min(scale, 1);
    const first0 = antialias ? Math.floor((mode === 'cubic' ? -2 : -1) / s) + 1 : mode === 'cubic' ? -1 : 0;
    const taps = antialias ? 2 - 2 * first0 : mode === 'cubic' ? 4 : 2;
    const cubicW = (v: number): number => {
      v = Math.abs(v);
      return v <= 1 ? ((A + 2) * v - (A + 3)) * v * v + 1 : v < 2 ? ((A * v - 5 * A) * v + 8 * A) * v - 4 * A : 0;
    };
    const weights = (t: number): number[] => {
      if (mode === 'nearest') {
        const up = t === 1 ? true : nearestMode === 'round_prefer_floor' ? t > 0.5 : nearestMode === 'round_prefer_ceil' ? t >= 0.5 : nearestMode === 'ceil';
        return up ? [0, 1] : [1, 0];
      }
      if (!antialias) return mode === 'linear' ? [1 - t, t] : [cubicW(t + 1), cubicW(t), cubicW(1 - t), cubicW(2 - t)];
      const w = Array.from({ length: taps }, (_, i) => (mode === 'linear' ? Math.min(Math.max(1 - Math.abs((first0 + i - t) * s), 0), 1) : cubicW((first0 + i - t) * s)));
      const tot = w.reduce((p, q) => p + q, 0);
      return w.map((v) => v / tot);
    };
    const idx: number[][] = Array.from({ length: taps }, () => []), wts: number[][] = Array.from({ length: taps }, () => []);
    const extra: number[] = [];
    for (let o = 0; o < outLen; o++) {
      let xo: number;
      switch (coord) {
        case 'align_corners': xo = outW === 1 ? 0 : (o * (L - 1)) / (outW - 1); break;
        case 'asymmetric': xo = o / scale; break;
        case 'tf_half_pixel_for_nn': xo = (o + 0.5) / scale; break;
        case 'pytorch_half_pixel': xo = outW === 1 ? -0.5 : (o + 0.5) / scale - 0.5; break;
        case 'half_pixel_symmetric': xo = (L / 2) * (1 - outLen / outW) + (o + 0.5) / scale - 0.5; break;
        case 'tf_crop_and_resize': {
          const s0 = roi![a], e0 = roi![a + r];
          xo = (outW === 1 ? ((e0 - s0) * (L - 1)) / 2 : (o * (e0 - s0) * (L - 1)) / (outW - 1)) + s0 * (L - 1);
          break;
        }
        default: xo = (o + 0.5) / scale - 0.5;
      }
      if (coord === 'tf_crop_and_resize' && (xo < 0 || xo > L - 1)) {
        for (let j = 0; j < taps; j++) { idx[j].push(0); wts[j].push(0); }
        extra.push(extrap);
        continue;
      }
      extra.push(0);
      const whole = Number.isInteger(xo);
      const f = whole ? xo - 1 : Math.floor(xo), t = whole ? 1 : xo - f;
      let c = weights(t);
      const first = f + (mode === 'nearest' ? 0 : first0);
      if (exclude) {
        for (let j = 0; j < taps; j++) if (first + j < 0 || first + j >= L) c[j] = 0;
        const tot = c.reduce((p, q) => p + q, 0);
        c = c.map((v) => v / (tot || 1));
      }
      for (let j = 0; j < taps; j++) { idx[j].push(Math.min(Math.max(first + j, 0), L - 1)); wts[j].push(c[j]); }
    }
    const bshape = y.shape.map((_, i) => (i === a ? outLen : 1));
    let acc: Tensor | null = null;
    for (let j = 0; j < taps; j++) {
      if (wts[j].every((v) => v === 0)) continue;
      const g = gather(y, indexTensor(idx[j]), a);
      const term = wts[j].every((v) => v === 1) ? g : mul(g, tensor(y.dtype === 'float64' ? Float64Array.from(wts[j]) : Float32Array.from(wts[j]), bshape, y.dtype));
      acc = acc ? add(acc, term) : term;
    }
    if (!acc) acc = mul(gather(y, indexTensor(idx[0] ?? []), a), 0);
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
  const policy = attrString(n, 'keep_aspect_ratio_policy', 'stretch');
  if (!['stretch', 'not_larger', 'not_smaller'].includes(policy)) return `keep_aspect_ratio_policy '${policy}' is not supported (stretch, not_larger, not_smaller are)`;
  return null;
}

// ---------------------------------------------------------------- the table

const castTo = (ctx: GCtx, x: GVal, to: number): GVal => {
  if (!SUPPORTED_DT.has(to)) ctx.fail(`casting to ${onnxDtypeName(to)} is not supported`);
  if (isFloatDt(to) && isFloatDt(x.dt)) {
    const t = holdFloat(x.t, to);
    if (to === T.FLOAT16 || to === T.BFLOAT16 || (to === T.FLOAT && x.dt === T.DOUBLE)) {
      // Rounding to the narrower type: the values are rounded, the gradient passes unchanged.
      const round = to === T.BFLOAT16 && ctx.opset >= 19 ? bf16Nearest : (v: number) => fitTo(v, to);
      const r = mk(nums({ t, dt: to }).map(round), t.shape, to).t;
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
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'X'), b = operandB(ctx, x, need(ctx, ins[1], 1, 'Y'));
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
  Erf: unaryF(erf),
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
      const [xt, s0] = sameFloat(x, s);
      // A slope [C] on [N, C, ...] is one per channel before opset 7 (PRelu-1/6: "one slope, or
      // one per channel"), and from opset 7 on where NumPy broadcasting fails (as ONNX's reference does).
      const perChannel = s0.rank === 1 && xt.rank > 2 && s0.shape[0] === xt.shape[1] && s0.shape[0] !== 1 && (ctx.opset < 7 || xt.shape[xt.rank - 1] !== s0.shape[0]);
      const st = perChannel ? reshape(s0, [s0.shape[0], ...new Array(xt.rank - 2).fill(1)]) : s0;
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
  /** LpPool: the p-norm of each window (opset 18 adds ceil_mode and dilations). */
  LpPool: { attrs: ['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'p', 'pads', 'strides'], check: autoPadCheck, run: lpPoolRun },
  /** GlobalLpPool: the p-norm over every axis after N and C, kept as size 1. */
  GlobalLpPool: {
    attrs: ['p'],
    run: (ctx, ins) => {
      const x = floatIn(ctx, ins[0], 0), p = attrInt(ctx.node, 'p', 2);
      const total = sum(p === 2 ? mul(x.t, x.t) : pow(abs(x.t), p), { axes: x.t.shape.map((_, i) => i).slice(2), keepDims: true });
      return [fl(p === 2 ? sqrt(total) : pow(total, 1 / p), x.dt)];
    },
  },
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
      let y: Tensor;
      if (bt.rank === 2) {
        // a Linear layer on [..., M, K]: one GEMM of all the rows, B never copied per batch
        y = reshape(matmul(reshape(at, [B * M, K]), bt), [...batch, M, N]);
      } else {
        const to = (t: Tensor, s: number[]) => (shapesEqual(t.shape, s) ? t : broadcastTo(t, s));
        const a3 = reshape(to(at, [...batch, M, K]), [B, M, K]), b3 = reshape(to(bt, [...batch, K, N]), [B, K, N]);
        y = reshape(matmul(a3, b3), [...batch, M, N]);
      }
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
  /** Identity: the input as it is (a tensor or a sequence). */
  Identity: { attrs: [], run: (ctx, ins) => [ins[0] ?? ctx.fail('input 0 (input) is missing')] },
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
    attrs: ['axis', 'split', 'num_outputs'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input');
      const a = normAxis(ctx, attrInt(ctx.node, 'axis', 0), x.t.rank);
      const sizes = splitSizes(ctx, x.t.shape[a], ctx.node.outputs.length, attr(ctx.node, 'split')?.ints ?? intsIn(ctx, ins[1], 1, 'split'), a);
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
  Pad: { attrs: ['mode', 'pads', 'value', 'paddings'], check: (n, opset) => (['constant', 'reflect', 'edge', ...(opset >= 19 ? ['wrap'] : [])].includes(attrString(n, 'mode', 'constant')) ? null : `mode '${attrString(n, 'mode', '')}' is not supported (constant, reflect, edge${opset >= 19 ? ', wrap' : ''} are)`), run: padRun },
  Resize: { attrs: ['coordinate_transformation_mode', 'cubic_coeff_a', 'exclude_outside', 'extrapolation_value', 'mode', 'nearest_mode', 'antialias', 'axes', 'keep_aspect_ratio_policy'], check: resizeCheck, run: resizeRun },
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
      const g = gather(x.t, indexTensor(idx), a);
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
    run: (ctx, ins) => {
      const a = need(ctx, ins[0], 0, 'A'), b = operandB(ctx, a, need(ctx, ins[1], 1, 'B'));
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
  ...MORE_OPS,
  ...VISION_OPS,
  ...QUANT_OPS,
  ...SEQUENCE_OPS,
  ...MISC_OPS,
  ...RNN_OPS,
};
const INTEGER_OPS = integerOps(GRAPH_OPS.Conv, GRAPH_OPS.MatMul);
Object.assign(GRAPH_OPS, INTEGER_OPS);

/**
 * Ops whose semantics at opset 1-6 are those implemented here (legacy attributes handled:
 * consumed_inputs is an optimisation hint, is_test, attribute forms of Slice/Pad/Split/
 * Squeeze/Unsqueeze/Reduce/Clip). An op missing here is refused in a file of opset < 7.
 */
export const OLD_OPSET_OK = new Set([
  'Abs', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Neg', 'Exp', 'Log', 'Reciprocal', 'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Sigmoid',
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
  const graphs = SUBGRAPHS[n.opType];
  if (graphs) {
    // If and Loop run their subgraphs as the node runs (graph_model.ts runIf, runLoop); every subgraph is checked here.
    const bad = n.attributes.filter((a) => !graphs.includes(a.name)).map((a) => `attribute '${a.name}' is not supported`);
    for (const b of graphs) {
      const g = attr(n, b)?.g;
      if (!g) { bad.push(`${b} (a graph) is required`); continue; }
      if (n.opType === 'If' && g.outputs.length !== n.outputs.length) bad.push(`${b} has ${g.outputs.length} outputs; the If has ${n.outputs.length}`);
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
  const tooNew = sinceProblem(n, opset);
  if (tooNew) return tooNew;
  if (n.attributes.some((a) => a.hasGraph)) return 'subgraph attributes are not supported';
  if (opset < 7) {
    const old = legacyProblem(n, opset);
    if (old) return old;
  }
  const unknown = n.attributes.filter((a) => !op.attrs.includes(a.name)).map((a) => `'${a.name}'`);
  if (unknown.length) return `attribute${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not supported`;
  return op.check?.(n, opset) ?? null;
}

/** The opset that introduced an operator, for those added after opset 7: a file importing an older opset cannot use them. */
const SINCE_OPSET: Record<string, number> = {
  DequantizeLinear: 10, QuantizeLinear: 10, DynamicQuantizeLinear: 11, MeanVarianceNormalization: 9, GroupNormalization: 18,
  Mish: 18, Gelu: 20, RMSNormalization: 23, Swish: 24, GridSample: 16, AffineGrid: 20, NonMaxSuppression: 10, CenterCropPad: 18,
  Col2Im: 18, MaxUnpool: 9, SequenceEmpty: 11, SequenceConstruct: 11, SequenceAt: 11, SequenceInsert: 11, SequenceErase: 11,
  SequenceLength: 11, SplitToSequence: 11, ConcatFromSequence: 11, ConvInteger: 10, MatMulInteger: 10, QLinearConv: 10, QLinearMatMul: 10, RoiAlign: 10, DeformConv: 19, Einsum: 12, BitShift: 11, BitwiseAnd: 18, BitwiseOr: 18, BitwiseXor: 18, BitwiseNot: 18,
  CumProd: 26, Det: 11, Unique: 11, Attention: 23, RotaryEmbedding: 23, ReverseSequence: 10, HannWindow: 17, HammingWindow: 17, BlackmanWindow: 17,
};

/** The operators that run subgraphs (graph_model.ts), and their graph attributes. */
const SUBGRAPHS: Record<string, readonly string[]> = { If: ['then_branch', 'else_branch'], Loop: ['body'] };

/**
 * Operators whose evaluators read their float inputs' values on the host: every one of the
 * vision, quantization, misc and recurrent tables, and two of the others. On a backend that
 * reads back only asynchronously (webgpu) predict cannot run them on what the device computed;
 * predictAsync downloads their inputs first (graph_model.ts).
 */
export const HOST_OPS = new Set([
  ...Object.keys(VISION_OPS), ...Object.keys(QUANT_OPS), ...Object.keys(INTEGER_OPS), ...Object.keys(MISC_OPS), ...Object.keys(RNN_OPS),
  'RotaryEmbedding', 'ReduceProd',
]);

/** Why an operator cannot appear in a file of this opset (it came later), or null. */
export function sinceProblem(n: OnnxNode, opset: number): string | null {
  const since = SINCE_OPSET[n.opType];
  return since && opset < since ? `${n.opType} is an opset ${since} operator; the model imports opset ${opset}` : null;
}

/** Files of opset < 7: operators whose semantics changed since are refused by name. */
export function legacyProblem(n: OnnxNode, opset: number, layers = false): string | null {
  if (!OLD_OPSET_OK.has(n.opType)) return `${n.opType} at opset ${opset} has semantics convkit does not implement (it changed at opset 7 or later); re-export with opset >= 7`;
  const a = (name: string) => n.attributes.find((x) => x.name === name);
  if (layers && a('broadcast')?.i === 1 && a('axis')) return "attribute 'axis' (opset < 7 broadcasting aligned at an axis) is read by the graph interpreter only; use mode graph or auto";
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
