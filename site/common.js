// Shared by the lab's pages: the header and the note on what this browser can do, messages
// on the page instead of stack traces in the console, drawing values on canvases, reading
// dropped files, and turning a drawing into an 8x8 digit like the UCI ones.
import * as ck from 'convkit';

const PAGES = [['index.html', 'Lab'], ['filters.html', 'Filters'], ['train.html', 'Train'], ['models.html', 'Models'], ['apps.html', 'Applications']];

/** Header with the page links, and an element for errors; returns { errorBox, note }. */
export function header(active) {
  const h = document.createElement('header');
  h.innerHTML = `<strong>convkit lab</strong>` + PAGES.map(([href, name]) => `<a href="${href}"${name === active ? ' class="active"' : ''}>${name}</a>`).join('');
  document.body.prepend(h);
  const main = document.querySelector('main');
  const note = document.createElement('div');
  note.className = 'note';
  note.id = 'capabilities';
  const errorBox = document.createElement('div');
  errorBox.className = 'error';
  errorBox.id = 'errors';
  errorBox.setAttribute('role', 'alert');
  main.prepend(note, errorBox);
  // Anything that escapes a handler is shown on the page (and not left as an uncaught error).
  window.addEventListener('error', (e) => { showError(errorBox, e.error ?? e.message); e.preventDefault(); });
  window.addEventListener('unhandledrejection', (e) => { showError(errorBox, e.reason); e.preventDefault(); });
  return { errorBox, note };
}

export function showError(box, e, what = '') {
  const msg = e instanceof Error ? e.message : String(e);
  box.textContent = (what ? `${what}: ` : '') + msg;
}
export const clearError = (box) => { box.textContent = ''; };

/** What this browser can and cannot do here, as a sentence for the page. */
export async function capabilities(note) {
  const caps = { webgpu: false, webgpuWhy: '', isolated: globalThis.crossOriginIsolated === true, threads: typeof SharedArrayBuffer !== 'undefined' };
  if (!('gpu' in navigator)) caps.webgpuWhy = 'this browser has no navigator.gpu';
  else {
    try {
      const adapter = await navigator.gpu.requestAdapter();
      caps.webgpu = !!adapter;
      if (!adapter) caps.webgpuWhy = 'navigator.gpu gave no adapter';
    } catch (e) {
      caps.webgpuWhy = `requestAdapter failed: ${e.message}`;
    }
  }
  const parts = [];
  parts.push(caps.webgpu ? 'WebGPU is available: the Train page can run on the webgpu backend.' : `No WebGPU (${caps.webgpuWhy}): everything runs on the wasm backend (WebAssembly SIMD), which is all these pages need.`);
  if (!caps.isolated) parts.push('The page is not cross-origin isolated (serve it with `npm run site`, which sends COOP/COEP headers), so SharedArrayBuffer is unavailable; convkit runs single-threaded, as it does anyway.');
  note.textContent = parts.join(' ');
  note.dataset.webgpu = String(caps.webgpu);
  return caps;
}

/** Give the browser a chance to paint and handle input (faster than setTimeout(0)). */
export const yieldToUI = () => new Promise((r) => { const c = new MessageChannel(); c.port1.onmessage = () => r(); c.port2.postMessage(0); });

/**
 * Draw a [h, w] array of values on a canvas, each value a `zoom` x `zoom` block.
 * mode 'grey': 0..1 clipped (0 black); 'scale': min..max; 'signed': blue for negative, red
 * for positive, white for 0, scaled by the largest |value|; 'ink': 0 white, 1 black.
 */
export function drawValues(canvas, values, h, w, { zoom = 1, mode = 'grey' } = {}) {
  canvas.width = w * zoom;
  canvas.height = h * zoom;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(w, h);
  let lo = 0, hi = 1, m = 1;
  if (mode === 'scale') {
    lo = Infinity; hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    // a range of rounding noise (float32 sums that should cancel) is a constant picture, not a stretched one
    if (!(hi - lo > 1e-5 * Math.max(1, Math.abs(hi), Math.abs(lo)))) hi = lo + 1;
  }
  if (mode === 'signed') { m = 1e-5; for (const v of values) m = Math.max(m, Math.abs(v)); } // noise-level results stay white
  for (let i = 0; i < h * w; i++) {
    const v = values[i];
    let r, g, b;
    if (mode === 'signed') {
      const t = Math.max(-1, Math.min(1, v / m));
      if (t >= 0) { r = 255; g = b = Math.round(255 * (1 - t)); } else { b = 255; r = g = Math.round(255 * (1 + t)); }
    } else {
      let t = mode === 'scale' ? (v - lo) / (hi - lo) : Math.max(0, Math.min(1, v));
      if (mode === 'ink') t = 1 - t;
      r = g = b = Math.round(255 * t);
    }
    img.data.set([r, g, b, 255], i * 4);
  }
  if (zoom === 1) { ctx.putImageData(img, 0, 0); return canvas; }
  const tmp = document.createElement('canvas');
  tmp.width = w; tmp.height = h;
  tmp.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, w * zoom, h * zoom);
  return canvas;
}

/** A captioned tile holding a canvas. */
export function tile(parent, caption, extra = '') {
  const d = document.createElement('div');
  d.className = 'tile';
  const c = document.createElement('canvas');
  d.append(c);
  const cap = document.createElement('div');
  cap.textContent = caption;
  d.append(cap);
  if (extra) { const k = document.createElement('div'); k.className = 'kernel'; k.textContent = extra; d.append(k); }
  parent.append(d);
  return c;
}

/** Decode an image file (PNG, JPEG, GIF, WebP, BMP, SVG...) with the browser; throws a readable error for anything else. */
export async function decodeImageFile(file, maxSide = 256) {
  if (file.type && !file.type.startsWith('image/')) throw new Error(`'${file.name}' is not an image (its type is ${file.type}); drop a PNG, JPEG, GIF or WebP file`);
  let bmp;
  try {
    bmp = await createImageBitmap(file);
  } catch {
    throw new Error(`'${file.name}' could not be decoded as an image; drop a PNG, JPEG, GIF or WebP file`);
  }
  const s = Math.min(1, maxSide / Math.max(bmp.width, bmp.height));
  const w = Math.max(1, Math.round(bmp.width * s)), h = Math.max(1, Math.round(bmp.height * s));
  const c = document.createElement('canvas');
  c.width = w; c.height = h;
  const ctx = c.getContext('2d');
  ctx.drawImage(bmp, 0, 0, w, h);
  return rgbaToImage(ctx.getImageData(0, 0, w, h).data, h, w);
}

/** RGBA bytes to { h, w, rgb: Float32Array [h*w*3] in 0..1, grey: Float32Array [h*w] }. */
export function rgbaToImage(data, h, w) {
  const rgb = new Float32Array(h * w * 3), grey = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) {
    const a = data[i * 4 + 3] / 255;
    // transparent pixels count as white
    const r = (data[i * 4] * a + 255 * (1 - a)) / 255, g = (data[i * 4 + 1] * a + 255 * (1 - a)) / 255, b = (data[i * 4 + 2] * a + 255 * (1 - a)) / 255;
    rgb.set([r, g, b], i * 3);
    grey[i] = 0.299 * r + 0.587 * g + 0.114 * b;
  }
  return { h, w, rgb, grey };
}

/** Resize an image (rgb 0..1) to [h, w, c] with the canvas (bilinear), for a model's input. */
export function resizeTo(image, h, w, c) {
  const src = document.createElement('canvas');
  src.width = image.w; src.height = image.h;
  const sctx = src.getContext('2d');
  const id = sctx.createImageData(image.w, image.h);
  for (let i = 0; i < image.w * image.h; i++) id.data.set([image.rgb[i * 3] * 255, image.rgb[i * 3 + 1] * 255, image.rgb[i * 3 + 2] * 255, 255], i * 4);
  sctx.putImageData(id, 0, 0);
  const dst = document.createElement('canvas');
  dst.width = w; dst.height = h;
  const dctx = dst.getContext('2d');
  dctx.drawImage(src, 0, 0, w, h);
  const r = rgbaToImage(dctx.getImageData(0, 0, w, h).data, h, w);
  return c === 1 ? r.grey : c === 3 ? r.rgb : null;
}

/** Make an element a drop target (and clickable file picker); `onFiles(files)` gets the list. */
export function dropZone(el, onFiles, { multiple = true, accept = '' } = {}) {
  const input = document.createElement('input');
  input.type = 'file';
  input.multiple = multiple;
  if (accept) input.accept = accept;
  input.style.display = 'none';
  el.after(input);
  el.addEventListener('click', () => input.click());
  input.addEventListener('change', () => { if (input.files.length) onFiles([...input.files]); input.value = ''; });
  el.addEventListener('dragover', (e) => { e.preventDefault(); el.classList.add('over'); });
  el.addEventListener('dragleave', () => el.classList.remove('over'));
  el.addEventListener('drop', (e) => {
    e.preventDefault();
    el.classList.remove('over');
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) onFiles(files);
  });
  return input;
}

/**
 * A drawing (canvas with dark or coloured ink on white/transparent) to an 8x8 digit in 0..1
 * like the UCI set: the ink's bounding box is scaled (aspect kept) into a 32x32 box and
 * centred, then each 4x4 block gives the fraction of inked pixels, as the UCI preprocessing
 * counted on-pixels in 4x4 blocks of 32x32 bitmaps.
 */
export function drawingToDigit(canvas) {
  const { width: W, height: H } = canvas;
  const data = canvas.getContext('2d').getImageData(0, 0, W, H).data;
  let x0 = W, y0 = H, x1 = -1, y1 = -1;
  const ink = new Float32Array(W * H);
  for (let i = 0; i < W * H; i++) {
    const a = data[i * 4 + 3] / 255;
    const lum = (0.299 * data[i * 4] + 0.587 * data[i * 4 + 1] + 0.114 * data[i * 4 + 2]) / 255;
    const v = a * (1 - lum);
    ink[i] = v;
    if (v > 0.2) { const x = i % W, y = (i / W) | 0; x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  }
  const out = new Float32Array(64);
  if (x1 < 0) return out;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const s = 28 / Math.max(bw, bh);                   // the UCI digits leave a little margin
  const ox = (32 - bw * s) / 2, oy = (32 - bh * s) / 2;
  const bmp = new Float32Array(32 * 32), cnt = new Float32Array(32 * 32);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const tx = Math.min(31, Math.floor(ox + (x - x0 + 0.5) * s)), ty = Math.min(31, Math.floor(oy + (y - y0 + 0.5) * s));
      bmp[ty * 32 + tx] += ink[y * W + x];
      cnt[ty * 32 + tx] += 1;
    }
  }
  for (let i = 0; i < 1024; i++) bmp[i] = cnt[i] ? (bmp[i] / cnt[i] > 0.3 ? 1 : 0) : 0;
  for (let by = 0; by < 8; by++) for (let bx = 0; bx < 8; bx++) {
    let n = 0;
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) n += bmp[(by * 4 + y) * 32 + bx * 4 + x];
    out[by * 8 + bx] = n / 16;
  }
  return out;
}

/** Softmax of logits (host numbers). */
export function softmax(logits) {
  const m = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Horizontal probability bars into `el`; returns the index of the largest. */
export function bars(el, probs, labels) {
  const best = probs.indexOf(Math.max(...probs));
  el.innerHTML = '';
  probs.forEach((p, i) => {
    const d = document.createElement('div');
    if (i === best) d.className = 'best';
    d.innerHTML = `<span style="width:7em;text-align:right">${labels?.[i] ?? i}</span><span class="bar" style="width:${Math.round(200 * p)}px"></span><span>${(100 * p).toFixed(1)}%</span>`;
    el.append(d);
  });
  return best;
}

/** Page-wide convkit start: the wasm backend once compiled (asynchronous in browsers). */
export async function startConvkit() {
  return ck.ready();
}

/** A classic inline check runs first in each page (see the HTML): this one is for module pages. */
export const fmt = (n) => n.toLocaleString('en-US');
