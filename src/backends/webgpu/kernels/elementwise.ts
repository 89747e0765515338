/**
 * Elementwise kernels on `webgpu`: unary maps, broadcasting binary maps and
 * comparisons, select, cast and fill, for float32 and int32 tensors.
 *
 * Every map is one WGSL function `op` applied by a 1-D program (one thread per output
 * element). Float results follow the ts oracle's conventions explicitly rather than
 * trusting the GPU's: WGSL lets compilers assume no NaN and leaves log/sqrt of negative
 * numbers and pow of negative bases undefined, so those cases are written out.
 */
import {
  Abs, Add, Affine, Cast, Clip, Cos, Div, Equal, Exp, Expm1, Fill, Floor, Greater, GreaterEqual, IsNaN, Less, LessEqual, Log, Log1p,
  Maximum, Minimum, Mul, Neg, Pow, Reciprocal, Round, Sign, Sin, Sqrt, Square, Sub, Where, binaryOutShape, whereOutShape,
} from '../../../kernels/elementwise.js';
import type { Kernel } from '../../../kernels/kernel.js';
import type { TensorInfo } from '../../../tensor/backend.js';
import type { DType } from '../../../tensor/dtype.js';
import { shapesEqual, sizeOf } from '../../../tensor/shape.js';
import { gpu, type WebGPUBackend } from '../backend.js';
import { MAIN_1D, grid1d, wgslType, type ParamDecl, type ParamValues, type ProgramDef } from '../program.js';
import { broadcastStrides, checkRank, collapse, register, walkCode, walkParams, walkValues } from './util.js';

/** WGSL for float helpers the maps share (the oracle's special cases, spelled out). */
export const FLOAT_FNS = `
fn safe_log(x: f32) -> f32 {
  if (x < 0.0) { return nan_f32(); }
  if (x == 0.0) { return -inf_f32(); }
  return log(x);
}
// e^x - 1 and log(1 + x) without cancellation near 0 (WGSL has neither builtin, and its
// exp and log are only accurate to a few ulp, log absolutely near 1). expm1: the Taylor
// series to x^9/9! for |x| < 0.5 (truncation below 1e-9 relative), else exp(x) - 1
// (which then loses at most a factor 1.6 of exp's accuracy).
fn expm1_f32(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x * (1.0 / 720.0 + x * (1.0 / 5040.0 + x * (1.0 / 40320.0 + x * (1.0 / 362880.0)))))))));
  }
  return exp(x) - 1.0;
}
// log1p: 2 atanh(s) with s = x / (2 + x) for -0.5 < x < 1 (|s| <= 1/3; the odd series to
// s^15, truncation below 3e-9 relative), else log(1 + x); -1 -> -inf, below -1 NaN.
fn log1p_f32(x: f32) -> f32 {
  if (x < -1.0) { return nan_f32(); }
  if (x == -1.0) { return -inf_f32(); }
  if (x > -0.5 && x < 1.0) {
    let s = x / (2.0 + x);
    let z = s * s;
    return 2.0 * s * (1.0 + z * (1.0 / 3.0 + z * (1.0 / 5.0 + z * (1.0 / 7.0 + z * (1.0 / 9.0 + z * (1.0 / 11.0 + z * (1.0 / 13.0 + z * (1.0 / 15.0))))))));
  }
  if (x == inf_f32()) { return x; }
  return log(1.0 + x);
}
fn safe_sqrt(x: f32) -> f32 { if (x < 0.0) { return nan_f32(); } return sqrt(x); }
// JavaScript's Math.round: halves go up.
fn round_half_up(x: f32) -> f32 { let f = floor(x); return select(f, f + 1.0, x - f >= 0.5); }
// sin and cos by polynomials: WGSL only promises 2^-11 absolute error for the builtins.
// x = q*pi/2 + r with |r| <= pi/4 (pi/2 split in two for an exact-ish r), then Taylor
// series to r^9 / r^10 (truncation error below 2e-9 on that interval).
fn sincos_f32(x: f32) -> vec2<f32> {
  let q = round(x * 0.6366197723675814);
  let r = (x - q * 1.5707963705062866) + q * 4.371139000186243e-8;
  let r2 = r * r;
  let s = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0)))));
  let c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0)))));
  let k = i32(q - 4.0 * floor(q * 0.25));
  switch (k) {
    case 0: { return vec2<f32>(s, c); }
    case 1: { return vec2<f32>(c, -s); }
    case 2: { return vec2<f32>(-s, -c); }
    default: { return vec2<f32>(-c, s); }
  }
}
// Math.pow's rules for negative bases, zero and NaN.
fn pow_f32(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan_f32(); }
  if (a == 0.0) {
    // An odd integer exponent keeps the sign of zero.
    let odd = floor(b) == b && fract(b * 0.5) == 0.5;
    if (b > 0.0) { return select(0.0, a, odd); }
    let negZero = (bitcast<u32>(a) & 0x80000000u) != 0u;
    return select(inf_f32(), -inf_f32(), odd && negZero);
  }
  let r = exp2(b * log2(abs(a)));
  if (a > 0.0) { return r; }
  if (floor(b) != b) { return nan_f32(); }
  return select(r, -r, fract(b * 0.5) == 0.5);
}
// Float to int32 the way an Int32Array stores a number: truncate, wrap modulo 2^32, NaN/Inf -> 0.
fn to_i32(x: f32) -> i32 {
  if (is_nan(x) || abs(x) == inf_f32()) { return 0; }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return i32(t); }
  let m = t - 4294967296.0 * floor(t / 4294967296.0);
  return bitcast<i32>(u32(m));
}
`;

// ------------------------------------------------------------------ unary maps

export interface UnaryDef<A extends object = object> {
  /** WGSL expression in `x` (f32) and uniforms `u.*`. */
  f32: string;
  /** WGSL expression in `x` (i32); without it int32 inputs go through f32 and back. */
  i32?: string;
  /** Uniform scalars the expression reads, and how attrs fill them. */
  params?: ParamDecl[];
  values?: (attrs: A) => ParamValues;
  /** Extra WGSL functions the expression calls. */
  fns?: string;
  /** NaN in gives NaN out without evaluating the expression (default true). */
  nanPassThrough?: boolean;
}

function unaryProgram<A extends object>(name: string, def: UnaryDef<A>, dtype: DType): ProgramDef {
  const t = wgslType(dtype);
  const nanPass = def.nanPassThrough ?? true;
  const opF = `fn op_f(x: f32) -> f32 { return ${def.f32}; }`;
  const op =
    t === 'f32'
      ? `${opF}\nfn op(x: f32) -> f32 { ${nanPass ? 'if (is_nan(x)) { return x; } ' : ''}return op_f(x); }`
      : def.i32
        ? `fn op(x: i32) -> i32 { return ${def.i32}; }`
        : `${opF}\nfn op(x: i32) -> i32 { return to_i32(op_f(f32(x))); }`;
  return {
    key: `unary:${name}:${t}`,
    buffers: [
      { name: 'x', type: t, access: 'read' },
      { name: 'y', type: t, access: 'read_write' },
    ],
    params: [{ name: 'n', type: 'u32' }, ...(def.params ?? [])],
    body: `${FLOAT_FNS}\n${def.fns ?? ''}\n${op}\n${MAIN_1D}\n  if (i >= u.n) { return; }\n  y[i] = op(x[i]);\n}`,
  };
}

/** Register `kernel` as y = op(x) on webgpu (typed attrs). */
export function unaryKernel<A extends object>(kernel: Kernel<A>, def: UnaryDef<A>): void {
  const name = kernel.name;
  const programs = new Map<DType, ProgramDef>();
  register<A>(kernel, ([x], attrs, be) => {
    let prog = programs.get(x.dtype);
    if (!prog) {
      prog = unaryProgram(name, def, x.dtype);
      programs.set(x.dtype, prog);
    }
    const y = be.output(x.shape, x.dtype);
    const n = sizeOf(x.shape);
    be.run(prog, [gpu(x), y.dataId], { n, ...(def.values ? def.values(attrs) : {}) }, grid1d(n));
    return y;
  });
}

/** A gradient map's WGSL: dx = op(g, s) (see unaryGradKernel). */
export interface UnaryGradDef<A extends object = object> {
  f32: string;
  params?: ParamDecl[];
  values?: (attrs: A) => ParamValues;
  fns?: string;
  nanPassThrough?: boolean;
}

/** Gradient maps dx = op(dy, s) with s the saved forward input or output (float32 only). */
export function unaryGradKernel<A extends object>(
  kernel: Kernel<A>,
  def: { f32: string; params?: ParamDecl[]; values?: (attrs: A) => ParamValues; fns?: string; nanPassThrough?: boolean },
): void {
  const name = kernel.name;
  // With nanPassThrough, a NaN saved value gives NaN (the oracle's dy * f'(NaN)) without
  // evaluating f' (SwiftShader's exp(NaN) is not NaN).
  const guard = def.nanPassThrough ? 'if (is_nan(s)) { return s; } ' : '';
  const prog: ProgramDef = {
    key: `unarygrad:${name}`,
    buffers: [
      { name: 'dy', type: 'f32', access: 'read' },
      { name: 's', type: 'f32', access: 'read' },
      { name: 'dx', type: 'f32', access: 'read_write' },
    ],
    params: [{ name: 'n', type: 'u32' }, ...(def.params ?? [])],
    body: `${FLOAT_FNS}\n${def.fns ?? ''}\nfn op(g: f32, s: f32) -> f32 { ${guard}return ${def.f32}; }\n${MAIN_1D}\n  if (i >= u.n) { return; }\n  dx[i] = op(dy[i], s[i]);\n}`,
  };
  register(kernel, ([dy, s], attrs, be) => {
    if (s.dtype !== 'float32' || dy.dtype !== 'float32') throw new TypeError(`${name} on webgpu: float32 tensors expected, received ${dy.dtype} and ${s.dtype}`);
    const dx = be.output(s.shape, s.dtype);
    const n = sizeOf(s.shape);
    be.run(prog, [gpu(dy), gpu(s), dx.dataId], { n, ...(def.values ? def.values(attrs) : {}) }, grid1d(n));
    return dx;
  });
}

unaryKernel(Neg, { f32: '-x', i32: '-x' });
unaryKernel(Abs, { f32: 'abs(x)', i32: 'select(x, -x, x < 0)' });
unaryKernel(Exp, { f32: 'exp(x)' });
unaryKernel(Log, { f32: 'safe_log(x)' });
unaryKernel(Expm1, { f32: 'expm1_f32(x)' });
unaryKernel(Log1p, { f32: 'log1p_f32(x)' });
unaryKernel(Sqrt, { f32: 'safe_sqrt(x)' });
unaryKernel(Square, { f32: 'x * x', i32: 'x * x' });
unaryKernel(Reciprocal, { f32: '1.0 / x' });
unaryKernel(Sign, { f32: 'select(select(x, -1.0, x < 0.0), 1.0, x > 0.0)', i32: 'sign(x)' });
unaryKernel(Sin, { f32: 'select(sincos_f32(x).x, nan_f32(), abs(x) == inf_f32())' });
unaryKernel(Cos, { f32: 'select(sincos_f32(x).y, nan_f32(), abs(x) == inf_f32())' });
unaryKernel(Floor, { f32: 'floor(x)', i32: 'x' });
unaryKernel(Round, { f32: 'round_half_up(x)', i32: 'x' });
unaryKernel(IsNaN, { f32: 'select(0.0, 1.0, is_nan(x))', i32: '0', nanPassThrough: false });
unaryKernel(Clip, {
  f32: 'min(max(x, u.lo), u.hi)',
  params: [{ name: 'lo', type: 'f32' }, { name: 'hi', type: 'f32' }],
  values: ({ min, max }) => ({ lo: min, hi: max }),
});
unaryKernel(Affine, {
  f32: 'x * u.scale + u.offset',
  params: [{ name: 'scale', type: 'f32' }, { name: 'offset', type: 'f32' }],
  values: ({ scale, offset }) => ({ scale, offset }),
});

// ------------------------------------------------------------------ binary maps

interface BinaryDef {
  f32: string;
  i32?: string;
  /** true for comparisons (1/0 result; NaN compares false). */
  compare?: boolean;
}

function binaryProgram(name: string, def: BinaryDef, dtype: DType, same: boolean): ProgramDef {
  const t = wgslType(dtype);
  let op: string;
  if (t === 'f32') op = `fn op(a: f32, b: f32) -> f32 { return ${def.f32}; }`;
  else if (def.i32) op = `fn op(a: i32, b: i32) -> i32 { return ${def.i32}; }`;
  else op = `fn op_f(a: f32, b: f32) -> f32 { return ${def.f32}; }\nfn op(a: i32, b: i32) -> i32 { return to_i32(op_f(f32(a), f32(b))); }`;
  const body = same
    ? `  if (i >= u.n) { return; }\n  y[i] = op(a[i], b[i]);`
    : `  if (i >= u.n) { return; }\n${walkCode(2)}\n  y[i] = op(a[o0], b[o1]);`;
  return {
    key: `binary:${name}:${t}:${same ? 'same' : 'bcast'}`,
    buffers: [
      { name: 'a', type: t, access: 'read' },
      { name: 'b', type: t, access: 'read' },
      { name: 'y', type: t, access: 'read_write' },
    ],
    params: [{ name: 'n', type: 'u32' }, ...(same ? [] : walkParams(2))],
    body: `${FLOAT_FNS}\n${op}\n${MAIN_1D}\n${body}\n}`,
  };
}

function binaryKernel(kernel: Kernel, def: BinaryDef): void {
  const programs = new Map<string, ProgramDef>();
  register(kernel, ([a, b], _attrs, be) => binary(be, kernel.name, def, programs, a, b));
}

function binary(be: WebGPUBackend, name: string, def: BinaryDef, programs: Map<string, ProgramDef>, a: TensorInfo, b: TensorInfo): TensorInfo {
  const shape = binaryOutShape(name, a.shape, b.shape);
  const n = sizeOf(shape);
  const same = shapesEqual(a.shape, b.shape);
  const key = `${a.dtype}:${same}`;
  let prog = programs.get(key);
  if (!prog) {
    prog = binaryProgram(name, def, a.dtype, same);
    programs.set(key, prog);
  }
  let params: ParamValues = { n };
  if (!same) {
    const plan = collapse(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)]);
    checkRank(name, plan);
    params = { n, ...walkValues(plan) };
  }
  const y = be.output(shape, a.dtype);
  be.run(prog, [gpu(a), gpu(b), y.dataId], params, grid1d(n));
  return y;
}

const cmp = (expr: string): BinaryDef => ({
  f32: `select(0.0, 1.0, !is_nan(a) && !is_nan(b) && (${expr}))`,
  i32: `select(0, 1, ${expr})`,
  compare: true,
});

binaryKernel(Add, { f32: 'a + b', i32: 'a + b' });
binaryKernel(Sub, { f32: 'a - b', i32: 'a - b' });
binaryKernel(Mul, { f32: 'a * b', i32: 'a * b' });
// Integer division truncates; x / 0 stores 0 in an Int32Array (Infinity and NaN become 0).
binaryKernel(Div, { f32: 'a / b', i32: 'select(a / select(b, 1, b == 0), 0, b == 0)' });
binaryKernel(Pow, { f32: 'pow_f32(a, b)' });
binaryKernel(Maximum, { f32: 'select(max(a, b), nan_f32(), is_nan(a) || is_nan(b))', i32: 'max(a, b)' });
binaryKernel(Minimum, { f32: 'select(min(a, b), nan_f32(), is_nan(a) || is_nan(b))', i32: 'min(a, b)' });
binaryKernel(Greater, cmp('a > b'));
binaryKernel(GreaterEqual, cmp('a >= b'));
binaryKernel(Less, cmp('a < b'));
binaryKernel(LessEqual, cmp('a <= b'));
binaryKernel(Equal, cmp('a == b'));

// ------------------------------------------------------------------ select, cast, fill

const wherePrograms = new Map<string, ProgramDef>();
register(Where, ([c, a, b], _attrs, be) => {
  const shape = whereOutShape(c.shape, a.shape, b.shape);
  const n = sizeOf(shape);
  const tc = wgslType(c.dtype), t = wgslType(a.dtype);
  const key = `where:${tc}:${t}`;
  let prog = wherePrograms.get(key);
  if (!prog) {
    // Any non-zero bit pattern but -0 is "true" (NaN included, as in the oracle's c !== 0).
    prog = {
      key,
      buffers: [
        { name: 'c', type: 'u32', access: 'read' },
        { name: 'a', type: 'u32', access: 'read' },
        { name: 'b', type: 'u32', access: 'read' },
        { name: 'y', type: 'u32', access: 'read_write' },
      ],
      params: [{ name: 'n', type: 'u32' }, ...walkParams(3)],
      body: `${MAIN_1D}\n  if (i >= u.n) { return; }\n${walkCode(3)}\n  let cv = c[o0];\n  let yes = ${tc === 'f32' ? '(cv & 0x7fffffffu) != 0u' : 'cv != 0u'};\n  y[i] = select(b[o2], a[o1], yes);\n}`,
    };
    wherePrograms.set(key, prog);
  }
  void t;
  const plan = collapse(shape, [broadcastStrides(c.shape, shape), broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)]);
  checkRank(Where.name, plan);
  const y = be.output(shape, a.dtype);
  be.run(prog, [gpu(c), gpu(a), gpu(b), y.dataId], { n, ...walkValues(plan) }, grid1d(n));
  return y;
});

const castPrograms = new Map<string, ProgramDef>();
register(Cast, ([x], { dtype }, be) => {
  if (dtype === 'float64') {
    throw new TypeError("Cast on webgpu: float64 is not stored on the GPU; read the values with 'await t.data()' and create the float64 tensor on 'ts'");
  }
  const n = sizeOf(x.shape);
  const y = be.output(x.shape, dtype);
  if (dtype === x.dtype) {
    be.copy(gpu(x), y.dataId, n);
    return y;
  }
  const from = wgslType(x.dtype), to = wgslType(dtype);
  const key = `cast:${from}:${to}`;
  let prog = castPrograms.get(key);
  if (!prog) {
    prog = {
      key,
      buffers: [
        { name: 'x', type: from, access: 'read' },
        { name: 'y', type: to, access: 'read_write' },
      ],
      params: [{ name: 'n', type: 'u32' }],
      body: `${FLOAT_FNS}\n${MAIN_1D}\n  if (i >= u.n) { return; }\n  y[i] = ${to === 'i32' ? 'to_i32(x[i])' : 'f32(x[i])'};\n}`,
    };
    castPrograms.set(key, prog);
  }
  be.run(prog, [gpu(x), y.dataId], { n }, grid1d(n));
  return y;
});

const bits = new DataView(new ArrayBuffer(4));
/** The 32-bit pattern of `value` stored as `dtype` (what Float32Array / Int32Array would hold). */
export function bitsOf(value: number, dtype: DType): number {
  if (dtype === 'int32') bits.setInt32(0, value | 0, true);
  else bits.setFloat32(0, value, true);
  return bits.getUint32(0, true);
}

export const FILL_PROGRAM: ProgramDef = {
  key: 'fill',
  buffers: [{ name: 'y', type: 'u32', access: 'read_write' }],
  params: [{ name: 'n', type: 'u32' }, { name: 'bits', type: 'u32' }],
  body: `${MAIN_1D}\n  if (i >= u.n) { return; }\n  y[i] = u.bits;\n}`,
};

/** A new tensor of `shape` filled with `value`. */
export function fill(be: WebGPUBackend, shape: readonly number[], dtype: DType, value: number): TensorInfo {
  const y = be.output(shape, dtype);
  const n = sizeOf(shape);
  be.run(FILL_PROGRAM, [y.dataId], { n, bits: bitsOf(value, dtype) }, grid1d(n));
  return y;
}

register(Fill, (_inputs, { shape, dtype, value }, be) => {
  if (dtype === 'float64') {
    throw new TypeError("Fill on webgpu: float64 is not stored on the GPU; create the tensor while 'ts' is the backend");
  }
  return fill(be, shape, dtype, value);
});
