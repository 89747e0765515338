/**
 * Data sets that do not fit in memory, read as a stream (like TF.js's `tf.data.generator`):
 * a factory of (sync or async) iterators of examples `{ x, y }`, and a pipeline of
 * `map`, `shuffle(bufferSize, seed)` (a shuffle buffer), `batch(n)`, `prefetch(n)` and
 * `take(n)`. Each pass (each epoch of `fit`) calls the factory again, so the data is read
 * afresh and never held whole. `fit` takes a batched stream (Model.fit, models/model.ts).
 */
import { Tensor } from '../tensor/tensor.js';
import { fmtShape, sizeOf } from '../tensor/shape.js';
import { tensor } from '../ops/creation.js';
import { Rng } from '../ops/random.js';
import type { Labels } from './dataset.js';

/** One example: a sample (a tensor, or values row-major) and its label (a class index, values, or a tensor). */
export interface Example {
  x: Tensor | ArrayLike<number>;
  y: Tensor | number | ArrayLike<number>;
}

/** A batch as `batch(n)` makes it: `size` samples stacked on the host, with their shapes. */
export interface StreamBatch {
  x: Float32Array;
  /** Class indices (Int32Array) or float targets (Float32Array). */
  y: Labels;
  size: number;
  sampleShape: readonly number[];
  labelShape: readonly number[];
}

/** Declared shapes of one example (for sources that yield plain arrays). */
export interface ExampleSpec {
  sampleShape?: readonly number[];
  labelShape?: readonly number[];
}

type Source<T> = Iterator<T> | AsyncIterator<T> | Iterable<T> | AsyncIterable<T>;

/** Per-pass information handed down the pipeline: the pass number seeds reshuffling. */
interface Pass {
  index: number;
}

function toAsyncIterator<T>(s: Source<T>, op: string): AsyncIterator<T> {
  const any = s as { [Symbol.asyncIterator]?: () => AsyncIterator<T>; [Symbol.iterator]?: () => Iterator<T>; next?: () => unknown };
  if (typeof any[Symbol.asyncIterator] === 'function') return any[Symbol.asyncIterator]!();
  if (typeof any[Symbol.iterator] === 'function') {
    const it = any[Symbol.iterator]!();
    return { next: async () => it.next(), return: async (v?: unknown) => (it.return ? it.return(v) : { done: true, value: v }) } as AsyncIterator<T>;
  }
  if (typeof any.next === 'function') {
    const it = s as Iterator<T> | AsyncIterator<T>;
    return { next: async () => it.next() } as AsyncIterator<T>;
  }
  throw new TypeError(`${op}: the factory must return an iterator or (async) iterable, such as a generator; received ${s === null ? 'null' : typeof s}`);
}

const checkCount = (op: string, name: string, n: number, min = 1) => {
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${op}: ${name} must be an integer >= ${min}, received ${n}`);
};

/** Hash of (seed, pass): each pass of a seeded shuffle draws its own order, the same in every run. */
function passSeed(seed: number, pass: number): number {
  let h = Math.imul(seed ^ 0x85ebca6b, 0xcc9e2d51) ^ Math.imul(pass + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * A stream of elements: examples, batches, or whatever `map` makes. Iterate it with
 * `for await (const e of ds)`; pass a batched one to `model.fit(ds, { epochs })`.
 */
export class StreamDataset<T = Example> implements AsyncIterable<T> {
  /** True once `batch` has stacked examples into StreamBatch elements (what fit trains on). */
  readonly batched: boolean;
  /** Shapes of one example's x and y when the source declares them (batch() uses them for plain arrays). */
  readonly spec: ExampleSpec;
  private passes = 0;

  private constructor(private readonly open: (pass: Pass) => AsyncIterator<T>, batched: boolean, spec: ExampleSpec = {}) {
    this.batched = batched;
    this.spec = spec;
  }

  /**
   * A stream from a factory of iterators (a generator function, sync or async). The
   * factory is called at the start of every pass, so each epoch re-reads the source.
   */
  static generator<T = Example>(factory: () => Source<T>, spec: ExampleSpec = {}): StreamDataset<T> {
    if (typeof factory !== 'function') throw new TypeError('StreamDataset.generator: pass a function that returns an iterator, e.g. function* () { yield { x, y }; } (a generator object can be iterated only once)');
    for (const k of ['sampleShape', 'labelShape'] as const) {
      const v = spec[k];
      if (v !== undefined && (!Array.isArray(v) || !v.every((d) => Number.isInteger(d) && d >= 1))) throw new RangeError(`StreamDataset.generator: ${k} must be an array of positive integers, received ${JSON.stringify(v)}`);
    }
    return new StreamDataset<T>(() => toAsyncIterator(factory(), 'StreamDataset.generator'), false, spec);
  }

  /**
   * A stream of batches made elsewhere: each element `{ x, y }` holds `size` samples
   * already stacked (tensors [n, ...] or host arrays with the given shapes).
   */
  static batches(factory: () => Source<{ x: Tensor | Float32Array; y: Tensor | Labels; size?: number }>, shapes: { sampleShape?: readonly number[]; labelShape?: readonly number[] } = {}): StreamDataset<StreamBatch> {
    const op = 'StreamDataset.batches';
    if (typeof factory !== 'function') throw new TypeError(`${op}: pass a function that returns an iterator of batches`);
    const toBatch = (b: { x: Tensor | Float32Array; y: Tensor | Labels; size?: number }, i: number): StreamBatch => {
      if (!b || b.x === undefined || b.y === undefined) throw new TypeError(`${op}: batch ${i} is not { x, y }`);
      const xs = b.x instanceof Tensor ? b.x : null, ys = b.y instanceof Tensor ? b.y : null;
      const size = xs ? xs.shape[0] : b.size;
      if (size === undefined || !Number.isInteger(size) || size < 1) throw new RangeError(`${op}: batch ${i} needs x as a tensor [n, ...] or a size`);
      const sampleShape = xs ? xs.shape.slice(1) : shapes.sampleShape;
      if (!sampleShape) throw new RangeError(`${op}: host arrays need shapes.sampleShape`);
      const labelShape = ys ? ys.shape.slice(1) : shapes.labelShape ?? [];
      const x = xs ? Float32Array.from(xs.dataSync()) : (b.x as Float32Array);
      const y = ys ? (ys.dtype === 'int32' ? Int32Array.from(ys.dataSync()) : Float32Array.from(ys.dataSync())) : (b.y as Labels);
      if (x.length !== size * sizeOf(sampleShape)) throw new RangeError(`${op}: batch ${i} x has ${x.length} values for ${size} samples of shape ${fmtShape(sampleShape)}`);
      if (y.length !== size * sizeOf(labelShape)) throw new RangeError(`${op}: batch ${i} y has ${y.length} values for ${size} labels of shape ${fmtShape(labelShape)}`);
      return { x, y, size, sampleShape, labelShape };
    };
    return new StreamDataset<StreamBatch>(() => {
      const src = toAsyncIterator(factory(), op);
      let i = 0;
      return {
        next: async () => {
          const r = await src.next();
          return r.done ? { done: true, value: undefined } : { done: false, value: toBatch(r.value, i++) };
        },
        return: async (v?: unknown) => (src.return ? src.return(v) : { done: true, value: v }),
      } as AsyncIterator<StreamBatch>;
    }, true);
  }

  /** One pass, numbered `pass` (fit passes the epoch, so a resumed run reshuffles as the uninterrupted one). */
  iterate(pass?: number): AsyncIterator<T> {
    const index = pass ?? this.passes;
    this.passes = index + 1;
    return this.open({ index });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.iterate();
  }

  private derive<U>(batched: boolean, open: (src: () => AsyncIterator<T>, pass: Pass) => AsyncGenerator<U>, spec: ExampleSpec = this.spec): StreamDataset<U> {
    return new StreamDataset<U>((pass) => open(() => this.open(pass), pass), batched, spec);
  }

  /** Apply `fn` (sync or async) to every element. */
  map<U>(fn: (element: T) => U | Promise<U>): StreamDataset<U> {
    if (typeof fn !== 'function') throw new TypeError('StreamDataset.map: pass a function');
    // A map over batches (augmentation, say) still gives batches; fit checks each element.
    return this.derive<U>(this.batched, async function* (src) {
      const it = src();
      for (let r = await it.next(); !r.done; r = await it.next()) yield await fn(r.value);
    }, {});
  }

  /** The first `n` elements of each pass. */
  take(n: number): StreamDataset<T> {
    checkCount('StreamDataset.take', 'n', n, 0);
    return this.derive<T>(this.batched, async function* (src) {
      if (n === 0) return;
      const it = src();
      let k = 0;
      try {
        for (let r = await it.next(); !r.done; r = await it.next()) {
          yield r.value;
          if (++k >= n) return;
        }
      } finally {
        await it.return?.();
      }
    });
  }

  /**
   * Shuffle through a buffer of `bufferSize` elements (tf.data's algorithm): fill the
   * buffer, then emit a random one and put the next element in its place. A buffer as
   * large as the data set gives a uniform shuffle. Seeded, each pass draws a different order
   * (`reshuffleEachIteration`, default true), the same in every run.
   */
  shuffle(bufferSize: number, seed?: number, opts: { reshuffleEachIteration?: boolean } = {}): StreamDataset<T> {
    checkCount('StreamDataset.shuffle', 'bufferSize', bufferSize);
    if (seed !== undefined && !Number.isInteger(seed)) throw new RangeError(`StreamDataset.shuffle: seed must be an integer, received ${seed}`);
    const base = seed ?? Math.floor(Math.random() * 2 ** 31);
    const reshuffle = opts.reshuffleEachIteration ?? true;
    return this.derive<T>(this.batched, async function* (src, pass) {
      const rng = new Rng(passSeed(base, reshuffle ? pass.index : 0));
      const it = src();
      const buf: T[] = [];
      for (let r = await it.next(); !r.done; r = await it.next()) {
        if (buf.length < bufferSize) {
          buf.push(r.value);
          continue;
        }
        const i = Math.floor(rng.next() * bufferSize);
        const out = buf[i];
        buf[i] = r.value;
        yield out;
      }
      while (buf.length) {
        const i = Math.floor(rng.next() * buf.length);
        const out = buf[i];
        buf[i] = buf[buf.length - 1];
        buf.pop();
        yield out;
      }
    });
  }

  /**
   * Stack `batchSize` examples `{ x, y }` into one StreamBatch (x float32 on the host, y
   * int32 class indices or float32 targets). Sample shape: the tensor's shape, or `sampleShape`
   * for plain arrays (default [length]). The last batch may be smaller unless `dropRemainder`.
   */
  batch(batchSize: number, opts: { dropRemainder?: boolean; sampleShape?: readonly number[]; labelShape?: readonly number[] } = {}): StreamDataset<StreamBatch> {
    const op = 'StreamDataset.batch';
    checkCount(op, 'batchSize', batchSize);
    if (this.batched) throw new TypeError(`${op}: this stream is already batched`);
    const self = this as unknown as StreamDataset<Example>;
    return new StreamDataset<StreamBatch>((pass) => (async function* () {
      const it = self['open'](pass);
      let xs: Float32Array | null = null, ys: Labels | null = null;
      let sampleShape: readonly number[] = [], labelShape: readonly number[] = [], per = 0, perY = 0, n = 0, seen = 0;
      for (let r = await it.next(); !r.done; r = await it.next()) {
        const e = r.value;
        if (!e || typeof e !== 'object' || e.x === undefined || e.y === undefined) throw new TypeError(`${op}: example ${seen} is not { x, y }`);
        const x = e.x instanceof Tensor ? e.x.dataSync() : e.x;
        const y = e.y instanceof Tensor ? e.y.dataSync() : typeof e.y === 'number' ? [e.y] : e.y;
        if (seen === 0) {
          sampleShape = e.x instanceof Tensor ? e.x.shape : opts.sampleShape ?? self.spec.sampleShape ?? [x.length];
          labelShape = e.y instanceof Tensor ? e.y.shape : typeof e.y === 'number' ? [] : opts.labelShape ?? self.spec.labelShape ?? [y.length];
          per = sizeOf(sampleShape);
          perY = sizeOf(labelShape);
          if (per !== x.length) throw new RangeError(`${op}: sampleShape ${fmtShape(sampleShape)} holds ${per} values, example 0 has ${x.length}`);
        }
        if (x.length !== per) throw new RangeError(`${op}: example ${seen} has ${x.length} sample values, the first had ${per} (shape ${fmtShape(sampleShape)})`);
        if (y.length !== perY) throw new RangeError(`${op}: example ${seen} has ${y.length} label values, the first had ${perY}`);
        const intLabels = (typeof e.y === 'number' && Number.isInteger(e.y)) || (e.y instanceof Tensor && e.y.dtype === 'int32') || e.y instanceof Int32Array;
        if (!xs) {
          xs = new Float32Array(batchSize * per);
          ys = intLabels ? new Int32Array(batchSize * perY) : new Float32Array(batchSize * perY);
        }
        for (let i = 0; i < per; i++) {
          const v = x[i];
          if (Number.isNaN(v)) throw new RangeError(`${op}: example ${seen} has NaN at sample index ${i}`);
          xs[n * per + i] = v;
        }
        if (ys instanceof Int32Array && !(Number.isInteger(y[0]))) throw new RangeError(`${op}: example ${seen} has label ${y[0]}, but earlier labels were class indices (integers)`);
        for (let i = 0; i < perY; i++) ys![n * perY + i] = y[i];
        n++;
        seen++;
        if (n === batchSize) {
          yield { x: xs, y: ys!, size: n, sampleShape, labelShape };
          xs = null;
          ys = null;
          n = 0;
        }
      }
      if (n > 0 && !opts.dropRemainder) yield { x: xs!.slice(0, n * per), y: ys!.slice(0, n * perY) as Labels, size: n, sampleShape, labelShape };
    })(), true);
  }

  /**
   * Keep up to `bufferSize` elements requested ahead of the consumer, so that reading
   * (file I/O, an async source) overlaps the work on the previous elements. Order is kept.
   */
  prefetch(bufferSize: number): StreamDataset<T> {
    checkCount('StreamDataset.prefetch', 'bufferSize', bufferSize);
    return this.derive<T>(this.batched, async function* (src) {
      const it = src();
      const queue: Promise<IteratorResult<T>>[] = [];
      const pull = () => {
        const p = it.next();
        p.catch(() => {}); // a failure surfaces when its turn comes, not as an unhandled rejection
        queue.push(p);
      };
      for (let i = 0; i < bufferSize; i++) pull();
      for (;;) {
        const r = await queue.shift()!;
        if (r.done) return;
        pull();
        yield r.value;
      }
    });
  }

  /** Every element of one pass, in an array (for small streams and tests). */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    const it = this.iterate();
    for (let r = await it.next(); !r.done; r = await it.next()) out.push(r.value);
    return out;
  }

  /** fit's view of a batched stream: one pass per epoch, and batches as tensors. */
  epochBatches(epoch: number): AsyncIterable<StreamBatch> {
    if (!this.batched) throw new TypeError('fit: a StreamDataset must be batched to train on: call .batch(batchSize) on it (fit has no batchSize for streams)');
    const it = this.iterate(epoch) as unknown as AsyncIterator<StreamBatch>;
    return { [Symbol.asyncIterator]: () => it };
  }

  /** Upload a batch as tensors x [size, ...sampleShape] and y [size, ...labelShape]. */
  static toTensors(b: StreamBatch): { x: Tensor; y: Tensor; size: number } {
    return {
      x: tensor(b.x, [b.size, ...b.sampleShape], 'float32'),
      y: tensor(b.y, [b.size, ...b.labelShape], b.y instanceof Int32Array ? 'int32' : 'float32'),
      size: b.size,
    };
  }
}
