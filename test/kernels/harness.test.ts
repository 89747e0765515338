/**
 * The conformance suite covers every kernel (completeness), and its harness catches what
 * it is meant to catch: a value, shape or dtype difference, NaN/Inf classes, and a
 * fallback to ts on a backend that registers the kernel.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { ALL_CASES, EXCLUDED } from './cases/index.js';
import { backendsUnderTest, checkSpec, compareValues, expectKernelMatches, sizeContext } from './harness.js';

describe('conformance tables', () => {
  it('cover every kernel the ts backend registers (forward and gradient)', () => {
    const covered = new Map<string, string>();
    for (const [family, table] of Object.entries(ALL_CASES)) {
      for (const name of Object.keys(table)) {
        expect(covered.get(name), `${name} is in two tables`).toBeUndefined();
        covered.set(name, family);
      }
    }
    const registered = ck.listKernels('ts');
    const missing = registered.filter((k) => !covered.has(k) && !(k in EXCLUDED));
    expect(missing, 'kernels without a conformance table entry').toEqual([]);
    // entries for kernels that no longer exist (fused kernels replaced by composites) are skipped by the suites
    const gone = [...covered.keys()].filter((k) => !registered.includes(k));
    if (gone.length) console.warn(`conformance: table entries without a ts kernel (skipped): ${gone.join(', ')}`);
    for (const k of Object.keys(EXCLUDED)) expect(registered, `excluded kernel ${k} no longer exists`).toContain(k);
  });
});

describe('conformance harness', () => {
  it('compares values with tol * sqrt(K) * max(1, |expected|), NaN and infinities by class', () => {
    expect(compareValues([1, 2], [1, 2], 0, 1, true)).toBeNull();
    expect(compareValues([Math.fround(0.1)], [0.1], 0, 1, true)).toBeNull(); // the expected value is rounded to float32 first
    expect(compareValues([1.001], [1], 1e-3, 1, true)).toBeNull();
    expect(compareValues([1.003], [1], 1e-3, 4, true)).toMatch(/index 0/);
    expect(compareValues([1.0019], [1], 1e-3, 4, true)).toBeNull();
    expect(compareValues([200.1], [200], 1e-3, 1, false)).toBeNull();
    expect(compareValues([NaN, Infinity], [NaN, Infinity], 0, 1, true)).toBeNull();
    expect(compareValues([NaN], [1], 1, 1, true)).toMatch(/got NaN/);
    expect(compareValues([Infinity], [-Infinity], 1, 1, true)).toMatch(/index 0/);
    expect(compareValues([Infinity], [1e39], 0, 1, true)).toBeNull(); // 1e39 in float64 is Infinity in float32
    expect(compareValues([1, 2], [1], 0, 1, true)).toMatch(/length/);
  });
  it('fails when a backend that registers the kernel fell back to ts (here: an int32 output on wasm)', async () => {
    const wasm = backendsUnderTest().find((b) => b.id === 'wasm')!;
    expect(ck.listKernels(wasm.backend)).toContain('Fill');
    const c = { inputs: [], attrs: { shape: [2], dtype: 'int32', value: 3 } };
    await expect(expectKernelMatches(wasm.backend, 'Fill', c)).rejects.toThrow(/fell back to ts/);
  });
  it('fails on a value difference, with the case in the message', async () => {
    // a negative tolerance makes every finite value a mismatch
    const c = { inputs: [{ values: [0.7, -1.2], shape: [2] }] };
    await expectKernelMatches('ts', 'Floor', c);
    await expect(expectKernelMatches('ts', 'Exp', c, { tol: -1 })).rejects.toThrow(/Exp inputs float\[2\]/);
  });
  it('draws sizes around the tiles a backend reports (tileSizes()), large blocks only where cost allows', async () => {
    const wasm = backendsUnderTest().find((b) => b.id === 'wasm')!;
    const be = ck.withBackend(wasm.backend, () => ck.backend()) as ck.Backend & { tileSizes?: () => Record<string, number> };
    const own = Object.getOwnPropertyDescriptor(be, 'tileSizes');
    be.tileSizes = () => ({ gemmMR: 6, gemmNR: 8, gemmKC: 256, lanes: 4 });
    try {
      const ctx = sizeContext(wasm);
      expect(ctx.sizes).toEqual(expect.arrayContaining([3, 4, 5, 6, 7, 8, 9, 15, 16, 17]));
      expect(ctx.blocks).toEqual([255, 256, 257]);
      // MatMul and Sum reach the blocks and still pass
      expect(await checkSpec(wasm, 'MatMul', ALL_CASES.matmul.MatMul, ctx, 8)).toBe(8);
      expect(await checkSpec(wasm, 'Sum', ALL_CASES.reduce.Sum, ctx, 8)).toBe(8);
    } finally {
      if (own) Object.defineProperty(be, 'tileSizes', own);
      else delete be.tileSizes;
    }
  });
});
