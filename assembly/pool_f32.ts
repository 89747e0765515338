// 2D pooling over NHWC float32, the contract of src/backends/ts/kernels/pool.ts:
// window cells ih = oh*SH - PT + kh*DH, iw = ow*SW - PL + kw*DW in row-major (kh, kw)
// order; cells outside the input are padding and never take part. Channels are the
// SIMD axis: each output pixel's C values are a contiguous run, as is each input cell's.

import { partBegin } from './gemm_config';

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
 * Channels go 16 at a time in 4 registers across the window, then 4 at a time. The
 * SIMD max is the one-instruction pseudo-max (m < v ? v : m), which drops NaN, so NaN
 * is tracked in a mask beside it: wasm's IEEE f32x4.max costs several instructions on
 * x86 (it is used only to redo a block that holds a NaN). Part `part` of `parts` of the
 * N * OH output rows (each output is computed alone: the same on any thread count).
 */
export function max_pool2d_f32(
  x: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32,
  part: i32, parts: i32,
): void {
  const r0 = partBegin(N * OH, 1, part, parts), r1 = partBegin(N * OH, 1, part + 1, parts);
  if (KH == 2 && KW == 2 && SH == 2 && SW == 2 && DH == 1 && DW == 1 && PT == 0 && PL == 0 && OH * 2 <= H && OW * 2 <= W && C >= 4) {
    maxPool2x2(x, y, H, W, C, OH, OW, r0, r1);
    return;
  }
  const cb = <usize>C << 2;
  const ninf = f32x4.splat(-Infinity);
  let yo = y + <usize>r0 * <usize>OW * cb;
  for (let row = r0; row < r1; row++) {
    const n = row / OH, oh = row - n * OH;
    const xn = x + <usize>n * <usize>H * <usize>W * cb;
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
      // the last C % 16 channels 4 at a time, the last group overlapping the one before
      // it when C is not a multiple of 4 (it stores the same values again); C < 4: one by one
      if (C >= 4) {
        for (; c < C; c += 4) {
          const cc = min(c, C - 4);
          const co = xo + (<usize>cc << 2);
          let m = ninf;
          let bad = v128.splat<i32>(0);
          for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) {
            const v = v128.load(co + <usize>kh * rowStep + <usize>kw * colStep);
            m = f32x4.pmax(m, v);
            bad = v128.or(bad, f32x4.ne(v, v));
          }
          if (v128.any_true(bad)) {
            m = ninf;
            for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) m = f32x4.max(m, v128.load(co + <usize>kh * rowStep + <usize>kw * colStep));
          }
          v128.store(yo + (<usize>cc << 2), m);
        }
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

/**
 * max_pool2d_f32 for 2x2 windows with stride 2 inside the input (C >= 4), output rows
 * [r0, r1) of the N * OH: the four cells of 4 channels in registers, the same pseudo-max
 * order and NaN redo as the general loop.
 */
function maxPool2x2(x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, r0: i32, r1: i32): void {
  const cb = <usize>C << 2;
  const row = <usize>W * cb;
  const last = (C + 3) >> 2; // groups of 4 channels, the last one overlapping when C % 4 != 0
  let yo = y + <usize>r0 * <usize>OW * cb;
  for (let r = r0; r < r1; r++) {
    const n = r / OH, oh = r - n * OH;
    let xo = x + (<usize>(n * H + oh * 2) * <usize>W) * cb;
    for (let ow = 0; ow < OW; ow++) {
      for (let gi = 0; gi < last; gi++) {
        const co = min(<usize>gi << 4, cb - 16);
        const p = xo + co;
        const v00 = v128.load(p), v01 = v128.load(p + cb), v10 = v128.load(p + row), v11 = v128.load(p + row + cb);
        let m = f32x4.pmax(f32x4.pmax(f32x4.pmax(v00, v01), v10), v11);
        const bad = v128.or(v128.or(f32x4.ne(v00, v00), f32x4.ne(v01, v01)), v128.or(f32x4.ne(v10, v10), f32x4.ne(v11, v11)));
        if (v128.any_true(bad)) m = f32x4.max(f32x4.max(f32x4.max(f32x4.max(f32x4.splat(-Infinity), v00), v01), v10), v11);
        v128.store(yo + co, m);
      }
      xo += cb << 1;
      yo += cb;
    }
  }
}

/** The first-max rule's step for one more cell v after a real cell: take v where best is not NaN and (v is NaN or v > best). */
// @ts-ignore: decorator
@inline function maxStep(best: v128, v: v128): v128 {
  return v128.bitselect(v, best, v128.and(f32x4.eq(best, best), v128.or(f32x4.ne(v, v), f32x4.gt(v, best))));
}

/** Lanes where v holds the winning value `best` (NaN when bestNaN). */
// @ts-ignore: decorator
@inline function holds(v: v128, best: v128, bestNaN: v128): v128 {
  return v128.or(f32x4.eq(v, best), v128.and(f32x4.ne(v, v), bestNaN));
}

/**
 * dx = dy routed to ONE cell per window and channel: the first maximum in row-major
 * window order, or the first NaN when the window holds one; every other cell gets 0.
 *
 * Channels go 4 at a time; when C is not a multiple of 4 (and C >= 4) the last group
 * starts at C - 4 and overlaps the one before it (C < 4: one channel at a time).
 * Disjoint windows (stride >= window extent, the usual 2x2 / 2) store each of their
 * cells, the chosen cell's dy and 0 elsewhere (the overlapping group stores the same
 * values again), so dx needs no zeroing when the windows tile the input exactly;
 * otherwise dx is zeroed and the chosen cells accumulate dy (the overlapping lanes of
 * the last group add 0).
 */
export function max_pool2d_grad_f32(
  dy: usize, x: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32,
): void {
  const cb = <usize>C << 2;
  const plane = <usize>H * <usize>W * cb;
  const disjoint = SH >= (KH - 1) * DH + 1 && SW >= (KW - 1) * DW + 1;
  const tiles = C >= 4 && disjoint && PT == 0 && PL == 0 && KH == SH && KW == SW && OH * SH == H && OW * SW == W;
  if (tiles && KH == 2 && KW == 2) {
    maxPoolGrad2x2(dy, x, dx, N, H, W, C);
    return;
  }
  if (!tiles) memory.fill(dx, 0, <usize>N * plane);
  const rowStep = <usize>(DH * W) * cb, colStep = <usize>DW * cb;
  const groups = C >> 2;
  // lanes of the overlapping last group that the group before it already handled
  const tailLo = C >= 4 && (C & 3) != 0 ? 4 - (C & 3) : 0;
  const tailKeep = i32x4.gt_s(i32x4(0, 1, 2, 3), i32x4.splat(tailLo - 1));
  let dyo = dy;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * plane;
    const dxn = dx + <usize>n * plane;
    for (let oh = 0; oh < OH; oh++) {
      const kh0 = windowLo(oh, SH, PT, DH), kh1 = windowHi(oh, SH, PT, DH, KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const kw0 = windowLo(ow, SW, PL, DW), kw1 = windowHi(ow, SW, PL, DW, KW, W);
        // the window's real cells: at wo + kh*rowStep + kw*colStep in x and dx
        const wo = (<usize>(oh * SH - PT) * <usize>W + <usize>(ow * SW - PL)) * cb;
        const last = tailLo > 0 ? groups + 1 : groups;
        for (let gi = 0; gi < last; gi++) {
          const co = gi < groups ? <usize>gi << 4 : cb - 16;
          const xo = xn + wo + co, dxo = dxn + wo + co;
          // pass 1: the winning value per lane (first max, or the first NaN)
          let best = f32x4.splat(0.0);
          let first = true;
          for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) {
            const v = v128.load(xo + <usize>kh * rowStep + <usize>kw * colStep);
            best = first ? v : maxStep(best, v);
            first = false;
          }
          let g = v128.load(dyo + co);
          if (gi == groups && !disjoint) g = v128.and(g, tailKeep);
          // pass 2: the first cell holding the winning value gets g
          const bestNaN = f32x4.ne(best, best);
          let done = v128.splat<i32>(0);
          for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) {
            const cell = <usize>kh * rowStep + <usize>kw * colStep;
            const v = v128.load(xo + cell);
            const hit = v128.andnot(holds(v, best, bestNaN), done);
            done = v128.or(done, hit);
            const share = v128.and(g, hit);
            if (disjoint) v128.store(dxo + cell, share);
            else v128.store(dxo + cell, f32x4.add(v128.load(dxo + cell), share));
          }
        }
        if (C < 4) {
          for (let c = 0; c < C; c++) {
            let best: f32 = 0;
            let bestOff: usize = 0;
            let found = false;
            const co = wo + (<usize>c << 2);
            for (let kh = kh0; kh < kh1; kh++) for (let kw = kw0; kw < kw1; kw++) {
              const off = co + <usize>kh * rowStep + <usize>kw * colStep;
              const v = load<f32>(xn + off);
              if (!found || (!isNaN(best) && (isNaN(v) || v > best))) {
                best = v;
                bestOff = off;
                found = true;
              }
            }
            if (found) {
              const p = dxn + bestOff;
              store<f32>(p, load<f32>(p) + load<f32>(dyo + (<usize>c << 2)));
            }
          }
        }
        dyo += cb;
      }
    }
  }
}

/**
 * max_pool2d_grad_f32 for 2x2 windows with stride 2 tiling the input (C >= 4): the four
 * cells in registers, no loops over the window and no reloads (the general loops ran
 * 3x slower on this, the most common pooling).
 */
function maxPoolGrad2x2(dy: usize, x: usize, dx: usize, N: i32, H: i32, W: i32, C: i32): void {
  const cb = <usize>C << 2;
  const row = <usize>W * cb;
  const last = (C + 3) >> 2; // groups of 4 channels, the last one overlapping when C % 4 != 0
  let dyo = dy;
  for (let n = 0; n < N; n++) for (let ih = 0; ih < H; ih += 2) {
    let xo = x + (<usize>(n * H + ih) * <usize>W) * cb;
    let dxo = dx + (xo - x);
    for (let iw = 0; iw < W; iw += 2) {
      for (let gi = 0; gi < last; gi++) {
        const co = min(<usize>gi << 4, cb - 16);
        const p = xo + co, q = dxo + co;
        const v00 = v128.load(p), v01 = v128.load(p + cb), v10 = v128.load(p + row), v11 = v128.load(p + row + cb);
        const best = maxStep(maxStep(maxStep(v00, v01), v10), v11);
        const bestNaN = f32x4.ne(best, best);
        const g = v128.load(dyo + co);
        const h00 = holds(v00, best, bestNaN);
        const h01 = v128.andnot(holds(v01, best, bestNaN), h00);
        let done = v128.or(h00, h01);
        const h10 = v128.andnot(holds(v10, best, bestNaN), done);
        done = v128.or(done, h10);
        const h11 = v128.andnot(holds(v11, best, bestNaN), done);
        v128.store(q, v128.and(g, h00));
        v128.store(q + cb, v128.and(g, h01));
        v128.store(q + row, v128.and(g, h10));
        v128.store(q + row + cb, v128.and(g, h11));
      }
      xo += cb << 1;
      dxo += cb << 1;
      dyo += cb;
    }
  }
}

/**
 * y = (sum of the window's real cells) / divisor, divisor = KH*KW when countIncludePad,
 * else the number of real cells. Part `part` of `parts` of the N * OH output rows.
 */
export function avg_pool2d_f32(
  x: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32,
  countIncludePad: i32, part: i32, parts: i32,
): void {
  const r0 = partBegin(N * OH, 1, part, parts), r1 = partBegin(N * OH, 1, part + 1, parts);
  const cb = <usize>C << 2;
  let yo = y + <usize>r0 * <usize>OW * cb;
  for (let row = r0; row < r1; row++) {
    const n = row / OH, oh = row - n * OH;
    const xn = x + <usize>n * <usize>H * <usize>W * cb;
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
