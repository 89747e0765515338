/**
 * ONNX export, one function per convkit layer class (the `EXPORTERS` table, keyed by
 * className). Each takes the values of the layer's inputs (names in the ONNX graph, with
 * convkit's shape and their actual layout, see export.ts) and emits nodes that compute
 * what the layer's inference call computes. Layout-sensitive layers ask for channels
 * first (convolutions, pools, BatchNormalization, ZeroPadding2D) or channels last
 * (Flatten, Reshape, Dense on rank > 2, LayerNormalization, even-sized LRN); elementwise
 * ones keep whatever they receive.
 */
import { Container } from '../../layers/container.js';
import type { Layer } from '../../layers/layer.js';
import type { ActivationName } from '../../layers/activations.js';
import type { Conv2DTranspose, DepthwiseConv2D, SeparableConv2D } from '../../layers/conv.js';
import type { Activation, Dense, ELU, LeakyReLU, ReLU, Rescaling, Reshape, Softmax, ZeroPadding2D } from '../../layers/core.js';
import type { BatchNormalization, LayerNormalization, LRN } from '../../layers/normalization.js';
import type { AveragePooling1D, AveragePooling2D, AveragePooling3D, GlobalAveragePooling2D, MaxPooling3D } from '../../layers/pooling.js';
import type { Cropping1D, Cropping2D, Cropping3D, UpSampling1D, UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding3D } from '../../layers/reshaping.js';
import type { Arithmetic, ArithmeticOp, InstanceNormalization, MathFunction, Pad, Permute, Reduce, ResizeMode, Resizing, Slice, Where } from '../../layers/extra.js';
import type { Concatenate } from '../../layers/merge.js';
import { resolveSpatial, type Padding } from '../../kernels/conv_info.js';
import { SELU_ALPHA, SELU_SCALE } from '../../ops/activation.js';
import { mkAttr, ONNX_DTYPE } from './proto.js';
import { toCfPerm, type Emitter, type Val } from './export.js';
import type { Tensor } from '../../tensor/tensor.js';

export interface ExportCtx {
  /** Node-name prefix: the layer's name, with enclosing blocks' names (`block/conv1`). */
  label: string;
  /** convkit's output shape of one example. */
  outShape: number[];
}

export type LayerExporter = (em: Emitter, layer: Layer, ins: Val[], ctx: ExportCtx) => Val;

/** Models and blocks: their inner graphs are walked rather than exported as one node. */
export function isContainerLayer(l: Layer): boolean {
  return l instanceof Container;
}

/** `data` of `shape` with axes permuted (out axis i = in axis perm[i]). */
export function permute(data: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const r = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const out = new Float32Array(data.length);
  const idx = new Array<number>(r).fill(0);
  const st = perm.map((p) => inStrides[p]);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < r; i++) src += idx[i] * st[i];
    out[o] = data[src];
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i] < outShape[i]) break;
      idx[i] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** Values read ahead (asynchronously, by withWeightsRead) for weights on a backend that cannot read synchronously. */
let readAhead: Map<Tensor, ArrayLike<number>> | null = null;

/** Run `encode` with the values of `tensors` read first with `await data()` (any backend, webgpu included). */
export async function withWeightsRead<T>(tensors: readonly Tensor[], encode: () => T): Promise<T> {
  const values = new Map<Tensor, ArrayLike<number>>();
  for (const t of tensors) values.set(t, (await t.data()) as ArrayLike<number>);
  readAhead = values;
  try {
    return encode();
  } finally {
    readAhead = null;
  }
}

/** The weight values of a layer as float32, by local name (`kernel`, `bias`, ...). */
export function weightValues(layer: Layer, local: string): { data: Float32Array; shape: number[] } | null {
  const w = layer.weights.find((x) => x.name === `${layer.name}/${local}`);
  if (!w) return null;
  const t: Tensor = w.value;
  let values = readAhead?.get(t);
  if (!values) {
    try {
      values = t.dataSync() as ArrayLike<number>;
    } catch (e) {
      throw new Error(`encodeOnnx: ${(e as Error).message}; await exportOnnx(model) (or model.save('model.onnx')) reads weights on any backend`);
    }
  }
  return { data: Float32Array.from(values), shape: [...t.shape] };
}

function need(layer: Layer, local: string): { data: Float32Array; shape: number[] } {
  const w = weightValues(layer, local);
  if (!w) throw new Error(`encodeOnnx: ${layer.label} has no weight '${local}'`);
  return w;
}

const cl = (_v: Val, name: string, shape: number[]): Val => ({ name, shape, layout: 'cl' });
const same = (v: Val, name: string, shape = v.shape): Val => ({ name, shape, layout: shape.length + 1 >= 3 ? v.layout : 'cl' });

// ---------------------------------------------------------------- activations

/** Emit a named activation on `v`; softmax-like ones act on convkit's last axis. */
export function emitActivation(em: Emitter, name: ActivationName, v: Val, label: string): Val {
  const p = label;
  const last = em.axisOf(v, -1);
  const out = (n: string) => same(v, n);
  switch (name) {
    case 'linear': return v;
    case 'relu': return out(em.one('Relu', [v.name], p));
    case 'relu6': return out(em.one('Clip', [v.name, em.scalar(`${p}/min`, 0), em.scalar(`${p}/max`, 6)], p));
    case 'sigmoid': return out(em.one('Sigmoid', [v.name], p));
    case 'tanh': return out(em.one('Tanh', [v.name], p));
    case 'softmax': return out(em.one('Softmax', [v.name], p, [mkAttr.int('axis', last)]));
    case 'logSoftmax': return out(em.one('LogSoftmax', [v.name], p, [mkAttr.int('axis', last)]));
    case 'hardSigmoid': return out(em.one('HardSigmoid', [v.name], p, [mkAttr.float('alpha', 1 / 6), mkAttr.float('beta', 0.5)]));
    case 'hardSwish': {
      if (em.opset >= 14) return out(em.one('HardSwish', [v.name], p));
      const hs = em.one('HardSigmoid', [v.name], p, [mkAttr.float('alpha', 1 / 6), mkAttr.float('beta', 0.5)]);
      return out(em.one('Mul', [v.name, hs], p));
    }
    case 'leakyRelu': return out(em.one('LeakyRelu', [v.name], p, [mkAttr.float('alpha', 0.01)]));
    case 'elu': return out(em.one('Elu', [v.name], p, [mkAttr.float('alpha', 1)]));
    case 'selu': return out(em.one('Selu', [v.name], p, [mkAttr.float('alpha', SELU_ALPHA), mkAttr.float('gamma', SELU_SCALE)]));
    case 'gelu': {
      // 0.5 x (1 + erf(x / sqrt 2)): ONNX has Gelu only from opset 20.
      const d = em.one('Div', [v.name, em.scalar(`${p}/sqrt2`, Math.SQRT2)], p);
      const e = em.one('Erf', [d], p);
      const a = em.one('Add', [e, em.scalar(`${p}/one`, 1)], p);
      const m = em.one('Mul', [v.name, a], p);
      return out(em.one('Mul', [m, em.scalar(`${p}/half`, 0.5)], p));
    }
    case 'softplus': return out(em.one('Softplus', [v.name], p));
    case 'swish': return out(em.one('Mul', [v.name, em.one('Sigmoid', [v.name], p)], p));
    case 'mish': return out(em.one('Mul', [v.name, em.one('Tanh', [em.one('Softplus', [v.name], p)], p)], p));
    case 'softsign': return out(em.one('Softsign', [v.name], p));
    case 'step': {
      // 1 where x >= 0, else 0.
      const g = em.one('GreaterOrEqual', [v.name, em.scalar(`${p}/zero`, 0)], p);
      return out(em.one('Cast', [g], p, [mkAttr.int('to', ONNX_DTYPE.FLOAT)]));
    }
    default: throw new Error(`encodeOnnx: ${label}: activation '${name as string}' has no ONNX form`);
  }
}

// ---------------------------------------------------------------- convolutions

/** Explicit ONNX pads (all begins, then all ends) for convkit padding on `spatial` input sizes. */
function onnxPads(label: string, spatial: number[], kernel: number[], strides: number[], dilations: number[], padding: Padding): number[] {
  const { pads } = resolveSpatial(label, spatial, kernel, strides, dilations, padding);
  return [...pads.map((q) => q[0]), ...pads.map((q) => q[1])];
}

interface ConvLike {
  kernelSize: number[];
  strides: number[];
  dilationRate: number[];
  padding: Padding;
  groups: number;
  useBias: boolean;
  activation: ActivationName;
  filters: number;
}

const convN: LayerExporter = (em, layer, ins, ctx) => {
  const c = layer as unknown as ConvLike;
  const x = em.asCf(ins[0]);
  const r = c.kernelSize.length;
  const k = need(layer, 'kernel');
  // [...K, C/g, F] -> [F, C/g, ...K]
  const wt = permute(k.data, k.shape, [r + 1, r, ...Array.from({ length: r }, (_, i) => i)]);
  const inputs = [x.name, em.weight(layer, `${ctx.label}/kernel`, wt.data, wt.shape)];
  if (c.useBias) inputs.push(em.weight(layer, `${ctx.label}/bias`, need(layer, 'bias').data, [c.filters]));
  const pads = onnxPads(ctx.label, x.shape.slice(0, -1), c.kernelSize, c.strides, c.dilationRate, c.padding);
  const y = em.one('Conv', inputs, ctx.label, [
    mkAttr.ints('kernel_shape', c.kernelSize), mkAttr.ints('strides', c.strides), mkAttr.ints('dilations', c.dilationRate),
    mkAttr.ints('pads', pads), mkAttr.int('group', c.groups),
  ]);
  return emitActivation(em, c.activation, { name: y, shape: ctx.outShape, layout: 'cf' }, ctx.label);
};

const depthwise: LayerExporter = (em, layer, ins, ctx) => {
  const d = layer as DepthwiseConv2D;
  const x = em.asCf(ins[0]);
  const k = need(layer, 'kernel'); // [KH, KW, C, M]: output channel c*M + m
  const [kh, kw, ch, m] = k.shape;
  const wt = permute(k.data, [kh, kw, 1, ch * m], [3, 2, 0, 1]);
  const inputs = [x.name, em.weight(layer, `${ctx.label}/kernel`, wt.data, wt.shape)];
  if (d.useBias) inputs.push(em.weight(layer, `${ctx.label}/bias`, need(layer, 'bias').data, [ch * m]));
  const pads = onnxPads(ctx.label, x.shape.slice(0, -1), d.kernelSize, d.strides, d.dilationRate, d.padding);
  const y = em.one('Conv', inputs, ctx.label, [
    mkAttr.ints('kernel_shape', d.kernelSize), mkAttr.ints('strides', d.strides), mkAttr.ints('dilations', d.dilationRate),
    mkAttr.ints('pads', pads), mkAttr.int('group', ch),
  ]);
  return emitActivation(em, d.activation, { name: y, shape: ctx.outShape, layout: 'cf' }, ctx.label);
};

/** Depthwise (Conv with group C, no bias) then pointwise (1x1 Conv with the bias), then the activation. */
const separable: LayerExporter = (em, layer, ins, ctx) => {
  const d = layer as SeparableConv2D;
  const x = em.asCf(ins[0]);
  const dk = need(layer, 'depthwiseKernel'); // [KH, KW, C, M]: channel c*M + m
  const [kh, kw, ch, m] = dk.shape;
  const dwt = permute(dk.data, [kh, kw, 1, ch * m], [3, 2, 0, 1]);
  const pads = onnxPads(ctx.label, x.shape.slice(0, -1), d.kernelSize, d.strides, d.dilationRate, d.padding);
  const dw = em.one('Conv', [x.name, em.weight(layer, `${ctx.label}/depthwiseKernel`, dwt.data, dwt.shape)], `${ctx.label}/depthwise`, [
    mkAttr.ints('kernel_shape', d.kernelSize), mkAttr.ints('strides', d.strides), mkAttr.ints('dilations', d.dilationRate),
    mkAttr.ints('pads', pads), mkAttr.int('group', ch),
  ]);
  const pk = need(layer, 'pointwiseKernel'); // [1, 1, C*M, F] -> [F, C*M, 1, 1]
  const pwt = permute(pk.data, pk.shape, [3, 2, 0, 1]);
  const inputs = [dw, em.weight(layer, `${ctx.label}/pointwiseKernel`, pwt.data, pwt.shape)];
  if (d.useBias) inputs.push(em.weight(layer, `${ctx.label}/bias`, need(layer, 'bias').data, [d.filters]));
  const y = em.one('Conv', inputs, `${ctx.label}/pointwise`, [mkAttr.ints('kernel_shape', [1, 1])]);
  return emitActivation(em, d.activation, { name: y, shape: ctx.outShape, layout: 'cf' }, ctx.label);
};

const convTranspose: LayerExporter = (em, layer, ins, ctx) => {
  const c = layer as Conv2DTranspose;
  const x = em.asCf(ins[0]);
  const k = need(layer, 'kernel'); // [KH, KW, F/g, C] -> [C, F/g, KH, KW]
  const wt = permute(k.data, k.shape, [3, 2, 0, 1]);
  const inputs = [x.name, em.weight(layer, `${ctx.label}/kernel`, wt.data, wt.shape)];
  if (c.useBias) inputs.push(em.weight(layer, `${ctx.label}/bias`, need(layer, 'bias').data, [c.filters]));
  const eff = c.kernelSize.map((kk, i) => c.dilationRate[i] * (kk - 1) + 1);
  let pads: [number, number][];
  let outPad: number[];
  if (c.padding === 'same') {
    pads = eff.map((e, i) => {
      const t = Math.max(0, e - c.strides[i]);
      return [Math.floor(t / 2), t - Math.floor(t / 2)];
    });
    outPad = eff.map((e, i) => Math.max(0, c.strides[i] - e));
  } else {
    const p = c.padding;
    pads = p === 'valid' ? [[0, 0], [0, 0]] : typeof p === 'number' ? [[p, p], [p, p]] : (p as [number, number][]).map((q) => [q[0], q[1]]);
    outPad = c.outputPadding ?? [0, 0];
  }
  const y = em.one('ConvTranspose', inputs, ctx.label, [
    mkAttr.ints('kernel_shape', c.kernelSize), mkAttr.ints('strides', c.strides), mkAttr.ints('dilations', c.dilationRate),
    mkAttr.ints('pads', [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]), mkAttr.ints('output_padding', outPad), mkAttr.int('group', c.groups),
  ]);
  return emitActivation(em, c.activation, { name: y, shape: ctx.outShape, layout: 'cf' }, ctx.label);
};

// ---------------------------------------------------------------- pooling

interface PoolLike {
  poolSize: number[];
  strides: number[];
  dilations: number[];
  opPadding(s: readonly number[]): Padding;
}

function poolAttrs(layer: Layer, x: Val, ctx: ExportCtx) {
  const p = layer as unknown as PoolLike;
  const padding = p.opPadding(x.shape);
  const pads = onnxPads(ctx.label, x.shape.slice(0, -1), p.poolSize, p.strides, p.dilations, padding);
  const dil = p.dilations.some((d) => d !== 1) ? [mkAttr.ints('dilations', p.dilations)] : [];
  return [mkAttr.ints('kernel_shape', p.poolSize), mkAttr.ints('strides', p.strides), mkAttr.ints('pads', pads), ...dil];
}

const maxPool: LayerExporter = (em, layer, ins, ctx) => {
  const x = em.asCf(ins[0]);
  return { name: em.one('MaxPool', [x.name], ctx.label, poolAttrs(layer, x, ctx)), shape: ctx.outShape, layout: 'cf' };
};
const minPool: LayerExporter = (em, layer, ins, ctx) => {
  // min = -max(-x); padded cells never win either way.
  const x = em.asCf(ins[0]);
  const n = em.one('Neg', [x.name], ctx.label);
  const m = em.one('MaxPool', [n], ctx.label, poolAttrs(layer, x, ctx));
  return { name: em.one('Neg', [m], ctx.label), shape: ctx.outShape, layout: 'cf' };
};
const avgPool: LayerExporter = (em, layer, ins, ctx) => {
  const x = em.asCf(ins[0]);
  const inc = (layer as AveragePooling2D).countIncludePad ? 1 : 0;
  // AveragePool has dilations only from opset 19; the exporter writes 13 to 17.
  if ((layer as AveragePooling2D).dilations.some((d) => d !== 1)) throw new Error(`encodeOnnx: ${ctx.label}: average pooling with dilations ${JSON.stringify((layer as AveragePooling2D).dilations)} has no ONNX form before opset 19 (the exporter writes opset 13 to 17)`);
  return { name: em.one('AveragePool', [x.name], ctx.label, [...poolAttrs(layer, x, ctx), mkAttr.int('count_include_pad', inc)]), shape: ctx.outShape, layout: 'cf' };
};
const globalPool = (op: string): LayerExporter => (em, layer, ins, ctx) => {
  const x = em.asCf(ins[0]);
  const y = em.one(op, [x.name], ctx.label);
  if ((layer as GlobalAveragePooling2D).keepDims) return { name: y, shape: ctx.outShape, layout: 'cf' };
  return cl(x, em.one('Flatten', [y], ctx.label, [mkAttr.int('axis', 1)]), ctx.outShape);
};

/** MaxPooling1D / AveragePooling1D on NCL (padding is not counted by the average, as convkit's). */
const pool1d = (op: 'MaxPool' | 'AveragePool'): LayerExporter => (em, layer, ins, ctx) => {
  const p = layer as AveragePooling1D;
  const x = em.asCf(ins[0]);
  const pads = onnxPads(ctx.label, x.shape.slice(0, -1), p.poolSize, p.strides, [1], p.opPadding());
  const attrs = [mkAttr.ints('kernel_shape', p.poolSize), mkAttr.ints('strides', p.strides), mkAttr.ints('pads', pads)];
  if (op === 'AveragePool') attrs.push(mkAttr.int('count_include_pad', 0));
  return { name: em.one(op, [x.name], ctx.label, attrs), shape: ctx.outShape, layout: 'cf' };
};

// ---------------------------------------------------------------- normalisation

const batchNorm: LayerExporter = (em, layer, ins, ctx) => {
  const b = layer as BatchNormalization;
  const x = em.asCf(ins[0]);
  const mean = need(layer, 'movingMean');
  const c = mean.shape[0];
  const gamma = b.scale ? need(layer, 'gamma').data : new Float32Array(c).fill(1);
  const beta = b.center ? need(layer, 'beta').data : new Float32Array(c);
  const y = em.one('BatchNormalization', [
    x.name,
    em.weight(layer, `${ctx.label}/gamma`, gamma, [c]),
    em.weight(layer, `${ctx.label}/beta`, beta, [c]),
    em.weight(layer, `${ctx.label}/movingMean`, mean.data, [c]),
    em.weight(layer, `${ctx.label}/movingVariance`, need(layer, 'movingVariance').data, [c]),
  ], ctx.label, [mkAttr.float('epsilon', b.epsilon)]);
  return same(x, y);
};

const layerNorm: LayerExporter = (em, layer, ins, ctx) => {
  const l = layer as LayerNormalization;
  const x = em.asCl(ins[0]);
  const r = x.shape.length + 1;
  const n = l.axes.length;
  const pShape = x.shape.slice(-n);
  const size = pShape.reduce((a, d) => a * d, 1);
  const gamma = l.scale ? need(layer, 'gamma').data : new Float32Array(size).fill(1);
  const beta = l.center ? need(layer, 'beta').data : new Float32Array(size);
  const g = em.weight(layer, `${ctx.label}/gamma`, gamma, pShape);
  const bb = em.weight(layer, `${ctx.label}/beta`, beta, pShape);
  if (em.opset >= 17) {
    const y = em.one('LayerNormalization', [x.name, g, bb], ctx.label, [mkAttr.int('axis', -n), mkAttr.float('epsilon', l.epsilon)]);
    return cl(x, y, ctx.outShape);
  }
  const axes = Array.from({ length: n }, (_, i) => r - n + i);
  const mean = em.one('ReduceMean', [x.name], ctx.label, [mkAttr.ints('axes', axes), mkAttr.int('keepdims', 1)]);
  const d = em.one('Sub', [x.name, mean], ctx.label);
  const sq = em.one('Mul', [d, d], ctx.label);
  const v = em.one('ReduceMean', [sq], ctx.label, [mkAttr.ints('axes', axes), mkAttr.int('keepdims', 1)]);
  const ve = em.one('Add', [v, em.scalar(`${ctx.label}/epsilon`, l.epsilon)], ctx.label);
  const sd = em.one('Sqrt', [ve], ctx.label);
  const nrm = em.one('Div', [d, sd], ctx.label);
  const sc = em.one('Mul', [nrm, g], ctx.label);
  return cl(x, em.one('Add', [sc, bb], ctx.label), ctx.outShape);
};

const lrnLayer: LayerExporter = (em, layer, ins, ctx) => {
  const l = layer as LRN;
  const rank = ins[0].shape.length + 1;
  if (l.size % 2 === 1 && rank >= 3) {
    // ONNX's window [c - (size-1)/2, c + (size-1)/2] equals convkit's for odd sizes.
    const x = em.asCf(ins[0]);
    const y = em.one('LRN', [x.name], ctx.label, [mkAttr.int('size', l.size), mkAttr.float('alpha', l.alpha), mkAttr.float('beta', l.beta), mkAttr.float('bias', l.k)]);
    return same(x, y);
  }
  // Even sizes (convkit's window is [c - size/2, c + size/2 - 1], ONNX's is shifted) and
  // rank 2: the window sum as a banded 0/1 matrix on the channels, channels last.
  const x = em.asCl(ins[0]);
  const c = x.shape[x.shape.length - 1];
  const band = new Float32Array(c * c);
  for (let ch = 0; ch < c; ch++) {
    for (let j = Math.max(0, ch - Math.floor(l.size / 2)); j <= Math.min(c - 1, ch + Math.floor((l.size - 1) / 2)); j++) band[j * c + ch] = 1;
  }
  const sq = em.one('Mul', [x.name, x.name], ctx.label);
  const s = em.one('MatMul', [sq, em.weight(layer, `${ctx.label}/window`, band, [c, c])], ctx.label);
  const sc = em.one('Mul', [s, em.scalar(`${ctx.label}/alpha_over_size`, l.alpha / l.size)], ctx.label);
  const den = em.one('Add', [sc, em.scalar(`${ctx.label}/k`, l.k)], ctx.label);
  const pw = em.one('Pow', [den, em.scalar(`${ctx.label}/beta`, l.beta)], ctx.label);
  return cl(x, em.one('Div', [x.name, pw], ctx.label), ctx.outShape);
};

// ---------------------------------------------------------------- core

const dense: LayerExporter = (em, layer, ins, ctx) => {
  const d = layer as Dense;
  const x = em.asCl(ins[0]);
  const k = need(layer, 'kernel');
  const w = em.weight(layer, `${ctx.label}/kernel`, k.data, k.shape);
  let y: string;
  if (x.shape.length === 1) {
    const inputs = [x.name, w];
    if (d.useBias) inputs.push(em.weight(layer, `${ctx.label}/bias`, need(layer, 'bias').data, [d.units]));
    y = em.one('Gemm', inputs, ctx.label, [mkAttr.int('transB', 0)]);
  } else {
    y = em.one('MatMul', [x.name, w], ctx.label);
    if (d.useBias) y = em.one('Add', [y, em.weight(layer, `${ctx.label}/bias`, need(layer, 'bias').data, [d.units])], ctx.label);
  }
  return emitActivation(em, d.activation, cl(x, y, ctx.outShape), ctx.label);
};

const flatten: LayerExporter = (em, _layer, ins, ctx) => {
  // convkit flattens channels-last (H*W*C order): transpose back first, always right.
  const x = em.asCl(ins[0]);
  if (x.shape.length === 1) return x;
  return cl(x, em.one('Flatten', [x.name], ctx.label, [mkAttr.int('axis', 1)]), ctx.outShape);
};

const reshape: LayerExporter = (em, layer, ins, ctx) => {
  const x = ins[0];
  const out = ctx.outShape;
  // [N, C] -> [N, 1, ..., 1, C] (squeeze-and-excitation): write it channels-first directly.
  if (x.shape.length === 1 && out.length >= 2 && out.slice(0, -1).every((d) => d === 1)) {
    const shp = em.int64(`${ctx.label}/shape`, [0, out[out.length - 1], ...out.slice(0, -1)]);
    return { name: em.one('Reshape', [x.name, shp], ctx.label), shape: out, layout: 'cf' };
  }
  const xc = em.asCl(x);
  const shp = em.int64(`${ctx.label}/shape`, [0, ...(layer as Reshape).targetShape]);
  return cl(xc, em.one('Reshape', [xc.name, shp], ctx.label), out);
};

const dropout: LayerExporter = (_em, _layer, ins) => ins[0];

const activation: LayerExporter = (em, layer, ins, ctx) => emitActivation(em, (layer as Activation).activation, ins[0], ctx.label);

const reluLayer: LayerExporter = (em, layer, ins, ctx) => {
  const m = (layer as ReLU).maxValue;
  const x = ins[0];
  if (m === undefined) return same(x, em.one('Relu', [x.name], ctx.label));
  return same(x, em.one('Clip', [x.name, em.scalar(`${ctx.label}/min`, 0), em.scalar(`${ctx.label}/max`, m)], ctx.label));
};

const leakyRelu: LayerExporter = (em, layer, ins, ctx) =>
  same(ins[0], em.one('LeakyRelu', [ins[0].name], ctx.label, [mkAttr.float('alpha', (layer as LeakyReLU).alpha)]));
const elu: LayerExporter = (em, layer, ins, ctx) =>
  same(ins[0], em.one('Elu', [ins[0].name], ctx.label, [mkAttr.float('alpha', (layer as ELU).alpha)]));

const prelu: LayerExporter = (em, layer, ins, ctx) => {
  const x = ins[0];
  const a = need(layer, 'alpha');
  const c = a.shape[0];
  const r = x.shape.length + 1;
  const shape = x.layout === 'cf' && r >= 3 ? [c, ...new Array(r - 2).fill(1)] : [c];
  return same(x, em.one('PRelu', [x.name, em.weight(layer, `${ctx.label}/alpha`, a.data, shape)], ctx.label));
};

const softmax: LayerExporter = (em, layer, ins, ctx) => {
  const x = ins[0];
  return same(x, em.one('Softmax', [x.name], ctx.label, [mkAttr.int('axis', em.axisOf(x, (layer as Softmax).axis))]));
};

const zeroPad: LayerExporter = (em, layer, ins, ctx) => {
  const x = em.asCf(ins[0]);
  const [[t, b], [l, r]] = (layer as ZeroPadding2D).padding;
  const pads = em.int64(`${ctx.label}/pads`, [0, 0, t, l, 0, 0, b, r]);
  return { name: em.one('Pad', [x.name, pads], ctx.label, [mkAttr.string('mode', 'constant')]), shape: ctx.outShape, layout: 'cf' };
};

/** ZeroPadding1D / 3D: a Pad of the spatial axes, channels first. */
const zeroPadNd: LayerExporter = (em, layer, ins, ctx) => {
  const x = em.asCf(ins[0]);
  const p = layer.className === 'ZeroPadding1D' ? [(layer as ZeroPadding1D).padding] : (layer as ZeroPadding3D).padding;
  const pads = em.int64(`${ctx.label}/pads`, [0, 0, ...p.map((q) => q[0]), 0, 0, ...p.map((q) => q[1])]);
  return { name: em.one('Pad', [x.name, pads], ctx.label, [mkAttr.string('mode', 'constant')]), shape: ctx.outShape, layout: 'cf' };
};

/** Cropping as one Slice over the spatial axes, in whatever layout the input has. */
function cropSlice(em: Emitter, x: Val, crops: [number, number][], ctx: ExportCtx): Val {
  const starts: number[] = [], ends: number[] = [], axes: number[] = [];
  crops.forEach(([a, b], i) => {
    if (!a && !b) return;
    starts.push(a);
    ends.push(x.shape[i] - b);
    axes.push(em.axisOf(x, i + 1));
  });
  if (!axes.length) return x;
  const y = em.one('Slice', [x.name, em.int64(`${ctx.label}/starts`, starts), em.int64(`${ctx.label}/ends`, ends), em.int64(`${ctx.label}/axes`, axes)], ctx.label);
  return same(x, y, ctx.outShape);
}
const cropping1d: LayerExporter = (em, layer, ins, ctx) => cropSlice(em, ins[0], [(layer as Cropping1D).cropping], ctx);
const cropping2d: LayerExporter = (em, layer, ins, ctx) => cropSlice(em, ins[0], (layer as Cropping2D).cropping, ctx);
const cropping3d: LayerExporter = (em, layer, ins, ctx) => cropSlice(em, ins[0], (layer as Cropping3D).cropping, ctx);

/** ONNX Resize of an NCHW value to convkit's output size [H', W'], N and C read from the input (the batch is symbolic). */
function emitResize(em: Emitter, x: Val, mode: ResizeMode, ctx: ExportCtx): Val {
  const [h, w] = ctx.outShape;
  const shp = em.one('Shape', [x.name], ctx.label);
  const nc = em.one('Slice', [shp, em.int64(`${ctx.label}/nc_start`, [0]), em.int64(`${ctx.label}/nc_end`, [2])], ctx.label);
  const sizes = em.one('Concat', [nc, em.int64(`${ctx.label}/hw`, [h, w])], ctx.label, [mkAttr.int('axis', 0)]);
  const attrs = [mkAttr.string('mode', mode.interpolation === 'bilinear' ? 'linear' : 'nearest'), mkAttr.string('coordinate_transformation_mode', mode.coordinates)];
  if (mode.interpolation === 'nearest') attrs.push(mkAttr.string('nearest_mode', mode.nearestMode));
  return { name: em.one('Resize', [x.name, '', '', sizes], ctx.label, attrs), shape: ctx.outShape, layout: 'cf' };
}
const upSampling2d: LayerExporter = (em, layer, ins, ctx) => emitResize(em, em.asCf(ins[0]), (layer as UpSampling2D).resizeMode, ctx);
/** UpSampling1D / 3D repeat cells: Resize 'nearest' by integer scales (1 on N and C), 'asymmetric' + 'floor'. */
const upSamplingRepeat: LayerExporter = (em, layer, ins, ctx) => {
  const x = em.asCf(ins[0]);
  const size = layer.className === 'UpSampling1D' ? [(layer as UpSampling1D).size] : (layer as UpSampling3D).size;
  const scales = em.float(`${ctx.label}/scales`, [1, 1, ...size], [size.length + 2]);
  const y = em.one('Resize', [x.name, '', scales], ctx.label, [
    mkAttr.string('mode', 'nearest'), mkAttr.string('coordinate_transformation_mode', 'asymmetric'), mkAttr.string('nearest_mode', 'floor'),
  ]);
  return { name: y, shape: ctx.outShape, layout: 'cf' };
};

const rescaling: LayerExporter = (em, layer, ins, ctx) => {
  const r = layer as Rescaling;
  const x = ins[0];
  const y = em.one('Mul', [x.name, em.scalar(`${ctx.label}/scale`, r.scale)], ctx.label);
  return same(x, r.offset === 0 ? y : em.one('Add', [y, em.scalar(`${ctx.label}/offset`, r.offset)], ctx.label));
};

// ---------------------------------------------------------------- merge

/** Inputs brought to one layout: the first input's when all ranks agree, else channels last. */
function common(em: Emitter, ins: Val[]): Val[] {
  const r = ins[0].shape.length;
  const layout = ins.every((v) => v.shape.length === r) ? ins[0].layout : 'cl';
  return ins.map((v) => em.as(v, layout));
}

const merge = (op: string): LayerExporter => (em, _layer, ins, ctx) => {
  const xs = common(em, ins);
  let acc = xs[0].name;
  for (const v of xs.slice(1)) acc = em.one(op, [acc, v.name], ctx.label);
  return { name: acc, shape: ctx.outShape, layout: ctx.outShape.length + 1 >= 3 ? xs[0].layout : 'cl' };
};

/** The mean of the inputs: their sum, divided by their count. */
const average: LayerExporter = (em, layer, ins, ctx) => {
  const sum = merge('Add')(em, layer, ins, ctx);
  return { ...sum, name: em.one('Div', [sum.name, em.scalar(`${ctx.label}/count`, ins.length)], ctx.label) };
};

const concat: LayerExporter = (em, layer, ins, ctx) => {
  const xs = common(em, ins);
  const axis = em.axisOf(xs[0], (layer as Concatenate).axis);
  return { name: em.one('Concat', xs.map((v) => v.name), ctx.label, [mkAttr.int('axis', axis)]), shape: ctx.outShape, layout: xs[0].layout };
};

// ---------------------------------------------------------------- layers of imported graphs

/** Where each axis of `v`'s ONNX tensor comes from in convkit's full shape. */
function onnxToConvkit(v: Val): number[] {
  const r = v.shape.length + 1;
  return v.layout === 'cf' && r >= 3 ? toCfPerm(r) : Array.from({ length: r }, (_, i) => i);
}
const isIdentity = (p: number[]) => p.every((a, i) => a === i);
const sameList = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

const permuteLayer: LayerExporter = (em, layer, ins, ctx) => {
  const x = ins[0];
  const full = [0, ...(layer as Permute).dims]; // convkit out axis i = convkit in axis full[i]
  const r = full.length;
  const inv = onnxToConvkit(x);
  const onnxAxisOf = (a: number) => inv.indexOf(a);
  const candidates: Array<'cl' | 'cf'> = r >= 3 ? ['cl', 'cf'] : ['cl'];
  const perms = candidates.map((lay) => {
    const q = lay === 'cf' ? toCfPerm(r) : Array.from({ length: r }, (_, i) => i);
    return { lay, perm: q.map((a) => onnxAxisOf(full[a])) };
  });
  // An output layout that needs no data movement (a Permute that undoes the interior's transpose) costs nothing.
  const free = perms.find((p) => isIdentity(p.perm));
  if (free) return { name: x.name, shape: ctx.outShape, layout: free.lay };
  const { lay, perm } = perms[0];
  return { name: em.one('Transpose', [x.name], ctx.label, [mkAttr.ints('perm', perm)]), shape: ctx.outShape, layout: lay };
};

/**
 * A stored constant of convkit full shape `shape` (batch axis 1 first) laid out to broadcast
 * against a value of full rank `rank` in `layout` (right-aligned, as convkit broadcasts).
 */
function layoutConstant(em: Emitter, layer: Layer, label: string, c: { data: Float32Array; shape: number[] }, rank: number, layout: 'cl' | 'cf'): string {
  if (layout === 'cl' || rank < 3) return em.weight(layer, `${label}/constant`, c.data, c.shape);
  const padded = [...new Array(rank - c.shape.length).fill(1), ...c.shape];
  const t = permute(c.data, padded, toCfPerm(rank));
  return em.weight(layer, `${label}/constant`, t.data, t.shape);
}

const ARITH_ONNX: Record<ArithmeticOp, { op: string; compare?: boolean }> = {
  add: { op: 'Add' }, sub: { op: 'Sub' }, mul: { op: 'Mul' }, div: { op: 'Div' }, pow: { op: 'Pow' }, max: { op: 'Max' }, min: { op: 'Min' },
  greater: { op: 'Greater', compare: true }, less: { op: 'Less', compare: true }, equal: { op: 'Equal', compare: true },
  greaterEqual: { op: 'GreaterOrEqual', compare: true }, lessEqual: { op: 'LessOrEqual', compare: true },
};

/** Values (and stored constant) brought to one layout; the constant may have more axes than the inputs only channels last. */
function operands(em: Emitter, layer: Layer, ins: Val[], ctx: ExportCtx, constant: { data: Float32Array; shape: number[] } | null): { vals: Val[]; c: string | null; layout: 'cl' | 'cf' } {
  let xs = common(em, ins);
  let layout: 'cl' | 'cf' = xs[0].layout;
  const rank = xs[0].shape.length + 1;
  if (constant && constant.shape.length > rank && layout === 'cf') {
    xs = xs.map((v) => em.asCl(v));
    layout = 'cl';
  }
  if (ctx.outShape.length + 1 < 3 || xs.some((v) => v.shape.length !== ctx.outShape.length)) {
    if (layout === 'cf') xs = xs.map((v) => em.asCl(v));
    layout = 'cl';
  }
  const c = constant ? layoutConstant(em, layer, ctx.label, constant, rank, layout) : null;
  return { vals: xs, c, layout };
}

const arithmetic: LayerExporter = (em, layer, ins, ctx) => {
  const a = layer as Arithmetic;
  const { op, compare } = ARITH_ONNX[a.op];
  const constant = a.constantShape ? need(layer, 'constant') : null;
  const { vals, c, layout } = operands(em, layer, ins, ctx, constant);
  const args = c === null ? [vals[0].name, vals[1].name] : a.constantFirst ? [c, vals[0].name] : [vals[0].name, c];
  let y = em.one(op, args, ctx.label);
  if (compare) y = em.one('Cast', [y], ctx.label, [mkAttr.int('to', ONNX_DTYPE.FLOAT)]); // convkit's comparisons give float 0 / 1
  return { name: y, shape: ctx.outShape, layout };
};

const whereLayer: LayerExporter = (em, layer, ins, ctx) => {
  const w = layer as Where;
  const constant = w.constantShape ? need(layer, 'constant') : null;
  const { vals, c, layout } = operands(em, layer, ins, ctx, constant);
  // convkit picks a where cond != 0: ONNX's Where(cond == 0, b, a) says the same for every
  // float (NaN included) and, unlike a Cast to bool, reads back with loadOnnx.
  const isZero = em.one('Equal', [vals[0].name, em.scalar(`${ctx.label}/zero`, 0)], ctx.label);
  const [a, b] = c === null ? [vals[1].name, vals[2].name] : w.constantAt === 'a' ? [c, vals[1].name] : [vals[1].name, c];
  return { name: em.one('Where', [isZero, b, a], ctx.label), shape: ctx.outShape, layout };
};

const MATH_ONNX: Record<string, string> = { sqrt: 'Sqrt', neg: 'Neg', abs: 'Abs', exp: 'Exp', log: 'Log', reciprocal: 'Reciprocal', erf: 'Erf' };

const mathFunction: LayerExporter = (em, layer, ins, ctx) => {
  const f = layer as MathFunction;
  const x = ins[0];
  if (f.fn === 'clip') {
    // Clip's bounds are optional inputs ('' leaves one out).
    const lo = f.min !== undefined && f.min !== -Infinity ? em.scalar(`${ctx.label}/min`, f.min) : '';
    const hi = f.max !== undefined && f.max !== Infinity ? em.scalar(`${ctx.label}/max`, f.max) : '';
    const inputs = hi ? [x.name, lo, hi] : lo ? [x.name, lo] : [x.name];
    return same(x, em.one('Clip', inputs, ctx.label));
  }
  const op = MATH_ONNX[f.fn];
  if (!op) throw new Error(`encodeOnnx: ${ctx.label}: function '${f.fn}' has no ONNX form`);
  return same(x, em.one(op, [x.name], ctx.label));
};

const sliceLayer: LayerExporter = (em, layer, ins, ctx) => {
  const s = layer as Slice;
  const x = ins[0];
  const starts: number[] = [], ends: number[] = [], axes: number[] = [], steps: number[] = [];
  ctx.outShape.forEach((n, i) => {
    const b = s.begin[i], st = s.strides ? s.strides[i] : 1, d = x.shape[i];
    if (b === 0 && st === 1 && n === d) return;
    const end = b + n * st;
    starts.push(b);
    // A negative end counts from the back in ONNX: -(d + 1) stands for "before index 0".
    ends.push(end < 0 ? -(d + 1) : end);
    axes.push(em.axisOf(x, i + 1));
    steps.push(st);
  });
  if (!axes.length) return x;
  const y = em.one('Slice', [
    x.name, em.int64(`${ctx.label}/starts`, starts), em.int64(`${ctx.label}/ends`, ends), em.int64(`${ctx.label}/axes`, axes), em.int64(`${ctx.label}/steps`, steps),
  ], ctx.label);
  return same(x, y, ctx.outShape);
};

const padLayer: LayerExporter = (em, layer, ins, ctx) => {
  const p = layer as Pad;
  const x = ins[0];
  const r = x.shape.length + 1;
  const pads = new Array<number>(2 * r).fill(0);
  p.paddings.forEach(([b, a], i) => {
    const ax = em.axisOf(x, i + 1);
    pads[ax] = b;
    pads[r + ax] = a;
  });
  const inputs = [x.name, em.int64(`${ctx.label}/pads`, pads)];
  if (p.mode === 'constant' && p.value !== 0) inputs.push(em.scalar(`${ctx.label}/value`, p.value));
  return same(x, em.one('Pad', inputs, ctx.label, [mkAttr.string('mode', p.mode)]), ctx.outShape);
};

const reduceLayer: LayerExporter = (em, layer, ins, ctx) => {
  const rd = layer as Reduce;
  let x = ins[0];
  const r = x.shape.length + 1;
  const full = rd.axes.map((a) => (a < 0 ? a + r : a));
  let layout: 'cl' | 'cf' = x.layout;
  if (!rd.keepDims) {
    // What is left of the ONNX tensor must be convkit's output in one of the two layouts.
    const left = onnxToConvkit(x).filter((a) => !full.includes(a));
    const rank = left.length;
    const order = left.map((a) => [...left].sort((p, q) => p - q).indexOf(a));
    if (isIdentity(order)) layout = 'cl';
    else if (rank >= 3 && sameList(order, toCfPerm(rank))) layout = 'cf';
    else {
      x = em.asCl(x);
      layout = 'cl';
    }
  } else if (r < 3) layout = 'cl';
  const axes = full.map((a) => em.axisOf(x, a)).sort((p, q) => p - q);
  const keep = mkAttr.int('keepdims', rd.keepDims ? 1 : 0);
  let y: string;
  if (rd.op === 'sum') y = em.one('ReduceSum', [x.name, em.int64(`${ctx.label}/axes`, axes)], ctx.label, [keep]);
  else y = em.one(rd.op === 'mean' ? 'ReduceMean' : 'ReduceMax', [x.name], ctx.label, [mkAttr.ints('axes', axes), keep]);
  return { name: y, shape: ctx.outShape, layout: ctx.outShape.length + 1 >= 3 ? layout : 'cl' };
};

const resizing: LayerExporter = (em, layer, ins, ctx) => emitResize(em, em.asCf(ins[0]), layer as Resizing, ctx);

const instanceNorm: LayerExporter = (em, layer, ins, ctx) => {
  const x = em.asCf(ins[0]);
  const g = need(layer, 'gamma');
  const y = em.one('InstanceNormalization', [
    x.name, em.weight(layer, `${ctx.label}/gamma`, g.data, g.shape), em.weight(layer, `${ctx.label}/beta`, need(layer, 'beta').data, g.shape),
  ], ctx.label, [mkAttr.float('epsilon', (layer as InstanceNormalization).epsilon)]);
  return same(x, y);
};

function pool3dAttrs(layer: Layer, x: Val, ctx: ExportCtx) {
  const p = layer as MaxPooling3D;
  const pads = onnxPads(ctx.label, x.shape.slice(0, -1), p.poolSize, p.strides, p.dilations, p.padding);
  return [mkAttr.ints('kernel_shape', p.poolSize), mkAttr.ints('strides', p.strides), mkAttr.ints('pads', pads)];
}
const maxPool3d: LayerExporter = (em, layer, ins, ctx) => {
  const x = em.asCf(ins[0]);
  const p = layer as MaxPooling3D;
  const dil = p.dilations.some((d) => d !== 1) ? [mkAttr.ints('dilations', p.dilations)] : [];
  return { name: em.one('MaxPool', [x.name], ctx.label, [...pool3dAttrs(layer, x, ctx), ...dil]), shape: ctx.outShape, layout: 'cf' };
};
const avgPool3d: LayerExporter = (em, layer, ins, ctx) => {
  const x = em.asCf(ins[0]);
  const p = layer as AveragePooling3D;
  if (p.dilations.some((d) => d !== 1)) throw new Error(`encodeOnnx: ${ctx.label}: average pooling with dilations ${JSON.stringify(p.dilations)} has no ONNX form before opset 19 (the exporter writes opset 13 to 17)`);
  return { name: em.one('AveragePool', [x.name], ctx.label, [...pool3dAttrs(layer, x, ctx), mkAttr.int('count_include_pad', p.countIncludePad ? 1 : 0)]), shape: ctx.outShape, layout: 'cf' };
};

/** className -> exporter. Containers (models, ResidualBlock, SqueezeExcitation, InceptionModule) are walked, not listed. */
export const EXPORTERS: Record<string, LayerExporter> = {
  Dense: dense,
  Flatten: flatten,
  Reshape: reshape,
  Dropout: dropout,
  Activation: activation,
  ReLU: reluLayer,
  LeakyReLU: leakyRelu,
  ELU: elu,
  PReLU: prelu,
  Softmax: softmax,
  ZeroPadding2D: zeroPad,
  Conv1D: convN,
  Conv2D: convN,
  Conv3D: convN,
  DepthwiseConv2D: depthwise,
  Conv2DTranspose: convTranspose,
  MaxPooling2D: maxPool,
  MinPooling2D: minPool,
  AveragePooling2D: avgPool,
  GlobalAveragePooling2D: globalPool('GlobalAveragePool'),
  GlobalMaxPooling2D: globalPool('GlobalMaxPool'),
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  LRN: lrnLayer,
  Add: merge('Add'),
  Multiply: merge('Mul'),
  Concatenate: concat,
  Permute: permuteLayer,
  Arithmetic: arithmetic,
  Where: whereLayer,
  MathFunction: mathFunction,
  Slice: sliceLayer,
  Pad: padLayer,
  Reduce: reduceLayer,
  Resizing: resizing,
  InstanceNormalization: instanceNorm,
  MaxPooling3D: maxPool3d,
  AveragePooling3D: avgPool3d,
  // Keras layers (issue 16)
  SeparableConv2D: separable,
  MaxPooling1D: pool1d('MaxPool'),
  AveragePooling1D: pool1d('AveragePool'),
  GlobalAveragePooling1D: globalPool('GlobalAveragePool'),
  GlobalMaxPooling1D: globalPool('GlobalMaxPool'),
  GlobalAveragePooling3D: globalPool('GlobalAveragePool'),
  GlobalMaxPooling3D: globalPool('GlobalMaxPool'),
  SpatialDropout1D: dropout,
  SpatialDropout2D: dropout,
  SpatialDropout3D: dropout,
  Rescaling: rescaling,
  ZeroPadding1D: zeroPadNd,
  ZeroPadding3D: zeroPadNd,
  Cropping1D: cropping1d,
  Cropping2D: cropping2d,
  Cropping3D: cropping3d,
  UpSampling1D: upSamplingRepeat,
  UpSampling2D: upSampling2d,
  UpSampling3D: upSamplingRepeat,
  Subtract: merge('Sub'),
  Average: average,
  Maximum: merge('Max'),
  Minimum: merge('Min'),
};
