/**
 * ONNX round trips (issue 15, part 3): a convkit model exported and imported again predicts
 * the same, in both input layouts; an imported model exports again to an equivalent file;
 * an imported model fine-tunes (backbone frozen, head replaced) on the digits.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

/** max |a - b| / max(1, max |b|). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 1;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

describe('ONNX round trips', () => {
  const cases: [string, () => ck.Model, number[]][] = [
    ['smallCnn28', () => ck.zoo.smallCnn28({ seed: 1 }), [2, 28, 28, 1]],
    ['resnet18 at 32x32', () => ck.zoo.resnet18({ classes: 10, inputShape: [32, 32, 3], seed: 2 }), [2, 32, 32, 3]],
    ['mobilenetV2 (width 0.5) at 32x32', () => ck.zoo.mobilenetV2({ classes: 10, inputShape: [32, 32, 3], widthMultiplier: 0.5, seed: 3 }), [1, 32, 32, 3]],
    ['mobilenetV3Small at 48x48', () => ck.zoo.mobilenetV3Small({ classes: 10, inputShape: [48, 48, 3], seed: 4 }), [1, 48, 48, 3]],
    ['squeezenet1_1 at 66x66', () => ck.zoo.squeezenet1_1({ classes: 10, inputShape: [66, 66, 3], seed: 5 }), [1, 66, 66, 3]],
  ];
  for (const [name, make, shape] of cases) {
    it(`${name}: export (NHWC and NCHW) -> import predicts the same; the import exports again to the same function`, () => {
      ck.withBackend('wasm', () => {
        const m = make();
        const x = ck.randomUniform(shape, { seed: 9, min: -1, max: 1 });
        const want = m.predict(x).dataSync();
        for (const inputLayout of ['NHWC', 'NCHW'] as const) {
          const imported = ck.loadOnnx(ck.encodeOnnx(m, { inputLayout }));
          expect(relErr(imported.predict(x).dataSync(), want), `${name} ${inputLayout}`).toBeLessThan(1e-5);
          expect(imported.countParams()).toBe(m.countParams());
          const again = ck.loadOnnx(ck.encodeOnnx(imported, { inputLayout }));
          expect(relErr(again.predict(x).dataSync(), want), `${name} ${inputLayout} twice`).toBeLessThan(1e-5);
          imported.dispose();
          again.dispose();
        }
        m.dispose();
      });
    });
  }

  it('an imported model fine-tunes: backbone frozen, head replaced, digits accuracy above 90%', async () => {
    await ck.withBackend('wasm', async () => {
      const data = (await ck.loadDigits()).shuffle(0);
      const { train, test } = data.trainValTest({ test: 0.2, seed: 0 });
      // a trained convkit model goes out to ONNX and comes back
      const m = ck.zoo.smallCnn8({ seed: 1 });
      m.compile({ optimizer: { name: 'adam', lr: 0.01 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
      await m.fit(train, { epochs: 3, batchSize: 32, verbose: 0, seed: 1 });
      const imported = await ck.loadModel(ck.encodeOnnx(m, { inputLayout: 'NCHW' }));
      const base = await m.evaluate(test);
      imported.compile({ optimizer: 'adam', loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
      const same = await imported.evaluate(test);
      expect(Math.abs(same.accuracy - base.accuracy)).toBeLessThan(1e-9);
      // transfer: freeze everything, replace the classifier, train the new head only
      imported.freeze();
      imported.replaceHead(ck.layers.dense({ units: 10, name: 'new_head', seed: 2 }));
      const frozen = imported.nonTrainableWeights.map((w) => Array.from(w.dataSync()));
      imported.compile({ optimizer: { name: 'adam', lr: 0.02 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
      await imported.fit(train, { epochs: 4, batchSize: 32, verbose: 0, seed: 2 });
      const after = await imported.evaluate(test);
      expect(after.accuracy).toBeGreaterThan(0.9);
      imported.nonTrainableWeights.forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(frozen[i]));
    });
  });
});
