/**
 * MatMul, convolutions and pooling: every kernel on every backend against the float64 reference, one
 * fast-check property per kernel and backend (tables in cases/, runner in harness.ts).
 * Families share a file to keep the per-file start-up (webgpu included) within budget.
 */
import { matmulCases } from './cases/matmul.js';
import { convCases } from './cases/conv.js';
import { poolCases } from './cases/pool.js';
import { conformanceSuite } from './suite.js';

conformanceSuite('matmul', matmulCases);
conformanceSuite('conv', convCases);
conformanceSuite('pool', poolCases);
