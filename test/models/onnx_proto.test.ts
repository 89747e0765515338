/**
 * The ONNX wire format: a file written by Debian's python3-onnx (scripts/onnx/make_proto_fixture.py)
 * decodes to what the script says it holds, and encoding then decoding gives the same model.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ATTR, ONNX_DTYPE, attr, decodeOnnxModel, encodeOnnxModel } from '../../src/models/onnx/proto.js';
import { ProtoReader, ProtoWriter, ProtobufError } from '../../src/models/onnx/protobuf.js';

const bytes = new Uint8Array(readFileSync(new URL('../fixtures/onnx/proto_cases.onnx', import.meta.url)));
const want = JSON.parse(readFileSync(new URL('../fixtures/onnx/proto_cases.json', import.meta.url), 'utf8'));

describe('ONNX protobuf codec', () => {
  it('decodes a python-onnx file: header, metadata, nodes, attributes, initializers of every encoding, symbolic dims', () => {
    const m = decodeOnnxModel(bytes);
    expect(m.irVersion).toBe(want.irVersion);
    expect(m.opsetImport).toEqual([{ domain: '', version: want.opset }]);
    expect(m.producerName).toBe(want.producerName);
    expect(m.metadata).toEqual(want.metadata);
    expect(m.graph.nodes.map((n) => [n.name, n.opType, n.inputs, n.outputs])).toEqual(want.nodes);
    const [conv, , , softmax, lrelu] = m.graph.nodes;
    expect(attr(conv, 'pads')).toMatchObject({ type: ATTR.INTS, ints: [1, 1, 1, 1] });
    expect(attr(softmax, 'axis')).toMatchObject({ type: ATTR.INT, i: -1 });
    expect(attr(lrelu, 'alpha')?.f).toBe(0.125);
    const init = Object.fromEntries(m.graph.initializers.map((t) => [t.name, t]));
    expect(init.w.dims).toEqual(want.wDims);
    expect(init.w.dataType).toBe(ONNX_DTYPE.FLOAT);
    expect(Array.from(init.w.data)).toEqual(want.w.map(Math.fround));
    expect(Array.from(init.shape.data)).toEqual(want.shape);
    expect(Array.from(init.half.data)).toEqual(want.half);
    expect(Array.from(init.typed.data)).toEqual(want.typed);
    expect(Array.from(init.ints32.data)).toEqual(want.ints32);
    expect(m.graph.inputs[0].shape).toEqual(want.input);
    expect(m.graph.outputs[0].shape).toEqual(want.output);
    expect(m.graph.inputs[0].elemType).toBe(ONNX_DTYPE.FLOAT);
  });

  it('a Node Buffer at any offset of its pool decodes the same (readFileSync hands one over; its slice() is a view)', () => {
    const m = decodeOnnxModel(bytes);
    for (const at of [0, 1, 13, 4096]) {
      const pool = Buffer.alloc(at + bytes.length + 7, 0xee);
      pool.set(bytes, at);
      const view = pool.subarray(at, at + bytes.length);
      const again = decodeOnnxModel(view);
      expect(again).toEqual(m);
      // the values are copies: writing over the pool afterwards changes nothing
      pool.fill(0);
      expect(Array.from(again.graph.initializers.find((t) => t.name === 'w')!.data)).toEqual(want.w.map(Math.fround));
    }
  });

  it('encode then decode is the identity on the decoded model', () => {
    const m = decodeOnnxModel(bytes);
    const again = decodeOnnxModel(encodeOnnxModel(m));
    expect(again).toEqual(m);
  });

  it('GRAPH and GRAPHS attributes (If branches) decode to subgraphs and encode back', () => {
    const branch = (name: string, op: string) => ({
      name, nodes: [{ name: `${name}/n`, opType: op, domain: '', inputs: ['x'], outputs: [`${name}_out`], attributes: [{ name: 'axes', type: ATTR.INTS, ints: [1] }] }],
      initializers: [{ name: `${name}_c`, dims: [2], dataType: ONNX_DTYPE.FLOAT, data: Float32Array.of(1, 2) }],
      inputs: [], outputs: [{ name: `${name}_out`, elemType: ONNX_DTYPE.FLOAT, shape: null }], valueInfo: [],
    });
    const m = decodeOnnxModel(bytes);
    m.graph.nodes.push({
      name: 'if', opType: 'If', domain: '', inputs: ['cond'], outputs: ['y'],
      attributes: [
        { name: 'then_branch', type: ATTR.GRAPH, g: branch('then', 'Squeeze'), hasGraph: true },
        { name: 'else_branch', type: ATTR.GRAPH, g: branch('else', 'Identity'), hasGraph: true },
        { name: 'bodies', type: ATTR.GRAPHS, graphs: [branch('b0', 'Neg'), branch('b1', 'Abs')], hasGraph: true },
      ],
    });
    const again = decodeOnnxModel(encodeOnnxModel(m));
    expect(again).toEqual(m);
    const node = again.graph.nodes[again.graph.nodes.length - 1];
    expect(attr(node, 'then_branch')?.g?.nodes[0].opType).toBe('Squeeze');
    expect(Array.from(attr(node, 'else_branch')!.g!.initializers[0].data)).toEqual([1, 2]);
    expect(attr(node, 'bodies')?.graphs?.map((g) => g.nodes[0].opType)).toEqual(['Neg', 'Abs']);
  });

  it('int64 varints: negative values take ten bytes and read back exactly, up to +-2^53', () => {
    for (const v of [0, 1, 127, 128, 300, -1, -2, -129, 2 ** 31, -(2 ** 31), 2 ** 40 + 5, -(2 ** 40) - 5, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]) {
      const b = new ProtoWriter().int(1, v).finish();
      const r = new ProtoReader(b);
      expect(r.tag()).toEqual({ field: 1, wire: 0 });
      expect(r.int64(), String(v)).toBe(v);
      if (v < 0) expect(b.length).toBe(11);
    }
  });

  it('truncated or corrupt bytes throw a ProtobufError saying where, never a half-read model', () => {
    for (const cut of [1, 10, 100, bytes.length - 1]) {
      expect(() => decodeOnnxModel(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(ProtobufError);
    }
    expect(() => decodeOnnxModel(new TextEncoder().encode('{"format": "convkit-model/1"}'))).toThrow(ProtobufError);
    expect(() => decodeOnnxModel(new Uint8Array([0x08, 0x07]))).toThrow(/no graph/);
  });
});
