/**
 * Kernel contracts: what a kernel is, independent of any backend.
 *
 * A kernel is one computation with a fixed list of tensor inputs and plain-data attrs
 * (numbers, arrays, strings, booleans, geometry records). Its contract, written once in
 * this folder, holds
 *   - its name (the registry key every backend registers under),
 *   - the names of its inputs (for error messages) and the type of its attrs,
 *   - `check`: the input shapes and dtypes it accepts, run by the dispatcher before any
 *     backend sees the call, so no backend repeats a shape check,
 *   - `reference`: the definition as plain loops over typed arrays. The `ts` backend runs
 *     the references directly, and every other backend is tested against them.
 *
 * Ops (src/ops) call kernels through the dispatcher with `outputOf(Kernel, inputs, attrs)`
 * and record the gradient beside the forward; backends register implementations with
 * `registerKernel(Kernel, backendName, fn)`. See docs/ARCHITECTURE.md.
 */
import type { TensorInfo } from '../tensor/backend.js';
import type { DType, TypedArray } from '../tensor/dtype.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';

/** A tensor as a reference loop sees it: its values in a plain typed array. */
export interface HostTensor {
  readonly values: TypedArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** The definition of a kernel, as written in a contract module. */
export interface KernelSpec<A extends object> {
  /** The registry key ('Conv2D'); one word, PascalCase, as in TF.js. */
  readonly name: string;
  /** Names of the tensor inputs, in order ('x', 'w'). */
  readonly inputs: readonly string[];
  /**
   * Throws when `inputs` cannot be what `attrs` describe (a RangeError for shapes, a
   * TypeError for dtypes), naming the kernel, the argument, what was received and what
   * was expected. Ops validate user arguments first; this guards the kernels themselves
   * (a wrong shape must never read out of bounds on any backend).
   */
  check?(inputs: readonly TensorInfo[], attrs: A): void;
  /**
   * The output dtype when an attr chooses it (Cast, Fill, OneHot): the dispatcher sends the
   * call to `ts` when the current backend cannot hold that dtype. Absent: the output dtype
   * follows the inputs.
   */
  outputDtype?(attrs: A): DType;
  /** The kernel's definition as readable loops (float64 accumulation where it sums). */
  reference(inputs: readonly HostTensor[], attrs: A): HostTensor | HostTensor[];
}

/** A kernel contract. `A` is the type of its attrs. */
export interface Kernel<A extends object = Record<string, never>> extends KernelSpec<A> {
  /** Phantom field carrying the attrs type (never set). */
  readonly __attrs?: A;
}

/** Attrs type of a kernel. */
export type AttrsOf<K> = K extends Kernel<infer A> ? A : never;

const byName = new Map<string, Kernel<object>>();

/** Define a kernel contract; names are unique across the library. */
export function defineKernel<A extends object = Record<string, never>>(spec: KernelSpec<A>): Kernel<A> {
  if (byName.has(spec.name)) throw new Error(`kernel '${spec.name}' is defined twice`);
  const k: Kernel<A> = Object.freeze({ ...spec });
  byName.set(spec.name, k as Kernel<object>);
  return k;
}

/** The contract named `name`, or undefined. */
export function kernelByName(name: string): Kernel<object> | undefined {
  return byName.get(name);
}

/** Every defined kernel contract, sorted by name. */
export function allKernels(): Kernel<object>[] {
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// ---------------------------------------------------------------- shared checks

/** Throws a RangeError unless `t` has exactly `expected` shape. */
export function expectShape(kernel: string, arg: string, t: { shape: readonly number[] }, expected: readonly number[]): void {
  if (!shapesEqual(t.shape, expected)) {
    throw new RangeError(`${kernel}: ${arg} has shape ${fmtShape(t.shape)}, but the geometry in attrs expects ${fmtShape(expected)}`);
  }
}

/** Throws a RangeError unless `t` has rank `rank`. */
export function expectRank(kernel: string, arg: string, t: { shape: readonly number[] }, rank: number | readonly number[]): void {
  const ok = typeof rank === 'number' ? t.shape.length === rank : rank.includes(t.shape.length);
  if (!ok) {
    const want = typeof rank === 'number' ? `${rank}` : rank.join(' or ');
    throw new RangeError(`${kernel}: ${arg} must have rank ${want}, received shape ${fmtShape(t.shape)}`);
  }
}

/** Throws a TypeError unless every input has the same dtype (listed by argument name). */
export function expectSameDtype(kernel: string, names: readonly string[], inputs: readonly TensorInfo[]): void {
  for (let i = 1; i < inputs.length; i++) {
    if (inputs[i].dtype !== inputs[0].dtype) {
      throw new TypeError(`${kernel}: ${names[i] ?? `input ${i}`} is ${inputs[i].dtype} but ${names[0] ?? 'input 0'} is ${inputs[0].dtype}`);
    }
  }
}
