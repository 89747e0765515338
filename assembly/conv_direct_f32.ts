// Direct convolution for few taps per group (Kg = KD*KH*KW*Cg <= DIRECT_KG_MAX): the
// first layer of a network, 1 or 3 input channels. On such shapes im2col + GEMM spends
// its time packing (Kg values per output pixel, gathered one by one) and merging tiles
// narrower than the register tile, not multiplying. This kernel reads the image rows
// directly:
//
//   y[n, o, g*Fg + f] = sum over taps t inside the image, c < Cg of
//                       x[n, origin(o) + offset(t), g*Cg + c] * w[t, c, g*Fg + f]
//
// For each output row, the input rows its windows read (one per kernel row inside the
// image vertically) are copied into a row buffer with the horizontal padding written as
// zeros, so every output pixel of the row is an interior one: no bounds checks, no
// border path. The runs of taps (a whole kernel row when its taps are contiguous) are
// listed once per output row. TILE neighbouring output pixels x 8 filters accumulate in
// registers, as in the GEMM micro-kernel: the filter, packed once per call into 8-wide
// strips, supplies the vectors and the row buffer the broadcast values.
import { KC, NC, PACK_A_BYTES } from './gemm_config';
import {
  gN, gD, gH, gW, gC, gOD, gOH, gOW, gF, gKD, gKH, gKW, gSD, gSH, gSW, gDD, gDH, gDW, gPD, gPH, gPW,
  gGroups, gCg, gFg, gKg, dwTapIn as listIn, dwTapFilt as listW,
  conv_is_depthwise, conv_is_pointwise,
} from './conv_geometry';

/** Largest reduction length per group (KD*KH*KW*Cg) the direct kernel takes. */
export const DIRECT_KG_MAX: i32 = 75;

/** Output pixels per register tile. */
const TILE: i32 = 4;

/** Workspace layout: the row buffer in the GEMM's packed-A area, the packed filter in its packed-B area. */
const WS_ROWS_BYTES: i32 = PACK_A_BYTES;
const WS_FILTER: usize = <usize>WS_ROWS_BYTES;

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** Columns of one row-buffer row: the left padding and the image row, and every column a tile of TILE pixels reads. */
function bufCols(): i32 {
  const tiles = (gOW + TILE - 1) / TILE;
  return max(gPW + gW, (tiles * TILE - 1) * gSW + (gKW - 1) * gDW + 1);
}

/** Does the loaded geometry take the direct kernel (and do its buffers fit the workspace)? */
export function conv_direct_fits(): bool {
  if (conv_is_depthwise() || conv_is_pointwise() || gKg > DIRECT_KG_MAX) return false;
  const strips = (gFg + 7) >> 3;
  const rowBytes = <i64>bufCols() * gC * 4;
  return <i64>gGroups * strips * gKg * 8 <= <i64>KC * NC && <i64>gKD * gKH * rowBytes <= <i64>WS_ROWS_BYTES;
}

/** wp[g][s][k][8] = w[k, g*Fg + 8s + lane] (zero past Fg): 8-filter strips of each group. */
function packFilter(w: usize, wp: usize): void {
  const strips = (gFg + 7) >> 3;
  let o = wp;
  for (let g = 0; g < gGroups; g++) {
    for (let s = 0; s < strips; s++) {
      const f0 = g * gFg + s * 8;
      const nf = min(8, gFg - s * 8);
      for (let k = 0; k < gKg; k++) {
        const src = w + ((<usize>k * <usize>gF + <usize>f0) << 2);
        if (nf == 8) {
          v128.store(o, v128.load(src));
          v128.store(o, v128.load(src, 16), 16);
        } else {
          for (let l = 0; l < 8; l++) store<f32>(o + (<usize>l << 2), l < nf ? load<f32>(src + (<usize>l << 2)) : 0);
        }
        o += 32;
      }
    }
  }
}

// Short copies and fills as loops: memory.copy / memory.fill are calls into the engine,
// which cost more than a row of a first-layer image (measured: LeNet's C1 2x slower).
// @ts-ignore: decorator
@inline function copy(dst: usize, src: usize, bytes: usize): void {
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, v128.load(src + i));
  for (; i < bytes; i += 4) store<f32>(dst + i, load<f32>(src + i));
}
// @ts-ignore: decorator
@inline function zero(dst: usize, bytes: usize): void {
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, f32x4.splat(0));
  for (; i < bytes; i += 4) store<f32>(dst + i, 0);
}

// Runs of listed taps: when the taps of a kernel row are contiguous in the row buffer
// (unit column dilation and one group: channel c of column kw at kw*C + c) a whole
// kernel row is one run of KW*Cg values; otherwise each tap is a run of Cg.
let runLen: i32 = 0;

/**
 * Copy the input rows that output row (n, od, oh) reads into the row buffer `buf`
 * (zero padding left and right) and list the runs of taps over them: byte offset in the
 * buffer from the window origin of output column 0, byte offset into a packed filter
 * strip. Kernel rows outside the image vertically read zeros and are left out.
 * Returns the number of runs.
 */
function loadRows(x: usize, n: i32, od: i32, oh: i32, buf: usize, rowBytes: usize): i32 {
  const wholeRow = gDW == 1 && gGroups == 1;
  runLen = wholeRow ? gKW * gCg : gCg;
  const perRow = wholeRow ? 1 : gKW;
  const wBytes = gCg << 5; // packed filter bytes per tap
  const cBytes = <usize>gC << 2;
  const left = <usize>gPW * cBytes, body = <usize>gW * cBytes;
  const d0 = od * gSD - gPD, h0 = oh * gSH - gPH;
  let count = 0, t = 0;
  let dst = buf;
  for (let kd = 0; kd < gKD; kd++) {
    const id = d0 + kd * gDD;
    for (let kh = 0; kh < gKH; kh++) {
      const ih = h0 + kh * gDH;
      if (<u32>id < <u32>gD && <u32>ih < <u32>gH) {
        zero(dst, left);
        copy(dst + left, x + <usize>((n * gD + id) * gH + ih) * body, body);
        zero(dst + left + body, rowBytes - left - body);
        const rowOff = <i32>(dst - buf);
        for (let r = 0; r < perRow; r++) {
          store<i32>(listIn + (<usize>count << 2), rowOff + r * gDW * gC * 4);
          store<i32>(listW + (<usize>count << 2), (t + r) * wBytes);
          count++;
        }
        dst += rowBytes;
      }
      t += gKW;
    }
  }
  return count;
}

/** Store the first nf (1..8) lanes of v0:v1 at dst. */
// @ts-ignore: decorator
@inline function storeRow(dst: usize, v0: v128, v1: v128, nf: i32): void {
  if (nf == 8) {
    v128.store(dst, v0);
    v128.store(dst, v1, 16);
  } else {
    let v = v0;
    let d = dst;
    let l = nf;
    if (l >= 4) {
      v128.store(d, v0);
      v = v1;
      d += 16;
      l -= 4;
    }
    if (l >= 2) {
      v128.store64_lane(d, v, 0);
      v = v128.shuffle<f32>(v, v, 2, 3, 2, 3);
      d += 8;
      l -= 2;
    }
    if (l == 1) v128.store32_lane(d, v, 0);
  }
}

/**
 * TILE output pixels (window origins p, p + ps, ...) x one 8-filter strip: sum over the
 * `count` listed runs; the first `rows` pixels are stored to y, y + ys, ... (nf lanes
 * each). Four pixels, not the GEMM's MR: the pixel addresses are computed in the loop
 * and V8 schedules all the broadcasts first, so 8 accumulators + 2 filter vectors + 4
 * broadcasts is what fits the 15 allocatable SIMD registers (5 pixels spilled, 3x slower).
 */
function tile(p: usize, ps: usize, count: i32, wstrip: usize, y: usize, ys: usize, nf: i32, rows: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const run = runLen;
  const ps2 = ps << 1, ps3 = ps * 3;
  for (let j = 0; j < count; j++) {
    let q = p + <usize>load<i32>(listIn + (<usize>j << 2));
    let wq = wstrip + <usize>load<i32>(listW + (<usize>j << 2));
    for (let e = 0; e < run; e++) {
      const b0 = v128.load(wq);
      const b1 = v128.load(wq, 16);
      let a = v128.load32_splat(q);
      c00 = madd(a, b0, c00);
      c01 = madd(a, b1, c01);
      a = v128.load32_splat(q + ps);
      c10 = madd(a, b0, c10);
      c11 = madd(a, b1, c11);
      a = v128.load32_splat(q + ps2);
      c20 = madd(a, b0, c20);
      c21 = madd(a, b1, c21);
      a = v128.load32_splat(q + ps3);
      c30 = madd(a, b0, c30);
      c31 = madd(a, b1, c31);
      q += 4;
      wq += 32;
    }
  }
  storeRow(y, c00, c01, nf);
  if (rows > 1) storeRow(y + ys, c10, c11, nf);
  if (rows > 2) storeRow(y + 2 * ys, c20, c21, nf);
  if (rows > 3) storeRow(y + 3 * ys, c30, c31, nf);
}

/** y = conv(x, w) for a geometry where conv_direct_fits() (loaded by the caller); ws: the GEMM workspace. */
export function conv_direct_forward_f32(x: usize, w: usize, y: usize, ws: usize): void {
  const wp = ws + WS_FILTER;
  packFilter(w, wp);
  const buf = ws;
  const rowBytes = <usize>bufCols() * <usize>gC << 2;
  const strips = (gFg + 7) >> 3;
  const stripBytes = <usize>gKg << 5;
  const ps = <usize>(gSW * gC) << 2;
  const ys = <usize>gF << 2;
  for (let n = 0; n < gN; n++) for (let od = 0; od < gOD; od++) for (let oh = 0; oh < gOH; oh++) {
    const count = loadRows(x, n, od, oh, buf, rowBytes);
    const yrow = y + (<usize>((n * gOD + od) * gOH + oh) * <usize>gOW) * ys;
    for (let g = 0; g < gGroups; g++) {
      const bg = buf + (<usize>(g * gCg) << 2);
      for (let s = 0; s < strips; s++) {
        const wstrip = wp + <usize>(g * strips + s) * stripBytes;
        const nf = min(8, gFg - s * 8);
        const yg = yrow + (<usize>(g * gFg + s * 8) << 2);
        for (let ow = 0; ow < gOW; ow += TILE) {
          tile(bg + <usize>ow * ps, ps, count, wstrip, yg + <usize>ow * ys, ys, nf, gOW - ow);
        }
      }
    }
  }
}
