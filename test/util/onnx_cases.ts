/**
 * Reading the ONNX conformance fixtures of test/fixtures/onnx/conformance (the node cases,
 * cases.{json,bin}, and the model cases, models.{json,bin}; format in its README.md, written by
 * scripts/onnx/case_store.py) and comparing convkit's outputs with them as ONNX's backend test
 * runner does: rtol 1e-3 and an absolute tolerance, integers and bools exactly, NaN where ONNX has NaN.
 */
import { readFileSync } from 'node:fs';
import * as ck from '../../src/index.js';
import { OnnxImportError } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

/** A stored tensor: its ONNX element type, shape, and where its values are in the .bin. */
export interface Stored { name: string; elemType: number; shape: number[]; store: 'f32' | 'f64' | 'i32'; offset: number; count: number }
export interface StoredModel { offset: number; length: number }

/** float, float16, double, bfloat16: compared with a tolerance; every other type exactly. */
export const FLOAT_TYPES = new Set([1, 10, 11, 16]);

export class CaseStore {
  /** The .bin as read (a Node Buffer: models are handed to loadOnnx as views of it, as a user's readFileSync gives them). */
  readonly bin: Buffer;
  constructor(binPath: string | URL) {
    this.bin = readFileSync(binPath);
  }
  /** The model's bytes: a Buffer view into the .bin, not a copy. */
  model(m: StoredModel): Uint8Array {
    return this.bin.subarray(m.offset, m.offset + m.length);
  }
  values(s: Stored): Float64Array {
    const b = this.bin, start = b.byteOffset + s.offset;
    const buf = b.buffer.slice(start, start + s.count * (s.store === 'f64' ? 8 : 4));
    return Float64Array.from(s.store === 'f32' ? new Float32Array(buf) : s.store === 'f64' ? new Float64Array(buf) : new Int32Array(buf));
  }
  /** The tensor convkit is fed: float64 for double, float32 for the other float types, int32 (or float64 past int32) otherwise. */
  tensor(s: Stored): Tensor {
    const v = this.values(s);
    if (s.elemType === 11) return ck.tensor(v, s.shape, 'float64');
    if (FLOAT_TYPES.has(s.elemType)) return ck.tensor(Float32Array.from(v), s.shape, 'float32');
    return s.store === 'f64' ? ck.tensor(v, s.shape, 'float64') : ck.tensor(Int32Array.from(v), s.shape, 'int32');
  }
  /** null when `g` (of `shape`) matches `want`, else what differs. */
  mismatch(name: string, shape: readonly number[], g: ArrayLike<number>, want: Stored, atol = 1e-4, rtol = 1e-3): string | null {
    if (JSON.stringify(shape) !== JSON.stringify(want.shape)) return `${name}: shape [${shape}] expected [${want.shape}]`;
    const e = this.values(want);
    const exact = !FLOAT_TYPES.has(want.elemType);
    for (let i = 0; i < e.length; i++) {
      const a = g[i], b = e[i];
      if (Number.isNaN(b) ? Number.isNaN(a) : exact ? a === b : a === b || Math.abs(a - b) <= atol + rtol * Math.abs(b)) continue;
      return `${name}[${i}] = ${a}, expected ${b}`;
    }
    return null;
  }
}

/** A case of a fixture: its model, and its stored inputs and outputs (null: nothing stored, a refusal). */
export interface StoredCase { name: string; model: StoredModel; inputs: Stored[] | 'arange' | null; outputs: Stored[] | null }

/**
 * Run `cases` through loadOnnx(bytes, { channelsLast: false }) on the current backend, the bytes
 * a Buffer view of the store, as readFileSync gives them. Inputs are made on 'ts' (values the
 * interpreter reads as numbers must be readable synchronously; ops copy them to a device), by
 * `generate` for 'arange' cases. Each case must match its outputs, or, when listed in
 * `refusals`, throw OnnxImportError; what does not is listed in `wrong`.
 */
export async function runCases(cases: readonly StoredCase[], store: CaseStore, refusals: Record<string, string>, opts: { atol?: number; generate?: (bytes: Uint8Array) => ck.Tensor } = {}): Promise<{ wrong: string[]; passed: number }> {
  const wrong: string[] = [];
  let passed = 0;
  for (const c of cases) {
    const refused = refusals[c.name];
    let result: Tensor[] | null = null;
    let error: unknown = null;
    try {
      const bytes = store.model(c.model);
      const m = ck.loadOnnx(bytes, { channelsLast: false, name: c.name });
      const inputs = c.inputs;
      if (inputs) {
        const xs = ck.withBackend('ts', () => (inputs === 'arange' ? [opts.generate!(bytes)] : inputs.map((s) => store.tensor(s))));
        result = m.predictAll(xs.length === 1 ? xs[0] : xs);
      } else if (!refused) wrong.push(`${c.name}: no stored inputs`);
    } catch (e) {
      error = e;
    }
    if (refused) {
      if (!(error instanceof OnnxImportError)) wrong.push(`${c.name}: expected a refusal (${refused}), got ${error ? String(error) : 'a result'}`);
      continue;
    }
    if (error) { wrong.push(`${c.name}: ${String((error as Error).message).split('\n')[0]}`); continue; }
    if (!result) continue;
    let bad: string | null = null;
    for (const [i, o] of c.outputs!.entries()) {
      bad = result[i] ? store.mismatch(`${c.name} output ${i}`, result[i].shape, await result[i].data(), o, opts.atol) : `${c.name}: output ${i} missing`;
      if (bad) break;
    }
    if (bad) wrong.push(bad);
    else passed++;
    for (const t of result) t.dispose();
  }
  return { wrong, passed };
}
