/**
 * GoogLeNet / Inception v1 (Szegedy et al. 2014), as torchvision defines it without the
 * auxiliary classifiers: every convolution is torchvision's BasicConv2d (bias-free
 * convolution, batch norm eps 1e-3, ReLU); the "5x5" branch of each Inception module is a
 * 3x3 convolution (a known quirk of torchvision's definition, kept so that the weights and
 * the count match: 6,624,904 trainable parameters at 224x224x3); max pools use ceil mode;
 * global average pooling, dropout 0.2, fc. `variant: 'paper'` builds the paper's network
 * instead: convolutions with bias and no batch norm, true 5x5 branches, LRN after the first
 * pool and after conv3, dropout 0.4 (6,998,552 parameters).
 */
import * as L from '../../layers/index.js';
import { type Model, sequential } from '../model.js';
import { type ZooOpts, resolve } from './common.js';

export interface GoogLeNetOpts extends ZooOpts {
  variant?: 'torchvision' | 'paper';
}

/** [name, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj] (Table 1 of the paper). */
export const INCEPTION_V1: [string, number, number, number, number, number, number][] = [
  ['inception3a', 64, 96, 128, 16, 32, 32],
  ['inception3b', 128, 128, 192, 32, 96, 64],
  ['inception4a', 192, 96, 208, 16, 48, 64],
  ['inception4b', 160, 112, 224, 24, 64, 64],
  ['inception4c', 128, 128, 256, 24, 64, 64],
  ['inception4d', 112, 144, 288, 32, 64, 64],
  ['inception4e', 256, 160, 320, 32, 128, 128],
  ['inception5a', 256, 160, 320, 32, 128, 128],
  ['inception5b', 384, 192, 384, 48, 128, 128],
];

export function googlenet(opts: GoogLeNetOpts = {}): Model {
  const o = resolve(opts, { classes: 1000, inputShape: [224, 224, 3], name: 'googlenet' }, ['variant']);
  const paper = opts.variant === 'paper';
  if (opts.variant !== undefined && opts.variant !== 'paper' && opts.variant !== 'torchvision') {
    throw new RangeError(`googlenet: variant must be 'torchvision' or 'paper', received ${JSON.stringify(opts.variant)}`);
  }
  const basic = (name: string, filters: number, kernelSize: number, strides = 1): L.Layer[] =>
    paper
      ? [L.conv2d({ name, filters, kernelSize, strides, padding: (kernelSize - 1) >> 1, activation: 'relu', kernelInitializer: 'heNormal' })]
      : [
          L.conv2d({ name, filters, kernelSize, strides, padding: (kernelSize - 1) >> 1, useBias: false, kernelInitializer: 'heNormal' }),
          L.batchNormalization({ name: `${name}_bn`, epsilon: 1e-3, momentum: 0.9 }),
          L.relu({ name: `${name}_relu` }),
        ];
  const pool = (name: string, size: number) => L.maxPooling2d({ name, poolSize: size, strides: 2, ceilMode: true });
  const inception = (i: number) => {
    const [name, f1, r3, f3, r5, f5, pp] = INCEPTION_V1[i];
    return L.inceptionModule({
      name, filters1x1: f1, reduce3x3: r3, filters3x3: f3, reduce5x5: r5, filters5x5: f5, poolProj: pp,
      kernel5: paper ? 5 : 3, batchNorm: !paper, bnEpsilon: 1e-3,
    });
  };
  const lrn = (name: string) => (paper ? [L.lrn({ name, size: 5, alpha: 1e-4, beta: 0.75, k: 1 })] : []);
  return sequential(
    [
      ...basic('conv1', 64, 7, 2),
      pool('maxpool1', 3),
      ...lrn('norm1'),
      ...basic('conv2', 64, 1),
      ...basic('conv3', 192, 3),
      ...lrn('norm2'),
      pool('maxpool2', 3),
      inception(0), inception(1),
      pool('maxpool3', 3),
      inception(2), inception(3), inception(4), inception(5), inception(6),
      pool('maxpool4', 2),
      inception(7), inception(8),
      L.globalAveragePooling2d({ name: 'avgpool' }),
      L.dropout({ name: 'dropout', rate: paper ? 0.4 : 0.2 }),
      L.dense({ name: 'fc', units: o.classes }),
    ],
    { inputShape: o.inputShape, name: o.name, seed: o.seed, dtype: o.dtype },
  );
}
