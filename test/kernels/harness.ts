/**
 * The kernel conformance harness: runs one kernel on a backend under test and on the
 * reference, and compares every output.
 *
 * The reference is the `ts` backend in float64 (the readable loops, computed in double):
 * float inputs are cast to float64 there, int32 inputs stay int32. The backend under test
 * gets the same values as float32 (every drawn value is a float32, so both sides see the
 * same numbers). Results are read with `await t.data()`, so webgpu runs like the others.
 *
 * Comparison, per output: the shape, the dtype (float64 on the reference stands for
 * float32 under test), NaN and infinities by class, and finite values within
 *     |got - fround(expected)| <= tol * sqrt(K) * max(1, |fround(expected)|)
 * where K is the case's reduction length (1 for elementwise kernels). This is how
 * XNNPACK sizes its kernel tests: the rounding error of a K-term float32 sum of random
 * terms grows like sqrt(K) (a random walk of K roundings), not like K (the worst case,
 * which would hide real bugs in long reductions); the max(1, |e|) term makes it absolute
 * near zero (where cancellation leaves an error of the terms' size, not the result's)
 * and relative for large values. A sum that runs through long partial sums rounds each
 * one relative to its own size (about sqrt(k) terms' worth for random signs), so its
 * error grows closer to eps * K / 3; the tables with long reductions (MatMul, conv, Sum)
 * pick tol so that tol * sqrt(K) covers that at the largest K they draw. Expected values are rounded to float32 first, so a
 * correctly rounded kernel (add, mul, max, sqrt, ...) passes with tol = 0.
 *
 * The backend under test must really run the kernel: fallbacks are recorded around the
 * run (`clearFallbacks`/`getFallbacks`), and a fallback to `ts` for a kernel the backend
 * registers (`listKernels(backend)`) fails the case, so a test never runs the oracle
 * against itself. A kernel the backend does not register is skipped on it by the suites
 * (with a note), and a case whose dtypes the backend cannot store is not drawn for it.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import * as ck from '../../src/index.js';
import type { DType, Tensor } from '../../src/index.js';
import { registerWasmVariant, wasmVariantSupported, type WasmBackend } from '../../src/backends/wasm/index.js';
import type { Tol } from '../util/close.js';
import { openWebGPU } from '../util/webgpu.js';

// ---------------------------------------------------------------- cases

/** One input of a case: its values (float32-representable for float inputs), shape and dtype. */
export interface CaseInput {
  values: ArrayLike<number>;
  shape: number[];
  /** 'float32' (default: any float dtype, float64 on the reference) or 'int32'. */
  dtype?: 'float32' | 'int32';
}

/** One drawn case of a kernel. */
export interface KernelCase {
  inputs: CaseInput[];
  attrs?: Record<string, unknown>;
  /** The reduction length each output value sums over (default 1). */
  K?: number;
  /** Printed with a failure (e.g. the drawn geometry). */
  note?: string;
}

/** What a case table knows of the backend it draws sizes for. */
export interface SizeContext {
  /** The backend's id under test (e.g. 'wasm', 'webgpu'). */
  id: string;
  /** Sizes to draw dims from: around the backend's tiles (see tileSizes()), or the SIMD sizes. */
  sizes: number[];
  /** Sizes around the backend's large blocks ([] when it reports none); see sizeContext. */
  blocks: number[];
  /** Small sizes for leading dims (keeps the oracle and SwiftShader fast). */
  small: number[];
  /** Whether the backend runs slowly (SwiftShader): tables draw smaller geometries. */
  slow: boolean;
  /** Whether the backend stores int32 tensors (where it does not, int32 cases are not drawn). */
  int32: boolean;
  /** Raw tile sizes reported by the backend ({} when it reports none). */
  tiles: Readonly<Record<string, number>>;
}

/** A table entry: how to draw cases of one kernel, and its tolerance (see the module doc). */
export interface KernelSpec {
  cases: (ctx: SizeContext) => fc.Arbitrary<KernelCase>;
  tol: number;
  /**
   * Tolerance on webgpu where WGSL allows less accuracy than the float32 rounding the
   * other backends reach (division 2.5 ulp, exp/log/pow/sin/cos from the shader's builtins).
   */
  webgpuTol?: number;
}
export type CaseTable = Record<string, KernelSpec>;

// ---------------------------------------------------------------- backends under test

export interface BackendUnderTest {
  /** Name in test titles. */
  id: string;
  /** The registered backend the kernels run on. */
  backend: string;
  /** fast-check runs per kernel. */
  numRuns: number;
  slow: boolean;
  /** Start the backend: null when it runs, else the reason it is skipped. */
  start(): Promise<string | null>;
}

/** The SIMD sizes drawn when a backend reports no tiles: around 4 and 16 lanes. */
export const SIMD_SIZES = [1, 3, 4, 5, 7, 8, 9, 15, 16, 17];
const SMALL = [1, 2, 3, 4, 5];
/** SwiftShader runs about 1 GFLOP/s: webgpu draws from small sizes only. */
const WEBGPU_SIZES = [1, 2, 3, 4, 5, 7, 8, 9];

let variantsRegistered = false;
/** The plain SIMD and relaxed-SIMD wasm builds, as two more instances of the wasm backend. */
function registerWasmBuilds(): void {
  if (variantsRegistered) return;
  variantsRegistered = true;
  const have = ck.listBackends();
  if (!have.includes('wasm-simd')) registerWasmVariant('wasm-simd', 'simd');
  if (!have.includes('wasm-relaxed')) registerWasmVariant('wasm-relaxed', 'relaxed');
  if (!have.includes('wasm-threads')) registerWasmVariant('wasm-threads', 'simd', 3);
}

/**
 * The plain SIMD build on 3 threads with no cut-over: every threaded kernel (GEMM,
 * convolutions), however small the drawn sizes, runs as parts on the workers.
 */
async function startThreaded(name: string): Promise<string | null> {
  try {
    const be = ck.withBackend(name, () => ck.backend()) as unknown as WasmBackend;
    await be.setThreads(3);
    if (be.threads !== 3) return `its workers did not start (${JSON.stringify(be.info())})`;
    be.minParallelFlops = 0;
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

async function startBackend(name: string): Promise<string | null> {
  try {
    ck.withBackend(name, () => ck.backend());
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Every backend the suite runs on (CONVKIT_CONFORMANCE_BACKENDS, comma-separated ids,
 * narrows it). ts float64 is the reference itself; ts float32 runs against it.
 */
export function backendsUnderTest(): BackendUnderTest[] {
  registerWasmBuilds();
  const all: BackendUnderTest[] = [
    { id: 'ts-float32', backend: 'ts', numRuns: 30, slow: false, start: async () => null },
    { id: 'wasm', backend: 'wasm-simd', numRuns: 30, slow: false, start: () => startBackend('wasm-simd') },
    { id: 'wasm-threads', backend: 'wasm-threads', numRuns: 30, slow: false, start: () => startThreaded('wasm-threads') },
    {
      id: 'wasm-relaxed',
      backend: 'wasm-relaxed',
      numRuns: 30,
      slow: false,
      start: async () =>
        wasmVariantSupported('relaxed')
          ? startBackend('wasm-relaxed')
          : 'this engine does not validate the relaxed-SIMD build (Node 20 needs --experimental-wasm-relaxed-simd; test/wasm/module.test.ts runs it in a child process)',
    },
    {
      id: 'webgpu',
      backend: 'webgpu',
      numRuns: 6,
      slow: true,
      start: async () => {
        const s = await openWebGPU(); // throws when CONVKIT_REQUIRE_WEBGPU=1 and no adapter opens
        return s.ok ? null : `no WebGPU adapter: ${s.reason}`;
      },
    },
  ];
  const only = process.env.CONVKIT_CONFORMANCE_BACKENDS?.split(',');
  return only ? all.filter((b) => only.includes(b.id)) : all;
}

const started = new Map<string, Promise<string | null>>();
/** Start `b` once per test file; null when it runs, else why it is skipped (printed once). */
export function ensureStarted(b: BackendUnderTest): Promise<string | null> {
  let p = started.get(b.id);
  if (!p) {
    p = b.start().then((reason) => {
      if (reason) console.warn(`conformance: backend '${b.id}' skipped: ${reason}`);
      return reason;
    });
    started.set(b.id, p);
  }
  return p;
}

/** Tiles up to this size are drawn for every dim (register tiles, lanes, small workgroups). */
const TILE_MAX = 32;
/** Blocks above TILE_MAX are drawn (t - 1, t, t + 1) for the dims that reach them (MatMul, long reductions) up to this size. */
const BLOCK_MAX = 600;

/**
 * Sizes to draw for `b`: t - 1, t, t + 1 around each tile and block it reports
 * (tileSizes()), merged with the SIMD sizes (small sizes on webgpu). Small tiles go to
 * `sizes` (every dim); large blocks (a GEMM's KC/MC, a 256-wide workgroup) go to
 * `blocks`, which only the tables whose cost stays linear in them use.
 */
export function sizeContext(b: BackendUnderTest): SizeContext {
  const tiles = ck.withBackend(b.backend, () => ck.backend().tileSizes?.()) ?? {};
  const around = new Set<number>(), blocks = new Set<number>();
  for (const t of Object.values(tiles)) {
    if (!Number.isInteger(t) || t < 1) continue;
    for (const v of [t - 1, t, t + 1]) {
      if (v < 1) continue;
      if (v <= (b.slow ? 17 : TILE_MAX)) around.add(v);
      else if (v <= BLOCK_MAX) blocks.add(v);
    }
  }
  const base = b.slow ? WEBGPU_SIZES : SIMD_SIZES;
  const sizes = [...new Set([...base, ...around])].sort((x, y) => x - y);
  const int32 = ck.withBackend(b.backend, () => ck.backend().supportsDtype('int32'));
  return { id: b.id, sizes, blocks: [...blocks].sort((x, y) => x - y), small: SMALL, slow: b.slow, int32, tiles };
}

// ---------------------------------------------------------------- running and comparing

interface Out {
  shape: number[];
  dtype: DType;
  values: ArrayLike<number>;
}

function makeInput(x: CaseInput, dtype: DType): Tensor {
  const arr = dtype === 'int32' ? Int32Array.from(x.values) : dtype === 'float64' ? Float64Array.from(x.values) : Float32Array.from(x.values);
  return ck.tensor(arr, x.shape, dtype);
}

/** Run `name` on `backend` with inputs in float dtype `float`; every output read asynchronously. */
async function runKernelOn(backend: string, name: string, inputs: CaseInput[], attrs: Record<string, unknown>, float: DType): Promise<{ outs: Out[]; fallbacks: ck.FallbackRecord[] }> {
  let ins: Tensor[] = [];
  let outs: Tensor[] = [];
  try {
    ins = ck.withBackend(backend, () => inputs.map((x) => makeInput(x, x.dtype === 'int32' ? 'int32' : float)));
    for (const t of ins) expect(t.backend.name, `input of ${name} should live on ${backend}`).toBe(backend);
    ck.clearFallbacks();
    outs = ck.withBackend(backend, () => ck.runKernel(name, ins, attrs));
    const fallbacks = ck.getFallbacks().filter((f) => f.from === backend);
    const read: Out[] = [];
    for (const o of outs) read.push({ shape: [...o.shape], dtype: o.dtype, values: (await o.data()).slice() });
    return { outs: read, fallbacks };
  } finally {
    for (const t of [...ins, ...outs]) t.dispose();
  }
}

/** Whether `backend` can store every dtype the case uses (inputs and attrs.dtype). */
export function caseFits(backend: string, c: KernelCase): boolean {
  const be = ck.withBackend(backend, () => ck.backend());
  const dtypes: DType[] = c.inputs.map((x) => x.dtype ?? 'float32');
  if (typeof c.attrs?.dtype === 'string') dtypes.push(c.attrs.dtype as DType);
  return dtypes.every((d) => be.supportsDtype(d));
}

/**
 * Compare one output; null when it matches, else a description of the first mismatch.
 * `tol` a number: |got - e| <= tol * sqrt(K) * max(1, |e|) (see the module doc); an
 * {atol, rtol} pair: |got - e| <= atol + rtol * |e|. e is the expected value rounded to
 * float32 when `roundTo32` (the output under test is float32).
 */
export function compareValues(got: ArrayLike<number>, want: ArrayLike<number>, tol: number | Tol, K: number, roundTo32: boolean): string | null {
  if (got.length !== want.length) return `length ${got.length} != expected ${want.length}`;
  const scale = typeof tol === 'number' ? tol * Math.sqrt(Math.max(1, K)) : 0;
  const atol = typeof tol === 'number' ? 0 : (tol.atol ?? 1e-5), rtol = typeof tol === 'number' ? 0 : (tol.rtol ?? 1e-4);
  for (let i = 0; i < got.length; i++) {
    const a = got[i];
    const e = roundTo32 ? Math.fround(want[i]) : want[i];
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (Number.isNaN(a) !== Number.isNaN(e)) return `index ${i}: got ${a}, expected ${e}`;
      continue;
    }
    if (!Number.isFinite(a) || !Number.isFinite(e)) {
      if (a !== e) return `index ${i}: got ${a}, expected ${e}`;
      continue;
    }
    const d = Math.abs(a - e);
    if (typeof tol === 'number') {
      if (d > scale * Math.max(1, Math.abs(e))) return `index ${i}: got ${a}, expected ${e} (|diff| ${d.toExponential(3)} > ${tol} * sqrt(${K}) * max(1, |e|))`;
    } else if (d > atol + rtol * Math.abs(e)) return `index ${i}: got ${a}, expected ${e} (|diff| ${d.toExponential(3)} > ${atol} + ${rtol} * |e|)`;
  }
  return null;
}

function describeCase(name: string, c: KernelCase): string {
  const ins = c.inputs.map((x) => `${x.dtype ?? 'float'}[${x.shape.join(',')}]`).join(' ');
  const attrs = JSON.stringify(c.attrs ?? {}, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  return `${name} inputs ${ins} attrs ${attrs.length > 400 ? attrs.slice(0, 400) + '...' : attrs}${c.note ? ` (${c.note})` : ''}`;
}

export interface CheckOptions {
  /** Tolerance (see compareValues); default 0: exactly the float32-rounded reference. */
  tol?: number | Tol;
  /** Reduction length for the numeric tolerance (default: the case's K, else 1). */
  K?: number;
}

/**
 * Run kernel `name` on `backend` and on the reference; fail (vitest expect) on any
 * difference in output count, shape, dtype or value, or on a fallback to ts.
 */
export async function expectKernelMatches(backend: string, name: string, c: KernelCase, opts: CheckOptions = {}): Promise<void> {
  const attrs = c.attrs ?? {};
  const ctx = describeCase(name, c);
  const want = await runKernelOn('ts', name, c.inputs, attrs, 'float64');
  const testFloat: DType = 'float32';
  const got = await runKernelOn(backend, name, c.inputs, attrs, testFloat);
  if (backend !== 'ts') {
    const registered = ck.listKernels(backend).includes(name);
    if (registered) expect(got.fallbacks.map((f) => `${f.kernel} (${f.reason})`), `${backend} fell back to ts: ${ctx}`).toEqual([]);
  }
  expect(got.outs.length, `output count: ${ctx}`).toBe(want.outs.length);
  const tol = opts.tol ?? 0;
  const K = opts.K ?? c.K ?? 1;
  got.outs.forEach((g, i) => {
    const w = want.outs[i];
    expect(g.shape, `output ${i} shape: ${ctx}`).toEqual(w.shape);
    expect(g.dtype, `output ${i} dtype: ${ctx}`).toBe(w.dtype === 'float64' ? testFloat : w.dtype);
    const m = compareValues(g.values, w.values, tol, K, g.dtype === 'float32');
    if (m) expect.fail(`${backend}: output ${i}: ${m}: ${ctx}`);
  });
}

/**
 * The property of one table entry on one backend: `numRuns` drawn cases (those whose
 * dtypes the backend stores; CONVKIT_CONFORMANCE_RUNS overrides the backend's count for a
 * deeper run), each checked by expectKernelMatches. Returns how many ran.
 */
export async function checkSpec(b: BackendUnderTest, name: string, spec: KernelSpec, ctx: SizeContext, numRuns = Number(process.env.CONVKIT_CONFORMANCE_RUNS) || b.numRuns): Promise<number> {
  let ran = 0;
  // Counterexamples print as shapes and attrs (the values follow from the drawn seed).
  const arb = spec.cases(ctx)
    .filter((c) => caseFits(b.backend, c))
    .map((c) => Object.assign(c, { [fc.toStringMethod]: () => describeCase(name, c) }));
  await fc.assert(
    fc.asyncProperty(arb, async (c) => {
      ran++;
      await expectKernelMatches(b.backend, name, c, { tol: b.backend === 'webgpu' && spec.webgpuTol !== undefined ? spec.webgpuTol : spec.tol });
    }),
    { numRuns, endOnFailure: true },
  );
  return ran;
}

/** expectKernelMatches for a pinned case: `inputs` and `attrs` given, tolerance `tol` (default exact). */
export function expectKernel(backend: string, name: string, inputs: CaseInput[], attrs: Record<string, unknown> = {}, tol: number | Tol = 0, K?: number): Promise<void> {
  return expectKernelMatches(backend, name, { inputs, attrs }, { tol, K });
}
