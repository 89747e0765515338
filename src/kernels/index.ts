/**
 * Every kernel contract, by op family. Importing this module defines them all (and `ck.kernels` re-exports each contract, so
 * a backend written outside convkit registers with `registerKernel(ck.kernels.Conv2D, ...)`); the `ts`
 * backend registers each one's reference loops, and the conformance suite
 * (test/kernels) runs each one on every backend.
 */
export { allKernels, kernelByName, defineKernel } from './kernel.js';
export type { Kernel, HostTensor, AttrsOf, KernelSpec } from './kernel.js';
export * from './matmul.js';
export * from './shape.js';
export * from './pool.js';
export * from './boxes.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './conv.js';
export * from './activation.js';
export * from './norm.js';
export * from './loss.js';
export * from './optim.js';
