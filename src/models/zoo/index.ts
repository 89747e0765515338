/**
 * The model zoo: definitions with correct shapes, parameter counts and MACs (random
 * initial weights; no pretrained weights are shipped). Every constructor takes
 * { classes, inputShape, seed, dtype, name } and returns a Model whose output is logits.
 *
 *   const m = zoo.get('resnet50');            // or zoo.resnet50({ classes: 10 })
 *   m.summary();                 // prints the table (summaryText() returns it)
 */
import type { Model } from '../model.js';
import { alexnet, zfnet } from './alexnet.js';
import type { ZooOpts } from './common.js';
import { googlenet } from './googlenet.js';
import { lenet5 } from './lenet.js';
import { mobilenetV2, mobilenetV3Small } from './mobilenet.js';
import { resnet18, resnet34, resnet50, resnet101, resnet152 } from './resnet.js';
import { smallCnn28, smallCnn8 } from './small.js';
import { squeezenet1_1 } from './squeezenet.js';
import { vgg11, vgg13, vgg16, vgg19 } from './vgg.js';

export type { ZooOpts } from './common.js';
export { lenet5, type LeNet5Opts } from './lenet.js';
export { alexnet, zfnet, type AlexNetOpts } from './alexnet.js';
export { vgg11, vgg13, vgg16, vgg19, VGG_CONFIGS, type VGGOpts } from './vgg.js';
export { googlenet, INCEPTION_V1, type GoogLeNetOpts } from './googlenet.js';
export { resnet, resnet18, resnet34, resnet50, resnet101, resnet152, RESNET_CONFIGS, type ResNetOpts } from './resnet.js';
export { smallCnn28, smallCnn8, type SmallCnn28Opts } from './small.js';
export { mobilenetV2, mobilenetV3Small, makeDivisible, MOBILENET_V2_SETTINGS, MOBILENET_V3_SMALL_SETTINGS, type MobileNetOpts } from './mobilenet.js';
export { squeezenet1_1, SQUEEZENET_1_1, type SqueezeNetOpts } from './squeezenet.js';

// Option types differ per model; the registry passes them through.
type Builder = (opts?: ZooOpts & Record<string, unknown>) => Model;

const registry: Record<string, Builder> = {
  lenet5, alexnet, zfnet, vgg11, vgg13, vgg16, vgg19, googlenet,
  resnet18, resnet34, resnet50, resnet101, resnet152, mobilenetV2, mobilenetV3Small, squeezenet1_1, smallCnn28, smallCnn8,
} as Record<string, Builder>;

/** Every model name `get` accepts. */
export function names(): string[] {
  return Object.keys(registry);
}

/** Build a zoo model by name (case-insensitive): get('vgg16', { classes: 10 }). */
export function get(name: string, opts: ZooOpts & Record<string, unknown> = {}): Model {
  const key = Object.keys(registry).find((k) => k.toLowerCase() === String(name).toLowerCase());
  if (!key) throw new RangeError(`zoo: unknown model '${name}' (known: ${names().join(', ')})`);
  return registry[key](opts);
}
