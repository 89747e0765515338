// Object detection on the shapes data set: a YOLO-style grid detector (S = 8, 2 anchors from
// k-means over the training boxes) against the sliding-window baseline (a crop classifier run
// as a convolution over an image pyramid), both scored by mAP@0.5 on 500 held-out images.
// Writes docs/images/detection.png (predicted boxes and labels on held-out images).
// Usage: node examples/detection.mjs [--quick] [--json] [--png FILE]
import * as ck from 'convkit';
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const pngAt = args.indexOf('--png');
const pngFile = pngAt >= 0 ? args[pngAt + 1] : 'docs/images/detection.png';
const log = (...a) => { if (!json) console.log(...a); };
await ck.setBackend('wasm');

const t0 = performance.now();
const train = ck.vision.shapesDataset({ n: quick ? 400 : 2000, size: 64, maxObjects: 4, seed: 1 });
const test = ck.vision.shapesDataset({ n: 500, size: 64, maxObjects: 4, seed: 2 });
log(`data: ${train.objects.length} training and ${test.objects.length} held-out images (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

const yolo = ck.vision.trainDetector(train, {
  gridSize: 8, numAnchors: 2, epochs: quick ? 3 : 12, batchSize: 32, seed: 0,
  onEpoch: (e, loss, s) => log(`yolo epoch ${e + 1}: loss ${loss.toFixed(3)} (${s.toFixed(0)} s)`),
});
log(`anchors (w, h): ${yolo.config.anchors.map((a) => `(${a[0].toFixed(3)}, ${a[1].toFixed(3)})`).join(' ')}`);
let t = performance.now();
const dets = yolo.detect(test.images, { scoreThreshold: 0.6, iouThreshold: 0.5 });
const yoloDetectSeconds = (performance.now() - t) / 1000;
const yoloMap = ck.vision.evaluateDetections(dets, test);
log(`YOLO: mAP@0.5 ${yoloMap.mAP.toFixed(3)} (per class ${yoloMap.perClass.map((v) => v.toFixed(3)).join(', ')}), ${yolo.history.seconds.toFixed(0)} s training, ${yoloDetectSeconds.toFixed(1)} s detecting`);

const sw = ck.vision.trainSlidingWindow(train, {
  window: 24, epochs: quick ? 2 : 6, batchSize: 64, seed: 0,
  onEpoch: (e, loss, s) => log(`window classifier epoch ${e + 1}: loss ${loss.toFixed(3)} (${s.toFixed(0)} s)`),
});
t = performance.now();
const swDets = sw.detect(test.images, { scoreThreshold: 0.6, iouThreshold: 0.5 });
const swDetectSeconds = (performance.now() - t) / 1000;
const swMap = ck.vision.evaluateDetections(swDets, test);
log(`sliding windows: mAP@0.5 ${swMap.mAP.toFixed(3)}, ${sw.history.seconds.toFixed(0)} s training, ${swDetectSeconds.toFixed(1)} s detecting`);

// A strip of the first 4 held-out images holding 2 or more objects, with their predicted boxes and labels.
const shown = test.objects.map((o, i) => (o.length >= 2 ? i : -1)).filter((i) => i >= 0).slice(0, 4);
const tiles = shown.map((i) => {
  const img = ck.slice(test.images, [i, 0, 0, 0], [1, 64, 64, 3]);
  const d = dets[i];
  return ck.vision.drawBoxes(img, d.map((x) => x.box), d.map((x) => `${test.classes[x.classId]} ${Math.round(100 * x.score)}`), { scale: 4, classIds: d.map((x) => x.classId) });
});
const W = tiles[0].width, H = tiles[0].height, gap = 4, width = tiles.length * W + (tiles.length - 1) * gap;
const pixels = new Uint8Array(width * H * 3).fill(255);
tiles.forEach((tile, k) => { for (let y = 0; y < H; y++) pixels.set(tile.pixels.subarray(y * W * 3, (y + 1) * W * 3), (y * width + k * (W + gap)) * 3); });
writeFileSync(pngFile, ck.vision.encodePNG({ width, height: H, channels: 3, pixels }, { deflate: (raw) => deflateSync(raw, { level: 9 }) }));
log(`wrote ${pngFile}`);

const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  example: 'detection', trainImages: train.objects.length, testImages: test.objects.length,
  yoloEpochs: yolo.history.epochs, yoloTrainImages: yolo.history.images, yoloTrainSeconds: Number(yolo.history.seconds.toFixed(1)),
  mAP50: yoloMap.mAP, perClassAP50: yoloMap.perClass, yoloDetectSeconds: Number(yoloDetectSeconds.toFixed(2)),
  slidingWindowMAP50: swMap.mAP, slidingWindowTrainSeconds: Number(sw.history.seconds.toFixed(1)), slidingWindowDetectSeconds: Number(swDetectSeconds.toFixed(2)),
  seconds: Number(seconds.toFixed(1)),
}));
