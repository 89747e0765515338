/**
 * Rows whose log-softmax loses digits, or all of log(sum), when computed as
 * x - (max + log(sum)) (issue 13): max + log(sum) rounds log(sum) to the ulp of max.
 * ONNX's test_logsoftmax_large_number row [10000..10003] gave -1.4404297 for -1.4401897
 * in float32 (ulp 2^-10 at 1e4); logits of 1e7 gave [-1, -1, -2] for
 * [-0.862, -0.862, -1.862] (ulp 1); [3e38, 3e38] in float32 and [1e17, 1e17] in float64
 * gave 0 for -0.693 (log 2 is below half an ulp of either), on ts too. The right way is
 * (x - max) - log(sum), as the kernels now compute.
 *
 * Expected values, by hand in float64: each row minus its max is exact (0, -1, -2, -3),
 * so logSoftmax_k = (x_k - max) - log(sum_j e^(x_j - max)) evaluated on those exact
 * differences is correct to float64 rounding; PyTorch agrees (the same rows are in
 * test/ops/vectors/nn-torch.json, from scripts/gen-nn-vectors.py).
 *
 * runLargeLogits computes, on one backend and dtype, logSoftmax (along the last axis and,
 * transposed and doubled, along axis 0 of a [K, 2] tensor), softmax, the log-softmax
 * gradient, and the softmax cross-entropy loss with its logits gradient (class-index
 * labels) and labels gradient (probability labels: -logSoftmax). Reads are async, so
 * webgpu can run it too.
 */
import * as ck from '../../src/index.js';
import type { DType, Tensor } from '../../src/index.js';

export interface LargeRow {
  name: string;
  x: number[];
  /** float64 logSoftmax of x. */
  logSoftmax: number[];
}

const LSE_0123 = Math.log(1 + Math.exp(-1) + Math.exp(-2) + Math.exp(-3)); // 0.44018969856119533
const LSE_001 = Math.log(2 + Math.exp(-1)); // 0.8619948040582511

export const LARGE_ROWS: LargeRow[] = [
  { name: 'ONNX test_logsoftmax_large_number [10000..10003]', x: [10000, 10001, 10002, 10003], logSoftmax: [-3, -2, -1, 0].map((d) => d - LSE_0123) },
  { name: 'logits [1e7, 1e7, 1e7 - 1]', x: [1e7, 1e7, 1e7 - 1], logSoftmax: [0, 0, -1].map((d) => d - LSE_001) },
  { name: 'logits [3e38, 3e38]', x: [3e38, 3e38], logSoftmax: [-Math.LN2, -Math.LN2] },
  { name: 'logits [1e17, 1e17]', x: [1e17, 1e17], logSoftmax: [-Math.LN2, -Math.LN2] },
];

export interface Check {
  what: string;
  got: number[];
  want: number[];
}

/** Every check of every row on `backend` in `dtype` (float32 rounds x first: all these rows are exact or stay equal). */
export async function runLargeLogits(backend: string, dtype: DType): Promise<Check[]> {
  const pending: { what: string; t: Tensor; want: number[] }[] = [];
  ck.withBackend(backend, () => {
    for (const row of LARGE_ROWS) {
      const K = row.x.length;
      const want = row.logSoftmax;
      const p = want.map(Math.exp);
      const at = (what: string, t: Tensor, w: number[]) => pending.push({ what: `${row.name}: ${what}`, t: ck.keep(t), want: w });
      ck.tidy(() => {
        const x = ck.tensor(row.x, [1, K], dtype);
        at('logSoftmax', ck.logSoftmax(x), want);
        at('softmax', ck.softmax(x), p);
        // [K, 2] along axis 0: the strided layout (inner = 2)
        const xt = ck.tensor(row.x.flatMap((v) => [v, v]), [K, 2], dtype);
        at('logSoftmax along axis 0', ck.logSoftmax(xt, 0), want.flatMap((v) => [v, v]));
        // d/dx sum(dy * logSoftmax(x)) = dy - softmax(x) sum(dy), for dy = [1, 0, .., 0, 0.5]
        const dyv = row.x.map((_, k) => (k === 0 ? 1 : k === K - 1 ? 0.5 : 0));
        const dsum = dyv.reduce((a, b) => a + b, 0);
        const dy = ck.tensor(dyv, [1, K], dtype);
        const [gx] = ck.grad((v: Tensor) => ck.sum(ck.mul(ck.logSoftmax(v), dy)))(x);
        at('logSoftmax gradient', gx, dyv.map((d, k) => d - p[k] * dsum));
        // cross-entropy with the last class as label: loss = -logSoftmax[K-1], d/dz = softmax - onehot
        const label = ck.tensor([K - 1], [1], 'int32');
        const { value, grads } = ck.valueAndGrad((z: Tensor) => ck.softmaxCrossEntropy(z, label, { reduction: 'sum' }))(x);
        at('softmaxCrossEntropy loss', value, [-want[K - 1]]);
        at('softmaxCrossEntropy gradient', grads[0], p.map((q, k) => q - (k === K - 1 ? 1 : 0)));
        // probability labels: d loss / d labels = -logSoftmax(z) (the labels' gradient path)
        const probs = ck.tensor(row.x.map(() => 1 / K), [1, K], dtype);
        const { value: softLoss, grads: lg } = ck.valueAndGrad((t: Tensor) => ck.softmaxCrossEntropy(x, t, { reduction: 'sum' }))(probs);
        at('softmaxCrossEntropy loss, probability labels', softLoss, [-want.reduce((a, b) => a + b, 0) / K]);
        at('softmaxCrossEntropy labels gradient', lg[0], want.map((v) => -v));
      });
    }
  });
  const out: Check[] = [];
  for (const { what, t, want } of pending) {
    out.push({ what, got: Array.from(await t.data()), want });
    t.dispose();
  }
  return out;
}

/** The checks that miss: |got - want| > tol * max(1, |want|) (float32: the values are O(1), a few ulps of log and exp). */
export function misses(checks: Check[], tol: number): string[] {
  const bad: string[] = [];
  for (const c of checks) {
    if (c.got.length !== c.want.length) bad.push(`${c.what}: ${c.got.length} values, expected ${c.want.length}`);
    else if (c.got.some((g, i) => !(Math.abs(g - c.want[i]) <= tol * Math.max(1, Math.abs(c.want[i]))))) {
      bad.push(`${c.what}: got [${c.got.join(', ')}], expected [${c.want.join(', ')}]`);
    }
  }
  return bad;
}
