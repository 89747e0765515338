#!/usr/bin/env node
// Train a small CNN on the 8x8 UCI digits that ship inside convkit, on the wasm backend,
// and report held-out accuracy and the confusion matrix.
//
//   node examples/train-digits.mjs            20 epochs (about 98% held-out)
//   node examples/train-digits.mjs --quick    4 epochs (a few seconds; above 90%)
//   --json                                    the last line of stdout is a JSON summary
import * as ck from 'convkit';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');

await ck.setBackend('wasm');
const digits = await ck.loadDigits();                                        // 1,797 images [8, 8, 1] in 0..1
const { train, test } = digits.trainValTest({ test: 0.2, seed: 0 });         // stratified 80/20 split
const model = ck.zoo.smallCnn8({ seed: 1 });                                 // conv 16 - pool - conv 32 - pool - dense 10
model.compile({
  optimizer: { name: 'adam', lr: 0.003 },
  loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true },        // the zoo's models output logits
  metrics: ['accuracy'],
});
if (!json) model.summary();

const started = performance.now();
const history = await model.fit(train, { epochs: quick ? 4 : 20, batchSize: 32, seed: 1, verbose: json ? 0 : 2 });
const seconds = (performance.now() - started) / 1000;
const { loss, accuracy } = await model.evaluate(test);
const scores = await model.predictDatasetAsync(test);
const cm = ck.confusionMatrix(scores, test.y, { classNames: test.classNames });

if (json) {
  console.log(JSON.stringify({ backend: ck.getBackend(), epochs: history.epoch.length, seconds, testImages: test.length, loss, accuracy }));
} else {
  console.log(cm.toString());
  console.log(`held-out accuracy ${(100 * accuracy).toFixed(2)}% on ${test.length} images after ${seconds.toFixed(1)} s of training (${ck.getBackend()})`);
}
