/**
 * The compressed form of the embedded UCI digits (src/data/generated/digits_data.ts): an
 * adaptive arithmetic code of the 1,797 x 64 pixel values (0..16) and the labels, 32 kB
 * where gzip needs 44 kB (the package carries it, so its size is the package's).
 *
 * Model: each pixel is coded with counts of its 17 values kept per context, the context being
 * the pixel's position in the 8x8 image and its left and upper neighbours, each quantised to
 * 6 levels (0, 1-3, 4-7, 8-11, 12-15, 16); each label with counts per previous label. Counts
 * start at 1 and grow by 5 per occurrence (about an estimator with a prior of 0.2). Coder:
 * Witten, Neal and Cleary's integer arithmetic coder with 32-bit bounds (products stay below
 * 2^53, exact in doubles). `encodeDigits` is used by scripts/embed-digits.mjs, `decodeDigits`
 * by loadDigits; the round trip is tested against datasets/digits.csv.gz.
 */

const VALUES = 17;
const CLASSES = 10;
const INCREMENT = 5;
const TOP = 2 ** 32 - 1;
const HALF = 2 ** 31;
const QUARTER = 2 ** 30;

/** The neighbour levels of the context: 0, 1-3, 4-7, 8-11, 12-15, 16. */
const level = (v: number): number => (v === 0 ? 0 : v < 4 ? 1 : v < 8 ? 2 : v < 12 ? 3 : v < 16 ? 4 : 5);

/** Context of pixel p (0..63) of the image at `base` in `pixels`. */
function pixelContext(pixels: Uint8Array, base: number, p: number): number {
  const r = p >> 3, c = p & 7;
  const left = c > 0 ? pixels[base + p - 1] : 0, up = r > 0 ? pixels[base + p - 8] : 0;
  return (p * 6 + level(left)) * 6 + level(up);
}

/** Adaptive counts of `symbols` values in `contexts` contexts. */
class Counts {
  readonly counts: Uint32Array;
  readonly totals: Uint32Array;
  constructor(contexts: number, readonly symbols: number) {
    this.counts = new Uint32Array(contexts * symbols).fill(1);
    this.totals = new Uint32Array(contexts).fill(symbols);
  }
  /** Cumulative count of the values below `s` in context `ctx`. */
  below(ctx: number, s: number): number {
    let cum = 0;
    for (let i = ctx * this.symbols, end = i + s; i < end; i++) cum += this.counts[i];
    return cum;
  }
  update(ctx: number, s: number): void {
    this.counts[ctx * this.symbols + s] += INCREMENT;
    this.totals[ctx] += INCREMENT;
  }
}

const pixelCounts = () => new Counts(64 * 36, VALUES);
const labelCounts = () => new Counts(CLASSES, CLASSES);

/** Code `n` images (pixels: n x 64 values 0..16, row-major) and their labels (0..9). */
export function encodeDigits(pixels: Uint8Array, labels: Uint8Array): Uint8Array {
  const n = labels.length;
  if (pixels.length !== n * 64) throw new RangeError(`encodeDigits: ${pixels.length} pixel values for ${n} labels, expected ${n * 64}`);
  const bits: number[] = [];
  let low = 0, high = TOP, pending = 0;
  const emit = (bit: number) => {
    bits.push(bit);
    for (; pending > 0; pending--) bits.push(1 - bit);
  };
  const code = (model: Counts, ctx: number, s: number) => {
    const range = high - low + 1, total = model.totals[ctx], cum = model.below(ctx, s);
    high = low + Math.floor((range * (cum + model.counts[ctx * model.symbols + s])) / total) - 1;
    low += Math.floor((range * cum) / total);
    model.update(ctx, s);
    for (;;) {
      if (high < HALF) emit(0);
      else if (low >= HALF) {
        emit(1);
        low -= HALF;
        high -= HALF;
      } else if (low >= QUARTER && high < 3 * QUARTER) {
        pending++;
        low -= QUARTER;
        high -= QUARTER;
      } else break;
      low *= 2;
      high = high * 2 + 1;
    }
  };
  const px = pixelCounts(), lb = labelCounts();
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < 64; p++) {
      const v = pixels[i * 64 + p];
      if (!(v >= 0 && v < VALUES)) throw new RangeError(`encodeDigits: pixel ${p} of image ${i} is ${v}, expected 0..16`);
      code(px, pixelContext(pixels, i * 64, p), v);
    }
  }
  for (let i = 0; i < n; i++) {
    if (!(labels[i] < CLASSES)) throw new RangeError(`encodeDigits: label ${i} is ${labels[i]}, expected 0..9`);
    code(lb, i > 0 ? labels[i - 1] : 0, labels[i]);
  }
  pending++;
  emit(low < QUARTER ? 0 : 1);
  const out = new Uint8Array((bits.length + 7) >> 3);
  bits.forEach((b, i) => (out[i >> 3] |= b << (7 - (i & 7))));
  return out;
}

/** Decode what encodeDigits wrote for `n` images: { pixels: n x 64, labels: n }. */
export function decodeDigits(bytes: Uint8Array, n: number): { pixels: Uint8Array; labels: Uint8Array } {
  let pos = 0;
  // past the end the stream reads as zeros (the encoder's last bits make any tail decode the same)
  const bit = () => (pos < bytes.length * 8 ? (bytes[pos >> 3] >> (7 - (pos++ & 7))) & 1 : (pos++, 0));
  let low = 0, high = TOP, value = 0;
  for (let i = 0; i < 32; i++) value = value * 2 + bit();
  const decode = (model: Counts, ctx: number): number => {
    const range = high - low + 1, total = model.totals[ctx];
    const target = Math.floor(((value - low + 1) * total - 1) / range);
    let s = 0, cum = 0;
    const base = ctx * model.symbols;
    while (s < model.symbols - 1 && cum + model.counts[base + s] <= target) cum += model.counts[base + s++];
    high = low + Math.floor((range * (cum + model.counts[base + s])) / total) - 1;
    low += Math.floor((range * cum) / total);
    model.update(ctx, s);
    for (;;) {
      if (high < HALF) {
        // nothing to subtract
      } else if (low >= HALF) {
        low -= HALF;
        high -= HALF;
        value -= HALF;
      } else if (low >= QUARTER && high < 3 * QUARTER) {
        low -= QUARTER;
        high -= QUARTER;
        value -= QUARTER;
      } else break;
      low *= 2;
      high = high * 2 + 1;
      value = value * 2 + bit();
    }
    return s;
  };
  const pixels = new Uint8Array(n * 64), labels = new Uint8Array(n);
  const px = pixelCounts(), lb = labelCounts();
  for (let i = 0; i < n; i++) for (let p = 0; p < 64; p++) pixels[i * 64 + p] = decode(px, pixelContext(pixels, i * 64, p));
  for (let i = 0; i < n; i++) labels[i] = decode(lb, i > 0 ? labels[i - 1] : 0);
  return { pixels, labels };
}
