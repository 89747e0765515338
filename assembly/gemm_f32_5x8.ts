// 5x8 f32 GEMM micro-kernel, plain SIMD128: 10 accumulators (mul then add),
// 2 B vectors, 1 broadcast A value and 1 product temporary: 14 registers, the most
// that fit the 16 SIMD registers of x86-64 without spills (6 rows would spill).
//
// pa: packed A strip, kc steps of 5 floats (one per row); pb: packed B strip, kc
// steps of 8 floats. C tile rows are ldc bytes apart. accumulate: C += A*B, else C = A*B.
// kc >= 1.
export function gemm_f32_5x8(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, accumulate: bool): void {
  // Step k = 0, peeled: products only (kc >= 1 always). Peeling is for V8's sake as
  // much as for the 10 saved adds: the broadcast loads below address memory + offset,
  // and V8 keeps those 4 base addresses in registers for the whole loop only when they
  // are first used before it; otherwise it recomputes one per broadcast per step (a
  // `lea` each). Bumping pa/pb at the top of the loop likewise spares a zero-extending
  // copy of each pointer per step: 39 instructions per step became 32 (measured in
  // V8's disassembly, Node 20), and 31 without the step counter (below).
  let b0 = v128.load(pb);
  let b1 = v128.load(pb, 16);
  let a = v128.load32_splat(pa);
  let c00 = f32x4.mul(a, b0), c01 = f32x4.mul(a, b1);
  a = v128.load32_splat(pa, 4);
  let c10 = f32x4.mul(a, b0), c11 = f32x4.mul(a, b1);
  a = v128.load32_splat(pa, 8);
  let c20 = f32x4.mul(a, b0), c21 = f32x4.mul(a, b1);
  a = v128.load32_splat(pa, 12);
  let c30 = f32x4.mul(a, b0), c31 = f32x4.mul(a, b1);
  a = v128.load32_splat(pa, 16);
  let c40 = f32x4.mul(a, b0), c41 = f32x4.mul(a, b1);
  // Steps 1..kc-1: C_tile += A[:, k] (outer product) B[k, :], one A row per broadcast.
  // pa itself is the loop variable (no separate counter): 32 -> 31 instructions per
  // step, +3-6% for the bare GEMM at 256-1024 (interleaved A/B).
  const paEnd = pa + <usize>(kc - 1) * 20;
  while (pa < paEnd) {
    pa += 20;
    pb += 32;
    b0 = v128.load(pb);
    b1 = v128.load(pb, 16);
    a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 16);
    c40 = f32x4.add(c40, f32x4.mul(a, b0));
    c41 = f32x4.add(c41, f32x4.mul(a, b1));
  }
  if (accumulate) {
    v128.store(c, f32x4.add(v128.load(c), c00));
    v128.store(c, f32x4.add(v128.load(c, 16), c01), 16);
    v128.store(c + ldc, f32x4.add(v128.load(c + ldc), c10));
    v128.store(c + ldc, f32x4.add(v128.load(c + ldc, 16), c11), 16);
    v128.store(c + 2 * ldc, f32x4.add(v128.load(c + 2 * ldc), c20));
    v128.store(c + 2 * ldc, f32x4.add(v128.load(c + 2 * ldc, 16), c21), 16);
    v128.store(c + 3 * ldc, f32x4.add(v128.load(c + 3 * ldc), c30));
    v128.store(c + 3 * ldc, f32x4.add(v128.load(c + 3 * ldc, 16), c31), 16);
    v128.store(c + 4 * ldc, f32x4.add(v128.load(c + 4 * ldc), c40));
    v128.store(c + 4 * ldc, f32x4.add(v128.load(c + 4 * ldc, 16), c41), 16);
  } else {
    v128.store(c, c00);
    v128.store(c, c01, 16);
    v128.store(c + ldc, c10);
    v128.store(c + ldc, c11, 16);
    v128.store(c + 2 * ldc, c20);
    v128.store(c + 2 * ldc, c21, 16);
    v128.store(c + 3 * ldc, c30);
    v128.store(c + 3 * ldc, c31, 16);
    v128.store(c + 4 * ldc, c40);
    v128.store(c + 4 * ldc, c41, 16);
  }
}
