/**
 * AlexNet (Krizhevsky et al. 2012) and ZFNet (Zeiler & Fergus 2013), single tower,
 * ReLU -> LRN -> max pool as in the papers, dropout 0.5 before each hidden dense layer's
 * successor.
 *
 * AlexNet, 227x227x3: conv1 96 11x11/4 -> 55, pool 3x3/2 -> 27, conv2 256 5x5 pad 2,
 * pool -> 13, conv3 384, conv4 384, conv5 256 (3x3 pad 1), pool -> 6, 9216 -> 4096 -> 4096
 * -> 1000. Parameters 62,378,344. MACs 1,135,256,096 with ungrouped convolutions
 * (`groups: 1`, the default); `groups: 2` splits conv2, conv4 and conv5 into the two GPU
 * towers of the paper: 60,965,224 parameters, 724,406,816 MACs.
 *
 * ZFNet, 224x224x3: conv1 96 7x7/2 pad 1 -> 110, pool 3x3/2 pad 1 -> 55, conv2 256 5x5/2
 * -> 26, pool 3x3/2 pad 1 -> 13, conv3-5 as AlexNet, pool -> 6, then the same classifier:
 * 62,357,608 parameters (the paddings reproduce the map sizes printed in the paper).
 */
import * as L from '../../layers/index.js';
import { type Model, sequential } from '../model.js';
import { type ZooOpts, resolve } from './common.js';

export interface AlexNetOpts extends ZooOpts {
  /** 1: one tower (default); 2: the paper's two-GPU grouping of conv2, conv4, conv5. */
  groups?: 1 | 2;
  dropout?: number;
}

function classifier(classes: number, rate: number): L.Layer[] {
  return [
    L.flatten({ name: 'flatten' }),
    L.dense({ name: 'fc6', units: 4096, activation: 'relu' }),
    L.dropout({ name: 'drop6', rate }),
    L.dense({ name: 'fc7', units: 4096, activation: 'relu' }),
    L.dropout({ name: 'drop7', rate }),
    L.dense({ name: 'fc8', units: classes }),
  ];
}

export function alexnet(opts: AlexNetOpts = {}): Model {
  const o = resolve(opts, { classes: 1000, inputShape: [227, 227, 3], name: 'alexnet' }, ['groups', 'dropout']);
  const g = opts.groups ?? 1;
  if (g !== 1 && g !== 2) throw new RangeError(`alexnet: groups must be 1 or 2, received ${JSON.stringify(opts.groups)}`);
  return sequential(
    [
      L.conv2d({ name: 'conv1', filters: 96, kernelSize: 11, strides: 4, activation: 'relu' }),
      L.lrn({ name: 'norm1', size: 5, alpha: 1e-4, beta: 0.75, k: 2 }),
      L.maxPooling2d({ name: 'pool1', poolSize: 3, strides: 2 }),
      L.conv2d({ name: 'conv2', filters: 256, kernelSize: 5, padding: 2, groups: g, activation: 'relu' }),
      L.lrn({ name: 'norm2', size: 5, alpha: 1e-4, beta: 0.75, k: 2 }),
      L.maxPooling2d({ name: 'pool2', poolSize: 3, strides: 2 }),
      L.conv2d({ name: 'conv3', filters: 384, kernelSize: 3, padding: 1, activation: 'relu' }),
      L.conv2d({ name: 'conv4', filters: 384, kernelSize: 3, padding: 1, groups: g, activation: 'relu' }),
      L.conv2d({ name: 'conv5', filters: 256, kernelSize: 3, padding: 1, groups: g, activation: 'relu' }),
      L.maxPooling2d({ name: 'pool5', poolSize: 3, strides: 2 }),
      ...classifier(o.classes, opts.dropout ?? 0.5),
    ],
    { inputShape: o.inputShape, name: o.name, seed: o.seed, dtype: o.dtype },
  );
}

export function zfnet(opts: ZooOpts & { dropout?: number } = {}): Model {
  const o = resolve(opts, { classes: 1000, inputShape: [224, 224, 3], name: 'zfnet' }, ['dropout']);
  return sequential(
    [
      L.conv2d({ name: 'conv1', filters: 96, kernelSize: 7, strides: 2, padding: 1, activation: 'relu' }),
      L.lrn({ name: 'norm1', size: 5, alpha: 1e-4, beta: 0.75, k: 2 }),
      L.maxPooling2d({ name: 'pool1', poolSize: 3, strides: 2, padding: 1 }),
      L.conv2d({ name: 'conv2', filters: 256, kernelSize: 5, strides: 2, activation: 'relu' }),
      L.lrn({ name: 'norm2', size: 5, alpha: 1e-4, beta: 0.75, k: 2 }),
      L.maxPooling2d({ name: 'pool2', poolSize: 3, strides: 2, padding: 1 }),
      L.conv2d({ name: 'conv3', filters: 384, kernelSize: 3, padding: 1, activation: 'relu' }),
      L.conv2d({ name: 'conv4', filters: 384, kernelSize: 3, padding: 1, activation: 'relu' }),
      L.conv2d({ name: 'conv5', filters: 256, kernelSize: 3, padding: 1, activation: 'relu' }),
      L.maxPooling2d({ name: 'pool5', poolSize: 3, strides: 2 }),
      ...classifier(o.classes, opts.dropout ?? 0.5),
    ],
    { inputShape: o.inputShape, name: o.name, seed: o.seed, dtype: o.dtype },
  );
}
