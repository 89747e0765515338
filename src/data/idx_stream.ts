/**
 * IDX files read incrementally (Node): the header first, then one record (one image, one
 * label) at a time from a file stream, gunzipped on the fly for .gz files, so a set of any
 * size trains through `fit` with a few records in memory. `streamIdx` pairs an images
 * file with a labels file as a StreamDataset of examples `{ x, y }`.
 */
import { DataFormatError, DataNotFoundError } from './errors.js';
import { StreamDataset } from './stream.js';

const TYPES: Record<number, [string, number]> = { 0x08: ['uint8', 1], 0x09: ['int8', 1], 0x0b: ['int16', 2], 0x0c: ['int32', 4], 0x0d: ['float32', 4], 0x0e: ['float64', 8] };

const nodeImport = (m: string): Promise<any> => import(/* webpackIgnore: true */ /* @vite-ignore */ m); // eslint-disable-line @typescript-eslint/no-explicit-any

/** The header of an IDX file and an iterator over its records (each the values of one item, as numbers). */
export async function idxRecords(path: string): Promise<{ dims: number[]; type: string; records: AsyncGenerator<Float64Array> }> {
  if (typeof path !== 'string' || path === '') throw new TypeError(`idxRecords: give the path of an IDX file (Node), received ${typeof path}`);
  const fs = await nodeImport('node:fs');
  const zlib = await nodeImport('node:zlib');
  if (!fs.existsSync(path)) throw new DataNotFoundError(path, 'Give the path of an IDX file (e.g. train-images-idx3-ubyte.gz; Fashion-MNIST: apt-get install dataset-fashion-mnist, files under /usr/share/datasets/fashion-mnist).');
  const head = new Uint8Array(2);
  const fd = fs.openSync(path, 'r');
  try {
    fs.readSync(fd, head, 0, 2, 0);
  } finally {
    fs.closeSync(fd);
  }
  const raw = fs.createReadStream(path, { highWaterMark: 1 << 16 });
  const stream = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(zlib.createGunzip()) : raw;
  // A failed gunzip is reported by the piped stream; close the file stream with it.
  stream.on?.('error', () => raw.destroy());
  const chunks: AsyncIterator<Uint8Array> = stream[Symbol.asyncIterator]();
  let buf = new Uint8Array(0);
  const need = async (n: number): Promise<boolean> => {
    while (buf.length < n) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await chunks.next();
      } catch (e) {
        throw new DataFormatError(path, `cannot read or decompress (${(e as Error).message}); the file may be truncated`);
      }
      if (r.done) return false;
      const next = new Uint8Array(buf.length + r.value.length);
      next.set(buf);
      next.set(r.value, buf.length);
      buf = next;
    }
    return true;
  };
  if (!(await need(4))) throw new DataFormatError(path, 'truncated: too short for an IDX header');
  if (buf[0] !== 0 || buf[1] !== 0 || !TYPES[buf[2]] || buf[3] === 0) {
    raw.destroy();
    throw new DataFormatError(path, `wrong magic number ${[...buf.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}: not an IDX file`);
  }
  const [type, size] = TYPES[buf[2]];
  const nd = buf[3];
  if (!(await need(4 + 4 * nd))) throw new DataFormatError(path, `truncated: the header declares ${nd} dimensions`);
  const hv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims = Array.from({ length: nd }, (_, i) => hv.getUint32(4 + 4 * i, false));
  buf = buf.slice(4 + 4 * nd);
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  const recordBytes = per * size;
  async function* records(): AsyncGenerator<Float64Array> {
    try {
      for (let i = 0; i < dims[0]; i++) {
        if (!(await need(recordBytes))) throw new DataFormatError(path, `truncated: the header declares ${dims[0]} items, the file ends in item ${i}`);
        const dv = new DataView(buf.buffer, buf.byteOffset, recordBytes);
        const out = new Float64Array(per);
        for (let k = 0; k < per; k++) {
          const o = k * size;
          out[k] = type === 'uint8' ? buf[o] : type === 'int8' ? dv.getInt8(o) : type === 'int16' ? dv.getInt16(o, false) : type === 'int32' ? dv.getInt32(o, false) : type === 'float32' ? dv.getFloat32(o, false) : dv.getFloat64(o, false);
        }
        buf = buf.subarray(recordBytes);
        yield out;
      }
    } finally {
      raw.destroy();
    }
  }
  return { dims, type, records: records() };
}

export interface StreamIdxOptions {
  /** Multiply sample values by this (default 1/255: MNIST bytes to 0..1). */
  scale?: number;
  /** Only the first `limit` examples. */
  limit?: number;
}

/**
 * An images IDX file and a labels IDX file (gzip or raw) as a stream of examples
 * `{ x: Float32Array, y: class index }`, sample shape [rows, cols, 1] (or the images'
 * dims after the first, for other IDX data). Read afresh on every pass: e.g.
 * `streamIdx(imgs, labels).shuffle(10000, 1).batch(64).prefetch(2)` trains with the
 * shuffle buffer and a few batches in memory.
 */
export async function streamIdx(images: string, labels: string, opts: StreamIdxOptions = {}): Promise<StreamDataset<{ x: Float32Array; y: number }>> {
  const scale = opts.scale ?? 1 / 255;
  if (!Number.isFinite(scale)) throw new RangeError(`streamIdx: scale must be a finite number, received ${opts.scale}`);
  if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 1)) throw new RangeError(`streamIdx: limit must be a positive integer, received ${opts.limit}`);
  // Read both headers now: errors (missing file, wrong magic, count mismatch) surface at once, not in epoch 1.
  const [im, lb] = await Promise.all([idxRecords(images), idxRecords(labels)]);
  await Promise.all([im.records.return(undefined), lb.records.return(undefined)]);
  if (im.dims[0] !== lb.dims[0]) throw new DataFormatError(labels, `${lb.dims[0]} labels for ${im.dims[0]} images in ${images}`);
  if (lb.dims.length !== 1) throw new DataFormatError(labels, `labels must be one value per item (dims [N]), the header declares [${lb.dims.join(', ')}]`);
  const sampleShape = im.dims.length === 3 ? [im.dims[1], im.dims[2], 1] : im.dims.slice(1);
  const n = Math.min(im.dims[0], opts.limit ?? Infinity);
  return StreamDataset.generator(async function* () {
    const [a, b] = await Promise.all([idxRecords(images), idxRecords(labels)]);
    try {
      for (let i = 0; i < n; i++) {
        const [x, y] = await Promise.all([a.records.next(), b.records.next()]);
        if (x.done || y.done) return;
        const xs = new Float32Array(x.value.length);
        for (let k = 0; k < xs.length; k++) xs[k] = x.value[k] * scale;
        yield { x: xs, y: y.value[0] };
      }
    } finally {
      await Promise.all([a.records.return(undefined), b.records.return(undefined)]);
    }
  }, { sampleShape, labelShape: [] });
}
