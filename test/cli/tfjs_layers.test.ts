/**
 * The CLI and TF.js Layers models: `convert` reads a model.json + shards written from
 * tfjs-layers and writes one (`--format tfjs-layers`) that tfjs-layers loads back;
 * `summary`, `predict` and `evaluate` take a TF.js model.json (or its folder).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { cli } from '../util/cli.js';
import { mismatch } from '../util/close.js';
import { rand } from '../util/rand.mjs';
import { layersModelFiles, tf, tfArtifacts, tfl, tfReady, writeLayersModel } from '../util/tfjs_layers.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-tfjs-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(tfReady);

/** A digits-shaped (8x8x1, 10 classes) model made and saved by tfjs-layers. */
async function tfDigitsModel(): Promise<{ m: tfl.LayersModel; path: string }> {
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv' }),
      tfl.layers.batchNormalization({ name: 'bn' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units: 10, name: 'logits' }),
    ],
  });
  let s = 1;
  for (const l of m.layers) l.setWeights(l.getWeights().map((w) => tf.tensor(rand(w.size, s++, 0.1, 0.9), w.shape)));
  const path = writeLayersModel(join(dir, 'tfjs-digits'), layersModelFiles(await tfArtifacts(m), 2, 128));
  return { m, path };
}

/** A folder written by convkit in TF.js Layers format, loaded by tfjs-layers. */
async function tfLoadFolder(folder: string): Promise<tfl.LayersModel> {
  const j = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
  const shards = j.weightsManifest.flatMap((g: { paths: string[] }) => g.paths).map((p: string) => readFileSync(join(folder, p)));
  const data = new Uint8Array(shards.reduce((n: number, b: Uint8Array) => n + b.byteLength, 0));
  let at = 0;
  for (const b of shards) {
    data.set(b, at);
    at += b.byteLength;
  }
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights), weightData: data.buffer }));
}

describe('convkit CLI with TF.js Layers models', () => {
  it('summary, predict and evaluate read a TF.js model.json; convert turns it into convkit and ONNX', async () => {
    const { m, path } = await tfDigitsModel();
    const s = await cli('summary', path, '--json');
    expect(s.code, s.err).toBe(0);
    expect(JSON.parse(s.out).totalParams).toBe(m.countParams());
    const p = await cli('predict', '--model-dir', join(dir, 'tfjs-digits'), '--dataset', 'digits', '--index', '0,1', '--json', '--backend', 'ts');
    expect(p.code, p.err).toBe(0);
    expect(JSON.parse(p.out).predictions).toHaveLength(2);
    const e = await cli('evaluate', '--model-dir', path, '--dataset', 'digits', '--limit', '20', '--backend', 'ts');
    expect(e.code, e.err).toBe(0);

    const x = rand(2 * 64, 9);
    const want = (m.predict(tf.tensor(x, [2, 8, 8, 1])) as tf.Tensor).dataSync() as Float32Array;
    for (const [out, extra] of [[join(dir, 'as-convkit'), []], [join(dir, 'as.onnx'), []]] as [string, string[]][]) {
      const r = await cli('convert', path, out, ...extra);
      expect(r.code, r.err).toBe(0);
      const c = await ck.loadModel(out);
      expect(mismatch(c.predict(ck.tensor(x, [2, 8, 8, 1])).dataSync(), want, { atol: 1e-4, rtol: 1e-4 })).toBeNull();
      c.dispose();
    }
  });

  it('convert --format tfjs-layers writes model.json + shards that tfjs-layers loads and runs the same', async () => {
    const m = ck.zoo.smallCnn8({ classes: 10, seed: 3 });
    const saved = join(dir, 'small');
    await m.save(saved);
    const out = join(dir, 'small-tfjs');
    const r = await cli('convert', saved, out, '--format', 'tfjs-layers');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/wrote .*small-tfjs \(tfjs-layers\)/);
    expect(readdirSync(out).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    const j = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(j.format).toBe('layers-model');
    expect(j.modelTopology.keras_version).toMatch(/convkit/);
    const tm = await tfLoadFolder(out);
    const x = rand(2 * 64, 4);
    const want = m.predict(ck.tensor(x, [2, 8, 8, 1])).dataSync();
    expect(mismatch((tm.predict(tf.tensor(x, [2, 8, 8, 1])) as tf.Tensor).dataSync(), want, { atol: 1e-4, rtol: 1e-4 })).toBeNull();
    const q = await cli('convert', saved, join(dir, 'small-u8'), '--format', 'tfjs-layers', '--quantize', 'uint8');
    expect(q.code, q.err).toBe(0);
    expect(q.out).toMatch(/\(tfjs-layers, uint8 weights\)/);
    expect(readFileSync(join(dir, 'small-u8', 'group1-shard1of1.bin')).byteLength).toBe(m.countParams());
    // and convkit reads its own TF.js output back
    const s = await cli('summary', out, '--json');
    expect(s.code, s.err).toBe(0);
    expect(JSON.parse(s.out).totalParams).toBe(m.countParams());
  });

  it('a layer TF.js Layers cannot express is an error naming it; --input-layout is for ONNX only', async () => {
    const m = ck.sequential([ck.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [8, 8, 1] }), ck.layers.lrn({ name: 'norm1' })]);
    const saved = join(dir, 'lrn');
    await m.save(saved);
    const r = await cli('convert', saved, join(dir, 'lrn-tfjs'), '--format', 'tfjs-layers');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/layer 'norm1' \(LRN\) has no Keras equivalent/);
    expect((await cli('convert', saved, join(dir, 'x'), '--format', 'tfjs-layers', '--opset', '13')).err).toMatch(/apply to ONNX output only/);
    expect((await cli('convert', saved, join(dir, 'x'), '--quantize', 'uint8')).err).toMatch(/--quantize applies to --format tfjs-layers only/);
    expect((await cli('convert', saved, join(dir, 'x'), '--format', 'tfjs-layers', '--quantize', 'int4')).err).toMatch(/--quantize must be uint8, uint16 or float16/);
  });
});
