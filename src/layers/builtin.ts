/**
 * Layers from their class names: `deserializeLayer` (loadModel, Model.fromConfig, TF.js
 * Layers files) over convkit's own layer classes and those registered with
 * registerLayerClass (custom ones, which take precedence; models/model.ts registers Model
 * and Sequential).
 *
 * It lives apart from layer.ts because it imports every layer module (each of which imports
 * layer.ts), and nothing registers itself on import: a bundler drops the layers an app
 * never names unless the app deserializes models, which needs them all.
 */
import { type Layer, type LayerClass, type LayerConfig, customLayerClasses } from './layer.js';
import { BLOCK_LAYERS } from './blocks.js';
import { CONV_LAYERS } from './conv.js';
import { CORE_LAYERS } from './core.js';
import { EXTRA_LAYERS } from './extra.js';
import { MERGE_LAYERS } from './merge.js';
import { NORMALIZATION_LAYERS } from './normalization.js';
import { POOLING_LAYERS } from './pooling.js';
import { RESHAPING_LAYERS } from './reshaping.js';

let builtins: Map<string, LayerClass> | null = null;

/**
 * convkit's layer classes by class name, made on first use (model.ts registers Model and
 * Sequential itself: layers do not import models).
 */
function builtinLayerClasses(): Map<string, LayerClass> {
  builtins ??= new Map(
    [
      ...CORE_LAYERS, ...CONV_LAYERS, ...POOLING_LAYERS, ...NORMALIZATION_LAYERS, ...MERGE_LAYERS, ...RESHAPING_LAYERS,
      ...BLOCK_LAYERS, ...EXTRA_LAYERS,
    ].map((cls) => [cls.className, cls]),
  );
  return builtins;
}

/** Whether `cls` is one of convkit's own layer classes (not a custom one). */
export function isBuiltinLayerClass(cls: unknown): boolean {
  return typeof cls === 'function' && (builtinLayerClasses().get((cls as { className?: string }).className ?? '') as unknown) === cls;
}

/** The class names `deserializeLayer` knows (convkit's and the registered ones), sorted. */
export function registeredLayerClassNames(): string[] {
  return [...new Set([...builtinLayerClasses().keys(), ...customLayerClasses().keys()])].sort();
}

/** The layer that `spec` describes (`serializeLayer`'s output); an unknown class name is an error listing the known ones. */
export function deserializeLayer(spec: { className: string; config: LayerConfig }): Layer {
  const cls = customLayerClasses().get(spec.className) ?? builtinLayerClasses().get(spec.className);
  if (!cls) {
    throw new Error(`deserializeLayer: unknown layer class '${spec.className}' (known: ${registeredLayerClassNames().join(', ')}); register custom layers with registerLayerClass`);
  }
  return cls.fromConfig(spec.config);
}
