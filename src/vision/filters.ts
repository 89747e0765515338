/**
 * Classic hand-made image filters and the helpers to apply them.
 *
 * Every kernel is a [KH,KW] tensor. `filter2d` slides one over each channel of an image
 * ([H,W], [H,W,C] or a batch [N,H,W,C]) as deep-learning convolution does, i.e.
 * cross-correlation (mode 'correlate', the default), or as true convolution with the
 * kernel flipped (mode 'convolve'). With 'correlate', `verticalEdge` responds positively
 * to a light-to-dark transition from left to right and negatively to dark-to-light;
 * `abs: true` keeps only the strength of the edge.
 *
 * Everything here is built from differentiable ops, so gradients flow through a filter
 * to the image and to the kernel.
 */
import { computeConv2DInfo, type Padding } from '../kernels/conv_info.js';
import { depthwiseConv2d } from '../ops/conv.js';
import { tensor } from '../ops/creation.js';
import { abs, add, affine, cast, div } from '../ops/elementwise.js';
import { broadcastTo, reshape, reverse } from '../ops/shape.js';
import type { DType } from '../tensor/dtype.js';
import { isFloat } from '../tensor/dtype.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { assertTensor } from '../ops/arg_checks.js';
import { Tensor } from '../tensor/tensor.js';

type Kernel2D = Tensor | number[][];

const kernelOf = (rows: number[][], dtype: DType) => tensor(rows, undefined, dtype);

// ---------------------------------------------------------------- the kernels

/** Mean (box) blur: a size x size kernel of 1/size^2 (the 3x3 one is 1/9 ones). */
export function boxBlur(size = 3, dtype: DType = 'float32'): Tensor {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`boxBlur: size must be a positive integer, received ${size}`);
  return kernelOf(Array.from({ length: size }, () => new Array(size).fill(1 / (size * size))), dtype);
}
/** Another name for the mean filter. */
export const meanBlur = boxBlur;

/**
 * Normalised Gaussian blur kernel, size x size (odd), centred, entries
 * exp(-(i^2 + j^2) / (2 sigma^2)) divided by their sum. Default sigma is OpenCV's
 * 0.3 * ((size - 1) / 2 - 1) + 0.8.
 */
export function gaussianKernel(size = 3, sigma?: number, dtype: DType = 'float32'): Tensor {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new RangeError(`gaussianKernel: size must be an odd positive integer, received ${size}`);
  const s = sigma ?? 0.3 * ((size - 1) / 2 - 1) + 0.8;
  if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`gaussianKernel: sigma must be a positive number, received ${sigma}`);
  const r = (size - 1) / 2;
  const rows: number[][] = [];
  let total = 0;
  for (let i = -r; i <= r; i++) {
    const row: number[] = [];
    for (let j = -r; j <= r; j++) {
      const v = Math.exp(-(i * i + j * j) / (2 * s * s));
      row.push(v);
      total += v;
    }
    rows.push(row);
  }
  return kernelOf(rows.map((row) => row.map((v) => v / total)), dtype);
}

/** Sharpen: 0 -1 0 / -1 5 -1 / 0 -1 0 (the identity plus a negative Laplacian). */
export const sharpen = (dtype: DType = 'float32') => kernelOf([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype);

/** Vertical edges: rows 1 0 -1. Positive where the image gets darker from left to right. */
export const verticalEdge = (dtype: DType = 'float32') => kernelOf([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype);

/** Horizontal edges: 1 1 1 / 0 0 0 / -1 -1 -1. Positive where the image gets darker from top to bottom. */
export const horizontalEdge = (dtype: DType = 'float32') => kernelOf([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype);

/** Sobel, x direction (vertical edges, centre row weighted 2), same sign convention as verticalEdge. */
export const sobelX = (dtype: DType = 'float32') => kernelOf([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype);
/** Sobel, y direction (horizontal edges). */
export const sobelY = (dtype: DType = 'float32') => kernelOf([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype);
/** Scharr, x direction (3 10 3 weights: better rotational symmetry than Sobel). */
export const scharrX = (dtype: DType = 'float32') => kernelOf([[3, 0, -3], [10, 0, -10], [3, 0, -3]], dtype);
/** Scharr, y direction. */
export const scharrY = (dtype: DType = 'float32') => kernelOf([[3, 10, 3], [0, 0, 0], [-3, -10, -3]], dtype);

/**
 * 2x2 mean-subtract mask: the top-left pixel of each 2x2 block minus the block's mean,
 * [[3/4, -1/4], [-1/4, -1/4]]. It sums to 0, so flat regions give 0.
 */
export const meanSubtract2x2 = (dtype: DType = 'float32') => kernelOf([[0.75, -0.25], [-0.25, -0.25]], dtype);

// ---------------------------------------------------------------- applying them

export interface Filter2DOpts {
  /** 'valid' (default: the output shrinks by kernel - 1), 'same', a number or [[t,b],[l,r]] zero padding. */
  padding?: Padding;
  strides?: number | [number, number];
  /** 'correlate' (default, deep-learning convolution) or 'convolve' (kernel flipped in both axes). */
  mode?: 'correlate' | 'convolve';
  /** Return |response| (edge strength regardless of its direction). */
  abs?: boolean;
}

/**
 * Apply one single-channel kernel [KH,KW] to every channel of `image` independently.
 * image: [H,W], [H,W,C] or [N,H,W,C]; the result has the same rank, with the spatial
 * sizes given by the padding and strides (floor((n + 2p - f)/s + 1)).
 */
export function filter2d(image: Tensor, kernel: Kernel2D, opts: Filter2DOpts = {}): Tensor {
  assertTensor('filter2d', 'image', image);
  if (!isFloat(image.dtype)) throw new TypeError(`filter2d: image must be float32 or float64 (use normalizeImage for 0..255 pixels), received ${image.dtype}`);
  if (image.rank < 2 || image.rank > 4) {
    throw new RangeError(`filter2d: image must have rank 2 (H,W), 3 (H,W,C) or 4 (N,H,W,C), received shape ${fmtShape(image.shape)}`);
  }
  let k = kernel instanceof Tensor ? kernel : tensor(kernel, undefined, image.dtype);
  if (k.rank !== 2) throw new RangeError(`filter2d: kernel must have rank 2 (KH,KW), received shape ${fmtShape(k.shape)}`);
  if (k.dtype !== image.dtype) k = cast(k, image.dtype);
  const mode = opts.mode ?? 'correlate';
  if (mode !== 'correlate' && mode !== 'convolve') throw new RangeError(`filter2d: mode must be 'correlate' or 'convolve', received ${JSON.stringify(mode)}`);

  const s = image.shape;
  const nhwc = image.rank === 2 ? [1, s[0], s[1], 1] : image.rank === 3 ? [1, s[0], s[1], s[2]] : [...s];
  const [kH, kW] = k.shape;
  const C = nhwc[3];
  const convOpts = { padding: opts.padding ?? 'valid', strides: opts.strides };
  // Validate here so that errors name filter2d and the image's shape.
  const info = computeConv2DInfo('filter2d', nhwc, [kH, kW, 1, C], { ...convOpts, groups: C });

  if (mode === 'convolve') k = reverse(k, [0, 1]);
  const w = broadcastTo(reshape(k, [kH, kW, 1, 1]), [kH, kW, C, 1]);
  let y = depthwiseConv2d(reshape(image, nhwc), w, convOpts);
  if (opts.abs) y = abs(y);
  const outShape = image.rank === 2 ? [info.outH, info.outW] : image.rank === 3 ? [info.outH, info.outW, C] : [s[0], info.outH, info.outW, C];
  return reshape(y, outShape);
}

/** M_n (x) ( ... (M_2 (x) (M_1 (x) A))): apply the kernels in order, first one first. */
export function applySuccessively(image: Tensor, kernels: readonly Kernel2D[], opts: Filter2DOpts = {}): Tensor {
  let y = image;
  for (const k of kernels) y = filter2d(y, k, opts);
  return y;
}

/** alpha * a + (1 - alpha) * b (default 0.3 A + 0.7 B); a and b must have the same shape. */
export function blend(a: Tensor, b: Tensor, alpha = 0.3): Tensor {
  assertTensor('blend', 'a', a);
  assertTensor('blend', 'b', b);
  if (!shapesEqual(a.shape, b.shape)) throw new RangeError(`blend: b has shape ${fmtShape(b.shape)}, expected a's shape ${fmtShape(a.shape)}`);
  if (!Number.isFinite(alpha)) throw new RangeError(`blend: alpha must be a finite number, received ${alpha}`);
  return add(affine(a, alpha), affine(b, 1 - alpha));
}

/**
 * Pixel values 0..255 (a Uint8Array, a number array or an integer tensor) to 0..1.
 * `shape` defaults to the flat length for arrays ([H,W], [H,W,C] or [N,H,W,C] are usual).
 */
export function normalizeImage(pixels: Tensor | ArrayLike<number>, shape?: readonly number[], dtype: DType = 'float32'): Tensor {
  if (!isFloat(dtype)) throw new TypeError(`normalizeImage: dtype must be float32 or float64, received ${dtype}`);
  if (pixels instanceof Tensor) {
    const x = pixels.dtype === dtype ? pixels : cast(pixels, dtype);
    return div(shape ? reshape(x, shape) : x, 255);
  }
  const v = dtype === 'float64' ? new Float64Array(pixels.length) : new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const p = pixels[i];
    if (!(p >= 0 && p <= 255)) throw new RangeError(`normalizeImage: pixel ${i} is ${p}, expected a value in 0..255`);
    v[i] = p / 255;
  }
  return tensor(v, shape ?? [pixels.length], dtype);
}
