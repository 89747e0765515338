/**
 * The test suite's one source of deterministic pseudo-random values (xorshift32):
 * `rand(n, seed, lo, hi)` gives n float32 values uniform in [lo, hi). Every kernel test
 * draws its inputs through it (fast-check draws the seed), so a failing case is
 * reproduced from its seed alone.
 */
export function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = lo + (s / 4294967296) * (hi - lo);
  }
  return a;
}

/** Number of elements of a shape. */
export const sizeOfShape = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
