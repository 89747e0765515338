/**
 * ONNX's own model-level test cases (scripts/make-onnx-model-cases.py writes them into
 * test/fixtures/onnx/conformance/models.{json,bin}; Apache-2.0): PyTorch modules and operators
 * exported at opsets 6 to 12 (legacy broadcasting, PRelu-6, Conv1d/3d, ...), small hand-written
 * models, and the "light" classic CNNs (AlexNet, DenseNet-121, Inception v1/v2, ResNet-50,
 * ShuffleNet, SqueezeNet, VGG-19, ZFNet-512, their weights made by ConstantOfShape). Each runs
 * through loadOnnx(bytes, { channelsLast: false }) with the bytes as a Node Buffer view, as
 * readFileSync gives them, and must match ONNX's expected outputs (rtol 1e-3, atol 1e-5), or be
 * a listed refusal that throws OnnxImportError. The simple models' sequences (SequenceConstruct,
 * SplitToSequence, ConcatFromSequence, ...) run in graph mode. The light models run on wasm (on ts and
 * SwiftShader they take minutes: CONVKIT_ONNX_LIGHT_ALL=1 runs them on every backend).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { decodeOnnxModel } from '../../src/models/onnx/proto.js';
import { CaseStore, runCases, type Stored, type StoredModel } from '../util/onnx_cases.js';
import { useBackend } from '../util/webgpu.js';

const { loadOnnx } = ck;

const DIR = fileURLToPath(new URL('../fixtures/onnx/conformance/', import.meta.url));
interface Case { name: string; kind: string; opset: number; domains: string[]; ops: string[]; model: StoredModel; inputs: Stored[] | 'arange' | null; outputs: Stored[] | null }
const META = JSON.parse(readFileSync(DIR + 'models.json', 'utf8')) as { omitted: string[]; cases: Case[] };
const STORE = new CaseStore(DIR + 'models.bin');

/** Cases convkit refuses, with why: each must throw OnnxImportError, never give a number. */
const REFUSED: Record<string, string> = {
  test_gradient_of_add: "the training domain's Gradient operator",
  test_gradient_of_add_and_mul: "the training domain's Gradient operator",
  test_strnorm_model_monday_casesensintive_lower: 'string tensors (StringNormalizer)',
  test_strnorm_model_monday_casesensintive_nochangecase: 'string tensors (StringNormalizer)',
  test_strnorm_model_monday_casesensintive_upper: 'string tensors (StringNormalizer)',
  test_strnorm_model_monday_empty_output: 'string tensors (StringNormalizer)',
  test_strnorm_model_monday_insensintive_upper_twodim: 'string tensors (StringNormalizer)',
  test_strnorm_model_nostopwords_nochangecase: 'string tensors (StringNormalizer)',
};

/** ONNX's runner feeds a light model arange(n) / n, in float32, reshaped to its input's declared shape (unknown dims 1). */
function arangeInput(bytes: Uint8Array): Tensor {
  const m = decodeOnnxModel(bytes);
  const inits = new Set(m.graph.initializers.map((t) => t.name));
  const x = m.graph.inputs.find((v) => !inits.has(v.name))!;
  const shape = (x.shape ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const n = shape.reduce((a, b) => a * b, 1);
  return ck.tensor(Float32Array.from({ length: n }, (_, i) => Math.fround(i / n)), shape);
}

describe('ONNX sequences', () => {
  it('a sequence is built and read inside a graph, but never handed out as an output or taken as a tensor', async () => {
    const { OnnxBuilder } = await import('../util/onnx_build.js');
    const b = new OnnxBuilder(13);
    const x = b.input('x', [2, 3]);
    const s = b.node('SplitToSequence', [x], { axis: 1, keepdims: 0 });
    b.output(b.node('ConcatFromSequence', [s], { axis: 0, new_axis: 1 }));
    const m = loadOnnx(b.encode(), { channelsLast: false });
    expect(m).toBeInstanceOf(ck.OnnxGraphModel);
    const y = m.predict(ck.tensor([1, 2, 3, 4, 5, 6], [2, 3]));
    expect(y.shape).toEqual([3, 2]);
    expect(Array.from(y.dataSync())).toEqual([1, 4, 2, 5, 3, 6]);
    const out = new OnnxBuilder(13);
    out.output(out.node('SequenceConstruct', [out.input('x', [2])]));
    expect(() => loadOnnx(out.encode(), { name: 'seq.onnx' }).predict(ck.tensor([1, 2]))).toThrow(/seq\.onnx.*graph output '.*' is a sequence of 1 tensors, which convkit does not return/);
    const wrong = new OnnxBuilder(13);
    wrong.output(wrong.node('Relu', [wrong.node('SequenceConstruct', [wrong.input('x', [2])])]));
    expect(() => loadOnnx(wrong.encode(), { name: 'w.onnx' }).predict(ck.tensor([1, 2]))).toThrow(/\(Relu\): input 0 \(X\) is a sequence of 1 tensors; this operator takes a tensor/);
  });
});

describe('ONNX model test cases: the fixture', () => {
  it('holds the four kinds, every refusal among them, and data for every case that is not refused', () => {
    const kinds = new Map<string, number>();
    for (const c of META.cases) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    expect(Object.fromEntries(kinds)).toEqual({ 'pytorch-converted': 80, 'pytorch-operator': 34, simple: 23, light: 9 });
    const names = new Set(META.cases.map((c) => c.name));
    for (const r of Object.keys(REFUSED)) expect(names.has(r), r).toBe(true);
    for (const c of META.cases) if (!c.inputs || !c.outputs) expect(REFUSED[c.name], `${c.name} has no stored data`).toBeDefined();
  });
});

const lightEverywhere = process.env.CONVKIT_ONNX_LIGHT_ALL === '1';
for (const backend of ['ts', 'wasm', 'webgpu']) {
  describe(`ONNX model test cases [${backend}]`, () => {
    const gpu = useBackend(backend);

    it('the PyTorch exports (opsets 6 to 12) and the simple models match ONNX, or are listed refusals', async (ctx) => {
      if (!gpu.ok) ctx.skip(`webgpu: ${gpu.reason}`);
      const cases = META.cases.filter((c) => c.kind !== 'light');
      const { wrong, passed } = await runCases(cases, STORE, REFUSED, { atol: 1e-5, generate: arangeInput });
      expect(wrong).toEqual([]);
      expect(passed).toBe(cases.length - Object.keys(REFUSED).length);
    }, 180_000);

    it.runIf(backend === 'wasm' || lightEverywhere)('the light classic CNNs match ONNX', async (ctx) => {
      if (!gpu.ok) ctx.skip(`webgpu: ${gpu.reason}`);
      const cases = META.cases.filter((c) => c.kind === 'light');
      const { wrong, passed } = await runCases(cases, STORE, REFUSED, { atol: 1e-5, generate: arangeInput });
      expect(wrong).toEqual([]);
      expect(passed).toBe(9);
    }, 600_000);
  });
}

describe('ONNX Einsum', () => {
  /** Einsum by definition: every assignment of the letters (no ellipsis), products summed into the output cell. */
  function naive(eq: string, xs: { v: Float64Array; s: number[] }[]): { v: number[]; s: number[] } {
    const [lhs, rhs] = eq.split('->');
    const terms = lhs.split(','), size = new Map<string, number>();
    terms.forEach((t, j) => t.split('').forEach((c, i) => size.set(c, xs[j].s[i])));
    const letters = [...size.keys()], out = rhs.split('');
    const outShape = out.map((c) => size.get(c)!), res = new Array(outShape.reduce((a, b) => a * b, 1)).fill(0);
    const at = new Map<string, number>();
    const idx = (t: string, s: number[]): number => t.split('').reduce((f, c, i) => f * s[i] + at.get(c)!, 0);
    const walk = (k: number): void => {
      if (k === letters.length) {
        let p = 1;
        terms.forEach((t, j) => (p *= xs[j].v[idx(t, xs[j].s)]));
        res[idx(rhs, outShape)] += p;
        return;
      }
      for (let i = 0; i < size.get(letters[k])!; i++) { at.set(letters[k], i); walk(k + 1); }
    };
    walk(0);
    return { v: res, s: outShape };
  }
  it('matches the definition on matmuls, attention products, diagonals, traces, outer products, three operands and full sums', async () => {
    const { OnnxBuilder, randArray } = await import('../util/onnx_build.js');
    const cases: [string, number[][]][] = [
      ['ij,jk->ik', [[3, 4], [4, 2]]], ['bhqd,bhkd->bhqk', [[2, 2, 3, 4], [2, 2, 5, 4]]], ['ii->i', [[3, 3]]], ['ii->', [[4, 4]]],
      ['i,j->ij', [[3], [2]]], ['abc,cd,de->abe', [[2, 3, 4], [4, 2], [2, 3]]], ['ij->', [[2, 5]]], ['bij,bij->b', [[3, 2, 2], [3, 2, 2]]], ['ijk->kji', [[2, 3, 4]]],
    ];
    for (const [eq, shapes] of cases) {
      const b = new OnnxBuilder(13);
      const names = shapes.map((s, j) => b.input(`x${j}`, s));
      b.output(b.node('Einsum', names, { equation: eq }));
      const xs = shapes.map((s, j) => ({ v: Float64Array.from(randArray(s.reduce((p, q) => p * q, 1), 10 + j)), s }));
      const y = loadOnnx(b.encode(), { channelsLast: false }).predict(xs.length === 1 ? ck.tensor(Float32Array.from(xs[0].v), xs[0].s) : xs.map((x) => ck.tensor(Float32Array.from(x.v), x.s)));
      const want = naive(eq, xs);
      expect(y.shape, eq).toEqual(want.s);
      Array.from(y.dataSync()).forEach((v, i) => expect(Math.abs(v - want.v[i]), `${eq}[${i}]`).toBeLessThan(1e-4 * (1 + Math.abs(want.v[i]))));
    }
    // An ellipsis broadcasts its axes (1 against 3) as NumPy does; implicit output: the letters seen once, alphabetically.
    const e = new OnnxBuilder(13);
    e.output(e.node('Einsum', [e.input('a', [1, 2, 3]), e.input('b', [3, 3, 4])], { equation: '...ij,...jk' }));
    const a = ck.tensor(randArray(6, 1), [1, 2, 3]), bb = ck.tensor(randArray(36, 2), [3, 3, 4]);
    const ye = loadOnnx(e.encode(), { channelsLast: false }).predict([a, bb]);
    expect(ye.shape).toEqual([3, 2, 4]);
    const ref = ck.matmul(ck.broadcastTo(a, [3, 2, 3]), bb).dataSync();
    Array.from(ye.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(ref[i], 5));
  });
});
