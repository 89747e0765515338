// Run by test/ops/large_logits.test.ts in a child `node --experimental-wasm-relaxed-simd`
// (vitest's workers cannot run the relaxed build on Node 20): the log-softmax, softmax and
// softmax cross-entropy kernels of one committed build (argv[2]: relaxed or simd) on the
// large-logit rows of test/ops/large_logits.ts, straight on the module's exports, with
// float64 expectations computed here the same way (each row minus its max is exact).
// Prints one JSON line: [{ what, got, want }].
import { readFileSync } from 'node:fs';

const variant = process.argv[2] ?? 'relaxed';
const bytes = readFileSync(`${process.env.CONVKIT_WASM_DIR}/${variant}.wasm`);
const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
const e = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, abort() { throw new Error('abort'); } } }).exports;
let top = Math.ceil((e.heap_base() >>> 0) / 64) * 64;
const put = (values) => {
  const p = top;
  top += Math.ceil((values.length * 4 + 16) / 64) * 64;
  if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
  new Float32Array(memory.buffer).set(values, p / 4);
  return p;
};
const get = (p, n) => Array.from(new Float32Array(memory.buffer, p, n));

const LSE_0123 = Math.log(1 + Math.exp(-1) + Math.exp(-2) + Math.exp(-3));
const LSE_001 = Math.log(2 + Math.exp(-1));
const rows = [
  { name: 'ONNX test_logsoftmax_large_number [10000..10003]', x: [10000, 10001, 10002, 10003], ls: [-3, -2, -1, 0].map((d) => d - LSE_0123) },
  { name: 'logits [1e7, 1e7, 1e7 - 1]', x: [1e7, 1e7, 1e7 - 1], ls: [0, 0, -1].map((d) => d - LSE_001) },
  { name: 'logits [3e38, 3e38]', x: [3e38, 3e38], ls: [-Math.LN2, -Math.LN2] },
  { name: 'logits [1e17, 1e17]', x: [1e17, 1e17], ls: [-Math.LN2, -Math.LN2] },
];

const out = [];
for (const { name, x, ls } of rows) {
  const K = x.length;
  const p = ls.map(Math.exp);
  const xp = put(x), y = put(x), s = put(x);
  e.softmax_f32(1, xp, y, 1, K, 1);
  out.push({ what: `${name}: logSoftmax`, got: get(y, K), want: ls });
  e.softmax_f32(0, xp, s, 1, K, 1);
  out.push({ what: `${name}: softmax`, got: get(s, K), want: p });
  const xt = put(x.flatMap((v) => [v, v])), yt = put(x.flatMap((v) => [v, v]));
  e.softmax_f32(1, xt, yt, 1, K, 2);
  out.push({ what: `${name}: logSoftmax along axis 0 of [K, 2]`, got: get(yt, 2 * K), want: ls.flatMap((v) => [v, v]) });
  const dyv = x.map((_, k) => (k === 0 ? 1 : k === K - 1 ? 0.5 : 0));
  const dsum = dyv.reduce((a, b) => a + b, 0);
  const dy = put(dyv), dx = put(x);
  e.softmax_grad_f32(1, dy, y, dx, 1, K, 1);
  out.push({ what: `${name}: logSoftmax gradient`, got: get(dx, K), want: dyv.map((d, k) => d - p[k] * dsum) });
  const t = put(x.map((_, k) => (k === K - 1 ? 1 : 0))), loss = put([0]), g = put([1]), dz = put(x);
  e.softmax_xent_f32(xp, t, loss, 1, K);
  out.push({ what: `${name}: softmaxCrossEntropy loss`, got: get(loss, 1), want: [-ls[K - 1]] });
  e.softmax_xent_grad_f32(g, xp, t, dz, 1, K);
  out.push({ what: `${name}: softmaxCrossEntropy gradient`, got: get(dz, K), want: p.map((q, k) => q - (k === K - 1 ? 1 : 0)) });
}
console.log(JSON.stringify(out));
