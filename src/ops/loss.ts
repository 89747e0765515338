/**
 * Losses and the style-transfer costs. softmaxCrossEntropy is a fused kernel with a
 * gradient kernel (every classifier's training step runs it); the others are
 * compositions of ops and need no backward code.
 *
 * Reductions (what 'mean' divides by, matching PyTorch where PyTorch has the loss):
 * - meanSquaredError, binaryCrossEntropy, binaryCrossEntropyWithLogits: per-element
 *   losses; 'mean' divides their sum by the number of elements (MSELoss, BCELoss,
 *   BCEWithLogitsLoss).
 * - softmaxCrossEntropy, tripletLoss, localizationLoss: one loss per example (row);
 *   'mean' divides by the number of examples N (CrossEntropyLoss without class weights,
 *   TripletMarginLoss; localizationLoss has no PyTorch twin).
 * - 'sum' adds everything; 'none' returns the unreduced losses (elementwise, or [N]).
 * - meanSquaredError also has 'halfSum' = 1/2 * sum of squares (the classic backprop form).
 */
import { record } from '../autograd/reverse_mode.js';
import { OneHot } from '../kernels/shape.js';
import { SoftmaxCrossEntropy, SoftmaxCrossEntropyGrad } from '../kernels/loss.js';
import { outputOf } from '../registry/dispatch.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { logSoftmax, relu, softplus } from './activation.js';
import { assertFloatTensor, assertTensor } from './arg_checks.js';
import { add, affine, clip, equal, log, mul, neg, square, sub } from './elementwise.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';
import { reshape, slice } from './shape.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface LossOpts {
  reduction?: Reduction;
}

function checkReduction(op: string, r: string, allowed: readonly string[]): void {
  if (!allowed.includes(r)) throw new RangeError(`${op}: reduction must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, received '${r}'`);
}

/** y and target must be float tensors of the same shape and dtype; the message names both shapes. */
function checkPair(op: string, yName: string, y: Tensor, tName: string, t: Tensor): void {
  assertFloatTensor(op, yName, y);
  assertFloatTensor(op, tName, t);
  if (!shapesEqual(y.shape, t.shape)) {
    throw new RangeError(`${op}: ${yName} has shape ${fmtShape(y.shape)} but ${tName} has shape ${fmtShape(t.shape)}; they must be equal`);
  }
  if (y.dtype !== t.dtype) throw new TypeError(`${op}: ${yName} is ${y.dtype} but ${tName} is ${t.dtype}; cast one of them first`);
}

/** Reduce elementwise or per-example losses. `count` is what 'mean' divides by. */
function reduce(losses: Tensor, reduction: Reduction, count: number): Tensor {
  if (reduction === 'none') return losses;
  const s = sum(losses);
  return reduction === 'sum' ? s : affine(s, 1 / Math.max(count, 1));
}

/** Squared error (y - target)^2; 'mean' (default) over all elements, 'sum', 'halfSum' (1/2 sum) or 'none'. */
export function meanSquaredError(y: Tensor, target: Tensor, opts: { reduction?: Reduction | 'halfSum' } = {}): Tensor {
  const op = 'meanSquaredError';
  checkPair(op, 'y', y, 'target', target);
  const r = opts.reduction ?? 'mean';
  checkReduction(op, r, ['mean', 'sum', 'halfSum', 'none']);
  const sq = square(sub(y, target));
  if (r === 'halfSum') return affine(sum(sq), 0.5);
  return reduce(sq, r as Reduction, y.size);
}

/** The log of a probability clamped like PyTorch's BCELoss: never below -100. */
const LOG_FLOOR = Math.exp(-100);

/**
 * Binary cross-entropy on probabilities p in [0, 1]:
 * -(t log p + (1 - t) log(1 - p)) per element, each log clamped to >= -100 as PyTorch
 * does, so p = 0 or 1 gives a finite loss. Where p is clamped (p < e^-100 or
 * 1 - p < e^-100) the gradient through the log is 0. 'mean' divides by the element count.
 */
export function binaryCrossEntropy(p: Tensor, target: Tensor, opts: LossOpts = {}): Tensor {
  const op = 'binaryCrossEntropy';
  checkPair(op, 'p', p, 'target', target);
  const r = opts.reduction ?? 'mean';
  checkReduction(op, r, ['mean', 'sum', 'none']);
  const logP = log(clip(p, LOG_FLOOR, Infinity));
  const log1mP = log(clip(sub(1, p), LOG_FLOOR, Infinity));
  const l = neg(add(mul(target, logP), mul(sub(1, target), log1mP)));
  return reduce(l, r, p.size);
}

/**
 * Binary cross-entropy on logits z, stable for any |z|: softplus(z) - z * t
 * (= max(z, 0) - z t + log1p(exp(-|z|))). Gradient: sigmoid(z) - t. 'mean' divides by
 * the element count.
 */
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, opts: LossOpts = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  checkPair(op, 'logits', logits, 'target', target);
  const r = opts.reduction ?? 'mean';
  checkReduction(op, r, ['mean', 'sum', 'none']);
  return reduce(sub(softplus(logits), mul(logits, target)), r, logits.size);
}

/**
 * Cross-entropy of softmax(logits) against labels: int32 class indices [N] (sparse), or
 * float [N, K] one-hot rows or probabilities. Per example: -sum_k t_k log softmax(z)_k.
 * 'mean' divides by N. Sparse labels are checked against [0, K) when their values can be
 * read synchronously; the error names the offending label and its position.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, opts: LossOpts = {}): Tensor {
  const op = 'softmaxCrossEntropy';
  assertFloatTensor(op, 'logits', logits);
  if (logits.rank !== 2) throw new RangeError(`${op}: logits must have rank 2 [N, K], received shape ${fmtShape(logits.shape)}`);
  assertTensor(op, 'labels', labels);
  const r = opts.reduction ?? 'mean';
  checkReduction(op, r, ['mean', 'sum', 'none']);
  const [N, K] = logits.shape;
  let dense: Tensor;
  if (labels.dtype === 'int32') {
    if (!shapesEqual(labels.shape, [N])) {
      throw new RangeError(`${op}: int32 labels must have shape [${N}] (one class index per row of logits ${fmtShape(logits.shape)}), received ${fmtShape(labels.shape)}`);
    }
    const values = labels.backend.readSync(labels.dataId, labels.dtype);
    if (values) {
      for (let i = 0; i < values.length; i++) {
        if (values[i] < 0 || values[i] >= K) throw new RangeError(`${op}: label ${values[i]} at index ${i} is out of range [0, ${K}) for logits ${fmtShape(logits.shape)}`);
      }
    }
    dense = outputOf(OneHot, [labels], { depth: K, dtype: logits.dtype });
  } else {
    if (!shapesEqual(labels.shape, logits.shape)) {
      throw new RangeError(
        `${op}: float labels must have the logits' shape ${fmtShape(logits.shape)} (one-hot or probabilities), received ${fmtShape(labels.shape)}; class indices must be int32 [${N}]`,
      );
    }
    if (labels.dtype !== logits.dtype) throw new TypeError(`${op}: labels are ${labels.dtype} but logits are ${logits.dtype}`);
    dense = labels;
  }
  const inputs = labels.dtype === 'int32' ? [logits] : [logits, labels];
  const perExample = record(op, inputs, outputOf(SoftmaxCrossEntropy, [logits, dense]), (dl) => [
    logits.requiresGrad ? outputOf(SoftmaxCrossEntropyGrad, [dl, logits, dense]) : null,
    // d loss_n / d t_nk = -logSoftmax(z)_nk
    labels.requiresGrad ? neg(mul(reshape(dl, [N, 1]), logSoftmax(logits))) : null,
  ]);
  return reduce(perExample, r, N);
}

/**
 * Triplet loss with squared Euclidean distances: per example
 * max(0, |a - p|^2 - |a - n|^2 + margin); a, p, n are [N, D] encodings. 'mean' divides by N.
 */
export function tripletLoss(anchor: Tensor, positive: Tensor, negative: Tensor, opts: { margin?: number; reduction?: Reduction } = {}): Tensor {
  const op = 'tripletLoss';
  checkPair(op, 'anchor', anchor, 'positive', positive);
  checkPair(op, 'anchor', anchor, 'negative', negative);
  if (anchor.rank !== 2) throw new RangeError(`${op}: anchor, positive and negative must have rank 2 [N, D], received shape ${fmtShape(anchor.shape)}`);
  const margin = opts.margin ?? 0.2;
  if (typeof margin !== 'number' || !Number.isFinite(margin)) throw new RangeError(`${op}: margin must be a finite number, received ${String(margin)}`);
  const r = opts.reduction ?? 'mean';
  checkReduction(op, r, ['mean', 'sum', 'none']);
  const dPos = sum(square(sub(anchor, positive)), { axes: 1 });
  const dNeg = sum(square(sub(anchor, negative)), { axes: 1 });
  return reduce(relu(affine(sub(dPos, dNeg), 1, margin)), r, anchor.shape[0]);
}

function assertNHWC(op: string, arg: string, x: Tensor): void {
  assertFloatTensor(op, arg, x);
  if (x.rank !== 4) throw new RangeError(`${op}: ${arg} must have rank 4 [N, H, W, C], received shape ${fmtShape(x.shape)}`);
}

/**
 * Gram matrix of each image's channels: G[n, k, k'] = sum over i, j of x[n,i,j,k] x[n,i,j,k'],
 * x [N, H, W, C] -> [N, C, C]; normalize divides by H * W. Composite (a batched matmul).
 */
export function gram(x: Tensor, opts: { normalize?: boolean } = {}): Tensor {
  assertNHWC('gram', 'x', x);
  const [N, H, W, C] = x.shape;
  const f = reshape(x, [N, H * W, C]);
  const g = matmul(f, f, { transposeA: true });
  return opts.normalize ? affine(g, 1 / Math.max(H * W, 1)) : g;
}

function checkActivations(op: string, a: Tensor, aName: string, b: Tensor, bName: string): void {
  assertNHWC(op, aName, a);
  checkPair(op, aName, a, bName, b);
}

/**
 * Neural-style content cost: 1 / (4 nH nW nC) * sum (aC - aG)^2 over one layer's
 * activations [N, nH, nW, nC]; with N > 1 the per-image costs are averaged.
 */
export function contentCost(aC: Tensor, aG: Tensor): Tensor {
  checkActivations('contentCost', aC, 'aC', aG, 'aG');
  const [N, H, W, C] = aC.shape;
  return affine(sum(square(sub(aC, aG))), 1 / (4 * H * W * C * N));
}

/**
 * Style cost of one layer: 1 / (4 nC^2 (nH nW)^2) * sum (G_S - G_G)^2 with the
 * unnormalised Gram matrices of aS and aG [N, nH, nW, nC]; averaged over N.
 */
export function styleLayerCost(aS: Tensor, aG: Tensor): Tensor {
  checkActivations('styleLayerCost', aS, 'aS', aG, 'aG');
  const [N, H, W, C] = aS.shape;
  const d = sub(gram(aS), gram(aG));
  return affine(sum(square(d)), 1 / (4 * C * C * (H * W) * (H * W) * N));
}

export interface StyleLayer {
  /** Style image activations [N, H, W, C] of one layer. */
  aS: Tensor;
  /** Generated image activations, same shape. */
  aG: Tensor;
  /** lambda_l (default 1). */
  weight?: number;
}

/** J_style = sum over layers of weight_l * styleLayerCost(aS_l, aG_l). */
export function styleCost(layers: readonly StyleLayer[]): Tensor {
  if (!Array.isArray(layers) || layers.length === 0) throw new RangeError('styleCost: layers must be a non-empty array of { aS, aG, weight? }');
  let total: Tensor | null = null;
  layers.forEach((l, i) => {
    const w = l.weight ?? 1;
    if (typeof w !== 'number' || !Number.isFinite(w)) throw new RangeError(`styleCost: layer ${i} weight must be a finite number, received ${String(w)}`);
    const c = affine(styleLayerCost(l.aS, l.aG), w);
    total = total ? add(total, c) : c;
  });
  return total!;
}

/**
 * Localisation loss for the detection output [p_c, bx, by, bh, bw, c_1 .. c_K] per row
 * (pred and target [N, 5 + K]): (p_c - t_c)^2 for every row, plus the squared error of
 * the box and class terms only in rows whose target p_c is 1 (an object is present).
 * 'mean' divides the per-row sums by N.
 */
export function localizationLoss(pred: Tensor, target: Tensor, opts: LossOpts = {}): Tensor {
  const op = 'localizationLoss';
  checkPair(op, 'pred', pred, 'target', target);
  if (pred.rank !== 2 || pred.shape[1] < 5) {
    throw new RangeError(`${op}: pred and target must have shape [N, 5 + K] ([p_c, bx, by, bh, bw, classes...]), received ${fmtShape(pred.shape)}`);
  }
  const r = opts.reduction ?? 'mean';
  checkReduction(op, r, ['mean', 'sum', 'none']);
  const [N, D] = pred.shape;
  const sq = square(sub(pred, target));
  const present = equal(slice(target, [0, 0], [N, 1]), 1); // [N, 1], 1 where an object is present
  const pc = reshape(slice(sq, [0, 0], [N, 1]), [N]);
  const rest = sum(mul(slice(sq, [0, 1], [N, D - 1]), present), { axes: 1 });
  return reduce(add(pc, rest), r, N);
}
