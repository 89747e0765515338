/**
 * Ensembles: average the outputs of several trained networks. Each member's logits
 * go through softmax and the probabilities are averaged (optionally weighted), which
 * is the classic "average the predictions of several nets" that wins competitions.
 */
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { noGrad } from '../autograd/reverse_mode.js';
import { tidy } from '../registry/storage.js';
import { add, affine, log, mul } from '../ops/elementwise.js';
import { softmax } from '../ops/activation.js';
import { concat, slice } from '../ops/shape.js';

/** Anything with a forward pass (a Model, a layer, another Ensemble). */
export interface Predictor {
  apply(x: Tensor, opts?: { training?: boolean }): Tensor;
}

export interface EnsembleOptions {
  /** Relative weight of each member (default equal); normalised to sum to 1. */
  weights?: readonly number[];
  /** Members output logits: apply softmax before averaging (default true). */
  softmax?: boolean;
  /** 'probabilities' (default) or 'logProbabilities' (log of the average: usable as logits by softmaxCrossEntropy). */
  output?: 'probabilities' | 'logProbabilities';
}

export class Ensemble implements Predictor {
  readonly members: readonly Predictor[];
  readonly weights: readonly number[];
  readonly opts: EnsembleOptions;

  constructor(members: readonly Predictor[], opts: EnsembleOptions = {}) {
    if (members.length === 0) throw new RangeError('Ensemble: needs at least one member');
    const w = opts.weights ?? members.map(() => 1);
    if (w.length !== members.length) throw new RangeError(`Ensemble: ${w.length} weights for ${members.length} members`);
    if (w.some((v) => !(v >= 0)) || !(w.reduce((a, b) => a + b, 0) > 0)) throw new RangeError(`Ensemble: weights must be >= 0 with a positive sum, received [${w.join(', ')}]`);
    const total = w.reduce((a, b) => a + b, 0);
    this.members = [...members];
    this.weights = w.map((v) => v / total);
    this.opts = { ...opts };
  }

  /** The weighted mean of the members' (softmax) outputs; never in training mode. */
  apply(x: Tensor, _opts?: { training?: boolean }): Tensor {
    return noGrad(() =>
      tidy(() => {
        let acc: Tensor | null = null;
        let shape: readonly number[] = [];
        this.members.forEach((m, i) => {
          let out = m.apply(x, { training: false });
          if (acc && fmtShape(out.shape) !== fmtShape(shape)) throw new RangeError(`Ensemble: member ${i} returned shape ${fmtShape(out.shape)}, member 0 returned ${fmtShape(shape)}`);
          shape = out.shape;
          if (this.opts.softmax ?? true) out = softmax(out, -1);
          const term = mul(out, this.weights[i]);
          acc = acc ? add(acc, term) : term;
        });
        return this.opts.output === 'logProbabilities' ? log(acc!) : affine(acc!, 1);
      }),
    );
  }

  /** `apply` in batches of `batchSize`. */
  predict(x: Tensor, opts: { batchSize?: number } = {}): Tensor {
    return predictInBatches(this, x, opts.batchSize ?? 128);
  }
}

/** Run `p.apply` on slices of `x` along the first axis and concatenate. */
export function predictInBatches(p: Predictor, x: Tensor, batchSize: number): Tensor {
  const n = x.shape[0];
  if (n <= batchSize) return noGrad(() => p.apply(x, { training: false }));
  return noGrad(() =>
    tidy(() => {
      const parts: Tensor[] = [];
      for (let s = 0; s < n; s += batchSize) {
        const b = Math.min(batchSize, n - s);
        parts.push(p.apply(slice(x, [s, ...x.shape.slice(1).map(() => 0)], [b, ...x.shape.slice(1)]), { training: false }));
      }
      return concat(parts, 0);
    }),
  );
}

/** `new Ensemble(members, opts)`. */
export function ensemble(members: readonly Predictor[], opts: EnsembleOptions = {}): Ensemble {
  return new Ensemble(members, opts);
}
