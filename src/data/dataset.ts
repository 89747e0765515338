/**
 * An in-memory data set of samples and labels, held on the host as typed arrays:
 * seeded shuffling, batching and train/validation/test splits. Batches become tensors
 * only when asked for, so a 60,000-image set is never one giant tensor on a backend.
 */
import { Tensor } from '../tensor/tensor.js';
import { fmtShape, sizeOf } from '../tensor/shape.js';
import { tensor } from '../ops/creation.js';
import { Rng, rngOf } from '../ops/random.js';
import { StreamDataset, type Example, type ExampleSpec } from './stream.js';

export type Labels = Int32Array | Float32Array;

export interface DatasetInit {
  /** Samples, row-major, `length * prod(sampleShape)` values (images NHWC, 0..1). */
  x: Float32Array | ArrayLike<number>;
  /** Shape of one sample, e.g. [28, 28, 1]. */
  sampleShape: readonly number[];
  /** Class indices (Int32Array, labelShape []) or float targets (Float32Array). */
  y: Labels | ArrayLike<number>;
  /** Shape of one label: [] (the default for class indices) or e.g. [10] for one-hot. */
  labelShape?: readonly number[];
  /** Number of classes (class-index labels); default max label + 1. */
  numClasses?: number;
  classNames?: readonly string[];
  /** A name for messages and summaries. */
  name?: string;
}

/** One mini-batch on the host: samples [size, ...sampleShape] and labels. */
export interface HostBatch {
  x: Float32Array;
  y: Labels;
  size: number;
  /** Indices of the batch's samples in the data set. */
  indices: Int32Array;
}

/** One mini-batch as tensors (the caller disposes them, or works inside tidy). */
export interface Batch {
  x: Tensor;
  y: Tensor;
  size: number;
}

export interface BatchOptions {
  /** Reshuffle the order (seeded); default false. */
  shuffle?: boolean;
  seed?: number | Rng;
  /** Drop a last batch smaller than batchSize; default false (Keras and PyTorch keep it). */
  dropRemainder?: boolean;
}

export class Dataset {
  readonly x: Float32Array;
  readonly y: Labels;
  readonly sampleShape: readonly number[];
  readonly labelShape: readonly number[];
  readonly numClasses: number;
  readonly classNames?: readonly string[];
  name: string;
  readonly length: number;

  constructor(init: DatasetInit) {
    const name = init.name ?? 'dataset';
    this.sampleShape = Object.freeze([...init.sampleShape]);
    const per = sizeOf(this.sampleShape);
    this.x = init.x instanceof Float32Array ? init.x : Float32Array.from(init.x);
    if (per === 0 || this.x.length % per !== 0) {
      throw new RangeError(`Dataset '${name}': ${this.x.length} sample values do not divide into samples of shape ${fmtShape(this.sampleShape)}`);
    }
    this.length = this.x.length / per;
    const isIndex = init.y instanceof Int32Array || (!(init.y instanceof Float32Array) && (init.labelShape ?? []).length === 0);
    this.labelShape = Object.freeze([...(init.labelShape ?? [])]);
    this.y = init.y instanceof Int32Array || init.y instanceof Float32Array ? init.y : isIndex ? Int32Array.from(init.y) : Float32Array.from(init.y);
    const perY = sizeOf(this.labelShape);
    if (this.y.length !== this.length * perY) {
      throw new RangeError(`Dataset '${name}': ${this.length} samples but ${this.y.length / perY} labels of shape ${fmtShape(this.labelShape)} (label/sample count mismatch)`);
    }
    let maxLabel = -1;
    if (this.y instanceof Int32Array && this.labelShape.length === 0) {
      for (let i = 0; i < this.y.length; i++) {
        const v = this.y[i];
        if (v < 0) throw new RangeError(`Dataset '${name}': label ${i} is ${v}, class indices must be >= 0`);
        if (v > maxLabel) maxLabel = v;
      }
    }
    this.numClasses = init.numClasses ?? (maxLabel >= 0 ? maxLabel + 1 : perY);
    if (maxLabel >= this.numClasses) throw new RangeError(`Dataset '${name}': label ${maxLabel} is out of range for ${this.numClasses} classes`);
    if (init.classNames && init.classNames.length !== this.numClasses) {
      throw new RangeError(`Dataset '${name}': ${init.classNames.length} class names for ${this.numClasses} classes`);
    }
    this.classNames = init.classNames ? Object.freeze([...init.classNames]) : undefined;
    this.name = name;
  }

  /**
   * A data set read as a stream from a generator factory, for data that does not fit in
   * memory (like tf.data.generator): `Dataset.generator(function* () { yield { x, y }; })`,
   * then `.shuffle(bufferSize, seed).batch(n).prefetch(2)`. See StreamDataset.
   */
  static generator<T = Example>(factory: () => Iterator<T> | AsyncIterator<T> | Iterable<T> | AsyncIterable<T>, spec: ExampleSpec = {}): StreamDataset<T> {
    return StreamDataset.generator(factory, spec);
  }

  /** This in-memory data set as a stream of examples `{ x, y }` (x a Float32Array of one sample), in order. */
  toStream(): StreamDataset<{ x: Float32Array; y: number | Float32Array }> {
    const per = sizeOf(this.sampleShape), perY = sizeOf(this.labelShape);
    const self = this;
    return StreamDataset.generator(function* () {
      for (let i = 0; i < self.length; i++) {
        yield { x: self.x.subarray(i * per, (i + 1) * per), y: self.labelShape.length === 0 ? self.y[i] : Float32Array.from(self.y.subarray(i * perY, (i + 1) * perY)) };
      }
    }, { sampleShape: self.sampleShape, labelShape: self.labelShape });
  }

  /** A data set from tensors x [N, ...] and y [N] (int32 class indices) or [N, ...]. */
  static fromTensors(x: Tensor, y: Tensor, opts: { numClasses?: number; classNames?: readonly string[]; name?: string } = {}): Dataset {
    if (x.rank < 1 || y.rank < 1 || x.shape[0] !== y.shape[0]) {
      throw new RangeError(`Dataset.fromTensors: x ${fmtShape(x.shape)} and y ${fmtShape(y.shape)} must have the same first (sample) dimension`);
    }
    return Dataset.fromValues(x.dataSync(), x.shape, y.dataSync(), y.shape, y.dtype === 'int32', opts);
  }

  /** A dataset from values already read back (x [N, ...], y [N, ...]; int labels as Int32Array). */
  static fromValues(
    xs: ArrayLike<number>, xShape: readonly number[], ys: ArrayLike<number>, yShape: readonly number[], intLabels: boolean,
    opts: { numClasses?: number; classNames?: readonly string[]; name?: string } = {},
  ): Dataset {
    const labels = intLabels ? Int32Array.from(ys) : Float32Array.from(ys);
    return new Dataset({ ...opts, x: Float32Array.from(xs), sampleShape: xShape.slice(1), y: labels, labelShape: yShape.slice(1) });
  }

  /** True when labels are class indices (one int per sample). */
  get hasClassLabels(): boolean {
    return this.y instanceof Int32Array && this.labelShape.length === 0;
  }

  private with(x: Float32Array, y: Labels, name = this.name): Dataset {
    return new Dataset({ x, sampleShape: this.sampleShape, y, labelShape: this.labelShape, numClasses: this.numClasses, classNames: this.classNames, name });
  }

  /** The samples at `indices`, in that order (a copy). */
  subset(indices: ArrayLike<number>, name?: string): Dataset {
    const { x, y } = this.gather(indices);
    return this.with(x, y, name);
  }

  /**
   * Samples [start, end), as Array.prototype.slice counts them: integers, a negative one
   * counting from the end (slice(-100) is the last 100), both clamped to [0, length].
   */
  slice(start: number, end = this.length): Dataset {
    for (const [arg, v] of [['start', start], ['end', end]] as const) {
      if (!Number.isInteger(v)) throw new RangeError(`Dataset.slice: ${arg} must be an integer (a sample index), received ${String(v)}`);
    }
    const from = (i: number) => (i < 0 ? Math.max(0, this.length + i) : Math.min(this.length, i));
    const s = from(start), e = Math.max(s, from(end));
    const per = sizeOf(this.sampleShape), perY = sizeOf(this.labelShape);
    return this.with(this.x.slice(s * per, e * per), this.y.slice(s * perY, e * perY));
  }

  /** The first `n` samples. */
  take(n: number): Dataset {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`Dataset.take: n must be a non-negative integer (a number of samples), received ${String(n)}`);
    return this.slice(0, n);
  }

  /** A seeded permutation of 0..length-1. */
  permutation(seed?: number | Rng): Int32Array {
    const idx = new Int32Array(this.length);
    for (let i = 0; i < idx.length; i++) idx[i] = i;
    rngOf(seed).shuffle(idx);
    return idx;
  }

  /** A shuffled copy (seeded: the same seed gives the same order). */
  shuffle(seed?: number | Rng): Dataset {
    return this.subset(this.permutation(seed));
  }

  /**
   * Split into consecutive parts after an optional seeded shuffle. `parts` are fractions
   * summing to 1 (sizes rounded, the last part takes the remainder) or sample counts
   * summing to the length (torch.utils.data.random_split's two forms). With `stratify`,
   * each class is split in the same proportions (class-index labels only).
   */
  split(parts: readonly number[], opts: { seed?: number | Rng; shuffle?: boolean; stratify?: boolean } = {}): Dataset[] {
    if (parts.length < 1 || parts.some((p) => !(p >= 0))) throw new RangeError(`Dataset.split: parts must be non-negative numbers, received [${parts.join(', ')}]`);
    const total = parts.reduce((a, b) => a + b, 0);
    const counts = parts.every((p) => Number.isInteger(p)) && total === this.length && !(parts.length === 1 && total === 1 && this.length !== 1);
    if (!counts && Math.abs(total - 1) > 1e-9) {
      throw new RangeError(`Dataset.split: parts must be fractions summing to 1 or counts summing to ${this.length}, received [${parts.join(', ')}] (sum ${total})`);
    }
    const shuffle = opts.shuffle ?? true;
    const rng = rngOf(opts.seed ?? 0);
    const cut = (n: number): number[] => {
      const sizes: number[] = [];
      let cum = 0, prev = 0;
      parts.forEach((p, i) => {
        cum += p;
        const b = i === parts.length - 1 ? n : counts ? cum : Math.round((cum / total) * n);
        sizes.push(b - prev);
        prev = b;
      });
      return sizes;
    };
    const groups: number[][] = parts.map(() => []);
    if (opts.stratify) {
      if (!this.hasClassLabels) throw new TypeError('Dataset.split: stratify needs class-index labels');
      if (counts) throw new RangeError('Dataset.split: stratify needs fractions, not counts');
      // Walk the samples class by class and give each to the part furthest below its share
      // so far: every part gets exactly its overall size, and each class is split in
      // proportion to within one sample.
      const byClass: number[][] = Array.from({ length: this.numClasses }, () => []);
      for (let i = 0; i < this.length; i++) byClass[this.y[i]].push(i);
      const targets = cut(this.length);
      const taken = parts.map(() => 0);
      let j = 0;
      for (const members of byClass) {
        if (shuffle) rng.shuffle(members);
        for (const idx of members) {
          j++;
          let best = -1, deficit = -Infinity;
          targets.forEach((t, k) => {
            const d = (t / this.length) * j - taken[k];
            if (taken[k] < t && d > deficit) {
              deficit = d;
              best = k;
            }
          });
          taken[best]++;
          groups[best].push(idx);
        }
      }
      if (shuffle) for (const g of groups) rng.shuffle(g);
    } else {
      const order = shuffle ? Array.from(this.permutation(rng)) : Array.from({ length: this.length }, (_, i) => i);
      let o = 0;
      cut(this.length).forEach((s, k) => {
        groups[k] = order.slice(o, o + s);
        o += s;
      });
    }
    return groups.map((g) => this.subset(g));
  }

  /**
   * Train / validation / test parts by fractions (validation optional), seeded,
   * stratified by class when the labels are class indices.
   */
  trainValTest(opts: { validation?: number; test: number; seed?: number; stratify?: boolean }): { train: Dataset; validation?: Dataset; test: Dataset } {
    const v = opts.validation ?? 0;
    if (!(opts.test > 0 && opts.test < 1) || !(v >= 0 && v < 1) || v + opts.test >= 1) {
      throw new RangeError(`Dataset.trainValTest: test (${opts.test}) and validation (${v}) must be fractions with test + validation < 1`);
    }
    const stratify = opts.stratify ?? this.hasClassLabels;
    const parts = v > 0 ? [1 - v - opts.test, v, opts.test] : [1 - opts.test, opts.test];
    const ds = this.split(parts, { seed: opts.seed, stratify });
    ds[0].name = `${this.name} (train)`;
    ds[ds.length - 1].name = `${this.name} (test)`;
    if (v > 0) ds[1].name = `${this.name} (validation)`;
    return v > 0 ? { train: ds[0], validation: ds[1], test: ds[2] } : { train: ds[0], test: ds[1] };
  }

  /** Samples and labels at `indices`, as host arrays. */
  gather(indices: ArrayLike<number>): { x: Float32Array; y: Labels } {
    const per = sizeOf(this.sampleShape), perY = sizeOf(this.labelShape);
    const n = indices.length;
    const x = new Float32Array(n * per);
    const y = this.y instanceof Int32Array ? new Int32Array(n * perY) : new Float32Array(n * perY);
    for (let k = 0; k < n; k++) {
      const i = indices[k];
      if (!(i >= 0 && i < this.length) || !Number.isInteger(i)) throw new RangeError(`Dataset '${this.name}': index ${i} out of range [0, ${this.length})`);
      x.set(this.x.subarray(i * per, (i + 1) * per), k * per);
      if (perY === 1) y[k] = this.y[i];
      else y.set(this.y.subarray(i * perY, (i + 1) * perY), k * perY);
    }
    return { x, y };
  }

  /** Mini-batches as host arrays (the training loop augments these before upload). */
  *hostBatches(batchSize: number, opts: BatchOptions = {}): Generator<HostBatch> {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`Dataset.batches: batchSize must be a positive integer, received ${batchSize}`);
    const order = opts.shuffle ? this.permutation(opts.seed) : Int32Array.from({ length: this.length }, (_, i) => i);
    for (let s = 0; s < this.length; s += batchSize) {
      const indices = order.subarray(s, Math.min(this.length, s + batchSize));
      if (opts.dropRemainder && indices.length < batchSize) break;
      const { x, y } = this.gather(indices);
      yield { x, y, size: indices.length, indices };
    }
  }

  /** Number of batches an epoch has. */
  batchCount(batchSize: number, dropRemainder = false): number {
    return dropRemainder ? Math.floor(this.length / batchSize) : Math.ceil(this.length / batchSize);
  }

  /** Mini-batches as tensors x [B, ...sampleShape], y [B] int32 or [B, ...labelShape]. */
  *batches(batchSize: number, opts: BatchOptions = {}): Generator<Batch> {
    for (const b of this.hostBatches(batchSize, opts)) yield this.toBatch(b);
  }

  /** Upload a host batch as tensors. */
  toBatch(b: { x: Float32Array; y: Labels; size: number }): Batch {
    return {
      x: tensor(b.x, [b.size, ...this.sampleShape], 'float32'),
      y: tensor(b.y, [b.size, ...this.labelShape], b.y instanceof Int32Array ? 'int32' : 'float32'),
      size: b.size,
    };
  }

  /** The whole set as two tensors. */
  toTensors(): { x: Tensor; y: Tensor } {
    const b = this.toBatch({ x: this.x, y: this.y, size: this.length });
    return { x: b.x, y: b.y };
  }

  /** How many samples each class has (class-index labels). */
  classCounts(): number[] {
    if (!this.hasClassLabels) throw new TypeError(`Dataset '${this.name}': classCounts needs class-index labels`);
    const c = new Array<number>(this.numClasses).fill(0);
    for (let i = 0; i < this.length; i++) c[this.y[i]]++;
    return c;
  }

  toString(): string {
    return `Dataset '${this.name}': ${this.length} samples of shape ${fmtShape(this.sampleShape)}, ${this.hasClassLabels ? `${this.numClasses} classes` : `labels of shape ${fmtShape(this.labelShape)}`}`;
  }
}
