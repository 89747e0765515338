/**
 * Inference fusion (src/layers/fusion.ts): `predict` runs each convolution with the batch
 * norm and activation after it as one FusedConv2D kernel. Checked: the same results as
 * the unfused layers (apply with training false while gradients are recorded), which
 * chains fuse and which must not, the folded weights following every change of the
 * weights, and no storage kept after the model is disposed.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { layers as L } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../util/close.js';
import { describeOnCpuBackends } from '../util/backends.js';

/** Kernel calls per name while `counting` (wrapKernels lasts for the process: it only counts when asked). */
const calls = new Map<string, number>();
let counting = false;
for (const backend of ['ts', 'wasm']) {
  ck.wrapKernels(backend, (name, run) => (...a) => {
    if (counting) calls.set(name, (calls.get(name) ?? 0) + 1);
    return run(...a);
  });
}
function kernelsOf(fn: () => void): Map<string, number> {
  calls.clear();
  counting = true;
  try {
    fn();
  } finally {
    counting = false;
  }
  return new Map(calls);
}

/** Batch norms with statistics and affine weights away from the identity. */
function randomiseBatchNorms(m: ck.Model, seed: number): void {
  for (const l of m.layers) {
    if (!(l instanceof L.BatchNormalization)) continue;
    for (const w of l.weights) {
      const v = w.value;
      const positive = /variance|gamma/.test(w.name);
      v.assign(ck.noGrad(() => ck.tidy(() => (positive ? ck.add(ck.randomUniform(v.shape, { seed: seed++ }), 0.5) : ck.randomNormal(v.shape, { seed: seed++ })))));
    }
  }
}

function build(): ck.Model {
  const x = ck.input([9, 8, 3]);
  let h = L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, seed: 1 }).apply(x) as ck.SymbolicTensor;
  h = L.batchNormalization({ seed: 2 }).apply(h) as ck.SymbolicTensor;
  h = L.activation({ activation: 'relu6' }).apply(h) as ck.SymbolicTensor; // chain 1: conv + BN + relu6
  h = L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', useBias: false, depthMultiplier: 2, seed: 3 }).apply(h) as ck.SymbolicTensor;
  h = L.batchNormalization({ seed: 4 }).apply(h) as ck.SymbolicTensor;
  h = L.relu({ maxValue: 6 }).apply(h) as ck.SymbolicTensor; // chain 2: depthwise + BN + ReLU(6)
  h = L.conv2d({ filters: 12, kernelSize: 1, seed: 5 }).apply(h) as ck.SymbolicTensor;
  h = L.leakyRelu({ alpha: 0.2 }).apply(h) as ck.SymbolicTensor; // chain 3: conv with bias + leaky relu
  const a = L.conv2d({ filters: 12, kernelSize: 3, padding: 'same', useBias: false, seed: 6 }).apply(h) as ck.SymbolicTensor;
  const bnA = L.batchNormalization({ seed: 7 }).apply(a) as ck.SymbolicTensor; // chain 4: conv + BN, no activation
  const read2 = L.conv2d({ filters: 12, kernelSize: 1, seed: 8 }).apply(bnA) as ck.SymbolicTensor; // read twice: stays as it is
  const r1 = L.activation({ activation: 'relu' }).apply(read2) as ck.SymbolicTensor;
  const sum = L.add().apply([r1, read2]) as ck.SymbolicTensor;
  const c = L.conv2d({ filters: 4, kernelSize: 1, useBias: false, seed: 9 }).apply(sum) as ck.SymbolicTensor;
  const out2 = L.batchNormalization({ seed: 10 }).apply(c) as ck.SymbolicTensor; // chain 5: conv + BN (output of the model)
  const act = L.activation({ activation: 'sigmoid' }).apply(out2) as ck.SymbolicTensor; // not fusable
  const m = ck.model({ inputs: x, outputs: [act, out2] });
  randomiseBatchNorms(m, 100);
  return m;
}

describeOnCpuBackends('inference fusion', (backend) => {

    it('predict equals the unfused layers, running FusedConv2D for each chain and no batch norm', () => {
      const m = build();
      const x = ck.randomNormal([2, 9, 8, 3], { seed: 11 });
      const unfused = ck.tidy(() => m.applyAll(x, { training: false }).map((t) => ck.keep(t)));
      const k = kernelsOf(() => ck.tidy(() => m.predictAll(x).forEach((t) => t.dataSync())));
      expect(k.get('FusedConv2D'), [...k].join(' ')).toBe(6); // 5 chains + the conv read twice (its bias joins the kernel)
      expect(k.get('BatchNorm') ?? 0).toBe(0);
      expect(k.get('Conv2D') ?? 0).toBe(0);
      const fused = m.predictAll(x);
      for (let i = 0; i < 2; i++) {
        const want = Array.from(unfused[i].dataSync());
        const scale = Math.max(...want.map(Math.abs));
        expectClose(Array.from(fused[i].dataSync()), want, { atol: 2e-6 * scale, rtol: 1e-5 });
      }
    });

    it('the folded weights follow every change of the weights (setting, assigning, a training step)', () => {
      const m = build();
      const x = ck.randomNormal([2, 9, 8, 3], { seed: 12 });
      const check = (what: string) => {
        const want = ck.tidy(() => Array.from(m.applyAll(x, { training: false })[0].dataSync()));
        const got = ck.tidy(() => Array.from(m.predictAll(x)[0].dataSync()));
        expect(got.length, what).toBe(want.length);
        expectClose(got, want, { atol: 1e-5, rtol: 1e-5 });
      };
      check('first call');
      const bn = m.layers.find((l) => l instanceof L.BatchNormalization)!;
      const mean = bn.weights.find((w) => /movingMean/.test(w.name))!;
      mean.value = ck.add(ck.randomNormal(mean.shape as number[], { seed: 13 }), 3);
      check('after setting a moving mean');
      const kernel = m.layers[1].weights[0];
      kernel.value.assign(ck.mul(kernel.value, -2));
      check('after assigning a kernel');
      // a training call updates the moving statistics; a gradient step every trainable weight
      ck.tidy(() => {
        const params = m.trainableWeights;
        const { grads } = ck.valueAndGrad((...ps: Tensor[]) => ck.sum(ck.mul(m.applyAll(x, { training: true })[0], ps.length)))(...params);
        params.forEach((p, i) => p.assign(ck.sub(p, ck.mul(grads[i], 0.5))));
      });
      check('after a training step');
    });

    it('no storage is kept across calls, and none after the model is disposed', () => {
      const live = () => ck.memory()[backend]?.storages ?? 0;
      const x = ck.randomNormal([1, 9, 8, 3], { seed: 14 });
      const before = live();
      const m = build();
      for (const w of m.weights) void w.value; // weights are made on first use
      const built = live();
      for (let i = 0; i < 3; i++) ck.tidy(() => m.predictAll(x).forEach((t) => t.dataSync()));
      const afterCalls = live();
      ck.tidy(() => m.predictAll(x).forEach((t) => t.dataSync()));
      expect(live(), 'a further call keeps nothing more').toBe(afterCalls);
      expect(afterCalls - built, 'the folded filters and biases of the 4 batch-norm chains').toBe(8);
      m.dispose();
      expect(live()).toBe(before);
    });
});

/**
 * A fire module (squeeze, then 1x1 (with swish) and 3x3 expands concatenated) with a pooled branch, then
 * two concatenations that must not fuse: one with a depthwise branch, one whose input is also
 * read elsewhere.
 */
function buildConcats(): ck.Model {
  const x = ck.input([10, 9, 6]);
  let s = L.conv2d({ filters: 8, kernelSize: 1, useBias: false, seed: 1 }).apply(x) as ck.SymbolicTensor;
  s = L.batchNormalization({ seed: 2 }).apply(s) as ck.SymbolicTensor;
  s = L.relu().apply(s) as ck.SymbolicTensor;
  const e1 = L.activation({ activation: 'swish' }).apply(L.conv2d({ filters: 12, kernelSize: 1, seed: 3 }).apply(s)) as ck.SymbolicTensor; // chain: conv + swish
  const e3 = L.conv2d({ filters: 20, kernelSize: 3, padding: 'same', activation: 'relu', seed: 4 }).apply(s) as ck.SymbolicTensor; // the layer's own activation
  const pooled = L.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }).apply(x) as ck.SymbolicTensor;
  const pb = L.batchNormalization({ seed: 6 }).apply(L.conv2d({ filters: 4, kernelSize: 1, useBias: false, seed: 5 }).apply(pooled)) as ck.SymbolicTensor; // conv + BN
  const fire = L.concatenate().apply([e1, e3, pb]) as ck.SymbolicTensor; // fuses: 36 channels
  const d1 = L.relu().apply(L.conv2d({ filters: 6, kernelSize: 3, padding: 'same', seed: 7 }).apply(fire)) as ck.SymbolicTensor;
  const d2 = L.relu().apply(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', seed: 8 }).apply(fire)) as ck.SymbolicTensor;
  const withDepthwise = L.concatenate({ axis: 3 }).apply([d1, d2]) as ck.SymbolicTensor; // does not fuse (depthwise)
  const o = L.conv2d({ filters: 4, kernelSize: 1, activation: 'relu', seed: 9 }).apply(withDepthwise) as ck.SymbolicTensor;
  const readTwice = L.concatenate().apply([o, L.conv2d({ filters: 3, kernelSize: 1, seed: 10 }).apply(o) as ck.SymbolicTensor]) as ck.SymbolicTensor;
  const tail = L.add().apply([o, L.conv2d({ filters: 4, kernelSize: 1, seed: 11 }).apply(readTwice) as ck.SymbolicTensor]) as ck.SymbolicTensor; // o: also read here
  const m = ck.model({ inputs: x, outputs: [tail, fire] });
  randomiseBatchNorms(m, 200);
  return m;
}

describeOnCpuBackends('inference fusion: concatenations of convolutions', (backend) => {
  it('a Concatenate of fused convolutions that nothing else reads runs as one FusedConv2DConcat, with the unfused results', () => {
    const m = buildConcats();
    const x = ck.randomNormal([2, 10, 9, 6], { seed: 21 });
    const unfused = ck.tidy(() => m.applyAll(x, { training: false }).map((t) => ck.keep(t)));
    const k = kernelsOf(() => ck.tidy(() => m.predictAll(x).forEach((t) => t.dataSync())));
    expect(k.get('FusedConv2DConcat'), [...k].join(' ')).toBe(1);
    expect(k.get('Concat'), 'the concatenations with a depthwise branch and with an input read twice').toBe(2);
    expect(k.get('BatchNorm') ?? 0).toBe(0);
    expect(k.get('Sigmoid') ?? 0, 'the swish runs in the convolution').toBe(0);
    const fused = m.predictAll(x);
    expect(fused.map((t) => t.shape)).toEqual([[2, 10, 9, 4], [2, 10, 9, 36]]);
    for (let i = 0; i < 2; i++) {
      const want = Array.from(unfused[i].dataSync());
      const scale = Math.max(...want.map(Math.abs));
      expectClose(Array.from(fused[i].dataSync()), want, { atol: 2e-6 * scale, rtol: 1e-5 });
    }
  });

  it('keeps no storage across calls, and none after the model is disposed', () => {
    const live = () => ck.memory()[backend]?.storages ?? 0;
    const x = ck.randomNormal([1, 10, 9, 6], { seed: 22 });
    const before = live();
    const m = buildConcats();
    for (const w of m.weights) void w.value;
    ck.tidy(() => m.predictAll(x).forEach((t) => t.dataSync()));
    const afterCall = live();
    ck.tidy(() => m.predictAll(x).forEach((t) => t.dataSync()));
    expect(live()).toBe(afterCall);
    m.dispose();
    expect(live()).toBe(before);
  });

  it('with a gradient recorded, conv2dConcat runs as separate convolutions and a concat, with the same values', () => {
    const xs = [ck.randomNormal([1, 5, 5, 4], { seed: 23 }), ck.randomNormal([1, 5, 5, 2], { seed: 24 })];
    const ws = [ck.randomNormal([3, 3, 4, 8], { seed: 25 }), ck.randomNormal([1, 1, 2, 4], { seed: 26 })];
    const b = ck.randomNormal([8], { seed: 27 });
    const branches = () => [{ x: xs[0], w: ws[0], options: { padding: 'same' as const, bias: b, activation: 'relu' as const } }, { x: xs[1], w: ws[1], options: { activation: 'hardSwish' as const } }];
    const want = ck.concat([ck.conv2d(xs[0], ws[0], branches()[0].options), ck.conv2d(xs[1], ws[1], branches()[1].options)], -1);
    const k = kernelsOf(() => expectClose(Array.from(ck.conv2dConcat(branches()).dataSync()), Array.from(want.dataSync()), { atol: 1e-6, rtol: 1e-6 }));
    expect(k.get('FusedConv2DConcat')).toBe(1);
    const { grads } = ck.valueAndGrad((w0: Tensor, w1: Tensor) => ck.sum(ck.square(ck.conv2dConcat([{ ...branches()[0], w: w0 }, { ...branches()[1], w: w1 }]))))(...ws);
    const { grads: wantGrads } = ck.valueAndGrad((w0: Tensor, w1: Tensor) => ck.sum(ck.square(ck.concat([ck.conv2d(xs[0], w0, branches()[0].options), ck.conv2d(xs[1], w1, branches()[1].options)], -1))))(...ws);
    for (let i = 0; i < 2; i++) expectClose(Array.from(grads[i].dataSync()), Array.from(wantGrads[i].dataSync()), { atol: 1e-5, rtol: 1e-5 });
    expect(() => ck.conv2dConcat([{ x: xs[0], w: ws[0], options: { padding: 'same' } }, { x: xs[1], w: ws[1], options: { strides: 2 } }])).toThrow(/branch 1 gives an output of shape \[1, 3, 3, 4\]/);
    expect(() => ck.conv2dConcat([])).toThrow(/branches must be a non-empty array/);
  });
});

describe('inference fusion: what does not fuse', () => {
  it('training calls and calls that record gradients run the layers as they are', () => {
    const m = build();
    const x = ck.randomNormal([2, 9, 8, 3], { seed: 15 });
    const training = kernelsOf(() => ck.tidy(() => m.applyAll(x, { training: true })));
    expect(training.get('BatchNorm') ?? training.get('BatchNormStats') ?? 0, [...training].join(' ')).toBeGreaterThan(0);
    const recorded = kernelsOf(() => ck.tidy(() => m.applyAll(x, { training: false })));
    expect(recorded.get('BatchNorm'), [...recorded].join(' ')).toBe(4);
  });
  it('a frozen model fine-tuned with fit still trains its head (fusion only in predict)', async () => {
    const x = ck.input([6, 6, 2]);
    const c = L.conv2d({ filters: 4, kernelSize: 3, useBias: false, seed: 1 }).apply(x) as ck.SymbolicTensor;
    const b = L.batchNormalization({ seed: 2 }).apply(c) as ck.SymbolicTensor;
    const r = L.activation({ activation: 'relu' }).apply(b) as ck.SymbolicTensor;
    const f = L.flatten().apply(r) as ck.SymbolicTensor;
    const y = L.dense({ units: 2, seed: 3 }).apply(f) as ck.SymbolicTensor;
    const m = ck.model({ inputs: x, outputs: y });
    m.layers[1].trainable = false;
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const xs = ck.randomNormal([8, 6, 6, 2], { seed: 4 }), ys = ck.randomNormal([8, 2], { seed: 5 });
    const before = (await m.evaluate(xs, ys)).loss;
    await m.fit(xs, ys, { epochs: 5, batchSize: 8, verbose: 0 });
    const after = (await m.evaluate(xs, ys)).loss;
    expect(after).toBeLessThan(before);
  });
});

/**
 * Training fusion (TrainingFusion in src/layers/fusion.ts): in training, a batch norm whose
 * output only a ReLU reads runs as batchNorm with activation 'relu'. The reference is the
 * same graph with LeakyReLU(alpha 0) in place of each ReLU, which computes the same
 * function but never fuses.
 */
function trainingGraph(relu: () => ck.layers.Layer): ck.Model {
  const x = ck.input([6, 5, 3]);
  let h = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, seed: 1 }).apply(x) as ck.SymbolicTensor;
  h = L.batchNormalization({ seed: 2 }).apply(h) as ck.SymbolicTensor;
  h = relu().apply(h) as ck.SymbolicTensor; // fused
  h = L.conv2d({ filters: 5, kernelSize: 3, padding: 'same', seed: 3 }).apply(h) as ck.SymbolicTensor;
  const bn2 = L.batchNormalization({ seed: 4 }).apply(h) as ck.SymbolicTensor;
  const r2 = relu().apply(bn2) as ck.SymbolicTensor; // not fused: bn2 is also read by the add
  const sum = L.add().apply([r2, bn2]) as ck.SymbolicTensor;
  const bn3 = L.batchNormalization({ seed: 5 }).apply(sum) as ck.SymbolicTensor;
  const r3 = relu().apply(bn3) as ck.SymbolicTensor; // fused
  const bn4 = L.batchNormalization({ seed: 6 }).apply(r3) as ck.SymbolicTensor;
  const r4 = relu().apply(bn4) as ck.SymbolicTensor; // not fused: bn4 is an output of the model
  const f = L.flatten().apply(r4) as ck.SymbolicTensor;
  const y = L.dense({ units: 3, seed: 7 }).apply(f) as ck.SymbolicTensor;
  const m = ck.model({ inputs: x, outputs: [y, bn4] });
  randomiseBatchNorms(m, 200);
  return m;
}

describeOnCpuBackends('training fusion', () => {
  it('batch norm + ReLU: the same outputs, gradients and moving statistics as unfused, with one Relu kernel per unfused ReLU', () => {
    for (const relu of [() => L.relu(), () => L.activation({ activation: 'relu' })]) {
      const fused = trainingGraph(relu), plain = trainingGraph(() => L.leakyRelu({ alpha: 0 }));
      const x = ck.randomNormal([4, 6, 5, 3], { seed: 31 });
      const run = (m: ck.Model) => ck.tidy(() => {
        const params = m.trainableWeights;
        const { value, grads } = ck.valueAndGrad((...ps: Tensor[]) => {
          const [y, b] = m.applyAll(x, { training: true });
          return ck.add(ck.sum(ck.mul(y, ck.randomNormal(y.shape, { seed: 32 }))), ck.mul(ck.sum(b), ps.length * 0.1));
        })(...params);
        const moving = m.weights.filter((w) => /moving/.test(w.name)).map((w) => Array.from(w.value.dataSync()));
        return { value: value.dataSync()[0], grads: grads.map((g) => Array.from(g.dataSync())), moving };
      });
      const want = run(plain);
      let got!: ReturnType<typeof run>;
      const k = kernelsOf(() => { got = run(fused); });
      expect(k.get('Relu'), [...k].join(' ')).toBe(2); // r2 and r4 run as they are
      expect(k.get('ReluGrad') ?? 0).toBe(2);
      expect(k.get('BatchNorm')).toBe(4);
      expect(got.value).toBeCloseTo(want.value, 10);
      got.grads.forEach((g, i) => expectClose(g, want.grads[i], { atol: 0, rtol: 0 }));
      got.moving.forEach((g, i) => expectClose(g, want.moving[i], { atol: 0, rtol: 0 }));
      fused.dispose();
      plain.dispose();
    }
  });
  it('frozen batch norms (trainable false: their moving statistics, the inference kernel) fuse too, with the same gradients', () => {
    const fused = trainingGraph(() => L.relu()), plain = trainingGraph(() => L.leakyRelu({ alpha: 0 }));
    for (const m of [fused, plain]) for (const l of m.layers) if (l instanceof L.BatchNormalization) l.trainable = false;
    const x = ck.randomNormal([3, 6, 5, 3], { seed: 34 });
    const grads = (m: ck.Model) => ck.tidy(() => {
      const { grads: g } = ck.valueAndGrad((...ps: Tensor[]) => ck.mul(ck.sum(m.applyAll(x, { training: true })[0]), ps.length))(...m.trainableWeights);
      return g.map((t) => Array.from(t.dataSync()));
    });
    const want = grads(plain);
    let got!: number[][];
    const k = kernelsOf(() => { got = grads(fused); });
    expect(k.get('Relu'), [...k].join(' ')).toBe(2);
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => expectClose(g, want[i], { atol: 0, rtol: 0 }));
    fused.dispose();
    plain.dispose();
  });
  it('not in inference, nor for a ReLU with maxValue or an activity regularizer', () => {
    const x = ck.randomNormal([2, 6, 5, 3], { seed: 33 });
    const count = (relu: () => ck.layers.Layer, training: boolean) => {
      const m = trainingGraph(relu);
      const k = kernelsOf(() => ck.tidy(() => m.applyAll(x, { training })));
      m.dispose();
      return k.get('Relu') ?? 0;
    };
    expect(count(() => L.relu(), false)).toBe(4);
    expect(count(() => L.relu({ maxValue: 6 }), true)).toBe(4);
    expect(count(() => L.relu({ activityRegularizer: { l2: 0.01 } }), true)).toBe(4);
    expect(count(() => L.relu(), true)).toBe(2);
  });
});
