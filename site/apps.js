// The Applications page: short, in-page versions of examples/detection.mjs,
// examples/face-verification.mjs and examples/style-transfer.mjs, on the wasm backend.
import * as ck from 'convkit';
import { header, capabilities, showError, clearError, tile, startConvkit } from './common.js';

const { errorBox, note } = header('Applications');
const $ = (id) => document.getElementById(id);
/** What the page computed, for the test (test/site). */
const state = (window.__lab = { detection: null, face: null, style: null });

/** An RGB Image8 ({ width, height, pixels }) on a canvas. */
function drawRgb(canvas, img) {
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  const data = ctx.createImageData(img.width, img.height);
  for (let i = 0; i < img.width * img.height; i++) data.data.set([img.pixels[3 * i], img.pixels[3 * i + 1], img.pixels[3 * i + 2], 255], 4 * i);
  ctx.putImageData(data, 0, 0);
}

/** An image tensor [1, H, W, 3] in 0..1 on a canvas, `zoom` times bigger. */
function drawTensor(canvas, t, zoom = 2) {
  const [, H, W] = t.shape;
  const v = t.dataSync();
  const pixels = Uint8Array.from(v, (x) => Math.round(255 * Math.min(1, Math.max(0, x))));
  const small = document.createElement('canvas');
  drawRgb(small, { width: W, height: H, pixels });
  canvas.width = W * zoom;
  canvas.height = H * zoom;
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, W * zoom, H * zoom);
}

/** Let the page paint ("running...") before a synchronous training blocks it. */
const paint = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));

async function detection() {
  $('detectionResult').textContent = 'training...';
  await paint();
  const t0 = performance.now();
  const train = ck.vision.shapesDataset({ n: 400, size: 64, maxObjects: 4, seed: 1 });
  const test = ck.vision.shapesDataset({ n: 60, size: 64, maxObjects: 4, seed: 2 });
  // the window classifier learns in seconds; the YOLO grid needs minutes (examples/detection.mjs)
  const sw = ck.vision.trainSlidingWindow(train, { window: 24, epochs: 2, batchSize: 64, seed: 0 });
  const dets = sw.detect(test.images, { scoreThreshold: 0.6, iouThreshold: 0.5 });
  const map = ck.vision.evaluateDetections(dets, test);
  const seconds = (performance.now() - t0) / 1000;
  const box = $('detection');
  box.textContent = '';
  const shown = test.objects.map((o, i) => (o.length >= 2 ? i : -1)).filter((i) => i >= 0).slice(0, 4);
  for (const i of shown) {
    const img = ck.tidy(() => ck.slice(test.images, [i, 0, 0, 0], [1, 64, 64, 3]));
    const d = dets[i];
    drawRgb(tile(box, `held-out image ${i}: ${d.length} box(es)`), ck.vision.drawBoxes(img, d.map((x) => x.box), d.map((x) => `${test.classes[x.classId]} ${Math.round(100 * x.score)}`), { scale: 3, classIds: d.map((x) => x.classId) }));
    img.dispose();
  }
  train.images.dispose();
  test.images.dispose();
  $('detectionResult').textContent = `mAP@0.5 ${map.mAP.toFixed(3)} on 60 held-out images after ${seconds.toFixed(1)} s (the example: sliding windows 0.70, YOLO 0.91)`;
  state.detection = { mAP: map.mAP, seconds, shown: shown.length };
}

async function face() {
  $('faceResult').textContent = 'training...';
  await paint();
  const t0 = performance.now();
  const digits = await ck.loadDigits();
  const identities = ck.vision.dihedralIdentities(digits, [0, 1, 2, 3, 4, 5]);
  const encoder = ck.vision.trainTripletEncoder(identities, {
    steps: 150, perClass: 4, margin: 0.5, embeddingDim: 64, mining: 'semi-hard', seed: 0, syntheticIdentities: 300,
    layers: [{ conv: 16 }, { conv: 16, pool: true }, { dense: 64, relu: false }],
  });
  const raw = { dim: 64, encode: (x) => ck.reshape(x, [x.shape[0], 64]) };
  const r = ck.vision.evaluateFaceVerification(encoder, digits, { classes: [6, 7, 8, 9], unknownClass: 9, pairs: 500, seed: 0 });
  const rawR = ck.vision.evaluateFaceVerification(raw, digits, { classes: [6, 7, 8, 9], unknownClass: 9, pairs: 500, seed: 0 });
  const seconds = (performance.now() - t0) / 1000;
  const chart = ck.plot.lineChart({ 'triplet loss': encoder.losses }, { title: 'Training (digits 0-5 and glyphs)', xLabel: 'step', width: 420, height: 240 });
  $('face').innerHTML = `<div class="tile">${chart.svg()}</div>`;
  $('faceResult').textContent = `unseen digits 6-9: ROC AUC ${r.auc.toFixed(3)} (raw pixels ${rawR.auc.toFixed(3)}), verification accuracy ${r.verificationAccuracy.toFixed(3)}, 1:K identification ${r.identificationAccuracy.toFixed(3)}; ${seconds.toFixed(1)} s (the example trains 1,000 steps: AUC 0.958)`;
  state.face = { auc: r.auc, rawAuc: rawR.auc, seconds };
}

async function style() {
  $('styleResult').textContent = 'optimising...';
  await paint();
  const t0 = performance.now();
  const size = 48;
  const content = ck.vision.shapesDataset({ n: 1, size, minObjects: 3, maxObjects: 3, noise: 0.02, seed: 4 }).images;
  const wave = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = Math.sin(0.45 * (x + y) + 2.5 * Math.sin(0.15 * y)), u = Math.sin(0.3 * (x - y));
      wave.set([0.5 + 0.45 * t, 0.35 + 0.3 * u, 0.6 - 0.35 * t * u], (y * size + x) * 3);
    }
  }
  const styleImage = ck.tensor(wave, [1, size, size, 3]);
  const { image, history } = ck.vision.styleTransfer(content, styleImage, {
    contentLayer: 'conv2', styleLayers: ['conv1', 'conv2', 'conv3'], alpha: 10, beta: 1000, noise: 0.3, steps: 60, learningRate: 0.02, seed: 0,
  });
  const box = $('style');
  box.textContent = '';
  drawTensor(tile(box, 'content'), content, 3);
  drawTensor(tile(box, 'style'), styleImage, 3);
  drawTensor(tile(box, 'result'), image, 3);
  const seconds = (performance.now() - t0) / 1000;
  const first = history[0], last = history[history.length - 1];
  $('styleResult').textContent = `J = alpha J_content + beta J_style went from ${first.toExponential(2)} to ${last.toExponential(2)} in 60 Adam steps (${seconds.toFixed(1)} s)`;
  state.style = { costRatio: last / first, seconds };
  for (const t of [content, styleImage, image]) t.dispose();
}

/** Run one demo with its errors on the page. */
async function run(name, f) {
  clearError(errorBox);
  try {
    await f();
  } catch (e) {
    showError(errorBox, e, name);
  }
}

$('runDetection').onclick = () => run('detection', detection);
$('runFace').onclick = () => run('face verification', face);
$('runStyle').onclick = () => run('style transfer', style);
$('runAll').onclick = async () => {
  document.body.dataset.done = 'false';
  await run('detection', detection);
  await run('face verification', face);
  await run('style transfer', style);
  document.body.dataset.done = 'true';
};

await capabilities(note);
await startConvkit();
await ck.setBackend('wasm');
document.body.dataset.ready = 'true';
