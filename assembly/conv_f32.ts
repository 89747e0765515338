// Convolution on the packed GEMM, NDHWC images and [KD,KH,KW,C/groups,F] filters
// (2-D convolutions pass D = KD = 1). Per group g, with Cg = C/groups, Fg = F/groups,
// P = output pixels and Kg = KD*KH*KW*Cg taps:
//
//   forward          y[P, g*Fg..]  = im2col(x)_g [P x Kg]  @ w_g [Kg x Fg]
//   input gradient   dx           += col2im( dy_g [P x Fg] @ w_g^T [Fg x Kg] )
//   filter gradient  dw_g [Kg x Fg] = im2col(x)_g^T [Kg x P] @ dy_g [P x Fg]
//
// im2col and col2im are never materialised: the GEMM packs patches straight from x
// and scatters tiles straight into dx (see im2col_f32.ts). Fast paths: a pointwise
// (1x1, stride 1, no padding) convolution is a plain GEMM on x, and a depthwise one
// (one input channel per group) runs the direct kernels of conv_depthwise_f32.ts.
// `geom` points at the 22-int geometry block (conv_geometry.ts); `ws` at
// gemm_f32_workspace_bytes() of scratch.
import { CONV_PATH_GEMM, CONV_PATH_POINTWISE, CONV_PATH_DEPTHWISE, CONV_PATH_DIRECT, CONV_PATH_FLIPPED_GEMM, CONV_PATH_WINOGRAD } from './abi';
import { WS_TABLES, MR, NR, partBegin } from './gemm_config';
import { gemm_f32_driver, splitByColumns, A_MATRIX, A_IM2COL, A_IM2COL_T, C_MATRIX, C_COL2IM } from './gemm_f32';
import {
  conv_geometry_load, conv_geometry_to_input_grad, conv_is_pointwise, conv_is_depthwise,
  gN, gC, gF, gYS, gCg, gFg, gKg, gOutPix, gInPix, gGroups, gOW, gKD, gKH, gKW, gSD, gSH, gSW, gPD, gPH, gPW,
} from './conv_geometry';
import { conv_direct_fits, conv_direct_forward_f32, conv_direct_filter_fits, conv_direct_backprop_filter_f32 } from './conv_direct_f32';
import { depthwise_forward_f32, depthwise_backprop_input_f32, depthwise_backprop_filter_f32 } from './conv_depthwise_f32';
import { epiOn, epilogue_begin, epilogue_end, epilogue_pixels } from './epilogue_f32';
import { conv_winograd_fits, conv_winograd_pays, conv_winograd_filter_bytes, conv_winograd_filter_f32, winograd_parts, winograd_forward_f32, conv_winograd_dw_pays, winograd_backprop_filter_f32 } from './conv_winograd_f32';

// Threads: each kernel computes part `part` of `parts` (0 of 1 on one thread), and the
// parts are disjoint sets of output elements, each computed with the same sums in the same
// order as on one thread, so the result is bitwise the same for every thread count:
//   forward, and the flipped input gradient (a forward convolution): bands of output
//     pixels (GEMM rows, MR-aligned), output rows (direct) or pixels (depthwise);
//   col2im input gradient: whole images (the scatter of one image only touches its dx;
//     the GEMM runs image by image, so its blocks never depend on the split);
//   filter gradient: bands of filter rows (taps x input channels: GEMM rows), blocks of
//     taps per filter strip (direct) or channels (depthwise); each part runs the whole
//     reduction over pixels (no split-K).
// Every thread passes its own workspace `ws` (packing blocks, tables, scratch).
//
// Each kernel takes the path to run as its path argument (a CONV_PATH_* code) and runs
// exactly that path; the path functions (conv_*_path_f32) are the choice the host makes
// by default, and the applies functions (conv_*_applies_f32) tell whether a path can run
// a geometry at all, so the host can run and time every path by name.

/**
 * The forward path chosen for the geometry at `geom`: depthwise, the direct kernel
 * where it fits, Winograd where it pays (conv_winograd_pays), pointwise, else im2col +
 * GEMM. Leaves the geometry loaded.
 */
export function conv_forward_path_f32(geom: usize, ws: usize): i32 {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  if (conv_is_depthwise()) return CONV_PATH_DEPTHWISE;
  if (conv_direct_fits()) return CONV_PATH_DIRECT;
  if (conv_winograd_pays()) return CONV_PATH_WINOGRAD;
  return conv_is_pointwise() ? CONV_PATH_POINTWISE : CONV_PATH_GEMM;
}

/**
 * Whether forward path `path` can run the geometry at `geom`: im2col + GEMM runs any,
 * pointwise needs a pointwise geometry, depthwise one input channel per group, the
 * direct kernel conv_direct_fits(). Leaves the geometry loaded.
 */
export function conv_forward_applies_f32(path: i32, geom: usize, ws: usize): bool {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  if (path == CONV_PATH_GEMM) return true;
  if (path == CONV_PATH_POINTWISE) return conv_is_pointwise();
  if (path == CONV_PATH_DEPTHWISE) return conv_is_depthwise();
  if (path == CONV_PATH_DIRECT) return conv_direct_fits();
  if (path == CONV_PATH_WINOGRAD) return conv_winograd_fits();
  return false;
}

/** y = conv(x, w) on forward path `path` (one that applies to the geometry): part `part` of `parts`. */
export function conv_forward_f32(x: usize, w: usize, y: usize, geom: usize, ws: usize, path: i32, part: i32, parts: i32): void {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  forward(x, w, y, ws, path, part, parts);
}

/**
 * y = act(conv(x, w) + bias) (the FusedConv2D kernel) on forward path `path`: part `part`
 * of `parts`. `bias` is [F] floats (0: none); the activation is the epilogue of
 * epilogue_f32.ts (leaky slope `alpha`, clamp to [lo, hi]; or hard sigmoid / hard swish by
 * `mode`), applied to each piece of the
 * output as soon as it is computed. The same sums as conv_forward_f32, so the result is
 * bitwise the same for every thread count.
 *
 * `ys` is the number of floats from one output pixel to the next (0: F): with ys > F the
 * F channels go to a slice of a wider tensor (FusedConv2DConcat: each convolution writes its
 * part of the concatenation in place). Every path but depthwise takes it.
 */
export function conv_forward_fused_f32(x: usize, w: usize, y: usize, geom: usize, ws: usize, path: i32, bias: usize, alpha: f32, lo: f32, hi: f32, mode: i32, ys: i32, part: i32, parts: i32): void {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  if (ys > gF && path != CONV_PATH_DEPTHWISE) gYS = ys;
  epilogue_begin(bias, alpha, lo, hi, mode);
  forward(x, w, y, ws, path, part, parts);
  epilogue_end();
}

/**
 * How many parts the forward convolution at `geom` on `path` should split into for
 * `threads` threads: 4 per thread, except where each part would pack too much of the
 * operand it does not split. A GEMM part packs all of A (a band of columns) or all of B
 * (a band of rows), M x K or K x N floats, for M x N x K / parts multiply-adds: parts stay
 * at most (the split side) / 64 so that packing costs under about 1/64 of the work, and at
 * least one per thread. (MobileNet layers at batch 1, 7x7 or 14x14 pixels: 8
 * parts of [7,7,960] x [960,320] packed the 188 kB A 8 times; it ran no faster on 2 threads.)
 */
export function conv_forward_parts_f32(geom: usize, ws: usize, path: i32, threads: i32): i32 {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  const parts = threads * 4;
  // depthwise: whole output rows, at least 4 of them per part (the row kernels' setup
  // and borders cost per row segment; 8 parts of a 7x7x960 layer ran slower than one)
  if (path == CONV_PATH_DEPTHWISE) return max(threads, min(parts, gOutPix / (4 * gOW)));
  // Winograd: whole blocks of tiles, or slices of their filters where blocks are few
  if (path == CONV_PATH_WINOGRAD) return winograd_parts(threads);
  if (path != CONV_PATH_GEMM && path != CONV_PATH_POINTWISE) return parts;
  const side = splitByColumns(gOutPix, gFg, parts) ? gFg : gOutPix;
  return max(threads, min(parts, side / 64));
}

/** Output pixels per depthwise piece that gets the epilogue while in cache (about 32 kB of output). */
function depthwisePiece(): i32 {
  return max(1, 8192 / gF);
}

/** The forward convolution of the loaded geometry (shared with the flipped input gradient). */
function forward(x: usize, w: usize, y: usize, ws: usize, path: i32, part: i32, parts: i32): void {
  if (path == CONV_PATH_DEPTHWISE) {
    const p0 = partBegin(gOutPix, 1, part, parts), p1 = partBegin(gOutPix, 1, part + 1, parts);
    if (!epiOn) {
      depthwise_forward_f32(x, w, y, p0, p1);
      return;
    }
    const piece = depthwisePiece();
    for (let p = p0; p < p1; p += piece) {
      const q = min(p1, p + piece);
      depthwise_forward_f32(x, w, y, p, q);
      epilogue_pixels(y + (<usize>p * <usize>gF << 2), q - p, gF);
    }
    return;
  }
  if (path == CONV_PATH_DIRECT) {
    conv_direct_forward_f32(x, w, y, ws, part, parts);
    return;
  }
  if (path == CONV_PATH_WINOGRAD) {
    // w is the transformed filter (conv_winograd_filter_f32)
    winograd_forward_f32(x, w, y, ws, part, parts);
    return;
  }
  const pointwise = path == CONV_PATH_POINTWISE;
  // A band of output pixels per part, or of filters when there are more filters than
  // pixels (deep layers at batch 1: 7x7 pixels, 512 filters): see splitByColumns.
  const cols = splitByColumns(gOutPix, gFg, parts);
  const m0 = cols ? 0 : partBegin(gOutPix, MR, part, parts), m1 = cols ? gOutPix : partBegin(gOutPix, MR, part + 1, parts);
  const n0 = cols ? partBegin(gFg, NR, part, parts) : 0, n1 = cols ? partBegin(gFg, NR, part + 1, parts) : gFg;
  for (let g = 0; g < gGroups; g++) {
    const wg = w + (<usize>(g * gFg) << 2);
    const yg = y + (<usize>(g * gFg) << 2);
    if (pointwise) {
      gemm_f32_driver(gOutPix, gFg, gCg, A_MATRIX, x + (<usize>(g * gCg) << 2), gC, false, wg, gF, false, C_MATRIX, yg, gYS, false, ws, g, m0, m1, n0, n1);
    } else {
      gemm_f32_driver(gOutPix, gFg, gKg, A_IM2COL, x, 0, false, wg, gF, false, C_MATRIX, yg, gYS, false, ws, g, m0, m1, n0, n1);
    }
  }
}

/**
 * Which path conv_backprop_input_f32 takes for the geometry at `geom`: depthwise,
 * pointwise, the col2im GEMM (CONV_PATH_GEMM), or for unit strides the forward convolution
 * of dy with the flipped filter, on the direct kernel (CONV_PATH_DIRECT) or on the GEMM
 * (CONV_PATH_FLIPPED_GEMM, Cg >= 16). Leaves the original geometry loaded.
 */
export function conv_backprop_input_path_f32(geom: usize, ws: usize): i32 {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  if (conv_is_depthwise()) return CONV_PATH_DEPTHWISE;
  if (conv_is_pointwise()) return CONV_PATH_POINTWISE;
  if (gSD != 1 || gSH != 1 || gSW != 1) return CONV_PATH_GEMM;
  if (flippedWinograd(geom, ws, true)) return CONV_PATH_WINOGRAD;
  // The flipped convolution produces Cg columns per group. Up to 32 of them the direct
  // kernel (8 lanes per strip, no packing of dy's long im2col rows) beats the GEMM where
  // most of its lanes are used (3 of 4), or half of them with a short reduction;
  // measured, batch 8-64, plain / relaxed: LeNet C3 (6 channels from 16, 5x5) 1.35x
  // faster than col2im, 8 from 16 3x3 2.7x, 4 from 16 3x3 2.2x; 16 from 32 3x3 1.14x /
  // 1.39x faster than the flipped GEMM, 32 from 32 1.06x / 1.21x; slower for 4 from
  // 128 (0.8x), 1 from 32 (0.55x) and 64 from 64 (0.9x plain).
  // Below 16 columns the flipped GEMM is too narrow to pay for its packing (LeNet C3:
  // 1.6x slower than col2im), so what the direct kernel does not take goes to col2im.
  const wide = gCg >= 16;
  const lanes = (gCg + 7) & ~7;
  const taps = gKD * gKH * gKW;
  if (gCg <= 32 && (gCg * 4 >= lanes * 3 || (gCg * 2 >= lanes && taps * gFg <= 600)) && flippedDirectFits(geom, ws)) return CONV_PATH_DIRECT;
  return wide ? CONV_PATH_FLIPPED_GEMM : CONV_PATH_GEMM;
}

/**
 * Whether the flipped-filter forward convolution of the geometry at `geom` fits the
 * Winograd path (`pays`: and dispatch should take it; see conv_winograd_pays). Leaves the
 * original geometry loaded.
 */
function flippedWinograd(geom: usize, ws: usize, pays: bool): bool {
  if (gSD != 1 || gSH != 1 || gSW != 1) return false;
  conv_geometry_to_input_grad();
  const ok = pays ? conv_winograd_pays() : conv_winograd_fits();
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  return ok;
}

/**
 * Whether the flipped-filter forward convolution of the (unit-stride) geometry at `geom`
 * fits the direct kernel, at any reduction length. Padding beyond the kernel's extent
 * makes the flipped padding negative: the direct kernel's row buffer cannot start inside
 * the image. Leaves the original geometry loaded.
 */
function flippedDirectFits(geom: usize, ws: usize): bool {
  conv_geometry_to_input_grad();
  const direct = gPD >= 0 && gPH >= 0 && gPW >= 0 && conv_direct_fits(i32.MAX_VALUE);
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  return direct;
}

/**
 * Whether input-gradient path `path` can run the geometry at `geom`: col2im (GEMM) runs
 * any, pointwise and depthwise need their geometries, the flipped-filter paths unit
 * strides (and the direct kernel's fit). Leaves the geometry loaded.
 */
export function conv_backprop_input_applies_f32(path: i32, geom: usize, ws: usize): bool {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  if (path == CONV_PATH_GEMM) return true;
  if (path == CONV_PATH_POINTWISE) return conv_is_pointwise();
  if (path == CONV_PATH_DEPTHWISE) return conv_is_depthwise();
  const unitStrides = gSD == 1 && gSH == 1 && gSW == 1;
  if (path == CONV_PATH_FLIPPED_GEMM) return unitStrides;
  if (path == CONV_PATH_DIRECT) return unitStrides && !conv_is_depthwise() && flippedDirectFits(geom, ws);
  if (path == CONV_PATH_WINOGRAD) return flippedWinograd(geom, ws, false);
  return false;
}

/**
 * Bytes of host scratch conv_backprop_input_f32 needs for the geometry at `geom` on
 * path `path`: a flipped copy of the filter when the input gradient runs as a forward
 * convolution (Winograd: and that copy transformed after it), else 0.
 */
export function conv_backprop_input_scratch_bytes(geom: usize, ws: usize, path: i32): usize {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  if (path == CONV_PATH_WINOGRAD) return flippedBytes() + <usize>conv_winograd_filter_bytes(gF, gC);
  return path == CONV_PATH_FLIPPED_GEMM || path == CONV_PATH_DIRECT ? flippedBytes() : 0;
}

/**
 * Bytes of the flipped filter (flipFilter) of the loaded geometry, where the Winograd path
 * puts its transformed copy after it. A byte count can pass 2^31 (a filter of over 2^29
 * floats): usize, read with >>> 0 by the host.
 */
function flippedBytes(): usize {
  return <usize>(gKD * gKH * gKW * gFg * gC) << 2;
}

/**
 * wt[flip(t), fi, g*Cg + ci] = w[t, ci, g*Fg + fi]: the filter of the forward
 * convolution that computes the input gradient (spatially flipped, channel axes swapped).
 */
function flipFilter(w: usize, wt: usize): void {
  const taps = gKD * gKH * gKW, Cg = gCg, Fg = gFg, C = gC, F = gF;
  for (let t = 0; t < taps; t++) {
    const src = w + (<usize>(t * Cg * F) << 2);
    const dst = wt + (<usize>((taps - 1 - t) * Fg * C) << 2);
    for (let g = 0; g < gGroups; g++) {
      for (let ci = 0; ci < Cg; ci++) {
        for (let fi = 0; fi < Fg; fi++) {
          store<f32>(dst + (<usize>(fi * C + g * Cg + ci) << 2), load<f32>(src + (<usize>(ci * F + g * Fg + fi) << 2)));
        }
      }
    }
  }
}

/**
 * Run once (one thread) before conv_backprop_input_f32's parts: the flipped-filter paths
 * write the flipped filter to `wt` (see conv_backprop_input_scratch_bytes); the others
 * need nothing.
 */
export function conv_backprop_input_prepare_f32(w: usize, geom: usize, ws: usize, wt: usize, path: i32): void {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  if (path == CONV_PATH_FLIPPED_GEMM || path == CONV_PATH_DIRECT || path == CONV_PATH_WINOGRAD) flipFilter(w, wt);
  // the flipped filter is [3, 3, F, C]: F input channels, C filters
  if (path == CONV_PATH_WINOGRAD) conv_winograd_filter_f32(wt, wt + flippedBytes(), gF, gC, gF);
}

/**
 * dx = d conv / dx applied to dy (dx is fully written): part `part` of `parts`, after
 * conv_backprop_input_prepare_f32. Unit-stride convolutions run it as the forward
 * convolution of dy with the flipped filter (`wt`): a long reduction and no scatter.
 * Strided ones (and narrow ones the direct kernel would waste lanes on) multiply dy by
 * the filter's transpose and scatter the patches back (col2im), image by image.
 */
export function conv_backprop_input_f32(dy: usize, w: usize, dx: usize, geom: usize, ws: usize, wt: usize, path: i32, part: i32, parts: i32): void {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  if (path == CONV_PATH_DEPTHWISE) {
    depthwise_backprop_input_f32(dy, w, dx, partBegin(gC, 4, part, parts), partBegin(gC, 4, part + 1, parts));
    return;
  }
  if (path == CONV_PATH_FLIPPED_GEMM || path == CONV_PATH_DIRECT) {
    conv_geometry_to_input_grad();
    // now C = F (dy channels) and F = C (dx channels), Cg = Fg, Fg = Cg
    forward(dy, wt, dx, ws, path == CONV_PATH_DIRECT ? CONV_PATH_DIRECT : CONV_PATH_GEMM, part, parts);
    return;
  }
  if (path == CONV_PATH_WINOGRAD) {
    // the transformed flipped filter follows the flipped one (conv_backprop_input_prepare_f32)
    const u = wt + flippedBytes();
    conv_geometry_to_input_grad();
    winograd_forward_f32(dy, u, dx, ws, part, parts);
    return;
  }
  if (path == CONV_PATH_POINTWISE) {
    // bands of pixels, or of input channels when there are more of them (as forward())
    const cols = splitByColumns(gOutPix, gCg, parts);
    const m0 = cols ? 0 : partBegin(gOutPix, MR, part, parts), m1 = cols ? gOutPix : partBegin(gOutPix, MR, part + 1, parts);
    const n0 = cols ? partBegin(gCg, NR, part, parts) : 0, n1 = cols ? partBegin(gCg, NR, part + 1, parts) : gCg;
    for (let g = 0; g < gGroups; g++) {
      // dx_g [P x Cg] = dy_g [P x Fg] @ w_g^T
      gemm_f32_driver(gOutPix, gCg, gFg, A_MATRIX, dy + (<usize>(g * gFg) << 2), gF, false, w + (<usize>(g * gFg) << 2), gF, true,
        C_MATRIX, dx + (<usize>(g * gCg) << 2), gC, false, ws, g, m0, m1, n0, n1);
    }
    return;
  }
  // col2im: whole images per part
  const n0 = partBegin(gN, 1, part, parts), n1 = partBegin(gN, 1, part + 1, parts);
  if (n0 >= n1) return;
  const inImg = <usize>(gInPix / gN) * <usize>gC, outImg = gOutPix / gN;
  memory.fill(dx + ((<usize>n0 * inImg) << 2), 0, (<usize>(n1 - n0) * inImg) << 2);
  for (let n = n0; n < n1; n++) {
    for (let g = 0; g < gGroups; g++) {
      gemm_f32_driver(gOutPix, gKg, gFg, A_MATRIX, dy + (<usize>(g * gFg) << 2), gF, false, w + (<usize>(g * gFg) << 2), gF, true,
        C_COL2IM, dx, 0, true, ws, g, n * outImg, (n + 1) * outImg);
    }
  }
}

/** The filter-gradient path chosen for the geometry at `geom` (codes as conv_forward_path_f32; leaves it loaded). */
export function conv_backprop_filter_path_f32(geom: usize, ws: usize): i32 {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  if (conv_is_depthwise()) return CONV_PATH_DEPTHWISE;
  if (conv_winograd_dw_pays()) return CONV_PATH_WINOGRAD;
  if (conv_direct_filter_fits()) return CONV_PATH_DIRECT;
  return conv_is_pointwise() ? CONV_PATH_POINTWISE : CONV_PATH_GEMM;
}

/** Whether filter-gradient path `path` can run the geometry at `geom` (as conv_forward_applies_f32, with conv_direct_filter_fits()). */
export function conv_backprop_filter_applies_f32(path: i32, geom: usize, ws: usize): bool {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  if (path == CONV_PATH_GEMM) return true;
  if (path == CONV_PATH_POINTWISE) return conv_is_pointwise();
  if (path == CONV_PATH_DEPTHWISE) return conv_is_depthwise();
  if (path == CONV_PATH_DIRECT) return conv_direct_filter_fits();
  if (path == CONV_PATH_WINOGRAD) return conv_winograd_fits();
  return false;
}

/** dw = d conv / dw applied to dy (dw is fully written) on filter-gradient path `path` (one that applies): part `part` of `parts`. */
export function conv_backprop_filter_f32(x: usize, dy: usize, dw: usize, geom: usize, ws: usize, path: i32, partials: usize, part: i32, parts: i32): void {
  conv_geometry_load(geom, ws + <usize>WS_TABLES);
  if (path == CONV_PATH_DEPTHWISE) {
    depthwise_backprop_filter_f32(x, dy, dw, partBegin(gC, 4, part, parts), partBegin(gC, 4, part + 1, parts));
    return;
  }
  if (path == CONV_PATH_DIRECT) {
    conv_direct_backprop_filter_f32(x, dy, dw, ws, part, parts);
    return;
  }
  if (path == CONV_PATH_WINOGRAD) {
    winograd_backprop_filter_f32(x, dy, dw, ws, partials, part, parts);
    return;
  }
  const pointwise = path == CONV_PATH_POINTWISE;
  const rows = pointwise ? gCg : gKg;
  const m0 = partBegin(rows, MR, part, parts), m1 = partBegin(rows, MR, part + 1, parts);
  for (let g = 0; g < gGroups; g++) {
    const dyg = dy + (<usize>(g * gFg) << 2);
    const dwg = dw + (<usize>(g * gFg) << 2);
    if (pointwise) {
      // dw_g [Cg x Fg] = x_g^T [Cg x P] @ dy_g
      gemm_f32_driver(gCg, gFg, gOutPix, A_MATRIX, x + (<usize>(g * gCg) << 2), gC, true, dyg, gF, false, C_MATRIX, dwg, gF, false, ws, g, m0, m1);
    } else {
      gemm_f32_driver(gKg, gFg, gOutPix, A_IM2COL_T, x, 0, false, dyg, gF, false, C_MATRIX, dwg, gF, false, ws, g, m0, m1);
    }
  }
}
