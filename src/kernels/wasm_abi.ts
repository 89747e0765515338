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

/** Op codes of binary_f32 (assembly/elementwise_f32.ts): the broadcasting binary kernels. */
export const BINARY_OP = {
  add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5,
  greater: 6, greaterEqual: 7, less: 8, lessEqual: 9, equal: 10, pow: 11,
};

/** Op codes of unary_f32 (assembly/elementwise_f32.ts): the unary maps (affine and clip read two parameters). */
export const UNARY_OP = {
  neg: 0, abs: 1, exp: 2, log: 3, sqrt: 4, square: 5, reciprocal: 6, sign: 7,
  affine: 8, clip: 9, floor: 10, round: 11, isNan: 12, sin: 13, cos: 14, expm1: 15, log1p: 16, erf: 17,
};

/** Op codes of reduce_f32 (assembly/reduce_f32.ts). */
export const REDUCE_OP = { sum: 0, max: 1, min: 2, prod: 3 };
/**
 * The convolution paths (assembly/conv_f32.ts), the code each kernel takes as its path
 * argument and each path function (conv_*_path_f32) returns. The wasm backend registers
 * one named variant per path ('flippedGemm' is the variant 'flipped-gemm': the
 * unit-stride input gradient as the forward convolution of dy with the flipped filter;
 * 'winograd': 3x3 stride-1 convolutions, F(2x2, 3x3) forward and input gradient, F(3x3, 2x2)
 * filter gradient, assembly/conv_winograd_f32.ts).
 */
export const CONV_PATH = { gemm: 0, pointwise: 1, depthwise: 2, direct: 3, flippedGemm: 4, winograd: 5 };
/**
 * Activation codes of activation_f32 and activation_grad_f32 (assembly/activation_f32.ts):
 * which function a call maps (gelu: the exact form, geluTanh: PyTorch's approximate='tanh').
 * Code 5 was softplus (now a composite of ops, src/ops/activation.ts); the others keep their numbers.
 */
export const ACTIVATION_OP = { relu: 0, leakyRelu: 1, elu: 2, sigmoid: 3, tanh: 4, step: 6, gelu: 7, geluTanh: 8 };

/**
 * Modes of the fused convolution epilogue (assembly/epilogue_f32.ts, FusedConv2D's
 * references and webgpu program): a clamp of the leaky value, PyTorch's hard sigmoid, hard swish,
 * swish (SiLU: z sigmoid(z)).
 */
export const EPILOGUE_MODE = { clamp: 0, hardSigmoid: 1, hardSwish: 2, swish: 3 };
