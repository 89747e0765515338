/**
 * The relaxed-SIMD build ships as a binary patch against the plain SIMD build: the two
 * modules differ only in the few functions that use relaxed instructions (about 2 kB of
 * the 100 kB), so the package carries one module and a patch instead of two modules.
 * scripts/embed-wasm.mjs writes the patch (`encodeWasmPatch` there); `applyWasmPatch`
 * rebuilds the exact bytes at load time and checks them against the recorded length and
 * FNV-1a hash, so a patch applied to the wrong base is an error, never a broken module.
 *
 * Format (all integers unsigned LEB128 unless noted):
 *   'CKWP'                 magic
 *   length                 of the result
 *   hash                   FNV-1a 32 of the result, 4 bytes little-endian
 *   ops until the end:     h = (n << 1) | kind
 *     kind 1 (copy):       then `from`: copy n bytes of the base starting at `from`
 *     kind 0 (literal):    then n bytes, copied as they are
 */

/** FNV-1a 32-bit hash (shared with scripts/embed-wasm.mjs, which writes it). */
export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/** Rebuild the patched module bytes from `base` and `patch`. */
export function applyWasmPatch(base: Uint8Array, patch: Uint8Array): Uint8Array<ArrayBuffer> {
  const fail = (why: string): never => {
    throw new Error(`convkit wasm: the relaxed-SIMD patch does not apply to the plain SIMD module (${why}); rebuild with npm run build:wasm`);
  };
  if (patch.length < 9 || patch[0] !== 0x43 || patch[1] !== 0x4b || patch[2] !== 0x57 || patch[3] !== 0x50) fail('no CKWP header');
  let i = 4;
  const leb = (): number => {
    let v = 0, shift = 0, byte: number;
    do {
      if (i >= patch.length) fail('truncated');
      byte = patch[i++];
      v += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return v;
  };
  const length = leb();
  const hash = (patch[i] | (patch[i + 1] << 8) | (patch[i + 2] << 16) | (patch[i + 3] << 24)) >>> 0;
  i += 4;
  const out = new Uint8Array(length);
  let o = 0;
  while (i < patch.length) {
    const h = leb();
    const n = Math.floor(h / 2);
    if (o + n > length) fail('longer than recorded');
    if (h % 2 === 1) {
      const from = leb();
      if (from + n > base.length) fail(`copy past the base's end (${from} + ${n} > ${base.length})`);
      out.set(base.subarray(from, from + n), o);
    } else {
      if (i + n > patch.length) fail('truncated literal');
      out.set(patch.subarray(i, i + n), o);
      i += n;
    }
    o += n;
  }
  if (o !== length) fail(`${o} bytes rebuilt, ${length} recorded`);
  if (fnv1a32(out) !== hash) fail('hash mismatch');
  return out;
}
