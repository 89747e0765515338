// Direct depthwise convolution (groups = C, one input channel per group, channel
// multiplier Mu = F / C, filter [KD,KH,KW,1,F], output channel f = c*Mu + m reads
// input channel c). im2col would turn this into C GEMMs of width Mu (usually 1), so
// these kernels loop over output pixels and vectorise across channels instead.
// For each output pixel the taps inside the image are listed first (input row
// offset, filter row offset), so the inner loops carry no bounds checks. The forward
// pass of the common 2-D case (multiplier 1, 3x3 or 5x5) runs by output rows instead
// (forwardRows below), in the same summation order.
import { madd_v } from './math_f32x4';
import {
  gN, gD, gH, gW, gC, gOD, gOH, gOW, gF, gKD, gKH, gKW, gSD, gSH, gSW, gDD, gDH, gDW, gPD, gPH, gPW,
  TAPS_MAX, dwTapIn as tapIn, dwTapFilt as tapFilt,
} from './conv_geometry';

// tapIn / tapFilt: the tap lists, in the workspace's conv tables (conv_geometry.ts)
let tapCount: i32 = 0;

/** List the taps of output pixel (n, od, oh, ow) that fall inside the image, starting at tap t0 (at most TAPS_MAX). Returns the next t0, or -1 when done. */
function listTaps(n: i32, od: i32, oh: i32, ow: i32, t0: i32): i32 {
  const total = gKD * gKH * gKW;
  const d0 = od * gSD - gPD, h0 = oh * gSH - gPH, w0 = ow * gSW - gPW;
  tapCount = 0;
  let t = t0;
  for (; t < total && tapCount < TAPS_MAX; t++) {
    const kw = t % gKW, kh = (t / gKW) % gKH, kd = t / (gKW * gKH);
    const id = d0 + kd * gDD, ih = h0 + kh * gDH, iw = w0 + kw * gDW;
    if (<u32>id < <u32>gD && <u32>ih < <u32>gH && <u32>iw < <u32>gW) {
      store<i32>(tapIn + (<usize>tapCount << 2), (((n * gD + id) * gH + ih) * gW + iw) * gC);
      store<i32>(tapFilt + (<usize>tapCount << 2), t * gF);
      tapCount++;
    }
  }
  return t < total ? t : -1;
}

// @ts-ignore: decorator
@inline function tin(i: i32): usize { return <usize>load<i32>(tapIn + (<usize>i << 2)) << 2; }
// @ts-ignore: decorator
@inline function tfl(i: i32): usize { return <usize>load<i32>(tapFilt + (<usize>i << 2)) << 2; }

/** dst[c] += a[c] * b[c] for c < n, 4 channels at a time. */
// @ts-ignore: decorator
@inline function addProducts(dst: usize, a: usize, b: usize, n: i32): void {
  let c = 0;
  for (; c + 4 <= n; c += 4) {
    const off = <usize>c << 2;
    v128.store(dst + off, f32x4.add(v128.load(dst + off), f32x4.mul(v128.load(a + off), v128.load(b + off))));
  }
  for (; c < n; c++) {
    const off = <usize>c << 2;
    store<f32>(dst + off, load<f32>(dst + off) + load<f32>(a + off) * load<f32>(b + off));
  }
}

/**
 * Output pixels [p0, p1) of y = conv(x, w), any geometry: the reference the row kernels
 * below must match bitwise (in the plain SIMD build), and the path of every pixel they
 * do not take.
 */
function forwardGeneric(x: usize, w: usize, y: usize, p0: i32, p1: i32): void {
  const Mu = gF / gC;
  for (let pix = p0; pix < p1; pix++) {
    const ow = pix % gOW, oh = (pix / gOW) % gOH, od = (pix / (gOW * gOH)) % gOD, n = pix / (gOW * gOH * gOD);
    const yrow = y + (<usize>pix * <usize>gF << 2);
    let t0 = 0;
    let first = true;
    while (t0 >= 0) {
      t0 = listTaps(n, od, oh, ow, t0);
      if (Mu == 1) {
        // y[c] = sum over taps x[tap][c] * w[tap][c], 4 channels at a time in a register
        let c = 0;
        for (; c + 4 <= gC; c += 4) {
          const off = <usize>c << 2;
          let acc = first ? f32x4.splat(0) : v128.load(yrow + off);
          for (let t = 0; t < tapCount; t++) acc = f32x4.add(acc, f32x4.mul(v128.load(x + tin(t) + off), v128.load(w + tfl(t) + off)));
          v128.store(yrow + off, acc);
        }
        for (; c < gC; c++) {
          const off = <usize>c << 2;
          let acc: f32 = first ? 0 : load<f32>(yrow + off);
          for (let t = 0; t < tapCount; t++) acc += load<f32>(x + tin(t) + off) * load<f32>(w + tfl(t) + off);
          store<f32>(yrow + off, acc);
        }
      } else {
        if (first) memory.fill(yrow, 0, <usize>gF << 2);
        for (let t = 0; t < tapCount; t++) {
          const xr = x + tin(t), wr = w + tfl(t);
          for (let c = 0; c < gC; c++) {
            const xv = load<f32>(xr + (<usize>c << 2));
            for (let m = 0; m < Mu; m++) {
              const f = <usize>(c * Mu + m) << 2;
              store<f32>(yrow + f, load<f32>(yrow + f) + xv * load<f32>(wr + f));
            }
          }
        }
      }
      first = false;
    }
  }
}

// ---- Forward fast path: 2-D, channel multiplier 1, 3x3 or 5x5 kernel.
// One output row at a time: the kernel rows inside the image (kh range) are found once
// per row, and the row splits into a left border, an interior whose pixels have every
// kw tap inside the image, and a right border. Interior pixels run the loops below with
// the filter vectors of a 4-channel group in locals (no tap lists, no div/mod, no bounds
// checks); border pixels run borderPixels. A 3x3 window wholly inside the image keeps
// its 9 filter vectors in locals (full3x3); 5x5 windows (25 vectors would not fit the 16
// SIMD registers) and rows cut by the top or bottom edge go one kernel row at a time
// (pass3, pass5), each row continuing the sum stored in y. The sum of every output keeps
// the generic order (acc = 0, then + x*w over the in-image taps in (kh, kw) order), so the
// plain build gives bitwise the same results as forwardGeneric; the relaxed build fuses
// each x*w + acc instead.

/** Interior pixels per chunk: every channel group passes over a chunk while its rows of x are in L1. */
const CHUNK: i32 = 16;

/** Output pixels [p0, p1) of y = conv(x, w) (a thread's part: each pixel is computed whole). */
export function depthwise_forward_f32(x: usize, w: usize, y: usize, p0: i32, p1: i32): void {
  const rows2d = gKD == 1 && gD == 1 && gOD == 1 && gPD == 0 && gF == gC && gKH == gKW && (gKW == 3 || gKW == 5);
  if (rows2d) forwardRows(x, w, y, p0, p1);
  else forwardGeneric(x, w, y, p0, p1);
}

/** forwardGeneric for 2-D, channel multiplier 1, 3x3 or 5x5 geometries, a row segment at a time. */
function forwardRows(x: usize, w: usize, y: usize, p0: i32, p1: i32): void {
  // interior columns [owLo, owHi): 0 <= ow*SW - PW and ow*SW - PW + (KW-1)*DW <= W-1
  const owLo = gPW <= 0 ? 0 : min(gOW, (gPW + gSW - 1) / gSW);
  const last = gW - 1 + gPW - (gKW - 1) * gDW;
  const owHi = last < 0 ? 0 : min(gOW, last / gSW + 1);
  let pix = p0;
  while (pix < p1) {
    const row = pix / gOW, rowStart = row * gOW;
    const ow0 = pix - rowStart, ow1 = min(gOW, ow0 + (p1 - pix));
    const n = row / gOH, oh = row - n * gOH;
    // kernel rows inside the image: [khLo, khHi)
    const h0 = oh * gSH - gPH;
    const khLo = h0 >= 0 ? 0 : (gDH - 1 - h0) / gDH;
    const hl = gH - 1 - h0;
    const khHi = hl < 0 ? 0 : min(gKH, hl / gDH + 1);
    const a = max(ow0, owLo), b = min(ow1, owHi);
    if (khLo >= khHi || a >= b) {
      borderPixels(x, w, y, n, h0, khLo, khHi, rowStart, ow0, ow1);
    } else {
      borderPixels(x, w, y, n, h0, khLo, khHi, rowStart, ow0, a);
      const xp = x + (<usize>(((n * gH + h0 + khLo * gDH) * gW + a * gSW - gPW) * gC) << 2);
      const wp = w + (<usize>(khLo * gKW * gF) << 2);
      const yp = y + (<usize>(rowStart + a) * <usize>gF << 2);
      interior(xp, wp, yp, b - a, khHi - khLo);
      borderPixels(x, w, y, n, h0, khLo, khHi, rowStart, b, ow1);
    }
    pix = rowStart + ow1;
  }
}

/**
 * Pixels [ow0, ow1) of output row rowStart / OW (image n, window top h0, kernel rows
 * [khLo, khHi) in the image) whose window may cross the left or right edge: the kw range
 * inside the image per pixel, then the in-image taps in (kh, kw) order, as forwardGeneric.
 */
function borderPixels(x: usize, w: usize, y: usize, n: i32, h0: i32, khLo: i32, khHi: i32, rowStart: i32, ow0: i32, ow1: i32): void {
  const cB = <usize>gC << 2;
  const tw = <usize>gDW * cB, th = <usize>(gDH * gW) * cB, wkw = cB, wkh = <usize>gKW * cB;
  const C = gC, C4 = gC & ~3;
  for (let ow = ow0; ow < ow1; ow++) {
    const yp = y + (<usize>(rowStart + ow) * cB);
    const iw0 = ow * gSW - gPW;
    const kwLo = iw0 >= 0 ? 0 : (gDW - 1 - iw0) / gDW;
    const wl = gW - 1 - iw0;
    const kwHi = wl < 0 ? 0 : min(gKW, wl / gDW + 1);
    const nh = khHi - khLo, nw = kwHi - kwLo;
    if (nh <= 0 || nw <= 0) {
      memory.fill(yp, 0, cB); // no tap in the image: +0, as forwardGeneric's empty sum
      continue;
    }
    const xp = x + (<usize>(((n * gH + h0 + khLo * gDH) * gW + iw0 + kwLo * gDW) * gC) << 2);
    const wp = w + (<usize>((khLo * gKW + kwLo) * gF) << 2);
    let c = 0;
    for (; c < C4; c += 4) {
      const off = <usize>c << 2;
      let acc = f32x4.splat(0);
      for (let kh = 0; kh < nh; kh++) {
        const xr = xp + <usize>kh * th + off, wr = wp + <usize>kh * wkh + off;
        for (let kw = 0; kw < nw; kw++) acc = madd_v(v128.load(xr + <usize>kw * tw), v128.load(wr + <usize>kw * wkw), acc);
      }
      v128.store(yp + off, acc);
    }
    for (; c < C; c++) {
      const off = <usize>c << 2;
      let acc: f32 = 0;
      for (let kh = 0; kh < nh; kh++) {
        const xr = xp + <usize>kh * th + off, wr = wp + <usize>kh * wkh + off;
        for (let kw = 0; kw < nw; kw++) acc += load<f32>(xr + <usize>kw * tw) * load<f32>(wr + <usize>kw * wkw);
      }
      store<f32>(yp + off, acc);
    }
  }
}

/**
 * `count` interior pixels of one output row: xp is the first one's window origin on
 * kernel row khLo (wp that row's filter, yp its output), nk kernel rows in the image.
 */
function interior(xp: usize, wp: usize, yp: usize, count: i32, nk: i32): void {
  const cB = <usize>gC << 2;
  const tw = <usize>gDW * cB, th = <usize>(gDH * gW) * cB, xs = <usize>gSW * cB, ys = cB;
  const wkw = cB, wkh = <usize>gKW * cB;
  const K = gKW, C = gC, C4 = gC & ~3;
  for (let i0 = 0; i0 < count; i0 += CHUNK) {
    const m = min(CHUNK, count - i0);
    const xc = xp + <usize>i0 * xs, yc = yp + <usize>i0 * ys;
    for (let c = 0; c < C4; c += 4) {
      const off = <usize>c << 2;
      const xq = xc + off, wq = wp + off, yq = yc + off;
      if (K == 3 && nk == 3) {
        full3x3(xq, wq, yq, m, tw, th, xs, ys, wkw, wkh);
      } else if (K == 3) {
        pass3(xq, wq, yq, m, tw, xs, ys, wkw, true);
        for (let kh = 1; kh < nk; kh++) pass3(xq + <usize>kh * th, wq + <usize>kh * wkh, yq, m, tw, xs, ys, wkw, false);
      } else {
        pass5(xq, wq, yq, m, tw, xs, ys, wkw, true);
        for (let kh = 1; kh < nk; kh++) pass5(xq + <usize>kh * th, wq + <usize>kh * wkh, yq, m, tw, xs, ys, wkw, false);
      }
    }
    // the channels past the last group of 4, one at a time
    for (let c = C4; c < C; c++) {
      const off = <usize>c << 2;
      for (let i = 0; i < m; i++) {
        const xi = xc + <usize>i * xs + off;
        let acc: f32 = 0;
        for (let kh = 0; kh < nk; kh++) {
          const xr = xi + <usize>kh * th, wr = wp + <usize>kh * wkh + off;
          for (let kw = 0; kw < K; kw++) acc += load<f32>(xr + <usize>kw * tw) * load<f32>(wr + <usize>kw * wkw);
        }
        store<f32>(yc + <usize>i * ys + off, acc);
      }
    }
  }
}

/** One 4-channel group of m pixels, all 3x3 taps: the 9 filter vectors in locals, two pixels at a time. */
// @ts-ignore: decorator
@inline function full3x3(xp: usize, wp: usize, yp: usize, m: i32, tw: usize, th: usize, xs: usize, ys: usize, wkw: usize, wkh: usize): void {
  const w00 = v128.load(wp), w01 = v128.load(wp + wkw), w02 = v128.load(wp + 2 * wkw);
  const w1 = wp + wkh, w2 = w1 + wkh;
  const w10 = v128.load(w1), w11 = v128.load(w1 + wkw), w12 = v128.load(w1 + 2 * wkw);
  const w20 = v128.load(w2), w21 = v128.load(w2 + wkw), w22 = v128.load(w2 + 2 * wkw);
  const tw2 = tw << 1, th2 = th << 1;
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const xq = xp + xs;
    let a = f32x4.splat(0), b = f32x4.splat(0);
    a = madd_v(v128.load(xp), w00, a); b = madd_v(v128.load(xq), w00, b);
    a = madd_v(v128.load(xp + tw), w01, a); b = madd_v(v128.load(xq + tw), w01, b);
    a = madd_v(v128.load(xp + tw2), w02, a); b = madd_v(v128.load(xq + tw2), w02, b);
    a = madd_v(v128.load(xp + th), w10, a); b = madd_v(v128.load(xq + th), w10, b);
    a = madd_v(v128.load(xp + th + tw), w11, a); b = madd_v(v128.load(xq + th + tw), w11, b);
    a = madd_v(v128.load(xp + th + tw2), w12, a); b = madd_v(v128.load(xq + th + tw2), w12, b);
    a = madd_v(v128.load(xp + th2), w20, a); b = madd_v(v128.load(xq + th2), w20, b);
    a = madd_v(v128.load(xp + th2 + tw), w21, a); b = madd_v(v128.load(xq + th2 + tw), w21, b);
    a = madd_v(v128.load(xp + th2 + tw2), w22, a); b = madd_v(v128.load(xq + th2 + tw2), w22, b);
    v128.store(yp, a);
    v128.store(yp + ys, b);
    xp += xs << 1;
    yp += ys << 1;
  }
  if (i < m) {
    let a = f32x4.splat(0);
    a = madd_v(v128.load(xp), w00, a);
    a = madd_v(v128.load(xp + tw), w01, a);
    a = madd_v(v128.load(xp + tw2), w02, a);
    a = madd_v(v128.load(xp + th), w10, a);
    a = madd_v(v128.load(xp + th + tw), w11, a);
    a = madd_v(v128.load(xp + th + tw2), w12, a);
    a = madd_v(v128.load(xp + th2), w20, a);
    a = madd_v(v128.load(xp + th2 + tw), w21, a);
    a = madd_v(v128.load(xp + th2 + tw2), w22, a);
    v128.store(yp, a);
  }
}

/**
 * One kernel row (3 taps) of one 4-channel group over m pixels: the first row starts each
 * sum at 0, later rows continue the sum stored in y (an f32 store and reload changes no bit).
 */
// @ts-ignore: decorator
@inline function pass3(xp: usize, wp: usize, yp: usize, m: i32, tw: usize, xs: usize, ys: usize, wkw: usize, first: bool): void {
  const w0 = v128.load(wp), w1 = v128.load(wp + wkw), w2 = v128.load(wp + 2 * wkw);
  const tw2 = tw << 1;
  for (let i = 0; i < m; i++) {
    let a = first ? f32x4.splat(0) : v128.load(yp);
    a = madd_v(v128.load(xp), w0, a);
    a = madd_v(v128.load(xp + tw), w1, a);
    a = madd_v(v128.load(xp + tw2), w2, a);
    v128.store(yp, a);
    xp += xs;
    yp += ys;
  }
}

/** pass3 for a 5-tap kernel row. */
// @ts-ignore: decorator
@inline function pass5(xp: usize, wp: usize, yp: usize, m: i32, tw: usize, xs: usize, ys: usize, wkw: usize, first: bool): void {
  const w0 = v128.load(wp), w1 = v128.load(wp + wkw), w2 = v128.load(wp + 2 * wkw), w3 = v128.load(wp + 3 * wkw), w4 = v128.load(wp + 4 * wkw);
  const tw2 = tw << 1, tw3 = tw2 + tw, tw4 = tw2 << 1;
  for (let i = 0; i < m; i++) {
    let a = first ? f32x4.splat(0) : v128.load(yp);
    a = madd_v(v128.load(xp), w0, a);
    a = madd_v(v128.load(xp + tw), w1, a);
    a = madd_v(v128.load(xp + tw2), w2, a);
    a = madd_v(v128.load(xp + tw3), w3, a);
    a = madd_v(v128.load(xp + tw4), w4, a);
    v128.store(yp, a);
    xp += xs;
    yp += ys;
  }
}

/** Zero input channels [c0, c1) of every pixel of the image tensor at p (gC channels per pixel). */
function zeroChannels(p: usize, pixels: i32, c0: i32, c1: i32): void {
  if (c0 == 0 && c1 == gC) {
    memory.fill(p, 0, <usize>pixels * <usize>gC << 2);
    return;
  }
  const bytes = <usize>(c1 - c0) << 2;
  let q = p + (<usize>c0 << 2);
  for (let i = 0; i < pixels; i++) {
    memory.fill(q, 0, bytes);
    q += <usize>gC << 2;
  }
}

/** Input channels [c0, c1) of dx (a thread's part: every pixel, the whole sum over taps and pixels in order). */
export function depthwise_backprop_input_f32(dy: usize, w: usize, dx: usize, c0: i32, c1: i32): void {
  const Mu = gF / gC;
  if (c0 >= c1) return;
  zeroChannels(dx, gN * gD * gH * gW, c0, c1);
  const cOff = <usize>c0 << 2, nc = c1 - c0;
  let pix = 0;
  for (let n = 0; n < gN; n++) for (let od = 0; od < gOD; od++) for (let oh = 0; oh < gOH; oh++) for (let ow = 0; ow < gOW; ow++) {
    const dyrow = dy + (<usize>pix * <usize>gF << 2);
    pix++;
    let t0 = 0;
    while (t0 >= 0) {
      t0 = listTaps(n, od, oh, ow, t0);
      for (let t = 0; t < tapCount; t++) {
        const dxr = dx + tin(t), wr = w + tfl(t);
        if (Mu == 1) {
          addProducts(dxr + cOff, dyrow + cOff, wr + cOff, nc);
        } else {
          for (let c = c0; c < c1; c++) {
            let s: f32 = 0;
            for (let m = 0; m < Mu; m++) {
              const f = <usize>(c * Mu + m) << 2;
              s += load<f32>(dyrow + f) * load<f32>(wr + f);
            }
            const off = <usize>c << 2;
            store<f32>(dxr + off, load<f32>(dxr + off) + s);
          }
        }
      }
    }
  }
}

/** Filters of input channels [c0, c1) of dw (a thread's part: the whole sum over pixels, in order). */
export function depthwise_backprop_filter_f32(x: usize, dy: usize, dw: usize, c0: i32, c1: i32): void {
  const Mu = gF / gC;
  if (c0 >= c1) return;
  const taps = gKD * gKH * gKW;
  for (let t = 0; t < taps; t++) memory.fill(dw + ((<usize>t * <usize>gF + <usize>(c0 * Mu)) << 2), 0, <usize>((c1 - c0) * Mu) << 2);
  const cOff = <usize>c0 << 2, nc = c1 - c0;
  let pix = 0;
  for (let n = 0; n < gN; n++) for (let od = 0; od < gOD; od++) for (let oh = 0; oh < gOH; oh++) for (let ow = 0; ow < gOW; ow++) {
    const dyrow = dy + (<usize>pix * <usize>gF << 2);
    pix++;
    let t0 = 0;
    while (t0 >= 0) {
      t0 = listTaps(n, od, oh, ow, t0);
      for (let t = 0; t < tapCount; t++) {
        const xr = x + tin(t), dwr = dw + tfl(t);
        if (Mu == 1) {
          addProducts(dwr + cOff, xr + cOff, dyrow + cOff, nc);
        } else {
          for (let c = c0; c < c1; c++) {
            const xv = load<f32>(xr + (<usize>c << 2));
            for (let m = 0; m < Mu; m++) {
              const f = <usize>(c * Mu + m) << 2;
              store<f32>(dwr + f, load<f32>(dwr + f) + xv * load<f32>(dyrow + f));
            }
          }
        }
      }
    }
  }
}
