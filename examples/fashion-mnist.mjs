#!/usr/bin/env node
// Fashion-MNIST (60,000 + 10,000 clothing images, 28x28) with a small CNN: conv-BN-ReLU-pool
// twice (16 and 32 filters), dense 128, dropout, dense 10. (`convkit train --dataset
// fashion-mnist` adds a third convolution at 7x7 and trains 16 epochs with AdamW and label smoothing: 93.4-93.5%
// with each test image averaged with its mirror image, 93.0-93.1% on single views, bench/README.md.)
// Reads Debian's dataset-fashion-mnist files (apt-get install dataset-fashion-mnist); nothing
// is downloaded.
//
//   node examples/fashion-mnist.mjs                 3 epochs on all 60,000 images, a few minutes on one core
//                                                   (bench/README.md measured this model at 90.2% test accuracy
//                                                   after 3 epochs, 91.9% after 8; this script's run is not timed there)
//   node examples/fashion-mnist.mjs --quick         1 epoch on 3,000 images, tested on 1,000 (well above chance)
//   --dir PATH                                      another folder of IDX files (default /usr/share/datasets/fashion-mnist)
//   --json                                          the last line of stdout is a JSON summary
import * as ck from 'convkit';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const dirAt = args.indexOf('--dir');
const dir = dirAt >= 0 ? args[dirAt + 1] : undefined;

await ck.setBackend('wasm');
const { train, test } = await ck.loadFashionMnist({ dir, limit: quick ? { train: 3000, test: 1000 } : undefined });
const model = ck.zoo.smallCnn28({ seed: 1, ...(quick ? { filters: [8, 16], dense: 64 } : { filters: [16, 32] }) });
model.compile({ optimizer: { name: 'adam', lr: 0.002 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });

const started = performance.now();
await model.fit(train, { epochs: quick ? 1 : 3, batchSize: 64, seed: 1, verbose: json ? 0 : 2 });
const seconds = (performance.now() - started) / 1000;
const { accuracy, loss } = await model.evaluate(test);

if (json) {
  console.log(JSON.stringify({ trainImages: train.length, testImages: test.length, seconds, loss, accuracy }));
} else {
  const scores = await model.predictDatasetAsync(test);
  console.log(ck.confusionMatrix(scores, test.y, { classNames: test.classNames }).toString());
  console.log(`test accuracy ${(100 * accuracy).toFixed(2)}% on ${test.length} images (${train.length} training images, ${seconds.toFixed(1)} s)`);
}
