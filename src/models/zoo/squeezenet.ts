/**
 * SqueezeNet 1.1 (Iandola et al. 2016; the v1.1 of the authors' repository) as torchvision 0.14
 * defines it, as a functional model whose parametric layers carry torchvision's module paths
 * as names ('features.3.expand3x3'), so that a torchvision state_dict maps onto it one tensor
 * to one weight (OIHW -> HWIO).
 *
 * conv 3x3/2 64 (bias) + ReLU, max pool 3x3/2 (ceil mode), fire 16/64/64, fire 16/64/64, max
 * pool, fire 32/128/128 x2, max pool, fire 48/192/192 x2, fire 64/256/256 x2, dropout 0.5,
 * conv 1x1 to `classes` + ReLU, global average pooling. A fire module is a 1x1 "squeeze"
 * convolution + ReLU feeding a 1x1 and a 3x3 (padding 1) "expand" convolution, each + ReLU,
 * concatenated along channels. Every convolution has a bias; no batch norm.
 * 1,235,496 trainable parameters at 1000 classes.
 *
 * The classifier ends in a ReLU (as torchvision's does), so the outputs are non-negative scores.
 */
import * as L from '../../layers/index.js';
import type { SymbolicTensor } from '../../layers/symbolic.js';
import { type Model, input, model } from '../model.js';
import { type ZooOpts, resolve } from './common.js';

export interface SqueezeNetOpts extends ZooOpts {
  /** Dropout rate before the classifier convolution. Default 0.5 (torchvision). */
  dropout?: number;
}

/** Fire modules of SqueezeNet 1.1: [squeeze, expand 1x1, expand 3x3]; 'M' is a 3x3/2 ceil-mode max pool. */
export const SQUEEZENET_1_1: readonly (readonly [number, number, number] | 'M')[] = [
  'M', [16, 64, 64], [16, 64, 64], 'M', [32, 128, 128], [32, 128, 128], 'M', [48, 192, 192], [48, 192, 192], [64, 256, 256], [64, 256, 256],
];

export function squeezenet1_1(opts: SqueezeNetOpts = {}): Model {
  const o = resolve(opts, { classes: 1000, inputShape: [224, 224, 3], name: 'squeezenet1_1' }, ['dropout']);
  const rate = opts.dropout ?? 0.5;
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new RangeError(`${o.name}: dropout must be a number in [0, 1), received ${JSON.stringify(opts.dropout)}`);
  let i = 0;
  const seed = () => o.seed + 101 * i++;
  const ap = (l: L.Layer, x: SymbolicTensor | SymbolicTensor[]) => l.apply(x) as SymbolicTensor;
  const conv = (x: SymbolicTensor, name: string, filters: number, kernelSize: number, extra: { strides?: number; padding?: number } = {}) =>
    ap(L.conv2d({ name, filters, kernelSize, activation: 'relu', kernelInitializer: 'heUniform', seed: seed(), ...extra }), x);
  const inp = input(o.inputShape, { name: 'input', dtype: o.dtype });
  let x = conv(inp, 'features.0', 64, 3, { strides: 2 });
  let index = 2; // features.1 is torchvision's ReLU, fused into features.0 here
  for (const f of SQUEEZENET_1_1) {
    if (f === 'M') {
      x = ap(L.maxPooling2d({ name: `features.${index}`, poolSize: 3, strides: 2, ceilMode: true, seed: seed() }), x);
    } else {
      const p = `features.${index}`;
      const s = conv(x, `${p}.squeeze`, f[0], 1);
      const e1 = conv(s, `${p}.expand1x1`, f[1], 1);
      const e3 = conv(s, `${p}.expand3x3`, f[2], 3, { padding: 1 });
      x = ap(L.concatenate({ name: `${p}.concat`, seed: seed() }), [e1, e3]);
    }
    index++;
  }
  x = ap(L.dropout({ name: 'classifier.0', rate, seed: seed() }), x);
  x = conv(x, 'classifier.1', o.classes, 1);
  x = ap(L.globalAveragePooling2d({ name: 'classifier.3', seed: seed() }), x);
  return model({ inputs: inp, outputs: x, name: o.name });
}
