/**
 * Build small ONNX models in tests (no Python): nodes, initializers, inputs and outputs,
 * encoded with the package's own encoder.
 */
import { ATTR, ONNX_DTYPE, encodeOnnxModel, type OnnxAttribute, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from '../../src/models/onnx/proto.js';

export type AttrValue = number | number[] | string | { f: number } | { fs: number[] } | { g: OnnxGraph } | OnnxTensor;
/** A float attribute (plain numbers are ints). */
export const F = (f: number) => ({ f });

function toAttr(name: string, v: AttrValue): OnnxAttribute {
  if (typeof v === 'number') return { name, type: ATTR.INT, i: v };
  if (typeof v === 'string') return { name, type: ATTR.STRING, s: v };
  if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
  if ('f' in v) return { name, type: ATTR.FLOAT, f: v.f };
  if ('fs' in v) return { name, type: ATTR.FLOATS, floats: v.fs };
  if ('g' in v) return { name, type: ATTR.GRAPH, g: v.g, hasGraph: true };
  return { name, type: ATTR.TENSOR, t: v };
}

/** A seeded generator of floats in [-1, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

export function randArray(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * scale);
}

export class OnnxBuilder {
  nodes: OnnxNode[] = [];
  inits: OnnxTensor[] = [];
  inputs: OnnxValueInfo[] = [];
  outputs: OnnxValueInfo[] = [];
  metadata: Record<string, string> = {};
  private n = 0;
  constructor(public opset = 13) {}

  input(name: string, shape: (number | string | null)[], elemType: number = ONNX_DTYPE.FLOAT): string {
    this.inputs.push({ name, elemType, shape });
    return name;
  }
  /** A float initializer (int64 with dataType INT64). */
  init(name: string, dims: number[], data: ArrayLike<number>, dataType: number = ONNX_DTYPE.FLOAT): string {
    const arr = dataType === ONNX_DTYPE.FLOAT ? Float32Array.from(data) : dataType === ONNX_DTYPE.INT32 ? Int32Array.from(data) : Float64Array.from(data);
    this.inits.push({ name, dims, dataType, data: arr });
    return name;
  }
  ints(name: string, values: number[]): string {
    return this.init(name, [values.length], values, ONNX_DTYPE.INT64);
  }
  /** Add a node; returns its first output's name. */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs?: string[] | number): string {
    const id = ++this.n;
    const outs = Array.isArray(outputs) ? outputs : Array.from({ length: outputs ?? 1 }, (_, i) => `${opType.toLowerCase()}${id}_${i}`);
    this.nodes.push({ name: `/${opType}_${id}`, opType, domain: '', inputs, outputs: outs, attributes: Object.entries(attrs).map(([k, v]) => toAttr(k, v)) });
    return outs[0];
  }
  output(name: string, shape: (number | string | null)[] | null = null): void {
    this.outputs.push({ name, elemType: ONNX_DTYPE.FLOAT, shape });
  }
  /** This builder's nodes, initializers and outputs as a subgraph (an If branch); no inputs. */
  graph(name = 'branch'): OnnxGraph {
    return { name, nodes: this.nodes, initializers: this.inits, inputs: [], outputs: this.outputs, valueInfo: [] };
  }
  model(): OnnxModel {
    return {
      irVersion: 8,
      opsetImport: [{ domain: '', version: this.opset }],
      producerName: 'convkit-test',
      producerVersion: '',
      docString: '',
      graph: { name: 'test_graph', nodes: this.nodes, initializers: this.inits, inputs: this.inputs, outputs: this.outputs, valueInfo: [] },
      metadata: this.metadata,
    };
  }
  encode(): Uint8Array {
    return encodeOnnxModel(this.model());
  }
}
