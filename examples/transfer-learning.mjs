#!/usr/bin/env node
// Transfer learning in three steps, on the embedded 8x8 digits:
//  1. train a CNN on the digits 0-4 only;
//  2. freeze its convolutional layers, replace its 5-class head by a fresh one, and train the
//     head alone on the digits 5-9 (the frozen filters are reused as they are);
//  3. fine-tune: unfreeze everything and train a little more with a small learning rate.
//
//   node examples/transfer-learning.mjs [--quick] [--json]
import * as ck from 'convkit';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const log = (...a) => { if (!json) console.log(...a); };

await ck.setBackend('wasm');
const digits = await ck.loadDigits();
/** The images of `classes`, labelled 0..classes.length-1. */
function only(classes) {
  const idx = [];
  for (let i = 0; i < digits.length; i++) if (classes.includes(digits.y[i])) idx.push(i);
  const sub = digits.subset(idx);
  const y = Int32Array.from(sub.y, (c) => classes.indexOf(c));
  return new ck.Dataset({ x: sub.x, sampleShape: sub.sampleShape, y, classNames: classes.map(String) });
}
const loss = { name: 'sparseCategoricalCrossentropy', fromLogits: true };
const epochs = quick ? 3 : 10;

// 1. the source task
const source = only([0, 1, 2, 3, 4]).trainValTest({ test: 0.2, seed: 0 });
const model = ck.zoo.smallCnn8({ classes: 5, seed: 1 });
model.compile({ optimizer: { name: 'adam', lr: 0.003 }, loss, metrics: ['accuracy'] });
await model.fit(source.train, { epochs, batchSize: 32, seed: 1, verbose: 0 });
const sourceAcc = (await model.evaluate(source.test)).accuracy;
log(`1. digits 0-4: held-out accuracy ${(100 * sourceAcc).toFixed(1)}%`);

// 2. freeze the feature extractor, new head for the target task
const target = only([5, 6, 7, 8, 9]).trainValTest({ test: 0.2, seed: 0 });
model.freeze(['conv1', 'conv2']);
model.replaceHead(ck.layers.dense({ units: 5, name: 'head' }));
const frozenBefore = model.getLayer('conv1').weights[0].value.toArray();
model.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss, metrics: ['accuracy'] });
const trainable = model.trainableWeights.length;
await model.fit(target.train, { epochs, batchSize: 32, seed: 2, verbose: 0 });
const headAcc = (await model.evaluate(target.test)).accuracy;
const frozenKept = JSON.stringify(model.getLayer('conv1').weights[0].value.toArray()) === JSON.stringify(frozenBefore);
log(`2. digits 5-9, new head only (${trainable} trainable tensors, conv1 unchanged: ${frozenKept}): ${(100 * headAcc).toFixed(1)}%`);

// 3. fine-tune everything with a small learning rate
model.unfreeze();
model.compile({ optimizer: { name: 'adam', lr: 0.0005 }, loss, metrics: ['accuracy'] });
await model.fit(target.train, { epochs: quick ? 2 : 5, batchSize: 32, seed: 3, verbose: 0 });
const fineAcc = (await model.evaluate(target.test)).accuracy;
log(`3. fine-tuned: ${(100 * fineAcc).toFixed(1)}%`);
if (json) console.log(JSON.stringify({ sourceAcc, headAcc, fineAcc, frozenKept, trainableWhileFrozen: trainable }));
