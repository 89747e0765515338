/**
 * Looking at what a convnet computes: feature maps (one grey tile per channel of a
 * layer's activation) and filters (one tile per filter; RGB when the filter spans three
 * input channels), laid out in a grid and written as PNG with no dependency.
 */
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';

/** An 8-bit image: grey (channels 1) or RGB (channels 3), row-major, interleaved. */
export interface Image8 {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
}

/** Scale values to 0..255 by their own min and max (a constant tile becomes mid-grey). */
function toBytes(values: ArrayLike<number>): Uint8Array {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = !Number.isFinite(v) ? 0 : hi > lo ? Math.round((255 * (v - lo)) / (hi - lo)) : 128;
  }
  return out;
}

/** Lay tiles of equal size in a grid with `pad` pixels of black between them. */
function grid(tiles: Uint8Array[], h: number, w: number, channels: 1 | 3, cols: number, pad: number): Image8 {
  const rows = Math.ceil(tiles.length / cols);
  const width = cols * w + (cols - 1) * pad, height = rows * h + (rows - 1) * pad;
  const pixels = new Uint8Array(width * height * channels);
  tiles.forEach((t, k) => {
    const r0 = Math.floor(k / cols) * (h + pad), c0 = (k % cols) * (w + pad);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let c = 0; c < channels; c++) pixels[((r0 + i) * width + c0 + j) * channels + c] = t[(i * w + j) * channels + c];
      }
    }
  });
  return { width, height, channels, pixels };
}

/**
 * One grey tile per channel of an activation [H, W, C] or [1, H, W, C], each scaled to
 * its own range, in a grid of `cols` columns.
 */
export function featureMapGrid(activation: Tensor, opts: { cols?: number; pad?: number } = {}): Image8 {
  const s = activation.rank === 4 && activation.shape[0] === 1 ? activation.shape.slice(1) : activation.shape;
  if (s.length !== 3) throw new RangeError(`featureMapGrid: activation must have shape [H, W, C] or [1, H, W, C], received ${fmtShape(activation.shape)}`);
  const [H, W, C] = s;
  const v = activation.dataSync();
  const tiles: Uint8Array[] = [];
  for (let c = 0; c < C; c++) {
    const ch = new Float64Array(H * W);
    for (let p = 0; p < H * W; p++) ch[p] = v[p * C + c];
    tiles.push(toBytes(ch));
  }
  return grid(tiles, H, W, 1, opts.cols ?? Math.ceil(Math.sqrt(C)), opts.pad ?? 1);
}

/**
 * One tile per filter of an HWIO filter bank [KH, KW, Cin, F]: RGB when Cin = 3 (as for
 * a first layer on colour images), else the filter averaged over its input channels.
 */
export function filterGrid(w: Tensor, opts: { cols?: number; pad?: number } = {}): Image8 {
  if (w.rank !== 4) throw new RangeError(`filterGrid: filters must have shape [KH, KW, Cin, F], received ${fmtShape(w.shape)}`);
  const [KH, KW, Cin, F] = w.shape;
  const v = w.dataSync();
  const rgb = Cin === 3;
  const tiles: Uint8Array[] = [];
  for (let f = 0; f < F; f++) {
    const t = new Float64Array(KH * KW * (rgb ? 3 : 1));
    for (let p = 0; p < KH * KW; p++) {
      for (let c = 0; c < Cin; c++) {
        const x = v[(p * Cin + c) * F + f];
        if (rgb) t[p * 3 + c] = x;
        else t[p] += x / Cin;
      }
    }
    tiles.push(toBytes(t));
  }
  return grid(tiles, KH, KW, rgb ? 3 : 1, opts.cols ?? Math.ceil(Math.sqrt(F)), opts.pad ?? 1);
}

// ------------------------------------------------------------------ PNG

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** zlib stream with stored (uncompressed) deflate blocks: valid PNG data, no compressor needed. */
function zlibStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / 65535));
  const out = new Uint8Array(2 + data.length + blocks * 5 + 4);
  out[0] = 0x78;
  out[1] = 0x01;
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const start = b * 65535, len = Math.min(65535, data.length - start);
    out[o++] = b === blocks - 1 ? 1 : 0;
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(data.subarray(start, start + len), o);
    o += len;
  }
  let a = 1, s = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]) % 65521;
    s = (s + a) % 65521;
  }
  const adler = ((s << 16) | a) >>> 0;
  out[o++] = adler >>> 24;
  out[o++] = (adler >>> 16) & 0xff;
  out[o++] = (adler >>> 8) & 0xff;
  out[o++] = adler & 0xff;
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encode an 8-bit grey or RGB image as PNG bytes. The pixel data is stored uncompressed
 * (no dependency); pass `deflate` (e.g. node:zlib's `deflateSync`, which writes the zlib
 * format PNG wants) for a small file.
 */
export function encodePNG(img: Image8, opts: { deflate?: (raw: Uint8Array) => Uint8Array } = {}): Uint8Array {
  const { width, height, channels, pixels } = img;
  if (pixels.length !== width * height * channels) throw new RangeError(`encodePNG: ${pixels.length} bytes for a ${width}x${height}x${channels} image`);
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 3 ? 2 : 0; // colour type: truecolour or greyscale
  const raw = new Uint8Array(height * (1 + width * channels));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * channels)] = 0; // filter: none
    raw.set(pixels.subarray(y * width * channels, (y + 1) * width * channels), y * (1 + width * channels) + 1);
  }
  const sig = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
  const parts = [sig, chunk('IHDR', ihdr), chunk('IDAT', opts.deflate ? opts.deflate(raw) : zlibStored(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
