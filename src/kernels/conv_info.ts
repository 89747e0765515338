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
  context: string | (() => string) = '',
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
        `${op}: kernel of size ${fmtShape(kSizes)} (dilated ${eff} on axis ${i}) is larger than the padded input (${padded} = ${size} + ${pads[i][0]} + ${pads[i][1]} on axis ${i})${typeof context === 'function' ? context() : context}`,
      );
    }
    return Math.floor((padded - eff) / strides[i]) + 1;
  });
  return { pads, outSizes };
}

// ---------------------------------------------------------------- computing the geometry

/** Options every convolution op accepts (bias is added by the op, not the kernel). */
export interface ConvOpts {
  /** Step between windows, one per spatial axis or one for all (default 1). */
  strides?: number | readonly number[];
  /** Default 'valid' (Keras' default). */
  padding?: Padding;
  /** Gap between kernel taps, one per spatial axis or one for all (default 1). */
  dilations?: number | readonly number[];
  /** Channel groups: input and output channels split into `groups` independent convolutions (default 1). */
  groups?: number;
}

const CONV_LAYOUT: Record<number, [string, string, string[]]> = {
  1: ['N,L,C', 'KL,C/groups,F', ['L']],
  2: ['N,H,W,C', 'KH,KW,C/groups,F', ['H', 'W']],
  3: ['N,D,H,W,C', 'KD,KH,KW,C/groups,F', ['D', 'H', 'W']],
};

/** Every dimension a positive integer (the first may be 0 when `emptyFirst`, for an empty batch). */
function assertDims(op: string, arg: string, shape: readonly number[], layout: string, emptyFirst: boolean): void {
  shape.forEach((d, i) => {
    if (!Number.isInteger(d) || d < (i === 0 && emptyFirst ? 0 : 1)) {
      throw new RangeError(`${op}: ${arg} must have positive integer dimensions (${layout}), received shape ${fmtShape(shape)}`);
    }
  });
}

function assertGroups(op: string, groups: unknown): number {
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1) {
    throw new RangeError(`${op}: groups must be a positive integer, received ${JSON.stringify(groups)}`);
  }
  return groups;
}

interface ConvGeometry {
  batch: number;
  inSizes: number[];
  inC: number;
  kSizes: number[];
  outC: number;
  strides: number[];
  dilations: number[];
  pads: [number, number][];
  outSizes: number[];
  groups: number;
}

/**
 * Validate a channels-last convolution with `nsp` spatial axes and compute its
 * geometry. x is [N, ...spatial, C], w is [...kernel, C/groups, F].
 */
function convGeometry(op: string, xShape: readonly number[], wShape: readonly number[], nsp: number, opts: ConvOpts): ConvGeometry {
  const [xLayout, wLayout, axisNames] = CONV_LAYOUT[nsp];
  if (xShape.length !== nsp + 2) {
    throw new RangeError(`${op}: x must have rank ${nsp + 2} (${xLayout}), received shape ${fmtShape(xShape)}`);
  }
  if (wShape.length !== nsp + 2) {
    throw new RangeError(`${op}: w must have rank ${nsp + 2} (${wLayout}), received shape ${fmtShape(wShape)}`);
  }
  assertDims(op, 'x', xShape, xLayout, true);
  assertDims(op, 'w', wShape, wLayout, false);
  const groups = assertGroups(op, opts.groups ?? 1);
  const inC = xShape[nsp + 1], wC = wShape[nsp], outC = wShape[nsp + 1];
  if (inC % groups !== 0) {
    throw new RangeError(`${op}: groups (${groups}) must divide x's channels C = ${inC} (x shape ${fmtShape(xShape)})`);
  }
  if (outC % groups !== 0) {
    throw new RangeError(`${op}: groups (${groups}) must divide the number of filters F = ${outC} (w shape ${fmtShape(wShape)})`);
  }
  if (wC * groups !== inC) {
    throw new RangeError(
      `${op}: channel mismatch: w of shape ${fmtShape(wShape)} (${wLayout}) has ${wC} input channels per group, ` +
        `expected x's C / groups = ${inC} / ${groups} = ${inC / groups} (x shape ${fmtShape(xShape)})`,
    );
  }
  const strides = perAxis(op, 'strides', opts.strides, nsp, 1);
  const dilations = perAxis(op, 'dilations', opts.dilations, nsp, 1);
  const inSizes = xShape.slice(1, nsp + 1);
  const kSizes = wShape.slice(0, nsp);
  const ctx = () => ` (x shape ${fmtShape(xShape)}, axes ${axisNames.join(',')}; w shape ${fmtShape(wShape)})`;
  const { pads, outSizes } = resolveSpatial(op, inSizes, kSizes, strides, dilations, opts.padding ?? 'valid', ctx);
  return { batch: xShape[0], inSizes, inC, kSizes, outC, strides, dilations, pads, outSizes, groups };
}

/** Geometry of conv2d: x [N,H,W,C], w [KH,KW,C/groups,F]. Throws naming the op and the shapes. */
export function computeConv2DInfo(op: string, xShape: readonly number[], wShape: readonly number[], opts: ConvOpts = {}): Conv2DInfo {
  const g = convGeometry(op, xShape, wShape, 2, opts);
  return {
    batch: g.batch, inH: g.inSizes[0], inW: g.inSizes[1], inC: g.inC,
    outH: g.outSizes[0], outW: g.outSizes[1], outC: g.outC,
    kH: g.kSizes[0], kW: g.kSizes[1],
    strideH: g.strides[0], strideW: g.strides[1],
    dilationH: g.dilations[0], dilationW: g.dilations[1],
    padTop: g.pads[0][0], padBottom: g.pads[0][1], padLeft: g.pads[1][0], padRight: g.pads[1][1],
    groups: g.groups,
  };
}

/**
 * Geometry of conv1d (x [N,L,C], w [KL,C/groups,F]) as a Conv2DInfo with H = 1: conv1d
 * runs on the Conv2D kernels with x viewed as [N,1,L,C] and w as [1,KL,C/groups,F].
 */
export function computeConv1DInfo(op: string, xShape: readonly number[], wShape: readonly number[], opts: ConvOpts = {}): Conv2DInfo {
  const g = convGeometry(op, xShape, wShape, 1, opts);
  return {
    batch: g.batch, inH: 1, inW: g.inSizes[0], inC: g.inC,
    outH: 1, outW: g.outSizes[0], outC: g.outC,
    kH: 1, kW: g.kSizes[0],
    strideH: 1, strideW: g.strides[0],
    dilationH: 1, dilationW: g.dilations[0],
    padTop: 0, padBottom: 0, padLeft: g.pads[0][0], padRight: g.pads[0][1],
    groups: g.groups,
  };
}

/** Geometry of conv3d: x [N,D,H,W,C], w [KD,KH,KW,C/groups,F]. */
export function computeConv3DInfo(op: string, xShape: readonly number[], wShape: readonly number[], opts: ConvOpts = {}): Conv3DInfo {
  const g = convGeometry(op, xShape, wShape, 3, opts);
  return {
    batch: g.batch, inD: g.inSizes[0], inH: g.inSizes[1], inW: g.inSizes[2], inC: g.inC,
    outD: g.outSizes[0], outH: g.outSizes[1], outW: g.outSizes[2], outC: g.outC,
    kD: g.kSizes[0], kH: g.kSizes[1], kW: g.kSizes[2],
    strideD: g.strides[0], strideH: g.strides[1], strideW: g.strides[2],
    dilationD: g.dilations[0], dilationH: g.dilations[1], dilationW: g.dilations[2],
    padFront: g.pads[0][0], padBack: g.pads[0][1], padTop: g.pads[1][0], padBottom: g.pads[1][1],
    padLeft: g.pads[2][0], padRight: g.pads[2][1],
    groups: g.groups,
  };
}

export interface ConvTransposeOpts extends ConvOpts {
  /** Extra rows/columns added at the end of the output, each smaller than the stride (default 0). */
  outputPadding?: number | readonly number[];
}

/**
 * Geometry of conv2dTranspose (x [N,H,W,C], w [KH,KW,F/groups,C], Keras layout) expressed
 * as the Conv2DInfo of the forward convolution it is the input-gradient of: that
 * convolution maps y [N,OH,OW,F] to x, so inH/inW/inC describe the transpose's OUTPUT and
 * outH/outW/outC its input. OH = (H-1)*sh - t - b + dh*(KH-1) + oh + 1.
 * 'valid' = no padding; 'same' gives OH = H*sh (TF/Keras) and then takes no outputPadding.
 */
export function computeConv2DTransposeInfo(op: string, xShape: readonly number[], wShape: readonly number[], opts: ConvTransposeOpts = {}): Conv2DInfo {
  if (xShape.length !== 4) throw new RangeError(`${op}: x must have rank 4 (N,H,W,C), received shape ${fmtShape(xShape)}`);
  if (wShape.length !== 4) throw new RangeError(`${op}: w must have rank 4 (KH,KW,F/groups,C), received shape ${fmtShape(wShape)}`);
  assertDims(op, 'x', xShape, 'N,H,W,C', true);
  assertDims(op, 'w', wShape, 'KH,KW,F/groups,C', false);
  const groups = assertGroups(op, opts.groups ?? 1);
  const [batch, H, W, C] = xShape;
  const [kH, kW, fPerGroup, wC] = wShape;
  if (wC !== C) {
    throw new RangeError(`${op}: channel mismatch: w of shape ${fmtShape(wShape)} (KH,KW,F/groups,C) expects C = ${wC} input channels, x of shape ${fmtShape(xShape)} has ${C}`);
  }
  if (C % groups !== 0) throw new RangeError(`${op}: groups (${groups}) must divide x's channels C = ${C} (x shape ${fmtShape(xShape)})`);
  const strides = perAxis(op, 'strides', opts.strides, 2, 1);
  const dilations = perAxis(op, 'dilations', opts.dilations, 2, 1);
  const eff = [dilations[0] * (kH - 1) + 1, dilations[1] * (kW - 1) + 1];
  let pads: [number, number][];
  let outPad: number[];
  const padding = opts.padding ?? 'valid';
  if (padding === 'same') {
    if (opts.outputPadding !== undefined) throw new RangeError(`${op}: outputPadding cannot be combined with padding 'same' (which fixes the output size at input * stride)`);
    pads = eff.map((e, i) => {
      const total = Math.max(0, e - strides[i]);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
    outPad = eff.map((e, i) => Math.max(0, strides[i] - e));
  } else {
    if (padding === 'valid') pads = [[0, 0], [0, 0]];
    else if (typeof padding === 'number' && Number.isInteger(padding) && padding >= 0) pads = [[padding, padding], [padding, padding]];
    else if (Array.isArray(padding) && padding.length === 2 && padding.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0))) {
      pads = padding.map((p) => [p[0], p[1]]);
    } else {
      throw new RangeError(`${op}: padding must be 'valid', 'same', a non-negative integer or 2 [before, after] pairs, received ${JSON.stringify(padding)}`);
    }
    const op0 = opts.outputPadding;
    outPad = op0 === undefined ? [0, 0] : typeof op0 === 'number' ? [op0, op0] : [...op0];
    if (outPad.length !== 2 || outPad.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new RangeError(`${op}: outputPadding must be 2 non-negative integers, received ${JSON.stringify(op0)}`);
    }
    outPad.forEach((v, i) => {
      if (v >= strides[i]) throw new RangeError(`${op}: outputPadding ${JSON.stringify(outPad)} must be smaller than strides ${JSON.stringify(strides)} on every axis`);
    });
  }
  const inSizes = [H, W];
  const outSizes = inSizes.map((n, i) => (n - 1) * strides[i] - pads[i][0] - pads[i][1] + eff[i] + outPad[i]);
  outSizes.forEach((o, i) => {
    if (o < 1) {
      throw new RangeError(`${op}: padding ${JSON.stringify(pads)} removes the whole output on axis ${i} (output size ${o}; x shape ${fmtShape(xShape)}, w shape ${fmtShape(wShape)})`);
    }
  });
  return {
    batch, inH: outSizes[0], inW: outSizes[1], inC: fPerGroup * groups,
    outH: H, outW: W, outC: C,
    kH, kW,
    strideH: strides[0], strideW: strides[1],
    dilationH: dilations[0], dilationW: dilations[1],
    padTop: pads[0][0], padBottom: pads[0][1], padLeft: pads[1][0], padRight: pads[1][1],
    groups,
  };
}

export interface PoolOpts {
  /** Window size [kh, kw] (or one number for both). */
  size: number | readonly number[];
  /** Default: the window size (non-overlapping windows). */
  strides?: number | readonly number[];
  /** Default 'valid'. */
  padding?: Padding;
  dilations?: number | readonly number[];
}

/**
 * Geometry of a 2D pooling window over x [N,H,W,C]. Besides the convolution rules, every
 * window must contain at least one real (unpadded) cell, so that max pooling is defined.
 */
export function computePool2DInfo(op: string, xShape: readonly number[], opts: PoolOpts): Pool2DInfo {
  if (xShape.length !== 4) throw new RangeError(`${op}: x must have rank 4 (N,H,W,C), received shape ${fmtShape(xShape)}`);
  assertDims(op, 'x', xShape, 'N,H,W,C', true);
  if (opts === undefined || opts.size === undefined) throw new RangeError(`${op}: the window size is required ({ size: [kh, kw] })`);
  const size = perAxis(op, 'size', opts.size, 2, 1);
  const strides = perAxis(op, 'strides', opts.strides ?? size, 2, 1);
  const dilations = perAxis(op, 'dilations', opts.dilations, 2, 1);
  const inSizes = [xShape[1], xShape[2]];
  const ctx = () => ` (x shape ${fmtShape(xShape)}, axes H,W; window size ${fmtShape(size)})`;
  const { pads, outSizes } = resolveSpatial(op, inSizes, size, strides, dilations, opts.padding ?? 'valid', ctx);
  for (let a = 0; a < 2; a++) {
    for (let o = 0; o < outSizes[a]; o++) {
      let real = false;
      for (let k = 0; k < size[a] && !real; k++) {
        const i = o * strides[a] - pads[a][0] + k * dilations[a];
        real = i >= 0 && i < inSizes[a];
      }
      if (!real) {
        throw new RangeError(`${op}: padding ${JSON.stringify(pads)} leaves window ${o} on axis ${a === 0 ? 'H' : 'W'} with no input cell${ctx()}; use padding smaller than the window`);
      }
    }
  }
  return {
    batch: xShape[0], inH: xShape[1], inW: xShape[2], channels: xShape[3],
    outH: outSizes[0], outW: outSizes[1],
    kH: size[0], kW: size[1],
    strideH: strides[0], strideW: strides[1],
    dilationH: dilations[0], dilationW: dilations[1],
    padTop: pads[0][0], padBottom: pads[0][1], padLeft: pads[1][0], padRight: pads[1][1],
  };
}
