/**
 * Running convkit's exported ONNX files in onnxruntime-web (wasm, in Node) and comparing
 * them with convkit's own outputs: used by test/models/onnx_reexport.test.ts.
 */
import * as ort from 'onnxruntime-web';

/** Deterministic values in [-1, 1): the suite's one rand. */
export { rand } from './rand.mjs';

/** Channels-last data (N, ...spatial, C) -> channels-first (N, C, ...spatial); rank < 3 unchanged. */
export function toChannelsFirst(data: ArrayLike<number>, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const r = shape.length;
  if (r < 3) return { data: Float32Array.from(data), shape: [...shape] };
  const n = shape[0], c = shape[r - 1];
  const inner = shape.slice(1, -1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) {
    for (let s = 0; s < inner; s++) {
      for (let ch = 0; ch < c; ch++) out[(b * c + ch) * inner + s] = data[(b * inner + s) * c + ch];
    }
  }
  return { data: out, shape: [n, c, ...shape.slice(1, -1)] };
}

/** Run `bytes` in onnxruntime-web on one input; every output as { shape, data }. */
export async function runOrt(bytes: Uint8Array, x: { data: Float32Array; shape: number[] }): Promise<Array<{ shape: number[]; data: Float32Array }>> {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(bytes);
  try {
    const res = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) });
    return session.outputNames.map((n) => ({ shape: [...res[n].dims], data: Float32Array.from(res[n].data as Float32Array) }));
  } finally {
    await session.release();
  }
}

/** max |got - want| / max |want| (NaN counts as Infinity); max |want| too. */
export function relDiff(got: ArrayLike<number>, want: ArrayLike<number>): { rel: number; scale: number } {
  let scale = 0, worst = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return { rel: scale > 0 ? worst / scale : worst === 0 ? 0 : Infinity, scale };
}
