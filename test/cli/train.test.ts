import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../util/cli.js';
import { encodePNG } from '../../src/vision/visualize.js';
import { loadDigits } from '../../src/data/digits.js';


let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convkit-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convkit train', () => {
  it('trains on a slice of the digits and prints one JSON result with --json', async () => {
    const r = await cli('train', '--limit', '300', '--test-limit', '100', '--epochs', '3', '--json', '--backend', 'wasm');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.length).toBe(1);
    const res = JSON.parse(lines[0]);
    expect(res).toMatchObject({ dataset: 'digits', model: 'smallCnn8', epochs: 3, epochsRun: 3, trainSamples: 300, testSamples: 100, saved: null });
    expect(['wasm', 'ts']).toContain(res.backend);
    for (const k of ['seconds', 'imagesPerSec']) expect(res[k]).toBeGreaterThan(0);
    for (const part of [res.train, res.test]) {
      expect(part.loss).toBeGreaterThan(0);
      expect(part.accuracy).toBeGreaterThanOrEqual(0);
      expect(part.accuracy).toBeLessThanOrEqual(1);
    }
    expect(res.test.accuracy).toBeGreaterThan(0.5); // ten classes: chance is 0.1
    expect(res.history.loss.length).toBe(3);
    // Progress went to stderr, as plain lines (not a terminal).
    expect(r.err).toMatch(/Epoch 3\/3/);
  });

  it('--plot DIR writes the training curves (with validation) and the confusion matrix as PNG and SVG', async () => {
    const plots = join(dir, 'plots', 'run1');
    const r = await cli('train', '--limit', '200', '--test-limit', '60', '--epochs', '2', '--validation-split', '0.2', '--plot', plots, '--json', '--backend', 'ts');
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out.trim());
    const names = ['loss', 'accuracy', 'confusion_matrix'].flatMap((n) => [`${n}.png`, `${n}.svg`]);
    expect(res.plots.map((p: string) => p.slice(plots.length + 1))).toEqual(names);
    const { decodePng } = await import('../../src/data/image.js');
    for (const n of ['loss', 'accuracy', 'confusion_matrix']) {
      const png = await decodePng(new Uint8Array(readFileSync(join(plots, `${n}.png`))));
      expect(png.width * png.height).toBeGreaterThan(100 * 100);
      const svg = readFileSync(join(plots, `${n}.svg`), 'utf8');
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    }
    expect(readFileSync(join(plots, 'loss.svg'), 'utf8')).toContain('>val_loss</text>');
    expect((await cli('train', '--plot', '')).err).toMatch(/--plot needs a folder/);
    writeFileSync(join(dir, 'a-file'), 'x');
    expect((await cli('train', '--plot', join(dir, 'a-file'), '--backend', 'ts')).err).toMatch(/--plot .*a-file is a file, not a folder/);
  });

  it('prints progress, held-out accuracy, a confusion matrix and where the model was saved', async () => {
    const save = join(dir, 'model');
    const r = await cli('train', '--limit', '200', '--epochs', '2', '--save', save, '--backend', 'ts', '--seed', '3');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/convkit train: digits, 200 training \/ 359 held-out images \(8x8x1, 10 classes/);
    expect(r.out).toMatch(/^Epoch 2\/2 .*loss \d\.\d{4}  accuracy \d\.\d{4}/m);
    expect(r.out).toMatch(/held-out accuracy \d+\.\d\d% \(loss \d\.\d{4}, top-5 \d+\.\d\d%\) on 359 images/);
    expect(r.out).toMatch(/^true\\pred +0 +1 +2/m);
    expect(r.out).toContain(`model saved to ${save}`);
    for (const f of ['model.json', 'weights.bin', 'training.json']) expect(existsSync(join(save, f))).toBe(true);
    const note = JSON.parse(readFileSync(join(save, 'training.json'), 'utf8'));
    expect(note).toMatchObject({ dataset: 'digits', testSplit: 0.2, splitSeed: 0, model: 'smallCnn8' });

    // evaluate: the same held-out split, the same accuracy.
    const acc = Number(/held-out accuracy (\d+\.\d\d)%/.exec(r.out)![1]);
    const ev = await cli('evaluate', save, '--json', '--backend', 'ts');
    expect(ev.code).toBe(0);
    const e = JSON.parse(ev.out);
    expect(e.samples).toBe(359);
    expect((100 * e.accuracy).toFixed(2)).toBe(acc.toFixed(2));
    expect(e.confusion.length).toBe(10);
    const evText = await cli('evaluate', '--model-dir', save, '--backend', 'ts');
    expect(evText.out).toMatch(/accuracy \d+\.\d\d%, top-5/);

    // predict: held-out images by index, and an image file.
    const p = await cli('predict', '--model-dir', save, '--index', '0,1', '--top-k', '3', '--json', '--backend', 'ts');
    expect(p.code).toBe(0);
    const preds = JSON.parse(p.out).predictions;
    expect(preds.length).toBe(2);
    expect(preds[0].top.length).toBe(3);
    expect(preds[0].top[0].probability).toBeGreaterThanOrEqual(preds[0].top[1].probability);
    const digits = await loadDigits();
    const px = Uint8Array.from(digits.x.subarray(0, 64), (v) => Math.round(v * 255));
    const png = join(dir, 'zero.png');
    writeFileSync(png, encodePNG({ width: 8, height: 8, channels: 1, pixels: px }));
    const pf = await cli('predict', png, '--model-dir', save, '--backend', 'ts');
    expect(pf.code).toBe(0);
    expect(pf.out).toMatch(new RegExp(`^${png.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\n  1\\. \\S+ +\\d+\\.\\d\\d%`));
  });
});

describe('convkit train on a SEMEION file', () => {
  it('reads a .data file, splits it by class and trains the 16x16 default with augmentation', async () => {
    // Class k: rows k..k+5 fully on.
    const lines: string[] = [];
    for (let i = 0; i < 120; i++) {
      const k = i % 10;
      const px = Array.from({ length: 256 }, (_, p) => (Math.floor(p / 16) >= k && Math.floor(p / 16) < k + 6 ? '1.0000' : '0.0000'));
      lines.push([...px, ...Array.from({ length: 10 }, (_, j) => (j === k ? '1' : '0'))].join(' '));
    }
    const f = join(dir, 'semeion.data');
    writeFileSync(f, lines.join('\n') + '\n');
    const r = await cli('train', '--dataset', f, '--epochs', '2', '--augment', '--json', '--backend', 'wasm', '--batch-size', '16');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out);
    expect(res).toMatchObject({ model: 'smallCnn28', trainSamples: 96, testSamples: 24, testKind: 'stratified 20% split (seed 0)' });
    expect(r.err).toMatch(/16x16x1, 10 classes/);
    expect(r.err).toMatch(/augmentation on/);
  });
});

describe('CLI usage and errors', () => {
  it('every command has --help', async () => {
    for (const c of ['train', 'evaluate', 'predict', 'bench']) {
      const r = await cli(c, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^usage: convkit ${c}`));
    }
    const top = await cli('--help');
    expect(top.out).toMatch(/train +train a CNN/);
  });

  it('rejects bad options with exit status 2 and the command help', async () => {
    const bad = await cli('train', '--optimizer', 'nadam');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--optimizer must be one of sgd, .*received 'nadam'/);
    expect((await cli('train', '--epochs', '0')).err).toMatch(/--epochs must be an integer >= 1, received '0'/);
    expect((await cli('train', '--frobnicate')).err).toMatch(/unknown option --frobnicate \(known options: --augment, --backend, /);
    expect((await cli('train', '--backend', 'cuda')).err).toMatch(/--backend must be one of ts, wasm, webgpu/);
    expect((await cli('predict', '--model-dir', dir)).err).toMatch(/give image files, or --index/);
  });

  it.skipIf(!existsSync('/usr/share/datasets/fashion-mnist'))("fashion-mnist's default recipe flips images at random; --no-augment turns it off; another model gets none", async () => {
    const base = ['train', '--dataset', 'fashion-mnist', '--limit', '256', '--test-limit', '64', '--epochs', '1', '--backend', 'wasm'];
    const on = await cli(...base);
    expect(on.code, on.err).toBe(0);
    expect(on.out).toContain('augmentation on (flipHorizontal)');
    // the preset's model: 16/32/64 filters, the third block kept at 7x7 (flatten 3,136 -> dense 128)
    expect(on.out).toContain('model smallCnn28 (426,234 trainable parameters)');
    const off = await cli(...base, '--no-augment');
    expect(off.code, off.err).toBe(0);
    expect(off.out).not.toContain('augmentation');
    const other = await cli(...base, '--model', 'smallCnn28');
    expect(other.code, other.err).toBe(0);
    expect(other.out).not.toContain('augmentation');
  });

  it('--label-smoothing trains with smoothed targets (said in the log), and is checked', async () => {
    const base = ['train', '--dataset', 'digits', '--limit', '300', '--test-limit', '100', '--epochs', '2', '--backend', 'ts', '--json'];
    const plain = await cli(...base);
    const smooth = await cli(...base, '--label-smoothing', '0.2');
    expect(smooth.code, smooth.err).toBe(0);
    expect(smooth.err).toContain('label smoothing 0.2');
    expect(plain.err).not.toContain('label smoothing');
    // the same seed and data: only the targets differ, so the training loss does
    const lp = JSON.parse(plain.out).train.loss, ls = JSON.parse(smooth.out).train.loss;
    expect(Number.isFinite(ls)).toBe(true);
    expect(ls).not.toBeCloseTo(lp, 3);
    for (const bad of ['1', '-0.1', 'x']) {
      const r = await cli('train', '--label-smoothing', bad);
      expect(r.code, bad).toBe(2);
      expect(r.err, bad).toMatch(/--label-smoothing must be a (number in \[0, 1\)|finite number), received/);
    }
  });

  it('--erasing adds random erasing to the augmentation (said in the log, changes training), and is checked', async () => {
    const base = ['train', '--dataset', 'digits', '--limit', '300', '--test-limit', '100', '--epochs', '2', '--backend', 'ts', '--json'];
    const plain = await cli(...base);
    const erased = await cli(...base, '--erasing', '0.5');
    expect(erased.code, erased.err).toBe(0);
    expect(erased.err).toContain('augmentation on (erasing 0.5)');
    expect(JSON.parse(erased.out).train.loss).not.toBeCloseTo(JSON.parse(plain.out).train.loss, 4);
    const none = await cli(...base, '--erasing', '0');
    expect(none.err).not.toContain('augmentation');
    expect(JSON.parse(none.out).train.loss).toBe(JSON.parse(plain.out).train.loss);
    for (const bad of ['1.5', '-0.1', 'x']) {
      const r = await cli('train', '--erasing', bad);
      expect(r.code, bad).toBe(2);
      expect(r.err, bad).toMatch(/--erasing must be a (probability in \[0, 1\]|finite number), received/);
    }
  });

  it('--weight-decay reaches the optimizer (said in the log, changes training) and is checked', async () => {
    const base = ['train', '--dataset', 'digits', '--limit', '300', '--test-limit', '100', '--epochs', '2', '--backend', 'ts', '--json', '--optimizer', 'adamw'];
    const plain = await cli(...base, '--weight-decay', '0');
    const decayed = await cli(...base, '--weight-decay', '0.5');
    expect(decayed.code, decayed.err).toBe(0);
    expect(decayed.err).toContain('adamw lr 0.003 weight decay 0.5');
    expect(JSON.parse(decayed.out).train.loss).not.toBeCloseTo(JSON.parse(plain.out).train.loss, 4);
    for (const bad of ['-1', 'x']) {
      const r = await cli('train', '--weight-decay', bad);
      expect(r.code, bad).toBe(2);
      expect(r.err, bad).toMatch(/--weight-decay must be a (number >= 0|finite number), received/);
    }
  });

  it('--tta flip scores the held-out images with their mirror images (single views reported too); evaluate reads it from training.json; bad values are usage errors', async () => {
    const save = join(dir, 'tta-model');
    const base = ['train', '--dataset', 'digits', '--limit', '300', '--test-limit', '100', '--epochs', '2', '--backend', 'ts', '--json'];
    const none = await cli(...base);
    const flip = await cli(...base, '--tta', 'flip', '--save', save);
    expect(flip.code, flip.err).toBe(0);
    expect(flip.err).toContain('tta flip');
    const a = JSON.parse(none.out).test, b = JSON.parse(flip.out).test;
    expect(a).toMatchObject({ tta: 'none' });
    expect(a.singleView).toBeUndefined();
    // the same seed and data train the same model: the single views are the plain evaluation
    expect(b.tta).toBe('flip');
    expect(b.singleView.accuracy).toBe(a.accuracy);
    expect(b.singleView.loss).toBeCloseTo(a.loss, 6);
    expect(b.loss).not.toBeCloseTo(a.loss, 6);
    expect(JSON.parse(readFileSync(join(save, 'training.json'), 'utf8')).tta).toBe('flip');
    const ev = await cli('evaluate', save, '--limit', '100', '--backend', 'ts', '--json');
    expect(ev.code, ev.err).toBe(0);
    expect(JSON.parse(ev.out)).toMatchObject({ tta: 'flip', accuracy: b.accuracy, singleView: { accuracy: a.accuracy } });
    const ev1 = await cli('evaluate', save, '--limit', '100', '--backend', 'ts', '--json', '--tta', 'none');
    expect(JSON.parse(ev1.out)).toMatchObject({ tta: 'none', accuracy: a.accuracy });
    const text = await cli('evaluate', save, '--limit', '100', '--backend', 'ts');
    expect(text.out).toMatch(/single views: accuracy \d+\.\d\d%/);
    for (const cmd of ['train', 'evaluate']) {
      const r = await cli(cmd, '--tta', 'mirror');
      expect(r.code).toBe(2);
      expect(r.err).toContain("--tta must be one of none, flip, received 'mirror'");
    }
  });

  it('a missing data set names the path and how to get it (exit status 1)', async () => {
    const r = await cli('train', '--dataset', 'fashion-mnist', '--data-dir', join(dir, 'none'), '--backend', 'ts');
    expect(r.code).toBe(1);
    expect(r.err).toContain(join(dir, 'none', 'train-images-idx3-ubyte.gz'));
    expect(r.err).toContain('dataset-fashion-mnist');
    const p = await cli('train', '--dataset', join(dir, 'nope.data'), '--backend', 'ts');
    expect(p.code).toBe(2);
    expect(p.err).toMatch(/is neither a known data set .* nor an existing file or folder/);
  });

  it('a corrupt data file is reported with its name and the problem', async () => {
    const d = join(dir, 'corrupt');
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d);
    writeFileSync(join(d, 'train-images-idx3-ubyte'), Buffer.from('not an idx file at all'));
    const r = await cli('train', '--dataset', d, '--backend', 'ts');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`${join(d, 'train-images-idx3-ubyte').replace(/[/.]/g, '\\$&')}: wrong magic number 6e 6f 74 20`));
  });
});
