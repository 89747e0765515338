// Winograd F(2x2, 3x3): the forward 3x3 convolution, stride 1, dilation 1, one group, with
// 2.25x fewer multiplies than im2col + GEMM (Lavin & Gray, 2016); conv_f32.ts also runs the
// input gradient on it (the forward convolution of dy with the flipped filter). Each 2x2 block of output
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
import { WS_WINO, WINO_BYTES } from './gemm_config';
import { gemm_f32_driver, A_MATRIX, C_MATRIX } from './gemm_f32';
import { gN, gH, gW, gC, gF, gOH, gOW, gKD, gD, gKH, gKW, gSH, gSW, gDH, gDW, gPH, gPW, gGroups } from './conv_geometry';
import { epiOn, epilogue_suspend, epilogue_resume, epilogue_tile } from './epilogue_f32';

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
 * y = conv(x, w) for the loaded geometry, `u` the transformed filter; tiles of part `part`
 * of `parts`. With the epilogue on (FusedConv2D), each tile's pixels get it as soon as they
 * are written.
 */
export function winograd_forward_f32(x: usize, u: usize, y: usize, ws: usize, part: i32, parts: i32): void {
  const C = gC, F = gF, H = gH, W = gW, OH = gOH, OW = gOW;
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
  const rowBytes = <usize>W * <usize>C << 2, pixBytes = <usize>C << 2;
  const epi = epiOn;
  let transformed = -1; // the block whose input transform V holds
  for (let unit = u0; unit < u1; unit++) {
    const blk = unit / S, slice = unit - blk * S;
    const f0 = S == 1 ? 0 : (groups * slice / S) << 3, f1 = slice == S - 1 ? F : (groups * (slice + 1) / S) << 3;
    const t0 = blk * TB, nt = min(TB, T - t0);
    // input transform: V_k[t][c..c+3] = (B^T d B)_k, in registers
    if (blk != transformed) {
      transformed = blk;
      for (let t = 0; t < nt; t++) {
        const tile = t0 + t;
        const n = tile / (TH * TW), r = tile - n * TH * TW;
        const iy0 = (r / TW) * 2 - gPH, ix0 = (r % TW) * 2 - gPW;
        const r0 = iy0 >= 0 && iy0 < H, r1 = iy0 + 1 >= 0 && iy0 + 1 < H, r2 = iy0 + 2 >= 0 && iy0 + 2 < H, r3 = iy0 + 3 >= 0 && iy0 + 3 < H;
        const c0 = ix0 >= 0 && ix0 < W, c1 = ix0 + 1 >= 0 && ix0 + 1 < W, c2 = ix0 + 2 >= 0 && ix0 + 2 < W, c3 = ix0 + 3 >= 0 && ix0 + 3 < W;
        // the patch's top-left cell (outside the image when padded: only cells inside are read)
        const p0 = x + <usize>n * <usize>H * rowBytes + <usize>(iy0 * <i32>rowBytes + ix0 * <i32>pixBytes);
        const dst = V + (<usize>t * 16 * <usize>C << 2);
        for (let c = 0; c < C; c += 4) {
          const p = p0 + (<usize>c << 2), q = dst + (<usize>c << 2);
          // B^T d, column by column: t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3
          let d0 = ld(p, r0 && c0), d1 = ld(p + rowBytes, r1 && c0), d2 = ld(p + 2 * rowBytes, r2 && c0), d3 = ld(p + 3 * rowBytes, r3 && c0);
          const t00 = f32x4.sub(d0, d2), t10 = f32x4.add(d1, d2), t20 = f32x4.sub(d2, d1), t30 = f32x4.sub(d1, d3);
          d0 = ld(p + pixBytes, r0 && c1); d1 = ld(p + rowBytes + pixBytes, r1 && c1); d2 = ld(p + 2 * rowBytes + pixBytes, r2 && c1); d3 = ld(p + 3 * rowBytes + pixBytes, r3 && c1);
          const t01 = f32x4.sub(d0, d2), t11 = f32x4.add(d1, d2), t21 = f32x4.sub(d2, d1), t31 = f32x4.sub(d1, d3);
          d0 = ld(p + 2 * pixBytes, r0 && c2); d1 = ld(p + rowBytes + 2 * pixBytes, r1 && c2); d2 = ld(p + 2 * rowBytes + 2 * pixBytes, r2 && c2); d3 = ld(p + 3 * rowBytes + 2 * pixBytes, r3 && c2);
          const t02 = f32x4.sub(d0, d2), t12 = f32x4.add(d1, d2), t22 = f32x4.sub(d2, d1), t32 = f32x4.sub(d1, d3);
          d0 = ld(p + 3 * pixBytes, r0 && c3); d1 = ld(p + rowBytes + 3 * pixBytes, r1 && c3); d2 = ld(p + 2 * rowBytes + 3 * pixBytes, r2 && c3); d3 = ld(p + 3 * rowBytes + 3 * pixBytes, r3 && c3);
          const t03 = f32x4.sub(d0, d2), t13 = f32x4.add(d1, d2), t23 = f32x4.sub(d2, d1), t33 = f32x4.sub(d1, d3);
          // times B, row by row: v0 = e0 - e2, v1 = e1 + e2, v2 = e2 - e1, v3 = e1 - e3 (cells k = 4 row + col)
          row4(q, vCell, t00, t01, t02, t03);
          row4(q + 4 * vCell, vCell, t10, t11, t12, t13);
          row4(q + 8 * vCell, vCell, t20, t21, t22, t23);
          row4(q + 12 * vCell, vCell, t30, t31, t32, t33);
        }
      }
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
      const y0 = y + ((<usize>(n * OH + oy) * <usize>OW + <usize>ox) * <usize>F << 2);
      const y1 = y0 + (<usize>OW * <usize>F << 2);
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
        if (two) v128.store(y0 + fo + (<usize>F << 2), f32x4.sub(f32x4.sub(a1, a2), a3));
        if (down) {
          v128.store(y1 + fo, f32x4.add(f32x4.add(b0v, b1v), b2v));
          if (two) v128.store(y1 + fo + (<usize>F << 2), f32x4.sub(f32x4.sub(b1v, b2v), b3v));
        }
      }
      if (epi) {
        const fo = <usize>f0 << 2, pixel = <usize>F << 2;
        epilogue_tile(y0 + fo, pixel, two ? 2 : 1, f1 - f0, f0);
        if (down) epilogue_tile(y1 + fo, pixel, two ? 2 : 1, f1 - f0, f0);
      }
    }
  }
}
