/**
 * Writing TF.js Layers models: a convkit Model as model.json (`format: "layers-model"`,
 * a Keras topology, a weights manifest) plus 4 MiB shards of float32 weights, loadable by
 * TF.js's `tf.loadLayersModel` and by tensorflowjs's Keras loader.
 *
 * Layer and weight names follow Keras's (`conv1/kernel`, `bn1/moving_mean`). Composite
 * convkit layers (ResidualBlock, SqueezeExcitation, InceptionModule, nested models) are
 * expanded into their child layers (named `<block>_<child>`); a convolution or an
 * average pooling (countIncludePad) with explicit numeric padding becomes a ZeroPadding1D/2D/3D
 * before a 'valid' layer, and so does a max pooling of a non-negative input. A layer with no Keras equivalent (LRN, MinPooling2D,
 * InstanceNormalization, Where, Arithmetic, MathFunction, ...) or an option Keras lacks
 * (pooling ceilMode, grouped convolutions) is a KerasConfigError naming the layer.
 * float64 models are written as float32 (TF.js has no float64 weights).
 */
import { Container } from '../../layers/container.js';
import type { Layer } from '../../layers/layer.js';
import type { SymbolicTensor } from '../../layers/symbolic.js';
import type { Graph } from '../../layers/graph.js';
import { VERSION } from '../../version.js';
import type { Model } from '../model.js';
import { BY_CONVKIT, KerasConfigError, kerasWeightName } from './keras_config.js';
import { encodeWeights, SHARD_BYTES, type TfjsQuantizeDtype } from './weights.js';
import { TFJS_LAYERS_FORMAT, type TfjsModelJSON } from './read.js';

type Ref = [string, number, number];

/** Layers whose output is never negative, whatever their input. */
const NON_NEG_OUT = new Set(['ReLU']);
const NON_NEG_ACT = new Set(['relu', 'relu6', 'sigmoid', 'softmax', 'softplus']);
/** Layers whose output is non-negative when every input is. */
const KEEPS_SIGN = new Set(['MaxPooling2D', 'AveragePooling2D', 'GlobalMaxPooling2D', 'GlobalAveragePooling2D', 'ZeroPadding2D', 'Flatten', 'Reshape', 'Permute', 'Dropout', 'Concatenate', 'Add', 'Multiply', 'Maximum', 'Minimum', 'Average', 'UpSampling1D', 'UpSampling2D', 'UpSampling3D', 'Cropping1D', 'Cropping2D', 'Cropping3D', 'ZeroPadding1D', 'ZeroPadding3D', 'MaxPooling1D', 'AveragePooling1D', 'GlobalMaxPooling1D', 'GlobalAveragePooling1D', 'GlobalMaxPooling3D', 'GlobalAveragePooling3D', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'MaxPooling3D', 'AveragePooling3D']);

interface KerasLayerOut {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

export interface EncodeTfjsOptions {
  /** Bytes per shard (default 4 MiB, as TF.js). */
  shardBytes?: number;
  /**
   * Store the weights quantised, as tensorflowjs_converter's --quantize_uint8 /
   * --quantize_uint16 / --quantize_float16 do (smaller files, lossy); default float32.
   */
  quantize?: TfjsQuantizeDtype;
}

/** model.json and its shard files (names as in the manifest's paths). */
export interface TfjsArtifacts {
  modelJSON: TfjsModelJSON;
  shards: { path: string; data: Uint8Array }[];
}

/** The model as a TF.js Layers model.json and shards. Throws KerasConfigError for what Keras cannot express. */
export async function encodeTfjsLayers(model: Model, options: EncodeTfjsOptions = {}): Promise<TfjsArtifacts> {
  const shardBytes = options.shardBytes ?? SHARD_BYTES;
  const q = options.quantize;
  if (q !== undefined && q !== 'uint8' && q !== 'uint16' && q !== 'float16') throw new RangeError(`save: quantize must be 'uint8', 'uint16' or 'float16', received ${JSON.stringify(q)}`);
  if (!Number.isInteger(shardBytes) || shardBytes < 4 || shardBytes % 4 !== 0) throw new RangeError(`save: shardBytes must be a positive multiple of 4, received ${JSON.stringify(shardBytes)}`);
  const graph = (model as unknown as { requireGraph(): Graph }).requireGraph();
  const out: KerasLayerOut[] = [];
  const byLayer = new Map<object, KerasLayerOut>();
  /** The ZeroPadding2D written before a layer with explicit padding (re-applied when the layer is shared). */
  const padOf = new Map<Layer, object>();
  /**
   * Keras layers written after a layer to finish what it computes (an activation Keras lacks,
   * a global pool's keepDims); re-applied when the layer is shared.
   */
  const postOf = new Map<Layer, { keys: object[]; apply: (x: Ref, base: string, keys: object[]) => Ref }>();
  const used = new Set<string>();
  const weightsOut: { name: string; shape: number[]; layer: Layer; local: string }[] = [];
  const unique = (base: string): string => {
    let n = base, k = 1;
    while (used.has(n)) n = `${base}_${++k}`;
    used.add(n);
    return n;
  };
  const refOf = new Map<SymbolicTensor, Ref>();
  /** Outputs known to be >= 0 (for exact max-pool padding). */
  const nonNeg = new Set<string>();
  const key = (r: Ref) => `${r[0]}:${r[1]}`;
  const inputLayers: Ref[] = [];
  for (const t of graph.inputs) {
    const name = unique(t.name);
    out.push({ name, class_name: 'InputLayer', config: { batch_input_shape: [null, ...t.shape], dtype: 'float32', sparse: false, name }, inbound_nodes: [] });
    refOf.set(t, [name, 0, 0]);
    inputLayers.push([name, 0, 0]);
  }
  const emit = (name: string, class_name: string, config: Record<string, unknown>, inputs: Ref[], layer?: object): Ref => {
    let entry = layer ? byLayer.get(layer) : undefined;
    if (!entry) {
      entry = { name, class_name, config: { ...config, name }, inbound_nodes: [] };
      out.push(entry);
      if (layer) byLayer.set(layer, entry);
    }
    entry.inbound_nodes.push(inputs.map((r) => [r[0], r[1], r[2], {}]));
    return [entry.name, entry.inbound_nodes.length - 1, 0];
  };
  /**
   * hardSigmoid(x) = min(max(x / 6 + 1/2, 0), 1) as Rescaling(1/6, 1/2) then ReLU(max_value 1);
   * hardSwish(x) = x * hardSigmoid(x), with a Multiply. `keys` identify the written layers so a
   * shared convkit layer re-applies the same ones; `base` names them the first time.
   */
  const expandActivation = (kind: 'hardSigmoid' | 'hardSwish', x: Ref, base: string, keys: object[]): Ref => {
    const at = (k: object, suffix: string, cls: string, cfg: Record<string, unknown>, ins: Ref[]) => {
      const known = byLayer.get(k);
      return emit(known ? known.name : unique(`${base}_${suffix}`), cls, { ...cfg, trainable: true, dtype: 'float32' }, ins, k);
    };
    const scaled = at(keys[0], 'scale', 'Rescaling', { scale: 1 / 6, offset: 0.5 }, [x]);
    const gate = at(keys[1], 'clip', 'ReLU', { max_value: 1 }, [scaled]);
    return kind === 'hardSigmoid' ? gate : at(keys[2], 'mul', 'Multiply', {}, [x, gate]);
  };
  const walk = (g: Graph, prefix: string, inRefs: Ref[]): Ref[] => {
    g.inputs.forEach((t, i) => refOf.set(t, inRefs[i]));
    for (const { node, output } of g.nodes) {
      const L = node.layer;
      const ins = node.inputs.map((t) => refOf.get(t)!);
      if (L instanceof Container) {
        const inner = (L as unknown as { requireGraph(): Graph }).requireGraph();
        refOf.set(output, walk(inner, `${prefix}${L.name}_`, ins)[0]);
        continue;
      }
      refOf.set(output, writeLayer(L, ins, node.inputs.map((t) => [...t.shape]), prefix));
    }
    return g.outputs.map((t) => refOf.get(t)!);
  };
  const writeLayer = (L: Layer, ins: Ref[], inShapes: number[][], prefix: string): Ref => {
    const label = `'${L.name}' (${L.className})`;
    const known = byLayer.get(L);
    if (known) {
      const padKey = padOf.get(L);
      const pad = padKey ? byLayer.get(padKey)! : null;
      const input = pad ? [emit(pad.name, pad.class_name, pad.config, ins, padKey)] : ins;
      const ref = emit(known.name, known.class_name, known.config, input, L);
      const post = postOf.get(L);
      return post ? post.apply(ref, '', post.keys) : ref;
    }
    const m = BY_CONVKIT.get(L.className);
    if (!m) {
      throw new KerasConfigError(`layer ${label} has no Keras equivalent, so the model cannot be written as TF.js Layers (Keras-compatible layers: ${[...BY_CONVKIT.keys()].sort().join(', ')})`);
    }
    const c = L.getConfig();
    if (c.activityRegularizer) throw new KerasConfigError(`layer ${label}: activityRegularizer is not written to TF.js Layers`);
    let input = ins;
    // Explicit padding: a ZeroPadding1D/2D/3D, then the layer with 'valid' padding. Exact for
    // convolutions and for average pooling that counts the padding; for max pooling only
    // when its input cannot be negative (after a ReLU, say), where a zero never wins a window
    // with a real cell in it (PyTorch's ceil mode never makes a window of padding only).
    const rank = (inShapes[0]?.length ?? 1) - 1;
    const kw = c.kernelSize as number[] | undefined, dr = c.dilationRate as number[] | undefined;
    const causal = m.keras === 'Conv1D' && Array.isArray(c.padding) && c.padding.length === 1 && (c.padding[0] as number[])[0] === dr![0] * (kw![0] - 1) && (c.padding[0] as number[])[1] === 0;
    const explicit = c.padding !== undefined && c.padding !== 'valid' && c.padding !== 'same' && !m.keras.startsWith('ZeroPadding') && !causal;
    const nonNegIn = ins.every((r) => nonNeg.has(key(r)));
    if ((explicit || c.ceilMode) && !c.dilations) {
      const p = c.padding;
      const pads: number[][] = c.ceilMode
        ? (L as unknown as { opPadding(s: number[]): number[][] }).opPadding(inShapes[0])
        : typeof p === 'number' ? Array.from({ length: rank }, () => [p, p])
        : Array.isArray(p) && typeof p[0] === 'number' ? [p as number[]] : (p as number[][]);
      const conv = ['Conv1D', 'Conv2D', 'Conv3D', 'DepthwiseConv2D', 'SeparableConv2D'].includes(m.keras);
      const avgCounting = /^AveragePooling[23]D$/.test(m.keras) && c.countIncludePad && !c.ceilMode;
      const maxNonNeg = /^MaxPooling[123]D$/.test(m.keras) && nonNegIn;
      if (pads.length === rank && rank >= 1 && rank <= 3 && (conv || avgCounting || maxNonNeg)) {
        const pname = unique(`${prefix}${L.name}_pad`);
        const padKey = {};
        padOf.set(L, padKey);
        const padCfg = rank === 1 ? { padding: [pads[0][0], pads[0][1]] } : { padding: pads.map((q) => [q[0], q[1]]), data_format: 'channels_last' };
        const pref = emit(pname, `ZeroPadding${rank}D`, { ...padCfg, trainable: true, dtype: 'float32' }, ins, padKey);
        if (nonNegIn) nonNeg.add(key(pref));
        input = [pref];
        c.padding = 'valid';
        delete c.ceilMode;
        if (avgCounting) c.countIncludePad = false;
      } else {
        const pool = /Pooling[123]D$/.test(m.keras);
        const what = c.ceilMode ? 'ceilMode' : `explicit padding ${JSON.stringify(c.padding)}`;
        const why = pool
          ? `Keras pools with 'valid' or 'same' padding only; a ZeroPadding before it is exact only for a max pooling of a non-negative input${m.keras.startsWith('Average') ? ' or an average that counts the padding' : ''}`
          : `Keras ${m.keras} takes 'valid' or 'same' padding only`;
        throw new KerasConfigError(`layer ${label}: ${what} has no Keras equivalent (${why})`);
      }
    }
    const name = unique(`${prefix}${L.name}`);
    // hardSigmoid and hardSwish have no Keras activation name (Keras's hard_sigmoid is 0.2 x +
    // 0.5): the layer is written linear and followed by Keras layers that compute them exactly.
    const hard = c.activation === 'hardSigmoid' || c.activation === 'hardSwish' ? (c.activation as 'hardSigmoid' | 'hardSwish') : null;
    if (hard) c.activation = 'linear';
    // A global pool's keepDims: TF.js Layers 4.22 ignores Keras's keepdims, so the pool is
    // written without it and followed by a Reshape to [1, ..., 1, C], which both read.
    const keep = /^Global(Average|Max)Pooling[123]D$/.test(m.keras) && c.keepDims === true;
    if (keep) c.keepDims = false;
    const cfg = { ...m.write(c, { label, inputShapes: inShapes }, L), trainable: L.trainable, dtype: 'float32' };
    const ref = emit(name, m.keras, cfg, input, L);
    const act = (cfg as { activation?: unknown }).activation;
    if (NON_NEG_OUT.has(m.keras) || (typeof act === 'string' && NON_NEG_ACT.has(act)) || (KEEPS_SIGN.has(m.keras) && input.every((r) => nonNeg.has(key(r))))) nonNeg.add(key(ref));
    for (const w of L.weights) {
      const local = w.name.slice(w.name.lastIndexOf('/') + 1);
      const shape = m.kerasShape ? m.kerasShape(local, w.shape, inShapes) : [...w.shape];
      weightsOut.push({ name: `${name}/${kerasWeightName(m, local)}`, shape, layer: L, local });
    }
    if (hard) {
      const keys = hard === 'hardSwish' ? [{}, {}, {}] : [{}, {}];
      const apply = (x: Ref, base: string, k: object[]) => expandActivation(hard, x, base, k);
      postOf.set(L, { keys, apply });
      return apply(ref, unique(`${name}_${hard === 'hardSwish' ? 'hard_swish' : 'hard_sigmoid'}`), keys);
    }
    if (keep) {
      const target = [...Array(rank).fill(1), inShapes[0][rank]];
      const keys = [{}];
      const apply = (x: Ref, base: string, k: object[]) => {
        const known = byLayer.get(k[0]);
        return emit(known ? known.name : unique(base), 'Reshape', { target_shape: target, trainable: true, dtype: 'float32' }, [x], k[0]);
      };
      postOf.set(L, { keys, apply });
      return apply(ref, `${name}_keepdims`, keys);
    }
    return ref;
  };
  const outputs = walk(graph, '', inputLayers);

  // Sequential when the convkit model is one and the written layers form a chain.
  const chain = out.length >= 2 && out[0].class_name === 'InputLayer' && out.slice(1).every((l, i) => l.inbound_nodes.length === 1 && l.inbound_nodes[0].length === 1 && l.inbound_nodes[0][0][0] === out[i].name);
  let modelConfig: { class_name: string; config: Record<string, unknown> };
  if (model.className === 'Sequential' && chain && graph.inputs.length === 1) {
    const layers = out.slice(1).map((l, i) => ({ class_name: l.class_name, config: i === 0 ? { ...l.config, batch_input_shape: out[0].config.batch_input_shape } : l.config }));
    modelConfig = { class_name: 'Sequential', config: { name: model.name, layers } };
  } else {
    modelConfig = { class_name: 'Model', config: { name: model.name, layers: out, input_layers: inputLayers, output_layers: outputs } };
  }

  // Weights: float32 (or quantised), one group, TF.js-sized shards.
  const values: { name: string; shape: number[]; values: ArrayLike<number> }[] = [];
  const seen = new Set<unknown>();
  for (const w of weightsOut) {
    const weight = w.layer.weights.find((x) => x.name.slice(x.name.lastIndexOf('/') + 1) === w.local)!;
    if (seen.has(weight)) continue;
    seen.add(weight);
    values.push({ name: w.name, shape: w.shape, values: await weight.value.data() });
  }
  const { manifest, shards } = encodeWeights(values, shardBytes, 'group1', q);
  const modelJSON: TfjsModelJSON = {
    format: TFJS_LAYERS_FORMAT,
    generatedBy: `convkit ${VERSION}`,
    convertedBy: null,
    modelTopology: { keras_version: `convkit ${VERSION}`, backend: 'tensor_flow.js', model_config: modelConfig },
    weightsManifest: manifest,
  };
  return { modelJSON, shards: shards.map((data, i) => ({ path: manifest[0].paths[i], data })) };
}
