/**
 * The DEFLATE decoder that unpacks the inlined WASM module (src/backends/wasm/inflate.ts),
 * against node:zlib's encoder: stored, fixed and dynamic blocks, long matches and runs,
 * every compression level; damaged input is an error, never short or wrong bytes.
 */
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inflateRaw } from '../../src/backends/wasm/inflate.js';
import { MODULE_SIMD_BYTES, MODULE_SIMD_DEFLATE_BASE64 } from '../../src/backends/wasm/generated/module_simd.js';

const roundTrip = (data: Uint8Array, level: number) => {
  const z = deflateRawSync(data, { level });
  expect(Buffer.compare(Buffer.from(inflateRaw(new Uint8Array(z), data.length)), Buffer.from(data))).toBe(0);
};

describe('inflateRaw', () => {
  it('decodes what zlib encodes: random bytes, repetitive text, runs, at levels 0 (stored), 1, 6 and 9', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.constantFrom(0, 1, 6, 9), (data, level) => roundTrip(data, level)),
      { numRuns: 60 },
    );
    const text = new TextEncoder().encode('convolution is cross-correlation; '.repeat(500));
    const runs = new Uint8Array(70000).map((_, i) => (i >> 9) & 3); // long runs: distances up to 32 kB
    for (const level of [0, 1, 6, 9]) {
      roundTrip(text, level);
      roundTrip(runs, level);
      roundTrip(new Uint8Array(0), level);
    }
  });
  it('unpacks the inlined module to a valid WASM binary of the recorded size', () => {
    const bytes = inflateRaw(Uint8Array.from(atob(MODULE_SIMD_DEFLATE_BASE64), (c) => c.charCodeAt(0)), MODULE_SIMD_BYTES);
    expect(bytes.length).toBe(MODULE_SIMD_BYTES);
    expect(WebAssembly.validate(bytes)).toBe(true);
  });
  it('damaged input throws instead of returning short or wrong bytes', () => {
    const data = new TextEncoder().encode('abcabcabc hello hello hello '.repeat(50));
    const z = new Uint8Array(deflateRawSync(data, { level: 9 }));
    expect(() => inflateRaw(z.subarray(0, z.length >> 1), data.length)).toThrow(/does not inflate \(unexpected end of data\)/);
    expect(() => inflateRaw(z, data.length + 1)).toThrow(/does not inflate/);
    expect(() => inflateRaw(z, data.length - 1)).toThrow(/does not inflate \(output longer than expected\)/);
    expect(() => inflateRaw(new Uint8Array([0xff, 0xff, 0xff]), 10)).toThrow(/does not inflate/);
  });
});
