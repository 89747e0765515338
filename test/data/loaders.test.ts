import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  parseIdx, encodeIdx, readIdx, loadMnist, loadFashionMnist, DataFormatError, DataNotFoundError,
  loadDigits, parseDigitsCsv, loadDigitsCsv, parseSemeion, loadSemeion, base64ToBytes,
} from '../../src/data/index.js';
import { decompressWithStreams } from '../../src/data/bytes.js';
import { decodeDigits, encodeDigits } from '../../src/data/digits_codec.js';
import fc from 'fast-check';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convkit-data-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** n images of h x w whose pixel (i, r, c) = (i * 7 + r * 3 + c) % 256, labels i % 10. */
function makeIdxPair(n: number, h = 4, w = 5) {
  const px = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) px[(i * h + r) * w + c] = (i * 7 + r * 3 + c) % 256;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return { images: encodeIdx({ dims: [n, h, w], data: px }), labels: encodeIdx({ dims: [n], data: labels }), px, labelValues: labels };
}

function writeSet(sub: string, n: number, nTest: number, gz: boolean) {
  const d = join(dir, sub);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  const tr = makeIdxPair(n), te = makeIdxPair(nTest);
  const put = (name: string, b: Uint8Array) => writeFileSync(join(d, gz ? `${name}.gz` : name), gz ? gzipSync(b) : b);
  put('train-images-idx3-ubyte', tr.images);
  put('train-labels-idx1-ubyte', tr.labels);
  put('t10k-images-idx3-ubyte', te.images);
  put('t10k-labels-idx1-ubyte', te.labels);
  return { d, tr, te };
}

describe('IDX parser', () => {
  it('round-trips every element type with big-endian values', () => {
    const cases = [
      { type: 'uint8', data: [0, 1, 255, 128, 7, 9] },
      { type: 'int8', data: [-128, -1, 0, 1, 127, 5] },
      { type: 'int16', data: [-32768, -2, 0, 300, 32767, 1] },
      { type: 'int32', data: [-(2 ** 31), -70000, 0, 70000, 2 ** 31 - 1, 3] },
      { type: 'float32', data: [-1.5, 0, 0.25, 3.5, 1e6, -2] },
      { type: 'float64', data: [Math.PI, -Math.E, 0, 1e-300, 1e300, 2] },
    ] as const;
    for (const c of cases) {
      const bytes = encodeIdx({ dims: [2, 3], type: c.type, data: c.data });
      const a = parseIdx(bytes, 'x.idx');
      expect(a.type).toBe(c.type);
      expect(a.dims).toEqual([2, 3]);
      expect(Array.from(a.data)).toEqual([...c.data]);
    }
    // a Node Buffer inside a larger pool (readFileSync, Buffer.from) reads the same, as a copy
    for (const c of cases) {
      const bytes = encodeIdx({ dims: [2, 3], type: c.type, data: c.data });
      const pool = Buffer.alloc(bytes.length + 11, 0xee);
      pool.set(bytes, 5);
      const a = parseIdx(pool.subarray(5, 5 + bytes.length), 'x.idx');
      pool.fill(0);
      expect(Array.from(a.data)).toEqual([...c.data]);
    }
    // Header bytes are exactly the documented format: 00 00 08 03, then big-endian sizes.
    const h = encodeIdx({ dims: [1, 2, 258], data: new Uint8Array(516) });
    expect(Array.from(h.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 1, 2]);
  });

  it('names the file and the problem for a wrong magic number', () => {
    const bad = encodeIdx({ dims: [2], data: [1, 2] });
    bad[0] = 0x50; // 'P' like a PNG or text file
    expect(() => parseIdx(bad, '/data/x-idx1-ubyte')).toThrow(DataFormatError);
    expect(() => parseIdx(bad, '/data/x-idx1-ubyte')).toThrow(/^\/data\/x-idx1-ubyte: wrong magic number 50 00 08 01/);
    const badType = encodeIdx({ dims: [2], data: [1, 2] });
    badType[2] = 0x0a;
    expect(() => parseIdx(badType, 'f')).toThrow(/f: wrong magic number: unknown IDX element type 0x0a/);
  });

  it('reports truncated headers and data, and trailing bytes', () => {
    const good = encodeIdx({ dims: [3, 2, 2], data: new Uint8Array(12).fill(1) });
    expect(() => parseIdx(good.subarray(0, 3), 'a')).toThrow(/a: truncated: 3 bytes, too short/);
    expect(() => parseIdx(good.subarray(0, 10), 'b')).toThrow(/b: truncated: the header declares 3 dimensions \(16 bytes\) but the file has 10 bytes/);
    expect(() => parseIdx(good.subarray(0, good.length - 5), 'c')).toThrow(/c: truncated: the header declares dimensions \[3, 2, 2\] \(12 uint8 values, 28 bytes in all\) but the file has 23 bytes \(7 values\)/);
    const longer = new Uint8Array(good.length + 2);
    longer.set(good);
    expect(() => parseIdx(longer, 'd')).toThrow(/d: 2 unexpected bytes after the 12 values/);
  });
});

describe('MNIST-format loader', () => {
  for (const gz of [false, true]) {
    it(`loads generated ${gz ? 'gzip' : 'raw'} IDX files, scaling pixels to 0..1`, async () => {
      const { d, tr, te } = writeSet(gz ? 'gz' : 'raw', 12, 5, gz);
      const { train, test } = await loadMnist({ dir: d });
      expect(train.length).toBe(12);
      expect(test.length).toBe(5);
      expect(train.sampleShape).toEqual([4, 5, 1]);
      expect(Array.from(train.y)).toEqual(Array.from(tr.labelValues));
      expect(Array.from(test.y)).toEqual(Array.from(te.labelValues));
      for (let i = 0; i < tr.px.length; i++) expect(train.x[i]).toBeCloseTo(tr.px[i] / 255, 7);
      const limited = await loadMnist({ dir: d, limit: { train: 3, test: 2 } });
      expect(limited.train.length).toBe(3);
      expect(limited.test.length).toBe(2);
    });
  }

  it('accepts bytes instead of paths (browsers)', async () => {
    const p = makeIdxPair(4), q = makeIdxPair(2);
    const { train, test } = await loadMnist({
      files: { trainImages: gzipSync(p.images), trainLabels: p.labels.buffer, testImages: q.images, testLabels: q.labels },
    });
    expect(train.length).toBe(4);
    expect(test.length).toBe(2);
  });

  it('reports a label/image count mismatch naming both files', async () => {
    const d = join(dir, 'mismatch');
    mkdirSync(d, { recursive: true });
    const a = makeIdxPair(6), b = makeIdxPair(5);
    writeFileSync(join(d, 'train-images-idx3-ubyte'), a.images);
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), b.labels);
    writeFileSync(join(d, 't10k-images-idx3-ubyte'), a.images);
    writeFileSync(join(d, 't10k-labels-idx1-ubyte'), a.labels);
    const err = await loadMnist({ dir: d }).catch((e) => e);
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(join(d, 'train-labels-idx1-ubyte'));
    expect(err.message).toMatch(/label\/image count mismatch: 5 labels but .*train-images-idx3-ubyte has 6 images/);
  });

  it('reports a truncated gzip file and an image file given as labels', async () => {
    const d = join(dir, 'trunc');
    mkdirSync(d, { recursive: true });
    const a = makeIdxPair(6);
    const gz = gzipSync(a.images);
    writeFileSync(join(d, 'train-images-idx3-ubyte.gz'), gz.subarray(0, gz.length - 20));
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), a.labels);
    const err = await loadMnist({ dir: d }).catch((e) => e);
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toContain(join(d, 'train-images-idx3-ubyte.gz'));
    expect(err.message).toMatch(/not a valid gzip stream/);
    const swapped = await loadMnist({ files: { trainImages: a.labels, trainLabels: a.labels, testImages: a.images, testLabels: a.labels } }).catch((e) => e);
    expect(swapped.message).toMatch(/expected an image file \(IDX ubyte, 3 dimensions/);
    const truncatedRaw = await readIdx(a.images.subarray(0, 40), { name: 'raw-file' }).catch((e) => e);
    expect(truncatedRaw.message).toMatch(/^raw-file: truncated/);
  });

  it('checks limit before reading anything: non-negative integers per split, naming what was received (issue 13, part 11)', async () => {
    const p = makeIdxPair(4), q = makeIdxPair(2);
    const files = { trainImages: p.images, trainLabels: p.labels, testImages: q.images, testLabels: q.labels };
    const bad: [unknown, RegExp][] = [
      [{ train: -5 }, /^loadMnist: limit.train must be a non-negative integer \(a number of images\) or undefined, received the number -5$/],
      [{ test: 1.5 }, /^loadMnist: limit.test must be a non-negative integer .*received the number 1.5$/],
      [{ train: NaN }, /^loadMnist: limit.train must be a non-negative integer .*received the number NaN$/],
      [{ train: '10' }, /^loadMnist: limit.train must be a non-negative integer .*received the string "10"$/],
      [{ training: 10 }, /^loadMnist: limit.training is not an option; limit takes train and test$/],
      [100, /^loadMnist: limit must be an object \{ train\?, test\? \} of image counts, received the number 100 \(for both splits: \{ train: 100, test: 100 \}\)$/],
      [null, /^loadMnist: limit must be an object .*received null$/],
    ];
    for (const [limit, re] of bad) {
      const err = await loadMnist({ files, limit: limit as never }).catch((e) => e);
      expect(err, JSON.stringify(limit)).toBeInstanceOf(Error);
      expect(err.message).toMatch(re);
    }
    // Checked before the files: a missing folder is not what gets reported.
    const early = await loadFashionMnist({ dir: join(dir, 'does-not-exist'), limit: { train: -1 } }).catch((e) => e);
    expect(early).toBeInstanceOf(RangeError);
    expect(early.message).toMatch(/^loadFashionMnist: limit.train must be a non-negative integer/);
    const ok = await loadMnist({ files, limit: { train: 0, test: undefined } });
    expect(ok.train.length).toBe(0);
    expect(ok.test.length).toBe(2);
  });

  it('the other loaders name a missing or wrong source instead of reading it as an empty file', async () => {
    await expect(loadSemeion(undefined as never)).rejects.toThrow(/^loadSemeion: expected a file path \(string\), an ArrayBuffer or a typed array, received undefined$/);
    await expect(loadDigitsCsv(null as never)).rejects.toThrow(/^loadDigitsCsv: expected a file path .*received null$/);
    await expect(readIdx(42 as never)).rejects.toThrow(/^readIdx: expected a file path .*received the number 42$/);
    expect(() => parseIdx(null as never)).toThrow(/^parseIdx: bytes must be a Uint8Array \(decompressed IDX bytes\), received null$/);
    expect(() => parseSemeion(undefined as never)).toThrow(/^parseSemeion: text must be a string/);
    expect(() => parseDigitsCsv(new Uint8Array(2) as never)).toThrow(/^parseDigitsCsv: text must be a string \(the CSV contents\), received a Uint8Array$/);
  });

  it('says which file is missing and how to get it (Fashion-MNIST: the Debian package)', async () => {
    const d = join(dir, 'empty');
    mkdirSync(d, { recursive: true });
    const err = await loadFashionMnist({ dir: d }).catch((e) => e);
    expect(err).toBeInstanceOf(DataNotFoundError);
    expect(err.message).toContain(join(d, 'train-images-idx3-ubyte.gz'));
    expect(err.message).toContain(join(d, 'train-images-idx3-ubyte'));
    expect(err.message).toContain('dataset-fashion-mnist');
    const m = await loadMnist({ dir: d }).catch((e) => e);
    expect(m).toBeInstanceOf(DataNotFoundError);
    expect(m.message).toMatch(/downloads nothing/);
  });
});

describe('browser decompression path (DecompressionStream)', () => {
  it('gunzips like node:zlib and reports a truncated stream with the file name', async () => {
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) % 251);
    const gz = gzipSync(data);
    expect(Array.from(await decompressWithStreams(gz, 'gzip', 'x.gz'))).toEqual(Array.from(data));
    await expect(decompressWithStreams(gz.subarray(0, gz.length - 30), 'gzip', 'x.gz')).rejects.toThrow(/^x.gz: not a valid gzip stream/);
  });
});

describe('UCI 8x8 digits (embedded)', () => {
  it('has 1,797 images of [8, 8, 1] in 0..1 and labels 0..9 matching the shipped CSV', async () => {
    const ds = await loadDigits();
    expect(ds.length).toBe(1797);
    expect(ds.sampleShape).toEqual([8, 8, 1]);
    expect(ds.numClasses).toBe(10);
    expect(Math.min(...ds.x)).toBe(0);
    expect(Math.max(...ds.x)).toBe(1);
    // Class counts of scikit-learn's digits (load_digits().target bincount).
    expect(ds.classCounts()).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    const csv = await loadDigitsCsv('datasets/digits.csv.gz');
    expect(Array.from(csv.y)).toEqual(Array.from(ds.y));
    expect(Array.from(csv.x)).toEqual(Array.from(ds.x));
    // First image of the set, row 0: 0 0 5 13 9 1 0 0.
    expect(Array.from(ds.x.subarray(0, 8)).map((v) => v * 16)).toEqual([0, 0, 5, 13, 9, 1, 0, 0]);
  });

  it('its arithmetic code (digits_codec) decodes to what it encoded, for any images and labels', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom(0, 0.3, 0.9), (n, seed, zeros) => {
      let s = seed;
      const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const pixels = Uint8Array.from({ length: n * 64 }, () => (next() < zeros ? 0 : Math.floor(next() * 17)));
      const labels = Uint8Array.from({ length: n }, () => Math.floor(next() * 10));
      const back = decodeDigits(encodeDigits(pixels, labels), n);
      expect(Array.from(back.pixels)).toEqual(Array.from(pixels));
      expect(Array.from(back.labels)).toEqual(Array.from(labels));
    }), { numRuns: 60 });
    // all 16s (the most skewed counts the model reaches) and all zeros
    for (const v of [0, 16]) {
      const pixels = new Uint8Array(300 * 64).fill(v), labels = new Uint8Array(300).fill(9);
      expect(decodeDigits(encodeDigits(pixels, labels), 300).pixels.every((x) => x === v)).toBe(true);
    }
    expect(() => encodeDigits(new Uint8Array(64).fill(17), new Uint8Array(1))).toThrow(/pixel 0 of image 0 is 17, expected 0..16/);
    expect(() => encodeDigits(new Uint8Array(64), Uint8Array.of(10))).toThrow(/label 0 is 10, expected 0..9/);
    expect(() => encodeDigits(new Uint8Array(63), new Uint8Array(1))).toThrow(/63 pixel values for 1 labels, expected 64/);
  });

  it('rejects malformed CSV lines with the line number', () => {
    expect(() => parseDigitsCsv('1,2,3\n', 'd.csv')).toThrow(/d.csv: line 1: 3 fields, expected 65/);
    const line = [...new Array(64).fill(0), 12].join(',');
    expect(() => parseDigitsCsv(line, 'd.csv')).toThrow(/line 1: label '12' is not a digit/);
  });

  it('decodes base64 like the standard', () => {
    expect(Array.from(base64ToBytes('AAEC/w=='))).toEqual([0, 1, 2, 255]);
    expect(new TextDecoder().decode(base64ToBytes(Buffer.from('convkit!?').toString('base64')))).toBe('convkit!?');
  });
});

describe('SEMEION parser', () => {
  const line = (pixels: number[], label: number) => [...pixels.map((p) => p.toFixed(4)), ...Array.from({ length: 10 }, (_, k) => (k === label ? '1' : '0'))].join(' ');
  it('parses 256 pixels and a one-hot label per line', async () => {
    const a = Array.from({ length: 256 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const b = Array.from({ length: 256 }, (_, i) => (i < 16 ? 1 : 0));
    const text = `${line(a, 3)} \n${line(b, 9)}\n`;
    const ds = parseSemeion(text, 'semeion.data');
    expect(ds.length).toBe(2);
    expect(ds.sampleShape).toEqual([16, 16, 1]);
    expect(Array.from(ds.y)).toEqual([3, 9]);
    expect(Array.from(ds.x.subarray(0, 256))).toEqual(a);
    expect(Array.from(ds.x.subarray(256, 512))).toEqual(b);
    const f = join(dir, 'semeion.data');
    writeFileSync(f, text);
    expect(Array.from((await loadSemeion(f)).y)).toEqual([3, 9]);
  });
  it('rejects wrong field counts and labels that are not one-hot, naming file and line', () => {
    const a = new Array(256).fill(0);
    expect(() => parseSemeion(`${line(a, 1)}\n1 2 3`, 's.data')).toThrow(/s.data: line 2: 3 values, expected 266/);
    const twoHot = line(a, 1).replace(/ 0 0 0 0 0 0 0 0$/, ' 1 0 0 0 0 0 0 0');
    expect(() => parseSemeion(twoHot, 's.data')).toThrow(/s.data: line 1: the class part is not one-hot \(classes 1 and 2/);
    const none = [...a.map(String), ...new Array(10).fill('0')].join(' ');
    expect(() => parseSemeion(none, 's.data')).toThrow(/not one-hot \(all 10 values are 0\)/);
    expect(() => parseSemeion('', 's.data')).toThrow(/s.data: is empty/);
  });
  it('names the missing file', async () => {
    const err = await loadSemeion(join(dir, 'nope', 'semeion.data')).catch((e) => e);
    expect(err).toBeInstanceOf(DataNotFoundError);
    expect(err.message).toContain(join(dir, 'nope', 'semeion.data'));
    expect(err.message).toMatch(/UCI/);
  });
});
