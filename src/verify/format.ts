/**
 * The "convkit-vectors/1" file format (spec: VECTORS.md, summarised in the README's
 * `verify` section): reading, validating and the tolerance rule.
 *
 * NaN and infinities have no JSON literal: data may hold the strings "NaN", "Infinity",
 * "-Infinity", and the bare tokens NaN / Infinity / -Infinity that Python's json module
 * writes by default are accepted too.
 */

export const VECTORS_FORMAT = 'convkit-vectors/1';

/** A tensor as written in the file: flat row-major data, [] shape is a scalar. */
export interface VectorTensor {
  shape: number[];
  data: number[];
}

export interface VectorTol {
  atol?: number;
  rtol?: number;
}

export interface VectorCase {
  name: string;
  op: string;
  attrs: Record<string, unknown>;
  inputs: Record<string, VectorTensor>;
  outputs: Record<string, VectorTensor>;
  cotangents?: Record<string, VectorTensor>;
  grads?: Record<string, VectorTensor>;
  /** One tolerance for every dtype, or one per dtype: { float32: {...}, float64: {...} }. */
  tol?: VectorTol | { float32?: VectorTol; float64?: VectorTol };
}

export interface VectorFile {
  format: typeof VECTORS_FORMAT;
  generator?: string;
  cases: VectorCase[];
}

/** The file cannot be read as this format; the message says where and why. */
export class VectorFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VectorFormatError';
  }
}

/** Quote bare NaN / Infinity / -Infinity tokens (outside strings) so JSON.parse accepts them. */
function quoteNonFinite(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const rest = text.slice(i, i + 9);
    const tok = rest.startsWith('-Infinity') ? '-Infinity' : rest.startsWith('Infinity') ? 'Infinity' : rest.startsWith('NaN') ? 'NaN' : null;
    if (tok) {
      out += `"${tok}"`;
      i += tok.length;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

const NONFINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const FILE_KEYS = ['format', 'generator', 'cases'];
const CASE_KEYS = ['name', 'op', 'attrs', 'inputs', 'outputs', 'cotangents', 'grads', 'tol'];

/**
 * A key the format does not define is an error, not something to skip: a misspelt
 * "atrs" or "tol.atl" would otherwise run the case with defaults and may pass by luck.
 */
function unknownKeys(o: Record<string, unknown>, known: readonly string[], where: string): void {
  const extra = Object.keys(o).filter((k) => !known.includes(k));
  if (extra.length) throw new VectorFormatError(`${where}: unknown key ${extra.map((k) => JSON.stringify(k)).join(', ')} (expected only ${known.map((k) => JSON.stringify(k)).join(', ')})`);
}

function tensorOf(v: unknown, where: string): VectorTensor {
  if (!isObject(v)) throw new VectorFormatError(`${where}: expected a tensor { "shape": [...], "data": [...] }, received ${JSON.stringify(v)?.slice(0, 60)}`);
  unknownKeys(v, ['shape', 'data'], where);
  const { shape, data } = v;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    throw new VectorFormatError(`${where}: "shape" must be an array of non-negative integers, received ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(data)) throw new VectorFormatError(`${where}: "data" must be an array of numbers`);
  const n = (shape as number[]).reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new VectorFormatError(`${where}: "data" has ${data.length} values but shape ${JSON.stringify(shape)} needs ${n}`);
  const values = data.map((x, i) => {
    if (typeof x === 'number') return x;
    if (typeof x === 'string' && x in NONFINITE) return NONFINITE[x];
    throw new VectorFormatError(`${where}: data[${i}] is ${JSON.stringify(x)}, expected a number or "NaN", "Infinity", "-Infinity"`);
  });
  return { shape: shape as number[], data: values };
}

function tensorMap(v: unknown, where: string, required: boolean): Record<string, VectorTensor> {
  if (!isObject(v)) throw new VectorFormatError(`${where}: expected an object of named tensors`);
  const out: Record<string, VectorTensor> = {};
  for (const [k, t] of Object.entries(v)) out[k] = tensorOf(t, `${where}.${k}`);
  if (required && Object.keys(out).length === 0) throw new VectorFormatError(`${where}: needs at least one tensor`);
  return out;
}

function tolOf(v: unknown, where: string): VectorCase['tol'] {
  if (!isObject(v)) throw new VectorFormatError(`${where}: expected { "atol": number, "rtol": number }`);
  const one = (o: Record<string, unknown>, w: string): VectorTol => {
    unknownKeys(o, ['atol', 'rtol'], w);
    const t: VectorTol = {};
    for (const k of ['atol', 'rtol'] as const) {
      if (o[k] === undefined) continue;
      if (typeof o[k] !== 'number' || !((o[k] as number) >= 0)) throw new VectorFormatError(`${w}.${k}: must be a non-negative number, received ${JSON.stringify(o[k])}`);
      t[k] = o[k] as number;
    }
    return t;
  };
  if ('float32' in v || 'float64' in v) {
    unknownKeys(v, ['float32', 'float64'], where);
    const r: { float32?: VectorTol; float64?: VectorTol } = {};
    for (const d of ['float32', 'float64'] as const) {
      if (v[d] === undefined) continue;
      if (!isObject(v[d])) throw new VectorFormatError(`${where}.${d}: expected { "atol": number, "rtol": number }, received ${JSON.stringify(v[d])}`);
      r[d] = one(v[d] as Record<string, unknown>, `${where}.${d}`);
    }
    return r;
  }
  return one(v, where);
}

/**
 * Parse and validate a vectors file (its text, or the already-parsed JSON value).
 * `file` names it in error messages. Throws VectorFormatError.
 */
export function parseVectors(source: string | unknown, file = 'vectors'): VectorFile {
  let doc: unknown = source;
  if (typeof source === 'string') {
    try {
      doc = JSON.parse(source);
    } catch (e) {
      try {
        doc = JSON.parse(quoteNonFinite(source));
      } catch {
        throw new VectorFormatError(`${file}: not valid JSON (${(e as Error).message})`);
      }
    }
  }
  if (!isObject(doc)) throw new VectorFormatError(`${file}: expected a JSON object with "format": "${VECTORS_FORMAT}"`);
  if (doc.format !== VECTORS_FORMAT) {
    throw new VectorFormatError(`${file}: "format" is ${JSON.stringify(doc.format)}, expected "${VECTORS_FORMAT}"`);
  }
  if (!Array.isArray(doc.cases)) throw new VectorFormatError(`${file}: "cases" must be an array`);
  // A file that checks nothing must not read as a pass ("0 passed, 0 failed", exit 0).
  if (doc.cases.length === 0) throw new VectorFormatError(`${file}: "cases" is empty; expected at least one case`);
  unknownKeys(doc, FILE_KEYS, file);
  const cases = doc.cases.map((c: unknown, i: number): VectorCase => {
    const label = isObject(c) && typeof c.name === 'string' ? `case ${i} (${JSON.stringify(c.name)})` : `case ${i}`;
    const where = `${file}: ${label}`;
    if (!isObject(c)) throw new VectorFormatError(`${where}: expected an object`);
    unknownKeys(c, CASE_KEYS, where);
    if (typeof c.name !== 'string' || c.name === '') throw new VectorFormatError(`${where}: "name" must be a non-empty string`);
    if (typeof c.op !== 'string' || c.op === '') throw new VectorFormatError(`${where}: "op" must be a non-empty string`);
    if (c.attrs !== undefined && !isObject(c.attrs)) throw new VectorFormatError(`${where}: "attrs" must be an object`);
    const vc: VectorCase = {
      name: c.name,
      op: c.op,
      attrs: (c.attrs as Record<string, unknown>) ?? {},
      inputs: tensorMap(c.inputs ?? {}, `${where}: inputs`, false),
      outputs: tensorMap(c.outputs, `${where}: outputs`, true),
    };
    if ((c.cotangents === undefined) !== (c.grads === undefined)) {
      throw new VectorFormatError(`${where}: "cotangents" and "grads" come together (one is missing)`);
    }
    if (c.cotangents !== undefined) {
      vc.cotangents = tensorMap(c.cotangents, `${where}: cotangents`, true);
      vc.grads = tensorMap(c.grads, `${where}: grads`, true);
      for (const k of Object.keys(vc.cotangents)) {
        if (!(k in vc.outputs)) throw new VectorFormatError(`${where}: cotangents.${k} names no output (outputs: ${Object.keys(vc.outputs).join(', ')})`);
        if (JSON.stringify(vc.cotangents[k].shape) !== JSON.stringify(vc.outputs[k].shape)) {
          throw new VectorFormatError(`${where}: cotangents.${k} has shape ${JSON.stringify(vc.cotangents[k].shape)}, output ${k} has ${JSON.stringify(vc.outputs[k].shape)}`);
        }
      }
      for (const k of Object.keys(vc.grads)) {
        if (!(k in vc.inputs)) throw new VectorFormatError(`${where}: grads.${k} names no input (inputs: ${Object.keys(vc.inputs).join(', ')})`);
      }
    }
    if (c.tol !== undefined) vc.tol = tolOf(c.tol, `${where}: tol`);
    return vc;
  });
  const out: VectorFile = { format: VECTORS_FORMAT, cases };
  if (typeof doc.generator === 'string') out.generator = doc.generator;
  return out;
}

// ---------------------------------------------------------------- tolerances and comparison

/** VECTORS.md defaults. */
export const DEFAULT_TOL: Record<'float32' | 'float64', Required<VectorTol>> = {
  float64: { atol: 1e-9, rtol: 1e-7 },
  float32: { atol: 1e-5, rtol: 1e-4 },
};

/** Reductions longer than this may scale atol by sqrt(terms). */
export const SCALE_ATOL_ABOVE_TERMS = 1000;

/**
 * The tolerance for one case at `dtype`: the case's own `tol` when it has one (per dtype
 * when given per dtype); in float32 never tighter than the float32 defaults, since a
 * tolerance written for float64 references cannot be met with float32 arithmetic.
 * `explicit` says whether the case chose it (then no sqrt(terms) scaling applies).
 */
export function caseTolerance(c: VectorCase, dtype: 'float32' | 'float64'): { atol: number; rtol: number; explicit: boolean } {
  const dflt = DEFAULT_TOL[dtype];
  let t: VectorTol | undefined;
  if (c.tol && ('float32' in c.tol || 'float64' in c.tol)) t = (c.tol as { float32?: VectorTol; float64?: VectorTol })[dtype];
  else t = c.tol as VectorTol | undefined;
  if (!t || (t.atol === undefined && t.rtol === undefined)) return { ...dflt, explicit: false };
  let atol = t.atol ?? dflt.atol, rtol = t.rtol ?? dflt.rtol;
  if (dtype === 'float32') {
    atol = Math.max(atol, dflt.atol);
    rtol = Math.max(rtol, dflt.rtol);
  }
  return { atol, rtol, explicit: true };
}

export interface Comparison {
  /** Largest |actual - expected| over finite pairs (0 when none). */
  maxAbsErr: number;
  /** Largest |actual - expected| / |expected| over finite pairs with expected != 0. */
  maxRelErr: number;
  /** The first element that fails, described; null when all pass. */
  failure: string | null;
}

/**
 * |a - e| <= atol + rtol |e| elementwise; NaN matches only NaN, an infinity only the
 * same infinity (a finite value where a non-finite one is expected, or the reverse,
 * fails and counts as an infinite error).
 */
export function compareValues(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number): Comparison {
  let maxAbsErr = 0, maxRelErr = 0;
  let failure: string | null = null;
  if (actual.length !== expected.length) {
    return { maxAbsErr: Infinity, maxRelErr: Infinity, failure: `${label}: ${actual.length} values, expected ${expected.length}` };
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    let bad = false;
    if (Number.isNaN(e) || Number.isNaN(a)) bad = Number.isNaN(e) !== Number.isNaN(a);
    else if (!Number.isFinite(e) || !Number.isFinite(a)) bad = a !== e;
    else {
      const d = Math.abs(a - e);
      maxAbsErr = Math.max(maxAbsErr, d);
      if (e !== 0) maxRelErr = Math.max(maxRelErr, d / Math.abs(e));
      if (d > atol + rtol * Math.abs(e)) {
        if (!failure) failure = `${label}[${i}]: got ${a}, expected ${e} (|diff| ${d.toExponential(3)} > atol ${atol} + rtol ${rtol} * |expected|)`;
      }
      continue;
    }
    if (bad) {
      maxAbsErr = Infinity;
      maxRelErr = Infinity;
      if (!failure) failure = `${label}[${i}]: got ${a}, expected ${e}`;
    }
  }
  return { maxAbsErr, maxRelErr, failure };
}
