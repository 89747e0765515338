/**
 * The ONNX graph interpreter: `OnnxGraphModel` runs an ONNX graph node by node on whole
 * tensors (./graph_ops.ts and ./graph_ops_more.ts: one evaluator per operator), in the
 * file's own layout. It is what `loadOnnx` returns when a graph does not map onto convkit
 * layers (mode 'auto') or when asked for (mode 'graph'): weights given as graph inputs,
 * MatMul of two computed tensors, ops over the batch axis, integer and bool inputs, scalar
 * inputs, dynamic shapes and extra outputs all work, because every value is known when the
 * node runs.
 *
 * Inputs and outputs have the file's declared shapes, batch axis included (symbolic dims
 * accept any size; there is no batch slicing). With `channelsLast` (the default) every
 * input and output of rank >= 3 is taken and given channels-last (NCHW -> NHWC, NCL -> NLC,
 * NCDHW -> NDHWC), as the layer import does; a file convkit exported with
 * metadata convkit.inputLayout 'NHWC' is taken as it is.
 *
 * Float values go through convkit ops, so `apply`/`applyAll` record gradients with respect
 * to the float inputs and to the weights: the initializers that hold layer parameters (see
 * PARAM_INPUTS) are trainable `Weight`s, so `compile` + `fit` fine-tune; the other
 * initializers are constants. The model cannot be saved in the convkit format: `toOnnx()`
 * writes the graph back with the weights' current values.
 */
import { attr, type OnnxModel, type OnnxNode, type OnnxValueInfo, encodeOnnxModel, onnxDtypeName, ONNX_DTYPE } from './proto.js';
import { nodeLabel } from './graph_ops.js';
import { OnnxImportError, inputsOf } from './import.js';
import { GRAPH_OPS, HOST_OPS } from './graph_ops.js';
import { type GCtx, type GVal, fromOnnxTensor, isFloatDt, mk, nums } from './graph_values.js';
import { isGradEnabled, noGrad } from '../../autograd/reverse_mode.js';
import type { CallOpts, Weight } from '../../layers/layer.js';
import type { DType } from '../../tensor/dtype.js';
import { cast } from '../../ops/elementwise.js';
import { concat, reshape, transpose } from '../../ops/shape.js';
import { tensor as tensorOf, zeros } from '../../ops/creation.js';
import { keep, tidy } from '../../registry/storage.js';
import { withBackend } from '../../registry/backends.js';
import { Tensor } from '../../tensor/tensor.js';
import type { DataId } from '../../tensor/backend.js';
import type { Graph } from '../../layers/graph.js';
import { Model, type PredictOpts } from '../model.js';
import type { ModelSummary } from '../summary.js';
import type { IOHandler, SaveOptions, SaveResult } from '../io.js';

const clPerm = (r: number): number[] => (r < 3 ? Array.from({ length: r }, (_, i) => i) : [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1]);
const inverse = (p: readonly number[]): number[] => { const q = new Array<number>(p.length); p.forEach((a, i) => { q[a] = i; }); return q; };

export interface GraphInputSpec { name: string; elemType: number; shape: (number | string | null)[] | null }

export class OnnxGraphModel extends Model {
  static readonly className: string = 'OnnxGraphModel';
  static readonly namePrefix: string = 'onnx_graph';
  protected static readonly graphless: boolean = true;

  /** The file's graph inputs (initializers excluded) and outputs, as declared. */
  readonly graphInputs: GraphInputSpec[];
  readonly graphOutputs: GraphInputSpec[];
  readonly opset: number;
  /** True when rank >= 3 inputs and outputs are channels-last at the boundary. */
  readonly channelsLast: boolean;
  private readonly onnx: OnnxModel;
  private readonly order: OnnxNode[];
  private readonly consts = new Map<string, GVal>();
  /** Float initializers that are layer parameters (see parameterNames): trainable weights. */
  private readonly params: GraphWeight[] = [];
  private readonly file: string;
  /**
   * Tensors derived from a weight or a constant for inference (a Conv filter in convkit's
   * layout), by node output and tag: reused while their source keeps its storage (an
   * optimiser's update gives a weight a new one), freed by `dispose`.
   */
  private readonly derived = new Map<string, { src: Tensor; dataId: DataId; t: Tensor }>();
  /** The weight and constant tensors of the run in progress (what `derive` may cache from). */
  private persistent = new Set<Tensor>();
  /** The traced shapes of every value (traceShapes), once computed; null: not traceable. */
  private shapeTrace?: Map<string, number[]> | null;

  constructor(m: OnnxModel, order: OnnxNode[], opts: { file: string; opset: number; channelsLast: boolean; name?: string }) {
    super({ name: opts.name } as never);
    this.onnx = m;
    this.file = opts.file;
    this.opset = opts.opset;
    const g = m.graph;
    const inits = new Set(g.initializers.map((t) => t.name));
    const spec = (v: OnnxValueInfo): GraphInputSpec => ({ name: v.name, elemType: v.elemType, shape: v.shape ? [...v.shape] : null });
    this.graphInputs = g.inputs.filter((v) => !inits.has(v.name)).map(spec);
    this.graphOutputs = g.outputs.map(spec);
    this.channelsLast = opts.channelsLast && m.metadata['convkit.inputLayout'] !== 'NHWC';
    // Only the nodes the outputs depend on run.
    const needed = new Set(g.outputs.map((o) => o.name));
    const kept: OnnxNode[] = [];
    for (let i = order.length - 1; i >= 0; i--) {
      const n = order[i];
      if (!n.outputs.some((o) => needed.has(o))) continue;
      kept.unshift(n);
      for (const x of inputsOf(n)) if (x) needed.add(x);
    }
    this.order = kept;
    const params = parameterNames(kept);
    for (const t of g.initializers) {
      if (!needed.has(t.name)) continue;
      const v = fromOnnxTensor(t);
      if (params.has(t.name) && isFloatDt(t.dataType)) this.params.push(new GraphWeight(this, t.name, keep(v.t), t.dataType));
      else this.consts.set(t.name, keepVal(v));
    }
    this.built = true;
  }

  /** Run the graph on tensors with the declared shapes (channels-last at rank >= 3 when `channelsLast`). */
  private runOnnx(xs: Tensor[]): Tensor[] {
    const values = this.startRun();
    this.graphInputs.forEach((spec, i) => values.set(spec.name, this.takeInput(spec, xs[i], i)));
    this.runNodes(this.order, values);
    return this.outputsOf(values, false);
  }

  /** The values a run starts from, the constants and the weights, which `persistent` marks. */
  private startRun(): Map<string, GVal> {
    const values = new Map<string, GVal>(this.consts);
    for (const w of this.params) values.set(w.name, { t: w.value, dt: w.onnxType });
    this.persistent = new Set([...values.values()].map((v) => v.t));
    return values;
  }

  /** The graph's outputs (channels-last at rank >= 3 when `channelsLast`); `fresh`: new tensors even where no transpose is needed. */
  private outputsOf(values: Map<string, GVal>, fresh: boolean): Tensor[] {
    return this.graphOutputs.map((o) => {
      const v = values.get(o.name)!;
      if (v.seq) failWith(this.file, [`graph output '${o.name}' is a sequence of ${v.seq.length} tensors, which convkit does not return (a model's outputs are tensors)`]);
      return this.channelsLast && v.t.rank >= 3 ? transpose(v.t, clPerm(v.t.rank)) : fresh ? reshape(v.t, v.t.shape) : v.t;
    });
  }

  private runNodes(nodes: readonly OnnxNode[], values: Map<string, GVal>): void {
    for (const node of nodes) {
      const ctx: GCtx = {
        node, opset: this.opset,
        fail: (msg: string): never => failWith(this.file, [`${nodeLabel(node)}: ${msg}`]),
        derive: (tag, src, make) => this.derive(`${node.outputs[0]}\u0000${tag}`, src, make),
      };
      const ins = node.inputs.map((nm) => (nm ? values.get(nm) : undefined));
      let outs: (GVal | undefined)[];
      try {
        const present = ins.filter((v): v is GVal => !!v);
        // A node of integer inputs only (shape arithmetic) runs on 'ts', so that its results stay readable.
        const onHost = node.opType !== 'If' && node.opType !== 'Loop' && present.length > 0 && present.every((v) => !isFloatDt(v.dt) && (v.host !== undefined || v.t.backend.readSync(v.t.dataId, v.t.dtype) !== null));
        outs = node.opType === 'If' ? this.runIf(ctx, ins, values) : node.opType === 'Loop' ? this.runLoop(ctx, ins, values) : onHost ? withBackend('ts', () => GRAPH_OPS[node.opType].run(ctx, ins)) : GRAPH_OPS[node.opType].run(ctx, ins);
      } catch (e) {
        if (e instanceof Error && !e.message.startsWith('loadOnnx:') && !e.message.startsWith(this.label)) e.message = `${this.label}: ${nodeLabel(node)}: ${e.message}`;
        if (e instanceof Error && HOST_OPS.has(node.opType) && /reads asynchronously/.test(e.message)) {
          e.message += `. ${node.opType} runs on the host, reading its inputs, and this backend cannot hand back what it computed synchronously: use await model.predictAsync(x), or run this model on the wasm or ts backend`;
        }
        throw e;
      }
      node.outputs.forEach((o, i) => {
        if (!o) return;
        if (!outs[i]) failWith(this.file, [`${nodeLabel(node)}: output ${i} ('${o}') is not computed by convkit's ${node.opType}`]);
        values.set(o, outs[i]!);
      });
    }
  }

  private derive(key: string, src: Tensor, make: () => Tensor): Tensor {
    if (isGradEnabled() || !this.persistent.has(src)) return make();
    const e = this.derived.get(key);
    if (e && e.src === src && e.dataId === src.dataId && !e.t.isDisposed) return e.t;
    if (e) e.t.dispose();
    const t = make();
    if (t === src) return t;
    this.derived.set(key, { src, dataId: src.dataId, t: keep(t) });
    return t;
  }

  /** Free the weights, the constants and what was derived from them: the model cannot run afterwards. */
  dispose(): void {
    super.dispose();
    for (const e of this.derived.values()) e.t.dispose();
    this.derived.clear();
    for (const w of this.params) if (!w.value.isDisposed) w.value.dispose();
    for (const v of this.consts.values()) if (!v.t.isDisposed) v.t.dispose();
  }

  /**
   * Loop (opsets 1 to 21): the body runs while the iteration count is below M (input 0; none:
   * unbounded) and cond (input 1, then the body's first output) holds, reading outer-scope
   * values; each run gets the iteration number, cond and the loop-carried values (inputs 2...),
   * and gives cond, the next carried values and scan values, which are stacked on a new first
   * axis. Outputs: the final carried values, then the stacked scan outputs.
   */
  private runLoop(ctx: GCtx, ins: (GVal | undefined)[], values: Map<string, GVal>): GVal[] {
    const body = attr(ctx.node, 'body')!.g!;
    const M = ins[0] ? nums(ins[0])[0] : Infinity;
    let cond = ins[1] ? nums(ins[1])[0] !== 0 : true;
    let carried = ins.slice(2).map((v, k) => v ?? ctx.fail(`loop-carried input ${k} is missing`));
    const nScan = body.outputs.length - 1 - carried.length;
    if (body.inputs.length !== 2 + carried.length || nScan < 0) ctx.fail(`the body takes ${body.inputs.length} inputs and gives ${body.outputs.length} outputs; with ${carried.length} loop-carried values it must take ${2 + carried.length} and give at least ${1 + carried.length}`);
    const scans: GVal[][] = Array.from({ length: nScan }, () => []);
    for (let i = 0; i < M && cond; i++) {
      if (i >= 1e6 && M === Infinity) ctx.fail('the loop ran a million times with no trip count: stopped');
      const local = new Map(values);
      for (const t of body.initializers) local.set(t.name, fromOnnxTensor(t));
      local.set(body.inputs[0].name, mk([i], [], ONNX_DTYPE.INT64));
      local.set(body.inputs[1].name, mk([cond ? 1 : 0], [], ONNX_DTYPE.BOOL));
      carried.forEach((v, k) => local.set(body.inputs[2 + k].name, v));
      this.runNodes(body.nodes, local);
      const outs = body.outputs.map((o) => local.get(o.name) ?? ctx.fail(`the body's output '${o.name}' is not computed`));
      cond = nums(outs[0])[0] !== 0;
      carried = outs.slice(1, 1 + carried.length);
      outs.slice(1 + carried.length).forEach((v, k) => scans[k].push(v));
    }
    const stacked = scans.map((list, k): GVal => {
      if (!list.length) return mk([], [0], body.outputs[1 + carried.length + k].elemType || ONNX_DTYPE.FLOAT);
      const parts = list.map((v) => reshape(v.t, [1, ...v.t.shape]));
      return { t: parts.length === 1 ? parts[0] : concat(parts, 0), dt: list[0].dt };
    });
    return [...carried, ...stacked];
  }

  /** If: cond (one value) picks then_branch or else_branch, whose nodes run here, reading outer-scope values. */
  private runIf(ctx: GCtx, ins: (GVal | undefined)[], values: Map<string, GVal>): GVal[] {
    const c = ins[0];
    if (!c || c.t.size !== 1) ctx.fail(`the condition must hold one value, received ${c ? `shape [${c.t.shape.join(', ')}]` : 'nothing'}`);
    const g = attr(ctx.node, nums(c!)[0] ? 'then_branch' : 'else_branch')!.g!;
    for (const t of g.initializers) values.set(t.name, fromOnnxTensor(t));
    this.runNodes(g.nodes, values);
    return g.outputs.map((o) => values.get(o.name)!);
  }

  private takeInput(spec: GraphInputSpec, x: Tensor, i: number): GVal {
    const what = `${this.label}: input ${i} ('${spec.name}')`;
    if (!(x instanceof Tensor)) throw new TypeError(`${what}: expected a Tensor, received ${x === null ? 'null' : typeof x}`);
    let t = x;
    if (spec.shape) {
      const r = spec.shape.length;
      if (t.rank !== r) throw new RangeError(`${what}: expected rank ${r} (declared shape ${this.fmtDeclared(spec)}), received shape [${t.shape.join(', ')}]`);
    }
    if (this.channelsLast && t.rank >= 3) t = transpose(t, inverse(clPerm(t.rank)));
    if (spec.shape) {
      const bad = spec.shape.findIndex((d, k) => typeof d === 'number' && d > 0 && d !== t.shape[k]);
      if (bad >= 0) throw new RangeError(`${what}: expected shape ${this.fmtDeclared(spec)}, received [${x.shape.join(', ')}]`);
    }
    const dt = spec.elemType || ONNX_DTYPE.FLOAT;
    if (isFloatDt(dt)) {
      const want = dt === ONNX_DTYPE.DOUBLE ? 'float64' : 'float32';
      return { t: t.dtype === want ? t : cast(t, want), dt };
    }
    if (t.dtype !== 'int32') {
      const v = nums({ t, dt });
      const k = v.findIndex((a) => !Number.isInteger(a));
      if (k >= 0) throw new TypeError(`${what}: the file declares ${onnxDtypeName(dt)}, but element ${k} is ${v[k]}; pass integers (an int32 tensor)`);
      if (v.every((a) => a >= -2147483648 && a <= 2147483647)) t = cast(t, 'int32');
      else if (t.dtype !== 'float64') t = cast(t, 'float64');
    }
    return { t, dt };
  }

  /** Declared shape as the caller passes it (channels-last at rank >= 3 when `channelsLast`). */
  private fmtDeclared(spec: GraphInputSpec): string {
    let s = spec.shape!.map((d) => (typeof d === 'number' && d > 0 ? String(d) : typeof d === 'string' && d ? d : '?'));
    if (this.channelsLast && s.length >= 3) s = clPerm(s.length).map((a) => s[a]);
    return `[${s.join(', ')}]`;
  }

  // ------------------------------------------------------------------ the Model API

  checkInput(shape: readonly (number | null)[]): void {
    this.checkInputs([shape]);
  }
  protected checkInputs(shapes: readonly (readonly (number | null)[])[]): void {
    if (shapes.length !== this.graphInputs.length) {
      throw new RangeError(`${this.label}: expected ${this.graphInputs.length} input tensor(s) (${this.graphInputs.map((s) => `'${s.name}'`).join(', ')}), received ${shapes.length}`);
    }
  }

  protected forward(x: Tensor | Tensor[], _opts: CallOpts): Tensor {
    const outs = this.runOnnx(Array.isArray(x) ? x : [x]);
    if (outs.length !== 1) throw new RangeError(`${this.label}: the model has ${outs.length} outputs; use applyAll() or predictAll()`);
    return outs[0];
  }

  /** Every output, recording the autograd graph (gradients flow to float inputs). */
  applyAll(x: Tensor | Tensor[], _opts: CallOpts = {}): Tensor[] {
    const xs = Array.isArray(x) ? x : [x];
    this.checkInputs(xs.map((t) => (t instanceof Tensor ? t.shape : [])));
    return this.runOnnx(xs);
  }

  /**
   * predictAll for a backend that reads back only asynchronously (webgpu), where the operators
   * computed on the host (GridSample, RoiAlign, the quantized and recurrent ones, ...: HOST_OPS)
   * cannot read what the device computed: before each of them, its device inputs are downloaded
   * (`await data()`) to 'ts'; everything else runs as in predictAll. On other backends it gives
   * what predictAll gives. (Host operators inside If or Loop bodies still need readable inputs.)
   */
  async predictAllAsync(x: Tensor | Tensor[]): Promise<Tensor[]> {
    const xs = Array.isArray(x) ? x : [x];
    this.checkInputs(xs.map((t) => (t instanceof Tensor ? t.shape : [])));
    const values = this.startRun();
    const persistent = this.persistent;
    const step = <T>(fn: () => T): T => noGrad(() => tidy(fn));
    const made = step(() => this.graphInputs.map((spec, i) => { const v = this.takeInput(spec, xs[i], i); values.set(spec.name, v); return v; }));
    const order = this.order;
    try {
      for (let i = 0; i < order.length;) {
        let j = i;
        while (j < order.length && !HOST_OPS.has(order[j].opType)) j++;
        if (j === i) {
          // A host operator: its inputs that live on a device, downloaded to 'ts' first.
          for (const name of order[i].inputs) {
            const v = name ? values.get(name) : undefined;
            if (!v || v.seq || v.t.backend.readSync(v.t.dataId, v.t.dtype) !== null) continue;
            const data = await v.t.data();
            const local: GVal = { t: withBackend('ts', () => tensorOf(data, v.t.shape, v.t.dtype)), dt: v.dt };
            values.set(name, local);
            made.push(local);
          }
          j = i + 1;
        }
        const seg = order.slice(i, j);
        made.push(...step(() => {
          this.runNodes(seg, values);
          return seg.flatMap((n) => n.outputs.filter((o) => o).map((o) => values.get(o)!));
        }));
        i = j;
      }
      return step(() => this.outputsOf(values, true));
    } finally {
      // Free what the run made (the outputs are fresh views or transposes, kept above; the caller's inputs stay).
      const seen = new Set<Tensor>(xs);
      const free = (v: GVal): void => {
        if (v.seq) v.seq.forEach(free);
        if (!persistent.has(v.t) && !seen.has(v.t)) { seen.add(v.t); if (!v.t.isDisposed) v.t.dispose(); }
      };
      made.forEach(free);
    }
  }

  /** predict (one output) for a backend that reads back only asynchronously: see predictAllAsync. */
  async predictAsync(x: Tensor | Tensor[]): Promise<Tensor> {
    const outs = await this.predictAllAsync(x);
    if (outs.length !== 1) throw new RangeError(`${this.label}: the model has ${outs.length} outputs; use predictAllAsync()`);
    return outs[0];
  }

  /** Inference on whole tensors (no batch slicing: `batchSize` is not used); no autograd graph, intermediates freed. */
  predictAll(x: Tensor | Tensor[], _opts: PredictOpts = {}): Tensor[] {
    return noGrad(() => {
      const outs = tidy(() => this.applyAll(x));
      return outs;
    });
  }

  /**
   * The layer parameters among the float initializers (Conv/ConvTranspose W and B, Gemm B and C,
   * MatMul operands, BatchNormalization / InstanceNormalization / LayerNormalization scale and
   * bias, PRelu slope), named by the file; trainable unless the model is frozen. Every other
   * initializer (running statistics, shapes, scales, epsilons) is a constant.
   */
  get weights(): Weight[] {
    return this.params;
  }
  get trainable(): boolean {
    return this._trainable;
  }
  set trainable(on: boolean) {
    this._trainable = on;
    for (const w of this.params ?? []) w.sync();
  }

  /** Freeze every weight (a graph-mode model has no layers to select). */
  freeze(which?: unknown): this {
    if (which !== undefined) throw new RangeError(`${this.label}: a graph-mode ONNX model has no layers to select; freeze() freezes every weight`);
    this.trainable = false;
    return this;
  }
  unfreeze(which?: unknown): this {
    if (which !== undefined) throw new RangeError(`${this.label}: a graph-mode ONNX model has no layers to select; unfreeze() unfreezes every weight`);
    this.trainable = true;
    return this;
  }

  /**
   * Shapes of one example at the boundary (channels-last where the model converts), from the
   * declared shapes of the graph's inputs and outputs; an output without a declared shape
   * is traced (see summaryJSON). A symbolic axis other than the batch is an error naming it:
   * the model takes any size there, so it has no one shape to report.
   */
  get inputShapes(): number[][] {
    return this.graphInputs.map((sp, i) => this.boundaryShape(sp, `input ${i} ('${sp.name}')`));
  }
  get outputShapes(): number[][] {
    return this.graphOutputs.map((sp, i) => this.boundaryShape(sp, `output ${i} ('${sp.name}')`));
  }
  get inputShape(): number[] {
    return this.inputShapes[0];
  }
  get outputShape(): number[] {
    return this.outputShapes[0];
  }

  private boundaryShape(sp: GraphInputSpec, what: string): number[] {
    let dims = sp.shape;
    if (!dims || dims.slice(1).some((d) => typeof d !== 'number')) {
      const traced = this.traceShapes()?.get(sp.name);
      if (!traced) throw new Error(`${this.label}: ${what} has shape ${sp.shape ? this.fmtDeclared(sp) : '(not declared)'}, with symbolic axes besides the batch: it has no fixed shape`);
      dims = traced;
    }
    return this.atBoundary(dims as number[]);
  }

  /** Float initializer values: 'all' counts every one, 'trainable' the weights (when not frozen). */
  countParams(which: 'all' | 'trainable' | 'nonTrainable' = 'all'): number {
    const all = this.onnx.graph.initializers.filter((t) => isFloatDt(t.dataType)).reduce((s, t) => s + t.data.length, 0);
    const tr = this.trainable ? this.params.reduce((s, w) => s + w.value.size, 0) : 0;
    return which === 'all' ? all : which === 'trainable' ? tr : all - tr;
  }

  /** Nodes, operator counts, inputs, outputs and initializer parameters, as text. */
  summaryText(): string {
    const g = this.onnx.graph;
    const ops = new Map<string, number>();
    for (const n of g.nodes) ops.set(n.opType, (ops.get(n.opType) ?? 0) + 1);
    const io = (s: GraphInputSpec) => `  ${s.name}: ${onnxDtypeName(s.elemType)} ${s.shape ? this.fmtDeclared(s) : '(shape not declared)'}`;
    const lines = [
      `Model: ${this.name} (OnnxGraphModel: the ONNX graph run node by node, opset ${this.opset}${this.onnx.producerName ? `, from ${this.onnx.producerName}` : ''})`,
      `Layout: ${this.channelsLast ? 'channels-last at the boundary (rank >= 3 inputs and outputs)' : "the file's own"}`,
      'Inputs:', ...this.graphInputs.map(io),
      'Outputs:', ...this.graphOutputs.map(io),
      `Nodes: ${g.nodes.length} (${[...ops].map(([k, v]) => `${k} x${v}`).join(', ')})`,
      `Initializer parameters: ${this.countParams().toLocaleString('en-US')} (trainable: ${this.countParams('trainable').toLocaleString('en-US')} in ${this.params.length} weights)`,
    ];
    return lines.join('\n');
  }
  summary(opts: { printFn?: (text: string) => void } = {}): void {
    (opts.printFn ?? console.log)(this.summaryText());
  }
  /**
   * One row per node that runs (type = its ONNX op type): its first output's shape for one
   * example in the file's layout (traced by running the graph once on zeros of the declared
   * input shapes, symbolic batch axes set to 1; [] when a declared axis other than the batch
   * is symbolic, so no trace is possible), the float weights it reads, and MACs for
   * Conv, ConvTranspose, Gemm and MatMul (0 for every other op, as in layer summaries).
   */
  summaryJSON(): ModelSummary {
    const shapes = this.traceShapes();
    const trainable = new Set(this.trainable ? this.params.map((w) => w.name) : []);
    const sizes = new Map(this.onnx.graph.initializers.filter((t) => isFloatDt(t.dataType)).map((t) => [t.name, t.data.length]));
    const produced = new Set(this.graphInputs.map((s) => s.name));
    const one = (sh: number[] | undefined) => (sh ? sh.slice(1) : []);
    const layers = this.order.map((n, i) => {
      const weights = n.inputs.filter((x) => x && sizes.has(x));
      const row = {
        name: n.name || `${n.opType}_${i}`,
        type: n.opType,
        outputShape: one(shapes?.get(n.outputs[0])),
        params: weights.reduce((a, w) => a + sizes.get(w)!, 0),
        trainableParams: weights.filter((w) => trainable.has(w)).reduce((a, w) => a + sizes.get(w)!, 0),
        macs: shapes ? nodeMacs(n, shapes) : 0,
        inputs: n.inputs.filter((x) => x && produced.has(x)),
        depth: 0,
      };
      n.outputs.forEach((o) => o && produced.add(o));
      return row;
    });
    const boundary = (specs: GraphInputSpec[]) => specs.map((sp) => {
      const sh = shapes?.get(sp.name);
      return sh ? this.atBoundary(sh) : (sp.shape ?? []).slice(1).map((d) => (typeof d === 'number' ? d : -1));
    });
    const ins = boundary(this.graphInputs), outs = boundary(this.graphOutputs);
    return {
      model: this.name,
      input: ins.length === 1 ? ins[0] : ins,
      output: outs.length === 1 ? outs[0] : outs,
      layers,
      totalParams: this.countParams('all'),
      trainableParams: this.countParams('trainable'),
      nonTrainableParams: this.countParams('nonTrainable'),
      macs: layers.reduce((a, l) => a + l.macs, 0),
    };
  }

  /** Every value's shape for one example of zeros (file layout), or null when an input's non-batch axis is symbolic. */
  private traceShapes(): Map<string, number[]> | null {
    // Shapes depend on the declared input shapes and the constant initializers, not on the
    // weights' values, so one trace serves the model's life.
    if (this.shapeTrace !== undefined) return this.shapeTrace;
    if (this.graphInputs.some((sp) => !sp.shape || sp.shape.slice(1).some((d) => typeof d !== 'number'))) return (this.shapeTrace = null);
    return (this.shapeTrace = noGrad(() => tidy(() => {
      const values = new Map<string, GVal>(this.consts);
      for (const w of this.params) values.set(w.name, { t: w.value, dt: w.onnxType });
      for (const sp of this.graphInputs) {
        const dims = sp.shape!.map((d, a) => (a === 0 || typeof d !== 'number' ? 1 : d));
        const dt = sp.elemType || ONNX_DTYPE.FLOAT;
        values.set(sp.name, { t: zeros(dims, isFloatDt(dt) ? 'float32' : 'int32'), dt });
      }
      this.runNodes(this.order, values);
      return new Map([...values].map(([k, v]) => [k, [...v.t.shape]]));
    })));
  }

  /** A traced or declared shape (batch axis first, the file's layout) as one example at the boundary. */
  private atBoundary(d: readonly number[]): number[] {
    const cl = this.channelsLast && d.length >= 3 ? clPerm(d.length).map((a) => d[a]) : d;
    return cl.slice(1);
  }

  /** The ONNX graph as bytes of a .onnx file, with the weights' current values. */
  toOnnx(): Uint8Array {
    const current = new Map(this.params.map((w) => [w.name, w]));
    const initializers = this.onnx.graph.initializers.map((t) => {
      const w = current.get(t.name);
      if (!w) return t;
      const v = w.value.dataSync();
      return { ...t, data: t.dataType === ONNX_DTYPE.DOUBLE ? Float64Array.from(v) : Float32Array.from(v) };
    });
    return encodeOnnxModel({ ...this.onnx, graph: { ...this.onnx.graph, initializers } });
  }

  save(_target: string | IOHandler, _options: SaveOptions = {}): Promise<SaveResult> {
    return Promise.reject(new Error(
      `${this.label}: a graph-mode ONNX model cannot be saved in the convkit format (it has no convkit layers); ` +
        'write model.toOnnx() to a .onnx file instead, or load the file with loadOnnx(bytes, { mode: "layers" }) if its graph maps onto layers',
    ));
  }

  protected requireGraph(): Graph {
    throw new Error(
      `${this.label}: this model runs the ONNX graph directly (graph mode) and has no convkit layer graph; ` +
        'layers, symbolic inputs, getConfig, surgery and layer outputs are not available (use predict/apply, summaryText, toOnnx)',
    );
  }
}

/** Multiply-accumulates of one node for one example (batch 1 traced shapes), 0 for ops without weights' arithmetic. */
function nodeMacs(n: OnnxNode, shapes: Map<string, number[]>): number {
  const sh = (i: number) => shapes.get(n.inputs[i] ?? '') ?? [];
  const out = shapes.get(n.outputs[0]) ?? [];
  const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);
  if (n.opType === 'Conv') return prod(out) * prod(sh(1).slice(1)); // out elements x (C/groups kH kW)
  if (n.opType === 'ConvTranspose') return prod(sh(0)) * prod(sh(1).slice(1)); // in elements x (F/groups kH kW)
  if (n.opType === 'Gemm') {
    const a = sh(0), transA = attr(n, 'transA')?.i ?? 0;
    return prod(out) * (a.length === 2 ? a[transA ? 0 : 1] : 0);
  }
  if (n.opType === 'MatMul') {
    const a = sh(0);
    return prod(out) * (a.length ? a[a.length - 1] : 0);
  }
  return 0;
}

/** Initializers that are layer parameters: the inputs that hold weights in the ops that have them. */
const PARAM_INPUTS: Record<string, number[]> = {
  Conv: [1, 2], ConvTranspose: [1, 2], Gemm: [0, 1, 2], MatMul: [0, 1], BatchNormalization: [1, 2],
  InstanceNormalization: [1, 2], LayerNormalization: [1, 2], PRelu: [1],
};
function parameterNames(nodes: readonly OnnxNode[]): Set<string> {
  const out = new Set<string>();
  for (const n of nodes) for (const i of PARAM_INPUTS[n.opType] ?? []) if (n.inputs[i]) out.add(n.inputs[i]);
  return out;
}

/** A float initializer held as a trainable weight (the optimiser assigns it in place). */
class GraphWeight implements Weight {
  constructor(private readonly model: OnnxGraphModel, readonly name: string, private t: Tensor, readonly onnxType: number) {
    this.sync();
  }
  get value(): Tensor {
    return this.t;
  }
  set value(v: Tensor) {
    if (!(v instanceof Tensor) || v.shape.length !== this.t.shape.length || v.shape.some((d, i) => d !== this.t.shape[i])) {
      throw new RangeError(`${this.model.label}: weight '${this.name}' has shape [${this.t.shape.join(', ')}]; received ${v instanceof Tensor ? `[${v.shape.join(', ')}]` : typeof v}`);
    }
    const old = this.t;
    this.t = keep(v.dtype === old.dtype ? v : cast(v, old.dtype));
    if (old !== this.t) old.dispose();
    this.sync();
  }
  get trainable(): boolean {
    return this.model.trainable;
  }
  get shape(): readonly number[] {
    return this.t.shape;
  }
  get dtype(): DType {
    return this.t.dtype;
  }
  sync(): void {
    this.t.requiresGrad = this.trainable;
  }
}

function keepVal(v: GVal): GVal {
  return { ...v, t: keep(v.t) };
}

function failWith(file: string, problems: string[]): never {
  throw new OnnxImportError(file, problems);
}
