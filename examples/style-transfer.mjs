// Neural style transfer with the built-in random-filter extractor (Ustyuzhaninov et al. 2016).
// Makes its own content image (a shapes scene) and style image (coloured waves), then writes
// style-content.png, style-style.png and style-output.png into --out DIR (default docs/images).
// Usage: node examples/style-transfer.mjs [--steps N] [--size N] [--out DIR] [--quick] [--json]
import * as ck from 'convkit';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const args = process.argv.slice(2);
const json = args.includes('--json');
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const quick = args.includes('--quick');
const steps = opt('--steps', quick ? 100 : 200), size = opt('--size', quick ? 64 : 96);
const outDir = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'docs/images';
mkdirSync(outDir, { recursive: true });
const log = (...a) => { if (!json) console.log(...a); };
await ck.setBackend('wasm');

const t0 = performance.now();
const content = ck.vision.shapesDataset({ n: 1, size, minObjects: 3, maxObjects: 3, noise: 0.02, seed: 4 }).images;
const wave = new Float32Array(size * size * 3);
for (let y = 0; y < size; y++) {
  for (let x = 0; x < size; x++) {
    const t = Math.sin(0.45 * (x + y) + 2.5 * Math.sin(0.15 * y));
    const u = Math.sin(0.3 * (x - y));
    wave.set([0.5 + 0.45 * t, 0.35 + 0.3 * u, 0.6 - 0.35 * t * u], (y * size + x) * 3);
  }
}
const style = ck.tensor(wave, [1, size, size, 3]);

const { image, history } = ck.vision.styleTransfer(content, style, {
  contentLayer: 'conv2', styleLayers: ['conv1', 'conv2', 'conv3'], alpha: 10, beta: 1000, noise: 0.3,
  steps, learningRate: 0.02, seed: 0,
  onStep: (i, c) => { if (i % 20 === 0 || i === steps - 1) log(`step ${i + 1}/${steps}: J ${c.total.toExponential(3)} (content ${c.content.toExponential(2)}, style ${c.style.toExponential(2)})`); },
});
const toPng = (t) => ck.vision.encodePNG({ width: size, height: size, channels: 3, pixels: Uint8Array.from(t.dataSync(), (v) => Math.round(255 * Math.min(1, Math.max(0, v)))) }, { deflate: (raw) => deflateSync(raw, { level: 9 }) });
writeFileSync(join(outDir, 'style-content.png'), toPng(content));
writeFileSync(join(outDir, 'style-style.png'), toPng(style));
writeFileSync(join(outDir, 'style-output.png'), toPng(image));
const seconds = (performance.now() - t0) / 1000;
log(`wrote ${outDir}/style-{content,style,output}.png in ${seconds.toFixed(1)} s`);
console.log(JSON.stringify({ example: 'style-transfer', size, steps, costFirst: history[0], costLast: history[history.length - 1], costRatio: history[history.length - 1] / history[0], seconds: Number(seconds.toFixed(1)) }));
