/**
 * ONNX's messages (onnx.proto: ModelProto, GraphProto, NodeProto, TensorProto,
 * AttributeProto, ValueInfoProto) as plain TypeScript objects, decoded from and encoded
 * to the protobuf wire format (./protobuf.ts). Only what a CNN file uses is kept; other
 * fields are skipped on read. Tensors come out as typed arrays: float/float16/bfloat16 ->
 * Float32Array, double -> Float64Array, int8..int32/uint8/uint16/bool -> Int32Array,
 * int64/uint32 -> Float64Array holding exact integers (shapes, indices, axes).
 */
import { ProtoReader, ProtoWriter, ProtobufError, WIRE_LEN } from './protobuf.js';

/** TensorProto.DataType codes. */
export const ONNX_DTYPE = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;
const DTYPE_NAME: Record<number, string> = Object.fromEntries(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k.toLowerCase()]));
export const onnxDtypeName = (code: number): string => DTYPE_NAME[code] ?? `data type ${code}`;

/** AttributeProto.AttributeType codes. */
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, GRAPHS: 10 } as const;

export type OnnxData = Float32Array | Float64Array | Int32Array;

export interface OnnxTensor {
  name: string;
  dims: number[];
  /** TensorProto.DataType code of the file. */
  dataType: number;
  data: OnnxData;
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
  strings?: string[];
  /** A subgraph attribute (If/Loop bodies: g for GRAPH, graphs for GRAPHS); hasGraph is set for either. */
  hasGraph?: boolean;
  g?: OnnxGraph;
  graphs?: OnnxGraph[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
}

/** A graph input/output: element type and shape (a number, a symbolic name, or null when unknown). */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  shape: (number | string | null)[] | null;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  opsetImport: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  docString: string;
  graph: OnnxGraph;
  /** metadata_props as a record. */
  metadata: Record<string, string>;
}

// ---------------------------------------------------------------- decoding

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** The nearest float16 bit pattern (round to nearest even; overflow to infinity). */
export function floatToHalf(v: number): number {
  const f = new Float32Array([v]), u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000, exp = (u >>> 23) & 0xff, man = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = (man | 0x800000) >>> (14 - e), rest = (man | 0x800000) & ((1 << (14 - e)) - 1), half = 1 << (13 - e);
    return sign | (m + (rest > half || (rest === half && m & 1) ? 1 : 0));
  }
  const m = man >>> 13, rest = man & 0x1fff;
  return (sign | (e << 10) | m) + (rest > 0x1000 || (rest === 0x1000 && m & 1) ? 1 : 0);
}

function sizeOfDims(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Whether this host stores typed arrays little-endian, as raw_data is. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Values of raw_data, little-endian, as the kept array type. Copies go through
 * `new Uint8Array(raw)`: when the model came as a Node Buffer, `raw` is one too, and a
 * Buffer's `slice()` is a view of its whole pool, not a copy.
 */
function fromRaw(raw: Uint8Array, dataType: number, n: number, name: string): OnnxData {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const need = (bytes: number) => {
    if (raw.byteLength !== n * bytes) {
      throw new ProtobufError(`tensor '${name}': raw_data holds ${raw.byteLength} bytes, but ${n} ${onnxDtypeName(dataType)} values need ${n * bytes}`);
    }
  };
  switch (dataType) {
    // little-endian hosts (all that run convkit in practice) copy the bytes as they are
    case ONNX_DTYPE.FLOAT: { need(4); if (LITTLE_ENDIAN) return new Float32Array(new Uint8Array(raw).buffer); const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = dv.getFloat32(i * 4, true); return a; }
    case ONNX_DTYPE.DOUBLE: { need(8); if (LITTLE_ENDIAN) return new Float64Array(new Uint8Array(raw).buffer); const a = new Float64Array(n); for (let i = 0; i < n; i++) a[i] = dv.getFloat64(i * 8, true); return a; }
    case ONNX_DTYPE.FLOAT16: { need(2); const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = halfToFloat(dv.getUint16(i * 2, true)); return a; }
    case ONNX_DTYPE.BFLOAT16: { need(2); const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = new Float32Array(new Uint32Array([dv.getUint16(i * 2, true) << 16]).buffer)[0]; return a; }
    case ONNX_DTYPE.INT64: {
      need(8);
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const lo = dv.getUint32(i * 8, true), hi = dv.getInt32(i * 8 + 4, true);
        a[i] = hi * 4294967296 + lo;
      }
      return a;
    }
    case ONNX_DTYPE.UINT32: { need(4); const a = new Float64Array(n); for (let i = 0; i < n; i++) a[i] = dv.getUint32(i * 4, true); return a; }
    case ONNX_DTYPE.INT32: { need(4); const a = new Int32Array(n); for (let i = 0; i < n; i++) a[i] = dv.getInt32(i * 4, true); return a; }
    case ONNX_DTYPE.INT16: { need(2); const a = new Int32Array(n); for (let i = 0; i < n; i++) a[i] = dv.getInt16(i * 2, true); return a; }
    case ONNX_DTYPE.UINT16: { need(2); const a = new Int32Array(n); for (let i = 0; i < n; i++) a[i] = dv.getUint16(i * 2, true); return a; }
    case ONNX_DTYPE.INT8: { need(1); return Int32Array.from(new Int8Array(raw.buffer, raw.byteOffset, n)); }
    case ONNX_DTYPE.UINT8:
    case ONNX_DTYPE.BOOL: { need(1); return Int32Array.from(raw.subarray(0, n)); }
    default:
      throw new ProtobufError(`tensor '${name}': data type ${onnxDtypeName(dataType)} is not supported (float, double, float16, bfloat16 and integer types are)`);
  }
}

function decodeTensor(r: ProtoReader): OnnxTensor {
  const dims: number[] = [];
  let dataType = 0, name = '', raw: Uint8Array | null = null, external = false;
  const floats: number[] = [], ints: number[] = [], int64s: number[] = [], doubles: number[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: r.int64s(wire, dims); break;
      case 2: dataType = r.varint(); break;
      case 4: r.float32s(wire, floats); break;
      case 5: r.int64s(wire, ints); break;
      case 7: r.int64s(wire, int64s); break;
      case 8: name = r.string(); break;
      case 9: raw = r.bytesField(); break;
      case 10: r.float64s(wire, doubles); break;
      case 11: r.int64s(wire, int64s); break; // uint64_data (values below 2^53)
      case 13: r.skip(wire); external = true; break;
      case 14: if (r.varint() === 1) external = true; break;
      default: r.skip(wire);
    }
  }
  if (external) throw new ProtobufError(`tensor '${name}' keeps its data in an external file (external_data); save the model with its weights inside the .onnx file (onnx.save_model(m, path, save_as_external_data=False))`);
  const n = sizeOfDims(dims);
  let data: OnnxData;
  if (raw) data = fromRaw(raw, dataType, n, name);
  else {
    switch (dataType) {
      case ONNX_DTYPE.FLOAT: data = Float32Array.from(floats); break;
      case ONNX_DTYPE.FLOAT16: data = Float32Array.from(ints, halfToFloat); break;
      case ONNX_DTYPE.BFLOAT16: data = Float32Array.from(ints, (v) => new Float32Array(new Uint32Array([v << 16]).buffer)[0]); break;
      case ONNX_DTYPE.DOUBLE: data = Float64Array.from(doubles); break;
      case ONNX_DTYPE.INT64: case ONNX_DTYPE.UINT32: case ONNX_DTYPE.UINT64: data = Float64Array.from(int64s); break;
      case ONNX_DTYPE.INT32: case ONNX_DTYPE.INT16: case ONNX_DTYPE.INT8: case ONNX_DTYPE.UINT16: case ONNX_DTYPE.UINT8: case ONNX_DTYPE.BOOL:
        data = Int32Array.from(ints); break;
      default:
        throw new ProtobufError(`tensor '${name}': data type ${onnxDtypeName(dataType)} is not supported (float, double, float16, bfloat16 and integer types are)`);
    }
    if (data.length !== n) throw new ProtobufError(`tensor '${name}': holds ${data.length} values, but its dims [${dims.join(', ')}] need ${n}`);
  }
  return { name, dims, dataType, data };
}

function decodeAttribute(r: ProtoReader): OnnxAttribute {
  const a: OnnxAttribute = { name: '', type: 0 };
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: a.name = r.string(); break;
      case 2: a.f = r.float32(); break;
      case 3: a.i = r.int64(); break;
      case 4: a.s = r.string(); break;
      case 5: a.t = decodeTensor(r.message()); break;
      case 6: a.g = decodeGraph(r.message()); a.hasGraph = true; break;
      case 7: r.float32s(wire, (a.floats ??= [])); break;
      case 8: r.int64s(wire, (a.ints ??= [])); break;
      case 9: (a.strings ??= []).push(r.string()); break;
      case 11: (a.graphs ??= []).push(decodeGraph(r.message())); a.hasGraph = true; break;
      case 20: a.type = r.varint(); break;
      default: r.skip(wire);
    }
  }
  return a;
}

function decodeNode(r: ProtoReader): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [] };
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: n.inputs.push(r.string()); break;
      case 2: n.outputs.push(r.string()); break;
      case 3: n.name = r.string(); break;
      case 4: n.opType = r.string(); break;
      case 5: n.attributes.push(decodeAttribute(r.message())); break;
      case 7: n.domain = r.string(); break;
      default: r.skip(wire);
    }
  }
  return n;
}

function decodeShape(r: ProtoReader): (number | string | null)[] {
  const dims: (number | string | null)[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field !== 1 || wire !== WIRE_LEN) { r.skip(wire); continue; }
    const d = r.message();
    let v: number | string | null = null;
    while (!d.done) {
      const t = d.tag();
      if (t.field === 1) v = d.int64();
      else if (t.field === 2) v = d.string();
      else d.skip(t.wire);
    }
    dims.push(v);
  }
  return dims;
}

function decodeValueInfo(r: ProtoReader): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', elemType: 0, shape: null };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) v.name = r.string();
    else if (field === 2) {
      const tp = r.message();
      while (!tp.done) {
        const t = tp.tag();
        if (t.field !== 1) { tp.skip(t.wire); continue; }
        const tt = tp.message();
        while (!tt.done) {
          const u = tt.tag();
          if (u.field === 1) v.elemType = tt.varint();
          else if (u.field === 2) v.shape = decodeShape(tt.message());
          else tt.skip(u.wire);
        }
      }
    } else r.skip(wire);
  }
  return v;
}

function decodeGraph(r: ProtoReader): OnnxGraph {
  const g: OnnxGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: g.nodes.push(decodeNode(r.message())); break;
      case 2: g.name = r.string(); break;
      case 5: g.initializers.push(decodeTensor(r.message())); break;
      case 11: g.inputs.push(decodeValueInfo(r.message())); break;
      case 12: g.outputs.push(decodeValueInfo(r.message())); break;
      case 13: g.valueInfo.push(decodeValueInfo(r.message())); break;
      case 15: r.skip(wire); throw new ProtobufError('sparse initializers are not supported');
      default: r.skip(wire);
    }
  }
  return g;
}

/** Decode a serialised ModelProto. Throws ProtobufError on malformed or truncated bytes. */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  const r = new ProtoReader(bytes);
  const m: OnnxModel = { irVersion: 0, opsetImport: [], producerName: '', producerVersion: '', docString: '', graph: null as unknown as OnnxGraph, metadata: {} };
  let graph: OnnxGraph | null = null;
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: m.irVersion = r.varint(); break;
      case 2: m.producerName = r.string(); break;
      case 3: m.producerVersion = r.string(); break;
      case 6: m.docString = r.string(); break;
      case 7: graph = decodeGraph(r.message()); break;
      case 8: {
        const o = r.message();
        const set = { domain: '', version: 0 };
        while (!o.done) {
          const t = o.tag();
          if (t.field === 1) set.domain = o.string();
          else if (t.field === 2) set.version = o.int64();
          else o.skip(t.wire);
        }
        m.opsetImport.push(set);
        break;
      }
      case 14: {
        const e = r.message();
        let k = '', v = '';
        while (!e.done) {
          const t = e.tag();
          if (t.field === 1) k = e.string();
          else if (t.field === 2) v = e.string();
          else e.skip(t.wire);
        }
        m.metadata[k] = v;
        break;
      }
      default: r.skip(wire);
    }
  }
  if (!graph) throw new ProtobufError('no graph (ModelProto field 7): not an ONNX model');
  m.graph = graph;
  return m;
}

// ---------------------------------------------------------------- encoding

function encodeTensor(w: ProtoWriter, t: OnnxTensor): void {
  if (t.dims.length) w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  if (t.name) w.string(8, t.name);
  const n = t.data.length;
  let raw: Uint8Array;
  switch (t.dataType) {
    case ONNX_DTYPE.FLOAT: { raw = new Uint8Array(n * 4); const dv = new DataView(raw.buffer); for (let i = 0; i < n; i++) dv.setFloat32(i * 4, t.data[i], true); break; }
    case ONNX_DTYPE.DOUBLE: { raw = new Uint8Array(n * 8); const dv = new DataView(raw.buffer); for (let i = 0; i < n; i++) dv.setFloat64(i * 8, t.data[i], true); break; }
    case ONNX_DTYPE.INT32: { raw = new Uint8Array(n * 4); const dv = new DataView(raw.buffer); for (let i = 0; i < n; i++) dv.setInt32(i * 4, t.data[i], true); break; }
    case ONNX_DTYPE.INT64: {
      raw = new Uint8Array(n * 8);
      const dv = new DataView(raw.buffer);
      for (let i = 0; i < n; i++) {
        const v = t.data[i], hi = Math.floor(v / 4294967296);
        dv.setUint32(i * 8, v - hi * 4294967296, true);
        dv.setInt32(i * 8 + 4, hi, true);
      }
      break;
    }
    case ONNX_DTYPE.FLOAT16: { raw = new Uint8Array(n * 2); const dv = new DataView(raw.buffer); for (let i = 0; i < n; i++) dv.setUint16(i * 2, floatToHalf(t.data[i]), true); break; }
    case ONNX_DTYPE.INT16: case ONNX_DTYPE.UINT16: { raw = new Uint8Array(n * 2); const dv = new DataView(raw.buffer); for (let i = 0; i < n; i++) dv.setUint16(i * 2, t.data[i] & 0xffff, true); break; }
    case ONNX_DTYPE.INT8: case ONNX_DTYPE.UINT8: case ONNX_DTYPE.BOOL: raw = Uint8Array.from(t.data, (v) => v & 0xff); break;
    default: throw new ProtobufError(`cannot write tensor '${t.name}' of ${onnxDtypeName(t.dataType)}`);
  }
  w.bytes(9, raw);
}

function encodeAttribute(w: ProtoWriter, a: OnnxAttribute): void {
  w.string(1, a.name);
  w.int(20, a.type);
  switch (a.type) {
    case ATTR.FLOAT: w.float32(2, a.f ?? 0); break;
    case ATTR.INT: w.int(3, a.i ?? 0); break;
    case ATTR.STRING: w.string(4, a.s ?? ''); break;
    case ATTR.TENSOR: w.message(5, (x) => encodeTensor(x, a.t!)); break;
    case ATTR.FLOATS: w.packedFloats(7, a.floats ?? []); break;
    case ATTR.INTS: w.packedInts(8, a.ints ?? []); break;
    case ATTR.STRINGS: for (const s of a.strings ?? []) w.string(9, s); break;
    case ATTR.GRAPH: w.message(6, (x) => encodeGraph(x, a.g!)); break;
    case ATTR.GRAPHS: for (const g of a.graphs ?? []) w.message(11, (x) => encodeGraph(x, g)); break;
    default: throw new ProtobufError(`cannot write attribute '${a.name}' of type ${a.type}`);
  }
}

function encodeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (tp) =>
    tp.message(1, (tt) => {
      tt.int(1, v.elemType);
      if (v.shape) {
        tt.message(2, (sh) => {
          for (const d of v.shape!) sh.message(1, (dim) => {
            if (typeof d === 'number') dim.int(1, d);
            else if (typeof d === 'string') dim.string(2, d);
          });
        });
      }
    }),
  );
}

/** Encode a model as a serialised ModelProto. */
function encodeGraph(g: ProtoWriter, graph: OnnxGraph): void {
  for (const n of graph.nodes) {
    g.message(1, (x) => {
      for (const i of n.inputs) x.string(1, i);
      for (const o of n.outputs) x.string(2, o);
      if (n.name) x.string(3, n.name);
      x.string(4, n.opType);
      for (const a of n.attributes) x.message(5, (y) => encodeAttribute(y, a));
      if (n.domain) x.string(7, n.domain);
    });
  }
  g.string(2, graph.name || 'graph');
  for (const t of graph.initializers) g.message(5, (x) => encodeTensor(x, t));
  for (const v of graph.inputs) g.message(11, (x) => encodeValueInfo(x, v));
  for (const v of graph.outputs) g.message(12, (x) => encodeValueInfo(x, v));
  for (const v of graph.valueInfo) g.message(13, (x) => encodeValueInfo(x, v));
}

export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, m.irVersion);
  if (m.producerName) w.string(2, m.producerName);
  if (m.producerVersion) w.string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, (g) => encodeGraph(g, m.graph));
  for (const o of m.opsetImport) w.message(8, (x) => {
    if (o.domain) x.string(1, o.domain);
    x.int(2, o.version);
  });
  for (const [k, v] of Object.entries(m.metadata)) w.message(14, (x) => x.string(1, k).string(2, v));
  return w.finish();
}

// ---------------------------------------------------------------- attribute helpers

/** The attribute `name` of `node`, or undefined. */
export function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attributes.find((a) => a.name === name);
}
export const attrInt = (node: OnnxNode, name: string, dflt: number): number => attr(node, name)?.i ?? dflt;
export const attrFloat = (node: OnnxNode, name: string, dflt: number): number => attr(node, name)?.f ?? dflt;
export const attrInts = (node: OnnxNode, name: string, dflt: number[]): number[] => attr(node, name)?.ints ?? dflt;
export const attrString = (node: OnnxNode, name: string, dflt: string): string => attr(node, name)?.s ?? dflt;

/** Attribute builders for the exporter. */
export const mkAttr = {
  int: (name: string, i: number): OnnxAttribute => ({ name, type: ATTR.INT, i }),
  float: (name: string, f: number): OnnxAttribute => ({ name, type: ATTR.FLOAT, f }),
  ints: (name: string, ints: number[]): OnnxAttribute => ({ name, type: ATTR.INTS, ints }),
  string: (name: string, s: string): OnnxAttribute => ({ name, type: ATTR.STRING, s }),
  tensor: (name: string, t: OnnxTensor): OnnxAttribute => ({ name, type: ATTR.TENSOR, t }),
};
