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
