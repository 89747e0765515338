#!/usr/bin/env node
// Save a trained model (model.json + weights.bin), load it back, and check that it predicts
// exactly the same numbers; then the same through memory (ck.memoryHandler) and ONNX.
//
//   node examples/save-load.mjs [--quick] [--out DIR] [--json]    (DIR defaults to ./convkit-example-model)
import * as ck from 'convkit';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : 'convkit-example-model';

await ck.setBackend('wasm');
const { train, test } = (await ck.loadDigits()).trainValTest({ test: 0.2, seed: 0 });
const model = ck.zoo.smallCnn8({ seed: 1 });
model.compile({ optimizer: 'adam', loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
await model.fit(train, { epochs: quick ? 2 : 10, batchSize: 32, seed: 1, verbose: 0 });

const { x } = test.take(16).toTensors();
const before = model.predict(x).dataSync();
const same = (m) => { const p = m.predict(x).dataSync(); return p.every((v, i) => v === before[i]); };

await model.save(out);                                   // a folder: model.json + weights.bin
const fromDisk = await ck.loadModel(out);
const mem = ck.memoryHandler();
await model.save(mem);                                   // any { save, load } IOHandler works
const fromMemory = await ck.loadModel(mem);
await model.save(`${out}/model.onnx`);                    // ONNX, read back by content
const fromOnnx = await ck.loadModel(`${out}/model.onnx`);
const onnxDiff = Math.max(...fromOnnx.predict(x).dataSync().map((v, i) => Math.abs(v - before[i])));

// a loaded model holds layers and weights, not the training set-up: compile it to evaluate or train on
fromDisk.compile({ optimizer: 'adam', loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
const result = { out, diskIdentical: same(fromDisk), memoryIdentical: same(fromMemory), onnxMaxAbsDiff: onnxDiff, accuracy: (await fromDisk.evaluate(test)).accuracy };
if (json) console.log(JSON.stringify(result));
else {
  console.log(`saved to ${out}/ (model.json, weights.bin, model.onnx)`);
  console.log(`loaded from disk: identical predictions ${result.diskIdentical}; from memory: ${result.memoryIdentical}; from ONNX: max |diff| ${onnxDiff.toExponential(2)}`);
  console.log(`the loaded model's held-out accuracy: ${(100 * result.accuracy).toFixed(2)}%`);
}
