// The Filters page: classic kernels applied with ck.filters on the wasm backend.
import * as ck from 'convkit';
import { header, capabilities, showError, clearError, drawValues, tile, dropZone, decodeImageFile, startConvkit } from './common.js';
import { SAMPLES } from './samples.js';

const { errorBox, note } = header('Filters');
capabilities(note);
const F = ck.filters;
const $ = (id) => document.getElementById(id);

/** name -> { kernel: () => [KH,KW] tensor, signed: whether the result has a sign worth showing, magnitude: [X, Y] pairs } */
const FILTERS = {
  'box blur 3x3 (1/9 ones)': { kernel: () => F.boxBlur(3) },
  'Gaussian blur 5x5': { kernel: () => F.gaussianKernel(5) },
  'sharpen': { kernel: () => F.sharpen() },
  'vertical edge': { kernel: () => F.verticalEdge(), signed: true },
  'horizontal edge': { kernel: () => F.horizontalEdge(), signed: true },
  'Sobel x': { kernel: () => F.sobelX(), signed: true },
  'Sobel y': { kernel: () => F.sobelY(), signed: true },
  'Scharr x': { kernel: () => F.scharrX(), signed: true },
  'Scharr y': { kernel: () => F.scharrY(), signed: true },
  '2x2 mean-subtract': { kernel: () => F.meanSubtract2x2(), signed: true },
};
const MAGNITUDES = { 'Sobel magnitude': ['Sobel x', 'Sobel y'], 'Scharr magnitude': ['Scharr x', 'Scharr y'] };
const kernelText = (name) => {
  const k = FILTERS[name].kernel();
  const [kh, kw] = k.shape;
  const v = k.dataSync();
  k.dispose();
  const rows = [];
  for (let i = 0; i < kh; i++) rows.push(Array.from(v.slice(i * kw, (i + 1) * kw), (x) => (Number.isInteger(x) ? String(x) : x.toFixed(2)).padStart(5)).join(' '));
  return rows.join('\n');
};

let image = null; // { h, w, grey }
const zoomFor = (h, w) => Math.max(1, Math.floor(160 / Math.max(h, w)));

/** Run `f` on the [H, W] image tensor inside tidy; show the [h, w] result on a canvas. */
function show(canvas, t, signed) {
  const [h, w] = t.shape;
  const abs = $('abs').checked;
  drawValues(canvas, abs && signed ? Array.from(t.dataSync(), Math.abs) : t.dataSync(), h, w, { zoom: zoomFor(h, w), mode: signed ? (abs ? 'scale' : 'signed') : 'grey' });
}

function render() {
  if (!image) return;
  clearError(errorBox);
  try {
    ck.tidy(() => {
      const A = ck.tensor(image.grey, [image.h, image.w]);
      drawValues($('original'), image.grey, image.h, image.w, { zoom: zoomFor(image.h, image.w) });
      $('original-caption').textContent = `A: ${image.name} (${image.h}x${image.w}, grey 0..1)`;
      // the classic filters, one tile each
      const classic = $('classic');
      classic.innerHTML = '';
      for (const [name, f] of Object.entries(FILTERS)) {
        // 'valid': no zero padding, so the image's border makes no false edge (the output is k - 1 smaller)
        show(tile(classic, name, kernelText(name)), F.filter2d(A, f.kernel()), !!f.signed);
      }
      for (const [name, [gx, gy]] of Object.entries(MAGNITUDES)) {
        const x = F.filter2d(A, FILTERS[gx].kernel()), y = F.filter2d(A, FILTERS[gy].kernel());
        const m = ck.sqrt(ck.add(ck.square(x), ck.square(y)));
        const [mh, mw] = m.shape;
        drawValues(tile(classic, name, 'sqrt(Gx² + Gy²)'), m.dataSync(), mh, mw, { zoom: zoomFor(mh, mw), mode: 'scale' });
      }
      // successive application
      const succ = $('successive');
      succ.innerHTML = '';
      let y = A;
      drawValues(tile(succ, 'A'), image.grey, image.h, image.w, { zoom: zoomFor(image.h, image.w) });
      for (const id of ['m1', 'm2', 'm3']) {
        const name = $(id).value;
        y = F.filter2d(y, FILTERS[name].kernel());
        show(tile(succ, `${id.toUpperCase()} = ${name}`), y, true);
      }
      // blending
      const alpha = Number($('alpha').value);
      $('alphaValue').textContent = alpha.toFixed(2);
      const bname = $('blendB').value;
      const B = F.filter2d(A, FILTERS[bname].kernel(), { padding: 'same' }); // 'same': B has A's shape
      const bl = $('blend');
      bl.innerHTML = '';
      drawValues(tile(bl, 'A'), image.grey, image.h, image.w, { zoom: zoomFor(image.h, image.w) });
      show(tile(bl, `B = ${bname} ⊗ A`), B, !!FILTERS[bname].signed);
      show(tile(bl, `${alpha.toFixed(2)} A + ${(1 - alpha).toFixed(2)} B`), F.blend(A, B, alpha), false);
    });
  } catch (e) {
    showError(errorBox, e, 'filters');
  }
}

// ---------------------------------------------------------------- edge direction
/** A small matrix drawn as a grid of cells with its numbers. */
function numberGrid(canvas, values, h, w, { signed = false } = {}) {
  const cell = 26;
  canvas.width = w * cell; canvas.height = h * cell;
  const ctx = canvas.getContext('2d');
  const m = Math.max(1e-9, ...Array.from(values, Math.abs));
  ctx.font = '11px ui-monospace, monospace'; ctx.textAlign = 'center';
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
    const v = values[i * w + j];
    let fill;
    if (signed) { const t = v / m; fill = t >= 0 ? `rgb(255,${Math.round(255 * (1 - t))},${Math.round(255 * (1 - t))})` : `rgb(${Math.round(255 * (1 + t))},${Math.round(255 * (1 + t))},255)`; }
    else { const g = Math.round((255 * v) / 10); fill = `rgb(${g},${g},${g})`; }
    ctx.fillStyle = fill; ctx.fillRect(j * cell, i * cell, cell - 1, cell - 1);
    ctx.fillStyle = !signed && v > 5 ? '#000' : signed ? '#000' : '#fff';
    ctx.fillText(String(Math.round(v * 100) / 100), j * cell + cell / 2, i * cell + cell / 2 + 4);
  }
}
function renderDirection() {
  const box = $('direction');
  box.innerHTML = '';
  ck.tidy(() => {
    for (const [name, left, right] of [['light-to-dark', 10, 0], ['dark-to-light', 0, 10]]) {
      const img = Float32Array.from({ length: 36 }, (_, i) => (i % 6 < 3 ? left : right));
      numberGrid(tile(box, `${name}: ${left} | ${right}`), img, 6, 6);
      const y = F.filter2d(ck.tensor(img, [6, 6]), F.verticalEdge());
      numberGrid(tile(box, `⊗ vertical edge`), y.dataSync(), 4, 4, { signed: true });
      numberGrid(tile(box, 'abs()'), F.filter2d(ck.tensor(img, [6, 6]), F.verticalEdge(), { abs: true }).dataSync(), 4, 4, { signed: true });
    }
  });
}

// ---------------------------------------------------------------- output-size grid
let picked = null;
function renderGrid() {
  const v = (id) => Math.max(Number($(id).min), Math.round(Number($(id).value) || 0));
  const n = v('n'), k = v('k'), s = v('s'), p = v('p'), d = v('d');
  const eff = d * (k - 1) + 1;
  const o = Math.floor((n + 2 * p - eff) / s) + 1;
  let convkit;
  try {
    convkit = ck.tidy(() => ck.conv2d(ck.zeros([1, n, n, 1]), ck.zeros([k, k, 1, 1]), { strides: s, padding: p, dilations: d }).shape);
  } catch (e) {
    convkit = null;
    $('formula').textContent = `floor((n + 2p - d(k-1) - 1) / s) + 1 = floor((${n} + ${2 * p} - ${d * (k - 1)} - 1) / ${s}) + 1 = ${o}: the dilated kernel (${eff} cells) is larger than the padded input (${n + 2 * p}). convkit says: ${e.message}`;
  }
  if (convkit) $('formula').innerHTML = `output = floor((n + 2p - d(k - 1) - 1) / s) + 1 = floor((${n} + ${2 * p} - ${d * (k - 1)} - 1) / ${s}) + 1 = <strong>${o}</strong>; ck.conv2d gives shape [${convkit.join(', ')}]`;
  const canvas = $('grid');
  const cell = 22, gap = 40, N = n + 2 * p, O = Math.max(o, 0);
  canvas.width = N * cell + gap + Math.max(O, 1) * cell + 4;
  canvas.height = Math.max(N, O) * cell + 24;
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = '12px system-ui';
  ctx.fillStyle = '#333';
  ctx.fillText(`input ${n}x${n} + padding ${p}`, 0, 12);
  ctx.fillText(`output ${O}x${O}`, N * cell + gap, 12);
  if (picked && (picked[0] >= O || picked[1] >= O)) picked = null;
  const reads = new Set();
  if (picked) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) reads.add(`${picked[0] * s + i * d},${picked[1] * s + j * d}`);
  for (let r = 0; r < N; r++) for (let c = 0; c < N; c++) {
    const pad = r < p || c < p || r >= n + p || c >= n + p;
    ctx.fillStyle = reads.has(`${r},${c}`) ? '#1f6feb' : pad ? '#e5e7ea' : '#fff';
    ctx.fillRect(c * cell, 18 + r * cell, cell - 1, cell - 1);
    ctx.strokeStyle = '#9aa3ad';
    ctx.strokeRect(c * cell + 0.5, 18 + r * cell + 0.5, cell - 2, cell - 2);
  }
  for (let r = 0; r < O; r++) for (let c = 0; c < O; c++) {
    ctx.fillStyle = picked && picked[0] === r && picked[1] === c ? '#d1242f' : '#fff';
    ctx.fillRect(N * cell + gap + c * cell, 18 + r * cell, cell - 1, cell - 1);
    ctx.strokeStyle = '#9aa3ad';
    ctx.strokeRect(N * cell + gap + c * cell + 0.5, 18 + r * cell + 0.5, cell - 2, cell - 2);
  }
  canvas.onclick = (e) => {
    const rect = canvas.getBoundingClientRect();
    const c = Math.floor((e.clientX - rect.left - N * cell - gap) / cell), r = Math.floor((e.clientY - rect.top - 18) / cell);
    picked = r >= 0 && c >= 0 && r < O && c < O ? [r, c] : null;
    renderGrid();
  };
}

// ---------------------------------------------------------------- wiring
async function main() {
  await startConvkit();
  const sample = $('sample');
  for (const name of Object.keys(SAMPLES)) sample.add(new Option(name, name));
  const names = Object.keys(FILTERS);
  for (const [id, dflt] of [['m1', 'Gaussian blur 5x5'], ['m2', 'sharpen'], ['m3', 'vertical edge'], ['blendB', 'vertical edge']]) {
    for (const n of names) $(id).add(new Option(n, n));
    $(id).value = dflt;
    $(id).addEventListener('change', render);
  }
  const useSample = () => { image = { ...SAMPLES[sample.value](), name: sample.value }; render(); };
  sample.addEventListener('change', useSample);
  $('abs').addEventListener('change', render);
  $('alpha').addEventListener('input', render);
  for (const id of ['n', 'k', 's', 'p', 'd']) $(id).addEventListener('input', renderGrid);
  dropZone($('drop'), async (files) => {
    try {
      const img = await decodeImageFile(files[0]);
      image = { ...img, name: files[0].name };
      render();
    } catch (e) {
      showError(errorBox, e);
    }
  }, { multiple: false, accept: 'image/*' });
  useSample();
  renderDirection();
  picked = [1, 1];
  renderGrid();
  document.body.dataset.ready = 'true';
}
main().catch((e) => showError(errorBox, e));
