/**
 * What the importers share when they build a functional Model from another framework's
 * graph (ONNX in onnx/import.ts, Keras / TF.js Layers in tfjs_layers/read.ts): layers made
 * one at a time with names unique in the graph, applied to symbolic tensors, and every
 * one of them disposed when the import fails, so nothing is left half-loaded.
 */
import type { Layer } from '../layers/layer.js';
import type { SymbolicTensor } from '../layers/symbolic.js';

/** Layer names: no '/', nothing exotic. */
export function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[_.]+|_+$/g, '');
}

export class GraphBuilder {
  private readonly created: Layer[] = [];
  private readonly names = new Set<string>();

  /** `base`, else `base_2`, `base_3`, ...: a name no layer of this graph has yet (now reserved). */
  uniqueName(base: string): string {
    let nm = base, k = 1;
    while (this.names.has(nm)) nm = `${base}_${++k}`;
    this.names.add(nm);
    return nm;
  }

  /** Record a layer made elsewhere (its name reserved), so that a failed import disposes it. */
  track<L extends Layer>(layer: L): L {
    this.names.add(layer.name);
    this.created.push(layer);
    return layer;
  }

  /**
   * Make a layer named after `base` (made unique), record it and apply it to `x`; an error
   * from `apply` (a shape that does not fit) goes to `onError`, which names the source node.
   */
  add<L extends Layer>(base: string, make: (name: string) => L, x: SymbolicTensor | SymbolicTensor[], onError: (e: Error) => never): { layer: L; y: SymbolicTensor } {
    const layer = this.track(make(this.uniqueName(base)));
    try {
      return { layer, y: layer.apply(x as SymbolicTensor) };
    } catch (e) {
      return onError(e as Error);
    }
  }

  /** Dispose every layer made so far (the import failed). */
  disposeAll(): void {
    for (const l of this.created) l.dispose();
  }
}
