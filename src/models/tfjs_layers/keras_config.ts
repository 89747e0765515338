/**
 * The one table between Keras layer configs (snake_case, as Keras and TF.js's model.save
 * write them) and convkit layers (camelCase args, the same classes mostly): for each Keras
 * class, how its keys become convkit args (`read`), how a convkit layer's config becomes
 * Keras keys (`write`), and how its weights are named on each side. read.ts and write.ts
 * both use it; a class or an option missing here is an error naming the layer.
 *
 * Keras keys that only matter for training from scratch (initialisers, regularisers,
 * constraints) are not carried over in either direction.
 */
import type { Layer, LayerConfig } from '../../layers/layer.js';

/** A Keras layer config being read: each key is taken once; what is left is checked. */
export class KerasReader {
  private used = new Set<string>();
  constructor(readonly cfg: Record<string, unknown>, readonly label: string, readonly inputShapes: number[][]) {}
  has(key: string): boolean {
    return this.cfg[key] !== undefined && this.cfg[key] !== null;
  }
  /** The value of `key` (undefined when absent or null), marked as handled. */
  get(key: string): unknown {
    this.used.add(key);
    const v = this.cfg[key];
    return v === null ? undefined : v;
  }
  /** `key` must be absent, null or one of `ok` (values are compared as JSON). */
  only(key: string, ...ok: unknown[]): void {
    const v = this.get(key);
    if (v === undefined) return;
    if (!ok.some((o) => JSON.stringify(o) === JSON.stringify(v))) {
      this.fail(`option ${key}=${JSON.stringify(v)} is not supported (expected ${ok.map((o) => JSON.stringify(o)).join(' or ')})`);
    }
  }
  fail(msg: string): never {
    throw new KerasConfigError(`layer ${this.label}: ${msg}`);
  }
  /** Keys neither read nor ignorable (a value other than null). */
  leftovers(): string[] {
    return Object.keys(this.cfg).filter((k) => !this.used.has(k) && !IGNORED.test(k) && !COMMON.has(k) && this.cfg[k] !== null);
  }
}

/** A Keras config convkit cannot represent (read) or a convkit layer Keras cannot (write). */
export class KerasConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KerasConfigError';
  }
}

/** Keys every layer may carry that do not change what it computes at inference. */
const IGNORED = /_(initializer|regularizer|constraint)$/;
const COMMON = new Set(['name', 'trainable', 'dtype', 'batch_input_shape', 'batch_shape', 'batch_size', 'input_shape', 'input_dtype', 'sparse', 'ragged', 'seed', 'autocast', 'module', 'registered_name']);

// ---------------------------------------------------------------- activations

/** Keras activation name -> convkit's, both ways (Keras's names are snake_case). */
const ACTIVATIONS: [keras: string, convkit: string][] = [
  ['linear', 'linear'], ['relu', 'relu'], ['relu6', 'relu6'], ['sigmoid', 'sigmoid'], ['tanh', 'tanh'], ['softmax', 'softmax'],
  ['elu', 'elu'], ['selu', 'selu'], ['gelu', 'gelu'], ['softplus', 'softplus'], ['log_softmax', 'logSoftmax'],
  ['swish', 'swish'], ['silu', 'swish'], ['mish', 'mish'], ['softsign', 'softsign'],
];
const ACT_NOTE: Record<string, string> = {
  hard_sigmoid: "Keras's hard_sigmoid is clip(0.2 x + 0.5, 0, 1), convkit's hardSigmoid is PyTorch's x / 6 + 0.5",
  hardSigmoid: "convkit's hardSigmoid is PyTorch's x / 6 + 0.5, Keras's hard_sigmoid is 0.2 x + 0.5",
};

function readActivation(r: KerasReader, key = 'activation'): string | undefined {
  const v = r.get(key);
  if (v === undefined) return undefined;
  const name = typeof v === 'string' ? v : typeof v === 'object' && v && typeof (v as { class_name?: unknown }).class_name === 'string' ? (v as { class_name: string }).class_name : JSON.stringify(v);
  const snake = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  const hit = ACTIVATIONS.find(([k]) => k === snake);
  if (!hit) r.fail(`activation '${name}' is not supported${ACT_NOTE[snake] ? ` (${ACT_NOTE[snake]})` : ''} (supported: ${ACTIVATIONS.map(([k]) => k).join(', ')})`);
  return hit![1];
}

function writeActivation(name: unknown, label: string): string {
  const hit = ACTIVATIONS.find(([, c]) => c === name);
  if (!hit) throw new KerasConfigError(`layer ${label}: activation '${String(name)}' has no Keras equivalent${ACT_NOTE[String(name)] ? ` (${ACT_NOTE[String(name)]})` : ''} (supported: ${ACTIVATIONS.map(([, c]) => c).join(', ')})`);
  return hit[0];
}

// ---------------------------------------------------------------- helpers

function ints(r: KerasReader, key: string, n: number, dflt?: number[]): number[] | undefined {
  const v = r.get(key);
  if (v === undefined) return dflt;
  const a = typeof v === 'number' ? Array(n).fill(v) : v;
  if (!Array.isArray(a) || a.length !== n || a.some((d) => !Number.isInteger(d))) r.fail(`${key} must be ${n} integer(s), received ${JSON.stringify(v)}`);
  return [...(a as number[])];
}

function channelsLast(r: KerasReader): void {
  const df = r.get('data_format');
  if (df !== undefined && df !== 'channels_last') {
    r.fail(`data_format ${JSON.stringify(df)} is not supported: convkit is channels-last (NHWC); re-save the Keras model with data_format='channels_last'`);
  }
}

function padding(r: KerasReader, causalOk = false): 'valid' | 'same' | 'causal' {
  const p = r.get('padding') ?? 'valid';
  if (p === 'valid' || p === 'same' || (causalOk && p === 'causal')) return p;
  return r.fail(`padding ${JSON.stringify(p)} is not supported (expected 'valid' or 'same'${causalOk ? " or 'causal'" : ''})`);
}

function bool(r: KerasReader, key: string, dflt: boolean): boolean {
  const v = r.get(key);
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') r.fail(`${key} must be true or false, received ${JSON.stringify(v)}`);
  return v as boolean;
}

function num(r: KerasReader, key: string, dflt?: number): number | undefined {
  const v = r.get(key);
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) r.fail(`${key} must be a number, received ${JSON.stringify(v)}`);
  return v as number;
}

/** Keras axis (full-shape index, maybe a one-element list) must be the last one. */
function lastAxis(r: KerasReader, key: string, what: string): void {
  const v = r.get(key);
  if (v === undefined) return;
  const rank = (r.inputShapes[0]?.length ?? 0) + 1;
  const a = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (a !== -1 && a !== rank - 1) r.fail(`${key} ${JSON.stringify(v)} is not supported: convkit's ${what} works on the last (channel) axis, -1 or ${rank - 1} here`);
}

const pair = (v: number | number[]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** What the writer knows about the layer being written. */
export interface WriteCtx {
  label: string;
  /** Input shapes, no batch axis (one per input). */
  inputShapes: number[][];
}

/** A Keras class and its convkit counterpart. */
export interface KerasMapping {
  keras: string;
  convkit: string;
  /** Keras config -> convkit args (name, trainable set by the caller). */
  read(r: KerasReader): Record<string, unknown>;
  /** convkit config -> Keras keys (name, trainable, dtype set by the caller). */
  write(c: LayerConfig, ctx: WriteCtx, layer: Layer): Record<string, unknown>;
  /** [Keras weight name, convkit weight name]; default the same names. */
  weights?: [string, string][];
  /** The Keras shape of a convkit weight, when it differs (same values, row-major). */
  kerasShape?(convkitName: string, shape: readonly number[], inputShapes: number[][]): number[];
}

function convMapping(keras: string, rank: number): KerasMapping {
  return {
    keras,
    convkit: keras,
    read(r) {
      channelsLast(r);
      const kernelSize = ints(r, 'kernel_size', rank)!;
      const dilationRate = ints(r, 'dilation_rate', rank, Array(rank).fill(1))!;
      let p: unknown = padding(r, rank === 1);
      if (p === 'causal') p = [[dilationRate[0] * (kernelSize[0] - 1), 0]];
      const args: Record<string, unknown> = {
        filters: r.get('filters'), kernelSize, strides: ints(r, 'strides', rank, Array(rank).fill(1)), padding: p, dilationRate,
        groups: num(r, 'groups', 1), useBias: bool(r, 'use_bias', true), activation: readActivation(r),
      };
      if (keras === 'Conv2DTranspose') {
        const op = r.get('output_padding');
        if (op !== undefined) args.outputPadding = typeof op === 'number' ? [op, op] : op;
      }
      return args;
    },
    write(c, ctx) {
      if (c.groups !== 1) throw new KerasConfigError(`layer ${ctx.label}: groups=${c.groups} has no TF.js Layers equivalent (TF.js convolutions have no groups option)`);
      let p = c.padding;
      const k = c.kernelSize as number[], d = c.dilationRate as number[];
      if (rank === 1 && Array.isArray(p) && p.length === 1 && p[0][0] === d[0] * (k[0] - 1) && p[0][1] === 0) p = 'causal';
      if (p !== 'valid' && p !== 'same' && p !== 'causal') {
        throw new KerasConfigError(`layer ${ctx.label}: explicit padding ${JSON.stringify(p)} has no Keras equivalent (Keras ${keras} takes 'valid' or 'same'${rank === 1 ? " or 'causal'" : ''})`);
      }
      const out: Record<string, unknown> = {
        filters: c.filters, kernel_size: k, strides: c.strides, padding: p, data_format: 'channels_last', dilation_rate: d,
        activation: writeActivation(c.activation, ctx.label), use_bias: c.useBias,
      };
      if (keras === 'Conv2DTranspose') out.output_padding = c.outputPadding ?? null;
      return out;
    },
  };
}

function pool2d(keras: string, convkit: string): KerasMapping {
  return {
    keras,
    convkit,
    read(r) {
      channelsLast(r);
      const poolSize = ints(r, 'pool_size', 2, [2, 2]);
      return { poolSize, strides: ints(r, 'strides', 2, poolSize), padding: padding(r) };
    },
    write(c, ctx) {
      if (c.ceilMode) throw new KerasConfigError(`layer ${ctx.label}: ceilMode has no Keras equivalent (Keras pools with 'valid' or 'same' padding only)`);
      if (c.dilations) throw new KerasConfigError(`layer ${ctx.label}: pooling dilations have no Keras equivalent`);
      if (c.padding !== 'valid' && c.padding !== 'same') throw new KerasConfigError(`layer ${ctx.label}: explicit padding ${JSON.stringify(c.padding)} (internal: the writer pads first)`);
      if (c.countIncludePad && c.padding === 'same') throw new KerasConfigError(`layer ${ctx.label}: countIncludePad with 'same' padding has no Keras equivalent (Keras averages over the real cells only)`);
      return { pool_size: c.poolSize, padding: c.padding, strides: c.strides, data_format: 'channels_last' };
    },
  };
}

function pool3d(keras: string): KerasMapping {
  return {
    keras,
    convkit: keras,
    read(r) {
      channelsLast(r);
      const poolSize = ints(r, 'pool_size', 3, [2, 2, 2]);
      return { poolSize, strides: ints(r, 'strides', 3, poolSize), padding: padding(r) };
    },
    write(c, ctx) {
      if (c.dilations) throw new KerasConfigError(`layer ${ctx.label}: pooling dilations have no Keras equivalent`);
      if (c.padding !== 'valid' && c.padding !== 'same') throw new KerasConfigError(`layer ${ctx.label}: explicit pooling padding ${JSON.stringify(c.padding)} has no Keras equivalent`);
      if (c.countIncludePad && c.padding === 'same') throw new KerasConfigError(`layer ${ctx.label}: countIncludePad with 'same' padding has no Keras equivalent`);
      return { pool_size: c.poolSize, padding: c.padding, strides: c.strides, data_format: 'channels_last' };
    },
  };
}

function globalPool(keras: string): KerasMapping {
  return {
    keras,
    convkit: keras,
    read(r) {
      channelsLast(r);
      return { keepDims: bool(r, 'keepdims', false) };
    },
    write(c) {
      return { data_format: 'channels_last', ...(c.keepDims ? { keepdims: true } : {}) };
    },
  };
}

function pool1d(keras: string): KerasMapping {
  return {
    keras,
    convkit: keras,
    read(r) {
      channelsLast(r);
      const poolSize = ints(r, 'pool_size', 1, [2]);
      return { poolSize, strides: ints(r, 'strides', 1, poolSize), padding: padding(r) };
    },
    write(c, ctx) {
      if (c.padding !== 'valid' && c.padding !== 'same') throw new KerasConfigError(`layer ${ctx.label}: explicit padding ${JSON.stringify(c.padding)} has no Keras equivalent (Keras pools with 'valid' or 'same' padding only)`);
      return { pool_size: c.poolSize, padding: c.padding, strides: c.strides, data_format: 'channels_last' };
    },
  };
}

function spatialDropout(keras: string): KerasMapping {
  return {
    keras,
    convkit: keras,
    read(r) {
      if (keras !== 'SpatialDropout1D') channelsLast(r);
      r.only('noise_shape');
      return { rate: num(r, 'rate') };
    },
    write: (c) => ({ rate: c.rate, ...(keras !== 'SpatialDropout1D' ? { data_format: 'channels_last' } : {}) }),
  };
}

function plain(keras: string): KerasMapping {
  return { keras, convkit: keras, read: () => ({}), write: () => ({}) };
}

export const KERAS_LAYERS: KerasMapping[] = [
  convMapping('Conv1D', 1),
  convMapping('Conv2D', 2),
  convMapping('Conv3D', 3),
  convMapping('Conv2DTranspose', 2),
  {
    keras: 'DepthwiseConv2D',
    convkit: 'DepthwiseConv2D',
    read(r) {
      channelsLast(r);
      r.only('groups', 1);
      return {
        kernelSize: ints(r, 'kernel_size', 2), strides: ints(r, 'strides', 2, [1, 1]), padding: padding(r), dilationRate: ints(r, 'dilation_rate', 2, [1, 1]),
        depthMultiplier: num(r, 'depth_multiplier', 1), useBias: bool(r, 'use_bias', true), activation: readActivation(r),
      };
    },
    write(c, ctx) {
      if (c.padding !== 'valid' && c.padding !== 'same') throw new KerasConfigError(`layer ${ctx.label}: explicit padding (internal: the writer pads first)`);
      return {
        kernel_size: c.kernelSize, strides: c.strides, padding: c.padding, data_format: 'channels_last', dilation_rate: c.dilationRate,
        depth_multiplier: c.depthMultiplier, activation: writeActivation(c.activation, ctx.label), use_bias: c.useBias,
      };
    },
    weights: [['depthwise_kernel', 'kernel'], ['bias', 'bias']],
  },
  {
    keras: 'Dense',
    convkit: 'Dense',
    read: (r) => ({ units: r.get('units'), activation: readActivation(r), useBias: bool(r, 'use_bias', true) }),
    write: (c, ctx) => ({ units: c.units, activation: writeActivation(c.activation, ctx.label), use_bias: c.useBias }),
  },
  {
    keras: 'BatchNormalization',
    convkit: 'BatchNormalization',
    read(r) {
      lastAxis(r, 'axis', 'BatchNormalization');
      r.only('renorm', false);
      r.only('synchronized', false);
      r.only('fused', true, false);
      r.only('virtual_batch_size');
      r.only('adjustment');
      r.get('renorm_clipping');
      r.get('renorm_momentum');
      return { momentum: num(r, 'momentum', 0.99), epsilon: num(r, 'epsilon', 1e-3), center: bool(r, 'center', true), scale: bool(r, 'scale', true) };
    },
    write: (c) => ({ axis: -1, momentum: c.momentum, epsilon: c.epsilon, center: c.center, scale: c.scale }),
    weights: [['gamma', 'gamma'], ['beta', 'beta'], ['moving_mean', 'movingMean'], ['moving_variance', 'movingVariance']],
  },
  {
    keras: 'LayerNormalization',
    convkit: 'LayerNormalization',
    read(r) {
      r.only('rms_scaling', false);
      const a = r.get('axis') ?? -1;
      return { axes: a, epsilon: num(r, 'epsilon', 1e-3), center: bool(r, 'center', true), scale: bool(r, 'scale', true) };
    },
    write: (c) => ({ axis: (c.axes as number[]).length === 1 ? (c.axes as number[])[0] : c.axes, epsilon: c.epsilon, center: c.center, scale: c.scale }),
  },
  pool2d('MaxPooling2D', 'MaxPooling2D'),
  pool2d('AveragePooling2D', 'AveragePooling2D'),
  pool3d('MaxPooling3D'),
  pool3d('AveragePooling3D'),
  globalPool('GlobalAveragePooling2D'),
  globalPool('GlobalMaxPooling2D'),
  {
    keras: 'Flatten',
    convkit: 'Flatten',
    read(r) {
      channelsLast(r);
      return {};
    },
    write: () => ({}),
  },
  {
    keras: 'Reshape',
    convkit: 'Reshape',
    read: (r) => ({ targetShape: r.get('target_shape') }),
    write: (c) => ({ target_shape: c.targetShape }),
  },
  {
    keras: 'Permute',
    convkit: 'Permute',
    read: (r) => ({ dims: r.get('dims') }),
    write: (c) => ({ dims: c.dims }),
  },
  {
    keras: 'Dropout',
    convkit: 'Dropout',
    read(r) {
      r.only('noise_shape');
      return { rate: num(r, 'rate') };
    },
    write: (c) => ({ rate: c.rate }),
  },
  {
    keras: 'Activation',
    convkit: 'Activation',
    read: (r) => ({ activation: readActivation(r) ?? 'linear' }),
    write: (c, ctx) => ({ activation: writeActivation(c.activation, ctx.label) }),
  },
  {
    keras: 'ReLU',
    convkit: 'ReLU',
    read(r) {
      r.only('negative_slope', 0);
      r.only('threshold', 0);
      const m = num(r, 'max_value');
      return m === undefined ? {} : { maxValue: m };
    },
    write: (c) => ({ max_value: c.maxValue ?? null }),
  },
  {
    keras: 'LeakyReLU',
    convkit: 'LeakyReLU',
    read: (r) => ({ alpha: num(r, 'negative_slope') ?? num(r, 'alpha', 0.3) }),
    write: (c) => ({ alpha: c.alpha }),
  },
  {
    keras: 'ELU',
    convkit: 'ELU',
    read: (r) => ({ alpha: num(r, 'alpha', 1) }),
    write: (c) => ({ alpha: c.alpha }),
  },
  {
    keras: 'PReLU',
    convkit: 'PReLU',
    read(r) {
      const rank = r.inputShapes[0]?.length ?? 0;
      const want = Array.from({ length: rank - 1 }, (_, i) => i + 1);
      const s = r.get('shared_axes');
      const got = s === undefined ? [] : Array.isArray(s) ? [...(s as number[])].sort() : [s];
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        r.fail(`shared_axes ${JSON.stringify(s ?? null)} is not supported: convkit's PReLU has one slope per channel, i.e. shared_axes ${JSON.stringify(want)} for this input`);
      }
      return {};
    },
    write: (c, ctx) => ({ shared_axes: Array.from({ length: ctx.inputShapes[0].length - 1 }, (_, i) => i + 1) }),
    kerasShape: (_n, shape, inputShapes) => [...Array(inputShapes[0].length - 1).fill(1), shape[0]],
  },
  {
    keras: 'Softmax',
    convkit: 'Softmax',
    read: (r) => ({ axis: num(r, 'axis', -1) }),
    write: (c) => ({ axis: c.axis }),
  },
  {
    keras: 'ZeroPadding2D',
    convkit: 'ZeroPadding2D',
    read(r) {
      channelsLast(r);
      const p = r.get('padding') ?? 1;
      if (typeof p === 'number') return { padding: [[p, p], [p, p]] };
      if (Array.isArray(p) && p.length === 2) return { padding: p.map((q) => pair(q as number | number[])) };
      return r.fail(`padding ${JSON.stringify(p)} is not supported`);
    },
    write: (c) => ({ padding: c.padding, data_format: 'channels_last' }),
  },
  {
    keras: 'SeparableConv2D',
    convkit: 'SeparableConv2D',
    read(r) {
      channelsLast(r);
      return {
        filters: r.get('filters'), kernelSize: ints(r, 'kernel_size', 2), strides: ints(r, 'strides', 2, [1, 1]), padding: padding(r),
        dilationRate: ints(r, 'dilation_rate', 2, [1, 1]), depthMultiplier: num(r, 'depth_multiplier', 1), useBias: bool(r, 'use_bias', true), activation: readActivation(r),
      };
    },
    write(c, ctx) {
      if (c.padding !== 'valid' && c.padding !== 'same') throw new KerasConfigError(`layer ${ctx.label}: explicit padding (internal: the writer pads first)`);
      return {
        filters: c.filters, kernel_size: c.kernelSize, strides: c.strides, padding: c.padding, data_format: 'channels_last', dilation_rate: c.dilationRate,
        depth_multiplier: c.depthMultiplier, activation: writeActivation(c.activation, ctx.label), use_bias: c.useBias,
      };
    },
    weights: [['depthwise_kernel', 'depthwiseKernel'], ['pointwise_kernel', 'pointwiseKernel'], ['bias', 'bias']],
  },
  pool1d('MaxPooling1D'),
  pool1d('AveragePooling1D'),
  globalPool('GlobalAveragePooling1D'),
  globalPool('GlobalMaxPooling1D'),
  globalPool('GlobalAveragePooling3D'),
  globalPool('GlobalMaxPooling3D'),
  spatialDropout('SpatialDropout1D'),
  spatialDropout('SpatialDropout2D'),
  spatialDropout('SpatialDropout3D'),
  {
    keras: 'UpSampling2D',
    convkit: 'UpSampling2D',
    read(r) {
      channelsLast(r);
      return { size: ints(r, 'size', 2, [2, 2]), interpolation: r.get('interpolation') ?? 'nearest' };
    },
    write: (c) => ({ size: c.size, interpolation: c.interpolation, data_format: 'channels_last' }),
  },
  {
    keras: 'UpSampling1D',
    convkit: 'UpSampling1D',
    read: (r) => ({ size: num(r, 'size', 2) }),
    write: (c) => ({ size: c.size }),
  },
  {
    keras: 'UpSampling3D',
    convkit: 'UpSampling3D',
    read(r) {
      channelsLast(r);
      return { size: ints(r, 'size', 3, [2, 2, 2]) };
    },
    write: (c) => ({ size: c.size, data_format: 'channels_last' }),
  },
  {
    keras: 'Cropping3D',
    convkit: 'Cropping3D',
    read(r) {
      channelsLast(r);
      return { cropping: r.get('cropping') ?? 1 };
    },
    write: (c) => ({ cropping: c.cropping, data_format: 'channels_last' }),
  },
  {
    keras: 'ZeroPadding3D',
    convkit: 'ZeroPadding3D',
    read(r) {
      channelsLast(r);
      return { padding: r.get('padding') ?? 1 };
    },
    write: (c) => ({ padding: c.padding, data_format: 'channels_last' }),
  },
  {
    keras: 'Cropping1D',
    convkit: 'Cropping1D',
    read: (r) => ({ cropping: r.get('cropping') ?? 1 }),
    write: (c) => ({ cropping: c.cropping }),
  },
  {
    keras: 'Cropping2D',
    convkit: 'Cropping2D',
    read(r) {
      channelsLast(r);
      return { cropping: r.get('cropping') ?? 0 };
    },
    write: (c) => ({ cropping: c.cropping, data_format: 'channels_last' }),
  },
  {
    keras: 'ZeroPadding1D',
    convkit: 'ZeroPadding1D',
    read: (r) => ({ padding: r.get('padding') ?? 1 }),
    write: (c) => ({ padding: c.padding }),
  },
  {
    keras: 'Rescaling',
    convkit: 'Rescaling',
    read: (r) => ({ scale: num(r, 'scale'), offset: num(r, 'offset', 0) }),
    write: (c) => ({ scale: c.scale, offset: c.offset }),
  },
  plain('Add'),
  plain('Subtract'),
  plain('Multiply'),
  plain('Average'),
  plain('Maximum'),
  plain('Minimum'),
  {
    keras: 'Concatenate',
    convkit: 'Concatenate',
    read: (r) => ({ axis: num(r, 'axis', -1) }),
    write: (c) => ({ axis: c.axis }),
  },
];

export const BY_KERAS = new Map(KERAS_LAYERS.map((m) => [m.keras, m]));
export const BY_CONVKIT = new Map(KERAS_LAYERS.map((m) => [m.convkit, m]));

/** Keras weight name for a convkit one, and back. */
export function kerasWeightName(m: KerasMapping, convkit: string): string {
  const hit = m.weights?.find(([, c]) => c === convkit);
  return hit ? hit[0] : convkit.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}
