/**
 * Helpers shared by the WebGPU kernels: registration, broadcasting plans with collapsed
 * dimensions, and the WGSL that turns a flat output index into input offsets.
 */
import { registerKernel, type KernelFunc, type KernelVariants } from '../../../registry/kernels.js';
import type { Kernel } from '../../../kernels/kernel.js';
import { broadcastStrides, collapse, type StridedWalk } from '../../../kernels/broadcast.js';
import { fmtShape, sizeOf, stridesOf } from '../../../tensor/shape.js';
import type { WebGPUBackend } from '../backend.js';
import type { ParamDecl } from '../program.js';


/** Ranks a strided index walk handles after collapsing (uniform arrays hold 8 entries). */
export const MAX_RANK = 8;

/** Register `fn` as `kernel`'s implementation on `webgpu` (typed attrs, the backend as a WebGPUBackend). */
export function register<A extends object>(kernel: Kernel<A>, fn: KernelFunc<A, WebGPUBackend> | KernelVariants<A, WebGPUBackend>): void {
  registerKernel<A, WebGPUBackend>(kernel, 'webgpu', fn);
}

/**
 * Register a kernel whose WGSL reads every input as f32: int32 inputs are refused by name.
 * `fn` is one implementation or a set of named variants (each variant refuses them).
 */
export function registerFloat<A extends object>(kernel: Kernel<A>, fn: KernelFunc<A, WebGPUBackend> | KernelVariants<A, WebGPUBackend>): void {
  const floatOnly = (run: KernelFunc<A, WebGPUBackend>): KernelFunc<A, WebGPUBackend> => (inputs, attrs, be) => {
    const bad = inputs.find((t) => t.dtype !== 'float32');
    if (bad) throw new TypeError(`${kernel.name} on webgpu: float32 inputs expected, received a ${bad.dtype} tensor of shape ${fmtShape(bad.shape)}; cast it first`);
    return run(inputs, attrs, be);
  };
  if (typeof fn === 'function') {
    register<A>(kernel, floatOnly(fn));
    return;
  }
  register<A>(kernel, { choose: fn.choose, variants: fn.variants.map((v) => ({ ...v, run: floatOnly(v.run) })) });
}

/**
 * A strided walk over `shape` (kernels/broadcast.ts, the one copy shared with wasm): for
 * each operand the element strides per axis (0 where the operand is broadcast), with
 * contiguous axes merged and size-1 axes dropped, so most walks have rank 1 to 3.
 */
export type StridedPlan = StridedWalk;
export { broadcastStrides, collapse };

export function checkRank(kernel: string, plan: StridedPlan): void {
  if (plan.shape.length > MAX_RANK) {
    throw new RangeError(`${kernel} on webgpu: the index walk over ${fmtShape(plan.shape)} has rank ${plan.shape.length} after merging contiguous axes; at most ${MAX_RANK} is supported`);
  }
}

/** Uniform declarations for a strided walk with `k` operands (shape + strides). */
export function walkParams(k: number): ParamDecl[] {
  const p: ParamDecl[] = [{ name: 'shape', type: 'u32', len: MAX_RANK }, { name: 'rank', type: 'u32' }];
  for (let j = 0; j < k; j++) p.push({ name: `st${j}`, type: 'u32', len: MAX_RANK });
  return p;
}

/** Uniform values for a strided walk. */
export function walkValues(plan: StridedPlan): Record<string, number | number[]> {
  const v: Record<string, number | number[]> = { shape: plan.shape.length ? plan.shape : [1], rank: plan.shape.length };
  plan.strides.forEach((s, j) => {
    v[`st${j}`] = s.length ? s : [0];
  });
  return v;
}

/** WGSL statements that set o0..o{k-1} to the operands' offsets of flat index `i`. */
export function walkCode(k: number): string {
  const decl = Array.from({ length: k }, (_, j) => `var o${j} = 0u;`).join(' ');
  const acc = Array.from({ length: k }, (_, j) => `o${j} += c * st${j}_at(ax);`).join(' ');
  return `  ${decl}
  var rem = i;
  for (var d = 0u; d < u.rank; d++) {
    let ax = u.rank - 1u - d;
    let s = shape_at(ax);
    let c = rem % s;
    rem = rem / s;
    ${acc}
  }`;
}

export { sizeOf, stridesOf };
