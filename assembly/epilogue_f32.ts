// The fused epilogue of a convolution (the FusedConv2D kernel): each output value z of
// filter f becomes
//
//   y = min(max(leaky(z + bias[f]), lo), hi),   leaky(v) = v < 0 ? alpha * v : v
//
// which covers the activations the host fuses: linear (alpha 1, lo -inf, hi +inf), relu
// (lo 0), relu6 (lo 0, hi 6) and leaky relu (alpha); mode EPILOGUE_MODE_HARD_SIGMOID and
// EPILOGUE_MODE_HARD_SWISH instead take v = z + bias[f] to h = min(max(v * (1/6) + 0.5, 0), 1)
// (PyTorch's hardsigmoid, as the hardSigmoid op computes it: a product, then a sum) or
// to v * h (hardswish); mode EPILOGUE_MODE_SWISH to v * sigmoid(v) (SiLU). The convolution paths apply it to
// each part of the output right after computing it, while it is still in cache (a GEMM
// register tile after its last K block, a direct-kernel output row, a band of depthwise
// pixels), instead of separate passes for the bias and the activation. The forward kernel
// sets it for one call (epilogue_begin / epilogue_end around the call); every thread's
// instance has its own copy of these globals.

import { EPILOGUE_MODE_CLAMP, EPILOGUE_MODE_HARD_SWISH, EPILOGUE_MODE_SWISH } from './abi';
import { sigmoid_v } from './math_f32x4';

export let epiOn: bool = false;
let epiBias: usize = 0;
let epiAlpha: f32 = 1;
let epiLo: f32 = -Infinity;
let epiHi: f32 = Infinity;
let epiLeaky: bool = false;
let epiHasLo: bool = false;
let epiHasHi: bool = false;
let epiMode: i32 = 0;

/** Apply the epilogue with `bias` ([F] floats, 0 for none) to what the next kernel call writes. */
export function epilogue_begin(bias: usize, alpha: f32, lo: f32, hi: f32, mode: i32 = EPILOGUE_MODE_CLAMP): void {
  epiOn = true;
  epiMode = mode;
  epiBias = bias;
  epiAlpha = alpha;
  epiLo = lo;
  epiHi = hi;
  epiLeaky = alpha != 1;
  epiHasLo = lo > -Infinity;
  epiHasHi = hi < Infinity;
}

export function epilogue_end(): void {
  epiOn = false;
}

/** Turn the epilogue off for the calls that follow (a path that applies it itself later). */
export function epilogue_suspend(): void {
  epiOn = false;
}

/** Turn it back on (`on`: what epiOn was before epilogue_suspend). */
export function epilogue_resume(on: bool): void {
  epiOn = on;
}

/**
 * v clamped to [lo, hi] where those bounds are set. pmax / pmin (one instruction each on
 * x86; wasm's min and max take several, for their NaN and signed-zero rules) return their
 * first operand when a comparison is false, so NaN stays NaN; the + 0 turns the -0 that
 * pmax(-0, 0) keeps into the +0 of max(-0, 0).
 */
// @ts-ignore: decorator
@inline function clamp4(v: v128, lo: v128, hi: v128): v128 {
  if (epiHasLo) v = f32x4.add(f32x4.pmax(v, lo), f32x4.splat(0));
  if (epiHasHi) v = f32x4.pmin(v, hi);
  return v;
}

// @ts-ignore: decorator
@inline function apply4(v: v128): v128 {
  if (epiMode != EPILOGUE_MODE_CLAMP) {
    // h = min(max(v / 6 + 0.5, 0), 1): pmax / pmin keep NaN, the + 0 makes -0 +0 (clamp4)
    let h = f32x4.add(f32x4.mul(v, f32x4.splat(<f32>(1.0 / 6.0))), f32x4.splat(0.5));
    h = f32x4.pmin(f32x4.add(f32x4.pmax(h, f32x4.splat(0)), f32x4.splat(0)), f32x4.splat(1));
    return epiMode == EPILOGUE_MODE_HARD_SWISH ? f32x4.mul(v, h) : h;
  }
  if (epiLeaky) v = v128.bitselect(f32x4.mul(v, f32x4.splat(epiAlpha)), v, f32x4.lt(v, f32x4.splat(0)));
  return clamp4(v, f32x4.splat(epiLo), f32x4.splat(epiHi));
}

// @ts-ignore: decorator
@inline function apply1(v: f32): f32 {
  if (epiMode != EPILOGUE_MODE_CLAMP) {
    const h = min(max(v * <f32>(1.0 / 6.0) + <f32>0.5, <f32>0), <f32>1);
    return epiMode == EPILOGUE_MODE_HARD_SWISH ? v * h : h;
  }
  if (epiLeaky && v < 0) v = v * epiAlpha;
  return min(max(v, epiLo), epiHi);
}

/**
 * The epilogue on rows x cols of a matrix at `c` (rows `ldcBytes` apart) whose column j
 * holds filter f0 + j.
 */
export function epilogue_tile(c: usize, ldcBytes: usize, rows: i32, cols: i32, f0: i32): void {
  const hasBias = epiBias != 0;
  const b = epiBias + (<usize>f0 << 2);
  if (epiMode == EPILOGUE_MODE_SWISH) {
    // its own loop: an exp (or a call) inside apply4 would slow every other epilogue's loops
    swishTile(c, ldcBytes, rows, cols, b, hasBias);
    return;
  }
  if (cols == 8 && !epiLeaky && epiMode == EPILOGUE_MODE_CLAMP) {
    // a register tile's width (NR = 8): bias and bounds in registers for all its rows
    const b0 = hasBias ? v128.load(b) : f32x4.splat(0), b1 = hasBias ? v128.load(b, 16) : f32x4.splat(0);
    const lo = f32x4.splat(epiLo), hi = f32x4.splat(epiHi);
    let row = c;
    for (let r = 0; r < rows; r++) {
      v128.store(row, clamp4(f32x4.add(v128.load(row), b0), lo, hi));
      v128.store(row, clamp4(f32x4.add(v128.load(row, 16), b1), lo, hi), 16);
      row += ldcBytes;
    }
    return;
  }
  if ((cols & 3) != 0 && ldcBytes == <usize>cols << 2) {
    // rows back to back (a direct-kernel output row, depthwise pixels): one flat run, so a
    // width off the vector width (LeNet's 6 filters) is not a scalar tail on every row
    epilogueFlat(c, rows * cols, cols, b, hasBias);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const row = c + <usize>r * ldcBytes;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      let v = v128.load(row + o);
      if (hasBias) v = f32x4.add(v, v128.load(b + o));
      v128.store(row + o, apply4(v));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      let v = load<f32>(row + o);
      if (hasBias) v += load<f32>(b + o);
      store<f32>(row + o, apply1(v));
    }
  }
}

/**
 * Swish, v sigmoid(v) with v = z + bias: the Sigmoid kernel's sigmoid_v, so the values are those of
 * the unfused Sigmoid and Mul kernels; a row's last cols % 4 values go through one padded vector.
 */
function swishTile(c: usize, ldcBytes: usize, rows: i32, cols: i32, b: usize, hasBias: bool): void {
  for (let r = 0; r < rows; r++) {
    const row = c + <usize>r * ldcBytes;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      let v = v128.load(row + o);
      if (hasBias) v = f32x4.add(v, v128.load(b + o));
      v128.store(row + o, f32x4.mul(v, sigmoid_v(v)));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      let v = load<f32>(row + o);
      if (hasBias) v += load<f32>(b + o);
      const u = f32x4.splat(v);
      store<f32>(row + o, f32x4.extract_lane(f32x4.mul(u, sigmoid_v(u)), 0));
    }
  }
}

/** The next channel after `ch` of `cols`, wrapping to 0. */
// @ts-ignore: decorator
@inline function nextCh(ch: i32, cols: i32): i32 {
  const n = ch + 1;
  return n == cols ? 0 : n;
}

/**
 * The epilogue on `n` consecutive values whose channel (bias index from `b`) cycles through
 * `cols`: four at a time, each lane's bias picked by its channel. The same value per element
 * as epilogue_tile's rows (apply4 and apply1 agree), so the result does not depend on the path.
 */
function epilogueFlat(c: usize, n: i32, cols: i32, b: usize, hasBias: bool): void {
  let ch = 0; // the channel of element i
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = c + (<usize>i << 2);
    let v = v128.load(at);
    const c1 = nextCh(ch, cols), c2 = nextCh(c1, cols), c3 = nextCh(c2, cols);
    if (hasBias) {
      let bv = f32x4.splat(load<f32>(b + (<usize>ch << 2)));
      bv = f32x4.replace_lane(bv, 1, load<f32>(b + (<usize>c1 << 2)));
      bv = f32x4.replace_lane(bv, 2, load<f32>(b + (<usize>c2 << 2)));
      bv = f32x4.replace_lane(bv, 3, load<f32>(b + (<usize>c3 << 2)));
      v = f32x4.add(v, bv);
    }
    v128.store(at, apply4(v));
    ch = nextCh(c3, cols);
  }
  for (; i < n; i++) {
    const at = c + (<usize>i << 2);
    let v = load<f32>(at);
    if (hasBias) v += load<f32>(b + (<usize>ch << 2));
    store<f32>(at, apply1(v));
    ch = nextCh(ch, cols);
  }
}

/** The epilogue on `pixels` whole output pixels at `y` (gF = `F` filters each). */
export function epilogue_pixels(y: usize, pixels: i32, F: i32): void {
  epilogue_tile(y, <usize>F << 2, pixels, F, 0);
}
