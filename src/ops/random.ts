/**
 * Seeded pseudo-random numbers. Every random op in convkit (initialisers, dropout,
 * shuffling, augmentation) takes a seed or an Rng so that runs are reproducible.
 */

/** A small, fast generator (mulberry32) with uniform and normal draws. */
export class Rng {
  private state: number;
  private spare: number | null = null;
  constructor(seed = 0) {
    this.state = (seed | 0) ^ 0x9e3779b9;
  }
  /** Uniform on [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Standard normal (Box-Muller, caching the second draw). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return mean + std * s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }
  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(a: T[] | Int32Array | Uint32Array): typeof a {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t as never;
    }
    return a;
  }
}

/** Accept a seed or an Rng. */
export function rngOf(seedOrRng: number | Rng | undefined): Rng {
  return seedOrRng instanceof Rng ? seedOrRng : new Rng(seedOrRng ?? Math.floor(Math.random() * 2 ** 31));
}
