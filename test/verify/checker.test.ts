/**
 * The checker itself must fail when it should: perturbed expectations, NaN/Inf class
 * mismatches, unknown ops, throwing cases, malformed files, and the tolerance rule
 * (defaults, explicit tol, sqrt(terms) scaling).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { caseTolerance, compareValues, parseVectors, VectorFormatError, verifyCase, type VectorCase, type VectorFile } from '../../src/verify/index.js';

const torchText = readFileSync(new URL('../vectors/torch.json', import.meta.url), 'utf8');
const fresh = (): VectorFile => JSON.parse(torchText);
const T = (shape: number[], data: (number | string)[]) => ({ shape, data });

function relu(x: (number | string)[], y: (number | string)[], extra: Partial<VectorCase> = {}) {
  return { name: 'relu case', op: 'relu', attrs: {}, inputs: { x: T([x.length], x) }, outputs: { y: T([y.length], y) }, ...extra };
}
const file = (...cases: unknown[]) => ({ format: 'convkit-vectors/1', generator: 'test', cases });

describe('failing vectors are reported, naming the case and the element', () => {
  it('a perturbed output value fails that case only', async () => {
    const doc = fresh();
    const i = doc.cases.findIndex((c) => c.op === 'conv2d');
    const target = doc.cases[i];
    (target.outputs.y.data as number[])[3] += 1e-3;
    const r = await ck.verifyVectors(doc, { backend: 'ts', dtype: 'float64' });
    expect(r.failed).toBe(1);
    expect(r.passed).toBe(doc.cases.length - 1);
    const bad = r.cases.filter((c) => !c.pass);
    expect(bad.map((c) => c.name)).toEqual([target.name]);
    expect(bad[0].error).toMatch(/^output y\[3\]: got .*, expected .* \(\|diff\| 1\.000e-3 > atol 1e-9/);
    expect(bad[0].maxAbsErr).toBeCloseTo(1e-3, 9);
  });

  it('a perturbed gradient fails, in float32 too', async () => {
    const doc = fresh();
    const c = doc.cases.find((k) => k.op === 'batchNorm' && k.grads)!;
    (c.grads!.gamma.data as number[])[1] *= 1.01;
    const r = await verifyCase(parseVectors(doc).cases.find((k) => k.name === c.name)!, 'float32');
    expect(r.pass).toBe(false);
    expect(r.error).toMatch(/^grad gamma\[1\]/);
  });

  it('a perturbed optimiser trajectory fails', async () => {
    const doc = fresh();
    const c = doc.cases.find((k) => k.op === 'optimize' && k.attrs.optimizer === 'adamw')!;
    (c.outputs.w3.data as number[])[0] += 1e-6;
    const r = await verifyCase(parseVectors(doc).cases.find((k) => k.name === c.name)!, 'float64');
    expect(r.error).toMatch(/^output w3\[0\]/);
  });

  it('NaN matches only NaN and an infinity only the same infinity', async () => {
    const ok = await verifyCase(parseVectors(file(relu(['NaN', 'Infinity', '-Infinity'], ['NaN', 'Infinity', 0]))).cases[0], 'float64');
    expect(ok.pass).toBe(true);
    const nanWanted = await verifyCase(parseVectors(file(relu([1, 2], ['NaN', 2]))).cases[0], 'float64');
    expect(nanWanted.pass).toBe(false);
    expect(nanWanted.error).toBe('output y[0]: got 1, expected NaN');
    const wrongInf = await verifyCase(parseVectors(file(relu(['Infinity'], ['-Infinity']))).cases[0], 'float64');
    expect(wrongInf.error).toBe('output y[0]: got Infinity, expected -Infinity');
    expect(wrongInf.maxAbsErr).toBeNull();
    expect(compareValues('v', [Number.NaN], [0], 1, 1).failure).toBe('v[0]: got NaN, expected 0');
  });

  it('an unknown op fails as unsupported; a case that throws fails with its message', async () => {
    const r = await ck.verifyVectors(file(
      { ...relu([1], [1]), name: 'mystery', op: 'fft2d' },
      { name: 'bad conv', op: 'conv2d', attrs: {}, inputs: { x: T([1, 3, 3, 2], Array(18).fill(1)), w: T([2, 2, 3, 1], Array(12).fill(1)) }, outputs: { y: T([1, 2, 2, 1], [0, 0, 0, 0]) } },
      { name: 'wrong shape', op: 'relu', attrs: {}, inputs: { x: T([2, 2], [1, 2, 3, 4]) }, outputs: { y: T([4], [1, 2, 3, 4]) } },
      { name: 'bad optimizer', op: 'optimize', attrs: { optimizer: 'lbfgs', steps: 1 }, inputs: { w0: T([1], [1]), c: T([1], [1]) }, outputs: { w1: T([1], [0]) } },
      relu([-1, 2], [0, 2]),
    ), { backend: 'ts' });
    expect(r.cases.map((c) => c.pass)).toEqual([false, false, false, false, true]);
    expect(r.cases[0].error).toBe("unsupported: convkit verify has no op 'fft2d'");
    expect(r.cases[1].error).toMatch(/conv2d: channel mismatch/);
    expect(r.cases[2].error).toBe('output y: shape [2, 2], expected [4]');
    expect(r.cases[3].error).toMatch(/^unsupported: optimize has no optimizer 'lbfgs' \(known: sgd, /);
  });

  it('inputs named otherwise are bound by position; missing ones are named', async () => {
    const ok = await verifyCase(parseVectors(file({ name: 'mm', op: 'matmul', inputs: { left: T([1, 2], [1, 2]), right: T([2, 1], [3, 4]) }, outputs: { out: T([1, 1], [11]) } })).cases[0], 'float64');
    expect(ok.pass).toBe(true);
    const bad = await verifyCase(parseVectors(file({ name: 'mm', op: 'matmul', inputs: { a: T([1, 2], [1, 2]) }, outputs: { y: T([1, 1], [11]) } })).cases[0], 'float64');
    expect(bad.error).toBe('matmul: expected inputs a, b, the case has a');
  });
});

describe('tolerances', () => {
  const mm = (K: number, tol?: unknown) => {
    const a = Array.from({ length: K }, (_, i) => Math.sin(i + 1));
    const b = Array.from({ length: K }, (_, i) => Math.cos(3 * i));
    const y = a.reduce((s, v, i) => s + v * b[i], 0);
    return parseVectors(file({ name: `dot ${K}`, op: 'matmul', inputs: { a: T([1, K], a), b: T([K, 1], b) }, outputs: { y: T([1, 1], [y]) }, ...(tol ? { tol } : {}) })).cases[0];
  };

  it('defaults per dtype, and the case tol (float32 never below its defaults)', () => {
    const c = mm(3);
    expect(caseTolerance(c, 'float64')).toEqual({ atol: 1e-9, rtol: 1e-7, explicit: false });
    expect(caseTolerance(c, 'float32')).toEqual({ atol: 1e-5, rtol: 1e-4, explicit: false });
    const t = mm(3, { atol: 1e-12, rtol: 1e-3 });
    expect(caseTolerance(t, 'float64')).toEqual({ atol: 1e-12, rtol: 1e-3, explicit: true });
    expect(caseTolerance(t, 'float32')).toEqual({ atol: 1e-5, rtol: 1e-3, explicit: true });
    const per = mm(3, { float64: { atol: 1e-13 }, float32: { atol: 1e-3, rtol: 1e-2 } });
    expect(caseTolerance(per, 'float64')).toEqual({ atol: 1e-13, rtol: 1e-7, explicit: true });
    expect(caseTolerance(per, 'float32')).toEqual({ atol: 1e-3, rtol: 1e-2, explicit: true });
  });

  it('reductions over more than 1,000 terms scale atol by sqrt(terms), and the report says so', async () => {
    const small = await verifyCase(mm(1000), 'float32');
    expect(small.atolScaled).toBeUndefined();
    const big = await verifyCase(mm(4000), 'float32');
    expect(big.atolScaled).toEqual({ terms: 4000, atol: 1e-5 * Math.sqrt(4000) });
    expect(big.pass).toBe(true);
    const explicit = await verifyCase(mm(4000, { atol: 1e-5, rtol: 1e-4 }), 'float32');
    expect(explicit.atolScaled).toBeUndefined();
  });

  it('the boundary: |diff| = atol + rtol |e| passes, just above fails', () => {
    expect(compareValues('v', [1.5], [1], 0.25, 0.25).failure).toBeNull();
    expect(compareValues('v', [1.5000001], [1], 0.25, 0.25).failure).toMatch(/^v\[0\]/);
  });
});

describe('malformed files', () => {
  const err = (doc: unknown) => {
    try {
      parseVectors(doc, 'f.json');
    } catch (e) {
      expect(e).toBeInstanceOf(VectorFormatError);
      return (e as Error).message;
    }
    throw new Error('parseVectors accepted a malformed file');
  };
  it('names the file, the case and the problem', () => {
    expect(err('{"format": ')).toMatch(/^f\.json: not valid JSON/);
    expect(err({ format: 'onnx', cases: [] })).toBe('f.json: "format" is "onnx", expected "convkit-vectors/1"');
    expect(err({ format: 'convkit-vectors/1' })).toBe('f.json: "cases" must be an array');
    expect(err(file({ name: 'r', op: 'relu', inputs: { x: T([2], [1]) }, outputs: { y: T([1], [1]) } })))
      .toBe('f.json: case 0 ("r"): inputs.x: "data" has 1 values but shape [2] needs 2');
    expect(err(file(relu([1], [1]), { op: 'relu', inputs: {}, outputs: {} }))).toBe('f.json: case 1: "name" must be a non-empty string');
    expect(err(file(relu([1], [1], { cotangents: { y: T([1], [1]) } }))))
      .toBe('f.json: case 0 ("relu case"): "cotangents" and "grads" come together (one is missing)');
    expect(err(file(relu([1], [1], { cotangents: { y: T([1], [1]) }, grads: { w: T([1], [1]) } }))))
      .toBe('f.json: case 0 ("relu case"): grads.w names no input (inputs: x)');
    expect(err(file(relu(['nan'], [1])))).toMatch(/inputs\.x: data\[0\] is "nan"/);
  });
  it("accepts Python's bare NaN / Infinity tokens", () => {
    const doc = parseVectors('{"format":"convkit-vectors/1","cases":[{"name":"NaN Infinity","op":"relu","inputs":{"x":{"shape":[3],"data":[NaN,Infinity,-Infinity]}},"outputs":{"y":{"shape":[3],"data":[NaN,Infinity,0]}}}]}');
    expect(doc.cases[0].name).toBe('NaN Infinity');
    expect(doc.cases[0].inputs.x.data).toEqual([Number.NaN, Infinity, -Infinity]);
  });
});

describe('backends', () => {
  it('a whole run frees every tensor it made', async () => {
    await ck.verifyVectors(torchText, { backend: 'ts', dtype: 'float32' });
    const before = ck.memory().ts.storages;
    await ck.verifyVectors(torchText, { backend: 'ts', dtype: 'float64' });
    expect(ck.memory().ts.storages).toBe(before);
  });

  it('an unregistered backend rejects; the previous backend stays current', async () => {
    const before = ck.getBackend();
    await expect(ck.verifyVectors(file(relu([1], [1])), { backend: 'tpu' })).rejects.toThrow(/Backend 'tpu' is not registered/);
    expect(ck.getBackend()).toBe(before);
  });
});
