/**
 * VGG (Simonyan & Zisserman 2014), configurations A (VGG-11), B (13), D (16), E (19): only
 * 3x3 convolutions, stride 1, padding 1, with ReLU, and 2x2 max pooling stride 2; then
 * 4096 -> 4096 -> classes with dropout 0.5. At 224x224x3: VGG-16 138,357,544 parameters,
 * 15,470,264,320 MACs (torchvision's definition; its adaptive 7x7 average pool is the
 * identity at 224 and is left out here, so other input sizes change the first dense layer).
 * `batchNorm: true` adds batch norm after each convolution (torchvision's vgg*_bn).
 */
import * as L from '../../layers/index.js';
import { type Model, sequential } from '../model.js';
import { type ZooOpts, resolve } from './common.js';

export const VGG_CONFIGS: Record<'A' | 'B' | 'D' | 'E', (number | 'M')[]> = {
  A: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  B: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  D: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  E: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
};

export interface VGGOpts extends ZooOpts {
  batchNorm?: boolean;
  dropout?: number;
}

function vgg(config: 'A' | 'B' | 'D' | 'E', defaultName: string, opts: VGGOpts): Model {
  const o = resolve(opts, { classes: 1000, inputShape: [224, 224, 3], name: defaultName }, ['batchNorm', 'dropout']);
  const list: L.Layer[] = [];
  let block = 1, conv = 1;
  for (const v of VGG_CONFIGS[config]) {
    if (v === 'M') {
      list.push(L.maxPooling2d({ name: `block${block}_pool`, poolSize: 2, strides: 2 }));
      block++;
      conv = 1;
      continue;
    }
    const name = `block${block}_conv${conv++}`;
    if (opts.batchNorm) {
      list.push(L.conv2d({ name, filters: v, kernelSize: 3, padding: 1, kernelInitializer: 'heNormal' }));
      list.push(L.batchNormalization({ name: `${name}_bn`, epsilon: 1e-5, momentum: 0.9 }));
      list.push(L.relu({ name: `${name}_relu` }));
    } else {
      list.push(L.conv2d({ name, filters: v, kernelSize: 3, padding: 1, activation: 'relu', kernelInitializer: 'heNormal' }));
    }
  }
  const rate = opts.dropout ?? 0.5;
  list.push(
    L.flatten({ name: 'flatten' }),
    L.dense({ name: 'fc1', units: 4096, activation: 'relu' }),
    L.dropout({ name: 'drop1', rate }),
    L.dense({ name: 'fc2', units: 4096, activation: 'relu' }),
    L.dropout({ name: 'drop2', rate }),
    L.dense({ name: 'predictions', units: o.classes }),
  );
  return sequential(list, { inputShape: o.inputShape, name: o.name, seed: o.seed, dtype: o.dtype });
}

export const vgg11 = (opts: VGGOpts = {}) => vgg('A', 'vgg11', opts);
export const vgg13 = (opts: VGGOpts = {}) => vgg('B', 'vgg13', opts);
export const vgg16 = (opts: VGGOpts = {}) => vgg('D', 'vgg16', opts);
export const vgg19 = (opts: VGGOpts = {}) => vgg('E', 'vgg19', opts);
