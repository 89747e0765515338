/**
 * Reading single images for prediction: PNG (any colour type, bit depths 1 to 16,
 * non-interlaced) and the Netpbm formats PGM/PPM (P2, P3, P5, P6), plus fitting an
 * image to a model's input shape (bilinear resize, grey <-> RGB, 0..1 scaling).
 */
import { DataFormatError } from './errors.js';
import { checkSource, decompressWithStreams, readBytes, sourceName, type BytesSource } from './bytes.js';

/** 8-bit pixels, row-major, `channels` interleaved (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). */
export interface DecodedImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const nodeImport = (m: string): Promise<any> => import(/* webpackIgnore: true */ /* @vite-ignore */ m); // eslint-disable-line @typescript-eslint/no-explicit-any

async function inflateZlib(b: Uint8Array, file: string): Promise<Uint8Array> {
  if (!isNode) return decompressWithStreams(b, 'deflate', file);
  try {
    const zlib = await nodeImport('node:zlib');
    const out: Uint8Array = zlib.inflateSync(b);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new DataFormatError(file, `PNG image data cannot be decompressed (${(e as Error).message}); the file may be truncated`);
  }
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Decode a PNG file's bytes. */
export async function decodePng(bytes: Uint8Array, file = '<png>'): Promise<DecodedImage> {
  if (bytes.length < 8 || PNG_SIG.some((v, i) => bytes[i] !== v)) throw new DataFormatError(file, 'not a PNG file (wrong signature)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0, height = 0, depth = 0, colorType = -1, interlace = 0;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  while (pos + 8 <= bytes.length) {
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (pos + 12 + len > bytes.length) throw new DataFormatError(file, `truncated: chunk ${type} needs ${len} bytes`);
    const body = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      const h = new DataView(body.buffer, body.byteOffset, body.byteLength);
      width = h.getUint32(0);
      height = h.getUint32(4);
      depth = body[8];
      colorType = body[9];
      interlace = body[12];
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  if (colorType < 0) throw new DataFormatError(file, 'PNG without an IHDR chunk');
  if (interlace !== 0) throw new DataFormatError(file, 'interlaced (Adam7) PNG is not supported: save it without interlacing');
  const samples = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (!samples || ![1, 2, 4, 8, 16].includes(depth)) throw new DataFormatError(file, `unsupported PNG colour type ${colorType} with bit depth ${depth}`);
  if (colorType === 3 && !palette) throw new DataFormatError(file, 'palette PNG without a PLTE chunk');
  const total = idat.reduce((a, c) => a + c.length, 0);
  const joined = new Uint8Array(total);
  let o = 0;
  for (const c of idat) {
    joined.set(c, o);
    o += c.length;
  }
  const raw = await inflateZlib(joined, file);
  const bitsPerPixel = samples * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  if (raw.length < height * (stride + 1)) throw new DataFormatError(file, `truncated: image data has ${raw.length} bytes, ${height * (stride + 1)} expected`);
  const un = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = un.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? un.subarray((y - 1) * stride, y * stride) : null;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp] : 0, b = prev ? prev[i] : 0, c = prev && i >= bpp ? prev[i - bpp] : 0;
      let v = src[i];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (f !== 0) throw new DataFormatError(file, `bad PNG filter type ${f} on row ${y}`);
      row[i] = v & 0xff;
    }
  }
  const outCh = colorType === 3 ? 3 : samples;
  const data = new Uint8Array(width * height * outCh);
  const sample = (rowOff: number, idx: number): number => {
    if (depth === 8) return un[rowOff + idx];
    if (depth === 16) return un[rowOff + 2 * idx];
    const bit = idx * depth;
    const v = (un[rowOff + (bit >> 3)] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
    return colorType === 3 ? v : Math.round((v * 255) / ((1 << depth) - 1));
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (colorType === 3) {
        const k = sample(y * stride, x);
        for (let ch = 0; ch < 3; ch++) data[(y * width + x) * 3 + ch] = palette![k * 3 + ch] ?? 0;
      } else for (let ch = 0; ch < samples; ch++) data[(y * width + x) * samples + ch] = sample(y * stride, x * samples + ch);
    }
  }
  return { width, height, channels: outCh, data };
}

/** Decode a Netpbm PGM/PPM image (P2, P3 ASCII; P5, P6 binary, maxval up to 65535). */
export function decodePnm(bytes: Uint8Array, file = '<pnm>'): DecodedImage {
  const magic = String.fromCharCode(bytes[0] ?? 0, bytes[1] ?? 0);
  if (!['P2', 'P3', 'P5', 'P6'].includes(magic)) throw new DataFormatError(file, `not a PGM/PPM file (magic '${magic}', expected P2, P3, P5 or P6)`);
  let pos = 2;
  const token = (): number => {
    for (;;) {
      while (pos < bytes.length && /\s/.test(String.fromCharCode(bytes[pos]))) pos++;
      if (bytes[pos] === 0x23) while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
      else break;
    }
    let s = '';
    while (pos < bytes.length && !/\s/.test(String.fromCharCode(bytes[pos]))) s += String.fromCharCode(bytes[pos++]);
    const v = Number(s);
    if (s === '' || !Number.isInteger(v) || v < 0) throw new DataFormatError(file, `bad or missing number '${s}' in the header or data`);
    return v;
  };
  const width = token(), height = token(), maxval = token();
  const channels = magic === 'P3' || magic === 'P6' ? 3 : 1;
  const n = width * height * channels;
  const data = new Uint8Array(n);
  const scale = (v: number) => Math.round((Math.min(v, maxval) * 255) / maxval);
  if (magic === 'P2' || magic === 'P3') for (let i = 0; i < n; i++) data[i] = scale(token());
  else {
    pos++; // the single whitespace after maxval
    const wide = maxval > 255;
    if (bytes.length - pos < n * (wide ? 2 : 1)) throw new DataFormatError(file, `truncated: ${n} samples expected`);
    for (let i = 0; i < n; i++) data[i] = scale(wide ? (bytes[pos + 2 * i] << 8) | bytes[pos + 2 * i + 1] : bytes[pos + i]);
  }
  return { width, height, channels, data };
}

/** The signature of a format convkit cannot decode itself, for a message that says so. */
export function foreignFormat(b: Uint8Array): string | null {
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'JPEG';
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45) return 'WebP';
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'GIF';
  if (b[0] === 0x42 && b[1] === 0x4d) return 'BMP';
  return null;
}

/** The message for a JPEG (WebP, GIF, BMP) where there is no browser decoder. */
export function foreignFormatMessage(format: string): string {
  return `${format} cannot be decoded here: convkit reads PNG, PGM and PPM itself (no dependency, no ${format} decoder) and leaves other formats to the browser. Convert the file to PNG (e.g. 'convert in.jpg out.png' with ImageMagick, or 'ffmpeg -i in.jpg out.png'), or decode it in a browser, where decodeImage uses createImageBitmap`;
}

/** Read a PNG, PGM or PPM image from a path (Node) or bytes, by its signature (JPEG, WebP, GIF, BMP: an error saying what to do). */
export async function readImage(src: BytesSource): Promise<DecodedImage> {
  checkSource('readImage', src);
  const name = sourceName(src, '<image>');
  const b = await readBytes(src, 'Give the path of a PNG, PGM or PPM image.');
  if (b[0] === 0x89 && b[1] === 0x50) return decodePng(b, name);
  if (b[0] === 0x50 && b[1] >= 0x32 && b[1] <= 0x36) return decodePnm(b, name);
  const f = foreignFormat(b);
  throw new DataFormatError(name, f ? foreignFormatMessage(f) : 'not a PNG, PGM or PPM image (unrecognised signature)');
}

/**
 * Fit an image to [height, width, channels] float32 in 0..1: alpha dropped, grey <-> RGB
 * (luma 0.299 R + 0.587 G + 0.114 B), bilinear resize (area-style sampling centres),
 * optional inversion (dark digits on white paper -> MNIST's white on black).
 */
export function imageToInput(img: DecodedImage, shape: readonly [number, number, number], opts: { invert?: boolean } = {}): Float32Array {
  const [H, W, C] = shape;
  const colour = img.channels >= 3;
  const px = (x: number, y: number, ch: number): number => {
    const o = (y * img.width + x) * img.channels;
    if (C === 1) return colour ? 0.299 * img.data[o] + 0.587 * img.data[o + 1] + 0.114 * img.data[o + 2] : img.data[o];
    return colour ? img.data[o + Math.min(ch, 2)] : img.data[o];
  };
  const out = new Float32Array(H * W * C);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(img.height - 1, Math.max(0, ((y + 0.5) * img.height) / H - 0.5));
    const y0 = Math.floor(sy), y1 = Math.min(img.height - 1, y0 + 1), fy = sy - y0;
    for (let x = 0; x < W; x++) {
      const sx = Math.min(img.width - 1, Math.max(0, ((x + 0.5) * img.width) / W - 0.5));
      const x0 = Math.floor(sx), x1 = Math.min(img.width - 1, x0 + 1), fx = sx - x0;
      for (let ch = 0; ch < C; ch++) {
        const v = (px(x0, y0, ch) * (1 - fx) + px(x1, y0, ch) * fx) * (1 - fy) + (px(x0, y1, ch) * (1 - fx) + px(x1, y1, ch) * fx) * fy;
        const s = v / 255;
        out[(y * W + x) * C + ch] = opts.invert ? 1 - s : s;
      }
    }
  }
  return out;
}
