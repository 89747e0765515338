// Reductions over one contiguous group of axes: x viewed as [A, K, B] reduces K,
// giving y [A, B]. The host maps every reduction onto this (several passes when the
// reduced axes are not adjacent): all axes is A = B = 1, the last axis is B = 1,
// leading axes is A = 1, and NHWC global pooling (reduce H and W) is [N, H*W, C].

import { REDUCE_OP_MAX, REDUCE_OP_MIN, REDUCE_OP_PROD, REDUCE_OP_SUM } from './abi';
import { ldg, stg } from './vec_f32';


// @ts-ignore: decorator
@inline function red_v(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case REDUCE_OP_SUM: return f32x4.add(a, b);
    case REDUCE_OP_MAX: return f32x4.max(a, b); // NaN propagates (NaN wins, as in the oracle)
    case REDUCE_OP_MIN: return f32x4.min(a, b);
    default: return f32x4.mul(a, b);
  }
}

// @ts-ignore: decorator
@inline function red_s(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case REDUCE_OP_SUM: return a + b;
    case REDUCE_OP_MAX: return Mathf.max(a, b);
    case REDUCE_OP_MIN: return Mathf.min(a, b);
    default: return a * b;
  }
}

// @ts-ignore: decorator
@inline function red_init(op: i32): f32 {
  switch (op) {
    case REDUCE_OP_SUM: return 0;
    case REDUCE_OP_MAX: return -Infinity;
    case REDUCE_OP_MIN: return Infinity;
    default: return 1;
  }
}

// @ts-ignore: decorator
@inline function hred(op: i32, v: v128): f32 {
  const a = red_s(op, f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1));
  const b = red_s(op, f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3));
  return red_s(op, a, b);
}

/**
 * Fold K contiguous values. Sums flush their four f32x4 accumulators into an f64 total
 * every 1024 elements, so long sums stay close to the float64 oracle.
 */
// @ts-ignore: decorator
@inline function red_contig(op: i32, x: usize, K: i32): f32 {
  const init = f32x4.splat(red_init(op));
  let k = 0;
  if (op == REDUCE_OP_SUM) {
    let total: f64 = 0;
    while (k + 16 <= K) {
      let a0 = init, a1 = init, a2 = init, a3 = init;
      const end = min(K - 15, k + 1024);
      for (; k < end; k += 16) {
        const p = x + (<usize>k << 2);
        a0 = f32x4.add(a0, v128.load(p));
        a1 = f32x4.add(a1, v128.load(p, 16));
        a2 = f32x4.add(a2, v128.load(p, 32));
        a3 = f32x4.add(a3, v128.load(p, 48));
      }
      total += <f64>hred(REDUCE_OP_SUM, f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
    }
    let t: f32 = 0;
    for (; k < K; k++) t += load<f32>(x + (<usize>k << 2));
    return <f32>(total + <f64>t);
  }
  let a0 = init, a1 = init, a2 = init, a3 = init;
  for (; k + 16 <= K; k += 16) {
    const p = x + (<usize>k << 2);
    a0 = red_v(op, a0, v128.load(p));
    a1 = red_v(op, a1, v128.load(p, 16));
    a2 = red_v(op, a2, v128.load(p, 32));
    a3 = red_v(op, a3, v128.load(p, 48));
  }
  for (; k + 4 <= K; k += 4) a0 = red_v(op, a0, v128.load(x + (<usize>k << 2)));
  let r = hred(op, red_v(op, red_v(op, a0, a1), red_v(op, a2, a3)));
  for (; k < K; k++) r = red_s(op, r, load<f32>(x + (<usize>k << 2)));
  return r;
}

// @ts-ignore: decorator
@inline function red_akb(op: i32, x: usize, y: usize, A: i32, K: i32, B: i32): void {
  if (B == 1) {
    for (let a = 0; a < A; a++) {
      store<f32>(y + (<usize>a << 2), red_contig(op, x + (<usize>a * <usize>K << 2), K));
    }
    return;
  }
  const rowBytes = <usize>B << 2;
  const R = max(4, 4096 / B); // rows per block: about 16 KB, which stays in L1 for every group
  for (let a = 0; a < A; a++) {
    const yr = y + <usize>a * rowBytes;
    const xa = x + <usize>a * <usize>K * rowBytes;
    if (K == 0) {
      for (let b = 0; b < B; b++) store<f32>(yr + (<usize>b << 2), red_init(op));
      continue;
    }
    if (B >= 64) {
      // wide rows: fold each x row into the y row (in L1); its 16+ vectors are independent chains
      memory.copy(yr, xa, rowBytes);
      for (let k = 1; k < K; k++) {
        const xr = xa + <usize>k * rowBytes;
        let b = 0;
        for (; b + 4 <= B; b += 4) {
          const o = <usize>b << 2;
          v128.store(yr + o, red_v(op, v128.load(yr + o), v128.load(xr + o)));
        }
        for (; b < B; b++) {
          const o = <usize>b << 2;
          store<f32>(yr + o, red_s(op, load<f32>(yr + o), load<f32>(xr + o)));
        }
      }
      continue;
    }
    // narrower rows: each group of 4 columns runs down a block of rows in registers and
    // folds the block's result into y (a sum is thus a sum of block sums). Folding row by
    // row into y instead chained every row on a store and reload of the same few vectors:
    // measured 1.9-3.3x slower for 6-32 columns; from 64 columns on it is as fast or faster.
    for (let k0 = 0; k0 < K; k0 += R) {
      const rows = min(R, K - k0);
      for (let b = 0; b < B; b += 4) {
        const r = B - b;
        const p = xa + ((<usize>k0 * <usize>B + <usize>b) << 2);
        if (r >= 4) foldGroup(op, p, rows, rowBytes, yr + (<usize>b << 2), r, true, k0 == 0);
        else foldGroup(op, p, rows, rowBytes, yr + (<usize>b << 2), r, false, k0 == 0);
      }
    }
  }
}

/**
 * y[0..r) = (first ? fold : y op fold) of `rows` rows of r columns at p, rs bytes apart;
 * four accumulators take every fourth row, so the folds do not wait on each other.
 */
// @ts-ignore: decorator
@inline function foldGroup(op: i32, p: usize, rows: i32, rs: usize, y: usize, r: i32, full: bool, first: bool): void {
  let a0 = f32x4.splat(red_init(op)), a1 = a0, a2 = a0, a3 = a0;
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    a0 = red_v(op, a0, ldg(p, r, full));
    a1 = red_v(op, a1, ldg(p + rs, r, full));
    a2 = red_v(op, a2, ldg(p + 2 * rs, r, full));
    a3 = red_v(op, a3, ldg(p + 3 * rs, r, full));
    p += rs << 2;
  }
  for (; i < rows; i++) {
    a0 = red_v(op, a0, ldg(p, r, full));
    p += rs;
  }
  const acc = red_v(op, red_v(op, a0, a1), red_v(op, a2, a3));
  stg(y, r, full, first ? acc : red_v(op, ldg(y, r, full), acc));
}

/** y[a, b] = fold_k x[a, k, b] with op 0 sum, 1 max, 2 min, 3 product. */
export function reduce_f32(op: i32, x: usize, y: usize, A: i32, K: i32, B: i32): void {
  switch (op) {
    case REDUCE_OP_SUM: red_akb(REDUCE_OP_SUM, x, y, A, K, B); break;
    case REDUCE_OP_MAX: red_akb(REDUCE_OP_MAX, x, y, A, K, B); break;
    case REDUCE_OP_MIN: red_akb(REDUCE_OP_MIN, x, y, A, K, B); break;
    default: red_akb(REDUCE_OP_PROD, x, y, A, K, B); break;
  }
}
