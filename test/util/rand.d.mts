/** n deterministic float32 values uniform in [lo, hi) (default [-1, 1)), from `seed` (see rand.mjs). */
export function rand(n: number, seed: number, lo?: number, hi?: number): Float32Array;
/** Number of elements of a shape. */
export function sizeOfShape(shape: readonly number[]): number;
