/**
 * Reverse-mode automatic differentiation.
 *
 * Every differentiable op calls `record` with its inputs, its output and a closure
 * that maps dL/d(output) to dL/d(inputs) (written next to the op's forward, in
 * src/ops). `backward` walks the recorded graph from a scalar loss in reverse
 * topological order, accumulates leaf gradients into `.grad`, and releases the graph.
 */
import { DisposedTensorError, Tensor } from '../tensor/tensor.js';
import type { GradNode } from '../tensor/tensor.js';
import { isFloat } from '../tensor/dtype.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { describeValue } from '../tensor/describe.js';
import { keep, shareStorage, tidy } from '../registry/storage.js';
import { Add, Fill } from '../kernels/elementwise.js';
import { outputOf } from '../registry/dispatch.js';

let gradEnabled = true;

/**
 * Tensors whose graph node a backward pass has already released, with the op that made
 * them. A second backward through one of them is an error (PyTorch's "backward through
 * the graph a second time"), never a silent gradient of zero.
 */
const released = new WeakMap<Tensor, string>();

/**
 * The op that produced each recorded output. `dispose()` drops a tensor's node, so this is
 * how backward still knows that a disposed tensor on the path was an op's output (the
 * gradient would otherwise stop there, silently) rather than a leaf.
 */
const madeBy = new WeakMap<Tensor, string>();

const KEEP_ALIVE =
  'keep it alive (do not dispose it, nor let a tidy() that ends between the forward pass and backward() dispose it) until backward() has run';

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run `fn` without recording any graph (inference, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Run `fn` with recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Attach the gradient rule of op `op` to `output` if any input requires a gradient.
 * `backward(dy)` returns one gradient per input, with that input's shape (or null
 * when the input does not need one). Returns `output` for chaining.
 */
export function record(op: string, inputs: readonly Tensor[], output: Tensor, backward: (dy: Tensor) => (Tensor | null)[]): Tensor {
  if (!gradEnabled) return output;
  if (!inputs.some((t) => t.requiresGrad)) return output;
  output.requiresGrad = true;
  output.node = { op, inputs: [...inputs], backward };
  madeBy.set(output, op);
  return output;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: deep nets (ResNet-152) would overflow a recursive one.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

export interface BackwardOpts {
  /**
   * Keep the graph after this pass so that backward can run through it again
   * (PyTorch's retain_graph). Default false: the graph is released, so memory does not
   * build up across training steps.
   */
  retainGraph?: boolean;
  /**
   * Accumulate only into these leaves (PyTorch's `inputs=`); other leaves' `.grad` is
   * left untouched. Default: every leaf that requires a gradient.
   */
  inputs?: readonly Tensor[];
}

/**
 * Backpropagate from `root`. With no `grad`, `root` must hold one element and the
 * seed is 1. Leaves (tensors with requiresGrad and no node) accumulate into `.grad`;
 * the graph is released afterwards (unless `retainGraph`), so memory does not build up
 * across steps, and a second backward through a released graph throws.
 */
export function backward(root: Tensor, grad?: Tensor | null, opts: BackwardOpts = {}): void {
  if (root.isDisposed) {
    throw new Error(`backward: the tensor ${root.describe()} was disposed; call backward() before disposing it`);
  }
  if (grad?.isDisposed) throw new Error(`backward: the seed grad ${grad.describe()} was disposed`);
  if (!root.requiresGrad) {
    throw new Error(`backward: the tensor ${root.describe()} does not require a gradient (no input with requiresGrad reached it)`);
  }
  if (!grad && root.size !== 1) {
    throw new RangeError(`backward: a gradient seed is needed for a non-scalar output of shape ${fmtShape(root.shape)}`);
  }
  if (grad && !shapesEqual(grad.shape, root.shape)) {
    throw new RangeError(`backward: grad has shape ${fmtShape(grad.shape)}, expected the output's shape ${fmtShape(root.shape)}`);
  }
  if (grad && grad.dtype !== root.dtype) {
    throw new TypeError(`backward: grad is ${grad.dtype}, expected the output's dtype ${root.dtype}`);
  }
  const order = topoOrder(root);
  const only = opts.inputs ? new Set(opts.inputs) : null;
  // Everything on the path must still be there, checked before any gradient is computed:
  // a disposed op output loses its node, and the gradient would silently stop at it.
  for (const t of order) {
    if (t.isDisposed) {
      const op = t.node?.op ?? madeBy.get(t);
      if (op !== undefined) {
        throw new Error(`backward through ${op}: its output ${t.describe()} was disposed before backward(); ${KEEP_ALIVE}`);
      }
      if (!only || only.has(t)) {
        throw new Error(
          `backward: the leaf ${t.describe()} (it requires a gradient) was disposed before backward(), so its gradient has nowhere to go; ` +
            'keep parameters alive until backward() has run, or stop asking for their gradient (requireGrad(false))',
        );
      }
      continue;
    }
    const op = t.node ? undefined : released.get(t);
    if (op !== undefined) {
      throw new Error(
        `backward: the graph behind ${t.describe()} (made by '${op}') was already released by an earlier backward(); ` +
          'compute it again, or pass { retainGraph: true } to the first backward()',
      );
    }
  }
  const grads = new Map<Tensor, Tensor>();
  const owned = new Set<Tensor>(); // gradient tensors created here, freed at the end
  const seed = grad ?? keep(outputOf(Fill, [], { shape: root.shape, dtype: root.dtype, value: 1 }));
  if (!grad) owned.add(seed);
  grads.set(root, seed);

  const prevMode = gradEnabled;
  gradEnabled = false;
  let completed = false;
  try {
    // Leaf gradients are committed only once the whole pass has succeeded, so a pass that
    // throws part-way leaves every .grad as it was.
    const leafGrads: [Tensor, Tensor][] = [];
    for (const t of order) {
      const g = grads.get(t);
      if (!g) continue;
      const node = t.node;
      if (!node) {
        if (only && !only.has(t)) continue;
        leafGrads.push([t, g]);
        continue;
      }
      let inGrads: (Tensor | null)[];
      try {
        inGrads = tidy(() => node.backward(g));
      } catch (e) {
        if (e instanceof DisposedTensorError) throw savedTensorError(node, t, e.tensor);
        throw e;
      }
      node.inputs.forEach((x, i) => {
        const gi = inGrads[i];
        if (!gi) return;
        keep(gi);
        owned.add(gi);
        if (!x.requiresGrad) return;
        if (!shapesEqual(gi.shape, x.shape)) {
          throw new Error(`backward of '${node.op}': gradient for input ${i} has shape ${fmtShape(gi.shape)}, expected ${fmtShape(x.shape)}`);
        }
        const prev = grads.get(x);
        if (prev) {
          const sum = keep(tidy(() => outputOf(Add, [prev, gi])));
          owned.add(sum);
          grads.set(x, sum);
        } else grads.set(x, gi);
      });
    }
    for (const [t, g] of leafGrads) {
      // A fresh Tensor sharing g's storage: g itself may also be another input's gradient.
      // A .grad the caller disposed counts as cleared (like PyTorch's `w.grad = None`).
      const prev = t.grad && !t.grad.isDisposed ? t.grad : null;
      const acc = keep(prev ? tidy(() => outputOf(Add, [prev, g])) : shareStorage(g, g.shape));
      t.grad?.dispose();
      t.grad = acc;
    }
    completed = true;
  } finally {
    gradEnabled = prevMode;
    // A failed pass keeps the graph: running it again gives the same error, not "already released".
    if (completed && !opts.retainGraph) {
      // Release the graph: the closures (and the tensors they hold) become garbage.
      for (const t of order) {
        if (!t.node) continue;
        released.set(t, t.node.op);
        t.node = null;
      }
    }
    for (const g of owned) g.dispose();
  }
}

/** The error for a gradient function that met a disposed tensor it had saved. */
function savedTensorError(node: GradNode, output: Tensor, disposed: Tensor): Error {
  const i = node.inputs.indexOf(disposed);
  const what =
    disposed === output
      ? `its output ${disposed.describe()}`
      : i >= 0
        ? `its saved input ${i} (${disposed.describe()})`
        : `a tensor it saved for the gradient (${disposed.describe()})`;
  return new Error(`backward through ${node.op}: ${what} was disposed before backward(); ${KEEP_ALIVE}`);
}

/**
 * Functional gradient: `valueAndGrad(f)(...xs)` returns f's scalar value and
 * d f / d xs (zeros for an argument f does not use), without touching any tensor's
 * `.grad`: neither the arguments' nor those of parameters f closes over.
 */
export function valueAndGrad(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => { value: Tensor; grads: Tensor[] } {
  return (...xs: Tensor[]) => {
    const leaves = xs.map((x, i) => {
      if (!(x instanceof Tensor)) throw new TypeError(`valueAndGrad: argument ${i} must be a Tensor, received ${describeValue(x)}`);
      if (x.isDisposed) throw new DisposedTensorError(x, `valueAndGrad: argument ${i} (${x.describe()}) was disposed and cannot be used`);
      if (!isFloat(x.dtype)) throw new TypeError(`valueAndGrad: argument ${i} must be float32 or float64 to have a gradient, received ${x.describe()}`);
      const l = new Tensor(x.shape, x.dtype, x.backend, x.dataId);
      l.requiresGrad = true;
      return l;
    });
    const value = enableGrad(() => f(...leaves));
    if (value.size !== 1) throw new RangeError(`valueAndGrad: f must return a single value, returned shape ${fmtShape(value.shape)}`);
    if (!value.requiresGrad) throw new Error('valueAndGrad: f does not depend on its arguments');
    // Only the arguments receive gradients: leaves that f closes over keep their .grad.
    backward(value, null, { inputs: leaves });
    // The leaves' .grad is kept (it outlives tidy scopes, as a parameter's gradient must);
    // what is returned is an ordinary tensor of the caller's scope, so that a tidy around
    // the call frees it (as tf.grad's result in tf.tidy): handing out the kept one leaked
    // one gradient per call.
    const grads = leaves.map((l, i) => {
      const acc = l.grad;
      const g = acc ? shareStorage(acc, acc.shape) : outputOf(Fill, [], { shape: xs[i].shape, dtype: xs[i].dtype, value: 0 });
      acc?.dispose();
      l.grad = null;
      l.dispose();
      return g;
    });
    return { value, grads };
  };
}

/** `valueAndGrad` without the value. */
export function grad(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => Tensor[] {
  const vg = valueAndGrad(f);
  return (...xs) => {
    const { value, grads } = vg(...xs);
    value.dispose();
    return grads;
  };
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    /**
     * Backpropagate from this tensor (see autograd `backward`): `loss.backward()`,
     * `y.backward(seed)`, `loss.backward({ retainGraph: true })`.
     */
    backward(grad?: Tensor | BackwardOpts | null, opts?: BackwardOpts): void;
    /** Mark this tensor as a leaf whose gradient is wanted; returns this. */
    requireGrad(on?: boolean): this;
    /** A tensor sharing this one's values but cut from the graph. */
    detach(): Tensor;
    /** Drop the accumulated gradient. */
    zeroGrad(): void;
  }
}
Tensor.prototype.backward = function (this: Tensor, g?: Tensor | BackwardOpts | null, opts?: BackwardOpts) {
  if (g instanceof Tensor || g === null || g === undefined) backward(this, g, opts);
  else backward(this, null, g);
};
Tensor.prototype.requireGrad = function (this: Tensor, on = true) {
  if (on && !isFloat(this.dtype)) {
    throw new TypeError(`requireGrad: only float32 and float64 tensors can require gradients, received ${this.describe()}`);
  }
  this.requiresGrad = on;
  // Marking a tensor explicitly makes it a leaf again, even if an op once produced it.
  if (on && !this.node) {
    released.delete(this);
    madeBy.delete(this);
  }
  return this;
};
Tensor.prototype.detach = function (this: Tensor) {
  return shareStorage(this, this.shape);
};
Tensor.prototype.zeroGrad = function (this: Tensor) {
  this.grad?.dispose();
  this.grad = null;
};
