/**
 * Evaluation and prediction over a whole data set, batch by batch in inference mode:
 * `evaluate`'s loss and metrics (Keras's order: loss first, then metrics in compile
 * order) and `predictDataset`'s outputs as one host array.
 */
import type { Tensor } from '../tensor/tensor.js';
import { sizeOf } from '../tensor/shape.js';
import { tidy } from '../registry/storage.js';
import { noGrad } from '../autograd/reverse_mode.js';
import { Accumulator, batchStep, batchStepAsync, streamBatchSource } from './batch_step.js';
import type { Logs, TrainableModel } from './callbacks.js';
import type { Compiled } from './compile.js';
import { isStreaming, type StreamingTrainingData, type TrainingData } from './training_data.js';

/** Loss and metrics of `model` on `ds` (inference mode, no gradients). */
export function evaluateDataset(model: TrainableModel, c: Compiled, ds: TrainingData, batchSize = 32): Logs {
  const acc = new Accumulator();
  noGrad(() => {
    for (const b of ds.hostBatches(batchSize)) batchStep(model, c, ds, b.x, b.y, b.size, false, acc, { noGrad: true });
  });
  const logs = acc.result();
  // Keras's order: loss first, then metrics in compile order.
  const ordered: Logs = { loss: logs.loss };
  for (const m of c.metrics) ordered[m.name] = logs[m.name];
  return ordered;
}

/** `predictDataset` with asynchronous reads: works on every backend, webgpu included. */
export async function predictDatasetAsync(model: TrainableModel, ds: TrainingData, batchSize = 128): Promise<{ data: Float32Array; shape: number[] }> {
  let out: Float32Array | null = null;
  let rowShape: number[] = [];
  let o = 0;
  for (const b of ds.batches(batchSize)) {
    let p: Tensor | null = null;
    try {
      p = noGrad(() => tidy(() => model.apply(b.x, { training: false })));
      const v = await p.data();
      if (!out) {
        rowShape = p.shape.slice(1);
        out = new Float32Array(ds.length * sizeOf(rowShape));
      }
      out.set(v, o);
      o += v.length;
    } finally {
      p?.dispose();
      b.x.dispose();
      b.y.dispose();
    }
  }
  return { data: out ?? new Float32Array(0), shape: [ds.length, ...rowShape] };
}

/** `evaluateDataset` with asynchronous reads (every backend, webgpu included). */
export async function evaluateDatasetAsync(model: TrainableModel, c: Compiled, ds: TrainingData | StreamingTrainingData, batchSize = 32): Promise<Logs> {
  const acc = new Accumulator();
  if (isStreaming(ds)) {
    // A stream: one pass over its own batches (batchSize does not apply).
    let i = 0;
    for await (const b of ds.epochBatches(0)) await batchStepAsync(model, c, streamBatchSource(b, i++), b.x, b.y, b.size, false, acc, { noGrad: true });
    if (i === 0) throw new RangeError('evaluate: the stream yielded no batches');
  } else for (const b of ds.hostBatches(batchSize)) await batchStepAsync(model, c, ds, b.x, b.y, b.size, false, acc, { noGrad: true });
  const logs = acc.result();
  const ordered: Logs = { loss: logs.loss };
  for (const m of c.metrics) ordered[m.name] = logs[m.name];
  return ordered;
}

/** The model's outputs on every sample of `ds`, as one host array [N, ...]. */
export function predictDataset(model: TrainableModel, ds: TrainingData, batchSize = 128): { data: Float32Array; shape: number[] } {
  let out: Float32Array | null = null;
  let rowShape: number[] = [];
  let o = 0;
  noGrad(() => {
    for (const b of ds.batches(batchSize)) {
      try {
        tidy(() => {
          const p = model.apply(b.x, { training: false });
          const v = p.dataSync();
          if (!out) {
            rowShape = p.shape.slice(1);
            out = new Float32Array(ds.length * sizeOf(rowShape));
          }
          out.set(v, o);
          o += v.length;
        });
      } finally {
        b.x.dispose();
        b.y.dispose();
      }
    }
  });
  return { data: out ?? new Float32Array(0), shape: [ds.length, ...rowShape] };
}
