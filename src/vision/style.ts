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
import { add, affine, clip } from '../ops/elementwise.js';
import { randomUniform } from '../ops/creation.js';
import { contentCost, styleCost } from '../ops/loss.js';
import { Adam } from '../optim/optimizer.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';

export interface StyleTransferOptions {
  /** Maps an image [1, H, W, C] to layer activations [1, h, w, c], differentiably. */
  extract: (image: Tensor) => Tensor[];
  /** Index (into extract's output) of the content layer. */
  contentLayer: number;
  /** Style layers with their weights lambda_l. */
  styleLayers: readonly { index: number; weight: number }[];
  alpha?: number;
  beta?: number;
  steps?: number;
  /** Adam learning rate on the pixels. */
  lr?: number;
  /** Fraction of uniform noise blended into the content image to start (0: start from the content). */
  noise?: number;
  seed?: number;
  /** Pixel range the image is clipped to after each step (default [0, 1]). */
  range?: [number, number];
  /** Called after every step with the step number and J, J_content, J_style. */
  onStep?: (step: number, costs: { total: number; content: number; style: number }) => void;
}

/** Run style transfer; returns the generated image and the cost after every step. */
export function styleTransfer(content: Tensor, style: Tensor, opts: StyleTransferOptions): { image: Tensor; history: number[] } {
  if (content.rank !== 4 || content.shape[0] !== 1) throw new RangeError(`styleTransfer: content must have shape [1, H, W, C], received ${fmtShape(content.shape)}`);
  if (!shapesEqual(content.shape, style.shape)) throw new RangeError(`styleTransfer: style has shape ${fmtShape(style.shape)}, expected the content's shape ${fmtShape(content.shape)}`);
  const { extract, contentLayer, styleLayers } = opts;
  const alpha = opts.alpha ?? 10, beta = opts.beta ?? 40;
  const [lo, hi] = opts.range ?? [0, 1];
  const noise = opts.noise ?? 0.6;

  // Targets: computed once, without a graph.
  const targets = noGrad(() => {
    const fc = extract(content);
    const fs = extract(style);
    if (contentLayer < 0 || contentLayer >= fc.length) throw new RangeError(`styleTransfer: contentLayer ${contentLayer} is not an index of the ${fc.length} extracted layers`);
    for (const s of styleLayers) if (s.index < 0 || s.index >= fs.length) throw new RangeError(`styleTransfer: style layer index ${s.index} is not an index of the ${fs.length} extracted layers`);
    return { aC: keep(fc[contentLayer]), aS: styleLayers.map((s) => keep(fs[s.index])) };
  });

  // G starts as content blended with uniform noise (the usual initialisation).
  const image = keep(
    tidy(() => clip(add(affine(content, 1 - noise), affine(randomUniform(content.shape, { min: lo, max: hi, seed: opts.seed ?? 0, dtype: content.dtype }), noise)), lo, hi)),
  ).requireGrad();
  const opt = new Adam({ lr: opts.lr ?? 0.02 });
  const history: number[] = [];
  const steps = opts.steps ?? 100;
  for (let step = 0; step < steps; step++) {
    const costs = tidy(() => {
      const feats = extract(image);
      const jc = contentCost(targets.aC, feats[contentLayer]);
      const js = styleCost(styleLayers.map((s, i) => ({ aS: targets.aS[i], aG: feats[s.index], weight: s.weight })));
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
