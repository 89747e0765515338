/**
 * ONNX export checked by onnxruntime-web (wasm, 1 thread, in Node): the exported file's
 * outputs equal convkit's `predict` within float32 tolerance (1e-4 of the largest |output|),
 * in both input layouts, for zoo models and for a model holding every exportable layer.
 * Set CONVKIT_ONNX_EXPORT_DIR to also write the files there (scripts/onnx/check_exported.py
 * runs onnx.checker on them).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import * as ck from '../../src/index.js';
import { rand } from '../util/rand.mjs';
import { openWebGPU } from '../util/webgpu.js';
import { decodeOnnxModel } from '../../src/models/onnx/proto.js';
import { VERSION } from '../../src/version.js';

const L = ck.layers;
const outDir = process.env.CONVKIT_ONNX_EXPORT_DIR;

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  if (outDir) mkdirSync(outDir, { recursive: true });
});

/** Give batch norms non-trivial statistics (the initial 0/1 would hide a wrong layout). */
function randomiseStats(m: ck.Model, seed = 7): void {
  let k = seed;
  for (const w of m.weights) {
    if (/movingMean$/.test(w.name)) w.value = ck.tensor(rand(w.shape[0], k++).map((v) => v * 0.3), [...w.shape]);
    else if (/movingVariance$/.test(w.name)) w.value = ck.tensor(rand(w.shape[0], k++).map((v) => 0.5 + 0.4 * v), [...w.shape]);
    else if (/(gamma|beta)$/.test(w.name)) w.value = ck.tensor(rand(w.shape.reduce((a, b) => a * b, 1), k++).map((v) => (/gamma$/.test(w.name) ? 1 + 0.3 * v : 0.2 * v)), [...w.shape]);
  }
}

/** NHWC data -> NCHW (any rank >= 3, channels last -> second). */
function toChannelsFirst(data: Float32Array, shape: number[]): { data: Float32Array; shape: number[] } {
  const r = shape.length;
  const perm = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const idx = new Array(r).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < r; i++) src += idx[i] * strides[perm[i]];
    out[o] = data[src];
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i] < outShape[i]) break;
      idx[i] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/**
 * Export `m` in `layout`, run it in onnxruntime-web on a batch of `n` examples and compare
 * every output with `m.predictAll`. Returns the largest difference relative to the largest
 * |output|, over the outputs.
 */
async function compare(m: ck.Model, layout: 'NHWC' | 'NCHW', n = 2, opset = 13, seed = 3, tag = m.name): Promise<number> {
  const bytes = ck.encodeOnnx(m, { inputLayout: layout, opset });
  if (outDir) writeFileSync(join(outDir, `${tag}_${layout}_opset${opset}.onnx`), bytes);
  const shape = [n, ...m.inputs[0].shape];
  const x = rand(shape.reduce((a, b) => a * b, 1), seed);
  const wants = ck.tidy(() => m.predictAll(ck.tensor(x, shape)).map((t) => t.dataSync().slice())) as Float32Array[];
  const feed = layout === 'NCHW' && shape.length >= 3 ? toChannelsFirst(x, shape) : { data: x, shape };
  const session = await ort.InferenceSession.create(bytes);
  try {
    expect(session.outputNames.length).toBe(m.outputs.length);
    const res = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', feed.data, feed.shape) });
    let worst = 0;
    m.outputs.forEach((o, k) => {
      const outShape = [n, ...o.shape];
      const got = res[session.outputNames[k]];
      const want = layout === 'NCHW' && outShape.length >= 3 ? toChannelsFirst(wants[k], outShape) : { data: wants[k], shape: outShape };
      expect([...got.dims]).toEqual(want.shape);
      const g = got.data as Float32Array;
      let maxAbs = 0, maxDiff = 0;
      for (let i = 0; i < g.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(want.data[i]));
        maxDiff = Math.max(maxDiff, Math.abs(g[i] - want.data[i]));
      }
      expect(maxAbs).toBeGreaterThan(0);
      if (process.env.CONVKIT_ONNX_DEBUG) console.log(`${tag} ${layout} opset ${opset} output ${k}: max diff ${maxDiff.toExponential(2)}, max abs ${maxAbs.toFixed(3)}`);
      worst = Math.max(worst, maxDiff / maxAbs);
    });
    return worst;
  } finally {
    await session.release();
  }
}

/** A model with every exportable layer class and activation name (NHWC 2D trunk, 1D and 3D branches as separate models). */
function everyLayerModel(): ck.Model {
  const x = ck.input([15, 14, 3], { name: 'image' });
  let y = new L.ZeroPadding2D({ name: 'zp', padding: [[1, 0], [1, 1]] }).apply(x);
  y = new L.Conv2D({ name: 'c1', filters: 8, kernelSize: 3, padding: 'same', strides: 2, activation: 'relu6', seed: 1 }).apply(y);
  y = new L.BatchNormalization({ name: 'bn', seed: 2 }).apply(y);
  y = new L.DepthwiseConv2D({ name: 'dw', kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'hardSwish', seed: 3 }).apply(y);
  y = new L.Conv2D({ name: 'grouped', filters: 8, kernelSize: [1, 3], padding: [[0, 0], [2, 2]], groups: 4, dilationRate: [1, 2], activation: 'gelu', seed: 4 }).apply(y);
  y = new L.PReLU({ name: 'prelu', alphaInitializer: 'glorotUniform', seed: 5 }).apply(y);
  y = new L.LRN({ name: 'lrn_odd', size: 3, alpha: 3, beta: 0.75, k: 1 }).apply(y);
  y = new L.LRN({ name: 'lrn_even', size: 4, alpha: 4, beta: 0.5, k: 1 }).apply(y);
  const afterLrn = y;
  y = new L.ResidualBlock({ name: 'res', filters: 8, seed: 6 }).apply(y);
  y = new L.SqueezeExcitation({ name: 'se', ratio: 2, seed: 7 }).apply(y);
  const afterBlocks = y;
  const a = new L.MaxPooling2D({ name: 'mp', poolSize: 3, strides: 2, ceilMode: true }).apply(y);
  const b = new L.AveragePooling2D({ name: 'ap', poolSize: 3, strides: 2, padding: 1, countIncludePad: true }).apply(y);
  const c = new L.MinPooling2D({ name: 'minp', poolSize: 2, strides: 2, padding: 'same' }).apply(y);
  const d = new L.AveragePooling2D({ name: 'ap_same', poolSize: 3, strides: 2, padding: 'same' }).apply(y);
  let z = new L.Concatenate({ name: 'cat' }).apply([a, b, c, d]);
  z = new L.InceptionModule({ name: 'inc', filters1x1: 4, reduce3x3: 4, filters3x3: 4, reduce5x5: 2, filters5x5: 2, poolProj: 2, seed: 8 }).apply(z);
  z = new L.Conv2DTranspose({ name: 'up', filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'elu', seed: 9 }).apply(z);
  z = new L.Conv2DTranspose({ name: 'up2', filters: 4, kernelSize: 2, strides: 2, padding: 1, outputPadding: 1, activation: 'selu', seed: 10 }).apply(z);
  z = new L.LeakyReLU({ name: 'lrelu', alpha: 0.2 }).apply(z);
  z = new L.ELU({ name: 'elu', alpha: 0.7 }).apply(z);
  const afterActs = z;
  z = new L.ReLU({ name: 'relu_max', maxValue: 0.3 }).apply(z);
  z = new L.Activation({ name: 'hsig', activation: 'hardSigmoid' }).apply(z);
  const s1 = new L.Softmax({ name: 'sm_axis1', axis: 1 }).apply(z);
  const s2 = new L.Activation({ name: 'sm', activation: 'softmax' }).apply(z);
  z = new L.Add({ name: 'sum' }).apply([s1, s2]);
  z = new L.Multiply({ name: 'prod' }).apply([z, new L.Activation({ name: 'tanh', activation: 'tanh' }).apply(z)]);
  z = new L.LayerNormalization({ name: 'ln', axes: [-2, -1], seed: 11 }).apply(z);
  const g1 = new L.GlobalAveragePooling2D({ name: 'gap' }).apply(z);
  const g2 = new L.GlobalMaxPooling2D({ name: 'gmp', keepDims: true }).apply(z);
  const g2f = new L.Flatten({ name: 'gmp_flat' }).apply(g2);
  const flat = new L.Flatten({ name: 'flat' }).apply(new L.MaxPooling2D({ name: 'mp2', poolSize: 4 }).apply(z));
  const feats = new L.Concatenate({ name: 'heads' }).apply([g1, g2f, flat]);
  let h = feats;
  h = new L.Dropout({ name: 'drop', rate: 0.5 }).apply(h);
  h = new L.Dense({ name: 'fc1', units: 12, activation: 'sigmoid', seed: 12 }).apply(h);
  h = new L.Reshape({ name: 'rs', targetShape: [3, 4] }).apply(h);
  h = new L.Dense({ name: 'fc_seq', units: 5, activation: 'softplus', seed: 13 }).apply(h);
  h = new L.LayerNormalization({ name: 'ln_last', seed: 14 }).apply(h);
  h = new L.Activation({ name: 'lrelu_act', activation: 'leakyRelu' }).apply(h);
  const seq = h;
  h = new L.Flatten({ name: 'flat2' }).apply(h);
  for (const act of ['elu', 'selu', 'logSoftmax', 'step', 'relu', 'linear'] as const) {
    h = new L.Dense({ name: `fc_${act}`, units: 6, activation: act, seed: 20 }).apply(h);
  }
  h = new L.BatchNormalization({ name: 'bn_dense', seed: 15 }).apply(h);
  const out = new L.Dense({ name: 'logits', units: 4, useBias: false, seed: 16 }).apply(h);
  // Several outputs, so that the step activation of the head cannot hide an error in the trunk.
  return ck.model({ inputs: x, outputs: [out, z, feats, seq, afterLrn, afterBlocks, afterActs], name: 'every_layer' });
}

function signalModel(): ck.Model {
  const x = ck.input([20, 3], { name: 'signal' });
  let y = new L.Conv1D({ name: 'c1d', filters: 4, kernelSize: 5, padding: 'same', strides: 2, activation: 'relu', seed: 1 }).apply(x);
  y = new L.BatchNormalization({ name: 'bn1d' }).apply(y);
  y = new L.Conv1D({ name: 'c1d_b', filters: 6, kernelSize: 3, dilationRate: 2, padding: [[2, 1]], seed: 2 }).apply(y);
  y = new L.Flatten({ name: 'f' }).apply(y);
  return ck.model({ inputs: x, outputs: new L.Dense({ name: 'out', units: 3, seed: 3 }).apply(y), name: 'signal_net' });
}

function volumeModel(): ck.Model {
  const x = ck.input([6, 6, 6, 2], { name: 'volume' });
  let y = new L.Conv3D({ name: 'c3d', filters: 4, kernelSize: 3, padding: 'same', strides: [1, 2, 2], activation: 'tanh', seed: 1 }).apply(x);
  y = new L.Conv3D({ name: 'c3d_b', filters: 3, kernelSize: [2, 3, 3], seed: 2 }).apply(y);
  return ck.model({ inputs: x, outputs: y, name: 'volume_net' }); // a rank-5 output: channels-last in NHWC mode
}

const TOL = 1e-4;

describe('ONNX export: file contents', () => {
  it('writes the header, the layout metadata, a symbolic batch, initializers and named nodes', () => {
    const m = ck.zoo.lenet5({ seed: 1 });
    const nhwc = decodeOnnxModel(ck.encodeOnnx(m));
    expect(nhwc.irVersion).toBe(7);
    expect(nhwc.opsetImport).toEqual([{ domain: '', version: 13 }]);
    expect(nhwc.producerName).toBe('convkit');
    expect(nhwc.producerVersion).toBe(VERSION);
    expect(nhwc.metadata).toEqual({ 'convkit.inputLayout': 'NHWC' });
    const inShape = m.inputs[0].shape;
    expect(nhwc.graph.inputs[0].shape).toEqual(['batch', ...inShape]);
    expect(nhwc.graph.outputs[0].shape).toEqual(['batch', ...m.outputs[0].shape]);
    expect(nhwc.graph.nodes[0].opType).toBe('Transpose');
    expect(nhwc.graph.nodes[0].inputs).toEqual([nhwc.graph.inputs[0].name]);
    expect(nhwc.graph.nodes[0].attributes[0].ints).toEqual([0, 3, 1, 2]);
    // every weight is an initializer, float32 with the parameter count of the model
    const params = nhwc.graph.initializers.filter((t) => t.dataType === 1).reduce((a, t) => a + t.data.length, 0);
    expect(params).toBe(m.countParams());
    for (const l of m.layers.filter((l) => l.weights.length)) expect(nhwc.graph.nodes.some((n) => n.name.startsWith(`${l.name}/`))).toBe(true);
    const nchw = decodeOnnxModel(ck.encodeOnnx(m, { inputLayout: 'NCHW', opset: 15 }));
    expect(nchw.irVersion).toBe(8);
    expect(nchw.metadata['convkit.inputLayout']).toBe('NCHW');
    expect(nchw.graph.inputs[0].shape).toEqual(['batch', inShape[2], inShape[0], inShape[1]]);
    expect(nchw.graph.nodes[0].opType).not.toBe('Transpose');
  });

  it('rejects bad options, unknown layer classes (all of them listed) and formats', async () => {
    const m = ck.zoo.smallCnn8({ seed: 1 });
    expect(() => ck.encodeOnnx(m, { opset: 12 })).toThrow(/opset must be an integer from 13 to 17, received 12/);
    expect(() => ck.encodeOnnx(m, { inputLayout: 'NWHC' as never })).toThrow(/inputLayout must be 'NHWC' or 'NCHW'/);
    expect(() => ck.encodeOnnx(m, { layout: 'NCHW' } as never)).toThrow(/unknown option 'layout'/);
    class Twice extends L.Layer {
      static readonly className = 'Twice';
      protected forward(x: ck.Tensor | ck.Tensor[]): ck.Tensor {
        return ck.mul(x as ck.Tensor, 2);
      }
    }
    const x = ck.input([4]);
    const y = new Twice({ name: 't2' }).apply(new L.Dense({ units: 3, name: 'd' }).apply(new Twice({ name: 't1' }).apply(x)));
    const bad = ck.model({ inputs: x, outputs: y, name: 'custom' });
    expect(() => ck.encodeOnnx(bad)).toThrow(/model 'custom' holds 2 layer\(s\) that cannot be exported to ONNX: t1 \(Twice\), t2 \(Twice\)/);
    await expect(bad.save('/tmp/never.onnx')).rejects.toThrow(ck.OnnxExportError);
    await expect(m.save(ck.memoryHandler(), { format: 'onnx' })).rejects.toThrow(/needs a path/);
    await expect(m.save(ck.memoryHandler(), { opset: 14 })).rejects.toThrow(/apply only to format 'onnx'/);
  });

  it("model.save('x.onnx') and { format: 'onnx' } write the file; other paths keep the convkit format", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-onnx-'));
    try {
      const m = ck.zoo.smallCnn8({ seed: 2 });
      const r = await m.save(join(dir, 'sub', 'model.onnx'));
      const bytes = readFileSync(join(dir, 'sub', 'model.onnx'));
      expect(r.modelBytes).toBe(bytes.byteLength);
      expect(Buffer.from(bytes).equals(Buffer.from(ck.encodeOnnx(m)))).toBe(true);
      await m.save(join(dir, 'plain'), { format: 'onnx', inputLayout: 'NCHW' });
      expect(decodeOnnxModel(new Uint8Array(readFileSync(join(dir, 'plain')))).metadata['convkit.inputLayout']).toBe('NCHW');
      await m.save(join(dir, 'ck'));
      expect(JSON.parse(readFileSync(join(dir, 'ck', 'model.json'), 'utf8')).format).toBe(ck.MODEL_FORMAT);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ONNX export of a model whose weights live on webgpu', () => {
  it('exportOnnx and save(.onnx) read the weights asynchronously: the same graph and weights as encodeOnnx of the same model on ts', async () => {
    const gpu = await openWebGPU();
    if (!gpu.ok) return;
    const onTs = ck.zoo.smallCnn8({ seed: 4 });
    const expected = ck.encodeOnnx(onTs);
    expect(Buffer.from(await ck.exportOnnx(onTs)).equals(Buffer.from(expected))).toBe(true);
    // layer names differ between the two models (auto-numbered): compare ops and weights
    const same = (bytes: Uint8Array) => {
      const a = decodeOnnxModel(bytes).graph, b = decodeOnnxModel(expected).graph;
      expect(a.nodes.map((n) => n.opType)).toEqual(b.nodes.map((n) => n.opType));
      expect(a.initializers.length).toBe(b.initializers.length);
      a.initializers.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(b.initializers[i].data)));
    };
    const dir = mkdtempSync(join(tmpdir(), 'convkit-onnx-gpu-'));
    try {
      await ck.setBackend('webgpu');
      const onGpu = ck.zoo.smallCnn8({ seed: 4 });
      expect(onGpu.weights[0].value.backend.name).toBe('webgpu');
      expect(() => ck.encodeOnnx(onGpu)).toThrow(/reads asynchronously.*await exportOnnx\(model\)/);
      same(await ck.exportOnnx(onGpu));
      await onGpu.save(join(dir, 'gpu.onnx'));
      same(new Uint8Array(readFileSync(join(dir, 'gpu.onnx'))));
    } finally {
      await ck.setBackend('ts');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ONNX export: onnxruntime-web (wasm) equals convkit predict', () => {
  afterAll(() => undefined);
  it('a model holding every exportable layer, both layouts, opsets 13, 15 and 17', async () => {
    const m = everyLayerModel();
    randomiseStats(m);
    for (const [layout, opset] of [['NHWC', 13], ['NCHW', 15], ['NHWC', 17]] as const) {
      expect(await compare(m, layout, 3, opset), `${layout} opset ${opset}`).toBeLessThan(TOL);
    }
  });

  it('1-D (NLC) and 3-D (NDHWC) convolution models, both layouts', async () => {
    for (const m of [signalModel(), volumeModel()]) {
      randomiseStats(m);
      for (const layout of ['NHWC', 'NCHW'] as const) expect(await compare(m, layout), `${m.name} ${layout}`).toBeLessThan(TOL);
    }
  });

  it('a sequential model and a model used as a layer of another (nested graphs are walked)', async () => {
    const seq = ck.sequential([
      new L.Conv2D({ name: 's_conv', filters: 4, kernelSize: 3, inputShape: [8, 8, 2], activation: 'relu', seed: 1 }),
      new L.BatchNormalization({ name: 's_bn' }),
    ], { name: 'backbone' });
    const x = ck.input([8, 8, 2], { name: 'img' });
    const f = seq.apply(x);
    const y = new L.Dense({ name: 'head', units: 3, seed: 2 }).apply(new L.Flatten({ name: 'fl' }).apply(f));
    const m = ck.model({ inputs: x, outputs: [y, f], name: 'nested' });
    randomiseStats(m);
    for (const layout of ['NHWC', 'NCHW'] as const) expect(await compare(m, layout), layout).toBeLessThan(TOL);
    expect(await compare(seq, 'NHWC')).toBeLessThan(TOL);
    // weights keep convkit's names, container prefixes included
    const names = decodeOnnxModel(ck.encodeOnnx(m)).graph.initializers.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['backbone/s_conv/kernel', 'backbone/s_bn/movingMean', 'head/kernel']));
  });

  it('a layer applied twice (shared weights) gets one set of initializers', async () => {
    const x = ck.input([6], { name: 'v' });
    const shared = new L.Dense({ name: 'shared', units: 6, activation: 'tanh', seed: 1 });
    const y = shared.apply(shared.apply(x));
    const m = ck.model({ inputs: x, outputs: new L.Dense({ name: 'o', units: 2, seed: 2 }).apply(y), name: 'shared_net' });
    const inits = decodeOnnxModel(ck.encodeOnnx(m)).graph.initializers;
    expect(inits.map((t) => t.name).sort()).toEqual(['o/bias', 'o/kernel', 'shared/bias', 'shared/kernel']);
    expect(await compare(m, 'NHWC')).toBeLessThan(TOL);
  });

  it('zoo lenet5, smallCnn28, smallCnn8, both layouts', async () => {
    for (const m of [ck.zoo.lenet5({ seed: 1 }), ck.zoo.smallCnn28({ seed: 2 }), ck.zoo.smallCnn8({ seed: 3 })]) {
      randomiseStats(m);
      for (const layout of ['NHWC', 'NCHW'] as const) expect(await compare(m, layout), `${m.name} ${layout}`).toBeLessThan(TOL);
    }
  });

  it('zoo resnet18 at 32x32, 10 classes, both layouts', async () => {
    const m = ck.zoo.resnet(18, { inputShape: [32, 32, 3], classes: 10, seed: 4 });
    randomiseStats(m);
    for (const layout of ['NHWC', 'NCHW'] as const) expect(await compare(m, layout, 1), layout).toBeLessThan(TOL);
  }, 60_000);

  it('zoo googlenet at 64x64, 10 classes (NHWC, opset 14)', async () => {
    const m = ck.zoo.googlenet({ inputShape: [64, 64, 3], classes: 10, seed: 5 });
    randomiseStats(m);
    expect(await compare(m, 'NHWC', 1, 14)).toBeLessThan(TOL);
  }, 60_000);
});
