import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { AUGMENT_OPTION_NAMES } from '../../src/vision/augment.js';

describe('Augmenter options', () => {
  it('a misspelt or unknown option is an error listing the known ones, not silently ignored', () => {
    expect(() => new ck.Augmenter({ rotate: 10 } as unknown as ck.AugmentOptions)).toThrow(/augment: unknown option 'rotate' \(known: .*rotation/);
    expect(() => ck.augment(ck.zeros([1, 4, 4, 1]), { flip: true } as unknown as ck.AugmentOptions)).toThrow(/unknown option 'flip'/);
  });

  it('fit rejects an unknown augmentation option', async () => {
    const m = ck.sequential([ck.layers.flatten(), ck.layers.dense({ units: 2 })], { inputShape: [4, 4, 1], seed: 1 });
    m.compile({ optimizer: 'sgd', loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true } });
    const x = ck.zeros([4, 4, 4, 1]);
    const y = ck.tensor([0, 1, 0, 1], [4], 'int32');
    await expect(m.fit(x, y, { epochs: 1, verbose: 0, augment: { zoom: 0.1 } as unknown as ck.AugmentOptions })).rejects.toThrow(/unknown option 'zoom'/);
  });

  it('every documented option is accepted and changes some image (clip and seed aside)', () => {
    const x = ck.randomUniform([4, 8, 8, 3], { min: 0.2, max: 0.8, seed: 2 });
    const before = x.toArray();
    for (const o of AUGMENT_OPTION_NAMES) {
      if (o === 'clip' || o === 'seed') {
        expect(() => new ck.Augmenter({ [o]: o === 'clip' ? [0, 1] : 3 })).not.toThrow();
        continue;
      }
      const v = o === 'cropPadding' ? 2 : o === 'rotation' ? 20 : o.startsWith('flip') || o === 'erasing' ? 1 : 0.2;
      const y = new ck.Augmenter({ [o]: v, seed: 5 }).apply(x);
      expect(y.toArray(), o).not.toEqual(before);
    }
  });
});
