/**
 * Layers: classes (`new layers.Conv2D({...})`) and lowercase factories
 * (`layers.conv2d({...})`), the symbolic input of the functional API, initialisers and
 * regulariser specs. Exported from the package as the `layers` namespace.
 */
import { Activation, type ActivationArgs, Dense, type DenseArgs, Dropout, type DropoutArgs, ELU, Flatten, LeakyReLU, PReLU, type PReLUArgs, ReLU, type ReLUArgs, Reshape, type ReshapeArgs, Softmax, type SoftmaxArgs, ZeroPadding2D, type ZeroPadding2DArgs, type AlphaArgs } from './core.js';
import { Conv1D, Conv2D, Conv2DTranspose, type Conv2DTransposeArgs, Conv3D, type ConvLayerArgs, DepthwiseConv2D, type DepthwiseConv2DArgs } from './conv.js';
import { AveragePooling2D, type AvgPool2DArgs, GlobalAveragePooling2D, GlobalMaxPooling2D, type GlobalPoolArgs, MaxPooling2D, MinPooling2D, type Pool2DArgs, MaxPooling3D, AveragePooling3D, type Pool3DArgs, type AvgPool3DArgs } from './pooling.js';
import { BatchNormalization, type BatchNormalizationArgs, LayerNormalization, type LayerNormalizationArgs, LRN, type LRNArgs } from './normalization.js';
import { Add, Concatenate, type ConcatenateArgs, Multiply } from './merge.js';
import { InceptionModule, type InceptionModuleArgs, ResidualBlock, type ResidualBlockArgs, SqueezeExcitation, type SqueezeExcitationArgs } from './blocks.js';
import { Arithmetic, type ArithmeticArgs, type ArithmeticOp, Where, type WhereArgs, MathFunction, type MathFunctionArgs, type MathFunctionName, Pad, type PadArgs, Permute, type PermuteArgs, Reduce, type ReduceArgs, type ReduceOp, Slice, type SliceArgs, Resizing, type ResizingArgs, InstanceNormalization, type InstanceNormalizationArgs, type PadMode } from './extra.js';
import type { ActivationName } from './activations.js';
import type { LayerArgs } from './layer.js';

export * as initializers from './initializers.js';
export type { Initializer, InitializerSpec, InitializerName } from './initializers.js';
export type { RegularizerSpec } from './regularizers.js';
export { checkRegularizer, regularizerPenalty } from './regularizers.js';
export type { ActivationName } from './activations.js';
export { ACTIVATION_NAMES } from './activations.js';
export {
  Layer, LayerWeight, PrefixedWeight, baseWeight, registerLayerClass, deserializeLayer, serializeLayer, uniqueLayerName,
  type Weight, type LayerArgs, type LayerConfig, type CallOpts, type Shape, type InputSpec, type LayerClass,
} from './layer.js';
export { SymbolicTensor, input, type LayerNode } from './symbolic.js';
export { Graph, type GraphAnalysis } from './graph.js';
export { Container, CompositeLayer } from './container.js';
export {
  Dense, Flatten, Reshape, Dropout, Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax, ZeroPadding2D,
  Conv1D, Conv2D, Conv3D, DepthwiseConv2D, Conv2DTranspose,
  MaxPooling2D, AveragePooling2D, MinPooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling3D, AveragePooling3D,
  BatchNormalization, LayerNormalization, LRN,
  Add, Concatenate, Multiply,
  ResidualBlock, SqueezeExcitation, InceptionModule,
  Permute, Arithmetic, Where, MathFunction, Slice, Pad, Reduce, Resizing, InstanceNormalization,
};
export type {
  DenseArgs, ReshapeArgs, DropoutArgs, ActivationArgs, ReLUArgs, AlphaArgs, PReLUArgs, SoftmaxArgs, ZeroPadding2DArgs,
  ConvLayerArgs, DepthwiseConv2DArgs, Conv2DTransposeArgs, Pool2DArgs, AvgPool2DArgs, Pool3DArgs, AvgPool3DArgs, GlobalPoolArgs,
  BatchNormalizationArgs, LayerNormalizationArgs, LRNArgs, ConcatenateArgs,
  ResidualBlockArgs, SqueezeExcitationArgs, InceptionModuleArgs,
  PermuteArgs, ArithmeticArgs, ArithmeticOp, WhereArgs, MathFunctionArgs, MathFunctionName, SliceArgs, PadArgs, PadMode, ReduceArgs, ReduceOp, ResizingArgs, InstanceNormalizationArgs,
};

// ---------------------------------------------------------------- factories

export const dense = (args: DenseArgs) => new Dense(args);
export const flatten = (args: LayerArgs = {}) => new Flatten(args);
export const reshape = (args: ReshapeArgs) => new Reshape(args);
export const dropout = (args: DropoutArgs | number) => new Dropout(typeof args === 'number' ? { rate: args } : args);
/** `activation('relu')` or `activation({ activation: 'relu', name })`. */
export const activation = (args: ActivationArgs | ActivationName) => new Activation(typeof args === 'string' ? { activation: args } : args);
export const relu = (args: ReLUArgs = {}) => new ReLU(args);
export const leakyRelu = (args: AlphaArgs = {}) => new LeakyReLU(args);
export const prelu = (args: PReLUArgs = {}) => new PReLU(args);
export const elu = (args: AlphaArgs = {}) => new ELU(args);
export const softmax = (args: SoftmaxArgs = {}) => new Softmax(args);
export const zeroPadding2d = (args: ZeroPadding2DArgs = {}) => new ZeroPadding2D(args);

export const conv1d = (args: ConvLayerArgs) => new Conv1D(args);
export const conv2d = (args: ConvLayerArgs) => new Conv2D(args);
export const conv3d = (args: ConvLayerArgs) => new Conv3D(args);
export const depthwiseConv2d = (args: DepthwiseConv2DArgs) => new DepthwiseConv2D(args);
export const conv2dTranspose = (args: Conv2DTransposeArgs) => new Conv2DTranspose(args);

export const maxPooling2d = (args: Pool2DArgs = {}) => new MaxPooling2D(args);
export const averagePooling2d = (args: AvgPool2DArgs = {}) => new AveragePooling2D(args);
export const minPooling2d = (args: Pool2DArgs = {}) => new MinPooling2D(args);
export const maxPooling3d = (args: Pool3DArgs = {}) => new MaxPooling3D(args);
export const averagePooling3d = (args: AvgPool3DArgs = {}) => new AveragePooling3D(args);
export const globalAveragePooling2d = (args: GlobalPoolArgs = {}) => new GlobalAveragePooling2D(args);
export const globalMaxPooling2d = (args: GlobalPoolArgs = {}) => new GlobalMaxPooling2D(args);

export const batchNormalization = (args: BatchNormalizationArgs = {}) => new BatchNormalization(args);
export const layerNormalization = (args: LayerNormalizationArgs = {}) => new LayerNormalization(args);
export const lrn = (args: LRNArgs = {}) => new LRN(args);

export const add = (args: LayerArgs = {}) => new Add(args);
export const multiply = (args: LayerArgs = {}) => new Multiply(args);
export const concatenate = (args: ConcatenateArgs = {}) => new Concatenate(args);

export const residualBlock = (args: ResidualBlockArgs) => new ResidualBlock(args);
export const squeezeExcitation = (args: SqueezeExcitationArgs = {}) => new SqueezeExcitation(args);
export const inceptionModule = (args: InceptionModuleArgs) => new InceptionModule(args);

export const permute = (args: PermuteArgs) => new Permute(args);
export const arithmetic = (args: ArithmeticArgs) => new Arithmetic(args);
export const where = (args: WhereArgs = {}) => new Where(args);
export const mathFunction = (args: MathFunctionArgs) => new MathFunction(args);
export const slice = (args: SliceArgs) => new Slice(args);
export const pad = (args: PadArgs) => new Pad(args);
export const reduce = (args: ReduceArgs) => new Reduce(args);
export const resizing = (args: ResizingArgs) => new Resizing(args);
export const instanceNormalization = (args: InstanceNormalizationArgs = {}) => new InstanceNormalization(args);
