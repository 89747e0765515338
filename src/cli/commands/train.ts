/**
 * `convkit train`: train a model on a data set, report held-out accuracy and a confusion
 * matrix, optionally save it. A progress bar on a terminal, plain lines otherwise;
 * --json prints one result object at the end (progress then goes to stderr).
 */
import { flagBool, flagInt, flagNumber, flagPositive, flagString, UsageError, type Command, type OptionSpec, type ParsedArgs } from '../args.js';
import { THREADS_HELP, chooseBackend, threadsFlag } from '../backend_choice.js';
import { DEFAULT_MODELS, runTraining, TrainingStoppedError, TTA_NAMES, type TtaName } from '../training_run.js';
import * as zoo from '../../models/zoo/index.js';
import { OPTIMIZER_NAMES, type OptimizerKind } from '../../optim/optimizer.js';

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
  --optimizer NAME      ${OPTIMIZER_NAMES.join(', ')}
                        (default per data set: ${Object.entries(DEFAULT_MODELS).map(([d, p]) => `${d} ${p.optimizer ?? 'adam'}`).join(', ')})
  --weight-decay X      the optimizer's weight decay (adamw: decoupled, as PyTorch's AdamW; others:
                        L2 added to the gradient); default the data set's, else the optimizer's
  --lr X                learning rate (default: adam per data set, sgd 0.01, others 0.001)
  --schedule NAME       constant or cosine (half-cosine decay from --lr to 0 over the whole
                        run); default per data set (${Object.entries(DEFAULT_MODELS).map(([d, p]) => `${d} ${p.schedule ?? 'constant'}`).join(', ')})
  --backend NAME        wasm (default), ts or webgpu; one that cannot start falls back to the
                        best CPU backend (wasm, else ts) with a note
${THREADS_HELP}
  --seed N              seeds initialisation, shuffling and augmentation (default 1)
  --validation-split F  hold out this fraction of the training images for val_ metrics
  --test-split F        held-out fraction for sets without a test part (digits, semeion; default 0.2)
  --limit N             use only the first N training images (and --test-limit N test images)
  --label-smoothing S   cross-entropy label smoothing in [0, 1), as PyTorch's and Keras's; default
                        per data set (${Object.entries(DEFAULT_MODELS).map(([d, p]) => `${d} ${p.labelSmoothing ?? 0}`).join(', ')})
  --tta NAME            test-time augmentation of the held-out evaluation: flip (average the
                        probabilities of each image and its mirror image; the single-view
                        accuracy is printed too) or none; default per data set
                        (${Object.entries(DEFAULT_MODELS).map(([d, p]) => `${d} ${p.tta ?? 'none'}`).join(', ')})
  --augment             random crops (2 px), rotations (10 degrees) and zoom (10%) on the fly
                        (fashion-mnist's default model flips images at random unless --no-augment)
  --erasing P           random erasing with probability P (a rectangle of 2-33% of the image set to
                        0, as torchvision's RandomErasing), added to the augmentation; 0 turns off
                        a data set's default
  --save PATH           save the trained model (model.json, weights.bin, training.json) in PATH
                        (created if needed; checked to be writable before training starts)
  --plot DIR            write the training curves (loss.png/.svg, accuracy.png/.svg; with
                        --validation-split also the val_ curves) and the held-out confusion
                        matrix (confusion_matrix.png/.svg) in DIR (created if needed)
  --json                print one JSON object at the end: data set, model, backend, epochs,
                        seconds, images/s, train and test loss and accuracy
  --quiet               no progress output

Training stops early, with a message naming the epoch and step, if the loss becomes NaN or
infinite (TerminateOnNaN); the model is then not saved and the exit status is 1.

Exit status: 0 trained, 1 error (message names the file and the problem) or a NaN/infinite
loss, 2 bad usage.`;

const OPTIONS: OptionSpec = {
  json: 'boolean', quiet: 'boolean', augment: 'boolean', 'no-augment': 'boolean',
  dataset: 'string', 'data-dir': 'string', model: 'string', epochs: 'string', 'batch-size': 'string', optimizer: 'string', lr: 'string',
  schedule: 'string', backend: 'string', threads: 'string', seed: 'string', 'validation-split': 'string', 'test-split': 'string', limit: 'string',
  'test-limit': 'string', save: 'string', plot: 'string', 'label-smoothing': 'string', tta: 'string', 'weight-decay': 'string',
  erasing: 'string',
};

/** `--tta NAME`: one of TTA_NAMES, or undefined. */
export function ttaFlag(args: ParsedArgs): TtaName | undefined {
  const v = flagString(args, 'tta');
  if (v !== undefined && !(TTA_NAMES as readonly string[]).includes(v)) throw new UsageError(`--tta must be one of ${TTA_NAMES.join(', ')}, received '${v}'`);
  return v as TtaName | undefined;
}

async function run(args: ParsedArgs): Promise<number> {
  if (args.positional.length) throw new UsageError(`unexpected argument '${args.positional[0]}'`);
  // Every usage error is found before anything runs (the backend, the data, training).
  const json = flagBool(args, 'json');
  const quiet = flagBool(args, 'quiet');
  const dataset = flagString(args, 'dataset', 'digits')!;
  const optimizer = flagString(args, 'optimizer') as OptimizerKind | undefined;
  if (optimizer !== undefined && !(OPTIMIZER_NAMES as readonly string[]).includes(optimizer)) throw new UsageError(`--optimizer must be one of ${OPTIMIZER_NAMES.join(', ')}, received '${optimizer}'`);
  const model = flagString(args, 'model');
  if (model !== undefined && !zoo.names().some((n) => n.toLowerCase() === model.toLowerCase())) {
    throw new UsageError(`--model must be a zoo model (${zoo.names().join(', ')}), received '${model}'`);
  }
  const lr = flagPositive(args, 'lr');
  const schedule = flagString(args, 'schedule');
  if (schedule !== undefined && schedule !== 'constant' && schedule !== 'cosine') throw new UsageError(`--schedule must be constant or cosine, received '${schedule}'`);
  const fraction = (name: string) => {
    const v = flagNumber(args, name);
    if (v !== undefined && !(v > 0 && v < 1)) throw new UsageError(`--${name} must be a number in (0, 1), received '${flagString(args, name)}'`);
    return v;
  };
  const weightDecay = flagNumber(args, 'weight-decay');
  if (weightDecay !== undefined && !(weightDecay >= 0)) throw new UsageError(`--weight-decay must be a number >= 0, received '${flagString(args, 'weight-decay')}'`);
  const labelSmoothing = flagNumber(args, 'label-smoothing');
  if (labelSmoothing !== undefined && !(labelSmoothing >= 0 && labelSmoothing < 1)) {
    throw new UsageError(`--label-smoothing must be a number in [0, 1), received '${flagString(args, 'label-smoothing')}'`);
  }
  const tta = ttaFlag(args);
  const erasing = flagNumber(args, 'erasing');
  if (erasing !== undefined && !(erasing >= 0 && erasing <= 1)) throw new UsageError(`--erasing must be a probability in [0, 1], received '${flagString(args, 'erasing')}'`);
  const vs = fraction('validation-split');
  const testSplit = fraction('test-split');
  const seed = flagNumber(args, 'seed', 1)!;
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, received '${flagString(args, 'seed')}'`);
  const epochs = flagInt(args, 'epochs');
  const batchSize = flagInt(args, 'batch-size');
  const limit = flagInt(args, 'limit');
  const testLimit = flagInt(args, 'test-limit');
  const save = flagString(args, 'save');
  if (save === '') throw new UsageError("--save needs a folder, received ''");
  const plot = flagString(args, 'plot');
  if (plot === '') throw new UsageError("--plot needs a folder, received ''");

  // Human-readable lines go to stdout, or to stderr when stdout carries the JSON result.
  const say = (line: string) => (json ? process.stderr.write(`${line}\n`) : console.log(line));
  const { backend, label, note } = await chooseBackend(flagString(args, 'backend', 'wasm')!, threadsFlag(args));
  if (note) say(`note: ${note}`);
  let out: Awaited<ReturnType<typeof runTraining>>;
  try {
    out = await runTraining(
      {
        dataset, dataDir: flagString(args, 'data-dir'), limit, testLimit, testSplit,
        model, epochs, batchSize, optimizer, lr, weightDecay, seed, schedule, labelSmoothing, tta, erasing,
        validationSplit: vs, augment: flagBool(args, 'augment') ? { cropPadding: 2, rotation: 10, scale: 0.1 } : flagBool(args, 'no-augment') ? false : undefined,
        save, plot, backend, backendLabel: label, verbose: quiet ? 0 : 1,
        progress: json ? { write: (s) => void process.stderr.write(s), tty: !!process.stderr.isTTY } : undefined,
      },
      quiet ? () => {} : say,
    );
  } catch (e) {
    if (e instanceof TrainingStoppedError) {
      console.error(`convkit train: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const { result, matrix } = out;
  if (result.stopped) say(result.stopped.reason);
  if (json) {
    console.log(JSON.stringify(result));
    return 0;
  }
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  console.log(`trained ${result.epochsRun} epochs in ${result.seconds.toFixed(1)} s (${Math.round(result.imagesPerSec)} images/s on ${result.backend})`);
  console.log(`train (last epoch, running): loss ${result.train.loss.toFixed(4)}, accuracy ${pct(result.train.accuracy)}`);
  console.log(`held-out accuracy ${pct(result.test.accuracy)} (loss ${result.test.loss.toFixed(4)}${result.test.top5 !== undefined ? `, top-5 ${pct(result.test.top5)}` : ''}) on ${result.testSamples} images (${result.testKind})`);
  if (result.test.singleView) console.log(`  with each image and its mirror image averaged (--tta ${result.test.tta}); single views: accuracy ${pct(result.test.singleView.accuracy)}, loss ${result.test.singleView.loss.toFixed(4)}`);
  console.log(`confusion matrix (rows: true class, columns: predicted):\n${matrix.toString()}`);
  if (result.fallbacks.length) console.log(`kernels that ran on ts instead of ${result.backend}: ${result.fallbacks.join(', ')}`);
  if (result.plots) console.log(`charts written: ${result.plots.join(', ')}`);
  console.log(result.saved ? `model saved to ${result.saved} (load it with loadModel('${result.saved}') or 'convkit evaluate --model-dir ${result.saved}')` : 'model not saved (use --save PATH)');
  return 0;
}

export const trainCommand: Command = { summary: 'train a CNN on a data set (digits, mnist, fashion-mnist, semeion, files)', help: HELP, options: OPTIONS, run };
