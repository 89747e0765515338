/**
 * The numbers the TypeScript host and the AssemblyScript kernels (assembly/) must agree
 * on: op codes, path codes and the layout of parameter blocks. This file is the only
 * source: `node scripts/gen-abi.mjs` writes assembly/abi.ts from it (`npm run build:wasm`
 * runs it first), and test/kernels/wasm_abi.test.ts fails when the two differ.
 *
 * Syntax kept simple on purpose (the generator evaluates this module): each export is an
 * object of non-negative integer codes (`NAME_KEY` constants on the AssemblyScript side)
 * or an array of field names (`NAME_FIELD` = slot index, plus `NAME_LENGTH`).
 */

/**
 * The convolution geometry block: 22 i32 the host writes for every convolution call
 * (assembly/conv_geometry.ts loads it). 2-D convolutions are 3-D ones with depth 1.
 */
export const CONV_GEOMETRY = [
  'batch', 'inD', 'inH', 'inW', 'inC', 'outD', 'outH', 'outW', 'outC',
  'kD', 'kH', 'kW', 'strideD', 'strideH', 'strideW', 'dilationD', 'dilationH', 'dilationW',
  'padFront', 'padTop', 'padLeft', 'groups',
] as const;

/**
 * Activation codes of activation_f32 and activation_grad_f32 (assembly/activation_f32.ts):
 * which function a call maps (gelu: the exact form, geluTanh: PyTorch's approximate='tanh').
 */
export const ACTIVATION_OP = { relu: 0, leakyRelu: 1, elu: 2, sigmoid: 3, tanh: 4, softplus: 5, step: 6, gelu: 7, geluTanh: 8 };
