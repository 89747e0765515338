// The Models page: zoo summaries as tables, and a dropped model file (convkit's model.json +
// weights.bin, or .onnx) inspected and run on an image.
import * as ck from 'convkit';
import { header, capabilities, showError, clearError, drawValues, dropZone, decodeImageFile, resizeTo, softmax, bars, fmt, startConvkit } from './common.js';
import { SAMPLES } from './samples.js';

const { errorBox, note } = header('Models');
const $ = (id) => document.getElementById(id);
const state = (window.__lab = { zoo: null, model: null, output: null });

const ZOO_DEFAULT_INPUTS = 'input shapes as in the papers (LeNet-5 32x32x1, AlexNet 227x227x3, the others 224x224x3; the small CNNs 28x28x1 and 8x8x1)';

function table(summary) {
  const rows = summary.layers.map((l, i) => `<tr><td class="num">${i + 1}</td><td>${'&nbsp;'.repeat(4 * l.depth)}${l.name}</td><td>${l.type}</td><td>[${l.outputShape.join(', ')}]</td><td class="num">${fmt(l.params)}</td><td class="num">${fmt(l.macs)}</td></tr>`);
  return `<table><thead><tr><th class="num">#</th><th>layer</th><th>type</th><th>output shape</th><th class="num">params</th><th class="num">MACs</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}
const totals = (s) => `<strong>${s.model}</strong>: input [${[s.input].flat(2).join(', ')}], output [${[s.output].flat(2).join(', ')}]; ${fmt(s.totalParams)} parameters (${fmt(s.trainableParams)} trainable, ${fmt(s.nonTrainableParams)} not: batch-norm statistics); ${fmt(s.macs)} multiply-accumulates per image (${s.macs >= 1e8 ? `${(s.macs / 1e9).toFixed(2)} G` : `${(s.macs / 1e6).toFixed(2)} M`}).`;

function showZoo() {
  clearError(errorBox);
  try {
    const m = ck.zoo.get($('zoo').value);
    const s = m.summaryJSON({ expand: $('expand').checked });
    $('zooTotals').innerHTML = totals(s);
    $('zooTable').innerHTML = table(s);
    state.zoo = { name: $('zoo').value, layers: s.layers.length, params: s.totalParams, macs: s.macs };
  } catch (e) {
    showError(errorBox, e, 'zoo');
  }
}

// ---------------------------------------------------------------- dropped models
let loaded = null; // { model, name }
let currentImage = null;

async function loadFiles(files) {
  clearError(errorBox);
  const byName = new Map(files.map((f) => [f.name, f]));
  const onnx = files.find((f) => /\.onnx$/i.test(f.name));
  const json = files.find((f) => /\.json$/i.test(f.name));
  try {
    let model, name;
    if (onnx) {
      model = await ck.loadModel(new Uint8Array(await onnx.arrayBuffer()));   // recognised by content
      name = onnx.name;
    } else if (json) {
      let modelJSON;
      try {
        modelJSON = JSON.parse(await json.text());
      } catch (e) {
        throw new Error(`${json.name} is not valid JSON (${e.message})`);
      }
      if (modelJSON?.format !== 'convkit-model/1') throw new Error(`${json.name} is not a convkit model.json (its "format" is ${JSON.stringify(modelJSON?.format)}, expected "convkit-model/1")`);
      const wname = modelJSON.weightsPath ?? 'weights.bin';
      const weights = byName.get(wname) ?? files.find((f) => /\.bin$/i.test(f.name));
      if (!weights) throw new Error(`${json.name} needs its weights file ${wname}: drop both files together`);
      model = await ck.loadModel({ load: async () => ({ modelJSON, weightData: await weights.arrayBuffer(), sources: { model: json.name, weights: weights.name } }) });
      name = json.name;
    } else if (files.every((f) => /\.bin$/i.test(f.name))) {
      throw new Error(`${files.map((f) => f.name).join(', ')}: a weights file alone is not a model; drop its model.json with it`);
    } else {
      const f = files[0];
      // An ONNX file with another extension is still recognised by its content.
      try {
        model = await ck.loadModel(new Uint8Array(await f.arrayBuffer()));
        name = f.name;
      } catch {
        throw new Error(`'${f.name}' is not a model: drop a convkit model (model.json and weights.bin together) or an ONNX file (.onnx)`);
      }
    }
    setModel(model, name);
  } catch (e) {
    showError(errorBox, e, 'model');
  }
}

function setModel(model, name) {
  loaded = { model, name };
  const s = model.summaryJSON();
  $('modelInfo').innerHTML = totals({ ...s, model: `${name} (${s.model})` });
  $('modelTable').innerHTML = table(s);
  state.model = { name, layers: s.layers.length, input: s.input, output: s.output };
  runModel().catch((e) => showError(errorBox, e, 'predict'));
}

async function runModel() {
  if (!loaded || !currentImage) return;
  const shape = loaded.model.inputShape;
  if (shape.length !== 3) throw new Error(`this model takes input of shape [${shape.join(', ')}] per example, not an image [H, W, C]`);
  let [h, w, c] = shape;
  if (!(h > 0) || !(w > 0)) { h = 224; w = 224; }
  if (c !== 1 && c !== 3) throw new Error(`this model takes ${c} channels; the page can feed images with 1 (grey) or 3 (RGB)`);
  const values = resizeTo(currentImage, h, w, c);
  if (c === 1) drawValues($('modelInput'), values, h, w, { zoom: Math.max(1, Math.floor(128 / h)) });
  else {
    const cv = $('modelInput');
    cv.width = w; cv.height = h;
    cv.style.width = `${Math.max(w, 128)}px`;
    const ctx = cv.getContext('2d'), id = ctx.createImageData(w, h);
    for (let i = 0; i < h * w; i++) id.data.set([values[i * 3] * 255, values[i * 3 + 1] * 255, values[i * 3 + 2] * 255, 255], i * 4);
    ctx.putImageData(id, 0, 0);
  }
  const x = ck.tensor(values, [1, h, w, c]);
  const y = loaded.model.predict(x);
  const out = Array.from(await y.data());
  x.dispose(); y.dispose();
  // a model whose outputs already sum to 1 gives probabilities; otherwise they are logits
  const sum = out.reduce((a, b) => a + b, 0);
  const probs = out.every((v) => v >= 0) && Math.abs(sum - 1) < 1e-3 ? out : softmax(out);
  const top = [...probs.keys()].sort((a, b) => probs[b] - probs[a]).slice(0, 10);
  bars($('modelOutput'), top.map((i) => probs[i]), top.map((i) => `class ${i}`));
  state.output = { top: top.slice(0, 5), probs: top.slice(0, 5).map((i) => probs[i]) };
}

async function main() {
  await Promise.all([capabilities(note), startConvkit()]);
  const zoo = $('zoo');
  for (const n of ck.zoo.names()) zoo.add(new Option(n, n));
  zoo.value = 'lenet5';
  zoo.addEventListener('change', showZoo);
  $('expand').addEventListener('change', showZoo);
  zoo.title = ZOO_DEFAULT_INPUTS;
  showZoo();

  const sample = $('sampleImage');
  for (const n of Object.keys(SAMPLES)) sample.add(new Option(n, n));
  const useSample = () => { currentImage = SAMPLES[sample.value](); runModel().catch((e) => showError(errorBox, e, 'predict')); };
  sample.addEventListener('change', useSample);
  useSample();
  dropZone($('modelDrop'), (files) => loadFiles(files), { multiple: true, accept: '.json,.bin,.onnx' });
  dropZone($('imageDrop'), async (files) => {
    clearError(errorBox);
    try {
      currentImage = await decodeImageFile(files[0]);
      await runModel();
    } catch (e) {
      showError(errorBox, e, 'image');
    }
  }, { multiple: false, accept: 'image/*' });
  $('fromTrain').addEventListener('click', async () => {
    clearError(errorBox);
    try {
      setModel(await ck.loadModel(ck.browserIndexedDB('lab-digits')), 'the Train page\'s model');
    } catch (e) {
      showError(errorBox, e.name === 'ModelNotFoundError' ? new Error('no model saved yet: train one on the Train page first') : e, 'load');
    }
  });
  document.body.dataset.ready = 'true';
}
main().catch((e) => showError(errorBox, e));
