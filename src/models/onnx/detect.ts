/**
 * Whether bytes are an ONNX model, by content: `loadModel` asks before it loads the ONNX
 * importer (import.ts), which it imports only for ONNX files (model.ts reaches this module
 * through io.ts, and the importer's OnnxGraphModel extends Model: a static import would be
 * a cycle evaluated too early).
 */
import { decodeOnnxModel } from './proto.js';

/**
 * True when `bytes` decode as an ONNX ModelProto with a graph (content detection: the
 * extension is never consulted).
 */
export function isOnnx(bytes: Uint8Array | ArrayBuffer): boolean {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (b.length < 2) return false;
  // A ModelProto starts with a tag of one of its fields: ir_version (0x08), opset_import
  // (0x42), producer_name (0x12), graph (0x3a), ... JSON starts with '{' or whitespace.
  const first = b[0];
  if (![0x08, 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72].includes(first)) return false;
  try {
    const m = decodeOnnxModel(b);
    return !!m.graph && (m.graph.nodes.length > 0 || m.graph.outputs.length > 0);
  } catch {
    return false;
  }
}

