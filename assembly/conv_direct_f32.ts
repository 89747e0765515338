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
import { KC, NC, PACK_A_BYTES, partBegin } from './gemm_config';
import { epiOn, epilogue_tile } from './epilogue_f32';
import {
  gN, gD, gH, gW, gC, gOD, gOH, gOW, gF, gYS, gKD, gKH, gKW, gSD, gSH, gSW, gDD, gDH, gDW, gPD, gPH, gPW,
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

/** Does the loaded geometry take the direct kernel (Kg <= kgMax, and its buffers fit the workspace)? */
export function conv_direct_fits(kgMax: i32 = DIRECT_KG_MAX): bool {
  if (conv_is_depthwise() || conv_is_pointwise() || gKg > kgMax) return false;
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

/**
 * y = conv(x, w) for a geometry where conv_direct_fits() (loaded by the caller); ws: the
 * GEMM workspace. Part `part` of `parts`: a band of output rows (n, od, oh), each
 * computed whole (every thread packs the filter into its own workspace).
 */
export function conv_direct_forward_f32(x: usize, w: usize, y: usize, ws: usize, part: i32, parts: i32): void {
  const allRows = gN * gOD * gOH;
  const r0 = partBegin(allRows, 1, part, parts), r1 = partBegin(allRows, 1, part + 1, parts);
  if (r0 >= r1) return;
  const wp = ws + WS_FILTER;
  packFilter(w, wp);
  const buf = ws;
  const rowBytes = <usize>bufCols() * <usize>gC << 2;
  const strips = (gFg + 7) >> 3;
  const stripBytes = <usize>gKg << 5;
  const ps = <usize>(gSW * gC) << 2;
  const ys = <usize>gYS << 2;
  for (let row = r0; row < r1; row++) {
    const oh = row % gOH, od = (row / gOH) % gOD, n = row / (gOH * gOD);
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
    if (epiOn) epilogue_tile(yrow, ys, gOW, gF, 0);
  }
}

// ---------------------------------------------------------------------------------
// Filter gradient, direct: the same few-taps geometries, where im2col + GEMM would
// gather every one of the Kg x P patch values one by one to pack a tall, thin
// product (LeNet's first layer: Kg = 25 rows, 6 columns, a reduction over P = 50176
// output pixels):
//
//   dw[t, c, g*Fg + f] = sum over n, o of xpad[n, origin(o) + offset(t), g*Cg + c] * dy[n, o, g*Fg + f]
//
// Each image is copied once into a zero-padded buffer, so every tap of every output
// pixel reads inside it and a tap is one byte offset from the window origin. A
// register tile holds DW_TAPS taps (any taps: one offset each) x one 8-filter strip
// and sums over a block of output rows: the image supplies the broadcast values, dy
// the filter vectors (read in place when Fg is a multiple of 8, else copied into
// 8-wide strips). Partial sums live in an accumulator laid out like the packed
// filter, [g][s][k][8], and are written to dw at the end.

/**
 * Taps per register tile. V8 issues all of a step's broadcasts before its multiplies
 * here (as in the forward tile), so 4 taps x 8 filters (8 accumulators, 2 dy vectors,
 * 4 broadcasts, 1 product) is what fits the 15 allocatable SIMD registers; 5 taps
 * spilled two accumulators every step.
 */
const DW_TAPS: i32 = 4;

/** The tiles of the direct kernels, one export each (the host reports them in WasmBackend.tileSizes()). */
export function conv_direct_f32_tile_pixels(): i32 {
  return TILE;
}
export function conv_direct_f32_max_taps(): i32 {
  return DIRECT_KG_MAX;
}
export function conv_direct_filter_f32_tile_taps(): i32 {
  return DW_TAPS;
}

/** Output pixels per block of rows that the tiles sweep in turn. */
const BLOCK_PIXELS: i32 = 256;

/**
 * Which geometries take the direct filter gradient: Kg <= DIRECT_DW_KG_MAX, or unit
 * strides and Kg * Fg <= DIRECT_DW_WORK_MAX. Each 8-filter strip re-reads the image, so
 * the GEMM (which packs the patches once for every column) wins for many filters of
 * long reductions or strided windows. Measured against im2col + GEMM, batch 8, both
 * builds: direct 1.2-3x faster (relaxed 1.2-5.5x) for Kg <= 300 (strides 1 and 2, F
 * up to 64), 1.1x at 56x56x64 -> 64 3x3 (Kg 576), 1.4x at 14x14x64 -> 64 5x5 (Kg
 * 1600), even at 112x112x128 -> 128 3x3; slower at 28x28x128 -> 128 3x3 (0.83x),
 * 14x14x256 -> 256 (0.73x) and 56x56x64 -> 128 3x3 stride 2 (0.8x).
 */
export const DIRECT_DW_KG_MAX: i32 = 300;
export const DIRECT_DW_WORK_MAX: i32 = 1 << 17;

/** Output rows per block: about BLOCK_PIXELS pixels. */
// @ts-ignore: decorator
@inline function blockRows(): i32 {
  return min(gOH, max(1, BLOCK_PIXELS / gOW));
}

// Padded image extent along one axis: every row, column or plane a window reads, from -pad on.
// @ts-ignore: decorator
@inline function padded(n: i32, out: i32, s: i32, k: i32, d: i32, p: i32): i32 {
  return max(p + n, (out - 1) * s + (k - 1) * d + 1);
}

// Workspace layout of the filter gradient: accumulator, packed dy of one row block (when Fg % 8 != 0),
// tap offsets, padded image + slack (set by dwLayout).
let dwAccBytes: usize = 0, dwDyBytes: usize = 0, dwTapBytes: usize = 0;

/** Set the layout above; returns the bytes it needs. */
function dwLayout(): i64 {
  const strips = (gFg + 7) >> 3;
  dwAccBytes = <usize>(<i64>gGroups * strips * gKg * 32);
  dwDyBytes = gFg % 8 == 0 ? 0 : <usize>(<i64>gGroups * strips * blockRows() * gOW * 32);
  dwTapBytes = <usize>(gKg + DW_TAPS) << 2;
  const img = <i64>padded(gD, gOD, gSD, gKD, gDD, gPD) * padded(gH, gOH, gSH, gKH, gDH, gPH) * padded(gW, gOW, gSW, gKW, gDW, gPW) * gC * 4;
  return <i64>dwAccBytes + <i64>dwDyBytes + <i64>dwTapBytes + img + 64;
}

/** Does the loaded geometry take the direct filter gradient (and do its buffers fit the workspace)? */
export function conv_direct_filter_fits(): bool {
  if (conv_is_depthwise() || conv_is_pointwise()) return false;
  const unitStrides = gSD == 1 && gSH == 1 && gSW == 1;
  if (gKg > DIRECT_DW_KG_MAX && !(unitStrides && <i64>gKg * gFg <= DIRECT_DW_WORK_MAX)) return false;
  return dwLayout() <= <i64>PACK_A_BYTES + <i64>KC * NC * 4;
}

/**
 * acc[0..taps) (32 bytes per tap) += sum over `rows` output rows of `cols` pixels of
 * x(tap) * dy. x of the 4 taps of pixel 0 at q, q + o1, q + o2, q + o3; the next pixel
 * ps bytes on, the next output row rs bytes from the start of this one. dy of pixel 0
 * at d, ds bytes per pixel. The step is the forward tile's (tile() above) with taps in
 * place of pixels: 4 broadcasts x 2 filter vectors.
 */
function filterTile(q: usize, o1: usize, o2: usize, o3: usize, ps: usize, rs: usize, cols: i32, rows: i32, d: usize, ds: usize, acc: usize, taps: i32): void {
  let c00 = v128.load(acc), c01 = v128.load(acc, 16);
  let c10 = v128.load(acc, 32), c11 = v128.load(acc, 48);
  let c20 = v128.load(acc, 64), c21 = v128.load(acc, 80);
  let c30 = v128.load(acc, 96), c31 = v128.load(acc, 112);
  for (let r = 0; r < rows; r++) {
    let p = q;
    for (let c = 0; c < cols; c++) {
      const b0 = v128.load(d);
      const b1 = v128.load(d, 16);
      let a = v128.load32_splat(p);
      c00 = madd(a, b0, c00);
      c01 = madd(a, b1, c01);
      a = v128.load32_splat(p + o1);
      c10 = madd(a, b0, c10);
      c11 = madd(a, b1, c11);
      a = v128.load32_splat(p + o2);
      c20 = madd(a, b0, c20);
      c21 = madd(a, b1, c21);
      a = v128.load32_splat(p + o3);
      c30 = madd(a, b0, c30);
      c31 = madd(a, b1, c31);
      p += ps;
      d += ds;
    }
    q += rs;
  }
  // past the last tap the tile summed repeats of it: only the first `taps` rows are kept
  v128.store(acc, c00);
  v128.store(acc, c01, 16);
  if (taps > 1) { v128.store(acc, c10, 32); v128.store(acc, c11, 48); }
  if (taps > 2) { v128.store(acc, c20, 64); v128.store(acc, c21, 80); }
  if (taps > 3) { v128.store(acc, c30, 96); v128.store(acc, c31, 112); }
}

/** dy of `pix` pixels from `src` as [g][s][pix][8] strips at `dst`; lanes past Fg are left as they are (never stored to dw). */
function packDy(src: usize, pix: i32, dst: usize, end: usize): void {
  const strips = (gFg + 7) >> 3;
  const fBytes = <usize>gF << 2;
  for (let g = 0; g < gGroups; g++) for (let s = 0; s < strips; s++) {
    const nf = min(8, gFg - s * 8);
    let from = src + (<usize>(g * gFg + s * 8) << 2);
    let to = dst + ((<usize>(g * strips + s) * <usize>pix) << 5);
    for (let p = 0; p < pix; p++) {
      if (from + 32 <= end) {
        // 8 floats from here are inside dy (the tail belongs to the next pixels)
        v128.store(to, v128.load(from));
        v128.store(to, v128.load(from, 16), 16);
      } else {
        for (let l = 0; l < nf; l++) store<f32>(to + (<usize>l << 2), load<f32>(from + (<usize>l << 2)));
      }
      from += fBytes;
      to += 32;
    }
  }
}

/**
 * dw = d conv / dw applied to dy, for a geometry where conv_direct_filter_fits() (loaded
 * by the caller); ws: the GEMM workspace. Part `part` of `parts`: a range of the units
 * (group, 8-filter strip, block of DW_TAPS taps), each summed over every pixel in the
 * same order as on one thread (every thread copies the padded image into its own
 * workspace: a copy per image, against Kg * Fg / parts multiply-adds per pixel).
 */
export function conv_direct_backprop_filter_f32(x: usize, dy: usize, dw: usize, ws: usize, part: i32, parts: i32): void {
  dwLayout();
  const strips = (gFg + 7) >> 3;
  const tapBlocks = (gKg + DW_TAPS - 1) / DW_TAPS;
  const units = gGroups * strips * tapBlocks;
  const u0 = partBegin(units, 1, part, parts), u1 = partBegin(units, 1, part + 1, parts);
  if (u0 >= u1) return;
  const acc = ws, dyPack = acc + dwAccBytes, taps = dyPack + dwDyBytes, img = taps + dwTapBytes;
  const Dp = padded(gD, gOD, gSD, gKD, gDD, gPD), Hp = padded(gH, gOH, gSH, gKH, gDH, gPH), Wp = padded(gW, gOW, gSW, gKW, gDW, gPW);
  const cBytes = <usize>gC << 2;
  const rowBytes = <usize>Wp * cBytes, planeBytes = <usize>Hp * rowBytes;
  const pixImg = gOD * gOH * gOW; // output pixels per image
  if (pixImg == 0) {
    if (part == 0) memory.fill(dw, 0, <usize>gKg * <usize>gF << 2);
    return;
  }
  memory.fill(acc, 0, dwAccBytes);
  memory.fill(img, 0, <usize>Dp * planeBytes + 64); // the padding stays zero: only the image is copied in below
  // byte offset of each tap k = ((kd*KH + kh)*KW + kw)*Cg + c from the window origin (group 0),
  // the last one repeated to fill the last tile
  let k = 0;
  for (let kd = 0; kd < gKD; kd++) for (let kh = 0; kh < gKH; kh++) for (let kw = 0; kw < gKW; kw++) for (let c = 0; c < gCg; c++) {
    store<i32>(taps + (<usize>k << 2), <i32>(<usize>(kd * gDD) * planeBytes + <usize>(kh * gDH) * rowBytes + <usize>(kw * gDW) * cBytes) + (c << 2));
    k++;
  }
  for (let t = gKg; t < gKg + DW_TAPS; t++) store<i32>(taps + (<usize>t << 2), load<i32>(taps + (<usize>(gKg - 1) << 2)));
  const packed = dwDyBytes > 0;
  const fBytes = <usize>gF << 2;
  const dyEnd = dy + <usize>gN * <usize>pixImg * fBytes;
  const ps = <usize>gSW * cBytes, rs = <usize>gSH * rowBytes;
  // the tiles sweep blocks of output rows, so that the image rows and dy strips a block
  // reads stay in cache while every tile of it passes over them
  const br = blockRows();
  for (let n = 0; n < gN; n++) {
    for (let id = 0; id < gD; id++) for (let ih = 0; ih < gH; ih++) {
      const src = x + <usize>((n * gD + id) * gH + ih) * <usize>gW * cBytes;
      copy(img + <usize>(id + gPD) * planeBytes + <usize>(ih + gPH) * rowBytes + <usize>gPW * cBytes, src, <usize>gW * cBytes);
    }
    const dyImg = dy + <usize>n * <usize>pixImg * fBytes;
    for (let od = 0; od < gOD; od++) for (let oh = 0; oh < gOH; oh += br) {
      const rows = min(br, gOH - oh);
      const pix0 = (od * gOH + oh) * gOW;
      if (packed) packDy(dyImg + <usize>pix0 * fBytes, rows * gOW, dyPack, dyEnd);
      for (let g = 0; g < gGroups; g++) {
        const origin = img + <usize>(od * gSD) * planeBytes + <usize>oh * rs + (<usize>(g * gCg) << 2);
        for (let s = 0; s < strips; s++) {
          const unit0 = (g * strips + s) * tapBlocks;
          if (unit0 + tapBlocks <= u0 || unit0 >= u1) continue;
          const d = packed
            ? dyPack + ((<usize>(g * strips + s) * <usize>(rows * gOW)) << 5)
            : dyImg + <usize>pix0 * fBytes + (<usize>(g * gFg + s * 8) << 2);
          const accStrip = acc + (<usize>((g * strips + s) * gKg) << 5);
          for (let t = max(0, u0 - unit0) * DW_TAPS; t < gKg && unit0 + t / DW_TAPS < u1; t += DW_TAPS) {
            const tp = taps + (<usize>t << 2);
            const o0 = <usize>load<i32>(tp);
            const o1 = <usize>load<i32>(tp, 4) - o0, o2 = <usize>load<i32>(tp, 8) - o0, o3 = <usize>load<i32>(tp, 12) - o0;
            const at = accStrip + (<usize>t << 5), nt = min(DW_TAPS, gKg - t);
            // two call sites (dy packed or in place) keep Binaryen from inlining the tile into this loop nest
            if (packed) filterTile(origin + o0, o1, o2, o3, ps, rs, gOW, rows, d, 32, at, nt);
            else filterTile(origin + o0, o1, o2, o3, ps, rs, gOW, rows, d, fBytes, at, nt);
          }
        }
      }
    }
  }
  for (let g = 0; g < gGroups; g++) for (let s = 0; s < strips; s++) {
    const nf = min(8, gFg - s * 8);
    const unit0 = (g * strips + s) * tapBlocks;
    for (let t = 0; t < gKg; t++) {
      const u = unit0 + t / DW_TAPS;
      if (u < u0 || u >= u1) continue;
      const a = acc + (<usize>((g * strips + s) * gKg + t) << 5);
      storeRow(dw + ((<usize>t * <usize>gF + <usize>(g * gFg + s * 8)) << 2), v128.load(a), v128.load(a, 16), nf);
    }
  }
}
