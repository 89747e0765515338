import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { layers as L } from '../../src/index.js';
import { describeOnBackends, on, read } from '../util/backends.js';
import { expectClose, tolForK } from '../util/close.js';

/**
 * Whole-model gradient check in float64: autograd's gradient of L = sum(model(x) * c) for
 * every element of every trainable weight against central differences (eps 1e-6,
 * atol 1e-5, rtol 1e-3, PyTorch's numbers), perturbing the weights in place.
 */
function checkModelGradients(m: ck.Model, x: ck.Tensor, training: boolean): number {
  const cot = ck.keep(ck.randomNormal([x.shape[0], ...m.outputShape], { seed: 11, dtype: 'float64' }));
  const loss = () => ck.sum(ck.mul(m.apply(x, { training }), cot));
  const params = m.trainableWeights;
  for (const p of params) p.zeroGrad();
  ck.tidy(() => loss().backward());
  const analytic = params.map((p) => Float64Array.from(p.grad!.dataSync()));
  const eps = 1e-6;
  let checked = 0;
  params.forEach((p, i) => {
    const base = Float64Array.from(p.dataSync());
    for (let j = 0; j < base.length; j++) {
      const at = (d: number) => {
        const v = base.slice();
        v[j] += d;
        p.assign(ck.tensor(v, p.shape, 'float64'));
        return ck.noGrad(() => ck.tidy(() => loss().item()));
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      p.assign(ck.tensor(base, p.shape, 'float64'));
      const a = analytic[i][j];
      if (!(Math.abs(a - numeric) <= 1e-5 + 1e-3 * Math.abs(numeric))) {
        expect.fail(`${p.name}[${j}]: autograd ${a}, finite differences ${numeric}`);
      }
      checked++;
    }
  });
  return checked;
}

describe('functional models', () => {
  it("a whole small model's gradients match finite differences in float64 (branches, BN, PReLU, pooling, LN, dense)", () => {
    const x = ck.input([5, 5, 2], { dtype: 'float64' });
    const a = L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh', seed: 1 }).apply(x);
    const b = L.conv2d({ filters: 3, kernelSize: 1, seed: 2 }).apply(x);
    const c = L.batchNormalization({ seed: 3 }).apply(L.add().apply([a, b]));
    const e = L.prelu().apply(c);
    const f = L.concatenate().apply([L.averagePooling2d().apply(e), L.maxPooling2d().apply(e)]);
    const g = L.layerNormalization().apply(L.flatten().apply(f));
    const y = L.dense({ units: 3, activation: 'sigmoid', seed: 4 }).apply(g);
    const m = ck.model({ inputs: x, outputs: y });
    expect(m.dtype).toBe('float64');
    expect(m.weights.every((w) => w.dtype === 'float64')).toBe(true);
    const data = ck.randomNormal([3, 5, 5, 2], { seed: 5, dtype: 'float64' });
    const n = checkModelGradients(m, data, true);
    expect(n).toBe(m.countParams('trainable'));
    checkModelGradients(m, data, false);
  });

  it('sequential models with a residual block check too', () => {
    const m = ck.sequential(
      [L.conv2d({ filters: 2, kernelSize: 3, activation: 'elu' }), L.residualBlock({ filters: 2 }), L.globalAveragePooling2d(), L.dense({ units: 2 })],
      { inputShape: [5, 5, 1], dtype: 'float64', seed: 3 },
    );
    checkModelGradients(m, ck.randomNormal([2, 5, 5, 1], { seed: 6, dtype: 'float64' }), true);
  });

  it('apply records the graph; predict runs in batches without one and agrees', () => {
    const m = ck.zoo.smallCnn8({ seed: 1 });
    const x = ck.randomNormal([7, 8, 8, 1], { seed: 2 });
    const y = m.apply(x);
    expect(y.shape).toEqual([7, 10]);
    expect(y.requiresGrad).toBe(true);
    const p = m.predict(x, { batchSize: 3 });
    expect(p.requiresGrad).toBe(false);
    expect(p.shape).toEqual([7, 10]);
    expectClose(p, y, { atol: 1e-6 });
    const before = ck.memory().ts.storages;
    ck.tidy(() => m.predict(x, { batchSize: 2 })).dispose();
    expect(ck.memory().ts.storages).toBe(before);
  });

  it('several inputs and a shared layer (siamese): weights once, MACs per use', () => {
    const a = ck.input([4], { name: 'a' }), b = ck.input([4], { name: 'b' });
    const enc = L.dense({ name: 'enc', units: 3, seed: 1 });
    const d = L.dense({ name: 'head', units: 1, activation: 'sigmoid' }).apply(L.concatenate().apply([enc.apply(a), enc.apply(b)]));
    const m = ck.model({ inputs: [a, b], outputs: d });
    expect(m.layers.map((l) => l.name)).toEqual(['enc', m.layers[1].name, 'head']);
    expect(m.countParams()).toBe(15 + 7);
    const s = m.summaryJSON();
    expect(s.input).toEqual([[4], [4]]);
    expect(s.layers[0].macs).toBe(2 * 12);
    expect(s.layers[1].inputs).toEqual(['enc', 'enc']);
    const xa = ck.randomNormal([5, 4], { seed: 1 }), xb = ck.randomNormal([5, 4], { seed: 2 });
    expect(m.predict([xa, xb], { batchSize: 2 }).shape).toEqual([5, 1]);
    expect(() => m.apply(xa)).toThrow(/\(Model\): expected 2 input tensors \(an array\), received 1/);
  });

  it('several outputs: applyAll / predictAll', () => {
    const x = ck.input([6]);
    const h = L.dense({ units: 4, activation: 'relu' }).apply(x);
    const m = ck.model({ inputs: x, outputs: [L.dense({ units: 2 }).apply(h), L.dense({ units: 3 }).apply(h)] });
    const t = ck.randomNormal([4, 6]);
    expect(m.applyAll(t).map((o) => o.shape)).toEqual([[4, 2], [4, 3]]);
    expect(m.predictAll(t, { batchSize: 3 }).map((o) => o.shape)).toEqual([[4, 2], [4, 3]]);
    expect(() => m.predict(t)).toThrow(/2 outputs; use predictAll/);
    expect(m.outputShapes).toEqual([[2], [3]]);
  });

  it('a model nests as a layer; its weights gain its name', () => {
    const encoder = ck.sequential([L.dense({ name: 'd', units: 3 })], { inputShape: [5], name: 'encoder' });
    const x = ck.input([5]);
    const outer = ck.model({ inputs: x, outputs: L.dense({ name: 'out', units: 2 }).apply(encoder.apply(x)) });
    expect(outer.weights.map((w) => w.name)).toEqual(['encoder/d/kernel', 'encoder/d/bias', 'out/kernel', 'out/bias']);
    expect(outer.getLayer('encoder/d')).toBe(encoder.getLayer('d'));
    expect(outer.apply(ck.ones([2, 5])).shape).toEqual([2, 2]);
    const rows = outer.summaryJSON({ expand: true }).layers;
    expect(rows.map((r) => [r.name, r.depth])).toEqual([['encoder', 0], ['encoder/d', 1], ['out', 0]]);
  });

  it('graph errors: inputs missing from the model, duplicate names', () => {
    const a = ck.input([3]), b = ck.input([3]);
    const s = L.add().apply([a, b]);
    expect(() => ck.model({ inputs: a, outputs: s })).toThrow(/depend on input 'input_\d+', which is not among the model's inputs/);
    const x = ck.input([3]);
    expect(() => ck.model({ inputs: x, outputs: L.dense({ name: 'same', units: 2 }).apply(L.dense({ name: 'same', units: 3 }).apply(x)) })).toThrow(/two different layers are named 'same'/);
  });
});

describe('sequential models', () => {
  it('needs an input shape, from the options or the first layer', () => {
    expect(() => ck.sequential([L.dense({ units: 2 })])).toThrow(/input shape is required/);
    const m = ck.sequential([L.dense({ units: 2, inputShape: [3] })]);
    expect(m.inputShape).toEqual([3]);
    m.add(L.dense({ units: 4 }));
    expect(m.outputShape).toEqual([4]);
    expect(m.layers.length).toBe(2);
  });

  it('model input checks name the model; other dtypes are cast to the model dtype', () => {
    const m = ck.sequential([L.conv2d({ filters: 2, kernelSize: 3 })], { inputShape: [8, 8, 3], name: 'net' });
    expect(() => m.apply(ck.zeros([1, 8, 8, 1]))).toThrow('net (Sequential): expected input with 3 channels (shape [N, 8, 8, 3]), received [1, 8, 8, 1]');
    expect(() => m.apply(ck.zeros([1, 64]))).toThrow('net (Sequential): expected input of rank 4 (shape [N, 8, 8, 3]), received [1, 64]');
    expect(m.apply(ck.zeros([1, 8, 8, 3], 'int32')).dtype).toBe('float32');
  });

  it('a fully convolutional model runs on larger images (sliding windows as convolutions)', () => {
    const m = ck.sequential([L.conv2d({ filters: 4, kernelSize: 3 }), L.maxPooling2d(), L.conv2d({ filters: 2, kernelSize: 3 })], { inputShape: [8, 8, 1] });
    expect(m.outputShape).toEqual([1, 1, 2]);
    expect(m.apply(ck.zeros([1, 12, 12, 1])).shape).toEqual([1, 3, 3, 2]);
  });

  it('seeds make models reproducible', () => {
    const a = ck.zoo.lenet5({ seed: 3 }), b = ck.zoo.lenet5({ seed: 3 }), c = ck.zoo.lenet5({ seed: 4 });
    expect(a.weights[0].value.toArray()).toEqual(b.weights[0].value.toArray());
    expect(a.weights[0].value.toArray()).not.toEqual(c.weights[0].value.toArray());
  });
});

describe('weights, freezing and transfer learning', () => {
  it('trainable and non-trainable weights (batch norm statistics)', () => {
    const m = ck.zoo.smallCnn28({ seed: 1 });
    expect(m.trainableWeights.length).toBe(1 + 2 + 1 + 2 + 2 + 2);
    expect(m.nonTrainableWeights.length).toBe(4);
    expect(m.trainableWeights.every((t) => t.requiresGrad)).toBe(true);
    expect(m.nonTrainableWeights.every((t) => !t.requiresGrad)).toBe(true);
  });

  it('frozen layers are untouched by an optimiser step; the others move', () => {
    const m = ck.zoo.smallCnn8({ seed: 2 });
    m.freeze((l, i) => i < 3);
    expect(m.layers.slice(0, 3).every((l) => !l.trainable)).toBe(true);
    expect(m.trainableWeights.length).toBe(2);
    const all = m.weights.map((w) => w.value);
    const before = all.map((t) => t.toArray());
    const opt = new ck.SGD({ lr: 0.1 });
    const x = ck.randomNormal([4, 8, 8, 1], { seed: 3 });
    ck.tidy(() => ck.sum(ck.square(m.apply(x, { training: true }))).backward());
    opt.step(all); // every weight offered: the frozen ones have no gradient
    const after = all.map((t) => t.toArray());
    m.weights.forEach((w, i) => {
      if (w.name.startsWith('conv1')) expect(after[i], w.name).toEqual(before[i]);
      if (w.name.startsWith('output')) expect(after[i], w.name).not.toEqual(before[i]);
    });
    m.unfreeze();
    expect(m.trainableWeights.length).toBe(6);
  });

  it('popLayer and replaceHead keep the body and its weights', () => {
    const m = ck.zoo.smallCnn8({ seed: 1 });
    const body = m.getLayer('conv1').weights[0].value;
    const removed = m.popLayer();
    expect(removed.name).toBe('output');
    expect(m.outputShape).toEqual([128]);
    m.replaceHead([L.dense({ units: 16, activation: 'relu' }), L.dense({ units: 3 })], { remove: 0 });
    expect(m.outputShape).toEqual([3]);
    expect(m.getLayer('conv1').weights[0].value).toBe(body);
    m.replaceHead(L.dense({ name: 'cls', units: 5 }), { remove: 2 });
    expect(m.outputShape).toEqual([5]);
    expect(m.layers[m.layers.length - 1].name).toBe('cls');
    expect(m.apply(ck.zeros([2, 8, 8, 1])).shape).toEqual([2, 5]);
  });

  it('regularizationLoss sums the layer penalties (null when there are none)', () => {
    const plain = ck.sequential([L.dense({ units: 2 })], { inputShape: [3] });
    expect(plain.regularizationLoss()).toBeNull();
    const m = ck.sequential(
      [L.dense({ units: 2, kernelRegularizer: { l2: 0.5 }, seed: 1 }), L.dense({ units: 1, kernelRegularizer: { l1: 0.25 }, activityRegularizer: { l2: 1 }, seed: 2 })],
      { inputShape: [3] },
    );
    const y = m.apply(ck.ones([2, 3]), { training: true });
    const [k1, , k2] = m.weights.map((w) => w.value);
    const want = 0.5 * ck.sum(ck.square(k1)).item() + 0.25 * ck.sum(ck.abs(k2)).item() + ck.sum(ck.square(y)).item();
    expectClose([m.regularizationLoss()!.item()], [want], { atol: 1e-5 });
    m.apply(ck.ones([2, 3]), { training: false }); // inference calls carry no activity penalty
    expectClose([m.regularizationLoss()!.item()], [want - ck.sum(ck.square(y)).item()], { atol: 1e-5 });
  });

  it('dispose frees the weights', () => {
    const before = ck.memory().ts.storages;
    const m = ck.zoo.smallCnn8();
    void m.trainableWeights;
    expect(ck.memory().ts.storages).toBeGreaterThan(before);
    m.dispose();
    expect(ck.memory().ts.storages).toBe(before);
  });
});

describe('summary', () => {
  it('a Keras-style table with params and MACs, and the same as JSON', () => {
    const m = ck.zoo.lenet5();
    const text = m.summaryText();
    expect(text).toContain('Model: "lenet5"');
    expect(text).toMatch(/c1 \(Conv2D\)\s+\[28, 28, 6\]\s+156\s+117,600/);
    expect(text).toContain('Total params: 61,706');
    expect(text).toContain('MACs per example: 416,520');
    const j = m.summaryJSON();
    expect(j).toMatchObject({ model: 'lenet5', input: [32, 32, 1], output: [10], totalParams: 61706, trainableParams: 61706, nonTrainableParams: 0, macs: 416520 });
    expect(j.layers.map((l) => l.type)).toEqual(['Conv2D', 'AveragePooling2D', 'Conv2D', 'AveragePooling2D', 'Conv2D', 'Flatten', 'Dense', 'Dense']);
    expect(j.layers.reduce((s, l) => s + l.params, 0)).toBe(61706);
    expect(j.layers[0].inputs).toBeUndefined();
  });

  it('summary() prints the table as in Keras and TF.js (printFn or console.log); printSummary too', () => {
    const m = ck.zoo.smallCnn8();
    const logged: string[] = [];
    const orig = console.log;
    console.log = (s: string) => logged.push(s);
    let ret: unknown = 'not called';
    try {
      ret = m.summary();
      m.printSummary();
    } finally {
      console.log = orig;
    }
    expect(ret).toBeUndefined();
    expect(logged).toEqual([m.summaryText(), m.summaryText()]);
    expect(logged[0]).toContain('Model: "smallCnn8"');
    const viaPrintFn: string[] = [];
    m.summary({ expand: true, printFn: (t) => viaPrintFn.push(t) });
    expect(viaPrintFn).toEqual([m.summaryText({ expand: true })]);
  });
});

describeOnBackends('a model on each backend', (backend) => {
  it(`forward and weight gradients on ${backend} agree with the ts oracle`, async () => {
    // model, input and cotangent live on ts (readable from every backend; kernels copy them over)
    const { m, x, cot } = on('ts', () => ({
      m: ck.sequential(
        [
          L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }), L.batchNormalization(), L.relu(), L.maxPooling2d(),
          L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }), L.globalAveragePooling2d(), L.dense({ units: 3 }),
        ],
        { inputShape: [10, 10, 2], seed: 7 },
      ),
      x: ck.randomNormal([3, 10, 10, 2], { seed: 1 }),
      cot: ck.randomNormal([3, 3], { seed: 2 }),
    }));
    const run = async (b: string) => {
      const out = on(b, () => {
        for (const p of m.trainableWeights) p.zeroGrad();
        return ck.tidy(() => {
          const o = m.apply(x, { training: true });
          ck.sum(ck.mul(o, cot)).backward();
          return o;
        });
      });
      const y = await read(out);
      out.dispose();
      const grads: number[][] = [];
      for (const p of m.trainableWeights) grads.push(await read(p.grad!));
      return { y, grads };
    };
    const want = await run('ts'); // first: the weights are built on ts
    const got = await run(backend);
    expectClose(got.y, want.y, tolForK(18 * 4));
    got.grads.forEach((g, i) => expectClose(g, want.grads[i], tolForK(3 * 100)));
  });
});

describe('sequential as in Keras and TF.js', () => {
  it('starts empty and is built by add() of a layer with an inputShape', () => {
    const m = ck.sequential();
    expect(() => m.predict(ck.zeros([1, 8, 8, 1]))).toThrow(/has no layers yet; add\(\) a first layer with an inputShape/);
    expect(() => m.add(ck.layers.flatten())).toThrow(/the first layer \('flatten.*'\) needs an inputShape/);
    m.add(ck.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [8, 8, 1] }));
    m.add(ck.layers.flatten());
    m.add(ck.layers.dense({ units: 3 }));
    expect(m.inputShape).toEqual([8, 8, 1]);
    expect(m.outputShape).toEqual([3]);
    expect(m.predict(ck.zeros([2, 8, 8, 1])).shape).toEqual([2, 3]);
    expect(() => m.add(null as never)).toThrow(/add: expected a layer .*received null/);
  });

  it('add() keeps seeding layers like the array form, so both build the same weights', () => {
    const L = ck.layers;
    const a = ck.sequential([L.dense({ units: 4, inputShape: [3] }), L.dense({ units: 2 })], { seed: 9 });
    const b = ck.sequential([], { seed: 9 });
    b.add(L.dense({ units: 4, inputShape: [3] }));
    b.add(L.dense({ units: 2 }));
    const wa = a.weights.map((w) => w.value.toArray());
    const wb = b.weights.map((w) => w.value.toArray());
    expect(wb).toEqual(wa);
  });

  it("accepts TF.js's sequential({ layers, name })", () => {
    const m = ck.sequential({ layers: [ck.layers.dense({ units: 2, inputShape: [5] })], name: 'tfjs_style' });
    expect(m.name).toBe('tfjs_style');
    expect(m.outputShape).toEqual([2]);
    expect(() => ck.sequential(ck.layers.dense({ units: 2 }) as never)).toThrow(/a single layer \(wrap it in an array\)/);
  });

  it('inputs are cast to the model dtype (Keras autocast): a float32 model given float64 returns float32, a float64 model float64', () => {
    const m32 = ck.sequential([ck.layers.dense({ units: 2, inputShape: [3] })], { seed: 1 });
    const x64 = ck.tensor(new Float64Array([1, 2, 3]), [1, 3]);
    const y = m32.predict(x64);
    expect(y.dtype).toBe('float32');
    const expected = m32.predict(ck.tensor([[1, 2, 3]]));
    expect(y.toArray()).toEqual(expected.toArray());
    const m64 = ck.sequential([ck.layers.dense({ units: 2, inputShape: [3] })], { seed: 1, dtype: 'float64' });
    expect(m64.predict(ck.tensor([[1, 2, 3]])).dtype).toBe('float64');
  });
});
