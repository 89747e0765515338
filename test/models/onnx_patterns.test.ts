/**
 * ONNX import of graph patterns that exporters other than torch.onnx write (the ONNX model
 * zoo's opset 7-9 files, tf2onnx, ShuffleNet's channel shuffle), each run in
 * onnxruntime-web (the reference) and in convkit from the same bytes: with the file's own
 * layout (channelsLast: false) and with convkit's channels-last rule (inputs and outputs
 * of rank 3 or more transposed).
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { F, OnnxBuilder, randArray } from '../util/onnx_build.js';
import { relDiff, runOrt, toChannelsFirst } from '../util/onnx_ort.js';

/** Channels-first (N, C, ...spatial) -> channels-last; rank < 3 unchanged. */
function toChannelsLast(data: ArrayLike<number>, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const r = shape.length;
  if (r < 3) return { data: Float32Array.from(data), shape: [...shape] };
  const perm = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
  const t = ck.transpose(ck.tensor(Float32Array.from(data), [...shape]), perm);
  return { data: t.dataSync() as Float32Array, shape: t.shape };
}

interface Pattern {
  name: string;
  input: number[];
  build(b: OnnxBuilder, x: string): string;
  opset?: number;
}

const P: Pattern[] = [
  {
    name: 'ShuffleNet channel shuffle: Reshape to 5-D, Transpose of the group axes, Reshape back',
    input: [1, 8, 5, 5],
    build(b, x) {
      let h = b.node('Conv', [x, b.init('w', [8, 8, 1, 1], randArray(64, 1))], { kernel_shape: [1, 1] });
      h = b.node('Reshape', [h, b.ints('s1', [1, 2, 4, 5, 5])]);
      h = b.node('Transpose', [h], { perm: [0, 2, 1, 3, 4] });
      h = b.node('Reshape', [h, b.ints('s2', [1, 8, 5, 5])]);
      return b.node('Conv', [h, b.init('w2', [4, 8, 3, 3], randArray(288, 2, 0.3))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    },
  },
  {
    name: 'model zoo opset 7: BatchNormalization(spatial), Clip attributes, Sum of three, Reshape [0, -1], Gemm transB, Softmax',
    input: [2, 3, 6, 6],
    opset: 7,
    build(b, x) {
      let h = b.node('Conv', [x, b.init('w', [4, 3, 3, 3], randArray(108, 3, 0.5)), b.init('cb', [4], randArray(4, 4))], { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1] });
      h = b.node('BatchNormalization', [h, b.init('g', [4], randArray(4, 5).map((v) => 1 + v / 2)), b.init('be', [4], randArray(4, 6)), b.init('m', [4], randArray(4, 7)), b.init('v', [4], randArray(4, 8).map((v) => 1 + v / 2))], { epsilon: F(1e-3), spatial: 1, momentum: F(0.9) });
      h = b.node('Clip', [h], { min: F(0), max: F(6) });
      const a = b.node('Conv', [h, b.init('w2', [4, 4, 1, 1], randArray(16, 9))], { kernel_shape: [1, 1] });
      const c = b.node('Relu', [h]);
      h = b.node('Sum', [h, a, c]);
      h = b.node('Reshape', [h, b.ints('shape', [0, -1])]);
      h = b.node('Gemm', [h, b.init('fw', [5, 36], randArray(180, 10)), b.init('fb', [5], randArray(5, 11))], { transB: 1, alpha: F(0.5), beta: F(2) });
      return b.node('Softmax', [h], { axis: 1 });
    },
  },
  {
    name: 'model zoo opset 7: Dropout, AveragePool without the pad in the count, LRN, Upsample (scales attribute), Concat',
    input: [1, 4, 6, 6],
    opset: 7,
    build(b, x) {
      let h = b.node('Dropout', [x], { ratio: F(0.5) });
      h = b.node('AveragePool', [h], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 0 });
      h = b.node('LRN', [h], { size: 3, alpha: F(1e-2), beta: F(0.75), bias: F(1) });
      const u = b.node('Upsample', [h], { scales: { fs: [1, 1, 2, 2] }, mode: 'nearest' });
      const c = b.node('Conv', [x, b.init('w', [2, 4, 1, 1], randArray(8, 12))], { kernel_shape: [1, 1] });
      return b.node('Concat', [u, c], { axis: 1 });
    },
  },
  {
    name: 'tf2onnx: Transpose to NCHW around the convolution, Conv with auto_pad SAME_UPPER and stride 2, Transpose back',
    input: [1, 7, 7, 3],
    opset: 11,
    build(b, x) {
      let h = b.node('Transpose', [x], { perm: [0, 3, 1, 2] });
      h = b.node('Conv', [h, b.init('w', [5, 3, 3, 3], randArray(135, 13, 0.5))], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' });
      h = b.node('Relu', [h]);
      h = b.node('Transpose', [h], { perm: [0, 2, 3, 1] });
      h = b.node('ReduceMean', [h], { axes: [1, 2], keepdims: 0 });
      return b.node('MatMul', [h, b.init('fw', [5, 3], randArray(15, 14))]);
    },
  },
  {
    name: 'opset 11: Resize asymmetric/floor nearest and align_corners linear, Pad reflect (pads input), Slice with step -1',
    input: [1, 3, 5, 4],
    opset: 11,
    build(b, x) {
      const empty = b.init('roi', [0], []);
      const r1 = b.node('Resize', [x, empty, b.init('sc', [4], [1, 1, 2, 1.5])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
      const r2 = b.node('Resize', [x, empty, b.init('sc2', [0], []), b.ints('sizes', [1, 3, 10, 6])], { mode: 'linear', coordinate_transformation_mode: 'align_corners' });
      let h = b.node('Add', [r1, r2]);
      h = b.node('Pad', [h, b.ints('pads', [0, 0, 1, 2, 0, 0, 2, 1])], { mode: 'reflect' });
      return b.node('Slice', [h, b.ints('st', [-1]), b.ints('en', [-1000]), b.ints('ax', [3]), b.ints('sp', [-1])]);
    },
  },
  {
    name: 'opset 13: Squeeze/Unsqueeze with axes inputs, Split with a split input, Gather of one channel, Expand, Where',
    input: [2, 6, 3, 3],
    opset: 13,
    build(b, x) {
      const [s0, s1] = [b.node('Split', [x, b.ints('split', [2, 4])], { axis: 1 }, 2), `split${b.nodes.length}_1`];
      const g = b.node('Gather', [s1, b.ints('idx', [3])], { axis: 1 });
      const sq = b.node('Squeeze', [b.node('ReduceMean', [g], { axes: [2], keepdims: 1 }), b.ints('sqa', [2])]);
      const un = b.node('Unsqueeze', [sq, b.ints('una', [1, 2])]);
      const ex = b.node('Expand', [un, b.ints('es', [2, 2, 3, 3])]);
      const cond = b.node('Greater', [s0, ex]);
      return b.node('Where', [cond, s0, ex]);
    },
  },
  {
    name: 'ConvTranspose with output_padding and groups, PRelu with [C, 1, 1] slopes, InstanceNormalization, HardSigmoid',
    input: [1, 4, 4, 5],
    opset: 13,
    build(b, x) {
      let h = b.node('ConvTranspose', [x, b.init('w', [4, 3, 3, 3], randArray(108, 15, 0.5)), b.init('bb', [6], randArray(6, 16))], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 0], group: 2 });
      h = b.node('PRelu', [h, b.init('sl', [6, 1, 1], randArray(6, 17))]);
      h = b.node('InstanceNormalization', [h, b.init('isc', [6], randArray(6, 18)), b.init('ibi', [6], randArray(6, 19))], { epsilon: F(1e-5) });
      return b.node('HardSigmoid', [h], { alpha: F(0.2), beta: F(0.5) });
    },
  },
  {
    name: 'a 1-D signal: Conv1d with dilation, MaxPool 1-D, Flatten axis 1, MatMul',
    input: [2, 3, 20],
    opset: 13,
    build(b, x) {
      let h = b.node('Conv', [x, b.init('w', [4, 3, 3], randArray(36, 20, 0.5))], { kernel_shape: [3], dilations: [2], pads: [2, 2] });
      h = b.node('MaxPool', [h], { kernel_shape: [3], strides: [2], pads: [1, 1] });
      h = b.node('Flatten', [h], { axis: 1 });
      return b.node('MatMul', [h, b.init('fw', [40, 3], randArray(120, 21))]);
    },
  },
  {
    name: 'opset 11 Softmax and LogSoftmax on 4-D tensors (coerced to 2-D from the axis on), Pow, Sqrt, Reciprocal, Neg, Abs',
    input: [2, 3, 2, 4],
    opset: 11,
    build(b, x) {
      const s1 = b.node('Softmax', [x], { axis: 1 });
      const s2 = b.node('LogSoftmax', [x], { axis: 2 });
      const s3 = b.node('Softmax', [x], { axis: -1 });
      let h = b.node('Add', [b.node('Add', [s1, s2]), s3]);
      h = b.node('Pow', [b.node('Abs', [h]), b.init('e', [], [1.5])]);
      h = b.node('Reciprocal', [b.node('Add', [b.node('Sqrt', [h]), b.init('one', [], [1])])]);
      return b.node('Neg', [h]);
    },
  },
  {
    name: 'LayerNorm over W of NCHW written as ReduceMean/Sub/Pow/Sqrt/Div (opset 13), channel Softmax, Max and Mean of several',
    input: [2, 3, 4, 5],
    opset: 13,
    build(b, x) {
      const m = b.node('ReduceMean', [x], { axes: [-1], keepdims: 1 });
      const d = b.node('Sub', [x, m]);
      const v = b.node('ReduceMean', [b.node('Pow', [d, b.init('two', [], [2])])], { axes: [-1], keepdims: 1 });
      let h = b.node('Div', [d, b.node('Sqrt', [b.node('Add', [v, b.init('eps', [], [1e-5])])])]);
      h = b.node('Mul', [h, b.init('lg', [5], randArray(5, 30))]);
      const sm = b.node('Softmax', [h], { axis: 1 });
      const mx = b.node('Max', [h, sm, x]);
      return b.node('Mean', [mx, h]);
    },
  },
  {
    name: 'a dynamic batch: Shape -> Gather -> Unsqueeze -> Concat -> Reshape of the non-batch axes, Upsample opset 9 linear, Pad edge (opset 2)',
    input: [3, 2, 4, 4],
    opset: 9,
    build(b, x) {
      let h = b.node('Pad', [x], { pads: [0, 0, 1, 0, 0, 0, 0, 1], mode: 'edge' });
      h = b.node('Upsample', [h, b.init('sc', [4], [1, 1, 2, 2])], { mode: 'linear' });
      const n = b.node('Unsqueeze', [b.node('Gather', [b.node('Shape', [h]), b.init('zero', [], [0], 7)], { axis: 0 })], { axes: [0] });
      const shape = b.node('Concat', [n, b.init('rest', [1], [-1], 7)], { axis: 0 });
      h = b.node('Reshape', [h, shape]);
      return b.node('Gemm', [h, b.init('fw', [4, 200], randArray(800, 31, 0.1)), b.init('fb', [4], randArray(4, 32))], { transB: 1 });
    },
  },
];

describe('ONNX export patterns of other exporters, against onnxruntime-web', () => {
  for (const p of P) {
    it(p.name, async () => {
      const b = new OnnxBuilder(p.opset ?? 13);
      const x = b.input('x', p.name.startsWith('a dynamic batch') ? ['N', ...p.input.slice(1)] : p.input);
      b.output(p.build(b, x));
      const bytes = b.encode();
      const n = p.input.reduce((a, c) => a * c, 1);
      const data = randArray(n, 99);
      const [want] = await runOrt(bytes, { data, shape: p.input });
      for (const channelsLast of [false, true]) {
        const m = ck.loadOnnx(bytes, { channelsLast });
        const xin = channelsLast ? toChannelsLast(data, p.input) : { data, shape: p.input };
        const y = m.predict(ck.tensor(xin.data, xin.shape));
        const got = channelsLast ? toChannelsFirst(y.dataSync(), y.shape) : { data: y.dataSync(), shape: y.shape };
        expect(got.shape, `channelsLast ${channelsLast}`).toEqual(want.shape);
        const { rel } = relDiff(got.data, want.data);
        expect(rel, `channelsLast ${channelsLast}`).toBeLessThan(1e-5);
        m.dispose();
      }
    });
  }
});
