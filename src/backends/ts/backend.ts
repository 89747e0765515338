/**
 * The `ts` backend: plain typed arrays and simple loops. It is the correctness oracle
 * every other backend is tested against, so its kernels favour clarity over speed.
 * It runs float64 as well as float32 (and int32 for labels and indices).
 */
import type { Backend, DataId, TensorInfo } from '../../tensor/backend.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import type { HostTensor } from '../../kernels/kernel.js';
import { BYTES_PER_ELEMENT, OutOfMemoryError, isEngineAllocationError } from '../../tensor/dtype.js';

interface TsData {
  values: TypedArray;
}

export class TsBackend implements Backend {
  readonly name = 'ts';
  private live = new Set<TsData>();

  supportsDtype(): boolean {
    return true;
  }
  write(values: TypedArray, dtype: DType): DataId {
    let copy: TypedArray;
    try {
      copy = values.slice();
    } catch (e) {
      if (isEngineAllocationError(e)) throw new OutOfMemoryError(dtype, values.length, undefined, e);
      throw e;
    }
    return this.wrap(copy);
  }
  /** Adopt `values` without copying (kernels hand over arrays they allocated). */
  wrap(values: TypedArray): DataId {
    const d: TsData = { values };
    this.live.add(d);
    return d;
  }
  /** Adopt a reference kernel's output array as a storage of this backend. */
  adopt(t: HostTensor): TensorInfo {
    return { dataId: this.wrap(t.values), shape: t.shape, dtype: t.dtype };
  }
  writeRange(dataId: DataId, dtype: DType, offset: number, values: TypedArray): void {
    const dst = (dataId as TsData).values;
    if (!Number.isInteger(offset) || offset < 0 || offset + values.length > dst.length) {
      throw new RangeError(`ts backend: writeRange of ${values.length} values at offset ${offset} does not fit a ${dtype} storage of ${dst.length} elements`);
    }
    dst.set(values, offset);
  }
  readSync(dataId: DataId): TypedArray {
    return (dataId as TsData).values;
  }
  read(dataId: DataId): Promise<TypedArray> {
    return Promise.resolve((dataId as TsData).values.slice());
  }
  disposeData(dataId: DataId): void {
    this.live.delete(dataId as TsData);
  }
  memory() {
    let bytes = 0;
    for (const d of this.live) bytes += d.values.length * BYTES_PER_ELEMENT[d.values instanceof Float64Array ? 'float64' : 'float32'];
    return { storages: this.live.size, bytes };
  }
}

/** Values of a kernel input (the kernel runs on `ts`, so the storage is a TsData). */
export function vals(t: TensorInfo): TypedArray {
  return (t.dataId as TsData).values;
}

/** Wrap a freshly allocated array as a kernel output on `backend`. */
export function out(backend: Backend, values: TypedArray, shape: readonly number[], dtype: DType): TensorInfo {
  return { dataId: (backend as TsBackend).wrap(values), shape, dtype };
}
