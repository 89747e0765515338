/**
 * Every kernel contract, by op family. Importing this module defines them all; the `ts`
 * backend registers each one's reference loops, and the conformance suite
 * (test/kernels) runs each one on every backend.
 */
export { allKernels, kernelByName, defineKernel } from './kernel.js';
export type { Kernel, HostTensor, AttrsOf, KernelSpec } from './kernel.js';
import './matmul.js';
import './shape.js';
import './pool.js';
import './boxes.js';
import './elementwise.js';
import './reduce.js';
import './conv.js';
import './activation.js';
import './norm.js';
import './loss.js';
import './optim.js';
