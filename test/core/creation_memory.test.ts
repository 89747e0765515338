/**
 * Generated tensors (random draws, arange, dropout masks) are written chunk by chunk into
 * their storage (issue 13, part 9). Two things are pinned here: the values are exactly those
 * of the old whole-array construction (a float64 array of every draw, then converted), so
 * seeded results do not change; and creating a big one does not hold a whole-array float64
 * copy on the JS heap (it used to: 1e8 elements took 1.6 GB against 0.43 GB for zeros).
 */
import { describe, expect, it, vi } from 'vitest';
import * as ck from '../../src/index.js';
import { GENERATE_CHUNK } from '../../src/ops/generate.js';
import { Rng } from '../../src/ops/random.js';
import type { DType } from '../../src/index.js';

const onTs = <T>(fn: () => T): T => ck.withBackend('ts', fn);

/** The construction before chunking: every value in one float64 array, then converted. */
function wholeArray(n: number, dtype: DType, draw: (i: number) => number): number[] {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = draw(i);
  const out = dtype === 'float64' ? v : dtype === 'float32' ? Float32Array.from(v) : Int32Array.from(v);
  return Array.from(out);
}

const N = 2 * GENERATE_CHUNK + 17; // two full chunks and a short one
const shape = [N];

describe('generated tensors keep the values of the whole-array construction', () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    it(`randomNormal, truncatedNormal, randomUniform and arange (${dtype}, ${N} values)`, () => {
      onTs(() => {
        let rng = new Rng(7);
        expect(ck.randomNormal(shape, { seed: 7, mean: 1, std: 3, dtype }).toArray()).toEqual(wholeArray(N, dtype, () => rng.normal(1, 3)));
        rng = new Rng(8);
        const trunc = () => {
          let z: number;
          do z = rng.normal(); while (Math.abs(z) > 2);
          return -2 + 0.5 * z;
        };
        expect(ck.truncatedNormal(shape, { seed: 8, mean: -2, std: 0.5, dtype }).toArray()).toEqual(wholeArray(N, dtype, trunc));
        rng = new Rng(9);
        expect(ck.randomUniform(shape, { seed: 9, min: -1, max: 4, dtype }).toArray()).toEqual(wholeArray(N, dtype, () => rng.uniform(-1, 4)));
        expect(ck.arange(-3, -3 + 0.25 * N, 0.25, dtype).toArray()).toEqual(wholeArray(N, dtype, (i) => -3 + i * 0.25));
      });
    });
  }

  it('a generator passed as the seed continues across chunks and calls', () => {
    onTs(() => {
      const a = new Rng(3);
      const first = ck.randomUniform([GENERATE_CHUNK + 5], { seed: a }).toArray();
      const second = ck.randomUniform([3], { seed: a }).toArray();
      const all = ck.randomUniform([GENERATE_CHUNK + 8], { seed: 3 }).toArray();
      expect([...first, ...second]).toEqual(all);
    });
  });

  it('int32 draws convert as before (toward zero)', () => {
    onTs(() => {
      const rng = new Rng(4);
      expect(ck.randomUniform([1000], { seed: 4, min: -50, max: 50, dtype: 'int32' }).toArray()).toEqual(wholeArray(1000, 'int32', () => rng.uniform(-50, 50)));
    });
  });

  it('dropout draws the same mask as before', () => {
    onTs(() => {
      const x = ck.ones([N], 'float64');
      const rng = new Rng(5);
      const want = wholeArray(N, 'float64', () => (rng.next() >= 0.3 ? 1 / 0.7 : 0));
      expect(ck.dropout(x, 0.3, { seed: 5 }).toArray()).toEqual(want);
    });
  });

  it('wasm fills its linear memory chunk by chunk (writeRange) with the same values, and a backend without writeRange too', () => {
    const want = onTs(() => ck.randomNormal([2 * GENERATE_CHUNK + 3], { seed: 11 }).toArray());
    const wasm = ck.withBackend('wasm', () => ck.backend());
    const writes = vi.spyOn(wasm, 'writeRange' as never);
    const t = ck.withBackend('wasm', () => ck.randomNormal([2 * GENERATE_CHUNK + 3], { seed: 11 }));
    expect(t.backend.name).toBe('wasm');
    expect(writes).toHaveBeenCalledTimes(3);
    expect(t.toArray()).toEqual(want);
    t.dispose();
    writes.mockRestore();
    (wasm as { writeRange?: unknown }).writeRange = undefined; // an own property hides the method
    try {
      const u = ck.withBackend('wasm', () => ck.randomNormal([2 * GENERATE_CHUNK + 3], { seed: 11 }));
      expect(u.toArray()).toEqual(want);
      u.dispose();
    } finally {
      delete (wasm as { writeRange?: unknown }).writeRange;
    }
  });

  it('bad arguments name the op', () => {
    expect(() => ck.randomNormal([2], { std: NaN })).toThrow(/randomNormal: std must be a finite number, received NaN/);
    expect(() => ck.randomUniform([2.5])).toThrow(/randomUniform: shape: every dimension must be a non-negative integer, received \[2.5\]/);
    expect(() => ck.truncatedNormal([2], { dtype: 'int8' as DType })).toThrow(/truncatedNormal: unknown dtype 'int8'/);
    expect(() => ck.arange(0, Infinity)).toThrow(/arange: stop must be a finite number, received Infinity/);
    expect(() => ck.arange(NaN)).toThrow(/arange: stop must be a finite number, received NaN/);
  });
});

/** An Rng that samples the bytes held by ArrayBuffers while values are being drawn. */
class SamplingRng extends Rng {
  peak = 0;
  private calls = 0;
  next(): number {
    if ((++this.calls & 0xfffff) === 0) this.peak = Math.max(this.peak, process.memoryUsage().arrayBuffers);
    return super.next();
  }
}

describe('memory while generating a big tensor', () => {
  it('randomNormal and randomUniform of 2e7 float32 values hold about what zeros holds, not a float64 copy as well', () => {
    onTs(() => {
      const n = 2e7; // 80 MB as float32; the old float64 staging array alone was 160 MB
      const base0 = process.memoryUsage().arrayBuffers;
      const z = ck.zeros([n]);
      const zerosBytes = process.memoryUsage().arrayBuffers - base0;
      z.dispose();
      expect(zerosBytes).toBeGreaterThanOrEqual(4 * n);
      for (const make of [
        (rng: Rng) => ck.randomNormal([n], { seed: rng }),
        (rng: Rng) => ck.randomUniform([n], { seed: rng }),
      ]) {
        const rng = new SamplingRng(1);
        const base = process.memoryUsage().arrayBuffers;
        const t = make(rng);
        const growth = rng.peak - base;
        t.dispose();
        // Generous margin for garbage not yet collected; a whole float64 copy would be 2x zeros.
        expect(rng.peak, 'the sampler ran').toBeGreaterThan(0);
        expect(growth / zerosBytes, `peak growth ${growth} bytes vs zeros ${zerosBytes}`).toBeLessThan(1.5);
      }
    });
  });
});
