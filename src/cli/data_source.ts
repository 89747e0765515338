/**
 * The `--dataset` option of the CLI: a name (digits, mnist, fashion-mnist, semeion) or
 * a path (a folder of MNIST-format IDX files, a SEMEION .data file, or a digits CSV),
 * loaded as train and test Datasets. Sets without a test part of their own (digits,
 * SEMEION, a CSV) are split by class with a seed, so the same seed gives the same
 * held-out images in `train` and `evaluate`.
 */
import { Dataset } from '../data/dataset.js';
import { loadDigits, loadDigitsCsv } from '../data/digits.js';
import { loadMnist } from '../data/mnist.js';
import { loadSemeion } from '../data/semeion.js';
import { fileExists } from '../data/bytes.js';
import { UsageError } from './args.js';

export const DATASET_NAMES = ['digits', 'mnist', 'fashion-mnist', 'semeion'] as const;

export interface DataChoice {
  /** The --dataset value. */
  dataset: string;
  /** Folder of IDX files for mnist / fashion-mnist (default: the loader's). */
  dataDir?: string;
  /** Keep only the first N training / test samples. */
  limit?: number;
  testLimit?: number;
  /** Held-out fraction for sets without a test part (default 0.2). */
  testSplit?: number;
  /** Seed of that split (default 0). */
  splitSeed?: number;
}

export interface LoadedData {
  name: string;
  train: Dataset;
  test: Dataset;
  /** How the test part was made, for messages: 'official test set' or 'stratified 20% split (seed 0)'. */
  testKind: string;
}

async function isDirectory(path: string): Promise<boolean> {
  const fs = await import('node:fs');
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export async function loadData(c: DataChoice): Promise<LoadedData> {
  const testSplit = c.testSplit ?? 0.2;
  if (!(testSplit > 0 && testSplit < 1)) throw new UsageError(`--test-split must be in (0, 1), received ${testSplit}`);
  const seed = c.splitSeed ?? 0;
  const limit = (d: Dataset, n?: number) => (n !== undefined && n < d.length ? d.take(n) : d);
  const splitOwn = (all: Dataset, name: string): LoadedData => {
    const { train, test } = all.trainValTest({ test: testSplit, seed, stratify: true });
    return { name, train: limit(train, c.limit), test: limit(test, c.testLimit), testKind: `stratified ${Math.round(testSplit * 100)}% split (seed ${seed})` };
  };
  const ds = c.dataset;
  if (ds === 'digits') return splitOwn(await loadDigits(), 'digits');
  if (ds === 'mnist' || ds === 'fashion-mnist') {
    const { train, test } = await loadMnist({ variant: ds, dir: c.dataDir, limit: { train: c.limit, test: c.testLimit } });
    return { name: ds, train, test, testKind: 'official test set' };
  }
  if (ds === 'semeion') {
    const path = c.dataDir ? `${c.dataDir.replace(/\/$/, '')}/semeion.data` : 'semeion.data';
    return splitOwn(await loadSemeion(path), 'semeion');
  }
  // A path.
  if (await isDirectory(ds)) {
    const { train, test } = await loadMnist({ variant: 'mnist', dir: ds, limit: { train: c.limit, test: c.testLimit } });
    return { name: ds, train, test, testKind: 'official test set' };
  }
  if (!(await fileExists(ds))) {
    throw new UsageError(`--dataset '${ds}' is neither a known data set (${DATASET_NAMES.join(', ')}) nor an existing file or folder`);
  }
  if (/\.data(\.gz)?$/.test(ds)) return splitOwn(await loadSemeion(ds), ds);
  if (/\.csv(\.gz)?$/.test(ds)) return splitOwn(await loadDigitsCsv(ds), ds);
  throw new UsageError(`--dataset '${ds}': a file must be a SEMEION .data file or a digits .csv (a folder holds MNIST-format IDX files)`);
}
