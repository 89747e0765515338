/**
 * `convkit convert` between convkit's format and ONNX, and ONNX files given to summary and
 * predict: the converted model predicts what the original does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { cli } from '../util/cli.js';
import { ensureDist, root } from '../util/dist.js';
import { OnnxBuilder, randArray } from '../util/onnx_build.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convkit convert', () => {
  it('convkit -> ONNX (NHWC and NCHW input) -> convkit: the same predictions; summary and predict read .onnx', async () => {
    const m = ck.zoo.smallCnn8({ classes: 10, seed: 3 });
    const saved = join(dir, 'small');
    await m.save(saved);
    const onnx = join(dir, 'small.onnx');
    const r = await cli('convert', saved, onnx);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/wrote .*small\.onnx \(onnx, input NHWC\)/);
    expect(ck.isOnnx(new Uint8Array(readFileSync(onnx)))).toBe(true);
    const nchw = join(dir, 'small-nchw.onnx');
    expect((await cli('convert', saved, nchw, '--input-layout', 'nchw', '--opset', '15')).code).toBe(0);
    const back = join(dir, 'back');
    expect((await cli('convert', onnx, back)).code).toBe(0);

    const x = ck.randomUniform([2, 8, 8, 1], { seed: 5 });
    const want = m.predict(x).dataSync();
    // an imported model takes convkit's channels-last input whatever layout the file declares
    for (const source of [onnx, back, nchw]) {
      const got = await ck.loadModel(source);
      const y = got.predict(x).dataSync();
      for (let i = 0; i < want.length; i++) expect(Math.abs(y[i] - want[i]), source).toBeLessThan(1e-5);
    }
    const s = await cli('summary', onnx, '--json');
    expect(s.code, s.err).toBe(0);
    expect(JSON.parse(s.out).totalParams).toBe(m.countParams());
    const p = await cli('predict', '--model-dir', onnx, '--dataset', 'digits', '--index', '0,1', '--json', '--backend', 'ts');
    expect(p.code, p.err).toBe(0);
    expect(JSON.parse(p.out).predictions).toHaveLength(2);
    const e = await cli('evaluate', '--model-dir', onnx, '--dataset', 'digits', '--backend', 'ts');
    expect(e.code, e.err).toBe(0);
  });

  it('usage errors name the argument; a file that is neither format is an error naming it', async () => {
    expect((await cli('convert', 'only-one')).code).toBe(2);
    const bad = await cli('convert', join(dir, 'missing.onnx'), join(dir, 'o.onnx'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/no model at/);
    expect((await cli('convert', join(dir, 'small'), join(dir, 'x.onnx'), '--input-layout', 'NWHC')).err).toMatch(/--input-layout must be NHWC or NCHW/);
    expect((await cli('convert', join(dir, 'small'), join(dir, 'x'), '--format', 'pt')).err).toMatch(/--format must be onnx, convkit or tfjs-layers/);
    expect((await cli('convert', join(dir, 'small'), join(dir, 'y'), '--opset', '15')).err).toMatch(/apply to ONNX output only/);
  });
});

describe('ONNX files that run on the graph interpreter, in the CLI', () => {
  // A graph the layer mapping cannot take (MatMul of two computed tensors): x [N, 1, 8, 8] ->
  // the Gram matrix of its rows [N, 8, 8] -> flatten -> Gemm to 10 classes.
  const file = join(dir, 'gram.onnx');
  const b = new OnnxBuilder(13);
  const x = b.input('x', ['N', 1, 8, 8]);
  const rows = b.node('Reshape', [x, b.ints('shape', [0, 8, 8])]);
  const gram = b.node('MatMul', [rows, b.node('Transpose', [rows], { perm: [0, 2, 1] })]);
  const flat = b.node('Flatten', [gram], { axis: 1 });
  b.output(b.node('Gemm', [flat, b.init('W', [64, 10], randArray(640, 4)), b.init('B', [10], randArray(10, 5))]), ['N', 10]);
  writeFileSync(file, b.encode());

  it('summary (text and --json: shapes and MACs traced), predict and evaluate work on it', async () => {
    expect(await ck.loadModel(file)).toBeInstanceOf(ck.OnnxGraphModel);
    const t = await cli('summary', file);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/OnnxGraphModel.*\n[\s\S]*Nodes: 5 \(Reshape x1, Transpose x1, MatMul x1, Flatten x1, Gemm x1\)/);
    const s = await cli('summary', file, '--json');
    expect(s.code, s.err).toBe(0);
    const j = JSON.parse(s.out);
    expect(j).toMatchObject({ model: 'gram', input: [8, 8, 1], output: [10], totalParams: 650, trainableParams: 650, macs: 8 * 8 * 8 + 64 * 10 });
    expect(j.layers.map((l: { type: string }) => l.type)).toEqual(['Reshape', 'Transpose', 'MatMul', 'Flatten', 'Gemm']);
    expect(j.layers[2].outputShape).toEqual([8, 8]);
    const p = await cli('predict', '--model-dir', file, '--dataset', 'digits', '--index', '0,1,2', '--json', '--backend', 'ts');
    expect(p.code, p.err).toBe(0);
    expect(JSON.parse(p.out).predictions).toHaveLength(3);
    const e = await cli('evaluate', '--model-dir', file, '--dataset', 'digits', '--backend', 'ts');
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/accuracy/);
  });

  it('the installed CLI (dist, which does not import the whole library) loads the interpreter for them', async () => {
    await ensureDist();
    const r = spawnSync(process.execPath, [join(root, 'dist/esm/cli/main.js'), 'summary', file, '--json'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).macs).toBe(8 * 8 * 8 + 64 * 10);
  }, 300_000);
});

