/**
 * Fused optimiser updates on `webgpu`, one program per optimiser, same contracts as the
 * ts oracle (src/backends/ts/kernels/optim.ts, PyTorch 1.13's single-tensor rules).
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
import { registerFloat, type Attrs } from './util.js';

function num(attrs: Attrs, key: string, kernel: string): number {
  const v = attrs[key];
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${kernel}: attr '${key}' must be a number, received ${JSON.stringify(v)}`);
  return v;
}

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

function runUpdate(be: WebGPUBackend, kernel: string, prog: ProgramDef, inputs: TensorInfo[], values: ParamValues, expected: number): TensorInfo[] {
  if (inputs.length !== expected) throw new RangeError(`${kernel}: expected ${expected} inputs, received ${inputs.length}`);
  const [p, g, ...states] = inputs;
  const n = sizeOf(p.shape);
  for (const t of inputs) {
    if (sizeOf(t.shape) !== n) throw new RangeError(`${kernel}: every input must have the parameter's ${n} elements, one has ${sizeOf(t.shape)}`);
    if (t.dtype !== 'float32') throw new TypeError(`${kernel} on webgpu: float32 tensors expected, received ${t.dtype}`);
  }
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

registerFloat('SGDUpdate', (inputs, attrs, be) => {
  const K = 'SGDUpdate';
  const lr = num(attrs, 'lr', K), momentum = num(attrs, 'momentum', K), dampening = num(attrs, 'dampening', K);
  const wd = num(attrs, 'weightDecay', K), step = num(attrs, 'step', K), nesterov = !!attrs.nesterov;
  if (momentum === 0) return runUpdate(be, K, SGD_PLAIN, inputs, { lr, wd }, 2);
  const key = `${step === 1}:${nesterov}`;
  let prog = SGD_MOMENTUM.get(key);
  if (!prog) {
    prog = sgdMomentum(step === 1, nesterov);
    SGD_MOMENTUM.set(key, prog);
  }
  return runUpdate(be, K, prog, inputs, { lr, wd, momentum, dampening }, 3);
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

registerFloat('AdamUpdate', (inputs, attrs, be) => {
  const K = 'AdamUpdate';
  const lr = num(attrs, 'lr', K), beta1 = num(attrs, 'beta1', K), beta2 = num(attrs, 'beta2', K);
  const eps = num(attrs, 'eps', K), wd = num(attrs, 'weightDecay', K), step = num(attrs, 'step', K);
  const decoupled = !!attrs.decoupled, amsgrad = !!attrs.amsgrad;
  const key = `${decoupled}:${amsgrad}`;
  let prog = ADAM.get(key);
  if (!prog) {
    prog = adam(decoupled, amsgrad);
    ADAM.set(key, prog);
  }
  const stepSize = lr / (1 - Math.pow(beta1, step));
  const bc2sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  return runUpdate(be, K, prog, inputs, { lr, wd, beta1, beta2, eps, stepSize, bc2sqrt }, amsgrad ? 5 : 4);
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

registerFloat('RMSpropUpdate', (inputs, attrs, be) => {
  const K = 'RMSpropUpdate';
  const lr = num(attrs, 'lr', K), alpha = num(attrs, 'alpha', K), eps = num(attrs, 'eps', K);
  const wd = num(attrs, 'weightDecay', K), momentum = num(attrs, 'momentum', K), centered = !!attrs.centered;
  const key = `${centered}:${momentum > 0}`;
  let prog = RMSPROP.get(key);
  if (!prog) {
    prog = rmsprop(centered, momentum > 0);
    RMSPROP.set(key, prog);
  }
  return runUpdate(be, K, prog, inputs, { lr, wd, alpha, eps, momentum }, 3 + (centered ? 1 : 0) + (momentum > 0 ? 1 : 0));
});

const ADAGRAD = updateProgram('adagrad', ['ACC'], ['clr', 'wd', 'eps'], `  let p = P[i];
  let g = G[i] + u.wd * p;
  let a = ACC[i] + g * g;
  ACC[i] = a;
  P[i] = p - u.clr * (g / (sqrt(a) + u.eps));`);

registerFloat('AdaGradUpdate', (inputs, attrs, be) => {
  const K = 'AdaGradUpdate';
  const lr = num(attrs, 'lr', K), lrDecay = num(attrs, 'lrDecay', K), eps = num(attrs, 'eps', K);
  const wd = num(attrs, 'weightDecay', K), step = num(attrs, 'step', K);
  return runUpdate(be, K, ADAGRAD, inputs, { clr: lr / (1 + (step - 1) * lrDecay), wd, eps }, 3);
});

const ADADELTA = updateProgram('adadelta', ['SQ', 'ACC'], ['lr', 'wd', 'rho', 'eps'], `  let p = P[i];
  let g = G[i] + u.wd * p;
  let s = u.rho * SQ[i] + (1.0 - u.rho) * g * g;
  SQ[i] = s;
  let delta = sqrt(ACC[i] + u.eps) / sqrt(s + u.eps) * g;
  ACC[i] = u.rho * ACC[i] + (1.0 - u.rho) * delta * delta;
  P[i] = p - u.lr * delta;`);

registerFloat('AdaDeltaUpdate', (inputs, attrs, be) => {
  const K = 'AdaDeltaUpdate';
  const lr = num(attrs, 'lr', K), rho = num(attrs, 'rho', K), eps = num(attrs, 'eps', K), wd = num(attrs, 'weightDecay', K);
  return runUpdate(be, K, ADADELTA, inputs, { lr, wd, rho, eps }, 4);
});
