/**
 * TF.js weights manifests: `weightsManifest: [{ paths: [shard, ...], weights: [spec, ...] }]`.
 *
 * Each group's shards, concatenated in `paths` order, hold its weights back to back with no
 * padding, each `spec` in its stored form: float32 and int32 4 bytes a value, or quantised
 * (`quantization: { dtype: 'uint8' | 'uint16', scale, min }`: value = q * scale + min, in
 * float32, rounded for int32 weights; `{ dtype: 'float16' }`: IEEE half floats), all
 * little-endian. The groups follow one another in the weights buffer handed to the decoder
 * (what `tf.io` calls weightData and what the file handlers read: every shard of every
 * group, in manifest order). The formula and its rounding follow tfjs-core's `decodeWeights`.
 */
import { ModelFormatError } from '../io.js';

export interface TfjsQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  scale?: number;
  min?: number;
}

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: TfjsQuantization;
}

export interface TfjsWeightsGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

/** One decoded weight: its values as stored (float32 or int32) and its shape. */
export interface DecodedWeight {
  name: string;
  shape: number[];
  values: Float32Array | Int32Array;
  /** The group and shard files it came from (for messages). */
  files: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Bytes one stored value takes. */
function storedBytes(spec: TfjsWeightSpec): number {
  const q = spec.quantization?.dtype;
  return q === 'uint8' ? 1 : q === 'uint16' || q === 'float16' ? 2 : 4;
}

/** Half float bits -> number (exact: every half is a float32). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** number -> half float bits, rounding to nearest even (for writing float16 test shards). */
export function floatToHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const x = new Uint32Array(f32.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** The manifest checked entry by entry (a ModelFormatError names the file, the group and the weight). */
export function parseWeightsManifest(manifest: unknown, file: string): TfjsWeightsGroup[] {
  const fail = (problem: string, weight?: string): never => {
    throw new ModelFormatError(file, problem, weight);
  };
  if (!Array.isArray(manifest)) return fail(`"weightsManifest" must be an array of { paths, weights } groups, received ${JSON.stringify(manifest)?.slice(0, 60)}`);
  const seen = new Set<string>();
  return manifest.map((g, gi) => {
    const at = `weightsManifest[${gi}]`;
    if (!isObj(g)) return fail(`${at} must be an object { paths, weights }, received ${JSON.stringify(g)?.slice(0, 60)}`);
    if (!Array.isArray(g.paths) || g.paths.some((p) => typeof p !== 'string' || p === '')) fail(`${at}.paths must be an array of shard file names, received ${JSON.stringify(g.paths)?.slice(0, 80)}`);
    if (!Array.isArray(g.weights)) fail(`${at}.weights must be an array of { name, shape, dtype }, received ${JSON.stringify(g.weights)?.slice(0, 60)}`);
    const weights = (g.weights as unknown[]).map((w, wi) => {
      const wat = `${at}.weights[${wi}]`;
      if (!isObj(w) || typeof w.name !== 'string' || w.name === '') return fail(`${wat} must be an object with a non-empty "name", received ${JSON.stringify(w)?.slice(0, 60)}`);
      const label = `weight '${w.name}'`;
      if (seen.has(w.name)) fail(`${label} is listed twice in the weights manifest; expected each weight once`, w.name);
      seen.add(w.name);
      if (!Array.isArray(w.shape) || !w.shape.every(isCount)) fail(`${label}: "shape" must be an array of non-negative integers, received ${JSON.stringify(w.shape)}`, w.name);
      if (w.dtype !== 'float32' && w.dtype !== 'int32') {
        fail(`${label}: dtype ${JSON.stringify(w.dtype)} is not supported; expected float32 or int32 (string, bool and complex64 weights have no meaning in a convkit layer)`, w.name);
      }
      let quantization: TfjsQuantization | undefined;
      if (w.quantization !== undefined && w.quantization !== null) {
        const q = w.quantization;
        if (!isObj(q)) return fail(`${label}: "quantization" must be an object { dtype, scale, min }, received ${JSON.stringify(q)}`, w.name);
        if (q.dtype === 'uint8' || q.dtype === 'uint16') {
          if (typeof q.scale !== 'number' || !Number.isFinite(q.scale) || typeof q.min !== 'number' || !Number.isFinite(q.min)) {
            fail(`${label}: ${q.dtype} quantisation needs finite numbers "scale" and "min", received ${JSON.stringify(q)}`, w.name);
          }
          quantization = { dtype: q.dtype, scale: q.scale as number, min: q.min as number };
        } else if (q.dtype === 'float16') {
          if (w.dtype !== 'float32') fail(`${label}: float16 quantisation applies to float32 weights only, this one is ${w.dtype}`, w.name);
          quantization = { dtype: 'float16' };
        } else {
          fail(`${label}: quantisation dtype ${JSON.stringify(q.dtype)} is not supported; expected uint8, uint16 or float16`, w.name);
        }
      }
      return { name: w.name, shape: [...(w.shape as number[])], dtype: w.dtype as 'float32' | 'int32', ...(quantization ? { quantization } : {}) };
    });
    return { paths: [...(g.paths as string[])], weights };
  });
}

/** Bytes a group's weights take in their stored form. */
export function groupBytes(g: TfjsWeightsGroup): number {
  return g.weights.reduce((n, w) => n + w.shape.reduce((a, d) => a * d, 1) * storedBytes(w), 0);
}

/**
 * Every weight of every group, decoded. `data` holds the groups back to back; when
 * `shardSizes` (bytes of each file, in manifest order) is given, each group's shards are
 * checked against what its weights need and a short or long group names its files.
 */
export function decodeWeights(groups: readonly TfjsWeightsGroup[], data: ArrayBuffer, file: string, weightsName: string, shardSizes?: readonly number[]): DecodedWeight[] {
  const fail = (problem: string, weight?: string): never => {
    throw new ModelFormatError(file, problem, weight);
  };
  const bytes = new Uint8Array(data);
  const out: DecodedWeight[] = [];
  let base = 0, shard = 0;
  groups.forEach((g, gi) => {
    const need = groupBytes(g);
    const files = g.paths.length ? g.paths.join(', ') : `group ${gi}`;
    let have: number;
    if (shardSizes) {
      const sizes = shardSizes.slice(shard, shard + g.paths.length);
      shard += g.paths.length;
      have = sizes.reduce((a, b) => a + b, 0);
      if (have < need) {
        // Name the weight that runs past the end.
        let at = 0;
        const short = g.weights.find((w) => (at += w.shape.reduce((a, d) => a * d, 1) * storedBytes(w)) > have);
        fail(`weights group ${gi} (shards ${files}) holds ${have} bytes, but its ${g.weights.length} weight(s) need ${need}; weight '${short?.name}' runs past the end (a missing or short shard?)`, short?.name);
      }
      if (have > need) fail(`weights group ${gi} (shards ${files}) holds ${have} bytes, but its weights need exactly ${need}; ${have - need} extra bytes (a shard of another model?)`);
    } else {
      have = need;
      if (base + need > bytes.byteLength) {
        let at = base;
        const short = g.weights.find((w) => (at += w.shape.reduce((a, d) => a * d, 1) * storedBytes(w)) > bytes.byteLength);
        fail(`${weightsName} has ${bytes.byteLength} bytes, but weights group ${gi} ends at byte ${base + need}; weight '${short?.name}' runs past the end (a missing or short shard?)`, short?.name);
      }
    }
    let off = base;
    for (const w of g.weights) {
      const n = w.shape.reduce((a, d) => a * d, 1);
      const len = n * storedBytes(w);
      const dv = new DataView(bytes.buffer, bytes.byteOffset + off, len);
      let values: Float32Array | Int32Array;
      const q = w.quantization;
      if (!q) {
        values = w.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
        for (let i = 0; i < n; i++) values[i] = w.dtype === 'int32' ? dv.getInt32(4 * i, true) : dv.getFloat32(4 * i, true);
      } else if (q.dtype === 'float16') {
        values = new Float32Array(n);
        for (let i = 0; i < n; i++) values[i] = halfToFloat(dv.getUint16(2 * i, true));
      } else {
        values = w.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
        const scale = q.scale!, min = q.min!;
        for (let i = 0; i < n; i++) {
          const v = q.dtype === 'uint8' ? dv.getUint8(i) : dv.getUint16(2 * i, true);
          values[i] = w.dtype === 'int32' ? Math.round(v * scale + min) : v * scale + min;
        }
      }
      out.push({ name: w.name, shape: w.shape, values, files });
      off += len;
    }
    base += have;
  });
  if (!shardSizes && base < bytes.byteLength) {
    fail(`${weightsName} has ${bytes.byteLength} bytes, but the weights in the manifest end at byte ${base}: ${bytes.byteLength - base} extra bytes; expected exactly ${base}`);
  }
  return out;
}

/** TF.js's shard size (4 MiB). */
export const SHARD_BYTES = 4 * 1024 * 1024;

/**
 * Affine quantisation of one weight as tensorflowjs_converter does it (`--quantize_uint8`,
 * `--quantize_uint16`): scale = (max - min) / qmax, min nudged so that 0 is exactly
 * representable when the range holds it, q = round((v - min) / scale) clamped to [0, qmax].
 */
export function quantizeAffine(values: ArrayLike<number>, dtype: 'uint8' | 'uint16'): { q: Uint8Array | Uint16Array; scale: number; min: number } {
  const qmax = dtype === 'uint8' ? 255 : 65535;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  if (!(lo <= hi)) lo = hi = 0;
  let scale = (hi - lo) / qmax, min = lo;
  if (scale === 0) scale = 1;
  else if (lo <= 0 && hi >= 0) min = -Math.round(-lo / scale) * scale;
  const q = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = Math.min(qmax, Math.max(0, Math.round((values[i] - min) / scale)));
  return { q, scale, min };
}

export type TfjsQuantizeDtype = 'uint8' | 'uint16' | 'float16';

/**
 * float32 weights as one group split into shards of at most `shardBytes`: the manifest and
 * the shards. With `quantize`, every weight is stored in that encoding (a shard then holds
 * 1 or 2 bytes a value; a weight may straddle shards, as in TF.js).
 */
export function encodeWeights(weights: readonly { name: string; shape: number[]; values: ArrayLike<number> }[], shardBytes = SHARD_BYTES, prefix = 'group1', quantize?: TfjsQuantizeDtype): { manifest: TfjsWeightsGroup[]; shards: Uint8Array[] } {
  const per = quantize === 'uint8' ? 1 : quantize ? 2 : 4;
  const total = weights.reduce((n, w) => n + per * w.values.length, 0);
  const all = new Uint8Array(total);
  const dv = new DataView(all.buffer);
  const specs: TfjsWeightSpec[] = [];
  let off = 0;
  for (const w of weights) {
    const spec: TfjsWeightSpec = { name: w.name, shape: [...w.shape], dtype: 'float32' };
    if (quantize === 'float16') {
      spec.quantization = { dtype: 'float16' };
      for (let i = 0; i < w.values.length; i++, off += 2) dv.setUint16(off, floatToHalf(w.values[i]), true);
    } else if (quantize) {
      const { q, scale, min } = quantizeAffine(w.values, quantize);
      spec.quantization = { dtype: quantize, scale, min };
      for (let i = 0; i < q.length; i++, off += per) {
        if (per === 1) dv.setUint8(off, q[i]);
        else dv.setUint16(off, q[i], true);
      }
    } else {
      for (let i = 0; i < w.values.length; i++, off += 4) dv.setFloat32(off, w.values[i], true);
    }
    specs.push(spec);
  }
  const count = Math.max(1, Math.ceil(total / shardBytes));
  const shards: Uint8Array[] = [];
  for (let i = 0; i < count; i++) shards.push(all.slice(i * shardBytes, Math.min(total, (i + 1) * shardBytes)));
  const paths = shards.map((_, i) => `${prefix}-shard${i + 1}of${count}.bin`);
  return { manifest: [{ paths, weights: specs }], shards };
}
