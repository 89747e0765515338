/**
 * ONNX import: `loadOnnx(bytes)` turns an ONNX ModelProto (opset 1 to 28; below 7 only operators
 * unchanged since) into an ordinary functional convkit Model: `input()` symbolic tensors,
 * convkit layers applied to them and the file's weights set on those layers. It predicts,
 * summarises, freezes, fine-tunes and saves like any model.
 *
 * Layout rule. ONNX models (PyTorch's) are channels-first: activations NCL / NCHW / NCDHW,
 * filters OIHW. convkit is channels-last. By default every graph input and output of rank
 * 3 or more is channels-last (NCHW -> NHWC, NCL -> NLC, NCDHW -> NDHWC), filters become HWIO
 * and a Dense layer after a flatten gets its weight rows permuted so that results equal
 * the original model's. Internally every ONNX value is held as a convkit tensor plus a
 * permutation `perm` (held axis k is the file's logical axis perm[k]); ops map their axes
 * through it and data is only moved (a Permute layer) where an op needs another order.
 * `{ channelsLast: false }` keeps the file's layout for inputs and outputs. A file convkit
 * exported records its input layout in metadata_props (`convkit.inputLayout`); an input
 * declared 'NHWC' is taken as it is (its leading Transpose to NCHW becomes a change of
 * `perm`, no data moves), and its outputs keep the file's layout, so export-then-import is
 * the identity.
 *
 * Constant-only subgraphs are folded at import; Shape -> Gather -> Unsqueeze -> Concat ->
 * Reshape chains that carry the (symbolic) batch size are kept symbolic, so a model
 * exported with a dynamic batch axis runs at any batch size.
 *
 * Modes: 'layers' is this mapping only; 'graph' is the graph interpreter (./graph_model.ts, an
 * OnnxGraphModel running the ONNX graph node by node); 'auto' (the default) is this mapping when
 * it succeeds, else the interpreter. Anything neither supports is one OnnxImportError that lists
 * every offending node.
 */
import { attr, attrFloat, decodeOnnxModel, onnxDtypeName, ONNX_DTYPE, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor } from './proto.js';
import { ProtobufError } from './protobuf.js';
import { FUSED_HANDLERS, HANDLERS, type Ctx, type Val, type Sym, type ConstVal } from './import_ops.js';
import { input, type SymbolicTensor } from '../../layers/symbolic.js';
import type { Layer } from '../../layers/layer.js';
import { Permute } from '../../layers/extra.js';
import { Model, model } from '../model.js';
import { GraphBuilder, sanitize } from '../graph_build.js';
import { GRAPH_OPS, graphProblems, legacyProblem, sinceProblem } from './graph_ops.js';
// A cycle (graph_model.ts imports this module's helpers; OnnxGraphModel extends Model): safe,
// because neither module uses the other's bindings at the top level, only inside functions.
import { OnnxGraphModel } from './graph_model.js';

export { sanitize };

export const MIN_OPSET = 1;
/** Below this opset only operators whose semantics have not changed since are accepted (see graph_ops.ts legacyProblem). */
export const MODERN_OPSET = 7;
/**
 * The newest opset read: ONNX 1.23's operator changelog was checked op by op for the operators
 * convkit implements. From opset 18 to 28 their new versions add element types (float8, int4,
 * bfloat16, ...: refused by type, as before) or clarify wording, except the changes implemented
 * here: Reduce* axes as an input and bool ReduceMax/Min (18, 20), Pad's axes input (18) and wrap
 * mode (19), and optional attributes refused by name when set to what convkit does not implement.
 */
export const MAX_OPSET = 28;

/** Why an ONNX file cannot be imported: names the file and every problem (node, op type, what was expected). */
export class OnnxImportError extends Error {
  readonly file: string;
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(problems.length === 1 ? `loadOnnx: ${file}: ${problems[0]}` : `loadOnnx: ${file}: ${problems.length} problems:\n  - ${problems.join('\n  - ')}`);
    this.name = 'OnnxImportError';
    this.file = file;
    this.problems = problems;
  }
}

/** How `loadOnnx` maps the graph: see `OnnxImportOptions.mode`. */
export type OnnxImportMode = 'auto' | 'layers' | 'graph';
const MODES: readonly OnnxImportMode[] = ['auto', 'layers', 'graph'];

export interface OnnxImportOptions {
  /** Inputs and outputs of rank >= 3 channels-last (default true); false keeps the file's layout. */
  channelsLast?: boolean;
  /** How errors name the file (default 'ONNX model'); also the model's name when it is a valid one. */
  name?: string;
  /**
   * 'layers': convkit layers only (batch axis 0, trainable, saveable); 'graph': always the
   * graph interpreter (an `OnnxGraphModel`); 'auto' (default): the layers when the graph maps
   * onto them, else the interpreter when it runs every node, else one OnnxImportError listing
   * every node it cannot run.
   */
  mode?: OnnxImportMode;
}

export { isOnnx } from './detect.js';

export const clPerm = (r: number): number[] => (r < 3 ? identity(r) : [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1]);
export const identity = (r: number): number[] => Array.from({ length: r }, (_, i) => i);

/** Import an ONNX model (bytes of a .onnx file). Throws OnnxImportError; nothing is half-loaded. */
export function loadOnnx(bytes: Uint8Array | ArrayBuffer, options: OnnxImportOptions = {}): Model {
  if (options === null || typeof options !== 'object') throw new TypeError(`loadOnnx: options must be an object, received ${JSON.stringify(options)}`);
  for (const k of Object.keys(options)) {
    if (k !== 'channelsLast' && k !== 'name' && k !== 'mode') throw new RangeError(`loadOnnx: unknown option '${k}' (known: channelsLast, name, mode)`);
  }
  const mode = options.mode ?? 'auto';
  if (!MODES.includes(mode)) throw new RangeError(`loadOnnx: mode must be one of ${MODES.map((x) => `'${x}'`).join(', ')}, received ${JSON.stringify(options.mode)}`);
  if (options.channelsLast !== undefined && typeof options.channelsLast !== 'boolean') {
    throw new TypeError(`loadOnnx: channelsLast must be true or false, received ${JSON.stringify(options.channelsLast)}`);
  }
  const file = options.name ?? 'ONNX model';
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
    throw new TypeError(`loadOnnx: ${file}: expected a Uint8Array or an ArrayBuffer, received ${bytes === null ? 'null' : typeof bytes}`);
  }
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let m: OnnxModel;
  try {
    m = decodeOnnxModel(b);
  } catch (e) {
    if (e instanceof ProtobufError || e instanceof RangeError || e instanceof TypeError) {
      throw new OnnxImportError(file, [`not a readable ONNX model (truncated or corrupt?): ${(e as Error).message}`]);
    }
    throw e;
  }
  const channelsLast = options.channelsLast ?? true;
  if (mode === 'layers') return importModel(m, file, channelsLast, options.name);
  if (mode === 'graph') return importGraph(m, file, channelsLast, options.name);
  try {
    return importModel(m, file, channelsLast, options.name);
  } catch (e) {
    if (!(e instanceof OnnxImportError)) throw e;
    // The layer mapping failed: the interpreter, or one error naming every node it cannot run.
    return importGraph(decodeOnnxModel(b), file, channelsLast, options.name);
  }
}

function opsetOf(m: OnnxModel, file: string): number {
  const opsetEntry = m.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (!opsetEntry) throw new OnnxImportError(file, [`no opset_import for the default ONNX domain (expected opset ${MIN_OPSET} to ${MAX_OPSET})`]);
  const opset = opsetEntry.version;
  if (opset < MIN_OPSET || opset > MAX_OPSET) throw new OnnxImportError(file, [`opset ${opset} is not supported (expected opset ${MIN_OPSET} to ${MAX_OPSET}; re-export with e.g. torch.onnx.export(..., opset_version=13))`]);
  return opset;
}

/** The graph interpreter's model (mode 'graph', or 'auto' when the layer mapping fails). */
function importGraph(m: OnnxModel, file: string, channelsLast: boolean, name?: string): OnnxGraphModel {
  const g = m.graph;
  g.nodes.forEach((n, i) => {
    if (!n.name) n.name = n.outputs.find((o) => o) ? `${n.opType}->${n.outputs.find((o) => o)}` : `${n.opType}#${i}`;
  });
  const opset = opsetOf(m, file);
  const problems = graphProblems(m, opset);
  if (problems.length) throw new OnnxImportError(file, problems);
  const known = new Set([...g.initializers.map((t) => t.name), ...g.inputs.map((v) => v.name)]);
  const order = topoOrder(m, file, known);
  const modelName = name !== undefined ? sanitize(name.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '')) : sanitize(g.name);
  return new OnnxGraphModel(m, order, { file, opset, channelsLast, ...(modelName ? { name: modelName } : {}) });
}

/** Outer-scope names a subgraph reads (not made inside it), recursively. */
function outerRefs(g: OnnxGraph): string[] {
  const made = new Set<string>([...g.initializers.map((t) => t.name), ...g.inputs.map((v) => v.name)]);
  const refs: string[] = [];
  for (const n of g.nodes) {
    for (const i of inputsOf(n)) if (i && !made.has(i) && !refs.includes(i)) refs.push(i);
    for (const o of n.outputs) if (o) made.add(o);
  }
  for (const o of g.outputs) if (!made.has(o.name) && !refs.includes(o.name)) refs.push(o.name);
  return refs;
}

/** A node's inputs, plus the outer-scope names its subgraphs (If branches) read. */
const implicitCache = new WeakMap<OnnxNode, string[]>();
export function inputsOf(n: OnnxNode): string[] {
  if (!n.attributes.some((a) => a.g || a.graphs)) return n.inputs;
  let all = implicitCache.get(n);
  if (!all) {
    all = [...n.inputs];
    for (const a of n.attributes) for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) for (const r of outerRefs(g)) if (!all.includes(r)) all.push(r);
    implicitCache.set(n, all);
  }
  return all;
}

/** Attributes the graph interpreter implements and the layer mapping does not (opset 18's Resize options). */
const GRAPH_ONLY_ATTRS: Record<string, readonly string[]> = {
  Resize: ['antialias', 'axes', 'keep_aspect_ratio_policy'],
};

/** Problems of nodes that convkit cannot compute (If branches checked when one is taken). */
function checkNodes(nodes: readonly OnnxNode[], opset: number, problems: string[]): void {
  for (const n of nodes) {
    const label = `node '${n.name}' (${n.opType})`;
    if (n.domain !== '' && n.domain !== 'ai.onnx') {
      problems.push(`${label}: operator domain '${n.domain}' is not supported (only the default ONNX domain is)`);
      continue;
    }
    if (n.opType === 'If') {
      for (const a of n.attributes) if (a.name !== 'then_branch' && a.name !== 'else_branch') problems.push(`${label}: attribute '${a.name}' is not supported`);
      if (!attr(n, 'then_branch')?.g || !attr(n, 'else_branch')?.g) problems.push(`${label}: then_branch and else_branch graphs are required`);
      continue;
    }
    const old = opset < MODERN_OPSET ? legacyProblem(n, opset, true) : null;
    if (old) {
      problems.push(`${label}: ${old}`);
      continue;
    }
    const h = HANDLERS[n.opType];
    if (!h) {
      problems.push(`${label}: operator ${n.opType} is not supported`);
      continue;
    }
    const tooNew = sinceProblem(n, opset);
    if (tooNew) problems.push(`${label}: ${tooNew}`);
    for (const a of n.attributes) if (a.hasGraph) problems.push(`${label}: subgraph attribute '${a.name}' is not supported`);
    // An attribute no evaluator reads (a newer opset's, say) must not be ignored: refused by name.
    const known = GRAPH_OPS[n.opType]?.attrs;
    for (const a of n.attributes) {
      if (a.hasGraph) continue;
      if (known && !known.includes(a.name)) problems.push(`${label}: attribute '${a.name}' is not supported`);
      else if (GRAPH_ONLY_ATTRS[n.opType]?.includes(a.name)) problems.push(`${label}: attribute '${a.name}' is read by the graph interpreter only; use mode graph or auto`);
    }
    const bad = h.check?.(n, opset);
    if (bad) problems.push(`${label}: ${bad}`);
  }
}

function topoOrder(m: OnnxModel, file: string, known: Set<string>): OnnxNode[] {
  const g = m.graph;
  const producer = new Map<string, number>();
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
  const problems: string[] = [];
  const deps = g.nodes.map((n) => {
    const d = new Set<number>();
    for (const name of inputsOf(n)) {
      if (!name) continue;
      if (producer.has(name)) d.add(producer.get(name)!);
      else if (!known.has(name)) problems.push(`node '${n.name}' (${n.opType}) reads '${name}', which no node, initializer or graph input produces (a dangling input)`);
    }
    return d;
  });
  for (const o of g.outputs) {
    if (!producer.has(o.name) && !known.has(o.name)) problems.push(`graph output '${o.name}' is produced by no node`);
  }
  if (problems.length) throw new OnnxImportError(file, problems);
  const order: number[] = [];
  const state = new Uint8Array(g.nodes.length); // 0 new, 1 on stack, 2 done
  for (let s = 0; s < g.nodes.length; s++) {
    if (state[s]) continue;
    const stack: [number, number[]][] = [[s, [...deps[s]]]];
    state[s] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const next = top[1].pop();
      if (next === undefined) {
        state[top[0]] = 2;
        order.push(top[0]);
        stack.pop();
      } else if (state[next] === 1) {
        const cyc = stack.slice(stack.findIndex((f) => f[0] === next)).map((f) => `'${g.nodes[f[0]].name}' (${g.nodes[f[0]].opType})`);
        throw new OnnxImportError(file, [`the graph has a cycle through nodes ${cyc.join(' -> ')}; an ONNX graph must be acyclic`]);
      } else if (state[next] === 0) {
        state[next] = 1;
        stack.push([next, [...deps[next]]]);
      }
    }
  }
  return order.map((i) => g.nodes[i]);
}

/**
 * PyTorch exports hard-swish below opset 14 (and convkit's exporter at opset 13) as two
 * nodes: h = HardSigmoid(x; alpha 1/6, beta 1/2), y = Mul(x, h). Where h feeds only that
 * Mul, the pair becomes one HardSwish node (named as the Mul, writing its output), so the
 * model gets one hardSwish activation layer, which inference fusion folds into the
 * convolution before it; as two layers, x had two readers and the convolution ran
 * unfused, followed by four elementwise passes.
 */
export function fuseHardSwish(order: readonly OnnxNode[], graphOutputs: ReadonlySet<string>): OnnxNode[] {
  const readers = new Map<string, number>();
  for (const n of order) for (const i of inputsOf(n)) if (i) readers.set(i, (readers.get(i) ?? 0) + 1);
  const swishOf = new Map<string, { x: string; node: OnnxNode }>(); // by the HardSigmoid's output
  const dropped = new Set<OnnxNode>();
  const out = order.map((n) => {
    if (n.opType === 'HardSigmoid' && n.domain === '' && n.inputs[0] && n.outputs.length === 1) {
      const alpha = attrFloat(n, 'alpha', 0.2), beta = attrFloat(n, 'beta', 0.5);
      const h = n.outputs[0];
      if (Math.abs(alpha - 1 / 6) < 1e-6 && beta === 0.5 && readers.get(h) === 1 && !graphOutputs.has(h)) swishOf.set(h, { x: n.inputs[0], node: n });
      return n;
    }
    if (n.opType === 'Mul' && n.domain === '' && n.inputs.length === 2) {
      const [a, b] = n.inputs;
      const hs = swishOf.get(a)?.x === b ? swishOf.get(a)! : swishOf.get(b)?.x === a ? swishOf.get(b)! : null;
      if (hs) {
        dropped.add(hs.node);
        return { name: n.name, opType: 'HardSwish', domain: '', inputs: [hs.x], outputs: n.outputs, attributes: [] };
      }
    }
    return n;
  });
  return out.filter((n) => !dropped.has(n));
}

/**
 * Two more activations that PyTorch exports as several nodes, each made one node that the
 * importer turns into one activation layer (so inference fusion can fold it into the
 * convolution before it, and one pass replaces several):
 *
 *   SiLU (swish):  s = Sigmoid(x), y = Mul(x, s)                                   -> Swish
 *   GELU (erf):    d = Div(x, sqrt 2) (or Mul(x, 1/sqrt 2)), e = Erf(d), p = Add(e, 1),
 *                  y = x * p * 0.5 in any order of the two Muls                    -> Gelu
 *
 * Each intermediate value must have that one reader and not be a graph output; the constants
 * are read from initializers or Constant nodes (within 1e-6 of the exact ones). The fused
 * nodes take the name and the output of the last node they replace; their op types
 * ('convkit.Swish', 'convkit.Gelu') are the importer's own (FUSED_HANDLERS), not ONNX's.
 */
export function fuseSwishAndGelu(order: readonly OnnxNode[], graphOutputs: ReadonlySet<string>, initializers: ReadonlyMap<string, Val>): OnnxNode[] {
  const readers = new Map<string, OnnxNode[]>();
  for (const n of order) for (const i of inputsOf(n)) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  const producers = new Map<string, OnnxNode>();
  for (const n of order) for (const o of n.outputs) if (o) producers.set(o, n);
  /** The one node that reads `v`, when exactly one does and `v` is not a graph output. */
  const sole = (v: string): OnnxNode | null => {
    const r = readers.get(v);
    return r && r.length === 1 && !graphOutputs.has(v) ? r[0] : null;
  };
  const scalar = (v: string): number | null => {
    const init = initializers.get(v);
    if (init) return init.kind === 'const' && init.data.length === 1 ? init.data[0] : null;
    const c = producers.get(v);
    if (!c || c.opType !== 'Constant' || c.attributes.length !== 1) return null;
    const a = c.attributes[0];
    if (a.t) return a.t.data.length === 1 ? Number(a.t.data[0]) : null;
    return a.name === 'value_float' ? (a.f ?? 0) : null;
  };
  const near = (v: string, want: number) => {
    const c = scalar(v);
    return c !== null && Math.abs(c - want) <= 1e-6 * Math.max(1, Math.abs(want));
  };
  const plain = (n: OnnxNode | null, op: string, arity: number): boolean => !!n && n.opType === op && n.domain === '' && n.inputs.length === arity && n.outputs.length === 1 && n.inputs.every((i) => i);
  /** The input of binary node `n` other than the one at `side` (its name), or null. */
  const other = (n: OnnxNode, side: string): string | null => (n.inputs[0] === side ? n.inputs[1] : n.inputs[1] === side ? n.inputs[0] : null);
  const dropped = new Set<OnnxNode>();
  const replaced = new Map<OnnxNode, OnnxNode>();
  const fused = (last: OnnxNode, opType: string, x: string, inner: OnnxNode[]) => {
    for (const n of inner) dropped.add(n);
    replaced.set(last, { name: last.name, opType, domain: '', inputs: [x], outputs: last.outputs, attributes: [] });
  };
  for (const n of order) {
    if (dropped.has(n) || replaced.has(n)) continue;
    if (plain(n, 'Sigmoid', 1)) {
      const x = n.inputs[0], m = sole(n.outputs[0]);
      if (m && plain(m, 'Mul', 2) && other(m, n.outputs[0]) === x && m.inputs[0] !== m.inputs[1]) fused(m, 'convkit.Swish', x, [n]);
      continue;
    }
    if (!plain(n, 'Erf', 1)) continue;
    const d = producers.get(n.inputs[0]);
    if (!d) continue;
    if (!(plain(d, 'Div', 2) && near(d.inputs[1], Math.SQRT2)) && !(plain(d, 'Mul', 2) && (near(d.inputs[1], Math.SQRT1_2) || near(d.inputs[0], Math.SQRT1_2)))) continue;
    if (sole(d.outputs[0]) !== n) continue;
    const x = d.opType === 'Div' || near(d.inputs[1], Math.SQRT1_2) ? d.inputs[0] : d.inputs[1];
    const p = sole(n.outputs[0]);
    if (!p || !plain(p, 'Add', 2) || !near(other(p, n.outputs[0]) ?? '', 1)) continue;
    const m1 = sole(p.outputs[0]);
    if (!m1 || !plain(m1, 'Mul', 2)) continue;
    const a = other(m1, p.outputs[0])!;
    const m2 = sole(m1.outputs[0]);
    if (a === x && m2 && plain(m2, 'Mul', 2) && near(other(m2, m1.outputs[0]) ?? '', 0.5)) fused(m2, 'convkit.Gelu', x, [d, n, p, m1]); // (x p) 0.5
    else if (near(a, 0.5) && m2 && plain(m2, 'Mul', 2) && other(m2, m1.outputs[0]) === x) fused(m2, 'convkit.Gelu', x, [d, n, p, m1]); // (p 0.5) x
    else {
      const h = producers.get(a); // (x 0.5) p
      if (h && plain(h, 'Mul', 2) && sole(a) === m1 && ((h.inputs[0] === x && near(h.inputs[1], 0.5)) || (h.inputs[1] === x && near(h.inputs[0], 0.5)))) fused(m1, 'convkit.Gelu', x, [d, n, p, h]);
    }
  }
  return order.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
}

function constOf(t: OnnxTensor): ConstVal {
  return { kind: 'const', shape: [...t.dims], data: t.data instanceof Float32Array ? t.data : new Float64Array(t.data), dtype: t.dataType };
}

function importModel(m: OnnxModel, file: string, channelsLast: boolean, name?: string): Model {
  const g = m.graph;
  // Unnamed nodes (allowed by ONNX) are named after their first output in messages and layer names.
  g.nodes.forEach((n, i) => {
    if (!n.name) n.name = n.outputs.find((o) => o) ? `${n.opType}->${n.outputs.find((o) => o)}` : `${n.opType}#${i}`;
  });
  const opsetEntry = m.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const problems: string[] = [];
  if (!opsetEntry) problems.push(`no opset_import for the default ONNX domain (expected opset ${MIN_OPSET} to ${MAX_OPSET})`);
  const opset = opsetEntry?.version ?? 0;
  if (opsetEntry && (opset < MIN_OPSET || opset > MAX_OPSET)) problems.push(`opset ${opset} is not supported (expected opset ${MIN_OPSET} to ${MAX_OPSET}; re-export with e.g. torch.onnx.export(..., opset_version=13))`);
  if (problems.length) throw new OnnxImportError(file, problems);

  // Nodes ONNX does not compute that convkit cannot: one error listing all of them.
  checkNodes(g.nodes, opset, problems);
  if (problems.length) throw new OnnxImportError(file, problems);

  const values = new Map<string, Val>();
  for (const t of g.initializers) values.set(t.name, constOf(t));
  const realInputs = g.inputs.filter((i) => !values.has(i.name));
  const inputLayout = m.metadata['convkit.inputLayout'];
  if (inputLayout !== undefined && inputLayout !== 'NHWC' && inputLayout !== 'NCHW') {
    problems.push(`metadata_props convkit.inputLayout is ${JSON.stringify(inputLayout)}; expected 'NHWC' or 'NCHW'`);
  }
  const fileLayout = inputLayout === 'NHWC';
  let fileBatch: number | null = null;
  const syms: SymbolicTensor[] = [];
  for (const vi of realInputs) {
    const what = `graph input '${vi.name}'`;
    if (vi.elemType !== ONNX_DTYPE.FLOAT) {
      problems.push(`${what} has element type ${onnxDtypeName(vi.elemType)}; convkit models take float32 inputs`);
      continue;
    }
    if (!vi.shape || vi.shape.length === 0) {
      problems.push(`${what} has no shape (or is a scalar); expected [batch, ...] with fixed sizes after the batch axis`);
      continue;
    }
    const rest = vi.shape.slice(1);
    const bad = rest.findIndex((d) => typeof d !== 'number' || d < 1);
    if (bad >= 0) {
      problems.push(`${what} has axis ${bad + 1} of size ${JSON.stringify(rest[bad])}; convkit needs fixed sizes on every axis but the batch (axis 0)`);
      continue;
    }
    if (typeof vi.shape[0] === 'number' && vi.shape[0] > 0) fileBatch = vi.shape[0];
    const r = vi.shape.length;
    const perm = channelsLast && !fileLayout ? clPerm(r) : identity(r);
    const logical = vi.shape.map((d) => d as number);
    const held = perm.slice(1).map((a) => logical[a]);
    const t = input(held, { name: sanitize(vi.name) || undefined });
    syms.push(t);
    values.set(vi.name, { kind: 'sym', t, perm });
  }
  if (problems.length) throw new OnnxImportError(file, problems);
  if (!syms.length) throw new OnnxImportError(file, ['the graph has no input besides its initializers; a model needs at least one float input']);

  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const order = fuseSwishAndGelu(fuseHardSwish(topoOrder(m, file, new Set(values.keys())), graphOutputs), graphOutputs, values);
  const consumers = new Map<string, OnnxNode[]>();
  const addConsumers = (nodes: readonly OnnxNode[]): void => {
    for (const n of nodes) {
      for (const i of inputsOf(n)) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
      for (const a of n.attributes) for (const sg of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) addConsumers(sg.nodes);
    }
  };
  addConsumers(g.nodes);
  const builder = new GraphBuilder();

  try {
    const runNode = (node: OnnxNode): void => {
      const ins = node.inputs.map((nm) => (nm ? values.get(nm) : undefined));
      const ctx: Ctx = {
        file, opset, node, fileBatch, consumers, graphOutputs,
        fail: (msg: string): never => {
          throw new OnnxImportError(file, [`node '${node.name}' (${node.opType}): ${msg}`]);
        },
        add: <L extends Layer>(make: (name: string | undefined) => L, x: SymbolicTensor | SymbolicTensor[]): { layer: L; y: SymbolicTensor } =>
          builder.add(sanitize(node.name) || sanitize(node.opType.toLowerCase()), make, x, (e) => {
            throw new OnnxImportError(file, [`node '${node.name}' (${node.opType}): ${e.message}`]);
          }),
      };
      const outs = node.opType === 'If' ? runIf(ctx, ins, opset, runNode, values) : (FUSED_HANDLERS[node.opType] ?? HANDLERS[node.opType]).run(ctx, ins);
      node.outputs.forEach((o, i) => {
        if (!o) return;
        if (outs[i] === undefined) {
          if ((consumers.get(o)?.length ?? 0) > 0 || graphOutputs.has(o)) ctx.fail(`output ${i} ('${o}') is used, but convkit computes only the first ${outs.length} output(s) of ${node.opType}`);
          return;
        }
        values.set(o, outs[i]);
      });
    };
    for (const node of order) runNode(node);
    const outputs: SymbolicTensor[] = [];
    for (const o of g.outputs) {
      const v = values.get(o.name)!;
      if (v.kind !== 'sym') throw new OnnxImportError(file, [`graph output '${o.name}' is a constant (it does not depend on any input); convkit models compute their outputs from their inputs`]);
      const r = v.perm.length;
      const want = channelsLast && !fileLayout ? clPerm(r) : identity(r);
      outputs.push(toPerm(v, want, (make, x) => {
        const layer = builder.track(make(builder.uniqueName(sanitize(`${o.name}_layout`))));
        return layer.apply(x);
      }));
    }
    const modelName = name !== undefined ? sanitize(name.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '')) : sanitize(g.name);
    return model({ inputs: syms, outputs, ...(modelName ? { name: modelName } : {}) });
  } catch (e) {
    builder.disposeAll();
    if (e instanceof OnnxImportError) throw e;
    throw new OnnxImportError(file, [(e as Error).message]);
  }
}

/**
 * If whose condition folds to a constant at import (PyTorch traces shape checks as If):
 * the chosen branch's nodes are run in place (they may read outer-scope values) and its
 * outputs become the If's. A condition computed from the input stays an error.
 */
function runIf(ctx: Ctx, ins: (Val | undefined)[], opset: number, runNode: (n: OnnxNode) => void, values: Map<string, Val>): (Val | undefined)[] {
  const c = ins[0];
  if (!c) ctx.fail('input 0 (cond) is missing');
  if (c!.kind === 'sym') ctx.fail('the condition depends on the model input; only an If whose condition folds to a constant at import is supported');
  if (c!.kind === 'shape') ctx.fail('the condition depends on the (dynamic) batch size; only an If whose condition folds to a constant at import is supported');
  const cv = c as ConstVal;
  if (cv.data.length !== 1) ctx.fail(`the condition has ${cv.data.length} elements; expected one`);
  const which = cv.data[0] ? 'then_branch' : 'else_branch';
  const g = attr(ctx.node, which)!.g!;
  if (g.outputs.length !== ctx.node.outputs.length) ctx.fail(`${which} has ${g.outputs.length} outputs; the If has ${ctx.node.outputs.length}`);
  g.nodes.forEach((n, i) => {
    if (!n.name) n.name = n.outputs.find((o) => o) ? `${n.opType}->${n.outputs.find((o) => o)}` : `${ctx.node.name}/${which}/${n.opType}#${i}`;
  });
  const problems: string[] = [];
  checkNodes(g.nodes, opset, problems);
  if (problems.length) ctx.fail(`${which}: ${problems.join('; ')}`);
  for (const t of g.initializers) values.set(t.name, constOf(t));
  for (const n of g.nodes) runNode(n);
  return g.outputs.map((o) => {
    const v = values.get(o.name);
    if (!v) ctx.fail(`${which} output '${o.name}' is not computed`);
    return v;
  });
}


/** `v` held with axes `want` (logical axis per held axis), moving data with a Permute layer when needed. */
export function toPerm(v: Sym, want: readonly number[], apply: (make: (name: string) => Layer, x: SymbolicTensor) => SymbolicTensor): SymbolicTensor {
  const p = v.perm;
  if (p.length !== want.length) throw new RangeError(`internal: rank ${p.length} vs ${want.length}`);
  if (p.every((a, i) => a === want[i])) return v.t;
  const src = want.map((a) => p.indexOf(a));
  if (src[0] !== 0) throw new RangeError(`a layout change would move the batch axis (from ${JSON.stringify(p)} to ${JSON.stringify(want)})`);
  return apply((nm) => new Permute({ dims: src.slice(1), name: nm }), v.t);
}
