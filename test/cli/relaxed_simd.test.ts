/**
 * The CLI runs the wasm backend's relaxed-SIMD build wherever the engine can run it: under
 * Node 20 it sets V8's --experimental-wasm-relaxed-simd before the first wasm module is
 * validated (chooseBackend), so `npm start` and `convkit train` need no flag. This file
 * runs in its own worker (vitest forks), which starts without the flag.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { chooseBackend } from '../../src/cli/backend_choice.js';
import { rand } from '../util/rand.mjs';

describe('CLI backend choice: relaxed SIMD', () => {
  it('chooses the relaxed build for wasm, says so, and it computes what the oracle does', async () => {
    const { backend, label } = await chooseBackend('wasm');
    expect(backend).toBe('wasm');
    if (process.env.CONVKIT_WASM === 'simd') {
      expect(label).toMatch(/^wasm \(plain SIMD build, forced by CONVKIT_WASM=simd, \d+ threads?\)$/);
      return;
    }
    expect(label).toMatch(/^wasm \(relaxed SIMD build, \d+ threads?\)$/);
    expect((ck.backend() as unknown as { variant: string }).variant).toBe('relaxed');
    const x = Array.from(rand(2 * 9 * 9 * 5, 1)), w = Array.from(rand(3 * 3 * 5 * 7, 2));
    const got = ck.conv2d(ck.tensor(x, [2, 9, 9, 5], 'float32'), ck.tensor(w, [3, 3, 5, 7], 'float32'), 1, 'same').toArray() as number[];
    const want = ck.withBackend('ts', () =>
      ck.conv2d(ck.tensor(x, [2, 9, 9, 5], 'float64'), ck.tensor(w, [3, 3, 5, 7], 'float64'), 1, 'same').toArray(),
    ) as number[];
    const flat = (a: unknown): number[] => (Array.isArray(a) ? a.flatMap(flat) : [a as number]);
    const g = flat(got), e = flat(want);
    expect(g.length).toBe(e.length);
    for (let i = 0; i < g.length; i++) expect(Math.abs(g[i] - e[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(e[i])));
  });
});
