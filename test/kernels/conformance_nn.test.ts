/**
 * Activations, losses, normalisation and optimiser updates: every kernel on every backend against the float64 reference, one
 * fast-check property per kernel and backend (tables in cases/, runner in harness.ts).
 * Families share a file to keep the per-file start-up (webgpu included) within budget.
 */
import { activationCases } from './cases/activation.js';
import { lossCases } from './cases/loss.js';
import { normCases } from './cases/norm.js';
import { optimCases } from './cases/optim.js';
import { conformanceSuite } from './suite.js';

conformanceSuite('activation', activationCases);
conformanceSuite('loss', lossCases);
conformanceSuite('norm', normCases);
conformanceSuite('optim', optimCases);
