/**
 * Storage and scopes: tensors share a backend storage by reference count (views such as
 * reshape and detach), and `tidy` disposes what a block created and did not return.
 */
import type { DType, TypedArray } from '../tensor/dtype.js';
import { toTypedArray, dtypeOfArray } from '../tensor/dtype.js';
import { Tensor, setStorageOwner } from '../tensor/tensor.js';
import type { Backend, DataId, TensorInfo } from '../tensor/backend.js';
import { backend, backendsStarted, findBackend } from './backends.js';


const refCounts = new Map<DataId, number>();
setStorageOwner({
  retain(_backend, id) {
    refCounts.set(id, (refCounts.get(id) ?? 0) + 1);
  },
  release(backend, id) {
    const n = (refCounts.get(id) ?? 0) - 1;
    if (n > 0) refCounts.set(id, n);
    else {
      refCounts.delete(id);
      backend.disposeData(id);
    }
  },
});

// ---------------------------------------------------------------- scopes

const scopes: Set<Tensor>[] = [];

function track(t: Tensor): Tensor {
  if (scopes.length) scopes[scopes.length - 1].add(t);
  return t;
}

/** Wrap a kernel output in a Tensor (tracked by the innermost `tidy`). */
export function makeTensor(info: TensorInfo, backend: Backend): Tensor {
  return track(new Tensor(info.shape, info.dtype, backend, info.dataId));
}

/** A new tensor sharing `t`'s storage with another shape (reshape, detach). */
export function shareStorage(t: Tensor, shape: readonly number[]): Tensor {
  return track(new Tensor(shape, t.dtype, t.backend, t.dataId));
}

/** Create a tensor from values on the current backend (or `ts` if it cannot hold `dtype`). */
export function fromValues(values: TypedArray | ArrayLike<number>, shape: readonly number[], dtype?: DType): Tensor {
  const dt: DType = dtype ?? (ArrayBuffer.isView(values) ? dtypeOfArray(values as TypedArray) : 'float32');
  const arr = ArrayBuffer.isView(values) && dtypeOfArray(values as TypedArray) === dt ? (values as TypedArray) : toTypedArray(values, dt);
  let be = backend();
  if (!be.supportsDtype(dt)) be = findBackend('ts');
  return makeTensor({ dataId: be.write(arr, dt), shape, dtype: dt }, be);
}

function collect(x: unknown, into: Set<Tensor>): void {
  if (x instanceof Tensor) into.add(x);
  else if (Array.isArray(x)) for (const v of x) collect(v, into);
  else if (x && typeof x === 'object' && !(ArrayBuffer.isView(x))) for (const v of Object.values(x)) collect(v, into);
}

/**
 * Run `fn` and dispose every tensor created inside it except those it returns
 * (found in arrays and plain objects) and those passed to `keep`. The returned
 * tensors move to the enclosing scope. This is the ownership rule of every backend.
 */
export function tidy<T>(fn: () => T): T {
  scopes.push(new Set());
  let result: T;
  try {
    result = fn();
  } catch (e) {
    const scope = scopes.pop()!;
    for (const t of scope) t.dispose();
    throw e;
  }
  const scope = scopes.pop()!;
  const keepers = new Set<Tensor>();
  collect(result, keepers);
  for (const t of scope) {
    if (keepers.has(t)) {
      if (scopes.length) scopes[scopes.length - 1].add(t);
    } else t.dispose();
  }
  return result;
}

/** Exempt `t` from disposal by every enclosing `tidy`; the caller now owns it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/** Storages alive on each backend (for leak tests). */
export function memory(): Record<string, { storages: number; bytes: number }> {
  const out: Record<string, { storages: number; bytes: number }> = {};
  for (const b of backendsStarted()) out[b.name] = b.memory();
  return out;
}

