/**
 * Loading the saved model a CLI command works on (evaluate, predict): a folder with
 * model.json, the model.json path, or an ONNX file. A missing model says how to make one; a
 * damaged one is reported by loadModel, naming the file.
 */
import { loadModel, ModelNotFoundError } from '../models/io.js';
import type { Model } from '../models/model.js';

export async function loadSavedModel(dir: string): Promise<Model> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  // A file that is not model.json (an .onnx file, whatever its name): loadModel reads it by content.
  if (!dir.endsWith('.json') && fs.existsSync(dir) && fs.statSync(dir).isFile()) return loadModel(dir);
  const json = dir.endsWith('.json') ? dir : path.join(dir, 'model.json');
  if (!fs.existsSync(json)) {
    const where = fs.existsSync(dir) && !dir.endsWith('.json') ? `no model at ${dir} (the folder has no model.json)` : `no model at ${dir}`;
    throw new ModelNotFoundError(json, `${where}: train one with \`convkit train --save ${dir}\``);
  }
  return loadModel(dir);
}
