/**
 * Multi-crop test-time augmentation: classify several crops of each image (the four
 * corners and the centre, and their mirror images) and average the predicted
 * probabilities, as AlexNet did with 224x224 crops of 256x256 images.
 *
 * Two ways to get crops the model accepts:
 * - `cropSize` smaller than the image: crops of that size from the image itself;
 * - `padding` p: the image is zero-padded by p on each side and crops of the original
 *   size are taken, i.e. the image shifted by p pixels towards each corner (plus the
 *   unshifted centre).
 */
import { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { noGrad } from '../autograd/reverse_mode.js';
import { tidy } from '../registry/storage.js';
import { add, affine, log } from '../ops/elementwise.js';
import { softmax } from '../ops/activation.js';
import { predictInBatches, type Predictor } from '../train/ensemble.js';
import { cropImages, flipLeftRight } from './augment.js';

export interface MultiCropOptions {
  /** Crop height and width (default: the image size, with `padding`). */
  cropSize?: number | readonly [number, number];
  /** Zero padding added around the image before cropping (default 0). */
  padding?: number;
  /** Also classify the mirror image of every crop (default true: 10 views, else 5). */
  mirror?: boolean;
}

/** The views of a batch [N, H, W, C]: corners and centre (then their mirrors), each [N, h, w, C]. */
export function multiCrops(x: Tensor, opts: MultiCropOptions = {}): Tensor[] {
  if (x.rank !== 4) throw new RangeError(`multiCrops: images must be a batch [N, H, W, C], received shape ${fmtShape(x.shape)}`);
  const [, H, W] = x.shape;
  const p = opts.padding ?? 0;
  if (!Number.isInteger(p) || p < 0) throw new RangeError(`multiCrops: padding must be a non-negative integer, received ${p}`);
  const cs = opts.cropSize ?? [H, W];
  const [h, w] = typeof cs === 'number' ? [cs, cs] : cs;
  const PH = H + 2 * p, PW = W + 2 * p;
  if (!(h >= 1 && w >= 1 && h <= PH && w <= PW)) throw new RangeError(`multiCrops: crop ${h}x${w} does not fit in the ${PH}x${PW} (padded) image`);
  // Offsets in the padded frame, converted to the image frame by subtracting p.
  const corners: [number, number][] = [
    [0, 0], [0, PW - w], [PH - h, 0], [PH - h, PW - w], [Math.floor((PH - h) / 2), Math.floor((PW - w) / 2)],
  ];
  const crops = corners.map(([t, l]) => cropImages(x, t - p, l - p, h, w));
  if (opts.mirror ?? true) return [...crops, ...crops.map((c) => flipLeftRight(c))];
  return crops;
}

/**
 * Average softmax probabilities over the multi-crop views of each image. Returns
 * [N, classes] probabilities (or their log with output 'logProbabilities').
 */
export function multiCropPredict(model: Predictor, x: Tensor, opts: MultiCropOptions & { batchSize?: number; softmax?: boolean; output?: 'probabilities' | 'logProbabilities' } = {}): Tensor {
  return noGrad(() =>
    tidy(() => {
      const views = multiCrops(x, opts);
      let acc: Tensor | null = null;
      for (const v of views) {
        let out = predictInBatches(model, v, opts.batchSize ?? 128);
        if (opts.softmax ?? true) out = softmax(out, -1);
        acc = acc ? add(acc, out) : out;
      }
      const mean = affine(acc!, 1 / views.length);
      return opts.output === 'logProbabilities' ? log(mean) : mean;
    }),
  );
}
