/**
 * ONNX export: `encodeOnnx(model, options?)` writes a convkit model as an ONNX ModelProto
 * (opset 13 to 17) that onnxruntime, TensorRT or PyTorch's importers run.
 *
 * What the file holds:
 * - the inference graph only: Dropout is left out, BatchNormalization is ONNX's
 *   BatchNormalization with the moving statistics, activity regularisers and other
 *   training-only parts are dropped;
 * - every weight as a float32 initializer (raw_data), named after the layer
 *   (`conv1/kernel`, `block/conv1/kernel` inside a block);
 * - inputs and outputs with a symbolic batch dimension `batch`;
 * - metadata_props `convkit.inputLayout` = the layout chosen with `inputLayout`.
 *
 * Layout rule. The interior of the graph is channels-first (NCL, NCHW, NCDHW), as every
 * ONNX consumer expects: HWIO filters are written OIHW, convolutions and pools run on
 * NCHW. With `inputLayout: 'NHWC'` (the default, convkit's own) each input of rank 3 or
 * more is declared channels-last ([batch, H, W, C]) and goes through one leading
 * Transpose (perm [0, 3, 1, 2]; [0, 2, 1] for NLC, [0, 4, 1, 2, 3] for NDHWC), and every
 * output of rank 3 or more is transposed back to channels-last, so the file takes and
 * returns what `model.predict` does. With `inputLayout: 'NCHW'` inputs are declared
 * channels-first with no Transpose, and outputs of rank 3 or more are channels-first too
 * (PyTorch's convention). Layers whose meaning is tied to convkit's channels-last order
 * (Flatten, Reshape, Dense on rank > 2, LayerNormalization) get a Transpose to
 * channels-last in front of them, so a Flatten after convolutions flattens in H*W*C order
 * exactly as convkit does and the following Dense needs no row permutation.
 *
 * Exportable layers: every built-in layer class (Dense, Flatten, Reshape, Dropout,
 * Activation with every activation name, ReLU, LeakyReLU, PReLU, ELU, Softmax,
 * ZeroPadding2D, Conv1D, Conv2D, Conv3D, DepthwiseConv2D, Conv2DTranspose, MaxPooling2D,
 * AveragePooling2D, MinPooling2D (as -MaxPool(-x)), GlobalAveragePooling2D,
 * GlobalMaxPooling2D, BatchNormalization, LayerNormalization, LRN, Add, Multiply,
 * Concatenate, ResidualBlock, SqueezeExcitation, InceptionModule, nested models, and the
 * classes the ONNX importer builds with: Permute, Arithmetic, Where, MathFunction, Slice,
 * Pad, Reduce, Resizing, InstanceNormalization, MaxPooling3D, AveragePooling3D, and the
 * Keras layers SeparableConv2D (two Conv nodes), UpSampling1D/2D/3D (Resize, 'asymmetric'),
 * Cropping1D/2D/3D (Slice), ZeroPadding1D/3D, Rescaling, MaxPooling1D, AveragePooling1D,
 * GlobalAverage/MaxPooling1D/3D, SpatialDropout1D/2D/3D (left out), Subtract, Average,
 * Maximum, Minimum), hence
 * every zoo model and every imported model. NOT exportable: layer classes defined outside
 * convkit (custom layers registered with registerLayerClass), since their computation is
 * code the exporter cannot see; a model holding one gets an error listing every such layer
 * by name and class (a built-in class without an exporter would be listed as such). Dilated
 * average pooling has no ONNX form before opset 19 and is refused. float64 models are written as float32 (ONNX consumers run float32).
 * `encodeOnnx` reads weights synchronously (ts, wasm); `exportOnnx` (async) reads them
 * first and so works on every backend, webgpu included (`model.save('m.onnx')` uses it).
 */
import type { Shape } from '../../layers/layer.js';
import type { Graph } from '../../layers/graph.js';
import type { SymbolicTensor } from '../../layers/symbolic.js';
import type { Tensor } from '../../tensor/tensor.js';
import { VERSION } from '../../version.js';
import { encodeOnnxModel, mkAttr, ONNX_DTYPE, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './proto.js';
import { EXPORTERS, isContainerLayer, withWeightsRead } from './export_layers.js';
import { isBuiltinLayerClass } from '../../layers/builtin.js';

export type OnnxInputLayout = 'NHWC' | 'NCHW';

export interface EncodeOnnxOptions {
  /** Layout of inputs (and outputs) of rank 3 or more: 'NHWC' (default, convkit's) or 'NCHW' (PyTorch's). */
  inputLayout?: OnnxInputLayout;
  /** ONNX opset, 13 to 17 (default 13). 14+ writes HardSwish as one node, 17 writes LayerNormalization as one node. */
  opset?: number;
  /** Graph name (default the model's name). */
  name?: string;
}

/** What `encodeOnnx` accepts: a convkit Model (or anything with its graph: inputs, outputs, nodes). */
export interface ExportableModel {
  readonly name: string;
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
}

/** The metadata key holding the input layout chosen at export. */
export const ONNX_LAYOUT_KEY = 'convkit.inputLayout';

/** A value in the ONNX graph: its name, the convkit shape of one example (channels-last), and its actual layout. */
export interface Val {
  name: string;
  /** convkit's shape without the batch axis (channels last). */
  shape: number[];
  /** 'cf' when the ONNX tensor is channels-first (only for rank >= 3), else 'cl'. */
  layout: 'cl' | 'cf';
}

/** Channels-last -> channels-first perm for a full rank R (batch first). */
export function toCfPerm(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}
/** Channels-first -> channels-last perm. */
export function toClPerm(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

/** Raised for models that cannot be exported; lists every offending layer. */
export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

/** Builds the node list, initializers and unique names while the graph is walked. */
export class Emitter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();
  private readonly cfCache = new Map<string, Val>();
  private readonly clCache = new Map<string, Val>();
  private readonly layerInits = new Map<object, Map<string, string>>();

  constructor(readonly opset: number) {}

  /** A fresh tensor/node name derived from `base`. */
  uniq(base: string): string {
    let n = base, i = 1;
    while (this.used.has(n)) n = `${base}_${i++}`;
    this.used.add(n);
    return n;
  }
  reserve(name: string): void {
    this.used.add(name);
  }

  /** Add a node; returns its (first) output name. `prefix` names it (`layer/Conv`). */
  node(opType: string, inputs: string[], prefix: string, attributes: OnnxAttribute[] = [], nOut = 1): string[] {
    const name = this.uniq(`${prefix}/${opType}`);
    const outputs = Array.from({ length: nOut }, (_, i) => (nOut === 1 ? name : `${name}:${i}`));
    for (const o of outputs) this.used.add(o);
    this.nodes.push({ name, opType, domain: '', inputs, outputs, attributes });
    return outputs;
  }
  one(opType: string, inputs: string[], prefix: string, attributes: OnnxAttribute[] = []): string {
    return this.node(opType, inputs, prefix, attributes)[0];
  }

  /** A float32 initializer. */
  float(name: string, data: ArrayLike<number>, dims: number[]): string {
    const n = this.uniq(name);
    this.initializers.push({ name: n, dims: [...dims], dataType: ONNX_DTYPE.FLOAT, data: Float32Array.from(data as ArrayLike<number>) });
    return n;
  }
  /**
   * The initializer of a layer's weight: a layer applied several times (shared weights)
   * gets one initializer, used by every application.
   */
  weight(layer: object, name: string, data: ArrayLike<number>, dims: number[]): string {
    let m = this.layerInits.get(layer);
    if (!m) this.layerInits.set(layer, (m = new Map()));
    const key = `${name.slice(name.lastIndexOf('/') + 1)}:${dims.join('x')}`;
    const hit = m.get(key);
    if (hit) return hit;
    const n = this.float(name, data, dims);
    m.set(key, n);
    return n;
  }
  /** An int64 initializer (shapes, pads, axes). */
  int64(name: string, data: number[]): string {
    const n = this.uniq(name);
    this.initializers.push({ name: n, dims: [data.length], dataType: ONNX_DTYPE.INT64, data: Float64Array.from(data) });
    return n;
  }
  /** A float32 scalar initializer (shape []). */
  scalar(name: string, v: number): string {
    const n = this.uniq(name);
    this.initializers.push({ name: n, dims: [], dataType: ONNX_DTYPE.FLOAT, data: Float32Array.of(v) });
    return n;
  }

  /** The value with channels first (a Transpose is added once per value when needed). */
  asCf(v: Val): Val {
    const r = v.shape.length + 1;
    if (r < 3 || v.layout === 'cf') return v;
    const hit = this.cfCache.get(v.name);
    if (hit) return hit;
    const name = this.one('Transpose', [v.name], `${v.name}/to_channels_first`, [mkAttr.ints('perm', toCfPerm(r))]);
    const out: Val = { name, shape: v.shape, layout: 'cf' };
    this.cfCache.set(v.name, out);
    this.clCache.set(name, v);
    return out;
  }
  /** The value with channels last (convkit's own order). */
  asCl(v: Val): Val {
    const r = v.shape.length + 1;
    if (r < 3 || v.layout === 'cl') return { ...v, layout: 'cl' };
    const hit = this.clCache.get(v.name);
    if (hit) return hit;
    const name = this.one('Transpose', [v.name], `${v.name}/to_channels_last`, [mkAttr.ints('perm', toClPerm(r))]);
    const out: Val = { name, shape: v.shape, layout: 'cl' };
    this.clCache.set(v.name, out);
    this.cfCache.set(name, v);
    return out;
  }
  /** A value of the given layout. */
  as(v: Val, layout: 'cl' | 'cf'): Val {
    return layout === 'cf' ? this.asCf(v) : this.asCl(v);
  }

  /** Where axis `a` of convkit's full shape (batch = 0, negative from the end) is in `v`'s ONNX tensor. */
  axisOf(v: Val, a: number): number {
    const r = v.shape.length + 1;
    const full = a < 0 ? a + r : a;
    if (v.layout === 'cl' || r < 3 || full === 0) return full;
    return full === r - 1 ? 1 : full + 1;
  }

  /** Walk a graph (a model's or a block's) from values for its inputs; returns values for its outputs. */
  walk(graph: Graph, inputs: Val[], prefix: string): Val[] {
    const vals = new Map<SymbolicTensor, Val>();
    graph.inputs.forEach((s, i) => vals.set(s, inputs[i]));
    for (const { node, output } of graph.nodes) {
      const ins = node.inputs.map((s) => vals.get(s)!);
      const layer = node.layer;
      const label = prefix ? `${prefix}/${layer.name}` : layer.name;
      let out: Val;
      if (isContainerLayer(layer)) {
        const inner = (layer as unknown as { graph: Graph | null }).graph;
        if (!inner) throw new OnnxExportError(`encodeOnnx: ${layer.label} is not built`);
        out = this.walk(inner, ins, label)[0];
      } else {
        const fn = EXPORTERS[layer.className];
        const inShape: Shape | Shape[] = node.arrayInput ? ins.map((v) => v.shape) : ins[0].shape;
        const outShape = layer.computeOutputShape(inShape);
        out = fn(this, layer, ins, { label, outShape: [...outShape] });
      }
      vals.set(output, out);
    }
    return graph.outputs.map((s) => vals.get(s)!);
  }
}

/** Every layer (containers walked) of a class with no exporter: `name (Class)`, built-in classes and custom ones apart. */
function unexportable(graph: Graph, prefix: string, out: { builtin: string[]; custom: string[] }): void {
  for (const l of graph.layers) {
    const name = prefix ? `${prefix}/${l.name}` : l.name;
    if (isContainerLayer(l)) {
      const inner = (l as unknown as { graph: Graph | null }).graph;
      if (inner) unexportable(inner, name, out);
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(EXPORTERS, l.className)) continue;
    (isBuiltinLayerClass(l.constructor) ? out.builtin : out.custom).push(`${name} (${l.className})`);
  }
}

function graphOf(model: ExportableModel): Graph {
  const g = (model as unknown as { graph: Graph | null }).graph;
  if (!g && typeof (model as unknown as { toOnnx?: unknown }).toOnnx === 'function') {
    throw new TypeError(`encodeOnnx: ${String(model)} runs an ONNX graph directly (graph mode) and has no convkit layers to export; model.toOnnx() gives its ONNX file back`);
  }
  if (!g || !Array.isArray(g.nodes)) throw new TypeError(`encodeOnnx: expected a built convkit Model, received ${String(model)}`);
  return g;
}

/** Build the ONNX model (as plain objects) for a convkit model. */
export function toOnnxModel(model: ExportableModel, options: EncodeOnnxOptions = {}): OnnxModel {
  const known = ['inputLayout', 'opset', 'name'];
  for (const k of Object.keys(options ?? {})) {
    if (!known.includes(k)) throw new RangeError(`encodeOnnx: unknown option '${k}' (known: ${known.join(', ')})`);
  }
  const layout = options.inputLayout ?? 'NHWC';
  if (layout !== 'NHWC' && layout !== 'NCHW') throw new RangeError(`encodeOnnx: inputLayout must be 'NHWC' or 'NCHW', received ${JSON.stringify(options.inputLayout)}`);
  const opset = options.opset ?? 13;
  if (!Number.isInteger(opset) || opset < 13 || opset > 17) throw new RangeError(`encodeOnnx: opset must be an integer from 13 to 17, received ${JSON.stringify(options.opset)}`);
  const graph = graphOf(model);
  const bad = { builtin: [] as string[], custom: [] as string[] };
  unexportable(graph, '', bad);
  const n = bad.builtin.length + bad.custom.length;
  if (n) {
    const parts: string[] = [];
    if (bad.custom.length) parts.push(`${bad.custom.join(', ')} (custom layer classes: their computation is code the exporter cannot translate; only convkit's built-in layer classes are exportable)`);
    if (bad.builtin.length) parts.push(`${bad.builtin.join(', ')} (built-in layer classes that have no ONNX exporter yet)`);
    throw new OnnxExportError(`encodeOnnx: model '${model.name}' holds ${n} layer(s) that cannot be exported to ONNX: ${parts.join('; ')}`);
  }
  const em = new Emitter(opset);
  const cf = layout === 'NCHW';
  const inputs: OnnxValueInfo[] = [];
  const inVals: Val[] = graph.inputs.map((s) => {
    const name = s.name;
    em.reserve(name);
    const r = s.shape.length + 1;
    const dims = r >= 3 && cf ? [s.shape[s.shape.length - 1], ...s.shape.slice(0, -1)] : [...s.shape];
    inputs.push({ name, elemType: ONNX_DTYPE.FLOAT, shape: ['batch', ...dims] });
    const v: Val = { name, shape: [...s.shape], layout: r >= 3 && cf ? 'cf' : 'cl' };
    return r >= 3 ? em.asCf(v) : v;
  });
  const outVals = em.walk(graph, inVals, '');
  const outputs: OnnxValueInfo[] = [];
  graph.outputs.forEach((s, i) => {
    const r = s.shape.length + 1;
    const want = r >= 3 && cf ? 'cf' : 'cl';
    const v = em.as(outVals[i], want);
    // Graph outputs get the output layer's name: an Identity renames the last value.
    const finalName = em.uniq(s.name);
    em.nodes.push({ name: em.uniq(`${finalName}/output`), opType: 'Identity', domain: '', inputs: [v.name], outputs: [finalName], attributes: [] });
    const dims = want === 'cf' ? [s.shape[s.shape.length - 1], ...s.shape.slice(0, -1)] : [...s.shape];
    outputs.push({ name: finalName, elemType: ONNX_DTYPE.FLOAT, shape: ['batch', ...dims] });
  });
  return {
    irVersion: opset >= 15 ? 8 : 7,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'convkit',
    producerVersion: VERSION,
    docString: `convkit model '${model.name}' (input layout ${layout})`,
    graph: { name: options.name ?? model.name, nodes: em.nodes, initializers: em.initializers, inputs, outputs, valueInfo: [] },
    metadata: { [ONNX_LAYOUT_KEY]: layout },
  };
}

/**
 * A convkit model as a serialised ONNX ModelProto (see the file comment for the layout
 * rule and what is exportable).
 */
export function encodeOnnx(model: ExportableModel, options: EncodeOnnxOptions = {}): Uint8Array {
  return encodeOnnxModel(toOnnxModel(model, options));
}

/**
 * `encodeOnnx` for a model on any backend: the weights are read asynchronously first (a
 * webgpu model needs this; on ts and wasm it gives the same bytes as encodeOnnx).
 */
export function exportOnnx(model: ExportableModel & { readonly weights: readonly { readonly value: Tensor }[] }, options: EncodeOnnxOptions = {}): Promise<Uint8Array> {
  return withWeightsRead(model.weights.map((w) => w.value), () => encodeOnnx(model, options));
}
