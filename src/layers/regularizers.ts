/**
 * Regulariser specs for layer options (`kernelRegularizer`, `biasRegularizer`,
 * `activityRegularizer`). A spec is plain JSON, so it saves with the layer's config:
 *
 *   { l1?: number, l2?: number, weightElimination?: { lambda: number, w0: number } }
 *
 * penalty(w) = l1 * sum|w| + l2 * sum w^2 + lambda/2 * sum w^2 / (1 + w^2 / w0^2)
 *
 * (l1 and l2 as Keras writes them: no 1/2 on the L2 term; weight elimination in the
 * course's lambda/2 form). Built from src/ops/regularizers.ts, so gradients come free.
 */
import { add, affine } from '../ops/elementwise.js';
import { l1Penalty, l2Penalty, weightEliminationPenalty } from '../ops/regularizers.js';
import type { Tensor } from '../tensor/tensor.js';

export interface RegularizerSpec {
  l1?: number;
  l2?: number;
  weightElimination?: { lambda: number; w0: number };
}

function finiteNonNeg(v: unknown, what: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${what} must be a finite number >= 0, received ${JSON.stringify(v)}`);
}

/** Validate a spec (throws naming `where`); returns a clean copy. */
export function checkRegularizer(spec: RegularizerSpec, where: string): RegularizerSpec {
  if (!spec || typeof spec !== 'object') throw new TypeError(`${where}: expected { l1?, l2?, weightElimination? }, received ${JSON.stringify(spec)}`);
  const known = new Set(['l1', 'l2', 'weightElimination']);
  for (const k of Object.keys(spec)) if (!known.has(k)) throw new RangeError(`${where}: unknown key '${k}' (use l1, l2, weightElimination)`);
  const out: RegularizerSpec = {};
  if (spec.l1 !== undefined) {
    finiteNonNeg(spec.l1, `${where}.l1`);
    out.l1 = spec.l1;
  }
  if (spec.l2 !== undefined) {
    finiteNonNeg(spec.l2, `${where}.l2`);
    out.l2 = spec.l2;
  }
  if (spec.weightElimination !== undefined) {
    const we = spec.weightElimination;
    if (!we || typeof we !== 'object') throw new TypeError(`${where}.weightElimination: expected { lambda, w0 }`);
    finiteNonNeg(we.lambda, `${where}.weightElimination.lambda`);
    if (typeof we.w0 !== 'number' || !(we.w0 > 0) || !Number.isFinite(we.w0)) throw new RangeError(`${where}.weightElimination.w0 must be a finite number > 0, received ${JSON.stringify(we.w0)}`);
    out.weightElimination = { lambda: we.lambda, w0: we.w0 };
  }
  return out;
}

/** The scalar penalty of `w` under `spec` (a scalar zero when the spec is empty). */
export function regularizerPenalty(w: Tensor, spec: RegularizerSpec): Tensor {
  const terms: Tensor[] = [];
  if (spec.l1) terms.push(affine(l1Penalty(w), spec.l1));
  if (spec.l2) terms.push(affine(l2Penalty(w), spec.l2));
  if (spec.weightElimination && spec.weightElimination.lambda) {
    terms.push(affine(weightEliminationPenalty(w, spec.weightElimination.w0), spec.weightElimination.lambda / 2));
  }
  if (!terms.length) return affine(l2Penalty(w), 0);
  return terms.reduce((a, b) => add(a, b));
}
