/**
 * convkit: convolutional neural networks in TypeScript.
 *
 * Importing this module registers the `ts` backend (the oracle).
 */
import './backends/ts/index.js';
import './backends/webgpu/index.js';
import './backends/wasm/index.js';

export { Tensor, DisposedTensorError } from './tensor/tensor.js';
export { OutOfMemoryError } from './tensor/dtype.js';
// Declares the global type the public .d.ts mention that a DOM-less Node project lacks (WebAssembly.Memory).
export type { WasmMemory } from './tensor/ambient.js';
export { WasmOutOfMemoryError } from './backends/wasm/allocator.js';
export type { NestedArray, GradNode } from './tensor/tensor.js';
export type { DType, TypedArray } from './tensor/dtype.js';
export { sizeOf, broadcastShapes } from './tensor/shape.js';
export { setBackend, setBackendSync, getBackend, backend, backendInfo, ready, listBackends, registerBackend, withBackend } from './registry/backends.js';
export { tidy, keep, memory } from './registry/storage.js';
export {
  getFallbacks, clearFallbacks, setFallbackWarnings, runKernel, runKernelVariant, kernelVariants, chooseKernelVariant, kernelVariantApplies,
} from './registry/dispatch.js';
export type { FallbackRecord } from './registry/dispatch.js';
export { registerKernel, getKernel, listKernels, wrapKernels } from './registry/kernels.js';
export type { KernelFunc, KernelVariant, KernelVariants, KernelConfig } from './registry/kernels.js';
/** Every kernel contract (`ck.kernels.Conv2D`, ...): name, typed attrs, check and reference. */
export * as kernels from './kernels/index.js';
export { defineKernel, kernelByName, allKernels } from './kernels/kernel.js';
export type { Kernel, HostTensor, AttrsOf } from './kernels/kernel.js';
export type { Backend, BackendOptions, TensorInfo, DataId } from './tensor/backend.js';
export { backward, noGrad, enableGrad, isGradEnabled, valueAndGrad, grad } from './autograd/reverse_mode.js';
export type { BackwardOpts } from './autograd/reverse_mode.js';
export * from './ops/index.js';
export * from './optim/index.js';
export { verifyVectors, parseVectors, VectorFormatError, VECTORS_FORMAT, VERIFY_OP_NAMES } from './verify/index.js';
export type { VerifyOptions, VerifyReport, CaseReport, VectorFile, VectorCase, VectorTensor } from './verify/index.js';
export * as filters from './vision/filters.js';
export * as vision from './vision/index.js';
/** Charts as SVG and PNG, with no dependency: `ck.plot.lineChart`, `barChart`, `confusionMatrixImage`, `imageGrid`, `historyChart`, `liveHistory`. */
export * as plot from './plot/index.js';
export * as layers from './layers/index.js';
export * as losses from './ops/keras_losses.js';
export * from './models/index.js';
export * as zoo from './models/zoo/index.js';
export * from './data/index.js';
export * from './train/index.js';
export { Augmenter, augment, applyTransform, flipLeftRight, flipUpDown, rotateImages, scaleImages, translateImages, cropImages } from './vision/augment.js';
export type { AugmentOptions, ErasingOptions, ImageBatch, ImageTransform, AugmentArg } from './vision/augment.js';
export { multiCrops, multiCropPredict } from './vision/tta.js';
export type { MultiCropOptions } from './vision/tta.js';
