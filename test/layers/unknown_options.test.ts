/**
 * Issue 13, "no silent wrong results": an option key a layer, model or zoo builder does not
 * know is a RangeError naming the class, the key, the closest known key and the known keys,
 * and every key getConfig() writes is accepted again by the constructor (saved models load).
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { layers as L } from '../../src/index.js';
import { Layer, serializeLayer } from '../../src/layers/layer.js';
import { deserializeLayer, registeredLayerClassNames } from '../../src/layers/builtin.js';
import { closestKey, editDistance } from '../../src/layers/options.js';

/** Minimal valid options of every factory in `ck.layers`. */
const FACTORY_ARGS: Record<string, Record<string, unknown>> = {
  dense: { units: 3 },
  flatten: {},
  reshape: { targetShape: [-1] },
  dropout: { rate: 0.5 },
  activation: { activation: 'relu' },
  relu: {},
  leakyRelu: {},
  prelu: {},
  elu: {},
  softmax: {},
  zeroPadding2d: {},
  conv1d: { filters: 2, kernelSize: 3 },
  conv2d: { filters: 2, kernelSize: 3 },
  conv3d: { filters: 2, kernelSize: 3 },
  depthwiseConv2d: { kernelSize: 3 },
  conv2dTranspose: { filters: 2, kernelSize: 3 },
  maxPooling2d: {},
  maxPooling3d: {},
  averagePooling3d: {},
  averagePooling2d: {},
  minPooling2d: {},
  globalAveragePooling2d: {},
  globalMaxPooling2d: {},
  batchNormalization: {},
  layerNormalization: {},
  lrn: {},
  add: {},
  multiply: {},
  concatenate: {},
  residualBlock: { filters: 4 },
  squeezeExcitation: {},
  inceptionModule: { filters1x1: 2, reduce3x3: 2, filters3x3: 2, reduce5x5: 2, filters5x5: 2, poolProj: 2 },
  permute: { dims: [2, 1] },
  arithmetic: { op: 'add' },
  where: {},
  mathFunction: { fn: 'sqrt' },
  slice: { begin: [0], size: [1] },
  pad: { paddings: [[1, 1]] },
  reduce: { op: 'mean', axes: [1] },
  resizing: { height: 2, width: 2 },
  instanceNormalization: {},
  separableConv2d: { filters: 2, kernelSize: 3 },
  maxPooling1d: {},
  averagePooling1d: {},
  globalAveragePooling1d: {},
  globalMaxPooling1d: {},
  globalAveragePooling3d: {},
  globalMaxPooling3d: {},
  spatialDropout1d: { rate: 0.5 },
  spatialDropout2d: { rate: 0.5 },
  spatialDropout3d: { rate: 0.5 },
  rescaling: { scale: 0.5 },
  zeroPadding1d: {},
  cropping1d: {},
  cropping2d: {},
  upSampling2d: {},
  upSampling1d: {},
  upSampling3d: {},
  cropping3d: {},
  zeroPadding3d: {},
  subtract: {},
  average: {},
  maximum: {},
  minimum: {},
};

/** Lowercase function exports of `ck.layers` that are not layer factories. */
const NOT_FACTORIES = new Set([
  'checkRegularizer', 'regularizerPenalty', 'registerLayerClass', 'deserializeLayer', 'registeredLayerClassNames', 'serializeLayer',
  'uniqueLayerName', 'baseWeight', 'input',
]);

type Factory = (args: Record<string, unknown>) => Layer;

describe('layer factories reject unknown option keys', () => {
  const exported = Object.entries(L).filter(([k, v]) => typeof v === 'function' && /^[a-z]/.test(k)).map(([k]) => k);

  it('the table covers every factory ck.layers exports', () => {
    expect(exported.filter((k) => !NOT_FACTORIES.has(k)).sort()).toEqual(Object.keys(FACTORY_ARGS).sort());
  });

  for (const [name, args] of Object.entries(FACTORY_ARGS)) {
    it(`${name} builds with its minimal options and rejects an unknown one, naming the class and the key`, () => {
      const make = (L as unknown as Record<string, Factory>)[name];
      const ok = make({ ...args });
      expect(ok).toBeInstanceOf(Layer);
      let err: unknown;
      try {
        make({ ...args, bogusOption: 1 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RangeError);
      const msg = (err as Error).message;
      expect(msg.startsWith(`${ok.className}: unknown option 'bogusOption'`)).toBe(true);
      expect(msg).not.toContain('did you mean');
      // The list of known options: the base keys and this class's own.
      const known = (ok.constructor as typeof Layer).acceptedArgKeys();
      expect(msg).toContain(`known options: ${[...known].sort().join(', ')}`);
      for (const k of [...Object.keys(args), 'name', 'trainable', 'inputShape', 'seed', 'dtype', 'activityRegularizer']) expect(known).toContain(k);
    });
  }
});

describe('messages name the class, the key and a close match', () => {
  it("dense({ activaton }) suggests 'activation' instead of building a linear layer", () => {
    expect(() => L.dense({ units: 10, activaton: 'relu' } as never)).toThrow(
      /^Dense: unknown option 'activaton' \(did you mean 'activation'\?\); known options: .*\bunits\b/,
    );
  });

  it("conv2d({ stride: 2 }) suggests 'strides' instead of using stride 1", () => {
    expect(() => L.conv2d({ filters: 8, kernelSize: 3, stride: 2 } as never)).toThrow(RangeError);
    expect(() => L.conv2d({ filters: 8, kernelSize: 3, stride: 2 } as never)).toThrow(/^Conv2D: unknown option 'stride' \(did you mean 'strides'\?\)/);
  });

  it('classes, subclasses and other spellings: new L.Conv2DTranspose, a case slip, pooling, a block', () => {
    expect(() => new L.Conv2DTranspose({ filters: 2, kernelSize: 3, outputPaddin: 1 } as never)).toThrow(/^Conv2DTranspose: unknown option 'outputPaddin' \(did you mean 'outputPadding'\?\)/);
    expect(() => L.conv2d({ filters: 2, kernelsize: 3 } as never)).toThrow(/^Conv2D: unknown option 'kernelsize' \(did you mean 'kernelSize'\?\)/);
    expect(() => L.maxPooling2d({ pool_size: 2 } as never)).toThrow(/^MaxPooling2D: unknown option 'pool_size' \(did you mean 'poolSize'\?\)/);
    expect(() => L.residualBlock({ filters: 4, stride: 2 } as never)).toThrow(/^ResidualBlock: unknown option 'stride' \(did you mean 'strides'\?\)/);
    expect(() => L.batchNormalization({ momentun: 0.9 } as never)).toThrow(/^BatchNormalization: unknown option 'momentun' \(did you mean 'momentum'\?\)/);
    // Options of a sibling class are not options of this one.
    expect(() => L.dense({ units: 2, filters: 3 } as never)).toThrow(/^Dense: unknown option 'filters'/);
    expect(() => L.maxPooling2d({ countIncludePad: true } as never)).toThrow(/^MaxPooling2D: unknown option 'countIncludePad'/);
    expect(L.averagePooling2d({ countIncludePad: true }).countIncludePad).toBe(true);
  });

  it('a key set to undefined is still checked; a known key set to undefined is fine', () => {
    expect(() => L.dense({ units: 2, activaton: undefined } as never)).toThrow(/unknown option 'activaton'/);
    expect(L.dense({ units: 2, activation: undefined }).activation).toBe('linear');
  });

  it('the edit-distance helper', () => {
    expect(editDistance('stride', 'strides')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('nmae', 'name')).toBe(1);
    expect(closestKey('clases', ['classes', 'seed'])).toBe('classes');
    expect(closestKey('kernelsize', ['kernelSize', 'strides'])).toBe('kernelSize');
    expect(closestKey('zzz', ['units', 'name'])).toBeUndefined();
  });

  it('a custom layer declares its own options in static argKeys; undeclared ones are rejected', () => {
    class Scale extends Layer {
      static readonly className = 'Scale';
      static readonly argKeys = ['factor'];
      readonly factor: number;
      constructor(args: { factor?: number; name?: string } = {}) {
        super(args);
        this.factor = args.factor ?? 1;
      }
      protected forward(x: ck.Tensor | ck.Tensor[]): ck.Tensor {
        return ck.mul(x as ck.Tensor, this.factor);
      }
    }
    class Undeclared extends Layer {
      static readonly className = 'Undeclared';
      constructor(args: { factor?: number } = {}) {
        super(args);
      }
      protected forward(x: ck.Tensor | ck.Tensor[]): ck.Tensor {
        return x as ck.Tensor;
      }
    }
    expect(new Scale({ factor: 2, name: 'scale' }).factor).toBe(2);
    expect(() => new Scale({ factr: 2 } as never)).toThrow(/^Scale: unknown option 'factr' \(did you mean 'factor'\?\)/);
    expect(() => new Undeclared({ factor: 2 })).toThrow(/^Undeclared: unknown option 'factor'/);
  });
});

/** Options that make getConfig write every key it can (optional ones included), by class. */
const reg = { l2: 0.01 };
const CLASS_ARGS: Record<string, Record<string, unknown>> = {
  Dense: { units: 3, activation: 'relu', useBias: false, kernelInitializer: 'heNormal', biasInitializer: 'ones', kernelRegularizer: reg, biasRegularizer: reg },
  Flatten: {},
  Reshape: { targetShape: [2, -1] },
  Dropout: { rate: 0.25 },
  Activation: { activation: 'tanh' },
  ReLU: { maxValue: 6 },
  LeakyReLU: { alpha: 0.1 },
  PReLU: { alphaInitializer: 'zeros', alphaRegularizer: reg },
  ELU: { alpha: 0.5 },
  Softmax: { axis: -1 },
  ZeroPadding2D: { padding: [1, 2] },
  Conv1D: { filters: 4, kernelSize: 3, strides: 2, padding: 'same', dilationRate: 1, groups: 2, kernelRegularizer: reg, biasRegularizer: reg },
  Conv2D: { filters: 4, kernelSize: [3, 1], strides: 2, padding: [[1, 0], [0, 1]], groups: 1, activation: 'relu', kernelRegularizer: reg, biasRegularizer: reg },
  Conv3D: { filters: 4, kernelSize: 3, useBias: false },
  DepthwiseConv2D: { kernelSize: 3, depthMultiplier: 2, depthwiseInitializer: 'heNormal', depthwiseRegularizer: reg, biasRegularizer: reg },
  Conv2DTranspose: { filters: 4, kernelSize: 3, strides: 2, outputPadding: 1 },
  MaxPooling2D: { poolSize: 3, strides: 2, padding: 1, ceilMode: true, dilations: [2, 1] },
  MaxPooling3D: { poolSize: [2, 1, 3], strides: 1, padding: [[0, 1], [0, 0], [1, 1]], dilations: [1, 2, 1] },
  AveragePooling3D: { poolSize: 2, countIncludePad: true, padding: 'same' },
  AveragePooling2D: { poolSize: 2, countIncludePad: true, padding: 'same' },
  MinPooling2D: { poolSize: 2 },
  GlobalAveragePooling2D: { keepDims: true },
  GlobalMaxPooling2D: {},
  BatchNormalization: { momentum: 0.9, epsilon: 1e-5, center: false, scale: true, gammaRegularizer: reg, betaRegularizer: reg },
  LayerNormalization: { axes: [-1], epsilon: 1e-5 },
  LRN: { size: 3, alpha: 1e-3, beta: 0.5, k: 1 },
  Add: {},
  Multiply: {},
  Concatenate: { axis: -1 },
  ResidualBlock: { filters: 4, kind: 'bottleneck', strides: 2, shortcut: 'projection', preActivation: true, expansion: 2, kernelRegularizer: reg },
  SqueezeExcitation: { ratio: 4 },
  InceptionModule: { filters1x1: 2, reduce3x3: 2, filters3x3: 2, reduce5x5: 2, filters5x5: 2, poolProj: 2, kernel5: 3, batchNorm: true, bnEpsilon: 1e-5, bnMomentum: 0.8 },
  Permute: { dims: [3, 1, 2] },
  Arithmetic: { op: 'pow', constantShape: [1, 3], constantFirst: true },
  Where: { constantShape: [1, 3], constantAt: 'a' },
  MathFunction: { fn: 'clip', min: -1, max: 2 },
  Slice: { begin: [0, 1], size: [2, -1], strides: [1, 2] },
  Pad: { paddings: [[1, 0], [0, 2]], value: 0.5 },
  Reduce: { op: 'max', axes: [1, -1], keepDims: true },
  Resizing: { height: 4, width: 6, interpolation: 'bilinear', coordinates: 'align_corners', nearestMode: 'floor' },
  InstanceNormalization: { epsilon: 1e-3 },
  SeparableConv2D: { filters: 4, kernelSize: [3, 2], strides: 2, padding: 'same', dilationRate: 1, depthMultiplier: 2, useBias: true, activation: 'relu', depthwiseInitializer: 'heNormal', pointwiseInitializer: 'glorotNormal', biasInitializer: 'ones', depthwiseRegularizer: reg, pointwiseRegularizer: reg, biasRegularizer: reg, dataFormat: 'channelsLast' },
  MaxPooling1D: { poolSize: 3, strides: 2, padding: 'same', dataFormat: 'channelsLast' },
  AveragePooling1D: { poolSize: 2, strides: 1, padding: [1, 0], dataFormat: 'channelsLast' },
  GlobalAveragePooling1D: { keepDims: true, dataFormat: 'channelsLast' },
  GlobalMaxPooling1D: { keepDims: false, dataFormat: 'channelsLast' },
  GlobalAveragePooling3D: { keepDims: true, dataFormat: 'channelsLast' },
  GlobalMaxPooling3D: { keepDims: false, dataFormat: 'channelsLast' },
  SpatialDropout1D: { rate: 0.25, dataFormat: 'channelsLast' },
  SpatialDropout2D: { rate: 0.25, dataFormat: 'channelsLast' },
  SpatialDropout3D: { rate: 0.25, dataFormat: 'channelsLast' },
  Rescaling: { scale: 1 / 255, offset: -0.5 },
  ZeroPadding1D: { padding: [1, 2] },
  Cropping1D: { cropping: [1, 2] },
  Cropping2D: { cropping: [[1, 0], [0, 2]], dataFormat: 'channelsLast' },
  UpSampling2D: { size: [2, 3], interpolation: 'bilinear', dataFormat: 'channelsLast' },
  UpSampling1D: { size: 3 },
  UpSampling3D: { size: [1, 2, 3], dataFormat: 'channelsLast' },
  Cropping3D: { cropping: [[1, 0], [0, 2], [1, 1]], dataFormat: 'channelsLast' },
  ZeroPadding3D: { padding: [[0, 1], [2, 0], [1, 1]], dataFormat: 'channelsLast' },
  Subtract: {},
  Average: {},
  Maximum: {},
  Minimum: {},
};
/** Options every layer takes, with values that make the base getConfig write each of them. */
const BASE_ARGS = { trainable: false, dtype: 'float64', inputShape: [4, 4, 2], seed: 7, activityRegularizer: { l1: 0.001 } };

describe('every layer class round-trips through getConfig / fromConfig', () => {
  const names = registeredLayerClassNames().filter((n) => n !== 'Model' && n !== 'Sequential');

  it('the table covers every registered layer class', () => {
    expect(names).toEqual(Object.keys(CLASS_ARGS).sort());
  });

  for (const className of Object.keys(CLASS_ARGS)) {
    it(`${className}: every key getConfig writes is accepted, and the rebuilt layer has the same config`, () => {
      const cls = (L as unknown as Record<string, new (a: unknown) => Layer>)[className];
      const layer = new cls({ ...BASE_ARGS, ...CLASS_ARGS[className], name: `rt_${className}` });
      const spec = serializeLayer(layer);
      expect(spec.className).toBe(className);
      // The base keys are all written (so the round trip exercises them).
      for (const k of Object.keys(BASE_ARGS)) expect(Object.keys(spec.config)).toContain(k);
      for (const k of Object.keys(CLASS_ARGS[className])) expect(Object.keys(spec.config)).toContain(k);
      const known = (cls as unknown as typeof Layer).acceptedArgKeys();
      for (const k of Object.keys(spec.config)) expect(known).toContain(k);
      const json = JSON.parse(JSON.stringify(spec));
      const back = deserializeLayer(json);
      expect(back).toBeInstanceOf(cls);
      expect(back.getConfig()).toEqual(spec.config);
      // A saved config with a key the class does not know fails loudly instead of being dropped.
      expect(() => deserializeLayer({ className, config: { ...json.config, bogusOption: 1 } })).toThrow(new RegExp(`^${className}: unknown option 'bogusOption'`));
    });
  }

  it('Sequential and functional models round-trip with every layer kind inside', () => {
    const seq = ck.sequential([L.conv2d({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }), L.residualBlock({ filters: 2 }), L.flatten(), L.dense({ units: 2 })], { inputShape: [6, 6, 1] });
    const seqBack = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(seq))));
    expect(seqBack.getConfig()).toEqual(seq.getConfig());

    const x = ck.input([4, 4, 2]);
    const a = L.conv2d({ filters: 2, kernelSize: 1 }).apply(x);
    const y = L.globalAveragePooling2d().apply(L.concatenate().apply([a, x]));
    const m = ck.model({ inputs: x, outputs: y, name: 'rt_model' });
    const mBack = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(m))));
    expect(mBack.getConfig()).toEqual(m.getConfig());
  });
});

describe('models and zoo builders reject unknown option keys', () => {
  it('model() and sequential() options', () => {
    const x = ck.input([3]);
    const y = L.dense({ units: 2 }).apply(x);
    expect(() => ck.model({ inputs: x, outputs: y, nmae: 'm' } as never)).toThrow(/^Model: unknown option 'nmae' \(did you mean 'name'\?\)/);
    expect(() => ck.sequential([L.dense({ units: 2 })], { inputShpe: [3] } as never)).toThrow(/^sequential: unknown option 'inputShpe' \(did you mean 'inputShape'\?\)/);
    expect(() => ck.sequential({ layers: [L.dense({ units: 2 })], inputShape: [3], sed: 1 } as never)).toThrow(/^sequential: unknown option 'sed' \(did you mean 'seed'\?\)/);
    expect(ck.sequential({ layers: [L.dense({ units: 2 })], inputShape: [3], seed: 1 }).outputShape).toEqual([2]);
  });

  for (const name of ck.zoo.names()) {
    it(`zoo.get('${name}') and zoo.${name} reject { clases: 5 }`, () => {
      const re = new RegExp(`^${name}: unknown option 'clases' \\(did you mean 'classes'\\?\\); known options: .*\\bclasses\\b`);
      expect(() => ck.zoo.get(name, { clases: 5 })).toThrow(RangeError);
      expect(() => ck.zoo.get(name, { clases: 5 })).toThrow(re);
      const builder = (ck.zoo as unknown as Record<string, (o: unknown) => unknown>)[name];
      expect(() => builder({ clases: 5 })).toThrow(re);
    });
  }

  it("each builder's own options are known, other builders' options are not", () => {
    expect(() => ck.zoo.resnet18({ clases: 5 } as never)).toThrow(/^resnet18: unknown option 'clases' \(did you mean 'classes'\?\)/);
    expect(() => ck.zoo.resnet18({ preactivation: true } as never)).toThrow(/did you mean 'preActivation'\?/);
    expect(() => ck.zoo.smallCnn8({ dropout: 0.1 } as never)).toThrow(/^smallCnn8: unknown option 'dropout'/);
    expect(() => ck.zoo.get('lenet5', { variant: 'paper' })).toThrow(/^lenet5: unknown option 'variant'/);
    expect(ck.zoo.get('smallCnn28', { classes: 3, filters: [4, 8], dense: 8, dropout: 0.1, batchNorm: false, seed: 1, name: 's' }).outputShape).toEqual([3]);
    expect(ck.zoo.lenet5({ classes: 4, activation: 'relu', pooling: 'max' }).outputShape).toEqual([4]);
  });
});
