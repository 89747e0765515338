/**
 * Further ONNX operators of the graph interpreter (beyond the CNN set of graph_ops.ts):
 * comparisons and logic, variadic Max/Min/Sum/Mean, more elementwise maths and reductions,
 * index ops (ArgMax, TopK, Gather/Scatter variants, OneHot, NonZero), layout ops and the
 * two classification losses. Same conventions: ONNX semantics in a comment beside each.
 */
import { attr, attrFloat, attrInt, attrString, onnxDtypeName, type OnnxNode } from './proto.js';
import { record } from '../../autograd/reverse_mode.js';
import { tensor } from '../../ops/creation.js';
import {
  abs, add, affine, cast, cos, div, exp, expm1, floor, greater, greaterEqual, less,
  lessEqual, maximum, minimum, mul, neg, reciprocal, sign, sin, sqrt, sub, where,
} from '../../ops/elementwise.js';
import { argMax, argMin, mean, sum } from '../../ops/reduce.js';
import { broadcastTo, concat, gather, reshape, reverse, slice, transpose } from '../../ops/shape.js';
import { matmul } from '../../ops/matmul.js';
import { gelu, mish, relu, logSoftmax, sigmoid, softmax, tanh } from '../../ops/activation.js';
import type { Tensor } from '../../tensor/tensor.js';
import {
  type GCtx, type GVal, type GraphOp, SUPPORTED_DT, T, bcastIndex, broadcastShape, fl, floatIn, fmt, intsIn, isFloatDt, jsMap,
  indexTensor, mk, operandB, need, roundHalfEven, normAxis, nums, prod, reduceOp, sameFloat, scalarIn, softmaxLike, take, unaryF,
} from './graph_values.js';

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
/**
 * GatherElements / ScatterElements addressing: for each element of `indices` (data's rank),
 * the flat offset into data of the element whose coordinate on the node's `axis` is the index
 * (negative indices count from the end) and whose other coordinates are the index element's own.
 */
function elementOffsets(ctx: GCtx, x: GVal, iv: GVal): Int32Array {
  const ds = x.t.shape, is = iv.t.shape, r = ds.length, a = normAxis(ctx, attrInt(ctx.node, 'axis', 0), r);
  if (is.length !== r) ctx.fail(`indices of shape ${fmt(is)} must have data's rank ${r}`);
  const idx = intsIn(ctx, iv, 1, 'indices')!, dst = ds.map((_, i) => prod(ds.slice(i + 1)));
  const out = new Int32Array(idx.length), pos = new Array<number>(r).fill(0);
  for (let k = 0; k < idx.length; k++) {
    let e = idx[k];
    if (e < -ds[a] || e >= ds[a]) ctx.fail(`index ${e} is out of range for axis ${a} of size ${ds[a]}`);
    if (e < 0) e += ds[a];
    let f = 0;
    for (let i = 0; i < r; i++) f += (i === a ? e : pos[i]) * dst[i];
    out[k] = f;
    for (let i = r - 1; i >= 0; i--) { if (++pos[i] < is[i]) break; pos[i] = 0; }
  }
  return out;
}
/** Scatter reductions (ScatterElements 16/18, ScatterND 16/18): how an update combines with what is there. */
const SCATTER_REDUCE: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b, mul: (a, b) => a * b, max: (a, b) => (a >= b || Number.isNaN(a) ? a : b), min: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
};
const scatterCheck = (n: OnnxNode, opset: number): string | null => {
  const r = attrString(n, 'reduction', 'none');
  const known = opset >= 18 ? ['none', 'add', 'mul', 'max', 'min'] : ['none', 'add', 'mul'];
  return known.includes(r) ? null : `reduction '${r}' is not supported at opset ${opset} (${known.join(', ')} are)`;
};
/**
 * Write updates[k] at flat offset offsets[k] of data: the last write wins ('none'), or each
 * update is combined with what is there, in index order (add, mul, max, min). The reductions
 * run on the host, in float64, with the result rounded to the data's type.
 */
function scatterAt(ctx: GCtx, x: GVal, u: GVal, offsets: ArrayLike<number>): GVal {
  const reduction = attrString(ctx.node, 'reduction', 'none');
  if (reduction === 'none') {
    const writer = new Int32Array(x.t.size).fill(-1);
    for (let k = 0; k < offsets.length; k++) writer[offsets[k]] = k;
    return scatterBy(x, u, writer);
  }
  const f = SCATTER_REDUCE[reduction];
  const out = Float64Array.from(nums(x)), uv = nums(u);
  for (let k = 0; k < offsets.length; k++) out[offsets[k]] = f(out[offsets[k]], uv[k]);
  return mk(out, x.t.shape, x.dt);
}
/** ScatterElements / Scatter(data, indices, updates, axis): data[..., indices[i...], ...] = updates[i...], or combined by 'reduction'. */
function scatterElements(): GraphOp {
  return {
    attrs: ['axis', 'reduction'],
    check: scatterCheck,
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data'), iv = need(ctx, ins[1], 1, 'indices'), u = need(ctx, ins[2], 2, 'updates');
      return [scatterAt(ctx, x, u, elementOffsets(ctx, x, iv))];
    },
  };
}

function compare(opF: (a: Tensor, b: Tensor) => Tensor, opI: (a: number, b: number) => boolean): GraphOp {
  return {
    attrs: ['broadcast', 'axis'],
    run: (ctx, ins) => {
      const a = need(ctx, ins[0], 0, 'A'), b = operandB(ctx, a, need(ctx, ins[1], 1, 'B'));
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
    run: (ctx, ins) => {
      const a = boolIn(ctx, ins[0], 0), b = boolIn(ctx, ctx.opset < 7 ? operandB(ctx, need(ctx, ins[0], 0, 'A'), need(ctx, ins[1], 1, 'B')) : ins[1], 1);
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

// ---------------------------------------------------------------- newer activations and normalizations (opsets 18 to 24)

/**
 * GroupNormalization (opset 18, 21): X [N, C, ...] in num_groups groups of C / num_groups channels,
 * each normalised over its channels and spatial cells, (x - mean) / sqrt(var + epsilon); then
 * scale and bias, per channel ([C], opset 21) or per group ([num_groups], opset 18, each group's
 * value for all its channels).
 */
function groupNormRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'X');
  const shape = x.t.shape, r = shape.length;
  if (r < 2) ctx.fail(`X has shape ${fmt(shape)}; expected [N, C, ...]`);
  const C = shape[1], G = attrInt(ctx.node, 'num_groups', 0);
  if (G < 1 || C % G) ctx.fail(`num_groups ${G} must divide the ${C} channels`);
  const [xt, sc] = sameFloat(x, floatIn(ctx, ins[1], 1, 'scale'));
  const bias = sameFloat(x, floatIn(ctx, ins[2], 2, 'bias'))[1];
  const perGroup = ctx.opset < 21;
  for (const [t, name] of [[sc, 'scale'], [bias, 'bias']] as const) {
    if (t.size !== (perGroup ? G : C)) ctx.fail(`${name} has shape ${fmt(t.shape)}; expected [${perGroup ? G : C}] (${perGroup ? 'one per group before opset 21' : 'one per channel'})`);
  }
  const g = reshape(xt, [shape[0], G, prod(shape.slice(1)) / G]);
  const m = mean(g, { axes: [2], keepDims: true }), d = sub(g, m);
  const inv = reciprocal(sqrt(add(mean(mul(d, d), { axes: [2], keepDims: true }), attrFloat(ctx.node, 'epsilon', 1e-5))));
  const y = reshape(mul(d, inv), [shape[0], C, ...shape.slice(2)]);
  const chan = (t: Tensor): Tensor => {
    const v = perGroup ? reshape(broadcastTo(reshape(t, [G, 1]), [G, C / G]), [C]) : reshape(t, [C]);
    return reshape(v, [C, ...new Array(r - 2).fill(1)]);
  };
  return [fl(add(mul(y, chan(sc)), chan(bias)), x.dt)];
}

/** RMSNormalization (opset 23): X / sqrt(mean(X^2 over the axes from 'axis' on) + epsilon) * scale. */
function rmsNormRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'X');
  const r = x.t.rank, a = normAxis(ctx, attrInt(ctx.node, 'axis', -1), r);
  const axes = Array.from({ length: r - a }, (_, i) => i + a);
  const [xt, scale] = sameFloat(x, floatIn(ctx, ins[1], 1, 'scale'));
  const inv = reciprocal(sqrt(add(mean(mul(xt, xt), { axes, keepDims: true }), attrFloat(ctx.node, 'epsilon', 1e-5))));
  broadcastShape(ctx, xt.shape, scale.shape);
  return [fl(mul(mul(xt, inv), scale), x.dt)];
}

/** LpNormalization: x / ||x||_p along 'axis' (p 1 or 2); 0 where the norm is 0. */
function lpNormRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'input');
  const a = normAxis(ctx, attrInt(ctx.node, 'axis', -1), x.t.rank), p = attrInt(ctx.node, 'p', 2);
  if (p !== 1 && p !== 2) ctx.fail(`p must be 1 or 2, received ${p}`);
  const norm = p === 1 ? sum(abs(x.t), { axes: [a], keepDims: true }) : sqrt(sum(mul(x.t, x.t), { axes: [a], keepDims: true }));
  const zero = lessEqual(norm, 0);
  return [fl(where(zero, mul(x.t, 0), div(x.t, where(zero, add(norm, 1), norm))), x.dt)];
}

/** MeanVarianceNormalization: (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9) over 'axes' (default [0, 2, 3]), as ONNX's function body. */
function mvnRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'X');
  const axes = (attr(ctx.node, 'axes')?.ints ?? [0, 2, 3]).map((a) => normAxis(ctx, a, x.t.rank, 'axes'));
  const m = mean(x.t, { axes, keepDims: true });
  const std = sqrt(sub(mean(mul(x.t, x.t), { axes, keepDims: true }), mul(m, m)));
  return [fl(div(sub(x.t, m), add(std, 1e-9)), x.dt)];
}

// ---------------------------------------------------------------- Einsum

/**
 * Einsum (opset 12): the equation's operands as letter lists ('...' standing for the leading
 * axes an operand has beyond its letters), the output's letters (implicit form: the letters
 * seen once, in alphabetical order, after the ellipsis axes).
 */
function parseEinsum(ctx: GCtx, eq: string, ranks: number[]): { ins: string[][]; out: string[] } {
  const [lhs, rhs] = eq.replace(/\s+/g, '').split('->');
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) ctx.fail(`equation '${eq}' has ${terms.length} operands; the node has ${ranks.length} inputs`);
  const split = (term: string): string[] => {
    const parts = term.split('...');
    if (parts.length > 2) ctx.fail(`equation '${eq}': an operand has more than one ellipsis`);
    if (parts.join('').split('').some((c) => !/[a-zA-Z]/.test(c))) ctx.fail(`equation '${eq}' has a character that is not a letter`);
    return parts;
  };
  const parsed = terms.map(split);
  // The ellipsis axes, named by digits and aligned on the right (they broadcast as in NumPy).
  const E = Math.max(0, ...parsed.map((p, j) => (p.length === 2 ? ranks[j] - p.join('').length : 0)));
  const expand = (parts: string[], rank: number | null, term: string): string[] => {
    const letters = parts.join('').split('');
    if (parts.length === 1) {
      if (rank !== null && letters.length !== rank) ctx.fail(`operand '${term}' names ${letters.length} axes; its input has rank ${rank}`);
      return letters;
    }
    const k = rank === null ? E : rank - letters.length;
    if (k < 0) ctx.fail(`operand '${term}' names more axes than its input's rank ${rank}`);
    return [...parts[0].split(''), ...Array.from({ length: k }, (_, j) => String(E - k + j)), ...parts[1].split('')];
  };
  const ins = parsed.map((p, j) => expand(p, ranks[j], terms[j]));
  if (rhs !== undefined) return { ins, out: expand(split(rhs), null, rhs) };
  const count = new Map<string, number>();
  for (const l of ins) for (const c of l) count.set(c, (count.get(c) ?? 0) + 1);
  return { ins, out: [...Array.from({ length: E }, (_, j) => String(j)), ...[...count.keys()].filter((c) => /[a-zA-Z]/.test(c) && count.get(c) === 1).sort()] };
}

/** x with its repeated letters reduced to their diagonal: each letter once. */
function einsumDiagonal(x: Tensor, letters: string[]): { t: Tensor; l: string[] } {
  for (;;) {
    const dup = letters.findIndex((c, i) => letters.indexOf(c) !== i);
    if (dup < 0) return { t: x, l: letters };
    const first = letters.indexOf(letters[dup]), n = x.shape[first];
    const rest = x.shape.map((_, i) => i).filter((i) => i !== first && i !== dup);
    const moved = transpose(x, [...rest, first, dup]);
    const flat = reshape(moved, [...rest.map((i) => x.shape[i]), n * n]);
    x = gather(flat, indexTensor(Array.from({ length: n }, (_, i) => i * (n + 1))), rest.length);
    letters = [...rest.map((i) => letters[i]), letters[first]];
  }
}

function einsumRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const vs = ins.map((v, i) => floatIn(ctx, v, i, `Inputs[${i}]`));
  const eq = attr(ctx.node, 'equation')?.s ?? ctx.fail('the equation attribute is required');
  const { ins: terms, out } = parseEinsum(ctx, eq, vs.map((v) => v.t.rank));
  const f = sameFloat(vs[0], vs[0])[0].dtype;
  const size = new Map<string, number>();
  const ops = vs.map((v, j) => {
    const d = einsumDiagonal(v.t.dtype === f ? v.t : cast(v.t, f), terms[j]);
    d.l.forEach((c, i) => { const n = d.t.shape[i], had = size.get(c); if (had === undefined || had === 1) size.set(c, n); else if (n !== 1 && n !== had) ctx.fail(`letter '${c}' has sizes ${had} and ${n}`); });
    return d;
  });
  // Sum out what no later operand and not the output use, then fold the operands pairwise: batch letters (in both, still
  // needed), contracted ones (in both, not needed after), and each side's own, as one batched matmul.
  const neededAfter = (k: number): Set<string> => new Set([...out, ...ops.slice(k + 1).flatMap((o) => o.l)]);
  const sumOut = (o: { t: Tensor; l: string[] }, keep: Set<string>): { t: Tensor; l: string[] } => {
    const axes = o.l.map((c, i) => (keep.has(c) ? -1 : i)).filter((i) => i >= 0);
    return axes.length ? { t: sum(o.t, { axes }), l: o.l.filter((c) => keep.has(c)) } : o;
  };
  const full = (o: { t: Tensor; l: string[] }, letters: string[]): Tensor => broadcastTo(o.t, letters.map((c) => size.get(c)!).map((n, i) => (o.t.shape[i] === 1 ? n : o.t.shape[i])));
  let acc = sumOut(ops[0], neededAfter(0));
  for (let k = 1; k < ops.length; k++) {
    const later = neededAfter(k);
    const b = sumOut(ops[k], new Set([...later, ...acc.l]));
    const a = sumOut(acc, new Set([...later, ...b.l]));
    const batch = a.l.filter((c) => b.l.includes(c) && later.has(c)), contr = a.l.filter((c) => b.l.includes(c) && !later.has(c));
    const aOwn = a.l.filter((c) => !b.l.includes(c)), bOwn = b.l.filter((c) => !a.l.includes(c));
    const n = (ls: string[]): number => ls.reduce((p, c) => p * size.get(c)!, 1);
    const at = reshape(full({ t: transpose(a.t, [...batch, ...aOwn, ...contr].map((c) => a.l.indexOf(c))), l: [...batch, ...aOwn, ...contr] }, [...batch, ...aOwn, ...contr]), [n(batch), n(aOwn), n(contr)]);
    const bt = reshape(full({ t: transpose(b.t, [...batch, ...contr, ...bOwn].map((c) => b.l.indexOf(c))), l: [...batch, ...contr, ...bOwn] }, [...batch, ...contr, ...bOwn]), [n(batch), n(contr), n(bOwn)]);
    const l = [...batch, ...aOwn, ...bOwn];
    acc = { t: reshape(matmul(at, bt), l.map((c) => size.get(c)!)), l };
  }
  acc = sumOut(acc, new Set(out));
  for (const c of out) if (!acc.l.includes(c)) ctx.fail(`output letter '${c}' is in no operand`);
  const y = full({ t: transpose(acc.t, out.map((c) => acc.l.indexOf(c))), l: out }, out);
  return [fl(y, vs[0].dt)];
}

// ---------------------------------------------------------------- Attention (opsets 23 to 25)

/**
 * The additive bias of Attention's scores, [B or 1, H or 1, q, kv] on the host: attn_mask (bool:
 * false is -inf; float: added; padded with -inf past its last axis), is_causal (key j is seen by
 * query i when j <= i + offset, offset = the past's length or nonpad_kv_seqlen - q), the sliding
 * window, and the padding of nonpad_kv_seqlen.
 */
function attentionBias(ctx: GCtx, mask: GVal | undefined, B: number, H: number, q: number, kv: number, past: number, nonpad: number[] | null): { data: Float64Array; shape: number[] } {
  const shape = [B, H, q, kv], out = new Float64Array(B * H * q * kv);
  const left = attrInt(ctx.node, 'left_window_size', -1), right = attrInt(ctx.node, 'right_window_size', -1);
  const causal = attrInt(ctx.node, 'is_causal', 0) === 1;
  let mv: ArrayLike<number> | null = null, ms: number[] = [], idx: Int32Array | null = null;
  if (mask) {
    mv = nums(mask);
    ms = [...new Array(4 - mask.t.rank).fill(1), ...mask.t.shape];
    if (mask.t.rank > 4 || ms[3] > kv) ctx.fail(`attn_mask has shape ${fmt(mask.t.shape)}; expected one that broadcasts to ${fmt(shape)}`);
    idx = bcastIndex([...ms.slice(0, 3), ms[3]], [B, H, q, ms[3]]);
  }
  const isBool = mask?.dt === T.BOOL;
  for (let b = 0; b < B; b++) {
    const offset = nonpad && past === 0 ? nonpad[b] - q : past;
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < q; i++) {
        for (let j = 0; j < kv; j++) {
          let v = 0;
          if (mv) {
            if (j >= ms[3]) v = -Infinity;
            else { const m = mv[idx![((b * H + h) * q + i) * ms[3] + j]]; v = isBool ? (m ? 0 : -Infinity) : m; }
          }
          const d = i + offset - j;
          if (causal && d < 0) v = -Infinity;
          if ((left >= 0 && d > left) || (right >= 0 && -d > right)) v = -Infinity;
          if (nonpad && j >= nonpad[b]) v = -Infinity;
          out[((b * H + h) * q + i) * kv + j] = v;
        }
      }
    }
  }
  return { data: out, shape };
}

/**
 * Attention (opset 23): softmax(Q K^T scale + bias) V over heads, Q K V as [B, heads, seq, size]
 * or [B, seq, heads * size] (q_num_heads, kv_num_heads); past_key / past_value are prepended to
 * K / V (present_key / present_value, outputs 1 and 2); fewer K/V heads than Q heads are repeated
 * (grouped-query attention); softcap, when > 0, is softcap tanh(scores / softcap); a row every key
 * of which is masked gives 0. Output 3 is the scores after the product (mode 0, and 1), with the
 * bias (2), or after the softmax (3).
 */
function attentionRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const q0 = floatIn(ctx, ins[0], 0, 'Q'), k0 = floatIn(ctx, ins[1], 1, 'K'), v0 = floatIn(ctx, ins[2], 2, 'V');
  const r = q0.t.rank, n = ctx.node;
  if (r !== 3 && r !== 4 || k0.t.rank !== r || v0.t.rank !== r) ctx.fail(`Q, K, V have ranks ${q0.t.rank}, ${k0.t.rank}, ${v0.t.rank}; expected all 3 or all 4`);
  const [Qt, Kt, Vt] = [q0, k0, v0].map((v) => (v.t.dtype === q0.t.dtype ? v.t : cast(v.t, q0.t.dtype)));
  const heads = (t: Tensor, h: number, what: string): Tensor => {
    if (r === 4) return t;
    if (!h || t.shape[2] % h) ctx.fail(`${what} of shape ${fmt(t.shape)} does not split into ${h} heads (set ${what === 'Q' ? 'q_num_heads' : 'kv_num_heads'})`);
    return transpose(reshape(t, [t.shape[0], t.shape[1], h, t.shape[2] / h]), [0, 2, 1, 3]);
  };
  const Q = heads(Qt, attrInt(n, 'q_num_heads', 0), 'Q');
  let K = heads(Kt, attrInt(n, 'kv_num_heads', 0), 'K'), V = heads(Vt, attrInt(n, 'kv_num_heads', 0), 'V');
  const pk = ins[4] ? floatIn(ctx, ins[4], 4, 'past_key').t : null, pv = ins[5] ? floatIn(ctx, ins[5], 5, 'past_value').t : null;
  if (!pk !== !pv) ctx.fail('past_key and past_value go together');
  if (pk && pv) { K = concat([pk, K], 2); V = concat([pv, V], 2); }
  const [B, H, qs, D] = Q.shape, kvH = K.shape[1], kvs = K.shape[2], vD = V.shape[3];
  if (K.shape[3] !== D || V.shape[2] !== kvs || H % kvH || V.shape[1] !== kvH) ctx.fail(`Q ${fmt(Q.shape)}, K ${fmt(K.shape)}, V ${fmt(V.shape)} do not fit (heads of K and V must divide Q's)`);
  const nonpad = ins[6] ? intsIn(ctx, ins[6], 6, 'nonpad_kv_seqlen') : null;
  const bias = attentionBias(ctx, ins[3], B, H, qs, kvs, pk ? pk.shape[2] : 0, nonpad);
  // Rows whose keys are all masked: their bias row set to 0 for the softmax, their weights to 0 after it.
  const keep = new Float64Array(B * H * qs).fill(1);
  for (let row = 0; row < keep.length; row++) {
    let any = false;
    for (let j = 0; j < kvs && !any; j++) any = bias.data[row * kvs + j] !== -Infinity;
    if (!any) { keep[row] = 0; bias.data.fill(0, row * kvs, (row + 1) * kvs); }
  }
  const rep = (t: Tensor): Tensor => (kvH === H ? t : reshape(broadcastTo(reshape(t, [B, kvH, 1, t.shape[2], t.shape[3]]), [B, kvH, H / kvH, t.shape[2], t.shape[3]]), [B, H, t.shape[2], t.shape[3]]));
  const scale = Math.sqrt(attr(n, 'scale')?.f ?? 1 / Math.sqrt(D));
  const dt = Q.dtype, T3 = (t: Tensor, a: number, b: number): Tensor => reshape(t, [B * H, a, b]);
  let scores = reshape(matmul(T3(mul(Q, scale), qs, D), T3(transpose(mul(rep(K), scale), [0, 1, 3, 2]), D, kvs)), [B, H, qs, kvs]);
  const cap = attrFloat(n, 'softcap', 0);
  if (cap > 0) scores = mul(tanh(mul(scores, 1 / cap)), cap);
  const withBias = add(scores, tensor(dt === 'float64' ? bias.data : Float32Array.from(bias.data), bias.shape, dt));
  const keepT = tensor(dt === 'float64' ? keep : Float32Array.from(keep), [B, H, qs, 1], dt);
  const probs = mul(softmax(withBias, -1), keepT);
  let y = reshape(matmul(T3(probs, qs, kvs), T3(rep(V), kvs, vD)), [B, H, qs, vD]);
  if (r === 3) y = reshape(transpose(y, [0, 2, 1, 3]), [B, qs, H * vD]);
  const mode = attrInt(n, 'qk_matmul_output_mode', 0);
  const qk = mode === 3 ? probs : mode === 2 ? withBias : scores;
  return [fl(y, q0.dt), fl(K, q0.dt), fl(V, q0.dt), fl(qk, q0.dt)];
}

/**
 * RotaryEmbedding (opset 23): the first rotary_embedding_dim values of each head (all by default)
 * rotated in pairs by the cached angles at each position (cos_cache / sin_cache rows picked by
 * position_ids, or already [B, S, dim / 2]): halves paired (x_i, x_{i + dim/2}), or neighbours
 * when interleaved. Input [B, H, S, D], or [B, S, H * D] with num_heads. On the host, in float64.
 */
function rotaryRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'X'), cosV = nums(floatIn(ctx, ins[1], 1, 'cos_cache')), sinV = nums(floatIn(ctx, ins[2], 2, 'sin_cache'));
  const cosShape = ins[1]!.t.shape, s = x.t.shape, four = s.length === 4;
  if (s.length !== 3 && !four) ctx.fail(`X has shape ${fmt(s)}; expected [B, H, S, D] or [B, S, hidden]`);
  const B = s[0], S = four ? s[2] : s[1], H = four ? s[1] : attrInt(ctx.node, 'num_heads', 0);
  if (!four && (!H || s[2] % H)) ctx.fail(`X of shape ${fmt(s)} does not split into num_heads ${H} heads`);
  const D = four ? s[3] : s[2] / H, R = attrInt(ctx.node, 'rotary_embedding_dim', 0) || D, half = R / 2;
  if (R > D || R % 2) ctx.fail(`rotary_embedding_dim ${R} must be even and at most the head size ${D}`);
  if (cosShape[cosShape.length - 1] !== half) ctx.fail(`cos_cache has shape ${fmt(cosShape)}; its last axis must be rotary_embedding_dim / 2 = ${half}`);
  const pos = ins[3] ? intsIn(ctx, ins[3], 3, 'position_ids') : null;
  const inter = attrInt(ctx.node, 'interleaved', 0) === 1, v = nums(x), out = Float64Array.from(v);
  // Element (b, h, t, d) of X, in either layout.
  const at = (b: number, h: number, t: number, d: number): number => (four ? ((b * H + h) * S + t) * D + d : ((b * S + t) * H + h) * D + d);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < S; t++) {
      const row = pos ? pos[b * S + t] : b * S + t;
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < half; i++) {
          const c = cosV[row * half + i], sn = sinV[row * half + i];
          const p1 = at(b, h, t, inter ? 2 * i : i), p2 = at(b, h, t, inter ? 2 * i + 1 : i + half);
          out[p1] = c * v[p1] - sn * v[p2];
          out[p2] = sn * v[p1] + c * v[p2];
        }
      }
    }
  }
  return [mk(out, s, x.dt)];
}

/** The activations opsets 18 to 24 added as operators (each was a decomposition before). */
const NEWER_OPS: Record<string, GraphOp> = {
  /** Gelu (opset 20): x Phi(x), approximate 'none' (erf) or 'tanh'. */
  Gelu: {
    attrs: ['approximate'],
    check: (n) => (['none', 'tanh'].includes(attrString(n, 'approximate', 'none')) ? null : `approximate '${attrString(n, 'approximate', '')}' is not supported (none, tanh are)`),
    run: (ctx, ins) => { const x = floatIn(ctx, ins[0], 0, 'X'); return [fl(gelu(x.t, { approximate: attrString(ctx.node, 'approximate', 'none') as 'none' | 'tanh' }), x.dt)]; },
  },
  /** Mish (opset 18): x tanh(softplus(x)). */
  Mish: unaryF((x) => mish(x)),
  /** Swish (opset 24): x sigmoid(alpha x), alpha 1 by default. */
  Swish: unaryF((x, n) => { const a = attrFloat(n, 'alpha', 1); return mul(x, sigmoid(a === 1 ? x : mul(x, a))); }, ['alpha']),
  GroupNormalization: {
    attrs: ['epsilon', 'num_groups', 'stash_type'],
    check: (n) => (attrInt(n, 'stash_type', 1) !== 1 ? `stash_type ${attrInt(n, 'stash_type', 1)} is not supported (1, float32 statistics, is)` : null),
    run: groupNormRun,
  },
  RMSNormalization: {
    attrs: ['axis', 'epsilon', 'stash_type'],
    check: (n) => (attrInt(n, 'stash_type', 1) !== 1 ? `stash_type ${attrInt(n, 'stash_type', 1)} is not supported (1, float32 statistics, is)` : null),
    run: rmsNormRun,
  },
  LpNormalization: { attrs: ['axis', 'p'], run: lpNormRun },
  Einsum: { attrs: ['equation'], run: einsumRun },
  RotaryEmbedding: { attrs: ['interleaved', 'num_heads', 'rotary_embedding_dim'], run: rotaryRun },
  Attention: {
    attrs: ['is_causal', 'kv_num_heads', 'q_num_heads', 'qk_matmul_output_mode', 'scale', 'softcap', 'softmax_precision', 'left_window_size', 'right_window_size'],
    check: (n) => ([0, 1, 2, 3].includes(attrInt(n, 'qk_matmul_output_mode', 0)) ? null : `qk_matmul_output_mode ${attrInt(n, 'qk_matmul_output_mode', 0)} is not one of 0 to 3`),
    run: attentionRun,
  },
  MeanVarianceNormalization: { attrs: ['axes'], run: mvnRun },
};

export const MORE_OPS: Record<string, GraphOp> = {
  ...NEWER_OPS,
  ReduceMin: reduceOp('min'),
  ReduceProd: reduceOp('prod'),
  ReduceL1: reduceOp('l1'),
  ReduceL2: reduceOp('l2'),
  ReduceSumSquare: reduceOp('sumSquare'),
  ReduceLogSum: reduceOp('logSum'),
  ReduceLogSumExp: reduceOp('logSumExp'),
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
      const [y] = MORE_OPS.Sum.run(ctx, ins);
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
      const flat = elementOffsets(ctx, x, iv);
      return [{ t: reshape(gather(reshape(x.t, [x.t.size]), tensor(flat, [flat.length], 'int32'), 0), iv.t.shape), dt: x.dt }];
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
  Round: unaryF((x) => mapValues(x, roundHalfEven)),
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
      const g = gather(reshape(x.t, [x.t.size]), indexTensor(flat), 0);
      return [{ t: reshape(g, [...is.slice(0, -1), ...ds.slice(b + q)]), dt: x.dt }];
    },
  },
  ScatterElements: scatterElements(),
  Scatter: scatterElements(),
  /** ScatterND(data, indices, updates): data with the slices indices' tuples name replaced by updates, or combined by 'reduction'. */
  ScatterND: {
    attrs: ['reduction'],
    check: scatterCheck,
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'data'), iv = need(ctx, ins[1], 1, 'indices'), u = need(ctx, ins[2], 2, 'updates');
      const ds = x.t.shape, is = iv.t.shape, q = is[is.length - 1], idx = intsIn(ctx, iv, 1, 'indices')!, inner = prod(ds.slice(q));
      const offsets = new Int32Array((idx.length / q) * inner);
      for (let t = 0; t < idx.length / q; t++) {
        let f = 0;
        for (let k = 0; k < q; k++) { let e = idx[t * q + k]; if (e < 0) e += ds[k]; if (e < 0 || e >= ds[k]) ctx.fail(`index ${idx[t * q + k]} is out of range for axis ${k} of size ${ds[k]}`); f += e * prod(ds.slice(k + 1)); }
        for (let i = 0; i < inner; i++) offsets[t * inner + i] = f + i;
      }
      return [scatterAt(ctx, x, u, offsets)];
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
