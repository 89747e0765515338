#!/usr/bin/env node
// Import an ONNX model exported from PyTorch, run it, and export it back.
// The default file is a committed fixture: torchvision's ResNet-18 layout at small widths
// (8-16-32-64 channels, 48x48 RGB input, 10 classes), written by scripts/onnx/export_torch.py
// with its PyTorch input and output beside it (resnet18_small.json).
//
//   node examples/import-onnx.mjs [FILE.onnx] [--out DIR] [--json] [--quick]
import { readFileSync, existsSync } from 'node:fs';
import * as ck from 'convkit';

const args = process.argv.slice(2);
const json = args.includes('--json');
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : 'convkit-example-onnx';
const file = args.find((a, i) => a.endsWith('.onnx') && args[i - 1] !== '--out') ?? new URL('../test/fixtures/onnx/resnet18_small.onnx', import.meta.url).pathname;

const net = await ck.loadModel(file);                     // NCHW in the file, NHWC here: convkit's layout
if (!json) net.summary();
const [h, w, c] = net.inputShape;                    // one example, no batch axis

// The fixture's own input and PyTorch's output, when the .json is there; else a random image.
const ref = file.replace(/\.onnx$/, '.json');
let x, expected = null;
if (existsSync(ref)) {
  const f = JSON.parse(readFileSync(ref, 'utf8'));
  const [, C, H, W] = f.inputShape;                        // NCHW -> NHWC
  const nhwc = new Float32Array(H * W * C);
  for (let ch = 0; ch < C; ch++) for (let i = 0; i < H * W; i++) nhwc[i * C + ch] = f.input[ch * H * W + i];
  x = ck.tensor(nhwc, [1, H, W, C]);
  expected = f.output;
} else {
  x = ck.randomUniform([1, h, w, c], { seed: 1 });
}
const logits = net.predict(x).dataSync();
const top = [...logits.keys()].sort((a, b) => logits[b] - logits[a]).slice(0, 3);
const vsTorch = expected ? Math.max(...expected.map((v, i) => Math.abs(v - logits[i]))) : null;

await net.save(`${out}/model.onnx`);                      // back to ONNX (NHWC input recorded in the file)
await net.save(`${out}/model.onnx.nchw.onnx`, { inputLayout: 'NCHW' });
const again = await ck.loadModel(`${out}/model.onnx`);
const roundTrip = Math.max(...again.predict(x).dataSync().map((v, i) => Math.abs(v - logits[i])));

const result = { file, inputShape: [h, w, c], top3: top, maxAbsDiffVsPyTorch: vsTorch, roundTripMaxAbsDiff: roundTrip, exported: [`${out}/model.onnx`, `${out}/model.onnx.nchw.onnx`] };
if (json) console.log(JSON.stringify(result));
else {
  console.log(`top-3 classes ${top.join(', ')}; logits ${Array.from(logits, (v) => v.toFixed(3)).join(' ')}`);
  if (vsTorch !== null) console.log(`max |convkit - PyTorch| = ${vsTorch.toExponential(2)}`);
  console.log(`exported to ${result.exported.join(' and ')}; re-imported: max |diff| ${roundTrip.toExponential(2)}`);
}
