/**
 * StreamDataset: generator sources (sync and async), map/take/shuffle/batch/prefetch,
 * seeded shuffle-buffer determinism, prefetch keeping order, fit over a stream (converging
 * like the same data in memory, the generator re-run each epoch), IDX read incrementally,
 * and the errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const numbers = (n: number) => ck.StreamDataset.generator(function* () {
  for (let i = 0; i < n; i++) yield i;
});

describe('StreamDataset pipeline', () => {
  it('sync and async generators, map (sync and async), take, toArray; each pass re-runs the factory', async () => {
    let opened = 0;
    const ds = ck.Dataset.generator(async function* () {
      opened++;
      for (let i = 0; i < 5; i++) yield i;
    });
    expect(await ds.map((v) => v * 10).take(3).toArray()).toEqual([0, 10, 20]);
    expect(await ds.map(async (v) => v + 1).toArray()).toEqual([1, 2, 3, 4, 5]);
    expect(opened).toBe(2);
    const seen: number[] = [];
    for await (const v of numbers(3)) seen.push(v);
    expect(seen).toEqual([0, 1, 2]);
    expect(await numbers(4).take(0).toArray()).toEqual([]);
  });

  it('shuffle: a permutation; the same seed gives the same orders pass by pass; passes differ; bufferSize 1 keeps order', async () => {
    const a = numbers(50).shuffle(16, 7), b = numbers(50).shuffle(16, 7);
    const a1 = await a.toArray(), a2 = await a.toArray();
    expect([...a1].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a1).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(await b.toArray()).toEqual(a1);
    expect(await b.toArray()).toEqual(a2);
    expect(a2).not.toEqual(a1);
    expect(await numbers(50).shuffle(16, 8).toArray()).not.toEqual(a1);
    expect(await numbers(10).shuffle(1, 3).toArray()).toEqual(Array.from({ length: 10 }, (_, i) => i));
    // Fixed order across passes when asked.
    const fixed = numbers(20).shuffle(20, 1, { reshuffleEachIteration: false });
    expect(await fixed.toArray()).toEqual(await fixed.toArray());
    // An element moves at most bufferSize - 1 places earlier than its position.
    a1.forEach((v, pos) => expect(pos).toBeGreaterThanOrEqual(v - 15));
  });

  it('prefetch keeps the order, reads ahead, and passes errors through at their place', async () => {
    const reads: number[] = [];
    const slow = ck.StreamDataset.generator(async function* () {
      for (let i = 0; i < 12; i++) {
        await new Promise((r) => setTimeout(r, (12 - i) % 3));
        reads.push(i);
        yield i;
      }
    });
    const it = slow.prefetch(4)[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toBe(0);
    await new Promise((r) => setTimeout(r, 30));
    expect(reads.length).toBeGreaterThanOrEqual(4); // read ahead while the consumer waited
    const rest: number[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
    expect([0, ...rest]).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const failing = ck.StreamDataset.generator(function* () {
      yield 1;
      yield 2;
      throw new Error('disk on fire');
    });
    const got: number[] = [];
    await expect((async () => {
      for await (const v of failing.prefetch(3)) got.push(v);
    })()).rejects.toThrow('disk on fire');
    expect(got).toEqual([1, 2]);
  });

  it('batch stacks examples (tensors, arrays with declared shapes, class indices or targets), keeps or drops the remainder', async () => {
    const ex = ck.StreamDataset.generator(function* () {
      for (let i = 0; i < 5; i++) yield { x: [i, i + 0.5, i + 1, i + 1.5], y: i % 2 };
    }, { sampleShape: [2, 2, 1] });
    const batches = await ex.batch(2).toArray();
    expect(batches.map((b) => b.size)).toEqual([2, 2, 1]);
    expect(batches[0].sampleShape).toEqual([2, 2, 1]);
    expect(batches[0].labelShape).toEqual([]);
    expect(Array.from(batches[1].x)).toEqual([2, 2.5, 3, 3.5, 3, 3.5, 4, 4.5]);
    expect(batches[1].y).toBeInstanceOf(Int32Array);
    expect(Array.from(batches[2].y)).toEqual([0]);
    expect((await ex.batch(2, { dropRemainder: true }).toArray()).length).toBe(2);
    const t = await ck.StreamDataset.generator(function* () {
      yield { x: ck.ones([3, 1]), y: ck.tensor([0.5, 1]) };
      yield { x: ck.zeros([3, 1]), y: ck.tensor([1.5, 2]) };
    }).batch(4).toArray();
    expect(t[0].sampleShape).toEqual([3, 1]);
    expect(t[0].labelShape).toEqual([2]);
    expect(t[0].y).toBeInstanceOf(Float32Array);
    expect(Array.from(t[0].y)).toEqual([0.5, 1, 1.5, 2]);
  });

  it('errors for bad arguments and bad elements', async () => {
    expect(() => ck.StreamDataset.generator(numbers as never as () => Iterator<number>).batch(0)).toThrow(/batchSize must be an integer >= 1, received 0/);
    expect(() => numbers(3).shuffle(0)).toThrow(/bufferSize must be an integer >= 1, received 0/);
    expect(() => numbers(3).shuffle(4, 1.5)).toThrow(/seed must be an integer/);
    expect(() => numbers(3).prefetch(-1)).toThrow(/bufferSize must be an integer >= 1/);
    expect(() => numbers(3).take(1.5)).toThrow(/n must be an integer >= 0/);
    expect(() => ck.StreamDataset.generator('nope' as never)).toThrow(/pass a function that returns an iterator/);
    expect(() => ck.StreamDataset.generator(() => [], { sampleShape: [0] })).toThrow(/sampleShape must be an array of positive integers/);
    await expect(ck.StreamDataset.generator(() => 5 as never).toArray()).rejects.toThrow(/must return an iterator or \(async\) iterable/);
    await expect(numbers(3).batch(2).toArray()).rejects.toThrow(/example 0 is not \{ x, y \}/);
    const ragged = ck.StreamDataset.generator(function* () {
      yield { x: [1, 2], y: 0 };
      yield { x: [1, 2, 3], y: 1 };
    });
    await expect(ragged.batch(2).toArray()).rejects.toThrow(/example 1 has 3 sample values, the first had 2/);
    const nan = ck.StreamDataset.generator(function* () {
      yield { x: [1, NaN], y: 0 };
    });
    await expect(nan.batch(2).toArray()).rejects.toThrow(/example 0 has NaN at sample index 1/);
    expect(() => numbers(2).batch(1).batch(1)).toThrow(/already batched/);
  });
});

/** Two separable blobs in 2-D; labels by side of a line. */
function blobs(n: number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * 2), y = new Int32Array(n);
  const rng = new ck.Rng(5);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    x[2 * i] = (c ? 1 : -1) + 0.3 * (rng.next() - 0.5);
    x[2 * i + 1] = (c ? -1 : 1) + 0.3 * (rng.next() - 0.5);
    y[i] = c;
  }
  return { x, y };
}

function tinyModel() {
  const m = ck.sequential([ck.layers.dense({ units: 2, inputShape: [2], seed: 3 } as never)]);
  m.compile({ optimizer: { name: 'sgd', lr: 0.5 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
  return m;
}

describe('fit on a StreamDataset', () => {
  it('converges like the same data in memory; the generator runs once per epoch; progress logs per epoch', async () => {
    const { x, y } = blobs(64);
    let opened = 0;
    const stream = ck.Dataset.generator(function* () {
      opened++;
      for (let i = 0; i < 64; i++) yield { x: x.subarray(2 * i, 2 * i + 2), y: y[i] };
    }, { sampleShape: [2] }).shuffle(64, 1).batch(16).prefetch(2);
    const ms = tinyModel(), mm = tinyModel();
    const hs = await ms.fit(stream, { epochs: 4, verbose: 0, seed: 1 });
    const hm = await mm.fit(new ck.Dataset({ x, y, sampleShape: [2] }), { epochs: 4, batchSize: 16, verbose: 0, seed: 1 });
    expect(opened).toBe(4);
    expect(hs.history.loss.length).toBe(4);
    expect(hs.last('loss')!).toBeLessThan(hs.history.loss[0]);
    expect(hs.last('accuracy')).toBe(1);
    expect(hm.last('accuracy')).toBe(1);
    expect(Math.abs(hs.last('loss')! - hm.last('loss')!)).toBeLessThan(0.1);
    // Validation on in-memory data beside a stream.
    const hv = await ms.fit(stream, { epochs: 1, verbose: 0, validationData: [ck.tensor(x, [64, 2]), ck.tensor(y, [64], 'int32')] });
    expect(hv.last('val_accuracy')).toBe(1);
    // A stream as validation data, and evaluate over a stream: the same numbers as in memory.
    const valStream = new ck.Dataset({ x, y, sampleShape: [2] }).toStream().batch(10);
    const hs2 = await ms.fit(stream, { epochs: 1, verbose: 0, validationData: valStream });
    const onStream = await ms.evaluate(valStream), inMemory = await ms.evaluate(new ck.Dataset({ x, y, sampleShape: [2] }));
    expect(hs2.last('val_loss')).toBeCloseTo(onStream.loss, 5);
    expect(onStream.loss).toBeCloseTo(inMemory.loss, 5);
    expect(onStream.accuracy).toBe(inMemory.accuracy);
    await expect(ms.evaluate(numbers(3) as never)).rejects.toThrow(/evaluate: a StreamDataset must be batched/);
  });

  it('a user-made batch stream (StreamDataset.batches) and Dataset.toStream train too; fit errors name the fix', async () => {
    const { x, y } = blobs(32);
    const batches = ck.StreamDataset.batches(function* () {
      for (let i = 0; i < 32; i += 8) yield { x: ck.tensor(x.slice(2 * i, 2 * i + 16), [8, 2]), y: ck.tensor(y.slice(i, i + 8), [8], 'int32') };
    });
    const m = tinyModel();
    const h = await m.fit(batches, { epochs: 3, verbose: 0 });
    expect(h.history.loss.length).toBe(3);
    const fromMem = new ck.Dataset({ x, y, sampleShape: [2] }).toStream().batch(8);
    expect((await m.fit(fromMem, { epochs: 1, verbose: 0 })).last('accuracy')).toBeGreaterThan(0.5);
    await expect(m.fit(numbers(4) as never, { epochs: 1, verbose: 0 })).rejects.toThrow(/must be batched to train on: call \.batch\(batchSize\)/);
    await expect(m.fit(fromMem, { epochs: 1, batchSize: 4, verbose: 0 })).rejects.toThrow(/batchSize does not apply to a StreamDataset/);
    await expect(m.fit(fromMem, { epochs: 1, validationSplit: 0.2, verbose: 0 })).rejects.toThrow(/validationSplit needs an in-memory data set/);
    await expect(m.fit(fromMem.take(0), { epochs: 1, verbose: 0 })).rejects.toThrow(/yielded no batches in epoch 1/);
    const wrong = ck.StreamDataset.generator(function* () {
      yield { x: [1, 2, 3], y: 0 };
    }).batch(1);
    await expect(m.fit(wrong, { epochs: 1, verbose: 0 })).rejects.toThrow();
  });
});

describe('streamIdx: IDX read incrementally', () => {
  const N = 300;
  const images = new Uint8Array(N * 4 * 3), labels = new Uint8Array(N);
  for (let i = 0; i < N; i++) {
    labels[i] = i % 10;
    for (let k = 0; k < 12; k++) images[i * 12 + k] = (i * 7 + k) % 256;
  }
  const imgFile = join(dir, 'imgs-idx3-ubyte.gz'), lblFile = join(dir, 'labels-idx1-ubyte');
  writeFileSync(imgFile, gzipSync(ck.encodeIdx({ dims: [N, 4, 3], type: 'uint8', data: images })));
  writeFileSync(lblFile, ck.encodeIdx({ dims: [N], type: 'uint8', data: labels }));

  it('yields every example in order (gzip and raw files), shape [rows, cols, 1], values scaled', async () => {
    const ds = await ck.streamIdx(imgFile, lblFile);
    const all = await ds.batch(64).toArray();
    expect(all.map((b) => b.size)).toEqual([64, 64, 64, 64, 44]);
    expect(all[0].sampleShape).toEqual([4, 3, 1]);
    const x = all.flatMap((b) => Array.from(b.x)), y = all.flatMap((b) => Array.from(b.y));
    expect(y).toEqual(Array.from(labels));
    expect(x.map((v) => Math.round(v * 255))).toEqual(Array.from(images));
    const first5 = await (await ck.streamIdx(imgFile, lblFile, { limit: 5, scale: 1 })).toArray();
    expect(first5.length).toBe(5);
    expect(Array.from(first5[1].x)).toEqual(Array.from(images.subarray(12, 24)));
  });

  it('errors: missing file, wrong magic, count mismatch, truncated data', async () => {
    await expect(ck.streamIdx(join(dir, 'none'), lblFile)).rejects.toThrow(/data file not found: .*none/);
    const bad = join(dir, 'bad');
    writeFileSync(bad, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    await expect(ck.streamIdx(bad, lblFile)).rejects.toThrow(/wrong magic number 01 02 03 04/);
    const few = join(dir, 'few');
    writeFileSync(few, ck.encodeIdx({ dims: [10], type: 'uint8', data: new Uint8Array(10) }));
    await expect(ck.streamIdx(imgFile, few)).rejects.toThrow(/10 labels for 300 images/);
    const cut = join(dir, 'cut');
    writeFileSync(cut, ck.encodeIdx({ dims: [N, 4, 3], type: 'uint8', data: images }).subarray(0, 16 + 12 * 10 + 5));
    await expect((await ck.streamIdx(cut, lblFile)).toArray()).rejects.toThrow(/declares 300 items, the file ends in item 10/);
  });
});
