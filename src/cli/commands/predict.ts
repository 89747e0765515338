/**
 * `convkit predict IMAGE...`: the top-k classes of a saved model for image files (PNG,
 * PGM, PPM; resized to the model's input and converted to its channels), or for images
 * of a data set picked by index.
 */
import { flagBool, flagInt, flagString, UsageError, type Command, type OptionSpec, type ParsedArgs } from '../args.js';
import { THREADS_HELP, chooseBackend, threadsFlag } from '../backend_choice.js';
import { loadData } from '../data_source.js';
import { loadSavedModel } from '../saved_model.js';
import { readTrainingNote } from './evaluate.js';
import { tensor } from '../../ops/creation.js';
import { softmax } from '../../ops/activation.js';
import { tidy } from '../../registry/storage.js';
import { topK } from '../../train/metrics.js';
import { imageToInput, readImage } from '../../data/image.js';

const HELP = `usage: convkit predict [IMAGE...] [options]

Prints the k most likely classes (with softmax probabilities) of a saved model for each image.

  IMAGE                 PNG, PGM or PPM files; each is resized to the model's input size
                        and converted to grey or RGB as the model expects (values / 255)
  --model-dir DIR       the saved model (default convkit-model): a convkit or TF.js Layers
                        folder, its model.json, or an .onnx file
  --top-k K             how many classes to list (default 3)
  --invert              use 1 - value (dark strokes on white paper -> MNIST's white on black)
  --dataset NAME|PATH   instead of files, take images from a data set (default: the model's)
  --index I,J,...       which images of the data set's held-out part (with --dataset or alone)
  --backend NAME        wasm (default), ts or webgpu (one that cannot start falls back to wasm, else ts)
${THREADS_HELP}
  --json                one JSON object: { model, predictions: [{ input, label?, top: [{ class, name, probability }] }] }

Exit status: 0 done, 1 no model, a missing or damaged file (the message names it), 2 bad usage.`;

const OPTIONS: OptionSpec = {
  'model-dir': 'string', 'top-k': 'string', invert: 'boolean', dataset: 'string', 'data-dir': 'string', index: 'string', backend: 'string', threads: 'string', json: 'boolean',
};

async function run(args: ParsedArgs): Promise<number> {
  const dir = flagString(args, 'model-dir', 'convkit-model')!;
  const k = flagInt(args, 'top-k', 1, 3)!;
  const indexFlag = flagString(args, 'index');
  if (!args.positional.length && indexFlag === undefined) throw new UsageError('give image files, or --index I,J,... to pick held-out images of the data set');
  if (args.positional.length && indexFlag !== undefined) throw new UsageError('give either image files or --index, not both');
  const json = flagBool(args, 'json');
  const { backend, note } = await chooseBackend(flagString(args, 'backend', 'wasm')!, threadsFlag(args));
  if (note) console.error(`note: ${note}`);
  const model = await loadSavedModel(dir);
  const rec = await readTrainingNote(dir);
  const [H, W, C] = model.inputShape;
  const inputs: { name: string; x: Float32Array; label?: number }[] = [];
  let classNames = rec.classNames ?? undefined;
  if (indexFlag !== undefined) {
    // Strictly digits: an empty item ('1,,2') must not become image 0.
    const idx = indexFlag.split(',').map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN));
    const data = await loadData({ dataset: flagString(args, 'dataset') ?? rec.dataset ?? 'digits', dataDir: flagString(args, 'data-dir') ?? rec.dataDir ?? undefined, testSplit: rec.testSplit, splitSeed: rec.splitSeed });
    for (const i of idx) {
      if (!Number.isInteger(i) || i < 0 || i >= data.test.length) throw new UsageError(`--index must list images of the held-out part (integers 0..${data.test.length - 1}), received '${indexFlag}'`);
      const g = data.test.gather([i]);
      inputs.push({ name: `${data.name} held-out #${i}`, x: g.x, label: g.y[0] });
    }
    classNames ??= data.test.classNames ? [...data.test.classNames] : undefined;
  } else {
    for (const f of args.positional) inputs.push({ name: f, x: imageToInput(await readImage(f), [H, W, C], { invert: flagBool(args, 'invert') }) });
  }
  const batch = new Float32Array(inputs.length * H * W * C);
  inputs.forEach((inp, i) => batch.set(inp.x, i * H * W * C));
  const probs = tidy(() => softmax(model.predict(tensor(batch, [inputs.length, H, W, C], 'float32')), -1).dataSync().slice());
  const nc = probs.length / inputs.length;
  const top = topK({ data: probs, shape: [inputs.length, nc] }, k);
  const name = (c: number) => classNames?.[c] ?? String(c);
  const predictions = inputs.map((inp, i) => ({
    input: inp.name,
    ...(inp.label !== undefined ? { label: inp.label, labelName: name(inp.label) } : {}),
    top: top.indices[i].map((c, j) => ({ class: c, name: name(c), probability: top.values[i][j] })),
  }));
  if (json) {
    console.log(JSON.stringify({ model: dir, backend, predictions }));
    return 0;
  }
  for (const p of predictions) {
    const truth = p.label !== undefined ? `  (true: ${name(p.label)})` : '';
    console.log(`${p.input}${truth}`);
    p.top.forEach((t, r) => console.log(`  ${r + 1}. ${t.name.padEnd(12)} ${(100 * t.probability).toFixed(2).padStart(6)}%`));
  }
  return 0;
}

export const predictCommand: Command = { summary: 'top-k classes of a saved model for image files or held-out images', help: HELP, options: OPTIONS, run };
