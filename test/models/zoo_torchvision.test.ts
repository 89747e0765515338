/**
 * The zoo's MobileNetV2, MobileNetV3-Small and SqueezeNet 1.1 compute torchvision's function:
 * scripts/zoo_reference.py loads weights computed from a formula into torchvision's models
 * and records their logits (test/fixtures/zoo_reference.json, section `forward`, with the
 * list of state_dict tensors). Here the same formula gives the same float32 tensors, copied
 * into the zoo model (OIHW -> HWIO, depthwise [C, 1, KH, KW] -> [KH, KW, C, 1], Linear
 * [out, in] -> [in, out]); every state_dict tensor must map to exactly one convkit weight
 * and the logits must agree within 1e-4 of the largest |logit|, on ts and on wasm (and on
 * webgpu for the reduced-width ones). Then each
 * model runs forward and one training step on wasm without falling back to ts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { layers as L, zoo } from '../../src/index.js';
import { openWebGPU } from '../util/webgpu.js';

interface Forward {
  input: [number, number, number];
  batch: number;
  tensors: [string, number[]][];
  logits: number[][];
}
const FWD = (JSON.parse(readFileSync(new URL('../fixtures/zoo_reference.json', import.meta.url), 'utf8')) as { forward: Record<string, Forward> }).forward;

const BUILD: Record<string, (o: ck.zoo.ZooOpts) => ck.Model> = {
  mobilenetV2: (o) => zoo.mobilenetV2(o),
  mobilenetV2_w050: (o) => zoo.mobilenetV2({ ...o, widthMultiplier: 0.5 }),
  mobilenetV3Small: (o) => zoo.mobilenetV3Small(o),
  mobilenetV3Small_w075: (o) => zoo.mobilenetV3Small({ ...o, alpha: 0.75 }),
  squeezenet1_1: (o) => zoo.squeezenet1_1(o),
};

// ---- the formula of scripts/zoo_reference.py (det_uniform / det_value)

function fnv1a32(name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(name, 'utf8')) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h;
}

/** n values in [-1, 1): mulberry32's mix of fnv1a32(name) + (k + 1) * 0x6D2B79F5. */
function detUniform(name: string, n: number): Float64Array {
  const out = new Float64Array(n);
  const h = fnv1a32(name);
  for (let k = 0; k < n; k++) {
    const a = (h + Math.imul(k + 1, 0x6d2b79f5)) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1) >>> 0;
    t = (((t + (Math.imul(t ^ (t >>> 7), t | 61) >>> 0)) >>> 0) ^ t) >>> 0;
    out[k] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

function detValue(key: string, shape: number[], isBnWeight: boolean): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const u = detUniform(key, n);
  const suffix = key.slice(key.lastIndexOf('.') + 1);
  const f =
    suffix === 'weight' && isBnWeight ? (v: number) => 1 + 0.25 * v
    : suffix === 'weight' ? ((s) => (v: number) => v * s)(Math.sqrt(6 / (n / shape[0])))
    : suffix === 'bias' || suffix === 'running_mean' ? (v: number) => 0.1 * v
    : suffix === 'running_var' ? (v: number) => 1 + 0.5 * v
    : null;
  if (!f) throw new Error(`no formula for ${key}`);
  return Float32Array.from(u, f);
}

/** Copies the formula's torchvision tensors into the model; returns the torch keys used. */
function loadTorchvisionWeights(m: ck.Model, tensors: [string, number[]][]): string[] {
  const shapes = new Map(tensors);
  const used: string[] = [];
  const put = (w: ck.layers.Weight, key: string, perm: number[] | null, bn = false) => {
    const shape = shapes.get(key);
    if (!shape) throw new Error(`${w.name}: torchvision has no tensor '${key}'`);
    const t = ck.tensor(detValue(key, shape, bn), shape);
    w.value = perm ? ck.keep(ck.transpose(t, perm)) : t;
    if (perm) t.dispose();
    used.push(key);
  };
  for (const l of m.layers) {
    const w = l.weights;
    if (l instanceof L.DepthwiseConv2D) {
      put(w[0], `${l.name}.weight`, [2, 3, 0, 1]);
      if (w[1]) put(w[1], `${l.name}.bias`, null);
    } else if (l instanceof L.Conv2D) {
      put(w[0], `${l.name}.weight`, [2, 3, 1, 0]);
      if (w[1]) put(w[1], `${l.name}.bias`, null);
    } else if (l instanceof L.Dense) {
      put(w[0], `${l.name}.weight`, [1, 0]);
      put(w[1], `${l.name}.bias`, null);
    } else if (l instanceof L.BatchNormalization) {
      ['weight', 'bias', 'running_mean', 'running_var'].forEach((s, i) => put(w[i], `${l.name}.${s}`, null, s === 'weight'));
    } else {
      expect(w, `${l.name} (${l.className}) has weights the mapping does not know`).toEqual([]);
    }
  }
  return used;
}

function nhwcInput(f: Forward): ck.Tensor {
  const [h, w, c] = f.input;
  const nchw = ck.tensor(Float32Array.from(detUniform('input', f.batch * c * h * w)), [f.batch, c, h, w]);
  return ck.transpose(nchw, [0, 2, 3, 1]);
}

describe('detUniform is the script\'s generator', () => {
  it('spreads over [-1, 1) and depends on the name', () => {
    const a = detUniform('features.0.0.weight', 4000);
    const b = detUniform('features.0.1.weight', 4000);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...a)).toBeLessThan(1);
    expect(Math.abs(a.reduce((s, v) => s + v, 0) / a.length)).toBeLessThan(0.05);
    expect(a[0]).not.toBe(b[0]);
  });
});

// webgpu (SwiftShader without a GPU) runs the reduced-width ones
const ON: Record<string, string[]> = {
  ts: Object.keys(BUILD),
  wasm: Object.keys(BUILD),
  webgpu: ['mobilenetV2_w050', 'mobilenetV3Small_w075', 'squeezenet1_1'],
};

for (const backend of Object.keys(ON)) {
  describe(`zoo models equal torchvision given the same weights [${backend}]`, () => {
    let skipped: string | null = null;
    beforeAll(async () => {
      if (backend === 'webgpu') {
        const s = await openWebGPU(); // a failure when CONVKIT_REQUIRE_WEBGPU=1
        if (!s.ok) skipped = s.reason;
      }
      if (!skipped) await ck.setBackend(backend);
    });
    beforeEach((ctx) => {
      if (skipped) ctx.skip(`${backend}: ${skipped}`);
    });
    afterAll(async () => {
      await ck.setBackend('ts');
    });
    for (const name of ON[backend]) {
      it(`${name}: logits within 1e-4 of the largest |logit|`, async () => {
        const f = FWD[name];
        expect(f, `forward.${name} in the fixture`).toBeDefined();
        const m = BUILD[name]({ classes: 10, inputShape: f.input, seed: 0 });
        const used = loadTorchvisionWeights(m, f.tensors);
        // one convkit weight per state_dict tensor (num_batches_tracked left out), each used once
        expect([...used].sort()).toEqual(f.tensors.map(([k]) => k).sort());
        const x = nhwcInput(f);
        const y = m.predict(x);
        expect(y.shape).toEqual([f.batch, 10]);
        const got = Array.from(await y.data());
        const want = f.logits.flat();
        const scale = Math.max(...want.map(Math.abs));
        const worst = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
        expect(worst, `max |convkit - torchvision| (largest |logit| ${scale})`).toBeLessThanOrEqual(1e-4 * scale);
        // a wrong weight mapping would not pass: a permuted input changes the logits far beyond the tolerance
        const off = Array.from(await m.predict(ck.reverse(x, 1)).data());
        expect(Math.max(...off.map((v, i) => Math.abs(v - want[i])))).toBeGreaterThan(1e-2 * scale);
        m.dispose();
      });
    }
  });
}

describe('mobilenetV2, mobilenetV3Small, squeezenet1_1 train on wasm', () => {
  beforeAll(async () => {
    await ck.setBackend('wasm');
  });
  afterAll(async () => {
    await ck.setBackend('ts');
  });
  for (const name of ['mobilenetV2', 'mobilenetV3Small', 'squeezenet1_1']) {
    it(`${name}: forward and one SGD step at 32x32 without falling back to ts`, async () => {
      const m = zoo.get(name, { classes: 4, inputShape: [32, 32, 3], seed: 5 });
      m.compile({ optimizer: { name: 'sgd', lr: 0.01 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true } });
      const x = ck.randomNormal([2, 32, 32, 3], { seed: 1 });
      const y = ck.tensor([1, 3], [2], 'int32');
      ck.clearFallbacks();
      const p = m.predict(x);
      expect(p.shape).toEqual([2, 4]);
      expect(Array.from(await p.data()).every(Number.isFinite)).toBe(true);
      const before = m.trainableWeights.map((w) => Array.from(w.dataSync()));
      const h = await m.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0, seed: 1, shuffle: false });
      expect(Number.isFinite(h.history.loss[0])).toBe(true);
      const after = m.trainableWeights.map((w) => Array.from(w.dataSync()));
      // every convolution and dense kernel took a step (a projection BN's beta may not: the next
      // convolution + training-mode BN removes a per-channel constant, so its gradient is ~0)
      const names = m.trainableWeights.map((w) => w.name);
      const still = names.filter((n, i) => /kernel$/.test(n) && after[i].every((v, j) => v === before[i][j]));
      expect(names.filter((n) => /kernel$/.test(n)).length).toBeGreaterThan(20);
      expect(still).toEqual([]);
      expect(ck.getFallbacks()).toEqual([]);
      m.dispose();
    });
  }
});
