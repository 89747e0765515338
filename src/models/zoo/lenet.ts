/**
 * LeNet-5 (LeCun et al. 1998) on 32x32x1: C1 6@5x5 -> S2 2x2 pool -> C3 16@5x5 -> S4 ->
 * C5 120@5x5 (a convolution that covers its whole 5x5 input, so equal to a dense layer)
 * -> F6 84 -> output. tanh and average pooling by default (the common Keras rendition:
 * C3 connects to all six S2 maps, the output is a plain dense layer), 61,706 parameters:
 * 156 + 2,416 + 48,120 + 10,164 + 850. MACs 416,520.
 */
import * as L from '../../layers/index.js';
import { type Model, sequential } from '../model.js';
import { type ZooOpts, resolve } from './common.js';

export interface LeNet5Opts extends ZooOpts {
  /** Hidden activation (default 'tanh'). */
  activation?: 'tanh' | 'relu' | 'sigmoid';
  /** Subsampling layers (default 'avg'). */
  pooling?: 'avg' | 'max';
}

export function lenet5(opts: LeNet5Opts = {}): Model {
  const o = resolve(opts, { classes: 10, inputShape: [32, 32, 1], name: 'lenet5' }, ['activation', 'pooling']);
  const act = opts.activation ?? 'tanh';
  const pool = (name: string) => (opts.pooling === 'max' ? L.maxPooling2d({ name, poolSize: 2 }) : L.averagePooling2d({ name, poolSize: 2 }));
  return sequential(
    [
      L.conv2d({ name: 'c1', filters: 6, kernelSize: 5, activation: act }),
      pool('s2'),
      L.conv2d({ name: 'c3', filters: 16, kernelSize: 5, activation: act }),
      pool('s4'),
      L.conv2d({ name: 'c5', filters: 120, kernelSize: 5, activation: act }),
      L.flatten({ name: 'flatten' }),
      L.dense({ name: 'f6', units: 84, activation: act }),
      L.dense({ name: 'output', units: o.classes }),
    ],
    { inputShape: o.inputShape, name: o.name, seed: o.seed, dtype: o.dtype },
  );
}
