/**
 * Option-key checks for constructors that take an options object (layers, zoo builders,
 * models): a key the constructor does not know is a RangeError naming the owner, the key,
 * the closest known key when one is close, and every known key — a typo such as
 * `{ stride: 2 }` for `strides` never builds a different model silently.
 */

/**
 * Edit distance between `a` and `b`: insertions, deletions, substitutions and swaps of two
 * adjacent characters each count 1 (optimal string alignment: 'nmae' is 1 from 'name').
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The known key closest to `key`, or undefined when none is close: a case-only difference,
 * or an edit distance of at most a third of the longer name (at least 1).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0.5 : editDistance(key, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  if (best === undefined) return undefined;
  return bestD <= Math.max(1, Math.floor(Math.max(key.length, best.length) / 3)) ? best : undefined;
}

/**
 * Throw a RangeError when `opts` has a key outside `known`:
 * "Conv2D: unknown option 'stride' (did you mean 'strides'?); known options: ...".
 * Anything that is not a plain object is left to the caller's own checks.
 */
export function checkOptionKeys(owner: string, opts: unknown, known: readonly string[]): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) return;
  const allowed = new Set(known);
  for (const key of Object.keys(opts)) {
    if (allowed.has(key)) continue;
    const near = closestKey(key, known);
    throw new RangeError(
      `${owner}: unknown option '${key}'${near ? ` (did you mean '${near}'?)` : ''}; known options: ${[...allowed].sort().join(', ')}`,
    );
  }
}

/** Keras's `dataFormat` option. convkit's activations are channels last (NHWC), always. */
export type DataFormat = 'channelsLast' | 'channelsFirst';

/**
 * Accept Keras's `dataFormat` where Keras has it, as long as it says channels last: a
 * channels-first model would otherwise run on transposed data without a word.
 */
export function checkDataFormat(label: string, v: unknown): 'channelsLast' {
  if (v === undefined || v === 'channelsLast') return 'channelsLast';
  if (v === 'channelsFirst') {
    throw new RangeError(`${label}: dataFormat 'channelsFirst' is not supported: convkit layers take channels-last inputs ([N, ..., C]); received 'channelsFirst', expected 'channelsLast' (transpose the data, e.g. with a Permute layer, instead)`);
  }
  throw new RangeError(`${label}: dataFormat must be 'channelsLast', received ${JSON.stringify(v)}`);
}
