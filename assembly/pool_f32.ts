// 2D pooling over NHWC float32, the contract of src/backends/ts/kernels/pool.ts:
// window cells ih = oh*SH - PT + kh*DH, iw = ow*SW - PL + kw*DW in row-major (kh, kw)
// order; cells outside the input are padding and never take part. Channels are the
// SIMD axis: each output pixel's C values are a contiguous run, as is each input cell's.

/** First window index k whose cell o*S - P + k*D is inside [0, N) (see windowHi). */
// @ts-ignore: decorator
@inline function windowLo(o: i32, S: i32, P: i32, D: i32): i32 {
  const r = P - o * S; // k*D >= r
  return r <= 0 ? 0 : (r + D - 1) / D;
}

/** One past the last window index k < K whose cell o*S - P + k*D is inside [0, N). */
// @ts-ignore: decorator
@inline function windowHi(o: i32, S: i32, P: i32, D: i32, K: i32, N: i32): i32 {
  const r = N - 1 - o * S + P; // k*D <= r
  return r < 0 ? 0 : min(K, r / D + 1);
}

/**
 * y[n,oh,ow,:] = max over the window's real cells (a NaN in the window gives NaN).
 * Channels go 16 at a time in 4 registers across the window. The SIMD max is the
 * one-instruction pseudo-max (m < v ? v : m), which drops NaN, so NaN is tracked in a
 * mask beside it: wasm's IEEE f32x4.max costs several instructions on x86.
 */
export function max_pool2d_f32(
  x: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32,
): void {
  const cb = <usize>C << 2;
  const ninf = f32x4.splat(-Infinity);
  let yo = y;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * <usize>H * <usize>W * cb;
    for (let oh = 0; oh < OH; oh++) {
      const kh0 = windowLo(oh, SH, PT, DH), kh1 = windowHi(oh, SH, PT, DH, KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const kw0 = windowLo(ow, SW, PL, DW), kw1 = windowHi(ow, SW, PL, DW, KW, W);
        // the window's real cells: x at xo + kh*rowStep + kw*colStep
        const xo = xn + (<usize>(oh * SH - PT) * <usize>W + <usize>(ow * SW - PL)) * cb;
        const rowStep = <usize>(DH * W) * cb, colStep = <usize>DW * cb;
        let c = 0;
        for (; c + 16 <= C; c += 16) {
          const co = xo + (<usize>c << 2);
          let m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
          let bad = v128.splat<i32>(0);
          for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) {
            const p = co + <usize>kh * rowStep + <usize>kw * colStep;
            const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
            m0 = f32x4.pmax(m0, v0);
            m1 = f32x4.pmax(m1, v1);
            m2 = f32x4.pmax(m2, v2);
            m3 = f32x4.pmax(m3, v3);
            bad = v128.or(bad, v128.or(v128.or(f32x4.ne(v0, v0), f32x4.ne(v1, v1)), v128.or(f32x4.ne(v2, v2), f32x4.ne(v3, v3))));
          }
          if (v128.any_true(bad)) {
            // rare: redo this block lane-exactly with the NaN-propagating max
            m0 = ninf; m1 = ninf; m2 = ninf; m3 = ninf;
            for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) {
              const p = co + <usize>kh * rowStep + <usize>kw * colStep;
              m0 = f32x4.max(m0, v128.load(p));
              m1 = f32x4.max(m1, v128.load(p, 16));
              m2 = f32x4.max(m2, v128.load(p, 32));
              m3 = f32x4.max(m3, v128.load(p, 48));
            }
          }
          const o = yo + (<usize>c << 2);
          v128.store(o, m0);
          v128.store(o, m1, 16);
          v128.store(o, m2, 32);
          v128.store(o, m3, 48);
        }
        // the last C % 16 channels: 4 at a time with the IEEE max, then one by one
        for (; c + 4 <= C; c += 4) {
          let m = ninf;
          const co = xo + (<usize>c << 2);
          for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) m = f32x4.max(m, v128.load(co + <usize>kh * rowStep + <usize>kw * colStep));
          v128.store(yo + (<usize>c << 2), m);
        }
        for (; c < C; c++) {
          let m: f32 = -Infinity;
          const co = xo + (<usize>c << 2);
          for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) m = Mathf.max(m, load<f32>(co + <usize>kh * rowStep + <usize>kw * colStep));
          store<f32>(yo + (<usize>c << 2), m);
        }
        yo += cb;
      }
    }
  }
}

/**
 * dx (zeroed here) += dy at ONE cell per window and channel: the first maximum in
 * row-major window order, or the first NaN when the window holds one.
 */
export function max_pool2d_grad_f32(
  dy: usize, x: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32,
): void {
  const cb = <usize>C << 2;
  const plane = <usize>H * <usize>W * cb;
  memory.fill(dx, 0, <usize>N * plane);
  let dyo = dy;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * plane;
    const dxn = dx + <usize>n * plane;
    for (let oh = 0; oh < OH; oh++) {
      const kh0 = windowLo(oh, SH, PT, DH), kh1 = windowHi(oh, SH, PT, DH, KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const kw0 = windowLo(ow, SW, PL, DW), kw1 = windowHi(ow, SW, PL, DW, KW, W);
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const co = <usize>c << 2;
          let best = f32x4.splat(0.0);
          let bestOff = i32x4.splat(-1);
          for (let kh = kh0; kh < kh1; kh++) {
            const ih = oh * SH - PT + kh * DH;
            for (let kw = kw0; kw < kw1; kw++) {
              const iw = ow * SW - PL + kw * DW;
              const off = (ih * W + iw) * C;
              const v = v128.load(xn + (<usize>off << 2) + co);
              // take v where: no cell yet, or (best is not NaN and (v is NaN or v > best))
              const none = i32x4.eq(bestOff, i32x4.splat(-1));
              const bestOk = f32x4.eq(best, best);
              const better = v128.or(f32x4.ne(v, v), f32x4.gt(v, best));
              const take = v128.or(none, v128.and(bestOk, better));
              best = v128.bitselect(v, best, take);
              bestOff = v128.bitselect(i32x4.splat(off), bestOff, take);
            }
          }
          const g = v128.load(dyo + co);
          const p0 = dxn + ((<usize>i32x4.extract_lane(bestOff, 0)) << 2) + co;
          store<f32>(p0, load<f32>(p0) + f32x4.extract_lane(g, 0));
          const p1 = dxn + ((<usize>i32x4.extract_lane(bestOff, 1)) << 2) + co;
          store<f32>(p1, load<f32>(p1, 4) + f32x4.extract_lane(g, 1), 4);
          const p2 = dxn + ((<usize>i32x4.extract_lane(bestOff, 2)) << 2) + co;
          store<f32>(p2, load<f32>(p2, 8) + f32x4.extract_lane(g, 2), 8);
          const p3 = dxn + ((<usize>i32x4.extract_lane(bestOff, 3)) << 2) + co;
          store<f32>(p3, load<f32>(p3, 12) + f32x4.extract_lane(g, 3), 12);
        }
        for (; c < C; c++) {
          let best: f32 = 0;
          let bestOff = -1;
          for (let kh = kh0; kh < kh1; kh++) {
            const ih = oh * SH - PT + kh * DH;
            for (let kw = kw0; kw < kw1; kw++) {
              const iw = ow * SW - PL + kw * DW;
              const off = (ih * W + iw) * C + c;
              const v = load<f32>(xn + (<usize>off << 2));
              if (bestOff < 0 || (!isNaN(best) && (isNaN(v) || v > best))) {
                best = v;
                bestOff = off;
              }
            }
          }
          const p = dxn + (<usize>bestOff << 2);
          store<f32>(p, load<f32>(p) + load<f32>(dyo + (<usize>c << 2)));
        }
        dyo += cb;
      }
    }
  }
}

/**
 * y = (sum of the window's real cells) / divisor, divisor = KH*KW when countIncludePad,
 * else the number of real cells.
 */
export function avg_pool2d_f32(
  x: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32,
  countIncludePad: i32,
): void {
  const cb = <usize>C << 2;
  let yo = y;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * <usize>H * <usize>W * cb;
    for (let oh = 0; oh < OH; oh++) {
      const kh0 = windowLo(oh, SH, PT, DH), kh1 = windowHi(oh, SH, PT, DH, KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const kw0 = windowLo(ow, SW, PL, DW), kw1 = windowHi(ow, SW, PL, DW, KW, W);
        const div: f32 = countIncludePad ? <f32>(KH * KW) : <f32>(max(0, kh1 - kh0) * max(0, kw1 - kw0));
        const dv = f32x4.splat(div);
        // the window's real cells: x at xo + kh*rowStep + kw*colStep
        const xo = xn + (<usize>(oh * SH - PT) * <usize>W + <usize>(ow * SW - PL)) * cb;
        const rowStep = <usize>(DH * W) * cb, colStep = <usize>DW * cb;
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const co = xo + (<usize>c << 2);
          let acc = f32x4.splat(0);
          for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) acc = f32x4.add(acc, v128.load(co + <usize>kh * rowStep + <usize>kw * colStep));
          v128.store(yo + (<usize>c << 2), f32x4.div(acc, dv));
        }
        for (; c < C; c++) {
          const co = xo + (<usize>c << 2);
          let acc: f32 = 0;
          for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) acc += load<f32>(co + <usize>kh * rowStep + <usize>kw * colStep);
          store<f32>(yo + (<usize>c << 2), acc / div);
        }
        yo += cb;
      }
    }
  }
}

/** dx (zeroed here): every real cell of a window receives dy / divisor. */
export function avg_pool2d_grad_f32(
  dy: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32,
  countIncludePad: i32,
): void {
  const cb = <usize>C << 2;
  const plane = <usize>H * <usize>W * cb;
  memory.fill(dx, 0, <usize>N * plane);
  let dyo = dy;
  for (let n = 0; n < N; n++) {
    const dxn = dx + <usize>n * plane;
    for (let oh = 0; oh < OH; oh++) {
      const kh0 = windowLo(oh, SH, PT, DH), kh1 = windowHi(oh, SH, PT, DH, KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const kw0 = windowLo(ow, SW, PL, DW), kw1 = windowHi(ow, SW, PL, DW, KW, W);
        const div: f32 = countIncludePad ? <f32>(KH * KW) : <f32>(max(0, kh1 - kh0) * max(0, kw1 - kw0));
        const dv = f32x4.splat(div);
        const xo = dxn + (<usize>(oh * SH - PT) * <usize>W + <usize>(ow * SW - PL)) * cb;
        const rowStep = <usize>(DH * W) * cb, colStep = <usize>DW * cb;
        for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) {
          const xc = xo + <usize>kh * rowStep + <usize>kw * colStep;
          let c = 0;
          for (; c + 4 <= C; c += 4) {
            const o = <usize>c << 2;
            v128.store(xc + o, f32x4.add(v128.load(xc + o), f32x4.div(v128.load(dyo + o), dv)));
          }
          for (; c < C; c++) {
            const o = <usize>c << 2;
            store<f32>(xc + o, load<f32>(xc + o) + load<f32>(dyo + o) / div);
          }
        }
        dyo += cb;
      }
    }
  }
}
