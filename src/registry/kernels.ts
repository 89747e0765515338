/**
 * The kernel table: (backend name, kernel) -> implementation, as in tfjs-core. A backend
 * registers what it implements; every kernel it lacks runs on `ts` (see dispatch.ts).
 *
 * An implementation is one function, or a set of named variants (llm.c's numbered kernels:
 * GEMM, direct, depthwise, ... for a convolution) with one pure function that chooses among
 * them. Dispatch runs the chosen variant; tests and benchmarks run and time each variant
 * by name (`runKernelVariant`), so no global switch is needed to reach a path.
 */
import { kernelByName, type Kernel } from '../kernels/kernel.js';
import type { Backend, TensorInfo } from '../tensor/backend.js';

/** A kernel implementation on one backend. */
export type KernelFunc<A extends object = object, B extends Backend = Backend> = (
  inputs: TensorInfo[],
  attrs: A,
  backend: B,
) => TensorInfo | TensorInfo[];

/** One named way of computing a kernel. */
export interface KernelVariant<A extends object = object, B extends Backend = Backend> {
  readonly name: string;
  /** Whether this variant can run these inputs (absent: always). */
  applies?(inputs: readonly TensorInfo[], attrs: A, backend: B): boolean;
  readonly run: KernelFunc<A, B>;
}

/** A kernel with several variants and the pure choice between them. */
export interface KernelVariants<A extends object = object, B extends Backend = Backend> {
  readonly variants: readonly KernelVariant<A, B>[];
  /** The name of the variant dispatch runs for these inputs (one that applies). */
  choose(inputs: readonly TensorInfo[], attrs: A, backend: B): string;
}

/** What the table holds for one (backend, kernel). */
export interface KernelEntry<A extends object = object> {
  readonly kernel: Kernel<A>;
  readonly backendName: string;
  /** Runs the chosen variant (or the one implementation). */
  readonly run: KernelFunc<A>;
  /** Named variants, when the implementation has several. */
  readonly variants?: KernelVariants<A>;
}

const table = new Map<string, KernelEntry>();
const key = (backend: string, kernel: string) => `${backend}\u0000${kernel}`;

function entryOf<A extends object>(kernel: Kernel<A>, backendName: string, impl: KernelFunc<A> | KernelVariants<A>): KernelEntry<A> {
  if (typeof impl === 'function') return { kernel, backendName, run: impl };
  const names = impl.variants.map((v) => v.name);
  const run: KernelFunc<A> = (inputs, attrs, be) => {
    const name = impl.choose(inputs, attrs, be);
    const v = impl.variants.find((x) => x.name === name);
    if (!v) throw new Error(`${kernel.name} on '${backendName}': the chooser picked '${name}', which is not one of ${names.join(', ')}`);
    return v.run(inputs, attrs, be);
  };
  return { kernel, backendName, run, variants: impl };
}

/**
 * Register (or replace) the implementation of `kernel` on `backendName`. `B` is the
 * backend class the implementation expects: the registry hands it the backend whose
 * name it was registered under.
 */
export function registerKernel<A extends object, B extends Backend = Backend>(
  kernel: Kernel<A>,
  backendName: string,
  impl: KernelFunc<A, B> | KernelVariants<A, B>,
): void;
/**
 * TF.js's form, `registerKernel({ kernelName, backendName, kernelFunc })`: the kernel is
 * named by its contract's name ('Add'); a name no contract defines is an error.
 */
export function registerKernel(config: KernelConfig): void;
export function registerKernel(a: Kernel<object> | KernelConfig, b?: string, c?: KernelFunc | KernelVariants): void {
  let kernel: Kernel<object>, backendName: string, impl: KernelFunc | KernelVariants;
  if ('kernelName' in a) {
    const k = kernelByName(a.kernelName);
    if (!k) throw new Error(`registerKernel: no kernel named '${a.kernelName}' is defined (see allKernels() for the names)`);
    const f = a.kernelFunc;
    // The one untyped path: a TF.js-style kernel reads attrs as a plain record.
    [kernel, backendName, impl] = [k, a.backendName, (inputs, attrs, be) => f(inputs, attrs as Record<string, unknown>, be)];
  } else {
    if (typeof b !== 'string' || c === undefined) throw new TypeError('registerKernel(kernel, backendName, implementation): backendName and implementation are required');
    [kernel, backendName, impl] = [a, b, c];
  }
  table.set(key(backendName, kernel.name), entryOf(kernel, backendName, impl));
}

/** The TF.js-style registration record. */
export interface KernelConfig {
  kernelName: string;
  backendName: string;
  kernelFunc: KernelFunc<Record<string, unknown>>;
}

/** The entry of kernel `name` on `backendName`, or undefined. */
export function getKernel(backendName: string, name: string): KernelEntry | undefined {
  return table.get(key(backendName, name));
}

/** Names of every kernel registered for `backendName`, sorted. */
export function listKernels(backendName: string): string[] {
  const out: string[] = [];
  for (const e of table.values()) if (e.backendName === backendName) out.push(e.kernel.name);
  return out.sort();
}

/**
 * Wrap every implementation registered for `backendName` (each variant too) with
 * `wrap`: backends use it for what every kernel of theirs must do (release what a
 * failed kernel allocated, name the kernel in an out-of-memory error).
 */
export function wrapKernels(backendName: string, wrap: (kernelName: string, run: KernelFunc) => KernelFunc): void {
  for (const [k, e] of table) {
    if (e.backendName !== backendName) continue;
    const name = e.kernel.name;
    const variants = e.variants && {
      choose: e.variants.choose,
      variants: e.variants.variants.map((v) => ({ ...v, run: wrap(name, v.run) })),
    };
    table.set(k, variants ? entryOf(e.kernel, backendName, variants) : { ...e, run: wrap(name, e.run) });
  }
}

/** Register every kernel of `from` under `to` as well (another instance of the same backend). */
export function copyKernels(from: string, to: string): void {
  for (const e of [...table.values()]) {
    if (e.backendName === from) table.set(key(to, e.kernel.name), { ...e, backendName: to });
  }
}
