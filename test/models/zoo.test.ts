import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { layers as L, zoo } from '../../src/index.js';

interface Ref {
  input: number[];
  output: number[];
  trainableParams: number;
  bnRunningStats: number;
  macs: number;
  blocks: Record<string, number>;
}
// Written by scripts/zoo_reference.py from PyTorch/torchvision (the suite does not need torch).
const REF = JSON.parse(readFileSync(new URL('../fixtures/zoo_reference.json', import.meta.url), 'utf8')) as { models: Record<string, Ref> };

const BUILD: Record<string, () => ck.Model> = {
  ...Object.fromEntries(zoo.names().map((n) => [n, () => zoo.get(n)])),
  alexnet_groups2: () => zoo.alexnet({ groups: 2 }),
  googlenet_paper: () => zoo.googlenet({ variant: 'paper' }),
  vgg16_bn: () => zoo.vgg16({ batchNorm: true }),
  mobilenetV2_w050: () => zoo.mobilenetV2({ widthMultiplier: 0.5 }),
  mobilenetV3Small_w075: () => zoo.mobilenetV3Small({ alpha: 0.75 }),
};

/** Every layer, blocks and nested models included. */
function allLayers(l: ck.layers.Layer): ck.layers.Layer[] {
  return l instanceof L.Container ? [l, ...l.layers.flatMap(allLayers)] : [l];
}

describe('model zoo against PyTorch/torchvision (test/fixtures/zoo_reference.json)', () => {
  it('covers every zoo model', () => {
    for (const n of zoo.names()) expect(REF.models[n], n).toBeDefined();
  });

  for (const name of Object.keys(BUILD)) {
    it(`${name}: trainable params, BN statistics, output shape and MACs at the standard input`, () => {
      const ref = REF.models[name];
      const m = BUILD[name]();
      const s = m.summaryJSON();
      expect(s.input).toEqual(ref.input);
      expect(s.output).toEqual(ref.output);
      expect(s.trainableParams).toBe(ref.trainableParams);
      expect(s.nonTrainableParams).toBe(ref.bnRunningStats);
      expect(s.totalParams).toBe(ref.trainableParams + ref.bnRunningStats);
      expect(s.macs).toBe(ref.macs);
      for (const [block, params] of Object.entries(ref.blocks)) expect(m.getLayer(block).countParams('trainable'), block).toBe(params);
      // Summarising allocated nothing: every weight is still only a shape.
      expect(m.weights.every((w) => !(ck.layers.baseWeight(w) as ck.layers.LayerWeight).materialized)).toBe(true);
    });
  }

  it('every convolution and dense layer of every model has (cin*kh*kw/groups + 1)*cout parameters', () => {
    let checked = 0;
    for (const name of Object.keys(BUILD)) {
      for (const l of allLayers(BUILD[name]())) {
        if (l instanceof L.Conv2D) {
          const cin = (l.builtInputShape as number[])[2];
          expect(l.countParams(), `${name}/${l.name}`).toBe(((cin / l.groups) * l.kernelSize[0] * l.kernelSize[1] + (l.useBias ? 1 : 0)) * l.filters);
          checked++;
        } else if (l instanceof L.Dense) {
          const nIn = (l.builtInputShape as number[]).at(-1)!;
          expect(l.countParams(), `${name}/${l.name}`).toBe((nIn + 1) * l.units);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('published MAC figures: ResNet-50 ~4.1 G, VGG-16 ~15.5 G, GoogLeNet ~1.5 G, AlexNet 0.72 G (two towers) to 1.14 G (one)', () => {
    const g = (m: ck.Model) => m.summaryJSON().macs / 1e9;
    expect(g(zoo.resnet50())).toBeCloseTo(4.09, 2);
    expect(g(zoo.vgg16())).toBeCloseTo(15.47, 2);
    expect(g(zoo.googlenet())).toBeCloseTo(1.50, 2);
    expect(g(zoo.alexnet({ groups: 2 }))).toBeCloseTo(0.72, 2);
    expect(g(zoo.alexnet())).toBeCloseTo(1.14, 2);
  });
});

describe('zoo options and registry', () => {
  it('classes and inputShape resize the head', () => {
    const m = zoo.resnet18({ classes: 10, inputShape: [32, 32, 3] });
    expect(m.outputShape).toEqual([10]);
    expect(m.summaryJSON().trainableParams).toBe(11689512 - 513 * 1000 + 513 * 10);
    expect(zoo.vgg11({ inputShape: [32, 32, 3], classes: 10 }).getLayer('fc1').countParams()).toBe((512 + 1) * 4096);
    expect(zoo.lenet5({ pooling: 'max', activation: 'relu' }).countParams()).toBe(61706);
  });

  it('smallCnn28: two or three blocks, one or more convolutions per block, counted by hand', () => {
    expect(zoo.smallCnn28().countParams('trainable')).toBe(421738);
    // [16, 24, 48]: convs 144 + 3,456 + 10,368, batch norms 2 x (16 + 24 + 48), flatten 3x3x48 -> dense 128, -> 10
    const three = zoo.smallCnn28({ filters: [16, 24, 48] });
    expect(three.countParams('trainable')).toBe(144 + 3456 + 10368 + 2 * (16 + 24 + 48) + (432 * 128 + 128) + (128 * 10 + 10));
    expect(three.summaryJSON().layers.find((l) => l.name === 'pool3')!.outputShape).toEqual([3, 3, 48]);
    const vgg = zoo.smallCnn28({ filters: [8, 16], convsPerBlock: 2 });
    expect(vgg.layers.map((l) => l.name).filter((n) => n.startsWith('conv'))).toEqual(['conv1', 'conv1b', 'conv2', 'conv2b']);
    expect(() => zoo.smallCnn28({ filters: [16] })).toThrow(/filters must be 2 or 3 positive integers \(one per block\), received \[16\]/);
    expect(() => zoo.smallCnn28({ filters: [16, 0] })).toThrow(/filters must be 2 or 3 positive integers/);
    expect(() => zoo.smallCnn28({ convsPerBlock: 0 })).toThrow(/convsPerBlock must be an integer 1..4, received 0/);
    // pools [true, true, false]: the third block stays at 7x7, flatten 7x7x64 -> dense 128
    const keep7 = zoo.smallCnn28({ filters: [16, 32, 64], pools: [true, true, false] });
    expect(keep7.layers.map((l) => l.name).filter((n) => n.startsWith('pool'))).toEqual(['pool1', 'pool2']);
    expect(keep7.summaryJSON().layers.find((l) => l.name === 'relu3')!.outputShape).toEqual([7, 7, 64]);
    expect(keep7.countParams('trainable')).toBe(144 + 4608 + 18432 + 2 * (16 + 32 + 64) + (3136 * 128 + 128) + (128 * 10 + 10));
    expect(() => zoo.smallCnn28({ filters: [16, 32], pools: [true] })).toThrow(/pools must be one boolean per block \(2\), received \[true\]/);
  });

  it('get is case-insensitive and names every model', () => {
    expect(zoo.names()).toEqual(['lenet5', 'alexnet', 'zfnet', 'vgg11', 'vgg13', 'vgg16', 'vgg19', 'googlenet', 'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152', 'mobilenetV2', 'mobilenetV3Small', 'squeezenet1_1', 'smallCnn28', 'smallCnn8']);
    expect(zoo.get('SMALLCNN8', { classes: 3 }).outputShape).toEqual([3]);
    expect(() => zoo.get('resnet9000')).toThrow(/unknown model 'resnet9000'/);
    expect(() => zoo.lenet5({ inputShape: [32, 32] })).toThrow(/inputShape must be \[H, W, C\]/);
  });
});

describe('zoo forward passes at tiny inputs', () => {
  it('resnet18 at 32x32 (batch 1) runs forward and backward', () => {
    const m = zoo.resnet18({ classes: 10, inputShape: [32, 32, 3], seed: 1 });
    const x = ck.randomNormal([1, 32, 32, 3], { seed: 2 });
    const y = m.predict(x);
    expect(y.shape).toEqual([1, 10]);
    expect(y.toArray().every(Number.isFinite)).toBe(true);
    ck.tidy(() => ck.sum(m.apply(ck.randomNormal([1, 32, 32, 3], { seed: 3 }), { training: true })).backward());
    expect(m.trainableWeights.every((w) => w.grad !== null)).toBe(true);
    m.dispose();
  });

  it('bottleneck ResNet and GoogLeNet blocks run at small sizes', () => {
    const r = ck.sequential([L.conv2d({ filters: 8, kernelSize: 3, padding: 1 }), L.residualBlock({ filters: 4, kind: 'bottleneck' }), L.residualBlock({ filters: 8, kind: 'bottleneck', strides: 2 }), L.globalAveragePooling2d(), L.dense({ units: 3 })], { inputShape: [8, 8, 3] });
    expect(r.predict(ck.randomNormal([2, 8, 8, 3], { seed: 1 })).shape).toEqual([2, 3]);
    const g = zoo.googlenet({ inputShape: [32, 32, 3], classes: 4 });
    expect(g.summaryJSON().output).toEqual([4]);
    expect(g.predict(ck.randomNormal([1, 32, 32, 3], { seed: 1 })).shape).toEqual([1, 4]);
    g.dispose();
  });
});

describe('mobilenetV2, mobilenetV3Small, squeezenet1_1 options', () => {
  it("makeDivisible is torchvision's _make_divisible", () => {
    // values from torchvision.models._utils._make_divisible
    expect([32 * 0.5, 32 * 0.35, 16 * 0.35, 1280, 24 * 0.75, 72 / 4, 88 / 4, Math.floor(96 / 4), 576 * 0.35, 3].map((v) => zoo.makeDivisible(v)))
      .toEqual([16, 16, 8, 1280, 24, 24, 24, 24, 200, 8]);
  });

  it('widthMultiplier and alpha are one option; bad values name the model and what was received', () => {
    const a = zoo.mobilenetV2({ widthMultiplier: 0.35, inputShape: [32, 32, 3] }).summaryJSON();
    const b = zoo.mobilenetV2({ alpha: 0.35, inputShape: [32, 32, 3] }).summaryJSON();
    expect(a.trainableParams).toBe(b.trainableParams);
    expect(a.trainableParams).toBeLessThan(zoo.mobilenetV2({ inputShape: [32, 32, 3] }).summaryJSON().trainableParams);
    expect(() => zoo.mobilenetV2({ widthMultiplier: 0.5, alpha: 0.75 })).toThrow(/^mobilenetV2: widthMultiplier and alpha are the same option, received both \(0.5 and 0.75\)/);
    expect(() => zoo.mobilenetV3Small({ widthMultiplier: 0 })).toThrow(/^mobilenetV3Small: widthMultiplier must be a number > 0, received 0/);
    expect(() => zoo.squeezenet1_1({ dropout: 1 })).toThrow(/^squeezenet1_1: dropout must be a number in \[0, 1\), received 1/);
    expect(() => zoo.mobilenetV3Small({ width: 0.5 } as never)).toThrow(/^mobilenetV3Small: unknown option 'width'/);
    expect(zoo.squeezenet1_1({ dropout: 0.2 }).getLayer('classifier.0').getConfig().rate).toBe(0.2);
  });

  it('layers carry torchvision module names; the SE squeeze has makeDivisible(C / 4) channels', () => {
    const v3 = zoo.mobilenetV3Small();
    expect(v3.getLayer('features.1.block.1.fc1').countParams()).toBe(16 * 8 + 8);
    expect(v3.getLayer('features.4.block.2.fc1').countParams()).toBe(96 * 24 + 24);
    expect(v3.getLayer('features.5.block.2.fc1').countParams()).toBe(240 * 64 + 64); // 240 / 4 = 60 -> 64
    expect(v3.getLayer('features.4.block.1.0').className).toBe('DepthwiseConv2D');
    expect(v3.getLayer('classifier.3').countParams()).toBe(1025 * 1000);
    const v2 = zoo.mobilenetV2();
    expect(v2.getLayer('features.2.conv.1.0').countParams()).toBe(96 * 9);
    expect(v2.getLayer('features.18.0').countParams()).toBe(320 * 1280);
    expect(zoo.squeezenet1_1().getLayer('features.12.expand3x3').countParams()).toBe(64 * 9 * 256 + 256);
  });

  it('dtype and seed reach every layer of the functional models', () => {
    for (const name of ['mobilenetV2', 'mobilenetV3Small', 'squeezenet1_1']) {
      const m = zoo.get(name, { dtype: 'float64', inputShape: [32, 32, 3], classes: 2 });
      expect(m.weights.every((w) => w.dtype === 'float64'), name).toBe(true);
      const k = (seed: number) => Array.from(zoo.get(name, { seed, inputShape: [32, 32, 3], classes: 2 }).weights[0].value.dataSync());
      expect(k(3), name).toEqual(k(3));
      expect(k(3), name).not.toEqual(k(4));
    }
  });

  it('squeezenet1_1 pools in ceil mode (66x66: 32 -> 16 -> 8 -> 4, floor mode would give 15 -> 7 -> 3)', () => {
    const m = zoo.squeezenet1_1({ inputShape: [66, 66, 3], classes: 5 });
    const shapes = Object.fromEntries(m.summaryJSON().layers.map((l) => [l.name, l.outputShape]));
    expect([shapes['features.0'], shapes['features.2'], shapes['features.5'], shapes['features.8']]).toEqual([[32, 32, 64], [16, 16, 64], [8, 8, 128], [4, 4, 256]]);
    expect(shapes['classifier.3']).toEqual([5]);
  });

  it('save and load keep the three models (graph, names and weights)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    for (const name of ['mobilenetV2', 'mobilenetV3Small', 'squeezenet1_1']) {
      const dir = mkdtempSync(join(tmpdir(), 'convkit-zoo-'));
      try {
        const m = zoo.get(name, { classes: 3, inputShape: [32, 32, 3], seed: 2 });
        const x = ck.randomNormal([1, 32, 32, 3], { seed: 4 });
        const want = m.predict(x).toArray();
        await m.save(dir);
        const back = await ck.loadModel(dir);
        expect(back.name).toBe(name);
        expect(back.summaryJSON().trainableParams).toBe(m.summaryJSON().trainableParams);
        expect(back.predict(x).toArray(), name).toEqual(want);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
