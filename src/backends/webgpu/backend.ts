/**
 * The `webgpu` backend: every tensor is one GPU storage buffer, kernels are WGSL
 * compute programs, and values reach JavaScript only through `await tensor.data()`.
 *
 * Recording. Dispatches are recorded into one command encoder and submitted in
 * batches (every FLUSH_EVERY dispatches, and before every read), which keeps the
 * per-op cost low. Because `queue.writeBuffer` runs at once on the queue timeline
 * while recorded commands run at the next submit, a buffer released while recorded
 * commands may still use it is only recycled after that submit.
 *
 * Ownership. Storage follows the engine's rule, the same as the wasm backend's: the
 * engine calls `disposeData` when the last tensor sharing a storage is disposed (by
 * `dispose()` or by the enclosing `tidy`). Released buffers go to a pool keyed by
 * byte size (training reuses the same shapes every step); the pool is capped and
 * `releasePool()` destroys its content.
 */
import type { Backend, DataId, TensorInfo } from '../../tensor/backend.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import { sizeOf } from '../../tensor/shape.js';
import { BufferUsage, MAP_MODE_READ, type GpuBuffer, type GpuCommandEncoder, type GpuComputePassEncoder, type GpuComputePipeline, type GpuDevice } from './gpu_api.js';
import { WG, packParams, programSource, type ParamValues, type ProgramDef } from './program.js';
import { GEMM_TILE_SIZES } from './kernels/gemm.js';

/** A tensor's storage on the GPU. */
export interface GpuData {
  buffer: GpuBuffer;
  /** Elements (4 bytes each: float32 or int32). */
  size: number;
  dtype: DType;
}

const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
const UNIFORM_USAGE = BufferUsage.UNIFORM | BufferUsage.COPY_DST;
const FLUSH_EVERY = 64;

/** Bytes of a buffer holding `n` 4-byte elements (WebGPU bindings need a non-zero multiple of 4). */
const bytesFor = (n: number) => Math.max(4, 4 * n);

export interface WebGPUBackendOptions {
  /** Bytes of released buffers kept for reuse (default 1 GiB). */
  poolBytes?: number;
  /** Adapter description, for messages and benchmark reports. */
  adapterName?: string;
  /**
   * The object the device came from. dawn.node tears its instance down when the object
   * returned by `create()` is garbage-collected, even while a device is in use, so the
   * backend keeps it alive for as long as it lives.
   */
  owner?: unknown;
}

export class WebGPUBackend implements Backend {
  readonly name = 'webgpu';
  readonly device: GpuDevice;
  readonly adapterName: string;
  /** Keeps the WebGPU implementation object alive (see WebGPUBackendOptions.owner). */
  readonly owner: unknown;
  private live = new Set<GpuData>();
  private liveBytes = 0;
  private pool = new Map<number, GpuBuffer[]>();
  private uniformPool = new Map<number, GpuBuffer[]>();
  private poolBytes = 0;
  private readonly poolCap: number;
  /** Buffers released while recorded commands may still read them: recycled after the next submit. */
  private pendingStorage: GpuBuffer[] = [];
  private pendingUniform: GpuBuffer[] = [];
  private encoder: GpuCommandEncoder | null = null;
  private recorded = 0;
  private pipelines = new Map<string, GpuComputePipeline>();
  private errors: string[] = [];
  private lostReason: string | null = null;
  /** Dispatches recorded since creation (for tests and benchmarks). */
  dispatches = 0;

  constructor(device: GpuDevice, opts: WebGPUBackendOptions = {}) {
    this.device = device;
    this.adapterName = opts.adapterName ?? 'unknown adapter';
    this.owner = opts.owner;
    this.poolCap = opts.poolBytes ?? 1 << 30;
    const onError = (e: { error: { message: string } }) => {
      if (this.errors.length < 16) this.errors.push(e.error.message);
    };
    if (typeof device.addEventListener === 'function') device.addEventListener('uncapturederror', onError);
    else device.onuncapturederror = onError;
    device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    }, () => undefined);
  }

  supportsDtype(dtype: DType): boolean {
    return dtype === 'float32' || dtype === 'int32';
  }

  /**
   * The sizes the kernels work in: threads per workgroup of the 1-D programs (the GEMM's
   * 16 x 16 workgroup has as many), the GEMM's output tile (gemmTile x gemmTile per
   * workgroup, K in steps of gemmKStep) and its large tile (gemmLargeTile, gemmLargeKStep).
   */
  tileSizes(): Readonly<Record<string, number>> {
    return { workgroupSize: WG, ...GEMM_TILE_SIZES };
  }

  // ------------------------------------------------------------ storage

  private takeBuffer(bytes: number): GpuBuffer {
    const list = this.pool.get(bytes);
    if (list && list.length) {
      this.poolBytes -= bytes;
      return list.pop()!;
    }
    this.checkAlive();
    return this.device.createBuffer({ size: bytes, usage: STORAGE_USAGE });
  }

  /** Fresh storage for `size` elements (contents undefined: every kernel writes all of it). */
  alloc(size: number, dtype: DType): GpuData {
    const limit = Math.min(this.device.limits.maxStorageBufferBindingSize, this.device.limits.maxBufferSize);
    if (bytesFor(size) > limit) {
      throw new RangeError(`webgpu: a tensor of ${size} elements needs ${bytesFor(size)} bytes, more than this GPU binds in one buffer (${limit} bytes); use a smaller batch`);
    }
    const d: GpuData = { buffer: this.takeBuffer(bytesFor(size)), size, dtype };
    this.live.add(d);
    this.liveBytes += d.buffer.size;
    return d;
  }

  /** A kernel output: fresh storage with its shape. */
  output(shape: readonly number[], dtype: DType): TensorInfo & { dataId: GpuData } {
    return { dataId: this.alloc(sizeOf(shape), dtype), shape: [...shape], dtype };
  }

  write(values: TypedArray, dtype: DType): DataId {
    if (!this.supportsDtype(dtype)) throw new TypeError(`webgpu: cannot store ${dtype} (float32 and int32 only)`);
    const arr = dtype === 'float32' ? (values instanceof Float32Array ? values : Float32Array.from(values)) : values instanceof Int32Array ? values : Int32Array.from(values);
    const d = this.alloc(arr.length, dtype);
    if (arr.length) this.device.queue.writeBuffer(d.buffer, 0, arr);
    return d;
  }

  readSync(): TypedArray | null {
    return null;
  }

  async read(dataId: DataId, dtype: DType): Promise<TypedArray> {
    const d = dataId as GpuData;
    const bytes = bytesFor(d.size);
    const staging = this.device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    const enc = this.commandEncoder();
    enc.copyBufferToBuffer(d.buffer, 0, staging, 0, bytes);
    this.flush();
    try {
      await staging.mapAsync(MAP_MODE_READ);
    } catch (e) {
      staging.destroy();
      this.throwIfFailed();
      throw e;
    }
    const copy = staging.getMappedRange().slice(0, 4 * d.size);
    staging.unmap();
    staging.destroy();
    this.throwIfFailed();
    return dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
  }

  disposeData(dataId: DataId): void {
    const d = dataId as GpuData;
    if (!this.live.delete(d)) return;
    this.liveBytes -= d.buffer.size;
    if (this.encoder) this.pendingStorage.push(d.buffer);
    else this.recycle(d.buffer);
  }

  private recycle(buf: GpuBuffer): void {
    if (this.lostReason || this.poolBytes + buf.size > this.poolCap) {
      buf.destroy();
      return;
    }
    const list = this.pool.get(buf.size);
    if (list) list.push(buf);
    else this.pool.set(buf.size, [buf]);
    this.poolBytes += buf.size;
  }

  /** Destroy every pooled buffer (live tensors are untouched). */
  releasePool(): void {
    this.flush();
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    this.pool.clear();
    this.poolBytes = 0;
  }

  memory() {
    return { storages: this.live.size, bytes: this.liveBytes };
  }

  /** Bytes held by the reuse pool (not counted in `memory()`). */
  pooledBytes(): number {
    return this.poolBytes;
  }

  // ------------------------------------------------------------ running programs

  private checkAlive(): void {
    if (this.lostReason) throw new Error(`webgpu: the GPU device was lost (${this.lostReason}); tensors on it are gone: restart the process or reload the page`);
  }

  private throwIfFailed(): void {
    this.checkAlive();
    if (this.errors.length) {
      const msg = this.errors.join('\n');
      this.errors = [];
      throw new Error(`webgpu: the GPU reported an error: ${msg}`);
    }
  }

  private commandEncoder(): GpuCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  /** Submit everything recorded so far and recycle the buffers it was holding. */
  flush(): void {
    if (!this.encoder) return;
    const enc = this.encoder;
    this.encoder = null;
    this.recorded = 0;
    this.device.queue.submit([enc.finish()]);
    for (const b of this.pendingStorage) this.recycle(b);
    this.pendingStorage = [];
    for (const b of this.pendingUniform) {
      const list = this.uniformPool.get(b.size);
      if (list) list.push(b);
      else this.uniformPool.set(b.size, [b]);
    }
    this.pendingUniform = [];
  }

  /** Resolves once the GPU has finished every submitted command (benchmarks). */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed();
  }

  private pipeline(def: ProgramDef): GpuComputePipeline {
    let p = this.pipelines.get(def.key);
    if (!p) {
      this.checkAlive();
      const code = programSource(def);
      this.device.pushErrorScope('validation');
      const module = this.device.createShaderModule({ code, label: def.key });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: def.key });
      this.device.popErrorScope().then((err) => {
        if (err) this.errors.push(`program ${def.key} failed to compile: ${err.message}`);
      }, () => undefined);
      this.pipelines.set(def.key, p);
    }
    return p;
  }

  private uniform(data: ArrayBuffer): GpuBuffer {
    const bytes = Math.max(16, data.byteLength);
    const list = this.uniformPool.get(bytes);
    const buf = list && list.length ? list.pop()! : this.device.createBuffer({ size: bytes, usage: UNIFORM_USAGE });
    this.device.queue.writeBuffer(buf, 0, data);
    this.pendingUniform.push(buf);
    return buf;
  }

  /**
   * Record one dispatch of `def` with `buffers` bound in declaration order and
   * `params` in its uniform block. A grid with a zero dimension records nothing.
   */
  run(def: ProgramDef, buffers: GpuData[], params: ParamValues, grid: readonly [number, number, number]): void {
    if (buffers.length !== def.buffers.length) {
      throw new Error(`webgpu program ${def.key}: ${def.buffers.length} buffers declared, ${buffers.length} bound`);
    }
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    const maxDim = this.device.limits.maxComputeWorkgroupsPerDimension ?? 65535;
    if (grid.some((g) => g > maxDim)) throw new RangeError(`webgpu program ${def.key}: grid ${grid.join('x')} exceeds ${maxDim} workgroups per dimension`);
    const pipeline = this.pipeline(def);
    const ubuf = this.uniform(packParams(def, params));
    const entries = buffers.map((b, i) => ({ binding: i, resource: { buffer: b.buffer } }));
    entries.push({ binding: buffers.length, resource: { buffer: ubuf } });
    const group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass: GpuComputePassEncoder = this.commandEncoder().beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    pass.end();
    this.dispatches++;
    if (++this.recorded >= FLUSH_EVERY) this.flush();
  }

  /** Record a copy of `src`'s first `size` elements into `dst`. */
  copy(src: GpuData, dst: GpuData, size = src.size): void {
    if (size === 0) return;
    this.commandEncoder().copyBufferToBuffer(src.buffer, 0, dst.buffer, 0, 4 * size);
  }

  /** Number of compiled pipelines (one per kernel specialisation). */
  pipelineCount(): number {
    return this.pipelines.size;
  }
}

/** The storage of a kernel input on this backend. */
export function gpu(t: TensorInfo): GpuData {
  return t.dataId as GpuData;
}
