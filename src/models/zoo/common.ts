/** Options every zoo constructor takes, and small helpers shared by the definitions. */
import type { DType } from '../../tensor/dtype.js';
import { checkOptionKeys } from '../../layers/options.js';

/** The keys of ZooOpts, which every builder accepts. */
export const ZOO_OPTION_KEYS: readonly string[] = ['classes', 'inputShape', 'seed', 'dtype', 'name'];

export interface ZooOpts {
  /** Output units (logits; no softmax layer). Default: the model's usual (1000, or 10 for the small ones). */
  classes?: number;
  /** One example's shape [H, W, C] (no batch axis). Default: the model's standard size. */
  inputShape?: readonly number[];
  /** Seed of every initialiser and dropout mask (layer i gets seed + 101 * i). Default 0. */
  seed?: number;
  /** Weight dtype (default float32). */
  dtype?: DType;
  name?: string;
}

/**
 * The options with their defaults filled in. A key that is neither one of ZooOpts nor one
 * of the builder's `extraKeys` is a RangeError (a typo such as `clases` never builds the
 * default model silently).
 */
export function resolve(opts: ZooOpts, defaults: { classes: number; inputShape: number[]; name: string }, extraKeys: readonly string[] = []) {
  checkOptionKeys(defaults.name, opts, [...ZOO_OPTION_KEYS, ...extraKeys]);
  const classes = opts.classes ?? defaults.classes;
  if (!Number.isInteger(classes) || classes < 1) throw new RangeError(`${defaults.name}: classes must be a positive integer, received ${JSON.stringify(opts.classes)}`);
  const inputShape = [...(opts.inputShape ?? defaults.inputShape)];
  if (inputShape.length !== 3 || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new RangeError(`${defaults.name}: inputShape must be [H, W, C] positive integers, received ${JSON.stringify(opts.inputShape)}`);
  }
  return { classes, inputShape, seed: opts.seed ?? 0, dtype: opts.dtype ?? 'float32', name: opts.name ?? defaults.name };
}
