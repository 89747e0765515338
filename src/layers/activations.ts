/** Activation names accepted by the Activation layer and by the `activation` option of Dense and the convolutions. */
import * as act from '../ops/activation.js';
import type { Tensor } from '../tensor/tensor.js';
import { FUSED_ACTIVATIONS, type FusedActivation } from '../kernels/conv.js';

export type ActivationName =
  | 'relu' | 'relu6' | 'sigmoid' | 'hardSigmoid' | 'hardSwish' | 'tanh' | 'softmax' | 'logSoftmax' | 'leakyRelu' | 'elu' | 'selu' | 'gelu'
  | 'softplus' | 'swish' | 'mish' | 'softsign' | 'step' | 'linear';

const table: Record<ActivationName, (x: Tensor) => Tensor> = {
  relu: act.relu,
  relu6: act.relu6,
  hardSigmoid: (x) => act.hardSigmoid(x),
  hardSwish: act.hardSwish,
  sigmoid: act.sigmoid,
  tanh: act.tanh,
  softmax: (x) => act.softmax(x, -1),
  logSoftmax: (x) => act.logSoftmax(x, -1),
  leakyRelu: (x) => act.leakyRelu(x),
  elu: (x) => act.elu(x),
  selu: act.selu,
  gelu: (x) => act.gelu(x),
  softplus: act.softplus,
  swish: act.swish,
  mish: act.mish,
  softsign: act.softsign,
  step: act.step,
  linear: act.identity,
};

export const ACTIVATION_NAMES = Object.keys(table) as ActivationName[];

export function checkActivation(name: unknown, where: string): ActivationName {
  if (typeof name !== 'string' || !(name in table)) {
    throw new RangeError(`${where}: unknown activation ${JSON.stringify(name)} (use ${ACTIVATION_NAMES.join(', ')})`);
  }
  return name as ActivationName;
}

export function activationFn(name: ActivationName): (x: Tensor) => Tensor {
  return table[name];
}

/**
 * The activation as the convolution kernel applies it itself (FusedConv2D: conv2d's and
 * depthwiseConv2d's `activation` option), or null when it must run as its own op after.
 * Layers pass 'linear' on too: it only matters with a bias, which then joins the kernel.
 */
export function fusedActivation(name: ActivationName): FusedActivation | null {
  return (FUSED_ACTIVATIONS as readonly string[]).includes(name) ? (name as FusedActivation) : null;
}

/**
 * A convolution layer's output with its activation: `conv` gets the activation when the
 * kernel applies it itself (fusedActivation), else the activation op runs on its result.
 */
export function convWithActivation(name: ActivationName, conv: (activation: { activation?: FusedActivation }) => Tensor): Tensor {
  const a = fusedActivation(name);
  return a ? conv({ activation: a }) : activationFn(name)(conv({}));
}
