/**
 * The op table of `convkit verify`: every op of VECTORS.md mapped to convkit calls,
 * with the file's attributes converted to convkit options. Inputs are found by the
 * table's names (e.g. x, w, b), or by position when a producer named them otherwise.
 */
import { enableGrad } from '../autograd/reverse_mode.js';
import type { DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../ops/creation.js';
import { add, mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { matmul } from '../ops/matmul.js';
import { conv1d, conv2d, conv3d, conv2dTranspose, type Padding } from '../ops/conv.js';
import { avgPool2d, globalAvgPool2d, globalMaxPool2d, maxPool2d, minPool2d } from '../ops/pool.js';
import { elu, gelu, leakyRelu, logSoftmax, prelu, relu, selu, sigmoid, softmax, softplus, step, tanh } from '../ops/activation.js';
import { batchNorm, layerNorm, lrn } from '../ops/norm.js';
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, gram, meanSquaredError, softmaxCrossEntropy, tripletLoss } from '../ops/loss.js';
import { iou, nms } from '../ops/boxes.js';
import { makeOptimizer, OPTIMIZER_OPTIONS, type OptimizerKind } from '../optim/optimizer.js';

type Attrs = Record<string, unknown>;
type Ins = Record<string, Tensor>;

/** Reduction lengths of a case, for the sqrt(terms) atol scaling of long reductions. */
export interface Terms {
  /** Longest sum behind one output element. */
  out: number;
  /** Longest sum behind one gradient element. */
  grad: number;
}

export interface OpSpec {
  /** Input names in the order of VECTORS.md's table. */
  inputs: readonly string[];
  /**
   * The attributes the op knows (VECTORS.md's table), or a function of the case's
   * attributes for ops whose options depend on one of them (optimize). A case with any
   * other attribute fails as unsupported: ignoring it would test something else.
   */
  attrs: readonly string[] | ((attrs: Attrs) => readonly string[]);
  /** Names among `inputs` that may be absent. */
  optional?: readonly string[];
  /** Inputs that hold integers (class indices) and become int32 tensors. */
  intInputs?: (shapes: Record<string, readonly number[]>) => string[];
  /** The op runs on the host and reads its inputs synchronously (nms): inputs are made on 'ts'. */
  host?: boolean;
  /** Run the op; one tensor per expected output, in the file's output order. */
  run(ins: Ins, attrs: Attrs, nOutputs: number): Tensor[];
  terms(shapes: Record<string, readonly number[]>, attrs: Attrs): Terms;
}

// ---------------------------------------------------------------- attribute readers

function attrNum(op: string, attrs: Attrs, key: string, dflt?: number): number | undefined {
  const v = attrs[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number') throw new TypeError(`${op}: attr '${key}' must be a number, received ${JSON.stringify(v)}`);
  return v;
}

function attrBool(op: string, attrs: Attrs, key: string, dflt = false): boolean {
  const v = attrs[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`${op}: attr '${key}' must be a boolean, received ${JSON.stringify(v)}`);
  return v;
}

function attrInts(op: string, attrs: Attrs, key: string): number | number[] | undefined {
  const v = attrs[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  throw new TypeError(`${op}: attr '${key}' must be a number or an array of numbers, received ${JSON.stringify(v)}`);
}

/** VECTORS padding: "same" | "valid" | [[before, after], ...] (a number is accepted too). */
function attrPadding(op: string, attrs: Attrs): Padding | undefined {
  const v = attrs.padding;
  if (v === undefined || v === null) return undefined;
  if (v === 'same' || v === 'valid' || typeof v === 'number') return v;
  if (Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number'))) {
    return v.map((p) => [p[0], p[1]] as [number, number]);
  }
  throw new TypeError(`${op}: attr 'padding' must be "same", "valid" or [[before, after], ...], received ${JSON.stringify(v)}`);
}

function attrReduction(op: string, attrs: Attrs): 'mean' | 'sum' | undefined {
  const r = attrs.reduction;
  if (r === undefined || r === null) return undefined;
  if (r !== 'mean' && r !== 'sum') throw new TypeError(`${op}: attr 'reduction' must be "mean" or "sum", received ${JSON.stringify(r)}`);
  return r;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const one: Terms = { out: 1, grad: 1 };

function convOpts(op: string, attrs: Attrs, b: Tensor | undefined) {
  return {
    strides: attrInts(op, attrs, 'strides'),
    padding: attrPadding(op, attrs),
    dilations: attrInts(op, attrs, 'dilations'),
    groups: attrNum(op, attrs, 'groups'),
    bias: b,
  };
}

/** Convolution: each output sums KH*KW*C/groups products; dw sums over N*OH*OW positions. */
function convTerms(shapes: Record<string, readonly number[]>): Terms {
  const w = shapes.w, x = shapes.x;
  const out = prod(w.slice(0, -1));
  const spatialOut = x ? prod(x.slice(0, -1)) : 1;
  return { out, grad: Math.max(out, spatialOut, prod(w.slice(0, -2)) * w[w.length - 1]) };
}

function poolOpts(op: string, attrs: Attrs) {
  const size = attrInts(op, attrs, 'size');
  if (size === undefined) throw new TypeError(`${op}: attr 'size' is required`);
  return { size, strides: attrInts(op, attrs, 'strides'), padding: attrPadding(op, attrs) };
}

function poolTerms(_s: Record<string, readonly number[]>, attrs: Attrs): Terms {
  const size = attrs.size;
  const k = typeof size === 'number' ? size * size : Array.isArray(size) ? prod(size as number[]) : 1;
  return { out: k, grad: k };
}

function unary(f: (x: Tensor, attrs: Attrs) => Tensor, attrs: readonly string[] = []): OpSpec {
  return { inputs: ['x'], attrs, run: (i, a) => [f(i.x, a)], terms: () => one };
}

const CONV_ATTRS = ['strides', 'padding', 'dilations', 'groups'] as const;
const POOL_ATTRS = ['size', 'strides', 'padding'] as const;
const REDUCTION = ['reduction'] as const;

/** Each optimiser's options: the ones makeOptimizer accepts. */
const OPTIMIZER_ATTRS: Readonly<Record<string, readonly string[]>> = OPTIMIZER_OPTIONS;

/** The attributes `spec` knows for this case's attributes. */
export function knownAttrs(spec: OpSpec, attrs: Attrs): readonly string[] {
  return typeof spec.attrs === 'function' ? spec.attrs(attrs) : spec.attrs;
}

/**
 * Why a case's attributes cannot be honoured (an attribute the op does not know),
 * or null. The message lists the op's attributes.
 */
export function unsupportedAttrs(op: string, spec: OpSpec, attrs: Attrs): string | null {
  if (op === 'optimize' && typeof attrs.optimizer === 'string' && !Object.prototype.hasOwnProperty.call(OPTIMIZER_ATTRS, attrs.optimizer)) {
    return `unsupported: optimize has no optimizer '${attrs.optimizer}' (known: ${Object.keys(OPTIMIZER_ATTRS).join(', ')})`;
  }
  const known = knownAttrs(spec, attrs);
  const extra = Object.keys(attrs).filter((k) => !known.includes(k));
  if (!extra.length) return null;
  const names = extra.map((k) => `'${k}'`).join(', ');
  const what = op === 'optimize' && typeof attrs.optimizer === 'string' ? `optimize with optimizer '${attrs.optimizer}'` : op;
  return `unsupported: ${what} has no attribute ${names} (its attributes: ${known.length ? known.join(', ') : 'none'})`;
}

function lossTerms(first: string) {
  return (s: Record<string, readonly number[]>): Terms => ({ out: prod(s[first]), grad: prod(s[first]) });
}

function axisTerms(s: Record<string, readonly number[]>, attrs: Attrs): Terms {
  const x = s.x;
  const axis = typeof attrs.axis === 'number' ? attrs.axis : -1;
  const n = x.length ? x[axis < 0 ? x.length + axis : axis] ?? 1 : 1;
  return { out: n, grad: n };
}

/**
 * `optimize`: S steps of an optimiser from w0 on f(w) = sum(c * w) + 0.5 * sum(w * w)
 * (gradient c + w, computed by backpropagation), returning each step's weights.
 */
function runOptimize(ins: Ins, attrs: Attrs, nOutputs: number): Tensor[] {
  const { optimizer, steps, ...opts } = attrs;
  if (typeof optimizer !== 'string') throw new TypeError(`optimize: attr 'optimizer' must name an optimiser, received ${JSON.stringify(optimizer)}`);
  const S = steps === undefined ? nOutputs : steps;
  if (typeof S !== 'number' || !Number.isInteger(S) || S < 1) throw new TypeError(`optimize: attr 'steps' must be a positive integer, received ${JSON.stringify(steps)}`);
  const opt = makeOptimizer(optimizer as OptimizerKind, opts);
  const w = ins.w0.detach().requireGrad();
  const c = ins.c;
  const outs: Tensor[] = [];
  try {
    for (let s = 0; s < S; s++) {
      const f = enableGrad(() => add(sum(mul(c, w)), mul(sum(mul(w, w)), 0.5)));
      f.backward();
      opt.step([w]);
      opt.zeroGrad([w]);
      // The optimiser replaces w's storage (assign); a detached view keeps this step's values.
      outs.push(w.detach());
    }
  } finally {
    opt.dispose();
  }
  return outs;
}

/** Every op of VECTORS.md's table. */
export const VERIFY_OPS: Record<string, OpSpec> = {
  conv1d: {
    inputs: ['x', 'w', 'b'], optional: ['b'], attrs: CONV_ATTRS,
    run: (i, a) => [conv1d(i.x, i.w, convOpts('conv1d', a, i.b))],
    terms: convTerms,
  },
  conv2d: {
    inputs: ['x', 'w', 'b'], optional: ['b'], attrs: CONV_ATTRS,
    run: (i, a) => [conv2d(i.x, i.w, convOpts('conv2d', a, i.b))],
    terms: convTerms,
  },
  conv3d: {
    inputs: ['x', 'w', 'b'], optional: ['b'], attrs: CONV_ATTRS,
    run: (i, a) => [conv3d(i.x, i.w, convOpts('conv3d', a, i.b))],
    terms: convTerms,
  },
  conv2dTranspose: {
    inputs: ['x', 'w', 'b'], optional: ['b'], attrs: [...CONV_ATTRS, 'outputPadding'],
    run: (i, a) => [conv2dTranspose(i.x, i.w, { ...convOpts('conv2dTranspose', a, i.b), outputPadding: attrInts('conv2dTranspose', a, 'outputPadding') })],
    terms: (s) => {
      const [kh, kw, f, c] = s.w;
      const x = s.x;
      return { out: kh * kw * c, grad: Math.max(kh * kw * f, prod(x.slice(0, -1))) };
    },
  },
  maxPool2d: { inputs: ['x'], attrs: POOL_ATTRS, run: (i, a) => [maxPool2d(i.x, poolOpts('maxPool2d', a))], terms: poolTerms },
  minPool2d: { inputs: ['x'], attrs: POOL_ATTRS, run: (i, a) => [minPool2d(i.x, poolOpts('minPool2d', a))], terms: poolTerms },
  avgPool2d: {
    inputs: ['x'], attrs: [...POOL_ATTRS, 'countIncludePad'],
    run: (i, a) => [avgPool2d(i.x, { ...poolOpts('avgPool2d', a), countIncludePad: attrBool('avgPool2d', a, 'countIncludePad') })],
    terms: poolTerms,
  },
  globalAvgPool2d: { inputs: ['x'], attrs: [], run: (i) => [globalAvgPool2d(i.x)], terms: (s) => ({ out: s.x[1] * s.x[2], grad: s.x[1] * s.x[2] }) },
  globalMaxPool2d: { inputs: ['x'], attrs: [], run: (i) => [globalMaxPool2d(i.x)], terms: (s) => ({ out: s.x[1] * s.x[2], grad: 1 }) },
  matmul: {
    inputs: ['a', 'b'], attrs: ['transposeA', 'transposeB'],
    run: (i, a) => [matmul(i.a, i.b, { transposeA: attrBool('matmul', a, 'transposeA'), transposeB: attrBool('matmul', a, 'transposeB') })],
    terms: (s, a) => {
      const K = a.transposeA ? s.a[s.a.length - 2] : s.a[s.a.length - 1];
      return { out: K, grad: Math.max(...s.a, ...s.b) };
    },
  },
  relu: unary((x) => relu(x)),
  sigmoid: unary((x) => sigmoid(x)),
  tanh: unary((x) => tanh(x)),
  selu: unary((x) => selu(x)),
  softplus: unary((x) => softplus(x)),
  step: unary((x) => step(x)),
  leakyRelu: unary((x, a) => leakyRelu(x, attrNum('leakyRelu', a, 'alpha')), ['alpha']),
  elu: unary((x, a) => elu(x, attrNum('elu', a, 'alpha')), ['alpha']),
  gelu: unary((x, a) => {
    const ap = a.approximate ?? 'none';
    if (ap !== 'none' && ap !== 'tanh') throw new TypeError(`gelu: attr 'approximate' must be "none" or "tanh", received ${JSON.stringify(ap)}`);
    return gelu(x, { approximate: ap });
  }, ['approximate']),
  prelu: { inputs: ['x', 'alpha'], attrs: [], run: (i) => [prelu(i.x, i.alpha)], terms: (s) => ({ out: 1, grad: prod(s.x) / Math.max(1, prod(s.alpha)) }) },
  softmax: { inputs: ['x'], attrs: ['axis'], run: (i, a) => [softmax(i.x, attrNum('softmax', a, 'axis'))], terms: axisTerms },
  logSoftmax: { inputs: ['x'], attrs: ['axis'], run: (i, a) => [logSoftmax(i.x, attrNum('logSoftmax', a, 'axis'))], terms: axisTerms },
  batchNorm: {
    inputs: ['x', 'gamma', 'beta', 'mean', 'variance'], optional: ['mean', 'variance'], attrs: ['epsilon', 'training'],
    run: (i, a) => [batchNorm(i.x, i.gamma, i.beta, {
      mean: i.mean, variance: i.variance, epsilon: attrNum('batchNorm', a, 'epsilon'),
      training: a.training === undefined ? undefined : attrBool('batchNorm', a, 'training'),
    })],
    terms: (s, a) => {
      const n = prod(s.x) / s.x[s.x.length - 1];
      return { out: a.training === false ? 1 : n, grad: n };
    },
  },
  lrn: {
    inputs: ['x'], attrs: ['size', 'alpha', 'beta', 'k'],
    run: (i, a) => [lrn(i.x, { size: attrNum('lrn', a, 'size'), alpha: attrNum('lrn', a, 'alpha'), beta: attrNum('lrn', a, 'beta'), k: attrNum('lrn', a, 'k') })],
    terms: (_s, a) => ({ out: attrNum('lrn', a, 'size', 5)!, grad: attrNum('lrn', a, 'size', 5)! }),
  },
  layerNorm: {
    inputs: ['x', 'gamma', 'beta'], attrs: ['epsilon', 'axes'],
    run: (i, a) => [layerNorm(i.x, i.gamma, i.beta, { axes: attrInts('layerNorm', a, 'axes'), epsilon: attrNum('layerNorm', a, 'epsilon') })],
    terms: (s) => {
      const n = prod(s.gamma);
      return { out: n, grad: Math.max(n, prod(s.x) / n) };
    },
  },
  meanSquaredError: {
    inputs: ['y', 'target'], attrs: REDUCTION,
    run: (i, a) => [meanSquaredError(i.y, i.target, { reduction: attrReduction('meanSquaredError', a) })],
    terms: lossTerms('y'),
  },
  binaryCrossEntropy: {
    inputs: ['p', 'target'], attrs: REDUCTION,
    run: (i, a) => [binaryCrossEntropy(i.p, i.target, { reduction: attrReduction('binaryCrossEntropy', a) })],
    terms: lossTerms('p'),
  },
  binaryCrossEntropyWithLogits: {
    inputs: ['logits', 'target'], attrs: REDUCTION,
    run: (i, a) => [binaryCrossEntropyWithLogits(i.logits, i.target, { reduction: attrReduction('binaryCrossEntropyWithLogits', a) })],
    terms: lossTerms('logits'),
  },
  softmaxCrossEntropy: {
    inputs: ['logits', 'labels'], attrs: REDUCTION,
    // Class indices [N] become int32; one-hot/probability rows [N,K] stay float.
    intInputs: (s) => (s.labels && s.labels.length === 1 ? ['labels'] : []),
    run: (i, a) => [softmaxCrossEntropy(i.logits, i.labels, { reduction: attrReduction('softmaxCrossEntropy', a) })],
    terms: lossTerms('logits'),
  },
  tripletLoss: {
    inputs: ['anchor', 'positive', 'negative'], attrs: ['margin', 'reduction'],
    run: (i, a) => [tripletLoss(i.anchor, i.positive, i.negative, { margin: attrNum('tripletLoss', a, 'margin'), reduction: attrReduction('tripletLoss', a) })],
    terms: lossTerms('anchor'),
  },
  gram: {
    inputs: ['x'], attrs: ['normalize'],
    run: (i, a) => [gram(i.x, { normalize: attrBool('gram', a, 'normalize') })],
    terms: (s) => ({ out: s.x[1] * s.x[2], grad: Math.max(s.x[1] * s.x[2], s.x[3]) }),
  },
  iou: { inputs: ['a', 'b'], attrs: [], run: (i) => [iou(i.a, i.b)], terms: () => one },
  nms: {
    inputs: ['boxes', 'scores'], attrs: ['iouThreshold', 'scoreThreshold', 'maxOutput'],
    host: true,
    run: (i, a) => [nms(i.boxes, i.scores, {
      iouThreshold: attrNum('nms', a, 'iouThreshold'), scoreThreshold: attrNum('nms', a, 'scoreThreshold'), maxOutput: attrNum('nms', a, 'maxOutput'),
    })],
    terms: () => one,
  },
  optimize: {
    inputs: ['w0', 'c'],
    attrs: (a) => ['optimizer', 'steps', ...(typeof a.optimizer === 'string' && Object.prototype.hasOwnProperty.call(OPTIMIZER_ATTRS, a.optimizer) ? OPTIMIZER_ATTRS[a.optimizer] : [])],
    run: runOptimize,
    terms: () => one,
  },
};

export const VERIFY_OP_NAMES: readonly string[] = Object.keys(VERIFY_OPS);

/**
 * Match a case's inputs to the op's names: by name when every required name is
 * present, else by position (the file's order) when the counts fit. Returns name ->
 * the file's key.
 */
export function bindInputs(op: string, spec: OpSpec, given: readonly string[]): Record<string, string> {
  const required = spec.inputs.filter((n) => !spec.optional?.includes(n));
  const unknown = given.filter((g) => !spec.inputs.includes(g));
  if (required.every((n) => given.includes(n)) && unknown.length === 0) {
    return Object.fromEntries(given.map((g) => [g, g]));
  }
  if (given.length >= required.length && given.length <= spec.inputs.length) {
    return Object.fromEntries(given.map((g, i) => [spec.inputs[i], g]));
  }
  const opt = spec.optional?.length ? ` (optional: ${spec.optional.join(', ')})` : '';
  throw new RangeError(`${op}: expected inputs ${spec.inputs.join(', ')}${opt}, the case has ${given.join(', ') || 'none'}`);
}

/** A convkit tensor from the file's values in `dtype`. */
export function toTensor(values: readonly number[], shape: readonly number[], dtype: DType): Tensor {
  return tensor(values as number[], shape, dtype);
}
