// 6x8 f32 GEMM micro-kernel, relaxed SIMD: 12 accumulators updated with
// f32x4.relaxed_madd (a fused multiply-add where the CPU has one), 2 B vectors and
// 1 broadcast A value: 15 of the 16 SIMD registers of x86-64, so nothing spills.
// Only compiled in the relaxed build (gemm_f32.ts picks it on ASC_FEATURE_RELAXED_SIMD).
//
// pa: packed A strip, kc steps of 6 floats (one per row); pb: packed B strip, kc
// steps of 8 floats. C tile rows are ldc bytes apart. accumulate: C += A*B, else C = A*B.
// kc >= 1.
export function gemm_f32_6x8_relaxed(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, accumulate: bool): void {
  // Step k = 0 peeled, pointers bumped at the top of the loop and pa as the loop
  // variable, as in gemm_f32_5x8 (which explains why).
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
  a = v128.load32_splat(pa, 20);
  let c50 = f32x4.mul(a, b0), c51 = f32x4.mul(a, b1);
  const paEnd = pa + <usize>(kc - 1) * 24;
  while (pa < paEnd) {
    pa += 24;
    pb += 32;
    b0 = v128.load(pb);
    b1 = v128.load(pb, 16);
    a = v128.load32_splat(pa);
    c00 = f32x4.relaxed_madd(a, b0, c00);
    c01 = f32x4.relaxed_madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.relaxed_madd(a, b0, c10);
    c11 = f32x4.relaxed_madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.relaxed_madd(a, b0, c20);
    c21 = f32x4.relaxed_madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.relaxed_madd(a, b0, c30);
    c31 = f32x4.relaxed_madd(a, b1, c31);
    a = v128.load32_splat(pa, 16);
    c40 = f32x4.relaxed_madd(a, b0, c40);
    c41 = f32x4.relaxed_madd(a, b1, c41);
    a = v128.load32_splat(pa, 20);
    c50 = f32x4.relaxed_madd(a, b0, c50);
    c51 = f32x4.relaxed_madd(a, b1, c51);
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
    v128.store(c + 5 * ldc, f32x4.add(v128.load(c + 5 * ldc), c50));
    v128.store(c + 5 * ldc, f32x4.add(v128.load(c + 5 * ldc, 16), c51), 16);
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
    v128.store(c + 5 * ldc, c50);
    v128.store(c + 5 * ldc, c51, 16);
  }
}
