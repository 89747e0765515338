/**
 * Elementwise kernels on `wasm` (assembly/elementwise_f32.ts): broadcasting binary maps
 * and comparisons for every broadcast (SIMD inner loops for same-shape, scalar and
 * trailing-vector broadcasts; the host splits rank > 4 walks into 4-dim boxes), unary
 * maps, Where, Fill and float32 Cast. Pow, Sin and Cos run lane by lane in f64 (musl's
 * functions, rounded to f32 like the oracle). Float32 only: other dtypes run on `ts` (the engine
 * decides, see runKernel). The op codes come from src/kernels/wasm_abi.ts.
 */
import {
  Abs, Add, Affine, Cast, Clip, Cos, Div, Equal, Erf, Exp, Expm1, Fill, Floor, Greater, GreaterEqual, IsNaN, Less, LessEqual, Log, Log1p,
  Maximum, Minimum, Mul, Neg, Pow, Reciprocal, Round, Sign, Sin, Sqrt, Square, Sub, Where, binaryOutShape, whereOutShape,
} from '../../../kernels/elementwise.js';
import type { Kernel } from '../../../kernels/kernel.js';
import { BINARY_OP, UNARY_OP } from '../../../kernels/wasm_abi.js';
import type { TensorInfo } from '../../../tensor/backend.js';
import { sizeOf, stridesOf } from '../../../tensor/shape.js';
import { wasmKernel, type WasmBackend } from '../backend.js';
import { broadcastStrides, collapse, forEachBox, runBox, type Walk } from './strided.js';

/** The binary kernels and their codes in binary_f32. */
const BINARY: [Kernel, number][] = [
  [Add, BINARY_OP.add], [Sub, BINARY_OP.sub], [Mul, BINARY_OP.mul], [Div, BINARY_OP.div],
  [Maximum, BINARY_OP.maximum], [Minimum, BINARY_OP.minimum],
  [Greater, BINARY_OP.greater], [GreaterEqual, BINARY_OP.greaterEqual], [Less, BINARY_OP.less],
  [LessEqual, BINARY_OP.lessEqual], [Equal, BINARY_OP.equal], [Pow, BINARY_OP.pow],
];

/** The unary kernels without attrs and their codes in unary_f32. */
const UNARY: [Kernel, number][] = [
  [Neg, UNARY_OP.neg], [Abs, UNARY_OP.abs], [Exp, UNARY_OP.exp], [Log, UNARY_OP.log], [Sqrt, UNARY_OP.sqrt],
  [Square, UNARY_OP.square], [Reciprocal, UNARY_OP.reciprocal], [Sign, UNARY_OP.sign], [Floor, UNARY_OP.floor],
  [Round, UNARY_OP.round], [IsNaN, UNARY_OP.isNan], [Sin, UNARY_OP.sin], [Cos, UNARY_OP.cos],
  [Expm1, UNARY_OP.expm1], [Log1p, UNARY_OP.log1p], [Erf, UNARY_OP.erf],
];

/**
 * A short channel vector broadcast over many rows (a bias of C < 64 channels: walk [R, C],
 * one operand's strides [C, 1], the other's [0, 1]) runs rows of C elements, each a call
 * of the inner loop with a SIMD tail. Instead, tile the vector m times into a scratch row
 * of m*C >= 64 floats and run rows of that length: the same elementwise results (bitwise),
 * m times fewer rows. Returns false when the walk is not of that form.
 */
function tiledVectorBinary(be: WasmBackend, code: number, walk: Walk, pa: number, pb: number, py: number): boolean {
  if (walk.shape.length !== 2) return false;
  const [R, C] = walk.shape;
  const [sa, sb] = walk.strides;
  const isRows = (s: number[]) => s[0] === C && s[1] === 1, isVector = (s: number[]) => s[0] === 0 && s[1] === 1;
  const vectorArg = isRows(sa) && isVector(sb) ? 1 : isVector(sa) && isRows(sb) ? 0 : -1;
  const m = Math.ceil(64 / C);
  if (vectorArg < 0 || C >= 64 || R < 2 * m) return false;
  const P = m * C, rows = Math.floor(R / m);
  const pattern = be.scratch(4 * P);
  try {
    be.wasm.copy_strided_f32(vectorArg === 1 ? pb : pa, pattern, 1, 1, m, C, 0, 0, 0, 1, 0, 0, C, 1);
    const full = [0, 0, P, 1], vec = [0, 0, 0, 1];
    const [pa2, sa2, pb2, sb2] = vectorArg === 1 ? [pa, full, pattern, vec] : [pattern, vec, pb, full];
    const args = [code, pa2, pb2, py, 1, 1, rows, P, ...sa2, ...sb2];
    runBox(be, 'binary_f32', args, 4, [1, 2, 3], [sa2, sb2, full], 3);
    const done = rows * m; // the rows left over, as they are
    if (done < R) {
      const o = 4 * done * C;
      be.wasm.binary_f32(code, vectorArg === 1 ? pa + o : pa, vectorArg === 1 ? pb : pb + o, py + o, 1, 1, R - done, C, 0, 0, sa[0], sa[1], 0, 0, sb[0], sb[1]);
    }
  } finally {
    be.freeScratch(pattern);
  }
  return true;
}

/** y = a op b with NumPy broadcasting. */
export function binaryOp(be: WasmBackend, kernel: Kernel, code: number, a: TensorInfo, b: TensorInfo): TensorInfo {
  const shape = binaryOutShape(kernel.name, a.shape, b.shape);
  const y = be.alloc(shape);
  if (sizeOf(shape) === 0) return y;
  const walk = collapse(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape), stridesOf(shape)]);
  const pa = be.ptr(a), pb = be.ptr(b), py = be.ptr(y);
  if (tiledVectorBinary(be, code, walk, pa, pb, py)) return y;
  forEachBox(walk, (off, d, s) => {
    runBox(be, 'binary_f32', [code, pa + 4 * off[0], pb + 4 * off[1], py + 4 * off[2], d[0], d[1], d[2], d[3], ...s[0], ...s[1]], 4, [1, 2, 3], s, 3);
  });
  return y;
}

for (const [kernel, code] of BINARY) wasmKernel(kernel, ([a, b], _attrs, be) => binaryOp(be, kernel, code, a, b));

/** y = f(x) elementwise; p0, p1 are the op's numeric parameters. */
export function unaryOp(be: WasmBackend, code: number, x: TensorInfo, p0 = 0, p1 = 0): TensorInfo {
  const y = be.alloc(x.shape);
  const n = sizeOf(x.shape);
  if (n) be.parallelRange('unary_f32', [code, be.ptr(x), be.ptr(y), n, p0, p1], 3, [1, 2], 2);
  return y;
}

for (const [kernel, code] of UNARY) wasmKernel(kernel, ([x], _attrs, be) => unaryOp(be, code, x));
wasmKernel(Affine, ([x], { scale, offset }, be) => unaryOp(be, UNARY_OP.affine, x, scale, offset));
wasmKernel(Clip, ([x], { min, max }, be) => unaryOp(be, UNARY_OP.clip, x, min, max));

wasmKernel(Where, ([c, a, b], _attrs, be) => {
  const shape = whereOutShape(c.shape, a.shape, b.shape);
  const y = be.alloc(shape);
  if (sizeOf(shape) === 0) return y;
  const walk = collapse(shape, [c, a, b].map((t) => broadcastStrides(t.shape, shape)).concat([stridesOf(shape)]));
  const pc = be.ptr(c), pa = be.ptr(a), pb = be.ptr(b), py = be.ptr(y);
  forEachBox(walk, (off, d, s) => {
    runBox(be, 'where_f32', [pc + 4 * off[0], pa + 4 * off[1], pb + 4 * off[2], py + 4 * off[3], d[0], d[1], d[2], d[3], ...s[0], ...s[1], ...s[2]], 4, [0, 1, 2, 3], s, 4);
  });
  return y;
});

/** Fill of float32 (the engine sends other dtypes to `ts`). */
export function fillOp(be: WasmBackend, shape: readonly number[], value: number): TensorInfo {
  const y = be.alloc(shape);
  const n = sizeOf(shape);
  if (n) be.wasm.fill_f32(be.ptr(y), n, value);
  return y;
}

wasmKernel(Fill, (_inputs, { shape, value }, be) => fillOp(be, shape, value));

/** Cast float32 -> float32 is a copy; casts to other dtypes run on `ts` (the engine checks attrs.dtype). */
wasmKernel(Cast, ([x], { dtype }, be) => {
  if (dtype !== 'float32' || x.dtype !== 'float32') throw new TypeError(`Cast on wasm: float32 only, received ${x.dtype} -> ${dtype}`);
  const y = be.alloc(x.shape);
  const n = sizeOf(x.shape);
  if (n) be.wasm.copy_f32(be.ptr(y), be.ptr(x), n);
  return y;
});
