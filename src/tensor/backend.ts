import type { DType, TypedArray } from './dtype.js';

/**
 * Opaque handle to a tensor's storage, owned by one backend. It must be an object
 * (the engine reference-counts storages by identity so views such as reshape and
 * detach can share them).
 */
export type DataId = object;

/** What a kernel sees of a tensor: its storage handle, shape and element type. */
export interface TensorInfo {
  readonly dataId: DataId;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/**
 * A backend stores tensor data and runs kernels registered under its name.
 * Kernels for a backend are registered separately (see registry/kernels.ts), so a
 * new backend adds storage plus whatever kernels it has; every other kernel falls
 * back to `ts`.
 */
export interface Backend {
  readonly name: string;
  /** Element types this backend stores; ops on other types run on `ts`. */
  supportsDtype(dtype: DType): boolean;
  /** Store a copy of `values` and return its handle. */
  write(values: TypedArray, dtype: DType): DataId;
  /**
   * Optional: write `values` into elements [offset, offset + values.length) of a storage
   * holding `dtype`, converting each value as typed-array assignment does (float64 to
   * float32 rounds to nearest; to int32, ToInt32). Creation ops that generate values
   * (random draws, arange, dropout masks) allocate the storage first and fill it in chunks
   * through this, so a big tensor never has a whole-array copy on the JS heap. A backend
   * without it gets one array of the final dtype, copied in with `write`.
   */
  writeRange?(dataId: DataId, dtype: DType, offset: number, values: TypedArray): void;
  /**
   * Read a storage synchronously. The result must not be mutated by the caller.
   * Returns null when the backend can only read asynchronously (WebGPU).
   */
  readSync(dataId: DataId, dtype: DType): TypedArray | null;
  /** Read a storage; always available. */
  read(dataId: DataId, dtype: DType): Promise<TypedArray>;
  /** Free a storage. Called exactly once, when its last tensor is disposed. */
  disposeData(dataId: DataId): void;
  /**
   * Optional: the tile and block sizes this backend's kernels work in (e.g. the GEMM's
   * register tile `gemmMR` x `gemmNR`, its `gemmKC` block, SIMD `lanes`, a WebGPU
   * `workgroupSize`). The conformance suite draws sizes around them; benchmarks report them.
   */
  tileSizes?(): Readonly<Record<string, number>>;
  /** Live storages and their bytes, for leak checks. */
  memory(): { storages: number; bytes: number };
  /**
   * Optional: apply options given to `setBackend(name, options)` to a backend that has
   * already started (e.g. wasm's `threads`). Rejects on an option it does not know.
   */
  configure?(options: BackendOptions): Promise<void>;
  /** Optional: what this backend is (e.g. wasm's build and thread count), for `backendInfo()`. */
  info?(): Readonly<Record<string, unknown>>;
}

/** Options of `setBackend(name, options)`; each backend documents its own (wasm: `threads`). */
export interface BackendOptions {
  /** wasm: threads to run kernels on, the calling thread included (default: the available cores, at most 16). */
  threads?: number;
}
