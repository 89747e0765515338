/**
 * Face verification (1:1) and recognition (1:K) on top of any encoder f(x):
 * - d(a, b) = ||f(a) - f(b)||^2, "same person" when d < threshold;
 * - a database of precomputed encodings for K people, identify = nearest within threshold;
 * - hard triplet selection for triplet-loss training (hardest positive / negative per anchor);
 * - features for the logistic "same person" head: |f(a) - f(b)| or the chi-square form
 *   (f(a) - f(b))^2 / (f(a) + f(b)).
 * The encoder is any function from an image batch to [N, D] encodings (usually a model's predict).
 */
import type { Tensor } from '../tensor/tensor.js';
import { abs, add, div, mul, sub, square, affine } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { sigmoid } from '../ops/activation.js';
import { fmtShape } from '../tensor/shape.js';

function check2d(fn: string, arg: string, t: Tensor, d?: number): void {
  if (t.rank !== 2 || (d !== undefined && t.shape[1] !== d)) {
    throw new RangeError(`${fn}: ${arg} must have shape [N, ${d ?? 'D'}], received ${fmtShape(t.shape)}`);
  }
}

/** Squared Euclidean distance between matching rows of a and b: [N, D] x [N, D] -> [N]. */
export function squaredDistance(a: Tensor, b: Tensor): Tensor {
  check2d('squaredDistance', 'a', a);
  check2d('squaredDistance', 'b', b, a.shape[1]);
  return sum(square(sub(a, b)), { axes: 1 });
}

/** 1:1 verification: true where d(a_i, b_i) < threshold. */
export function verifyPairs(a: Tensor, b: Tensor, threshold: number): boolean[] {
  return Array.from(squaredDistance(a, b).dataSync(), (d) => d < threshold);
}

/**
 * Pair features for the logistic "same person" head y = sigmoid(w . phi + b):
 * 'abs' gives |f(a) - f(b)|, 'chiSquare' gives (f(a) - f(b))^2 / (f(a) + f(b)) (with a small
 * epsilon in the denominator so that zero encodings do not produce NaN).
 */
export function pairFeatures(a: Tensor, b: Tensor, kind: 'abs' | 'chiSquare' = 'abs', eps = 1e-8): Tensor {
  check2d('pairFeatures', 'a', a);
  check2d('pairFeatures', 'b', b, a.shape[1]);
  const d = sub(a, b);
  if (kind === 'abs') return abs(d);
  return div(square(d), affine(add(a, b), 1, eps));
}

/**
 * Hard triplets from a batch of encodings and labels: for every anchor, the farthest
 * encoding with its label (hardest positive) and the nearest with another label
 * (hardest negative). Anchors without a positive or a negative are skipped.
 */
export function hardTriplets(encodings: Tensor, labels: ArrayLike<number>): { anchor: number; positive: number; negative: number }[] {
  check2d('hardTriplets', 'encodings', encodings);
  const [n, dim] = encodings.shape;
  if (labels.length !== n) throw new RangeError(`hardTriplets: ${labels.length} labels for ${n} encodings`);
  const e = encodings.dataSync();
  const dist = (i: number, j: number) => {
    let s = 0;
    for (let k = 0; k < dim; k++) s += (e[i * dim + k] - e[j * dim + k]) ** 2;
    return s;
  };
  const out: { anchor: number; positive: number; negative: number }[] = [];
  for (let a = 0; a < n; a++) {
    let pos = -1, posD = -Infinity, neg = -1, negD = Infinity;
    for (let j = 0; j < n; j++) {
      if (j === a) continue;
      const d = dist(a, j);
      if (labels[j] === labels[a]) {
        if (d > posD) [pos, posD] = [j, d];
      } else if (d < negD) [neg, negD] = [j, d];
    }
    if (pos >= 0 && neg >= 0) out.push({ anchor: a, positive: pos, negative: neg });
  }
  return out;
}

/** Precomputed encodings of K known people, for 1:K recognition. */
export class FaceDatabase {
  private names: string[] = [];
  private encodings: Float64Array[] = [];
  constructor(readonly dim: number) {}

  get size(): number {
    return this.names.length;
  }

  /** Store one encoding ([D] or [1, D]) under `name` (several per person are allowed). */
  add(name: string, encoding: Tensor): void {
    if (encoding.size !== this.dim) throw new RangeError(`FaceDatabase.add: encoding for '${name}' has shape ${fmtShape(encoding.shape)}, expected ${this.dim} values`);
    this.names.push(name);
    this.encodings.push(Float64Array.from(encoding.dataSync()));
  }

  /** The nearest stored person and the distance; `name` is null when none is closer than `threshold`. */
  identify(encoding: Tensor, threshold: number): { name: string | null; distance: number } {
    if (encoding.size !== this.dim) throw new RangeError(`FaceDatabase.identify: encoding has shape ${fmtShape(encoding.shape)}, expected ${this.dim} values`);
    if (this.size === 0) throw new Error('FaceDatabase.identify: the database is empty');
    const q = encoding.dataSync();
    let best = -1, bestD = Infinity;
    this.encodings.forEach((e, i) => {
      let s = 0;
      for (let k = 0; k < this.dim; k++) s += (e[k] - q[k]) ** 2;
      if (s < bestD) [best, bestD] = [i, s];
    });
    return { name: bestD < threshold ? this.names[best] : null, distance: bestD };
  }
}

/** Logistic "same person" probability sigmoid(phi . w + b) for pair features phi [N, D]. */
export function samePersonProbability(phi: Tensor, w: Tensor, b: number): Tensor {
  check2d('samePersonProbability', 'phi', phi);
  return sigmoid(affine(sum(mul(phi, w), { axes: 1 }), 1, b));
}
