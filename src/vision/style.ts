/**
 * Neural style transfer (Gatys et al.): optimise the pixels of a generated image G so
 * that its activations at one layer match the content image's (content cost) and the
 * Gram matrices of several layers match the style image's (style cost):
 *   J(G) = alpha * J_content(C, G) + beta * J_style(S, G)
 * by gradient descent on G itself. The feature extractor is any differentiable function
 * from an image batch to a list of layer activations (e.g. the outputs of chosen layers
 * of a pretrained convnet); the costs are the ops `contentCost` and `styleCost`.
 */
import { Tensor } from '../tensor/tensor.js';
import { keep, tidy } from '../registry/storage.js';
import { noGrad } from '../autograd/reverse_mode.js';
import { add, affine, clip, sub } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { conv2d } from '../ops/conv.js';
import { avgPool2d } from '../ops/pool.js';
import { relu } from '../ops/activation.js';
import { randomNormal, randomUniform } from '../ops/creation.js';
import { contentCost, styleCost } from '../ops/loss.js';
import { Adam } from '../optim/optimizer.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';

/** Layer activations by index (an array) or by name (a Map or a plain object). */
export type LayerActivations = readonly Tensor[] | ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

/** Maps an image [1, H, W, C] to layer activations [1, h, w, c], differentiably. */
export type FeatureExtractor = (image: Tensor) => LayerActivations;

/** A layer chosen by index or name. */
export type LayerRef = number | string;

export interface StyleTransferOptions {
  /**
   * The feature extractor (default: `randomFeatureExtractor()`). Any differentiable function
   * works, e.g. `(x) => model.applyAll(x)` on a model whose outputs are the chosen layers of
   * an imported VGG, the layers then named by index.
   */
  extractor?: FeatureExtractor;
  /** Old name of `extractor`. */
  extract?: FeatureExtractor;
  /** The content layer (default 'conv2' of the default extractor). */
  contentLayer?: LayerRef;
  /** Style layers with their weights lambda_l (default conv1..conv3 of the default extractor, equal weights). */
  styleLayers?: readonly (LayerRef | { layer?: LayerRef; index?: number; name?: string; weight?: number })[];
  alpha?: number;
  beta?: number;
  steps?: number;
  /** Adam learning rate on the pixels (default 0.02). */
  learningRate?: number;
  /** Old name of `learningRate`. */
  lr?: number;
  /** Fraction of uniform noise blended into the content image to start (0: start from the content). */
  noise?: number;
  seed?: number;
  /** Pixel range the image is clipped to after each step (default [0, 1]). */
  range?: [number, number];
  /** Called after every step with the step number and J, J_content, J_style. */
  onStep?: (step: number, costs: { total: number; content: number; style: number }) => void;
}

/**
 * The default extractor, after Ustyuzhaninov et al. (2016), "Texture synthesis using
 * shallow convolutional networks with random filters": fixed random filters at three
 * scales, 'conv1' (3x3, 32 filters, full resolution), then 2x2 average pooling and 'conv2'
 * (3x3, 64 filters, 1/2), then again 'conv3' (3x3, 128 filters, 1/4), each with ReLU.
 * Filters are zero-mean per output channel (edge and texture detectors rather than
 * brightness), He-scaled, and seeded: the same seed gives the same network.
 */
export function randomFeatureExtractor(opts: { channels?: number; filters?: readonly number[]; seed?: number } = {}): FeatureExtractor & { layerNames: string[] } {
  const filters = opts.filters ?? [32, 64, 128];
  let cin = opts.channels ?? 3;
  const weights = filters.map((f, i) => {
    const w = randomNormal([3, 3, cin, f], { seed: (opts.seed ?? 0) * 31 + i + 1, std: Math.sqrt(2 / (9 * cin)) });
    const centred = keep(noGrad(() => sub(w, mean(w, { axes: [0, 1, 2], keepDims: true }))));
    w.dispose();
    cin = f;
    return centred;
  });
  const layerNames = filters.map((_, i) => `conv${i + 1}`);
  const extract = (image: Tensor): Map<string, Tensor> => {
    const out = new Map<string, Tensor>();
    let h = image;
    weights.forEach((w, i) => {
      if (i > 0) h = avgPool2d(h, { size: 2 });
      h = relu(conv2d(h, w, { padding: 'same' }));
      out.set(layerNames[i], h);
    });
    return out;
  };
  return Object.assign(extract, { layerNames });
}

function pickLayer(acts: LayerActivations, ref: LayerRef, arg: string): Tensor {
  const names = (): string => (Array.isArray(acts) ? `indices 0..${acts.length - 1}` : `layers ${[...(acts instanceof Map ? acts.keys() : Object.keys(acts))].join(', ')}`);
  let t: Tensor | undefined;
  if (Array.isArray(acts)) t = typeof ref === 'number' ? (acts as readonly Tensor[])[ref] : undefined;
  else if (acts instanceof Map) t = acts.get(String(ref));
  else t = (acts as Readonly<Record<string, Tensor>>)[String(ref)];
  if (!t) throw new RangeError(`styleTransfer: ${arg} ${JSON.stringify(ref)} is not one of the extractor's outputs (${names()})`);
  return t;
}

/** Run style transfer; returns the generated image and the cost after every step. */
export function styleTransfer(content: Tensor, style: Tensor, opts: StyleTransferOptions = {}): { image: Tensor; history: number[] } {
  if (content.rank !== 4 || content.shape[0] !== 1) throw new RangeError(`styleTransfer: content must have shape [1, H, W, C], received ${fmtShape(content.shape)}`);
  if (!shapesEqual(content.shape, style.shape)) throw new RangeError(`styleTransfer: style has shape ${fmtShape(style.shape)}, expected the content's shape ${fmtShape(content.shape)}`);
  const given = opts.extractor ?? opts.extract;
  const extract: FeatureExtractor = given ?? randomFeatureExtractor({ channels: content.shape[3], seed: opts.seed });
  const contentLayer: LayerRef = opts.contentLayer ?? (given ? 0 : 'conv2');
  const styleLayers = (opts.styleLayers ?? (given ? [0] : ['conv1', 'conv2', 'conv3'])).map((s) =>
    typeof s === 'object' ? { ref: (s.layer ?? s.index ?? s.name) as LayerRef, weight: s.weight ?? 1 } : { ref: s, weight: 1 });
  if (styleLayers.length === 0) throw new RangeError('styleTransfer: styleLayers must name at least one layer');
  const alpha = opts.alpha ?? 10, beta = opts.beta ?? 40;
  const [lo, hi] = opts.range ?? [0, 1];
  const noise = opts.noise ?? 0.6;

  // Targets: computed once, without a graph.
  const targets = noGrad(() => {
    const fc = extract(content);
    const fs = extract(style);
    return { aC: keep(pickLayer(fc, contentLayer, 'contentLayer')), aS: styleLayers.map((s) => keep(pickLayer(fs, s.ref, 'style layer'))) };
  });

  // G starts as content blended with uniform noise (the usual initialisation).
  const image = keep(
    tidy(() => clip(add(affine(content, 1 - noise), affine(randomUniform(content.shape, { min: lo, max: hi, seed: opts.seed ?? 0, dtype: content.dtype }), noise)), lo, hi)),
  ).requireGrad();
  const opt = new Adam({ lr: opts.learningRate ?? opts.lr ?? 0.02 });
  const history: number[] = [];
  const steps = opts.steps ?? 100;
  for (let step = 0; step < steps; step++) {
    const costs = tidy(() => {
      const feats = extract(image);
      const jc = contentCost(targets.aC, pickLayer(feats, contentLayer, 'contentLayer'));
      const js = styleCost(styleLayers.map((s, i) => ({ aS: targets.aS[i], aG: pickLayer(feats, s.ref, 'style layer'), weight: s.weight })));
      const j = add(affine(jc, alpha), affine(js, beta));
      j.backward();
      opt.step([image]);
      image.zeroGrad();
      noGrad(() => image.assign(clip(image, lo, hi)));
      return { total: j.item(), content: jc.item(), style: js.item() };
    });
    history.push(costs.total);
    opts.onStep?.(step, costs);
  }
  targets.aC.dispose();
  for (const t of targets.aS) t.dispose();
  image.requiresGrad = false;
  return { image, history };
}
