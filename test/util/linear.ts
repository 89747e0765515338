/** A tiny trainable model for fit tests (no layers involved). */
import * as ck from '../../src/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { TrainableModel } from '../../src/train/index.js';

/** y = x w + b, weights as plain leaf tensors. */
export class Linear implements TrainableModel {
  w: Tensor;
  b: Tensor;
  stopTraining?: boolean;
  constructor(inF: number, outF: number, w0 = 0, b0 = 0) {
    this.w = ck.full([inF, outF], w0).requireGrad();
    this.b = ck.full([outF], b0).requireGrad();
  }
  get trainableWeights() {
    return [this.w, this.b];
  }
  apply(x: Tensor) {
    return ck.add(ck.matmul(x, this.w), this.b);
  }
}
