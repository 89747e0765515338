/** `convkit verify`: conformance checks against reference vectors ("convkit-vectors/1"). */
export { verifyVectors, verifyCase } from './verify.js';
export type { VerifyOptions, VerifyReport, CaseReport, VerifyDType } from './verify.js';
export {
  parseVectors, compareValues, caseTolerance, VectorFormatError, VECTORS_FORMAT, DEFAULT_TOL, SCALE_ATOL_ABOVE_TERMS,
} from './format.js';
export type { VectorFile, VectorCase, VectorTensor, VectorTol, Comparison } from './format.js';
export { VERIFY_OPS, VERIFY_OP_NAMES } from './ops.js';
