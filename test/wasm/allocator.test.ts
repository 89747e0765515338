/**
 * The host-side allocator of WASM linear memory (src/backends/wasm/allocator.ts):
 * blocks never overlap and stay 64-byte aligned under any sequence of allocations and
 * frees (property), freeing everything returns the bump pointer to its start, and
 * large blocks are staggered so that they do not all share an address modulo 4096.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Allocator, sizeClass } from '../../src/backends/wasm/allocator.js';

const BASE = 1000; // deliberately unaligned: the allocator rounds it up

function fresh() {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4096 });
  return { memory, alloc: new Allocator(memory, BASE) };
}

describe('wasm allocator', () => {
  it('size classes: at least the request, 64-byte multiples, at most ~19% slack above 1 KiB, at most 64 KiB from 256 KiB', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1, max: 1 << 26 }), fc.integer({ min: 1, max: 2 ** 32 - 64 })), (bytes) => {
        const c = sizeClass(bytes);
        expect(c).toBeGreaterThanOrEqual(bytes);
        expect(c % 64).toBe(0);
        if (bytes > 1024) expect(c / bytes).toBeLessThan(1.26);
        if (bytes > 1 << 18) expect(c - bytes).toBeLessThan(65536);
      }),
    );
  });

  it('live blocks are aligned, disjoint and inside memory under random alloc/free sequences (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 1, max: 300_000 }).map((n) => ({ alloc: n })), fc.nat(50).map((i) => ({ free: i }))), { maxLength: 80 }),
        (ops) => {
          const { memory, alloc } = fresh();
          const live: { ptr: number; bytes: number }[] = [];
          for (const op of ops) {
            if ('alloc' in op) live.push({ ptr: alloc.alloc(op.alloc), bytes: op.alloc });
            else if (live.length) alloc.release(live.splice(op.free % live.length, 1)[0].ptr);
            const sorted = [...live].sort((a, b) => a.ptr - b.ptr);
            for (let i = 0; i < sorted.length; i++) {
              expect(sorted[i].ptr % 64).toBe(0);
              expect(sorted[i].ptr).toBeGreaterThanOrEqual(BASE);
              expect(sorted[i].ptr + sorted[i].bytes).toBeLessThanOrEqual(memory.buffer.byteLength);
              if (i > 0) expect(sorted[i - 1].ptr + sorted[i - 1].bytes, 'blocks overlap').toBeLessThanOrEqual(sorted[i].ptr);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('freeing in reverse order returns the bump pointer to the start; a second round reuses the same memory', () => {
    const { alloc } = fresh();
    const start = alloc.highWater;
    const sizes = [100, 20_000, 70_000, 5_000, 1 << 20, 9_000];
    const ptrs = sizes.map((n) => alloc.alloc(n));
    const high = alloc.highWater;
    for (const p of [...ptrs].reverse()) alloc.release(p);
    expect(alloc.highWater).toBe(start);
    expect(alloc.inUse).toBe(0);
    const again = sizes.map((n) => alloc.alloc(n));
    expect(alloc.highWater).toBeLessThanOrEqual(high + 64 * 64 * sizes.length);
    for (const p of again) alloc.release(p);
  });

  it('large blocks are staggered: consecutive ones start at different offsets modulo 4096', () => {
    const { alloc } = fresh();
    const ptrs = Array.from({ length: 16 }, () => alloc.alloc(1 << 20));
    const residues = new Set(ptrs.map((p) => p % 4096));
    expect(residues.size).toBe(16);
    for (let i = 1; i < ptrs.length; i++) {
      const gap = (((ptrs[i] - ptrs[i - 1]) % 4096) + 4096) % 4096;
      expect(Math.min(gap, 4096 - gap), 'neighbours at least 27 cache lines apart modulo 4096').toBeGreaterThanOrEqual(27 * 64);
    }
  });

  it('errors name the problem: unknown block, out of memory', () => {
    const { alloc } = fresh();
    expect(() => alloc.release(12345)).toThrow(/free of unknown block 12345/);
    const small = new Allocator(new WebAssembly.Memory({ initial: 1, maximum: 2 }), 0, 2 * 65536);
    expect(() => small.alloc(1 << 20)).toThrow(/out of memory: 1048576 bytes \(1\.0 MiB\) requested, but only 131008 bytes are left/);
    // past 4 GiB: refused before any grow, whatever the memory
    const { memory, alloc: big } = fresh();
    expect(() => big.alloc(2 ** 32)).toThrow(/4294967296 bytes \(4\.00 GiB\) requested/);
    expect(memory.buffer.byteLength).toBe(65536);
  });

  it('a failed request changes nothing; later requests that fit succeed (property, small memory)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 1, max: 1_500_000 }).map((n) => ({ alloc: n })), fc.nat(50).map((i) => ({ free: i }))), { maxLength: 60 }),
        (ops) => {
          const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
          const alloc = new Allocator(memory, BASE, 64 * 65536);
          const live: { ptr: number; bytes: number }[] = [];
          for (const op of ops) {
            if ('alloc' in op) {
              const before = [alloc.highWater, alloc.inUse, alloc.liveBlocks, memory.buffer.byteLength];
              try {
                live.push({ ptr: alloc.alloc(op.alloc), bytes: op.alloc });
              } catch (e) {
                expect(String(e)).toMatch(new RegExp(`out of memory: ${op.alloc} bytes`));
                expect([alloc.highWater, alloc.inUse, alloc.liveBlocks, memory.buffer.byteLength]).toEqual(before);
              }
            } else if (live.length) alloc.release(live.splice(op.free % live.length, 1)[0].ptr);
            const sorted = [...live].sort((a, b) => a.ptr - b.ptr);
            for (let i = 0; i < sorted.length; i++) {
              expect(sorted[i].ptr + sorted[i].bytes).toBeLessThanOrEqual(Math.min(memory.buffer.byteLength, 64 * 65536 - 64));
              if (i > 0) expect(sorted[i - 1].ptr + sorted[i - 1].bytes, 'blocks overlap').toBeLessThanOrEqual(sorted[i].ptr);
            }
            expect(alloc.liveBlocks).toBe(live.length);
          }
          for (const b of live) alloc.release(b.ptr);
          expect(alloc.inUse).toBe(0);
          // every block freed, in any order: the free blocks that end at the top go back to the bump region
          expect(alloc.highWater).toBe(Math.ceil(BASE / 64) * 64);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('free blocks below the top rejoin the bump region when the top block is freed; a larger free block serves a request that does not fit above the top', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
    const alloc = new Allocator(memory, 0, 64 * 65536);
    const a = alloc.alloc(1000), b = alloc.alloc(2000), c = alloc.alloc(3000);
    const afterA = a + sizeClass(1000);
    alloc.release(b); // not at the top: to its free list
    alloc.release(c); // the top: the top drops past c, then past b
    expect(alloc.highWater).toBe(afterA);
    // fill the memory: a 3 MiB block, freed below a small live one, then a 2.5 MiB request
    const big = alloc.alloc(3 << 20);
    const small = alloc.alloc(100);
    alloc.release(big);
    const p = alloc.alloc(2.5 * 2 ** 20); // 2.5 MiB do not fit above `small` (4 MiB memory): big's block serves
    expect(p).toBe(big);
    expect(alloc.inUse).toBe(sizeClass(1000) + sizeClass(3 << 20) + sizeClass(100));
    alloc.release(p);
    alloc.release(small);
    alloc.release(a);
    expect(alloc.highWater).toBe(0);
  });
});
