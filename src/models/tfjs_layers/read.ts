/**
 * Reading TF.js Layers models (model.json `format: "layers-model"`, as tensorflowjs_converter
 * writes from Keras and as TF.js's `model.save()` writes): the Keras topology becomes a
 * convkit Sequential (a Keras Sequential) or functional Model (a Keras Model/Functional,
 * `inbound_nodes` in Keras 2's nested lists or Keras 3's `keras_history` form, several
 * inputs and outputs, shared layers), and the weights manifest's values are set on its
 * layers by name (`<layer>/<weight>`, e.g. `conv2d_1/kernel`, `batch_normalization/moving_mean`).
 *
 * Both sides are channels-last with HWIO kernels, so weights go across as they are.
 * Every problem is a ModelFormatError naming the file, the layer and what was expected;
 * layers made before a failure are disposed (nothing half-loaded).
 */
import { type Layer } from '../../layers/layer.js';
import { deserializeLayer } from '../../layers/builtin.js';
import { input, type SymbolicTensor } from '../../layers/symbolic.js';
import { fromValues } from '../../registry/storage.js';
import { ModelFormatError } from '../io.js';
import { Model, Sequential, model as functionalModel } from '../model.js';
import { GraphBuilder } from '../graph_build.js';
import { BY_KERAS, KerasConfigError, KerasReader, kerasWeightName, type KerasMapping } from './keras_config.js';
import { decodeWeights, parseWeightsManifest } from './weights.js';

export const TFJS_LAYERS_FORMAT = 'layers-model';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A model.json as TF.js writes it. */
export interface TfjsModelJSON {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: Record<string, unknown>;
  weightsManifest: unknown;
  [k: string]: unknown;
}

/** True when a parsed model.json is a TF.js Layers model (format, or a Keras topology). */
export function isTfjsLayersJSON(j: unknown): j is TfjsModelJSON {
  if (!isObj(j)) return false;
  if (j.format === TFJS_LAYERS_FORMAT) return true;
  if (j.format === 'graph-model') return false;
  return j.format === undefined && isObj(j.modelTopology) && ('class_name' in j.modelTopology || 'model_config' in j.modelTopology);
}

/** `{ class_name, config }` of the model, unwrapping tensorflowjs_converter's `model_config`. */
function modelConfigOf(topology: unknown, fail: (m: string) => never): { class_name: string; config: unknown } {
  if (!isObj(topology)) return fail(`"modelTopology" must be an object, received ${JSON.stringify(topology)?.slice(0, 60)}`);
  const mc = isObj(topology.model_config) ? topology.model_config : topology;
  if (typeof mc.class_name !== 'string') return fail('"modelTopology" has no class_name (expected a Keras model config { class_name: "Sequential" | "Model" | "Functional", config })');
  return { class_name: mc.class_name, config: mc.config };
}

interface KerasLayerSpec {
  class_name: string;
  config: Record<string, unknown>;
  name: string;
  inbound_nodes?: unknown[];
}

function layerSpec(v: unknown, i: number, fail: (m: string) => never): KerasLayerSpec {
  if (!isObj(v) || typeof v.class_name !== 'string' || !isObj(v.config)) return fail(`layers[${i}] must be { class_name, config }, received ${JSON.stringify(v)?.slice(0, 80)}`);
  const name = typeof v.name === 'string' ? v.name : typeof v.config.name === 'string' ? v.config.name : `layer_${i}`;
  return { class_name: v.class_name, config: v.config, name, inbound_nodes: Array.isArray(v.inbound_nodes) ? v.inbound_nodes : undefined };
}

/** Who wrote the file: TF.js (or convkit) or Python Keras; they differ on bilinear UpSampling2D. */
type Flavor = 'tfjs' | 'keras';

interface BuildCtx {
  flavor: Flavor;
  /** Every layer made (the ONNX importer's helper): disposed together if the load fails. */
  builder: GraphBuilder;
  /** Every Keras layer made so far and its convkit layer (nested models' layers included). */
  made: Made[];
  /** The manifest's shape of a weight (by full name or a unique '/name' suffix). */
  weightShape(name: string): number[] | undefined;
}

/** One layer's convkit counterpart, not yet applied. */
interface Made {
  keras: KerasLayerSpec;
  /** null for a nested model: its own layers are listed separately. */
  mapping: KerasMapping | null;
  layer: Layer;
}

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

const safeName = (n: string) => n.replace(/\//g, '_');

function batchShape(cfg: Record<string, unknown>): unknown {
  return cfg.batch_input_shape ?? cfg.batch_shape ?? (Array.isArray(cfg.input_shape) ? [null, ...cfg.input_shape] : undefined);
}

/** An input's example shape (batch axis dropped) from a Keras batch shape. */
function exampleShape(bs: unknown, where: string, fail: (m: string) => never): number[] {
  if (!Array.isArray(bs) || bs.length < 2) return fail(`${where}: batch_input_shape must be [batch, ...] with at least one axis after the batch, received ${JSON.stringify(bs)}`);
  const rest = bs.slice(1);
  if (rest.some((d) => !Number.isInteger(d) || (d as number) < 1)) return fail(`${where}: batch_input_shape ${JSON.stringify(bs)} has an unknown or invalid size after the batch axis; convkit needs fixed sizes on every axis but the batch`);
  return rest as number[];
}

function checkDtype(cfg: Record<string, unknown>, where: string, fail: (m: string) => never): void {
  const d = isObj(cfg.dtype) ? (isObj(cfg.dtype.config) ? cfg.dtype.config.name : cfg.dtype.name) : cfg.dtype;
  if (d !== undefined && d !== null && d !== 'float32') fail(`${where}: dtype ${JSON.stringify(d)} is not supported (convkit reads float32 Keras models)`);
}

/** A convkit layer for a Keras layer spec (not applied), or a ModelFormatError. */
function makeLayer(spec: KerasLayerSpec, inputShapes: number[][], fail: (m: string) => never, ctx: BuildCtx): Made {
  const label = `'${spec.name}' (${spec.class_name})`;
  if (MODEL_CLASSES.has(spec.class_name)) {
    // A model used as a layer (Keras transfer learning: a base model inside a functional one).
    const sub = spec.class_name === 'Sequential' ? buildSequential(spec.config, fail, ctx, inputShapes[0]) : buildFunctional(spec.config, fail, ctx);
    return { keras: spec, mapping: null, layer: ctx.builder.track(sub) };
  }
  const mapping = BY_KERAS.get(spec.class_name);
  if (!mapping) {
    return fail(`layer ${label}: Keras class ${spec.class_name} is not supported (supported: ${[...BY_KERAS.keys()].sort().join(', ')})`);
  }
  checkDtype(spec.config, `layer ${label}`, fail);
  const r = new KerasReader(spec.config, label, inputShapes);
  let args: Record<string, unknown>;
  try {
    args = mapping.read(r);
    const left = r.leftovers();
    if (left.length) r.fail(`option(s) ${left.map((k) => `${k}=${JSON.stringify(spec.config[k])}`).join(', ')} not supported`);
  } catch (e) {
    if (e instanceof KerasConfigError) fail(e.message);
    throw e;
  }
  for (const k of Object.keys(args)) if (args[k] === undefined) delete args[k];
  let className = mapping.convkit;
  if (mapping.keras === 'SeparableConv2D' && !('depth_multiplier' in spec.config)) {
    // tfjs-layers (4.22) leaves depth_multiplier out of SeparableConv2D's config: take it from the kernel.
    const k = ctx.weightShape(`${spec.name}/depthwise_kernel`);
    if (k && k.length === 4) args.depthMultiplier = k[3];
  }
  if (mapping.keras === 'UpSampling2D' && args.interpolation === 'bilinear' && ctx.flavor === 'keras') {
    // Python Keras (TF 2, Keras 3) resizes with half-pixel centres; TF.js's UpSampling2D
    // (and convkit's) does not: a Resizing layer computes what the Keras model did.
    const [h, w] = inputShapes[0] ?? [0, 0];
    const [sh, sw] = args.size as number[];
    className = 'Resizing';
    args = { height: h * sh, width: w * sw, interpolation: 'bilinear', coordinates: 'half_pixel' };
  }
  const trainable = spec.config.trainable;
  try {
    const layer = ctx.builder.track(deserializeLayer({ className, config: { ...args, name: safeName(spec.name), ...(trainable === false ? { trainable: false } : {}) } }));
    return { keras: spec, mapping, layer };
  } catch (e) {
    return fail(`layer ${label}: ${(e as Error).message}`);
  }
}

/** Keras 2 `[[name, node, tensor, kwargs], ...]` or Keras 3 `{ args: [...keras_history...] }`: the refs of one node. */
function nodeRefs(node: unknown, where: string, fail: (m: string) => never): [string, number, number][] {
  if (Array.isArray(node)) {
    return node.map((ref) => {
      if (!Array.isArray(ref) || typeof ref[0] !== 'string') return fail(`${where}: inbound reference ${JSON.stringify(ref)?.slice(0, 60)} is not [layer, node, tensor, kwargs]`);
      return [ref[0], (ref[1] as number) ?? 0, (ref[2] as number) ?? 0];
    });
  }
  if (isObj(node) && Array.isArray(node.args)) {
    const refs: [string, number, number][] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (isObj(v)) {
        if (v.class_name === '__keras_tensor__' && isObj(v.config) && Array.isArray(v.config.keras_history)) {
          const h = v.config.keras_history;
          refs.push([h[0] as string, (h[1] as number) ?? 0, (h[2] as number) ?? 0]);
        } else for (const x of Object.values(v)) walk(x);
      }
    };
    walk(node.args);
    return refs;
  }
  return fail(`${where}: inbound node ${JSON.stringify(node)?.slice(0, 60)} is neither Keras 2's list form nor Keras 3's { args }`);
}

/**
 * A TF.js Layers model.json and its weights (all shards, manifest order) as a convkit Model.
 * `shardSizes` (bytes of each shard file) lets a short shard be named; `file` and
 * `weightsName` name the sources in errors.
 */
export function decodeTfjsLayers(j: TfjsModelJSON, data: ArrayBuffer, file: string, weightsName = 'the weights', shardSizes?: readonly number[]): Model {
  const fail = (problem: string, weight?: string): never => {
    throw new ModelFormatError(file, problem, weight);
  };
  if (!isObj(j)) fail('expected a JSON object');
  if (j.format !== undefined && j.format !== TFJS_LAYERS_FORMAT) fail(`format ${JSON.stringify(j.format)} is not a TF.js Layers model (expected "${TFJS_LAYERS_FORMAT}"; TF.js graph models cannot be read)`);
  const groups = parseWeightsManifest(j.weightsManifest ?? [], file);
  const { class_name, config } = modelConfigOf(j.modelTopology, fail);
  const kv = isObj(j.modelTopology) ? String(j.modelTopology.keras_version ?? '') : '';
  const flavor: Flavor = /^(tfjs|convkit)/.test(kv) || /^(TensorFlow\.js|convkit)/.test(String(j.generatedBy ?? '')) ? 'tfjs' : 'keras';
  const made: Made[] = [];
  let m: Model | null = null;
  const allSpecs = groups.flatMap((g) => g.weights);
  const ctx: BuildCtx = {
    flavor,
    builder: new GraphBuilder(),
    made,
    weightShape: (name) => (allSpecs.find((w) => w.name === name) ?? (allSpecs.filter((w) => w.name.endsWith(`/${name}`)).length === 1 ? allSpecs.find((w) => w.name.endsWith(`/${name}`)) : undefined))?.shape,
  };
  try {
    if (class_name === 'Sequential') m = buildSequential(config, fail, ctx);
    else if (class_name === 'Model' || class_name === 'Functional') m = buildFunctional(config, fail, ctx);
    else fail(`model class ${JSON.stringify(class_name)} is not supported (expected Sequential, Model or Functional)`);
    // Weights: every weight of every layer found by name with its shape, before any byte is read.
    const specs = groups.flatMap((g) => g.weights.map((w) => ({ ...w, files: g.paths.join(', ') || 'the weights' })));
    const used = new Set<string>();
    const plan: { target: Layer['weights'][number]; spec: string }[] = [];
    for (const { keras, mapping, layer } of made) {
      if (!mapping) continue;
      const label = `'${keras.name}' (${keras.class_name})`;
      const inShapes = layerInputShapes(m!, layer);
      for (const w of layer.weights) {
        const local = w.name.slice(w.name.lastIndexOf('/') + 1);
        const kname = kerasWeightName(mapping, local);
        const full = `${keras.name}/${kname}`;
        let d = specs.find((x) => x.name === full);
        if (!d) {
          // tensorflowjs_converter may prefix the model's name (e.g. 'sequential/dense/kernel').
          const hits = specs.filter((x) => x.name.endsWith(`/${full}`) && !used.has(x.name));
          if (hits.length === 1) d = hits[0];
        }
        if (!d) return fail(`layer ${label}: weight '${full}' (${kname}, shape [${w.shape.join(', ')}]) is not in the weights manifest`, full);
        used.add(d.name);
        const want = mapping.kerasShape ? mapping.kerasShape(local, w.shape, inShapes) : [...w.shape];
        if (d.shape.length !== want.length || d.shape.some((x, i) => x !== want[i])) {
          fail(`layer ${label}: weight '${d.name}' has shape [${d.shape.join(', ')}] in ${d.files}, but the layer expects [${want.join(', ')}]`, d.name);
        }
        plan.push({ target: w, spec: d.name });
      }
    }
    const extra = specs.filter((d) => !used.has(d.name));
    if (extra.length) fail(`the weights manifest has ${extra.length} weight(s) no layer of the model uses: ${extra.slice(0, 5).map((d) => `'${d.name}'`).join(', ')}${extra.length > 5 ? ', ...' : ''}`, extra[0].name);
    const decoded = new Map(decodeWeights(groups, data, file, weightsName, shardSizes).map((d) => [d.name, d]));
    const assign = plan.map(({ target, spec }) => {
      const d = decoded.get(spec)!;
      let values: Float32Array | Float64Array = d.values instanceof Float32Array ? d.values : Float32Array.from(d.values);
      if (target.dtype === 'float64') values = Float64Array.from(values);
      const shape = [...target.shape], vals = values;
      return () => {
        target.value = fromValues(vals, shape, target.dtype);
      };
    });
    for (const a of assign) a();
    return m!;
  } catch (e) {
    ctx.builder.disposeAll();
    throw e;
  }
}

/** Input shapes (no batch axis) of a layer's first application in `m` or in a model nested in it. */
function layerInputShapes(m: Layer, layer: Layer): number[][] {
  const g = (m as unknown as { graph?: { nodes: { node: { layer: Layer; inputs: SymbolicTensor[] } }[] } | null }).graph;
  if (!g) return [];
  for (const { node } of g.nodes) {
    if (node.layer === layer) return node.inputs.map((t) => [...t.shape]);
    const inner = layerInputShapes(node.layer, layer);
    if (inner.length) return inner;
  }
  return [];
}

function buildSequential(config: unknown, fail: (m: string) => never, ctx: BuildCtx, outerShape?: number[]): Sequential {
  const list = Array.isArray(config) ? config : isObj(config) ? config.layers : undefined;
  const name = isObj(config) && typeof config.name === 'string' ? config.name : undefined;
  if (!Array.isArray(list) || !list.length) return fail('the Sequential config has no layers');
  const specs = list.map((v, i) => layerSpec(v, i, fail));
  let shape: number[];
  let first = 0;
  if (specs[0].class_name === 'InputLayer') {
    checkDtype(specs[0].config, `layer '${specs[0].name}' (InputLayer)`, fail);
    shape = exampleShape(batchShape(specs[0].config), `layer '${specs[0].name}' (InputLayer)`, fail);
    first = 1;
  } else {
    const bs = batchShape(specs[0].config) ?? (outerShape ? [null, ...outerShape] : undefined);
    if (bs === undefined) return fail(`layer '${specs[0].name}' (${specs[0].class_name}), the first of the Sequential model, has no batch_input_shape; convkit needs the input shape`);
    shape = exampleShape(bs, `layer '${specs[0].name}' (${specs[0].class_name})`, fail);
  }
  const x = input(shape);
  let y: SymbolicTensor = x;
  const layers: Layer[] = [];
  for (const spec of specs.slice(first)) {
    const mk = makeLayer(spec, [[...y.shape]], fail, ctx);
    ctx.made.push(mk);
    layers.push(mk.layer);
    try {
      y = mk.layer.apply(y);
    } catch (e) {
      fail(`layer '${spec.name}' (${spec.class_name}): ${(e as Error).message}`);
    }
  }
  if (!layers.length) return fail('the Sequential config has only an InputLayer');
  return Sequential.stack(layers, shape, name ? { name: safeName(name) } : {});
}

function buildFunctional(config: unknown, fail: (m: string) => never, ctx: BuildCtx): Model {
  if (!isObj(config) || !Array.isArray(config.layers)) return fail('the Model config needs "layers", "input_layers" and "output_layers"');
  const specs = config.layers.map((v, i) => layerSpec(v, i, fail));
  const byName = new Map(specs.map((s) => [s.name, s]));
  const tensors = new Map<string, SymbolicTensor>(); // `${layer}:${node}` -> output
  const layers = new Map<string, Made>();
  const inputs: SymbolicTensor[] = [];
  for (const s of specs) {
    if (s.class_name !== 'InputLayer') continue;
    const where = `layer '${s.name}' (InputLayer)`;
    checkDtype(s.config, where, fail);
    const t = input(exampleShape(batchShape(s.config), where, fail), { name: safeName(s.name) });
    tensors.set(`${s.name}:0`, t);
  }
  // Apply nodes as their inputs become available (Keras lists layers in order, but be safe).
  const pending: { spec: KerasLayerSpec; index: number; refs: [string, number, number][] }[] = [];
  for (const s of specs) {
    if (s.class_name === 'InputLayer') continue;
    const nodes = s.inbound_nodes ?? [];
    if (!nodes.length) fail(`layer '${s.name}' (${s.class_name}) has no inbound_nodes: it is not connected to the model's inputs`);
    nodes.forEach((n, index) => pending.push({ spec: s, index, refs: nodeRefs(n, `layer '${s.name}' (${s.class_name})`, fail) }));
  }
  let progress = true;
  while (pending.length && progress) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i];
      const ins = p.refs.map(([n, k]) => tensors.get(`${n}:${k}`));
      if (ins.some((t) => !t)) continue;
      for (const [n, , ti] of p.refs) {
        if (!byName.has(n)) fail(`layer '${p.spec.name}' (${p.spec.class_name}) reads layer '${n}', which the model does not define`);
        if (ti !== 0) fail(`layer '${p.spec.name}' (${p.spec.class_name}) reads output ${ti} of layer '${n}'; convkit layers have one output`);
      }
      let mk = layers.get(p.spec.name);
      if (!mk) {
        mk = makeLayer(p.spec, ins.map((t) => [...t!.shape]), fail, ctx);
        ctx.made.push(mk);
        layers.set(p.spec.name, mk);
      }
      try {
        // Keras (and TF.js) count a nested model's own construction as its node 0 when it was
        // built on an input ("_should_skip_first_node"): its uses in this model are nodes 1, 2, ...
        tensors.set(`${p.spec.name}:${p.index + nodeOffset(p.spec)}`, ins.length === 1 && !MERGE.has(p.spec.class_name) ? mk.layer.apply(ins[0]!) : mk.layer.apply(ins as SymbolicTensor[]));
      } catch (e) {
        fail(`layer '${p.spec.name}' (${p.spec.class_name}): ${(e as Error).message}`);
      }
      pending.splice(i--, 1);
      progress = true;
    }
  }
  if (pending.length) {
    const p = pending[0];
    const missing = p.refs.find(([n, k]) => !tensors.has(`${n}:${k}`))!;
    fail(`layer '${p.spec.name}' (${p.spec.class_name}) reads node ${missing[1]} of layer '${missing[0]}', which ${byName.has(missing[0]) ? 'is never computed (a cycle, or a node index out of range)' : 'the model does not define'}`);
  }
  const endpoints = (key: string): SymbolicTensor[] => {
    const v = config[key];
    if (!Array.isArray(v) || !v.length) return fail(`the Model config's "${key}" must be a non-empty list of [layer, node, tensor]`);
    // Keras 3 writes a single [name, node, tensor] for one endpoint.
    const list = typeof v[0] === 'string' ? [v] : v;
    return list.map((ref) => {
      if (!Array.isArray(ref) || typeof ref[0] !== 'string') return fail(`the Model config's "${key}" entry ${JSON.stringify(ref)} is not [layer, node, tensor]`);
      const t = tensors.get(`${ref[0]}:${ref[1] ?? 0}`);
      if (!t) return fail(`the Model config's "${key}" names layer '${ref[0]}' node ${ref[1] ?? 0}, which the model does not compute`);
      return t;
    });
  };
  for (const t of endpoints('input_layers')) inputs.push(t);
  const outputs = endpoints('output_layers');
  const name = typeof config.name === 'string' ? safeName(config.name) : undefined;
  try {
    return functionalModel({ inputs, outputs, ...(name ? { name } : {}) });
  } catch (e) {
    return fail(`the model cannot be built: ${(e as Error).message}`);
  }
}

/** 1 for a nested model built on its own input (Keras skips that first node when saving), else 0. */
function nodeOffset(spec: KerasLayerSpec): number {
  if (spec.class_name === 'Model' || spec.class_name === 'Functional') return 1;
  if (spec.class_name !== 'Sequential') return 0;
  const list = isObj(spec.config) && Array.isArray(spec.config.layers) ? spec.config.layers : [];
  const first = list[0] as { class_name?: string; config?: Record<string, unknown> } | undefined;
  return first && (first.class_name === 'InputLayer' || (isObj(first.config) && batchShape(first.config) !== undefined)) ? 1 : 0;
}

/** Keras classes that take a list of inputs. */
const MERGE = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate']);

