/**
 * Writing PNG with no dependency and synchronously (browsers have no synchronous
 * compressor): rows filtered with Sub or Up (whichever has the smaller sum of absolute
 * bytes, the usual heuristic), then DEFLATE with fixed Huffman codes and greedy LZ77
 * matches from a 3-byte hash (one candidate per hash). Plots and tile grids are mostly flat
 * colour, which this compresses to a few percent of the raw size; photographs less well
 * than zlib would, but always to a valid file.
 */

/** CRC-32 (PNG chunks), table built on first use. */
let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function adler32(bytes: Uint8Array): number {
  let a = 1, b = 0;
  for (let i = 0; i < bytes.length; ) {
    const end = Math.min(bytes.length, i + 5552);
    for (; i < end; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

class BitWriter {
  private buf = new Uint8Array(1 << 16);
  private n = 0;
  private acc = 0;
  private bits = 0;
  /** `count` bits of `value`, least significant first (DEFLATE's order for everything but Huffman codes). */
  write(value: number, count: number): void {
    this.acc |= value << this.bits;
    this.bits += count;
    while (this.bits >= 8) {
      this.byte(this.acc & 0xff);
      this.acc >>>= 8;
      this.bits -= 8;
    }
  }
  /** A Huffman code of `len` bits, most significant bit first. */
  code(code: number, len: number): void {
    let r = 0;
    for (let i = 0; i < len; i++) r |= ((code >> i) & 1) << (len - 1 - i);
    this.write(r, len);
  }
  byte(b: number): void {
    if (this.n === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = b;
  }
  finish(): Uint8Array {
    if (this.bits > 0) this.byte(this.acc & 0xff);
    this.acc = 0;
    this.bits = 0;
    return this.buf.subarray(0, this.n);
  }
}

const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/** The fixed literal/length code of symbol `s` (RFC 1951 3.2.6). */
function writeLitLen(w: BitWriter, s: number): void {
  if (s < 144) w.code(0x30 + s, 8);
  else if (s < 256) w.code(0x190 + s - 144, 9);
  else if (s < 280) w.code(s - 256, 7);
  else w.code(0xc0 + s - 280, 8);
}

function upperIndex(table: number[], v: number): number {
  let i = table.length - 1;
  while (table[i] > v) i--;
  return i;
}

/** zlib stream (RFC 1950) of one fixed-Huffman DEFLATE block. */
export function zlibCompress(data: Uint8Array): Uint8Array {
  const w = new BitWriter();
  w.byte(0x78);
  w.byte(0x01);
  w.write(1, 1); // BFINAL
  w.write(1, 2); // BTYPE 01: fixed Huffman codes
  const WINDOW = 32768, MAX = 258;
  const head = new Int32Array(1 << 15).fill(-1);
  const hash = (i: number) => ((data[i] << 10) ^ (data[i + 1] << 5) ^ data[i + 2]) & 0x7fff;
  let i = 0;
  while (i < data.length) {
    let len = 0, dist = 0;
    if (i + 2 < data.length) {
      const h = hash(i);
      const cand = head[h];
      head[h] = i;
      if (cand >= 0 && i - cand <= WINDOW) {
        const limit = Math.min(MAX, data.length - i);
        let l = 0;
        while (l < limit && data[cand + l] === data[i + l]) l++;
        if (l >= 3) {
          len = l;
          dist = i - cand;
        }
      }
    }
    if (len >= 3) {
      const li = upperIndex(LEN_BASE, len);
      writeLitLen(w, 257 + li);
      if (LEN_EXTRA[li]) w.write(len - LEN_BASE[li], LEN_EXTRA[li]);
      const di = upperIndex(DIST_BASE, dist);
      w.code(di, 5);
      if (DIST_EXTRA[di]) w.write(dist - DIST_BASE[di], DIST_EXTRA[di]);
      // Index the positions inside the match too (cheaply: every one), so later runs find them.
      for (let k = 1; k < len && i + k + 2 < data.length; k++) head[hash(i + k)] = i + k;
      i += len;
    } else {
      writeLitLen(w, data[i]);
      i++;
    }
  }
  writeLitLen(w, 256);
  const body = w.finish();
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, adler32(data));
  return out;
}

/**
 * Encode 8-bit pixels as PNG: `channels` 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA),
 * row-major and interleaved. `decodePng` reads it back exactly.
 */
export function encodePng(img: { width: number; height: number; channels: number; data: ArrayLike<number> }): Uint8Array {
  const { width, height, channels, data } = img;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) throw new RangeError(`encodePng: width and height must be positive integers, received ${width}x${height}`);
  const colorType = ({ 1: 0, 2: 4, 3: 2, 4: 6 } as Record<number, number>)[channels];
  if (colorType === undefined) throw new RangeError(`encodePng: channels must be 1, 2, 3 or 4, received ${channels}`);
  const stride = width * channels;
  if (data.length !== stride * height) throw new RangeError(`encodePng: ${data.length} values for ${width}x${height}x${channels} (${stride * height} expected)`);
  const raw = new Uint8Array((stride + 1) * height);
  const sub = new Uint8Array(stride), up = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const o = y * stride;
    let sumSub = 0, sumUp = 0;
    for (let x = 0; x < stride; x++) {
      const v = data[o + x] & 0xff;
      const s = (v - (x >= channels ? data[o + x - channels] & 0xff : 0)) & 0xff;
      const u = (v - (y > 0 ? data[o - stride + x] & 0xff : 0)) & 0xff;
      sub[x] = s;
      up[x] = u;
      sumSub += s < 128 ? s : 256 - s;
      sumUp += u < 128 ? u : 256 - u;
    }
    const r = y * (stride + 1);
    raw[r] = sumUp < sumSub ? 2 : 1;
    raw.set(sumUp < sumSub ? up : sub, r + 1);
  }
  const idat = zlibCompress(raw);
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  const chunks: [string, Uint8Array][] = [['IHDR', ihdr], ['IDAT', idat], ['IEND', new Uint8Array(0)]];
  const total = 8 + chunks.reduce((a, [, b]) => a + 12 + b.length, 0);
  const out = new Uint8Array(total);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(out.buffer);
  let pos = 8;
  for (const [type, body] of chunks) {
    dv.setUint32(pos, body.length);
    for (let k = 0; k < 4; k++) out[pos + 4 + k] = type.charCodeAt(k);
    out.set(body, pos + 8);
    dv.setUint32(pos + 8 + body.length, crc32(out.subarray(pos + 4, pos + 8 + body.length)));
    pos += 12 + body.length;
  }
  return out;
}
