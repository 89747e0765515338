/**
 * Reading the PyTorch ONNX fixtures that scripts/onnx/export_torch.py writes (a .onnx and a
 * .json per model; see scripts/onnx/README.md) and comparing convkit's outputs with them:
 * used by test/models/onnx_torch.test.ts and, for the full-size files, by
 * scripts/onnx/compare_full.check.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OnnxSample {
  inputShape: number[];
  input: number[];
  outputShape: number[];
  output: number[];
}

export interface OnnxFixture extends OnnxSample {
  name: string;
  opset: number;
  dynamicBatch: boolean;
  /** PyTorch float32 vs the float64 reference `output`, relative to max |output|. */
  float32Error?: number;
  ops: string[];
  notes: string;
  batch3?: OnnxSample;
}

export const readFixture = (dir: string, name: string): OnnxFixture => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as OnnxFixture;
export const readOnnxBytes = (dir: string, name: string): Uint8Array => new Uint8Array(readFileSync(join(dir, `${name}.onnx`)));

/** Channels-first (N, C, ...spatial) -> channels-last (N, ...spatial, C); rank 2 or less is returned as is. */
export function toChannelsLast(values: ArrayLike<number>, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  if (shape.length < 3) return { data: Float32Array.from(values), shape: [...shape] };
  const [n, c] = shape;
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const out = new Float32Array(values.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const src = (b * c + ch) * inner;
      for (let s = 0; s < inner; s++) out[(b * inner + s) * c + ch] = values[src + s];
    }
  }
  return { data: out, shape: [n, ...shape.slice(2), c] };
}

/** The worst |actual - expected| (NaN counts as infinitely bad), where, and the bar: 1e-4 of max |expected|. */
export function compareToBar(actual: ArrayLike<number>, expected: ArrayLike<number>): { worst: number; at: number; bar: number } {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = Number.isNaN(d) ? Infinity : d;
      at = i;
    }
  }
  return { worst, at, bar: 1e-4 * scale };
}
