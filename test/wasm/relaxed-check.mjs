// Run by test/wasm/relaxed.test.ts in a child `node --experimental-wasm-relaxed-simd`
// (Node 20 runs relaxed SIMD only behind that flag, and vitest's workers do not have
// it). Loads both committed builds, checks that the relaxed one validates, then
// compares the relaxed build's GEMM with its reference GEMM and its convolutions
// with the plain build's (which the main suite checks against the ts oracle).
// Prints one JSON line: { ok, checks, failures[] }.
import { readFileSync } from 'node:fs';
import { rand } from '../util/rand.mjs';

const root = new URL('../../', import.meta.url);
// `base`: first address to allocate from. The relaxed build runs above 2^31 (pointers
// are unsigned byte offsets: JS numbers here, indexed with / 4, never with >> 2), the plain
// one low, so the comparisons below also check the relaxed kernels' addressing there.
function load(variant, base = 0) {
  const bytes = readFileSync(`${process.env.CONVKIT_WASM_DIR}/${variant}.wasm`);
  if (!WebAssembly.validate(bytes)) throw new Error(`${variant} build does not validate here`);
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
  const e = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, abort() { throw new Error('abort'); } } }).exports;
  let top = Math.max(base, Math.ceil((e.heap_base() >>> 0) / 64) * 64);
  const alloc = (n) => {
    const p = top;
    top += Math.ceil((n * 4) / 64) * 64;
    const need = top - memory.buffer.byteLength;
    if (need > 0) memory.grow(Math.ceil(need / 65536));
    return p;
  };
  const ws = alloc(e.gemm_f32_workspace_bytes() / 4);
  const f32 = () => new Float32Array(memory.buffer);
  return { e, alloc, ws, f32, memory };
}

const tol = (K) => ({ atol: 1e-5 * Math.sqrt(Math.max(1, K)), rtol: 1e-4 * Math.sqrt(Math.max(1, K)) });
function mismatch(a, b, { atol, rtol }) {
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]))) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return null;
}

const out = { ok: true, checks: 0, failures: [], mr: 0, nr: 0 };
const R = load('relaxed', 2 ** 31 + 4096), P = load('simd');
out.mr = R.e.gemm_f32_mr();
out.nr = R.e.gemm_f32_nr();
const sizes = [1, 5, 6, 7, 8, 9, 12, 13, 17, 239, 241, 257];
let seed = 0;
for (const M of sizes) for (const N of [1, 7, 8, 9, 17]) for (const K of [1, 6, 255, 257]) for (const [ta, tb] of [[0, 0], [1, 1], [0, 1], [1, 0]]) {
  seed++;
  if ((seed & 3) !== 0 && M > 20) continue; // keep it quick: a quarter of the big ones
  const a = R.alloc(M * K), b = R.alloc(K * N), c = R.alloc(M * N), r = R.alloc(M * N);
  R.f32().set(rand(M * K, seed), a / 4);
  R.f32().set(rand(K * N, seed + 1), b / 4);
  const acc = seed & 1;
  const c0 = rand(M * N, seed + 2);
  R.f32().set(c0, c / 4); R.f32().set(c0, r / 4);
  R.e.gemm_f32(M, N, K, a, ta ? M : K, ta, b, tb ? K : N, tb, c, N, acc, R.ws);
  R.e.gemm_f32_ref(M, N, K, a, ta ? M : K, ta, b, tb ? K : N, tb, r, N, acc);
  const f = R.f32();
  const m = mismatch(f.slice(c / 4, (c / 4) + M * N), f.slice(r / 4, (r / 4) + M * N), tol(K));
  out.checks++;
  if (m) out.failures.push(`gemm M=${M} N=${N} K=${K} ta=${ta} tb=${tb}: ${m}`);
}

// conv: relaxed vs plain on the same geometry, forward and both gradients
const geoms = [
  // N D H W C  OD OH OW F  KD KH KW sD sH sW dD dH dW pD pH pW groups
  [2, 1, 9, 8, 6, 1, 9, 8, 10, 1, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1],
  [1, 1, 17, 16, 32, 1, 8, 8, 13, 1, 3, 3, 1, 2, 2, 1, 1, 1, 0, 1, 1, 1],
  [1, 1, 7, 7, 12, 1, 7, 7, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 3],
  [2, 3, 5, 5, 4, 2, 3, 3, 6, 2, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 2],
  // direct filter gradient: dy read in place (F a multiple of 8), runs of 5 and 9 taps
  [3, 1, 12, 12, 1, 1, 8, 8, 16, 1, 5, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1],
  [2, 1, 7, 9, 3, 1, 4, 5, 8, 1, 3, 3, 1, 2, 2, 1, 1, 1, 0, 1, 1, 1],
  // Winograd (3x3, unit strides, channels and filters by 4), all three kernels; odd output width
  [2, 1, 9, 7, 12, 1, 9, 7, 20, 1, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1],
];
// The path codes (CONV_PATH of src/kernels/wasm_abi.ts), read from the generated assembly/abi.ts.
const CONV_PATH = Object.fromEntries([...readFileSync(new URL('assembly/abi.ts', root), 'utf8').matchAll(/CONV_PATH_(\w+): i32 = (\d+);/g)].map((m) => [m[1], +m[2]]));
if (Object.keys(CONV_PATH).length < 5) throw new Error(`conv path codes not found in assembly/abi.ts: ${JSON.stringify(CONV_PATH)}`);
// each geometry on every path of each kernel that applies to it (the module says which)
const kinds = [
  { name: 'forward', applies: 'conv_forward_applies_f32' },
  { name: 'input', applies: 'conv_backprop_input_applies_f32' },
  { name: 'filter', applies: 'conv_backprop_filter_applies_f32' },
];
for (const g of geoms) {
  const [N, D, H, W, C, OD, OH, OW, F, KD, KH, KW, , , , , , , , , , groups] = g;
  const xs = N * D * H * W * C, ws = KD * KH * KW * (C / groups) * F, ys = N * OD * OH * OW * F;
  const K = [KD * KH * KW * (C / groups), KD * KH * KW * (F / groups), N * OD * OH * OW];
  kinds.forEach((kind, i) => {
    for (const [pathName, path] of Object.entries(CONV_PATH)) {
      const res = [R, P].map((m) => {
        const geom = m.alloc(22);
        new Int32Array(m.memory.buffer, geom, 22).set(g);
        if (!m.e[kind.applies](path, geom, m.ws)) return null;
        const x = m.alloc(xs), w = m.alloc(ws), dy = m.alloc(ys);
        m.f32().set(rand(xs, 1), x / 4); m.f32().set(rand(ws, 2), w / 4); m.f32().set(rand(ys, 3), dy / 4);
        let o, n;
        if (kind.name === 'forward') {
          o = m.alloc(n = ys);
          m.e.conv_forward_f32(x, w, o, geom, m.ws, path, 0, 1);
        } else if (kind.name === 'input') {
          o = m.alloc(n = xs);
          const sb = m.e.conv_backprop_input_scratch_bytes(geom, m.ws, path) >>> 0; // a usize: unsigned
          m.e.conv_backprop_input_f32(dy, w, o, geom, m.ws, sb ? m.alloc(sb / 4) : 0, path, 0, 1);
        } else {
          o = m.alloc(n = ws);
          m.e.conv_backprop_filter_f32(x, dy, o, geom, m.ws, path, 0, 0, 1);
        }
        return m.f32().slice(o / 4, (o / 4) + n);
      });
      if ((res[0] === null) !== (res[1] === null)) out.failures.push(`conv ${kind.name} ${JSON.stringify(g)} path ${pathName}: applies differs between the builds`);
      if (res[0] === null || res[1] === null) continue;
      out.checks++;
      const m = mismatch(res[0], res[1], tol(K[i]));
      if (m) out.failures.push(`conv ${kind.name} ${JSON.stringify(g)} path ${pathName}: ${m}`);
    }
  });
}
out.ok = out.failures.length === 0;
console.log(JSON.stringify(out));
