/**
 * Issue 15 part 3, "an imported model exports again to an equivalent file": every fixture in
 * test/fixtures/onnx is imported with ck.loadOnnx, exported again with ck.encodeOnnx (both
 * input layouts), run in onnxruntime-web (wasm) and compared with the imported model's
 * predict (within 1e-4 of max |output|); the exported file imported once more predicts
 * the same. Also small models built from each layer class that the importer introduces
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
import { readFixture, readOnnxBytes, toChannelsLast } from '../util/onnx_fixtures.js';
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
      let nhwc: Uint8Array | null = null;
      for (const layout of ['NHWC', 'NCHW'] as const) {
        const b = await checkOrt(m, x, layout, `reexport_${name}`);
        if (layout === 'NHWC') nhwc = b;
      }
      const again = ck.loadOnnx(nhwc!);
      const got = ck.tidy(() => Float32Array.from(again.predict(ck.tensor(x.data, x.shape)).dataSync() as ArrayLike<number>));
      expect(relDiff(got, want).rel, `${name}: loadOnnx(encodeOnnx(imported)) vs imported`).toBeLessThan(TOL);
    });
  }
});
