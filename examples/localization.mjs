// Object localisation and landmarks on the shapes data set: one object (or none) per image,
// the network outputs [p_c, b_x, b_y, b_h, b_w, c_1..c_3] and 4 landmark points.
// Usage: node examples/localization.mjs [--quick] [--json]
import * as ck from 'convkit';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const log = (...a) => { if (!json) console.log(...a); };
await ck.setBackend('wasm');

const t0 = performance.now();
const opts = { size: 64, minObjects: 0, maxObjects: 1 };
const train = ck.vision.shapesDataset({ ...opts, n: quick ? 500 : 3000, seed: 1 });
const test = ck.vision.shapesDataset({ ...opts, n: 500, seed: 2 });
const model = ck.vision.trainLocalizer(train, {
  epochs: quick ? 3 : 12, batchSize: 32, seed: 0,
  onEpoch: (e, loss, s) => log(`epoch ${e + 1}: loss ${loss.toFixed(4)} (${s.toFixed(0)} s)`),
});
const r = ck.vision.evaluateLocalizer(model, test);
const seconds = (performance.now() - t0) / 1000;
log(`held-out: presence accuracy ${r.presenceAccuracy.toFixed(3)}, mean IoU ${r.meanIoU.toFixed(3)}, class accuracy ${r.classAccuracy.toFixed(3)}, landmark error ${r.landmarkErrorPx.toFixed(2)} px`);
console.log(JSON.stringify({
  example: 'localization', trainImages: train.objects.length, testImages: test.objects.length, epochs: model.history.epochs,
  trainSeconds: Number(model.history.seconds.toFixed(1)), meanIoU: r.meanIoU, classAccuracy: r.classAccuracy,
  presenceAccuracy: r.presenceAccuracy, landmarkErrorPx: r.landmarkErrorPx, seconds: Number(seconds.toFixed(1)),
}));
