/**
 * Metric resolution for compile: named metrics ('accuracy', 'top5', 'mse', 'mae') computed
 * on the host from the batch's predictions, and user functions computed as tensors.
 */
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape, sizeOf } from '../tensor/shape.js';
import { argMaxRows, topKCorrect } from './metrics.js';
import { isKerasCE, KERAS_CE } from './losses.js';
import type { Labels } from './training_data.js';

/** A user metric: (yTrue, yPred) -> a number or a scalar tensor, averaged over batches by size. */
export type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor | number;

interface HostPred {
  data: ArrayLike<number>;
  shape: readonly number[];
}
export interface MetricSpec {
  name: string;
  /** Sum of the metric over the batch and how many items it covers. */
  host?: (pred: HostPred, y: Labels, yShape: readonly number[]) => { sum: number; count: number };
  tensor?: MetricFn;
}

function classIndices(y: Labels, yShape: readonly number[]): ArrayLike<number> {
  return yShape.length === 2 ? argMaxRows(y, yShape[0], yShape[1]) : y;
}

export function makeMetric(m: string | MetricFn | { name: string; fn: MetricFn }, lossName: string, lossTakesProbabilities: boolean): MetricSpec {
  if (typeof m === 'function') return { name: m.name || 'metric', tensor: m };
  if (typeof m === 'object') return { name: m.name, tensor: m.fn };
  const topk = /^(?:top[-_]?(\d+)(?:[-_]?accuracy)?|topKAccuracy|sparseTopKCategoricalAccuracy)$/i.exec(m);
  if (topk) {
    const k = topk[1] ? Number(topk[1]) : 5;
    return {
      name: `top${k}`,
      host: (p, y, ys) => ({ sum: topKCorrect({ data: p.data, shape: [p.shape[0], sizeOf(p.shape.slice(1))] }, classIndices(y, ys), k), count: p.shape[0] }),
    };
  }
  if (m === 'accuracy' || m === 'acc') {
    // A single output is a probability (threshold 0.5), or a logit (threshold 0) when the loss takes logits.
    const binaryLogits = lossName === 'binaryCrossEntropyWithLogits' || (isKerasCE(lossName) && KERAS_CE[lossName] === 'binary' && !lossTakesProbabilities);
    const threshold = binaryLogits ? 0 : 0.5;
    return {
      name: 'accuracy',
      host: (p, y, ys) => {
        const n = p.shape[0];
        const k = sizeOf(p.shape.slice(1));
        let ok = 0;
        if (k === 1) {
          for (let i = 0; i < n; i++) if ((p.data[i] > threshold) === (y[i] > 0.5)) ok++;
        } else {
          const pred = argMaxRows(p.data, n, k);
          const t = classIndices(y, ys);
          for (let i = 0; i < n; i++) if (pred[i] === t[i]) ok++;
        }
        return { sum: ok, count: n };
      },
    };
  }
  if (m === 'mse' || m === 'meanSquaredError' || m === 'mae' || m === 'meanAbsoluteError') {
    const sq = m === 'mse' || m === 'meanSquaredError';
    return {
      name: sq ? 'mse' : 'mae',
      host: (p, y) => {
        if (p.data.length !== y.length) throw new RangeError(`metric ${m}: predictions of shape ${fmtShape(p.shape)} and ${y.length} target values differ in size`);
        let s = 0;
        for (let i = 0; i < y.length; i++) s += sq ? (p.data[i] - y[i]) ** 2 : Math.abs(p.data[i] - y[i]);
        return { sum: s, count: y.length };
      },
    };
  }
  throw new RangeError(`compile: unknown metric '${m}' (known: accuracy, top5 (any topK), mse, mae, or a function (yTrue, yPred) => number)`);
}
