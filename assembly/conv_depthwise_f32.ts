// Direct depthwise convolution (groups = C, one input channel per group, channel
// multiplier Mu = F / C, filter [KD,KH,KW,1,F], output channel f = c*Mu + m reads
// input channel c). im2col would turn this into C GEMMs of width Mu (usually 1), so
// these kernels loop over output pixels and vectorise across channels instead.
// For each output pixel the taps inside the image are listed first (input row
// offset, filter row offset), so the inner loops carry no bounds checks.
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

/** Output pixels [p0, p1) of y = conv(x, w) (a thread's part: each pixel is computed whole). */
export function depthwise_forward_f32(x: usize, w: usize, y: usize, p0: i32, p1: i32): void {
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
