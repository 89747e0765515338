/**
 * Classification metrics on host arrays or tensors: accuracy (arg-max), top-k accuracy
 * (TensorFlow's in_top_k rule) and the confusion matrix with a printer. Scores may be
 * logits or probabilities: only their order matters.
 */
import { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';

type Scores = Tensor | { data: ArrayLike<number>; shape: readonly number[] };
type LabelsLike = Tensor | ArrayLike<number>;

function scoresOf(s: Scores, op: string): { data: ArrayLike<number>; n: number; k: number } {
  const shape = s instanceof Tensor ? s.shape : s.shape;
  if (shape.length !== 2) throw new RangeError(`${op}: scores must be [N, classes], received shape ${fmtShape(shape)}`);
  return { data: s instanceof Tensor ? s.dataSync() : s.data, n: shape[0], k: shape[1] };
}

/**
 * Class indices from labels: int class indices [N], or one-hot / probability rows
 * [N, K] (the arg-max of each row).
 */
function labelsOf(l: LabelsLike, n: number, op: string): ArrayLike<number> {
  if (l instanceof Tensor) {
    if (l.rank === 2) return argMaxRows(l.dataSync(), l.shape[0], l.shape[1]);
    if (l.rank !== 1) throw new RangeError(`${op}: labels must be [N] class indices or [N, classes] one-hot, received shape ${fmtShape(l.shape)}`);
    l = l.dataSync();
  }
  if (l.length !== n) throw new RangeError(`${op}: ${l.length} labels for ${n} score rows`);
  return l;
}

/** Arg-max of each row of a row-major [n, k] array (the first maximum on ties; NaN never wins). */
export function argMaxRows(data: ArrayLike<number>, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -1, bv = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = data[i * k + j];
      if (v > bv || (best === -1 && !Number.isNaN(v))) {
        bv = v;
        best = j;
      }
    }
    out[i] = Math.max(best, 0);
  }
  return out;
}

/** Fraction of rows whose arg-max (first maximum on ties) equals the label. */
export function accuracy(scores: Scores, labels: LabelsLike): number {
  const s = scoresOf(scores, 'accuracy');
  const y = labelsOf(labels, s.n, 'accuracy');
  if (s.n === 0) return NaN;
  const pred = argMaxRows(s.data, s.n, s.k);
  let ok = 0;
  for (let i = 0; i < s.n; i++) if (pred[i] === y[i]) ok++;
  return ok / s.n;
}

/**
 * Number of rows whose label is among the k highest scores. A label counts as in the
 * top k when fewer than k classes score strictly higher than it (tf.math.in_top_k:
 * classes tied at the boundary are all in). A NaN score for the label never counts.
 */
export function topKCorrect(scores: Scores, labels: LabelsLike, k: number): number {
  const s = scoresOf(scores, 'topKAccuracy');
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topKAccuracy: k must be a positive integer, received ${k}`);
  const y = labelsOf(labels, s.n, 'topKAccuracy');
  let ok = 0;
  for (let i = 0; i < s.n; i++) {
    const label = y[i];
    if (!(label >= 0 && label < s.k)) throw new RangeError(`topKAccuracy: label ${label} of row ${i} is out of range for ${s.k} classes`);
    const t = s.data[i * s.k + label];
    if (Number.isNaN(t)) continue;
    let higher = 0;
    for (let j = 0; j < s.k; j++) if (s.data[i * s.k + j] > t) higher++;
    if (higher < k) ok++;
  }
  return ok;
}

/** Fraction of rows whose label is among the k highest scores (see topKCorrect). */
export function topKAccuracy(scores: Scores, labels: LabelsLike, k = 5): number {
  const n = scoresOf(scores, 'topKAccuracy').n;
  return n === 0 ? NaN : topKCorrect(scores, labels, k) / n;
}

/** The k best classes of each row, best first (ties: lower class index first), with scores. */
export function topK(scores: Scores, k = 5): { indices: number[][]; values: number[][] } {
  const s = scoresOf(scores, 'topK');
  const kk = Math.min(k, s.k);
  const indices: number[][] = [], values: number[][] = [];
  for (let i = 0; i < s.n; i++) {
    const row = Array.from({ length: s.k }, (_, j) => j);
    row.sort((a, b) => {
      const va = s.data[i * s.k + a], vb = s.data[i * s.k + b];
      return vb > va || (Number.isNaN(va) && !Number.isNaN(vb)) ? 1 : va > vb || (Number.isNaN(vb) && !Number.isNaN(va)) ? -1 : a - b;
    });
    indices.push(row.slice(0, kk));
    values.push(row.slice(0, kk).map((j) => s.data[i * s.k + j]));
  }
  return { indices, values };
}

/**
 * counts[t][p] = number of samples of true class t predicted as p (rows: truth,
 * columns: prediction, as in scikit-learn).
 */
export class ConfusionMatrix {
  readonly counts: number[][];
  constructor(readonly numClasses: number, readonly classNames?: readonly string[]) {
    this.counts = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  }

  /** Add predictions (class indices) against labels. */
  add(predicted: ArrayLike<number>, labels: ArrayLike<number>): this {
    if (predicted.length !== labels.length) throw new RangeError(`confusionMatrix: ${predicted.length} predictions for ${labels.length} labels`);
    for (let i = 0; i < labels.length; i++) {
      const t = labels[i], p = predicted[i];
      if (!(t >= 0 && t < this.numClasses) || !Number.isInteger(t)) throw new RangeError(`confusionMatrix: label ${t} at ${i} is not a class 0..${this.numClasses - 1}`);
      if (!(p >= 0 && p < this.numClasses) || !Number.isInteger(p)) throw new RangeError(`confusionMatrix: prediction ${p} at ${i} is not a class 0..${this.numClasses - 1}`);
      this.counts[t][p]++;
    }
    return this;
  }

  get total(): number {
    return this.counts.reduce((a, r) => a + r.reduce((b, c) => b + c, 0), 0);
  }
  /** Trace over total. */
  get accuracy(): number {
    let d = 0;
    for (let i = 0; i < this.numClasses; i++) d += this.counts[i][i];
    return d / this.total;
  }
  /** Of the samples predicted as `c`, the fraction that are `c` (NaN if none predicted). */
  precision(c: number): number {
    let col = 0;
    for (let t = 0; t < this.numClasses; t++) col += this.counts[t][c];
    return this.counts[c][c] / col;
  }
  /** Of the samples of class `c`, the fraction predicted as `c` (NaN if none). */
  recall(c: number): number {
    const row = this.counts[c].reduce((a, b) => a + b, 0);
    return this.counts[c][c] / row;
  }

  /** A table: one row per true class, one column per prediction, with per-class recall. */
  toString(): string {
    const w = Math.max(...this.counts.flat().map((c) => String(c).length), 3);
    // Columns show the class names when they all fit, else the class indices (and rows say
    // which index each name has).
    const given = this.classNames;
    const fit = !given || given.every((n) => n.length <= w);
    const cols = fit && given ? [...given] : Array.from({ length: this.numClasses }, (_, i) => String(i));
    const names = given ? given.map((n, i) => (fit ? n : `${i} ${n}`)) : cols;
    const label = Math.max(...names.map((n) => n.length), 'true\\pred'.length);
    const colHead = cols.map((n) => n.padStart(w)).join(' ');
    const lines = [`${'true\\pred'.padEnd(label)} ${colHead}  recall`];
    this.counts.forEach((row, t) => {
      const r = this.recall(t);
      lines.push(`${names[t].padEnd(label)} ${row.map((c) => String(c).padStart(w)).join(' ')}  ${Number.isNaN(r) ? '    -' : `${(100 * r).toFixed(1).padStart(5)}%`}`);
    });
    lines.push(`accuracy ${(100 * this.accuracy).toFixed(2)}% of ${this.total}`);
    return lines.join('\n');
  }
}

/**
 * The confusion matrix of scores [N, K] (arg-max predictions) or predicted class
 * indices against labels.
 */
export function confusionMatrix(predictions: Scores | ArrayLike<number>, labels: LabelsLike, opts: { numClasses?: number; classNames?: readonly string[] } = {}): ConfusionMatrix {
  let pred: ArrayLike<number>;
  let k = opts.numClasses;
  if (predictions instanceof Tensor || (typeof predictions === 'object' && 'shape' in predictions && 'data' in predictions)) {
    const s = scoresOf(predictions as Scores, 'confusionMatrix');
    pred = argMaxRows(s.data, s.n, s.k);
    k ??= s.k;
  } else pred = predictions as ArrayLike<number>;
  const y = labelsOf(labels, pred.length, 'confusionMatrix');
  if (k === undefined) {
    let m = -1;
    for (let i = 0; i < y.length; i++) m = Math.max(m, y[i], pred[i]);
    k = m + 1;
  }
  return new ConfusionMatrix(k, opts.classNames).add(pred, y);
}
