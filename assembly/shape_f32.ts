// Data movement: one strided copy that serves Slice, Concat, Pad, BroadcastTo and
// generic Transpose, a SIMD 4x4-block transpose for batched 2D transposes (NHWC <-> NCHW
// is [N, H*W, C] <-> [N, C, H*W]), and one-hot encoding.

/**
 * dst[d . i] = src[s . i] for every index i of the 4-dim box [n0,n1,n2,n3], strides in
 * elements. The inner dim copies with memory.copy when both strides are 1 and splats
 * when the source stride is 0 (broadcast).
 */
export function copy_strided_f32(
  src: usize, dst: usize,
  n0: i32, n1: i32, n2: i32, n3: i32,
  s0: i32, s1: i32, s2: i32, s3: i32,
  d0: i32, d1: i32, d2: i32, d3: i32,
): void {
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      for (let i2 = 0; i2 < n2; i2++) {
        const so = src + (<usize>(i0 * s0 + i1 * s1 + i2 * s2) << 2);
        const dO = dst + (<usize>(i0 * d0 + i1 * d1 + i2 * d2) << 2);
        if (s3 == 1 && d3 == 1) {
          // memory.copy is a call into the engine (~40 ns on V8): rows of a channel concat
          // (64 floats a pixel) move 2-3x faster through registers
          if (n3 >= 1024) {
            memory.copy(dO, so, <usize>n3 << 2);
          } else {
            let i = 0;
            for (; i + 16 <= n3; i += 16) {
              const o = <usize>i << 2;
              const a = v128.load(so + o), b = v128.load(so + o + 16), c = v128.load(so + o + 32), d = v128.load(so + o + 48);
              v128.store(dO + o, a);
              v128.store(dO + o + 16, b);
              v128.store(dO + o + 32, c);
              v128.store(dO + o + 48, d);
            }
            for (; i + 4 <= n3; i += 4) v128.store(dO + (<usize>i << 2), v128.load(so + (<usize>i << 2)));
            for (; i < n3; i++) store<f32>(dO + (<usize>i << 2), load<f32>(so + (<usize>i << 2)));
          }
        } else if (s3 == 0 && d3 == 1) {
          const v = load<f32>(so);
          const vv = f32x4.splat(v);
          let i = 0;
          for (; i + 4 <= n3; i += 4) v128.store(dO + (<usize>i << 2), vv);
          for (; i < n3; i++) store<f32>(dO + (<usize>i << 2), v);
        } else {
          for (let i = 0; i < n3; i++) {
            store<f32>(dO + (<usize>(i * d3) << 2), load<f32>(so + (<usize>(i * s3) << 2)));
          }
        }
      }
    }
  }
}

/**
 * dst[b, c, r] = src[b, r, c] for src [batch, R, C]: 4x4 blocks transposed in registers
 * (two rounds of shuffles), the ragged edges element by element.
 */
export function transpose2d_f32(src: usize, dst: usize, batch: i32, R: i32, C: i32): void {
  const plane = <usize>R * <usize>C << 2;
  const rs = <usize>C << 2; // src row stride in bytes
  const ds = <usize>R << 2; // dst row stride in bytes
  for (let b = 0; b < batch; b++) {
    const s = src + <usize>b * plane;
    const d = dst + <usize>b * plane;
    let r = 0;
    for (; r + 4 <= R; r += 4) {
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        const p = s + <usize>r * rs + (<usize>c << 2);
        const x0 = v128.load(p);
        const x1 = v128.load(p + rs);
        const x2 = v128.load(p + 2 * rs);
        const x3 = v128.load(p + 3 * rs);
        // t0 = x0[0] x1[0] x0[1] x1[1], t1 = x0[2] x1[2] x0[3] x1[3], likewise t2, t3 from x2, x3
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
        const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        const q = d + <usize>c * ds + (<usize>r << 2);
        v128.store(q, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
        v128.store(q + ds, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
        v128.store(q + 2 * ds, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
        v128.store(q + 3 * ds, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
      }
      for (; c < C; c++) {
        for (let rr = r; rr < r + 4; rr++) {
          store<f32>(d + <usize>c * ds + (<usize>rr << 2), load<f32>(s + <usize>rr * rs + (<usize>c << 2)));
        }
      }
    }
    for (; r < R; r++) {
      for (let c = 0; c < C; c++) {
        store<f32>(d + <usize>c * ds + (<usize>r << 2), load<f32>(s + <usize>r * rs + (<usize>c << 2)));
      }
    }
  }
}

/**
 * y [n, depth] = one-hot of the float32 labels idx [n] (y must be zeroed by the caller).
 * Returns -1 when every label is an integer in [0, depth), else the position of the first
 * bad one (nothing is written from it on).
 */
export function one_hot_f32(idx: usize, y: usize, n: i32, depth: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(idx + (<usize>i << 2));
    if (!(v >= 0 && v < <f32>depth && Mathf.floor(v) == v)) return i;
    store<f32>(y + ((<usize>i * <usize>depth + <usize>(<i32>v)) << 2), 1.0);
  }
  return -1;
}
