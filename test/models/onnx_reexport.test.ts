/**
 * Issue 15 part 3, "an imported model exports again to an equivalent file": every fixture in
 * test/fixtures/onnx is imported with ck.loadOnnx, exported again with ck.encodeOnnx (both
 * input layouts), run in onnxruntime-web (wasm) and compared with the imported model's
 * predict (within 1e-4 of max |output|), the NCHW file also against PyTorch's stored output
 * for PyTorch's stored input; the exported file imported once more predicts the same. Also small models built from each layer class that the importer introduces
 * (Permute, Arithmetic, Where, MathFunction, Slice, Pad, Reduce, Resizing,
 * InstanceNormalization, MaxPooling3D, AveragePooling3D), exported in both layouts, with
 * their inputs reaching them channels-first and channels-last in the ONNX interior.
 * CONVKIT_ONNX_EXPORT_DIR also writes the files (scripts/onnx/check_exported.py checks them).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { EXPORTERS } from '../../src/models/onnx/export_layers.js';
import { registeredLayerClassNames } from '../../src/layers/builtin.js';
import { compareToBar, readFixture, readOnnxBytes, toChannelsLast } from '../util/onnx_fixtures.js';
import { rand, relDiff, runOrt, toChannelsFirst } from '../util/onnx_ort.js';

const L = ck.layers;
const DIR = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));
const NAMES = readdirSync(DIR).filter((f) => f.endsWith('.onnx')).map((f) => f.slice(0, -'.onnx'.length)).sort();
const outDir = process.env.CONVKIT_ONNX_EXPORT_DIR;
const TOL = 1e-4;

beforeAll(() => {
  if (outDir) mkdirSync(outDir, { recursive: true });
});

/** The fixture's own input (channels-last), or deterministic random values for a file without one. */
function inputOf(name: string, m: ck.Model): { data: Float32Array; shape: number[] } {
  const fx = readFixture(DIR, name) as Partial<ReturnType<typeof readFixture>>;
  if (Array.isArray(fx.input) && Array.isArray(fx.inputShape)) return toChannelsLast(fx.input, fx.inputShape);
  const shape = [2, ...m.inputs[0].shape];
  return { data: rand(shape.reduce((a, b) => a * b, 1), 11), shape };
}

/**
 * Export `m` in `layout`, run it in onnxruntime-web on `x` (channels-last) and compare every
 * output with convkit's; returns the exported bytes.
 */
async function checkOrt(m: ck.Model, x: { data: Float32Array; shape: number[] }, layout: 'NHWC' | 'NCHW', tag: string): Promise<Uint8Array> {
  const bytes = ck.encodeOnnx(m, { inputLayout: layout });
  if (outDir) writeFileSync(join(outDir, `${tag}_${layout}.onnx`), bytes);
  const wants = ck.tidy(() => m.predictAll(ck.tensor(x.data, x.shape)).map((t) => ({ shape: [...t.shape], data: Float32Array.from(t.dataSync() as ArrayLike<number>) })));
  const feed = layout === 'NCHW' ? toChannelsFirst(x.data, x.shape) : x;
  const gots = await runOrt(bytes, feed);
  expect(gots.length, `${tag} ${layout}: outputs`).toBe(wants.length);
  wants.forEach((w, k) => {
    const want = layout === 'NCHW' ? toChannelsFirst(w.data, w.shape) : w;
    expect(gots[k].shape, `${tag} ${layout} output ${k}: shape`).toEqual(want.shape);
    const { rel, scale } = relDiff(gots[k].data, want.data);
    expect(scale, `${tag} ${layout} output ${k}: all zeros would prove nothing`).toBeGreaterThan(0);
    expect(rel, `${tag} ${layout} output ${k}: onnxruntime vs convkit`).toBeLessThan(TOL);
  });
  return bytes;
}

describe('imported PyTorch fixtures export again', () => {
  it('the fixture list is the directory (proto_cases included)', () => {
    expect(NAMES.length).toBeGreaterThanOrEqual(17);
    expect(NAMES).toContain('proto_cases');
  });
  for (const name of NAMES) {
    it(`${name}: encodeOnnx(loadOnnx(file)) runs in onnxruntime-web as the imported model predicts, and imports again to the same`, async () => {
      const m = ck.loadOnnx(readOnnxBytes(DIR, name));
      const x = inputOf(name, m);
      const want = ck.tidy(() => Float32Array.from(m.predict(ck.tensor(x.data, x.shape)).dataSync() as ArrayLike<number>));
      if (m instanceof ck.OnnxGraphModel) {
        // A graph-mode import (crnn_small's LSTM and GRU) has no convkit layers to export: toOnnx() gives its graph back.
        expect(() => ck.encodeOnnx(m)).toThrow(/toOnnx\(\)/);
        const fx = readFixture(DIR, name);
        const [got] = await runOrt(m.toOnnx(), { data: Float32Array.from(fx.input), shape: fx.inputShape });
        expect(compareToBar(got.data, fx.output).worst, `${name}: toOnnx() in onnxruntime vs PyTorch`).toBeLessThanOrEqual(compareToBar(got.data, fx.output).bar);
        return;
      }
      let nhwc: Uint8Array | null = null;
      for (const layout of ['NHWC', 'NCHW'] as const) {
        const b = await checkOrt(m, x, layout, `reexport_${name}`);
        if (layout === 'NHWC') nhwc = b;
        const fx = readFixture(DIR, name) as Partial<ReturnType<typeof readFixture>>;
        if (layout === 'NCHW' && Array.isArray(fx.input) && Array.isArray(fx.output) && fx.inputShape && fx.outputShape) {
          // The NCHW file takes PyTorch's own input and gives PyTorch's stored output.
          const [got] = await runOrt(b, { data: Float32Array.from(fx.input), shape: fx.inputShape });
          expect(got.shape, `${name}: NCHW re-export output shape vs PyTorch`).toEqual(fx.outputShape);
          const { worst, bar } = compareToBar(got.data, fx.output);
          expect(worst, `${name}: NCHW re-export in onnxruntime vs PyTorch's output`).toBeLessThanOrEqual(bar);
        }
      }
      const again = ck.loadOnnx(nhwc!);
      const got = ck.tidy(() => Float32Array.from(again.predict(ck.tensor(x.data, x.shape)).dataSync() as ArrayLike<number>));
      expect(relDiff(got, want).rel, `${name}: loadOnnx(encodeOnnx(imported)) vs imported`).toBeLessThan(TOL);
    });
  }
});

/** Random values for every weight (constants away from 0 so that div / pow / comparisons mean something). */
function randomiseWeights(m: ck.Model, seed = 5): void {
  let k = seed;
  for (const w of m.weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const r = rand(n, k++);
    if (/gamma$/.test(w.name)) w.value = ck.tensor(r.map((v) => 1 + 0.3 * v), [...w.shape]);
    else if (/constant$/.test(w.name)) w.value = ck.tensor(r.map((v) => (v >= 0 ? 0.5 + v : v - 0.5)), [...w.shape]);
    else w.value = ck.tensor(r.map((v) => 0.3 * v), [...w.shape]);
  }
}

/**
 * The new layers on a value that reaches them channels-first in the ONNX interior (after a
 * convolution) and on one that reaches them channels-last (after an identity Reshape).
 */
function branches(x: ck.SymbolicTensor, build: (v: ck.SymbolicTensor, tag: string) => ck.SymbolicTensor[]): ck.SymbolicTensor[] {
  const s = x.shape;
  const conv = new L.Conv2D({ name: 'conv', filters: s[s.length - 1], kernelSize: 1, seed: 1 });
  const cfIn = s.length === 3 ? conv.apply(x) : new L.Conv1D({ name: 'conv1d', filters: s[s.length - 1], kernelSize: 1, seed: 1 }).apply(x);
  const clIn = new L.Reshape({ name: 'keep_cl', targetShape: [...s] }).apply(cfIn);
  return [...build(cfIn, 'cf'), ...build(clIn, 'cl')];
}

function elementwiseModel(): ck.Model {
  const x = ck.input([5, 4, 3], { name: 'img' });
  const outs = branches(x, (v, t) => {
    const other = new L.Activation({ name: `${t}_tanh`, activation: 'tanh' }).apply(v);
    const res: ck.SymbolicTensor[] = [];
    for (const op of ['add', 'sub', 'mul', 'div', 'max', 'min'] as const) res.push(new L.Arithmetic({ name: `${t}_${op}2`, op }).apply([v, other]));
    const pos = new L.MathFunction({ name: `${t}_exp`, fn: 'exp' }).apply(v);
    res.push(new L.Arithmetic({ name: `${t}_pow`, op: 'pow', constantShape: [3] }).apply(pos));
    res.push(new L.Arithmetic({ name: `${t}_cdiv`, op: 'div', constantShape: [4, 3], constantFirst: true }).apply(pos));
    res.push(new L.Arithmetic({ name: `${t}_csub`, op: 'sub', constantShape: [5, 1, 3] }).apply(v));
    res.push(new L.Arithmetic({ name: `${t}_cmax`, op: 'max', constantShape: [5, 4, 1] }).apply(v));
    for (const op of ['greater', 'less', 'equal', 'greaterEqual', 'lessEqual'] as const) {
      res.push(new L.Arithmetic({ name: `${t}_${op}`, op }).apply([v, op === 'equal' ? v : other]));
      res.push(new L.Arithmetic({ name: `${t}_c${op}`, op, constantShape: [1, 4, 1], constantFirst: op === 'less' }).apply(v));
    }
    const cond = new L.Arithmetic({ name: `${t}_cond`, op: 'greater' }).apply([v, other]);
    res.push(new L.Where({ name: `${t}_where` }).apply([cond, v, other]));
    res.push(new L.Where({ name: `${t}_where_a`, constantShape: [4, 3], constantAt: 'a' }).apply([v, other])); // v itself as the condition
    res.push(new L.Where({ name: `${t}_where_b`, constantShape: [3] }).apply([cond, v]));
    for (const fn of ['sqrt', 'log', 'reciprocal'] as const) res.push(new L.MathFunction({ name: `${t}_${fn}`, fn }).apply(pos));
    for (const fn of ['neg', 'abs', 'exp', 'erf'] as const) res.push(new L.MathFunction({ name: `${t}_${fn}_`, fn }).apply(v));
    res.push(new L.MathFunction({ name: `${t}_clip`, fn: 'clip', min: -0.2, max: 0.3 }).apply(v));
    res.push(new L.MathFunction({ name: `${t}_clip_lo`, fn: 'clip', min: -0.1 }).apply(v));
    res.push(new L.MathFunction({ name: `${t}_clip_hi`, fn: 'clip', max: 0.1 }).apply(v));
    return [new L.Concatenate({ name: `${t}_all` }).apply(res)];
  });
  // rank 2 (never channels-first): a constant and a comparison after a Dense
  const d = new L.Dense({ name: 'fc', units: 6, seed: 2 }).apply(new L.Flatten({ name: 'flat' }).apply(x));
  outs.push(new L.Arithmetic({ name: 'fc_add', op: 'add', constantShape: [6] }).apply(d));
  outs.push(new L.Arithmetic({ name: 'fc_ge', op: 'greaterEqual', constantShape: [] }).apply(d));
  return ck.model({ inputs: x, outputs: outs, name: 'elementwise_layers' });
}

function shapeModel(): ck.Model {
  const x = ck.input([7, 6, 4], { name: 'img' });
  const outs = branches(x, (v, t) => [
    new L.Permute({ name: `${t}_perm_312`, dims: [3, 1, 2] }).apply(v),
    new L.Permute({ name: `${t}_perm_213`, dims: [2, 1, 3] }).apply(v),
    new L.Flatten({ name: `${t}_perm_flat` }).apply(new L.Permute({ name: `${t}_perm_231`, dims: [2, 3, 1] }).apply(v)),
    new L.Slice({ name: `${t}_slice`, begin: [1, 0, 1], size: [4, -1, 2] }).apply(v),
    new L.Slice({ name: `${t}_slice_step`, begin: [0, 5, 0], size: [3, -1, 4], strides: [2, -2, 1] }).apply(v),
    new L.Slice({ name: `${t}_slice_back`, begin: [6, 0, 3], size: [-1, 6, 3], strides: [-3, 1, -1] }).apply(v),
    new L.Pad({ name: `${t}_pad_c`, paddings: [[1, 2], [0, 1], [0, 0]], value: 0.5 }).apply(v),
    new L.Pad({ name: `${t}_pad_r`, paddings: [[2, 1], [1, 3], [1, 1]], mode: 'reflect' }).apply(v),
    new L.Pad({ name: `${t}_pad_e`, paddings: [[0, 2], [2, 0], [0, 1]], mode: 'edge' }).apply(v),
    new L.Reduce({ name: `${t}_mean_hw`, op: 'mean', axes: [1, 2] }).apply(v),
    new L.Reduce({ name: `${t}_sum_c`, op: 'sum', axes: [-1], keepDims: true }).apply(v),
    new L.Reduce({ name: `${t}_max_h`, op: 'max', axes: [1] }).apply(v),
    new L.Reduce({ name: `${t}_max_c`, op: 'max', axes: [3] }).apply(v),
    new L.Reduce({ name: `${t}_sum_w`, op: 'sum', axes: [2], keepDims: true }).apply(v),
    new L.Reduce({ name: `${t}_mean_hc`, op: 'mean', axes: [1, 3] }).apply(v),
    new L.Resizing({ name: `${t}_near`, height: 10, width: 9, coordinates: 'asymmetric', nearestMode: 'floor' }).apply(v),
    new L.Resizing({ name: `${t}_near_hp`, height: 5, width: 11 }).apply(v),
    new L.Resizing({ name: `${t}_near_ceil`, height: 14, width: 4, coordinates: 'align_corners', nearestMode: 'round_prefer_ceil' }).apply(v),
    new L.Resizing({ name: `${t}_lin`, height: 9, width: 10, interpolation: 'bilinear', coordinates: 'pytorch_half_pixel' }).apply(v),
    new L.Resizing({ name: `${t}_lin_ac`, height: 12, width: 5, interpolation: 'bilinear', coordinates: 'align_corners' }).apply(v),
    new L.Resizing({ name: `${t}_lin_hp`, height: 4, width: 13, interpolation: 'bilinear', coordinates: 'half_pixel' }).apply(v),
    new L.InstanceNormalization({ name: `${t}_inorm`, epsilon: 1e-3 }).apply(v),
  ]);
  return ck.model({ inputs: x, outputs: outs, name: 'shape_layers' });
}

function signalModel(): ck.Model {
  const x = ck.input([9, 3], { name: 'signal' });
  const outs = branches(x, (v, t) => [
    new L.Permute({ name: `${t}_perm`, dims: [2, 1] }).apply(v),
    new L.Slice({ name: `${t}_slice`, begin: [1, 0], size: [4, 2], strides: [2, 1] }).apply(v),
    new L.Pad({ name: `${t}_pad`, paddings: [[2, 1], [0, 0]], mode: 'reflect' }).apply(v),
    new L.Reduce({ name: `${t}_mean`, op: 'mean', axes: [1] }).apply(v),
    new L.InstanceNormalization({ name: `${t}_inorm` }).apply(v),
    new L.Arithmetic({ name: `${t}_mul`, op: 'mul', constantShape: [9, 1] }).apply(v),
  ]);
  return ck.model({ inputs: x, outputs: outs, name: 'signal_layers' });
}

function volumeModel(): ck.Model {
  const x = ck.input([6, 7, 5, 2], { name: 'volume' });
  const c = new L.Conv3D({ name: 'c3d', filters: 3, kernelSize: 1, seed: 1 }).apply(x);
  return ck.model({
    inputs: x,
    outputs: [
      new L.MaxPooling3D({ name: 'mp3', poolSize: [2, 3, 2], strides: [2, 2, 1], padding: 'same' }).apply(c),
      new L.MaxPooling3D({ name: 'mp3_dil', poolSize: 2, strides: 1, dilations: [1, 2, 1] }).apply(c),
      new L.AveragePooling3D({ name: 'ap3', poolSize: 3, strides: 2, padding: 1 }).apply(c),
      new L.AveragePooling3D({ name: 'ap3_inc', poolSize: [2, 2, 3], strides: [1, 2, 2], padding: 'same', countIncludePad: true }).apply(c),
      new L.InstanceNormalization({ name: 'inorm3' }).apply(c),
      new L.Permute({ name: 'perm5', dims: [4, 1, 3, 2] }).apply(c),
    ],
    name: 'volume_layers',
  });
}

describe('the importer\'s layer classes export (onnxruntime-web equals predict), both layouts', () => {
  for (const make of [elementwiseModel, shapeModel, signalModel, volumeModel]) {
    it(`${make.name}: channels-first and channels-last interior values`, async () => {
      const m = make();
      randomiseWeights(m);
      const shape = [2, ...m.inputs[0].shape];
      const x = { data: rand(shape.reduce((a, b) => a * b, 1), 9), shape };
      for (const layout of ['NHWC', 'NCHW'] as const) await checkOrt(m, x, layout, m.name);
      // and back through the importer
      const again = ck.loadOnnx(ck.encodeOnnx(m));
      const want = ck.tidy(() => m.predictAll(ck.tensor(x.data, x.shape)).map((t) => Float32Array.from(t.dataSync() as ArrayLike<number>)));
      const got = ck.tidy(() => again.predictAll(ck.tensor(x.data, x.shape)).map((t) => Float32Array.from(t.dataSync() as ArrayLike<number>)));
      want.forEach((w, k) => expect(relDiff(got[k], w).rel, `${m.name} re-imported, output ${k}`).toBeLessThan(TOL));
    });
  }

  it('every registered built-in layer class has an exporter (or is a container whose graph is walked)', () => {
    const containers = ['Model', 'Sequential', 'Functional', 'ResidualBlock', 'SqueezeExcitation', 'InceptionModule'];
    const missing = registeredLayerClassNames().filter((n) => !Object.prototype.hasOwnProperty.call(EXPORTERS, n) && !containers.includes(n));
    expect(missing).toEqual([]);
  });

  it('a built-in class with no exporter is named as such, a custom one as custom', () => {
    class Twice extends L.Layer {
      static readonly className = 'Twice';
      protected forward(x: ck.Tensor | ck.Tensor[]): ck.Tensor {
        return ck.mul(x as ck.Tensor, 2);
      }
    }
    const x = ck.input([4, 3]);
    const y = new Twice({ name: 'tw' }).apply(new L.Pad({ name: 'pd', paddings: [[1, 1], [0, 0]] }).apply(x));
    const m = ck.model({ inputs: x, outputs: y, name: 'mixed' });
    const saved = EXPORTERS.Pad;
    delete EXPORTERS.Pad;
    try {
      expect(() => ck.encodeOnnx(m)).toThrow(/model 'mixed' holds 2 layer\(s\) that cannot be exported to ONNX: tw \(Twice\) \(custom layer classes: .*\); pd \(Pad\) \(built-in layer classes that have no ONNX exporter yet\)/);
    } finally {
      EXPORTERS.Pad = saved;
    }
    expect(() => ck.encodeOnnx(m)).toThrow(/holds 1 layer\(s\) that cannot be exported to ONNX: tw \(Twice\) \(custom layer classes/);
  });
});
