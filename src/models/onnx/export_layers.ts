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
import type { Conv2DTranspose, DepthwiseConv2D } from '../../layers/conv.js';
import type { Activation, Dense, ELU, LeakyReLU, ReLU, Reshape, Softmax, ZeroPadding2D } from '../../layers/core.js';
import type { BatchNormalization, LayerNormalization, LRN } from '../../layers/normalization.js';
import type { AveragePooling2D, GlobalAveragePooling2D } from '../../layers/pooling.js';
import type { Concatenate } from '../../layers/merge.js';
import { resolveSpatial, type Padding } from '../../kernels/conv_info.js';
import { SELU_ALPHA, SELU_SCALE } from '../../ops/activation.js';
import { mkAttr, ONNX_DTYPE } from './proto.js';
import type { Emitter, Val } from './export.js';
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

/** The weight values of a layer as float32, by local name (`kernel`, `bias`, ...). */
export function weightValues(layer: Layer, local: string): { data: Float32Array; shape: number[] } | null {
  const w = layer.weights.find((x) => x.name === `${layer.name}/${local}`);
  if (!w) return null;
  const t: Tensor = w.value;
  return { data: Float32Array.from(t.dataSync() as ArrayLike<number>), shape: [...t.shape] };
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

const concat: LayerExporter = (em, layer, ins, ctx) => {
  const xs = common(em, ins);
  const axis = em.axisOf(xs[0], (layer as Concatenate).axis);
  return { name: em.one('Concat', xs.map((v) => v.name), ctx.label, [mkAttr.int('axis', axis)]), shape: ctx.outShape, layout: xs[0].layout };
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
};
