/**
 * An optimiser option that does not exist is refused by name, not dropped: Keras's
 * spelling `learningRate` used to train silently at the default rate.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

describe('makeOptimizer and compile refuse unknown options', () => {
  it('names the option and lists the ones the optimiser has', () => {
    expect(() => ck.makeOptimizer('adam', { learningRate: 0.01 })).toThrow("makeOptimizer: 'adam' has no option 'learningRate' (its options: lr, betas, eps, weightDecay, amsgrad)");
    expect(() => ck.makeOptimizer('sgd', { lr: 0.1, momentun: 0.9 })).toThrow("makeOptimizer: 'sgd' has no option 'momentun' (its options: lr, momentum, dampening, weightDecay, nesterov)");
    const m = ck.zoo.smallCnn8({ seed: 1 });
    expect(() => m.compile({ optimizer: { name: 'adam', learningRate: 0.01 } as unknown as ck.OptimizerConfig, loss: 'sparseCategoricalCrossentropy' })).toThrow(/'adam' has no option 'learningRate'/);
  });

  it('every option of every optimiser is accepted, and getConfig() round-trips', () => {
    const values: Record<string, unknown> = { lr: 0.01, momentum: 0.5, dampening: 0, weightDecay: 0.01, nesterov: false, betas: [0.8, 0.9], eps: 1e-7, amsgrad: true, alpha: 0.9, centered: true, lrDecay: 0.1, initialAccumulator: 0.1, rho: 0.8 };
    for (const [name, opts] of Object.entries(ck.OPTIMIZER_OPTIONS)) {
      const o = ck.makeOptimizer(name as ck.OptimizerKind, Object.fromEntries(opts.map((k) => [k, values[k]])));
      const c = o.getConfig();
      expect(() => ck.makeOptimizer(c.name, JSON.parse(JSON.stringify(c))), name).not.toThrow();
      for (const k of Object.keys(c)) if (k !== 'name') expect(opts, `${name}.${k}`).toContain(k);
    }
    expect(Object.keys(ck.OPTIMIZER_OPTIONS).sort()).toEqual([...ck.OPTIMIZER_NAMES].sort());
  });
});
