/**
 * Helpers for the TF.js Layers interop tests: the real @tensorflow/tfjs-layers (cpu
 * backend) builds and runs models; its artifacts are re-laid out as a model.json with
 * several weight groups and shards, the way tensorflowjs_converter writes big models.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as ck from '../../src/index.js';

export { tf, tfl };

export async function tfReady(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** What tfjs's model.save hands a save handler. */
export async function tfArtifacts(m: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let art: tf.io.ModelArtifacts | null = null;
  await m.save(tf.io.withSaveHandler(async (a) => {
    art = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return art!;
}

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * The artifacts as a model.json + shard files: weights split into `groups` groups, each
 * group's bytes into shards of at most `shardBytes`.
 */
export function layersModelFiles(art: tf.io.ModelArtifacts, groups = 3, shardBytes = 256): { modelJSON: Record<string, unknown>; files: { path: string; data: Uint8Array }[] } {
  const specs = art.weightSpecs!;
  const data = new Uint8Array(art.weightData as ArrayBuffer);
  const per = Math.ceil(specs.length / groups);
  const manifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] = [];
  const files: { path: string; data: Uint8Array }[] = [];
  let off = 0;
  for (let g = 0; g * per < specs.length; g++) {
    const ws = specs.slice(g * per, (g + 1) * per);
    const bytes = ws.reduce((n, w) => n + 4 * sizeOf(w.shape), 0);
    const gdata = data.slice(off, off + bytes);
    off += bytes;
    const count = Math.max(1, Math.ceil(bytes / shardBytes));
    const paths: string[] = [];
    for (let i = 0; i < count; i++) {
      const path = `group${g + 1}-shard${i + 1}of${count}.bin`;
      paths.push(path);
      files.push({ path, data: gdata.slice(i * shardBytes, Math.min(bytes, (i + 1) * shardBytes)) });
    }
    manifest.push({ paths, weights: ws });
  }
  return {
    modelJSON: { format: 'layers-model', generatedBy: art.generatedBy, convertedBy: art.convertedBy ?? null, modelTopology: art.modelTopology, weightsManifest: manifest },
    files,
  };
}

/** An IOHandler serving those files (as the file and fetch handlers would). */
export function handlerOf(f: ReturnType<typeof layersModelFiles>): ck.IOHandler {
  const all = new Uint8Array(f.files.reduce((n, x) => n + x.data.byteLength, 0));
  let at = 0;
  for (const x of f.files) {
    all.set(x.data, at);
    at += x.data.byteLength;
  }
  return {
    load: async () => ({
      modelJSON: JSON.parse(JSON.stringify(f.modelJSON)),
      weightData: all.buffer,
      weightFiles: f.files.map((x) => ({ path: x.path, byteLength: x.data.byteLength })),
    }),
  };
}

/** Write model.json and the shards into `dir`; returns the model.json path. */
export function writeLayersModel(dir: string, f: ReturnType<typeof layersModelFiles>): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify(f.modelJSON));
  for (const x of f.files) writeFileSync(join(dir, x.path), x.data);
  return join(dir, 'model.json');
}

/** A convkit memory handler's TF.js artifacts loaded by tfjs-layers itself. */
export async function tfLoad(a: ck.ModelArtifacts): Promise<tfl.LayersModel> {
  const j = a.modelJSON as unknown as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const weightSpecs = j.weightsManifest.flatMap((g) => g.weights);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs, weightData: a.weightData }));
}
