/**
 * Weight initialisers, seeded. Fans follow Keras: for a kernel [...receptive, in, out],
 * fanIn = in * prod(receptive) and fanOut = out * prod(receptive); a [in, out] matrix
 * has fanIn = in, fanOut = out.
 *
 * - glorotUniform: U(-l, l), l = sqrt(6 / (fanIn + fanOut))            (Glorot & Bengio 2010)
 * - glorotNormal:  truncated normal, std = sqrt(2 / (fanIn + fanOut)) / 0.8796...
 * - heUniform:     U(-l, l), l = sqrt(6 / fanIn)                        (He et al. 2015)
 * - heNormal:      truncated normal, std = sqrt(2 / fanIn) / 0.8796...
 * - lecunNormal:   truncated normal, std = sqrt(1 / fanIn) / 0.8796...   (for SELU nets)
 * - randomNormal:  N(mean, std); zeros, ones, constant(value).
 * The 0.8796 factor (Keras' too) is the standard deviation of a unit normal truncated at
 * two standard deviations, so that the truncated draws have the intended variance.
 * A layer gives each of its weights its own seed (derived from the layer's), so equal
 * seeds reproduce equal weights.
 */
import { full, randomNormal, randomUniform, truncatedNormal } from '../ops/creation.js';
import type { DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';

const TRUNC_STD = 0.87962566103423978;

export interface Initializer {
  readonly className: string;
  /** A tensor of `shape`; `seed` is used unless the initialiser was made with its own. */
  apply(shape: readonly number[], dtype: DType, seed?: number): Tensor;
  getConfig(): Record<string, unknown>;
}

/** An initialiser, or its name ('heNormal'), or its serialised form. */
export type InitializerSpec = Initializer | InitializerName | { className: string; config?: Record<string, unknown> };
export type InitializerName = 'glorotUniform' | 'glorotNormal' | 'heNormal' | 'heUniform' | 'lecunNormal' | 'zeros' | 'ones';

/** [fanIn, fanOut] of a weight shape. */
export function computeFans(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  let receptive = 1;
  for (let i = 0; i < shape.length - 2; i++) receptive *= shape[i];
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

interface SeedOpt {
  seed?: number;
}

abstract class SeededInit implements Initializer {
  abstract readonly className: string;
  readonly seed?: number;
  constructor(opts: SeedOpt = {}) {
    if (opts.seed !== undefined) this.seed = opts.seed;
  }
  protected pick(seed?: number): number | undefined {
    return this.seed ?? seed;
  }
  abstract apply(shape: readonly number[], dtype: DType, seed?: number): Tensor;
  getConfig(): Record<string, unknown> {
    return this.seed === undefined ? {} : { seed: this.seed };
  }
}

type FanMode = 'avg' | 'in';
function scaleOf(shape: readonly number[], mode: FanMode): number {
  const [fi, fo] = computeFans(shape);
  return mode === 'avg' ? (fi + fo) / 2 : fi;
}

class VarianceScalingUniform extends SeededInit {
  constructor(readonly className: string, private mode: FanMode, private gain: number, opts: SeedOpt) {
    super(opts);
  }
  apply(shape: readonly number[], dtype: DType, seed?: number): Tensor {
    const limit = Math.sqrt((3 * this.gain) / scaleOf(shape, this.mode));
    return randomUniform(shape, { min: -limit, max: limit, seed: this.pick(seed), dtype });
  }
}

class VarianceScalingNormal extends SeededInit {
  constructor(readonly className: string, private mode: FanMode, private gain: number, opts: SeedOpt) {
    super(opts);
  }
  apply(shape: readonly number[], dtype: DType, seed?: number): Tensor {
    const std = Math.sqrt(this.gain / scaleOf(shape, this.mode)) / TRUNC_STD;
    return truncatedNormal(shape, { mean: 0, std, seed: this.pick(seed), dtype });
  }
}

class RandomNormalInit extends SeededInit {
  readonly className = 'RandomNormal';
  readonly mean: number;
  readonly std: number;
  constructor(opts: SeedOpt & { mean?: number; std?: number } = {}) {
    super(opts);
    this.mean = opts.mean ?? 0;
    this.std = opts.std ?? 0.05;
  }
  apply(shape: readonly number[], dtype: DType, seed?: number): Tensor {
    return randomNormal(shape, { mean: this.mean, std: this.std, seed: this.pick(seed), dtype });
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mean: this.mean, std: this.std };
  }
}

class ConstantInit implements Initializer {
  constructor(readonly className: string, readonly value: number) {}
  apply(shape: readonly number[], dtype: DType): Tensor {
    return full(shape, this.value, dtype);
  }
  getConfig(): Record<string, unknown> {
    return this.className === 'Constant' ? { value: this.value } : {};
  }
}

/** Glorot/Xavier uniform (Keras' default for kernels). */
export const glorotUniform = (opts: SeedOpt = {}): Initializer => new VarianceScalingUniform('GlorotUniform', 'avg', 1, opts);
/** Glorot/Xavier normal (truncated). */
export const glorotNormal = (opts: SeedOpt = {}): Initializer => new VarianceScalingNormal('GlorotNormal', 'avg', 1, opts);
/** He/Kaiming normal (truncated), for ReLU networks. */
export const heNormal = (opts: SeedOpt = {}): Initializer => new VarianceScalingNormal('HeNormal', 'in', 2, opts);
/** He/Kaiming uniform. */
export const heUniform = (opts: SeedOpt = {}): Initializer => new VarianceScalingUniform('HeUniform', 'in', 2, opts);
/** LeCun normal (truncated), for SELU networks. */
export const lecunNormal = (opts: SeedOpt = {}): Initializer => new VarianceScalingNormal('LecunNormal', 'in', 1, opts);
export const randomNormalInit = (opts: SeedOpt & { mean?: number; std?: number } = {}): Initializer => new RandomNormalInit(opts);
export const zeros = (): Initializer => new ConstantInit('Zeros', 0);
export const ones = (): Initializer => new ConstantInit('Ones', 1);
export const constant = (value: number): Initializer => new ConstantInit('Constant', value);

const byClassName: Record<string, (config: Record<string, unknown>) => Initializer> = {
  GlorotUniform: (c) => glorotUniform(c as SeedOpt),
  GlorotNormal: (c) => glorotNormal(c as SeedOpt),
  HeNormal: (c) => heNormal(c as SeedOpt),
  HeUniform: (c) => heUniform(c as SeedOpt),
  LecunNormal: (c) => lecunNormal(c as SeedOpt),
  RandomNormal: (c) => randomNormalInit(c as SeedOpt & { mean?: number; std?: number }),
  Zeros: () => zeros(),
  Ones: () => ones(),
  Constant: (c) => constant(Number(c.value)),
};

const byName: Record<InitializerName, () => Initializer> = {
  glorotUniform: () => glorotUniform(),
  glorotNormal: () => glorotNormal(),
  heNormal: () => heNormal(),
  heUniform: () => heUniform(),
  lecunNormal: () => lecunNormal(),
  zeros,
  ones,
};

/** Resolve an initialiser given as an object, a name, or a serialised { className, config }. */
export function getInitializer(spec: InitializerSpec): Initializer {
  if (typeof spec === 'string') {
    const f = byName[spec];
    if (!f) throw new RangeError(`unknown initializer '${spec}' (known: ${Object.keys(byName).join(', ')})`);
    return f();
  }
  if (spec && typeof (spec as Initializer).apply === 'function') return spec as Initializer;
  if (spec && typeof spec === 'object' && typeof spec.className === 'string') {
    const f = byClassName[spec.className];
    if (!f) throw new RangeError(`unknown initializer class '${spec.className}' (known: ${Object.keys(byClassName).join(', ')})`);
    return f((spec as { config?: Record<string, unknown> }).config ?? {});
  }
  throw new TypeError(`initializer must be a name such as 'heNormal', an initializer object or { className, config }, received ${JSON.stringify(spec)}`);
}

/** The JSON form stored in a layer's config. */
export function serializeInitializer(spec: InitializerSpec): { className: string; config: Record<string, unknown> } {
  const init = getInitializer(spec);
  return { className: init.className, config: init.getConfig() };
}
