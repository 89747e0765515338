/**
 * Time to accuracy: trains the default model of a data set as `convkit train` does and
 * measures held-out accuracy after every epoch (the evaluation is timed separately and
 * not counted as training time).
 *
 *   npm run bench:train -- [--dataset fashion-mnist|digits|mnist] [--epochs N] [--target 0.91]
 *                          [--backend wasm|ts] [--batch-size N] [--lr X] [--schedule constant|cosine]
 *                          [--limit N] [--seed N] [--json FILE]
 *
 * Prints one row per epoch: training seconds so far, wall seconds so far, train loss and
 * accuracy (running, as Keras reports them), held-out loss and accuracy, images/s; then the
 * first epoch at which held-out accuracy reached the target.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import * as ck from '../src/index.js';
import { loadData } from '../src/cli/data_source.js';
import { buildModel, DEFAULT_MODELS, heldOut } from '../src/cli/training_run.js';

const argv = process.argv.slice(2);
const opt = (f: string) => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};
if (argv.includes('--help')) {
  console.log('usage: npm run bench:train -- [--dataset NAME] [--epochs N] [--target ACC] [--backend wasm|ts] [--batch-size N] [--lr X] [--schedule constant|cosine] [--limit N] [--seed N] [--json FILE]');
  process.exit(0);
}

async function main(): Promise<void> {
  const dataset = opt('--dataset') ?? 'fashion-mnist';
  const preset = DEFAULT_MODELS[dataset] ?? DEFAULT_MODELS.mnist;
  const epochs = Number(opt('--epochs') ?? preset.epochs);
  const target = Number(opt('--target') ?? (dataset === 'digits' ? 0.97 : 0.91));
  const batchSize = Number(opt('--batch-size') ?? preset.batchSize);
  const lr = Number(opt('--lr') ?? preset.lr);
  const seed = Number(opt('--seed') ?? 1);
  const schedule = opt('--schedule') ?? preset.schedule ?? 'constant';
  const backend = opt('--backend') ?? 'wasm';
  const limit = opt('--limit') ? Number(opt('--limit')) : undefined;
  await ck.setBackend(backend);
  const data = await loadData({ dataset, limit });
  const model = buildModel(preset.model, data.train, seed, preset.opts);
  const rate = schedule === 'cosine' ? ck.cosineDecay({ initial: lr, decaySteps: epochs * data.train.batchCount(batchSize) }) : lr;
  model.compile({ optimizer: { name: 'adam', lr: rate }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
  console.log(`${dataset}: ${data.train.length} train / ${data.test.length} test, ${preset.model} ${JSON.stringify(preset.opts ?? {})} (${model.countParams('trainable')} params), backend ${backend}, adam lr ${lr} (${schedule}), batch ${batchSize}, seed ${seed}`);
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`);
  console.log('epoch  train_s   wall_s  train_loss  train_acc  test_loss  test_acc   img/s');
  const rows: Record<string, number>[] = [];
  let trainSeconds = 0, evalSeconds = 0, reached: Record<string, number> | null = null;
  const t0 = performance.now();
  await model.fit(data.train, {
    epochs, batchSize, seed, verbose: 0,
    callbacks: {
      onEpochEnd: async (epoch, logs) => {
        trainSeconds += logs.seconds;
        const e0 = performance.now();
        const { result } = await heldOut(model, data.test);
        evalSeconds += (performance.now() - e0) / 1000;
        const row = { epoch: epoch + 1, trainSeconds, wallSeconds: (performance.now() - t0) / 1000, trainLoss: logs.loss, trainAccuracy: logs.accuracy, testLoss: result.loss, testAccuracy: result.accuracy, imagesPerSec: logs.images_per_sec };
        rows.push(row);
        if (!reached && result.accuracy >= target) reached = row;
        console.log(
          `${String(row.epoch).padStart(5)} ${trainSeconds.toFixed(1).padStart(8)} ${row.wallSeconds.toFixed(1).padStart(8)} ${logs.loss.toFixed(4).padStart(11)} ${logs.accuracy.toFixed(4).padStart(10)} ${result.loss.toFixed(4).padStart(10)} ${result.accuracy.toFixed(4).padStart(9)} ${Math.round(logs.images_per_sec).toString().padStart(7)}`,
        );
      },
    },
  });
  const r = reached as Record<string, number> | null;
  console.log(r ? `reached ${target} held-out accuracy after epoch ${r.epoch}: ${r.trainSeconds.toFixed(1)} s of training, ${r.wallSeconds.toFixed(1)} s wall (with per-epoch evaluation)` : `did not reach ${target} in ${epochs} epochs`);
  const json = opt('--json');
  if (json) writeFileSync(json, JSON.stringify({ dataset, model: preset.model, modelOpts: preset.opts ?? {}, backend, batchSize, lr, schedule, seed, target, rows, reached: r, evalSeconds }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
