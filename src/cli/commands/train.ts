/**
 * `convkit train`: train a model on a data set, report held-out accuracy and a confusion
 * matrix, optionally save it. A progress bar on a terminal, plain lines otherwise;
 * --json prints one result object at the end (progress then goes to stderr).
 */
import { flagBool, flagNumber, flagString, UsageError, type Command, type ParsedArgs } from '../args.js';
import { chooseBackend } from '../backend_choice.js';
import { DEFAULT_MODELS, runTraining } from '../training_run.js';
import { OPTIMIZER_NAMES, type OptimizerKind } from '../../optim/optimizer.js';
import { DataFormatError, DataNotFoundError } from '../../data/errors.js';

const HELP = `usage: convkit train [options]

Trains a CNN and reports its loss and accuracy on held-out images, with a confusion matrix.

  --dataset NAME|PATH   digits (default: the embedded UCI 8x8 digits), mnist, fashion-mnist,
                        semeion, or a path: a folder of MNIST-format IDX files (gzip or raw),
                        a SEMEION .data file or a digits .csv
  --data-dir DIR        folder of the IDX files for mnist / fashion-mnist (fashion-mnist
                        default: /usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist;
                        mnist default: data/mnist), or of semeion.data
  --model NAME          a zoo model (default per data set: ${Object.entries(DEFAULT_MODELS).map(([d, p]) => `${d} ${p.model}`).join(', ')})
  --epochs N            default per data set (${Object.entries(DEFAULT_MODELS).map(([d, p]) => `${d} ${p.epochs}`).join(', ')})
  --batch-size N        default per data set (32 or 64)
  --optimizer NAME      ${OPTIMIZER_NAMES.join(', ')} (default adam)
  --lr X                learning rate (default: adam per data set, sgd 0.01, others 0.001)
  --schedule NAME       constant or cosine (half-cosine decay from --lr to 0 over the whole
                        run); default per data set (${Object.entries(DEFAULT_MODELS).map(([d, p]) => `${d} ${p.schedule ?? 'constant'}`).join(', ')})
  --backend NAME        wasm (default), ts or webgpu; falls back to ts with a note
  --seed N              seeds initialisation, shuffling and augmentation (default 1)
  --validation-split F  hold out this fraction of the training images for val_ metrics
  --test-split F        held-out fraction for sets without a test part (digits, semeion; default 0.2)
  --limit N             use only the first N training images (and --test-limit N test images)
  --augment             random crops (2 px), rotations (10 degrees) and zoom (10%) on the fly
  --save PATH           save the trained model (model.json, weights.bin, training.json) in PATH
  --json                print one JSON object at the end: data set, model, backend, epochs,
                        seconds, images/s, train and test loss and accuracy
  --quiet               no progress output

Exit status: 0 trained, 1 error (message names the file and the problem), 2 bad usage.`;

function intFlag(args: ParsedArgs, name: string, min = 1): number | undefined {
  const v = flagNumber(args, name);
  if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new UsageError(`--${name} must be an integer >= ${min}, received ${v}`);
  return v;
}

async function run(args: ParsedArgs): Promise<number> {
  if (args.positional.length) throw new UsageError(`unexpected argument '${args.positional[0]}'`);
  const json = flagBool(args, 'json');
  const quiet = flagBool(args, 'quiet');
  const dataset = flagString(args, 'dataset', 'digits')!;
  const optimizer = flagString(args, 'optimizer', 'adam')! as OptimizerKind;
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(optimizer)) throw new UsageError(`--optimizer must be one of ${OPTIMIZER_NAMES.join(', ')}, received '${optimizer}'`);
  const lr = flagNumber(args, 'lr');
  if (lr !== undefined && !(lr > 0)) throw new UsageError(`--lr must be > 0, received ${lr}`);
  const schedule = flagString(args, 'schedule');
  if (schedule !== undefined && schedule !== 'constant' && schedule !== 'cosine') throw new UsageError(`--schedule must be constant or cosine, received '${schedule}'`);
  const vs = flagNumber(args, 'validation-split');
  if (vs !== undefined && !(vs > 0 && vs < 1)) throw new UsageError(`--validation-split must be in (0, 1), received ${vs}`);
  const seed = flagNumber(args, 'seed', 1)!;
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, received ${seed}`);
  const known = new Set(['json', 'quiet', 'dataset', 'data-dir', 'model', 'epochs', 'batch-size', 'optimizer', 'lr', 'schedule', 'backend', 'seed', 'validation-split', 'test-split', 'limit', 'test-limit', 'augment', 'save', 'help']);
  for (const k of Object.keys(args.flags)) if (!known.has(k)) throw new UsageError(`unknown option --${k}`);

  // Human-readable lines go to stdout, or to stderr when stdout carries the JSON result.
  const say = (line: string) => (json ? process.stderr.write(`${line}\n`) : console.log(line));
  const { backend, note } = await chooseBackend(flagString(args, 'backend', 'wasm')!);
  if (note) say(`note: ${note}`);
  try {
    const { result, matrix } = await runTraining(
      {
        dataset, dataDir: flagString(args, 'data-dir'), limit: intFlag(args, 'limit'), testLimit: intFlag(args, 'test-limit'), testSplit: flagNumber(args, 'test-split'),
        model: flagString(args, 'model'), epochs: intFlag(args, 'epochs'), batchSize: intFlag(args, 'batch-size'), optimizer, lr, seed, schedule,
        validationSplit: vs, augment: flagBool(args, 'augment') ? { cropPadding: 2, rotation: 10, scale: 0.1 } : undefined,
        save: flagString(args, 'save'), backend, verbose: quiet ? 0 : 1,
        progress: json ? { write: (s) => void process.stderr.write(s), tty: !!process.stderr.isTTY } : undefined,
      },
      quiet ? () => {} : say,
    );
    if (json) {
      console.log(JSON.stringify(result));
      return 0;
    }
    const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
    console.log(`trained ${result.epochsRun} epochs in ${result.seconds.toFixed(1)} s (${Math.round(result.imagesPerSec)} images/s on ${result.backend})`);
    console.log(`train (last epoch, running): loss ${result.train.loss.toFixed(4)}, accuracy ${pct(result.train.accuracy)}`);
    console.log(`held-out accuracy ${pct(result.test.accuracy)} (loss ${result.test.loss.toFixed(4)}${result.test.top5 !== undefined ? `, top-5 ${pct(result.test.top5)}` : ''}) on ${result.testSamples} images (${result.testKind})`);
    console.log(`confusion matrix (rows: true class, columns: predicted):\n${matrix.toString()}`);
    if (result.fallbacks.length) console.log(`kernels that ran on ts instead of ${result.backend}: ${result.fallbacks.join(', ')}`);
    console.log(result.saved ? `model saved to ${result.saved} (load it with loadModel('${result.saved}') or 'convkit evaluate --model-dir ${result.saved}')` : 'model not saved (use --save PATH)');
    return 0;
  } catch (e) {
    if (e instanceof DataNotFoundError || e instanceof DataFormatError) {
      console.error(`convkit train: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

export const trainCommand: Command = { summary: 'train a CNN on a data set (digits, mnist, fashion-mnist, semeion, files)', help: HELP, run };
