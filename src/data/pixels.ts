/**
 * Images in and out of tensors in the browser, like TF.js's `tf.browser.fromPixels` /
 * `toPixels`, plus `decodeImage` (any format the browser decodes, via createImageBitmap;
 * PNG/PGM/PPM with convkit's own readers where there is none, as in Node).
 *
 * Sources are recognised by their members (duck typing), so these declarations need no
 * DOM lib and a Node program can pass ImageData-like objects `{ width, height, data }`.
 */
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { tensor } from '../ops/creation.js';
import { DataFormatError } from './errors.js';
import { decodePng, decodePnm, foreignFormat, foreignFormatMessage, type DecodedImage } from './image.js';

/** `ImageData`, or any `{ width, height, data }` with RGBA bytes (width * height * 4). */
export interface ImageDataLike {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray | Uint8Array;
}

/** The 2D context members used here (CanvasRenderingContext2D, OffscreenCanvasRenderingContext2D). */
export interface Context2DLike {
  drawImage(image: never, dx: number, dy: number, dw?: number, dh?: number): void;
  getImageData(sx: number, sy: number, sw: number, sh: number): ImageDataLike;
  createImageData(sw: number, sh: number): ImageDataLike;
  putImageData(image: never, dx: number, dy: number): void;
}

/** HTMLCanvasElement or OffscreenCanvas. */
export interface CanvasLike {
  width: number;
  height: number;
  getContext(contextId: '2d', options?: { willReadFrequently?: boolean }): unknown;
}

/** What fromPixels reads: ImageData, a canvas, an <img>, a <video>, an ImageBitmap or a VideoFrame (checked by their members). */
export type PixelSource =
  | ImageDataLike
  | CanvasLike
  | { readonly naturalWidth: number; readonly naturalHeight: number; readonly complete?: boolean } // HTMLImageElement
  | { readonly videoWidth: number; readonly videoHeight: number; readonly readyState?: number } // HTMLVideoElement
  | { readonly displayWidth: number; readonly displayHeight: number; close(): void } // VideoFrame
  | { readonly width: number; readonly height: number; close(): void }; // ImageBitmap

export interface FromPixelsOptions {
  /**
   * 'int32' (the default, as tf.browser.fromPixels): values 0..255. 'float32': values
   * divided by 255, in [0, 1] (what toPixels reads back for float tensors, and what
   * convkit's image models take).
   */
  dtype?: 'int32' | 'float32';
}

const g = globalThis as unknown as {
  OffscreenCanvas?: new (w: number, h: number) => CanvasLike;
  document?: { createElement(tag: 'canvas'): CanvasLike };
  createImageBitmap?: (src: unknown) => Promise<{ width: number; height: number; close(): void }>;
  Blob?: new (parts: unknown[], opts?: { type?: string }) => unknown;
};

const has = (o: unknown, k: string): boolean => typeof o === 'object' && o !== null && k in o;

/** A scratch canvas of w x h: OffscreenCanvas (also in workers), else a <canvas> element. */
function scratch(w: number, h: number, op: string, what: string): Context2DLike {
  let c: CanvasLike | null = null;
  if (g.OffscreenCanvas) c = new g.OffscreenCanvas(w, h);
  else if (g.document?.createElement) {
    c = g.document.createElement('canvas');
    c.width = w;
    c.height = h;
  }
  if (!c) throw new TypeError(`${op}: reading pixels from ${what} needs a canvas (OffscreenCanvas or document), which this environment lacks; in Node pass an ImageData-like { width, height, data } or decode PNG/PGM/PPM with readImage`);
  const ctx = c.getContext('2d', { willReadFrequently: true }) as Context2DLike | null;
  if (!ctx) throw new TypeError(`${op}: cannot get a 2D context to read ${what}`);
  return ctx;
}

/** RGBA bytes of any PixelSource. */
function rgbaOf(src: PixelSource, op: string): ImageDataLike {
  if (src === null || typeof src !== 'object') throw new TypeError(`${op}: expected ImageData, a canvas, an image, a video, an ImageBitmap or a VideoFrame, received ${src === null ? 'null' : typeof src}`);
  if (has(src, 'data') && has(src, 'width') && has(src, 'height') && !has(src, 'getContext')) {
    const d = src as ImageDataLike;
    if (!(d.data instanceof Uint8ClampedArray || d.data instanceof Uint8Array)) throw new TypeError(`${op}: ImageData-like data must be a Uint8ClampedArray or Uint8Array of RGBA bytes`);
    if (!(Number.isInteger(d.width) && d.width > 0 && Number.isInteger(d.height) && d.height > 0)) throw new RangeError(`${op}: ImageData-like size ${d.width}x${d.height} must be positive integers`);
    if (d.data.length !== d.width * d.height * 4) throw new RangeError(`${op}: ImageData-like data has ${d.data.length} bytes, ${d.width}x${d.height} RGBA needs ${d.width * d.height * 4}`);
    return d;
  }
  let w: number, h: number, what: string;
  if (has(src, 'getContext')) {
    const c = src as CanvasLike;
    [w, h, what] = [c.width, c.height, 'a canvas'];
    // A 2D canvas is read directly; a WebGL/WebGPU one (getContext('2d') is null) is drawn first.
    const ctx = c.getContext('2d', { willReadFrequently: true }) as Context2DLike | null;
    if (ctx && w > 0 && h > 0) return ctx.getImageData(0, 0, w, h);
  } else if (has(src, 'naturalWidth')) {
    const im = src as { naturalWidth: number; naturalHeight: number; complete?: boolean };
    if (im.complete === false) throw new RangeError(`${op}: the image has not finished loading (await img.decode() or its load event first)`);
    [w, h, what] = [im.naturalWidth, im.naturalHeight, 'an image element'];
  } else if (has(src, 'videoWidth')) {
    const v = src as { videoWidth: number; videoHeight: number; readyState?: number };
    if ((v.readyState ?? 2) < 2) throw new RangeError(`${op}: the video has no current frame yet (readyState ${v.readyState}; wait for 'loadeddata')`);
    [w, h, what] = [v.videoWidth, v.videoHeight, 'a video element'];
  } else if (has(src, 'displayWidth')) {
    const f = src as { displayWidth: number; displayHeight: number };
    [w, h, what] = [f.displayWidth, f.displayHeight, 'a VideoFrame'];
  } else if (has(src, 'width') && has(src, 'close')) {
    const b = src as { width: number; height: number };
    [w, h, what] = [b.width, b.height, 'an ImageBitmap'];
  } else throw new TypeError(`${op}: expected ImageData, a canvas, an image, a video, an ImageBitmap or a VideoFrame; this object has none of their members (width/height/data, getContext, naturalWidth, videoWidth, displayWidth)`);
  if (!(w > 0 && h > 0)) throw new RangeError(`${op}: ${what} has size ${w}x${h} (nothing to read; closed or not loaded?)`);
  const ctx = scratch(w, h, op, what);
  ctx.drawImage(src as never, 0, 0, w, h);
  return ctx.getImageData(0, 0, w, h);
}

function toTensor(img: ImageDataLike, channels: number, opts: FromPixelsOptions, op: string): Tensor {
  const dtype = opts.dtype ?? 'int32';
  if (dtype !== 'int32' && dtype !== 'float32') throw new RangeError(`${op}: dtype must be 'int32' or 'float32', received '${dtype}'`);
  const n = img.width * img.height;
  const out = dtype === 'int32' ? new Int32Array(n * channels) : new Float32Array(n * channels);
  const k = dtype === 'int32' ? 1 : 1 / 255;
  for (let p = 0; p < n; p++) for (let c = 0; c < channels; c++) out[p * channels + c] = img.data[p * 4 + c] * k;
  return tensor(out, [img.height, img.width, channels], dtype);
}

function checkChannels(channels: number, op: string): void {
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new RangeError(`${op}: channels must be 1, 3 or 4, received ${channels}`);
}

/**
 * Pixels of an image source as a tensor [height, width, channels], int32 0..255 (like
 * tf.browser.fromPixels; `{ dtype: 'float32' }` for 0..1). channels 3 drops alpha, 1 keeps
 * the red channel only (as TF.js does; for luma, average the three yourself), 4 keeps RGBA.
 */
export function fromPixels(source: PixelSource, channels = 3, opts: FromPixelsOptions = {}): Tensor {
  checkChannels(channels, 'fromPixels');
  return toTensor(rgbaOf(source, 'fromPixels'), channels, opts, 'fromPixels');
}

/**
 * A tensor [height, width] or [height, width, channels] (channels 1, 3 or 4) as RGBA bytes,
 * drawn into `canvas` (resized to fit) when given: float tensors must hold values in
 * [0, 1], int32 ones in [0, 255] (tf.browser.toPixels's rules). Asynchronous, as tensors on
 * webgpu are read asynchronously.
 */
export async function toPixels(image: Tensor, canvas?: CanvasLike): Promise<Uint8ClampedArray> {
  const op = 'toPixels';
  if (!image || typeof (image as Tensor).data !== 'function') throw new TypeError(`${op}: expected a tensor [height, width] or [height, width, channels]`);
  const s = image.shape;
  if (s.length !== 2 && s.length !== 3) throw new RangeError(`${op}: the tensor must be [height, width] or [height, width, channels], received ${fmtShape(s)}`);
  const [h, w] = s, c = s.length === 2 ? 1 : s[2];
  if (c !== 1 && c !== 3 && c !== 4) throw new RangeError(`${op}: ${c} channels; expected 1, 3 or 4 (shape ${fmtShape(s)})`);
  const vals = await image.data();
  const isInt = image.dtype === 'int32';
  const k = isInt ? 1 : 255;
  const out = new Uint8ClampedArray(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    for (let ch = 0; ch < c; ch++) {
      const v = vals[p * c + ch];
      if (!(isInt ? v >= 0 && v <= 255 : v >= 0 && v <= 1)) {
        throw new RangeError(`${op}: value ${v} at index ${p * c + ch} is outside ${isInt ? '[0, 255] (an int32 tensor)' : `[0, 1] (a ${image.dtype} tensor; divide by 255 or cast to int32)`}`);
      }
    }
    const o = p * 4;
    if (c === 1) out[o] = out[o + 1] = out[o + 2] = Math.round(vals[p] * k);
    else for (let ch = 0; ch < 3; ch++) out[o + ch] = Math.round(vals[p * c + ch] * k);
    out[o + 3] = c === 4 ? Math.round(vals[p * c + 3] * k) : 255;
  }
  if (canvas) {
    if (typeof canvas.getContext !== 'function') throw new TypeError(`${op}: canvas must be an HTMLCanvasElement or OffscreenCanvas`);
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d') as Context2DLike | null;
    if (!ctx) throw new TypeError(`${op}: the canvas has no 2D context (it already holds a WebGL or WebGPU one)`);
    const img = ctx.createImageData(w, h);
    img.data.set(out);
    ctx.putImageData(img as never, 0, 0);
  }
  return out;
}

/** A Blob, as far as decodeImage reads one. */
export interface BlobLike {
  arrayBuffer(): Promise<ArrayBuffer>;
  readonly type?: string;
}

function decodedToRgba(img: DecodedImage): ImageDataLike {
  const n = img.width * img.height, c = img.channels;
  const data = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    const grey = c <= 2;
    data[p * 4] = img.data[p * c];
    data[p * 4 + 1] = img.data[p * c + (grey ? 0 : 1)];
    data[p * 4 + 2] = img.data[p * c + (grey ? 0 : 2)];
    data[p * 4 + 3] = c === 2 ? img.data[p * c + 1] : c === 4 ? img.data[p * c + 3] : 255;
  }
  return { width: img.width, height: img.height, data };
}

/**
 * Decode image file bytes (or a Blob/File) into a tensor [height, width, channels] (int32
 * 0..255 as fromPixels; `opts.dtype: 'float32'` for 0..1). In a browser any format it
 * decodes works (JPEG, PNG, WebP, GIF, AVIF...) through createImageBitmap; without one
 * (Node), PNG, PGM and PPM are decoded by convkit, and JPEG or WebP get an error that says
 * what to do instead.
 */
export async function decodeImage(source: Uint8Array | ArrayBuffer | BlobLike, channels = 3, opts: FromPixelsOptions = {}): Promise<Tensor> {
  const op = 'decodeImage';
  checkChannels(channels, op);
  const isBlob = !!source && typeof (source as BlobLike).arrayBuffer === 'function' && !(source instanceof Uint8Array);
  if (!isBlob && !(source instanceof Uint8Array) && !(source instanceof ArrayBuffer)) throw new TypeError(`${op}: expected a Uint8Array, an ArrayBuffer or a Blob of image file bytes`);
  if (g.createImageBitmap && g.Blob) {
    const blob = isBlob ? source : new g.Blob([source as Uint8Array]);
    let bitmap: { width: number; height: number; close(): void };
    try {
      bitmap = await g.createImageBitmap(blob);
    } catch (e) {
      throw new DataFormatError('<image>', `the browser cannot decode these bytes as an image (${(e as Error).message})`);
    }
    try {
      return fromPixels(bitmap, channels, opts);
    } finally {
      bitmap.close();
    }
  }
  const bytes = isBlob ? new Uint8Array(await (source as BlobLike).arrayBuffer()) : source instanceof ArrayBuffer ? new Uint8Array(source) : (source as Uint8Array);
  let img: DecodedImage;
  if (bytes[0] === 0x89 && bytes[1] === 0x50) img = await decodePng(bytes, '<image>');
  else if (bytes[0] === 0x50 && bytes[1] >= 0x32 && bytes[1] <= 0x36) img = decodePnm(bytes, '<image>');
  else {
    const f = foreignFormat(bytes);
    throw new DataFormatError('<image>', f ? foreignFormatMessage(f) : 'not a PNG, PGM or PPM image (unrecognised signature), and there is no browser image decoder here');
  }
  return toTensor(decodedToRgba(img), channels, opts, op);
}
