/**
 * `convkit evaluate [MODEL_DIR]`: loss, accuracy, top-5 and the confusion matrix of a
 * saved model on held-out images. By default it uses the data set and split recorded
 * in MODEL_DIR/training.json by `convkit train --save`.
 */
import { flagBool, flagInt, flagString, UsageError, type Command, type OptionSpec, type ParsedArgs } from '../args.js';
import { THREADS_HELP, chooseBackend, threadsFlag } from '../backend_choice.js';
import { loadData } from '../data_source.js';
import { loadSavedModel } from '../saved_model.js';
import { heldOut, TTA_NAMES, type TtaName } from '../training_run.js';
import { ttaFlag } from './train.js';
import { DataFormatError } from '../../data/errors.js';

const HELP = `usage: convkit evaluate [MODEL_DIR] [options]

Evaluates a saved model (default MODEL_DIR: convkit-model) on held-out images: loss,
accuracy, top-5 accuracy and the confusion matrix.

  --model-dir DIR       the saved model (same as the positional MODEL_DIR): a convkit or
                        TF.js Layers folder, its model.json, or an .onnx file
  --dataset NAME|PATH   data set (default: the one recorded in MODEL_DIR/training.json)
  --data-dir DIR        folder of the data files (default: as recorded, or the loader's)
  --split test|train    which part to evaluate (default test: the held-out images)
  --limit N             evaluate only the first N images
  --batch-size N        images per forward pass (default 256)
  --tta NAME            flip: average the probabilities of each image and its mirror image;
                        none: one view (default: as recorded in training.json, else none)
  --backend NAME        wasm (default), ts or webgpu (one that cannot start falls back to wasm, else ts)
${THREADS_HELP}
  --json                one JSON object: { dataset, model, backend, split, samples, loss, accuracy, top5, tta, singleView (with tta flip), seconds, confusion }

Exit status: 0 done, 1 no model or data, or a damaged file (the message names it), 2 bad usage.`;

const OPTIONS: OptionSpec = {
  'model-dir': 'string', dataset: 'string', 'data-dir': 'string', split: 'string', limit: 'string', 'batch-size': 'string', backend: 'string', threads: 'string', json: 'boolean', tta: 'string',
};

interface TrainingNote {
  dataset?: string;
  dataDir?: string | null;
  testSplit?: number;
  splitSeed?: number;
  model?: string;
  classNames?: string[] | null;
  tta?: TtaName;
}

/**
 * MODEL_DIR/training.json, written by `convkit train --save`: which data set and split the
 * model was trained on. It is read as data from outside: a field of the wrong kind is an
 * error naming the file and the field, never a silent different split.
 */
export async function readTrainingNote(dir: string): Promise<TrainingNote> {
  const fs = await import('node:fs');
  const p = await import('node:path');
  const path = p.join(dir.endsWith('.json') ? p.dirname(dir) : dir, 'training.json');
  if (!fs.existsSync(path)) return {};
  let note: unknown;
  try {
    note = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DataFormatError(path, `is not valid JSON (${(e as Error).message})`);
  }
  const bad = (field: string, expected: string, v: unknown): never => {
    throw new DataFormatError(path, `"${field}" must be ${expected}, received ${JSON.stringify(v)}`);
  };
  if (typeof note !== 'object' || note === null || Array.isArray(note)) bad('(the whole file)', 'a JSON object', note);
  const n = note as Record<string, unknown>;
  if (n.dataset !== undefined && (typeof n.dataset !== 'string' || n.dataset === '')) bad('dataset', 'a data set name or path', n.dataset);
  if (n.dataDir !== undefined && n.dataDir !== null && typeof n.dataDir !== 'string') bad('dataDir', 'a folder or null', n.dataDir);
  if (n.testSplit !== undefined && !(typeof n.testSplit === 'number' && n.testSplit > 0 && n.testSplit < 1)) bad('testSplit', 'a number in (0, 1)', n.testSplit);
  if (n.splitSeed !== undefined && !Number.isInteger(n.splitSeed)) bad('splitSeed', 'an integer', n.splitSeed);
  if (n.model !== undefined && typeof n.model !== 'string') bad('model', 'a model name', n.model);
  if (n.tta !== undefined && !(TTA_NAMES as readonly unknown[]).includes(n.tta)) bad('tta', `one of ${TTA_NAMES.join(', ')}`, n.tta);
  if (n.classNames !== undefined && n.classNames !== null && !(Array.isArray(n.classNames) && n.classNames.every((c) => typeof c === 'string'))) bad('classNames', 'an array of strings or null', n.classNames);
  return n as TrainingNote;
}

async function run(args: ParsedArgs): Promise<number> {
  if (args.positional.length > 1) throw new UsageError(`expected at most one MODEL_DIR, received ${args.positional.length} arguments`);
  const dir = flagString(args, 'model-dir') ?? args.positional[0] ?? 'convkit-model';
  const split = flagString(args, 'split', 'test')!;
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split must be test or train, received '${split}'`);
  const limit = flagInt(args, 'limit');
  const batchSize = flagInt(args, 'batch-size', 1, 256)!;
  const json = flagBool(args, 'json');
  const ttaArg = ttaFlag(args);
  const { backend, label, note } = await chooseBackend(flagString(args, 'backend', 'wasm')!, threadsFlag(args));
  if (note) console.error(`note: ${note}`);
  const model = await loadSavedModel(dir);
  const rec = await readTrainingNote(dir);
  const dataset = flagString(args, 'dataset') ?? rec.dataset ?? 'digits';
  const data = await loadData({
    dataset, dataDir: flagString(args, 'data-dir') ?? rec.dataDir ?? undefined, testSplit: rec.testSplit, splitSeed: rec.splitSeed,
    limit: split === 'train' ? limit : undefined, testLimit: split === 'test' ? limit : undefined,
  });
  const part = split === 'test' ? data.test : data.train;
  const t0 = performance.now();
  const tta = ttaArg ?? rec.tta ?? 'none';
  const { result, matrix } = await heldOut(model, part, batchSize, tta);
  const seconds = (performance.now() - t0) / 1000;
  if (json) {
    console.log(JSON.stringify({ dataset: data.name, model: dir, backend, split, samples: part.length, ...result, seconds, confusion: matrix.counts }));
    return 0;
  }
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  console.log(`${dir} on ${data.name} (${split === 'test' ? data.testKind : 'training part'}, ${part.length} images, backend ${label}):`);
  console.log(`loss ${result.loss.toFixed(4)}, accuracy ${pct(result.accuracy)}${result.top5 !== undefined ? `, top-5 ${pct(result.top5)}` : ''}  (${seconds.toFixed(1)} s)`);
  if (result.singleView) console.log(`  with each image and its mirror image averaged (--tta ${tta}); single views: accuracy ${pct(result.singleView.accuracy)}, loss ${result.singleView.loss.toFixed(4)}`);
  console.log(`confusion matrix (rows: true class, columns: predicted):\n${matrix.toString()}`);
  return 0;
}

export const evaluateCommand: Command = { summary: 'loss, accuracy and confusion matrix of a saved model on held-out images', help: HELP, options: OPTIONS, run };
