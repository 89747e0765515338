// Implicit im2col: the packed GEMM reads convolution patches straight from the NDHWC
// input while it packs its A blocks, so no im2col matrix is ever materialised.
//
//   forward / input-gradient matrix   A[m, k] = x[n, od*sD - pD + kd*dD, oh*.., ow*.., g*Cg + c]
//     rows m = (n, od, oh, ow) output pixels, columns k = (kd, kh, kw, c) taps
//   filter-gradient matrix            A^T[k, m] (the same values, taps as rows)
//
// Taps that fall in the padding read 0. col2im_add_tile is the adjoint: it scatters a
// tile of the (pixels x taps) matrix back into the input gradient.
import { MR } from './gemm_config';
import {
  gD, gH, gW, gC, gOD, gOH, gOW, gKH, gKW, gSD, gSH, gSW, gDD, gDH, gDW, gPD, gPH, gPW, gCg, OFF_GRID,
} from './conv_geometry';

// Per-row (output pixel) table of the block being packed or scattered: image index and
// the input coordinates of tap (0,0,0). Rows past the matrix edge get OFF_GRID.
const ROWS_MAX: i32 = 256;
const rowImg = memory.data(ROWS_MAX * 4, 16);
const rowD = memory.data(ROWS_MAX * 4, 16);
const rowH = memory.data(ROWS_MAX * 4, 16);
const rowW = memory.data(ROWS_MAX * 4, 16);
// Per-row (tap) table for the transposed packing: tap offsets and channel.
const tapD = memory.data(8 * 4, 16);
const tapH = memory.data(8 * 4, 16);
const tapW = memory.data(8 * 4, 16);
const tapC = memory.data(8 * 4, 16);

// @ts-ignore: decorator
@inline function geti(base: usize, i: i32): i32 { return load<i32>(base + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function seti(base: usize, i: i32, v: i32): void { store<i32>(base + (<usize>i << 2), v); }
// @ts-ignore: decorator
@inline function inside(id: i32, ih: i32, iw: i32): bool {
  return <u32>id < <u32>gD && <u32>ih < <u32>gH && <u32>iw < <u32>gW;
}
// @ts-ignore: decorator
@inline function pixelIndex(img: i32, id: i32, ih: i32, iw: i32): i32 {
  return ((img * gD + id) * gH + ih) * gW + iw;
}

/** Fill the row table for output pixels m0 .. m0+count (count <= ROWS_MAX); rows up to pad are OFF_GRID. */
export function im2col_rows(m0: i32, count: i32, pad: i32): void {
  let ow = m0 % gOW;
  let t = m0 / gOW;
  let oh = t % gOH;
  t /= gOH;
  let od = t % gOD;
  let n = t / gOD;
  for (let r = 0; r < count; r++) {
    seti(rowImg, r, n);
    seti(rowD, r, od * gSD - gPD);
    seti(rowH, r, oh * gSH - gPH);
    seti(rowW, r, ow * gSW - gPW);
    if (++ow == gOW) {
      ow = 0;
      if (++oh == gOH) {
        oh = 0;
        if (++od == gOD) { od = 0; n++; }
      }
    }
  }
  for (let r = count; r < pad; r++) {
    seti(rowImg, r, 0);
    seti(rowD, r, OFF_GRID);
    seti(rowH, r, OFF_GRID);
    seti(rowW, r, OFF_GRID);
  }
}

/**
 * Pack rows i0 .. i0+mc (output pixels) and columns k0 .. k0+kc (taps) of the im2col
 * matrix of group `group` into MR-row strips: dst[strip][k][r].
 */
export function pack_a_im2col(x: usize, group: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  const strips = (mc + MR - 1) / MR;
  im2col_rows(i0, mc, strips * MR);
  const Cg = gCg;
  const cBase = group * Cg;
  const step = <usize>MR << 2;
  for (let s = 0; s < strips; s++) {
    const strip = dst + <usize>s * <usize>kc * step;
    let c = k0 % Cg;
    let t = k0 / Cg;
    let kw = t % gKW;
    t /= gKW;
    let kh = t % gKH;
    let kd = t / gKH;
    let kk = 0;
    while (kk < kc) {
      const run = min(Cg - c, kc - kk);
      for (let r = 0; r < MR; r++) {
        const row = s * MR + r;
        const id = geti(rowD, row) + kd * gDD;
        const ih = geti(rowH, row) + kh * gDH;
        const iw = geti(rowW, row) + kw * gDW;
        let out = strip + ((<usize>kk * MR + r) << 2);
        if (inside(id, ih, iw)) {
          let src = x + ((<usize>pixelIndex(geti(rowImg, row), id, ih, iw) * gC + cBase + c) << 2);
          for (let q = 0; q < run; q++) {
            store<f32>(out, load<f32>(src));
            out += step;
            src += 4;
          }
        } else {
          for (let q = 0; q < run; q++) {
            store<f32>(out, 0);
            out += step;
          }
        }
      }
      kk += run;
      c += run;
      if (c == Cg) {
        c = 0;
        if (++kw == gKW) {
          kw = 0;
          if (++kh == gKH) { kh = 0; kd++; }
        }
      }
    }
  }
}

/**
 * Pack rows i0 .. i0+mc (taps) and columns k0 .. k0+kc (output pixels) of the
 * transposed im2col matrix of group `group` into MR-row strips (filter gradient).
 */
export function pack_a_im2col_t(x: usize, group: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  const strips = (mc + MR - 1) / MR;
  const Cg = gCg;
  const step = <usize>MR << 2;
  for (let s = 0; s < strips; s++) {
    const mr = min(MR, mc - s * MR);
    // taps of this strip; contiguous when they share (kd, kh, kw) and have consecutive channels
    let k = i0 + s * MR;
    let c = k % Cg;
    let t = k / Cg;
    let kw = t % gKW;
    t /= gKW;
    let kh = t % gKH;
    let kd = t / gKH;
    const run = mr == MR && c + MR <= Cg;
    for (let r = 0; r < MR; r++) {
      if (r < mr) {
        seti(tapD, r, kd * gDD);
        seti(tapH, r, kh * gDH);
        seti(tapW, r, kw * gDW);
        seti(tapC, r, group * Cg + c);
        if (++c == Cg) {
          c = 0;
          if (++kw == gKW) {
            kw = 0;
            if (++kh == gKH) { kh = 0; kd++; }
          }
        }
      } else {
        seti(tapD, r, OFF_GRID);
        seti(tapH, r, OFF_GRID);
        seti(tapW, r, OFF_GRID);
        seti(tapC, r, 0);
      }
    }
    const strip = dst + <usize>s * <usize>kc * step;
    // walk output pixels k0 .. k0+kc
    let ow = k0 % gOW;
    t = k0 / gOW;
    let oh = t % gOH;
    t /= gOH;
    let od = t % gOD;
    let n = t / gOD;
    const d0 = geti(tapD, 0), h0 = geti(tapH, 0), w0 = geti(tapW, 0), c0 = geti(tapC, 0);
    for (let mm = 0; mm < kc; mm++) {
      const bd = od * gSD - gPD, bh = oh * gSH - gPH, bw = ow * gSW - gPW;
      const out = strip + ((<usize>mm * MR) << 2);
      if (run) {
        const id = bd + d0, ih = bh + h0, iw = bw + w0;
        if (inside(id, ih, iw)) {
          const src = x + ((<usize>pixelIndex(n, id, ih, iw) * gC + c0) << 2);
          v128.store(out, v128.load(src));
          for (let r = 4; r < MR; r++) store<f32>(out + (<usize>r << 2), load<f32>(src + (<usize>r << 2)));
        } else {
          v128.store(out, i32x4.splat(0));
          for (let r = 4; r < MR; r++) store<f32>(out + (<usize>r << 2), 0);
        }
      } else {
        for (let r = 0; r < MR; r++) {
          const id = bd + geti(tapD, r), ih = bh + geti(tapH, r), iw = bw + geti(tapW, r);
          let v: f32 = 0;
          if (inside(id, ih, iw)) v = load<f32>(x + ((<usize>pixelIndex(n, id, ih, iw) * gC + geti(tapC, r)) << 2));
          store<f32>(out + (<usize>r << 2), v);
        }
      }
      if (++ow == gOW) {
        ow = 0;
        if (++oh == gOH) {
          oh = 0;
          if (++od == gOD) { od = 0; n++; }
        }
      }
    }
  }
}

/**
 * dx[pixel(m, k)] += tile[m - i][k - j] for the rows i .. i+mr (output pixels, row r of
 * the current block's row table at rowOff + r) and columns j .. j+nr (taps) of group
 * `group`. The tile holds 8 floats per row.
 */
export function col2im_add_tile(tile: usize, rowOff: i32, mr: i32, j: i32, nr: i32, dx: usize, group: i32): void {
  const Cg = gCg;
  let c0 = j % Cg;
  let t = j / Cg;
  const kw0 = t % gKW;
  t /= gKW;
  const kh0 = t % gKH;
  const kd0 = t / gKH;
  const cBase = group * Cg;
  if (nr == 8 && c0 + 8 <= Cg) {
    // one tap, 8 consecutive channels: a contiguous run of dx per row
    for (let r = 0; r < mr; r++) {
      const row = rowOff + r;
      const id = geti(rowD, row) + kd0 * gDD, ih = geti(rowH, row) + kh0 * gDH, iw = geti(rowW, row) + kw0 * gDW;
      if (!inside(id, ih, iw)) continue;
      const p = dx + ((<usize>pixelIndex(geti(rowImg, row), id, ih, iw) * gC + cBase + c0) << 2);
      const src = tile + (<usize>r << 5);
      v128.store(p, f32x4.add(v128.load(p), v128.load(src)));
      v128.store(p, f32x4.add(v128.load(p, 16), v128.load(src, 16)), 16);
    }
    return;
  }
  for (let r = 0; r < mr; r++) {
    const row = rowOff + r;
    const img = geti(rowImg, row), bd = geti(rowD, row), bh = geti(rowH, row), bw = geti(rowW, row);
    let c = c0, kw = kw0, kh = kh0, kd = kd0;
    for (let q = 0; q < nr; q++) {
      const id = bd + kd * gDD, ih = bh + kh * gDH, iw = bw + kw * gDW;
      if (inside(id, ih, iw)) {
        const p = dx + ((<usize>pixelIndex(img, id, ih, iw) * gC + cBase + c) << 2);
        store<f32>(p, load<f32>(p) + load<f32>(tile + ((<usize>r * 8 + q) << 2)));
      }
      if (++c == Cg) {
        c = 0;
        if (++kw == gKW) {
          kw = 0;
          if (++kh == gKH) { kh = 0; kd++; }
        }
      }
    }
  }
}
