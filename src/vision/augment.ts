/**
 * Data augmentation on NHWC image batches, seeded: mirroring, random crop (pad then
 * crop back, i.e. random translation), rotation, scaling, brightness / contrast /
 * per-channel colour shifts, random erasing (a rectangle filled with one value, as
 * torchvision's RandomErasing). Every transform draws fresh parameters per image, so
 * calling it on each mini-batch of each epoch generates new variants on the fly
 * (fit's `augment` option does this, through `augmentBatches`). Runs on the host (no gradients are needed for
 * inputs) and returns a new batch of the same shape.
 *
 * Geometry is one inverse affine map per image (output pixel -> source point) sampled
 * bilinearly with zero fill; a pure flip or integer shift therefore copies pixels exactly.
 */
import { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { tensor } from '../ops/creation.js';
import { Rng, rngOf } from '../ops/random.js';
import { epochSeed, TRANSFORM_STREAM } from '../train/fit.js';
import type { BatchTransform, TrainBatch } from '../train/training_data.js';

export interface AugmentOptions {
  /** Mirror left-right with this probability (true = 0.5). */
  flipHorizontal?: boolean | number;
  /** Mirror top-bottom with this probability (true = 0.5). */
  flipVertical?: boolean | number;
  /** Pad each side by this many pixels (zeros) and crop back to the original size at a random offset. */
  cropPadding?: number;
  /** Rotate by a uniform angle in [-rotation, rotation] degrees about the centre. */
  rotation?: number;
  /** Zoom by a uniform factor in [1 - s, 1 + s] (a number) or [min, max]. */
  scale?: number | readonly [number, number];
  /** Add one uniform offset in [-b, b] to every pixel of an image. */
  brightness?: number;
  /** Multiply the deviation from the image mean by a uniform factor in [1 - c, 1 + c]. */
  contrast?: number;
  /** Add a uniform offset in [-s, s] to each channel separately (a colour cast). */
  colorShift?: number;
  /**
   * Random erasing (Zhong et al. 2017; torchvision's RandomErasing): with this probability
   * (true = 0.5) fill one rectangle of each image, all channels, with a value. The rectangle
   * covers a uniform fraction `scale` of the image (default [0.02, 0.33]), its height / width
   * ratio is log-uniform in `ratio` (default [0.3, 3.3]); as torchvision, up to 10 draws look
   * for one that fits, and the image stays whole if none does. Applied last, after clipping.
   */
  erasing?: boolean | number | ErasingOptions;
  /**
   * Clamp what colour changes (brightness, contrast, colorShift) produce to this range (default
   * [0, 1]; null: no clamp). Geometry alone never clamps: a flip of normalised images keeps their
   * negative values.
   */
  clip?: readonly [number, number] | null;
  /** Seed of the generator (or an Rng to share). */
  seed?: number | Rng;
}

/** Random erasing's options (torchvision's RandomErasing arguments, same defaults). */
export interface ErasingOptions {
  /** Probability of erasing a rectangle of an image (default 0.5). */
  probability?: number;
  /** Range of the erased area as a fraction of the image (default [0.02, 0.33]). */
  scale?: readonly [number, number];
  /** Range of the rectangle's height / width (default [0.3, 3.3]), drawn log-uniformly. */
  ratio?: readonly [number, number];
  /** The value written into the rectangle (default 0). */
  value?: number;
}

/** Every option an Augmenter accepts; any other key is an error (a misspelt option would silently do nothing). */
export const AUGMENT_OPTION_NAMES: readonly (keyof AugmentOptions)[] = [
  'flipHorizontal', 'flipVertical', 'cropPadding', 'rotation', 'scale', 'brightness', 'contrast', 'colorShift', 'erasing', 'clip', 'seed',
];

interface ErasingSpec {
  p: number;
  scale: readonly [number, number];
  ratio: readonly [number, number];
  value: number;
}

/** Erasing options checked and completed with torchvision's defaults; null when off. */
function erasingSpec(e: AugmentOptions['erasing']): ErasingSpec | null {
  if (e === undefined || e === false) return null;
  const o: ErasingOptions = e === true ? {} : typeof e === 'number' ? { probability: e } : e;
  if (typeof o !== 'object' || o === null) throw new RangeError(`augment: erasing must be a boolean, a probability or an options object, received ${String(e)}`);
  for (const key of Object.keys(o)) {
    if (!['probability', 'scale', 'ratio', 'value'].includes(key)) throw new RangeError(`augment: unknown erasing option '${key}' (known: probability, scale, ratio, value)`);
  }
  const p = o.probability ?? 0.5;
  if (!(typeof p === 'number' && p >= 0 && p <= 1)) throw new RangeError(`augment: erasing probability must be in [0, 1], received ${String(o.probability)}`);
  const range = (name: string, v: readonly [number, number] | undefined, dflt: readonly [number, number], max: number): readonly [number, number] => {
    const r = v ?? dflt;
    if (!Array.isArray(r) || r.length !== 2 || !(r[0] > 0 && r[1] >= r[0] && r[1] <= max)) {
      throw new RangeError(`augment: erasing ${name} must be [min, max] with 0 < min <= max${Number.isFinite(max) ? ` <= ${max}` : ''}, received ${JSON.stringify(v)}`);
    }
    return [r[0], r[1]];
  };
  const value = o.value ?? 0;
  if (!Number.isFinite(value)) throw new RangeError(`augment: erasing value must be a finite number, received ${String(o.value)}`);
  return { p, scale: range('scale', o.scale, [0.02, 0.33], 1), ratio: range('ratio', o.ratio, [0.3, 3.3], Infinity), value };
}

/** A host batch: row-major NHWC values and their shape. */
export interface ImageBatch {
  data: Float32Array;
  shape: readonly [number, number, number, number];
}

function prob(v: boolean | number | undefined): number {
  return v === true ? 0.5 : typeof v === 'number' ? v : 0;
}

function checkShape(shape: readonly number[], op: string): asserts shape is readonly [number, number, number, number] {
  if (shape.length !== 4) throw new RangeError(`${op}: images must be a batch [N, H, W, C] (NHWC), received shape ${fmtShape(shape)}`);
}

/**
 * Warp one image by the inverse map (y, x) -> (sy, sx) = A * (y - cy, x - cx) + (cy + ty, cx + tx),
 * with A = [[a, b], [c, d]], sampling bilinearly; points outside read 0.
 */
function warp(src: Float32Array, dst: Float32Array, off: number, H: number, W: number, C: number, a: number, b: number, c: number, d: number, ty: number, tx: number): void {
  const cy = (H - 1) / 2, cx = (W - 1) / 2;
  const at = (y: number, x: number, ch: number): number => (y >= 0 && y < H && x >= 0 && x < W ? src[off + (y * W + x) * C + ch] : 0);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const dy = y - cy, dx = x - cx;
      const sy = a * dy + b * dx + cy + ty, sx = c * dy + d * dx + cx + tx;
      const y0 = Math.floor(sy), x0 = Math.floor(sx);
      const fy = sy - y0, fx = sx - x0;
      for (let ch = 0; ch < C; ch++) {
        let v = at(y0, x0, ch) * (1 - fy) * (1 - fx);
        if (fx !== 0) v += at(y0, x0 + 1, ch) * (1 - fy) * fx;
        if (fy !== 0) v += at(y0 + 1, x0, ch) * fy * (1 - fx);
        if (fx !== 0 && fy !== 0) v += at(y0 + 1, x0 + 1, ch) * fy * fx;
        dst[off + (y * W + x) * C + ch] = v;
      }
    }
  }
}

/** Snap values within 1e-9 of an integer (cos 90 degrees is 6e-17, not 0). */
const snap = (v: number): number => (Math.abs(v - Math.round(v)) < 1e-9 ? Math.round(v) : v);

export interface ImageTransform {
  flipH: boolean;
  flipV: boolean;
  /** Degrees, counter-clockwise. */
  angle: number;
  scale: number;
  /** Integer crop shift in pixels (positive: content moves up / left). */
  shiftY: number;
  shiftX: number;
  brightness: number;
  contrast: number;
  channelShift: number[];
  /** A rectangle filled with `value` in every channel after the rest (random erasing), or null. */
  erase?: { top: number; left: number; height: number; width: number; value: number } | null;
}

/** Apply one explicit transform to image `i` of `src` into `dst` (same layout). */
export function applyTransform(src: Float32Array, dst: Float32Array, shape: readonly [number, number, number, number], i: number, t: ImageTransform, clip: readonly [number, number] | null = [0, 1]): void {
  const [, H, W, C] = shape;
  const off = i * H * W * C;
  const th = (t.angle * Math.PI) / 180;
  const cos = snap(Math.cos(th)), sin = snap(Math.sin(th));
  // Forward (centred coordinates): q = scale * R(angle) * F * p, F the flips. Inverse:
  // p = F * R^T * q / scale, with R = [[cos, -sin], [sin, cos]] acting on (y, x).
  const fy = t.flipV ? -1 : 1, fx = t.flipH ? -1 : 1;
  const s = 1 / t.scale;
  const a = s * fy * cos, b = s * fy * sin, c = -s * fx * sin, d = s * fx * cos;
  const identity = a === 1 && b === 0 && c === 0 && d === 1 && t.shiftY === 0 && t.shiftX === 0;
  if (identity) dst.set(src.subarray(off, off + H * W * C), off);
  else if (b === 0 && c === 0 && Math.abs(a) === 1 && Math.abs(d) === 1 && Number.isInteger(t.shiftY) && Number.isInteger(t.shiftX)) moveRows(src, dst, off, H, W, C, a, d, t.shiftY, t.shiftX);
  else warp(src, dst, off, H, W, C, a, b, c, d, t.shiftY, t.shiftX);
  const colour = t.brightness !== 0 || t.contrast !== 1 || t.channelShift.some((v) => v !== 0);
  // the clamp bounds what colour changes produce: geometry only moves or interpolates pixels
  // (and fills 0), so without a colour change values stay as they are (normalised images
  // with negative values are not cut at 0 by a flip)
  if (colour) adjustColour(dst, off, H * W, C, t, clip);
  const e = t.erase;
  if (e) for (let y = e.top; y < e.top + e.height; y++) dst.fill(e.value, off + (y * W + e.left) * C, off + (y * W + e.left + e.width) * C);
}

/** Brightness, contrast and colour cast, then the clamp, of one image in place. */
function adjustColour(dst: Float32Array, off: number, n: number, C: number, t: ImageTransform, clip: readonly [number, number] | null): void {
  const mean = new Float64Array(C);
  if (t.contrast !== 1) {
    for (let p = 0; p < n; p++) for (let ch = 0; ch < C; ch++) mean[ch] += dst[off + p * C + ch];
    for (let ch = 0; ch < C; ch++) mean[ch] /= n;
  }
  for (let p = 0; p < n; p++) {
    for (let ch = 0; ch < C; ch++) {
      const k = off + p * C + ch;
      let v = dst[k];
      v = mean[ch] + (v - mean[ch]) * t.contrast + t.brightness + (t.channelShift[ch] ?? 0);
      if (clip) v = Math.min(clip[1], Math.max(clip[0], v));
      dst[k] = v;
    }
  }
}

/**
 * warp for flips and whole-pixel shifts only (a, d = +-1, no rotation or zoom): every source
 * position is a whole pixel, so each output pixel is one input pixel (or 0 outside), as warp
 * computes it, without the interpolation weights. Fashion-MNIST's mirror images take 0.5 ms a
 * batch of 64 through warp, a tenth of that here.
 */
function moveRows(src: Float32Array, dst: Float32Array, off: number, H: number, W: number, C: number, a: number, d: number, ty: number, tx: number): void {
  for (let y = 0; y < H; y++) {
    const sy = a === 1 ? y + ty : H - 1 - y + ty;
    const row = off + y * W * C;
    if (sy < 0 || sy >= H) {
      dst.fill(0, row, row + W * C);
      continue;
    }
    const srow = off + sy * W * C;
    for (let x = 0; x < W; x++) {
      const sx = d === 1 ? x + tx : W - 1 - x + tx;
      if (sx < 0 || sx >= W) dst.fill(0, row + x * C, row + (x + 1) * C);
      else if (C === 1) dst[row + x] = src[srow + sx];
      else dst.set(src.subarray(srow + sx * C, srow + (sx + 1) * C), row + x * C);
    }
  }
}

/**
 * A seeded random augmenter: `apply` draws new parameters for every image of every
 * batch. Two augmenters built with the same options and seed produce the same stream.
 */
export class Augmenter {
  readonly opts: AugmentOptions;
  private rng: Rng;
  private erasing: ErasingSpec | null;

  constructor(opts: AugmentOptions = {}) {
    for (const key of Object.keys(opts)) {
      if (!AUGMENT_OPTION_NAMES.includes(key as keyof AugmentOptions)) {
        throw new RangeError(`augment: unknown option '${key}' (known: ${AUGMENT_OPTION_NAMES.join(', ')})`);
      }
    }
    for (const key of ['cropPadding', 'rotation', 'brightness', 'contrast', 'colorShift'] as const) {
      const v = opts[key];
      if (v !== undefined && !(typeof v === 'number' && v >= 0 && Number.isFinite(v))) throw new RangeError(`augment: ${key} must be a non-negative number, received ${String(v)}`);
    }
    if (opts.cropPadding !== undefined && !Number.isInteger(opts.cropPadding)) throw new RangeError(`augment: cropPadding must be an integer, received ${opts.cropPadding}`);
    for (const key of ['flipHorizontal', 'flipVertical'] as const) {
      const p = prob(opts[key]);
      if (!(p >= 0 && p <= 1)) throw new RangeError(`augment: ${key} must be a boolean or a probability in [0, 1], received ${String(opts[key])}`);
    }
    const [lo, hi] = this.scaleRange(opts);
    if (!(lo > 0 && hi >= lo)) throw new RangeError(`augment: scale must give a range 0 < min <= max, received ${JSON.stringify(opts.scale)}`);
    this.erasing = erasingSpec(opts.erasing);
    this.opts = { ...opts };
    this.rng = rngOf(opts.seed ?? 0);
  }

  private scaleRange(opts: AugmentOptions): [number, number] {
    const s = opts.scale;
    if (s === undefined) return [1, 1];
    return typeof s === 'number' ? [1 - s, 1 + s] : [s[0], s[1]];
  }

  /** Draw the parameters for one image of `channels` channels (and `height` x `width` pixels, which erasing needs). */
  draw(channels: number, height = 0, width = 0): ImageTransform {
    const o = this.opts, r = this.rng;
    const [slo, shi] = this.scaleRange(o);
    const pad = o.cropPadding ?? 0;
    return {
      flipH: prob(o.flipHorizontal) > 0 && r.next() < prob(o.flipHorizontal),
      flipV: prob(o.flipVertical) > 0 && r.next() < prob(o.flipVertical),
      angle: o.rotation ? r.uniform(-o.rotation, o.rotation) : 0,
      scale: shi > slo ? r.uniform(slo, shi) : slo,
      shiftY: pad ? r.int(2 * pad + 1) - pad : 0,
      shiftX: pad ? r.int(2 * pad + 1) - pad : 0,
      brightness: o.brightness ? r.uniform(-o.brightness, o.brightness) : 0,
      contrast: o.contrast ? r.uniform(1 - o.contrast, 1 + o.contrast) : 1,
      channelShift: Array.from({ length: channels }, () => (o.colorShift ? r.uniform(-o.colorShift, o.colorShift) : 0)),
      erase: this.erasing ? this.drawErase(this.erasing, height, width) : null,
    };
  }

  /** torchvision's draw: up to 10 tries of an area and a log-uniform aspect ratio that fit inside the image. */
  private drawErase(e: ErasingSpec, H: number, W: number): ImageTransform['erase'] {
    if (!(H > 0 && W > 0)) throw new RangeError(`augment: erasing needs the image size, received ${H} x ${W}`);
    if (e.p === 0 || this.rng.next() >= e.p) return null;
    const [lr0, lr1] = [Math.log(e.ratio[0]), Math.log(e.ratio[1])];
    for (let attempt = 0; attempt < 10; attempt++) {
      const area = H * W * this.rng.uniform(e.scale[0], e.scale[1]);
      const aspect = Math.exp(this.rng.uniform(lr0, lr1));
      const height = Math.round(Math.sqrt(area * aspect)), width = Math.round(Math.sqrt(area / aspect));
      if (height < 1 || width < 1 || height >= H || width >= W) continue;
      return { top: this.rng.int(H - height + 1), left: this.rng.int(W - width + 1), height, width, value: e.value };
    }
    return null;
  }

  /** Augment a host batch; returns a new array of the same shape. */
  applyBatch(batch: ImageBatch): ImageBatch {
    checkShape(batch.shape, 'augment');
    const [N, H, W, C] = batch.shape;
    if (batch.data.length !== N * H * W * C) throw new RangeError(`augment: ${batch.data.length} values do not match shape ${fmtShape(batch.shape)}`);
    const out = new Float32Array(batch.data.length);
    const clip = this.opts.clip === undefined ? ([0, 1] as const) : this.opts.clip;
    for (let i = 0; i < N; i++) applyTransform(batch.data, out, batch.shape, i, this.draw(C, H, W), clip);
    return { data: out, shape: batch.shape };
  }

  /** Augment a tensor batch [N, H, W, C]; returns a new float32 tensor. */
  apply(x: Tensor): Tensor {
    checkShape(x.shape, 'augment');
    const data = x.dtype === 'float32' ? (x.dataSync() as Float32Array) : Float32Array.from(x.dataSync());
    return tensor(this.applyBatch({ data, shape: x.shape }).data, x.shape, 'float32');
  }
}

/** Augment one batch with fresh random parameters (see Augmenter). */
export function augment(x: Tensor, opts: AugmentOptions = {}): Tensor {
  return new Augmenter(opts).apply(x);
}

/** The same transform `t` (the rest the identity) of every image of a host batch, without clipping. */
export function transformBatch(batch: ImageBatch, t: Partial<ImageTransform>): ImageBatch {
  const out = new Float32Array(batch.data.length);
  const full: ImageTransform = { flipH: false, flipV: false, angle: 0, scale: 1, shiftY: 0, shiftX: 0, brightness: 0, contrast: 1, channelShift: [], ...t };
  for (let i = 0; i < batch.shape[0]; i++) applyTransform(batch.data, out, batch.shape, i, full, null);
  return { data: out, shape: batch.shape };
}

function deterministic(x: Tensor, op: string, t: Partial<ImageTransform>): Tensor {
  checkShape(x.shape, op);
  return tensor(transformBatch({ data: Float32Array.from(x.dataSync()), shape: x.shape }, t).data, x.shape, 'float32');
}

/** Mirror each image left-right. */
export const flipLeftRight = (x: Tensor): Tensor => deterministic(x, 'flipLeftRight', { flipH: true });
/** Mirror each image top-bottom. */
export const flipUpDown = (x: Tensor): Tensor => deterministic(x, 'flipUpDown', { flipV: true });
/** Rotate each image by `degrees` counter-clockwise about its centre (bilinear, zero fill). */
export const rotateImages = (x: Tensor, degrees: number): Tensor => deterministic(x, 'rotateImages', { angle: degrees });
/** Zoom each image by `factor` about its centre (> 1 enlarges; bilinear, zero fill). */
export const scaleImages = (x: Tensor, factor: number): Tensor => {
  if (!(factor > 0)) throw new RangeError(`scaleImages: factor must be > 0, received ${factor}`);
  return deterministic(x, 'scaleImages', { scale: factor });
};
/** Shift content by (dy, dx) whole pixels (positive: down / right), zero fill: a crop of a padded image. */
export const translateImages = (x: Tensor, dy: number, dx: number): Tensor => {
  if (!Number.isInteger(dy) || !Number.isInteger(dx)) throw new RangeError(`translateImages: shifts must be integers, received (${dy}, ${dx})`);
  return deterministic(x, 'translateImages', { shiftY: -dy, shiftX: -dx });
};

/**
 * Crop a [h, w] window at (top, left) from each image of a batch (top/left may be
 * negative or overhang: outside reads 0). Multi-crop test-time augmentation uses this.
 */
export function cropImages(x: Tensor, top: number, left: number, h: number, w: number): Tensor {
  checkShape(x.shape, 'cropImages');
  const [N, H, W, C] = x.shape;
  if (![top, left, h, w].every(Number.isInteger) || h < 1 || w < 1) throw new RangeError(`cropImages: top, left, h, w must be integers with h, w >= 1, received (${top}, ${left}, ${h}, ${w})`);
  const src = x.dataSync();
  const out = new Float32Array(N * h * w * C);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        const sy = top + y, sx = left + xx;
        if (sy < 0 || sy >= H || sx < 0 || sx >= W) continue;
        for (let c = 0; c < C; c++) out[((n * h + y) * w + xx) * C + c] = src[((n * H + sy) * W + sx) * C + c];
      }
  return tensor(out, [N, h, w, C], 'float32');
}

// ---------------------------------------------------------------- fit's augment option

/** fit's `augment` option: Augmenter options, an Augmenter, or a function of a host image batch. */
export type AugmentArg = AugmentOptions | Augmenter | ((batch: ImageBatch) => ImageBatch);

/**
 * fit's `augment` option as the training loop's batch transform (labels unchanged).
 * Options build a fresh Augmenter each epoch, seeded from (seed, epoch) so that resuming
 * reproduces the same images; an Augmenter or a function passed in keeps its own state
 * (the caller's stream). Before training it refuses samples that are not images [H, W, C].
 */
export function augmentBatches(a: AugmentArg): BatchTransform {
  const images = (b: TrainBatch): ImageBatch => ({ data: b.x, shape: [b.size, ...b.sampleShape] as [number, number, number, number] });
  let transform: BatchTransform;
  if (typeof a === 'function') transform = (b) => ({ x: a(images(b)).data, y: b.y });
  else if (a instanceof Augmenter) transform = (b) => ({ x: a.applyBatch(images(b)).data, y: b.y });
  else {
    let epochAug: { epoch: number; aug: Augmenter } | null = null;
    transform = (b, { epoch, seed }) => {
      const base = typeof a.seed === 'number' ? a.seed : seed;
      if (epochAug?.epoch !== epoch) epochAug = { epoch, aug: new Augmenter({ ...a, seed: epochSeed(base, epoch, TRANSFORM_STREAM) }) };
      return { x: epochAug.aug.applyBatch(images(b)).data, y: b.y };
    };
  }
  transform.checkSamples = (sampleShape) => {
    if (sampleShape.length !== 3) throw new RangeError(`fit: augment needs images [H, W, C], the samples have shape ${fmtShape(sampleShape)}`);
  };
  return transform;
}
