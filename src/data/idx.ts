/**
 * The IDX format of the MNIST and Fashion-MNIST files (LeCun et al.): a 4-byte magic
 * number 00 00 TT DD (TT = element type, DD = number of dimensions), DD big-endian
 * uint32 sizes, then the elements in row-major order, big-endian.
 */
import { DataFormatError } from './errors.js';
import { checkSource, readMaybeGzip, sourceName, type BytesSource } from './bytes.js';
import { describeValue } from '../tensor/describe.js';

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dims: number[];
  type: IdxType;
  data: IdxData;
}

const TYPE_CODES: Record<number, [IdxType, number]> = {
  0x08: ['uint8', 1],
  0x09: ['int8', 1],
  0x0b: ['int16', 2],
  0x0c: ['int32', 4],
  0x0d: ['float32', 4],
  0x0e: ['float64', 8],
};
const CODE_OF: Record<IdxType, number> = { uint8: 0x08, int8: 0x09, int16: 0x0b, int32: 0x0c, float32: 0x0d, float64: 0x0e };

/**
 * Parse IDX bytes (already decompressed). Every defect is a DataFormatError naming
 * `file`: a wrong magic number, an unknown element type, a header or data shorter than
 * the header promises, or bytes left over after the data.
 */
export function parseIdx(bytes: Uint8Array, file = '<IDX bytes>'): IdxArray {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`parseIdx: bytes must be a Uint8Array (decompressed IDX bytes), received ${describeValue(bytes)}`);
  if (bytes.length < 4) throw new DataFormatError(file, `truncated: ${bytes.length} bytes, too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DataFormatError(file, `wrong magic number ${magic}: an IDX file starts with 00 00, then the type code and the number of dimensions (is it an IDX file, e.g. train-images-idx3-ubyte?)`);
  }
  const code = bytes[2];
  const t = TYPE_CODES[code];
  if (!t) throw new DataFormatError(file, `wrong magic number: unknown IDX element type 0x${code.toString(16).padStart(2, '0')} (expected 08, 09, 0b, 0c, 0d or 0e)`);
  const [type, size] = t;
  const nd = bytes[3];
  if (nd === 0) throw new DataFormatError(file, 'wrong magic number: the IDX header declares 0 dimensions');
  const headerLen = 4 + 4 * nd;
  if (bytes.length < headerLen) throw new DataFormatError(file, `truncated: the header declares ${nd} dimensions (${headerLen} bytes) but the file has ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerLen + count * size;
  if (bytes.length < expected) {
    const have = Math.floor((bytes.length - headerLen) / size);
    throw new DataFormatError(file, `truncated: the header declares dimensions [${dims.join(', ')}] (${count} ${type} values, ${expected} bytes in all) but the file has ${bytes.length} bytes (${have} values)`);
  }
  if (bytes.length > expected) {
    throw new DataFormatError(file, `${bytes.length - expected} unexpected bytes after the ${count} values declared by the header [${dims.join(', ')}]`);
  }
  const body = bytes.subarray(headerLen, expected);
  let data: IdxData;
  switch (type) {
    case 'uint8': data = new Uint8Array(body); break; // a copy, independent of the file buffer
    case 'int8': data = new Int8Array(new Uint8Array(body).buffer); break; // a copy: a Node Buffer's slice() is a view of its pool
    default: {
      data = type === 'int16' ? new Int16Array(count) : type === 'int32' ? new Int32Array(count) : type === 'float32' ? new Float32Array(count) : new Float64Array(count);
      const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      for (let i = 0; i < count; i++) {
        const o = i * size;
        data[i] = type === 'int16' ? dv.getInt16(o, false) : type === 'int32' ? dv.getInt32(o, false) : type === 'float32' ? dv.getFloat32(o, false) : dv.getFloat64(o, false);
      }
    }
  }
  return { dims, type, data };
}

/** Encode an array as IDX bytes (the inverse of parseIdx): for tools and tests. */
export function encodeIdx(a: { dims: readonly number[]; type?: IdxType; data: ArrayLike<number> }): Uint8Array {
  const type = a.type ?? 'uint8';
  const size = TYPE_CODES[CODE_OF[type]][1];
  const count = a.dims.reduce((x, y) => x * y, 1);
  if (count !== a.data.length) throw new RangeError(`encodeIdx: dims [${a.dims.join(', ')}] need ${count} values, received ${a.data.length}`);
  const headerLen = 4 + 4 * a.dims.length;
  const out = new Uint8Array(headerLen + count * size);
  const dv = new DataView(out.buffer);
  out[2] = CODE_OF[type];
  out[3] = a.dims.length;
  a.dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const o = headerLen + i * size, v = a.data[i];
    switch (type) {
      case 'uint8': dv.setUint8(o, v); break;
      case 'int8': dv.setInt8(o, v); break;
      case 'int16': dv.setInt16(o, v, false); break;
      case 'int32': dv.setInt32(o, v, false); break;
      case 'float32': dv.setFloat32(o, v, false); break;
      case 'float64': dv.setFloat64(o, v, false); break;
    }
  }
  return out;
}

/** Read an IDX file, gzip-compressed (.gz) or raw, from a path (Node) or bytes. */
export async function readIdx(src: BytesSource, opts: { name?: string; hint?: string } = {}): Promise<IdxArray> {
  checkSource('readIdx', src);
  const name = opts.name ?? sourceName(src, '<IDX bytes>');
  return parseIdx(await readMaybeGzip(src, name, opts.hint), name);
}
