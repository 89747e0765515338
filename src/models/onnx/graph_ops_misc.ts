/**
 * Graph-mode evaluators of ONNX operators that work element by element on integers or build
 * small tensors: bit operations (BitShift, BitwiseAnd/Or/Xor/Not), CumProd, Det, Unique,
 * ReverseSequence and the signal windows (HannWindow, HammingWindow, BlackmanWindow). They run
 * on the host, in float64 (or BigInt for bits), as ONNX's reference defines them.
 */
import { attr, attrInt, attrString, onnxDtypeName } from './proto.js';
import { type GCtx, type GVal, type GraphOp, T, bcastIndex, broadcastShape, fitTo, fmt, intsIn, isFloatDt, mk, need, normAxis, nums, prod, scalarIn } from './graph_values.js';

/** Bits of each integer element type. */
const BITS: Record<number, number> = { [T.UINT8]: 8, [T.INT8]: 8, [T.UINT16]: 16, [T.INT16]: 16, [T.UINT32]: 32, [T.INT32]: 32, [T.UINT64]: 64, [T.INT64]: 64 };
const UNSIGNED = new Set<number>([T.UINT8, T.UINT16, T.UINT32, T.UINT64]);

/** A BigInt of `bits` read back as a number of the element type (two's complement for signed types). */
function wrap(v: bigint, dt: number): number {
  const bits = BigInt(BITS[dt]);
  return Number(UNSIGNED.has(dt) ? BigInt.asUintN(Number(bits), v) : BigInt.asIntN(Number(bits), v));
}

/** An elementwise operator on two integer tensors of one type, NumPy broadcasting, computed with BigInt. */
function bitwise(f: (a: bigint, b: bigint, left: boolean) => bigint, direction = false): GraphOp {
  return {
    attrs: direction ? ['direction'] : [],
    check: direction ? (n) => (['LEFT', 'RIGHT'].includes(attrString(n, 'direction', '')) ? null : `direction '${attrString(n, 'direction', '')}' must be LEFT or RIGHT`) : undefined,
    run: (ctx, ins) => {
      const a = need(ctx, ins[0], 0, 'A'), b = need(ctx, ins[1], 1, 'B');
      if (!BITS[a.dt] || a.dt !== b.dt) ctx.fail(`inputs have element types ${onnxDtypeName(a.dt)} and ${onnxDtypeName(b.dt)}; expected one integer type`);
      const shape = broadcastShape(ctx, a.t.shape, b.t.shape), ia = bcastIndex(a.t.shape, shape), ib = bcastIndex(b.t.shape, shape);
      const va = nums(a), vb = nums(b), out = new Float64Array(ia.length), left = attrString(ctx.node, 'direction', '') === 'LEFT';
      for (let i = 0; i < out.length; i++) out[i] = wrap(f(BigInt(va[ia[i]]), BigInt(vb[ib[i]]), left), a.dt);
      return [mk(out, shape, a.dt)];
    },
  };
}

/** The symmetric or periodic window of 'size' values: sum over k of a_k cos(2 pi k n / N), N = size (periodic) or size - 1. */
function window(coeffs: number[]): GraphOp {
  return {
    attrs: ['output_datatype', 'periodic'],
    run: (ctx, ins) => {
      const size = scalarIn(ctx, need(ctx, ins[0], 0, 'size'), 0, 'size')!;
      if (!(size >= 0) || !Number.isInteger(size)) ctx.fail(`size must be a non-negative integer, received ${size}`);
      const N = attrInt(ctx.node, 'periodic', 1) ? size : size - 1;
      const dt = attrInt(ctx.node, 'output_datatype', T.FLOAT);
      const out = Array.from({ length: size }, (_, n) => coeffs.reduce((s, a, k) => s + (k % 2 ? -a : a) * Math.cos((2 * Math.PI * k * n) / N), 0));
      return [mk(out.map((v) => fitTo(v, dt)), [size], dt)];
    },
  };
}

/** Det: the determinant of each [M, M] matrix of [..., M, M], by LU with partial pivoting in float64. */
function detRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = need(ctx, ins[0], 0, 'X');
  if (!isFloatDt(x.dt)) ctx.fail(`X has element type ${onnxDtypeName(x.dt)}; Det takes float tensors`);
  const s = x.t.shape, r = s.length, M = s[r - 1];
  if (r < 2 || s[r - 2] !== M) ctx.fail(`X has shape ${fmt(s)}; expected [..., M, M]`);
  const v = nums(x), count = prod(s.slice(0, -2)), out = new Float64Array(count);
  for (let b = 0; b < count; b++) {
    const a: number[] = Array.from({ length: M * M }, (_, i) => v[b * M * M + i]);
    let det = 1;
    for (let c = 0; c < M && det !== 0; c++) {
      let p = c;
      for (let i = c + 1; i < M; i++) if (Math.abs(a[i * M + c]) > Math.abs(a[p * M + c])) p = i;
      if (a[p * M + c] === 0) { det = 0; break; }
      if (p !== c) { for (let j = 0; j < M; j++) [a[c * M + j], a[p * M + j]] = [a[p * M + j], a[c * M + j]]; det = -det; }
      det *= a[c * M + c];
      for (let i = c + 1; i < M; i++) {
        const f = a[i * M + c] / a[c * M + c];
        for (let j = c; j < M; j++) a[i * M + j] -= f * a[c * M + j];
      }
    }
    out[b] = det;
  }
  return [mk(out, s.slice(0, -2), x.dt)];
}

/**
 * Unique (opset 11): the distinct elements (or slices along 'axis'), sorted ascending (sorted 1,
 * the default) or in order of first occurrence; with each one's first index, the index of each
 * input element's unique value, and the counts (int64).
 */
function uniqueRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = need(ctx, ins[0], 0, 'X'), v = nums(x), sorted = attrInt(ctx.node, 'sorted', 1) === 1;
  const ax = attr(ctx.node, 'axis')?.i;
  const s = x.t.shape, a = ax === undefined ? -1 : normAxis(ctx, ax, s.length);
  // The slices compared: single elements without an axis, else the sub-tensors at each index along it.
  const n = a < 0 ? v.length : s[a], inner = a < 0 ? 1 : prod(s.slice(a + 1)), outer = a < 0 ? 1 : prod(s.slice(0, a));
  const slice = (i: number): number[] => {
    if (a < 0) return [v[i]];
    const out: number[] = [];
    for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) out.push(v[(o * n + i) * inner + j]);
    return out;
  };
  const key = (i: number): string => slice(i).join(',');
  const firstOf = new Map<string, number>(), order: number[] = [];
  for (let i = 0; i < n; i++) { const k = key(i); if (!firstOf.has(k)) { firstOf.set(k, i); order.push(i); } }
  if (sorted) order.sort((p, q) => { const sp = slice(p), sq = slice(q); for (let j = 0; j < sp.length; j++) if (sp[j] !== sq[j]) return sp[j] - sq[j]; return 0; });
  const rank = new Map(order.map((i, r) => [key(i), r]));
  const inverse = Array.from({ length: n }, (_, i) => rank.get(key(i))!);
  const counts = order.map(() => 0);
  for (const r of inverse) counts[r]++;
  let y: GVal;
  if (a < 0) y = mk(order.map((i) => v[i]), [order.length], x.dt);
  else {
    const ys = [...s];
    ys[a] = order.length;
    const out = new Float64Array(prod(ys));
    order.forEach((i, r) => { for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) out[(o * order.length + r) * inner + j] = v[(o * n + i) * inner + j]; });
    y = mk(out, ys, x.dt);
  }
  return [y, mk(order, [order.length], T.INT64), mk(inverse, [n], T.INT64), mk(counts, [counts.length], T.INT64)];
}

/** ReverseSequence (opset 10): for each batch entry b, its first sequence_lens[b] steps along time_axis reversed. */
function reverseSequenceRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = need(ctx, ins[0], 0, 'input'), lens = intsIn(ctx, need(ctx, ins[1], 1, 'sequence_lens'), 1, 'sequence_lens')!;
  const s = x.t.shape, ba = attrInt(ctx.node, 'batch_axis', 1), ta = attrInt(ctx.node, 'time_axis', 0);
  if (s.length < 2 || ![0, 1].includes(ba) || ![0, 1].includes(ta) || ba === ta) ctx.fail(`batch_axis ${ba} and time_axis ${ta} must be 0 and 1 in some order, of an input of rank >= 2 (shape ${fmt(s)})`);
  if (lens.length !== s[ba]) ctx.fail(`sequence_lens has ${lens.length} entries; the batch axis has ${s[ba]}`);
  const v = nums(x), out = Float64Array.from(v), inner = prod(s.slice(2)), str = [s[1] * inner, inner];
  for (let b = 0; b < s[ba]; b++) {
    const L = lens[b];
    if (L < 0 || L > s[ta]) ctx.fail(`sequence length ${L} of batch ${b} is out of range (time axis of ${s[ta]})`);
    for (let t = 0; t < L; t++) {
      const from = b * str[ba] + (L - 1 - t) * str[ta], to = b * str[ba] + t * str[ta];
      for (let j = 0; j < inner; j++) out[to + j] = v[from + j];
    }
  }
  return [mk(out, s, x.dt)];
}

/** CumProd (opset 26): running products along the axis (input 1); exclusive starts from 1, reverse runs from the end. */
function cumProdRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = need(ctx, ins[0], 0, 'x');
  const a = normAxis(ctx, scalarIn(ctx, need(ctx, ins[1], 1, 'axis'), 1, 'axis')!, x.t.rank);
  const ex = attrInt(ctx.node, 'exclusive', 0) === 1, rev = attrInt(ctx.node, 'reverse', 0) === 1;
  const v = nums(x), L = x.t.shape[a], st = prod(x.t.shape.slice(a + 1)), out = new Float64Array(v.length);
  for (let o = 0; o < v.length; o++) {
    const j = Math.floor(o / st) % L;
    if (j !== 0) continue;
    const base = o;
    let p = 1;
    for (let k = 0; k < L; k++) {
      const i = rev ? L - 1 - k : k, at = base + i * st;
      if (ex) { out[at] = p; p *= v[at]; } else { p *= v[at]; out[at] = p; }
    }
  }
  return [mk(Array.from(out, (q) => fitTo(q, x.dt)), x.t.shape, x.dt)];
}

export const MISC_OPS: Record<string, GraphOp> = {
  /** BitShift (opset 11): unsigned integers shifted LEFT (bits past the type's width dropped) or RIGHT. */
  BitShift: bitwise((a, b, left) => (left ? a << b : a >> b), true),
  BitwiseAnd: bitwise((a, b) => a & b),
  BitwiseOr: bitwise((a, b) => a | b),
  BitwiseXor: bitwise((a, b) => a ^ b),
  BitwiseNot: {
    attrs: [],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'X');
      if (!BITS[x.dt]) ctx.fail(`X has element type ${onnxDtypeName(x.dt)}; expected an integer type`);
      return [mk(nums(x).map((q) => wrap(~BigInt(q), x.dt)), x.t.shape, x.dt)];
    },
  },
  CumProd: { attrs: ['exclusive', 'reverse'], run: cumProdRun },
  Det: { attrs: [], run: detRun },
  Unique: { attrs: ['axis', 'sorted'], run: uniqueRun },
  ReverseSequence: { attrs: ['batch_axis', 'time_axis'], run: reverseSequenceRun },
  HannWindow: window([0.5, 0.5]),
  HammingWindow: window([25 / 46, 21 / 46]),
  BlackmanWindow: window([0.42, 0.5, 0.08]),
};
