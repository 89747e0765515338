/**
 * MNIST and Fashion-MNIST from their four IDX files (gzip or raw):
 *   train-images-idx3-ubyte  train-labels-idx1-ubyte  t10k-images-idx3-ubyte  t10k-labels-idx1-ubyte
 * Images become [28, 28, 1] float32 in 0..1 (value / 255), labels class indices 0..9.
 * Nothing is downloaded: a missing file is reported with its path and where to get it.
 */
import { Dataset } from './dataset.js';
import { DataFormatError, DataNotFoundError } from './errors.js';
import { fileExists, type BytesSource } from './bytes.js';
import { readIdx, type IdxArray } from './idx.js';
import { describeValue } from '../tensor/describe.js';

export type MnistVariant = 'mnist' | 'fashion-mnist';

export const FASHION_MNIST_CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;
export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

/** Where each variant's files are looked for when no folder is given. */
export const DEFAULT_DIRS: Record<MnistVariant, string> = {
  'fashion-mnist': '/usr/share/datasets/fashion-mnist',
  mnist: 'data/mnist',
};

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
type Part = keyof typeof MNIST_FILES;

export function howToGet(variant: MnistVariant, dir: string): string {
  return variant === 'fashion-mnist'
    ? `Fashion-MNIST is packaged by Debian: 'apt-get install dataset-fashion-mnist' puts the four IDX files in ${DEFAULT_DIRS['fashion-mnist']}; ` +
        `or copy train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz ` +
        `from Zalando's fashion-mnist repository into ${dir} (or pass another folder). convkit downloads nothing at run time.`
    : `Put the four MNIST IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, ` +
        `t10k-labels-idx1-ubyte.gz, gzip or not) from the MNIST database in ${dir}, or pass the folder that holds them. ` +
        `convkit downloads nothing at run time.`;
}

export interface MnistOptions {
  variant?: MnistVariant;
  /** Folder holding the four files (default DEFAULT_DIRS[variant]). */
  dir?: string;
  /** Paths or bytes per file (browsers pass ArrayBuffers); overrides `dir`. */
  files?: Partial<Record<Part, BytesSource>>;
  /** Keep only the first N training / test images. */
  limit?: { train?: number; test?: number };
}

function joinPath(dir: string, file: string): string {
  return dir.endsWith('/') ? dir + file : `${dir}/${file}`;
}

/** The path of `base` in `dir`, gzip version preferred; a missing file names both tried paths. */
async function locate(dir: string, base: string, variant: MnistVariant): Promise<string> {
  const gz = joinPath(dir, `${base}.gz`), raw = joinPath(dir, base);
  if (await fileExists(gz)) return gz;
  if (await fileExists(raw)) return raw;
  throw new DataNotFoundError(gz, `(also looked for ${raw})\n${howToGet(variant, dir)}`);
}

async function readPart(opts: MnistOptions, part: Part, variant: MnistVariant, dir: string): Promise<{ arr: IdxArray; name: string }> {
  const given = opts.files?.[part];
  if (given !== undefined) {
    const name = typeof given === 'string' ? given : `<${MNIST_FILES[part]} bytes>`;
    return { arr: await readIdx(given, { name, hint: howToGet(variant, dir) }), name };
  }
  const path = await locate(dir, MNIST_FILES[part], variant);
  return { arr: await readIdx(path, { name: path }), name: path };
}

function toDataset(images: { arr: IdxArray; name: string }, labels: { arr: IdxArray; name: string }, variant: MnistVariant, split: string, limit?: number): Dataset {
  const im = images.arr, lb = labels.arr;
  if (im.type !== 'uint8' || im.dims.length !== 3) {
    throw new DataFormatError(images.name, `expected an image file (IDX ubyte, 3 dimensions [count, rows, columns]), found ${im.type} with dimensions [${im.dims.join(', ')}]`);
  }
  if (lb.type !== 'uint8' || lb.dims.length !== 1) {
    throw new DataFormatError(labels.name, `expected a label file (IDX ubyte, 1 dimension [count]), found ${lb.type} with dimensions [${lb.dims.join(', ')}]`);
  }
  const [n, h, w] = im.dims;
  if (lb.dims[0] !== n) {
    throw new DataFormatError(labels.name, `label/image count mismatch: ${lb.dims[0]} labels but ${images.name} has ${n} images`);
  }
  for (let i = 0; i < n; i++) {
    if (lb.data[i] > 9) throw new DataFormatError(labels.name, `label ${i} is ${lb.data[i]}, expected a class 0..9`);
  }
  const keep = Math.min(n, limit ?? n);
  const per = h * w;
  const x = new Float32Array(keep * per);
  for (let i = 0; i < keep * per; i++) x[i] = im.data[i] / 255;
  const classNames = variant === 'fashion-mnist' ? FASHION_MNIST_CLASS_NAMES : MNIST_CLASS_NAMES;
  return new Dataset({ x, sampleShape: [h, w, 1], y: Int32Array.from(lb.data.subarray(0, keep)), numClasses: 10, classNames, name: `${variant} (${split})` });
}

/**
 * `limit` is checked before any file is read: an object whose `train` and `test` are each
 * undefined or a non-negative integer (0 keeps no image). A negative, fractional or
 * non-number count, an unknown key or a bare number is an error saying what was received.
 */
function checkLimit(op: string, limit: unknown): void {
  if (limit === undefined) return;
  if (limit === null || typeof limit !== 'object' || Array.isArray(limit)) {
    const hint = typeof limit === 'number' ? ` (for both splits: { train: ${limit}, test: ${limit} })` : '';
    throw new TypeError(`${op}: limit must be an object { train?, test? } of image counts, received ${describeValue(limit)}${hint}`);
  }
  for (const [k, v] of Object.entries(limit)) {
    if (k !== 'train' && k !== 'test') throw new TypeError(`${op}: limit.${k} is not an option; limit takes train and test`);
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 0)) {
      throw new RangeError(`${op}: limit.${k} must be a non-negative integer (a number of images) or undefined, received ${describeValue(v)}`);
    }
  }
}

/** Load MNIST or Fashion-MNIST: `{ train, test }` Datasets of [28, 28, 1] images in 0..1. */
export async function loadMnist(opts: MnistOptions = {}): Promise<{ train: Dataset; test: Dataset }> {
  checkLimit(opts.variant === 'fashion-mnist' ? 'loadFashionMnist' : 'loadMnist', opts.limit);
  const variant = opts.variant ?? 'mnist';
  const dir = opts.dir ?? DEFAULT_DIRS[variant];
  const trainImages = await readPart(opts, 'trainImages', variant, dir);
  const trainLabels = await readPart(opts, 'trainLabels', variant, dir);
  const train = toDataset(trainImages, trainLabels, variant, 'train', opts.limit?.train);
  const testImages = await readPart(opts, 'testImages', variant, dir);
  const testLabels = await readPart(opts, 'testLabels', variant, dir);
  const test = toDataset(testImages, testLabels, variant, 'test', opts.limit?.test);
  return { train, test };
}

/** `loadMnist` with variant 'fashion-mnist' (default folder: Debian's dataset-fashion-mnist). */
export function loadFashionMnist(opts: Omit<MnistOptions, 'variant'> = {}): Promise<{ train: Dataset; test: Dataset }> {
  return loadMnist({ ...opts, variant: 'fashion-mnist' });
}
