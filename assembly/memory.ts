// Memory helpers. The allocator itself lives on the TypeScript side
// (src/backends/wasm/allocator.ts): it owns every byte above heap_base(), so this
// module has no runtime allocator and never allocates.

/** First byte the host may allocate: everything below holds static data. */
export function heap_base(): usize {
  return __heap_base;
}

/** dst[0..n) = 0 */
export function zero_f32(dst: usize, n: i32): void {
  memory.fill(dst, 0, <usize>n << 2);
}

/** dst[0..n) = src[0..n) (regions may overlap) */
export function copy_f32(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}

/** dst[0..n) = v */
export function fill_f32(dst: usize, n: i32, v: f32): void {
  const s = f32x4.splat(v);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), s);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), v);
}
