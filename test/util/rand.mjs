// The test suite's one source of deterministic pseudo-random values (xorshift32):
// `rand(n, seed, lo, hi)` gives n float32 values uniform in [lo, hi). Every kernel test
// draws its inputs through it (fast-check draws the seed), so a failing case is
// reproduced from its seed alone. Plain JavaScript (types in rand.d.mts) so that the
// child-process checks (test/wasm/*.mjs) and browser pages (via rand.toString()) use
// this same function.

/**
 * @param {number} n
 * @param {number} seed
 * @param {number} [lo]
 * @param {number} [hi]
 * @returns {Float32Array}
 */
export function rand(n, seed, lo = -1, hi = 1) {
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

/** Number of elements of a shape. @param {readonly number[]} shape */
export const sizeOfShape = (shape) => shape.reduce((a, b) => a * b, 1);
