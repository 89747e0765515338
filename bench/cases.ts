/**
 * Benchmark cases. Each case prepares its inputs for one implementation and returns a
 * `run` that performs one call and reads the result back into JS (what a user gets),
 * or a string saying why that implementation cannot run it.
 */
import * as ck from '../src/index.js';
import { computeConv2DInfo, type Padding } from '../src/kernels/conv_info.js';
import {
  batchNormInferenceComposite, eluComposite, leakyReluComposite, lrnComposite, stepComposite,
} from '../src/ops/composites.js';
import { tfjs, tfHasKernel, type Tf } from './peers.js';

export interface Impl {
  id: string;
  lib: 'convkit' | 'tfjs';
  backend: string;
  /** Skipped on cases that would take too long per call. */
  slow: boolean;
  unavailable?: string;
}
export interface Prepared {
  run: () => void;
  cleanup: () => void;
}
export interface Case {
  group: string;
  name: string;
  shape: string;
  flops?: number;
  bytes?: number;
  prepare(impl: Impl): Prepared | string;
  /**
   * Other ways of computing the same thing on convkit (a composite of primitive ops
   * against the fused kernel `prepare` runs), timed in the same interleaved rounds; each
   * gets a row `<impl> [<label>]` whose note gives its time relative to the main row.
   */
  alternatives?: Alternative[];
}
export interface Alternative {
  label: string;
  prepare(impl: Impl): Prepared | string;
}

// The same inputs serve every implementation of a case: keep the last few arrays.
const randnCache = new Map<string, Float32Array>();
function randn(n: number, seed: number, scale = 1): Float32Array {
  const key = `${n} ${seed} ${scale}`;
  const hit = randnCache.get(key);
  if (hit) return hit;
  const a = randnFresh(n, seed, scale);
  randnCache.set(key, a);
  if (randnCache.size > 6) randnCache.delete(randnCache.keys().next().value!);
  return a;
}

function randnFresh(n: number, seed: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i += 2) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const u1 = (s + 1) / 4294967297;
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const u2 = s / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1)) * scale;
    a[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) a[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return a;
}
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const fmtShape = (s: readonly number[]) => `[${s.join(',')}]`;

/** convkit: tensors made on the current backend, one call = op + dataSync inside tidy. */
/**
 * Whether each timed call ends by reading the result into JS (dataSync, a copy on both
 * sides). `--kernel-only` turns it off for kernel cases (both libraries run their WASM
 * kernels synchronously, so the result is complete when the call returns): the copy out
 * and the garbage collection it causes cost the same on both sides and dominate small
 * kernels with large outputs.
 */
let readBack = true;
export function setReadBack(on: boolean): void {
  readBack = on;
}

function convkitCase(inputs: [number[], number][], call: (ts: ck.Tensor[]) => ck.Tensor): Prepared {
  const ts = inputs.map(([shape, seed]) => ck.keep(ck.tensor(randn(size(shape), seed), shape)));
  return {
    run: () => {
      ck.tidy(() => {
        const y = call(ts);
        if (readBack) y.dataSync();
      });
    },
    cleanup: () => ts.forEach((t) => t.dispose()),
  };
}

function tfCase(inputs: [number[], number][], call: (tf: Tf, ts: Tf[]) => Tf): Prepared {
  const tf = tfjs();
  const ts = inputs.map(([shape, seed]) => tf.tensor(randn(size(shape), seed), shape, 'float32'));
  return {
    run: () => {
      const y = call(tf, ts);
      if (readBack) y.dataSync();
      y.dispose();
    },
    cleanup: () => ts.forEach((t: Tf) => t.dispose()),
  };
}

// ------------------------------------------------------------------ GEMM

function gemmCases(quick: boolean): Case[] {
  const out: Case[] = [];
  const sizes = [128, 256, 512, 1024];
  const variants: [string, boolean, boolean][] = [['NN', false, false], ['TN', true, false], ['NT', false, true], ['TT', true, true]];
  for (const n of sizes) {
    for (const [v, ta, tb] of variants) {
      // --quick: the square sizes the targets name (512, 1024), and one transposed variant
      if (quick && (n < 512 || (v !== 'NN' && !(v === 'NT' && n === 512)))) continue;
      out.push({
        group: 'gemm',
        name: `matmul ${v} ${n}`,
        shape: `${n}x${n}x${n}`,
        flops: 2 * n * n * n,
        prepare: (impl) =>
          impl.lib === 'convkit'
            ? convkitCase([[[n, n], 1], [[n, n], 2]], ([a, b]) => ck.matmul(a, b, { transposeA: ta, transposeB: tb }))
            : tfCase([[[n, n], 1], [[n, n], 2]], (tf, [a, b]) => tf.matMul(a, b, ta, tb)),
      });
    }
  }
  return out;
}

// ------------------------------------------------------------------ conv

interface ConvShape { label: string; N: number; H: number; W: number; C: number; F: number; K: number; padding: 'valid' | 'same' }
export const CONV_SHAPES: ConvShape[] = [
  { label: 'LeNet C1', N: 64, H: 32, W: 32, C: 1, F: 6, K: 5, padding: 'valid' },
  { label: '28x28x1 -> 32 3x3', N: 32, H: 28, W: 28, C: 1, F: 32, K: 3, padding: 'same' },
  { label: '56x56x64 -> 64 3x3', N: 8, H: 56, W: 56, C: 64, F: 64, K: 3, padding: 'same' },
  { label: '28x28x192 -> 64 1x1', N: 8, H: 28, W: 28, C: 192, F: 64, K: 1, padding: 'same' },
  { label: '112x112x128 -> 128 3x3', N: 1, H: 112, W: 112, C: 128, F: 128, K: 3, padding: 'same' },
];

function convCases(): Case[] {
  const out: Case[] = [];
  for (const s of CONV_SHAPES) {
    const xs = [s.N, s.H, s.W, s.C], ws = [s.K, s.K, s.C, s.F];
    const conv = computeConv2DInfo('bench', xs, ws, { padding: s.padding as Padding });
    const ys = [s.N, conv.outH, conv.outW, s.F];
    const flops = 2 * s.N * conv.outH * conv.outW * s.F * s.K * s.K * s.C;
    const shape = `x${fmtShape(xs)} w${fmtShape(ws)}`;
    out.push({
      group: 'conv2d forward', name: `conv2d ${s.label}`, shape, flops,
      prepare: (impl) =>
        impl.lib === 'convkit'
          ? convkitCase([[xs, 1], [ws, 2]], ([x, w]) => ck.conv2d(x, w, { padding: s.padding }))
          : tfCase([[xs, 1], [ws, 2]], (tf, [x, w]) => tf.conv2d(x, w, 1, s.padding)),
    });
    out.push({
      group: 'conv2d input gradient', name: `conv2d dx ${s.label}`, shape, flops,
      prepare: (impl) =>
        impl.lib === 'convkit'
          ? convkitCase([[ys, 3], [ws, 2]], ([dy, w]) => ck.runKernel('Conv2DBackpropInput', [dy, w], { conv })[0])
          : tfCase([[ys, 3], [ws, 2]], (tf, [dy, w]) => tf.conv2dTranspose(dy, w, xs, 1, s.padding)),
    });
    out.push({
      group: 'conv2d filter gradient', name: `conv2d dw ${s.label}`, shape, flops,
      prepare: (impl) => {
        if (impl.lib === 'convkit') return convkitCase([[xs, 1], [ys, 3]], ([x, dy]) => ck.runKernel('Conv2DBackpropFilter', [x, dy], { conv })[0]);
        if (!tfHasKernel('Conv2DBackpropFilter', impl.backend)) return `unsupported: tfjs-${impl.backend} has no Conv2DBackpropFilter kernel`;
        return tfCase([[xs, 1], [ys, 3]], (tf, [x, dy]) =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad: s.padding, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: ws }));
      },
    });
  }
  return out;
}

// MobileNetV2 / V3 depthwise layers at batch 1 (inference), filter [K,K,C,1]
interface DepthwiseShape { label: string; H: number; W: number; C: number; K: number; stride: number }
export const DEPTHWISE_SHAPES: DepthwiseShape[] = [
  { label: '112x112x32 3x3', H: 112, W: 112, C: 32, K: 3, stride: 1 },
  { label: '56x56x144 3x3', H: 56, W: 56, C: 144, K: 3, stride: 1 },
  { label: '112x112x96 3x3 s2', H: 112, W: 112, C: 96, K: 3, stride: 2 },
  { label: '14x14x576 3x3', H: 14, W: 14, C: 576, K: 3, stride: 1 },
  { label: '14x14x672 5x5', H: 14, W: 14, C: 672, K: 5, stride: 1 },
];

function depthwiseCases(): Case[] {
  return DEPTHWISE_SHAPES.map((s) => {
    const xs = [1, s.H, s.W, s.C], ws = [s.K, s.K, s.C, 1];
    const outH = Math.ceil(s.H / s.stride), outW = Math.ceil(s.W / s.stride);
    return {
      group: 'depthwise forward', name: `depthwise ${s.label}`, shape: `x${fmtShape(xs)} w${fmtShape(ws)}`,
      flops: 2 * outH * outW * s.C * s.K * s.K,
      prepare: (impl: Impl) =>
        impl.lib === 'convkit'
          ? convkitCase([[xs, 1], [ws, 2]], ([x, w]) => ck.depthwiseConv2d(x, w, { padding: 'same', strides: s.stride }))
          : tfCase([[xs, 1], [ws, 2]], (tf, [x, w]) => tf.depthwiseConv2d(x, w, s.stride, 'same')),
    };
  });
}

// ------------------------------------------------------------------ pooling

function poolCases(): Case[] {
  const xs = [8, 112, 112, 64];
  const bytes = (size(xs) + size(xs) / 4) * 4;
  return (['max', 'avg'] as const).map((kind) => ({
    group: 'pooling',
    name: `${kind}Pool2d 2x2`,
    shape: `x${fmtShape(xs)} 2x2/2`,
    bytes,
    prepare: (impl: Impl) =>
      impl.lib === 'convkit'
        ? convkitCase([[xs, 1]], ([x]) => (kind === 'max' ? ck.maxPool2d(x, { size: 2 }) : ck.avgPool2d(x, { size: 2 })))
        : tfCase([[xs, 1]], (tf, [x]) => (kind === 'max' ? tf.maxPool(x, 2, 2, 'valid') : tf.avgPool(x, 2, 2, 'valid'))),
  }));
}

// ------------------------------------------------------------------ LeNet-5 training step

const LENET_PARAMS: [string, number[], number][] = [
  ['c1w', [5, 5, 1, 6], 25], ['c1b', [6], 0], ['c2w', [5, 5, 6, 16], 150], ['c2b', [16], 0],
  ['f1w', [400, 120], 400], ['f1b', [120], 0], ['f2w', [120, 84], 120], ['f2b', [84], 0], ['f3w', [84, 10], 84], ['f3b', [10], 0],
];
const LENET_BATCH = 64;

function lenetData() {
  const x = randn(LENET_BATCH * 32 * 32, 99);
  const y = new Float32Array(LENET_BATCH * 10);
  for (let i = 0; i < LENET_BATCH; i++) y[i * 10 + (i * 7) % 10] = 1;
  return { x, y };
}

function lenetConvkit(): Prepared {
  const params = LENET_PARAMS.map(([, shape, fanIn], i) => {
    const v = fanIn ? randn(size(shape), 10 + i, Math.sqrt(2 / fanIn)) : new Float32Array(size(shape));
    return ck.keep(ck.tensor(v, shape)).requireGrad();
  });
  const d = lenetData();
  const x = ck.keep(ck.tensor(d.x, [LENET_BATCH, 32, 32, 1])), labels = ck.keep(ck.tensor(d.y, [LENET_BATCH, 10]));
  const opt = new ck.Adam({ lr: 1e-3 });
  const [c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b, f3w, f3b] = params;
  return {
    run: () => {
      ck.tidy(() => {
        let h = ck.maxPool2d(ck.relu(ck.conv2d(x, c1w, { bias: c1b })), { size: 2 });
        h = ck.maxPool2d(ck.relu(ck.conv2d(h, c2w, { bias: c2b })), { size: 2 });
        h = ck.reshape(h, [LENET_BATCH, 400]);
        h = ck.relu(ck.add(ck.matmul(h, f1w), f1b));
        h = ck.relu(ck.add(ck.matmul(h, f2w), f2b));
        const loss = ck.softmaxCrossEntropy(ck.add(ck.matmul(h, f3w), f3b), labels);
        loss.backward();
        loss.dataSync();
      });
      opt.step(params);
      opt.zeroGrad(params);
    },
    cleanup: () => [...params, x, labels].forEach((t) => t.dispose()),
  };
}

/**
 * tfjs: its Node packages register no gradients (they live in an ESM-only module that
 * Node cannot load from the CommonJS builds), so the backward pass is written out with
 * the same kernels tfjs's gradients use (Conv2DBackpropInput/Filter, MaxPoolGrad).
 */
function lenetTf(impl: Impl): Prepared | string {
  for (const k of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad']) {
    if (!tfHasKernel(k, impl.backend)) return `unsupported: tfjs-${impl.backend} has no ${k} kernel`;
  }
  const tf = tfjs();
  const vars: Record<string, Tf> = {};
  LENET_PARAMS.forEach(([name, shape, fanIn], i) => {
    const v = fanIn ? randn(size(shape), 10 + i, Math.sqrt(2 / fanIn)) : new Float32Array(size(shape));
    vars[name] = tf.variable(tf.tensor(v, shape), true, `lenet_${name}_${impl.backend}_${Math.random()}`);
  });
  const d = lenetData();
  const x = tf.tensor(d.x, [LENET_BATCH, 32, 32, 1]), labels = tf.tensor(d.y, [LENET_BATCH, 10]);
  const opt = tf.train.adam(1e-3);
  const V = vars;
  const poolGrad = (dy: Tf, input: Tf, output: Tf) => tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, { filterSize: 2, strides: 2, pad: 'valid', dimRoundingMode: undefined });
  const filterGrad = (xx: Tf, dy: Tf, shape: number[]) => tf.engine().runKernel('Conv2DBackpropFilter', { x: xx, dy }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: shape });
  return {
    run: () => {
      const loss = tf.tidy(() => {
        const z1 = tf.add(tf.conv2d(x, V.c1w, 1, 'valid'), V.c1b), a1 = tf.relu(z1), p1 = tf.maxPool(a1, 2, 2, 'valid');
        const z2 = tf.add(tf.conv2d(p1, V.c2w, 1, 'valid'), V.c2b), a2 = tf.relu(z2), p2 = tf.maxPool(a2, 2, 2, 'valid');
        const f = tf.reshape(p2, [LENET_BATCH, 400]);
        const z3 = tf.add(tf.matMul(f, V.f1w), V.f1b), a3 = tf.relu(z3);
        const z4 = tf.add(tf.matMul(a3, V.f2w), V.f2b), a4 = tf.relu(z4);
        const z5 = tf.add(tf.matMul(a4, V.f3w), V.f3b);
        const lossV = tf.losses.softmaxCrossEntropy(labels, z5);
        // backward
        const dz5 = tf.div(tf.sub(tf.softmax(z5), labels), LENET_BATCH);
        const g: Record<string, Tf> = {};
        g.f3w = tf.matMul(a4, dz5, true, false); g.f3b = tf.sum(dz5, 0);
        const dz4 = tf.mul(tf.matMul(dz5, V.f3w, false, true), tf.step(z4));
        g.f2w = tf.matMul(a3, dz4, true, false); g.f2b = tf.sum(dz4, 0);
        const dz3 = tf.mul(tf.matMul(dz4, V.f2w, false, true), tf.step(z3));
        g.f1w = tf.matMul(f, dz3, true, false); g.f1b = tf.sum(dz3, 0);
        const dp2 = tf.reshape(tf.matMul(dz3, V.f1w, false, true), p2.shape);
        const dz2 = tf.mul(poolGrad(dp2, a2, p2), tf.step(z2));
        g.c2w = filterGrad(p1, dz2, [5, 5, 6, 16]); g.c2b = tf.sum(dz2, [0, 1, 2]);
        const dp1 = tf.conv2dTranspose(dz2, V.c2w, p1.shape, 1, 'valid');
        const dz1 = tf.mul(poolGrad(dp1, a1, p1), tf.step(z1));
        g.c1w = filterGrad(x, dz1, [5, 5, 1, 6]); g.c1b = tf.sum(dz1, [0, 1, 2]);
        const named: Record<string, Tf> = {};
        for (const k of Object.keys(g)) named[V[k].name] = g[k];
        opt.applyGradients(named);
        return lossV;
      });
      loss.dataSync();
      loss.dispose();
    },
    cleanup: () => {
      [x, labels].forEach((t) => t.dispose());
      Object.values(vars).forEach((v) => v.dispose());
      opt.dispose();
    },
  };
}

function lenetCase(): Case {
  return {
    group: 'training',
    name: 'LeNet-5 train step (fwd+bwd+Adam)',
    shape: `batch ${LENET_BATCH}, 32x32x1`,
    prepare: (impl) => (impl.lib === 'convkit' ? lenetConvkit() : lenetTf(impl)),
  };
}

// ------------------------------------------------------------------ fused kernels vs composites

/**
 * Each op that has a fused kernel against the same maths written with primitive ops
 * (src/ops/composites.ts): the fused kernel stays only where these rows show it faster.
 * Forward, and forward + backward (the gradient of sum(f(x))) for the ops a training step
 * differentiates. convkit only.
 */
function compositeCases(): Case[] {
  const act = [64, 28, 28, 32];
  const lrnShape = [8, 27, 27, 96];
  const bnShape = [32, 28, 28, 64];
  const lrnOpts = { size: 5, alpha: 1e-4, beta: 0.75, k: 2 };
  const unary: [string, number[], (x: ck.Tensor) => ck.Tensor, (x: ck.Tensor) => ck.Tensor, boolean][] = [
    ['leakyRelu', act, (x) => ck.leakyRelu(x, 0.1), (x) => leakyReluComposite(x, 0.1), true],
    ['elu', act, (x) => ck.elu(x, 1), (x) => eluComposite(x, 1), true],
    ['step', act, (x) => ck.step(x), (x) => stepComposite(x), false],
    ['lrn', lrnShape, (x) => ck.lrn(x, lrnOpts), (x) => lrnComposite(x, lrnOpts), true],
  ];
  const peerless = 'fused vs composite: convkit only';
  const out: Case[] = [];
  for (const [name, shape, fused, composite, train] of unary) {
    const bytes = 2 * 4 * size(shape);
    const fwdBwd = (f: (x: ck.Tensor) => ck.Tensor) => ([x]: ck.Tensor[]) => ck.grad((t: ck.Tensor) => ck.sum(f(t)))(x)[0];
    const variants: [string, (f: (x: ck.Tensor) => ck.Tensor) => (ts: ck.Tensor[]) => ck.Tensor][] = [['forward', (f) => ([x]) => f(x)]];
    if (train) variants.push(['forward+backward', fwdBwd]);
    for (const [what, wrap] of variants) {
      out.push({
        group: 'composite',
        name: `${name} ${what} fused`,
        shape: fmtShape(shape),
        bytes: what === 'forward' ? bytes : undefined,
        prepare: (impl) => (impl.lib === 'convkit' ? convkitCase([[shape, 1]], wrap(fused)) : peerless),
        alternatives: [{ label: 'composite', prepare: (impl) => (impl.lib === 'convkit' ? convkitCase([[shape, 1]], wrap(composite)) : peerless) }],
      });
    }
  }
  const C = bnShape[3];
  const bnInputs: [number[], number][] = [[bnShape, 1], [[C], 2], [[C], 3], [[C], 4], [[C], 5]];
  // a positive variance from the drawn values (a [C] op, the same on both sides)
  const bn = (f: (x: ck.Tensor, g: ck.Tensor, b: ck.Tensor, m: ck.Tensor, v: ck.Tensor) => ck.Tensor) => ([x, g, b, m, v]: ck.Tensor[]) => f(x, g, b, m, ck.affine(ck.square(v), 1, 0.1));
  out.push({
    group: 'composite',
    name: 'batchNorm inference forward fused',
    shape: fmtShape(bnShape),
    bytes: 2 * 4 * size(bnShape),
    prepare: (impl) => (impl.lib === 'convkit' ? convkitCase(bnInputs, bn((x, g, b, mean, variance) => ck.batchNorm(x, g, b, { mean, variance, epsilon: 1e-3, training: false }))) : peerless),
    alternatives: [{ label: 'composite', prepare: (impl) => (impl.lib === 'convkit' ? convkitCase(bnInputs, bn((x, g, b, m, v) => batchNormInferenceComposite(x, g, b, m, v, 1e-3))) : peerless) }],
  });
  return out;
}

export function cases(quick: boolean): Case[] {
  return [...gemmCases(quick), ...convCases(), ...depthwiseCases(), ...poolCases(), lenetCase(), ...compositeCases()];
}
