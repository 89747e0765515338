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
    await expect(ck.loadModel(dir)).rejects.toThrow(`loadModel: ${join(dir, 'model.json')}: its weights file ${join(dir, 'weights.bin')} does not exist`);
    await expect(ck.loadModel(join(dir, 'nothing'))).rejects.toThrow(`loadModel: no model at ${join(dir, 'nothing')}: ${join(dir, 'nothing', 'model.json')} does not exist`);
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

/**
 * A saved model is data from outside: every manifest entry must describe bytes of its own
 * inside the weights file, and the weights file must stay in the model's folder. Each
 * rejection names the file, the weight and what was expected.
 */
describe('loadModel checks the manifest against the weights file', () => {
  const m = ck.sequential([L.dense({ name: 'd', units: 2, seed: 1 })], { inputShape: [3] });
  const x = ck.tensor([[1, 2, 3]]);
  /** A saved copy of `m` with its model.json and weights.bin changed by `edit`. */
  async function saved(edit: (j: ck.ModelJSON, w: Buffer) => Buffer | void = () => {}): Promise<{ dir: string; json: string; bin: string }> {
    const dir = tmp();
    await m.save(dir);
    const json = join(dir, 'model.json'), bin = join(dir, 'weights.bin');
    const j = JSON.parse(readFileSync(json, 'utf8')) as ck.ModelJSON;
    const w = readFileSync(bin);
    const nw = edit(j, w);
    writeFileSync(json, JSON.stringify(j));
    writeFileSync(bin, nw ?? w);
    return { dir, json, bin };
  }
  async function rejection(p: Promise<unknown>): Promise<ck.ModelFormatError> {
    const e = await p.then(() => null, (err: unknown) => err);
    expect(e, 'loadModel should have rejected').toBeInstanceOf(ck.ModelFormatError);
    return e as ck.ModelFormatError;
  }

  it('an untouched save loads (the checks accept what save writes)', async () => {
    const { dir } = await saved();
    expect((await ck.loadModel(dir)).predict(x).toArray()).toEqual(m.predict(x).toArray());
  });

  it('extra bytes after the last weight', async () => {
    const { dir, json, bin } = await saved((_j, w) => Buffer.concat([w, Buffer.alloc(4)]));
    const e = await rejection(ck.loadModel(dir));
    expect(e.message).toBe(`loadModel: ${json}: ${bin} has 36 bytes, but the weights in the manifest end at byte 32: 4 extra bytes; expected exactly 32`);
  });

  it('a misaligned offset (offset 2 for float32 loaded and predicted NaN before)', async () => {
    const { dir, json } = await saved((j, w) => {
      j.weightsManifest[1].offset = 2;
      return Buffer.concat([w.subarray(0, 2), w.subarray(24), w.subarray(2, 24)]);
    });
    const e = await rejection(ck.loadModel(dir));
    expect(e.weight).toBe('d/bias');
    expect(e.message).toBe(`loadModel: ${json}: weight 'd/bias': offset 2 is not a multiple of 4 (the size of one float32 value); expected an aligned offset`);
  });

  it('a weight overlapping another', async () => {
    const { dir, json, bin } = await saved((j, w) => {
      j.weightsManifest[1].offset = 16;
      return w.subarray(0, 24);
    });
    const e = await rejection(ck.loadModel(dir));
    expect(e.message).toBe(`loadModel: ${json}: weights 'd/kernel' (bytes 0..23) and 'd/bias' (bytes 16..23) overlap in ${bin}; expected each weight in bytes of its own`);
  });

  it('a weight listed twice', async () => {
    const { dir, json } = await saved((j) => void j.weightsManifest.push({ ...j.weightsManifest[1] }));
    const e = await rejection(ck.loadModel(dir));
    expect(e.message).toBe(`loadModel: ${json}: weight 'd/bias' is listed twice in weightsManifest (entries 1 and 2); expected each weight once`);
  });

  it("a weight's bytes running past the end of the file", async () => {
    const { dir, json, bin } = await saved((j) => void (j.weightsManifest[1].offset = 28));
    const e = await rejection(ck.loadModel(dir));
    expect(e.message).toBe(`loadModel: ${json}: weight 'd/bias' (offset 28, 8 bytes) runs past the end of ${bin}, which has 32 bytes; expected offset + byteLength <= 32`);
  });

  it('a byteLength that disagrees with shape x dtype size', async () => {
    const { dir, json } = await saved((j) => void (j.weightsManifest[1].byteLength = 12));
    const e = await rejection(ck.loadModel(dir));
    expect(e.message).toBe(`loadModel: ${json}: weight 'd/bias': byteLength is 12, but shape [2] of float32 needs 8 bytes`);
  });

  it('bytes between weights that belong to none', async () => {
    const { dir, json, bin } = await saved((j, w) => {
      j.weightsManifest[1].offset = 28;
      return Buffer.concat([w.subarray(0, 24), Buffer.alloc(4), w.subarray(24)]);
    });
    const e = await rejection(ck.loadModel(dir));
    expect(e.message).toBe(`loadModel: ${json}: bytes 24..27 of ${bin} (before weight 'd/bias') belong to no weight; expected the weights back to back`);
  });

  it('malformed entries: a non-integer offset, a bad shape', async () => {
    let { dir, json } = await saved((j) => void (j.weightsManifest[0].offset = 0.5));
    expect((await rejection(ck.loadModel(dir))).message).toBe(`loadModel: ${json}: weight 'd/kernel': "offset" must be a non-negative integer, received 0.5`);
    ({ dir, json } = await saved((j) => void ((j.weightsManifest[0] as { shape: unknown }).shape = '3x2')));
    expect((await rejection(ck.loadModel(dir))).message).toBe(`loadModel: ${json}: weight 'd/kernel': "shape" must be an array of non-negative integers, received "3x2"`);
  });

  it('the same checks apply to in-memory artifacts, naming the memory handler', async () => {
    const h = ck.memoryHandler();
    await m.save(h);
    const a = h.artifacts!;
    a.modelJSON.weightsManifest[1].offset = 2;
    const e = await rejection(ck.loadModel(h));
    expect(e.message).toMatch(/^loadModel: the memory handler's modelJSON: weight 'd\/bias': offset 2 is not a multiple of 4/);
    const grown = new Uint8Array(a.weightData.byteLength + 8);
    grown.set(new Uint8Array(a.weightData));
    a.modelJSON.weightsManifest[1].offset = 24;
    a.weightData = grown.buffer;
    expect((await rejection(ck.loadModel(h))).message).toMatch(/the memory handler's weightData has 40 bytes, but the weights in the manifest end at byte 32: 8 extra bytes/);
    // decodeModel on hand-made artifacts names them generically.
    expect(() => ck.decodeModel({ modelJSON: a.modelJSON, weightData: grown.buffer })).toThrow(/^loadModel: the model JSON: the weights buffer has 40 bytes/);
  });
});

describe("weightsPath stays inside the model's folder", () => {
  const m = ck.sequential([L.dense({ name: 'd', units: 2, seed: 1 })], { inputShape: [3] });

  it('rejects ../, absolute paths, URLs and percent-encoded .. (files that exist and would load)', async () => {
    const root = tmp();
    const dir = join(root, 'model');
    await m.save(dir);
    await m.save(join(root, 'other')); // a valid weights file outside the model's folder
    const json = join(dir, 'model.json');
    const j = JSON.parse(readFileSync(json, 'utf8'));
    for (const [wp, why] of [
      ['../other/weights.bin', "leaves the model's folder"],
      ['sub/../../other/weights.bin', "leaves the model's folder"],
      ['..\\other\\weights.bin', "leaves the model's folder"],
      ['%2e%2e/other/weights.bin', "leaves the model's folder"],
      [join(root, 'other', 'weights.bin'), 'is an absolute path'],
      [`file://${join(root, 'other', 'weights.bin')}`, 'is a URL or a drive path'],
      ['http://example.com/../weights.bin', 'is a URL or a drive path'],
      ['', 'is not a file name'],
    ]) {
      writeFileSync(json, JSON.stringify({ ...j, weightsPath: wp }));
      await expect(ck.loadModel(dir), wp).rejects.toThrow(
        `loadModel: ${json}: weightsPath ${JSON.stringify(wp)} ${why}; expected a path relative to model.json inside its folder, such as "weights.bin"`,
      );
    }
    // A file below the model's folder is fine.
    const h = ck.memoryHandler();
    await m.save(h);
    const sub = tmp();
    await ck.saveModel(m, { save: (a) => ck.fileSystemHandler(sub).save!({ ...a, modelJSON: { ...a.modelJSON, weightsPath: 'parts/weights.bin' } }) });
    expect(readFileSync(join(sub, 'parts', 'weights.bin')).byteLength).toBe(32);
    expect((await ck.loadModel(sub)).predict(ck.tensor([[1, 2, 3]])).toArray()).toEqual(m.predict(ck.tensor([[1, 2, 3]])).toArray());
    // save refuses to write outside its folder too.
    const out = tmp();
    await expect(ck.fileSystemHandler(out).save!({ ...h.artifacts!, modelJSON: { ...h.artifacts!.modelJSON, weightsPath: '../escaped.bin' } })).rejects.toThrow(
      /^save: .*model\.json: weightsPath "\.\.\/escaped\.bin" leaves the model's folder/,
    );
  });

  it('fromFetch refuses a weightsPath that leaves the folder of model.json', async () => {
    const dir = tmp();
    await m.save(join(dir, 'models'));
    await m.save(join(dir, 'private'));
    const j = JSON.parse(readFileSync(join(dir, 'models', 'model.json'), 'utf8'));
    const served: string[] = [];
    const server: Server = createServer((req, res) => {
      const url = req.url ?? '';
      served.push(url);
      if (url.startsWith('/models/bad-')) {
        const wp = decodeURIComponent(url.slice('/models/bad-'.length).replace(/\.json$/, ''));
        res.writeHead(200);
        res.end(JSON.stringify({ ...j, weightsPath: wp }));
        return;
      }
      try {
        res.writeHead(200);
        res.end(readFileSync(join(dir, url)));
      } catch {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      for (const wp of ['../private/weights.bin', '%2e%2e/private/weights.bin', `${base}/private/weights.bin`, '/private/weights.bin']) {
        const url = `${base}/models/bad-${encodeURIComponent(wp)}.json`;
        await expect(ck.loadModel(url), wp).rejects.toThrow(new RegExp(`^loadModel: ${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: weightsPath`));
      }
      expect(served.filter((u) => u.startsWith('/private'))).toEqual([]); // nothing outside was even fetched
      const good = await ck.loadModel(`${base}/models/model.json`);
      expect(good.countParams()).toBe(8);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('a malformed model.json is named, with the parser\'s message', () => {
  it('file, localStorage and fetch sources', async () => {
    const m = ck.sequential([L.dense({ name: 'd', units: 2, seed: 1 })], { inputShape: [3] });
    const dir = tmp();
    await m.save(dir);
    const json = join(dir, 'model.json');
    writeFileSync(json, readFileSync(json, 'utf8').slice(0, 40));
    const e = await ck.loadModel(dir).then(() => null, (err: Error) => err);
    expect(e).toBeInstanceOf(ck.ModelFormatError);
    expect(e!.message).toMatch(new RegExp(`^loadModel: ${json.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON \\(.*(Unexpected end of JSON input|Unterminated|Expected).*\\)$`));
    writeFileSync(json, '[1, 2]');
    await expect(ck.loadModel(json)).rejects.toThrow(`loadModel: ${json}: expected a JSON object with "format": "convkit-model/1", received [1,2]`);

    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    await m.save(ck.browserLocalStorage('k', storage));
    store.set('convkit:k:model', '{"format": "convkit-model/1",');
    await expect(ck.loadModel(ck.browserLocalStorage('k', storage))).rejects.toThrow(/^loadModel: localStorage 'convkit:k:model': not valid JSON \(/);
    await m.save(ck.browserLocalStorage('k', storage));
    store.set('convkit:k:weights', `${store.get('convkit:k:weights')!.slice(0, 8)}@${store.get('convkit:k:weights')!.slice(9)}`);
    await expect(ck.loadModel(ck.browserLocalStorage('k', storage))).rejects.toThrow(/^loadModel: localStorage 'convkit:k:weights': not valid base64 \(base64: invalid character "@" at position 8/);

    const fetchStub = (async (u: string) => new Response(u.endsWith('model.json') ? '{"format": ' : '', { status: 200 })) as unknown as typeof fetch;
    await expect(ck.loadModel(ck.fromFetch('http://h/m/model.json', { fetch: fetchStub }))).rejects.toThrow(/^loadModel: http:\/\/h\/m\/model\.json: not valid JSON \(/);
  });

  it('save names the folder or file it cannot write', async () => {
    const m = ck.sequential([L.dense({ name: 'd', units: 2, seed: 1 })], { inputShape: [3] });
    const file = join(tmp(), 'a-file');
    writeFileSync(file, 'x');
    await expect(m.save(join(file, 'sub'))).rejects.toThrow(new RegExp(`^save: cannot create the folder ${join(file, 'sub').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(ENOTDIR`));
  });

  it('base64 refuses stray characters and misplaced padding instead of skipping them', () => {
    expect(Array.from(base64ToBytes('AQID\nBA=='))).toEqual([1, 2, 3, 4]); // line breaks are fine
    expect(() => base64ToBytes('AQ*D')).toThrow('base64: invalid character "*" at position 2');
    expect(() => base64ToBytes('AQ=D')).toThrow('base64: invalid character "=" at position 2');
    expect(() => base64ToBytes('AQI')).toThrow('base64: length 3 is not a multiple of 4');
  });
});
