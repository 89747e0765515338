/**
 * Elementwise kernels on `wasm` (assembly/elementwise_f32.ts): broadcasting binary maps
 * and comparisons for every broadcast (SIMD inner loops for same-shape, scalar and
 * trailing-vector broadcasts; the host splits rank > 4 walks into 4-dim boxes), unary
 * maps, Where, Fill and float32 Cast. Pow, Sin and Cos run lane by lane in f64 (musl's
 * functions, rounded to f32 like the oracle). Float32 only: other dtypes run on `ts` (the engine
 * decides, see runKernel).
 */
import { registerKernel, type KernelFunc } from '../../../registry/kernels.js';
import type { TensorInfo } from '../../../tensor/backend.js';
import type { DType } from '../../../tensor/dtype.js';
import { broadcastShapes, sizeOf, stridesOf } from '../../../tensor/shape.js';
import type { WasmBackend } from '../backend.js';
import { broadcastStrides, collapse, forEachBox } from './strided.js';

/** Binary op codes of assembly/elementwise_f32.ts. */
const BINARY: Record<string, number> = {
  Add: 0, Sub: 1, Mul: 2, Div: 3, Maximum: 4, Minimum: 5,
  Greater: 6, GreaterEqual: 7, Less: 8, LessEqual: 9, Equal: 10, Pow: 11,
};

/** Unary op codes of assembly/elementwise_f32.ts. */
const UNARY: Record<string, number> = {
  Neg: 0, Abs: 1, Exp: 2, Log: 3, Sqrt: 4, Square: 5, Reciprocal: 6, Sign: 7,
  Affine: 8, Clip: 9, Floor: 10, Round: 11, IsNaN: 12, Sin: 13, Cos: 14,
};

function reg(name: string, kernelFunc: KernelFunc): void {
  registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
}

/** y = a op b with NumPy broadcasting. */
export function binaryOp(be: WasmBackend, code: number, a: TensorInfo, b: TensorInfo): TensorInfo {
  const shape = broadcastShapes(a.shape, b.shape);
  const y = be.alloc(shape);
  if (sizeOf(shape) === 0) return y;
  const walk = collapse(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape), stridesOf(shape)]);
  const pa = be.ptr(a), pb = be.ptr(b), py = be.ptr(y);
  forEachBox(walk, (off, d, s) => {
    be.wasm.binary_f32(code, pa + 4 * off[0], pb + 4 * off[1], py + 4 * off[2], d[0], d[1], d[2], d[3], ...s[0], ...s[1]);
  });
  return y;
}

for (const [name, code] of Object.entries(BINARY)) {
  reg(name, ([a, b], _attrs, backend) => binaryOp(backend as WasmBackend, code, a, b));
}

/** y = f(x) elementwise; p0, p1 are the op's numeric parameters. */
export function unaryOp(be: WasmBackend, code: number, x: TensorInfo, p0 = 0, p1 = 0): TensorInfo {
  const y = be.alloc(x.shape);
  const n = sizeOf(x.shape);
  if (n) be.wasm.unary_f32(code, be.ptr(x), be.ptr(y), n, p0, p1);
  return y;
}

for (const [name, code] of Object.entries(UNARY)) {
  reg(name, ([x], attrs, backend) => {
    const be = backend as WasmBackend;
    if (name === 'Affine') return unaryOp(be, code, x, attrs.scale as number, attrs.offset as number);
    if (name === 'Clip') return unaryOp(be, code, x, attrs.min as number, attrs.max as number);
    return unaryOp(be, code, x);
  });
}

reg('Where', ([c, a, b], _attrs, backend) => {
  const be = backend as WasmBackend;
  const shape = broadcastShapes(broadcastShapes(c.shape, a.shape, 'where'), b.shape, 'where');
  const y = be.alloc(shape);
  if (sizeOf(shape) === 0) return y;
  const walk = collapse(shape, [c, a, b].map((t) => broadcastStrides(t.shape, shape)).concat([stridesOf(shape)]));
  const pc = be.ptr(c), pa = be.ptr(a), pb = be.ptr(b), py = be.ptr(y);
  forEachBox(walk, (off, d, s) => {
    be.wasm.where_f32(pc + 4 * off[0], pa + 4 * off[1], pb + 4 * off[2], py + 4 * off[3], d[0], d[1], d[2], d[3], ...s[0], ...s[1], ...s[2]);
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

reg('Fill', (_inputs, attrs, backend) => fillOp(backend as WasmBackend, attrs.shape as number[], attrs.value as number));

/** Cast float32 -> float32 is a copy; casts to other dtypes run on `ts` (the engine checks attrs.dtype). */
reg('Cast', ([x], attrs, backend) => {
  const be = backend as WasmBackend;
  const dtype = attrs.dtype as DType;
  if (dtype !== 'float32' || x.dtype !== 'float32') throw new TypeError(`Cast on wasm: float32 only, received ${x.dtype} -> ${dtype}`);
  const y = be.alloc(x.shape);
  const n = sizeOf(x.shape);
  if (n) be.wasm.copy_f32(be.ptr(y), be.ptr(x), n);
  return y;
});
