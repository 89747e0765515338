/** Registers the `ts` backend and all its kernels. */
import { registerBackend } from '../../registry/engine.js';
import { TsBackend } from './backend.js';
import './kernels/elementwise.js';
import './kernels/reduce.js';
import './kernels/shape.js';
import './kernels/matmul.js';
import './kernels/conv.js';
import './kernels/pool.js';
import './kernels/optim.js';
import './kernels/activation.js';
import './kernels/norm.js';
import './kernels/loss.js';
import './kernels/boxes.js';

registerBackend('ts', () => new TsBackend(), 1);
export { TsBackend };
