/**
 * Writes test/fixtures/tfjs_layers/keras_functional: a small functional CNN in the form
 * tensorflowjs_converter gives a Keras 2 model (modelTopology with keras_version, backend
 * and the model_config wrapper, class_name "Functional", Keras 2's default layer names,
 * inbound_nodes as nested lists), with weights in two groups: the conv kernel uint8-
 * quantised, the dense kernel float16, the rest float32. No Keras-written model.json with a
 * compatible licence was found to commit, so this one is hand-made; expected.json holds what
 * TF.js itself (tfjs-layers 4.22, cpu) predicts from these very files.
 *
 *   node scripts/make-tfjs-layers-fixture.mjs
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { mkdirSync, writeFileSync } from 'node:fs';

const dir = 'test/fixtures/tfjs_layers/keras_functional';
await tf.setBackend('cpu');
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
const arr = (n, lo = -0.5, hi = 0.5) => Float32Array.from({ length: n }, () => lo + ((rnd() + 1) / 2) * (hi - lo));

const init = (cls, cfg = {}) => ({ class_name: cls, config: cfg });
const glorot = init('GlorotUniform', { seed: null });
const layers = [
  { class_name: 'InputLayer', config: { batch_input_shape: [null, 8, 8, 3], dtype: 'float32', sparse: false, ragged: false, name: 'input_1' }, name: 'input_1', inbound_nodes: [] },
  { class_name: 'Conv2D', config: { name: 'conv2d', trainable: true, dtype: 'float32', filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation: 'linear', use_bias: true, kernel_initializer: glorot, bias_initializer: init('Zeros'), kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null }, name: 'conv2d', inbound_nodes: [[['input_1', 0, 0, {}]]] },
  { class_name: 'BatchNormalization', config: { name: 'batch_normalization', trainable: true, dtype: 'float32', axis: [3], momentum: 0.99, epsilon: 0.001, center: true, scale: true, beta_initializer: init('Zeros'), gamma_initializer: init('Ones'), moving_mean_initializer: init('Zeros'), moving_variance_initializer: init('Ones'), beta_regularizer: null, gamma_regularizer: null, beta_constraint: null, gamma_constraint: null }, name: 'batch_normalization', inbound_nodes: [[['conv2d', 0, 0, {}]]] },
  { class_name: 'ReLU', config: { name: 're_lu', trainable: true, dtype: 'float32', max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }, name: 're_lu', inbound_nodes: [[['batch_normalization', 0, 0, {}]]] },
  { class_name: 'DepthwiseConv2D', config: { name: 'depthwise_conv2d', trainable: true, dtype: 'float32', kernel_size: [3, 3], strides: [2, 2], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation: 'linear', use_bias: true, bias_initializer: init('Zeros'), bias_regularizer: null, activity_regularizer: null, bias_constraint: null, depth_multiplier: 1, depthwise_initializer: glorot, depthwise_regularizer: null, depthwise_constraint: null }, name: 'depthwise_conv2d', inbound_nodes: [[['re_lu', 0, 0, {}]]] },
  { class_name: 'Add', config: { name: 'add', trainable: true, dtype: 'float32' }, name: 'add', inbound_nodes: [[['depthwise_conv2d', 0, 0, {}], ['max_pooling2d', 0, 0, {}]]] },
  { class_name: 'MaxPooling2D', config: { name: 'max_pooling2d', trainable: true, dtype: 'float32', pool_size: [2, 2], padding: 'valid', strides: [2, 2], data_format: 'channels_last' }, name: 'max_pooling2d', inbound_nodes: [[['re_lu', 0, 0, {}]]] },
  { class_name: 'GlobalAveragePooling2D', config: { name: 'global_average_pooling2d', trainable: true, dtype: 'float32', data_format: 'channels_last', keepdims: false }, name: 'global_average_pooling2d', inbound_nodes: [[['add', 0, 0, {}]]] },
  { class_name: 'Dropout', config: { name: 'dropout', trainable: true, dtype: 'float32', rate: 0.2, noise_shape: null, seed: null }, name: 'dropout', inbound_nodes: [[['global_average_pooling2d', 0, 0, {}]]] },
  { class_name: 'Dense', config: { name: 'dense', trainable: true, dtype: 'float32', units: 3, activation: 'softmax', use_bias: true, kernel_initializer: glorot, bias_initializer: init('Zeros'), kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null }, name: 'dense', inbound_nodes: [[['dropout', 0, 0, {}]]] },
];
const model_config = { class_name: 'Functional', config: { name: 'model', layers, input_layers: [['input_1', 0, 0]], output_layers: [['dense', 0, 0]] } };

// Weights: group 1 (conv, uint8 kernel; batch norm), group 2 (depthwise; dense float16 kernel).
const u8 = (n) => Uint8Array.from({ length: n }, () => Math.floor(((rnd() + 1) / 2) * 256) % 256);
const f16 = (n) => Uint16Array.from({ length: n }, () => {
  // Halves in [-1, 1): sign, exponent 10..14, any mantissa.
  const s = rnd() < 0 ? 0x8000 : 0;
  return s | ((10 + Math.floor(((rnd() + 1) / 2) * 5)) << 10) | Math.floor(((rnd() + 1) / 2) * 1024) % 1024;
});
const f32b = (a) => new Uint8Array(a.buffer);
const g1 = [
  ['conv2d/kernel', [3, 3, 3, 4], { dtype: 'uint8', min: -0.41, scale: 0.0033 }, u8(108)],
  ['conv2d/bias', [4], null, f32b(arr(4))],
  ['batch_normalization/gamma', [4], null, f32b(arr(4, 0.5, 1.5))],
  ['batch_normalization/beta', [4], null, f32b(arr(4))],
  ['batch_normalization/moving_mean', [4], null, f32b(arr(4, -0.3, 0.3))],
  ['batch_normalization/moving_variance', [4], null, f32b(arr(4, 0.5, 2))],
];
const g2 = [
  ['depthwise_conv2d/depthwise_kernel', [3, 3, 4, 1], null, f32b(arr(36))],
  ['depthwise_conv2d/bias', [4], null, f32b(arr(4))],
  ['dense/kernel', [4, 3], { dtype: 'float16' }, new Uint8Array(f16(12).buffer)],
  ['dense/bias', [3], null, f32b(arr(3))],
];
const manifest = [];
const files = {};
for (const [gi, g, shard] of [[1, g1, 160], [2, g2, 100]]) {
  const bytes = new Uint8Array(g.reduce((n, w) => n + w[3].byteLength, 0));
  let at = 0;
  for (const w of g) {
    bytes.set(w[3], at);
    at += w[3].byteLength;
  }
  const count = Math.ceil(bytes.byteLength / shard);
  const paths = [];
  for (let i = 0; i < count; i++) {
    const p = `group${gi}-shard${i + 1}of${count}.bin`;
    paths.push(p);
    files[p] = bytes.slice(i * shard, (i + 1) * shard);
  }
  manifest.push({ paths, weights: g.map(([name, shape, q]) => ({ name, shape, dtype: 'float32', ...(q ? { quantization: q } : {}) })) });
}
const modelJSON = {
  format: 'layers-model',
  generatedBy: 'keras v2.x (hand-made fixture in the form tensorflowjs_converter writes)',
  convertedBy: 'TensorFlow.js Converter v4.x (hand-made fixture)',
  modelTopology: { keras_version: '2.x', backend: 'tensorflow', model_config, training_config: { loss: 'categorical_crossentropy', metrics: null, weighted_metrics: null, loss_weights: null, optimizer_config: { class_name: 'Adam', config: { name: 'Adam', learning_rate: 0.001 } } } },
  weightsManifest: manifest,
};
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}/model.json`, JSON.stringify(modelJSON, null, 1));
for (const [p, b] of Object.entries(files)) writeFileSync(`${dir}/${p}`, b);

// What TF.js predicts from these files.
const all = Object.values(files);
const weightData = new Uint8Array(all.reduce((n, b) => n + b.byteLength, 0));
let at = 0;
for (const b of all) {
  weightData.set(b, at);
  at += b.byteLength;
}
const m = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJSON.modelTopology, weightSpecs: manifest.flatMap((g) => g.weights), weightData: weightData.buffer }));
const shape = [2, 8, 8, 3];
const input = Array.from(arr(2 * 8 * 8 * 3, -1, 1));
const output = Array.from(m.predict(tf.tensor(input, shape)).dataSync());
writeFileSync(`${dir}/expected.json`, JSON.stringify({ note: 'TF.js (tfjs-layers 4.22, cpu) prediction from these files; see scripts/make-tfjs-layers-fixture.mjs', shape, input, output }));
console.log('wrote', dir, output.slice(0, 3));
