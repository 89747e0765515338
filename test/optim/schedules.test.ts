/** Learning-rate schedules at given steps (values worked out by hand) and the plateau helper. */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));

describe('schedules', () => {
  it('constant', () => {
    const s = ck.constant(0.3);
    expect([0, 1, 1000].map(s)).toEqual([0.3, 0.3, 0.3]);
  });

  it('stepDecay is StepLR: initial * gamma^floor(step / stepSize)', () => {
    const s = ck.stepDecay({ initial: 0.1, stepSize: 3, gamma: 0.5 });
    [[0, 0.1], [2, 0.1], [3, 0.05], [5, 0.05], [6, 0.025], [10, 0.0125]].forEach(([k, v]) => close(s(k), v));
    close(ck.stepDecay({ initial: 1, stepSize: 1 })(2), 0.01); // default gamma 0.1
  });

  it('exponentialDecay: smooth and staircase', () => {
    const s = ck.exponentialDecay({ initial: 2, decayRate: 0.5, decaySteps: 4 });
    close(s(0), 2);
    close(s(2), 2 * Math.SQRT1_2);
    close(s(8), 0.5);
    const st = ck.exponentialDecay({ initial: 2, decayRate: 0.5, decaySteps: 4, staircase: true });
    close(st(3), 2);
    close(st(4), 1);
    close(st(7), 1);
    close(ck.exponentialDecay({ initial: 1, decayRate: 0.9 })(3), 0.729); // ExponentialLR
  });

  it('cosineDecay with warm-up, floor alpha and flat tail', () => {
    const s = ck.cosineDecay({ initial: 1, decaySteps: 4, alpha: 0.1, warmupSteps: 2, warmupStart: 0.2 });
    close(s(0), 0.2);
    close(s(1), 0.6);
    close(s(2), 1); // warm-up done: top of the cosine
    close(s(4), 0.1 + 0.9 * 0.5); // half way
    close(s(3), 0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 4)));
    close(s(6), 0.1);
    close(s(100), 0.1);
    const plain = ck.cosineDecay({ initial: 0.5, decaySteps: 10 });
    close(plain(0), 0.5);
    close(plain(10), 0);
  });

  it('validates arguments and steps', () => {
    expect(() => ck.stepDecay({ initial: 0.1, stepSize: 0 })).toThrow(/stepSize must be a positive integer/);
    expect(() => ck.cosineDecay({ initial: 0.1, decaySteps: 1.5 })).toThrow(/decaySteps/);
    expect(() => ck.constant(0.1)(-1)).toThrow(/non-negative integer/);
    expect(() => ck.constant(Number.NaN)).toThrow(/lr must be a finite number/);
  });

  it('configs rebuild the same schedule', () => {
    for (const s of [ck.constant(0.1), ck.stepDecay({ initial: 0.1, stepSize: 2 }), ck.exponentialDecay({ initial: 1, decayRate: 0.7, decaySteps: 3, staircase: true }), ck.cosineDecay({ initial: 1, decaySteps: 5, warmupSteps: 1 })]) {
      const r = ck.scheduleFromConfig(JSON.parse(JSON.stringify(s.config)));
      for (let k = 0; k < 12; k++) expect(r(k)).toBe(s(k));
    }
  });
});

describe('reduceOnPlateau', () => {
  it('reduces after more than `patience` epochs without improvement, then cools down', () => {
    const opt = new ck.SGD({ lr: 1 });
    const plateau = ck.reduceOnPlateau(opt, { patience: 2, factor: 0.5, cooldown: 1 });
    const losses = [1, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95];
    const lrs = losses.map((l) => { plateau.step(l); return opt.currentLr(); });
    // epochs 3,4 bad (tolerated), 5 bad -> reduce; 6 cooldown; 7,8 bad (tolerated), 9 bad -> reduce
    expect(lrs).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]);
    expect(plateau.reductions).toBe(2);
  });

  it('max mode, minLr floor, and scaling a schedule', () => {
    const opt = new ck.Adam({ lr: ck.exponentialDecay({ initial: 0.1, decayRate: 0.5 }) });
    const plateau = new ck.ReduceLROnPlateau(opt, { mode: 'max', patience: 0, factor: 0.1, minLr: 0.005 });
    expect(plateau.step(0.5)).toBe(false); // first value is an improvement
    expect(plateau.step(0.4)).toBe(true); // 0.1 -> 0.01
    close(opt.currentLr(), 0.01);
    expect(plateau.step(0.4)).toBe(true); // 0.01 -> floor 0.005
    close(opt.currentLr(), 0.005);
    expect(plateau.step(0.4)).toBe(false); // already at the floor
    opt.iterations = 1; // the schedule keeps decaying underneath the multiplier
    close(opt.currentLr(), 0.0025);
  });
});
