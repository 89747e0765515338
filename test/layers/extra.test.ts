/**
 * The small layers the ONNX importer builds with: Permute, Arithmetic, MathFunction, Slice,
 * Pad and Reduce: values against the ops they wrap, shapes, config round trips and errors.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { layers as L } from '../../src/index.js';
import { serializeLayer } from '../../src/layers/layer.js';
import { deserializeLayer } from '../../src/layers/builtin.js';

const x = () => ck.tensor(Array.from({ length: 24 }, (_, i) => i - 10), [2, 3, 4]);
const same = (a: ck.Tensor, b: ck.Tensor) => {
  expect(a.shape).toEqual(b.shape);
  expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
};

describe('layers for imported graphs', () => {
  it('Permute reorders the example axes (1-based, Keras) and infers its output shape', () => {
    const p = L.permute({ dims: [2, 1] });
    same(p.apply(x()), ck.transpose(x(), [0, 2, 1]));
    expect(p.computeOutputShape([3, 4])).toEqual([4, 3]);
    expect(() => L.permute({ dims: [1, 1] })).toThrow(/dims must be a permutation of 1\.\.2/);
    expect(() => p.apply(ck.zeros([2, 3]))).toThrow(/expected input of rank 3/);
  });

  it('Arithmetic: two broadcasting inputs, or one input and a stored non-trainable constant (either side)', () => {
    const a = L.arithmetic({ op: 'sub' });
    same(a.apply([x(), ck.ones([2, 1, 4])]), ck.sub(x(), ck.ones([2, 1, 4])));
    const c = L.arithmetic({ op: 'div', constantShape: [1, 4], constantFirst: true });
    const sym = c.apply(ck.input([3, 4]));
    expect(sym.shape).toEqual([3, 4]);
    expect(c.weights.map((w) => [w.name.split('/')[1], w.shape, w.trainable])).toEqual([['constant', [1, 1, 4], false]]);
    c.weights[0].value = ck.tensor([1, 2, 4, 8], [1, 1, 4]);
    same(c.apply(ck.ones([2, 3, 4])), ck.div(ck.tensor([1, 2, 4, 8], [1, 1, 4]), ck.ones([2, 3, 4])));
    expect(() => L.arithmetic({ op: 'mod' as never })).toThrow(/op must be one of add, sub, mul, div, pow, max, min/);
    expect(() => c.apply([ck.input([3, 4]), ck.input([3, 4])])).toThrow(/holds a constant and expects one input/);
    expect(() => L.arithmetic({ op: 'add' }).apply(ck.input([3]))).toThrow(/expects two inputs/);
    expect(() => L.arithmetic({ op: 'add', constantShape: [5] }).apply(ck.input([3]))).toThrow();
  });

  it('Arithmetic comparisons give float 1/0; Where selects from three inputs; pooling with dilations', () => {
    const g = L.arithmetic({ op: 'greater', constantShape: [] });
    g.apply(ck.input([3, 4]));
    g.weights[0].value = ck.tensor([0], [1]);
    same(g.apply(x()), ck.cast(ck.greater(x(), 0), 'float32'));
    for (const op of ['less', 'equal', 'greaterEqual', 'lessEqual'] as const) {
      const f = { less: ck.less, equal: ck.equal, greaterEqual: ck.greaterEqual, lessEqual: ck.lessEqual }[op];
      same(L.arithmetic({ op }).apply([x(), ck.ones([2, 1, 4])]), ck.cast(f(x(), ck.ones([2, 1, 4])), 'float32'));
    }
    const w = L.where();
    const cond = ck.cast(ck.greater(x(), 0), 'float32');
    same(w.apply([cond, x(), ck.zeros([2, 1, 4])]), ck.relu(x()));
    expect(w.apply([ck.input([3, 1]), ck.input([3, 4]), ck.input([1, 4])]).shape).toEqual([3, 4]);
    expect(() => w.apply([ck.input([3, 4]), ck.input([3, 4])])).toThrow(/expects 3 inputs/);
    expect(() => w.apply(ck.input([3, 4]))).toThrow(/expects 3 inputs/);
    const wa = L.where({ constantShape: [1, 4], constantAt: 'a' });
    wa.apply([ck.input([3, 4]), ck.input([3, 4])]);
    expect(wa.weights.map((v) => [v.name.split('/')[1], v.shape, v.trainable])).toEqual([['constant', [1, 1, 4], false]]);
    wa.weights[0].value = ck.tensor([1, 2, 3, 4], [1, 1, 4]);
    same(wa.apply([cond, x()]), ck.where(cond, ck.tensor([1, 2, 3, 4], [1, 1, 4]), x()));
    same(L.where({ constantShape: [] }).apply([cond, x()]), ck.relu(x()));
    expect(() => wa.apply([ck.input([3, 4]), ck.input([3, 4]), ck.input([3, 4])])).toThrow(/expects 2 inputs \[cond, b\]/);
    expect(() => L.where({ constantAt: 'c' as never })).toThrow(/constantAt must be 'a' or 'b'/);
    const img = ck.tensor(Array.from({ length: 2 * 7 * 7 * 2 }, (_, i) => Math.sin(i)), [2, 7, 7, 2]);
    const mp = L.maxPooling2d({ poolSize: 3, strides: 2, padding: 1, dilations: 2 });
    same(mp.apply(img), ck.maxPool2d(img, { size: 3, strides: 2, padding: 1, dilations: 2 }));
    const ap = L.averagePooling2d({ poolSize: 2, strides: 1, dilations: [2, 3], ceilMode: true });
    same(ap.apply(img), ck.avgPool2d(img, { size: 2, strides: 1, dilations: [2, 3] }));
    expect(() => L.maxPooling2d({ dilations: [0, 1] })).toThrow(/dilations/);
  });

  it('Slice with strides: positive, negative, size -1, shape errors', () => {
    const idx = (v: number[]) => ck.tensor(Int32Array.from(v), undefined, 'int32');
    const s = L.slice({ begin: [2, 0], size: [-1, 2], strides: [-1, 3] });
    expect(s.computeOutputShape([3, 4])).toEqual([3, 2]);
    same(s.apply(x()), ck.gather(ck.gather(x(), idx([2, 1, 0]), 1), idx([0, 3]), 2));
    same(L.slice({ begin: [1, 1], size: [1, -1], strides: [1, 2] }).apply(x()), ck.gather(ck.slice(x(), [0, 1, 0], [-1, 1, -1]), idx([1, 3]), 2));
    expect(() => L.slice({ begin: [0, 0], size: [1, 3], strides: [1, 2] }).apply(x())).toThrow(/does not fit an example of shape \[3, 4\]/);
    expect(() => L.slice({ begin: [0], size: [1], strides: [0] })).toThrow(/strides must have one non-zero entry/);
  });

  it('MaxPooling3D and AveragePooling3D compute maxPool3d / avgPool3d and infer their shapes', () => {
    const vol = ck.tensor(Array.from({ length: 2 * 4 * 3 * 5 * 2 }, (_, i) => Math.cos(i)), [2, 4, 3, 5, 2]);
    const mp = L.maxPooling3d({ poolSize: [2, 2, 3], strides: [1, 1, 2], padding: [[0, 1], [1, 0], [1, 1]], dilations: [1, 1, 1] });
    same(mp.apply(vol), ck.maxPool3d(vol, { size: [2, 2, 3], strides: [1, 1, 2], padding: [[0, 1], [1, 0], [1, 1]] }));
    expect(mp.computeOutputShape([4, 3, 5, 2])).toEqual([4, 3, 3, 2]);
    const ap = L.averagePooling3d({ poolSize: [3, 1, 1], strides: 1, padding: [[1, 1], [0, 0], [0, 0]], countIncludePad: true });
    same(ap.apply(vol), ck.avgPool3d(vol, { size: [3, 1, 1], strides: 1, padding: [[1, 1], [0, 0], [0, 0]], countIncludePad: true }));
    expect(() => mp.apply(ck.input([3, 5, 2]))).toThrow(/rank 5/);
    expect(() => L.maxPooling3d({ poolSize: [2, 2] })).toThrow(/poolSize must have 3 entries/);
  });

  it('MathFunction, Slice, Pad and Reduce compute what their ops compute', () => {
    same(L.mathFunction({ fn: 'abs' }).apply(x()), ck.abs(x()));
    same(L.mathFunction({ fn: 'clip', min: -2, max: 3 }).apply(x()), ck.clip(x(), -2, 3));
    same(L.slice({ begin: [1, 0], size: [2, -1] }).apply(x()), ck.slice(x(), [0, 1, 0], [2, 2, 4]));
    same(L.pad({ paddings: [[1, 0], [0, 2]], value: 7 }).apply(x()), ck.pad(x(), [[0, 0], [1, 0], [0, 2]], 7));
    same(L.reduce({ op: 'sum', axes: [2] }).apply(x()), ck.sum(x(), { axes: [2] }));
    same(L.reduce({ op: 'max', axes: [1, -1], keepDims: true }).apply(x()), ck.max(x(), { axes: [1, 2], keepDims: true }));
    expect(L.reduce({ op: 'mean', axes: [1] }).computeOutputShape([3, 4])).toEqual([4]);
    expect(() => L.reduce({ op: 'mean', axes: [0] })).toThrow(/leave out the batch axis 0/);
    expect(() => L.slice({ begin: [3, 0], size: [2, 1] }).apply(x())).toThrow(/does not fit an example of shape \[3, 4\]/);
    expect(() => L.pad({ paddings: [[-1, 0]] })).toThrow(/non-negative integers/);
    expect(() => L.mathFunction({ fn: 'tan' as never })).toThrow(/fn must be one of/);
  });

  it('Pad reflect/edge, Resizing and InstanceNormalization: values, shapes and errors', () => {
    const v = ck.tensor([1, 2, 3], [1, 3]);
    same(L.pad({ paddings: [[2, 1]], mode: 'reflect' }).apply(v), ck.tensor([3, 2, 1, 2, 3, 2], [1, 6]));
    same(L.pad({ paddings: [[1, 2]], mode: 'edge' }).apply(v), ck.tensor([1, 1, 2, 3, 3, 3], [1, 6]));
    expect(() => L.pad({ paddings: [[3, 0]], mode: 'reflect' }).apply(ck.input([3]))).toThrow(/reflect padding \[3, 0\] of axis 1 needs at most 2/);
    expect(() => L.pad({ paddings: [[1, 1]], mode: 'wrap' as never })).toThrow(/mode must be 'constant', 'reflect' or 'edge'/);
    const img = ck.tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    same(L.resizing({ height: 4, width: 4, coordinates: 'asymmetric', nearestMode: 'floor' }).apply(img),
      ck.tensor([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], [1, 4, 4, 1]));
    const bil = L.resizing({ height: 3, width: 3, interpolation: 'bilinear', coordinates: 'align_corners' }).apply(img);
    expect(Array.from(bil.dataSync())).toEqual([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
    expect(L.resizing({ height: 5, width: 7 }).computeOutputShape([2, 2, 3])).toEqual([5, 7, 3]);
    expect(() => L.resizing({ height: 0, width: 2 })).toThrow(/height must be a positive integer/);
    const inorm = L.instanceNormalization({ epsilon: 0 });
    const y = inorm.apply(ck.tensor([1, 10, 3, 30], [1, 2, 2]));
    expect(Array.from(y.dataSync())).toEqual([-1, -1, 1, 1]);
    expect(inorm.weights.map((w) => w.shape)).toEqual([[2], [2]]);
    expect(() => L.instanceNormalization().apply(ck.input([4]))).toThrow(/expected input of rank 3 or more/);
  });

  it('every one round-trips through getConfig / deserializeLayer and a saved model', async () => {
    const layersList = [
      L.permute({ dims: [2, 1] }), L.arithmetic({ op: 'pow', constantShape: [1, 4] }), L.mathFunction({ fn: 'clip', min: 0 }),
      L.slice({ begin: [0, 1], size: [3, 2] }), L.arithmetic({ op: 'lessEqual' }), L.where(), L.where({ constantShape: [2], constantAt: 'a' }), L.slice({ begin: [2, 0], size: [-1, 2], strides: [-1, 3] }), L.maxPooling2d({ poolSize: 3, dilations: [2, 1] }),
      L.averagePooling2d({ poolSize: 2, dilations: 2, countIncludePad: true }), L.pad({ paddings: [[0, 1], [2, 0]] }), L.reduce({ op: 'mean', axes: [-1], keepDims: true }),
    ];
    for (const l of layersList) {
      const again = deserializeLayer(serializeLayer(l));
      expect(again.className).toBe(l.className);
      expect(again.getConfig()).toEqual(l.getConfig());
    }
    const inp = ck.input([3, 4]);
    const a = L.arithmetic({ op: 'mul', constantShape: [1, 4] });
    const out = L.reduce({ op: 'sum', axes: [1] }).apply(L.pad({ paddings: [[1, 1], [0, 0]] }).apply(a.apply(inp)));
    const m = ck.model({ inputs: inp, outputs: out });
    a.weights[0].value = ck.tensor([1, -1, 2, -2], [1, 1, 4]);
    const h = ck.memoryHandler();
    await m.save(h);
    const back = await ck.loadModel(h);
    same(back.predict(x()), m.predict(x()));
  });
});
