#!/usr/bin/env node
// The classic hand-made filters of image processing, applied by convolution (ck.filters), on a
// grey image drawn procedurally here (or a PNG/PGM you pass), each result written as a PNG.
//
//   node examples/filters.mjs [IMAGE.png] [--out DIR] [--json] [--quick]     (DIR defaults to ./convkit-filters)
//
// Written: input.png, box.png, gaussian.png, sharpen.png, vertical-edge.png (signed: mid-grey is 0,
// light is light-to-dark, dark is dark-to-light), vertical-edge-abs.png, horizontal-edge-abs.png,
// sobel.png, scharr.png, mean-subtract.png, successive.png, blend.png.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ck from 'convkit';

const args = process.argv.slice(2);
const json = args.includes('--json');
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : 'convkit-filters';
const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--out');
const F = ck.filters;

/** A 96x96 grey test card: a dark background, a light square, a disc with a gradient, stripes. */
function testCard(n = 96) {
  const px = new Uint8Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      let v = 40;
      if (x >= 12 && x < 44 && y >= 12 && y < 44) v = 220;                          // light square
      const dx = x - 66, dy = y - 30;
      if (dx * dx + dy * dy < 18 * 18) v = 60 + Math.round((150 * (x - 48)) / 36);    // shaded disc
      if (y >= 60 && y < 88 && x >= 10 && x < 86 && Math.floor(x / 6) % 2 === 0) v = 200; // vertical stripes
      px[y * n + x] = v;
    }
  }
  return { pixels: px, shape: [n, n] };
}

let image;
if (file) {
  const img = await ck.readImage(file);                    // PNG or PGM/PPM
  const grey = ck.imageToInput(img, [img.height, img.width, 1]);
  image = ck.tensor(grey, [img.height, img.width]);
} else {
  const card = testCard();
  image = F.normalizeImage(card.pixels, card.shape);        // 0..255 -> 0..1
}

/** A [H, W] tensor to an 8-bit grey PNG: 'clip' keeps 0..1, 'signed' maps -m..m to 0..255 (0 = mid-grey), 'scale' min..max. */
function png(t, how = 'clip') {
  const [h, w] = t.shape;
  const v = t.dataSync();
  let lo = 0, hi = 1;
  if (how === 'signed') { const m = Math.max(1e-9, ...v.map(Math.abs)); lo = -m; hi = m; }
  if (how === 'scale') { lo = Math.min(...v); hi = Math.max(lo + 1e-9, ...v); }
  const pixels = Uint8Array.from(v, (x) => Math.round(255 * Math.min(1, Math.max(0, (x - lo) / (hi - lo)))));
  return ck.vision.encodePNG({ width: w, height: h, channels: 1, pixels });
}

mkdirSync(out, { recursive: true });
const same = { padding: 'same' };
const results = {
  input: [image, 'clip'],
  box: [F.filter2d(image, F.boxBlur(3), same), 'clip'],                               // 1/9 ones
  gaussian: [F.filter2d(image, F.gaussianKernel(5, 1.2), same), 'clip'],
  sharpen: [F.filter2d(image, F.sharpen(), same), 'clip'],                            // 0 -1 0 / -1 5 -1 / 0 -1 0
  'vertical-edge': [F.filter2d(image, F.verticalEdge()), 'signed'],                   // rows 1 0 -1: light-to-dark > 0
  'vertical-edge-abs': [F.filter2d(image, F.verticalEdge(), { abs: true }), 'scale'],  // either direction
  'horizontal-edge-abs': [F.filter2d(image, F.horizontalEdge(), { abs: true }), 'scale'],
  sobel: [ck.sqrt(ck.add(ck.square(F.filter2d(image, F.sobelX())), ck.square(F.filter2d(image, F.sobelY())))), 'scale'],
  scharr: [ck.sqrt(ck.add(ck.square(F.filter2d(image, F.scharrX())), ck.square(F.filter2d(image, F.scharrY())))), 'scale'],
  'mean-subtract': [F.filter2d(image, F.meanSubtract2x2()), 'signed'],
  // M3 (x) (M2 (x) (M1 (x) A)): blur, then sharpen, then an edge detector
  successive: [F.applySuccessively(image, [F.gaussianKernel(5), F.sharpen(), F.verticalEdge()], { padding: 'same' }), 'signed'],
  // 0.3 A + 0.7 B: the image blended with its blurred self
  blend: [F.blend(image, F.filter2d(image, F.gaussianKernel(7, 3), same)), 'clip'],
};
const written = [];
for (const [name, [t, how]] of Object.entries(results)) {
  const path = join(out, `${name}.png`);
  writeFileSync(path, png(t, how));
  written.push(path);
}

// The square's left side goes dark-to-light (left to right), its right side light-to-dark:
// the vertical edge detector (rows 1 0 -1) answers negatively on the first, positively on the second.
const edge = results['vertical-edge'][0];
const row = Array.from(edge.slice([27, 0], [1, edge.shape[1]]).dataSync());
const summary = { out, written, size: image.shape, leftSideOfSquare: Math.min(...row.slice(5, 15)), rightSideOfSquare: Math.max(...row.slice(37, 47)) };
if (json) console.log(JSON.stringify(summary));
else {
  console.log(`wrote ${written.length} PNG files to ${out}/`);
  if (!file) console.log(`vertical edge on row 28: dark-to-light ${summary.leftSideOfSquare.toFixed(2)}, light-to-dark ${summary.rightSideOfSquare.toFixed(2)} (abs() keeps only the strength)`);
}
