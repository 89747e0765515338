/** Every public op. One file per op family; each op's gradient sits beside it. */
export * from './creation.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './matmul.js';
export * from './conv.js';
export * from './pool.js';
export * from './activation.js';
export * from './norm.js';
export * from './loss.js';
export * from './boxes.js';
export * from './regularizers.js';
export { Rng } from './random.js';
import './tensor_methods.js';
