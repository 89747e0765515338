/**
 * Dispatch: running a kernel on the current backend. The kernel's contract checks the
 * inputs first (kernels/*.ts); a backend without the kernel, or unable to hold a dtype,
 * hands the call to `ts`, and the fallback is recorded (visible, never silent).
 */
import { kernelByName, type Kernel } from '../kernels/kernel.js';
import type { TensorInfo } from '../tensor/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { backend, findBackend } from './backends.js';
import { getKernel, type KernelEntry } from './kernels.js';
import { makeTensor } from './storage.js';

/** The attrs argument: optional for kernels whose attrs are all optional. */
type AttrsArg<A extends object> = Record<string, never> extends A ? [attrs?: A] : [attrs: A];


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

// ---------------------------------------------------------------- running kernels

function contractOf(kernel: Kernel<object> | string): Kernel<object> {
  if (typeof kernel !== 'string') return kernel;
  const k = kernelByName(kernel);
  if (!k) throw new Error(`No kernel named '${kernel}' is defined`);
  return k;
}

/** Where `kernel` runs for these inputs: the current backend, or `ts` (recorded) when it cannot. */
function resolve(kernel: Kernel<object>, inputs: readonly Tensor[], attrs: object): KernelEntry {
  const name = kernel.name;
  const be = backend();
  const entry = getKernel(be.name, name);
  if (be.name !== 'ts') {
    const bad = inputs.find((t) => !be.supportsDtype(t.dtype));
    // Kernels whose output dtype is an attr (Fill, Cast, OneHot) fall back when the
    // backend cannot hold that dtype.
    const dtype = kernel.outputDtype?.(attrs);
    const outDtype = dtype !== undefined && !be.supportsDtype(dtype) ? dtype : null;
    const reason = !entry ? 'no kernel' : bad ? `dtype ${bad.dtype}` : outDtype ? `output dtype ${outDtype}` : null;
    if (reason) {
      noteFallback(name, be.name, reason);
      const ts = getKernel('ts', name);
      if (!ts) throw new Error(`No kernel '${name}' is registered, not even on 'ts'`);
      return ts;
    }
  }
  if (!entry) throw new Error(`No kernel '${name}' is registered, not even on 'ts'`);
  return entry;
}

/**
 * Run `run` on `be` with `inputs`: inputs stored on another backend are copied there for
 * the call, and the copies are freed afterwards, also when a later copy or the kernel throws.
 */
function execute(kernelName: string, entry: KernelEntry, run: KernelEntry['run'], inputs: readonly Tensor[], attrs: object): Tensor[] {
  const be = findBackend(entry.backendName);
  const temps: TensorInfo[] = [];
  let out: TensorInfo | TensorInfo[];
  try {
    const infos = inputs.map((t): TensorInfo => {
      if (t.backend === be) return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
      const v = t.backend.readSync(t.dataId, t.dtype);
      if (v === null) {
        throw new Error(`Kernel '${kernelName}' runs on '${be.name}' but input ${t.describe()} lives on '${t.backend.name}', which cannot be read synchronously`);
      }
      const info = { dataId: be.write(v, t.dtype), shape: t.shape, dtype: t.dtype };
      temps.push(info);
      return info;
    });
    out = run(infos, attrs, be);
  } finally {
    for (const t of temps) be.disposeData(t.dataId);
  }
  const outs = Array.isArray(out) ? out : [out];
  return outs.map((o) => makeTensor(o, be));
}

/**
 * Run `kernel` on the current backend and return all its outputs. The contract checks
 * the inputs against the attrs first. When the backend has no such kernel, or cannot
 * hold an input's dtype (or the output dtype named by `attrs.dtype`), the kernel runs on
 * `ts` and the fallback is recorded (see `getFallbacks`). A kernel may be named by its
 * string name ('Conv2D') or passed as its contract.
 */
export function runKernel<A extends object>(kernel: Kernel<A> | string, inputs: readonly Tensor[], ...rest: AttrsArg<A>): Tensor[] {
  const k = contractOf(kernel as Kernel<object> | string);
  const attrs: object = rest[0] ?? {};
  k.check?.(inputs, attrs);
  const entry = resolve(k, inputs, attrs);
  return execute(k.name, entry, entry.run, inputs, attrs);
}

/** The single output of `kernel` on `inputs` (what every single-output op calls). */
export function outputOf<A extends object>(kernel: Kernel<A>, inputs: readonly Tensor[], ...rest: AttrsArg<A>): Tensor {
  return runKernel(kernel, inputs, ...rest)[0];
}

/** The variants of `kernel` on `backendName` ([] when it has one implementation). */
export function kernelVariants(backendName: string, kernel: Kernel<object> | string): string[] {
  const k = contractOf(kernel);
  return getKernel(backendName, k.name)?.variants?.variants.map((v) => v.name) ?? [];
}

function variantEntry(backendName: string, k: Kernel<object>): KernelEntry & { variants: NonNullable<KernelEntry['variants']> } {
  const e = getKernel(backendName, k.name);
  if (!e?.variants) throw new Error(`${k.name} has no named variants on '${backendName}'`);
  return e as KernelEntry & { variants: NonNullable<KernelEntry['variants']> };
}

/** The variant dispatch would run for these inputs on `backendName` (a pure choice). */
export function chooseKernelVariant<A extends object>(backendName: string, kernel: Kernel<A> | string, inputs: readonly Tensor[], ...rest: AttrsArg<A>): string {
  const k = contractOf(kernel as Kernel<object> | string);
  return variantEntry(backendName, k).variants.choose(inputs, rest[0] ?? {}, findBackend(backendName));
}

/** Whether variant `variant` of `kernel` can run these inputs on `backendName`. */
export function kernelVariantApplies<A extends object>(backendName: string, kernel: Kernel<A> | string, variant: string, inputs: readonly Tensor[], ...rest: AttrsArg<A>): boolean {
  const k = contractOf(kernel as Kernel<object> | string);
  const v = variantEntry(backendName, k).variants.variants.find((x) => x.name === variant);
  if (!v) throw new Error(`${k.name} on '${backendName}' has no variant '${variant}' (it has ${kernelVariants(backendName, k).join(', ')})`);
  return v.applies?.(inputs, rest[0] ?? {}, findBackend(backendName)) ?? true;
}

/**
 * Run variant `variant` of `kernel` on `backendName` (tests and benchmarks reach every
 * path by name). Inputs are checked by the contract; a variant that does not apply to
 * these inputs is an error.
 */
export function runKernelVariant<A extends object>(backendName: string, kernel: Kernel<A> | string, variant: string, inputs: readonly Tensor[], ...rest: AttrsArg<A>): Tensor[] {
  const k = contractOf(kernel as Kernel<object> | string);
  const attrs: object = rest[0] ?? {};
  k.check?.(inputs, attrs);
  const e = variantEntry(backendName, k);
  const v = e.variants.variants.find((x) => x.name === variant);
  if (!v) throw new Error(`${k.name} on '${backendName}' has no variant '${variant}' (it has ${kernelVariants(backendName, k).join(', ')})`);
  if (v.applies && !v.applies(inputs, attrs, findBackend(backendName))) {
    throw new RangeError(`${k.name} on '${backendName}': variant '${variant}' does not apply to inputs ${inputs.map((t) => `[${t.shape.join(', ')}]`).join(', ')}`);
  }
  return execute(k.name, e, v.run, inputs, attrs);
}
