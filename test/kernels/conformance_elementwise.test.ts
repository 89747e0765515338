/**
 * Elementwise maps, reductions, data movement and boxes: every kernel on every backend against the float64 reference, one
 * fast-check property per kernel and backend (tables in cases/, runner in harness.ts).
 * Families share a file to keep the per-file start-up (webgpu included) within budget.
 */
import { elementwiseCases } from './cases/elementwise.js';
import { reduceCases } from './cases/reduce.js';
import { shapeCases } from './cases/shape.js';
import { boxesCases } from './cases/boxes.js';
import { conformanceSuite } from './suite.js';

conformanceSuite('elementwise', elementwiseCases);
conformanceSuite('reduce', reduceCases);
conformanceSuite('shape', shapeCases);
conformanceSuite('boxes', boxesCases);
