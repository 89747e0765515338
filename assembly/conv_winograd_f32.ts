// Winograd F(2x2, 3x3): the forward 3x3 convolution, stride 1, dilation 1, one group, with
// 2.25x fewer multiplies than im2col + GEMM (Lavin & Gray, 2016); conv_f32.ts also runs the
// input gradient on it (the forward convolution of dy with the flipped filter), and the filter
// gradient runs the transposed algorithm, F(3x3, 2x2) (winograd_backprop_filter_f32, below). Each 2x2 block of output
// pixels (a tile) of image n reads the 4x4 input patch d at (2 ty - padTop, 2 tx - padLeft);
// with the 4x4 transforms
//
//   B^T = [1  0 -1  0]     G = [ 1    0    0  ]     A^T = [1  1  1  0]
//         [0  1  1  0]         [1/2  1/2  1/2 ]           [0  1 -1 -1]
//         [0 -1  1  0]         [1/2 -1/2  1/2 ]
//         [0  1  0 -1]         [ 0    0    1  ]
//
// the tile's output for filter f is  A^T [ sum_c (G g_cf G^T) . (B^T d_c B) ] A,  where
// g_cf is filter f's 3x3 slice of input channel c and . is the elementwise product. With
// k = 4 i + j naming the 16 cells, that sum is 16 GEMMs, one per cell:
//
//   M_k [T x F] = V_k [T x C] @ U_k [C x F],   V_k[t][c] = (B^T d_tc B)_k,  U_k[c][f] = (G g_cf G^T)_k
//
// U is computed once per call by conv_winograd_filter_f32 (the host passes it in place of
// the filter); V and M live in the calling thread's workspace (WS_WINO), a block of tiles
// at a time, so that the transforms and the GEMMs stay in cache. The transforms run on
// four channels (input) or filters (output) at once, so C and F must be multiples of 4.
// Results differ from the direct sums by rounding (the transforms add and halve values):
// 1-4e-7 of the largest output in the tests, as the im2col GEMM's own error.
//
// Threads: part `part` of `parts` takes whole blocks of tiles (blocks start at multiples of
// the block size, whatever the split), so every tile is computed by the same GEMM calls on
// any number of threads: bitwise the same result. With fewer blocks than parts (a 13x13 layer
// at batch 1 is one block of 49 tiles), each block's filters are split as well, at multiples
// of the GEMM's register tile (NR = 8 columns): every output is still computed by the same
// instructions, so the result stays bitwise the same.
import { WS_WINO, WINO_BYTES, WS_TABLES } from './gemm_config';
import { gemm_f32_driver, A_MATRIX, C_MATRIX } from './gemm_f32';
import { gN, gH, gW, gC, gF, gYS, gOH, gOW, gKD, gD, gKH, gKW, gSH, gSW, gDH, gDW, gPH, gPW, gGroups, conv_geometry_load } from './conv_geometry';
import { epiOn, epilogue_suspend, epilogue_resume, epilogue_tile } from './epilogue_f32';
import { madd_v } from './math_f32x4';

/** Tiles per block for C input channels and F filters: V and M of a block fill at most WINO_BYTES. */
function blockTiles(C: i32, F: i32): i32 {
  return (WINO_BYTES >> 2) / (16 * (C + F));
}

/**
 * Tiles per block for T tiles: about T / 8, so that threads have blocks to share (a
 * training step's 7x7 layer at batch 64, 1,024 tiles, made 7 blocks of 170: 4 on one
 * thread and 3 on the other), at least 64 (each block re-packs U: blocks of 32 were 5-10%
 * slower on one thread) and at most what the workspace holds. It depends on the geometry
 * alone, never on the thread count.
 */
function tilesPerBlock(T: i32, C: i32, F: i32): i32 {
  return min(blockTiles(C, F), max(64, (T + 7) >> 3));
}

/** Whether the loaded geometry can run on this path (and a block holds at least 8 tiles). */
export function conv_winograd_fits(): bool {
  return gKD == 1 && gD == 1 && gKH == 3 && gKW == 3 && gSH == 1 && gSW == 1 && gDH == 1 && gDW == 1 &&
    gGroups == 1 && (gC & 3) == 0 && (gF & 3) == 0 && blockTiles(gC, gF) >= 8;
}

/**
 * Whether dispatch should take this path for the loaded geometry: it fits, with at least 16
 * input channels and 32 tiles. Measured against the path chosen before (plain build, one
 * thread, C = F, 'same' padding; bench/README.md): 1.23-1.89x from 16 channels on at 14x14
 * and larger, 1.26-1.47x at 7x7 with batch 8; 0.97-1.09x at 7x7 with batch 1 (16 tiles,
 * where 2x2 tiles compute 64 outputs for 49); 0.5-0.8x with 4 or 8 channels, where the
 * direct kernel runs (it is chosen first).
 */
export function conv_winograd_pays(): bool {
  return conv_winograd_fits() && gC >= 16 && gN * ((gOH + 1) >> 1) * ((gOW + 1) >> 1) >= 32;
}

/** Blocks of tiles of the loaded geometry. */
export function winograd_blocks(): i32 {
  const T = gN * ((gOH + 1) >> 1) * ((gOW + 1) >> 1), TB = tilesPerBlock(T, gC, gF);
  return (T + TB - 1) / TB;
}

/**
 * Parts for `threads` threads: up to 4 per thread of whole blocks (as other paths); with fewer
 * blocks than threads, each block's filters in slices, one part per thread (each part
 * transforms its block's input tiles again, so more slices than threads would repeat that).
 */
export function winograd_parts(threads: i32): i32 {
  const blocks = winograd_blocks();
  return blocks >= threads ? min(4 * threads, blocks) : blocks * filterSlices(blocks, threads, gF);
}

/**
 * Slices of F filters that each block is cut into for `parts` parts: 1 when there are blocks
 * enough, else as many as make parts units, of whole register tiles (8 filters) at least.
 */
function filterSlices(blocks: i32, parts: i32, F: i32): i32 {
  return blocks >= parts ? 1 : max(1, min((parts + blocks - 1) / blocks, F >> 3));
}

/** Bytes of the transformed filter U (C x 16 x F floats) that the host allocates for a call. */
export function conv_winograd_filter_bytes(C: i32, F: i32): i32 {
  return 16 * C * F * 4;
}

/**
 * U[c][k][f] = (G g_cf G^T)_k for the HWIO 3x3 filter `w` [3, 3, C, F], four filters at a
 * time in registers: G g column by column (h_rj for rows r = 0..3), then each row of it times
 * G^T. `n` channels from `w` and `u` on (the host splits the C channels over the threads:
 * parallelSplit advances both pointers), C the filter's channels (the taps' stride).
 */
export function conv_winograd_filter_f32(w: usize, u: usize, n: i32, F: i32, C: i32): void {
  const tap = <usize>C * <usize>F << 2; // bytes between taps of w
  const cell = <usize>F << 2; // bytes between cells k of U (U[c][k][f])
  const HALF = f32x4.splat(0.5);
  for (let c = 0; c < n; c++) {
    for (let f = 0; f < F; f += 4) {
      const src = w + ((<usize>c * F + f) << 2);
      const dst = u + ((<usize>c * 16 * F + f) << 2);
      let g0 = v128.load(src), g1 = v128.load(src + 3 * tap), g2 = v128.load(src + 6 * tap);
      let a = f32x4.add(g0, g2);
      const h00 = g0, h10 = f32x4.mul(f32x4.add(a, g1), HALF), h20 = f32x4.mul(f32x4.sub(a, g1), HALF), h30 = g2;
      g0 = v128.load(src + tap); g1 = v128.load(src + 4 * tap); g2 = v128.load(src + 7 * tap);
      a = f32x4.add(g0, g2);
      const h01 = g0, h11 = f32x4.mul(f32x4.add(a, g1), HALF), h21 = f32x4.mul(f32x4.sub(a, g1), HALF), h31 = g2;
      g0 = v128.load(src + 2 * tap); g1 = v128.load(src + 5 * tap); g2 = v128.load(src + 8 * tap);
      a = f32x4.add(g0, g2);
      const h02 = g0, h12 = f32x4.mul(f32x4.add(a, g1), HALF), h22 = f32x4.mul(f32x4.sub(a, g1), HALF), h32 = g2;
      gRow(dst, cell, HALF, h00, h01, h02);
      gRow(dst + 4 * cell, cell, HALF, h10, h11, h12);
      gRow(dst + 8 * cell, cell, HALF, h20, h21, h22);
      gRow(dst + 12 * cell, cell, HALF, h30, h31, h32);
    }
  }
}

/** Cells 4 r .. 4 r + 3 of U (cells `plane` bytes apart) from row r of G g: h G^T. */
// @ts-ignore: decorator
@inline function gRow(q: usize, plane: usize, HALF: v128, h0: v128, h1: v128, h2: v128): void {
  const a = f32x4.add(h0, h2);
  v128.store(q, h0);
  v128.store(q + plane, f32x4.mul(f32x4.add(a, h1), HALF));
  v128.store(q + 2 * plane, f32x4.mul(f32x4.sub(a, h1), HALF));
  v128.store(q + 3 * plane, h2);
}

// @ts-ignore: decorator
@inline function ld(p: usize, ok: bool): v128 {
  return ok ? v128.load(p) : f32x4.splat(0);
}

/** Cells 4 r .. 4 r + 3 of V (cells `plane` bytes apart) from row r of B^T d: e B. */
// @ts-ignore: decorator
@inline function row4(q: usize, plane: usize, e0: v128, e1: v128, e2: v128, e3: v128): void {
  v128.store(q, f32x4.sub(e0, e2));
  v128.store(q + plane, f32x4.add(e1, e2));
  v128.store(q + 2 * plane, f32x4.sub(e2, e1));
  v128.store(q + 3 * plane, f32x4.sub(e1, e3));
}

/**
 * V = (B^T d_tc B)_k for tiles t0 .. t0 + nt - 1 of the loaded geometry and channels [c0, c1)
 * (multiples of 4) of the NHWC image x: each tile's 4x4 input patch at (2 ty - padTop,
 * 2 tx - padLeft), cells outside the image read as 0, four channels at a time in registers.
 * Cell k of tile t, channel c, goes to V + k vCell + t vTile + 4 (c - c0) bytes.
 */
// @ts-ignore: decorator
@inline function transformInputs(x: usize, V: usize, t0: i32, nt: i32, c0: i32, c1: i32, vCell: usize, vTile: usize): void {
  const C = gC, H = gH, W = gW;
  const TH = (gOH + 1) >> 1, TW = (gOW + 1) >> 1;
  const rowBytes = <usize>W * <usize>C << 2, pixBytes = <usize>C << 2;
  for (let t = 0; t < nt; t++) {
    const tile = t0 + t;
    const n = tile / (TH * TW), r = tile - n * TH * TW;
    const iy0 = (r / TW) * 2 - gPH, ix0 = (r % TW) * 2 - gPW;
    const r0 = iy0 >= 0 && iy0 < H, r1 = iy0 + 1 >= 0 && iy0 + 1 < H, r2 = iy0 + 2 >= 0 && iy0 + 2 < H, r3 = iy0 + 3 >= 0 && iy0 + 3 < H;
    const k0 = ix0 >= 0 && ix0 < W, k1 = ix0 + 1 >= 0 && ix0 + 1 < W, k2 = ix0 + 2 >= 0 && ix0 + 2 < W, k3 = ix0 + 3 >= 0 && ix0 + 3 < W;
    // the patch's top-left cell (outside the image when padded: only cells inside are read)
    const p0 = x + <usize>n * <usize>H * rowBytes + <usize>(iy0 * <i32>rowBytes + ix0 * <i32>pixBytes);
    const dst = V + <usize>t * vTile;
    for (let c = c0; c < c1; c += 4) {
      const p = p0 + (<usize>c << 2), q = dst + (<usize>(c - c0) << 2);
      // B^T d, column by column: t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3
      let d0 = ld(p, r0 && k0), d1 = ld(p + rowBytes, r1 && k0), d2 = ld(p + 2 * rowBytes, r2 && k0), d3 = ld(p + 3 * rowBytes, r3 && k0);
      const t00 = f32x4.sub(d0, d2), t10 = f32x4.add(d1, d2), t20 = f32x4.sub(d2, d1), t30 = f32x4.sub(d1, d3);
      d0 = ld(p + pixBytes, r0 && k1); d1 = ld(p + rowBytes + pixBytes, r1 && k1); d2 = ld(p + 2 * rowBytes + pixBytes, r2 && k1); d3 = ld(p + 3 * rowBytes + pixBytes, r3 && k1);
      const t01 = f32x4.sub(d0, d2), t11 = f32x4.add(d1, d2), t21 = f32x4.sub(d2, d1), t31 = f32x4.sub(d1, d3);
      d0 = ld(p + 2 * pixBytes, r0 && k2); d1 = ld(p + rowBytes + 2 * pixBytes, r1 && k2); d2 = ld(p + 2 * rowBytes + 2 * pixBytes, r2 && k2); d3 = ld(p + 3 * rowBytes + 2 * pixBytes, r3 && k2);
      const t02 = f32x4.sub(d0, d2), t12 = f32x4.add(d1, d2), t22 = f32x4.sub(d2, d1), t32 = f32x4.sub(d1, d3);
      d0 = ld(p + 3 * pixBytes, r0 && k3); d1 = ld(p + rowBytes + 3 * pixBytes, r1 && k3); d2 = ld(p + 2 * rowBytes + 3 * pixBytes, r2 && k3); d3 = ld(p + 3 * rowBytes + 3 * pixBytes, r3 && k3);
      const t03 = f32x4.sub(d0, d2), t13 = f32x4.add(d1, d2), t23 = f32x4.sub(d2, d1), t33 = f32x4.sub(d1, d3);
      // times B, row by row: v0 = e0 - e2, v1 = e1 + e2, v2 = e2 - e1, v3 = e1 - e3 (cells k = 4 row + col)
      row4(q, vCell, t00, t01, t02, t03);
      row4(q + 4 * vCell, vCell, t10, t11, t12, t13);
      row4(q + 8 * vCell, vCell, t20, t21, t22, t23);
      row4(q + 12 * vCell, vCell, t30, t31, t32, t33);
    }
  }
}

/**
 * y = conv(x, w) for the loaded geometry, `u` the transformed filter; tiles of part `part`
 * of `parts`. With the epilogue on (FusedConv2D), each tile's pixels get it as soon as they
 * are written.
 */
export function winograd_forward_f32(x: usize, u: usize, y: usize, ws: usize, part: i32, parts: i32): void {
  const C = gC, F = gF, OH = gOH, OW = gOW, YS = <usize>gYS;
  const TH = (OH + 1) >> 1, TW = (OW + 1) >> 1;
  const T = gN * TH * TW;
  const TB = tilesPerBlock(T, C, F);
  const blocks = (T + TB - 1) / TB;
  // units of work: (block, slice of filters); slices at multiples of 8 filters, the last to F
  const S = filterSlices(blocks, parts, F), units = blocks * S, groups = F >> 3;
  const u0 = <i32>(<i64>units * part / parts), u1 = <i32>(<i64>units * (part + 1) / parts);
  const V = ws + <usize>WS_WINO;
  const M = V + (<usize>16 * <usize>TB * <usize>C << 2);
  // V[t][k][c], M[t][k][f], U[c][k][f]: the 16 cells of a tile (or a channel) side by side, so
  // that a transform's 16 loads or stores fall in one few-kB block (16 planes a power of two
  // apart would share one L1 set); the GEMMs read them with leading dimensions 16 C and 16 F
  const vCell = <usize>C << 2, mCell = <usize>F << 2, uCell = <usize>F << 2;
  const epi = epiOn;
  let transformed = -1; // the block whose input transform V holds
  for (let unit = u0; unit < u1; unit++) {
    const blk = unit / S, slice = unit - blk * S;
    const f0 = S == 1 ? 0 : (groups * slice / S) << 3, f1 = slice == S - 1 ? F : (groups * (slice + 1) / S) << 3;
    const t0 = blk * TB, nt = min(TB, T - t0);
    // input transform: V_k[t][c..c+3] = (B^T d B)_k, in registers
    if (blk != transformed) {
      transformed = blk;
      transformInputs(x, V, t0, nt, 0, C, vCell, 16 * vCell);
    }
    // the 16 GEMMs (the epilogue waits for the output transform)
    epilogue_suspend();
    for (let k = 0; k < 16; k++) {
      gemm_f32_driver(nt, F, C, A_MATRIX, V + <usize>k * vCell, 16 * C, false, u + <usize>k * uCell, 16 * F, false, C_MATRIX, M + <usize>k * mCell, 16 * F, false, ws, 0, 0, nt, f0, f1);
    }
    epilogue_resume(epi);
    // output transform: y = A^T m A on four filters at a time
    for (let t = 0; t < nt; t++) {
      const tile = t0 + t;
      const n = tile / (TH * TW), r = tile - n * TH * TW;
      const oy = (r / TW) * 2, ox = (r % TW) * 2;
      const two = ox + 1 < OW, down = oy + 1 < OH;
      const y0 = y + ((<usize>(n * OH + oy) * <usize>OW + <usize>ox) * YS << 2);
      const y1 = y0 + (<usize>OW * YS << 2);
      const src = M + (<usize>t * 16 * <usize>F << 2);
      for (let f = f0; f < f1; f += 4) {
        const m = src + (<usize>f << 2);
        // s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 over the rows, for each column j
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        let b0v = f32x4.splat(0), b1v = f32x4.splat(0), b2v = f32x4.splat(0), b3v = f32x4.splat(0);
        for (let j = 0; j < 4; j++) {
          const r0 = v128.load(m + <usize>j * mCell), r1 = v128.load(m + <usize>(4 + j) * mCell);
          const r2 = v128.load(m + <usize>(8 + j) * mCell), r3 = v128.load(m + <usize>(12 + j) * mCell);
          const s0 = f32x4.add(f32x4.add(r0, r1), r2), s1 = f32x4.sub(f32x4.sub(r1, r2), r3);
          if (j == 0) { a0 = s0; b0v = s1; } else if (j == 1) { a1 = s0; b1v = s1; } else if (j == 2) { a2 = s0; b2v = s1; } else { a3 = s0; b3v = s1; }
        }
        const fo = <usize>f << 2;
        v128.store(y0 + fo, f32x4.add(f32x4.add(a0, a1), a2));
        if (two) v128.store(y0 + fo + (YS << 2), f32x4.sub(f32x4.sub(a1, a2), a3));
        if (down) {
          v128.store(y1 + fo, f32x4.add(f32x4.add(b0v, b1v), b2v));
          if (two) v128.store(y1 + fo + (YS << 2), f32x4.sub(f32x4.sub(b1v, b2v), b3v));
        }
      }
      if (epi) {
        const fo = <usize>f0 << 2, pixel = YS << 2;
        epilogue_tile(y0 + fo, pixel, two ? 2 : 1, f1 - f0, f0);
        if (down) epilogue_tile(y1 + fo, pixel, two ? 2 : 1, f1 - f0, f0);
      }
    }
  }
}

// The filter gradient, F(3x3, 2x2): the forward algorithm's bilinear form read the other way
// round. For one tile, sum_f <dy_f, y_f> = sum_k (A dy A^T)_k (G g G^T)_k (B^T d B)_k, so the
// gradient with respect to g is
//
//   dW_cf = sum over tiles of  G^T [ (A dy_tf A^T) . (B^T d_tc B) ] G       (3x3, A = (A^T)^T, 4x2)
//
// where dy_tf is the tile's 2x2 block of dy for filter f (0 past the output's edge). With the
// 16 cells k, that is 16 GEMMs whose reduction runs over the tiles:
//
//   M_k [F x C] = sum_t Z_k[t]^T V_k[t],   Z_k[t][f] = (A dy_tf A^T)_k,   V_k as in the forward pass
//
// accumulated block by block of tiles in the workspace, then dW_cf = G^T m_cf G. 16 multiply-adds
// per (c, f) per tile where the im2col GEMM does 36 (9 taps x 4 pixels).

/** Bytes of the filter gradient's workspace besides M, V and Z: 64 of padding after each of their 32 planes, and G^T m (12 vectors). */
const DW_SCRATCH: i32 = 32 * 64 + 256;

/** Channels per chunk of the filter gradient (the GEMMs' columns). */
function dwChunkC(C: i32): i32 {
  return min(C, 64);
}

/** Filters per chunk: a chunk's 16 M matrices (16 x FC x CC floats) fill at most a quarter of WINO_BYTES. */
function dwChunkF(C: i32, F: i32): i32 {
  return min(min(F, 256), max(4, (((WINO_BYTES >> 2) >> 6) / dwChunkC(C)) & ~3));
}

/**
 * Tiles per block of the filter gradient: V and Z of a block fill the rest of WINO_BYTES, at
 * most 256 (each register tile sums at most that many products before it adds them to M).
 * Chunks and blocks depend on the geometry
 * alone, never on the thread count, so every sum is taken in the same order on any number of threads.
 */
function dwTilesPerBlock(C: i32, F: i32): i32 {
  const CC = dwChunkC(C), FC = dwChunkF(C, F);
  return min(256, (WINO_BYTES - DW_SCRATCH - 64 * CC * FC) / (64 * (CC + FC)));
}

/**
 * Whether dispatch should take this path for the filter gradient of the loaded geometry (before
 * the direct kernel): it fits (as the forward pass), with at least 8 channels and 32 tiles.
 * Measured against the direct kernel, best of alternating runs (plain build, AMD EPYC, 'same'
 * padding, 2026-12-07): one thread 1.2x (14x14, 8 -> 16 channels, batch 16), 1.45x (14x14,
 * 16 -> 32, batch 64), 1.7-1.9x (7x7 32 -> 64 at batch 64, 29x29 and 56x56 with 64 channels);
 * two threads 1.45-1.9x on the same layers. Slower with 4 channels (0.7x) and mixed below 32
 * tiles (7x7 at batch 1: 16 tiles).
 */
export function conv_winograd_dw_pays(): bool {
  return conv_winograd_fits() && gC >= 8 && gN * ((gOH + 1) >> 1) * ((gOW + 1) >> 1) >= 32;
}

/**
 * Z = (A dy_tf A^T)_k for tiles t0 .. t0 + nt - 1 and filters [f0, f1) of the NHWC gradient
 * dy, four filters at a time: with the tile's pixels a b / c e (0 past the edge), rows of A dy
 * are (a, b), (a + c, b + e), (a - c, b - e), (-c, -e), and a row (p, q) times A^T is
 * (p, p + q, p - q, -q). Cell k of tile t, filter f, goes to Z + k zCell + t zTile + 4 (f - f0) bytes.
 */
// @ts-ignore: decorator
@inline function transformGrads(dy: usize, Z: usize, t0: i32, nt: i32, f0: i32, f1: i32, zCell: usize, zTile: usize): void {
  const F = gF, OH = gOH, OW = gOW;
  const TH = (OH + 1) >> 1, TW = (OW + 1) >> 1;
  const pixBytes = <usize>F << 2, rowBytes = <usize>OW * pixBytes;
  for (let t = 0; t < nt; t++) {
    const tile = t0 + t;
    const n = tile / (TH * TW), r = tile - n * TH * TW;
    const oy = (r / TW) * 2, ox = (r % TW) * 2;
    const two = ox + 1 < OW, down = oy + 1 < OH;
    const p0 = dy + ((<usize>(n * OH + oy) * <usize>OW + <usize>ox) * <usize>F << 2);
    const dst = Z + <usize>t * zTile;
    for (let f = f0; f < f1; f += 4) {
      const p = p0 + (<usize>f << 2), q = dst + (<usize>(f - f0) << 2);
      const a = v128.load(p), b = ld(p + pixBytes, two), c = ld(p + rowBytes, down), e = ld(p + rowBytes + pixBytes, two && down);
      zRow(q, zCell, a, b);
      zRow(q + 4 * zCell, zCell, f32x4.add(a, c), f32x4.add(b, e));
      zRow(q + 8 * zCell, zCell, f32x4.sub(a, c), f32x4.sub(b, e));
      zRow(q + 12 * zCell, zCell, f32x4.neg(c), f32x4.neg(e));
    }
  }
}

/** Cells 4 r .. 4 r + 3 of Z (cells `plane` bytes apart) from row r (p, q) of A dy: (p, p + q, p - q, -q). */
// @ts-ignore: decorator
@inline function zRow(q: usize, plane: usize, p0: v128, p1: v128): void {
  v128.store(q, p0);
  v128.store(q + plane, f32x4.add(p0, p1));
  v128.store(q + 2 * plane, f32x4.sub(p0, p1));
  v128.store(q + 3 * plane, f32x4.neg(p1));
}

/** G^T applied to (m0, m1, m2, m3): (m0 + (m1 + m2) / 2, (m1 - m2) / 2, (m1 + m2) / 2 + m3), stored at out, out + 16, out + 32. */
// @ts-ignore: decorator
@inline function gtCol(m0: v128, m1: v128, m2: v128, m3: v128, HALF: v128, out: usize): void {
  const s = f32x4.mul(f32x4.add(m1, m2), HALF);
  v128.store(out, f32x4.add(m0, s));
  v128.store(out + 16, f32x4.mul(f32x4.sub(m1, m2), HALF));
  v128.store(out + 32, f32x4.add(s, m3));
}

/**
 * dw = d conv / dw applied to dy for the loaded geometry (dw, HWIO [3, 3, C, F], is fully
 * written): part `part` of `parts`. Units of work are (filter chunk, channel chunk) pairs; with
 * fewer units than parts, each channel chunk is cut into slices of whole groups of 4 channels
 * (the GEMMs' columns: every element is still the same sum in the same order, so the result is
 * bitwise the same on any number of threads). Each unit transforms dy for its filters and x for
 * its channels, block by block of tiles. Geometries with fewer than 4 chunks sum groups of tiles
 * apart instead (dwTileGroups > 1): units are (chunk, tile group) pairs, each into its partial M in
 * `partials` (conv_winograd_dw_partial_bytes), and winograd_dw_reduce_f32 then makes dw.
 */
export function winograd_backprop_filter_f32(x: usize, dy: usize, dw: usize, ws: usize, partials: usize, part: i32, parts: i32): void {
  const C = gC, F = gF;
  const T = gN * ((gOH + 1) >> 1) * ((gOW + 1) >> 1);
  const tileGroups = dwTileGroups(C, F, T);
  if (tileGroups > 1) {
    // few chunks: each (chunk, tile group) into its partial; winograd_dw_reduce_f32 adds them and makes dw
    dwPartials(x, dy, ws, partials, tileGroups, part, parts);
    return;
  }
  const CC = dwChunkC(C), FC = dwChunkF(C, F), TB = dwTilesPerBlock(C, F);
  const nC = (C + CC - 1) / CC, nF = (F + FC - 1) / FC, chunks = nC * nF;
  const S = chunks >= parts ? 1 : min((parts + chunks - 1) / chunks, CC >> 2);
  const units = chunks * S;
  const u0 = <i32>(<i64>units * part / parts), u1 = <i32>(<i64>units * (part + 1) / parts);
  // M[k][f][c] (16 x FC x CC), then V and Z cell-major (V[k][t][c], Z[k][t][f]: the GEMMs read
  // their rows in sequence), each cell's plane a cache line longer than the block so that the
  // transforms' 16 stores do not all fall in one L1 set
  const Mb = ws + <usize>WS_WINO;
  const V = Mb + (<usize>16 * <usize>CC * <usize>FC << 2);
  const vPlane = (<usize>TB * <usize>CC << 2) + 64, zPlane = (<usize>TB * <usize>FC << 2) + 64;
  const Z = V + 16 * vPlane;
  const scratch = Z + 16 * zPlane; // 12 vectors: G^T m by columns
  for (let unit = u0; unit < u1; unit++) {
    const chunk = unit / S, slice = unit - chunk * S;
    const fi = chunk / nC, ci = chunk - fi * nC;
    const cBase = ci * CC, groups = (min(CC, C - cBase)) >> 2;
    const c0 = cBase + ((groups * slice / S) << 2), c1 = cBase + ((groups * (slice + 1) / S) << 2);
    const f0 = fi * FC, f1 = min(F, f0 + FC);
    const cw = c1 - c0, fw = f1 - f0;
    if (cw <= 0) continue;
    for (let t0 = 0; t0 < T; t0 += TB) {
      const nt = min(TB, T - t0);
      transformInputs(x, V, t0, nt, c0, c1, vPlane, <usize>cw << 2);
      transformGrads(dy, Z, t0, nt, f0, f1, zPlane, <usize>fw << 2);
      dwAccumulate(V, Z, Mb, vPlane, zPlane, cw, fw, 0, cw, nt, t0 > 0);
    }
    dwOutput(Mb, cw, fw, 0, cw, c0, f0, dw, scratch);
  }
}

/**
 * M_k += Z_k^T V_k for channel columns [lo, hi) (multiples of 4) of a block of nt tiles, k = 0..15:
 * V rows of cw channels, Z rows of fw filters, M[k][f][c] (fw x cw per cell), read in place (no
 * packing): 4 filters x 8 (or 4) channels per register tile, each block's sum taken apart and then
 * added (a sum over all tiles in one register loses more to rounding). Every element is the same
 * sum in the same order whatever the columns' range, so a split of the columns is bitwise the same.
 */
// @ts-ignore: decorator
@inline function dwAccumulate(V: usize, Z: usize, Mb: usize, vPlane: usize, zPlane: usize, cw: i32, fw: i32, lo: i32, hi: i32, nt: i32, acc: bool): void {
  const zStep = <usize>fw << 2, vStep = <usize>cw << 2, ldm = <usize>cw << 2;
  const mCell = <usize>fw * <usize>cw << 2;
  for (let k = 0; k < 16; k++) {
    const zk = Z + <usize>k * zPlane, vk = V + <usize>k * vPlane, mk = Mb + <usize>k * mCell;
    for (let f = 0; f < fw; f += 4) {
      const zf = zk + (<usize>f << 2), mf = mk + <usize>f * ldm;
      let c = lo;
      for (; c + 8 <= hi; c += 8) dwTile8(zf, zStep, vk + (<usize>c << 2), vStep, nt, mf + (<usize>c << 2), ldm, acc);
      if (c < hi) dwTile4(zf, zStep, vk + (<usize>c << 2), vStep, nt, mf + (<usize>c << 2), ldm, acc);
    }
  }
}

/**
 * dW_cf = G^T m_cf G for channel columns [lo, hi) of M (laid out as dwAccumulate's, cw x fw per cell),
 * four channels at a time; column c is channel cOff + c, row f filter fOff + f; dw is HWIO
 * [3, 3, C, F]. `scratch`: 12 vectors (G^T m by columns).
 */
function dwOutput(Mb: usize, cw: i32, fw: i32, lo: i32, hi: i32, cOff: i32, fOff: i32, dw: usize, scratch: usize): void {
  const HALF = f32x4.splat(0.5);
  const mCell = <usize>fw * <usize>cw << 2;
  const tap = <usize>gC * <usize>gF << 2;
  for (let f = 0; f < fw; f++) {
    for (let c = lo; c < hi; c += 4) {
      const m = Mb + ((<usize>f * <usize>cw + <usize>c) << 2);
      // columns j: u_ij = (G^T m_.j)_i, stored at scratch[j][i]
      for (let j = 0; j < 4; j++) {
        gtCol(v128.load(m + <usize>j * mCell), v128.load(m + <usize>(4 + j) * mCell), v128.load(m + <usize>(8 + j) * mCell), v128.load(m + <usize>(12 + j) * mCell), HALF, scratch + <usize>j * 48);
      }
      const out = dw + ((<usize>(cOff + c) * <usize>gF + <usize>(fOff + f)) << 2);
      for (let i = 0; i < 3; i++) {
        const s1 = v128.load(scratch + 48 + <usize>i * 16), s2 = v128.load(scratch + 96 + <usize>i * 16);
        const h = f32x4.mul(f32x4.add(s1, s2), HALF);
        const w0 = f32x4.add(v128.load(scratch + <usize>i * 16), h);
        const w1 = f32x4.mul(f32x4.sub(s1, s2), HALF);
        const w2 = f32x4.add(h, v128.load(scratch + 144 + <usize>i * 16));
        storeLanes(out + <usize>(3 * i) * tap, w0, <usize>gF << 2);
        storeLanes(out + <usize>(3 * i + 1) * tap, w1, <usize>gF << 2);
        storeLanes(out + <usize>(3 * i + 2) * tap, w2, <usize>gF << 2);
      }
    }
  }
}

// ---- Few chunks: tile groups summed apart (partials), then added in a fixed order.
// With fewer chunks than threads, winograd_backprop_filter_f32 would cut a chunk's channels into
// slices, one per thread, and every slice transforms all of the chunk's dy: 56x56x64 (one chunk)
// ran 1.6x faster on 2 threads than on 1, not 2x. Instead the tiles of such a geometry are cut
// into G groups of whole blocks (G from the geometry alone, never from the thread count): each
// (chunk, group) unit transforms and sums its own tiles into a partial M of its own (a scratch
// block the host passes), and winograd_dw_reduce_f32 adds the G partials in order and makes dw.
// Every sum is the same on any number of threads (bitwise), and no transform is done twice.

/** Tile groups of the filter gradient (1: none, M summed over all tiles in one pass): enough units for 4 threads where chunks are fewer. */
function dwTileGroups(C: i32, F: i32, T: i32): i32 {
  const CC = dwChunkC(C), FC = dwChunkF(C, F), TB = dwTilesPerBlock(C, F);
  const chunks = ((C + CC - 1) / CC) * ((F + FC - 1) / FC);
  const blocks = (T + TB - 1) / TB;
  return max(1, min(blocks, 4 / chunks));
}

/** Bytes of one partial M (16 x FC x CC floats). */
function dwPartialBytes(C: i32, F: i32): usize {
  return <usize>16 * <usize>dwChunkC(C) * <usize>dwChunkF(C, F) << 2;
}

/** Bytes of the partials winograd_backprop_filter_f32 needs for the geometry at `geom` (0: none, one pass). */
export function conv_winograd_dw_partial_bytes(geom: usize, ws: usize): usize {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  const C = gC, F = gF, T = gN * ((gOH + 1) >> 1) * ((gOW + 1) >> 1);
  const G = dwTileGroups(C, F, T);
  if (G == 1) return 0;
  const CC = dwChunkC(C), FC = dwChunkF(C, F);
  return <usize>(((C + CC - 1) / CC) * ((F + FC - 1) / FC) * G) * dwPartialBytes(C, F);
}

/** winograd_backprop_filter_f32 with tile groups: this part's (chunk, group) units, each into its partial. */
function dwPartials(x: usize, dy: usize, ws: usize, partials: usize, G: i32, part: i32, parts: i32): void {
  const C = gC, F = gF, T = gN * ((gOH + 1) >> 1) * ((gOW + 1) >> 1);
  const CC = dwChunkC(C), FC = dwChunkF(C, F), TB = dwTilesPerBlock(C, F);
  const nC = (C + CC - 1) / CC, nF = (F + FC - 1) / FC, units = nC * nF * G;
  const blocks = (T + TB - 1) / TB;
  const u0 = <i32>(<i64>units * part / parts), u1 = <i32>(<i64>units * (part + 1) / parts);
  const vPlane = (<usize>TB * <usize>CC << 2) + 64, zPlane = (<usize>TB * <usize>FC << 2) + 64;
  const V = ws + <usize>WS_WINO, Z = V + 16 * vPlane;
  for (let unit = u0; unit < u1; unit++) {
    const chunk = unit / G, g = unit - chunk * G;
    const fi = chunk / nC, ci = chunk - fi * nC;
    const c0 = ci * CC, c1 = min(C, c0 + CC), f0 = fi * FC, f1 = min(F, f0 + FC);
    const cw = c1 - c0, fw = f1 - f0;
    const M = partials + <usize>unit * dwPartialBytes(C, F);
    const b0 = blocks * g / G, b1 = blocks * (g + 1) / G;
    for (let b = b0; b < b1; b++) {
      const t0 = b * TB, nt = min(TB, T - t0);
      transformInputs(x, V, t0, nt, c0, c1, vPlane, <usize>cw << 2);
      transformGrads(dy, Z, t0, nt, f0, f1, zPlane, <usize>fw << 2);
      dwAccumulate(V, Z, M, vPlane, zPlane, cw, fw, 0, cw, nt, b > b0);
    }
  }
}

/**
 * After winograd_backprop_filter_f32 with partials: M = ((M_0 + M_1) + M_2) + ... per chunk (into
 * M_0), then dw = G^T M G: part `part` of `parts`, by groups of 4 channels of every chunk.
 */
export function winograd_dw_reduce_f32(geom: usize, ws: usize, partials: usize, dw: usize, part: i32, parts: i32): void {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  const C = gC, F = gF, T = gN * ((gOH + 1) >> 1) * ((gOW + 1) >> 1);
  const CC = dwChunkC(C), FC = dwChunkF(C, F), G = dwTileGroups(C, F, T);
  const nC = (C + CC - 1) / CC, nF = (F + FC - 1) / FC, per = CC >> 2, units = nC * nF * per;
  const u0 = <i32>(<i64>units * part / parts), u1 = <i32>(<i64>units * (part + 1) / parts);
  const stride = dwPartialBytes(C, F);
  for (let unit = u0; unit < u1; unit++) {
    const chunk = unit / per, lo = (unit - chunk * per) << 2;
    const fi = chunk / nC, ci = chunk - fi * nC;
    const c0 = ci * CC, c1 = min(C, c0 + CC), f0 = fi * FC, f1 = min(F, f0 + FC);
    const cw = c1 - c0, fw = f1 - f0;
    if (lo >= cw) continue;
    const M0 = partials + <usize>(chunk * G) * stride;
    for (let g = 1; g < G; g++) {
      const Mg = M0 + <usize>g * stride;
      for (let k = 0; k < 16; k++) for (let f = 0; f < fw; f++) {
        const o = ((<usize>k * <usize>fw + <usize>f) * <usize>cw + <usize>lo) << 2;
        v128.store(M0 + o, f32x4.add(v128.load(M0 + o), v128.load(Mg + o)));
      }
    }
    dwOutput(M0, cw, fw, lo, lo + 4, c0, f0, dw, ws + <usize>WS_WINO);
  }
}

/**
 * m[i][0..7] (+)= sum over t < nt of z_t[i] v_t[0..7] for filters i = 0..3: z_t and v_t advance
 * zStep and vStep bytes per tile, m's rows are ldm bytes apart; 8 accumulators in registers.
 */
// @ts-ignore: decorator
@inline function dwTile8(z: usize, zStep: usize, v: usize, vStep: usize, nt: i32, m: usize, ldm: usize, acc: bool): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  for (let t = 0; t < nt; t++) {
    const v0 = v128.load(v), v1 = v128.load(v + 16);
    let s = v128.load32_splat(z);
    a0 = madd_v(s, v0, a0); b0 = madd_v(s, v1, b0);
    s = v128.load32_splat(z + 4);
    a1 = madd_v(s, v0, a1); b1 = madd_v(s, v1, b1);
    s = v128.load32_splat(z + 8);
    a2 = madd_v(s, v0, a2); b2 = madd_v(s, v1, b2);
    s = v128.load32_splat(z + 12);
    a3 = madd_v(s, v0, a3); b3 = madd_v(s, v1, b3);
    z += zStep;
    v += vStep;
  }
  if (acc) {
    a0 = f32x4.add(v128.load(m), a0); b0 = f32x4.add(v128.load(m + 16), b0);
    a1 = f32x4.add(v128.load(m + ldm), a1); b1 = f32x4.add(v128.load(m + ldm + 16), b1);
    a2 = f32x4.add(v128.load(m + 2 * ldm), a2); b2 = f32x4.add(v128.load(m + 2 * ldm + 16), b2);
    a3 = f32x4.add(v128.load(m + 3 * ldm), a3); b3 = f32x4.add(v128.load(m + 3 * ldm + 16), b3);
  }
  v128.store(m, a0); v128.store(m + 16, b0);
  v128.store(m + ldm, a1); v128.store(m + ldm + 16, b1);
  v128.store(m + 2 * ldm, a2); v128.store(m + 2 * ldm + 16, b2);
  v128.store(m + 3 * ldm, a3); v128.store(m + 3 * ldm + 16, b3);
}

/** dwTile8 for the last 4 channels of a slice whose width is not a multiple of 8. */
// @ts-ignore: decorator
@inline function dwTile4(z: usize, zStep: usize, v: usize, vStep: usize, nt: i32, m: usize, ldm: usize, acc: bool): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let t = 0; t < nt; t++) {
    const v0 = v128.load(v);
    a0 = madd_v(v128.load32_splat(z), v0, a0);
    a1 = madd_v(v128.load32_splat(z + 4), v0, a1);
    a2 = madd_v(v128.load32_splat(z + 8), v0, a2);
    a3 = madd_v(v128.load32_splat(z + 12), v0, a3);
    z += zStep;
    v += vStep;
  }
  if (acc) {
    a0 = f32x4.add(v128.load(m), a0); a1 = f32x4.add(v128.load(m + ldm), a1);
    a2 = f32x4.add(v128.load(m + 2 * ldm), a2); a3 = f32x4.add(v128.load(m + 3 * ldm), a3);
  }
  v128.store(m, a0); v128.store(m + ldm, a1); v128.store(m + 2 * ldm, a2); v128.store(m + 3 * ldm, a3);
}

/** The four lanes of v at p, p + step, p + 2 step, p + 3 step (four channels of one filter in HWIO). */
// @ts-ignore: decorator
@inline function storeLanes(p: usize, v: v128, step: usize): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  store<f32>(p + step, f32x4.extract_lane(v, 1));
  store<f32>(p + 2 * step, f32x4.extract_lane(v, 2));
  store<f32>(p + 3 * step, f32x4.extract_lane(v, 3));
}
