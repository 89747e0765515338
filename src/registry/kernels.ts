import type { Backend, TensorInfo } from './backend.js';

/**
 * A kernel: one op's forward computation on one backend. Inputs come in the order
 * the op documents; attrs are plain data (numbers, arrays, strings, booleans).
 */
export type KernelFunc = (
  inputs: TensorInfo[],
  attrs: Record<string, unknown>,
  backend: Backend,
) => TensorInfo | TensorInfo[];

export interface KernelConfig {
  kernelName: string;
  backendName: string;
  kernelFunc: KernelFunc;
}

const kernels = new Map<string, KernelConfig>();
const key = (backend: string, kernel: string) => `${backend}\u0000${kernel}`;

/** Register (or replace) the implementation of `kernelName` on `backendName`. */
export function registerKernel(config: KernelConfig): void {
  kernels.set(key(config.backendName, config.kernelName), config);
}

export function getKernel(backendName: string, kernelName: string): KernelConfig | undefined {
  return kernels.get(key(backendName, kernelName));
}

/** Names of every kernel registered for `backendName`, sorted. */
export function listKernels(backendName: string): string[] {
  const out: string[] = [];
  for (const k of kernels.values()) if (k.backendName === backendName) out.push(k.kernelName);
  return out.sort();
}
