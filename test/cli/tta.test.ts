/**
 * heldOut's test-time augmentation 'flip' (convkit train / evaluate --tta flip): each image and
 * its mirror image are classified and their softmax probabilities averaged. Checked against
 * the same average computed here from model.predict on the images and on flipLeftRight of them.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { heldOut, scoreLogits } from '../../src/cli/training_run.js';

describe('heldOut with tta flip', () => {
  it('averages the probabilities of each image and its mirror image; single views as without tta', async () => {
    const n = 40, h = 6, w = 5, c = 2;
    const x = new Float32Array(n * h * w * c).map((_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
    const y = Int32Array.from({ length: n }, (_, i) => i % 3);
    const ds = new ck.Dataset({ x, y, sampleShape: [h, w, c], numClasses: 3 });
    const model = ck.sequential([ck.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }), ck.layers.flatten(), ck.layers.dense({ units: 3 })], { inputShape: [h, w, c], seed: 3 });
    const none = await heldOut(model, ds, 16, 'none');
    const flip = await heldOut(model, ds, 16, 'flip');
    expect(none.result.tta).toBe('none');
    expect(flip.result.singleView).toEqual({ loss: none.result.loss, accuracy: none.result.accuracy });
    const xt = ck.tensor(x, [n, h, w, c]);
    const p = (t: ck.Tensor) => ck.softmax(model.predict(t), -1).dataSync() as Float32Array;
    const a = p(xt), b = p(ck.flipLeftRight(xt));
    const avgLog = a.map((v, i) => Math.log((v + b[i]) / 2));
    const want = scoreLogits(avgLog, n, 3, y);
    expect(flip.result.accuracy).toBe(want.accuracy);
    expect(flip.result.loss).toBeCloseTo(want.loss, 5);
    // the mirror matters: a model that is not symmetric scores the two views differently
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-3);
    let wantCounts = 0;
    for (let i = 0; i < n; i++) {
      const row = Array.from(avgLog.subarray(i * 3, i * 3 + 3));
      if (row.indexOf(Math.max(...row)) === y[i]) wantCounts++;
    }
    expect(flip.matrix.total).toBe(n);
    expect(flip.result.accuracy).toBeCloseTo(wantCounts / n, 12);
  });

  it('names a bad tta and samples that are not images', async () => {
    const flat = new ck.Dataset({ x: new Float32Array(8), y: Int32Array.from([0, 1]), sampleShape: [4], numClasses: 2 });
    const model = ck.sequential([ck.layers.dense({ units: 2 })], { inputShape: [4] });
    await expect(heldOut(model, flat, 8, 'flip')).rejects.toThrow(/tta 'flip' mirrors images \[height, width, channels\], and the samples have shape \[4\]/);
    await expect(heldOut(model, flat, 8, 'mirror' as never)).rejects.toThrow(/tta must be one of none, flip, received "mirror"/);
  });
});
