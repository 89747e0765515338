// The Train page: smallCnn8 trained on the embedded UCI digits, live, with its curves, the
// confusion matrix, the first-layer filters, feature maps and a canvas to draw a digit on.
// The page stays responsive: fit's batch callback yields to the browser after every batch.
// window.__lab reports the page's state (the tests read it).
import * as ck from 'convkit';
import { header, capabilities, showError, clearError, drawValues, tile, yieldToUI, drawingToDigit, softmax, bars, startConvkit } from './common.js';

const { errorBox, note } = header('Train');
const $ = (id) => document.getElementById(id);
const lab = (window.__lab = { phase: 'loading', epoch: 0, epochs: 0, history: [], accuracy: null, predicted: null, probs: null, backend: null, seconds: null });

let data = null; // { train, validation, test }
let model = null;
let stopRequested = false;

// ---------------------------------------------------------------- curves
function drawCurves(history, batchLosses, epochs) {
  const c = $('curves'), ctx = c.getContext('2d');
  const W = c.width, H = c.height, L = 36, R = 36, T = 10, B = 24;
  ctx.clearRect(0, 0, W, H);
  ctx.font = '11px system-ui';
  ctx.strokeStyle = '#d7dde3';
  ctx.fillStyle = '#5b6570';
  const maxLoss = Math.max(0.5, ...history.map((h) => Math.max(h.loss, h.val_loss ?? 0)), ...batchLosses.slice(0, 20));
  for (let i = 0; i <= 4; i++) {
    const y = T + ((H - T - B) * i) / 4;
    ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(W - R, y); ctx.stroke();
    ctx.fillText((maxLoss * (1 - i / 4)).toFixed(2), 2, y + 4);
    ctx.fillText(`${100 - 25 * i}%`, W - R + 4, y + 4);
  }
  const x = (e) => L + ((W - L - R) * e) / Math.max(1, epochs);
  ctx.fillText('epoch', W - R - 30, H - 2);
  for (let e = 0; e <= epochs; e += Math.max(1, Math.ceil(epochs / 10))) ctx.fillText(String(e), x(e) - 3, H - B + 14);
  const yl = (v) => T + (H - T - B) * (1 - Math.min(1, v / maxLoss));
  const ya = (v) => T + (H - T - B) * (1 - v);
  // batch losses, faint, over the fraction of the epoch they belong to
  if (batchLosses.length) {
    const perEpoch = data ? Math.ceil(data.train.length / 32) : 45;
    ctx.strokeStyle = 'rgba(209,36,47,0.25)';
    ctx.beginPath();
    batchLosses.forEach((l, i) => ctx[i ? 'lineTo' : 'moveTo'](x((i + 1) / perEpoch), yl(l)));
    ctx.stroke();
  }
  const line = (key, color, y) => {
    const pts = history.filter((h) => h[key] !== undefined);
    if (!pts.length) return;
    ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = 2;
    ctx.beginPath();
    pts.forEach((h, i) => ctx[i ? 'lineTo' : 'moveTo'](x(h.epoch + 1), y(h[key])));
    ctx.stroke();
    for (const h of pts) ctx.fillRect(x(h.epoch + 1) - 2, y(h[key]) - 2, 4, 4);
    ctx.lineWidth = 1;
  };
  line('loss', '#d1242f', yl);
  line('val_loss', '#f08c00', yl);
  line('accuracy', '#1f6feb', ya);
  line('val_accuracy', '#2f9e44', ya);
}

function drawConfusion(counts) {
  const c = $('confusion'), ctx = c.getContext('2d');
  const n = counts.length, cell = Math.floor((c.width - 20) / n);
  ctx.clearRect(0, 0, c.width, c.height);
  ctx.font = '11px system-ui';
  ctx.textAlign = 'center';
  for (let t = 0; t < n; t++) {
    const rowSum = counts[t].reduce((a, b) => a + b, 0) || 1;
    ctx.fillStyle = '#5b6570';
    ctx.fillText(String(t), 8, 20 + t * cell + cell / 2 + 4);
    ctx.fillText(String(t), 20 + t * cell + cell / 2, 12);
    for (let p = 0; p < n; p++) {
      const f = counts[t][p] / rowSum;
      const off = t !== p;
      ctx.fillStyle = off ? `rgba(209,36,47,${f ? 0.15 + 0.85 * f : 0})` : `rgba(31,111,235,${0.1 + 0.9 * f})`;
      ctx.fillRect(20 + p * cell, 18 + t * cell, cell - 1, cell - 1);
      if (counts[t][p]) {
        ctx.fillStyle = f > 0.5 ? '#fff' : '#1d232b';
        ctx.fillText(String(counts[t][p]), 20 + p * cell + cell / 2, 18 + t * cell + cell / 2 + 4);
      }
    }
  }
}

// ---------------------------------------------------------------- filters and feature maps
async function valuesOf(t) { return t.data(); }

async function drawFilters() {
  const kernel = model.getLayer('conv1').weights[0].value; // [3, 3, 1, 16]
  const [kh, kw, , f] = kernel.shape;
  const v = await valuesOf(kernel);
  const box = $('filters');
  box.innerHTML = '';
  for (let j = 0; j < f; j++) {
    const k = new Float32Array(kh * kw);
    for (let i = 0; i < kh * kw; i++) k[i] = v[i * f + j];
    drawValues(tile(box, `#${j}`), k, kh, kw, { zoom: 14, mode: 'signed' });
  }
}

let drawnDigit = null;
async function drawFeatureMaps() {
  if (!model) return;
  const sel = $('fmImage').value;
  const img = sel === 'drawing' ? drawnDigit ?? new Float32Array(64) : data.test.x.slice(Number(sel) * 64, Number(sel) * 64 + 64);
  const x = ck.tensor(img, [1, 8, 8, 1]);
  const names = ['conv1', 'pool1', 'conv2', 'pool2'];
  const outs = ck.noGrad(() => model.layerOutputs(x, [...names, 'output']));
  const box = $('featureMaps');
  box.innerHTML = '';
  const addRow = (title) => { const h = document.createElement('h3'); h.textContent = title; h.style.fontSize = '1em'; box.append(h); const r = document.createElement('div'); r.className = 'row'; box.append(r); return r; };
  drawValues(tile(addRow('input [8, 8, 1]'), 'input'), img, 8, 8, { zoom: 10, mode: 'ink' });
  for (const name of names) {
    const t = outs.get(name);
    const [, h, w, c] = t.shape;
    const v = await valuesOf(t);
    const row = addRow(`${name} [${h}, ${w}, ${c}]${name.startsWith('conv') ? ' after ReLU' : ''}`);
    for (let j = 0; j < c; j++) {
      const m = new Float32Array(h * w);
      for (let i = 0; i < h * w; i++) m[i] = v[i * c + j];
      drawValues(tile(row, `#${j}`), m, h, w, { zoom: Math.floor(48 / h), mode: 'scale' }); // each map by its own range; all-zero maps stay black
    }
  }
  const probs = softmax(await valuesOf(outs.get('output')));
  const out = addRow('output: class probabilities');
  out.className = 'bars';
  bars(out, probs);
  x.dispose();
  for (const t of outs.values()) t.dispose();
}

// ---------------------------------------------------------------- the drawing pad
function setupPad() {
  const pad = $('pad'), ctx = pad.getContext('2d', { willReadFrequently: true });
  const clear = () => { ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, pad.width, pad.height); };
  clear();
  let drawing = false, last = null;
  const pos = (e) => { const r = pad.getBoundingClientRect(); return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height]; };
  pad.addEventListener('pointerdown', (e) => { drawing = true; last = pos(e); pad.setPointerCapture(e.pointerId); dot(last); });
  const dot = ([x, y]) => { ctx.fillStyle = '#000'; ctx.beginPath(); ctx.arc(x, y, 9, 0, 2 * Math.PI); ctx.fill(); };
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const p = pos(e);
    ctx.strokeStyle = '#000'; ctx.lineWidth = 18; ctx.lineCap = 'round';
    ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke();
    last = p;
  });
  const end = () => { if (!drawing) return; drawing = false; classifyDrawing().catch((e) => showError(errorBox, e)); };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', () => { clear(); drawnDigit = null; $('probs').innerHTML = ''; $('prediction').textContent = 'Draw a digit.'; drawValues($('padDigit'), new Float32Array(64), 8, 8, { zoom: 10, mode: 'ink' }); });
  drawValues($('padDigit'), new Float32Array(64), 8, 8, { zoom: 10, mode: 'ink' });
}

async function classifyDrawing() {
  drawnDigit = drawingToDigit($('pad'));
  drawValues($('padDigit'), drawnDigit, 8, 8, { zoom: 10, mode: 'ink' });
  if (!model || lab.phase === 'training') { $('prediction').textContent = lab.phase === 'training' ? 'Training: the prediction comes when it ends.' : 'Train the network first.'; return; }
  const x = ck.tensor(drawnDigit, [1, 8, 8, 1]);
  const y = model.predict(x);
  const probs = softmax(await y.data());
  x.dispose(); y.dispose();
  const best = bars($('probs'), probs);
  $('prediction').innerHTML = `The network reads a <strong>${best}</strong> (${(100 * probs[best]).toFixed(1)}%).`;
  lab.predicted = best;
  lab.probs = probs;
  if ($('fmImage').value === 'drawing') await drawFeatureMaps();
}

// ---------------------------------------------------------------- training
async function train() {
  clearError(errorBox);
  const backend = $('backend').value;
  const epochs = Math.max(1, Math.round(Number($('epochs').value) || 15));
  const lr = Number($('lr').value) || 0.003;
  $('train').disabled = true; $('stop').disabled = false; stopRequested = false;
  try {
    await ck.setBackend(backend);
    lab.backend = ck.getBackend();
    model?.dispose?.();
    model = ck.zoo.smallCnn8({ seed: 1 });
    model.compile({ optimizer: { name: 'adam', lr }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
    Object.assign(lab, { phase: 'training', epoch: 0, epochs, history: [], accuracy: null });
    const batchLosses = [];
    const started = performance.now();
    drawCurves([], [], epochs);
    await model.fit(data.train, {
      epochs, batchSize: 32, seed: 1, verbose: 0, validationData: data.validation,
      callbacks: [{
        onBatchEnd: async (_b, logs) => {
          batchLosses.push(logs.loss);
          lab.batches = batchLosses.length;
          if (stopRequested) model.stopTraining = true;
          if (batchLosses.length % 8 === 0) drawCurves(lab.history, batchLosses, epochs);
          await yieldToUI();
        },
        onEpochEnd: async (epoch, logs) => {
          lab.history.push({ epoch, ...logs });
          lab.epoch = epoch + 1;
          drawCurves(lab.history, batchLosses, epochs);
          $('status').textContent = `epoch ${epoch + 1}/${epochs} on ${lab.backend}: loss ${logs.loss.toFixed(3)}, accuracy ${(100 * logs.accuracy).toFixed(1)}%, validation accuracy ${(100 * logs.val_accuracy).toFixed(1)}% (${((performance.now() - started) / 1000).toFixed(1)} s)`;
          await yieldToUI();
        },
      }],
    });
    lab.seconds = (performance.now() - started) / 1000;
    const { accuracy } = await model.evaluate(data.test);
    const scores = await model.predictDatasetAsync(data.test);
    const cm = ck.confusionMatrix(scores, data.test.y);
    drawConfusion(cm.counts);
    lab.confusion = cm.counts;
    lab.accuracy = accuracy;
    $('status').innerHTML = `Held-out accuracy <strong>${(100 * accuracy).toFixed(2)}%</strong> on ${data.test.length} digits the network never saw, after ${lab.epoch} epochs (${lab.seconds.toFixed(1)} s on ${lab.backend}).`;
    await drawFilters();
    await drawFeatureMaps();
    try {
      await model.save(ck.browserIndexedDB('lab-digits'));
      lab.saved = true;
    } catch (e) {
      lab.saved = false; // private windows may refuse IndexedDB: only the Models page's button needs it
    }
    lab.phase = 'done';
    if (drawnDigit) await classifyDrawing();
  } catch (e) {
    lab.phase = 'error';
    lab.error = e.message;
    showError(errorBox, e, 'training');
  } finally {
    $('train').disabled = false; $('stop').disabled = true;
  }
}

async function main() {
  const [caps] = await Promise.all([capabilities(note), startConvkit()]);
  const gpuOption = $('backend').querySelector('option[value=webgpu]');
  if (!caps.webgpu) { gpuOption.disabled = true; gpuOption.textContent = 'webgpu (not available here)'; }
  // wasm stays the default even with a GPU: this network is so small (84k multiply-adds per digit)
  // that dispatching GPU work costs more than it saves; the menu offers webgpu to compare.
  setupPad();
  data = (await ck.loadDigits()).trainValTest({ validation: 0.1, test: 0.2, seed: 0 });
  const sel = $('fmImage');
  sel.add(new Option('your drawing', 'drawing'));
  for (let i = 0; i < 20; i++) sel.add(new Option(`held-out image ${i} (a ${data.test.y[i]})`, String(i)));
  sel.value = '0';
  sel.addEventListener('change', () => drawFeatureMaps().catch((e) => showError(errorBox, e)));
  $('train').addEventListener('click', train);
  $('stop').addEventListener('click', () => { stopRequested = true; });
  $('status').textContent = `Ready: ${data.train.length} training, ${data.validation.length} validation and ${data.test.length} held-out digits. Press Train.`;
  lab.phase = 'ready';
  if (new URLSearchParams(location.search).has('autostart')) train();
}
main().catch((e) => { lab.phase = 'error'; lab.error = e.message; showError(errorBox, e); });
