/**
 * Fused optimiser updates on `webgpu`, one program per optimiser, the contracts of
 * src/kernels/optim.ts (PyTorch 1.13's single-tensor rules; the contracts check the attrs,
 * the input count and the sizes).
 *
 * Outputs must be fresh storage, and the largest update (RMSprop, centered with
 * momentum: 5 inputs, 4 outputs) would need 9 storage bindings where WebGPU promises 8.
 * So each kernel first copies the parameter and its state into the fresh outputs and
 * then updates those in place: bindings are the outputs plus the gradient (5 at most).
 * Scalars that depend only on the step (bias corrections, decayed learning rate) are
 * computed once on the CPU in double precision.
 */
import type { TensorInfo } from '../../../tensor/backend.js';
import { sizeOf } from '../../../tensor/shape.js';
import { gpu, type WebGPUBackend } from '../backend.js';
import { MAIN_1D, grid1d, type ParamDecl, type ParamValues, type ProgramDef } from '../program.js';
import { AdaDeltaUpdate, AdaGradUpdate, AdamUpdate, RMSpropUpdate, SGDUpdate, adagradRate } from '../../../kernels/optim.js';
import { registerFloat } from './util.js';

/**
 * An in-place update program over buffers P (parameter), G (gradient) and the named
 * states; `body` updates element i through `P[i]`, `G[i]`, `<state>[i]`.
 */
function updateProgram(key: string, states: string[], params: string[], body: string): ProgramDef {
  return {
    key: `optim:${key}`,
    buffers: [
      { name: 'P', type: 'f32', access: 'read_write' },
      { name: 'G', type: 'f32', access: 'read' },
      ...states.map((s) => ({ name: s, type: 'f32' as const, access: 'read_write' as const })),
    ],
    params: [{ name: 'n', type: 'u32' }, ...params.map((p): ParamDecl => ({ name: p, type: 'f32' }))],
    body: `${MAIN_1D}\n  if (i >= u.n) { return; }\n${body}\n}`,
  };
}

function runUpdate(be: WebGPUBackend, prog: ProgramDef, inputs: TensorInfo[], values: ParamValues): TensorInfo[] {
  const [p, g, ...states] = inputs;
  const n = sizeOf(p.shape);
  const outs = [p, ...states].map(() => be.output(p.shape, p.dtype));
  be.copy(gpu(p), outs[0].dataId, n);
  states.forEach((s, j) => be.copy(gpu(s), outs[j + 1].dataId, n));
  be.run(prog, [outs[0].dataId, gpu(g), ...outs.slice(1).map((o) => o.dataId)], { n, ...values }, grid1d(n));
  return outs;
}

const SGD_PLAIN = updateProgram('sgd', [], ['lr', 'wd'], '  P[i] = P[i] - u.lr * (G[i] + u.wd * P[i]);');
const sgdMomentum = (first: boolean, nesterov: boolean) =>
  updateProgram(`sgd-momentum:${first}:${nesterov}`, ['BUF'], ['lr', 'wd', 'momentum', 'dampening'], `  let p = P[i];
  let d = G[i] + u.wd * p;
  let b = ${first ? 'd' : 'u.momentum * BUF[i] + (1.0 - u.dampening) * d'};
  BUF[i] = b;
  P[i] = p - u.lr * ${nesterov ? '(d + u.momentum * b)' : 'b'};`);
const SGD_MOMENTUM = new Map<string, ProgramDef>();

registerFloat(SGDUpdate, (inputs, { lr, momentum, dampening, weightDecay: wd, step, nesterov }, be) => {
  if (momentum === 0) return runUpdate(be, SGD_PLAIN, inputs, { lr, wd });
  const key = `${step === 1}:${nesterov}`;
  let prog = SGD_MOMENTUM.get(key);
  if (!prog) {
    prog = sgdMomentum(step === 1, nesterov);
    SGD_MOMENTUM.set(key, prog);
  }
  return runUpdate(be, prog, inputs, { lr, wd, momentum, dampening });
});

const adam = (decoupled: boolean, amsgrad: boolean) =>
  updateProgram(`adam:${decoupled}:${amsgrad}`, amsgrad ? ['M1', 'V2', 'VMAX'] : ['M1', 'V2'], ['lr', 'wd', 'beta1', 'beta2', 'eps', 'stepSize', 'bc2sqrt'], `  var p = P[i];
  var g = G[i];
  ${decoupled ? 'p = p * (1.0 - u.lr * u.wd);' : 'g = g + u.wd * p;'}
  let m = u.beta1 * M1[i] + (1.0 - u.beta1) * g;
  let v = u.beta2 * V2[i] + (1.0 - u.beta2) * g * g;
  M1[i] = m;
  V2[i] = v;
  var s = v;
  ${amsgrad ? 's = max(VMAX[i], v); VMAX[i] = s;' : ''}
  P[i] = p - u.stepSize * (m / (sqrt(s) / u.bc2sqrt + u.eps));`);
const ADAM = new Map<string, ProgramDef>();

registerFloat(AdamUpdate, (inputs, { lr, beta1, beta2, eps, weightDecay: wd, step, decoupled, amsgrad }, be) => {
  const key = `${decoupled}:${amsgrad}`;
  let prog = ADAM.get(key);
  if (!prog) {
    prog = adam(decoupled, amsgrad);
    ADAM.set(key, prog);
  }
  const stepSize = lr / (1 - Math.pow(beta1, step));
  const bc2sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  return runUpdate(be, prog, inputs, { lr, wd, beta1, beta2, eps, stepSize, bc2sqrt });
});

const rmsprop = (centered: boolean, momentum: boolean) => {
  const states = ['SQ', ...(centered ? ['GAVG'] : []), ...(momentum ? ['BUF'] : [])];
  return updateProgram(`rmsprop:${centered}:${momentum}`, states, ['lr', 'wd', 'alpha', 'eps', 'momentum'], `  let p = P[i];
  let g = G[i] + u.wd * p;
  let s = u.alpha * SQ[i] + (1.0 - u.alpha) * g * g;
  SQ[i] = s;
  var avg: f32;
  ${centered ? 'let ga = u.alpha * GAVG[i] + (1.0 - u.alpha) * g; GAVG[i] = ga; avg = sqrt(s - ga * ga);' : 'avg = sqrt(s);'}
  avg = avg + u.eps;
  ${momentum ? 'let b = u.momentum * BUF[i] + g / avg; BUF[i] = b; P[i] = p - u.lr * b;' : 'P[i] = p - u.lr * (g / avg);'}`);
};
const RMSPROP = new Map<string, ProgramDef>();

registerFloat(RMSpropUpdate, (inputs, { lr, alpha, eps, weightDecay: wd, momentum, centered }, be) => {
  const key = `${centered}:${momentum > 0}`;
  let prog = RMSPROP.get(key);
  if (!prog) {
    prog = rmsprop(centered, momentum > 0);
    RMSPROP.set(key, prog);
  }
  return runUpdate(be, prog, inputs, { lr, wd, alpha, eps, momentum });
});

const ADAGRAD = updateProgram('adagrad', ['ACC'], ['clr', 'wd', 'eps'], `  let p = P[i];
  let g = G[i] + u.wd * p;
  let a = ACC[i] + g * g;
  ACC[i] = a;
  P[i] = p - u.clr * (g / (sqrt(a) + u.eps));`);

registerFloat(AdaGradUpdate, (inputs, attrs, be) => {
  return runUpdate(be, ADAGRAD, inputs, { clr: adagradRate(attrs), wd: attrs.weightDecay, eps: attrs.eps });
});

const ADADELTA = updateProgram('adadelta', ['SQ', 'ACC'], ['lr', 'wd', 'rho', 'eps'], `  let p = P[i];
  let g = G[i] + u.wd * p;
  let s = u.rho * SQ[i] + (1.0 - u.rho) * g * g;
  SQ[i] = s;
  let delta = sqrt(ACC[i] + u.eps) / sqrt(s + u.eps) * g;
  ACC[i] = u.rho * ACC[i] + (1.0 - u.rho) * delta * delta;
  P[i] = p - u.lr * delta;`);

registerFloat(AdaDeltaUpdate, (inputs, { lr, rho, eps, weightDecay: wd }, be) => {
  return runUpdate(be, ADADELTA, inputs, { lr, wd, rho, eps });
});
