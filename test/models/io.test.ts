import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { layers as L } from '../../src/index.js';
import { base64ToBytes, bytesToBase64 } from '../../src/models/io.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'convkit-io-'));
  dirs.push(d);
  return d;
}

/** A functional model with a branch, a block, BN (trained a step so its statistics moved), dropout and a frozen layer. */
function sampleModel(dtype: ck.DType = 'float32'): ck.Model {
  const x = ck.input([8, 8, 2], { dtype });
  const a = L.conv2d({ name: 'stem', filters: 4, kernelSize: 3, padding: 'same', seed: 1, kernelRegularizer: { l2: 1e-4 } }).apply(x);
  const b = L.residualBlock({ name: 'res', filters: 4, seed: 2 }).apply(a);
  const c = L.concatenate({ name: 'cat' }).apply([L.maxPooling2d({ name: 'mp' }).apply(b), L.averagePooling2d({ name: 'ap' }).apply(b)]);
  const d = L.batchNormalization({ name: 'bn', momentum: 0.5 }).apply(c);
  const e = L.dropout({ name: 'drop', rate: 0.3, seed: 3 }).apply(L.flatten({ name: 'flat' }).apply(d));
  const y = L.dense({ name: 'out', units: 3, activation: 'softmax', seed: 4 }).apply(e);
  const m = ck.model({ inputs: x, outputs: y, name: 'sample' });
  ck.tidy(() => {
    m.apply(ck.randomNormal([4, 8, 8, 2], { seed: 9, dtype }), { training: true });
  });
  m.freeze('stem');
  return m;
}

const bits = (t: ck.Tensor) => Array.from(new Uint8Array(t.dataSync().slice().buffer));

function expectSameModel(a: ck.Model, b: ck.Model, x: ck.Tensor): void {
  expect(b.summaryJSON()).toEqual(a.summaryJSON());
  expect(b.weights.map((w) => w.name)).toEqual(a.weights.map((w) => w.name));
  a.weights.forEach((w, i) => expect(bits(b.weights[i].value), w.name).toEqual(bits(w.value)));
  expect(bits(b.predict(x))).toEqual(bits(a.predict(x))); // bitwise identical predictions
  expect(b.weights.map((w) => w.trainable)).toEqual(a.weights.map((w) => w.trainable));
}

describe('save and load (convkit-model/1)', () => {
  const x = ck.randomNormal([5, 8, 8, 2], { seed: 21 });

  it('to a directory and back: model.json + weights.bin, bitwise identical predictions', async () => {
    const m = sampleModel();
    const dir = tmp();
    const res = await m.save(dir);
    expect(res.weightBytes).toBe(4 * m.countParams());
    const j = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(j.format).toBe('convkit-model/1');
    expect(j.modelConfig.className).toBe('Model');
    expect(j.weightsManifest[0]).toEqual({ name: 'stem/kernel', shape: [3, 3, 2, 4], dtype: 'float32', offset: 0, byteLength: 288 });
    expect(readFileSync(join(dir, 'weights.bin')).byteLength).toBe(res.weightBytes);
    const loaded = await ck.loadModel(dir);
    expectSameModel(m, loaded, x);
    expect(loaded.getLayer('stem').trainable).toBe(false);
    const again = await ck.loadModel(join(dir, 'model.json'));
    expect(bits(again.predict(x))).toEqual(bits(m.predict(x)));
  });

  it('the weights file is little-endian float32 in manifest order', async () => {
    const m = ck.sequential([L.dense({ units: 2, seed: 5 })], { inputShape: [3] });
    const h = ck.memoryHandler();
    await m.save(h);
    const dv = new DataView(h.artifacts!.weightData);
    const kernel = m.weights[0].value.toArray();
    kernel.forEach((v, i) => expect(dv.getFloat32(i * 4, true)).toBe(v));
    expect(h.artifacts!.modelJSON.weightsManifest.map((e) => [e.name, e.offset, e.byteLength])).toEqual([[`${m.layers[0].name}/kernel`, 0, 24], [`${m.layers[0].name}/bias`, 24, 8]]);
  });

  it('through the memory handler; sequential and zoo models; float64 kept in 8 bytes', async () => {
    for (const m of [sampleModel(), ck.zoo.smallCnn28({ seed: 3 }), ck.zoo.lenet5({ seed: 1 })]) {
      const h = ck.memoryHandler();
      await m.save(h);
      const input = ck.randomNormal([3, ...m.inputShape], { seed: 4 });
      expectSameModel(m, await ck.loadModel(h), input);
    }
    const m64 = sampleModel('float64');
    const h = ck.memoryHandler();
    await m64.save(h);
    expect(h.artifacts!.weightData.byteLength).toBe(8 * m64.countParams());
    const l64 = await ck.loadModel(h);
    expect(l64.dtype).toBe('float64');
    expectSameModel(m64, l64, ck.randomNormal([2, 8, 8, 2], { seed: 5, dtype: 'float64' }));
  });

  it('nested models and blocks keep their weight names', async () => {
    const enc = ck.sequential([L.conv2d({ name: 'c', filters: 2, kernelSize: 3 }), L.squeezeExcitation({ name: 'se', ratio: 1 })], { inputShape: [6, 6, 2], name: 'enc' });
    const x = ck.input([6, 6, 2]);
    const m = ck.model({ inputs: x, outputs: L.dense({ name: 'out', units: 2 }).apply(L.flatten().apply(enc.apply(x))) });
    const h = ck.memoryHandler();
    await m.save(h);
    expect(h.artifacts!.modelJSON.weightsManifest.map((e) => e.name).slice(0, 3)).toEqual(['enc/c/kernel', 'enc/c/bias', 'enc/se/reduce/kernel']);
    expectSameModel(m, await ck.loadModel(h), ck.randomNormal([2, 6, 6, 2], { seed: 1 }));
  });

  it('through localStorage (base64 weights)', async () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    const m = sampleModel();
    await m.save(ck.browserLocalStorage('my-model', storage));
    expect([...store.keys()].sort()).toEqual(['convkit:my-model:model', 'convkit:my-model:weights']);
    expectSameModel(m, await ck.loadModel(ck.browserLocalStorage('my-model', storage)), x);
    await expect(ck.loadModel(ck.browserLocalStorage('other', storage))).rejects.toThrow(/no model saved under localStorage key 'other'/);
  });

  it('over HTTP with fromFetch (and loadModel(url))', async () => {
    const m = sampleModel();
    const dir = tmp();
    await m.save(dir);
    const server: Server = createServer((req, res) => {
      try {
        const body = readFileSync(join(dir, (req.url ?? '').replace(/^\/models\//, '')));
        res.writeHead(200);
        res.end(body);
      } catch {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const url = `http://127.0.0.1:${port}/models/model.json`;
      expectSameModel(m, await ck.loadModel(ck.fromFetch(url)), x);
      expectSameModel(m, await ck.loadModel(url), x);
      await expect(ck.loadModel(`http://127.0.0.1:${port}/models/missing.json`)).rejects.toThrow(/HTTP 404/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('rejects a wrong format, missing or misshapen weights, unknown layers', async () => {
    const m = ck.sequential([L.dense({ name: 'd', units: 2 })], { inputShape: [3] });
    const h = ck.memoryHandler();
    await m.save(h);
    const a = h.artifacts!;
    const variant = (f: (j: ck.ModelJSON) => void) => {
      const j = JSON.parse(JSON.stringify(a.modelJSON)) as ck.ModelJSON;
      f(j);
      return ck.memoryHandler({ modelJSON: j, weightData: a.weightData });
    };
    await expect(ck.loadModel(variant((j) => ((j as { format: string }).format = 'other/2')))).rejects.toThrow(/unsupported format "other\/2"/);
    await expect(ck.loadModel(variant((j) => j.weightsManifest.pop()))).rejects.toThrow(/lacks 1 weight\(s\) of the model: d\/bias/);
    await expect(ck.loadModel(variant((j) => (j.weightsManifest[1].shape = [3])))).rejects.toThrow(/'d\/bias' has shape \[3\] in the file but \[2\] in the model/);
    await expect(ck.loadModel(variant((j) => (j.modelConfig.config.layers as { className: string }[])[0].className = 'Mystery'))).rejects.toThrow(/unknown layer class 'Mystery'/);
    await expect(ck.loadModel(ck.memoryHandler())).rejects.toThrow(/holds no model/);
    const dir = tmp();
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...a.modelJSON }));
    await expect(ck.loadModel(dir)).rejects.toThrow(/ENOENT|no such file/);
  });

  it('base64 round trip matches Node’s encoder', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 100, 70000]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 37 + n) & 255);
      const enc = bytesToBase64(bytes);
      expect(enc).toBe(Buffer.from(bytes).toString('base64'));
      expect(Array.from(base64ToBytes(enc))).toEqual(Array.from(bytes));
    }
  });
});
