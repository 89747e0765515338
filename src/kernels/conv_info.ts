/**
 * Convolution and pooling geometry, shared by ops (which validate and compute it) and
 * by every backend's kernels (which only read it). This is the kernel contract: a
 * Conv2D kernel receives x [N,H,W,C], w [KH,KW,C/groups,F] and attrs { conv: Conv2DInfo }.
 *
 * Output size per spatial axis: floor((n + padBefore + padAfter - dilation*(k-1) - 1) / stride) + 1,
 * which is floor((n + 2p - f)/s + 1) for symmetric padding and dilation 1.
 */
import { fmtShape } from '../tensor/shape.js';

/** 'valid' (no padding), 'same' (output = ceil(n / stride), TF's split with the extra on the end),
 * a number (the same on every side), or explicit [before, after] per spatial axis. */
export type Padding = 'valid' | 'same' | number | readonly (readonly [number, number])[];

export interface Conv2DInfo {
  batch: number;
  inH: number; inW: number; inC: number;
  outH: number; outW: number; outC: number;
  kH: number; kW: number;
  strideH: number; strideW: number;
  dilationH: number; dilationW: number;
  padTop: number; padBottom: number; padLeft: number; padRight: number;
  groups: number;
}

export interface Conv3DInfo {
  batch: number;
  inD: number; inH: number; inW: number; inC: number;
  outD: number; outH: number; outW: number; outC: number;
  kD: number; kH: number; kW: number;
  strideD: number; strideH: number; strideW: number;
  dilationD: number; dilationH: number; dilationW: number;
  padFront: number; padBack: number; padTop: number; padBottom: number; padLeft: number; padRight: number;
  groups: number;
}

/** Pooling windows use the same geometry with channels kept (no filters, no groups). */
export interface Pool2DInfo {
  batch: number;
  inH: number; inW: number; channels: number;
  outH: number; outW: number;
  kH: number; kW: number;
  strideH: number; strideW: number;
  dilationH: number; dilationW: number;
  padTop: number; padBottom: number; padLeft: number; padRight: number;
}

function positiveInts(op: string, arg: string, v: readonly number[], allowZero = false): void {
  for (const x of v) {
    if (!Number.isInteger(x) || x < (allowZero ? 0 : 1)) {
      throw new RangeError(`${op}: ${arg} must be ${allowZero ? 'non-negative' : 'positive'} integers, received ${JSON.stringify(v)}`);
    }
  }
}

/** Expand a scalar or tuple option to one value per spatial axis. */
export function perAxis(op: string, arg: string, v: number | readonly number[] | undefined, n: number, dflt: number): number[] {
  const out = v === undefined ? new Array(n).fill(dflt) : typeof v === 'number' ? new Array(n).fill(v) : [...v];
  if (out.length !== n) throw new RangeError(`${op}: ${arg} must have ${n} entries, received ${JSON.stringify(v)}`);
  positiveInts(op, arg, out);
  return out;
}

/**
 * Resolve padding to [before, after] per spatial axis and compute output sizes.
 * Throws when the (dilated) kernel does not fit in the padded input.
 */
export function resolveSpatial(
  op: string,
  inSizes: readonly number[],
  kSizes: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
  padding: Padding,
): { pads: [number, number][]; outSizes: number[] } {
  const n = inSizes.length;
  let pads: [number, number][];
  if (padding === 'valid') pads = new Array(n).fill(0).map(() => [0, 0]);
  else if (padding === 'same') {
    pads = inSizes.map((size, i) => {
      const eff = dilations[i] * (kSizes[i] - 1) + 1;
      const out = Math.ceil(size / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + eff - size);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  } else if (typeof padding === 'number') {
    positiveInts(op, 'padding', [padding], true);
    pads = new Array(n).fill(0).map(() => [padding, padding]);
  } else if (Array.isArray(padding) && padding.length === n && padding.every((p) => Array.isArray(p) && p.length === 2)) {
    pads = padding.map((p) => [p[0], p[1]]);
    positiveInts(op, 'padding', pads.flat(), true);
  } else {
    throw new RangeError(`${op}: padding must be 'valid', 'same', a non-negative integer or ${n} [before, after] pairs, received ${JSON.stringify(padding)}`);
  }
  const outSizes = inSizes.map((size, i) => {
    const eff = dilations[i] * (kSizes[i] - 1) + 1;
    const padded = size + pads[i][0] + pads[i][1];
    if (eff > padded) {
      throw new RangeError(
        `${op}: kernel of size ${fmtShape(kSizes)} (dilated ${eff} on axis ${i}) is larger than the padded input (${padded} = ${size} + ${pads[i][0]} + ${pads[i][1]} on axis ${i})`,
      );
    }
    return Math.floor((padded - eff) / strides[i]) + 1;
  });
  return { pads, outSizes };
}
