// The fused epilogue of a convolution (the FusedConv2D kernel): each output value z of
// filter f becomes
//
//   y = min(max(leaky(z + bias[f]), lo), hi),   leaky(v) = v < 0 ? alpha * v : v
//
// which covers the activations the host fuses: linear (alpha 1, lo -inf, hi +inf), relu
// (lo 0), relu6 (lo 0, hi 6) and leaky relu (alpha). The convolution paths apply it to
// each part of the output right after computing it, while it is still in cache (a GEMM
// register tile after its last K block, a direct-kernel output row, a band of depthwise
// pixels), instead of separate passes for the bias and the activation. The forward kernel
// sets it for one call (epilogue_begin / epilogue_end around the call); every thread's
// instance has its own copy of these globals.

export let epiOn: bool = false;
let epiBias: usize = 0;
let epiAlpha: f32 = 1;
let epiLo: f32 = -Infinity;
let epiHi: f32 = Infinity;
let epiLeaky: bool = false;

/** Apply the epilogue with `bias` ([F] floats, 0 for none) to what the next kernel call writes. */
export function epilogue_begin(bias: usize, alpha: f32, lo: f32, hi: f32): void {
  epiOn = true;
  epiBias = bias;
  epiAlpha = alpha;
  epiLo = lo;
  epiHi = hi;
  epiLeaky = alpha != 1;
}

export function epilogue_end(): void {
  epiOn = false;
}

// @ts-ignore: decorator
@inline function apply4(v: v128): v128 {
  if (epiLeaky) v = v128.bitselect(f32x4.mul(v, f32x4.splat(epiAlpha)), v, f32x4.lt(v, f32x4.splat(0)));
  return f32x4.min(f32x4.max(v, f32x4.splat(epiLo)), f32x4.splat(epiHi));
}

// @ts-ignore: decorator
@inline function apply1(v: f32): f32 {
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

/** The epilogue on `pixels` whole output pixels at `y` (gF = `F` filters each). */
export function epilogue_pixels(y: usize, pixels: i32, F: i32): void {
  epilogue_tile(y, <usize>F << 2, pixels, F, 0);
}
