/**
 * A raw DEFLATE decoder (RFC 1951), synchronous and dependency-free: the inlined WASM
 * module ships deflated (scripts/embed-wasm.mjs), since base64 of the raw module packed
 * into the npm tarball 14 kB worse than base64 of the deflated one. DecompressionStream
 * would do, but it is asynchronous, and the module's bytes are needed synchronously
 * (`WebAssembly.validate` picks the build).
 *
 * Blocks: stored (0), fixed Huffman codes (1) and dynamic ones (2). Codes are canonical:
 * a table of how many codes have each length (counts) and the symbols in code order
 * (symbols) decode one bit at a time (RFC 1951 3.2.2), which for a 100 kB module takes
 * about a millisecond.
 */

interface Huffman {
  counts: Uint16Array; // counts[len]: codes of that length (len 0..15)
  symbols: Uint16Array; // symbols ordered by code
}

function huffman(lengths: ArrayLike<number>, n: number): Huffman {
  const counts = new Uint16Array(16);
  for (let i = 0; i < n; i++) counts[lengths[i]]++;
  counts[0] = 0;
  const offs = new Uint16Array(16);
  for (let len = 1; len < 16; len++) offs[len] = offs[len - 1] + counts[len - 1];
  const symbols = new Uint16Array(n);
  for (let i = 0; i < n; i++) if (lengths[i] !== 0) symbols[offs[lengths[i]]++] = i;
  return { counts, symbols };
}

// Base lengths and extra bits of length codes 257..285 and distance codes 0..29.
const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** The order in which a dynamic block lists the code lengths of the code-length alphabet. */
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/**
 * Decompress raw DEFLATE data into exactly `size` bytes. Throws on malformed input (a bad
 * code, a distance before the start, a wrong length), never returns a short result.
 */
export function inflateRaw(src: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let pos = 0; // next byte of src
  let bitBuf = 0, bitCnt = 0;
  let o = 0; // next byte of out
  const fail = (why: string): never => {
    throw new Error(`convkit wasm: the inlined module does not inflate (${why}); the package is damaged, reinstall it`);
  };
  const bits = (n: number): number => {
    while (bitCnt < n) {
      if (pos >= src.length) fail('unexpected end of data');
      bitBuf |= src[pos++] << bitCnt;
      bitCnt += 8;
    }
    const v = bitBuf & ((1 << n) - 1);
    bitBuf >>>= n;
    bitCnt -= n;
    return v;
  };
  const decode = (h: Huffman): number => {
    let code = 0, first = 0, index = 0;
    for (let len = 1; len < 16; len++) {
      code |= bits(1);
      const count = h.counts[len];
      if (code - first < count) return h.symbols[index + code - first];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    return fail('invalid Huffman code');
  };
  const fixedLit = new Uint8Array(288);
  fixedLit.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
  const FIXED = { lit: huffman(fixedLit, 288), dist: huffman(new Uint8Array(30).fill(5), 30) };

  let last = 0;
  while (!last) {
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      bitBuf = 0;
      bitCnt = 0; // stored: skip to the byte boundary
      if (pos + 4 > src.length) fail('unexpected end of data');
      const len = src[pos] | (src[pos + 1] << 8), nlen = src[pos + 2] | (src[pos + 3] << 8);
      if ((len ^ 0xffff) !== nlen) fail('stored block length mismatch');
      pos += 4;
      if (pos + len > src.length || o + len > size) fail('stored block overruns');
      out.set(src.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let lit: Huffman, dist: Huffman;
    if (type === 1) ({ lit, dist } = FIXED);
    else if (type === 2) {
      const nlen = bits(5) + 257, ndist = bits(5) + 1, ncode = bits(4) + 4;
      const cl = new Uint8Array(19);
      for (let i = 0; i < ncode; i++) cl[CL_ORDER[i]] = bits(3);
      const clh = huffman(cl, 19);
      const lengths = new Uint8Array(nlen + ndist);
      for (let i = 0; i < nlen + ndist; ) {
        const sym = decode(clh);
        if (sym < 16) lengths[i++] = sym;
        else {
          const [rep, value] = sym === 16 ? [3 + bits(2), i > 0 ? lengths[i - 1] : fail('repeat with no previous length')] : sym === 17 ? [3 + bits(3), 0] : [11 + bits(7), 0];
          if (i + rep > nlen + ndist) fail('code lengths overrun');
          lengths.fill(value, i, i + rep);
          i += rep;
        }
      }
      lit = huffman(lengths.subarray(0, nlen), nlen);
      dist = huffman(lengths.subarray(nlen), ndist);
    } else return fail('invalid block type 3');
    for (;;) {
      const sym = decode(lit);
      if (sym < 256) {
        if (o >= size) fail('output longer than expected');
        out[o++] = sym;
      } else if (sym === 256) break;
      else {
        const li = sym - 257;
        if (li >= 29) fail('invalid length code');
        const len = LEN_BASE[li] + bits(LEN_EXTRA[li]);
        const di = decode(dist);
        if (di >= 30) fail('invalid distance code');
        const d = DIST_BASE[di] + bits(DIST_EXTRA[di]);
        if (d > o) fail('distance before the start');
        if (o + len > size) fail('output longer than expected');
        for (let k = 0; k < len; k++, o++) out[o] = out[o - d];
      }
    }
  }
  if (o !== size) fail(`${o} bytes where ${size} were expected`);
  return out;
}
