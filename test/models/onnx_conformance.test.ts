/**
 * ONNX's own node conformance cases (ONNX 1.12, Apache-2.0; written by
 * scripts/make-onnx-conformance.py into test/fixtures/onnx/conformance/) for the operators
 * of issue 15 (and further operators the interpreter implements: `issueOps` false), run through
 * loadOnnx(bytes, { channelsLast: false }) on ts, wasm and webgpu (SwiftShader where no GPU is
 * present; skipped when no adapter opens): every
 * case must match ONNX's expected outputs (rtol 1e-3, atol 1e-4; integer and bool outputs
 * exactly; NaN where ONNX has NaN), except the REFUSED cases below, each of which must throw
 * OnnxImportError (at load or when run), never give a number.
 *
 * Also: graph mode and layer mode agree on a real CNN (resnet18_small, a PyTorch export),
 * the mode option is validated, and `apply` on a graph model records gradients that match
 * the same computation written with convkit ops.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { readdirSync } from 'node:fs';
import { compareToBar, readFixture, readOnnxBytes } from '../util/onnx_fixtures.js';
import { CaseStore, runCases, type Stored, type StoredModel } from '../util/onnx_cases.js';
import { GRAPH_OPS } from '../../src/models/onnx/graph_ops.js';
import { F, OnnxBuilder, randArray } from '../util/onnx_build.js';
import { openWebGPU, useBackend } from '../util/webgpu.js';

const { loadOnnx, OnnxImportError, OnnxGraphModel } = ck;

const DIR = fileURLToPath(new URL('../fixtures/onnx/conformance/', import.meta.url));
interface Case { name: string; opset: number; ops: string[]; issueOps: boolean; model: StoredModel; inputs: Stored[] | null; outputs: Stored[] | null; note?: string }
const META = JSON.parse(readFileSync(DIR + 'cases.json', 'utf8')) as { onnx: string; cases: Case[] };
const STORE = new CaseStore(DIR + 'cases.bin');
/** The same operators' cases as a newer ONNX defines them (scripts/make-onnx-conformance-src.py): opsets 18 to 28 included. */
const SRC_META = JSON.parse(readFileSync(DIR + 'cases_src.json', 'utf8')) as { source: string; cases: Case[] };
const SRC = { source: '1.23 (development)', cases: SRC_META.cases };
const SRC_STORE = new CaseStore(DIR + 'cases_src.bin');
/** Among those, the refusals: Dropout in training mode draws a random mask (as in the 1.12 set). */
const SRC_REFUSED: Record<string, string> = Object.fromEntries(
  ['test_training_dropout', 'test_training_dropout_default', 'test_training_dropout_default_mask', 'test_training_dropout_mask'].map((n) => [n, 'training_mode true, ratio > 0']),
);

/**
 * Cases convkit refuses, with why. Each must throw OnnxImportError; a case passing or
 * giving a number is a test failure (then move it out of this list).
 */
const REFUSED: Record<string, string> = {
  // Strings are not a convkit element type (and the test data cannot be stored).
  test_cast_FLOAT_to_STRING: 'Cast to string',
  test_cast_STRING_to_FLOAT: 'a string graph input',
  test_castlike_FLOAT_to_STRING: 'a string graph input (the target type)',
  test_castlike_FLOAT_to_STRING_expanded: 'a string graph input (the target type)',
  test_castlike_STRING_to_FLOAT: 'a string graph input',
  test_castlike_STRING_to_FLOAT_expanded: 'a string graph input',
  // Optional and sequence values are not convkit values.
  test_identity_opt: 'an optional graph input',
  test_identity_sequence: 'a sequence graph input',
  test_if_opt: 'an optional value (If branches output optionals)',
  test_if_seq: 'a sequence value (If branches output sequences)',
  // Dropout in training mode with ratio > 0 draws a random mask: ONNX's expected output comes
  // from numpy's generator and no implementation reproduces it; convkit refuses when run.
  test_training_dropout: 'training_mode true, ratio 0.75',
  test_training_dropout_default: 'training_mode true, ratio 0.5',
  test_training_dropout_default_mask: 'training_mode true, ratio 0.5',
  test_training_dropout_mask: 'training_mode true, ratio 0.75',
};

describe('ONNX conformance fixture', () => {
  it("scripts/onnx/graph_ops.json (the operators make-onnx-conformance-src.py keeps) lists what the graph interpreter implements (If and Loop run their subgraphs)", () => {
    const listed = JSON.parse(readFileSync(fileURLToPath(new URL('../../scripts/onnx/graph_ops.json', import.meta.url)), 'utf8')) as string[];
    expect(listed).toEqual([...Object.keys(GRAPH_OPS), 'If', 'Loop'].sort());
    const ops = new Set(SRC.cases.flatMap((c) => c.ops));
    for (const op of ops) expect(listed, op).toContain(op);
    expect(SRC.cases.length).toBeGreaterThan(800);
    for (const r of Object.keys(SRC_REFUSED)) expect(SRC.cases.some((c) => c.name === r), r).toBe(true);
    expect(SRC.cases.filter((c) => c.opset >= 18).length).toBeGreaterThan(200);
  });

  it(`holds the node cases of ONNX ${META.onnx} for the issue's operators, with every refusal among them`, () => {
    expect(META.cases.length).toBeGreaterThan(700);
    const names = new Set(META.cases.map((c) => c.name));
    for (const r of Object.keys(REFUSED)) expect(names.has(r), r).toBe(true);
    // Cases without stored data are exactly those of the refusal list (strings, optionals, sequences).
    for (const c of META.cases) if (!c.inputs || !c.outputs) expect(REFUSED[c.name], `${c.name} has no stored data`).toBeDefined();
  });
});

for (const backend of ['ts', 'wasm', 'webgpu']) {
  describe(`ONNX conformance [${backend}]`, () => {
    const gpu = useBackend(backend);

    it('every case matches ONNX, or is a listed refusal that throws OnnxImportError', async (ctx) => {
      if (!gpu.ok) ctx.skip(`webgpu: ${gpu.reason}`);
      const { wrong, passed } = await runCases(META.cases, STORE, REFUSED);
      expect(wrong).toEqual([]);
      expect(passed).toBe(META.cases.length - Object.keys(REFUSED).length);
      // The issue's operators alone (docs/onnx.md quotes these numbers).
      const issue = META.cases.filter((c) => c.issueOps);
      expect([issue.filter((c) => !REFUSED[c.name]).length, issue.length]).toEqual([335, 345]);
    }, 180_000);

    it(`the cases of ONNX ${SRC.source} for these operators (opsets up to 28) match ONNX`, async (ctx) => {
      if (!gpu.ok) ctx.skip(`webgpu: ${gpu.reason}`);
      const { wrong, passed } = await runCases(SRC.cases, SRC_STORE, SRC_REFUSED);
      expect(wrong).toEqual([]);
      expect(passed).toBe(SRC.cases.length - Object.keys(SRC_REFUSED).length);
    }, 180_000);
  });
}

describe('graph mode', () => {
  const resnetDir = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));

  for (const backend of ['ts', 'wasm', 'webgpu']) {
    it(`runs every PyTorch export of test/fixtures/onnx (If branches included) within 1e-4 of max |output| [${backend}]`, async (ctx) => {
      if (backend === 'webgpu') {
        const gpu = await openWebGPU();
        if (!gpu.ok) ctx.skip(`webgpu: ${gpu.reason}`);
      }
      // crnn_small's LSTM and GRU run on the host, which cannot read what webgpu computed (onnx_torch.test.ts checks the refusal).
      const names = readdirSync(resnetDir).filter((f) => f.endsWith('.json') && f !== 'proto_cases.json').map((f) => f.slice(0, -5)).filter((n) => backend !== 'webgpu' || n !== 'crnn_small');
      expect(names.length).toBeGreaterThan(10);
      const prev = ck.getBackend();
      await ck.setBackend(backend);
      try {
        for (const name of names) {
          const s = readFixture(resnetDir, name);
          const g = loadOnnx(readOnnxBytes(resnetDir, name), { mode: 'graph', channelsLast: false });
          expect(g, name).toBeInstanceOf(OnnxGraphModel);
          const y = g.predict(ck.tensor(Float32Array.from(s.input), s.inputShape));
          expect(y.shape, name).toEqual(s.outputShape);
          const { worst, bar } = compareToBar(await y.data(), s.output);
          expect(bar, name).toBeGreaterThan(0);
          expect(worst, name).toBeLessThanOrEqual(bar);
        }
      } finally {
        await ck.setBackend(prev);
      }
    }, 60_000);
  }

  it('predictAsync gives what predict gives (resnet18_small, both layouts) and frees what it made', async () => {
    const bytes = readOnnxBytes(resnetDir, 'resnet18_small');
    const s = readFixture(resnetDir, 'resnet18_small');
    for (const channelsLast of [false, true]) {
      const g = loadOnnx(bytes, { mode: 'graph', channelsLast }) as InstanceType<typeof OnnxGraphModel>;
      const x0 = ck.tensor(Float32Array.from(s.input), s.inputShape);
      const x = channelsLast ? ck.transpose(x0, [0, 2, 3, 1]) : x0;
      const want = Array.from(g.predict(x).dataSync());
      (await g.predictAsync(x)).dispose();
      const before = JSON.stringify(ck.memory());
      const y = await g.predictAsync(x);
      expect(Array.from(y.dataSync())).toEqual(want);
      y.dispose();
      expect(JSON.stringify(ck.memory())).toBe(before);
    }
    const two = new OnnxBuilder(13);
    const tx = two.input('x', [2]);
    two.output(two.node('Relu', [tx]));
    two.output(two.node('Neg', [tx]));
    const m2 = loadOnnx(two.encode(), { name: 'two.onnx', mode: 'graph' }) as InstanceType<typeof OnnxGraphModel>;
    await expect(m2.predictAsync(ck.tensor([1, -2]))).rejects.toThrow(/the model has 2 outputs; use predictAllAsync\(\)/);
    expect((await m2.predictAllAsync(ck.tensor([1, -2]))).map((t) => Array.from(t.dataSync()))).toEqual([[1, 0], [-1, 2]]);
  });

  it("agrees with layer mode on a PyTorch ResNet-18 export (resnet18_small), both layouts; 'auto' picks the layers", () => {
    const bytes = readOnnxBytes(resnetDir, 'resnet18_small');
    const s = readFixture(resnetDir, 'resnet18_small');
    const x = ck.tensor(Float32Array.from(s.input), s.inputShape);
    for (const channelsLast of [false, true]) {
      const layers = loadOnnx(bytes, { mode: 'layers', channelsLast });
      const graph = loadOnnx(bytes, { mode: 'graph', channelsLast });
      expect(graph).toBeInstanceOf(OnnxGraphModel);
      expect(graph).toBeInstanceOf(ck.Model);
      expect(layers).not.toBeInstanceOf(OnnxGraphModel);
      const xi = channelsLast ? ck.transpose(x, [0, 2, 3, 1]) : x;
      const a = layers.predict(xi), b = graph.predict(xi);
      expect(b.shape).toEqual(a.shape);
      const da = a.dataSync(), db = b.dataSync(), want = Float32Array.from(s.output);
      let worst = 0, bar = 0;
      for (let i = 0; i < da.length; i++) { worst = Math.max(worst, Math.abs(da[i] - db[i]), Math.abs(db[i] - want[i])); bar = Math.max(bar, Math.abs(want[i])); }
      expect(worst).toBeLessThanOrEqual(1e-4 * bar);
    }
    expect(loadOnnx(bytes)).not.toBeInstanceOf(OnnxGraphModel);
    const g = loadOnnx(bytes, { mode: 'graph', name: 'resnet18_small.onnx' }) as InstanceType<typeof OnnxGraphModel>;
    const text = g.summaryText();
    expect(text).toMatch(/Nodes: \d+ \(Conv x20/);
    expect(text).toMatch(/Initializer parameters: [\d,]+/);
    expect(g.countParams()).toBeGreaterThan(1000);
    expect(() => g.getConfig()).toThrow(/graph mode.*no convkit layer graph/);
    expect(() => ck.encodeOnnx(g)).toThrow(/has no convkit layers to export; model\.toOnnx\(\) gives its ONNX file back/);
    // toOnnx: the original graph, which loads again to the same function.
    const again = loadOnnx(g.toOnnx(), { mode: 'graph', channelsLast: false });
    const xx = ck.tensor(Float32Array.from(s.input), s.inputShape);
    expect(Array.from(again.predict(xx).dataSync())).toEqual(Array.from(loadOnnx(bytes, { mode: 'graph', channelsLast: false }).predict(xx).dataSync()));
    return expect(g.save('/tmp/nowhere')).rejects.toThrow(/cannot be saved in the convkit format.*toOnnx\(\)/);
  });

  it('summaryJSON of a graph-mode model: shapes traced per node, and the same MACs and parameters as layer mode', () => {
    for (const name of ['resnet18_small', 'mobilenet_v2_small', 'unet_small', 'signal1d', 'googlenet_small']) {
      const bytes = readOnnxBytes(resnetDir, name);
      const a = loadOnnx(bytes, { mode: 'layers' }).summaryJSON(), g = loadOnnx(bytes, { mode: 'graph' }).summaryJSON();
      expect(g.macs, name).toBe(a.macs);
      expect(g.macs, name).toBeGreaterThan(0);
      expect([g.totalParams, g.trainableParams, g.nonTrainableParams], name).toEqual([a.totalParams, a.trainableParams, a.nonTrainableParams]);
      expect([g.input, g.output], name).toEqual([a.input, a.output]);
    }
    const g = loadOnnx(readOnnxBytes(resnetDir, 'resnet18_small'), { mode: 'graph' }).summaryJSON();
    const conv = g.layers.find((l) => l.type === 'Conv')!;
    expect(conv.outputShape.length).toBe(3); // one example, the file's NCHW layout
    expect(conv.params).toBeGreaterThan(0);
    expect(g.layers.every((l) => l.depth === 0 && Array.isArray(l.inputs))).toBe(true);
    // a symbolic axis other than the batch: no trace, so no shapes or MACs (not a made-up size)
    const b = new OnnxBuilder(13);
    const x = b.input('x', [2, 'T']);
    b.output(b.node('Relu', [x]), [2, 'T']);
    const s = loadOnnx(b.encode(), { mode: 'graph' }).summaryJSON();
    expect(s.layers[0].outputShape).toEqual([]);
    expect(s.input).toEqual([-1]);
  });

  it('mode is validated, and auto falls back to the graph interpreter or lists every node neither can run', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [2, 3]), w = b.input('w', [3, 4]);
    b.output(b.node('MatMul', [x, w]), [2, 4]);
    const bytes = b.encode();
    expect(() => loadOnnx(bytes, { mode: 'fast' as never })).toThrow(/loadOnnx: mode must be one of 'auto', 'layers', 'graph', received "fast"/);
    expect(() => loadOnnx(bytes, { mode: 'layers' })).toThrow(OnnxImportError);
    const m = loadOnnx(bytes);
    expect(m).toBeInstanceOf(OnnxGraphModel);
    const xa = ck.tensor([1, 2, 3, 4, 5, 6], [2, 3]), wa = ck.tensor(randArray(12, 3), [3, 4]);
    const y = m.predict([xa, wa]);
    const want = ck.matmul(xa, wa).dataSync();
    y.dataSync().forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    expect(() => m.predict([ck.ones([3, 3]), wa])).toThrow(/input 0 \('x'\): expected shape \[2, 3\], received \[3, 3\]/);
    expect(() => m.predict(xa)).toThrow(/expected 2 input tensor\(s\) \('x', 'w'\), received 1/);
    // Unsupported nodes: one error naming each (name, op type, why).
    const u = new OnnxBuilder(13);
    const ux = u.input('x', [1, 3]);
    u.output(u.node('Relu', [u.node('Foo', [u.node('Gelu', [ux])])])); // Gelu: an opset 20 operator in an opset 13 file
    let err: unknown;
    try { loadOnnx(u.encode(), { name: 'u.onnx' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(OnnxImportError);
    expect((err as Error).message).toMatch(/u\.onnx: 2 problems/);
    expect((err as Error).message).toMatch(/node '\/Gelu_\d+' \(Gelu\): Gelu is an opset 20 operator; the model imports opset 13/);
    expect((err as Error).message).toMatch(/\(Foo\): operator Foo is not supported/);
    // An attribute the interpreter does not implement is refused by name, never ignored.
    const a = new OnnxBuilder(13);
    const ax = a.input('x', [1, 2, 4, 4]);
    a.output(a.node('AveragePool', [ax], { kernel_shape: [2, 2], frobnicate: 1 }));
    expect(() => loadOnnx(a.encode(), { mode: 'graph' })).toThrow(/\(AveragePool\): attribute 'frobnicate' is not supported/);
  });

  it('apply records gradients: a graph with computed weights matches the same ops written directly', () => {
    // y = sum(relu(conv(x, w)) @ v) with x, w and v all graph inputs, in float64.
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 2, 5, 5], 11), w = b.input('w', [3, 2, 3, 3], 11), v = b.input('v', [5, 4], 11);
    const c = b.node('Relu', [b.node('Conv', [x, w], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] })]);
    b.output(b.node('ReduceSum', [b.node('MatMul', [c, v])], { keepdims: 0 }), []);
    const m = loadOnnx(b.encode(), { channelsLast: false });
    const xs = [ck.tensor(randArray(50, 1), [1, 2, 5, 5], 'float64'), ck.tensor(randArray(54, 2), [3, 2, 3, 3], 'float64'), ck.tensor(randArray(20, 3), [5, 4], 'float64')];
    const viaGraph = ck.grad((p, q, r) => m.apply([p, q, r]))(...xs);
    const direct = ck.grad((p, q, r) => {
      const h = ck.relu(ck.conv2d(ck.transpose(p, [0, 2, 3, 1]), ck.transpose(q, [2, 3, 1, 0]), { padding: [[1, 1], [1, 1]] }));
      const hc = ck.transpose(h, [0, 3, 1, 2]); // [1, 3, 5, 5]
      return ck.sum(ck.matmul(ck.reshape(hc, [15, 5]), r));
    })(...xs);
    viaGraph.forEach((g, i) => {
      expect(g.shape).toEqual(direct[i].shape);
      const a = g.dataSync(), d = direct[i].dataSync();
      for (let k = 0; k < a.length; k++) expect(Math.abs(a[k] - d[k])).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(d[k])));
    });
    // And a finite difference on one weight of w, through the graph model.
    const f = (q: Tensor) => m.predict([xs[0], q, xs[2]]).dataSync()[0];
    const wv = xs[1].dataSync() as Float64Array, eps = 1e-6;
    const plus = Float64Array.from(wv), minus = Float64Array.from(wv);
    plus[7] += eps; minus[7] -= eps;
    const fd = (f(ck.tensor(plus, [3, 2, 3, 3], 'float64')) - f(ck.tensor(minus, [3, 2, 3, 3], 'float64'))) / (2 * eps);
    expect(Math.abs(fd - viaGraph[1].dataSync()[7])).toBeLessThanOrEqual(1e-5 + 1e-3 * Math.abs(fd));
  });

  it('grouped, strided, dilated, padded ConvTranspose with output_padding matches the definition (a direct loop)', () => {
  for (const [g, s, p, op, d, C, Mg, H, W, k] of [[2, 2, [1, 0, 1, 1], [1, 0], 1, 4, 3, 5, 6, 3], [2, 1, [0, 0, 0, 0], [0, 0], 2, 4, 2, 4, 4, 3], [4, 2, [1, 2, 0, 1], [1, 1], 2, 4, 2, 3, 5, 2], [1, 3, [2, 1, 0, 2], [2, 1], 1, 2, 3, 4, 3, 3]] as const) {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [2, C, H, W]);
    const wv = randArray(C * Mg * k * k, 1), bv = randArray(Mg * g, 2);
    b.output(b.node('ConvTranspose', [x, b.init('w', [C, Mg, k, k], wv), b.init('bb', [Mg * g], bv)], { group: g, strides: [s, s], pads: [...p], output_padding: [...op], dilations: [d, d] }));
    const m = ck.loadOnnx(b.encode(), { mode: 'graph', channelsLast: false });
    const xv = randArray(2 * C * H * W, 3);
    const y = m.predict(ck.tensor(xv, [2, C, H, W]));
    const OH = s * (H - 1) + op[0] + (k - 1) * d + 1 - p[0] - p[2], OW = s * (W - 1) + op[1] + (k - 1) * d + 1 - p[1] - p[3];
    const M = Mg * g, ref = new Float64Array(2 * M * OH * OW);
    for (let n = 0; n < 2; n++) for (let o = 0; o < M; o++) for (let i = 0; i < OH * OW; i++) ref[(n * M + o) * OH * OW + i] = bv[o];
    const Cg = C / g;
    for (let n = 0; n < 2; n++) for (let c = 0; c < C; c++) for (let ih = 0; ih < H; ih++) for (let iw = 0; iw < W; iw++) {
      const gi = Math.floor(c / Cg);
      for (let mm = 0; mm < Mg; mm++) for (let kh = 0; kh < k; kh++) for (let kw = 0; kw < k; kw++) {
        const oh = ih * s - p[0] + kh * d, ow = iw * s - p[1] + kw * d;
        if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
        ref[((n * M + gi * Mg + mm) * OH + oh) * OW + ow] += xv[((n * C + c) * H + ih) * W + iw] * wv[((c * Mg + mm) * k + kh) * k + kw];
      }
    }
    expect(y.shape).toEqual([2, M, OH, OW]);
    const yd = y.dataSync();
    let w = 0; for (let i = 0; i < ref.length; i++) w = Math.max(w, Math.abs(yd[i] - ref[i]));
    expect(w).toBeLessThan(1e-4);
  }
  });

  it("LRN of even size: the layer mapping refuses it by name, 'auto' runs ONNX's window (c - floor((size-1)/2) .. c + ceil((size-1)/2))", () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 6, 2, 2]);
    b.output(b.node('LRN', [x], { size: 4, alpha: F(0.01), beta: F(0.75), bias: F(1.5) }));
    expect(() => loadOnnx(b.encode(), { mode: 'layers' })).toThrow(/\(LRN\): an even size \(4\) puts ONNX's window one channel off/);
    const m = loadOnnx(b.encode(), { channelsLast: false });
    expect(m).toBeInstanceOf(OnnxGraphModel);
    const xv = randArray(24, 7);
    const y = m.predict(ck.tensor(xv, [1, 6, 2, 2])).dataSync();
    for (let c = 0; c < 6; c++) for (let i = 0; i < 4; i++) {
      let ss = 0;
      for (let j = Math.max(0, c - 1); j <= Math.min(5, c + 2); j++) ss += xv[j * 4 + i] ** 2;
      expect(y[c * 4 + i]).toBeCloseTo(xv[c * 4 + i] / (1.5 + (0.01 / 4) * ss) ** 0.75, 5);
    }
  });

  it('layer parameters among the initializers are trainable weights: gradients, freeze, assignment, toOnnx with current values', () => {
    // y = Gemm(x, W, b, transB) -> Relu -> MatMul with a computed right operand; W and b are weights, the Pow exponent is not.
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 4]);
    const W = randArray(12, 11), bias = randArray(3, 12);
    const h = b.node('Gemm', [x, b.init('W', [3, 4], W), b.init('b', [3], bias)], { transB: 1 });
    b.output(b.node('Pow', [h, b.init('two', [], [2])]), ['N', 3]);
    const m = loadOnnx(b.encode(), { mode: 'graph' }) as InstanceType<typeof OnnxGraphModel>;
    expect(m.weights.map((w) => w.name)).toEqual(['W', 'b']);
    expect(m.countParams('trainable')).toBe(15);
    expect(m.countParams()).toBe(16);
    const xs = ck.tensor(randArray(8, 13), [2, 4]);
    const [gW, gb] = m.weights.map((w) => w.value);
    ck.backward(ck.sum(m.apply(xs)));
    // d/dW sum((x W^T + b)^2) = 2 (x W^T + b)^T x; d/db = 2 sum over rows of (x W^T + b).
    const hd = ck.add(ck.matmul(xs, ck.tensor(W, [3, 4]), { transposeB: true }), ck.tensor(bias, [3]));
    const wantW = ck.mul(ck.matmul(hd, xs, { transposeA: true }), 2).dataSync(), wantB = ck.mul(ck.sum(hd, { axes: 0 }), 2).dataSync();
    gW.grad!.dataSync().forEach((v, i) => expect(v).toBeCloseTo(wantW[i], 4));
    gb.grad!.dataSync().forEach((v, i) => expect(v).toBeCloseTo(wantB[i], 4));
    m.freeze();
    expect(m.countParams('trainable')).toBe(0);
    expect(gW.requiresGrad).toBe(false);
    expect(() => m.freeze('dense')).toThrow(/no layers to select/);
    m.unfreeze();
    expect(gW.requiresGrad).toBe(true);
    // A new value is used by the next run and written by toOnnx.
    m.weights[1].value = ck.tensor([10, 20, 30], [3]);
    expect(() => { m.weights[1].value = ck.zeros([4]); }).toThrow(/weight 'b' has shape \[3\]; received \[4\]/);
    const y1 = m.predict(xs).dataSync();
    const y2 = loadOnnx(m.toOnnx(), { mode: 'graph' }).predict(xs).dataSync();
    const want = ck.square(ck.add(ck.matmul(xs, ck.tensor(W, [3, 4]), { transposeB: true }), ck.tensor([10, 20, 30], [3]))).dataSync();
    y1.forEach((v, i) => expect(v).toBeCloseTo(want[i], 3));
    expect(Array.from(y2)).toEqual(Array.from(y1));
  });

  it('inference reuses each Conv / ConvTranspose filter in convkit layout until its weight changes; dispose frees every storage', async () => {
    await ck.setBackend('wasm', { threads: 1 });
    try {
      const b = new OnnxBuilder(13);
      const x = b.input('x', ['N', 3, 6, 6]);
      const W = randArray(4 * 3 * 3 * 3, 21), T = randArray(4 * 2 * 2 * 2, 22);
      const c = b.node('Conv', [x, b.init('W', [4, 3, 3, 3], W)], { pads: [1, 1, 1, 1] });
      b.output(b.node('ConvTranspose', [b.node('Relu', [c]), b.init('T', [4, 2, 2, 2], T)], { strides: [2, 2] }), ['N', 2, 12, 12]);
      const xs = ck.tensor(randArray(2 * 3 * 6 * 6, 23), [2, 3, 6, 6]);
      const before = ck.memory().wasm.storages;
      const m = loadOnnx(b.encode(), { mode: 'graph', channelsLast: false }) as InstanceType<typeof OnnxGraphModel>;
      const reference = () => ck.tidy(() => ck.withBackend('ts', () => loadOnnx(m.toOnnx(), { mode: 'graph', channelsLast: false }).predict(ck.tensor(xs.dataSync(), xs.shape)).dataSync()));
      const run = () => ck.tidy(() => m.predict(xs).dataSync());
      const close = (got: ArrayLike<number>, want: ArrayLike<number>) => { for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4); };
      const loaded = ck.memory().wasm.storages;
      const first = run();
      // the model keeps two filters in convkit's layout (HWIO; the flipped ConvTranspose kernel)
      expect(ck.memory().wasm.storages).toBe(loaded + 2);
      close(first, reference());
      // the second run reads the two kept filters: the same numbers, and no storage more than the first left
      const held = ck.memory().wasm.storages;
      expect(Array.from(run())).toEqual(Array.from(first));
      expect(ck.memory().wasm.storages).toBe(held);
      // a recorded run transposes afresh (gradients reach the weights), an assigned weight is read again
      const g = ck.tidy(() => ck.grad((w: Tensor) => ck.sum(m.apply(xs)))(m.weights[0].value)[0]);
      expect(g.shape).toEqual([4, 3, 3, 3]);
      g.dispose();
      expect(ck.memory().wasm.storages).toBe(held);
      ck.tidy(() => m.weights[0].value.assign(ck.mul(m.weights[0].value, -2)));
      m.weights[1].value = ck.tidy(() => ck.mul(m.weights[1].value, 0.5));
      const after = run();
      expect(Array.from(after)).not.toEqual(Array.from(first));
      close(after, reference());
      m.dispose();
      expect(ck.memory().wasm.storages).toBe(before);
      xs.dispose();
    } finally {
      await ck.setBackend('ts');
    }
  });

  it('channelsLast transposes rank >= 3 inputs and outputs at the boundary; integer inputs and scalars are accepted', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 3, 'H', 'W']), k = b.input('k', [], 7);
    const shift = b.node('Cast', [k], { to: 1 });
    b.output(b.node('Add', [b.node('Transpose', [x], { perm: [1, 0, 2, 3] }), shift]), [3, 'N', 'H', 'W']);
    const m = loadOnnx(b.encode());
    expect(m).toBeInstanceOf(OnnxGraphModel);
    const xs = ck.tensor(randArray(2 * 4 * 5 * 3, 4), [2, 4, 5, 3]); // NHWC
    const y = m.predict([xs, ck.tensor(new Int32Array([2]), [], 'int32')]);
    // file layout: x NCHW [2,3,4,5] -> transpose -> [3,2,4,5] + 2 -> channels-last [3,4,5,2]
    const want = ck.add(ck.transpose(ck.transpose(ck.transpose(xs, [0, 3, 1, 2]), [1, 0, 2, 3]), [0, 2, 3, 1]), 2);
    expect(y.shape).toEqual([3, 4, 5, 2]);
    const a = y.dataSync(), d = want.dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(d[i], 5);
  });
});
