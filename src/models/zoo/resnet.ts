/**
 * ResNet-18/34/50/101/152 (He et al. 2015) as torchvision defines them (v1.5: the stride
 * of a bottleneck block sits on its 3x3 convolution): conv1 7x7/2 pad 3 (no bias) + BN +
 * ReLU, max pool 3x3/2 pad 1, four stages of residual blocks (64, 128, 256, 512 filters;
 * stride 2 at the start of stages 2-4, projection shortcuts where the shape changes),
 * global average pooling, fc. Batch norm eps 1e-5, momentum 0.9 (PyTorch's 0.1).
 *
 * Trainable parameters equal torchvision's parameters() count: resnet18 11,689,512,
 * resnet34 21,797,672, resnet50 25,557,032, resnet101 44,549,160, resnet152 60,192,808.
 * `totalParams` additionally counts batch norm's running mean and variance (Keras' view).
 */
import * as L from '../../layers/index.js';
import { type Model, sequential } from '../model.js';
import { type ZooOpts, resolve } from './common.js';

export const RESNET_CONFIGS: Record<18 | 34 | 50 | 101 | 152, { kind: 'basic' | 'bottleneck'; blocks: [number, number, number, number] }> = {
  18: { kind: 'basic', blocks: [2, 2, 2, 2] },
  34: { kind: 'basic', blocks: [3, 4, 6, 3] },
  50: { kind: 'bottleneck', blocks: [3, 4, 6, 3] },
  101: { kind: 'bottleneck', blocks: [3, 4, 23, 3] },
  152: { kind: 'bottleneck', blocks: [3, 8, 36, 3] },
};

export interface ResNetOpts extends ZooOpts {
  /** ResNet v2 blocks (BN-ReLU before each convolution); adds a final BN + ReLU before pooling. */
  preActivation?: boolean;
}

export function resnet(depth: 18 | 34 | 50 | 101 | 152, opts: ResNetOpts = {}): Model {
  const cfg = RESNET_CONFIGS[depth];
  if (!cfg) throw new RangeError(`resnet: depth must be 18, 34, 50, 101 or 152, received ${JSON.stringify(depth)}`);
  const o = resolve(opts, { classes: 1000, inputShape: [224, 224, 3], name: `resnet${depth}` }, ['preActivation']);
  const pre = !!opts.preActivation;
  const list: L.Layer[] = [
    L.conv2d({ name: 'conv1', filters: 64, kernelSize: 7, strides: 2, padding: 3, useBias: false, kernelInitializer: 'heNormal' }),
  ];
  if (!pre) list.push(L.batchNormalization({ name: 'bn1', epsilon: 1e-5, momentum: 0.9 }), L.relu({ name: 'relu' }));
  list.push(L.maxPooling2d({ name: 'maxpool', poolSize: 3, strides: 2, padding: 1 }));
  cfg.blocks.forEach((n, stage) => {
    for (let b = 0; b < n; b++) {
      list.push(L.residualBlock({
        name: `layer${stage + 1}.${b}`,
        filters: 64 * 2 ** stage,
        kind: cfg.kind,
        strides: stage > 0 && b === 0 ? 2 : 1,
        preActivation: pre,
      }));
    }
  });
  if (pre) list.push(L.batchNormalization({ name: 'post_bn', epsilon: 1e-5, momentum: 0.9 }), L.relu({ name: 'post_relu' }));
  list.push(L.globalAveragePooling2d({ name: 'avgpool' }), L.dense({ name: 'fc', units: o.classes }));
  return sequential(list, { inputShape: o.inputShape, name: o.name, seed: o.seed, dtype: o.dtype });
}

export const resnet18 = (opts: ResNetOpts = {}) => resnet(18, opts);
export const resnet34 = (opts: ResNetOpts = {}) => resnet(34, opts);
export const resnet50 = (opts: ResNetOpts = {}) => resnet(50, opts);
export const resnet101 = (opts: ResNetOpts = {}) => resnet(101, opts);
export const resnet152 = (opts: ResNetOpts = {}) => resnet(152, opts);
