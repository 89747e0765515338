/**
 * Models: a graph of layers from inputs to outputs (the functional API), or a plain stack
 * (`sequential`). A model is itself a layer, so models nest (a backbone inside a bigger
 * model). Shapes are inferred symbolically when the model is built, so `summary()` of a
 * VGG-19 at 224x224 runs no op and allocates no weight.
 *
 *   const x = input([28, 28, 1]);
 *   const y = layers.dense({ units: 10 }).apply(layers.flatten().apply(x));
 *   const m = model({ inputs: x, outputs: y });
 *   const p = m.predict(images);            // batches of 32, no graph recorded
 */
import { noGrad } from '../autograd/reverse_mode.js';
import { Container } from '../layers/container.js';
import {
  type CallOpts, Layer, type LayerConfig, type Weight, baseWeight, fmtDims, registerLayerClass, serializeLayer,
} from '../layers/layer.js';
import { Graph } from '../layers/graph.js';
import { deserializeLayer } from '../layers/builtin.js';
import { SymbolicTensor, input } from '../layers/symbolic.js';
import { checkOptionKeys } from '../layers/options.js';
import { cast } from '../ops/elementwise.js';
import { concat, slice } from '../ops/shape.js';
import { keep, tidy } from '../registry/storage.js';
import type { DType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { type IOHandler, type SaveOptions, type SaveResult, saveModel } from './io.js';
import { type ModelSummary, type SummaryOptions, formatSummary, summarize } from './summary.js';
import { Dataset } from '../data/dataset.js';
import { StreamDataset } from '../data/stream.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { History, Logs } from '../train/callbacks.js';
import { resolveCompile, type CompileArgs, type Compiled } from '../train/compile.js';
import { evaluateDataset, evaluateDatasetAsync, predictDataset, predictDatasetAsync } from '../train/evaluate.js';
import { fitDataset, toDataset, toDatasetAsync, type FitOptions } from './fit.js';

export interface ModelArgs {
  inputs: SymbolicTensor | SymbolicTensor[];
  outputs: SymbolicTensor | SymbolicTensor[];
  name?: string;
  trainable?: boolean;
}

const MODEL_ARG_KEYS = ['inputs', 'outputs', 'name', 'trainable'];
const SEQUENTIAL_OPT_KEYS = ['inputShape', 'name', 'dtype', 'seed'];

export interface PredictOpts {
  /** Examples per forward pass (default 32). */
  batchSize?: number;
}

/** Which layers `freeze`/`unfreeze` touch: names ('block/conv1' reaches inside), or a predicate. */
export type LayerSelector = string | readonly string[] | ((layer: Layer, index: number) => boolean);

export class Model extends Container {
  static readonly className: string = 'Model';
  static readonly namePrefix: string = 'model';
  /** Subclasses that run without a layer graph (the ONNX graph interpreter) are constructed with no inputs and outputs. */
  protected static readonly graphless: boolean = false;

  constructor(args: ModelArgs) {
    checkOptionKeys('Model', args, MODEL_ARG_KEYS);
    super({ name: args.name, trainable: args.trainable });
    if (args.inputs === undefined && args.outputs === undefined && (this instanceof Sequential || (new.target as unknown as typeof Model).graphless)) return; // empty until add()
    const inputs = Array.isArray(args.inputs) ? args.inputs : [args.inputs];
    const outputs = Array.isArray(args.outputs) ? args.outputs : [args.outputs];
    this.setGraph(new Graph(inputs, outputs, `model '${this.name}'`));
    if (args.trainable === false) this.trainable = false;
  }

  protected setGraph(g: Graph): void {
    if (this.graph !== g) this.graph?.releaseFusion();
    this.graph = g;
    this.built = true;
    this.dtype = g.inputs[0].dtype;
    this.builtInputShape = g.inputs.length === 1 ? [...g.inputs[0].shape] : g.inputs.map((t) => [...t.shape]);
  }

  get inputs(): SymbolicTensor[] {
    return this.requireGraph().inputs;
  }
  get outputs(): SymbolicTensor[] {
    return this.requireGraph().outputs;
  }
  /** Shape of one example of the (first) input, without the batch axis. */
  get inputShape(): number[] {
    return [...this.inputs[0].shape];
  }
  /** Shape of one example of the (first) output, without the batch axis. */
  get outputShape(): number[] {
    return [...this.outputs[0].shape];
  }
  get inputShapes(): number[][] {
    return this.inputs.map((t) => [...t.shape]);
  }
  get outputShapes(): number[][] {
    return this.outputs.map((t) => [...t.shape]);
  }

  // ------------------------------------------------------------------ running

  /**
   * Model inputs are checked on rank and on the last (channel) axis only, so a fully
   * convolutional model also runs on larger images (the convolutional form of sliding
   * windows); layers that need a fixed size (Dense) report it themselves.
   */
  checkInput(shape: readonly (number | null)[]): void {
    if (this.inputs.length !== 1) throw new RangeError(`${this.label}: expected ${this.inputs.length} input tensors (an array), received 1`);
    this.checkOne(0, shape);
  }
  protected checkInputs(shapes: readonly (readonly (number | null)[])[]): void {
    if (shapes.length !== this.inputs.length) {
      throw new RangeError(`${this.label}: expected ${this.inputs.length} input tensor(s), received ${shapes.length}`);
    }
    shapes.forEach((s, i) => this.checkOne(i, s));
  }
  private checkOne(i: number, shape: readonly (number | null)[]): void {
    const want = this.inputs[i].shape;
    const expected = fmtDims([null, ...want]);
    if (shape.length !== want.length + 1) {
      throw new RangeError(`${this.label}: expected input of rank ${want.length + 1} (shape ${expected}), received ${fmtDims(shape)}`);
    }
    const c = want[want.length - 1];
    if (want.length && shape[shape.length - 1] !== c) {
      throw new RangeError(`${this.label}: expected input with ${c} ${want.length === 1 ? 'features' : 'channels'} (shape ${expected}), received ${fmtDims(shape)}`);
    }
  }

  private castInputs(xs: Tensor[]): Tensor[] {
    return xs.map((t, i) => (t.dtype === this.inputs[i].dtype ? t : cast(t, this.inputs[i].dtype)));
  }

  protected forward(x: Tensor | Tensor[], opts: CallOpts): Tensor {
    const outs = this.runAll(x, opts);
    if (outs.length !== 1) throw new RangeError(`${this.label}: the model has ${outs.length} outputs; use applyAll() or predictAll()`);
    return outs[0];
  }

  private runAll(x: Tensor | Tensor[], opts: CallOpts): Tensor[] {
    this.resetActivityLosses();
    const xs = this.castInputs(Array.isArray(x) ? x : [x]);
    return this.runGraph(xs, opts);
  }

  /** Every output of a multi-output model (records the autograd graph like `apply`). */
  applyAll(x: Tensor | Tensor[], opts: CallOpts = {}): Tensor[] {
    if (Array.isArray(x)) this.checkInputs(x.map((t) => t.shape));
    else this.checkInput(x.shape);
    return this.withLabel(() => this.runAll(x, opts));
  }

  /**
   * Inference in batches: no autograd graph, training false, intermediate tensors freed
   * after each batch; the batch outputs are concatenated. Several inputs: pass an array
   * (sliced together).
   */
  predict(x: Tensor | Tensor[], opts: PredictOpts = {}): Tensor {
    const outs = this.predictAll(x, opts);
    if (outs.length !== 1) {
      for (const o of outs) o.dispose();
      throw new RangeError(`${this.label}: the model has ${outs.length} outputs; use predictAll()`);
    }
    return outs[0];
  }

  /** `predict` for models with several outputs. */
  predictAll(x: Tensor | Tensor[], opts: PredictOpts = {}): Tensor[] {
    const xs = Array.isArray(x) ? x : [x];
    const bs = opts.batchSize ?? 32;
    if (!Number.isInteger(bs) || bs < 1) throw new RangeError(`${this.label}: predict batchSize must be a positive integer, received ${JSON.stringify(opts.batchSize)}`);
    if (!xs.length || !(xs[0] instanceof Tensor)) throw new TypeError(`${this.label}: predict expects a Tensor (or an array of Tensors, one per input)`);
    const n = xs[0].shape[0];
    xs.forEach((t, i) => {
      if (t.shape[0] !== n) throw new RangeError(`${this.label}: predict inputs disagree on the batch size (input 0 has ${n}, input ${i} has ${t.shape[0]})`);
    });
    return noGrad(() => {
      if (n <= bs) return tidy(() => this.applyAll(Array.isArray(x) ? xs : xs[0], { training: false }));
      const pieces: Tensor[][] = [];
      try {
        for (let start = 0; start < n; start += bs) {
          const size = Math.min(bs, n - start);
          const outs = tidy(() => {
            const batch = xs.map((t) => slice(t, [start, ...t.shape.slice(1).map(() => 0)], [size, ...t.shape.slice(1)]));
            return this.applyAll(Array.isArray(x) ? batch : batch[0], { training: false });
          });
          pieces.push(outs.map((o) => keep(o)));
        }
        return pieces[0].map((_, k) => tidy(() => concat(pieces.map((p) => p[k]), 0)));
      } finally {
        for (const p of pieces) for (const t of p) t.dispose();
      }
    });
  }

  /**
   * The activations of the named top-level layers (all of them when omitted) for input
   * `x`, in graph order, without recording a graph: what feature-map visualisation
   * looks at (see `vision.featureMapGrid`). Only the layers needed are run.
   */
  layerOutputs(x: Tensor, names?: readonly string[]): Map<string, Tensor> {
    const g = this.requireGraph();
    const wanted = names ?? g.layers.map((l) => l.name);
    const picked = wanted.map((name) => {
      const n = g.nodes.find((node) => node.node.layer.name === name);
      if (!n) throw new RangeError(`${this.label}: no layer named '${name}' (layers: ${g.layers.map((l) => l.name).join(', ')})`);
      return n.output;
    });
    this.checkInput(x.shape);
    const sub = new Graph(g.inputs, picked, this.label);
    let outs: Tensor[];
    try {
      outs = noGrad(() => tidy(() => sub.run(this.castInputs([x]), { training: false })));
    } finally {
      sub.releaseFusion(); // a graph of this call only: free what its fusion folded
    }
    return new Map(wanted.map((name, i) => [name, outs[i]]));
  }

  // ------------------------------------------------------------------ weights

  /** Weight tensors as a name -> Tensor map (names relative to the model). */
  namedWeightMap(): Map<string, Weight> {
    const m = new Map<string, Weight>();
    for (const w of this.weights) {
      if (m.has(w.name) && baseWeight(m.get(w.name)!) !== baseWeight(w)) throw new Error(`${this.label}: two weights are named '${w.name}'`);
      m.set(w.name, w);
    }
    return m;
  }

  /** Freeze layers (all when called without arguments): their weights get no gradient. */
  freeze(which?: LayerSelector): this {
    for (const l of this.select(which)) l.trainable = false;
    return this;
  }

  /** Undo `freeze` for the selected layers (all when called without arguments). */
  unfreeze(which?: LayerSelector): this {
    if (which === undefined) this.trainable = true;
    else for (const l of this.select(which)) l.trainable = true;
    return this;
  }

  private select(which?: LayerSelector): Layer[] {
    if (which === undefined) return this.layers;
    if (typeof which === 'function') return this.layers.filter((l, i) => which(l, i));
    const names = typeof which === 'string' ? [which] : [...which];
    return names.map((n) => this.getLayer(n));
  }

  // ------------------------------------------------------------------ surgery (transfer learning)

  /**
   * Remove the last layer (the one producing the single output) and return it. The
   * model's output becomes that layer's input. The removed layer keeps its weights.
   */
  popLayer(): Layer {
    const g = this.requireGraph();
    if (g.outputs.length !== 1) throw new RangeError(`${this.label}: popLayer needs a single-output model, this one has ${g.outputs.length}`);
    const out = g.outputs[0];
    if (!out.node) throw new RangeError(`${this.label}: no layer left to pop`);
    if (out.node.inputs.length !== 1) {
      throw new RangeError(`${this.label}: the last layer '${out.node.layer.name}' has ${out.node.inputs.length} inputs; popLayer only removes single-input layers`);
    }
    const layer = out.node.layer;
    this.setGraph(new Graph(g.inputs, [out.node.inputs[0]], `model '${this.name}'`));
    return layer;
  }

  /**
   * Replace the classifier head: pop `remove` layers (default 1) and append `newLayers`
   * in order (e.g. a new Dense with as many units as the new task has classes). The
   * remaining layers keep their weights; freeze them with `freeze()` to train the head only.
   */
  replaceHead(newLayers: Layer | Layer[], opts: { remove?: number } = {}): this {
    const remove = opts.remove ?? 1;
    if (!Number.isInteger(remove) || remove < 0) throw new RangeError(`${this.label}: replaceHead remove must be a non-negative integer, received ${JSON.stringify(opts.remove)}`);
    for (let i = 0; i < remove; i++) this.popLayer();
    const list = Array.isArray(newLayers) ? newLayers : [newLayers];
    let y = this.outputs[0];
    for (const l of list) y = l.apply(y);
    this.setGraph(new Graph(this.inputs, [y], `model '${this.name}'`));
    return this;
  }

  // ------------------------------------------------------------------ summary

  /** Layers, output shapes, parameters and MACs as data (no op runs). */
  summaryJSON(opts: SummaryOptions = {}): ModelSummary {
    return summarize(this, opts);
  }

  /**
   * Print a Keras-style table (layer (type), output shape, parameters, MACs, totals), as
   * Keras's and TF.js's `model.summary()` do: through `printFn` (default console.log),
   * one call with the whole table. `summaryText()` returns the table instead.
   */
  summary(opts: SummaryOptions & { printFn?: (text: string) => void } = {}): void {
    const { printFn, ...rest } = opts;
    (printFn ?? console.log)(this.summaryText(rest));
  }

  /** The table `summary()` prints, as a string. */
  summaryText(opts: SummaryOptions = {}): string {
    return formatSummary(this.summaryJSON(opts));
  }

  /** `summary()` (kept for code written before summary() printed). */
  printSummary(opts: SummaryOptions = {}): void {
    this.summary(opts);
  }

  // ------------------------------------------------------------------ training
  // Keras's compile / fit / evaluate; the loop is in src/train/fit.ts, fit's options on top
  // of it in ./fit.ts:
  //   model.compile({ optimizer: 'adam', loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
  //   const history = await model.fit(xTrain, yTrain, { epochs: 5, batchSize: 32, validationSplit: 0.1 });
  //   const { loss, accuracy } = await model.evaluate(xTest, yTest);

  /** Set by `compile`: the optimiser, loss and metrics that `fit` and `evaluate` use. */
  compiled?: Compiled;
  /** Set to true by a callback (EarlyStopping) to end `fit` after the current epoch. */
  stopTraining?: boolean;

  /** The compiled optimiser. */
  get optimizer(): Optimizer | undefined {
    return this.compiled?.optimizer;
  }

  /** Choose the optimiser, the loss and the metrics (Keras's compile). */
  compile(args: CompileArgs): this {
    this.compiled = resolveCompile(args);
    return this;
  }

  /**
   * Train on tensors x [N, ...] and y ([N] int32 class indices or [N, ...] targets), or on
   * a Dataset, or on a batched StreamDataset (read afresh each epoch; fit's batchSize and
   * validationSplit do not apply to it). Returns the per-epoch History (loss, metrics, val_*, lr, images_per_sec).
   */
  fit(x: Tensor, y: Tensor, opts?: FitOptions): Promise<History>;
  fit(data: Dataset | StreamDataset<unknown>, opts?: FitOptions): Promise<History>;
  async fit(x: Tensor | Dataset | StreamDataset<unknown>, y?: Tensor | FitOptions, opts?: FitOptions): Promise<History> {
    const c = this.requireCompiled('fit');
    if (x instanceof Dataset || x instanceof StreamDataset) return fitDataset(this, c, x, (y as FitOptions | undefined) ?? {});
    return fitDataset(this, c, await toDatasetAsync(x, y instanceof Tensor ? y : undefined, 'fit'), opts ?? {});
  }

  /**
   * Loss and metrics on tensors or a Dataset, in inference mode. Asynchronous like fit,
   * so that it runs on every backend (webgpu reads results asynchronously).
   */
  evaluate(x: Tensor, y: Tensor, opts?: { batchSize?: number }): Promise<Logs>;
  evaluate(data: Dataset | StreamDataset<unknown>, opts?: { batchSize?: number }): Promise<Logs>;
  async evaluate(x: Tensor | Dataset | StreamDataset<unknown>, y?: Tensor | { batchSize?: number }, opts?: { batchSize?: number }): Promise<Logs> {
    const c = this.requireCompiled('evaluate');
    if (x instanceof StreamDataset) {
      if (!x.batched) throw new TypeError('evaluate: a StreamDataset must be batched: call .batch(batchSize) on it');
      return evaluateDatasetAsync(this, c, x);
    }
    if (x instanceof Dataset) return evaluateDatasetAsync(this, c, x, (y as { batchSize?: number } | undefined)?.batchSize ?? 32);
    return evaluateDatasetAsync(this, c, await toDatasetAsync(x, y instanceof Tensor ? y : undefined, 'evaluate'), opts?.batchSize ?? 32);
  }

  /** `evaluate` with synchronous reads, for backends that have them (ts, wasm); webgpu throws. */
  evaluateSync(x: Tensor, y: Tensor, opts?: { batchSize?: number }): Logs;
  evaluateSync(data: Dataset, opts?: { batchSize?: number }): Logs;
  evaluateSync(x: Tensor | Dataset, y?: Tensor | { batchSize?: number }, opts?: { batchSize?: number }): Logs {
    const c = this.requireCompiled('evaluateSync');
    if (x instanceof Dataset) return evaluateDataset(this, c, x, (y as { batchSize?: number } | undefined)?.batchSize ?? 32);
    return evaluateDataset(this, c, toDataset(x, y instanceof Tensor ? y : undefined, 'evaluateSync'), opts?.batchSize ?? 32);
  }

  /** Outputs for every sample of a Dataset as one host array (for metrics over big sets). */
  predictDataset(data: Dataset, opts: { batchSize?: number } = {}): { data: Float32Array; shape: number[] } {
    return predictDataset(this, data, opts.batchSize ?? 128);
  }

  /** `predictDataset` with asynchronous reads: works on every backend, webgpu included. */
  predictDatasetAsync(data: Dataset, opts: { batchSize?: number } = {}): Promise<{ data: Float32Array; shape: number[] }> {
    return predictDatasetAsync(this, data, opts.batchSize ?? 128);
  }

  /** The same as `evaluate` (kept from when evaluate was synchronous). */
  evaluateAsync(data: Dataset, opts: { batchSize?: number } = {}): Promise<Logs> {
    return evaluateDatasetAsync(this, this.requireCompiled('evaluateAsync'), data, opts.batchSize ?? 32);
  }

  private requireCompiled(op: string): Compiled {
    if (!this.compiled) throw new Error(`${this.label}: call compile({ optimizer, loss, metrics }) before ${op}()`);
    return this.compiled;
  }

  // ------------------------------------------------------------------ saving

  /**
   * Save the architecture and weights: to a directory (Node: model.json + weights.bin) or
   * through an IOHandler (memoryHandler(), browserLocalStorage(key), ...). A path ending in
   * .onnx, or `{ format: 'onnx' }`, writes one ONNX file instead (options as `encodeOnnx`).
   */
  save(target: string | IOHandler, options: SaveOptions = {}): Promise<SaveResult> {
    return saveModel(this, target, options);
  }

  getConfig(): LayerConfig {
    const g = this.requireGraph();
    const ids = new Map<SymbolicTensor, number>();
    g.inputs.forEach((t, i) => ids.set(t, i));
    const nodes = g.nodes.map(({ node, output }, i) => {
      ids.set(output, g.inputs.length + i);
      return { layer: node.layer.name, inputs: node.inputs.map((t) => ids.get(t)!), arrayInput: node.arrayInput };
    });
    return {
      name: this.name,
      trainable: this.trainable,
      inputs: g.inputs.map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype })),
      layers: g.layers.map(serializeLayer),
      nodes,
      outputs: g.outputs.map((t) => ids.get(t)!),
    };
  }

  static fromConfig(config: LayerConfig): Model {
    const c = config as unknown as GraphConfig;
    if (!Array.isArray(c.inputs) || !Array.isArray(c.layers) || !Array.isArray(c.nodes) || !Array.isArray(c.outputs)) {
      throw new TypeError('Model.fromConfig: the config needs inputs, layers, nodes and outputs');
    }
    const layers = new Map<string, Layer>();
    for (const spec of c.layers) {
      const l = deserializeLayer(spec);
      layers.set(l.name, l);
    }
    const tensors: SymbolicTensor[] = c.inputs.map((i) => input(i.shape, { name: i.name, dtype: i.dtype }));
    for (const n of c.nodes) {
      const l = layers.get(n.layer);
      if (!l) throw new RangeError(`Model.fromConfig: a node uses layer '${n.layer}', which the config does not define`);
      const ins = n.inputs.map((k) => {
        const t = tensors[k];
        if (!t) throw new RangeError(`Model.fromConfig: node of layer '${n.layer}' refers to tensor ${k}, which comes later or does not exist`);
        return t;
      });
      tensors.push(n.arrayInput ? l.apply(ins) : l.apply(ins[0]));
    }
    const m = new Model({ inputs: tensors.slice(0, c.inputs.length), outputs: c.outputs.map((k) => tensors[k]), name: c.name });
    if (c.trainable === false) m.trainable = false;
    return m;
  }
}

interface GraphConfig {
  name?: string;
  trainable?: boolean;
  inputs: { name?: string; shape: number[]; dtype?: DType }[];
  layers: { className: string; config: LayerConfig }[];
  nodes: { layer: string; inputs: number[]; arrayInput: boolean }[];
  outputs: number[];
}

export interface SequentialOpts {
  /** Shape of one example, no batch axis (or give the first layer an `inputShape`). */
  inputShape?: readonly number[];
  name?: string;
  /** Weight and input dtype (default float32; float64 for gradient checks). */
  dtype?: DType;
  /** Seeds every layer that has none: layer i gets seed + 101 * i. */
  seed?: number;
}

/** TF.js's form: `sequential({ layers: [...], name })`. */
export interface SequentialConfig extends SequentialOpts {
  layers?: readonly Layer[];
}

/**
 * A plain stack of single-input layers. It may start empty (`sequential()`, as in Keras
 * and TF.js) and is built by the first `add` of a layer that declares its `inputShape`.
 */
export class Sequential extends Model {
  static readonly className = 'Sequential';
  static readonly namePrefix = 'sequential';
  /** dtype and seed of a model still empty (applied when the first layer comes). */
  private pending: { dtype: DType; seed?: number } = { dtype: 'float32' };

  /** Append a layer (applied to the current output). The first layer of an empty model needs an `inputShape`. */
  add(layer: Layer): this {
    if (!(layer instanceof Layer)) {
      throw new TypeError(`${this.label}.add: expected a layer (e.g. layers.dense({ units: 10 })), received ${layer === null ? 'null' : typeof layer}`);
    }
    const index = this.graph ? this.layers.length : 0;
    if (this.pending.seed !== undefined && !layer.seedGiven && !layer.built) layer.setSeed(this.pending.seed + 101 * index);
    if (!this.graph) {
      const shape = layer.declaredInputShape;
      if (!shape) {
        throw new RangeError(
          `${this.label}.add: the first layer ('${layer.name}') needs an inputShape, e.g. layers.conv2d({ filters: 8, kernelSize: 3, inputShape: [28, 28, 1] }) ` +
            '(one example, no batch axis), or create the model with sequential([], { inputShape })',
        );
      }
      const x = input(shape, { dtype: this.pending.dtype });
      this.setGraph(new Graph([x], [layer.apply(x)], `model '${this.name}'`));
      return this;
    }
    const y = layer.apply(this.outputs[0]);
    this.setGraph(new Graph(this.inputs, [y], `model '${this.name}'`));
    return this;
  }

  protected requireGraph(): Graph {
    if (!this.graph) throw new Error(`${this.label}: the model has no layers yet; add() a first layer with an inputShape`);
    return this.graph;
  }

  /** An empty model that `add` builds (what `sequential()` without layers or input shape returns). */
  static empty(opts: SequentialOpts = {}): Sequential {
    const m = new Sequential({ name: opts.name } as ModelArgs);
    m.pending = { dtype: opts.dtype ?? 'float32', seed: opts.seed };
    return m;
  }

  /** The model of `layerList` applied in turn to an input of `shape` (what `sequential` builds). */
  static stack(layerList: readonly Layer[], shape: readonly number[], opts: SequentialOpts = {}): Sequential {
    if (opts.seed !== undefined) {
      layerList.forEach((l, i) => {
        if (!l.seedGiven && !l.built) l.setSeed(opts.seed! + 101 * i);
      });
    }
    const x = input(shape, { dtype: opts.dtype ?? 'float32' });
    let y = x;
    for (const l of layerList) y = l.apply(y);
    const m = new Sequential({ inputs: x, outputs: y, name: opts.name });
    m.pending = { dtype: opts.dtype ?? 'float32', seed: opts.seed };
    return m;
  }

  getConfig(): LayerConfig {
    return {
      name: this.name,
      trainable: this.trainable,
      inputShape: this.inputShape,
      dtype: this.inputs[0].dtype,
      layers: this.layers.map(serializeLayer),
    };
  }

  static fromConfig(config: LayerConfig): Sequential {
    const c = config as { name?: string; trainable?: boolean; inputShape: number[]; dtype?: DType; layers: { className: string; config: LayerConfig }[] };
    if (!Array.isArray(c.layers) || !Array.isArray(c.inputShape)) throw new TypeError('Sequential.fromConfig: the config needs inputShape and layers');
    const m = sequential(c.layers.map(deserializeLayer), { inputShape: c.inputShape, name: c.name, dtype: c.dtype });
    if (c.trainable === false) m.trainable = false;
    return m;
  }
}

/**
 * A stack of layers: `sequential([layers.conv2d({...}), ...], { inputShape: [28, 28, 1] })`,
 * TF.js's `sequential({ layers: [...] })`, or `sequential()` then `add(layer)` (Keras).
 * The input shape comes from `inputShape` or from the first layer's `inputShape`.
 */
export function sequential(layerList: readonly Layer[] | SequentialConfig = [], opts: SequentialOpts = {}): Sequential {
  if (layerList && !Array.isArray(layerList) && typeof layerList === 'object' && !(layerList instanceof Layer)) {
    checkOptionKeys('sequential', layerList, ['layers', ...SEQUENTIAL_OPT_KEYS]);
    const { layers: ls, ...rest } = layerList as SequentialConfig;
    return sequential(ls ?? [], { ...rest, ...opts });
  }
  checkOptionKeys('sequential', opts, SEQUENTIAL_OPT_KEYS);
  if (!Array.isArray(layerList)) throw new TypeError(`sequential: expected an array of layers or { layers, inputShape?, name? }, received ${layerList instanceof Layer ? 'a single layer (wrap it in an array)' : typeof layerList}`);
  layerList.forEach((l, i) => {
    if (!(l instanceof Layer)) throw new TypeError(`sequential: element ${i} is not a layer`);
  });
  const shape = opts.inputShape ?? layerList[0]?.declaredInputShape;
  if (!shape) {
    if (layerList.length === 0) return Sequential.empty(opts);
    throw new RangeError(
      `sequential: the input shape is required: give the first layer ('${layerList[0].name}') an inputShape, or sequential(layers, { inputShape: [28, 28, 1] }) (one example, no batch axis)`,
    );
  }
  return Sequential.stack(layerList, shape, opts);
}

/** Functional API: `model({ inputs, outputs, name })` over symbolic tensors from `input()` and `layer.apply()`. */
export function model(args: ModelArgs): Model {
  return new Model(args);
}


// Model and Sequential load by class name (deserializeLayer), as nested layers and from model.json
registerLayerClass(Model);
registerLayerClass(Sequential);

export { input, SymbolicTensor };
