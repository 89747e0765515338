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
  gD, gH, gW, gC, gOD, gOH, gOW, gKD, gKH, gKW, gSD, gSH, gSW, gDD, gDH, gDW, gPD, gPH, gPW, gCg, OFF_GRID,
  tapOff, gTapsFit, rowImg, rowD, rowH, rowW, rowIn,
  tapD, tapH, tapW, tapC, tapO, colO,
} from './conv_geometry';

// Per-row (output pixel) tables of the block being packed or scattered (in the
// workspace, see conv_geometry.ts): image index, input coordinates of tap (0,0,0) and
// whether the whole window is inside. Rows past the matrix edge get OFF_GRID.
// Per-row (tap) table for the transposed packing: tap offsets and channel.
// (They are per-thread scratch in the workspace, after the conv tables: see conv_tables_at.)

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

/** Whether a window with origin (d, h, w) has every tap inside the image. */
// @ts-ignore: decorator
@inline function windowInside(d: i32, h: i32, w: i32): bool {
  return d >= 0 && d + (gKD - 1) * gDD < gD && h >= 0 && h + (gKH - 1) * gDH < gH && w >= 0 && w + (gKW - 1) * gDW < gW;
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
    seti(rowIn, r, <i32>windowInside(od * gSD - gPD, oh * gSH - gPH, ow * gSW - gPW));
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
    seti(rowIn, r, 0);
  }
}

/**
 * Copy `run` channels of MR pixels that lie `st` bytes apart in x (consecutive
 * pixels of one output row) into the strip layout out[q][r]: 4x4 transposes in
 * registers, the rows past 4 as single lanes.
 */
// @ts-ignore: decorator
@inline export function packRowsStrided(src: usize, st: usize, run: i32, out: usize): void {
  const step = <usize>MR << 2;
  let q = 0;
  for (; q + 4 <= run; q += 4) {
    const s = src + (<usize>q << 2);
    const v0 = v128.load(s), v1 = v128.load(s + st), v2 = v128.load(s + 2 * st), v3 = v128.load(s + 3 * st);
    const v4 = v128.load(s + 4 * st);
    const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
    const t2 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
    const o = out + <usize>q * step;
    v128.store(o, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
    v128.store(o + step, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
    v128.store(o + 2 * step, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
    v128.store(o + 3 * step, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
    store<f32>(o, f32x4.extract_lane(v4, 0), 16);
    store<f32>(o + step, f32x4.extract_lane(v4, 1), 16);
    store<f32>(o + 2 * step, f32x4.extract_lane(v4, 2), 16);
    store<f32>(o + 3 * step, f32x4.extract_lane(v4, 3), 16);
    if (MR > 5) {
      const v5 = v128.load(s + 5 * st);
      store<f32>(o, f32x4.extract_lane(v5, 0), 20);
      store<f32>(o + step, f32x4.extract_lane(v5, 1), 20);
      store<f32>(o + 2 * step, f32x4.extract_lane(v5, 2), 20);
      store<f32>(o + 3 * step, f32x4.extract_lane(v5, 3), 20);
    }
  }
  for (; q < run; q++) {
    const s = src + (<usize>q << 2);
    const o = out + <usize>q * step;
    for (let r = 0; r < MR; r++) store<f32>(o + (<usize>r << 2), load<f32>(s + <usize>r * st));
  }
}

/**
 * Pack rows i0 .. i0+mc (output pixels) and columns k0 .. k0+kc (taps) of the
 * im2col matrix of group `group` into MR-row strips: dst[strip][k][r].
 * A strip of MR pixels from one output row whose taps all fall inside the image
 * (the common case) is copied with SIMD transposes; other strips element by element.
 */
export function pack_a_im2col(x: usize, group: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  const strips = (mc + MR - 1) / MR;
  im2col_rows(i0, mc, strips * MR);
  const fit = gTapsFit;
  const Cg = gCg;
  const cBase = group * Cg;
  const step = <usize>MR << 2;
  const pixStride = <usize>(gSW * gC) << 2;
  for (let s = 0; s < strips; s++) {
    const strip = dst + <usize>s * <usize>kc * step;
    const r0 = s * MR, rl = r0 + MR - 1;
    // MR pixels of one output row: same image, depth and height, widths sW apart
    const oneRow = s * MR + MR <= mc && geti(rowImg, rl) == geti(rowImg, r0) && geti(rowD, rl) == geti(rowD, r0)
      && geti(rowH, rl) == geti(rowH, r0) && geti(rowW, rl) == geti(rowW, r0) + (MR - 1) * gSW;
    let c = k0 % Cg;
    let t = k0 / Cg;
    if (oneRow && fit && geti(rowIn, r0) && geti(rowIn, rl)) {
      // every tap of every pixel is inside: taps are table offsets from the first pixel
      const base = x + ((<usize>pixelIndex(geti(rowImg, r0), geti(rowD, r0), geti(rowH, r0), geti(rowW, r0)) * gC + cBase) << 2);
      let kk = 0;
      if (Cg == 1 && pixStride == 4) {
        // one channel, unit stride: the MR values of a tap are contiguous
        for (; kk < kc; kk++, t++) {
          const src = base + <usize>geti(tapOff, t);
          const o = strip + <usize>kk * step;
          v128.store(o, v128.load(src));
          store<f32>(o, load<f32>(src, 16), 16);
          if (MR > 5) store<f32>(o, load<f32>(src, 20), 20);
        }
        continue;
      }
      while (kk < kc) {
        const run = min(Cg - c, kc - kk);
        packRowsStrided(base + <usize>geti(tapOff, t) + (<usize>c << 2), pixStride, run, strip + <usize>kk * step);
        kk += run;
        c += run;
        if (c == Cg) { c = 0; t++; }
      }
      continue;
    }
    let kw = t % gKW;
    t /= gKW;
    let kh = t % gKH;
    let kd = t / gKH;
    let kk = 0;
    while (kk < kc) {
      const run = min(Cg - c, kc - kk);
      let done = false;
      if (oneRow) {
        const id = geti(rowD, r0) + kd * gDD, ih = geti(rowH, r0) + kh * gDH, iw = geti(rowW, r0) + kw * gDW;
        if (<u32>id >= <u32>gD || <u32>ih >= <u32>gH) {
          // the tap's input row is in the padding for all MR pixels: a block of zeros
          memory.fill(strip + <usize>kk * step, 0, <usize>run * step);
          done = true;
        } else if (iw >= 0 && iw + (MR - 1) * gSW < gW) {
          const src = x + ((<usize>pixelIndex(geti(rowImg, r0), id, ih, iw) * gC + cBase + c) << 2);
          packRowsStrided(src, pixStride, run, strip + <usize>kk * step);
          done = true;
        }
      }
      if (!done) {
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
 * Pixels whose whole window is inside the image read their MR taps at fixed offsets
 * from the window origin (a contiguous run when the taps are consecutive channels).
 */
export function pack_a_im2col_t(x: usize, group: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  const strips = (mc + MR - 1) / MR;
  const Cg = gCg;
  const step = <usize>MR << 2;
  const cBase = group * Cg;
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
    for (let r = 0; r < MR; r++) {
      if (r < mr) {
        seti(tapD, r, kd * gDD);
        seti(tapH, r, kh * gDH);
        seti(tapW, r, kw * gDW);
        seti(tapC, r, cBase + c);
        // byte offset from the window origin's pixel start
        seti(tapO, r, ((((kd * gDD) * gH + kh * gDH) * gW + kw * gDW) * gC + cBase + c) << 2);
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
        seti(tapO, r, 0);
      }
    }
    // the MR taps read MR consecutive floats of x (consecutive channels of one tap, or
    // running across taps along W when dilation and channel counts line up)
    let run = mr == MR;
    for (let r = 1; r < MR; r++) run = run && geti(tapO, r) == geti(tapO, 0) + (r << 2);
    const strip = dst + <usize>s * <usize>kc * step;
    // walk output pixels k0 .. k0+kc
    let ow = k0 % gOW;
    t = k0 / gOW;
    let oh = t % gOH;
    t /= gOH;
    let od = t % gOD;
    let n = t / gOD;
    const o0 = <usize>geti(tapO, 0);
    for (let mm = 0; mm < kc; mm++) {
      const bd = od * gSD - gPD, bh = oh * gSH - gPH, bw = ow * gSW - gPW;
      const out = strip + ((<usize>mm * MR) << 2);
      if (windowInside(bd, bh, bw)) {
        const org = x + ((<usize>pixelIndex(n, bd, bh, bw) * gC) << 2);
        if (run) {
          const src = org + o0;
          v128.store(out, v128.load(src));
          store<f32>(out, load<f32>(src, 16), 16);
          if (MR > 5) store<f32>(out, load<f32>(src, 20), 20);
        } else {
          for (let r = 0; r < MR; r++) {
            // rows past mr are padding; a byte offset is unsigned (it may pass 2^31), so no sign test
            store<f32>(out + (<usize>r << 2), r < mr ? load<f32>(org + <usize>geti(tapO, r)) : 0);
          }
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
  // byte offsets of the nr columns from a window origin (used by interior rows)
  {
    let c = c0, tt = j / Cg;
    for (let q = 0; q < nr; q++) {
      seti(colO, q, (gTapsFit ? geti(tapOff, tt) : 0) + ((cBase + c) << 2));
      if (++c == Cg) { c = 0; tt++; }
    }
  }
  // the 8 columns hit 8 consecutive floats of dx (taps running along W)
  let contiguous = gTapsFit && nr == 8;
  for (let q = 1; q < 8; q++) contiguous = contiguous && geti(colO, q) == geti(colO, 0) + (q << 2);
  for (let r = 0; r < mr; r++) {
    const row = rowOff + r;
    const img = geti(rowImg, row), bd = geti(rowD, row), bh = geti(rowH, row), bw = geti(rowW, row);
    const src = tile + (<usize>r << 5);
    if (gTapsFit && geti(rowIn, row)) {
      const org = dx + ((<usize>pixelIndex(img, bd, bh, bw) * gC) << 2);
      if (contiguous) {
        const p = org + <usize>geti(colO, 0);
        v128.store(p, f32x4.add(v128.load(p), v128.load(src)));
        v128.store(p, f32x4.add(v128.load(p, 16), v128.load(src, 16)), 16);
        continue;
      }
      for (let q = 0; q < nr; q++) {
        const p = org + <usize>geti(colO, q);
        store<f32>(p, load<f32>(p) + load<f32>(src + (<usize>q << 2)));
      }
      continue;
    }
    let c = c0, kw = kw0, kh = kh0, kd = kd0;
    for (let q = 0; q < nr; q++) {
      const id = bd + kd * gDD, ih = bh + kh * gDH, iw = bw + kw * gDW;
      if (inside(id, ih, iw)) {
        const p = dx + ((<usize>pixelIndex(img, id, ih, iw) * gC + cBase + c) << 2);
        store<f32>(p, load<f32>(p) + load<f32>(src + (<usize>q << 2)));
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
