/**
 * Fashion-MNIST end to end on a small slice: the real files when Debian's
 * dataset-fashion-mnist is installed, otherwise generated IDX files with learnable
 * classes written to a temporary folder (so the loader, the gzip path and training
 * are exercised either way).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as ck from '../../src/index.js';
import { encodeIdx, loadFashionMnist, FASHION_MNIST_CLASS_NAMES } from '../../src/data/index.js';
import { buildModel, DEFAULT_MODELS, heldOut } from '../../src/cli/training_run.js';

const REAL = '/usr/share/datasets/fashion-mnist';
// CONVKIT_TEST_GENERATED_FASHION=1 exercises the generated-files path on a machine that has the package.
const haveReal = !process.env.CONVKIT_TEST_GENERATED_FASHION && existsSync(join(REAL, 'train-images-idx3-ubyte.gz'));

/** Class k: a bright horizontal bar at rows 2k+4..2k+5 on faint noise. */
function generated(n: number, seed: number) {
  const rng = new ck.Rng(seed);
  const px = new Uint8Array(n * 784), labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 10;
    labels[i] = k;
    for (let p = 0; p < 784; p++) px[i * 784 + p] = rng.int(40);
    for (let r = 2 * k + 4; r < 2 * k + 6; r++) for (let c = 4; c < 24; c++) px[i * 784 + r * 28 + c] = 200 + rng.int(56);
  }
  return { images: gzipSync(encodeIdx({ dims: [n, 28, 28], data: px })), labels: gzipSync(encodeIdx({ dims: [n], data: labels })) };
}

describe(`Fashion-MNIST slice (${haveReal ? 'real files from dataset-fashion-mnist' : 'generated IDX files: dataset-fashion-mnist is not installed'})`, () => {
  it('loads the files and trains the default model past chance on a slice', async () => {
    let dir = REAL, tmp: string | null = null;
    if (!haveReal) {
      tmp = dir = mkdtempSync(join(tmpdir(), 'convkit-fashion-'));
      const tr = generated(2000, 1), te = generated(500, 2);
      writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), tr.images);
      writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), tr.labels);
      writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), te.images);
      writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), te.labels);
    }
    try {
      const { train, test } = await loadFashionMnist({ dir, limit: { train: 2000, test: 500 } });
      expect(train.length).toBe(2000);
      expect(test.length).toBe(500);
      expect(train.sampleShape).toEqual([28, 28, 1]);
      expect(train.classNames).toEqual([...FASHION_MNIST_CLASS_NAMES]);
      expect(Math.max(...train.x.subarray(0, 784 * 10))).toBeLessThanOrEqual(1);
      if (haveReal) {
        // The first training labels of Fashion-MNIST: ankle boot, T-shirt/top, T-shirt/top, dress.
        expect(Array.from(train.y.subarray(0, 4))).toEqual([9, 0, 0, 3]);
      }
      const prev = ck.getBackend();
      await ck.setBackend(ck.listBackends().includes('wasm') ? 'wasm' : 'ts');
      try {
        const preset = DEFAULT_MODELS['fashion-mnist'];
        const model = buildModel(preset.model, train, 1, preset.opts);
        model.compile({ optimizer: { name: 'adam', lr: preset.lr }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
        const h = await model.fit(train, { epochs: 2, batchSize: 32, verbose: 0, seed: 1 });
        expect(h.history.loss[1]).toBeLessThan(h.history.loss[0]);
        const { result, matrix } = await heldOut(model, test);
        expect(matrix.total).toBe(500);
        expect(result.accuracy).toBeGreaterThan(0.6); // chance is 0.1
      } finally {
        await ck.setBackend(prev);
      }
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
  });
});
