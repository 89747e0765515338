/**
 * Which tensors are the output of a softmax or a sigmoid, and of which logits.
 *
 * Keras computes a probability cross-entropy from the logits when the predictions
 * come straight out of a softmax (or sigmoid) op, because log(softmax(z)) computed
 * as (z - max) - log(sum exp(z - max)) keeps every digit that log(p) loses when p
 * underflows to 0 or rounds to 1. convkit does the same: `softmax` and `sigmoid`
 * note their input here, and the Keras-convention losses (ck.losses) look it up.
 * A WeakMap, so that nothing here keeps a tensor object alive.
 */
import type { Tensor } from '../tensor/tensor.js';

export interface LogitsSource {
  kind: 'softmax' | 'sigmoid';
  /** The op's input. */
  logits: Tensor;
  /** softmax's axis (non-negative); -1 for sigmoid (elementwise). */
  axis: number;
}

const sources = new WeakMap<Tensor, LogitsSource>();

/** Record that `probs` = kind(logits) (called by the softmax and sigmoid ops). */
export function noteLogits(probs: Tensor, source: LogitsSource): void {
  sources.set(probs, source);
}

/** The logits `probs` came from, when it is a live softmax or sigmoid output. */
export function logitsOf(probs: Tensor): LogitsSource | undefined {
  const s = sources.get(probs);
  return s && !s.logits.isDisposed && !probs.isDisposed ? s : undefined;
}
