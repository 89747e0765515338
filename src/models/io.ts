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
import { deserializeLayer, type LayerConfig, baseWeight } from '../layers/layer.js';
import { fromValues } from '../registry/engine.js';
import { BYTES_PER_ELEMENT, type DType, type TypedArray, isDType } from '../tensor/dtype.js';
import { sizeOf } from '../tensor/shape.js';
import type { Model } from './model.js';

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
  modelJSON: ModelJSON;
  weightData: ArrayBuffer;
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

/** Rebuild a model from artifacts; every weight must be present with its shape and dtype. */
export function decodeModel(artifacts: ModelArtifacts): Model {
  const j = artifacts.modelJSON;
  if (!j || typeof j !== 'object') throw new TypeError('loadModel: the model JSON is missing');
  if (j.format !== MODEL_FORMAT) throw new RangeError(`loadModel: unsupported format ${JSON.stringify(j.format)} (expected '${MODEL_FORMAT}')`);
  if (!j.modelConfig || !Array.isArray(j.weightsManifest)) throw new TypeError('loadModel: the model JSON needs modelConfig and weightsManifest');
  const m = deserializeLayer(j.modelConfig) as Model;
  if (typeof (m as Partial<Model>).predict !== 'function') throw new TypeError(`loadModel: '${j.modelConfig.className}' is a layer, not a model`);
  const weights = m.namedWeightMap();
  const listed = new Set(j.weightsManifest.map((e) => e.name));
  const missing = [...weights.keys()].filter((n) => !listed.has(n));
  if (missing.length) throw new RangeError(`loadModel: the weights file lacks ${missing.length} weight(s) of the model: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  const buf = artifacts.weightData;
  for (const e of j.weightsManifest) {
    const w = weights.get(e.name);
    if (!w) throw new RangeError(`loadModel: the weights file has '${e.name}', which the model does not define`);
    if (!isDType(e.dtype)) throw new TypeError(`loadModel: weight '${e.name}' has unknown dtype ${JSON.stringify(e.dtype)}`);
    if (e.shape.length !== w.shape.length || e.shape.some((d, i) => d !== w.shape[i])) {
      throw new RangeError(`loadModel: weight '${e.name}' has shape [${e.shape.join(', ')}] in the file but [${w.shape.join(', ')}] in the model`);
    }
    if (e.dtype !== w.dtype) throw new TypeError(`loadModel: weight '${e.name}' is ${e.dtype} in the file but ${w.dtype} in the model`);
    const expectBytes = sizeOf(e.shape) * BYTES_PER_ELEMENT[e.dtype];
    if (e.byteLength !== expectBytes || e.offset < 0 || e.offset + e.byteLength > buf.byteLength) {
      throw new RangeError(`loadModel: weight '${e.name}' (offset ${e.offset}, ${e.byteLength} bytes) does not fit the ${buf.byteLength}-byte weights buffer or its shape`);
    }
    const values = typedFrom(buf.slice(e.offset, e.offset + e.byteLength), e.dtype);
    w.value = fromValues(values, e.shape, e.dtype);
  }
  return m;
}

export async function saveModel(model: Model, target: string | IOHandler): Promise<SaveResult> {
  const handler = typeof target === 'string' ? fileSystemHandler(target) : target;
  if (!handler || typeof handler.save !== 'function') throw new TypeError('save: the target must be a directory path or an IOHandler with a save() method');
  return handler.save(await encodeModel(model));
}

/**
 * Load a saved model: from a directory or a model.json path (Node), an http(s) URL of
 * model.json (fetch), or an IOHandler.
 */
export async function loadModel(source: string | IOHandler): Promise<Model> {
  const handler = typeof source === 'string' ? (/^https?:\/\//.test(source) ? fromFetch(source) : fileSystemHandler(source)) : source;
  if (!handler || typeof handler.load !== 'function') throw new TypeError('loadModel: the source must be a path, a URL or an IOHandler with a load() method');
  return decodeModel(await handler.load());
}

// ---------------------------------------------------------------- handlers

function jsonBytes(j: ModelJSON): number {
  return new TextEncoder().encode(JSON.stringify(j)).byteLength;
}

/** Node: model.json and weights.bin in a directory (created if needed). */
export function fileSystemHandler(path: string): IOHandler {
  // A variable specifier keeps bundlers from pulling node:fs into browser builds.
  const fsName = 'node:fs/promises', pathName = 'node:path';
  const load = async () => ({
    fs: (await import(/* @vite-ignore */ /* webpackIgnore: true */ fsName)) as typeof import('node:fs/promises'),
    p: (await import(/* @vite-ignore */ /* webpackIgnore: true */ pathName)) as typeof import('node:path'),
  });
  return {
    async save(a: ModelArtifacts): Promise<SaveResult> {
      const { fs, p } = await load();
      await fs.mkdir(path, { recursive: true });
      const text = JSON.stringify(a.modelJSON, null, 1);
      await fs.writeFile(p.join(path, 'model.json'), text);
      await fs.writeFile(p.join(path, a.modelJSON.weightsPath ?? 'weights.bin'), new Uint8Array(a.weightData));
      return { location: path, modelBytes: new TextEncoder().encode(text).byteLength, weightBytes: a.weightData.byteLength };
    },
    async load(): Promise<ModelArtifacts> {
      const { fs, p } = await load();
      const jsonPath = path.endsWith('.json') ? path : p.join(path, 'model.json');
      let text: string;
      try {
        text = await fs.readFile(jsonPath, 'utf8');
      } catch (e) {
        throw new Error(`loadModel: cannot read ${jsonPath} (${(e as Error).message})`);
      }
      const modelJSON = JSON.parse(text) as ModelJSON;
      const bin = await fs.readFile(p.join(p.dirname(jsonPath), modelJSON.weightsPath ?? 'weights.bin'));
      return { modelJSON, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer };
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
  const copy = (a: ModelArtifacts): ModelArtifacts => ({ modelJSON: JSON.parse(JSON.stringify(a.modelJSON)), weightData: a.weightData.slice(0) });
  return {
    artifacts: initial ? copy(initial) : null,
    async save(a) {
      this.artifacts = copy(a);
      return { location: 'memory', modelBytes: jsonBytes(a.modelJSON), weightBytes: a.weightData.byteLength };
    },
    async load() {
      if (!this.artifacts) throw new Error('loadModel: the memory handler holds no model (save one first)');
      return copy(this.artifacts);
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
  const clean = s.replace(/[^A-Za-z0-9+/=]/g, '');
  if (clean.length % 4 !== 0) throw new RangeError('base64: length is not a multiple of 4');
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
      if (text === null || b64 === null) throw new Error(`loadModel: no model saved under localStorage key '${key}'`);
      const bytes = base64ToBytes(b64);
      return { modelJSON: JSON.parse(text) as ModelJSON, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
    },
  };
}

/**
 * Browser IndexedDB: database `convkit` (or `opts.dbName`), object store `models`, one
 * record per name holding the manifest and the weights ArrayBuffer (no size limit but
 * the browser's quota).
 */
export function browserIndexedDB(name: string, opts: { dbName?: string; factory?: IDBFactory } = {}): IOHandler {
  const dbName = opts.dbName ?? 'convkit';
  const STORE = 'models';
  const open = (): Promise<IDBDatabase> =>
    new Promise((resolve, reject) => {
      const f = opts.factory ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
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
      if (!rec) throw new Error(`loadModel: no model named '${name}' in IndexedDB database '${dbName}'`);
      return { modelJSON: rec.modelJSON, weightData: rec.weightData };
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
      if (!res.ok) throw new Error(`loadModel: fetching ${url} gave HTTP ${res.status}`);
      const modelJSON = (await res.json()) as ModelJSON;
      const wurl = opts.weightsUrl ?? new URL(modelJSON.weightsPath ?? 'weights.bin', new URL(url, (globalThis as { location?: { href: string } }).location?.href)).toString();
      const wres = await f(wurl, opts.init);
      if (!wres.ok) throw new Error(`loadModel: fetching ${wurl} gave HTTP ${wres.status}`);
      return { modelJSON, weightData: await wres.arrayBuffer() };
    },
  };
}
