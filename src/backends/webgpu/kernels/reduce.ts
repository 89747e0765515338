/**
 * Reductions on `webgpu`: Sum, Prod, Max, Min over any set of axes, ArgMax and ArgMin
 * over one axis (float32 and int32).
 *
 * The input is read as two strided walks, one over the kept axes (which output
 * element) and one over the reduced axes (which term), each with contiguous axes
 * merged. Two programs:
 * - `thread`: one thread per output element folds its R terms in order. Used when
 *   there are many outputs or few terms (e.g. a row sum of a [4096, 10] matrix).
 * - `group`: one workgroup of 256 threads per output element; each thread folds every
 *   256th term, then the partial results are combined in a shared-memory tree. Used
 *   for few outputs with many terms (a full sum, per-channel sums over N*H*W).
 * A float Sum over the leading axes of a row-major [M, C] view (the bias gradient of an
 * NHWC layer, a full sum) uses the column sums of colsum.ts instead.
 * Ties and NaN follow the oracle: NaN wins Max/Min, ArgMax/ArgMin return the first
 * index of the extreme value (the first NaN if any).
 */
import { ArgMax, ArgMin, Max, Min, Prod, Sum, reduction, type ArgReduceAttrs, type ReduceAttrs } from '../../../kernels/reduce.js';
import type { KernelFunc } from '../../../registry/kernels.js';
import type { DType } from '../../../tensor/dtype.js';
import { sizeOf, stridesOf } from '../../../tensor/shape.js';
import { gpu, type WebGPUBackend, type GpuData } from '../backend.js';
import { wgslType, type ProgramDef } from '../program.js';
import { columnSums, PLAIN_SUM } from './colsum.js';
import { checkRank, collapse, MAX_RANK, register } from './util.js';

type Kind = typeof Sum | typeof Prod | typeof Max | typeof Min | typeof ArgMax | typeof ArgMin;

const isArg = (kind: Kind) => kind === ArgMax || kind === ArgMin;

/** Per-kind WGSL: identity, fold of a value into the accumulator. */
function foldCode(kind: Kind, t: 'f32' | 'i32'): { init: string; fold: string } {
  const f = t === 'f32';
  switch (kind) {
    case Sum: return { init: f ? '0.0' : '0', fold: 'return a + b;' };
    case Prod: return { init: f ? '1.0' : '1', fold: 'return a * b;' };
    case Max: return f
      ? { init: '-inf_f32()', fold: 'if (is_nan(a)) { return a; } if (is_nan(b) || b > a) { return b; } return a;' }
      : { init: '-2147483647 - 1', fold: 'return max(a, b);' };
    case Min: return f
      ? { init: 'inf_f32()', fold: 'if (is_nan(a)) { return a; } if (is_nan(b) || b < a) { return b; } return a;' }
      : { init: '2147483647', fold: 'return min(a, b);' };
    default: {
      const better = kind === ArgMax ? 'bv > av' : 'bv < av';
      // (value, index) pairs; index -1 means empty. The earlier index wins ties.
      const nan = f ? 'is_nan' : 'no_nan';
      return {
        init: `Pair(${f ? '0.0' : '0'}, -1)`,
        fold: `let av = a.v; let bv = b.v;
  if (b.i < 0) { return a; }
  if (a.i < 0) { return b; }
  let an = ${nan}(av); let bn = ${nan}(bv);
  var takeB = false;
  if (an && bn) { takeB = b.i < a.i; }
  else if (an) { takeB = false; }
  else if (bn) { takeB = true; }
  else if (${better}) { takeB = true; }
  else if (av == bv) { takeB = b.i < a.i; }
  if (takeB) { return b; } return a;`,
      };
    }
  }
}

function program(kind: Kind, t: 'f32' | 'i32', mode: 'thread' | 'group'): ProgramDef {
  const arg = isArg(kind);
  const { init, fold } = foldCode(kind, t);
  const acc = arg ? 'Pair' : t;
  const term = (off: string, r: string) => (arg ? `Pair(x[${off}], i32(${r}))` : `x[${off}]`);
  const result = (v: string) => (arg ? `${v}.i` : v);
  const header = `${arg ? `struct Pair { v: ${t}, i: i32 }\nfn no_nan(v: ${t}) -> bool { return false; }` : ''}
fn fold(a: ${acc}, b: ${acc}) -> ${acc} { ${fold} }
fn kept_offset(o: u32) -> u32 {
  var rem = o; var off = 0u;
  for (var d = 0u; d < u.krank; d++) {
    let ax = u.krank - 1u - d;
    let s = kshape_at(ax);
    off += (rem % s) * kst_at(ax);
    rem = rem / s;
  }
  return off;
}
fn red_offset(r: u32) -> u32 {
  var rem = r; var off = 0u;
  for (var d = 0u; d < u.rrank; d++) {
    let ax = u.rrank - 1u - d;
    let s = rshape_at(ax);
    off += (rem % s) * rst_at(ax);
    rem = rem / s;
  }
  return off;
}`;
  let main: string;
  if (mode === 'thread') {
    main = `@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = (wg.y * nwg.x + wg.x) * 256u + lid;
  if (o >= u.nout) { return; }
  let base = kept_offset(o);
  var acc: ${acc} = ${init};
  // Walk the reduced axes with carried counters: no division per term.
  var idx: array<u32, ${MAX_RANK}>;
  var off = base;
  for (var r = 0u; r < u.nred; r++) {
    acc = fold(acc, ${term('off', 'r')});
    var d = u.rrank;
    loop {
      if (d == 0u) { break; }
      d = d - 1u;
      idx[d] = idx[d] + 1u;
      off = off + rst_at(d);
      if (idx[d] < rshape_at(d)) { break; }
      off = off - idx[d] * rst_at(d);
      idx[d] = 0u;
    }
  }
  y[o] = ${result('acc')};
}`;
  } else {
    main = `var<workgroup> part: array<${acc}, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wg.y * nwg.x + wg.x;
  let base = kept_offset(min(o, u.nout - 1u));
  var acc: ${acc} = ${init};
  if (o < u.nout) {
    for (var r = lid; r < u.nred; r += 256u) {
      acc = fold(acc, ${term('base + red_offset(r)', 'r')});
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = fold(part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u && o < u.nout) {
    let total = part[0];
    y[o] = ${result('total')};
  }
}`;
  }
  return {
    key: `reduce:${kind.name}:${t}:${mode}`,
    buffers: [
      { name: 'x', type: t, access: 'read' },
      { name: 'y', type: arg ? 'i32' : t, access: 'read_write' },
    ],
    params: [
      { name: 'kshape', type: 'u32', len: MAX_RANK },
      { name: 'kst', type: 'u32', len: MAX_RANK },
      { name: 'rshape', type: 'u32', len: MAX_RANK },
      { name: 'rst', type: 'u32', len: MAX_RANK },
      { name: 'krank', type: 'u32' },
      { name: 'rrank', type: 'u32' },
      { name: 'nout', type: 'u32' },
      { name: 'nred', type: 'u32' },
    ],
    body: `${header}\n${main}`,
  };
}

const programs = new Map<string, ProgramDef>();
function programFor(kind: Kind, t: 'f32' | 'i32', mode: 'thread' | 'group'): ProgramDef {
  const key = `${kind.name}:${t}:${mode}`;
  let p = programs.get(key);
  if (!p) {
    p = program(kind, t, mode);
    programs.set(key, p);
  }
  return p;
}

/**
 * Reduce `x` (stored in `src`, shape `shape`) over `axes` into a new storage of
 * size prod(kept axes), in the kept axes' row-major order.
 */
export function reduceInto(be: WebGPUBackend, kind: Kind, src: GpuData, shape: readonly number[], axes: readonly number[], dtype: DType, out: GpuData): void {
  const t = wgslType(dtype);
  const st = stridesOf(shape);
  const keptAxes = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const kept = collapse(keptAxes.map((i) => shape[i]), [keptAxes.map((i) => st[i])]);
  const red = collapse(axes.map((i) => shape[i]), [axes.map((i) => st[i])]);
  checkRank(kind.name, kept);
  checkRank(kind.name, red);
  const nout = sizeOf(keptAxes.map((i) => shape[i]));
  const nred = sizeOf(axes.map((i) => shape[i]));
  if (nout === 0) return;
  // A float sum over leading axes of a row-major [M, C] view (bias gradients, a full
  // sum): column sums, coalesced and split over many workgroups.
  const C = kept.shape.length === 0 ? 1 : kept.shape[0];
  const columnLike = kind === Sum && t === 'f32' && red.shape.length === 1 && red.strides[0][0] === C &&
    (kept.shape.length === 0 || (kept.shape.length === 1 && kept.strides[0][0] === 1));
  if (columnLike && nred > 64) {
    columnSums(be, PLAIN_SUM, [src], [out], nred, C);
    return;
  }
  const mode = nred > 64 && nout < 8192 ? 'group' : 'thread';
  const params = {
    kshape: kept.shape.length ? kept.shape : [1],
    kst: kept.strides[0].length ? kept.strides[0] : [0],
    rshape: red.shape.length ? red.shape : [1],
    rst: red.strides[0].length ? red.strides[0] : [0],
    krank: kept.shape.length,
    rrank: red.shape.length,
    nout,
    nred,
  };
  let grid: [number, number, number];
  if (mode === 'group') {
    const x = Math.min(nout, 65535);
    grid = [x, Math.ceil(nout / x), 1];
  } else {
    const groups = Math.ceil(nout / 256);
    const x = Math.min(groups, 65535);
    grid = [x, Math.ceil(groups / x), 1];
  }
  be.run(programFor(kind, t, mode), [src, out], params, grid);
}

/** The implementation of `kind`: attrs read by the contract's `reduction` (sorted axes, output shape). */
function reduceKernel(kind: Kind): KernelFunc<ReduceAttrs | ArgReduceAttrs, WebGPUBackend> {
  return ([x], attrs, be) => {
    const { axes, outShape } = reduction(x.shape, attrs);
    const y = be.output(outShape, isArg(kind) ? 'int32' : x.dtype);
    reduceInto(be, kind, gpu(x), x.shape, axes, x.dtype, y.dataId);
    return y;
  };
}

for (const kind of [Sum, Prod, Max, Min]) register(kind, reduceKernel(kind));
for (const kind of [ArgMax, ArgMin]) register(kind, reduceKernel(kind));
