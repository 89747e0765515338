/**
 * Bytes in, bytes out: base64, gzip and (in Node) files. Nothing here imports a Node
 * module at load time, so the data loaders run in browsers too, where callers hand
 * over ArrayBuffers instead of paths.
 */
import { DataFormatError, DataNotFoundError } from './errors.js';
import { describeValue } from '../tensor/describe.js';

/** A file's contents or its path (paths only in Node). */
export type BytesSource = string | ArrayBuffer | ArrayBufferView;

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

// A computed specifier keeps bundlers from trying to resolve Node built-ins for browsers.
const nodeImport = (m: string): Promise<any> => import(/* webpackIgnore: true */ /* @vite-ignore */ m); // eslint-disable-line @typescript-eslint/no-explicit-any

export function toBytes(b: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (b instanceof Uint8Array) return b;
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return new Uint8Array(b);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

/** Decode standard base64 (padding optional); works the same everywhere. */
export function base64ToBytes(s: string): Uint8Array {
  let len = s.length;
  while (len > 0 && s[len - 1] === '=') len--;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let acc = 0, bits = 0, o = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c] : -1;
    if (v < 0) throw new RangeError(`base64ToBytes: invalid character ${JSON.stringify(s[i])} at offset ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** True when `b` starts with the gzip magic number 1f 8b. */
export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/**
 * Decompress a gzip stream: with node:zlib in Node, with DecompressionStream in
 * browsers. A damaged stream is reported as a DataFormatError naming `file`.
 */
export async function gunzip(b: Uint8Array, file: string): Promise<Uint8Array> {
  if (isNode) {
    const zlib = await nodeImport('node:zlib');
    try {
      const out: Uint8Array = zlib.gunzipSync(b);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      throw new DataFormatError(file, `not a valid gzip stream (${(e as Error).message}); the file may be truncated or damaged`);
    }
  }
  return decompressWithStreams(b, 'gzip', file);
}

/**
 * Decompress with the web's DecompressionStream (browsers, Deno, Node 18+): the path
 * `gunzip` takes outside Node. Errors become DataFormatErrors naming `file`.
 */
export async function decompressWithStreams(b: Uint8Array, format: 'gzip' | 'deflate', file: string): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') {
    throw new DataFormatError(file, `is ${format}-compressed and this environment has neither node:zlib nor DecompressionStream: pass the decompressed bytes`);
  }
  try {
    const stream = new Blob([b as BlobPart]).stream().pipeThrough(new DecompressionStream(format));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    const what = format === 'gzip' ? 'not a valid gzip stream' : 'compressed data cannot be decompressed';
    throw new DataFormatError(file, `${what} (${(e as Error).message}); the file may be truncated or damaged`);
  }
}

/** Whether `path` exists (Node only; false elsewhere). */
export async function fileExists(path: string): Promise<boolean> {
  if (!isNode) return false;
  const fs = await nodeImport('node:fs');
  return fs.existsSync(path) as boolean;
}

/**
 * Read a file (Node) or take the bytes given. A missing path throws DataNotFoundError
 * with `hint`; a path in a browser throws an error asking for an ArrayBuffer instead.
 */
export async function readBytes(src: BytesSource, hint = ''): Promise<Uint8Array> {
  checkSource('readBytes', src);
  if (typeof src !== 'string') return toBytes(src);
  if (!isNode) throw new Error(`cannot read the file '${src}' here (no file system): fetch it and pass its ArrayBuffer instead`);
  const fs = await nodeImport('node:fs/promises');
  try {
    const buf: Uint8Array = await fs.readFile(src);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new DataNotFoundError(src, hint || 'convkit downloads nothing at run time: put the file there or pass another path.');
    if (code === 'EISDIR') throw new DataFormatError(src, 'is a directory, expected a file');
    throw new DataFormatError(src, `cannot be read (${(e as Error).message})`);
  }
}

/** Read a file or take the bytes, gunzipping them when they start with the gzip magic. */
export async function readMaybeGzip(src: BytesSource, name: string, hint = ''): Promise<Uint8Array> {
  const raw = await readBytes(src, hint);
  return isGzip(raw) ? gunzip(raw, name) : raw;
}

/**
 * A loader's source must be a path (string), an ArrayBuffer or a typed array: anything else
 * (undefined, null, a number) is named here, instead of reading as an empty file.
 */
export function checkSource(op: string, src: unknown): asserts src is BytesSource {
  if (typeof src === 'string' || src instanceof ArrayBuffer || ArrayBuffer.isView(src)) return;
  throw new TypeError(`${op}: expected a file path (string), an ArrayBuffer or a typed array, received ${describeValue(src)}`);
}

/** A readable name for a source in messages. */
export function sourceName(src: BytesSource, fallback: string): string {
  return typeof src === 'string' ? src : fallback;
}
