/**
 * Saving and loading models.
 *
 * Format 'convkit-model/1': a JSON manifest
 *   { format: 'convkit-model/1', generatedBy, modelConfig: { className, config },
 *     weightsManifest: [{ name, shape, dtype, offset, byteLength }], weightsPath: 'weights.bin' }
 * and ONE binary buffer holding every weight back to back, row-major, little-endian, each
 * in its dtype (float32: 4 bytes per value; float64 models keep 8). `modelConfig` is the
 * model's getConfig(): its layers with their options and, for functional models, the graph
 * (inputs, nodes referring to tensors by index, outputs). Weight names are relative to the
 * model ('conv1/kernel', 'layer1.0/bn1/movingMean').
 *
 * Targets: a directory path (Node: model.json + weights.bin; node:fs is imported only
 * when used, so browsers never load it), or an IOHandler: memoryHandler(),
 * browserLocalStorage(key) (weights as base64), browserIndexedDB(name), fromFetch(url)
 * (load only).
 */
import { type LayerConfig, baseWeight } from '../layers/layer.js';
import { deserializeLayer } from '../layers/builtin.js';
import { fromValues } from '../registry/storage.js';
import { BYTES_PER_ELEMENT, type DType, type TypedArray, isDType } from '../tensor/dtype.js';
import { sizeOf } from '../tensor/shape.js';
// A runtime import (a cycle with model.ts, which imports saveModel: safe, neither uses the other
// at the top level): loading a model.json needs model.ts evaluated, which registers Model and
// Sequential as layer classes for deserializeLayer.
import { Model } from './model.js';
import { exportOnnx, type EncodeOnnxOptions } from './onnx/export.js';
import { isOnnx } from './onnx/detect.js';
import { decodeTfjsLayers, isTfjsLayersJSON, TFJS_LAYERS_FORMAT, type TfjsModelJSON } from './tfjs_layers/read.js';
import { encodeTfjsLayers, type EncodeTfjsOptions } from './tfjs_layers/write.js';
import { KerasConfigError } from './tfjs_layers/keras_config.js';
import { parseWeightsManifest } from './tfjs_layers/weights.js';

export const MODEL_FORMAT = 'convkit-model/1';

export interface WeightsManifestEntry {
  name: string;
  shape: number[];
  dtype: DType;
  /** Byte offset in the weights buffer. */
  offset: number;
  byteLength: number;
}

export interface ModelJSON {
  format: typeof MODEL_FORMAT;
  generatedBy: string;
  modelConfig: { className: string; config: LayerConfig };
  weightsManifest: WeightsManifestEntry[];
  /** File name of the weights next to model.json (directory and fetch targets). */
  weightsPath?: string;
}

export interface ModelArtifacts {
  /** convkit's model.json, or a TF.js Layers one (`format: 'layers-model'`). */
  modelJSON: ModelJSON | TfjsModelJSON;
  /**
   * The weights: convkit's weights.bin, or for TF.js Layers every shard of every group
   * of the manifest, concatenated in manifest order.
   */
  weightData: ArrayBuffer;
  /**
   * TF.js Layers only: the shard files (manifest order) and their sizes. Loaders set it
   * (a short shard is then named); savers split weightData along it.
   */
  weightFiles?: { path: string; byteLength: number }[];
  /**
   * Where the two parts were read from (a path, a URL, a storage key), for error
   * messages. Set by the loading handlers; optional for artifacts made by hand.
   */
  sources?: { model: string; weights: string };
}

/**
 * A saved model that cannot be loaded as it is. The message names the file (and the
 * weight, when one is at fault), what it holds and what was expected.
 */
export class ModelFormatError extends Error {
  constructor(readonly file: string, readonly problem: string, readonly weight?: string, op = 'loadModel') {
    super(`${op}: ${file}: ${problem}`);
    this.name = 'ModelFormatError';
  }
}

/** There is no saved model (or no weights file) where one was looked for. */
export class ModelNotFoundError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = 'ModelNotFoundError';
  }
}

/** model.json's text as an object, or a ModelFormatError naming `where` (the file or URL). */
function parseModelJSON(text: string, where: string): ModelJSON {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(where, `not valid JSON (${(e as Error).message})`);
  }
  if (!isObj(json)) throw new ModelFormatError(where, `expected a JSON object with "format": "${MODEL_FORMAT}", received ${JSON.stringify(json)?.slice(0, 60)}`);
  if (json.format === 'graph-model') {
    throw new ModelFormatError(where, `is a TF.js graph model (format "graph-model", from a TensorFlow SavedModel); convkit reads TF.js Layers models ("${TFJS_LAYERS_FORMAT}", from Keras), convkit models and ONNX`);
  }
  return json as unknown as ModelJSON;
}

export interface SaveResult {
  /** Where it went (a path, a key, 'memory'). */
  location: string;
  modelBytes: number;
  weightBytes: number;
}

/** Where models are saved to and loaded from. */
export interface IOHandler {
  save?(artifacts: ModelArtifacts): Promise<SaveResult>;
  load?(): Promise<ModelArtifacts>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesOf(a: TypedArray): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Float32Array) dv.setFloat32(i * 4, a[i], true);
    else if (a instanceof Float64Array) dv.setFloat64(i * 8, a[i], true);
    else dv.setInt32(i * 4, a[i], true);
  }
  return out;
}

function typedFrom(buf: ArrayBuffer, dtype: DType): TypedArray {
  if (LITTLE_ENDIAN) {
    if (dtype === 'float32') return new Float32Array(buf);
    if (dtype === 'float64') return new Float64Array(buf);
    return new Int32Array(buf);
  }
  const dv = new DataView(buf);
  const n = buf.byteLength / BYTES_PER_ELEMENT[dtype];
  const out = dtype === 'float32' ? new Float32Array(n) : dtype === 'float64' ? new Float64Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = dtype === 'float32' ? dv.getFloat32(i * 4, true) : dtype === 'float64' ? dv.getFloat64(i * 8, true) : dv.getInt32(i * 4, true);
  }
  return out;
}

/** The model as artifacts: its config and one weights buffer. */
export async function encodeModel(model: Model): Promise<ModelArtifacts> {
  const entries: WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  const seen = new Set<unknown>();
  let offset = 0;
  for (const w of model.weights) {
    const base = baseWeight(w);
    if (seen.has(base)) continue;
    seen.add(base);
    const values = await w.value.data();
    const bytes = bytesOf(values);
    // Each weight starts at a multiple of its element size (the loader requires it);
    // only a float64 weight after an odd number of 4-byte values needs padding.
    const align = BYTES_PER_ELEMENT[w.dtype];
    if (offset % align !== 0) {
      const pad = align - (offset % align);
      chunks.push(new Uint8Array(pad));
      offset += pad;
    }
    entries.push({ name: w.name, shape: [...w.shape], dtype: w.dtype, offset, byteLength: bytes.byteLength });
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.byteLength;
  }
  const modelJSON: ModelJSON = {
    format: MODEL_FORMAT,
    generatedBy: 'convkit',
    modelConfig: { className: model.className, config: model.getConfig() },
    weightsManifest: entries,
    weightsPath: 'weights.bin',
  };
  return { modelJSON, weightData: data.buffer };
}

const DEFAULT_SOURCES = { model: 'the model JSON', weights: 'the weights buffer' };
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Every manifest entry well formed ({ name, shape, dtype, offset, byteLength }) and listed once. */
function parseManifest(manifest: unknown, mf: string): WeightsManifestEntry[] {
  function fail(problem: string, weight?: string): never {
    throw new ModelFormatError(mf, problem, weight);
  }
  if (!Array.isArray(manifest)) fail(`"weightsManifest" must be an array of { name, shape, dtype, offset, byteLength }, received ${JSON.stringify(manifest)?.slice(0, 60)}`);
  const entries = manifest as unknown[];
  const firstIndex = new Map<string, number>();
  entries.forEach((e, i) => {
    const at = `weightsManifest[${i}]`;
    if (!isObj(e)) return fail(`${at} must be an object { name, shape, dtype, offset, byteLength }, received ${JSON.stringify(e)?.slice(0, 60)}`);
    if (typeof e.name !== 'string' || e.name === '') return fail(`${at}: "name" must be a non-empty string, received ${JSON.stringify(e.name)}`);
    const w = `weight '${e.name}'`;
    if (firstIndex.has(e.name)) fail(`${w} is listed twice in weightsManifest (entries ${firstIndex.get(e.name)} and ${i}); expected each weight once`, e.name);
    firstIndex.set(e.name, i);
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) fail(`${w}: "shape" must be an array of non-negative integers, received ${JSON.stringify(e.shape)}`, e.name);
    if (!isDType(e.dtype)) fail(`${w}: unknown dtype ${JSON.stringify(e.dtype)}; expected float32, float64 or int32`, e.name);
    if (!isCount(e.offset)) fail(`${w}: "offset" must be a non-negative integer, received ${JSON.stringify(e.offset)}`, e.name);
    if (!isCount(e.byteLength)) fail(`${w}: "byteLength" must be a non-negative integer, received ${JSON.stringify(e.byteLength)}`, e.name);
  });
  return entries as WeightsManifestEntry[];
}

/** Check that each manifest entry has its own, aligned, correctly sized bytes, and no byte of the buffer is left over. */
function checkByteRanges(list: readonly WeightsManifestEntry[], byteLength: number, sources: { model: string; weights: string }): void {
  const { model: mf, weights: wf } = sources;
  function fail(problem: string, weight?: string): never {
    throw new ModelFormatError(mf, problem, weight);
  }
  for (const e of list) {
    const w = `weight '${e.name}'`;
    const bpe = BYTES_PER_ELEMENT[e.dtype as DType];
    const need = sizeOf(e.shape as number[]) * bpe;
    if (e.byteLength !== need) fail(`${w}: byteLength is ${e.byteLength}, but shape [${(e.shape as number[]).join(', ')}] of ${e.dtype} needs ${need} bytes`, e.name);
    if ((e.offset as number) % bpe !== 0) fail(`${w}: offset ${e.offset} is not a multiple of ${bpe} (the size of one ${e.dtype} value); expected an aligned offset`, e.name);
    const end = (e.offset as number) + e.byteLength;
    if (end > byteLength) fail(`${w} (offset ${e.offset}, ${e.byteLength} bytes) runs past the end of ${wf}, which has ${byteLength} bytes; expected offset + byteLength <= ${byteLength}`, e.name);
  }
  // Byte ranges in file order: no overlaps, no unclaimed bytes (except alignment padding).
  const order = list.map((e, i) => ({ e, i })).filter(({ e }) => e.byteLength > 0).sort((a, b) => a.e.offset - b.e.offset || a.i - b.i);
  let end = 0;
  let last: WeightsManifestEntry | null = null;
  for (const { e } of order) {
    if (last && e.offset < end) {
      fail(`weights '${last.name}' (bytes ${last.offset}..${end - 1}) and '${e.name}' (bytes ${e.offset}..${e.offset + e.byteLength - 1}) overlap in ${wf}; expected each weight in bytes of its own`, e.name);
    }
    const gap = e.offset - end;
    if (gap > 0 && gap >= BYTES_PER_ELEMENT[e.dtype]) {
      fail(`bytes ${end}..${e.offset - 1} of ${wf} (before weight '${e.name}') belong to no weight; expected the weights back to back`, e.name);
    }
    end = e.offset + e.byteLength;
    last = e;
  }
  if (byteLength > end) {
    fail(`${wf} has ${byteLength} bytes, but the weights in the manifest end at byte ${end}: ${byteLength - end} extra bytes; expected exactly ${end}`);
  }
}

/** Rebuild a model from artifacts; every weight must be present with its shape and dtype. */
export function decodeModel(artifacts: ModelArtifacts): Model {
  const src = artifacts.sources ?? DEFAULT_SOURCES;
  const mf = src.model;
  function fail(problem: string, weight?: string): never {
    throw new ModelFormatError(mf, problem, weight);
  }
  const tf = artifacts as unknown as { modelTopology?: unknown; weightSpecs?: unknown; weightData?: unknown };
  if (artifacts.modelJSON === undefined && isObj(tf.modelTopology)) {
    // Artifacts as tf.io hands them (modelTopology, weightSpecs, weightData): one group.
    return decodeTfjsArtifacts({ format: TFJS_LAYERS_FORMAT, modelTopology: tf.modelTopology, weightsManifest: [{ paths: [], weights: tf.weightSpecs ?? [] }] }, artifacts, src);
  }
  const j = artifacts.modelJSON as ModelJSON;
  if (isTfjsLayersJSON(j)) return decodeTfjsArtifacts(j, artifacts, src);
  if (!isObj(j)) fail(`expected a JSON object with "format": "${MODEL_FORMAT}", received ${JSON.stringify(j)?.slice(0, 60)}`);
  if (j.format !== MODEL_FORMAT) fail(`unsupported format ${JSON.stringify(j.format)} (expected '${MODEL_FORMAT}')`);
  if (!isObj(j.modelConfig) || !Array.isArray(j.weightsManifest)) fail('the model JSON needs "modelConfig" and "weightsManifest"');
  const buf = artifacts.weightData;
  if (Object.prototype.toString.call(buf) !== '[object ArrayBuffer]') fail(`the weights of ${src.weights} must be an ArrayBuffer, received ${Object.prototype.toString.call(buf)}`);
  const manifest = parseManifest(j.weightsManifest, mf);
  let m: Model;
  try {
    m = deserializeLayer(j.modelConfig) as Model;
  } catch (e) {
    throw new ModelFormatError(mf, `"modelConfig" cannot be rebuilt: ${(e as Error).message}`);
  }
  if (!(m instanceof Model)) fail(`'${j.modelConfig.className}' is a layer, not a model`);
  const weights = m.namedWeightMap();
  const listed = new Set(manifest.map((e) => e.name));
  const missing = [...weights.keys()].filter((n) => !listed.has(n));
  if (missing.length) fail(`the weights manifest lacks ${missing.length} weight(s) of the model: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`, missing[0]);
  for (const e of manifest) {
    const w = weights.get(e.name);
    if (!w) fail(`the weights manifest has '${e.name}', which the model does not define`, e.name);
    if (e.shape.length !== w!.shape.length || e.shape.some((d, i) => d !== w!.shape[i])) {
      fail(`weight '${e.name}' has shape [${e.shape.join(', ')}] in the file but [${w!.shape.join(', ')}] in the model`, e.name);
    }
    if (e.dtype !== w!.dtype) fail(`weight '${e.name}' is ${e.dtype} in the file but ${w!.dtype} in the model`, e.name);
  }
  // Before any value is read: each weight's bytes are its own, aligned and of the right
  // size, and the buffer holds nothing else. Anything looser loads and predicts garbage.
  checkByteRanges(manifest, buf.byteLength, src);
  for (const e of manifest) {
    const values = typedFrom(buf.slice(e.offset, e.offset + e.byteLength), e.dtype);
    weights.get(e.name)!.value = fromValues(values, e.shape, e.dtype);
  }
  return m;
}

function decodeTfjsArtifacts(j: TfjsModelJSON, artifacts: ModelArtifacts, src: { model: string; weights: string }): Model {
  let buf = artifacts.weightData as unknown;
  if (ArrayBuffer.isView(buf)) buf = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  if (buf === undefined || buf === null) buf = new ArrayBuffer(0);
  if (Object.prototype.toString.call(buf) !== '[object ArrayBuffer]') throw new ModelFormatError(src.model, `the weights of ${src.weights} must be an ArrayBuffer, received ${Object.prototype.toString.call(buf)}`);
  return decodeTfjsLayers(j, buf as ArrayBuffer, src.model, src.weights, artifacts.weightFiles?.map((f) => f.byteLength));
}

/** The artifacts of a TF.js Layers model (model.json and shards joined, with the shard list). */
async function encodeTfjsArtifacts(model: Model, opts: EncodeTfjsOptions): Promise<ModelArtifacts> {
  let a;
  try {
    a = await encodeTfjsLayers(model, opts);
  } catch (e) {
    if (e instanceof KerasConfigError) throw new KerasConfigError(`save (tfjs-layers): model '${model.name}': ${e.message}`);
    throw e;
  }
  const total = a.shards.reduce((n, s) => n + s.data.byteLength, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const s of a.shards) {
    data.set(s.data, at);
    at += s.data.byteLength;
  }
  return { modelJSON: a.modelJSON, weightData: data.buffer, weightFiles: a.shards.map((s) => ({ path: s.path, byteLength: s.data.byteLength })) };
}

/** Options of `saveModel` / `model.save`. */
export interface SaveOptions extends EncodeOnnxOptions {
  /**
   * 'convkit' (model.json + weights.bin) or 'onnx' (one .onnx file, see encodeOnnx). Default:
   * 'onnx' when the target path ends in .onnx, else 'convkit'. 'tfjs-layers': a TF.js Layers
   * model (model.json in Keras form + 4 MiB weight shards) that `tf.loadLayersModel` reads.
   */
  format?: 'convkit' | 'onnx' | 'tfjs-layers';
  /** 'tfjs-layers' only: bytes per weight shard (default 4 MiB, as TF.js). */
  shardBytes?: number;
  /** 'tfjs-layers' only: store the weights as uint8, uint16 (affine) or float16, as tensorflowjs_converter's --quantize_* (lossy). */
  quantize?: 'uint8' | 'uint16' | 'float16';
}

/**
 * Save a model: a directory path (Node: model.json + weights.bin) or an IOHandler; with
 * `{ format: 'onnx' }` or a path ending in `.onnx`, one ONNX file (Node) written by
 * `exportOnnx` (options `inputLayout`, `opset`, `name`; weights on any backend).
 */
export async function saveModel(model: Model, target: string | IOHandler, options: SaveOptions = {}): Promise<SaveResult> {
  const { format, shardBytes, quantize, ...onnxOpts } = options ?? {};
  if (format !== undefined && format !== 'convkit' && format !== 'onnx' && format !== 'tfjs-layers') throw new RangeError(`save: format must be 'convkit', 'onnx' or 'tfjs-layers', received ${JSON.stringify(format)}`);
  if ((shardBytes !== undefined || quantize !== undefined) && format !== 'tfjs-layers') throw new RangeError("save: options shardBytes and quantize apply only to format 'tfjs-layers'");
  const onnx = format === 'onnx' || (format === undefined && typeof target === 'string' && /\.onnx$/i.test(target));
  if (onnx) {
    if (typeof target !== 'string') throw new TypeError("save: format 'onnx' writes a file and needs a path; use exportOnnx(model) for the bytes");
    const bytes = await exportOnnx(model, onnxOpts);
    const fsName = 'node:fs/promises', pathName = 'node:path';
    const fs = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fsName)) as typeof import('node:fs/promises');
    const p = (await import(/* @vite-ignore */ /* webpackIgnore: true */ pathName)) as typeof import('node:path');
    try {
      await fs.mkdir(p.dirname(p.resolve(target)), { recursive: true });
      await fs.writeFile(target, bytes);
    } catch (e) {
      throw new Error(`save: cannot write ${target} (${(e as Error).message})`);
    }
    return { location: target, modelBytes: bytes.byteLength, weightBytes: 0 };
  }
  const rest = Object.keys(onnxOpts);
  if (rest.length) throw new RangeError(`save: option(s) ${rest.join(', ')} apply only to format 'onnx'`);
  const handler = typeof target === 'string' ? fileSystemHandler(target) : target;
  if (!handler || typeof handler.save !== 'function') throw new TypeError('save: the target must be a directory path or an IOHandler with a save() method');
  return handler.save(format === 'tfjs-layers' ? await encodeTfjsArtifacts(model, { ...(shardBytes !== undefined ? { shardBytes } : {}), ...(quantize !== undefined ? { quantize } : {}) }) : await encodeModel(model));
}

/**
 * Load a model: a convkit model (a directory or a model.json path in Node, an http(s) URL
 * of model.json, an IOHandler) or an ONNX model (a file path, a URL, a Uint8Array or an
 * ArrayBuffer), told apart by content, not by extension; ONNX goes through `loadOnnx`
 * with its default options (channels-last inputs and outputs).
 */
export async function loadModel(source: string | IOHandler | Uint8Array | ArrayBuffer): Promise<Model> {
  // The ONNX importer is loaded when a file is ONNX (see onnx/detect.ts for why not statically)
  const loadOnnx = async (bytes: Uint8Array | ArrayBuffer, opts?: { name: string }): Promise<Model> => (await import('./onnx/import.js')).loadOnnx(bytes, opts);
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    if (isOnnx(source)) return loadOnnx(source);
    throw new ModelFormatError('bytes', 'are not an ONNX model (a convkit model is a model.json and its weights: load it from a path, a URL or an IOHandler)');
  }
  if (typeof source === 'string' && /^https?:\/\//.test(source)) {
    const maybe = globalThis.fetch as typeof fetch | undefined;
    if (!maybe) throw new Error('loadModel: no fetch() here to load ' + source);
    const f: typeof fetch = maybe;
    const res = await f(source);
    if (!res.ok) {
      if (res.status === 404) throw new ModelNotFoundError(source, `loadModel: fetching ${source} gave HTTP 404 (no model there)`);
      throw new ModelFormatError(source, `fetching it gave HTTP ${res.status}`);
    }
    const buf = new Uint8Array(await res.arrayBuffer());
    if (isOnnx(buf)) return loadOnnx(buf, { name: source });
    let first = true;
    const cached: typeof fetch = (input, init) => {
      if (first) {
        first = false;
        return Promise.resolve(new Response(buf, { status: 200 }));
      }
      return f(input as never, init);
    };
    return decodeModel(await fromFetch(source, { fetch: cached }).load!());
  }
  if (typeof source === 'string') {
    // A file (not a folder): JSON is today's model.json, anything else is read as ONNX.
    const bytes = await readIfFile(source);
    if (bytes && !looksLikeJson(bytes)) return loadOnnx(bytes, { name: source });
  }
  const handler = typeof source === 'string' ? fileSystemHandler(source) : source;
  if (!handler || typeof handler.load !== 'function') throw new TypeError('loadModel: the source must be a path, a URL, a Uint8Array, an ArrayBuffer or an IOHandler with a load() method');
  return decodeModel(await handler.load());
}

function looksLikeJson(b: Uint8Array): boolean {
  let i = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return b[i] === 0x7b;
}

/** The bytes of `path` when it is a regular file not named *.json (Node), else null. */
async function readIfFile(path: string): Promise<Uint8Array | null> {
  if (path.endsWith('.json') || typeof process === 'undefined' || !process.versions?.node) return null;
  const fsName = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fsName)) as typeof import('node:fs/promises');
  try {
    if (!(await fs.stat(path)).isFile()) return null;
    return new Uint8Array(await fs.readFile(path));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- handlers

function jsonBytes(j: ModelJSON | TfjsModelJSON): number {
  return new TextEncoder().encode(JSON.stringify(j)).byteLength;
}

/**
 * The weights file named by a manifest's `weightsPath`, checked to stay inside the
 * model's folder: a relative path without '..' segments (percent-encoded ones
 * included), not absolute, not a URL or a drive. Returns the path ('weights.bin'
 * when none is given). `op` and `modelFile` name the caller and the file in errors.
 */
export function checkWeightsPath(weightsPath: unknown, modelFile: string, op = 'loadModel', what = 'weightsPath'): string {
  if (weightsPath === undefined || weightsPath === null) return 'weights.bin';
  const bad = (why: string): never => {
    throw new ModelFormatError(modelFile, `${what} ${JSON.stringify(weightsPath)} ${why}; expected a path relative to model.json inside its folder, such as "weights.bin"`, undefined, op);
  };
  if (typeof weightsPath !== 'string' || weightsPath === '') return bad('is not a file name');
  let decoded = weightsPath;
  try {
    decoded = decodeURIComponent(weightsPath);
  } catch {
    /* not percent-encoded: check it as written */
  }
  for (const p of new Set([weightsPath, decoded])) {
    if (p.includes('\0')) bad('contains a NUL character');
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(p)) bad('is a URL or a drive path');
    if (/^[\\/]/.test(p)) bad('is an absolute path');
    if (p.split(/[\\/]/).includes('..')) bad("leaves the model's folder");
  }
  return weightsPath;
}

/** Node: model.json and weights.bin in a directory (created if needed). */
export function fileSystemHandler(path: string): IOHandler {
  // A variable specifier keeps bundlers from pulling node:fs into browser builds.
  const fsName = 'node:fs/promises', pathName = 'node:path';
  const load = async () => ({
    fs: (await import(/* @vite-ignore */ /* webpackIgnore: true */ fsName)) as typeof import('node:fs/promises'),
    p: (await import(/* @vite-ignore */ /* webpackIgnore: true */ pathName)) as typeof import('node:path'),
  });
  /** `rel` resolved in `dir`, refusing anything that ends up outside it. */
  const inside = (p: typeof import('node:path'), dir: string, rel: string, modelFile: string, op: string): string => {
    const full = p.resolve(dir, rel);
    const back = p.relative(p.resolve(dir), full);
    if (back === '' || back.split(p.sep)[0] === '..' || p.isAbsolute(back)) {
      throw new ModelFormatError(modelFile, `weightsPath ${JSON.stringify(rel)} resolves to ${full}, which is not a file inside the model's folder ${p.resolve(dir)}`, undefined, op);
    }
    return full;
  };
  const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;
  return {
    async save(a: ModelArtifacts): Promise<SaveResult> {
      const { fs, p } = await load();
      const jsonPath = p.join(path, 'model.json');
      const text = JSON.stringify(a.modelJSON, null, 1);
      const step = async (what: string, file: string, f: () => Promise<unknown>) => {
        try {
          await f();
        } catch (e) {
          throw new Error(`save: cannot ${what} ${file} (${(e as Error).message})`);
        }
      };
      if (isTfjsLayersJSON(a.modelJSON)) {
        // TF.js Layers: the shards named by the manifest, split along weightFiles.
        const files = a.weightFiles ?? [{ path: 'group1-shard1of1.bin', byteLength: a.weightData.byteLength }];
        const targets = files.map((f) => inside(p, path, checkWeightsPath(f.path, jsonPath, 'save', 'shard path'), jsonPath, 'save'));
        await step('create the folder', path, () => fs.mkdir(path, { recursive: true }));
        await step('write', jsonPath, () => fs.writeFile(jsonPath, text));
        let at = 0;
        for (let i = 0; i < files.length; i++) {
          const part = new Uint8Array(a.weightData, at, files[i].byteLength);
          at += files[i].byteLength;
          await step('write', targets[i], () => fs.writeFile(targets[i], part));
        }
        return { location: path, modelBytes: new TextEncoder().encode(text).byteLength, weightBytes: a.weightData.byteLength };
      }
      const weightsPath = inside(p, path, checkWeightsPath((a.modelJSON as ModelJSON).weightsPath, jsonPath, 'save'), jsonPath, 'save');
      await step('create the folder', path, () => fs.mkdir(path, { recursive: true }));
      await step('write', jsonPath, () => fs.writeFile(jsonPath, text));
      await step('create the folder', p.dirname(weightsPath), () => fs.mkdir(p.dirname(weightsPath), { recursive: true }));
      await step('write', weightsPath, () => fs.writeFile(weightsPath, new Uint8Array(a.weightData)));
      return { location: path, modelBytes: new TextEncoder().encode(text).byteLength, weightBytes: a.weightData.byteLength };
    },
    async load(): Promise<ModelArtifacts> {
      const { fs, p } = await load();
      const jsonPath = path.endsWith('.json') ? path : p.join(path, 'model.json');
      let text: string;
      try {
        text = await fs.readFile(jsonPath, 'utf8');
      } catch (e) {
        if (errno(e) === 'ENOENT') throw new ModelNotFoundError(jsonPath, `loadModel: no model at ${path}: ${jsonPath} does not exist`);
        throw new ModelFormatError(jsonPath, `cannot be read (${(e as Error).message})`);
      }
      const modelJSON = parseModelJSON(text, jsonPath);
      const dir = p.dirname(jsonPath);
      if (isTfjsLayersJSON(modelJSON)) {
        // TF.js Layers: every shard of every group, in manifest order.
        const groups = parseWeightsManifest(modelJSON.weightsManifest ?? [], jsonPath);
        const parts: Uint8Array[] = [];
        const weightFiles: { path: string; byteLength: number }[] = [];
        for (const g of groups) {
          for (const rel of g.paths) {
            const full = inside(p, dir, checkWeightsPath(rel, jsonPath, 'loadModel', 'shard path'), jsonPath, 'loadModel');
            let b: Uint8Array;
            try {
              b = await fs.readFile(full);
            } catch (e) {
              if (errno(e) === 'ENOENT') throw new ModelFormatError(jsonPath, `weight shard ${full} (listed in weightsManifest) does not exist; expected every shard next to model.json`);
              throw new ModelFormatError(full, `cannot be read (${(e as Error).message})`);
            }
            parts.push(b);
            weightFiles.push({ path: rel, byteLength: b.byteLength });
          }
        }
        const total = parts.reduce((n, b) => n + b.byteLength, 0);
        const all = new Uint8Array(total);
        let at = 0;
        for (const b of parts) {
          all.set(b, at);
          at += b.byteLength;
        }
        return { modelJSON, weightData: all.buffer, weightFiles, sources: { model: jsonPath, weights: `the shards of ${jsonPath}` } };
      }
      const binPath = inside(p, dir, checkWeightsPath((modelJSON as ModelJSON).weightsPath, jsonPath), jsonPath, 'loadModel');
      let bin: Uint8Array;
      try {
        bin = await fs.readFile(binPath);
      } catch (e) {
        if (errno(e) === 'ENOENT') throw new ModelNotFoundError(binPath, `loadModel: ${jsonPath}: its weights file ${binPath} does not exist`);
        throw new ModelFormatError(binPath, `cannot be read (${(e as Error).message})`);
      }
      return {
        modelJSON,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer,
        sources: { model: jsonPath, weights: binPath },
      };
    },
  };
}

export interface MemoryHandler extends IOHandler {
  /** The saved artifacts (null before the first save). */
  artifacts: ModelArtifacts | null;
  save(artifacts: ModelArtifacts): Promise<SaveResult>;
  load(): Promise<ModelArtifacts>;
}

/** Keeps a copy of the artifacts in memory (tests, cloning a model, handing it to a worker). */
export function memoryHandler(initial: ModelArtifacts | null = null): MemoryHandler {
  const copy = (a: ModelArtifacts): ModelArtifacts => ({
    modelJSON: JSON.parse(JSON.stringify(a.modelJSON)),
    weightData: a.weightData.slice(0),
    ...(a.weightFiles ? { weightFiles: a.weightFiles.map((f) => ({ ...f })) } : {}),
  });
  return {
    artifacts: initial ? copy(initial) : null,
    async save(a) {
      this.artifacts = copy(a);
      return { location: 'memory', modelBytes: jsonBytes(a.modelJSON), weightBytes: a.weightData.byteLength };
    },
    async load() {
      if (!this.artifacts) throw new ModelNotFoundError('memory', 'loadModel: the memory handler holds no model (save one first)');
      return { ...copy(this.artifacts), sources: { model: "the memory handler's modelJSON", weights: "the memory handler's weightData" } };
    },
  };
}

// ---------------------------------------------------------------- base64 (for localStorage)

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CH = 3 * 16384;
  for (let start = 0; start < bytes.length; start += CH) {
    const end = Math.min(bytes.length, start + CH);
    let s = '';
    for (let i = start; i < end; i += 3) {
      const b0 = bytes[i], b1 = i + 1 < end ? bytes[i + 1] : 0, b2 = i + 2 < end ? bytes[i + 2] : 0;
      s += B64[b0 >> 2] + B64[((b0 & 3) << 4) | (b1 >> 4)];
      s += i + 1 < end ? B64[((b1 & 15) << 2) | (b2 >> 6)] : '=';
      s += i + 2 < end ? B64[b2 & 63] : '=';
    }
    parts.push(s);
  }
  return parts.join('');
}

export function base64ToBytes(s: string): Uint8Array {
  // Line breaks and spaces are allowed (MIME style); any other stray character, or '='
  // anywhere but the end, means the text is damaged: refuse it rather than skip it.
  const clean = s.replace(/\s+/g, '');
  const badAt = clean.search(/[^A-Za-z0-9+/=]|=(?=[^=])|={3}/);
  if (badAt !== -1) throw new RangeError(`base64: invalid character ${JSON.stringify(clean[badAt])} at position ${badAt}; expected A-Z a-z 0-9 + / and '=' padding at the end`);
  if (clean.length % 4 !== 0) throw new RangeError(`base64: length ${clean.length} is not a multiple of 4`);
  const pad = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((clean.length / 4) * 3 - pad);
  const val = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) val[B64.charCodeAt(i)] = i;
  let o = 0;
  for (let i = 0; i < clean.length; i += 4) {
    const c = [0, 1, 2, 3].map((k) => (clean[i + k] === '=' ? 0 : val[clean.charCodeAt(i + k)]));
    if (c.some((v) => v < 0)) throw new RangeError('base64: invalid character');
    const n = (c[0] << 18) | (c[1] << 12) | (c[2] << 6) | c[3];
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** The parts of the Web Storage API a handler uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * Browser localStorage (or any StorageLike): the manifest under `convkit:<key>:model`,
 * the weights base64-encoded under `convkit:<key>:weights`. localStorage quotas are a
 * few MB: fine for small CNNs; use browserIndexedDB for big models.
 */
export function browserLocalStorage(key: string, storage?: StorageLike): IOHandler {
  const store = (): StorageLike => {
    const s = storage ?? (globalThis as { localStorage?: StorageLike }).localStorage;
    if (!s) throw new Error('browserLocalStorage: no localStorage here (pass a StorageLike as the second argument)');
    return s;
  };
  const mk = `convkit:${key}:model`, wk = `convkit:${key}:weights`;
  return {
    async save(a) {
      const s = store();
      const text = JSON.stringify(a.modelJSON);
      const b64 = bytesToBase64(new Uint8Array(a.weightData));
      try {
        s.setItem(wk, b64);
        s.setItem(mk, text);
      } catch (e) {
        throw new Error(`browserLocalStorage: could not store the model under '${key}' (${(e as Error).message}); it needs ${text.length + b64.length} characters`);
      }
      return { location: `localStorage:${key}`, modelBytes: text.length, weightBytes: a.weightData.byteLength };
    },
    async load() {
      const s = store();
      const text = s.getItem(mk), b64 = s.getItem(wk);
      if (text === null || b64 === null) throw new ModelNotFoundError(`localStorage:${key}`, `loadModel: no model saved under localStorage key '${key}'`);
      const sources = { model: `localStorage '${mk}'`, weights: `localStorage '${wk}'` };
      let modelJSON: ModelJSON;
      try {
        modelJSON = JSON.parse(text) as ModelJSON;
      } catch (e) {
        throw new ModelFormatError(sources.model, `not valid JSON (${(e as Error).message})`);
      }
      let bytes: Uint8Array;
      try {
        bytes = base64ToBytes(b64);
      } catch (e) {
        throw new ModelFormatError(sources.weights, `not valid base64 (${(e as Error).message})`);
      }
      return { modelJSON, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, sources };
    },
  };
}

/**
 * An IndexedDB factory (the browser's `indexedDB`, or a fake such as fake-indexeddb's),
 * typed structurally so that the public declarations need no DOM lib.
 */
export interface IDBFactoryLike {
  open(name: string, version?: number): unknown;
}

/**
 * Browser IndexedDB: database `convkit` (or `opts.dbName`), object store `models`, one
 * record per name holding the manifest and the weights ArrayBuffer (no size limit but
 * the browser's quota).
 */
export function browserIndexedDB(name: string, opts: { dbName?: string; factory?: IDBFactoryLike } = {}): IOHandler {
  const dbName = opts.dbName ?? 'convkit';
  const STORE = 'models';
  const open = (): Promise<IDBDatabase> =>
    new Promise((resolve, reject) => {
      const f = (opts.factory ?? (globalThis as { indexedDB?: IDBFactoryLike }).indexedDB) as IDBFactory | undefined;
      if (!f) {
        reject(new Error('browserIndexedDB: no indexedDB here'));
        return;
      }
      const req = f.open(dbName, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error(`browserIndexedDB: cannot open database '${dbName}'`));
    });
  const run = <T>(mode: IDBTransactionMode, body: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> =>
    open().then(
      (db) =>
        new Promise<T>((resolve, reject) => {
          const tx = db.transaction(STORE, mode);
          const req = body(tx.objectStore(STORE));
          let result: T;
          req.onsuccess = () => {
            result = req.result;
          };
          tx.oncomplete = () => {
            db.close();
            resolve(result);
          };
          tx.onerror = () => {
            db.close();
            reject(tx.error ?? req.error ?? new Error('browserIndexedDB: transaction failed'));
          };
          tx.onabort = tx.onerror;
        }),
    );
  return {
    async save(a) {
      await run('readwrite', (s) => s.put({ modelJSON: a.modelJSON, weightData: a.weightData }, name));
      return { location: `indexeddb://${dbName}/${name}`, modelBytes: jsonBytes(a.modelJSON), weightBytes: a.weightData.byteLength };
    },
    async load() {
      const rec = (await run('readonly', (s) => s.get(name))) as ModelArtifacts | undefined;
      const where = `indexeddb://${dbName}/${name}`;
      if (!rec) throw new ModelNotFoundError(where, `loadModel: no model named '${name}' in IndexedDB database '${dbName}'`);
      if (!isObj(rec)) throw new ModelFormatError(where, `expected a record { modelJSON, weightData }, received ${Object.prototype.toString.call(rec)}`);
      return { modelJSON: rec.modelJSON, weightData: rec.weightData, sources: { model: `${where} (modelJSON)`, weights: `${where} (weightData)` } };
    },
  };
}

/**
 * Load over HTTP: fetch `url` (model.json), then the weights file named by its
 * weightsPath, resolved against the URL (or `opts.weightsUrl`).
 */
export function fromFetch(url: string, opts: { fetch?: typeof fetch; weightsUrl?: string; init?: RequestInit } = {}): IOHandler {
  return {
    async load() {
      const f = opts.fetch ?? globalThis.fetch;
      if (!f) throw new Error('fromFetch: no fetch() here (pass one as opts.fetch)');
      const res = await f(url, opts.init);
      if (!res.ok) {
        if (res.status === 404) throw new ModelNotFoundError(url, `loadModel: fetching ${url} gave HTTP 404 (no model there)`);
        throw new ModelFormatError(url, `fetching it gave HTTP ${res.status}`);
      }
      const text = await res.text();
      const modelJSON = parseModelJSON(text, url);
      const base = new URL(url, (globalThis as { location?: { href: string } }).location?.href);
      const folder = new URL('.', base);
      if (isTfjsLayersJSON(modelJSON)) {
        const groups = parseWeightsManifest(modelJSON.weightsManifest ?? [], url);
        const parts: Uint8Array[] = [];
        const weightFiles: { path: string; byteLength: number }[] = [];
        for (const g of groups) {
          for (const rel of g.paths) {
            const resolved = new URL(checkWeightsPath(rel, url, 'loadModel', 'shard path'), base);
            if (resolved.origin !== folder.origin || !resolved.pathname.startsWith(folder.pathname)) {
              throw new ModelFormatError(url, `shard path ${JSON.stringify(rel)} resolves to ${resolved.href}, outside the model's folder ${folder.href}`);
            }
            const wres = await f(resolved.toString(), opts.init);
            if (!wres.ok) throw new ModelFormatError(url, `fetching weight shard ${resolved.href} gave HTTP ${wres.status}`);
            const b = new Uint8Array(await wres.arrayBuffer());
            parts.push(b);
            weightFiles.push({ path: rel, byteLength: b.byteLength });
          }
        }
        const all = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
        let at = 0;
        for (const b of parts) {
          all.set(b, at);
          at += b.byteLength;
        }
        return { modelJSON, weightData: all.buffer, weightFiles, sources: { model: url, weights: `the shards of ${url}` } };
      }
      let wurl = opts.weightsUrl;
      if (wurl === undefined) {
        // The manifest may only name a file beside model.json (or below it), never elsewhere.
        const resolved = new URL(checkWeightsPath((modelJSON as ModelJSON).weightsPath, url), base);
        if (resolved.origin !== folder.origin || !resolved.pathname.startsWith(folder.pathname)) {
          throw new ModelFormatError(url, `weightsPath ${JSON.stringify(modelJSON.weightsPath)} resolves to ${resolved.href}, outside the model's folder ${folder.href}`);
        }
        wurl = resolved.toString();
      }
      const wres = await f(wurl, opts.init);
      if (!wres.ok) throw new ModelFormatError(wurl, `fetching the weights named by ${url} gave HTTP ${wres.status}`);
      return { modelJSON, weightData: await wres.arrayBuffer(), sources: { model: url, weights: wurl } };
    },
  };
}
