/**
 * Graph-mode evaluators of ONNX's recurrent operators RNN, GRU and LSTM (opsets 7 to 22): one or
 * two directions over a sequence, per-batch sequence_lens (steps past an entry's length give 0 and
 * leave its state as it was), initial states, biases, LSTM peepholes, clip, the activations list
 * with its alpha / beta, GRU's linear_before_reset and layout 1 (batch first). They run step by
 * step on the host in float64, as ONNX's reference writes them: recurrent layers in convnets
 * (CRNN text recognisers) are small next to the convolutions.
 *
 * Gate order in W, R and B, as in ONNX: RNN i; GRU z r h; LSTM i o f c.
 */
import { attr, attrInt, attrString } from './proto.js';
import { type GCtx, type GVal, type GraphOp, fmt, floatIn, intsIn, mk, nums, stridesOf } from './graph_values.js';

type Act = (x: number) => number;

/** ONNX's activation functions by name, with their alpha / beta (defaults as ONNX's). */
function activationOf(ctx: GCtx, name: string, alpha?: number, beta?: number): Act {
  const a = (d: number): number => alpha ?? d, b = (d: number): number => beta ?? d;
  switch (name.toLowerCase()) {
    case 'sigmoid': return (x) => 1 / (1 + Math.exp(-x));
    case 'tanh': return Math.tanh;
    case 'relu': return (x) => Math.max(x, 0);
    case 'affine': { const p = a(1), q = b(0); return (x) => p * x + q; }
    case 'leakyrelu': { const p = a(0.01); return (x) => (x >= 0 ? x : p * x); }
    case 'thresholdedrelu': { const p = a(1); return (x) => (x > p ? x : 0); }
    case 'scaledtanh': { const p = a(1), q = b(1); return (x) => p * Math.tanh(q * x); }
    case 'hardsigmoid': { const p = a(0.2), q = b(0.5); return (x) => Math.min(Math.max(p * x + q, 0), 1); }
    case 'elu': { const p = a(1); return (x) => (x >= 0 ? x : p * (Math.exp(x) - 1)); }
    case 'softsign': return (x) => x / (1 + Math.abs(x));
    case 'softplus': return (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
    default: return ctx.fail(`activation '${name}' is not an ONNX recurrent activation`);
  }
}

type Kind = 'RNN' | 'GRU' | 'LSTM';
const GATES: Record<Kind, number> = { RNN: 1, GRU: 3, LSTM: 4 };
const ACTS: Record<Kind, number> = { RNN: 1, GRU: 2, LSTM: 3 };
const DEFAULT_ACTS: Record<Kind, string[]> = { RNN: ['Tanh'], GRU: ['Sigmoid', 'Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'] };

function recurrent(kind: Kind): GraphOp {
  const attrs = ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout'];
  if (kind === 'GRU') attrs.push('linear_before_reset');
  if (kind === 'LSTM') attrs.push('input_forget');
  return {
    attrs,
    check: (n) => {
      const d = attrString(n, 'direction', 'forward');
      if (!['forward', 'reverse', 'bidirectional'].includes(d)) return `direction '${d}' is not forward, reverse or bidirectional`;
      if (kind === 'LSTM' && attrInt(n, 'input_forget', 0)) return 'input_forget 1 (coupled input and forget gates) is not supported';
      return null;
    },
    run: (ctx, ins) => runRecurrent(kind, ctx, ins),
  };
}

function runRecurrent(kind: Kind, ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const n = ctx.node, G = GATES[kind];
  const x = floatIn(ctx, ins[0], 0, 'X'), w = floatIn(ctx, ins[1], 1, 'W'), r = floatIn(ctx, ins[2], 2, 'R');
  const layout = attrInt(n, 'layout', 0), dir = attrString(n, 'direction', 'forward'), D = dir === 'bidirectional' ? 2 : 1;
  const xs = x.t.shape;
  if (xs.length !== 3) ctx.fail(`X has shape ${fmt(xs)}; expected [seq, batch, input] (layout 0) or [batch, seq, input] (layout 1)`);
  const [S, Bt] = layout ? [xs[1], xs[0]] : [xs[0], xs[1]], I = xs[2];
  const Hd = attr(n, 'hidden_size')?.i ?? r.t.shape[2];
  const want = (t: GVal, shape: number[], what: string): void => {
    if (t.t.shape.length !== shape.length || t.t.shape.some((d, i) => d !== shape[i])) ctx.fail(`${what} has shape ${fmt(t.t.shape)}; expected ${fmt(shape)}`);
  };
  want(w, [D, G * Hd, I], 'W');
  want(r, [D, G * Hd, Hd], 'R');
  const bv = ins[3] ? nums(floatIn(ctx, ins[3], 3, 'B')) : null;
  if (ins[3]) want(ins[3], [D, 2 * G * Hd], 'B');
  const lens = ins[4] ? intsIn(ctx, ins[4], 4, 'sequence_lens')! : new Array(Bt).fill(S);
  if (lens.length !== Bt || lens.some((l) => l < 0 || l > S)) ctx.fail(`sequence_lens ${fmt(lens)} must give ${Bt} lengths of at most ${S}`);
  const h0 = ins[5] ? nums(floatIn(ctx, ins[5], 5, 'initial_h')) : null;
  if (ins[5]) want(ins[5], [D, Bt, Hd], 'initial_h');
  const c0 = kind === 'LSTM' && ins[6] ? nums(floatIn(ctx, ins[6], 6, 'initial_c')) : null;
  if (kind === 'LSTM' && ins[6]) want(ins[6], [D, Bt, Hd], 'initial_c');
  const peep = kind === 'LSTM' && ins[7] ? nums(floatIn(ctx, ins[7], 7, 'P')) : null;
  if (kind === 'LSTM' && ins[7]) want(ins[7], [D, 3 * Hd], 'P');
  // Activations: ACTS[kind] per direction, in order; alpha / beta follow the same list.
  const names = attr(n, 'activations')?.strings ?? [...DEFAULT_ACTS[kind], ...(D === 2 ? DEFAULT_ACTS[kind] : [])];
  if (names.length !== ACTS[kind] * D) ctx.fail(`activations lists ${names.length} functions; expected ${ACTS[kind] * D} (${ACTS[kind]} per direction)`);
  const alphas = attr(n, 'activation_alpha')?.floats ?? [], betas = attr(n, 'activation_beta')?.floats ?? [];
  const acts = names.map((nm, i) => activationOf(ctx, nm, alphas[i], betas[i]));
  const clip = attr(n, 'clip')?.f;
  const cl = (v: number): number => (clip === undefined ? v : Math.min(Math.max(v, -clip), clip));
  const lbr = kind === 'GRU' && attrInt(n, 'linear_before_reset', 0) !== 0;
  const X = nums(x), W = nums(w), R = nums(r);
  const xAt = (t: number, b: number, i: number): number => X[(layout ? b * S + t : t * Bt + b) * I + i];
  const Y = new Float64Array(S * D * Bt * Hd), Yh = new Float64Array(D * Bt * Hd), Yc = new Float64Array(D * Bt * Hd);
  for (let d = 0; d < D; d++) {
    const reverse = dir === 'reverse' || d === 1;
    const [f, g, h] = [acts[d * ACTS[kind]], acts[d * ACTS[kind] + 1], acts[d * ACTS[kind] + 2]];
    const wOff = d * G * Hd * I, rOff = d * G * Hd * Hd, bOff = d * 2 * G * Hd;
    const wb = (gate: number, j: number): number => (bv ? bv[bOff + gate * Hd + j] : 0), rb = (gate: number, j: number): number => (bv ? bv[bOff + (G + gate) * Hd + j] : 0);
    for (let b = 0; b < Bt; b++) {
      const H = new Float64Array(Hd), C = new Float64Array(Hd);
      for (let j = 0; j < Hd; j++) { H[j] = h0 ? h0[(d * Bt + b) * Hd + j] : 0; C[j] = c0 ? c0[(d * Bt + b) * Hd + j] : 0; }
      const L = lens[b];
      for (let s = 0; s < L; s++) {
        const t = reverse ? L - 1 - s : s;
        // Per gate: X_t W^T + bias (xw) and H_{t-1} R^T + bias (hr).
        const xw = new Float64Array(G * Hd), hr = new Float64Array(G * Hd);
        for (let q = 0; q < G * Hd; q++) {
          let a = 0, c = 0;
          for (let i = 0; i < I; i++) a += xAt(t, b, i) * W[wOff + q * I + i];
          for (let i = 0; i < Hd; i++) c += H[i] * R[rOff + q * Hd + i];
          xw[q] = a + wb(Math.floor(q / Hd), q % Hd);
          hr[q] = c + rb(Math.floor(q / Hd), q % Hd);
        }
        const next = new Float64Array(Hd);
        if (kind === 'RNN') for (let j = 0; j < Hd; j++) next[j] = f(cl(xw[j] + hr[j]));
        else if (kind === 'GRU') {
          const z = new Float64Array(Hd), rg = new Float64Array(Hd);
          for (let j = 0; j < Hd; j++) { z[j] = f(cl(xw[j] + hr[j])); rg[j] = f(cl(xw[Hd + j] + hr[Hd + j])); }
          for (let j = 0; j < Hd; j++) {
            let pre: number;
            if (lbr) pre = xw[2 * Hd + j] + rg[j] * hr[2 * Hd + j];
            else {
              // The reset gate applied to the previous state before the product with R_h.
              let c = 0;
              for (let i = 0; i < Hd; i++) c += rg[i] * H[i] * R[rOff + (2 * Hd + j) * Hd + i];
              pre = xw[2 * Hd + j] + c + rb(2, j);
            }
            next[j] = (1 - z[j]) * g(cl(pre)) + z[j] * H[j];
          }
        } else {
          for (let j = 0; j < Hd; j++) {
            const pi = peep ? peep[d * 3 * Hd + j] : 0, po = peep ? peep[d * 3 * Hd + Hd + j] : 0, pf = peep ? peep[d * 3 * Hd + 2 * Hd + j] : 0;
            const ig = f(cl(xw[j] + hr[j] + pi * C[j])), fg = f(cl(xw[2 * Hd + j] + hr[2 * Hd + j] + pf * C[j]));
            const cc = g(cl(xw[3 * Hd + j] + hr[3 * Hd + j]));
            const Cn = fg * C[j] + ig * cc;
            const og = f(cl(xw[Hd + j] + hr[Hd + j] + po * Cn));
            next[j] = og * h(Cn);
            C[j] = Cn;
          }
        }
        H.set(next);
        for (let j = 0; j < Hd; j++) Y[((t * D + d) * Bt + b) * Hd + j] = H[j];
      }
      for (let j = 0; j < Hd; j++) { Yh[(d * Bt + b) * Hd + j] = H[j]; Yc[(d * Bt + b) * Hd + j] = C[j]; }
    }
  }
  // Layout 1: Y [batch, seq, dirs, hidden], Y_h / Y_c [batch, dirs, hidden].
  const y = layout ? permute(Y, [S, D, Bt, Hd], [2, 0, 1, 3]) : Y, yh = layout ? permute(Yh, [D, Bt, Hd], [1, 0, 2]) : Yh, yc = layout ? permute(Yc, [D, Bt, Hd], [1, 0, 2]) : Yc;
  const ys = layout ? [Bt, S, D, Hd] : [S, D, Bt, Hd], hs = layout ? [Bt, D, Hd] : [D, Bt, Hd];
  const out = [mk(y, ys, x.dt), mk(yh, hs, x.dt)];
  if (kind === 'LSTM') out.push(mk(yc, hs, x.dt));
  return out;
}

/** The values of a row-major array of `shape` with its axes in order `perm`. */
function permute(v: Float64Array, shape: number[], perm: number[]): Float64Array {
  const out = new Float64Array(v.length), to = perm.map((p) => shape[p]);
  const str = stridesOf(shape);
  for (let o = 0; o < out.length; o++) {
    let rest = o, src = 0;
    for (let a = to.length - 1; a >= 0; a--) { src += (rest % to[a]) * str[perm[a]]; rest = Math.floor(rest / to[a]); }
    out[o] = v[src];
  }
  return out;
}

export const RNN_OPS: Record<string, GraphOp> = { RNN: recurrent('RNN'), GRU: recurrent('GRU'), LSTM: recurrent('LSTM') };
