// 5x8 f32 GEMM micro-kernel, plain SIMD128: 10 accumulators (mul then add),
// 2 B vectors, 1 broadcast A value and 1 product temporary: 14 registers, the most
// that fit the 16 SIMD registers of x86-64 without spills (6 rows would spill).
//
// pa: packed A strip, kc steps of 5 floats (one per row); pb: packed B strip, kc
// steps of 8 floats. C tile rows are ldc bytes apart. accumulate: C += A*B, else C = A*B.
export function gemm_f32_5x8(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    const a1 = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    const a2 = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    const a3 = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    const a4 = v128.load32_splat(pa, 16);
    c40 = f32x4.add(c40, f32x4.mul(a4, b0));
    c41 = f32x4.add(c41, f32x4.mul(a4, b1));
    pa += 20;
    pb += 32;
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
