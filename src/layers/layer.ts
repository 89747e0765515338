/**
 * The layer base class. A layer owns its weights (created lazily from their shapes,
 * so that huge models can be summarised without allocating anything), knows the shape
 * it produces for a given input shape (without running any op), counts its
 * multiply-accumulates, and runs its forward pass with ops from src/ops. Gradients come
 * from the ops' own rules: no layer has backward code.
 *
 * Shapes handed to `build`, `computeOutputShape` and `macs` exclude the batch axis
 * ([H, W, C] for an image layer); tensors handed to `call` include it ([N, H, W, C]).
 */
import { keep, tidy } from '../registry/storage.js';
import { noGrad } from '../autograd/reverse_mode.js';
import type { DType } from '../tensor/dtype.js';
import { isDType, isFloat } from '../tensor/dtype.js';
import { sizeOf } from '../tensor/shape.js';
import { DisposedTensorError, Tensor } from '../tensor/tensor.js';
import { describeValue } from '../tensor/describe.js';
import { add } from '../ops/elementwise.js';
import { type Initializer, type InitializerSpec, getInitializer, serializeInitializer } from './initializers.js';
import { type RegularizerSpec, checkRegularizer, regularizerPenalty } from './regularizers.js';
import { SymbolicTensor } from './symbolic.js';
import { checkOptionKeys } from './options.js';

export type Shape = readonly number[];

export interface CallOpts {
  /** Training mode: dropout drops, batch norm uses batch statistics and updates its running ones. */
  training?: boolean;
}

/** A parameter tensor and what an optimiser may do with it. */
export interface Weight {
  /** Unique within the model: `layerName/localName` (nested layers add their container's name). */
  readonly name: string;
  /** The values (created on first access from the initialiser). Assigning replaces them. */
  value: Tensor;
  /** False for frozen layers and for statistics such as batch norm's running mean/variance. */
  readonly trainable: boolean;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Options every layer accepts. */
export interface LayerArgs {
  /** Unique name; default `<type>_<n>` (conv2d_1, dense_3, ...). */
  name?: string;
  /** False freezes the layer: its weights get no gradient. Default true. */
  trainable?: boolean;
  /** Weight dtype; by default the dtype of the first input the layer sees. */
  dtype?: DType;
  /** Shape of one example (no batch axis), for the first layer of `sequential`. */
  inputShape?: readonly number[];
  /** Seed for this layer's initialisers (and dropout masks); a fresh random seed when omitted. */
  seed?: number;
  /** Penalty on the layer's output, added to the model's regularisation loss in training calls. */
  activityRegularizer?: RegularizerSpec;
}

export type LayerConfig = Record<string, unknown>;

/** A layer class as the serialiser sees it. */
export interface LayerClass {
  readonly className: string;
  fromConfig(config: LayerConfig): Layer;
}

const layerClasses = new Map<string, LayerClass>();

/**
 * Make a layer class loadable by `deserializeLayer` (and therefore by `loadModel`): for
 * custom layers. convkit's own classes need no registration (builtin.ts finds them).
 */
export function registerLayerClass(cls: LayerClass): void {
  layerClasses.set(cls.className, cls);
}

/** The classes registered with registerLayerClass, by class name. */
export function customLayerClasses(): ReadonlyMap<string, LayerClass> {
  return layerClasses;
}

export function serializeLayer(layer: Layer): { className: string; config: LayerConfig } {
  return { className: layer.className, config: layer.getConfig() };
}

const nameCounters = new Map<string, number>();
const acceptedKeysCache = new WeakMap<object, string[]>();

/** A message that already starts with a layer's label ("conv1 (Conv2D): ..."). */
const LABELLED = /^[^\s:]+ \([A-Za-z0-9_]+\): /;

/** `conv2d` -> `conv2d_1`, `conv2d_2`, ... (per process). */
export function uniqueLayerName(prefix: string): string {
  const n = (nameCounters.get(prefix) ?? 0) + 1;
  nameCounters.set(prefix, n);
  return `${prefix}_${n}`;
}

/** Shapes in messages: the batch axis (null) prints as N. */
export function fmtDims(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'N' : String(d))).join(', ')}]`;
}

/** A weight owned by one layer; its tensor is created on first use. */
export class LayerWeight implements Weight {
  private _value: Tensor | null = null;
  constructor(
    readonly layer: Layer,
    readonly localName: string,
    readonly shape: readonly number[],
    readonly dtype: DType,
    private readonly initializer: Initializer,
    private readonly initSeed: number,
    readonly isTrainableParam: boolean,
    readonly regularizer?: RegularizerSpec,
  ) {}

  get name(): string {
    return `${this.layer.name}/${this.localName}`;
  }
  get trainable(): boolean {
    return this.isTrainableParam && this.layer.trainable;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  /** True once the tensor exists (after first use, or after loading). */
  get materialized(): boolean {
    return this._value !== null && !this._value.isDisposed;
  }
  get value(): Tensor {
    if (!this.materialized) {
      const t = keep(noGrad(() => tidy(() => this.initializer.apply(this.shape, this.dtype, this.initSeed))));
      t.name = this.name;
      t.requiresGrad = this.trainable;
      this._value = t;
    }
    return this._value!;
  }
  set value(t: Tensor) {
    if (!(t instanceof Tensor)) throw new TypeError(`${this.name}: a weight's value must be a Tensor`);
    if (t.shape.length !== this.shape.length || t.shape.some((d, i) => d !== this.shape[i])) {
      throw new RangeError(`${this.name}: expected a tensor of shape ${fmtDims(this.shape)}, received ${fmtDims(t.shape)}`);
    }
    if (t.dtype !== this.dtype) throw new TypeError(`${this.name}: expected dtype ${this.dtype}, received ${t.dtype}`);
    if (this._value && this._value !== t) this._value.dispose();
    keep(t);
    t.name = this.name;
    t.requiresGrad = this.trainable;
    this._value = t;
  }
  /** Re-apply the trainable flag to the tensor (after freezing or unfreezing); freezing drops a stale gradient. */
  syncRequiresGrad(): void {
    if (!this.materialized) return;
    this._value!.requiresGrad = this.trainable;
    if (!this.trainable) this._value!.zeroGrad();
  }
  dispose(): void {
    this._value?.dispose();
    this._value = null;
  }
}

/** A weight seen through a container (its name gains the container's prefix). */
export class PrefixedWeight implements Weight {
  constructor(readonly prefix: string, readonly inner: Weight) {}
  get name(): string {
    return `${this.prefix}/${this.inner.name}`;
  }
  get value(): Tensor {
    return this.inner.value;
  }
  set value(t: Tensor) {
    this.inner.value = t;
  }
  get trainable(): boolean {
    return this.inner.trainable;
  }
  get shape(): readonly number[] {
    return this.inner.shape;
  }
  get dtype(): DType {
    return this.inner.dtype;
  }
}

/** The leaf weight behind any (possibly prefixed) weight. */
export function baseWeight(w: Weight): Weight {
  let cur = w;
  while (cur instanceof PrefixedWeight) cur = cur.inner;
  return cur;
}

/** What the input checks of a layer expect (before and after build). */
export interface InputSpec {
  /** Allowed ranks including the batch axis. */
  rank?: number | number[];
  /** Axis names for messages, e.g. 'N, H, W, C'. */
  layout?: string;
  /** What the last axis is called in messages ('channels', 'features'). */
  lastAxis?: string;
}

export abstract class Layer {
  /** Serialisation name of the class (stable across minification). */
  static readonly className: string = 'Layer';
  /** Prefix of generated names. */
  static readonly namePrefix: string = 'layer';
  /**
   * Option keys this class adds to those of its parent classes. The constructor accepts
   * the union along the class chain and throws a RangeError for any other key (a typo never
   * builds a different layer silently); every key `getConfig()` writes must be among them.
   * A custom layer with options of its own declares them: `static readonly argKeys = ['factor']`.
   */
  static readonly argKeys: readonly string[] = ['name', 'trainable', 'dtype', 'inputShape', 'seed', 'activityRegularizer'];

  /** Every option key the constructor of this class accepts (its own `argKeys` and its parents'). */
  static acceptedArgKeys(): string[] {
    let keys = acceptedKeysCache.get(this);
    if (!keys) {
      const all = new Set<string>();
      for (let c: unknown = this; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
        if (Object.prototype.hasOwnProperty.call(c, 'argKeys')) for (const k of (c as typeof Layer).argKeys) all.add(k);
      }
      keys = [...all];
      acceptedKeysCache.set(this, keys);
    }
    return keys;
  }

  readonly name: string;
  built = false;
  /** Weight dtype, fixed at build. */
  dtype: DType | null;
  /** Input shape declared with the `inputShape` option (no batch axis), used by `sequential` for its first layer. */
  readonly declaredInputShape?: number[];
  /** Shape (or shapes) the layer was built for, without the batch axis. */
  builtInputShape: number[] | number[][] | null = null;
  /** Seed of this layer's random initialisers; set before build. */
  seed: number;
  /** True when the seed was chosen by the caller (or a model), not drawn at random. */
  seedGiven: boolean;
  /** Output penalty of the latest training call (set only with an activity regulariser). */
  activityLoss: Tensor | null = null;
  readonly activityRegularizer?: RegularizerSpec;

  protected _trainable: boolean;
  protected readonly ownWeights: LayerWeight[] = [];

  constructor(args: LayerArgs = {}) {
    const cls = new.target as unknown as typeof Layer;
    checkOptionKeys(cls.className, args, cls.acceptedArgKeys());
    if (args.name !== undefined && (typeof args.name !== 'string' || args.name === '' || args.name.includes('/'))) {
      throw new TypeError(`${cls.className}: name must be a non-empty string without '/', received ${JSON.stringify(args.name)}`);
    }
    this.name = args.name ?? uniqueLayerName(cls.namePrefix);
    this._trainable = args.trainable ?? true;
    if (args.dtype !== undefined && !(isDType(args.dtype) && isFloat(args.dtype))) {
      throw new TypeError(`${this.name} (${cls.className}): dtype must be 'float32' or 'float64', received ${JSON.stringify(args.dtype)}`);
    }
    this.dtype = args.dtype ?? null;
    if (args.inputShape !== undefined) this.declaredInputShape = [...args.inputShape];
    this.seedGiven = args.seed !== undefined;
    this.seed = args.seed ?? Math.floor(Math.random() * 2 ** 31);
    if (args.activityRegularizer) this.activityRegularizer = checkRegularizer(args.activityRegularizer, `${this.name}: activityRegularizer`);
  }

  get className(): string {
    return (this.constructor as typeof Layer).className;
  }

  /** "conv2d_1 (Conv2D)": how messages name this layer. */
  get label(): string {
    return `${this.name} (${this.className})`;
  }

  get trainable(): boolean {
    return this._trainable;
  }
  set trainable(on: boolean) {
    this._trainable = on;
    for (const w of this.ownWeights) w.syncRequiresGrad();
  }

  // ------------------------------------------------------------------ weights

  /** Every weight (trainable first is NOT guaranteed: declaration order). */
  get weights(): Weight[] {
    return this.ownWeights;
  }
  /** Trainable tensors (created if needed), each with requiresGrad set. */
  get trainableWeights(): Tensor[] {
    return this.weights.filter((w) => w.trainable).map((w) => w.value);
  }
  get nonTrainableWeights(): Tensor[] {
    return this.weights.filter((w) => !w.trainable).map((w) => w.value);
  }
  /** Weights with names as a container holding this layer should see them. */
  namedWeights(): Weight[] {
    return this.weights;
  }

  /** Number of scalars in all weights (from shapes: nothing is allocated). */
  countParams(which: 'all' | 'trainable' | 'nonTrainable' = 'all'): number {
    let n = 0;
    for (const w of this.weights) {
      if (which === 'trainable' && !w.trainable) continue;
      if (which === 'nonTrainable' && w.trainable) continue;
      n += sizeOf(w.shape);
    }
    return n;
  }

  /** Declare a weight; its tensor is made by `initializer` on first use. */
  protected addWeight(
    localName: string,
    shape: readonly number[],
    initializer: InitializerSpec,
    opts: { trainable?: boolean; regularizer?: RegularizerSpec } = {},
  ): LayerWeight {
    const w = new LayerWeight(
      this,
      localName,
      [...shape],
      this.dtype ?? 'float32',
      getInitializer(initializer),
      (this.seed + 7919 * this.ownWeights.length) | 0,
      opts.trainable ?? true,
      opts.regularizer,
    );
    this.ownWeights.push(w);
    return w;
  }

  // ------------------------------------------------------------------ shapes

  /** What `checkInput` enforces; subclasses override. */
  protected inputSpec(): InputSpec {
    return {};
  }

  /**
   * Throw an error naming this layer when `shape` (batch axis first, may be null) cannot
   * be an input: wrong rank, or (once built) a different size on the last axis.
   */
  checkInput(shape: readonly (number | null)[]): void {
    const spec = this.inputSpec();
    const layout = spec.layout;
    if (spec.rank !== undefined) {
      const ranks = Array.isArray(spec.rank) ? spec.rank : [spec.rank];
      if (!ranks.includes(shape.length)) {
        throw new RangeError(`${this.label}: expected input of rank ${ranks.join(' or ')}${layout ? ` (${layout})` : ''}, received shape ${fmtDims(shape)}`);
      }
    }
    if (this.built && spec.lastAxis && Array.isArray(this.builtInputShape) && typeof this.builtInputShape[0] === 'number') {
      const want = this.builtInputShape as number[];
      const c = want[want.length - 1];
      const got = shape[shape.length - 1];
      if (got !== c) {
        const axes = layout ? layout.split(',').map((s) => s.trim()) : shape.map((d, i) => (i === 0 || d === null ? 'N' : String(d)));
        axes[axes.length - 1] = String(c);
        throw new RangeError(`${this.label}: expected input with ${c} ${spec.lastAxis} (shape [${axes.join(', ')}]), received ${fmtDims(shape)}`);
      }
    }
  }

  /** Create the weights for inputs of `inputShape` (no batch axis). Called once. */
  build(inputShape: Shape | Shape[], dtype?: DType): void {
    if (this.built) return;
    if (this.dtype === null) this.dtype = dtype ?? 'float32';
    this.builtInputShape = isShapeList(inputShape) ? inputShape.map((s) => [...s]) : [...(inputShape as Shape)];
    this.withLabel(() => this.createWeights(this.builtInputShape as never));
    this.built = true;
  }

  /** Subclasses declare their weights here with `addWeight`. */
  protected createWeights(_inputShape: number[] | number[][]): void {}

  /** Output shape (no batch axis) for an input shape (no batch axis); runs no op. */
  computeOutputShape(inputShape: Shape | Shape[]): number[] {
    if (isShapeList(inputShape)) throw new RangeError(`${this.label}: expects one input, received ${inputShape.length}`);
    return [...(inputShape as Shape)];
  }

  /** Multiply-accumulates per example for an input shape (no batch axis). Default 0. */
  macs(_inputShape: Shape | Shape[]): number {
    return 0;
  }

  // ------------------------------------------------------------------ running

  /**
   * Run the layer on tensors (batch axis first). Builds the layer on first use with the
   * input's shape and dtype; errors name the layer.
   */
  call(x: Tensor | Tensor[], opts: CallOpts = {}): Tensor {
    this.assertInputs(x, 'call', false);
    const shapes = Array.isArray(x) ? x.map((t) => t.shape.slice(1)) : x.shape.slice(1);
    if (Array.isArray(x)) this.checkInputs(x.map((t) => t.shape));
    else this.checkInput(x.shape);
    if (!this.built) this.build(shapes as never, (Array.isArray(x) ? x[0] : x).dtype);
    return this.withLabel(() => {
      const y = this.forward(x, opts);
      if (this.activityRegularizer && opts.training) {
        this.activityLoss = regularizerPenalty(y, this.activityRegularizer);
      }
      return y;
    });
  }

  /** Several inputs (Add, Concatenate): subclasses check them together. */
  protected checkInputs(shapes: readonly (readonly (number | null)[])[]): void {
    if (shapes.length !== 1) throw new RangeError(`${this.label}: expects one input, received ${shapes.length}`);
    this.checkInput(shapes[0]);
  }

  /** The forward computation on tensors; subclasses implement it with ops. */
  protected abstract forward(x: Tensor | Tensor[], opts: CallOpts): Tensor;

  /**
   * Functional API: on symbolic tensors, connect the layer into a graph (building it and
   * inferring the output shape, no op runs); on tensors, the same as `call`.
   */
  apply(x: SymbolicTensor | SymbolicTensor[]): SymbolicTensor;
  apply(x: Tensor | Tensor[], opts?: CallOpts): Tensor;
  apply(x: SymbolicTensor | SymbolicTensor[] | Tensor | Tensor[], opts: CallOpts = {}): SymbolicTensor | Tensor {
    this.assertInputs(x, 'apply', true);
    const list = Array.isArray(x) ? x : [x];
    if (list.length && list.every((t) => t instanceof SymbolicTensor)) {
      const syms = list as SymbolicTensor[];
      const shapes = syms.map((s) => s.shape);
      if (Array.isArray(x)) this.checkInputs(shapes.map((s) => [null, ...s]));
      else this.checkInput([null, ...shapes[0]]);
      const dtype = syms[0].dtype;
      const inShape = Array.isArray(x) ? shapes : shapes[0];
      if (!this.built) this.build(inShape, dtype);
      const out = this.withLabel(() => this.computeOutputShape(inShape));
      return new SymbolicTensor(out, this.dtype ?? dtype, { layer: this, inputs: syms, arrayInput: Array.isArray(x) });
    }
    if (list.some((t) => t instanceof SymbolicTensor)) throw new TypeError(`${this.label}: apply() received a mix of symbolic tensors and tensors`);
    return this.call(x as Tensor | Tensor[], opts);
  }

  /**
   * Inputs must be Tensors (live ones), or SymbolicTensors for `apply`; anything else is
   * named here, with the layer, instead of failing on a property of null further in.
   */
  private assertInputs(x: unknown, method: 'apply' | 'call', symbolic: boolean): void {
    const expected = symbolic ? 'a Tensor or a SymbolicTensor (or an array of them)' : 'a Tensor (or an array of Tensors)';
    if (Array.isArray(x) && x.length === 0) throw new TypeError(`${this.label}: ${method}() expected ${expected}, received an empty array`);
    const list: unknown[] = Array.isArray(x) ? x : [x];
    list.forEach((t, i) => {
      const what = Array.isArray(x) ? `input ${i}` : 'its input';
      if (t instanceof Tensor) {
        if (t.isDisposed) throw new DisposedTensorError(t, `${this.label}: ${method}() ${what} (${t.describe()}) was disposed and cannot be used`);
        return;
      }
      if (symbolic && t instanceof SymbolicTensor) return;
      throw new TypeError(`${this.label}: ${method}() expected ${expected}, received ${Array.isArray(x) ? `${describeValue(t)} as input ${i}` : describeValue(t)}`);
    });
  }

  /** Run `fn`, prefixing any error message with this layer's label. */
  protected withLabel<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof Error && !LABELLED.test(e.message)) e.message = `${this.label}: ${e.message}`;
      throw e;
    }
  }

  /** Give the layer a seed before it is built (models assign seeds to unseeded layers). */
  setSeed(seed: number): void {
    this.seed = seed | 0;
    this.seedGiven = true;
  }

  // ------------------------------------------------------------------ regularisation

  /** Sum of the weight penalties and the latest activity penalty, or null when there are none. */
  regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const w of this.ownWeights) {
      if (!w.regularizer) continue;
      const p = regularizerPenalty(w.value, w.regularizer);
      total = total ? add(total, p) : p;
    }
    if (this.activityLoss && !this.activityLoss.isDisposed) total = total ? add(total, this.activityLoss) : this.activityLoss;
    return total;
  }

  // ------------------------------------------------------------------ config

  /** JSON-serialisable options that rebuild this layer (weights are saved separately). */
  getConfig(): LayerConfig {
    const c: LayerConfig = { name: this.name, trainable: this.trainable };
    if (this.dtype) c.dtype = this.dtype;
    if (this.declaredInputShape) c.inputShape = this.declaredInputShape;
    if (this.seedGiven) c.seed = this.seed;
    if (this.activityRegularizer) c.activityRegularizer = this.activityRegularizer;
    return c;
  }

  static fromConfig(this: new (config: never) => Layer, config: LayerConfig): Layer {
    return new this(config as never);
  }

  /** Free every weight tensor. */
  dispose(): void {
    for (const w of this.ownWeights) w.dispose();
  }

  toString(): string {
    return this.label;
  }
}

export function isShapeList(s: Shape | readonly Shape[]): s is Shape[] {
  return s.length > 0 && Array.isArray(s[0]);
}

export { serializeInitializer };
