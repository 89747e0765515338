/** Every family's case table, by family name (the conformance suite's index). */
import type { CaseTable } from '../harness.js';
import { activationCases } from './activation.js';
import { boxesCases } from './boxes.js';
import { convCases } from './conv.js';
import { elementwiseCases } from './elementwise.js';
import { lossCases } from './loss.js';
import { matmulCases } from './matmul.js';
import { normCases } from './norm.js';
import { optimCases } from './optim.js';
import { poolCases } from './pool.js';
import { reduceCases } from './reduce.js';
import { shapeCases } from './shape.js';

export const ALL_CASES: Record<string, CaseTable> = {
  activation: activationCases,
  boxes: boxesCases,
  conv: convCases,
  elementwise: elementwiseCases,
  loss: lossCases,
  matmul: matmulCases,
  norm: normCases,
  optim: optimCases,
  pool: poolCases,
  reduce: reduceCases,
  shape: shapeCases,
};

/**
 * Kernels the ts backend registers that no table covers, each with its reason. Keep it
 * (near) empty: every kernel, forward and gradient, belongs in a table.
 */
export const EXCLUDED: Record<string, string> = {};
