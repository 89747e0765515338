/**
 * The `wasm` backend: float32 tensors stored in WebAssembly linear memory and
 * kernels compiled from AssemblyScript (assembly/, built by `npm run build:wasm`).
 *
 * Ownership: every storage is one block of linear memory, freed when its last tensor
 * is disposed (`t.dispose()`, or `tidy(fn)`, which disposes everything made inside
 * `fn` except what it returns). Nothing is freed by the JS garbage collector, so a
 * loop that neither disposes nor tidies grows the WASM memory. `memory().wasm` tells
 * how many storages and bytes are alive.
 *
 * Only float32 lives here (`supportsDtype`): ops on float64 or int32 tensors run on
 * `ts` automatically, and a kernel this backend lacks also runs on `ts` (recorded,
 * see getFallbacks()).
 *
 * How a kernel file uses it (src/backends/wasm/kernels/*.ts):
 *
 *   import { Relu } from '../../../kernels/activation.js'; // the contract: name, checks, attrs type
 *   import { wasmKernel } from '../backend.js';
 *   wasmKernel(Relu, ([x], _attrs, be) => {          // be: the WasmBackend, attrs typed
 *     const y = be.alloc(x.shape);                    // fresh float32 storage -> TensorInfo
 *     be.wasm.relu_f32(be.ptr(x), be.ptr(y), be.size(x)); // pointers are byte offsets
 *     return y;
 *   });
 *
 * - `be.alloc(shape)` makes an output TensorInfo (contents undefined: the kernel must
 *   write every element; `be.zeros(shape)` when it accumulates).
 * - `be.ptr(info)` is the byte offset of a tensor's first element. Offsets are unsigned
 *   and may be >= 2^31 (the whole 4 GiB is used): index a typed array with `ptr / 4` or
 *   `ptr >>> 2`, never `ptr >> 2`, and read a pointer or byte count returned by an export
 *   with `>>> 0` (exports return i32, which JS sees signed).
 * - `be.wasm.<export>(...)` calls an AssemblyScript export (assembly/index.ts lists them).
 * - `be.scratch(bytes)` / `be.freeScratch(ptr)` for temporaries (free them in `finally`).
 * - `be.f32()` is a Float32Array over the whole memory for host-side reads and writes;
 *   take it AFTER the last allocation: growing the memory detaches older views.
 * - Never return an input's storage: outputs are always fresh (the engine rule).
 * - If a kernel throws (out of memory included), the storages and scratch it allocated
 *   are released (`guardKernel`, applied to every kernel in index.ts), so no live entry
 *   leaks; an out-of-memory error then names the kernel, the bytes and the shape.
 * - Register the file by importing it from src/backends/wasm/index.ts. After editing
 *   assembly/, run `npm run build:wasm` and commit src/backends/wasm/generated/*.
 */
import type { Backend, BackendOptions, DataId, TensorInfo } from '../../tensor/backend.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import { sizeOf } from '../../tensor/shape.js';
import { Allocator, WasmOutOfMemoryError } from './allocator.js';
import type { Kernel } from '../../kernels/kernel.js';
import { registerKernel, type KernelFunc, type KernelVariants } from '../../registry/kernels.js';
import type { WasmExports, WasmModule, WasmVariant } from './loader.js';
import { DEFAULT_SPIN_MS, RANGE_ALIGN, ThreadPool, checkThreads, threadsAvailable, type RangeSplit } from './threads.js';

/**
 * The smallest kernel (in flops, 2 per multiply-add) that runs on the worker threads;
 * smaller ones stay on the calling thread, where handing out parts and waiting for them
 * costs more than they save. Measured (Node 20, AMD EPYC 2 vCPU, 2026-12-07, relaxed
 * build, workers awake: see DEFAULT_SPIN_MS in threads.ts), best of 3 loops of 3,000
 * calls, an n x n x n GEMM on 2 threads with the cut-over at 0 against 1 thread:
 * n = 48 (0.22 MFLOP) 0.70x, 64 (0.52 MFLOP) 1.22x, 80 (1.0 MFLOP) 1.47x, 96 1.66x,
 * 128 1.78x; add + relu of n floats (48 flops per element through FLOPS_PER_FLOAT_MOVED):
 * 8,192 0.46x, 16,384 1.10x, 32,768 1.20x, 65,536 1.53x. A threaded call costs about
 * 3-4 us more when the workers are awake, so 0.5 MFLOP is the cut-over. It was 2 MFLOP,
 * measured with workers that slept after 0.2 ms (12-15 us per call): MobileNetV3-Small
 * at batch 1 then ran most of its layers on one thread (6.8 ms on 2 threads against
 * 3.7 ms now, bench/onnx_inference.ts).
 */
export const MIN_PARALLEL_FLOPS = 5e5;

/** The exports that run as parts on the threads (their last two arguments: part, parts). */
const THREADED_EXPORTS = [
  'gemm_f32', 'conv_forward_f32', 'conv_forward_fused_f32', 'conv_winograd_filter_f32', 'conv_backprop_input_f32', 'conv_backprop_filter_f32',
  'winograd_dw_reduce_f32',
  'batch_norm_sums_f32', 'batch_norm_apply_f32', 'batch_norm_grad_block_sums_f32', 'batch_norm_grad_dx_f32',
  // exports run on ranges of elements or rows (parallelRange, parallelSplit)
  'unary_f32', 'activation_f32', 'activation_grad_f32',
  'sgd_f32', 'adam_f32', 'rmsprop_f32', 'adagrad_f32', 'adadelta_f32',
  'binary_f32', 'where_f32', 'softmax_f32', 'softmax_grad_f32', 'softmax_xent_f32', 'softmax_xent_grad_f32',
  'reduce_f32', 'lrn_f32', 'lrn_grad_f32', 'copy_strided_f32', 'transpose2d_f32',
  'max_pool2d_f32', 'max_pool2d_grad_f32', 'avg_pool2d_f32', 'avg_pool2d_grad_f32',
] as const;

/**
 * Flop-equivalents per float a memory-bound kernel (pooling) reads or writes, for the
 * MIN_PARALLEL_FLOPS cut-over: such kernels move ~1-2 G floats/s on one core where the
 * GEMM does ~15-35 GFLOP/s, so a float costs about 16 GEMM flops of time (an estimate
 * from those rates, not a measured cut-over).
 */
export const FLOPS_PER_FLOAT_MOVED = 16;
export type ThreadedExport = (typeof THREADED_EXPORTS)[number];

/** Messages already printed (each says why threads are off once per page or process). */
const noticed = new Set<string>();
function notice(msg: string): void {
  if (noticed.has(msg)) return;
  noticed.add(msg);
  console.warn(msg);
}

/** A storage handle: one block of linear memory. */
export interface WasmData {
  /** Byte offset of the first element. */
  readonly ptr: number;
  /** Bytes of data (4 * elements). */
  readonly bytes: number;
}

export class WasmBackend implements Backend {
  readonly name: string;
  readonly variant: WasmVariant;
  readonly wasmMemory: WebAssembly.Memory;
  /** The AssemblyScript exports (kernels and helpers). */
  readonly wasm: WasmExports;
  private readonly allocator: Allocator;
  private readonly live = new Set<WasmData>();
  private view: Float32Array | null = null;
  private ws: number | undefined;
  private paramBlock: number | undefined;
  /** Storages and scratch blocks allocated by the kernel now running (released if it throws). */
  private pending: { data: WasmData[]; scratch: number[] } | null = null;
  private readonly module: WebAssembly.Module | undefined;
  private pool: ThreadPool | null = null;
  /** The workspaces of the pool's workers. */
  private workerWs: number[] = [];
  /** The thread count asked for (the pool may still be starting, or have failed). */
  private threadsWanted = 1;
  /** Kernel calls that ran on the worker threads so far (tests and benchmarks check the threads were used). */
  threadedCalls = 0;
  /**
   * The cut-over of this instance (MIN_PARALLEL_FLOPS): the conformance suite sets 0 on
   * its threaded instance so that its small drawn sizes run on the workers too.
   */
  minParallelFlops = MIN_PARALLEL_FLOPS;
  private spin = DEFAULT_SPIN_MS;

  /**
   * Milliseconds the threads spin after a job before they sleep (default DEFAULT_SPIN_MS,
   * threads.ts): 0 lets the workers sleep at once, for a page that runs one small model
   * now and then; the default keeps them awake between the kernels of one forward pass.
   */
  get spinMs(): number {
    return this.spin;
  }
  set spinMs(ms: number) {
    if (!(typeof ms === 'number' && ms >= 0 && ms <= 1000)) throw new RangeError(`wasm backend: spinMs must be a number of milliseconds in [0, 1000], received ${String(ms)}`);
    this.spin = ms;
    if (this.pool) this.pool.spinMs = ms;
  }

  constructor(mod: WasmModule, name = 'wasm') {
    this.name = name;
    this.variant = mod.variant;
    this.wasmMemory = mod.memory;
    this.wasm = mod.exports;
    this.module = mod.module;
    // an export's usize comes back as a signed i32: >>> 0 reads it unsigned
    this.allocator = new Allocator(mod.memory, mod.exports.heap_base() >>> 0, mod.maxBytes);
  }

  /**
   * Threads the kernels run on now, the calling thread included: the number asked for
   * once its workers have started, else 1 (while they start, where threads are not
   * available, or after a worker failed).
   */
  get threads(): number {
    return this.pool?.active ? this.pool.threads : 1;
  }

  /** Parts of threaded kernels the worker threads (not the calling thread) have run, with the current workers. */
  get workerParts(): number {
    return this.pool?.workerParts ?? 0;
  }

  /** What this backend is: its build ('simd' or 'relaxed') and its thread count. */
  info(): { name: string; variant: WasmVariant; threads: number; threadsRequested: number } {
    return { name: this.name, variant: this.variant, threads: this.threads, threadsRequested: this.threadsWanted };
  }

  /**
   * Run on `threads` threads (the calling thread and threads - 1 workers). Resolves once
   * the workers have started, or failed to (then the backend runs on one thread, with a
   * console message saying why). Kernels called before then run on one thread; every
   * threaded kernel gives bitwise the same result on any number of threads, so nothing
   * depends on when the workers come up.
   */
  setThreads(threads: number): Promise<void> {
    checkThreads(threads);
    if (threads === this.threadsWanted && this.pool && this.pool.failure === undefined) return this.pool.ready.then(() => {});
    this.threadsWanted = threads;
    this.stopThreads();
    if (threads === 1) return Promise.resolve();
    const avail = threadsAvailable();
    if (!avail.ok) {
      notice(`convkit wasm: running on 1 thread (${threads} requested): ${avail.why}`);
      return Promise.resolve();
    }
    if (!this.module) {
      notice(`convkit wasm: running on 1 thread (${threads} requested): this backend's memory is not shared`);
      return Promise.resolve();
    }
    const bytes = this.wasm.gemm_f32_workspace_bytes() >>> 0;
    this.workerWs = Array.from({ length: threads - 1 }, () => this.allocate(bytes, 'a worker thread workspace'));
    const pool = new ThreadPool(threads, this.module, this.wasmMemory, THREADED_EXPORTS, this.workerWs, (why) => {
      if (this.pool !== pool) return;
      notice(`convkit wasm: running on 1 thread instead of ${threads}: ${why}`);
    });
    pool.spinMs = this.spin;
    this.pool = pool;
    return pool.ready.then(() => {});
  }

  /** setBackend('wasm', options) on a backend already started: `threads` (see setThreads). */
  configure(options: BackendOptions): Promise<void> {
    for (const k of Object.keys(options)) if (k !== 'threads') return Promise.reject(new Error(`convkit wasm: unknown backend option '${k}' (options: threads)`));
    if (options.threads === undefined) return Promise.resolve();
    try {
      return this.setThreads(options.threads);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Stop the workers (the backend goes on on one thread). */
  stopThreads(): void {
    this.pool?.close();
    this.pool = null;
    for (const p of this.workerWs) this.allocator.release(p);
    this.workerWs = [];
  }

  /**
   * Call threaded export `name` with `args` (its arguments before part and parts), on all
   * threads when it does at least MIN_PARALLEL_FLOPS of work, else on this one.
   * args[wsArg] is the workspace: each worker passes its own. The work is cut into
   * `partsPerThread` parts per thread, claimed as threads come free: more parts balance
   * the load when a core is busy with something else, but each part re-packs what the
   * kernel shares across its rows (the GEMM's B operand), so kernels whose shared
   * operand is big (a filter gradient's dy) take one part per thread. `units`, when the
   * kernel splits into few pieces (batch norm's blocks of rows), caps the parts: with
   * fewer than 2 the call stays here (another thread would only claim the one piece while
   * this one waits for it).
   */
  parallel(name: ThreadedExport, args: number[], wsArg: number, flops: number, partsPerThread = 1, units = Infinity): void {
    const pool = this.pool;
    if (pool && units >= 2 && flops >= this.minParallelFlops && pool.active) {
      this.threadedCalls++;
      pool.run(this.wasm, name, args, wsArg, Math.min(units, pool.threads * partsPerThread));
      return;
    }
    this.wasm[name](...args, 0, 1);
  }

  supportsDtype(dtype: DType): boolean {
    return dtype === 'float32';
  }

  write(values: TypedArray, dtype: DType): DataId {
    if (dtype !== 'float32') throw new TypeError(`wasm backend stores float32 only, received ${dtype}`);
    const d = this.allocData(values.length, null);
    this.f32().set(values, d.ptr / 4);
    return d;
  }

  /** Write `values` into a storage from element `offset` on (creation ops fill big tensors chunk by chunk). */
  writeRange(dataId: DataId, dtype: DType, offset: number, values: TypedArray): void {
    const d = dataId as WasmData;
    if (dtype !== 'float32') throw new TypeError(`wasm backend stores float32 only, received ${dtype}`);
    if (!Number.isInteger(offset) || offset < 0 || offset + values.length > d.bytes / 4) {
      throw new RangeError(`wasm backend: writeRange of ${values.length} values at offset ${offset} does not fit a float32 storage of ${d.bytes / 4} elements`);
    }
    this.f32().set(values, d.ptr / 4 + offset);
  }

  /** A copy: a view into linear memory could detach when the memory grows. */
  readSync(dataId: DataId): Float32Array {
    const d = dataId as WasmData;
    const start = d.ptr / 4;
    return this.f32().slice(start, start + d.bytes / 4);
  }

  read(dataId: DataId): Promise<TypedArray> {
    return Promise.resolve(this.readSync(dataId));
  }

  disposeData(dataId: DataId): void {
    const d = dataId as WasmData;
    if (!this.live.delete(d)) return;
    this.allocator.release(d.ptr);
  }

  memory(): { storages: number; bytes: number } {
    let bytes = 0;
    for (const d of this.live) bytes += d.bytes;
    return { storages: this.live.size, bytes };
  }

  /** Linear memory statistics (bytes): the allocator's high-water mark, bytes held in blocks, the memory size. */
  linearMemory(): { highWater: number; inUse: number; blocks: number; size: number } {
    return {
      highWater: this.allocator.highWater,
      inUse: this.allocator.inUse,
      blocks: this.allocator.liveBlocks,
      size: this.wasmMemory.buffer.byteLength,
    };
  }

  /**
   * The tiles and blocks of this build's kernels: the GEMM's register tile (gemmMR x
   * gemmNR: 5x8 plain, 6x8 relaxed) and cache blocks (gemmKC deep, gemmMC rows, gemmNC
   * columns), the SIMD lanes (f32x4), and the direct convolution's tiles: output pixels
   * per register tile, the largest reduction per group (KD*KH*KW*Cg) its forward kernel
   * takes, and taps per register tile of its filter gradient.
   */
  tileSizes(): Readonly<Record<string, number>> {
    const w = this.wasm;
    return {
      gemmMR: w.gemm_f32_mr(), gemmNR: w.gemm_f32_nr(), gemmKC: w.gemm_f32_kc(), gemmMC: w.gemm_f32_mc(), gemmNC: w.gemm_f32_nc(),
      lanes: 4,
      convDirectTilePixels: w.conv_direct_f32_tile_pixels(),
      convDirectMaxTaps: w.conv_direct_f32_max_taps(),
      convDirectFilterTileTaps: w.conv_direct_filter_f32_tile_taps(),
    };
  }

  /**
   * Call element-wise export `name` (`args[nArg]` elements; the arguments at `ptrArgs`
   * point at float32 arrays of that many elements, read or written element by element)
   * on all threads, each on a range of elements (starting at multiples of 16, so the SIMD
   * tail is the same as on one thread: bitwise the same result), when it moves enough
   * data (`floatsPerElement` floats read and written per element; FLOPS_PER_FLOAT_MOVED);
   * else on this thread.
   */
  parallelRange(name: ThreadedExport, args: number[], nArg: number, ptrArgs: readonly number[], floatsPerElement: number): void {
    // a null pointer (an optional array not passed) stays null
    const strides = ptrArgs.filter((i) => args[i] !== 0).map((i) => [i, 4] as const);
    this.parallelSplit(name, args, { nArg, strides, align: RANGE_ALIGN }, args[nArg] * floatsPerElement * FLOPS_PER_FLOAT_MOVED);
  }

  /**
   * Call export `name` on all threads, each on a range of the units counted by
   * `args[split.nArg]` (rows of a softmax, outer blocks of a broadcast), the pointer
   * arguments advanced as `split.strides` say (see RangeSplit), when the call does at least
   * MIN_PARALLEL_FLOPS of work (`flops`); else on this thread. Every unit is computed by
   * one call, in the same way as on one thread: bitwise the same result. args[wsArg], when
   * given, is a scratch block: each worker passes its own workspace instead.
   */
  parallelSplit(name: ThreadedExport, args: number[], split: RangeSplit, flops: number, wsArg = -1): void {
    const pool = this.pool;
    if (pool && args[split.nArg] >= 2 && flops >= this.minParallelFlops && pool.active) {
      this.threadedCalls++;
      pool.run(this.wasm, name, args, wsArg, Math.min(args[split.nArg], pool.threads * 2), split);
      return;
    }
    this.wasm[name](...args);
  }

  // ------------------------------------------------------------ kernel helpers

  /** A fresh float32 output of `shape` (contents undefined). */
  alloc(shape: readonly number[]): TensorInfo {
    return { dataId: this.allocData(sizeOf(shape), shape), shape, dtype: 'float32' };
  }

  /** A fresh float32 output of `shape`, zero-filled. */
  zeros(shape: readonly number[]): TensorInfo {
    const t = this.alloc(shape);
    const n = sizeOf(shape);
    if (n) this.wasm.zero_f32(this.ptr(t), n);
    return t;
  }

  /** Byte offset of a tensor's first element. */
  ptr(t: TensorInfo): number {
    return (t.dataId as WasmData).ptr;
  }

  /** Number of elements of a tensor. */
  size(t: TensorInfo): number {
    return (t.dataId as WasmData).bytes / 4;
  }

  /** Temporary block of at least `bytes` (64-byte aligned); release with freeScratch. */
  scratch(bytes: number): number {
    const ptr = this.allocate(bytes, 'kernel scratch');
    this.pending?.scratch.push(ptr);
    return ptr;
  }

  freeScratch(ptr: number): void {
    this.allocator.release(ptr);
    const pending = this.pending?.scratch;
    if (pending) {
      const i = pending.lastIndexOf(ptr);
      if (i >= 0) pending.splice(i, 1);
    }
  }

  /**
   * C[M,N] (+)= op(A)[M,K] @ op(B)[K,N], row-major, pointers in bytes, leading
   * dimensions in elements; op = transpose when the flag is set.
   */
  gemm(
    M: number, N: number, K: number,
    A: number, lda: number, transA: boolean,
    B: number, ldb: number, transB: boolean,
    C: number, ldc: number, accumulate: boolean,
  ): void {
    if (M === 0 || N === 0) return;
    this.parallel('gemm_f32', [M, N, K, A, lda, +transA, B, ldb, +transB, C, ldc, +accumulate, this.workspace()], 12, 2 * M * N * K);
  }

  /**
   * The packing workspace of the GEMM and conv kernels (packed A and B blocks, ~4 MB),
   * allocated on first use and kept for the backend's life (not a tensor storage).
   */
  workspace(): number {
    return (this.ws ??= this.allocate(this.wasm.gemm_f32_workspace_bytes() >>> 0, 'the GEMM/convolution packing workspace'));
  }

  /**
   * Write up to 64 int32 parameters (geometry blocks and the like) into a small block
   * owned by the backend and return its address. The block is reused by the next call:
   * pass it straight to one wasm call.
   */
  params(values: readonly number[]): number {
    if (values.length > 64) throw new RangeError(`wasm backend: params() takes at most 64 values, received ${values.length}`);
    const p = (this.paramBlock ??= this.allocate(256, 'the kernel parameter block'));
    const v = new Int32Array(this.wasmMemory.buffer, p, values.length);
    for (let i = 0; i < values.length; i++) v[i] = values[i];
    return p;
  }

  /** Float32Array over all of linear memory; re-taken after every allocation (views detach on grow). */
  f32(): Float32Array {
    const buf = this.wasmMemory.buffer;
    if (!this.view || this.view.buffer !== buf) this.view = new Float32Array(buf);
    return this.view;
  }

  /**
   * Run kernel `name` (`f`): if it throws, every storage and scratch block it allocated
   * is released (the engine never sees its outputs, so nothing else could), and an
   * out-of-memory error is told the kernel's name.
   */
  guardKernel<T>(name: string, f: () => T): T {
    const outer = this.pending;
    const mine = (this.pending = { data: [], scratch: [] });
    try {
      return f();
    } catch (e) {
      for (const d of mine.data) this.disposeData(d);
      for (const p of mine.scratch) if (this.allocator.isLive(p)) this.allocator.release(p);
      if (e instanceof WasmOutOfMemoryError) e.inKernel(name);
      throw e;
    } finally {
      this.pending = outer;
    }
  }

  private allocate(bytes: number, what: string): number {
    try {
      return this.allocator.alloc(bytes);
    } catch (e) {
      if (e instanceof WasmOutOfMemoryError) e.describe(what);
      throw e;
    }
  }

  private allocData(n: number, shape: readonly number[] | null): WasmData {
    const bytes = n * 4;
    const d: WasmData = { ptr: this.allocate(bytes, shape ? `a float32 tensor of shape [${shape.join(', ')}]` : `${n} float32 values`), bytes };
    this.live.add(d);
    this.pending?.data.push(d);
    return d;
  }
}

/** Register `fn` as `kernel`'s implementation on `wasm` (typed attrs, the backend as a WasmBackend). */
export function wasmKernel<A extends object>(kernel: Kernel<A>, impl: KernelFunc<A, WasmBackend> | KernelVariants<A, WasmBackend>): void {
  registerKernel<A, WasmBackend>(kernel, 'wasm', impl);
}
