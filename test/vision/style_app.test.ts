/** Style transfer with the default random-filter extractor, named layers, and `convkit style`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ck from '../../src/index.js';
import { cli } from '../util/cli.js';

beforeAll(() => ck.setBackend('wasm'));
afterAll(() => ck.setBackend('ts'));

describe('the default extractor (fixed random filters at three scales)', () => {
  it('names conv1..conv3 at full, half and quarter resolution, and is seeded', () => {
    const ex = ck.vision.randomFeatureExtractor({ seed: 1 });
    expect(ex.layerNames).toEqual(['conv1', 'conv2', 'conv3']);
    const x = ck.randomUniform([1, 16, 16, 3], { seed: 2 });
    const a = ex(x) as Map<string, ck.Tensor>;
    expect(a.get('conv1')!.shape).toEqual([1, 16, 16, 32]);
    expect(a.get('conv2')!.shape).toEqual([1, 8, 8, 64]);
    expect(a.get('conv3')!.shape).toEqual([1, 4, 4, 128]);
    const b = ck.vision.randomFeatureExtractor({ seed: 1 })(x) as Map<string, ck.Tensor>;
    expect(Array.from(b.get('conv3')!.dataSync())).toEqual(Array.from(a.get('conv3')!.dataSync()));
  });

  it('lowers J with the defaults, takes layers by name, and names a missing layer', () => {
    const content = ck.vision.shapesDataset({ n: 1, size: 24, minObjects: 2, maxObjects: 2, seed: 1 }).images;
    const style = ck.randomUniform([1, 24, 24, 3], { seed: 3 });
    const seen: number[] = [];
    const { image, history } = ck.vision.styleTransfer(content, style, { steps: 25, learningRate: 0.03, onStep: (i) => seen.push(i) });
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(image.shape).toEqual([1, 24, 24, 3]);
    expect(history[24]).toBeLessThan(history[0] * 0.7);
    // A user extractor returning a plain object, layers named.
    const w = ck.randomNormal([3, 3, 3, 4], { seed: 5 });
    const extractor = (x: ck.Tensor) => ({ edges: ck.relu(ck.conv2d(x, w, { padding: 'same' })) });
    const r = ck.vision.styleTransfer(content, style, { extractor, contentLayer: 'edges', styleLayers: [{ layer: 'edges', weight: 2 }], steps: 3 });
    expect(r.history.length).toBe(3);
    // A model as the extractor: its outputs are the layers, by index.
    const m = ck.sequential([ck.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' })], { inputShape: [24, 24, 3], seed: 1 });
    const viaModel = ck.vision.styleTransfer(content, style, { extractor: (x) => m.applyAll(x), contentLayer: 0, styleLayers: [0], steps: 8, learningRate: 0.05 });
    expect(viaModel.history[7]).toBeLessThan(viaModel.history[0]);
    expect(() => ck.vision.styleTransfer(content, style, { extractor, contentLayer: 'conv9', steps: 1 })).toThrow(/contentLayer "conv9" is not one of the extractor's outputs \(layers edges\)/);
    expect(() => ck.vision.styleTransfer(content, style, { contentLayer: 'conv2', styleLayers: ['conv7'], steps: 1 })).toThrow(/style layer "conv7" is not one of the extractor's outputs \(layers conv1, conv2, conv3\)/);
  });
});

describe('convkit style', () => {
  it('writes a PNG of the content size and reports progress', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ck-style-'));
    const png = (t: ck.Tensor, n: number) => ck.vision.encodePNG({ width: n, height: n, channels: 3, pixels: Uint8Array.from(t.dataSync(), (v) => Math.round(255 * v)) });
    writeFileSync(join(dir, 'c.png'), png(ck.vision.shapesDataset({ n: 1, size: 20, seed: 1 }).images, 20));
    writeFileSync(join(dir, 's.png'), png(ck.randomUniform([1, 12, 12, 3], { seed: 2 }), 12));
    const out = join(dir, 'out.png');
    const r = await cli('style', join(dir, 'c.png'), join(dir, 's.png'), '--out', out, '--steps', '3', '--json');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/step 3\/3 {2}J /);
    const res = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(res.steps).toBe(3);
    const decoded = await ck.decodePng(readFileSync(out));
    expect([decoded.width, decoded.height]).toEqual([20, 20]);
    const bad = await cli('style', join(dir, 'c.png'), '--out', out);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/give two images, CONTENT and STYLE/);
    const missing = await cli('style', join(dir, 'c.png'), join(dir, 's.png'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--out FILE.png is required/);
  });
});
