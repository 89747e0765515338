/**
 * The engine: which backends exist and which is current, how an op's kernel is found
 * (with a visible fallback to `ts`), who owns tensor storage (reference counts), and
 * memory scopes (`tidy`).
 */
import type { DType, TypedArray } from '../tensor/dtype.js';
import { toTypedArray, dtypeOfArray } from '../tensor/dtype.js';
import { Tensor, setStorageOwner } from '../tensor/tensor.js';
import type { Backend, DataId, TensorInfo } from './backend.js';
import { getKernel } from './kernels.js';

// ---------------------------------------------------------------- backends

interface BackendEntry {
  factory: () => Backend | Promise<Backend>;
  priority: number;
  instance?: Backend;
}
const backends = new Map<string, BackendEntry>();
let current: Backend | null = null;
/** True once the user chose a backend (setBackend): the default then no longer applies. */
let chosen = false;

/**
 * Register a backend under `name`. The factory runs on first use. When no backend was
 * chosen explicitly, the highest-priority one that starts is the default: `wasm` (2)
 * where its SIMD build validates, else `ts` (1); `webgpu` (0) is opt-in.
 */
export function registerBackend(name: string, factory: () => Backend | Promise<Backend>, priority = 0): void {
  backends.set(name, { factory, priority });
}

export function listBackends(): string[] {
  return [...backends.keys()];
}

/** The backend instance named `name`, initialising it synchronously if needed. */
export function findBackend(name: string): Backend {
  const entry = backends.get(name);
  if (!entry) throw new Error(`Backend '${name}' is not registered (registered: ${listBackends().join(', ') || 'none'})`);
  if (!entry.instance) {
    const b = entry.factory();
    if (b instanceof Promise) {
      b.catch(() => {}); // not awaited here: the caller is told to await setBackend or ready
      throw new Error(`Backend '${name}' initialises asynchronously: call 'await setBackend("${name}")' (or 'await ready()') first`);
    }
    entry.instance = b;
  }
  return entry.instance;
}

/**
 * Make `name` the backend that runs ops from now on. Returns a promise because some
 * backends (webgpu) initialise asynchronously; for `ts` and `wasm` the switch is
 * already done when this returns. A backend that fails to initialise leaves the
 * current backend unchanged and rejects with the reason.
 */
export function setBackend(name: string): Promise<void> {
  const entry = backends.get(name);
  if (!entry) return Promise.reject(new Error(`Backend '${name}' is not registered (registered: ${listBackends().join(', ') || 'none'})`));
  if (entry.instance) {
    current = entry.instance;
    chosen = true;
    return Promise.resolve();
  }
  let made: Backend | Promise<Backend>;
  try {
    made = entry.factory();
  } catch (e) {
    return Promise.reject(e);
  }
  if (made instanceof Promise) {
    return made.then((b) => {
      entry.instance = b;
      current = b;
      chosen = true;
    });
  }
  entry.instance = made;
  current = made;
  chosen = true;
  return Promise.resolve();
}

/** Synchronous switch, for backends that are already initialised or initialise synchronously. */
export function setBackendSync(name: string): void {
  current = findBackend(name);
  chosen = true;
}

function byPriority(): [string, BackendEntry][] {
  return [...backends.entries()].sort((a, b) => b[1].priority - a[1].priority);
}

/**
 * The current backend object (TF.js's `tf.backend()`): the one chosen with setBackend,
 * else the default, the highest-priority registered backend that starts synchronously
 * (`wasm` in Node; in a browser main thread, which compiles large modules only
 * asynchronously, `ts` until `await ready()`).
 */
export function backend(): Backend {
  if (current) return current;
  for (const [name] of byPriority()) {
    try {
      current = findBackend(name);
      return current;
    } catch {
      /* async or failing backends are never chosen implicitly */
    }
  }
  throw new Error('No backend is registered: import convkit (which registers `ts`)');
}

/** The name of the current backend (TF.js's `tf.getBackend()`); `backend()` returns the object. */
export function getBackend(): string {
  return backend().name;
}

/**
 * Wait until the default backend is ready (TF.js's `tf.ready()`). Where the best backend
 * can only start asynchronously (wasm on a browser's main thread), this starts it and
 * makes it current, unless a backend was chosen with setBackend. Resolves to its name.
 */
export async function ready(): Promise<string> {
  if (chosen && current) return current.name;
  for (const [name, entry] of byPriority()) {
    if (entry.priority < 1 && name !== 'ts') continue; // opt-in backends (webgpu) and variants
    try {
      const b = entry.instance ?? (await entry.factory());
      entry.instance ??= b;
      if (!chosen) current = entry.instance;
      return current!.name;
    } catch {
      /* try the next one */
    }
  }
  return backend().name;
}

/** Run `fn` with `name` as the current backend, restoring the previous one after. */
export function withBackend<T>(name: string, fn: () => T): T {
  const prev = current;
  current = findBackend(name);
  try {
    return fn();
  } finally {
    current = prev;
  }
}

// ---------------------------------------------------------------- fallbacks

export interface FallbackRecord {
  kernel: string;
  from: string;
  reason: string;
  count: number;
}
const fallbacks = new Map<string, FallbackRecord>();
let warnFallbacks = false;

/** Every kernel that ran on `ts` because the current backend lacked it (or the dtype). */
export function getFallbacks(): FallbackRecord[] {
  return [...fallbacks.values()];
}
export function clearFallbacks(): void {
  fallbacks.clear();
}
/** Print a line to the console the first time each fallback happens. */
export function setFallbackWarnings(on: boolean): void {
  warnFallbacks = on;
}

function noteFallback(kernel: string, from: string, reason: string): void {
  const k = `${from}:${kernel}:${reason}`;
  const rec = fallbacks.get(k);
  if (rec) rec.count++;
  else {
    fallbacks.set(k, { kernel, from, reason, count: 1 });
    if (warnFallbacks) console.warn(`convkit: kernel ${kernel} ran on 'ts' instead of '${from}' (${reason})`);
  }
}

// ---------------------------------------------------------------- storage ownership

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
  for (const [name, e] of backends) if (e.instance) out[name] = e.instance.memory();
  return out;
}

// ---------------------------------------------------------------- running kernels

/**
 * Run kernel `name` on the current backend. When that backend has no such kernel, or
 * cannot hold an input's dtype (or the output dtype named by `attrs.dtype`), the kernel
 * runs on `ts` and the fallback is recorded
 * (see `getFallbacks`). Inputs stored elsewhere are copied to the backend that runs.
 */
export function runKernel(name: string, inputs: readonly Tensor[], attrs: Record<string, unknown> = {}): Tensor[] {
  let be = backend();
  let config = getKernel(be.name, name);
  if (be.name !== 'ts') {
    const bad = inputs.find((t) => !be.supportsDtype(t.dtype));
    // Kernels whose output dtype is an attr (Fill, Cast, OneHot) fall back when the
    // backend cannot hold that dtype.
    const outDtype = typeof attrs.dtype === 'string' && !be.supportsDtype(attrs.dtype as DType) ? attrs.dtype : null;
    const reason = !config ? 'no kernel' : bad ? `dtype ${bad.dtype}` : outDtype ? `output dtype ${outDtype}` : null;
    if (reason) {
      noteFallback(name, be.name, reason);
      be = findBackend('ts');
      config = getKernel('ts', name);
    }
  }
  if (!config) throw new Error(`No kernel '${name}' is registered, not even on 'ts'`);
  // Inputs stored on another backend are copied here for the call; the copies are
  // freed afterwards, also when a later copy or the kernel throws.
  const temps: TensorInfo[] = [];
  let out: TensorInfo | TensorInfo[];
  try {
    const infos = inputs.map((t): TensorInfo => {
      if (t.backend === be) return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
      const v = t.backend.readSync(t.dataId, t.dtype);
      if (v === null) {
        throw new Error(`Kernel '${name}' runs on '${be.name}' but input ${t.describe()} lives on '${t.backend.name}', which cannot be read synchronously`);
      }
      const info = { dataId: be.write(v, t.dtype), shape: t.shape, dtype: t.dtype };
      temps.push(info);
      return info;
    });
    out = config.kernelFunc(infos, attrs, be);
  } finally {
    for (const t of temps) be.disposeData(t.dataId);
  }
  const outs = Array.isArray(out) ? out : [out];
  return outs.map((o) => makeTensor(o, be));
}

/** Single-output `runKernel`. */
export function run1(name: string, inputs: readonly Tensor[], attrs: Record<string, unknown> = {}): Tensor {
  return runKernel(name, inputs, attrs)[0];
}
