/**
 * ONNX import: models built in the test with the package's encoder, imported with
 * loadOnnx, and compared with the same computation written with convkit ops in
 * channels-last terms, on ts and wasm. Layout (flatten -> Gemm row permutation, concat
 * axes, channelsLast: false, convkit's own metadata), dynamic batch, constant folding and
 * every error the importer gives.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { ONNX_DTYPE } from '../../src/models/onnx/proto.js';
import { ProtoWriter } from '../../src/models/onnx/protobuf.js';
import { F, OnnxBuilder, randArray } from '../util/onnx_build.js';
import { mismatch } from '../util/close.js';
import { erf as erfScalar } from '../../src/kernels/special.js';
import { describeOnCpuBackends } from '../util/backends.js';

const { loadOnnx, isOnnx, OnnxImportError } = ck;

/** OIHW (or any channels-first filter) -> HWIO. */
const hwio = (w: Float32Array, shape: number[]) => ck.transpose(ck.tensor(w, shape), [2, 3, 1, 0]);
const nhwc = (x: Tensor) => ck.transpose(x, [0, 2, 3, 1]);
const nchw = (x: Tensor) => ck.transpose(x, [0, 3, 1, 2]);

function close(a: Tensor, e: Tensor, tol = { atol: 1e-4, rtol: 1e-4 }): void {
  expect(a.shape).toEqual(e.shape);
  const m = mismatch(a.dataSync(), e.dataSync(), tol);
  expect(m).toBeNull();
}

describeOnCpuBackends('ONNX import', (backend) => {
  it('CNN core: Conv (pads, strides, bias) -> BatchNormalization -> Relu -> MaxPool -> depthwise Conv -> Clip(0, 6) -> GlobalAveragePool -> Flatten -> Gemm', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 3, 9, 9]);
    const w1 = randArray(4 * 3 * 3 * 3, 1, 0.5), b1 = randArray(4, 2);
    const gamma = randArray(4, 3).map((v) => 1 + v / 2), beta = randArray(4, 4), mean = randArray(4, 5), varr = randArray(4, 6).map((v) => 1 + v / 2);
    const w2 = randArray(4 * 1 * 3 * 3, 7, 0.5);
    const wg = randArray(5 * 4, 8), bg = randArray(5, 9);
    let h = b.node('Conv', [x, b.init('w1', [4, 3, 3, 3], w1), b.init('b1', [4], b1)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
    h = b.node('BatchNormalization', [h, b.init('g', [4], gamma), b.init('be', [4], beta), b.init('m', [4], mean), b.init('v', [4], varr)], { epsilon: F(1e-5) });
    h = b.node('Relu', [h]);
    h = b.node('MaxPool', [h], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 });
    h = b.node('Conv', [h, b.init('w2', [4, 1, 3, 3], w2)], { group: 4, kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    h = b.node('Clip', [h, b.init('lo', [], [0]), b.init('hi', [], [6])]);
    h = b.node('GlobalAveragePool', [h]);
    h = b.node('Flatten', [h], { axis: 1 });
    const y = b.node('Gemm', [h, b.init('wg', [5, 4], wg), b.init('bg', [5], bg)], { transB: 1 });
    b.output(y, ['N', 5]);
    const m = loadOnnx(b.encode(), { name: 'core.onnx' });
    expect(m.inputs[0].shape).toEqual([9, 9, 3]);
    expect(m.layers.map((l) => l.className)).toEqual(['Conv2D', 'BatchNormalization', 'ReLU', 'MaxPooling2D', 'DepthwiseConv2D', 'ReLU', 'GlobalAveragePooling2D', 'Flatten', 'Dense']);
    for (const n of [1, 3]) {
      ck.tidy(() => {
        const xin = ck.tensor(randArray(n * 3 * 9 * 9, 10 + n), [n, 3, 9, 9]);
        const got = m.predict(nhwc(xin));
        let r = ck.conv2d(nhwc(xin), hwio(w1, [4, 3, 3, 3]), { strides: 2, padding: 1, bias: ck.tensor(b1) });
        r = ck.div(ck.sub(r, ck.tensor(mean)), ck.sqrt(ck.add(ck.tensor(varr), 1e-5)));
        r = ck.add(ck.mul(r, ck.tensor(gamma)), ck.tensor(beta));
        r = ck.relu(r);
        r = ck.maxPool2d(r, { size: 2, strides: 2, padding: [[0, 1], [0, 1]] }); // 5 -> ceil(3/2)+1 = 3
        r = ck.conv2d(r, hwio(w2, [4, 1, 3, 3]), { padding: 1, groups: 4 });
        r = ck.clip(r, 0, 6);
        r = ck.mean(r, { axes: [1, 2] });
        r = ck.add(ck.matmul(r, ck.transpose(ck.tensor(wg, [5, 4]))), ck.tensor(bg));
        close(got, r);
      });
    }
  });

  it('hard-swish as PyTorch exports it below opset 14 (HardSigmoid(1/6, 1/2) then Mul with its input) becomes one hardSwish layer after the Conv; other HardSigmoid + Mul pairs stay two layers', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 2, 5, 5]);
    const w = randArray(3 * 2 * 3 * 3, 51, 0.6), bias = randArray(3, 52);
    const c = b.node('Conv', [x, b.init('w', [3, 2, 3, 3], w), b.init('b', [3], bias)], { pads: [1, 1, 1, 1] });
    const hs = b.node('HardSigmoid', [c], { alpha: F(1 / 6) });
    const sw = b.node('Mul', [hs, c]); // either operand order
    // not hard-swish: a slope of 0.2, and a HardSigmoid whose output has a second reader
    const h2 = b.node('HardSigmoid', [sw], { alpha: F(0.2) });
    const m2 = b.node('Mul', [sw, h2]);
    const h3 = b.node('HardSigmoid', [m2], { alpha: F(1 / 6) });
    const y = b.node('Add', [b.node('Mul', [m2, h3]), h3]);
    b.output(y, ['N', 3, 5, 5]);
    const m = loadOnnx(b.encode(), { name: 'hswish.onnx' });
    const acts = m.layers.filter((l) => l instanceof ck.layers.Activation).map((l) => (l as ck.layers.Activation).activation);
    // Conv, hardSwish; the 0.2 slope as mul, add, ReLU(max 1); Multiply; hardSigmoid; Multiply; Add
    expect(m.layers.map((l) => l.className)).toEqual(['Conv2D', 'Activation', 'Arithmetic', 'Arithmetic', 'ReLU', 'Multiply', 'Activation', 'Multiply', 'Add']);
    expect(acts).toEqual(['hardSwish', 'hardSigmoid']);
    ck.tidy(() => {
      const xin = ck.tensor(randArray(2 * 2 * 5 * 5, 53, 4), [2, 2, 5, 5]);
      let r = ck.hardSwish(ck.conv2d(nhwc(xin), hwio(w, [3, 2, 3, 3]), { padding: 1, bias: ck.tensor(bias) }));
      r = ck.mul(r, ck.hardSigmoid(r, { alpha: 0.2 }));
      const h = ck.hardSigmoid(r);
      close(m.predict(nhwc(xin)), ck.add(ck.mul(r, h), h));
    });
  });

  it('SiLU (Sigmoid then Mul with its input) and GELU (x * (1 + erf(x / sqrt 2)) * 0.5, as PyTorch writes it, and 0.5 x (1 + erf(x / sqrt 2)) with other Mul orders) become one swish or gelu layer; near misses stay as they are', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 2, 5, 5]);
    const w = randArray(4 * 2 * 3 * 3, 61, 0.6), bias = randArray(4, 62);
    const scalar = (v: number) => b.node('Constant', [], { value: { name: '', dims: [], dataType: ONNX_DTYPE.FLOAT, data: Float32Array.of(v) } });
    const c = b.node('Conv', [x, b.init('w', [4, 2, 3, 3], w), b.init('b', [4], bias)], { pads: [1, 1, 1, 1] });
    const s1 = b.node('Mul', [b.node('Sigmoid', [c]), c]); // swish, fused into the Conv
    // GELU as PyTorch 1.13 exports it: Div by a Constant sqrt 2, Erf, Add 1, Mul x, Mul 0.5
    const e1 = b.node('Erf', [b.node('Div', [s1, scalar(Math.SQRT2)])]);
    const g1 = b.node('Mul', [b.node('Mul', [s1, b.node('Add', [e1, scalar(1)])]), scalar(0.5)]);
    // GELU as 0.5 x (1 + erf(x * 0.7071...)), initializers: Mul(x, 0.5) first
    const e2 = b.node('Erf', [b.node('Mul', [g1, b.init('r2', [], [Math.SQRT1_2])])]);
    const g2 = b.node('Mul', [b.node('Mul', [g1, b.init('half', [], [0.5])]), b.node('Add', [b.init('one', [], [1]), e2])]);
    // near misses: a Sigmoid read twice; an Erf of x / 2
    const sg = b.node('Sigmoid', [g2]);
    const n1 = b.node('Add', [b.node('Mul', [g2, sg]), sg]);
    const e3 = b.node('Erf', [b.node('Div', [n1, scalar(2)])]);
    const y = b.node('Mul', [b.node('Mul', [n1, b.node('Add', [e3, scalar(1)])]), scalar(0.5)]);
    b.output(y, ['N', 4, 5, 5]);
    const m = loadOnnx(b.encode(), { name: 'swish_gelu.onnx' });
    const acts = m.layers.filter((l) => l instanceof ck.layers.Activation).map((l) => (l as ck.layers.Activation).activation);
    expect(acts.slice(0, 3)).toEqual(['swish', 'gelu', 'gelu']);
    // the swish layer right after the Conv: inference fusion runs it inside the convolution's kernel
    expect(m.layers.slice(0, 2).map((l) => l.className)).toEqual(['Conv2D', 'Activation']);
    expect(m.layers.filter((l) => l.className === 'MathFunction').length, 'the erf of x / 2 stays').toBe(1);
    ck.tidy(() => {
      const xin = ck.tensor(randArray(2 * 2 * 5 * 5, 63, 3), [2, 2, 5, 5]);
      let r = ck.swish(ck.conv2d(nhwc(xin), hwio(w, [4, 2, 3, 3]), { padding: 1, bias: ck.tensor(bias) }));
      r = ck.gelu(ck.gelu(r));
      const sgv = ck.sigmoid(r);
      r = ck.add(ck.mul(r, sgv), sgv);
      const n1v = r.dataSync();
      r = ck.tensor(Float32Array.from(n1v, (v) => v * (1 + erfScalar(v / 2)) * 0.5), r.shape);
      close(m.predict(nhwc(xin)), r, { atol: 2e-5, rtol: 1e-4 });
    });
  });

  it('a flatten of an NCHW tensor feeding Gemm permutes the weight rows (no data moves) and equals the file\'s C*H*W order', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 2, 3, 4]);
    const w = randArray(3 * 2 * 1 * 1, 21), wg = randArray(3 * 3 * 4 * 6, 22);
    let h = b.node('Conv', [x, b.init('w', [3, 2, 1, 1], w)], { kernel_shape: [1, 1] });
    h = b.node('Flatten', [h]);
    h = b.node('Dropout', [h]);
    const y = b.node('Gemm', [h, b.init('wg', [36, 6], wg)], { alpha: F(0.5) });
    b.output(y);
    const m = loadOnnx(b.encode());
    expect(m.layers.some((l) => l.className === 'Permute')).toBe(false);
    ck.tidy(() => {
      const xin = ck.tensor(randArray(2 * 3 * 4 * 2, 23), [2, 2, 3, 4]);
      const conv = ck.conv2d(nhwc(xin), hwio(w, [3, 2, 1, 1]));
      const flat = ck.reshape(nchw(conv), [2, 36]);
      const want = ck.mul(ck.matmul(flat, ck.tensor(wg, [36, 6])), 0.5);
      close(m.predict(nhwc(xin)), want);
    });
  });

  it('a flatten with another consumer materialises the layout with a Permute layer; MatMul + Add after it', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['batch', 2, 3, 3]);
    const f = b.node('Flatten', [x]);
    const y1 = b.node('MatMul', [f, b.init('w', [18, 4], randArray(72, 31))]);
    const y2 = b.node('Add', [y1, b.init('c', [4], [1, 2, 3, 4])]);
    b.output(y2);
    b.output(f);
    const m = loadOnnx(b.encode());
    expect(m.layers.some((l) => l.className === 'Permute')).toBe(true);
    ck.tidy(() => {
      const xin = ck.tensor(randArray(36, 32), [2, 2, 3, 3]);
      const [o1, o2] = m.predictAll(nhwc(xin)) as Tensor[];
      const flat = ck.reshape(xin, [2, 18]);
      close(o1, ck.add(ck.matmul(flat, ck.tensor(randArray(72, 31), [18, 4])), ck.tensor([1, 2, 3, 4])));
      close(o2, flat);
    });
  });

  it('dynamic batch: Shape -> Gather(0) -> Unsqueeze -> Concat(-1) -> Reshape is a flatten at any batch size', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 2, 2, 3]);
    const s = b.node('Shape', [x]);
    const g = b.node('Gather', [s, b.init('zero', [], [0], ONNX_DTYPE.INT64)], { axis: 0 });
    const u = b.node('Unsqueeze', [g, b.ints('ax0', [0])]);
    const c = b.node('Concat', [u, b.ints('minus1', [-1])], { axis: 0 });
    const r = b.node('Reshape', [x, c]);
    const y = b.node('Gemm', [r, b.init('w', [12, 2], randArray(24, 41))]);
    b.output(y);
    const m = loadOnnx(b.encode());
    for (const n of [1, 3]) {
      ck.tidy(() => {
        const xin = ck.tensor(randArray(n * 12, 42 + n), [n, 2, 2, 3]);
        close(m.predict(nhwc(xin)), ck.matmul(ck.reshape(xin, [n, 12]), ck.tensor(randArray(24, 41), [12, 2])));
      });
    }
  });

  it('constant folding: Constant, Shape of a constant, Mul/Add/Cast/ConstantOfShape/Expand/Equal/Where/Range all fold into one constant operand', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 3, 2, 2]);
    const k = b.node('Constant', [], { value: { name: '', dims: [3], dataType: ONNX_DTYPE.FLOAT, data: Float32Array.of(1, 2, 3) } });
    const k2 = b.node('Mul', [k, b.init('two', [], [2])]);
    const shp = b.node('Shape', [k2]);
    const ones = b.node('ConstantOfShape', [shp], { value: { name: '', dims: [1], dataType: ONNX_DTYPE.FLOAT, data: Float32Array.of(0.5) } });
    const sum = b.node('Add', [k2, ones]); // [2.5, 4.5, 6.5]
    const eq = b.node('Equal', [b.node('Range', [b.init('s', [], [0], ONNX_DTYPE.INT64), b.init('l', [], [3], ONNX_DTYPE.INT64), b.init('d', [], [1], ONNX_DTYPE.INT64)]), b.ints('one', [1])]);
    const wh = b.node('Where', [eq, b.init('z', [], [0]), sum]); // [2.5, 0, 6.5]
    const r = b.node('Reshape', [wh, b.ints('shape', [1, 3, 1, 1])]);
    const y = b.node('Mul', [x, r]);
    b.output(y);
    const m = loadOnnx(b.encode());
    expect(m.layers.map((l) => l.className)).toEqual(['Arithmetic']);
    ck.tidy(() => {
      const xin = ck.tensor(randArray(12, 51), [1, 3, 2, 2]);
      close(m.predict(nhwc(xin)), ck.mul(nhwc(xin), ck.tensor([2.5, 0, 6.5])));
    });
  });

  it('Concat along channels (axis 1 -> held last axis), elementwise ops with constants both sides, activations, Softmax over channels', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 2, 3, 3]);
    const a = b.node('Sigmoid', [x]);
    const c = b.node('Concat', [x, a], { axis: 1 });
    const s = b.node('Sub', [b.init('one', [], [1]), c]);
    const d = b.node('Div', [s, b.init('per', [1, 4, 1, 1], [1, 2, 4, 8])]);
    const p = b.node('Pow', [d, b.init('sq', [], [2])]);
    const h = b.node('HardSwish', [p]);
    const hs = b.node('HardSigmoid', [h], { alpha: F(0.2), beta: F(0.5) });
    const lr = b.node('LeakyRelu', [hs], { alpha: F(0.1) });
    const sm = b.node('Softmax', [lr], { axis: 1 });
    const rm = b.node('ReduceMean', [sm], { axes: [2, 3], keepdims: 0 });
    b.output(sm);
    b.output(rm);
    const m = loadOnnx(b.encode());
    ck.tidy(() => {
      const xin = ck.tensor(randArray(2 * 18, 61, 2), [2, 2, 3, 3]);
      const [o1, o2] = m.predictAll(nhwc(xin)) as Tensor[];
      let r = ck.concat([nhwc(xin), ck.sigmoid(nhwc(xin))], 3);
      r = ck.div(ck.sub(1, r), ck.tensor([1, 2, 4, 8]));
      r = ck.pow(r, 2);
      r = ck.hardSwish(r);
      r = ck.hardSigmoid(r, { alpha: 0.2, beta: 0.5 });
      r = ck.leakyRelu(r, 0.1);
      r = ck.softmax(r, 3);
      close(o1, r);
      close(o2, ck.mean(r, { axes: [1, 2] }));
    });
  });

  it('Transpose relabels axes without moving data; Pad, Slice and Split map their axes through the layout', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 2, 4, 5]);
    const p = b.node('Pad', [x, b.ints('pads', [0, 0, 1, 0, 0, 0, 0, 2]), b.init('pv', [], [0.5])]); // H 4->5, W 5->7
    const sl = b.node('Slice', [p, b.ints('st', [1, -6]), b.ints('en', [5, 1000]), b.ints('ax', [2, 3])]); // H 1..5, W 1..7
    const [s1, s2] = [0, 1].map((i) => `split_${i}`);
    b.node('Split', [sl, b.ints('sizes', [2, 4])], { axis: 3 }, [s1, s2]);
    const t = b.node('Transpose', [s2], { perm: [0, 1, 3, 2] });
    const y = b.node('Relu', [t]);
    b.output(s1);
    b.output(y);
    const m = loadOnnx(b.encode());
    ck.tidy(() => {
      const xin = ck.tensor(randArray(2 * 40, 71), [2, 2, 4, 5]);
      const [o1, o2] = m.predictAll(nhwc(xin)) as Tensor[];
      const padded = ck.pad(xin, [[0, 0], [0, 0], [1, 0], [0, 2]], 0.5);
      const sliced = ck.slice(padded, [0, 0, 1, 1], [2, 2, 4, 6]);
      close(o1, nhwc(ck.slice(sliced, [0, 0, 0, 0], [2, 2, 4, 2])));
      close(o2, nhwc(ck.relu(ck.transpose(ck.slice(sliced, [0, 0, 0, 2], [2, 2, 4, 4]), [0, 1, 3, 2]))));
    });
  });

  it('channelsLast: false keeps the file\'s NCHW layout (Permute layers around the convolution)', () => {
    const b = new OnnxBuilder(11);
    const x = b.input('x', [1, 2, 5, 5]);
    const w = randArray(3 * 2 * 3 * 3, 81);
    const y = b.node('Conv', [x, b.init('w', [3, 2, 3, 3], w)], { auto_pad: 'SAME_UPPER', strides: [2, 2] });
    b.output(y);
    const bytes = b.encode();
    const m = loadOnnx(bytes, { channelsLast: false });
    expect(m.inputs[0].shape).toEqual([2, 5, 5]);
    ck.tidy(() => {
      const xin = ck.tensor(randArray(50, 82), [1, 2, 5, 5]);
      const want = nchw(ck.conv2d(nhwc(xin), hwio(w, [3, 2, 3, 3]), { strides: 2, padding: 'same' }));
      close(m.predict(xin), want);
      close(loadOnnx(bytes).predict(nhwc(xin)), nhwc(want));
    });
  });

  it('convkit.inputLayout NHWC metadata: the input is taken as it is and its Transpose to NCHW moves no data', () => {
    const b = new OnnxBuilder(13);
    b.metadata['convkit.inputLayout'] = 'NHWC';
    const x = b.input('x', ['N', 4, 4, 2]);
    const t = b.node('Transpose', [x], { perm: [0, 3, 1, 2] });
    const w = randArray(3 * 2 * 3 * 3, 91);
    const c = b.node('Conv', [t, b.init('w', [3, 2, 3, 3], w)], { pads: [1, 1, 1, 1] });
    const y = b.node('Transpose', [c], { perm: [0, 2, 3, 1] });
    b.output(y);
    const m = loadOnnx(b.encode());
    expect(m.layers.map((l) => l.className)).toEqual(['Conv2D']);
    ck.tidy(() => {
      const xin = ck.tensor(randArray(32, 92), [1, 4, 4, 2]);
      close(m.predict(xin), ck.conv2d(xin, hwio(w, [3, 2, 3, 3]), { padding: 1 }));
    });
  });

  it('older opsets: attributes instead of inputs (Clip min/max, Unsqueeze/Squeeze axes, Pad pads, Split split, Softmax on the last axis)', () => {
    const b = new OnnxBuilder(9);
    const x = b.input('x', [1, 4, 6]); // NCL
    const c = b.node('Clip', [x], { min: F(0), max: F(6) });
    const p = b.node('Pad', [c], { pads: [0, 0, 1, 0, 0, 1], value: F(0) });
    const [s1, s2] = ['a', 'b'];
    b.node('Split', [p], { axis: 1, split: [1, 3] }, [s1, s2]);
    const sm = b.node('Softmax', [s2], { axis: 2 });
    b.output(s1);
    b.output(sm);
    const m = loadOnnx(b.encode());
    ck.tidy(() => {
      const xin = ck.tensor(randArray(24, 101, 8), [1, 4, 6]);
      const [o1, o2] = m.predictAll(ck.transpose(xin, [0, 2, 1])) as Tensor[];
      const padded = ck.pad(ck.clip(xin, 0, 6), [[0, 0], [0, 0], [1, 1]]);
      close(o1, ck.transpose(ck.slice(padded, [0, 0, 0], [1, 1, 8]), [0, 2, 1]));
      close(o2, ck.transpose(ck.softmax(ck.slice(padded, [0, 1, 0], [1, 3, 8]), 2), [0, 2, 1]));
    });
  });

  it('ConvTranspose, AveragePool (count_include_pad), LayerNormalization (opset 17)', () => {
    const b = new OnnxBuilder(17);
    const x = b.input('x', [2, 3, 4, 4]);
    const w = randArray(3 * 2 * 2 * 2, 111), bias = randArray(2, 112);
    const ct = b.node('ConvTranspose', [x, b.init('w', [3, 2, 2, 2], w), b.init('b', [2], bias)], { strides: [2, 2] });
    const ap = b.node('AveragePool', [ct], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], count_include_pad: 1 });
    const g = randArray(4, 113), be = randArray(4, 114);
    const ln = b.node('LayerNormalization', [ap, b.init('g', [4], g), b.init('be', [4], be)], { axis: -1, epsilon: F(1e-5) });
    b.output(ln);
    const m = loadOnnx(b.encode());
    ck.tidy(() => {
      const xin = ck.tensor(randArray(96, 115), [2, 3, 4, 4]);
      let r = ck.conv2dTranspose(nhwc(xin), ck.transpose(ck.tensor(w, [3, 2, 2, 2]), [2, 3, 1, 0]), { strides: 2, bias: ck.tensor(bias) });
      r = ck.avgPool2d(r, { size: 3, strides: 2, padding: 1, countIncludePad: true });
      const rn = nchw(r);
      const mu = ck.mean(rn, { axes: [3], keepDims: true });
      const v = ck.mean(ck.square(ck.sub(rn, mu)), { axes: [3], keepDims: true });
      const want = ck.add(ck.mul(ck.div(ck.sub(rn, mu), ck.sqrt(ck.add(v, 1e-5))), ck.tensor(g)), ck.tensor(be));
      close(m.predict(nhwc(xin)), nhwc(want));
    });
  });

  it('GELU as PyTorch 1.13 decomposes it at opset 13 (Div, Erf, Add, Mul, Mul) and LayerNorm (ReduceMean, Sub, Pow, Add, Sqrt, Div, Mul, Add) on [N, T, C]', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 5, 4]);
    const d = b.node('Div', [x, b.init('sqrt2', [], [Math.SQRT2])]);
    const e = b.node('Erf', [d]);
    const a = b.node('Add', [e, b.init('one', [], [1])]);
    const m1 = b.node('Mul', [x, a]);
    const g = b.node('Mul', [m1, b.init('half', [], [0.5])]);
    const mu = b.node('ReduceMean', [g], { axes: [-1], keepdims: 1 });
    const c = b.node('Sub', [g, mu]);
    const sq = b.node('Pow', [c, b.init('two', [], [2])]);
    const v = b.node('ReduceMean', [sq], { axes: [-1], keepdims: 1 });
    const sd = b.node('Sqrt', [b.node('Add', [v, b.init('eps', [], [1e-5])])]);
    const gamma = randArray(4, 131), beta = randArray(4, 132);
    const y = b.node('Add', [b.node('Mul', [b.node('Div', [c, sd]), b.init('gamma', [4], gamma)]), b.init('beta', [4], beta)]);
    b.output(y);
    const m = loadOnnx(b.encode());
    ck.tidy(() => {
      const xin = ck.tensor(randArray(2 * 20, 133, 3), [2, 5, 4]);
      const gx = ck.gelu(ck.transpose(xin, [0, 2, 1]));
      const mean = ck.mean(gx, { axes: [1], keepDims: true });
      const cc = ck.sub(gx, mean);
      const want = ck.add(ck.mul(ck.div(cc, ck.sqrt(ck.add(ck.mean(ck.square(cc), { axes: [1], keepDims: true }), 1e-5))), ck.reshape(ck.tensor(gamma), [1, 4, 1])), ck.reshape(ck.tensor(beta), [1, 4, 1]));
      // NCL input [2, 5, 4] is held channels-last: [2, 4, 5].
      close(m.predict(ck.transpose(xin, [0, 2, 1])), want);
    });
  });

  it('Pad reflect and edge, InstanceNormalization', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 2, 3, 4]);
    const r = b.node('Pad', [x, b.ints('p1', [0, 0, 2, 1, 0, 0, 1, 3])], { mode: 'reflect' });
    const e = b.node('Pad', [x, b.ints('p2', [0, 0, 1, 0, 0, 0, 2, 2])], { mode: 'edge' });
    const sc = randArray(2, 141), bi = randArray(2, 142);
    const inorm = b.node('InstanceNormalization', [x, b.init('sc', [2], sc), b.init('bi', [2], bi)], { epsilon: F(1e-5) });
    b.output(r);
    b.output(e);
    b.output(inorm);
    const m = loadOnnx(b.encode());
    const xs = randArray(24, 143);
    const xin = ck.tensor(xs, [1, 2, 3, 4]);
    const [o1, o2, o3] = m.predictAll(nhwc(xin)) as Tensor[];
    const at = (c: number, i: number, j: number) => xs[c * 12 + i * 4 + j];
    const refl = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
    const edge = (i: number, n: number) => Math.min(n - 1, Math.max(0, i));
    const build = (pb: number[], pa: number[], f: (i: number, n: number) => number) => {
      const H = 3 + pb[0] + pa[0], W = 4 + pb[1] + pa[1];
      const out: number[] = [];
      for (let c = 0; c < 2; c++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) out.push(at(c, f(i - pb[0], 3), f(j - pb[1], 4)));
      return nhwc(ck.tensor(out, [1, 2, H, W]));
    };
    close(o1, build([2, 1], [1, 3], refl));
    close(o2, build([1, 0], [2, 2], edge));
    const mu = ck.mean(xin, { axes: [2, 3], keepDims: true });
    const v = ck.mean(ck.square(ck.sub(xin, mu)), { axes: [2, 3], keepDims: true });
    const want = ck.add(ck.mul(ck.div(ck.sub(xin, mu), ck.sqrt(ck.add(v, 1e-5))), ck.reshape(ck.tensor(sc), [1, 2, 1, 1])), ck.reshape(ck.tensor(bi), [1, 2, 1, 1]));
    close(o3, nhwc(want));
  });

  it('Resize (nearest asymmetric/floor, linear half_pixel / pytorch_half_pixel / align_corners, sizes and scales) and Upsample (opset 9)', () => {
    const xs = randArray(2 * 3 * 4, 151);
    const ref = (oh: number, ow: number, mode: string, coord: string, nearest = 'round_prefer_floor') => {
      const out: number[] = [];
      const src = (o: number, n: number, m: number) => {
        const s = m / n;
        if (coord === 'align_corners') return m === 1 ? 0 : (o * (n - 1)) / (m - 1);
        if (coord === 'asymmetric') return o / s;
        if (coord === 'pytorch_half_pixel' && m === 1) return 0;
        return (o + 0.5) / s - 0.5;
      };
      const rnd = (v: number) => (nearest === 'floor' ? Math.floor(v) : Math.ceil(v - 0.5));
      for (let c = 0; c < 2; c++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
        const at = (y: number, x: number) => xs[c * 12 + y * 4 + x];
        if (mode === 'nearest') { out.push(at(Math.min(2, Math.max(0, rnd(src(i, 3, oh)))), Math.min(3, Math.max(0, rnd(src(j, 4, ow)))))); continue; }
        const sy = Math.min(2, Math.max(0, src(i, 3, oh))), sx = Math.min(3, Math.max(0, src(j, 4, ow)));
        const y0 = Math.floor(sy), x0 = Math.floor(sx), y1 = Math.min(2, y0 + 1), x1 = Math.min(3, x0 + 1), wy = sy - y0, wx = sx - x0;
        out.push((at(y0, x0) * (1 - wx) + at(y0, x1) * wx) * (1 - wy) + (at(y1, x0) * (1 - wx) + at(y1, x1) * wx) * wy);
      }
      return nhwc(ck.tensor(out, [1, 2, oh, ow]));
    };
    const cases: [string, string, number[] | null, number[] | null, number, number, string?][] = [
      ['nearest', 'asymmetric', [1, 1, 2, 2], null, 6, 8, 'floor'],
      ['linear', 'half_pixel', null, [1, 2, 5, 7], 5, 7],
      ['linear', 'pytorch_half_pixel', [1, 1, 2, 2], null, 6, 8],
      ['linear', 'align_corners', null, [1, 2, 4, 9], 4, 9],
      ['nearest', 'half_pixel', null, [1, 2, 2, 3], 2, 3],
    ];
    for (const [mode, coord, scales, sizes, oh, ow, nearest] of cases) {
      const b = new OnnxBuilder(13);
      const x = b.input('x', [1, 2, 3, 4]);
      const ins = [x, '', scales ? b.init('scales', [4], scales) : '', ...(sizes ? [b.ints('sizes', sizes)] : [])];
      b.output(b.node('Resize', ins, { mode, coordinate_transformation_mode: coord, ...(nearest ? { nearest_mode: nearest } : {}) }));
      close(loadOnnx(b.encode()).predict(nhwc(ck.tensor(xs, [1, 2, 3, 4]))), ref(oh, ow, mode, coord, nearest));
    }
    const u = new OnnxBuilder(9);
    const ux = u.input('x', [1, 2, 3, 4]);
    u.output(u.node('Upsample', [ux, u.init('s', [4], [1, 1, 2, 3])], { mode: 'nearest' }));
    close(loadOnnx(u.encode()).predict(nhwc(ck.tensor(xs, [1, 2, 3, 4]))), ref(6, 12, 'nearest', 'asymmetric', 'floor'));
  });

  it('a 1D signal net: Conv (1D) -> MaxPool (1D) -> AveragePool (1D) -> GlobalAveragePool -> Squeeze -> Gemm', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 2, 16]);
    const w = randArray(3 * 2 * 5, 161), bias = randArray(3, 162), wg = randArray(4 * 3, 163);
    let h = b.node('Conv', [x, b.init('w', [3, 2, 5], w), b.init('b', [3], bias)], { kernel_shape: [5], pads: [2, 2] });
    h = b.node('MaxPool', [h], { kernel_shape: [2], strides: [2] });
    h = b.node('AveragePool', [h], { kernel_shape: [3], strides: [1], pads: [1, 1] });
    h = b.node('GlobalAveragePool', [h]);
    h = b.node('Squeeze', [h, b.ints('ax', [2])]);
    b.output(b.node('Gemm', [h, b.init('wg', [4, 3], wg)], { transB: 1 }));
    const m = loadOnnx(b.encode());
    expect(m.layers.some((l) => l.className === 'Permute')).toBe(false);
    ck.tidy(() => {
      const xin = ck.tensor(randArray(2 * 32, 164), [2, 2, 16]);
      const xl = ck.transpose(xin, [0, 2, 1]);
      let r = ck.conv1d(xl, ck.transpose(ck.tensor(w, [3, 2, 5]), [2, 1, 0]), { padding: 2, bias: ck.tensor(bias) });
      r = ck.maxPool1d(r, { size: 2, strides: 2 });
      r = ck.avgPool1d(r, { size: 3, strides: 1, padding: 1 });
      r = ck.mean(r, { axes: [1] });
      close(m.predict(xl), ck.matmul(r, ck.transpose(ck.tensor(wg, [4, 3]))));
    });
  });

  it('Gather of one channel of a computed tensor (x[:, 0]), Unsqueeze, and Concat back (googlenet transform_input)', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 3, 2, 2]);
    const parts = [0, 1, 2].map((c) => {
      const g = b.node('Gather', [x, b.init(`i${c}`, [], [c], ONNX_DTYPE.INT64)], { axis: 1 });
      const u = b.node('Unsqueeze', [g, b.ints(`a${c}`, [1])]);
      return b.node('Add', [b.node('Mul', [u, b.init(`s${c}`, [], [c + 1])]), b.init(`o${c}`, [], [c / 10])]);
    });
    b.output(b.node('Concat', [parts[2], parts[0], parts[1]], { axis: 1 }));
    const m = loadOnnx(b.encode());
    expect(m.layers.some((l) => l.className === 'Permute')).toBe(false);
    ck.tidy(() => {
      const xin = ck.tensor(randArray(24, 171), [2, 3, 2, 2]);
      const ch = (c: number) => ck.add(ck.mul(ck.slice(xin, [0, c, 0, 0], [2, 1, 2, 2]), c + 1), c / 10);
      close(m.predict(nhwc(xin)), nhwc(ck.concat([ch(2), ch(0), ch(1)], 1)));
    });
  });

  it('PRelu (one slope per channel and one shared), GreaterOrEqual + Cast (a step)', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 3, 2, 2]);
    const p1 = b.node('PRelu', [x, b.init('slope', [3, 1, 1], [0.1, 0.2, 0.3])]);
    const p2 = b.node('PRelu', [p1, b.init('one', [1], [0.5])]);
    const st = b.node('Cast', [b.node('GreaterOrEqual', [p2, b.init('c', [], [0.25])])], { to: ONNX_DTYPE.FLOAT });
    b.output(p2);
    b.output(st);
    const m = loadOnnx(b.encode());
    ck.tidy(() => {
      const xin = nhwc(ck.tensor(randArray(24, 181), [2, 3, 2, 2]));
      const [o1, o2] = m.predictAll(xin) as Tensor[];
      const want = ck.prelu(ck.prelu(xin, ck.tensor([0.1, 0.2, 0.3])), ck.tensor([0.5, 0.5, 0.5]));
      close(o1, want);
      close(o2, ck.cast(ck.greaterEqual(want, 0.25), 'float32'));
    });
  });

  it('depthwise with a channel multiplier (group = C, 2C outputs) and a grouped convolution (group 2) with dilation', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 4, 7, 7]);
    const wd = randArray(8 * 1 * 3 * 3, 191), bd = randArray(8, 192), wg = randArray(6 * 4 * 3 * 3, 193);
    const d = b.node('Conv', [x, b.init('wd', [8, 1, 3, 3], wd), b.init('bd', [8], bd)], { group: 4, pads: [1, 1, 1, 1], strides: [2, 2] });
    const g = b.node('Conv', [d, b.init('wg', [6, 4, 3, 3], wg)], { group: 2, dilations: [2, 2], auto_pad: 'SAME_LOWER' });
    b.output(d);
    b.output(g);
    const m = loadOnnx(b.encode());
    ck.tidy(() => {
      const xin = ck.tensor(randArray(196, 194), [1, 4, 7, 7]);
      const [o1, o2] = m.predictAll(nhwc(xin)) as Tensor[];
      // Reference: the grouped convolution with groups = C is the depthwise one.
      const r1 = ck.conv2d(nhwc(xin), hwio(wd, [8, 1, 3, 3]), { strides: 2, padding: 1, groups: 4, bias: ck.tensor(bd) });
      close(o1, r1);
      // SAME_LOWER with an even total pad (dilated kernel 5 on 4: total 4) is symmetric.
      close(o2, ck.conv2d(r1, hwio(wg, [6, 4, 3, 3]), { groups: 2, dilations: 2, padding: 2 }));
    });
  });

  it('MaxPool and AveragePool with dilations; Greater/Less/Equal/GreaterOrEqual/LessOrEqual and Where on computed tensors', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 3, 9, 9]);
    const mp = b.node('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [2, 2] });
    const ap = b.node('AveragePool', [x], { kernel_shape: [2, 3], dilations: [3, 2] });
    const half = b.init('half', [], [0.25]);
    const gt = b.node('Greater', [mp, half]);
    const lt = b.node('Less', [b.init('q', [], [0.5]), mp]);
    const eq = b.node('Equal', [mp, mp]);
    const ge = b.node('GreaterOrEqual', [mp, b.node('Neg', [mp])]);
    const le = b.node('LessOrEqual', [mp, half]);
    const cmp = b.node('Add', [b.node('Add', [gt, lt]), b.node('Add', [eq, b.node('Add', [ge, le])])]);
    const w = b.node('Where', [gt, mp, b.node('Mul', [mp, b.init('k', [], [0.1])])]);
    const wc = b.node('Where', [gt, mp, b.init('zero', [], [0])]);
    const wc2 = b.node('Where', [lt, b.init('perc', [3, 1, 1], [1, 2, 3]), mp]);
    b.output(ap);
    b.output(cmp);
    b.output(w);
    b.output(wc);
    b.output(wc2);
    const m = loadOnnx(b.encode());
    expect(m.layers.some((l) => l.className === 'Where')).toBe(true);
    ck.tidy(() => {
      const xin = ck.tensor(randArray(2 * 3 * 81, 211), [2, 3, 9, 9]);
      const [o1, o2, o3, o4, o5] = m.predictAll(nhwc(xin)) as Tensor[];
      const mpv = ck.maxPool2d(nhwc(xin), { size: 3, strides: 2, padding: 1, dilations: 2 });
      expect(mpv.shape).toEqual([2, 4, 4, 3]);
      close(o1, ck.avgPool2d(nhwc(xin), { size: [2, 3], strides: 1, dilations: [3, 2] })); // ONNX strides default to 1
      const f = (t: Tensor) => ck.cast(t, 'float32');
      const want = ck.add(ck.add(f(ck.greater(mpv, 0.25)), f(ck.less(0.5, mpv))), ck.add(ck.onesLike(mpv), ck.add(f(ck.greaterEqual(mpv, ck.neg(mpv))), f(ck.lessEqual(mpv, 0.25)))));
      close(o2, want);
      close(o3, ck.where(ck.greater(mpv, 0.25), mpv, ck.mul(mpv, 0.1)));
      close(o4, ck.where(ck.greater(mpv, 0.25), mpv, 0));
      close(o5, ck.where(ck.less(0.5, mpv), ck.tensor([1, 2, 3]), mpv));
    });
  });

  it('Slice with steps on a computed tensor (2, -1, -2, negative starts and ends), Expand of a constant to a shape that holds the batch size', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 3, 7, 6]);
    const s1 = b.node('Slice', [x, b.ints('st1', [1, 0]), b.ints('en1', [2 ** 62, 5]), b.ints('ax1', [2, 3]), b.ints('sp1', [2, 2])]);
    const s2 = b.node('Slice', [x, b.ints('st2', [-1, 2]), b.ints('en2', [-(2 ** 62), -8]), b.ints('ax2', [1, 3]), b.ints('sp2', [-1, -2])]);
    const c = b.init('c', [1, 3, 1, 1], [1, 2, 3]);
    const e = b.node('Expand', [c, b.node('Shape', [x])]);
    const a = b.node('Add', [x, e]);
    b.output(s1);
    b.output(s2);
    b.output(a);
    const m = loadOnnx(b.encode());
    ck.tidy(() => {
      const xin = ck.tensor(randArray(2 * 3 * 42, 221), [2, 3, 7, 6]);
      const [o1, o2, o3] = m.predictAll(nhwc(xin)) as Tensor[];
      const idx = (v: number[]) => ck.tensor(Int32Array.from(v), undefined, 'int32');
      // NCHW reference: H rows 1, 3, 5; W columns 0, 2, 4.
      close(o1, nhwc(ck.gather(ck.gather(xin, idx([1, 3, 5]), 2), idx([0, 2, 4]), 3)));
      // Channels 2, 1, 0; W columns 2, 0.
      close(o2, nhwc(ck.gather(ck.gather(xin, idx([2, 1, 0]), 1), idx([2, 0]), 3)));
      close(o3, nhwc(ck.add(xin, ck.tensor([1, 2, 3], [1, 3, 1, 1]))));
    });
    // Expanding to the batch size where the result is not only broadcast into an elementwise op is refused.
    const b2 = new OnnxBuilder(13);
    const x2 = b2.input('x', ['N', 3]);
    b2.output(b2.node('Concat', [x2, b2.node('Expand', [b2.init('c', [1, 3], [1, 2, 3]), b2.node('Shape', [x2])])], { axis: 1 }));
    expect(() => loadOnnx(b2.encode(), { mode: 'layers' })).toThrow(/Expand.*expanding to the batch size \[N, 3\] is supported only/);
  });

  it('If with a condition that folds to a constant runs the chosen branch (outer-scope values, branch initializers); 3D AveragePool / MaxPool (PyTorch LocalResponseNorm)', () => {
    for (const rank4 of [true, false]) {
      const b = new OnnxBuilder(13);
      const x = b.input('x', ['N', 4, 3, 5]);
      const sq = b.node('Mul', [x, x]);
      const u = b.node('Unsqueeze', [sq, b.ints('ax', [1])]); // [N, 1, C, H, W]
      const p = b.node('Pad', [u, b.ints('pads', [0, 0, 1, 0, 0, 0, 0, 2, 0, 0])]);
      const ap = b.node('AveragePool', [p], { kernel_shape: [4, 1, 1] }); // [N, 1, C, H, W]
      const mp = b.node('MaxPool', [u], { kernel_shape: [2, 2, 3], strides: [1, 1, 2], pads: [0, 1, 1, 1, 0, 1] });
      // rank of x == 4 (constant at import): then squeeze axis 1, else take a different path.
      const r = b.node('Gather', [b.node('Shape', [b.node('Shape', [x])]), b.ints('zero', [0])]);
      const cond = b.node('Equal', [r, b.ints('four', [rank4 ? 4 : 5])]);
      const t = new OnnxBuilder(13);
      t.output(t.node('Squeeze', [ap, t.ints('one_in_branch', [1])], {}, ['then_out']));
      const e = new OnnxBuilder(13);
      e.output(e.node('Mul', [x, e.init('two', [], [2])], {}, ['else_out']));
      const y = b.node('If', [cond], { then_branch: { g: t.graph('then') }, else_branch: { g: e.graph('else') } });
      b.output(b.node('Div', [x, b.node('Add', [y, b.init('k', [], [1])])]));
      b.output(mp);
      const m = loadOnnx(b.encode());
      ck.tidy(() => {
        const xin = ck.tensor(randArray(2 * 60, 231, 2), [2, 4, 3, 5]);
        const [o1, o2] = m.predictAll(nhwc(xin)) as Tensor[];
        const ndhwc = (v: Tensor) => ck.transpose(v, [0, 2, 3, 4, 1]);
        const u5 = ck.reshape(ck.mul(xin, xin), [2, 1, 4, 3, 5]);
        const apv = ck.reshape(ck.avgPool3d(ck.pad(ndhwc(u5), [[0, 0], [1, 2], [0, 0], [0, 0], [0, 0]]), { size: [4, 1, 1], strides: 1 }), [2, 4, 3, 5]);
        const yv = rank4 ? apv : ck.mul(xin, 2);
        close(o1, nhwc(ck.div(xin, ck.add(yv, 1))));
        close(o2, ck.maxPool3d(ndhwc(u5), { size: [2, 2, 3], strides: [1, 1, 2], padding: [[0, 1], [1, 0], [1, 1]] }));
      });
    }
    // A condition computed from the input is refused, naming the If.
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 1]);
    const t = new OnnxBuilder(13);
    t.output(t.node('Identity', [x], {}, ['t_out']));
    const e = new OnnxBuilder(13);
    e.output(e.node('Neg', [x], {}, ['e_out']));
    b.output(b.node('If', [b.node('Greater', [x, b.init('z', [], [0])])], { then_branch: { g: t.graph() }, else_branch: { g: e.graph() } }));
    expect(() => loadOnnx(b.encode(), { mode: 'layers' })).toThrow(/node '\/If_\d+' \(If\): the condition depends on the model input/);
    // An unsupported operator in the taken branch is named.
    const b3 = new OnnxBuilder(13);
    const x3 = b3.input('x', ['N', 2]);
    const t3 = new OnnxBuilder(13);
    t3.output(t3.node('Gelu', [x3], {}, ['g_out']));
    b3.output(b3.node('If', [b3.ints('c', [1])], { then_branch: { g: t3.graph() }, else_branch: { g: t3.graph() } }));
    expect(() => loadOnnx(b3.encode(), { mode: 'layers' })).toThrow(/then_branch: node '\/Gelu_1' \(Gelu\): Gelu is an opset 20 operator; the model imports opset 13/);
  });

  it('unary math (Abs, Neg, Exp, Log, Reciprocal, Sqrt), Max/Min of two computed tensors, LogSoftmax over channels, Tanh/Elu/Selu/Softplus, ReduceSum/ReduceMax', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 3, 2, 3]);
    const a = b.node('Abs', [x]);
    const l = b.node('Log', [b.node('Add', [a, b.init('one', [], [1])])]);
    const e = b.node('Exp', [b.node('Neg', [a])]);
    const r = b.node('Reciprocal', [b.node('Sqrt', [b.node('Add', [a, b.init('one2', [], [1])])])]);
    const mx = b.node('Max', [l, e]);
    const mn = b.node('Min', [mx, r]);
    const ls = b.node('LogSoftmax', [b.node('Tanh', [mn])], { axis: 1 });
    const act = b.node('Softplus', [b.node('Selu', [b.node('Elu', [ls], { alpha: F(0.5) })])]);
    const rs = b.node('ReduceSum', [act, b.ints('axes', [1])], { keepdims: 0 });
    const rmax = b.node('ReduceMax', [act], { axes: [1, 3], keepdims: 1 });
    b.output(ls);
    b.output(rs);
    b.output(rmax);
    const m = loadOnnx(b.encode());
    ck.tidy(() => {
      const xin = ck.tensor(randArray(36, 201, 3), [2, 3, 2, 3]);
      const [o1, o2, o3] = m.predictAll(nhwc(xin)) as Tensor[];
      const av = ck.abs(xin);
      const lv = ck.log(ck.add(av, 1)), ev = ck.exp(ck.neg(av)), rv = ck.reciprocal(ck.sqrt(ck.add(av, 1)));
      const lsv = ck.logSoftmax(ck.tanh(ck.minimum(ck.maximum(lv, ev), rv)), 1);
      const actv = ck.softplus(ck.selu(ck.elu(lsv, 0.5)));
      close(o1, nhwc(lsv));
      // The [N, H, W] sum is an output of rank 3: returned channels-last like any NCL output, [N, W, H].
      close(o2, ck.transpose(ck.sum(actv, { axes: [1] }), [0, 2, 1]));
      close(o3, nhwc(ck.max(actv, { axes: [1, 3], keepDims: true })));
    });
  });
});

describe('ONNX import: the model is an ordinary convkit model', () => {
  function small(): Uint8Array {
    const b = new OnnxBuilder(13);
    const x = b.input('x', ['N', 1, 4, 4]);
    let h = b.node('Conv', [x, b.init('w', [2, 1, 3, 3], randArray(18, 201)), b.init('b', [2], [0.1, -0.1])], { pads: [1, 1, 1, 1] });
    h = b.node('Mul', [h, b.init('s', [1, 2, 1, 1], [2, 3])]);
    h = b.node('Relu', [h]);
    h = b.node('Flatten', [h]);
    h = b.node('Gemm', [h, b.init('wg', [3, 32], randArray(96, 202)), b.init('bg', [3], [1, 2, 3])], { transB: 1 });
    b.output(h);
    return b.encode();
  }

  it('summarises, saves and loads back (the new layers serialise), and loadModel takes ONNX bytes, ArrayBuffers and files by content', async () => {
    const bytes = small();
    expect(isOnnx(bytes)).toBe(true);
    expect(isOnnx(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)).toBe(true);
    expect(isOnnx(new TextEncoder().encode('{"format": "convkit-model/1"}'))).toBe(false);
    const m = loadOnnx(bytes);
    expect(m.countParams()).toBe(2 * 9 + 2 + 2 + 32 * 3 + 3);
    let text = '';
    m.summary({ printFn: (t) => { text = t; } });
    expect(text).toMatch(/MACs per example: 384/);
    const x = ck.tensor(randArray(32, 203), [2, 4, 4, 1]);
    const y = m.predict(x);
    const dir = mkdtempSync(join(tmpdir(), 'onnx-import-'));
    await ck.saveModel(m, join(dir, 'saved'));
    const again = await ck.loadModel(join(dir, 'saved'));
    close(again.predict(x), y);
    const file = join(dir, 'model.bin');
    writeFileSync(file, bytes);
    for (const src of [bytes, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, file]) {
      close((await ck.loadModel(src as never)).predict(x), y);
    }
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, new Uint8Array([0x08, 0x07, 0xff]));
    await expect(ck.loadModel(junk)).rejects.toThrow(/junk\.onnx: not a readable ONNX model/);
    await expect(ck.loadModel(new Uint8Array([1, 2, 3]))).rejects.toThrow(ck.ModelFormatError);
  });

  it('fine-tunes: a frozen backbone keeps its weights while the Dense head trains', async () => {
    const m = loadOnnx(small());
    m.freeze((l) => l.className !== 'Dense');
    const conv = m.layers.find((l) => l.className === 'Conv2D')!;
    const before = conv.weights[0].value.dataSync().slice();
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const x = ck.tensor(randArray(64, 204), [4, 4, 4, 1]);
    const t = ck.tensor(randArray(12, 205), [4, 3]);
    await m.fit(x, t, { epochs: 2, batchSize: 4, verbose: 0 });
    expect(Array.from(conv.weights[0].value.dataSync())).toEqual(Array.from(before));
    m.replaceHead(ck.layers.dense({ units: 2 }));
    expect(m.predict(x).shape).toEqual([4, 2]);
  });

  it('a MaxPooling2D with dilations exports with its dilations and imports back equal; a dilated AveragePooling2D is refused by the exporter', () => {
    const inp = ck.input([9, 9, 2]);
    const out = ck.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 1, dilations: [2, 1] }).apply(inp);
    const m = ck.model({ inputs: inp, outputs: out });
    const back = loadOnnx(ck.encodeOnnx(m));
    ck.tidy(() => {
      const xin = ck.tensor(randArray(2 * 81 * 2, 241), [2, 9, 9, 2]);
      close(back.predict(xin) as Tensor, m.predict(xin) as Tensor);
    });
    const inp2 = ck.input([9, 9, 2]);
    const m2 = ck.model({ inputs: inp2, outputs: ck.layers.averagePooling2d({ poolSize: 2, dilations: 2 }).apply(inp2) });
    expect(() => ck.encodeOnnx(m2)).toThrow(/dilations \[2,2\] has no ONNX form before opset 19/);
  });

  it('unnamed nodes are named after their output in errors', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 2]);
    b.node('Foo', [x], {}, ['foo_out']);
    b.nodes[0].name = '';
    b.output('foo_out');
    expect(() => loadOnnx(b.encode(), { mode: 'layers' })).toThrow(/node 'Foo->foo_out' \(Foo\): operator Foo is not supported/);
  });
});

describe('ONNX import: errors', () => {
  const conv = (b: OnnxBuilder, x: string, wShape: number[]) => b.node('Conv', [x, b.init(`w${b.nodes.length}`, wShape, new Float32Array(wShape.reduce((p, q) => p * q, 1)))]);

  it('one error lists every unsupported node by name and op type, and unsupported attributes', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 2, 4, 4]);
    const a = b.node('Gelu', [x]);
    const c = b.node('MaxPool', [a], { kernel_shape: [2, 2], storage_order: 1 });
    const d = b.node('NonMaxSuppression', [c]);
    b.output(d);
    let err: unknown;
    try {
      loadOnnx(b.encode(), { name: 'net.onnx', mode: 'layers' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OnnxImportError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/net\.onnx: 3 problems/);
    expect(msg).toMatch(/node '\/Gelu_1' \(Gelu\): Gelu is an opset 20 operator; the model imports opset 13/);
    expect(msg).toMatch(/node '\/MaxPool_2' \(MaxPool\): storage_order 1 is not supported/);
    expect(msg).toMatch(/NonMaxSuppression/);
    expect((err as InstanceType<typeof OnnxImportError>).problems).toHaveLength(3);
  });

  it('truncated or corrupt bytes, opsets out of range, external data', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 1, 3, 3]);
    b.output(conv(b, x, [1, 1, 1, 1]));
    const bytes = b.encode();
    for (const cut of [1, 7, 20, bytes.length - 3]) expect(() => loadOnnx(bytes.subarray(0, cut), { name: 'cut.onnx', mode: 'layers' })).toThrow(/cut\.onnx: not a readable ONNX model/);
    expect(() => loadOnnx(new Uint8Array([0xff, 0xff, 0xff]), { name: 'junk', mode: 'layers' })).toThrow(OnnxImportError);
    for (const v of [0, 29]) {
      const o = new OnnxBuilder(v);
      o.input('x', [1, 1, 3, 3]);
      o.output(o.node('Relu', ['x']));
      for (const mode of ['layers', 'graph', 'auto'] as const) {
        expect(() => loadOnnx(o.encode(), { name: 'o.onnx', mode })).toThrow(new RegExp(`o\\.onnx: opset ${v} is not supported \\(expected opset 1 to 28`));
      }
    }
    // Opsets 18 to 28 are read; an attribute a newer opset added that no evaluator implements is refused by name, in every mode.
    for (const v of [18, 21, 28]) {
      const o = new OnnxBuilder(v);
      o.input('x', [1, 1, 3, 3]);
      o.output(o.node('Relu', ['x']));
      expect(Array.from(loadOnnx(o.encode(), { channelsLast: false }).predict(ck.tensor([-1, 2, -3, 4, -5, 6, -7, 8, -9], [1, 1, 3, 3])).dataSync())).toEqual([0, 2, 0, 4, 0, 6, 0, 8, 0]);
    }
    // Opset 20/24 activation operators map onto convkit's activation layers (layer mode, fusable), and equal the interpreter.
    const act = new OnnxBuilder(24);
    const ax0 = act.input('x', [1, 2, 5, 5]);
    const c1 = act.node('Conv', [ax0, act.init('w1', [3, 2, 3, 3], randArray(54, 3, 0.5)), act.init('b1', [3], randArray(3, 4))], { pads: [1, 1, 1, 1] });
    act.output(act.node('Swish', [act.node('Mish', [act.node('Gelu', [c1])])]));
    const xin = ck.tensor(randArray(50, 5), [1, 2, 5, 5]);
    const viaLayers = loadOnnx(act.encode(), { mode: 'layers', channelsLast: false }), viaGraph = loadOnnx(act.encode(), { mode: 'graph', channelsLast: false });
    expect(viaLayers).not.toBeInstanceOf(ck.OnnxGraphModel);
    expect(mismatch(viaLayers.predict(xin).dataSync(), viaGraph.predict(xin).dataSync(), { atol: 1e-5 })).toBeNull();
    // Gelu's tanh approximation and Swish's alpha are the interpreter's ('auto' takes it there).
    const tanhGelu = new OnnxBuilder(20);
    tanhGelu.output(tanhGelu.node('Gelu', [tanhGelu.input('x', [1, 4])], { approximate: 'tanh' }));
    expect(() => loadOnnx(tanhGelu.encode(), { mode: 'layers' })).toThrow(/approximate 'tanh' is read by the graph interpreter only/);
    const g = loadOnnx(tanhGelu.encode());
    expect(g).toBeInstanceOf(ck.OnnxGraphModel);
    const gx = ck.tensor([-2, -0.5, 0.5, 3], [1, 4]);
    expect(mismatch(g.predict(gx).dataSync(), ck.gelu(gx, { approximate: 'tanh' }).dataSync(), { atol: 1e-6 })).toBeNull();
    // Opset 18's Pad with an axes input, in both modes, equals the full pads of opset 13.
    const padded = (opset: number): Float32Array => {
      const pb = new OnnxBuilder(opset);
      const px = pb.input('x', [1, 2, 3, 3]);
      const c = pb.node('Conv', [px, pb.init('pw', [2, 2, 1, 1], randArray(4, 8))]);
      const pads = opset >= 18 ? [pb.ints('pads', [1, 0, 2, 3]), pb.init('pv', [], [0.25]), pb.ints('axes', [-1, 2])] : [pb.ints('pads', [0, 0, 0, 1, 0, 0, 3, 2]), pb.init('pv', [], [0.25])];
      pb.output(pb.node('Pad', [c, ...pads]));
      const xx = ck.tensor(randArray(18, 9), [1, 2, 3, 3]);
      const outs = (['layers', 'graph'] as const).map((mode) => loadOnnx(pb.encode(), { mode, channelsLast: false }).predict(xx).dataSync() as Float32Array);
      expect(Array.from(outs[0])).toEqual(Array.from(outs[1]));
      return outs[0];
    };
    expect(Array.from(padded(18))).toEqual(Array.from(padded(13)));
    // Cast to bfloat16: truncation up to opset 17 (as ONNX's reference then), rounding to nearest even from Cast-19.
    for (const [opset, want] of [[17, [1, -1, 1]], [19, [1.0078125, -1.0078125, 1]]] as const) {
      const cb = new OnnxBuilder(opset);
      cb.output(cb.node('Cast', [cb.input('x', [3])], { to: ONNX_DTYPE.BFLOAT16 }));
      const got = loadOnnx(cb.encode(), { mode: 'graph' }).predict(ck.tensor([1.0048828125, -1.0048828125, 1.00390625], [3]));
      expect(Array.from(got.dataSync()), `opset ${opset}`).toEqual(want);
    }
    const future = new OnnxBuilder(28);
    future.input('x', [1, 1, 3, 3]);
    future.output(future.node('Relu', ['x'], { future_option: 1 }));
    for (const mode of ['layers', 'graph', 'auto'] as const) expect(() => loadOnnx(future.encode(), { name: 'f.onnx', mode })).toThrow(/f\.onnx.*\(Relu\): attribute 'future_option' is not supported/);
    // Opset 1 to 6: operators whose semantics have not changed since are accepted, the others refused by name.
    const o6 = new OnnxBuilder(6);
    o6.input('x', [1, 1, 3, 3]);
    o6.output(o6.node('Relu', ['x']));
    for (const mode of ['layers', 'graph'] as const) expect(loadOnnx(o6.encode(), { mode }).predict(ck.ones([1, 3, 3, 1])).shape).toEqual([1, 3, 3, 1]);
    const u6 = new OnnxBuilder(6);
    u6.input('x', [1, 1, 3, 3]);
    u6.output(u6.node('Upsample', ['x'], { scales: { fs: [1, 1, 2, 2] } }));
    for (const mode of ['layers', 'graph', 'auto'] as const) {
      expect(() => loadOnnx(u6.encode(), { mode })).toThrow(/\(Upsample\): Upsample at opset 6 has semantics convkit does not implement/);
    }
    // A ModelProto whose initializer keeps its data in an external file (data_location = EXTERNAL).
    const w = new ProtoWriter();
    w.int(1, 8);
    w.message(7, (g) => {
      g.message(5, (t) => t.int(1, 2).int(2, ONNX_DTYPE.FLOAT).string(8, 'weight').int(14, 1));
      g.string(2, 'g');
    });
    w.message(8, (o) => o.int(2, 13));
    expect(() => loadOnnx(w.finish(), { name: 'ext.onnx', mode: 'layers' })).toThrow(/ext\.onnx: .*tensor 'weight' keeps its data in an external file/);
  });

  it('an initializer that does not fit its node names the node and the expected shape', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 3, 5, 5]);
    b.output(conv(b, x, [4, 2, 3, 3]));
    expect(() => loadOnnx(b.encode(), { name: 'bad.onnx', mode: 'layers' })).toThrow(/bad\.onnx: node '\/Conv_1' \(Conv\): weight of shape \[4, 2, 3, 3\] with group 1 expects 2 input channels, but the input has 3/);
    const g = new OnnxBuilder(13);
    const gx = g.input('x', [1, 6]);
    g.output(g.node('Gemm', [gx, g.init('w', [5, 2], new Float32Array(10))]));
    expect(() => loadOnnx(g.encode(), { mode: 'layers' })).toThrow(/\(Gemm\): weights of shape \[5, 2\] expect 5 input features, but the input has 6/);
    const n = new OnnxBuilder(13);
    const nx = n.input('x', [1, 2, 3, 3]);
    n.output(n.node('BatchNormalization', [nx, ...['s', 'b', 'm', 'v'].map((k) => n.init(k, [3], [1, 1, 1]))]));
    expect(() => loadOnnx(n.encode(), { mode: 'layers' })).toThrow(/scale has shape \[3\]; expected \[2\]/);
  });

  it('a cycle, a dangling input, an input of a non-float type or without fixed sizes', () => {
    const b = new OnnxBuilder(13);
    b.input('x', [1, 2]);
    b.node('Add', ['x', 'c'], {}, ['a']);
    b.node('Relu', ['a'], {}, ['c']);
    b.output('c');
    expect(() => loadOnnx(b.encode(), { name: 'cyc.onnx', mode: 'layers' })).toThrow(/cyc\.onnx: the graph has a cycle through nodes/);
    const d = new OnnxBuilder(13);
    d.input('x', [1, 2]);
    d.output(d.node('Add', ['x', 'nowhere']));
    expect(() => loadOnnx(d.encode(), { name: 'd.onnx', mode: 'layers' })).toThrow(/d\.onnx: node '\/Add_1' \(Add\) reads 'nowhere', which no node, initializer or graph input produces/);
    const i = new OnnxBuilder(13);
    i.input('ids', [1, 5], ONNX_DTYPE.INT64);
    i.output(i.node('Relu', ['ids']));
    expect(() => loadOnnx(i.encode(), { name: 'i.onnx', mode: 'layers' })).toThrow(/i\.onnx: graph input 'ids' has element type int64; convkit models take float32 inputs/);
    const s = new OnnxBuilder(13);
    s.input('x', ['N', 3, 'h', 'w']);
    s.output(s.node('Relu', ['x']));
    expect(() => loadOnnx(s.encode(), { mode: 'layers' })).toThrow(/graph input 'x' has axis 2 of size "h"/);
  });

  it('a failed import disposes what it built and leaves the process usable', () => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 2, 4, 4]);
    const h = conv(b, x, [2, 2, 3, 3]);
    b.output(b.node('Gemm', [h, b.init('wg', [7, 3], new Float32Array(21))]));
    const before = ck.memory().numTensors;
    expect(() => loadOnnx(b.encode(), { mode: 'layers' })).toThrow(OnnxImportError);
    expect(ck.memory().numTensors).toBe(before);
  });
});
