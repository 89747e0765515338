/**
 * Small CNNs for the data sets that run on a laptop.
 *
 * smallCnn28, for 28x28x1 digits and clothes (MNIST, Fashion-MNIST): two blocks of
 * [3x3 'same' convolution (bias-free) -> batch norm -> ReLU -> 2x2 max pool] with 32 and 64
 * filters (28 -> 14 -> 7), flatten, dense 128 ReLU, dropout 0.3, dense classes (logits).
 * Batch norm uses PyTorch's defaults (momentum 0.1, i.e. 0.9 here, eps 1e-5): the running
 * statistics settle within a few hundred steps, so short trainings evaluate well.
 * 421,738 trainable parameters (+192 batch-norm statistics), 4,241,152 MACs per image.
 * Zalando's published baselines for this shape of network are ~0.92-0.93 test accuracy.
 * `filters` of three gives a third block (7 -> 3), `convsPerBlock` VGG-style blocks, `pools`
 * which blocks end with their pool.
 *
 * smallCnn8, for the 8x8 UCI digits: [3x3 'same' conv 16 -> ReLU -> 2x2 max pool] ->
 * [3x3 'same' conv 32 -> ReLU -> 2x2 max pool] (8 -> 4 -> 2), flatten, dense classes.
 * 6,090 parameters, 84,224 MACs per image.
 */
import * as L from '../../layers/index.js';
import { type Model, sequential } from '../model.js';
import { type ZooOpts, resolve } from './common.js';

export interface SmallCnn28Opts extends ZooOpts {
  /**
   * Filters of the convolution blocks, one per block (default [32, 64]: two blocks, 28 -> 14
   * -> 7); three give a third block at 7 -> 3 (e.g. [16, 24, 48]).
   */
  filters?: readonly number[];
  /** Units of the hidden dense layer (default 128). */
  dense?: number;
  dropout?: number;
  /** Batch norm after each convolution (default true; false gives convolutions with bias). */
  batchNorm?: boolean;
  /** Convolutions per block before its pool (default 1; 2 gives VGG-style conv-conv-pool blocks). */
  convsPerBlock?: number;
  /**
   * Whether each block ends with its 2x2 max pool, one flag per block (default all true).
   * [true, true, false] with three filters keeps the third block at 7x7, so the dense layer
   * sees 7 x 7 x filters[2] features (the Fashion-MNIST default of `convkit train`).
   */
  pools?: readonly boolean[];
}

export function smallCnn28(opts: SmallCnn28Opts = {}): Model {
  const o = resolve(opts, { classes: 10, inputShape: [28, 28, 1], name: 'smallCnn28' }, ['filters', 'dense', 'dropout', 'batchNorm', 'convsPerBlock', 'pools']);
  const filters = opts.filters ?? [32, 64];
  if (!Array.isArray(filters) || filters.length < 2 || filters.length > 3 || !filters.every((f) => Number.isInteger(f) && f >= 1)) {
    throw new RangeError(`smallCnn28: filters must be 2 or 3 positive integers (one per block), received ${JSON.stringify(opts.filters)}`);
  }
  const pools = opts.pools ?? filters.map(() => true);
  if (!Array.isArray(pools) || pools.length !== filters.length || !pools.every((p) => typeof p === 'boolean')) {
    throw new RangeError(`smallCnn28: pools must be one boolean per block (${filters.length}), received ${JSON.stringify(opts.pools)}`);
  }
  const bn = opts.batchNorm ?? true;
  const per = opts.convsPerBlock ?? 1;
  if (!Number.isInteger(per) || per < 1 || per > 4) throw new RangeError(`smallCnn28: convsPerBlock must be an integer 1..4, received ${per}`);
  // Layer names keep the one-conv model's (conv1, bn1, relu1) and add a letter for the extra
  // convolutions of a block (conv1b, bn1b, relu1b), so saved one-conv models load as before.
  const conv = (name: string, filters: number): L.Layer[] =>
    bn
      ? [
          L.conv2d({ name: `conv${name}`, filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: 'heNormal' }),
          L.batchNormalization({ name: `bn${name}`, momentum: 0.9, epsilon: 1e-5 }),
          L.relu({ name: `relu${name}` }),
        ]
      : [L.conv2d({ name: `conv${name}`, filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: 'heNormal' })];
  const block = (i: number, filters: number): L.Layer[] => [
    ...Array.from({ length: per }, (_, j) => conv(`${i}${j ? String.fromCharCode(97 + j) : ''}`, filters)).flat(),
    ...(pools[i - 1] ? [L.maxPooling2d({ name: `pool${i}`, poolSize: 2 })] : []),
  ];
  return sequential(
    [
      ...filters.flatMap((f, i) => block(i + 1, f)),
      L.flatten({ name: 'flatten' }),
      L.dense({ name: 'dense1', units: opts.dense ?? 128, activation: 'relu', kernelInitializer: 'heNormal' }),
      L.dropout({ name: 'dropout', rate: opts.dropout ?? 0.3 }),
      L.dense({ name: 'output', units: o.classes }),
    ],
    { inputShape: o.inputShape, name: o.name, seed: o.seed, dtype: o.dtype },
  );
}

export function smallCnn8(opts: ZooOpts = {}): Model {
  const o = resolve(opts, { classes: 10, inputShape: [8, 8, 1], name: 'smallCnn8' });
  return sequential(
    [
      L.conv2d({ name: 'conv1', filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: 'heNormal' }),
      L.maxPooling2d({ name: 'pool1', poolSize: 2 }),
      L.conv2d({ name: 'conv2', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: 'heNormal' }),
      L.maxPooling2d({ name: 'pool2', poolSize: 2 }),
      L.flatten({ name: 'flatten' }),
      L.dense({ name: 'output', units: o.classes }),
    ],
    { inputShape: o.inputShape, name: o.name, seed: o.seed, dtype: o.dtype },
  );
}
