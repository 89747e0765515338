/**
 * Layers: classes (`new layers.Conv2D({...})`) and lowercase factories
 * (`layers.conv2d({...})`), the symbolic input of the functional API, initialisers and
 * regulariser specs. Exported from the package as the `layers` namespace.
 */
import { Activation, type ActivationArgs, Dense, type DenseArgs, Dropout, type DropoutArgs, ELU, Flatten, LeakyReLU, PReLU, type PReLUArgs, ReLU, type ReLUArgs, Reshape, type ReshapeArgs, Softmax, type SoftmaxArgs, ZeroPadding2D, type ZeroPadding2DArgs, type AlphaArgs, Rescaling, type RescalingArgs, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, type SpatialDropoutArgs } from './core.js';
import { Conv1D, Conv2D, Conv2DTranspose, type Conv2DTransposeArgs, Conv3D, type ConvLayerArgs, DepthwiseConv2D, type DepthwiseConv2DArgs, SeparableConv2D, type SeparableConv2DArgs } from './conv.js';
import { AveragePooling2D, type AvgPool2DArgs, GlobalAveragePooling2D, GlobalMaxPooling2D, type GlobalPoolArgs, MaxPooling2D, MinPooling2D, type Pool2DArgs, MaxPooling3D, AveragePooling3D, type Pool3DArgs, type AvgPool3DArgs, MaxPooling1D, AveragePooling1D, type Pool1DArgs, GlobalAveragePooling1D, GlobalMaxPooling1D, GlobalAveragePooling3D, GlobalMaxPooling3D, type GlobalPool1D3DArgs } from './pooling.js';
import { BatchNormalization, type BatchNormalizationArgs, LayerNormalization, type LayerNormalizationArgs, LRN, type LRNArgs } from './normalization.js';
import { Add, Average, Concatenate, type ConcatenateArgs, Maximum, Minimum, Multiply, Subtract } from './merge.js';
import { Cropping1D, type Cropping1DArgs, Cropping2D, type Cropping2DArgs, Cropping3D, type Cropping3DArgs, UpSampling1D, type UpSampling1DArgs, UpSampling2D, type UpSampling2DArgs, UpSampling3D, type UpSampling3DArgs, type UpSamplingInterpolation, ZeroPadding1D, type ZeroPadding1DArgs, ZeroPadding3D, type ZeroPadding3DArgs } from './reshaping.js';
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
  Layer, LayerWeight, PrefixedWeight, baseWeight, registerLayerClass, serializeLayer, uniqueLayerName,
  type Weight, type LayerArgs, type LayerConfig, type CallOpts, type Shape, type InputSpec, type LayerClass,
} from './layer.js';
export { deserializeLayer, registeredLayerClassNames } from './builtin.js';
export { SymbolicTensor, input, type LayerNode } from './symbolic.js';
export { Graph, type GraphAnalysis } from './graph.js';
export type { DataFormat } from './options.js';
export { Container, CompositeLayer } from './container.js';
export {
  Dense, Flatten, Reshape, Dropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, Rescaling, Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax, ZeroPadding2D,
  ZeroPadding1D, ZeroPadding3D, Cropping1D, Cropping2D, Cropping3D, UpSampling1D, UpSampling2D, UpSampling3D,
  Conv1D, Conv2D, Conv3D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose,
  MaxPooling1D, AveragePooling1D, MaxPooling2D, AveragePooling2D, MinPooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling3D, AveragePooling3D,
  GlobalAveragePooling1D, GlobalMaxPooling1D, GlobalAveragePooling3D, GlobalMaxPooling3D,
  BatchNormalization, LayerNormalization, LRN,
  Add, Concatenate, Multiply, Subtract, Average, Maximum, Minimum,
  ResidualBlock, SqueezeExcitation, InceptionModule,
  Permute, Arithmetic, Where, MathFunction, Slice, Pad, Reduce, Resizing, InstanceNormalization,
};
export type {
  DenseArgs, ReshapeArgs, DropoutArgs, SpatialDropoutArgs, RescalingArgs, ActivationArgs, ReLUArgs, AlphaArgs, PReLUArgs, SoftmaxArgs, ZeroPadding2DArgs,
  ZeroPadding1DArgs, ZeroPadding3DArgs, Cropping1DArgs, Cropping2DArgs, Cropping3DArgs, UpSampling1DArgs, UpSampling2DArgs, UpSampling3DArgs, UpSamplingInterpolation,
  ConvLayerArgs, DepthwiseConv2DArgs, SeparableConv2DArgs, Conv2DTransposeArgs, Pool1DArgs, Pool2DArgs, AvgPool2DArgs, Pool3DArgs, AvgPool3DArgs, GlobalPoolArgs, GlobalPool1D3DArgs,
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
export const zeroPadding1d = (args: ZeroPadding1DArgs = {}) => new ZeroPadding1D(args);
export const cropping1d = (args: Cropping1DArgs = {}) => new Cropping1D(args);
export const zeroPadding3d = (args: ZeroPadding3DArgs = {}) => new ZeroPadding3D(args);
export const cropping2d = (args: Cropping2DArgs = {}) => new Cropping2D(args);
export const cropping3d = (args: Cropping3DArgs = {}) => new Cropping3D(args);
export const upSampling1d = (args: UpSampling1DArgs = {}) => new UpSampling1D(args);
export const upSampling2d = (args: UpSampling2DArgs = {}) => new UpSampling2D(args);
export const upSampling3d = (args: UpSampling3DArgs = {}) => new UpSampling3D(args);
export const rescaling = (args: RescalingArgs) => new Rescaling(args);
/** `spatialDropout2d(0.2)` or `spatialDropout2d({ rate: 0.2, seed })`; likewise 1d and 3d. */
export const spatialDropout1d = (args: SpatialDropoutArgs | number) => new SpatialDropout1D(typeof args === 'number' ? { rate: args } : args);
export const spatialDropout2d = (args: SpatialDropoutArgs | number) => new SpatialDropout2D(typeof args === 'number' ? { rate: args } : args);
export const spatialDropout3d = (args: SpatialDropoutArgs | number) => new SpatialDropout3D(typeof args === 'number' ? { rate: args } : args);

export const conv1d = (args: ConvLayerArgs) => new Conv1D(args);
export const conv2d = (args: ConvLayerArgs) => new Conv2D(args);
export const conv3d = (args: ConvLayerArgs) => new Conv3D(args);
export const depthwiseConv2d = (args: DepthwiseConv2DArgs) => new DepthwiseConv2D(args);
export const separableConv2d = (args: SeparableConv2DArgs) => new SeparableConv2D(args);
export const conv2dTranspose = (args: Conv2DTransposeArgs) => new Conv2DTranspose(args);

export const maxPooling1d = (args: Pool1DArgs = {}) => new MaxPooling1D(args);
export const averagePooling1d = (args: Pool1DArgs = {}) => new AveragePooling1D(args);
export const maxPooling2d = (args: Pool2DArgs = {}) => new MaxPooling2D(args);
export const averagePooling2d = (args: AvgPool2DArgs = {}) => new AveragePooling2D(args);
export const minPooling2d = (args: Pool2DArgs = {}) => new MinPooling2D(args);
export const maxPooling3d = (args: Pool3DArgs = {}) => new MaxPooling3D(args);
export const averagePooling3d = (args: AvgPool3DArgs = {}) => new AveragePooling3D(args);
export const globalAveragePooling2d = (args: GlobalPoolArgs = {}) => new GlobalAveragePooling2D(args);
export const globalMaxPooling2d = (args: GlobalPoolArgs = {}) => new GlobalMaxPooling2D(args);
export const globalAveragePooling1d = (args: GlobalPool1D3DArgs = {}) => new GlobalAveragePooling1D(args);
export const globalMaxPooling1d = (args: GlobalPool1D3DArgs = {}) => new GlobalMaxPooling1D(args);
export const globalAveragePooling3d = (args: GlobalPool1D3DArgs = {}) => new GlobalAveragePooling3D(args);
export const globalMaxPooling3d = (args: GlobalPool1D3DArgs = {}) => new GlobalMaxPooling3D(args);

export const batchNormalization = (args: BatchNormalizationArgs = {}) => new BatchNormalization(args);
export const layerNormalization = (args: LayerNormalizationArgs = {}) => new LayerNormalization(args);
export const lrn = (args: LRNArgs = {}) => new LRN(args);

export const add = (args: LayerArgs = {}) => new Add(args);
export const multiply = (args: LayerArgs = {}) => new Multiply(args);
export const concatenate = (args: ConcatenateArgs = {}) => new Concatenate(args);
export const subtract = (args: LayerArgs = {}) => new Subtract(args);
export const average = (args: LayerArgs = {}) => new Average(args);
export const maximum = (args: LayerArgs = {}) => new Maximum(args);
export const minimum = (args: LayerArgs = {}) => new Minimum(args);

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
