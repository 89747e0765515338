/**
 * MobileNetV2 (Sandler et al. 2018) and MobileNetV3-Small (Howard et al. 2019) as torchvision
 * 0.14 defines them, as functional models whose parametric layers carry torchvision's module
 * paths as names ('features.3.conv.1.0' is the depthwise convolution of block 3), so that a
 * torchvision state_dict maps onto them one tensor to one weight (OIHW -> HWIO; a depthwise
 * [C, 1, KH, KW] filter -> [KH, KW, C, 1]; Linear [out, in] -> [in, out]).
 *
 * MobileNetV2: conv 3x3/2 32 + BN + ReLU6, 17 inverted residual blocks (1x1 expansion by 6
 * + BN + ReLU6, depthwise 3x3 + BN + ReLU6, linear 1x1 projection + BN, identity shortcut
 * where stride 1 and channels agree), conv 1x1 1280 + BN + ReLU6, global average pooling,
 * dropout 0.2, fc. BN eps 1e-5, momentum 0.9 (PyTorch's 0.1). 3,504,872 trainable parameters.
 *
 * MobileNetV3-Small: conv 3x3/2 16 + BN + hard-swish, 11 bottlenecks of the paper's Table 2
 * (ReLU or hard-swish; squeeze-and-excitation as torchvision's SqueezeExcitation: global
 * average pool, 1x1 conv with bias + ReLU to _make_divisible(C/4, 8) channels, 1x1 conv with
 * bias + hard-sigmoid back to C, channel-wise product), conv 1x1 576 + BN + hard-swish,
 * global average pooling, fc 1024 + hard-swish, dropout 0.2, fc. BN eps 1e-3, momentum 0.99
 * (torchvision's 0.01). 2,542,856 trainable parameters.
 *
 * `widthMultiplier` (alias `alpha`, Keras' name) scales every channel count with
 * torchvision's _make_divisible(c * width, 8) rounding (V2's last 1280 channels only grow,
 * as in torchvision: max(1, width)).
 */
import * as L from '../../layers/index.js';
import type { SymbolicTensor } from '../../layers/symbolic.js';
import { type Model, input, model } from '../model.js';
import { type ZooOpts, resolve } from './common.js';

export interface MobileNetOpts extends ZooOpts {
  /** Channel width multiplier (torchvision's width_mult). Default 1. */
  widthMultiplier?: number;
  /** Keras' name for widthMultiplier. */
  alpha?: number;
  /** Dropout rate before the last fc. Default 0.2 (torchvision). */
  dropout?: number;
}

/** torchvision's _make_divisible: round v to the nearest multiple of divisor, never below minValue nor 10% below v. */
export function makeDivisible(v: number, divisor = 8, minValue = divisor): number {
  let n = Math.max(minValue, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** MobileNetV2's inverted residual settings: [expansion t, channels c, repeats n, first stride s]. */
export const MOBILENET_V2_SETTINGS: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];

/**
 * MobileNetV3-Small's bottlenecks (torchvision's table): [in, kernel, expanded, out, SE, activation
 * ('RE' ReLU, 'HS' hard-swish), stride]; channels before the width multiplier.
 */
export const MOBILENET_V3_SMALL_SETTINGS: readonly (readonly [number, number, number, number, boolean, 'RE' | 'HS', number])[] = [
  [16, 3, 16, 16, true, 'RE', 2],
  [16, 3, 72, 24, false, 'RE', 2],
  [24, 3, 88, 24, false, 'RE', 1],
  [24, 5, 96, 40, true, 'HS', 2],
  [40, 5, 240, 40, true, 'HS', 1],
  [40, 5, 240, 40, true, 'HS', 1],
  [40, 5, 120, 48, true, 'HS', 1],
  [48, 5, 144, 48, true, 'HS', 1],
  [48, 5, 288, 96, true, 'HS', 2],
  [96, 5, 576, 96, true, 'HS', 1],
  [96, 5, 576, 96, true, 'HS', 1],
];

const EXTRA_KEYS = ['widthMultiplier', 'alpha', 'dropout'];

function widthOf(name: string, opts: MobileNetOpts): number {
  if (opts.widthMultiplier !== undefined && opts.alpha !== undefined && opts.widthMultiplier !== opts.alpha) {
    throw new RangeError(`${name}: widthMultiplier and alpha are the same option, received both (${JSON.stringify(opts.widthMultiplier)} and ${JSON.stringify(opts.alpha)})`);
  }
  const w = opts.widthMultiplier ?? opts.alpha ?? 1;
  if (typeof w !== 'number' || !(w > 0) || !Number.isFinite(w)) {
    throw new RangeError(`${name}: widthMultiplier must be a number > 0, received ${JSON.stringify(opts.widthMultiplier ?? opts.alpha)}`);
  }
  return w;
}

function dropoutOf(name: string, opts: MobileNetOpts): number {
  const r = opts.dropout ?? 0.2;
  if (typeof r !== 'number' || !(r >= 0 && r < 1)) throw new RangeError(`${name}: dropout must be a number in [0, 1), received ${JSON.stringify(opts.dropout)}`);
  return r;
}

/** Builds layers in order, seeding layer i with seed + 101 * i (as `sequential` does). */
class Builder {
  private i = 0;
  constructor(private readonly seed: number, private readonly bn: { epsilon: number; momentum: number }) {}
  private s(): number {
    return this.seed + 101 * this.i++;
  }
  /** torchvision's Conv2dNormActivation: bias-free conv (padding (k-1)/2), BN, optional activation. */
  convBnAct(x: SymbolicTensor, name: string, filters: number, kernelSize: number, strides: number, act: 'relu' | 'relu6' | 'hardSwish' | null, depthwise = false): SymbolicTensor {
    const padding = (kernelSize - 1) >> 1;
    let y = (depthwise
      ? L.depthwiseConv2d({ name: `${name}.0`, kernelSize, strides, padding, useBias: false, depthwiseInitializer: 'heNormal', seed: this.s() })
      : L.conv2d({ name: `${name}.0`, filters, kernelSize, strides, padding, useBias: false, kernelInitializer: 'heNormal', seed: this.s() })
    ).apply(x) as SymbolicTensor;
    y = L.batchNormalization({ name: `${name}.1`, ...this.bn, seed: this.s() }).apply(y) as SymbolicTensor;
    if (act) y = L.activation({ name: `${name}.2`, activation: act, seed: this.s() }).apply(y) as SymbolicTensor;
    return y;
  }
  conv(x: SymbolicTensor, name: string, filters: number, opts: { useBias?: boolean; activation?: 'relu' | 'hardSigmoid' } = {}): SymbolicTensor {
    return L.conv2d({ name, filters, kernelSize: 1, useBias: opts.useBias ?? false, activation: opts.activation, kernelInitializer: 'heNormal', seed: this.s() }).apply(x) as SymbolicTensor;
  }
  bnorm(x: SymbolicTensor, name: string): SymbolicTensor {
    return L.batchNormalization({ name, ...this.bn, seed: this.s() }).apply(x) as SymbolicTensor;
  }
  layer(l: L.Layer, x: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
    l.setSeed(this.s());
    return l.apply(x) as SymbolicTensor;
  }
}

export function mobilenetV2(opts: MobileNetOpts = {}): Model {
  const o = resolve(opts, { classes: 1000, inputShape: [224, 224, 3], name: 'mobilenetV2' }, EXTRA_KEYS);
  const width = widthOf(o.name, opts);
  const rate = dropoutOf(o.name, opts);
  const b = new Builder(o.seed, { epsilon: 1e-5, momentum: 0.9 });
  const inp = input(o.inputShape, { name: 'input', dtype: o.dtype });
  let cin = makeDivisible(32 * width);
  const lastChannels = makeDivisible(1280 * Math.max(1, width));
  let x = b.convBnAct(inp, 'features.0', cin, 3, 2, 'relu6');
  let index = 1;
  for (const [t, c, n, s] of MOBILENET_V2_SETTINGS) {
    const cout = makeDivisible(c * width);
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const p = `features.${index}.conv`;
      const hidden = Math.round(cin * t);
      let y = x;
      let k = 0;
      if (t !== 1) y = b.convBnAct(y, `${p}.${k++}`, hidden, 1, 1, 'relu6');
      y = b.convBnAct(y, `${p}.${k++}`, hidden, 3, stride, 'relu6', true);
      y = b.conv(y, `${p}.${k++}`, cout);
      y = b.bnorm(y, `${p}.${k++}`);
      x = stride === 1 && cin === cout ? b.layer(L.add({ name: `features.${index}.add` }), [x, y]) : y;
      cin = cout;
      index++;
    }
  }
  x = b.convBnAct(x, `features.${index}`, lastChannels, 1, 1, 'relu6');
  x = b.layer(L.globalAveragePooling2d({ name: 'avgpool' }), x);
  x = b.layer(L.dropout({ name: 'classifier.0', rate }), x);
  x = b.layer(L.dense({ name: 'classifier.1', units: o.classes }), x);
  return model({ inputs: inp, outputs: x, name: o.name });
}

export function mobilenetV3Small(opts: MobileNetOpts = {}): Model {
  const o = resolve(opts, { classes: 1000, inputShape: [224, 224, 3], name: 'mobilenetV3Small' }, EXTRA_KEYS);
  const width = widthOf(o.name, opts);
  const rate = dropoutOf(o.name, opts);
  const adjust = (c: number) => makeDivisible(c * width);
  const b = new Builder(o.seed, { epsilon: 1e-3, momentum: 0.99 });
  const inp = input(o.inputShape, { name: 'input', dtype: o.dtype });
  let x = b.convBnAct(inp, 'features.0', adjust(MOBILENET_V3_SMALL_SETTINGS[0][0]), 3, 2, 'hardSwish');
  MOBILENET_V3_SMALL_SETTINGS.forEach(([cin0, kernel, exp0, cout0, se, a, stride], i) => {
    const [cin, exp, cout] = [adjust(cin0), adjust(exp0), adjust(cout0)];
    const act = a === 'HS' ? 'hardSwish' : 'relu';
    const p = `features.${i + 1}.block`;
    let k = 0;
    let y = x;
    if (exp !== cin) y = b.convBnAct(y, `${p}.${k++}`, exp, 1, 1, act);
    y = b.convBnAct(y, `${p}.${k++}`, exp, kernel, stride, act, true);
    if (se) {
      // torchvision's SqueezeExcitation(exp, _make_divisible(exp // 4, 8)) with a hard-sigmoid gate
      const q = `${p}.${k++}`;
      let s = b.layer(L.globalAveragePooling2d({ name: `${q}.avgpool`, keepDims: true }), y);
      s = b.conv(s, `${q}.fc1`, makeDivisible(Math.floor(exp / 4)), { useBias: true, activation: 'relu' });
      s = b.conv(s, `${q}.fc2`, exp, { useBias: true, activation: 'hardSigmoid' });
      y = b.layer(L.multiply({ name: `${q}.scale` }), [y, s]);
    }
    y = b.convBnAct(y, `${p}.${k++}`, cout, 1, 1, null);
    x = stride === 1 && cin === cout ? b.layer(L.add({ name: `features.${i + 1}.add` }), [x, y]) : y;
  });
  const lastIn = adjust(MOBILENET_V3_SMALL_SETTINGS[MOBILENET_V3_SMALL_SETTINGS.length - 1][3]);
  x = b.convBnAct(x, `features.${MOBILENET_V3_SMALL_SETTINGS.length + 1}`, 6 * lastIn, 1, 1, 'hardSwish');
  x = b.layer(L.globalAveragePooling2d({ name: 'avgpool' }), x);
  x = b.layer(L.dense({ name: 'classifier.0', units: adjust(1024), activation: 'hardSwish' }), x);
  x = b.layer(L.dropout({ name: 'classifier.2', rate }), x);
  x = b.layer(L.dense({ name: 'classifier.3', units: o.classes }), x);
  return model({ inputs: inp, outputs: x, name: o.name });
}
