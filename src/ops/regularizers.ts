/**
 * Weight penalties, to be scaled by the caller and added to the loss (composites of
 * ops, so their gradients come for free). Each takes one tensor or a list (summed over
 * all of them). No lambda is folded in: for the classic lambda/2 * ||w||^2 write
 * affine(l2Penalty(ws), lambda / 2).
 */
import { Tensor } from '../tensor/tensor.js';
import { describeValue } from '../tensor/describe.js';
import { assertFloatTensor } from './arg_checks.js';
import { abs, add, affine, div, square } from './elementwise.js';
import { sum } from './reduce.js';

type Weights = Tensor | readonly Tensor[];

function total(op: string, ws: Weights, f: (w: Tensor) => Tensor): Tensor {
  const list = ws instanceof Tensor ? [ws] : ws;
  if (!Array.isArray(list)) throw new TypeError(`${op}: expected a Tensor or a non-empty array of Tensors, received ${describeValue(ws)}`);
  if (list.length === 0) throw new RangeError(`${op}: expected a Tensor or a non-empty array of Tensors, received an empty array`);
  list.forEach((w, i) => assertFloatTensor(op, `weights[${i}]`, w));
  const dtype = list[0].dtype;
  list.forEach((w, i) => {
    if (w.dtype !== dtype) throw new TypeError(`${op}: weights[${i}] is ${w.dtype} but weights[0] is ${dtype}`);
  });
  return list.map((w) => sum(f(w))).reduce((a, b) => add(a, b));
}

/** sum |w|. The gradient at w = 0 is 0. */
export function l1Penalty(weights: Weights): Tensor {
  return total('l1Penalty', weights, abs);
}

/** sum w^2 (no 1/2: scale by lambda/2 yourself for the classic form). */
export function l2Penalty(weights: Weights): Tensor {
  return total('l2Penalty', weights, square);
}

/**
 * Weight elimination in the form of the course: sum w^2 / (1 + w^2 / w0^2), to be scaled
 * by lambda/2 by the caller. Small weights (|w| << w0) cost about w^2 like L2; large ones
 * saturate at w0^2 each. (Weigend et al.'s original divides this by w0^2, saturating at 1.)
 */
export function weightEliminationPenalty(weights: Weights, w0: number): Tensor {
  if (typeof w0 !== 'number' || !(w0 > 0) || !Number.isFinite(w0)) throw new RangeError(`weightEliminationPenalty: w0 must be a finite number > 0, received ${String(w0)}`);
  return total('weightEliminationPenalty', weights, (w) => {
    const w2 = square(w);
    return div(w2, affine(w2, 1 / (w0 * w0), 1));
  });
}

