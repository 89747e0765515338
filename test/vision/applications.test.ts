import { describe, expect, it } from 'vitest';
import { inflateSync } from 'node:zlib';
import * as ck from '../../src/index.js';
import { expectClose } from '../util/close.js';

describe('object localisation and detection', () => {
  it('encodes a localisation target [p_c, b_x, b_y, b_h, b_w, classes]', () => {
    expectClose(ck.vision.localizationTarget({ box: [0.2, 0.4, 0.6, 0.8], classId: 1 }, 3), [1, 0.4, 0.6, 0.4, 0.4, 0, 1, 0], { atol: 1e-12 });
    expect(ck.vision.localizationTarget(null, 2)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(() => ck.vision.localizationTarget({ box: [0, 0, 1, 1], classId: 3 }, 3)).toThrow(/classId 3 is not in \[0, 3\)/);
    expect(ck.vision.landmarkTarget([[0.1, 0.2], [0.3, 0.4]])).toEqual([0.1, 0.2, 0.3, 0.4]);
  });

  it('builds YOLO grid targets: centre cell, best anchor by shape IoU, cell-relative box', () => {
    // 3x3 grid, 2 anchors (wide, tall), 3 classes: 3 x 3 x 2 x 8.
    const cfg = { gridSize: 3, anchors: [[0.4, 0.2], [0.2, 0.4]] as [number, number][], numClasses: 3 };
    const wide = { box: [0.1, 0.1, 0.5, 0.3] as const, classId: 2 }; // centre (0.3, 0.2): row 0, col 0
    const tall = { box: [0.7, 0.5, 0.9, 0.9] as const, classId: 0 }; // centre (0.8, 0.7): row 2, col 2
    const { target, dropped } = ck.vision.yoloTargets([wide, tall], cfg);
    expect(target.shape).toEqual([3, 3, 2, 8]);
    expect(dropped).toEqual([]);
    const t = target.arraySync() as number[][][][];
    expectClose(t[0][0][0], [1, 0.9, 0.6, 0.6, 1.2, 0, 0, 1], { atol: 1e-6 });
    expect(t[0][0][1][0]).toBe(0);
    expectClose(t[2][2][1], [1, 0.4, 0.1, 1.2, 0.6, 1, 0, 0], { atol: 1e-6 });
    expect(ck.sum(target).item()).toBeCloseTo(1 + 0.9 + 0.6 + 0.6 + 1.2 + 1 + 1 + 0.4 + 0.1 + 1.2 + 0.6 + 1, 5);
    // A second object for the same (cell, anchor) slot is reported, not silently merged.
    expect(ck.vision.yoloTargets([wide, wide], cfg).dropped).toEqual([1]);
  });

  it('decodes predictions with the 0.6 score threshold and per-class NMS', () => {
    const cfg = { gridSize: 2, anchors: [[0.5, 0.5]] as [number, number][], numClasses: 2 };
    const D = 7;
    const p = new Float32Array(2 * 2 * 1 * D);
    const put = (row: number, col: number, v: number[]) => p.set(v, (row * 2 + col) * D);
    put(0, 0, [0.9, 0.5, 0.5, 2, 2, 1, 0]); // centre (0.25, 0.25), size 1: class 0, score 0.9
    put(0, 1, [0.8, 0.0, 0.5, 2, 2, 1, 0]); // centre (0.5, 0.25): IoU 0.6 with the first, class 0 -> suppressed
    put(1, 0, [0.7, 0.9, 0.5, 1, 1, 0, 1]); // same place, class 1 -> kept (other class)
    put(1, 1, [0.5, 0.5, 0.5, 1, 1, 1, 0]); // score 0.5 < 0.6 -> dropped
    const dets = ck.vision.decodeYolo(ck.tensor(p, [2, 2, 1, D]), cfg);
    expect(dets.map((d) => [d.classId, Number(d.score.toFixed(3))])).toEqual([[0, 0.9], [1, 0.7]]);
    expectClose(dets[0].box as number[], [-0.25, -0.25, 0.75, 0.75], { atol: 1e-6 });
  });

  it('runs a dense classifier over all windows at once as a convolution', () => {
    // Classifier on 3x3x2 windows: flatten -> dense(4). Image 5x6x2, stride 1 -> 3x4 positions.
    const W = ck.randomNormal([18, 4], { seed: 1, dtype: 'float64' });
    const img = ck.randomNormal([1, 5, 6, 2], { seed: 2, dtype: 'float64' });
    const conv = ck.conv2d(img, ck.vision.denseToConvFilter(W, 3, 3, 2));
    expect(conv.shape).toEqual([1, 3, 4, 4]);
    const windows = ck.vision.slidingWindows(5, 6, 3, 1);
    expect(windows.length).toBe(12);
    windows.forEach((win, k) => {
      const crop = ck.slice(img, [0, win.top, win.left, 0], [1, 3, 3, 2]);
      const dense = ck.matmul(ck.reshape(crop, [1, 18]), W);
      expectClose(ck.slice(conv, [0, Math.floor(k / 4), k % 4, 0], [1, 1, 1, 4]).reshape([1, 4]), dense, { atol: 1e-12 });
    });
    expect(() => ck.vision.denseToConvFilter(W, 3, 3, 3)).toThrow(/must have shape \[27, units\]/);
  });
});

describe('face verification and recognition', () => {
  const enc = ck.tensor([[0, 0], [0.1, 0], [3, 4], [3, 4.2]]);
  it('verifies pairs by squared distance against a threshold', () => {
    const a = ck.slice(enc, [0, 0], [2, 2]), b = ck.slice(enc, [2, 0], [2, 2]);
    expectClose(ck.vision.squaredDistance(a, b), [25, 26.05], { atol: 1e-4 });
    expect(ck.vision.verifyPairs(enc.slice([0, 0], [1, 2]), enc.slice([1, 0], [1, 2]), 0.5)).toEqual([true]);
    expect(ck.vision.verifyPairs(enc.slice([0, 0], [1, 2]), enc.slice([2, 0], [1, 2]), 0.5)).toEqual([false]);
  });
  it('identifies against a database of K people (1:K) and refuses strangers', () => {
    const db = new ck.vision.FaceDatabase(2);
    db.add('ada', ck.tensor([0, 0]));
    db.add('bob', ck.tensor([3, 4]));
    expect(db.identify(ck.tensor([0.2, 0.1]), 0.5)).toEqual({ name: 'ada', distance: expect.closeTo(0.05, 6) });
    expect(db.identify(ck.tensor([10, 10]), 0.5).name).toBeNull();
    expect(() => db.add('eve', ck.tensor([1, 2, 3]))).toThrow(/expected 2 values/);
  });
  it('selects hardest positives and negatives', () => {
    const e = ck.tensor([[0, 0], [1, 0], [5, 0], [1.5, 0], [9, 0]]);
    const labels = [0, 0, 0, 1, 1];
    const t = ck.vision.hardTriplets(e, labels);
    expect(t[0]).toEqual({ anchor: 0, positive: 2, negative: 3 });
    expect(t.find((x) => x.anchor === 3)).toEqual({ anchor: 3, positive: 4, negative: 1 });
  });
  it('builds |f(a) - f(b)| and chi-square pair features and the logistic head', () => {
    const a = ck.tensor([[1, 2]]), b = ck.tensor([[3, 2]]);
    expectClose(ck.vision.pairFeatures(a, b), [2, 0]);
    expectClose(ck.vision.pairFeatures(a, b, 'chiSquare'), [1, 0], { atol: 1e-6 });
    const p = ck.vision.samePersonProbability(ck.vision.pairFeatures(a, b), ck.tensor([1, 1]), -2);
    expectClose(p, [0.5]);
  });
});

describe('neural style transfer', () => {
  it('lowers J = alpha J_content + beta J_style by gradient descent on the pixels', () => {
    const w1 = ck.randomNormal([3, 3, 3, 4], { seed: 3, std: 0.5 });
    const w2 = ck.randomNormal([3, 3, 4, 6], { seed: 4, std: 0.3 });
    const extract = (x: ck.Tensor) => {
      const a1 = ck.relu(ck.conv2d(x, w1, { padding: 'same' }));
      const a2 = ck.relu(ck.conv2d(ck.maxPool2d(a1, { size: 2 }), w2, { padding: 'same' }));
      return [a1, a2];
    };
    const content = ck.randomUniform([1, 8, 8, 3], { seed: 5 });
    const style = ck.randomUniform([1, 8, 8, 3], { seed: 6 });
    const { image, history } = ck.vision.styleTransfer(content, style, {
      extract, contentLayer: 1, styleLayers: [{ index: 0, weight: 0.5 }, { index: 1, weight: 0.5 }], steps: 30, lr: 0.05, seed: 1,
    });
    expect(image.shape).toEqual([1, 8, 8, 3]);
    expect(history[history.length - 1]).toBeLessThan(history[0] * 0.7);
    const px = image.dataSync();
    expect(Math.min(...px)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...px)).toBeLessThanOrEqual(1);
    expect(() => ck.vision.styleTransfer(content, ck.zeros([1, 4, 4, 3]), { extract, contentLayer: 0, styleLayers: [] })).toThrow(/expected the content's shape/);
  });
});

describe('visualising feature maps and filters', () => {
  it('tiles each channel of an activation and writes a valid PNG', () => {
    const act = ck.reshape(ck.arange(2 * 3 * 4), [1, 2, 3, 4]);
    const img = ck.vision.featureMapGrid(act, { cols: 2, pad: 1 });
    expect([img.width, img.height, img.channels]).toEqual([7, 5, 1]);
    // Channel 0 has values 0, 4, 8, ... so its tile goes 0 -> 255 left to right, top to bottom.
    expect(img.pixels[0]).toBe(0);
    expect(img.pixels[1 * 7 + 2]).toBe(255);
    const png = ck.vision.encodePNG(img);
    expect(Array.from(png.slice(1, 4), (c) => String.fromCharCode(c)).join('')).toBe('PNG');
    // IDAT decompresses to filter byte + row for every row.
    const idatStart = 8 + 25 + 8;
    const len = new DataView(png.buffer).getUint32(8 + 25);
    const raw = inflateSync(png.subarray(idatStart, idatStart + len));
    expect(raw.length).toBe(5 * (1 + 7));
    expect(Array.from(raw.subarray(1, 8))).toEqual(Array.from(img.pixels.subarray(0, 7)));
  });
  it('shows first-layer filters in colour and deeper ones averaged over inputs', () => {
    const rgb = ck.vision.filterGrid(ck.randomNormal([5, 5, 3, 6], { seed: 1 }));
    expect([rgb.width, rgb.height, rgb.channels]).toEqual([3 * 5 + 2, 2 * 5 + 1, 3]);
    const grey = ck.vision.filterGrid(ck.randomNormal([3, 3, 8, 4], { seed: 1 }));
    expect(grey.channels).toBe(1);
    expect(() => ck.vision.filterGrid(ck.zeros([3, 3]))).toThrow(/\[KH, KW, Cin, F\]/);
  });
  it('shows the feature maps of a model layer by layer', () => {
    const m = ck.sequential([ck.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'c1' }), ck.layers.maxPooling2d({ poolSize: 2, name: 'p1' })], { inputShape: [8, 8, 1], seed: 1 });
    const x = ck.randomUniform([1, 8, 8, 1], { seed: 2 });
    const acts = m.layerOutputs(x);
    expect([...acts.keys()]).toEqual(['c1', 'p1']);
    expect(acts.get('c1')!.shape).toEqual([1, 6, 6, 4]);
    expectClose(acts.get('p1')!, m.predict(x));
    const img = ck.vision.featureMapGrid(acts.get('c1')!);
    expect([img.width, img.height]).toEqual([2 * 6 + 1, 2 * 6 + 1]);
    expect(() => m.layerOutputs(x, ['nope'])).toThrow(/no layer named 'nope'/);
  });
});
