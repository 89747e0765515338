/**
 * TF.js Layers interop against the real @tensorflow/tfjs-layers 4.22 (cpu backend):
 * models built in TF.js (Sequential and functional, each supported layer, batch-norm
 * statistics set to non-trivial values, weights split into several groups and shards)
 * are loaded by convkit and predict the same; convkit models (hand-built and the zoo) are
 * saved as TF.js Layers, loaded by `tf.loadLayersModel` and predict the same. Tolerance:
 * float32 on both sides, different summation orders: |d| <= 1e-4 + 1e-4 |e|.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { mismatch } from '../util/close.js';
import { rand } from '../util/rand.mjs';
import { handlerOf, layersModelFiles, tf, tfArtifacts, tfl, tfLoad, tfReady, writeLayersModel } from '../util/tfjs_layers.js';

const TOL = { atol: 1e-4, rtol: 1e-4 };

beforeAll(tfReady);

/** Random weights (seeded) for every weight of a tfjs model; batch-norm variances positive. */
function randomizeTf(m: tfl.LayersModel, seed = 1): void {
  let s = seed;
  for (const l of m.layers) {
    const ws = l.getWeights();
    if (!ws.length) continue;
    l.setWeights(ws.map((w, i) => {
      const v = rand(w.size, s++, -0.5, 0.5);
      const isVar = l.getClassName() === 'BatchNormalization' && l.weights[i].name.includes('moving_variance');
      return tf.tensor(isVar ? v.map((x) => 0.5 + Math.abs(x)) : v, w.shape, 'float32');
    }));
  }
}

function sameOutputs(a: tf.Tensor | tf.Tensor[], b: ck.Tensor | ck.Tensor[]): void {
  const as = Array.isArray(a) ? a : [a];
  const bs = Array.isArray(b) ? b : [b];
  expect(bs.length).toBe(as.length);
  as.forEach((t, i) => {
    expect(bs[i].shape).toEqual(t.shape);
    expect(mismatch(bs[i].dataSync(), t.dataSync() as Float32Array, TOL)).toBeNull();
  });
}

/** Load a tfjs model in convkit (3 groups, 256-byte shards) and compare predictions on `xs`. */
async function tfToCk(m: tfl.LayersModel, shapes: number[][], seed = 7): Promise<ck.Model> {
  randomizeTf(m, seed);
  const files = layersModelFiles(await tfArtifacts(m), 3, 256);
  const c = await ck.loadModel(handlerOf(files));
  const xs = shapes.map((s, i) => rand(s.reduce((a, b) => a * b, 1), seed + 100 + i));
  const want = m.predict(shapes.length === 1 ? tf.tensor(xs[0], s0(shapes)) : shapes.map((s, i) => tf.tensor(xs[i], s))) as tf.Tensor | tf.Tensor[];
  const got = c.predictAll(shapes.length === 1 ? ck.tensor(xs[0], s0(shapes)) : shapes.map((s, i) => ck.tensor(xs[i], s)));
  sameOutputs(want, got as ck.Tensor | ck.Tensor[]);
  return c;
}
const s0 = (shapes: number[][]) => shapes[0];

/** Save a convkit model as TF.js Layers, load it with tfjs-layers, compare predictions. */
async function ckToTf(m: ck.Model, shapes: number[][], seed = 11): Promise<{ art: ck.ModelArtifacts; tm: tfl.LayersModel }> {
  const h = ck.memoryHandler();
  await m.save(h, { format: 'tfjs-layers' });
  const art = h.artifacts!;
  const tm = await tfLoad(art);
  const xs = shapes.map((s, i) => rand(s.reduce((a, b) => a * b, 1), seed + i));
  const want = m.predictAll(shapes.length === 1 ? ck.tensor(xs[0], shapes[0]) : shapes.map((s, i) => ck.tensor(xs[i], s)));
  const got = tm.predict(shapes.length === 1 ? tf.tensor(xs[0], shapes[0]) : shapes.map((s, i) => tf.tensor(xs[i], s))) as tf.Tensor | tf.Tensor[];
  sameOutputs(got, want as ck.Tensor | ck.Tensor[]);
  return { art, tm };
}

describe('TF.js Layers -> convkit', () => {
  it('a Sequential CNN: conv (same, strided, dilated), batch norm with set statistics, pools, activations, dense', async () => {
    const m = tfl.sequential();
    m.add(tfl.layers.conv2d({ inputShape: [12, 12, 3], filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }));
    m.add(tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 }));
    m.add(tfl.layers.conv2d({ filters: 5, kernelSize: [3, 2], dilationRate: 2, padding: 'same', useBias: false }));
    m.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
    m.add(tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'valid', activation: 'elu' }));
    m.add(tfl.layers.zeroPadding2d({ padding: [[1, 0], [0, 2]] }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }));
    m.add(tfl.layers.averagePooling2d({ poolSize: 2, strides: 1 }));
    m.add(tfl.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }));
    m.add(tfl.layers.prelu({ sharedAxes: [1, 2] }));
    m.add(tfl.layers.reLU({ maxValue: 0.6 }));
    m.add(tfl.layers.elu());
    m.add(tfl.layers.dropout({ rate: 0.3 }));
    m.add(tfl.layers.flatten());
    m.add(tfl.layers.dense({ units: 7, activation: 'selu' }));
    m.add(tfl.layers.activation({ activation: 'sigmoid' }));
    m.add(tfl.layers.dense({ units: 4 }));
    m.add(tfl.layers.softmax());
    const c = await tfToCk(m, [[2, 12, 12, 3]]);
    expect(c.className).toBe('Sequential');
    expect(c.layers.map((l) => l.className)).toContain('BatchNormalization');
    c.dispose();
  });

  it('a functional model: two inputs, a shared layer, merges, layer norm, global pools, reshape/permute, two outputs', async () => {
    const a = tfl.input({ shape: [6, 6, 4], name: 'image' });
    const b = tfl.input({ shape: [8], name: 'side' });
    const shared = tfl.layers.conv2d({ filters: 4, kernelSize: 1, name: 'shared_conv' });
    const c1 = shared.apply(a) as tfl.SymbolicTensor;
    const c2 = shared.apply(c1) as tfl.SymbolicTensor;
    const sum = tfl.layers.add().apply([c1, c2]) as tfl.SymbolicTensor;
    const prod = tfl.layers.multiply().apply([sum, c1]) as tfl.SymbolicTensor;
    const cat = tfl.layers.concatenate({ axis: -1 }).apply([prod, c2]) as tfl.SymbolicTensor;
    const ln = tfl.layers.layerNormalization({ axis: -1, epsilon: 1e-5 }).apply(cat) as tfl.SymbolicTensor;
    const gap = tfl.layers.globalAveragePooling2d({}).apply(ln) as tfl.SymbolicTensor;
    const gmp = tfl.layers.globalMaxPooling2d({}).apply(ln) as tfl.SymbolicTensor;
    const side = tfl.layers.dense({ units: 8, activation: 'relu' }).apply(b) as tfl.SymbolicTensor;
    const j = tfl.layers.concatenate().apply([gap, gmp, side]) as tfl.SymbolicTensor;
    const r = tfl.layers.reshape({ targetShape: [6, 4] }).apply(j) as tfl.SymbolicTensor;
    const p = tfl.layers.permute({ dims: [2, 1] }).apply(r) as tfl.SymbolicTensor;
    const f = tfl.layers.flatten().apply(p) as tfl.SymbolicTensor;
    const out1 = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'probs' }).apply(f) as tfl.SymbolicTensor;
    const out2 = tfl.layers.dense({ units: 2, name: 'score' }).apply(j) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: [a, b], outputs: [out1, out2] });
    const c = await tfToCk(m, [[2, 6, 6, 4], [2, 8]]);
    expect(c.inputs.length).toBe(2);
    expect(c.outputs.length).toBe(2);
    c.dispose();
  });

  it('1D and 3D layers: Conv1D (same, dilated), Conv3D, 3D pools', async () => {
    const x = tfl.input({ shape: [10, 3] });
    const y = tfl.layers.conv1d({ filters: 4, kernelSize: 3, padding: 'same', dilationRate: 2 }).apply(x) as tfl.SymbolicTensor;
    const y2 = tfl.layers.conv1d({ filters: 2, kernelSize: 2, strides: 2, activation: 'relu' }).apply(y) as tfl.SymbolicTensor;
    const v = tfl.input({ shape: [6, 6, 6, 2] });
    const v1 = tfl.layers.conv3d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(v) as tfl.SymbolicTensor;
    const v2 = tfl.layers.maxPooling3d({ poolSize: 2 }).apply(v1) as tfl.SymbolicTensor;
    const v3 = tfl.layers.averagePooling3d({ poolSize: 2, strides: 1, padding: 'same' }).apply(v2) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: [x, v], outputs: [tfl.layers.flatten().apply(y2) as tfl.SymbolicTensor, tfl.layers.flatten().apply(v3) as tfl.SymbolicTensor] });
    const c = await tfToCk(m, [[2, 10, 3], [2, 6, 6, 6, 2]]);
    c.dispose();
  });

  it('the Keras layers added for issue 16: SeparableConv2D, UpSampling2D, Cropping2D, Rescaling, 1D pools, SpatialDropout1D, Average/Maximum/Minimum', async () => {
    const x = tfl.input({ shape: [8, 8, 3] });
    const r = tfl.layers.rescaling({ scale: 0.5, offset: -0.1 }).apply(x) as tfl.SymbolicTensor;
    // tfjs-layers 4.22's SeparableConv2D.getConfig leaves depth_multiplier out: the reader takes it from the kernel.
    const sc = tfl.layers.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu' }).apply(r) as tfl.SymbolicTensor;
    const up = tfl.layers.upSampling2d({ size: [2, 1] }).apply(sc) as tfl.SymbolicTensor;
    const upb = tfl.layers.upSampling2d({ size: [2, 1], interpolation: 'bilinear' }).apply(sc) as tfl.SymbolicTensor;
    const cr = tfl.layers.cropping2D({ cropping: [[1, 0], [0, 1]] }).apply(up) as tfl.SymbolicTensor;
    const crb = tfl.layers.cropping2D({ cropping: [[1, 0], [0, 1]] }).apply(upb) as tfl.SymbolicTensor;
    const avg = tfl.layers.average().apply([cr, crb]) as tfl.SymbolicTensor;
    const mx = tfl.layers.maximum().apply([cr, crb]) as tfl.SymbolicTensor;
    const mn = tfl.layers.minimum().apply([avg, mx]) as tfl.SymbolicTensor;
    const out1 = tfl.layers.flatten().apply(mn) as tfl.SymbolicTensor;
    const s = tfl.input({ shape: [12, 3] });
    const c1 = tfl.layers.conv1d({ filters: 4, kernelSize: 3 }).apply(s) as tfl.SymbolicTensor;
    const p1 = tfl.layers.maxPooling1d({ poolSize: 2 }).apply(c1) as tfl.SymbolicTensor;
    const p2 = tfl.layers.averagePooling1d({ poolSize: 3, strides: 1, padding: 'same' }).apply(p1) as tfl.SymbolicTensor;
    const d1 = tfl.layers.spatialDropout1d({ rate: 0.3 }).apply(p2) as tfl.SymbolicTensor;
    const g1 = tfl.layers.globalAveragePooling1d().apply(d1) as tfl.SymbolicTensor;
    const g2 = tfl.layers.globalMaxPooling1d().apply(d1) as tfl.SymbolicTensor;
    const out2 = tfl.layers.concatenate().apply([g1, g2]) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: [x, s], outputs: [out1, out2] });
    const c = await tfToCk(m, [[2, 8, 8, 3], [2, 12, 3]]);
    expect(c.layers.map((l) => l.className)).toEqual(expect.arrayContaining(['SeparableConv2D', 'UpSampling2D', 'Cropping2D', 'Rescaling', 'MaxPooling1D', 'SpatialDropout1D', 'Average', 'Maximum', 'Minimum']));
    c.dispose();
  });

  it("bilinear UpSampling2D from Python Keras (half-pixel centres) becomes a Resizing layer", async () => {
    const m = tfl.sequential({ layers: [tfl.layers.upSampling2d({ inputShape: [4, 5, 2], size: [2, 3], interpolation: 'bilinear' })] });
    const art = await tfArtifacts(m);
    const topo = art.modelTopology as Record<string, unknown>;
    const modelJSON = { format: 'layers-model', generatedBy: 'keras v2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0', modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: { class_name: topo.class_name, config: topo.config } }, weightsManifest: [] };
    const c = await ck.loadModel({ load: async () => ({ modelJSON, weightData: new ArrayBuffer(0) }) } as unknown as ck.IOHandler);
    expect(c.layers[0].className).toBe('Resizing');
    const x = rand(2 * 4 * 5 * 2, 3);
    const want = tf.image.resizeBilinear(tf.tensor(x, [2, 4, 5, 2]) as tf.Tensor4D, [8, 15], false, true).dataSync();
    expect(mismatch(c.predict(ck.tensor(x, [2, 4, 5, 2])).dataSync(), want as Float32Array, TOL)).toBeNull();
  });

  it('Keras classes TF.js lacks: Subtract, ZeroPadding1D, Cropping1D, SpatialDropout3D, GlobalAveragePooling3D, GlobalMaxPooling3D', async () => {
    const L = (name: string, cls: string, config: Record<string, unknown>, inputs: string[]) => ({ name, class_name: cls, config: { name, trainable: true, dtype: 'float32', ...config }, inbound_nodes: [inputs.map((i) => [i, 0, 0, {}])] });
    const layers = [
      { name: 'a', class_name: 'InputLayer', config: { batch_input_shape: [null, 6, 3], dtype: 'float32', name: 'a' }, inbound_nodes: [] },
      { name: 'b', class_name: 'InputLayer', config: { batch_input_shape: [null, 6, 3], dtype: 'float32', name: 'b' }, inbound_nodes: [] },
      { name: 'v', class_name: 'InputLayer', config: { batch_input_shape: [null, 3, 4, 5, 2], dtype: 'float32', name: 'v' }, inbound_nodes: [] },
      L('subtract', 'Subtract', {}, ['a', 'b']),
      L('zero_padding1d', 'ZeroPadding1D', { padding: [2, 1] }, ['subtract']),
      L('cropping1d', 'Cropping1D', { cropping: [1, 0] }, ['zero_padding1d']),
      L('spatial_dropout3d', 'SpatialDropout3D', { rate: 0.5, data_format: 'channels_last' }, ['v']),
      L('gap3', 'GlobalAveragePooling3D', { data_format: 'channels_last', keepdims: false }, ['spatial_dropout3d']),
      L('gmp3', 'GlobalMaxPooling3D', { data_format: 'channels_last', keepdims: false }, ['v']),
    ];
    const modelJSON = { format: 'layers-model', modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: { class_name: 'Functional', config: { name: 'm', layers, input_layers: [['a', 0, 0], ['b', 0, 0], ['v', 0, 0]], output_layers: [['cropping1d', 0, 0], ['gap3', 0, 0], ['gmp3', 0, 0]] } } }, weightsManifest: [] };
    const c = await ck.loadModel({ load: async () => ({ modelJSON, weightData: new ArrayBuffer(0) }) } as unknown as ck.IOHandler);
    const a = rand(36, 1), b = rand(36, 2), v = rand(2 * 120, 3);
    const [y1, y2, y3] = c.predictAll([ck.tensor(a, [2, 6, 3]), ck.tensor(b, [2, 6, 3]), ck.tensor(v, [2, 3, 4, 5, 2])]);
    const want1 = tf.slice(tf.pad(tf.sub(tf.tensor(a, [2, 6, 3]), tf.tensor(b, [2, 6, 3])), [[0, 0], [2, 1], [0, 0]]), [0, 1, 0], [2, 8, 3]);
    expect(mismatch(y1.dataSync(), want1.dataSync() as Float32Array, TOL)).toBeNull();
    expect(mismatch(y2.dataSync(), tf.mean(tf.tensor(v, [2, 3, 4, 5, 2]), [1, 2, 3]).dataSync() as Float32Array, TOL)).toBeNull();
    expect(mismatch(y3.dataSync(), tf.max(tf.tensor(v, [2, 3, 4, 5, 2]), [1, 2, 3]).dataSync() as Float32Array, TOL)).toBeNull();
  });

  it("Keras 3's form: inbound_nodes as { args: [keras_tensor...] }, batch_shape, DTypePolicy dtypes, one-endpoint input_layers", async () => {
    const dt = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    const kt = (name: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 4], dtype: 'float32', keras_history: [name, 0, 0] } });
    const layers = [
      { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 4], dtype: 'float32', sparse: false, name: 'x' }, registered_name: null, name: 'x', inbound_nodes: [] },
      { module: 'keras.layers', class_name: 'Dense', config: { name: 'd1', trainable: true, dtype: dt, units: 3, activation: 'relu', use_bias: true, kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null }, bias_initializer: null, kernel_regularizer: null, bias_regularizer: null, kernel_constraint: null, bias_constraint: null }, registered_name: null, build_config: { input_shape: [null, 4] }, name: 'd1', inbound_nodes: [{ args: [kt('x')], kwargs: {} }] },
      { module: 'keras.layers', class_name: 'LeakyReLU', config: { name: 'lr', trainable: true, dtype: dt, negative_slope: 0.2 }, registered_name: null, name: 'lr', inbound_nodes: [{ args: [kt('d1')], kwargs: {} }] },
    ];
    const modelJSON = { format: 'layers-model', modelTopology: { keras_version: '3.3.3', backend: 'tensorflow', model_config: { class_name: 'Functional', config: { name: 'k3', layers, input_layers: ['x', 0, 0], output_layers: ['lr', 0, 0] } } }, weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'd1/kernel', shape: [4, 3], dtype: 'float32' }, { name: 'd1/bias', shape: [3], dtype: 'float32' }] }] };
    const k = rand(12, 1), b = rand(3, 2);
    const data = new Float32Array([...k, ...b]);
    const c = await ck.loadModel({ load: async () => ({ modelJSON, weightData: data.buffer }) } as unknown as ck.IOHandler);
    const x = rand(8, 3);
    const want = tf.leakyRelu(tf.relu(tf.add(tf.matMul(tf.tensor(x, [2, 4]), tf.tensor(k, [4, 3])), tf.tensor(b, [3]))), 0.2).dataSync();
    expect(mismatch(c.predict(ck.tensor(x, [2, 4])).dataSync(), want as Float32Array, TOL)).toBeNull();
  });

  it('int32 weights are read (as float values in the float layer); so are names prefixed by the model (converter style)', async () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2, name: 'd' })] });
    const art = await tfArtifacts(m);
    const weights = [{ name: 'sequential/d/kernel', shape: [3, 2], dtype: 'int32' }, { name: 'sequential/d/bias', shape: [2], dtype: 'float32' }];
    const data = new Uint8Array(32);
    new Int32Array(data.buffer, 0, 6).set([1, -2, 3, -4, 5, 70000]);
    new Float32Array(data.buffer, 24, 2).set([0.5, -0.25]);
    const c = await ck.loadModel({ load: async () => ({ modelJSON: { format: 'layers-model', modelTopology: art.modelTopology, weightsManifest: [{ paths: ['a.bin'], weights }] }, weightData: data.buffer }) } as unknown as ck.IOHandler);
    expect(Array.from(c.weights[0].value.dataSync())).toEqual([1, -2, 3, -4, 5, 70000]);
    expect(Array.from(c.weights[1].value.dataSync())).toEqual([0.5, -0.25]);
  });

  it('fromFetch (and loadModel of a URL) fetch model.json and every shard beside it', async () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [5], units: 4, name: 'a' }), tfl.layers.dense({ units: 2, name: 'b' })] });
    randomizeTf(m, 8);
    const files = layersModelFiles(await tfArtifacts(m), 2, 16);
    const served = new Map<string, Uint8Array>([['https://example.test/m/model.json', new TextEncoder().encode(JSON.stringify(files.modelJSON))], ...files.files.map((f) => [`https://example.test/m/${f.path}`, f.data] as [string, Uint8Array])]);
    const asked: string[] = [];
    const fetchStub = (async (u: string) => {
      asked.push(String(u));
      const b = served.get(String(u));
      return b ? new Response(b, { status: 200 }) : new Response('no', { status: 404 });
    }) as unknown as typeof fetch;
    const x = rand(10, 4);
    const want = (m.predict(tf.tensor(x, [2, 5])) as tf.Tensor).dataSync() as Float32Array;
    const c = await ck.loadModel(ck.fromFetch('https://example.test/m/model.json', { fetch: fetchStub }));
    expect(mismatch(c.predict(ck.tensor(x, [2, 5])).dataSync(), want, TOL)).toBeNull();
    expect(asked.length).toBe(1 + files.files.length);
    const prev = globalThis.fetch;
    globalThis.fetch = fetchStub;
    try {
      const c2 = await ck.loadModel('https://example.test/m/model.json');
      expect(mismatch(c2.predict(ck.tensor(x, [2, 5])).dataSync(), want, TOL)).toBeNull();
      served.delete(`https://example.test/m/${files.files[1].path}`);
      await expect(ck.loadModel('https://example.test/m/model.json')).rejects.toThrow(/fetching weight shard .*group1-shard2of\d\.bin gave HTTP 404/);
    } finally {
      globalThis.fetch = prev;
    }
  });

  it('a model used as a layer (Keras transfer learning: a Sequential base inside a functional model)', async () => {
    const base = tfl.sequential({ name: 'base', layers: [tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, name: 'base_conv' }), tfl.layers.batchNormalization({ name: 'base_bn' }), tfl.layers.prelu({ sharedAxes: [1, 2], name: 'base_prelu' })] });
    const x = tfl.input({ shape: [6, 6, 2] });
    const f = tfl.layers.flatten().apply(base.apply(x) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: x, outputs: tfl.layers.dense({ units: 2, name: 'head' }).apply(f) as tfl.SymbolicTensor });
    const c = await tfToCk(m, [[2, 6, 6, 2]]);
    expect(c.layers.map((l) => l.name)).toContain('base');
    c.dispose();
  });

  it('every activation both sides know, both ways (gelu exact, log_softmax, softplus, ...)', async () => {
    for (const act of ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'elu', 'selu', 'gelu', 'softplus', 'logSoftmax', 'swish', 'mish', 'softsign']) {
      const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [5], units: 4, activation: act as 'relu' }), tfl.layers.activation({ activation: act as 'relu' })] });
      const c = await tfToCk(m, [[3, 5]], 21);
      const back = await ckToTf(c, [[3, 5]]);
      const cfg = ((back.art.modelJSON as ck.TfjsModelJSON).modelTopology as { model_config: { config: { layers: { config: { activation: string } }[] } } }).model_config.config.layers;
      expect(cfg[0].config.activation).toBe(act === 'logSoftmax' ? 'log_softmax' : act);
      c.dispose();
    }
  });

  it('reads model.json and shards from a folder (Node), and the model_config wrapper of tensorflowjs_converter', async () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [5], units: 3, activation: 'relu' }), tfl.layers.batchNormalization(), tfl.layers.dense({ units: 2 })] });
    randomizeTf(m, 3);
    const files = layersModelFiles(await tfArtifacts(m), 2, 8);
    const topo = files.modelJSON.modelTopology as Record<string, unknown>;
    files.modelJSON.modelTopology = { keras_version: '2.15.0', backend: 'tensorflow', model_config: { class_name: topo.class_name, config: topo.config } };
    const dir = mkdtempSync(join(tmpdir(), 'ck-tfjs-'));
    const path = writeLayersModel(dir, files);
    const x = rand(10, 5);
    const want = (m.predict(tf.tensor(x, [2, 5])) as tf.Tensor).dataSync();
    for (const src of [path, dir]) {
      const c = await ck.loadModel(src);
      expect(mismatch(c.predict(ck.tensor(x, [2, 5])).dataSync(), want as Float32Array, TOL)).toBeNull();
      c.dispose();
    }
  });

  it('reads tf.io artifacts handed over as they are (modelTopology, weightSpecs, weightData)', async () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 2 })] });
    const art = await tfArtifacts(m);
    const c = await ck.loadModel({ load: async () => art as unknown as ck.ModelArtifacts });
    const x = rand(8, 2);
    expect(mismatch(c.predict(ck.tensor(x, [2, 4])).dataSync(), (m.predict(tf.tensor(x, [2, 4])) as tf.Tensor).dataSync() as Float32Array, TOL)).toBeNull();
  });
});

describe('quantised weights', () => {
  /** A one-Dense model whose kernel is stored quantised; the expected values come from tf.io.decodeWeights. */
  async function quantised(q: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number }, bytes: Uint8Array, order: 'scale-min' | 'min-scale' = 'scale-min') {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2, useBias: true, name: 'd' })] });
    const art = await tfArtifacts(m);
    const quant = q.dtype === 'float16' ? { dtype: 'float16' } : order === 'scale-min' ? { dtype: q.dtype, scale: q.scale, min: q.min } : { dtype: q.dtype, min: q.min, scale: q.scale };
    const weights = [
      { name: 'd/kernel', shape: [3, 2], dtype: 'float32', quantization: quant },
      { name: 'd/bias', shape: [2], dtype: 'float32', quantization: quant },
    ] as tf.io.WeightsManifestEntry[];
    const decoded = tf.io.decodeWeights(bytes.slice().buffer, weights);
    const modelJSON = { format: 'layers-model', modelTopology: art.modelTopology, weightsManifest: [{ paths: ['q.bin'], weights }] };
    const c = await ck.loadModel({ load: async () => ({ modelJSON, weightData: bytes.slice().buffer }) } as ck.IOHandler);
    const kernel = c.weights.find((w) => w.name.endsWith('kernel'))!.value.dataSync();
    const bias = c.weights.find((w) => w.name.endsWith('bias'))!.value.dataSync();
    expect(Array.from(kernel)).toEqual(Array.from(decoded['d/kernel'].dataSync()));
    expect(Array.from(bias)).toEqual(Array.from(decoded['d/bias'].dataSync()));
    c.dispose();
  }
  it('uint8 affine: q * scale + min (both key orders)', async () => {
    const bytes = Uint8Array.from([0, 1, 17, 128, 200, 255, 3, 250]);
    await quantised({ dtype: 'uint8', scale: 0.0123, min: -1.5 }, bytes);
    await quantised({ dtype: 'uint8', scale: 0.0123, min: -1.5 }, bytes, 'min-scale');
  });
  it('uint16 affine', async () => {
    const u = Uint16Array.from([0, 1, 300, 32768, 65535, 12345, 7, 60000]);
    await quantised({ dtype: 'uint16', scale: 3.1e-5, min: -0.9 }, new Uint8Array(u.buffer));
  });
  it('float16, subnormals and infinities included', async () => {
    const h = Uint16Array.from([0x3c00, 0xc000, 0x0001, 0x03ff, 0x7bff, 0x8000, 0x7c00, 0x3555]);
    await quantised({ dtype: 'float16' }, new Uint8Array(h.buffer));
  });
  it('float16 encoder round-trips every finite half', () => {
    for (let hb = 0; hb < 0x10000; hb++) {
      if ((hb & 0x7c00) === 0x7c00) continue;
      expect(floatToHalf(halfToFloat(hb))).toBe(hb === 0x8000 ? 0x8000 : hb);
    }
  });
  it('an unsupported quantised dtype is a ModelFormatError naming the weight', async () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2, name: 'd' })] });
    const art = await tfArtifacts(m);
    const weights = [{ name: 'd/kernel', shape: [3, 2], dtype: 'float32', quantization: { dtype: 'int4', scale: 1, min: 0 } }, { name: 'd/bias', shape: [2], dtype: 'float32' }];
    const h = { load: async () => ({ modelJSON: { format: 'layers-model', modelTopology: art.modelTopology, weightsManifest: [{ paths: ['a.bin'], weights }] }, weightData: new ArrayBuffer(32) }) } as unknown as ck.IOHandler;
    await expect(ck.loadModel(h)).rejects.toThrow(/weight 'd\/kernel'.*quantisation dtype "int4" is not supported; expected uint8, uint16 or float16/);
  });
});

import { floatToHalf, halfToFloat, quantizeAffine } from '../../src/models/tfjs_layers/weights.js';

describe('convkit -> TF.js Layers', () => {
  it('a Sequential model of the Keras layers convkit has, loaded by tf.loadLayersModel', async () => {
    const L = ck.layers;
    const m = ck.sequential([
      L.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', inputShape: [12, 12, 3] }),
      L.batchNormalization({ momentum: 0.9 }),
      L.conv2d({ filters: 5, kernelSize: 3, padding: 1, useBias: false }),
      L.leakyRelu({ alpha: 0.1 }),
      L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: [[1, 0], [2, 1]], activation: 'relu6' }),
      L.zeroPadding2d({ padding: 1 }),
      L.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
      L.averagePooling2d({ poolSize: 3, strides: 2, padding: 1, countIncludePad: true }),
      L.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }),
      L.prelu(),
      L.relu({ maxValue: 0.5 }),
      L.elu(),
      L.dropout(0.2),
      L.flatten(),
      L.dense({ units: 6, activation: 'selu' }),
      L.activation('sigmoid'),
      L.dense({ units: 3 }),
      L.softmax(),
    ], { seed: 4 });
    for (const w of m.weights) w.value = ck.tensor(rand(w.value.size, w.name.length + 3, 0.2, 1.2), [...w.shape]);
    const { art } = await ckToTf(m, [[2, 12, 12, 3]]);
    const j = art.modelJSON as ck.TfjsModelJSON;
    expect(j.format).toBe('layers-model');
    expect(j.generatedBy).toMatch(/^convkit /);
    const mc = (j.modelTopology as { model_config: { class_name: string; config: { layers: { class_name: string; config: Record<string, unknown> }[] } } }).model_config;
    expect(mc.class_name).toBe('Sequential');
    expect(mc.config.layers[0].config.batch_input_shape).toEqual([null, 12, 12, 3]);
    expect(mc.config.layers.map((l) => l.class_name)).toContain('ZeroPadding2D');
    expect(Object.keys(mc.config.layers[0].config)).toEqual(expect.arrayContaining(['filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'use_bias', 'activation']));
    const names = (j.weightsManifest as { weights: { name: string }[] }[])[0].weights.map((w) => w.name);
    expect(names).toEqual(expect.arrayContaining([`${m.layers[1].name}/moving_mean`, `${m.layers[1].name}/moving_variance`, `${m.layers[4].name}/depthwise_kernel`]));
    // And back: the written model loads in convkit and predicts the same.
    const back = await ck.loadModel(ck.memoryHandler(art));
    const x = ck.tensor(rand(2 * 12 * 12 * 3, 9), [2, 12, 12, 3]);
    expect(mismatch(back.predict(x).dataSync(), m.predict(x).dataSync(), TOL)).toBeNull();
  });

  it('a functional model with a shared layer, merges, 1D/3D layers and two outputs', async () => {
    const L = ck.layers;
    const a = ck.input([6, 6, 4], { name: 'image' });
    const s = ck.input([10, 3], { name: 'signal' });
    const shared = L.conv2d({ filters: 4, kernelSize: 1, name: 'shared' });
    const c1 = shared.apply(a);
    const c2 = shared.apply(c1);
    const sum = L.add().apply([c1, c2]);
    const prod = L.multiply().apply([sum, c1]);
    const cat = L.concatenate().apply([prod, c2]);
    const ln = L.layerNormalization({ epsilon: 1e-5 }).apply(cat);
    const gap = L.globalAveragePooling2d().apply(ln);
    const gmp = L.globalMaxPooling2d().apply(ln);
    const c1d = L.conv1d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(s);
    const f1 = L.flatten().apply(c1d);
    const j = L.concatenate().apply([gap, gmp, f1]);
    const r = L.reshape({ targetShape: [23, 2] }).apply(j);
    const p = L.permute({ dims: [2, 1] }).apply(r);
    const out1 = L.dense({ units: 3, activation: 'softmax' }).apply(L.flatten().apply(p));
    const out2 = L.dense({ units: 2 }).apply(j);
    const m = ck.model({ inputs: [a, s], outputs: [out1, out2], name: 'two_heads' });
    await ckToTf(m, [[2, 6, 6, 4], [2, 10, 3]]);
  });

  it('the Keras layers added for issue 16, written and loaded by tfjs-layers', async () => {
    const L = ck.layers;
    const x = ck.input([8, 8, 3]);
    const r = L.rescaling({ scale: 0.5, offset: -0.1 }).apply(x);
    const sc = L.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 1, activation: 'relu' }).apply(r);
    const up = L.upSampling2d({ size: [2, 1] }).apply(sc);
    const upb = L.upSampling2d({ size: [2, 1], interpolation: 'bilinear' }).apply(sc);
    const cr = L.cropping2d({ cropping: [[1, 0], [0, 1]] }).apply(up);
    const crb = L.cropping2d({ cropping: [[1, 0], [0, 1]] }).apply(upb);
    const avg = L.average().apply([cr, crb]);
    const mx = L.maximum().apply([cr, crb]);
    const out1 = L.flatten().apply(L.minimum().apply([avg, mx]));
    const s = ck.input([12, 3]);
    const c1 = L.conv1d({ filters: 4, kernelSize: 3 }).apply(s);
    const p2 = L.averagePooling1d({ poolSize: 3, strides: 1, padding: 'same' }).apply(L.maxPooling1d({ poolSize: 2 }).apply(c1));
    const d1 = L.spatialDropout1d({ rate: 0.3 }).apply(p2);
    const out2 = L.concatenate().apply([L.globalAveragePooling1d().apply(d1), L.globalMaxPooling1d().apply(d1)]);
    const m = ck.model({ inputs: [x, s], outputs: [out1, out2] });
    await ckToTf(m, [[2, 8, 8, 3], [2, 12, 3]]);
  });

  it('a shared convolution with explicit padding keeps its ZeroPadding2D on every use; float64 models are written as float32', async () => {
    const L = ck.layers;
    const x = ck.input([6, 6, 2], { dtype: 'float64' });
    const conv = L.conv2d({ filters: 2, kernelSize: 3, padding: 1, name: 'shared' });
    const y = conv.apply(conv.apply(x));
    const m = ck.model({ inputs: x, outputs: L.flatten().apply(y) });
    const h = ck.memoryHandler();
    await m.save(h, { format: 'tfjs-layers' });
    const tm = await tfLoad(h.artifacts!);
    const xs = rand(2 * 72, 6);
    const want = m.predict(ck.tensor(Float64Array.from(xs), [2, 6, 6, 2], 'float64')).dataSync();
    expect(mismatch((tm.predict(tf.tensor(xs, [2, 6, 6, 2])) as tf.Tensor).dataSync(), want, TOL)).toBeNull();
    const spec = (h.artifacts!.modelJSON as { weightsManifest: { weights: { dtype: string }[] }[] }).weightsManifest[0].weights;
    expect(spec.every((w) => w.dtype === 'float32')).toBe(true);
  });

  it('Keras classes tfjs-layers lacks round-trip through convkit: ZeroPadding1D/3D before explicitly padded Conv1D/Conv3D, UpSampling1D/3D, Cropping3D, SpatialDropout2D/3D, global 3D pools, Subtract', async () => {
    const L = ck.layers;
    const s1 = ck.input([10, 2]);
    const y1 = L.globalMaxPooling1d().apply(L.upSampling1d({ size: 2 }).apply(L.conv1d({ filters: 3, kernelSize: 3, padding: [[2, 1]], activation: 'relu' }).apply(s1)));
    const v = ck.input([4, 5, 6, 2]);
    const c3 = L.spatialDropout3d({ rate: 0.2 }).apply(L.conv3d({ filters: 2, kernelSize: 3, padding: 1 }).apply(v));
    const y2 = L.flatten().apply(L.cropping3d({ cropping: [[1, 0], [0, 1], [1, 1]] }).apply(L.upSampling3d({ size: [1, 2, 1] }).apply(c3)));
    const y3 = L.subtract().apply([L.globalAveragePooling3d().apply(c3), L.globalMaxPooling3d().apply(c3)]);
    const im = ck.input([5, 5, 2]);
    const y4 = L.flatten().apply(L.spatialDropout2d({ rate: 0.5 }).apply(im));
    const m = ck.model({ inputs: [s1, v, im], outputs: [y1, y2, y3, y4] });
    const h = ck.memoryHandler();
    await m.save(h, { format: 'tfjs-layers' });
    const names = ((h.artifacts!.modelJSON as ck.TfjsModelJSON).modelTopology as { model_config: { config: { layers: { class_name: string }[] } } }).model_config.config.layers.map((l) => l.class_name);
    expect(names).toEqual(expect.arrayContaining(['ZeroPadding1D', 'ZeroPadding3D', 'UpSampling1D', 'UpSampling3D', 'Cropping3D', 'SpatialDropout2D', 'SpatialDropout3D', 'GlobalAveragePooling3D', 'GlobalMaxPooling3D', 'Subtract']));
    const back = await ck.loadModel(h);
    const xs = [ck.tensor(rand(40, 1), [2, 10, 2]), ck.tensor(rand(2 * 240, 2), [2, 4, 5, 6, 2]), ck.tensor(rand(100, 3), [2, 5, 5, 2])];
    const want = m.predictAll(xs), got = back.predictAll(xs);
    want.forEach((w, i) => expect(mismatch(got[i].dataSync(), w.dataSync(), TOL)).toBeNull());
  });

  it("quantize: 'uint8' | 'uint16' | 'float16' writes quantised shards that tfjs-layers and convkit decode alike", async () => {
    const L = ck.layers;
    const m = ck.sequential([L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [6, 6, 2] }), L.batchNormalization(), L.flatten(), L.dense({ units: 3 })], { seed: 5 });
    const x = rand(2 * 72, 8);
    const exact = m.predict(ck.tensor(x, [2, 6, 6, 2])).dataSync();
    for (const [q, bytes, tol] of [['uint8', 1, 0.05], ['uint16', 2, 1e-3], ['float16', 2, 1e-2]] as const) {
      const h = ck.memoryHandler();
      await m.save(h, { format: 'tfjs-layers', quantize: q });
      const specs = (h.artifacts!.modelJSON as { weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] }).weightsManifest[0].weights;
      expect(specs.every((w) => w.quantization?.dtype === q)).toBe(true);
      expect(h.artifacts!.weightData.byteLength).toBe(bytes * m.countParams());
      const mine = await ck.loadModel(h);
      const theirs = tf.io.decodeWeights(h.artifacts!.weightData, specs);
      for (const w of mine.weights) {
        const keras = w.name.replace(/movingMean$/, 'moving_mean').replace(/movingVariance$/, 'moving_variance');
        expect(Array.from(w.value.dataSync()), w.name).toEqual(Array.from(theirs[keras].dataSync()));
      }
      const tm = await tfLoad(h.artifacts!);
      const got = (tm.predict(tf.tensor(x, [2, 6, 6, 2])) as tf.Tensor).dataSync();
      expect(mismatch(got, mine.predict(ck.tensor(x, [2, 6, 6, 2])).dataSync(), TOL)).toBeNull();
      expect(mismatch(got, exact, { atol: tol, rtol: tol })).toBeNull();
    }
    // zero stays exactly zero under affine quantisation (the converter's nudged minimum)
    const { q, scale, min } = quantizeAffine([-0.3, 0, 0.7, 0.11], 'uint8');
    expect(Math.fround(q[1] * scale + min)).toBe(0);
  });

  it('3D layers', async () => {
    const L = ck.layers;
    const m = ck.sequential([L.conv3d({ filters: 3, kernelSize: 3, padding: 'same', inputShape: [6, 6, 6, 2] }), L.maxPooling3d({ poolSize: 2 }), L.averagePooling3d({ poolSize: 2, strides: 1, padding: 'same' }), L.flatten(), L.dense({ units: 2 })], { seed: 2 });
    await ckToTf(m, [[1, 6, 6, 6, 2]]);
  });

  it('writes 4 MiB shards like TF.js, and smaller ones on request; the folder loads in convkit', async () => {
    const m = ck.sequential([ck.layers.dense({ units: 1100, inputShape: [1000] })], { seed: 1 });
    const h = ck.memoryHandler();
    await m.save(h, { format: 'tfjs-layers' });
    const j = h.artifacts!.modelJSON as ck.TfjsModelJSON;
    expect((j.weightsManifest as { paths: string[] }[])[0].paths).toEqual(['group1-shard1of2.bin', 'group1-shard2of2.bin']);
    expect(h.artifacts!.weightFiles!.map((f) => f.byteLength)).toEqual([4 * 1024 * 1024, 4 * 1100 * 1001 - 4 * 1024 * 1024]);
    const dir = mkdtempSync(join(tmpdir(), 'ck-tfjs-w-'));
    await m.save(dir, { format: 'tfjs-layers', shardBytes: 1 << 20 });
    const back = await ck.loadModel(join(dir, 'model.json'));
    const x = ck.tensor(rand(1000, 3), [1, 1000]);
    expect(mismatch(back.predict(x).dataSync(), m.predict(x).dataSync(), TOL)).toBeNull();
    m.dispose();
    back.dispose();
  });

  // Zoo models TF.js Layers can represent (the others are named by their error below).
  const ZOO_OK: [string, Record<string, unknown>, number[]][] = [
    ['lenet5', {}, [1, 32, 32, 1]],
    ['smallCnn28', {}, [2, 28, 28, 1]],
    ['smallCnn8', {}, [2, 8, 8, 1]],
    ['mobilenetV2', { inputShape: [32, 32, 3], classes: 5 }, [1, 32, 32, 3]],
    // hardSwish and hardSigmoid (squeeze-excitation gates) written as Rescaling, ReLU(max 1), Multiply
    ['mobilenetV3Small', { inputShape: [64, 64, 3], classes: 5 }, [1, 64, 64, 3]],
    ['resnet18', { inputShape: [32, 32, 3], classes: 5 }, [1, 32, 32, 3]],
    ['squeezenet1_1', { inputShape: [64, 64, 3], classes: 5 }, [1, 64, 64, 3]],
    ['googlenet', { inputShape: [64, 64, 3], classes: 5 }, [1, 64, 64, 3]],
    ['vgg11', { inputShape: [32, 32, 3], classes: 5 }, [1, 32, 32, 3]],
  ];
  for (const [name, opts, shape] of ZOO_OK) {
    it(`zoo ${name} predicts the same in tfjs-layers`, async () => {
      const m = ck.zoo.get(name, opts as never);
      // Non-trivial batch-norm statistics.
      for (const w of m.weights) if (/moving(Mean|Variance)$/.test(w.name)) w.value = ck.tensor(rand(w.value.size, 5, 0.5, 1.5), [...w.shape]);
      await ckToTf(m, [shape]);
      m.dispose();
    });
  }
  it('zoo models with a layer Keras lacks give an error naming it', async () => {
    const cases: [string, RegExp][] = [
      ['alexnet', /model 'alexnet': layer 'norm1' \(LRN\) has no Keras equivalent/],
      ['zfnet', /layer 'norm1' \(LRN\) has no Keras equivalent/],
    ];
    for (const [name, re] of cases) {
      const m = ck.zoo.get(name, (name === 'alexnet' ? { classes: 5 } : { inputShape: [64, 64, 3], classes: 5 }) as never);
      await expect(m.save(ck.memoryHandler(), { format: 'tfjs-layers' })).rejects.toThrow(re);
      m.dispose();
    }
  });
  it('other layers without a Keras equivalent, and options Keras lacks', async () => {
    const L = ck.layers;
    const bad: [ck.Layer, RegExp][] = [
      [L.minPooling2d(), /\(MinPooling2D\) has no Keras equivalent/],
      [L.instanceNormalization(), /\(InstanceNormalization\) has no Keras equivalent/],
      [L.conv2d({ filters: 4, kernelSize: 3, groups: 2 }), /groups=2 has no TF\.js Layers equivalent/],
      [L.maxPooling2d({ padding: 1 }), /explicit padding 1 has no Keras equivalent/],
      [L.maxPooling2d({ ceilMode: true }), /ceilMode has no Keras equivalent/],
    ];
    for (const [layer, re] of bad) {
      const m = ck.sequential([layer], { inputShape: [8, 8, 4] });
      await expect(m.save(ck.memoryHandler(), { format: 'tfjs-layers' })).rejects.toThrow(re);
    }
  });
});

describe('errors reading TF.js Layers models', () => {
  async function files() {
    const m = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [4, 4, 2], filters: 3, kernelSize: 3, name: 'c' }), tfl.layers.flatten({ name: 'f' }), tfl.layers.dense({ units: 2, name: 'd' })] });
    return layersModelFiles(await tfArtifacts(m), 2, 64);
  }
  const topo = (f: Awaited<ReturnType<typeof files>>) => (f.modelJSON.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers;

  it('an unknown layer class names the layer', async () => {
    const f = await files();
    topo(f)[1].class_name = 'Lambda';
    await expect(ck.loadModel(handlerOf(f))).rejects.toThrow(/layer 'f' \(Lambda\): Keras class Lambda is not supported/);
  });
  it('an unsupported option names the layer and the option', async () => {
    const f = await files();
    topo(f)[0].config.data_format = 'channels_first';
    await expect(ck.loadModel(handlerOf(f))).rejects.toThrow(/layer 'c' \(Conv2D\): data_format "channels_first" is not supported: convkit is channels-last/);
    const g = await files();
    topo(g)[2].config.activation = 'hard_sigmoid';
    await expect(ck.loadModel(handlerOf(g))).rejects.toThrow(/layer 'd' \(Dense\): activation 'hard_sigmoid' is not supported/);
    const h = await files();
    topo(h)[2].config.frobnicate = 3;
    await expect(ck.loadModel(handlerOf(h))).rejects.toThrow(/layer 'd' \(Dense\): option\(s\) frobnicate=3 not supported/);
  });
  it('a missing or short shard names the file and the weight', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ck-tfjs-e-'));
    const f = await files();
    const path = writeLayersModel(dir, f);
    const { rmSync, truncateSync } = await import('node:fs');
    truncateSync(join(dir, f.files[f.files.length - 1].path), 3);
    await expect(ck.loadModel(path)).rejects.toThrow(/weights group 1 \(shards .*group2-shard.*\) holds \d+ bytes, but its 2 weight\(s\) need \d+; weight 'd\/kernel' runs past the end \(a missing or short shard\?\)/);
    rmSync(join(dir, f.files[0].path));
    await expect(ck.loadModel(path)).rejects.toThrow(/weight shard .*group1-shard1of\d\.bin \(listed in weightsManifest\) does not exist/);
  });
  it('a weight whose shape does not fit its layer', async () => {
    const f = await files();
    const w = (f.modelJSON.weightsManifest as { weights: { name: string; shape: number[] }[] }[]).flatMap((g) => g.weights).find((x) => x.name === 'd/kernel')!;
    w.shape = [24, 2];
    await expect(ck.loadModel({ load: handlerOf(f).load, } as ck.IOHandler)).rejects.toThrow(ck.ModelFormatError);
    await expect(ck.loadModel(handlerOf(f))).rejects.toThrow(/layer 'd' \(Dense\): weight 'd\/kernel' has shape \[24, 2\] in .*, but the layer expects \[12, 2\]/);
  });
  it('a weight missing from the manifest, and one no layer uses', async () => {
    const f = await files();
    const g0 = (f.modelJSON.weightsManifest as { weights: { name: string }[] }[])[0];
    g0.weights[0].name = 'c/kernel_typo';
    await expect(ck.loadModel(handlerOf(f))).rejects.toThrow(/layer 'c' \(Conv2D\): weight 'c\/kernel' .* is not in the weights manifest/);
  });
  it('a failed load leaves no tensor behind (nothing half-loaded)', async () => {
    const f = await files();
    (f.modelJSON.weightsManifest as { weights: { name: string; shape: number[] }[] }[]).flatMap((g) => g.weights).find((x) => x.name === 'd/bias')!.shape = [3];
    const before = JSON.stringify(ck.memory());
    for (let i = 0; i < 3; i++) await expect(ck.loadModel(handlerOf(f))).rejects.toThrow(/weight 'd\/bias' has shape \[3\]/);
    expect(JSON.stringify(ck.memory())).toBe(before);
  });
  it('a TF.js graph model is refused by name', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ck-tfjs-g-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(d, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }));
    await expect(ck.loadModel(d)).rejects.toThrow(/is a TF\.js graph model \(format "graph-model"/);
  });
  it('an input size left open is refused, not half-loaded', async () => {
    const f = await files();
    topo(f)[0].config.batch_input_shape = [null, 4, null, 2];
    await expect(ck.loadModel(handlerOf(f))).rejects.toThrow(/batch_input_shape .* has an unknown or invalid size/);
  });
});

describe('committed Keras-style fixture', () => {
  it('test/fixtures/tfjs_layers/keras_functional loads (model_config wrapper, Keras 2 names, uint8 + float16 weights)', async () => {
    const c = await ck.loadModel('test/fixtures/tfjs_layers/keras_functional/model.json');
    const expected = (await import('../fixtures/tfjs_layers/keras_functional/expected.json', { with: { type: 'json' } })).default as { input: number[]; shape: number[]; output: number[] };
    const y = c.predict(ck.tensor(expected.input, expected.shape));
    expect(mismatch(y.dataSync(), expected.output, TOL)).toBeNull();
    c.dispose();
  });
});
