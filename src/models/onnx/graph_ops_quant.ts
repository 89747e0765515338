/**
 * Graph-mode evaluators of ONNX's quantization operators: the QDQ format (QuantizeLinear,
 * DequantizeLinear, DynamicQuantizeLinear around float operators) and the QOperator format
 * (QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger). Integer arithmetic is exact: the
 * zero points are subtracted on the host, the convolution or product runs on the 'ts' backend in
 * float64 (sums of int8 products stay far below 2^53), and requantization rounds half to even and
 * saturates to the output type, as ONNX's reference does.
 */
import { attrInt, onnxDtypeName } from './proto.js';
import { withBackend } from '../../registry/backends.js';
import { type GCtx, type GVal, type GraphOp, INT_RANGE, T, fitTo, floatIn, fmt, isFloatDt, mk, need, normAxis, nums, prod, roundHalfEven } from './graph_values.js';
import { shapesEqual } from '../../tensor/shape.js';

/** The integer types Quantize/DequantizeLinear handle (their ranges: INT_RANGE). */
const QUANT_TYPES = new Set<number>([T.UINT8, T.INT8, T.UINT16, T.INT16, T.INT32]);
/**
 * For each element of x (shape `shape`), the index of its scale / zero point: one for all
 * (a scalar or [1]), one per index along 'axis' (a 1-D tensor), or one per block of
 * block_size along 'axis' (opset 21: the scale has x's shape with that axis divided into blocks).
 */
function quantParamIndex(ctx: GCtx, shape: readonly number[], sShape: readonly number[]): (f: number) => number {
  const size = prod(sShape);
  if (size === 1) return () => 0;
  const r = shape.length, a = normAxis(ctx, attrInt(ctx.node, 'axis', 1), r);
  const block = attrInt(ctx.node, 'block_size', 0);
  const inner = prod(shape.slice(a + 1));
  if (!block) {
    if (sShape.length !== 1 || sShape[0] !== shape[a]) ctx.fail(`scale of shape ${fmt(sShape)} must be a scalar or [${shape[a]}] (one per index of axis ${a} of ${fmt(shape)})`);
    return (f) => Math.floor(f / inner) % shape[a];
  }
  const want = shape.map((d, i) => (i === a ? Math.ceil(d / block) : d));
  if (!shapesEqual(sShape, want)) ctx.fail(`scale of shape ${fmt(sShape)} must be ${fmt(want)} for blocks of ${block} along axis ${a}`);
  return (f) => {
    const o = Math.floor(f / (inner * shape[a])), i = Math.floor(f / inner) % shape[a], j = f % inner;
    return (o * want[a] + Math.floor(i / block)) * inner + j;
  };
}

export const QUANT_OPS: Record<string, GraphOp> = {
  /** DequantizeLinear: (x - zero_point) * scale, per tensor, per axis or per block; float output (scale's type). */
  DequantizeLinear: {
    attrs: ['axis', 'block_size', 'output_dtype'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'x'), sc = need(ctx, ins[1], 1, 'x_scale'), zp = ins[2];
      if (isFloatDt(x.dt)) ctx.fail(`x has element type ${onnxDtypeName(x.dt)}; expected an integer type`);
      if (!isFloatDt(sc.dt)) ctx.fail(`x_scale has element type ${onnxDtypeName(sc.dt)}; expected a float type`);
      const xv = nums(x), sv = nums(sc), zv = zp ? nums(zp) : null, at = quantParamIndex(ctx, x.t.shape, sc.t.shape);
      const out = new Float64Array(xv.length);
      for (let f = 0; f < xv.length; f++) { const q = at(f); out[f] = (xv[f] - (zv ? zv[q] : 0)) * sv[q]; }
      const to = attrInt(ctx.node, 'output_dtype', 0) || sc.dt;
      return [mk(out.map((v) => fitTo(v, to)), x.t.shape, to)];
    },
  },
  /** QuantizeLinear: saturate(round_half_even(x / scale) + zero_point) to the zero point's type (uint8 without one). */
  QuantizeLinear: {
    attrs: ['axis', 'block_size', 'output_dtype', 'saturate', 'precision'],
    check: (n) => (attrInt(n, 'precision', 0) ? "attribute 'precision' is not supported" : null),
    run: (ctx, ins) => {
      const x = floatIn(ctx, ins[0], 0, 'x'), sc = floatIn(ctx, ins[1], 1, 'y_scale'), zp = ins[2];
      const to = zp ? zp.dt : attrInt(ctx.node, 'output_dtype', 0) || T.UINT8;
      const range = QUANT_TYPES.has(to) ? INT_RANGE[to] : ctx.fail(`quantizing to ${onnxDtypeName(to)} is not supported (uint8, int8, uint16, int16, int32 are)`);
      const xv = nums(x), sv = nums(sc), zv = zp ? nums(zp) : null, at = quantParamIndex(ctx, x.t.shape, sc.t.shape);
      const out = new Float64Array(xv.length);
      for (let f = 0; f < xv.length; f++) {
        const q = at(f);
        out[f] = Math.min(Math.max(roundHalfEven(Math.fround(xv[f] / sv[q])) + (zv ? zv[q] : 0), range[0]), range[1]);
      }
      return [mk(out, x.t.shape, to)];
    },
  },
  /** DynamicQuantizeLinear: uint8 with the scale and zero point that map [min(x, 0), max(x, 0)] onto [0, 255]. */
  DynamicQuantizeLinear: {
    attrs: [],
    run: (ctx, ins) => {
      const x = floatIn(ctx, ins[0], 0, 'x'), xv = nums(x);
      let lo = 0, hi = 0;
      for (const v of xv) { if (v < lo) lo = v; if (v > hi) hi = v; }
      const scale = Math.fround((hi - lo) / 255);
      const zp = scale === 0 ? 0 : Math.min(Math.max(roundHalfEven(Math.fround(-lo / scale)), 0), 255);
      const out = xv.map((v) => (scale === 0 ? zp : Math.min(Math.max(roundHalfEven(Math.fround(v / scale)) + zp, 0), 255)));
      return [mk(out, x.t.shape, T.UINT8), mk([scale], [], T.FLOAT), mk([zp], [], T.UINT8)];
    },
  },
};


/**
 * v - zero_point as float64 values (zero point per tensor, or one per index along `axis`), for
 * the integer operators; `what` names the input in errors.
 */
function centred(ctx: GCtx, v: GVal, zp: GVal | undefined, axis: number, what: string): GVal {
  if (isFloatDt(v.dt)) ctx.fail(`${what} has element type ${onnxDtypeName(v.dt)}; expected an integer type`);
  const x = nums(v), out = new Float64Array(x.length);
  const z = zp ? nums(zp) : null, shape = v.t.shape;
  if (z && z.length > 1 && (axis < 0 || z.length !== shape[axis])) ctx.fail(`${what}'s zero point has ${z.length} values; expected 1${axis >= 0 ? ` or ${shape[axis]} (one per index of axis ${axis})` : ''}`);
  const inner = axis >= 0 ? prod(shape.slice(axis + 1)) : 1;
  for (let f = 0; f < x.length; f++) out[f] = x[f] - (z ? z[z.length === 1 ? 0 : Math.floor(f / inner) % shape[axis]] : 0);
  return mk(out, shape, T.DOUBLE);
}

/** y = saturate(round_half_even(acc * scale) + zero point), per tensor or per index along `axis` of acc. */
function requantize(ctx: GCtx, acc: GVal, scale: Float64Array, zp: GVal | undefined, axis: number): GVal {
  const to = zp ? zp.dt : T.UINT8;
  const range = QUANT_TYPES.has(to) ? INT_RANGE[to] : ctx.fail(`quantizing to ${onnxDtypeName(to)} is not supported (uint8, int8, uint16, int16, int32 are)`);
  const a = nums(acc), z = zp ? nums(zp) : new Float64Array(1), shape = acc.t.shape, inner = prod(shape.slice(axis + 1));
  const out = new Float64Array(a.length);
  for (let f = 0; f < a.length; f++) {
    const q = scale.length === 1 ? 0 : Math.floor(f / inner) % shape[axis];
    out[f] = Math.min(Math.max(roundHalfEven(Math.fround(a[f] * scale[q])) + z[z.length === 1 ? 0 : q], range[0]), range[1]);
  }
  return mk(out, shape, to);
}

/** Runs a float operator of the table (Conv, MatMul) on float64 values on the ts backend: exact for integer sums. */
const onTs = (op: GraphOp, ctx: GCtx, ins: (GVal | undefined)[]): GVal => withBackend('ts', () => op.run(ctx, ins)[0]!);

/** The integer and QLinear operators need Conv and MatMul of the main table, handed over to avoid an import cycle. */
export function integerOps(conv: GraphOp, matmul: GraphOp): Record<string, GraphOp> {
  const convAttrs = ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'];
  return {
    /** ConvInteger: Conv(x - x_zero_point, w - w_zero_point) as int32 (w's zero point per output channel). */
    ConvInteger: {
      attrs: convAttrs,
      check: conv.check,
      run: (ctx, ins) => {
        const x = centred(ctx, need(ctx, ins[0], 0, 'x'), ins[2], 1, 'x'), w = centred(ctx, need(ctx, ins[1], 1, 'w'), ins[3], 0, 'w');
        const y = onTs(conv, ctx, [x, w]);
        return [mk(nums(y), y.t.shape, T.INT32)];
      },
    },
    /** MatMulInteger: (A - a_zero_point)(B - b_zero_point) as int32 (per row of A / per column of B zero points). */
    MatMulInteger: {
      attrs: [],
      run: (ctx, ins) => {
        const a0 = need(ctx, ins[0], 0, 'A'), b0 = need(ctx, ins[1], 1, 'B');
        const a = centred(ctx, a0, ins[2], a0.t.rank - 2, 'A'), b = centred(ctx, b0, ins[3], b0.t.rank - 1, 'B');
        const y = onTs(matmul, ctx, [a, b]);
        return [mk(nums(y), y.t.shape, T.INT32)];
      },
    },
    /**
     * QLinearConv: quantized x and w (w per output channel) convolved exactly, plus the int32
     * bias, then requantized with x_scale w_scale / y_scale.
     */
    QLinearConv: {
      attrs: convAttrs,
      check: conv.check,
      run: (ctx, ins) => {
        const x = centred(ctx, need(ctx, ins[0], 0, 'x'), ins[2], 1, 'x'), w0 = need(ctx, ins[3], 3, 'w'), w = centred(ctx, w0, ins[5], 0, 'w');
        const xs = nums(floatIn(ctx, ins[1], 1, 'x_scale')), ws = nums(floatIn(ctx, ins[4], 4, 'w_scale')), ys = nums(floatIn(ctx, ins[6], 6, 'y_scale'));
        if (ws.length !== 1 && ws.length !== w0.t.shape[0]) ctx.fail(`w_scale has ${ws.length} values; expected 1 or ${w0.t.shape[0]} (one per output channel)`);
        const bias = ins[8] ? mk(nums(need(ctx, ins[8], 8, 'B')), ins[8].t.shape, T.DOUBLE) : undefined;
        const acc = onTs(conv, ctx, bias ? [x, w, bias] : [x, w]);
        const scale = Float64Array.from(ws, (v) => Math.fround(Math.fround(xs[0] * v) / ys[0]));
        return [requantize(ctx, acc, scale, ins[7], 1)];
      },
    },
    /** QLinearMatMul: quantized A and B multiplied exactly, requantized with a_scale b_scale / y_scale (per tensor or per column of B). */
    QLinearMatMul: {
      attrs: [],
      run: (ctx, ins) => {
        const a0 = need(ctx, ins[0], 0, 'a'), b0 = need(ctx, ins[3], 3, 'b');
        const a = centred(ctx, a0, ins[2], a0.t.rank - 2, 'a'), b = centred(ctx, b0, ins[5], b0.t.rank - 1, 'b');
        const as = nums(floatIn(ctx, ins[1], 1, 'a_scale')), bs = nums(floatIn(ctx, ins[4], 4, 'b_scale')), ys = nums(floatIn(ctx, ins[6], 6, 'y_scale'));
        if (as.length !== 1 || ys.length !== 1) ctx.fail('a_scale and y_scale must be one value each (per-tensor)');
        const acc = onTs(matmul, ctx, [a, b]);
        const scale = Float64Array.from(bs, (v) => Math.fround(Math.fround(as[0] * v) / ys[0]));
        if (scale.length !== 1 && scale.length !== acc.t.shape[acc.t.rank - 1]) ctx.fail(`b_scale has ${bs.length} values; expected 1 or one per column`);
        return [requantize(ctx, acc, scale, ins[7], acc.t.rank - 1)];
      },
    },
  };
}
