/**
 * `verifyVectors`: run every case of a "convkit-vectors/1" file on one backend and
 * dtype and compare outputs and gradients with the file's reference values, the way
 * ONNX backend conformance tests work. Gradients are vector-Jacobian products:
 * grads[k] = d(sum over outputs o of <o, cotangents[o]>) / d inputs[k].
 */
import { valueAndGrad } from '../autograd/reverse_mode.js';
import { getBackend, setBackend, withBackend } from '../registry/backends.js';
import { getFallbacks, type FallbackRecord } from '../registry/dispatch.js';
import { tidy } from '../registry/storage.js';
import { shapesEqual, fmtShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import {
  caseTolerance, compareValues, parseVectors, SCALE_ATOL_ABOVE_TERMS, type VectorCase, type VectorFile,
} from './format.js';
import { bindInputs, toTensor, unsupportedAttrs, VERIFY_OPS } from './ops.js';

export type VerifyDType = 'float32' | 'float64';

export interface VerifyOptions {
  /** Backend to run on (default: the current one). */
  backend?: string;
  /** Default float64 (the references' precision). */
  dtype?: VerifyDType;
  /** Names the source in error messages. */
  file?: string;
  /** Called with each case's report as soon as it is known (progress output). */
  onCase?: (report: CaseReport) => void;
}

export interface CaseReport {
  name: string;
  op: string;
  pass: boolean;
  /** Over every compared output and gradient; null when nothing was compared (error) or a non-finite class mismatch. */
  maxAbsErr: number | null;
  maxRelErr: number | null;
  error?: string;
  /** Set when atol was scaled by sqrt(terms) for a reduction over more than 1,000 terms. */
  atolScaled?: { terms: number; atol: number };
  /** The tolerance applied (before any scaling). */
  tol: { atol: number; rtol: number };
}

export interface VerifyReport {
  backend: string;
  dtype: VerifyDType;
  passed: number;
  failed: number;
  cases: CaseReport[];
  generator?: string;
  /** Kernels that ran on `ts` instead of the chosen backend during this run. */
  fallbacks: FallbackRecord[];
}

function fallbackDelta(before: FallbackRecord[], after: FallbackRecord[]): FallbackRecord[] {
  const key = (r: FallbackRecord) => `${r.from}:${r.kernel}:${r.reason}`;
  const prev = new Map(before.map((r) => [key(r), r.count]));
  return after.map((r) => ({ ...r, count: r.count - (prev.get(key(r)) ?? 0) })).filter((r) => r.count > 0);
}

async function readValues(t: Tensor): Promise<ArrayLike<number>> {
  return t.data();
}

/** Run one case; never throws (an exception becomes the case's error). */
export async function verifyCase(c: VectorCase, dtype: VerifyDType): Promise<CaseReport> {
  const tol = caseTolerance(c, dtype);
  const report: CaseReport = { name: c.name, op: c.op, pass: false, maxAbsErr: null, maxRelErr: null, tol: { atol: tol.atol, rtol: tol.rtol } };
  const spec = Object.prototype.hasOwnProperty.call(VERIFY_OPS, c.op) ? VERIFY_OPS[c.op] : undefined;
  if (!spec) {
    report.error = `unsupported: convkit verify has no op '${c.op}'`;
    return report;
  }
  const unsupported = unsupportedAttrs(c.op, spec, c.attrs);
  if (unsupported) {
    report.error = unsupported;
    return report;
  }
  const held: Tensor[] = [];
  try {
    const binding = bindInputs(c.op, spec, Object.keys(c.inputs));
    const shapes: Record<string, readonly number[]> = {};
    for (const [name, key] of Object.entries(binding)) shapes[name] = c.inputs[key].shape;
    const ints = new Set(spec.intInputs?.(shapes) ?? []);
    const outNames = Object.keys(c.outputs);
    const gradKeys = Object.keys(c.grads ?? {});
    const nameOfKey = Object.fromEntries(Object.entries(binding).map(([n, k]) => [k, n]));

    const { outs, grads } = tidy(() => {
      const ins: Record<string, Tensor> = {};
      for (const [name, key] of Object.entries(binding)) {
        const t = c.inputs[key];
        const make = () => toTensor(t.data, t.shape, ints.has(name) ? 'int32' : dtype);
        ins[name] = spec.host ? withBackend('ts', make) : make();
      }
      const outs = spec.run(ins, c.attrs, outNames.length);
      let grads: Tensor[] = [];
      if (gradKeys.length) {
        const diffNames = gradKeys.map((k) => nameOfKey[k]);
        for (const n of diffNames) {
          if (ints.has(n)) throw new TypeError(`${c.op}: grads.${binding[n]} asks for the gradient of an integer input`);
        }
        const cots: Record<string, Tensor> = {};
        for (const [o, t] of Object.entries(c.cotangents ?? {})) cots[o] = toTensor(t.data, t.shape, dtype);
        const f = (...xs: Tensor[]): Tensor => {
          const all = { ...ins };
          diffNames.forEach((n, i) => (all[n] = xs[i]));
          const ys = spec.run(all, c.attrs, outNames.length);
          let total: Tensor | null = null;
          ys.forEach((y, i) => {
            const cot = cots[outNames[i]];
            if (!cot || y.dtype === 'int32') return;
            const term = sum(mul(y, cot));
            total = total ? add(total, term) : term;
          });
          if (!total) throw new Error(`${c.op}: the case has grads but no cotangent for a float output`);
          return total;
        };
        grads = valueAndGrad(f)(...diffNames.map((n) => ins[n])).grads;
      }
      return { outs, grads };
    });
    held.push(...outs, ...grads);

    if (outs.length !== outNames.length) throw new Error(`${c.op}: produced ${outs.length} outputs, the case expects ${outNames.length} (${outNames.join(', ')})`);
    const terms = spec.terms(shapes, c.attrs);
    let maxAbs = 0, maxRel = 0;
    let failure: string | null = null;
    const check = async (label: string, actual: Tensor, expected: { shape: number[]; data: number[] }, nTerms: number) => {
      if (!shapesEqual(actual.shape, expected.shape)) {
        failure ??= `${label}: shape ${fmtShape(actual.shape)}, expected ${fmtShape(expected.shape)}`;
        maxAbs = maxRel = Infinity;
        return;
      }
      let atol = tol.atol;
      if (!tol.explicit && nTerms > SCALE_ATOL_ABOVE_TERMS) {
        atol = tol.atol * Math.sqrt(nTerms);
        if (!report.atolScaled || report.atolScaled.terms < nTerms) report.atolScaled = { terms: nTerms, atol };
      }
      const cmp = compareValues(label, await readValues(actual), expected.data, atol, tol.rtol);
      maxAbs = Math.max(maxAbs, cmp.maxAbsErr);
      maxRel = Math.max(maxRel, cmp.maxRelErr);
      failure ??= cmp.failure;
    };
    for (let i = 0; i < outNames.length; i++) await check(`output ${outNames[i]}`, outs[i], c.outputs[outNames[i]], terms.out);
    for (let i = 0; i < gradKeys.length; i++) await check(`grad ${gradKeys[i]}`, grads[i], c.grads![gradKeys[i]], terms.grad);
    report.maxAbsErr = Number.isFinite(maxAbs) ? maxAbs : null;
    report.maxRelErr = Number.isFinite(maxRel) ? maxRel : null;
    if (failure) report.error = failure;
    else report.pass = true;
  } catch (e) {
    report.error = e instanceof Error ? e.message : String(e);
  } finally {
    for (const t of held) t.dispose();
  }
  return report;
}

/**
 * Check convkit against a vectors file (its text, or the parsed JSON) on
 * `opts.backend` (default: current) in `opts.dtype` (default float64). Throws
 * VectorFormatError when the file is not this format, and the backend's own error
 * when it is not registered or fails to start; a failing case is reported, not thrown.
 * The previous backend is current again when this returns.
 */
export async function verifyVectors(source: string | VectorFile | unknown, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const file = parseVectors(source, opts.file);
  const dtype = opts.dtype ?? 'float64';
  if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`verifyVectors: dtype must be 'float32' or 'float64', received '${String(dtype)}'`);
  const previous = getBackend();
  const backend = opts.backend ?? previous;
  await setBackend(backend);
  const before = getFallbacks();
  const cases: CaseReport[] = [];
  try {
    for (const c of file.cases) {
      const r = await verifyCase(c, dtype);
      cases.push(r);
      opts.onCase?.(r);
    }
  } finally {
    await setBackend(previous);
  }
  const passed = cases.filter((r) => r.pass).length;
  const report: VerifyReport = {
    backend, dtype, passed, failed: cases.length - passed, cases,
    fallbacks: fallbackDelta(before, getFallbacks()),
  };
  if (file.generator) report.generator = file.generator;
  return report;
}
