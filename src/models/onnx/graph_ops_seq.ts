/**
 * Graph-mode evaluators of ONNX's sequence operators (opset 11): values that are lists of
 * tensors of one element type (GVal.seq), built and taken apart inside a graph, e.g. by
 * PyTorch's exports of list code (torch.split into a list, torch.cat of a list). A sequence
 * cannot be a model's input or output: graph inputs must be tensors, and a sequence reaching a
 * graph output is refused when the model runs.
 */
import { attrInt } from './proto.js';
import { tensor } from '../../ops/creation.js';
import { concat, reshape } from '../../ops/shape.js';
import { withBackend } from '../../registry/backends.js';
import { type GCtx, type GVal, type GraphOp, T, fmt, intsIn, mk, need, normAxis, scalarIn, splitSizes, take } from './graph_values.js';

/** A sequence value of element type dt. */
const seqOf = (items: GVal[], dt: number): GVal => ({ t: withBackend('ts', () => tensor(new Int32Array(0), [0], 'int32')), dt, seq: items });

function seqIn(ctx: GCtx, v: GVal | undefined, i: number): GVal[] {
  if (!v) ctx.fail(`input ${i} (input_sequence) is missing`);
  if (!v!.seq) ctx.fail(`input ${i} (input_sequence) is a tensor of shape ${fmt(v!.t.shape)}; expected a sequence`);
  return v!.seq!;
}

/** A position in a sequence of n (negative counts from the end; `end` allows n, for an insertion). */
function position(ctx: GCtx, v: GVal | undefined, i: number, n: number, dflt: number, end = false): number {
  const p = v ? scalarIn(ctx, v, i, 'position')! : dflt;
  const q = p < 0 ? p + n : p;
  if (q < 0 || q > (end ? n : n - 1)) ctx.fail(`position ${p} is out of range for a sequence of ${n} tensors`);
  return q;
}

export const SEQUENCE_OPS: Record<string, GraphOp> = {
  /** SequenceEmpty: no tensors, of element type 'dtype' (float by default). */
  SequenceEmpty: { attrs: ['dtype'], run: (ctx) => [seqOf([], attrInt(ctx.node, 'dtype', T.FLOAT))] },
  /** SequenceConstruct: the inputs, all of one element type, as a sequence. */
  SequenceConstruct: {
    attrs: [],
    run: (ctx, ins) => {
      const items = ins.map((v, i) => need(ctx, v, i, `inputs[${i}]`));
      if (items.some((v) => v.dt !== items[0].dt)) ctx.fail('the inputs have different element types; a sequence holds one');
      return [seqOf(items, items[0]?.dt ?? T.FLOAT)];
    },
  },
  /** SequenceAt: the tensor at 'position'. */
  SequenceAt: { attrs: [], run: (ctx, ins) => { const s = seqIn(ctx, ins[0], 0); return [s[position(ctx, ins[1], 1, s.length, 0)]]; } },
  /** SequenceInsert: the sequence with 'tensor' inserted at 'position' (default: at the end). */
  SequenceInsert: {
    attrs: [],
    run: (ctx, ins) => {
      const s = seqIn(ctx, ins[0], 0), x = need(ctx, ins[1], 1, 'tensor');
      if (s.length && x.dt !== ins[0]!.dt) ctx.fail('the tensor\'s element type differs from the sequence\'s');
      const at = position(ctx, ins[2], 2, s.length, s.length, true);
      return [seqOf([...s.slice(0, at), x, ...s.slice(at)], x.dt)];
    },
  },
  /** SequenceErase: the sequence without the tensor at 'position' (default: the last). */
  SequenceErase: {
    attrs: [],
    run: (ctx, ins) => {
      const s = seqIn(ctx, ins[0], 0), at = position(ctx, ins[1], 1, s.length, s.length - 1);
      return [seqOf([...s.slice(0, at), ...s.slice(at + 1)], ins[0]!.dt)];
    },
  },
  /** SequenceLength: the number of tensors, an int64 scalar. */
  SequenceLength: { attrs: [], run: (ctx, ins) => [mk([seqIn(ctx, ins[0], 0).length], [], T.INT64)] },
  /**
   * SplitToSequence: input cut along 'axis' by 'split' (a scalar: parts of that size, the last
   * smaller; a list: those sizes), or without 'split' into parts of 1, squeezed unless keepdims.
   */
  SplitToSequence: {
    attrs: ['axis', 'keepdims'],
    run: (ctx, ins) => {
      const x = need(ctx, ins[0], 0, 'input');
      const a = normAxis(ctx, attrInt(ctx.node, 'axis', 0), x.t.rank), L = x.t.shape[a];
      let sizes: number[];
      const keep = !ins[1] ? attrInt(ctx.node, 'keepdims', 1) === 1 : true;
      if (!ins[1]) sizes = new Array(L).fill(1);
      else if (ins[1].t.rank === 0) {
        const c = scalarIn(ctx, ins[1], 1, 'split')!;
        if (c < 1) ctx.fail(`split ${c} must be positive`);
        sizes = Array.from({ length: Math.ceil(L / c) }, (_, i) => Math.min(c, L - i * c));
      } else sizes = splitSizes(ctx, L, intsIn(ctx, ins[1], 1, 'split')!.length, intsIn(ctx, ins[1], 1, 'split'), a);
      let at = 0;
      const parts = sizes.map((sz) => {
        const t = take(x.t, Array.from({ length: sz }, (_, i) => i + at), a);
        at += sz;
        return { t: keep ? t : reshape(t, x.t.shape.filter((_, i) => i !== a)), dt: x.dt };
      });
      return [seqOf(parts, x.dt)];
    },
  },
  /** ConcatFromSequence: the tensors concatenated along 'axis', or stacked on a new axis there (new_axis 1). */
  ConcatFromSequence: {
    attrs: ['axis', 'new_axis'],
    run: (ctx, ins) => {
      const s = seqIn(ctx, ins[0], 0);
      if (!s.length) ctx.fail('the sequence is empty');
      const stack = attrInt(ctx.node, 'new_axis', 0) === 1, r = s[0].t.rank;
      const a = normAxis(ctx, attrInt(ctx.node, 'axis', 0), stack ? r + 1 : r);
      const ts = s.map((v) => (stack ? reshape(v.t, [...v.t.shape.slice(0, a), 1, ...v.t.shape.slice(a)]) : v.t));
      return [{ t: ts.length === 1 ? ts[0] : concat(ts, a), dt: s[0].dt }];
    },
  },
};
