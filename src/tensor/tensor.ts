import type { Backend, DataId } from './backend.js';
import type { DType, TypedArray } from './dtype.js';
import { fmtShape, shapesEqual, sizeOf } from './shape.js';

/** A node of the autograd graph: how to send an output's gradient back to its inputs. */
export interface GradNode {
  /** Op name, for error messages and graph dumps. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Given dL/d(output), return dL/d(input) for each input (null where not needed). */
  readonly backward: (dy: Tensor) => (Tensor | null)[];
}

/** Storage bookkeeping shared by all tensors (set up by the engine). */
export interface StorageOwner {
  retain(backend: Backend, dataId: DataId): void;
  release(backend: Backend, dataId: DataId): void;
}

/**
 * Thrown when a disposed tensor's storage is used. It carries the tensor, so that the
 * autograd can say which op's saved tensor it was.
 */
export class DisposedTensorError extends Error {
  constructor(readonly tensor: Tensor, message = `Tensor ${tensor.describe()} was disposed and cannot be used`) {
    super(message);
    this.name = 'DisposedTensorError';
  }
}

let nextId = 0;
let storageOwner: StorageOwner | null = null;
export function setStorageOwner(o: StorageOwner): void {
  storageOwner = o;
}

export type NestedArray = number | NestedArray[];

/**
 * An n-dimensional array living on one backend. Tensors are immutable except through
 * `assign` (used by optimisers); every op returns a new tensor. Activations are NHWC,
 * convolution filters HWIO.
 */
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  private _backend: Backend;
  private _dataId: DataId | null;
  /** When true, `backward()` accumulates dL/d(this) into `grad`. */
  requiresGrad = false;
  /** Accumulated gradient (a leaf's), or null. */
  grad: Tensor | null = null;
  /** How this tensor was computed, while the graph is alive. */
  node: GradNode | null = null;
  /** Optional label, used by error messages and summaries. */
  name?: string;

  constructor(shape: readonly number[], dtype: DType, backend: Backend, dataId: DataId) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this._backend = backend;
    this._dataId = dataId;
    storageOwner?.retain(backend, dataId);
  }

  get size(): number {
    return sizeOf(this.shape);
  }
  get rank(): number {
    return this.shape.length;
  }
  get backend(): Backend {
    return this._backend;
  }
  get isDisposed(): boolean {
    return this._dataId === null;
  }
  /** Storage handle; throws if the tensor was disposed. */
  get dataId(): DataId {
    if (this._dataId === null) throw new DisposedTensorError(this);
    return this._dataId;
  }

  /**
   * The values, synchronously, in row-major order. The array may be the tensor's own
   * storage on the `ts` backend: treat it as read-only. Throws on backends that only
   * read asynchronously (use `await data()`).
   */
  dataSync(): TypedArray {
    const v = this._backend.readSync(this.dataId, this.dtype);
    if (v === null) {
      throw new Error(`Tensor ${this.describe()} lives on backend '${this._backend.name}', which reads asynchronously: use 'await tensor.data()'`);
    }
    return v;
  }
  /** The values, in row-major order (a copy is safe to mutate on every backend but `ts`). */
  data(): Promise<TypedArray> {
    return this._backend.read(this.dataId, this.dtype);
  }
  /** Values as a plain number array (a copy). */
  toArray(): number[] {
    return Array.from(this.dataSync());
  }
  /** Values as nested arrays following the shape. */
  arraySync(): NestedArray {
    const flat = this.dataSync();
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return flat[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }
  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new RangeError(`item(): tensor must have exactly one element, received shape ${fmtShape(this.shape)}`);
    return this.dataSync()[0];
  }

  /** Free the storage (once no other tensor shares it). Safe to call twice. */
  dispose(): void {
    if (this._dataId === null) return;
    const id = this._dataId;
    this._dataId = null;
    this.node = null;
    storageOwner?.release(this._backend, id);
  }

  /**
   * Replace this tensor's values by `src`'s (same shape and dtype), keeping its
   * identity, name, requiresGrad and grad. `src` is left unusable. Optimisers use this
   * to update parameters without reallocating them in the graph.
   */
  assign(src: Tensor): void {
    if (!shapesEqual(src.shape, this.shape)) {
      throw new RangeError(`assign: shape ${fmtShape(src.shape)} does not match the target's shape ${fmtShape(this.shape)}`);
    }
    if (src.dtype !== this.dtype) throw new TypeError(`assign: dtype ${src.dtype} does not match the target's dtype ${this.dtype}`);
    const newId = src.dataId;
    const newBackend = src._backend;
    storageOwner?.retain(newBackend, newId);
    src.dispose();
    const old = this.dataId;
    const oldBackend = this._backend;
    this._dataId = newId;
    this._backend = newBackend;
    storageOwner?.release(oldBackend, old);
  }

  describe(): string {
    return `${this.name ? `'${this.name}' ` : ''}${fmtShape(this.shape)} ${this.dtype}`;
  }

  toString(): string {
    if (this.isDisposed) return `Tensor(${this.describe()}, disposed)`;
    const v = this._backend.readSync(this.dataId, this.dtype);
    const shown = v === null ? '<on device>' : JSON.stringify(this.size <= 64 ? this.arraySync() : Array.from(v.slice(0, 16)).concat([NaN]));
    return `Tensor(${this.describe()}, ${shown})`;
  }
}
